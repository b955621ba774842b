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

// The build stamps, set by make build and make release with
// -ldflags "-X main.version=… -X main.commit=… -X main.date=…". Left empty
// (go install, go build), they are read from the build information Go
// embeds; see cli.ResolveBuild.
var (
	version = ""
	commit  = ""
	date    = ""
)

func main() { os.Exit(run()) }

func run() int {
	if _, set := os.LookupEnv("GOGC"); !set {
		debug.SetGCPercent(engine.GCPercent)
	}
	if _, set := os.LookupEnv("GOMEMLIMIT"); !set {
		debug.SetMemoryLimit(engine.MemoryLimit)
	}
	build := cli.ResolveBuild(version, commit, date, debug.ReadBuildInfo)
	return cli.Main(os.Args[1:], cli.Deps{
		Stdin:   os.Stdin,
		Stdout:  os.Stdout,
		Stderr:  os.Stderr,
		Version: build.Version,
		Build:   build,
		Now:     time.Now, // the one clock: every other package gets it from here
	})
}
