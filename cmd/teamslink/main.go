// Command teamslink checks whether Dynamics 365 environments are ready to
// link records to Microsoft Teams channels, and says what blocks them.
package main

import (
	"os"
	"runtime/debug"
	"time"

	"github.com/teamslink/teamslink/internal/cli"
	"github.com/teamslink/teamslink/internal/engine"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

func main() { os.Exit(run()) }

func run() int {
	if _, set := os.LookupEnv("GOGC"); !set {
		debug.SetGCPercent(engine.GCPercent)
	}
	return cli.Main(os.Args[1:], cli.Deps{
		Stdin:   os.Stdin,
		Stdout:  os.Stdout,
		Stderr:  os.Stderr,
		Version: version,
		Now:     time.Now, // the one clock: every other package gets it from here
	})
}
