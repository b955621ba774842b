// Command teamslink checks whether Dynamics 365 environments are ready to
// link records to Microsoft Teams channels, and says what blocks them.
package main

import (
	"os"

	"github.com/teamslink/teamslink/internal/cli"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

func main() { os.Exit(run()) }

func run() int {
	return cli.Main(os.Args[1:], cli.Deps{
		Stdin:   os.Stdin,
		Stdout:  os.Stdout,
		Stderr:  os.Stderr,
		Version: version,
	})
}
