// Package cli wires teamslink's commands together: it is the only package
// that imports cobra, and the only one that knows every other package.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/teamslink/teamslink/internal/engine"
	"github.com/teamslink/teamslink/internal/finding"
	"github.com/teamslink/teamslink/internal/snapshot"
)

// Deps are what commands need from the process; tests pass their own.
type Deps struct {
	Stdin   io.Reader
	Stdout  io.Writer
	Stderr  io.Writer
	Version string
	// Build is what `teamslink version --json` prints, resolved by main
	// (ResolveBuild); what is left empty is taken from Version and the
	// running toolchain.
	Build BuildInfo
	// Now is the process's one clock, injected by main; every package that
	// stamps or compares times gets it from here. Required.
	Now func() time.Time
	// LookupEnv reads the environment (secrets named in config); nil means
	// os.LookupEnv.
	LookupEnv func(string) (string, bool)
}

func (d Deps) now() time.Time { return d.Now() }

// isTerminal reports whether w is a terminal (for colour and defaults).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// ExitError carries the exit code a command wants, with the error to print
// (nil when the command already said everything).
type ExitError struct {
	Code int
	Err  error
}

func (e *ExitError) Error() string {
	if e.Err == nil {
		return fmt.Sprintf("exit %d", e.Code)
	}
	return e.Err.Error()
}

func (e *ExitError) Unwrap() error { return e.Err }

// UsageError is a mistake in how the command was called or configured.
type UsageError struct{ Err error }

func (e *UsageError) Error() string { return e.Err.Error() }
func (e *UsageError) Unwrap() error { return e.Err }

func usageErrorf(format string, args ...any) error {
	return &UsageError{Err: fmt.Errorf(format, args...)}
}

// Main runs teamslink with args and returns the process exit code. The
// first SIGINT or SIGTERM stops the run (see Run).
func Main(args []string, deps Deps) int {
	if deps.Now == nil {
		fmt.Fprintln(deps.Stderr, "teamslink: internal error: no clock")
		return finding.ExitInternal
	}
	ctx, stop := withInterrupts(context.Background())
	defer stop()
	return Run(ctx, args, deps)
}

// Run is Main under ctx. When ctx ends with an *InterruptedError as its
// cause, whatever fails after that failed because of it: the run exits with
// the signal's code, and no command replaces a file once ctx has ended.
func Run(ctx context.Context, args []string, deps Deps) int {
	root := NewRootCommand(deps)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return finding.ExitClean
	}
	if intr := interrupted(ctx); intr != nil && !errors.As(err, new(*InterruptedError)) {
		err = intr
	}
	if strings.HasPrefix(err.Error(), "unknown command") {
		err = &UsageError{Err: err}
	}
	code := ExitCode(err)
	var exit *ExitError
	if !errors.As(err, &exit) || exit.Err != nil {
		fmt.Fprintf(deps.Stderr, "teamslink: %v\n", err)
	}
	return code
}

// ExitCode maps an error returned by a command to the process exit code.
func ExitCode(err error) int {
	var (
		intr   *InterruptedError
		exit   *ExitError
		usage  *UsageError
		policy *engine.PolicyError
		valid  *snapshot.ValidationError
	)
	switch {
	case err == nil:
		return finding.ExitClean
	case errors.As(err, &intr):
		return intr.Code()
	case errors.As(err, &exit):
		return exit.Code
	case errors.As(err, &usage), errors.As(err, &policy), errors.As(err, &valid):
		return finding.ExitUsage
	case errors.Is(err, context.Canceled):
		return finding.ExitIncomplete
	}
	return finding.ExitInternal
}

// NewRootCommand builds the teamslink command tree.
func NewRootCommand(deps Deps) *cobra.Command {
	root := &cobra.Command{
		Use:   "teamslink",
		Short: "Check and fix the prerequisites for linking Dynamics 365 records to Microsoft Teams",
		Long: `teamslink reads the state of Dynamics 365 (Dataverse), Microsoft Entra ID and SharePoint Online,
evaluates every documented prerequisite for linking Dynamics 365 records to Microsoft Teams channels
(the Basic and Enhanced collaboration experiences) as a Rego policy, and says per environment
where each experience stands:

  ENABLED  turned on, and every prerequisite holds
  READY    off, and it can be turned on now
  BLOCKED  off; the failing rules it names stop it being turned on
  BROKEN   on, but a prerequisite no longer holds (consent revoked, OneDrive switched on
           without SharePoint integration, a table's document management off): users hit errors
  UNKNOWN  something it needs could not be read (the rules it names), so no honest verdict exists

Whether an experience is on is read from the organization columns ismsteamsenabled (Basic) and
ismsteamscollaborationenabled (Enhanced), an inference the rules TL-ENV-001 and TL-ENV-002 name.

A tenant that cannot sign in is said once, first, with the credential, why and the fix.

Exit codes: 0 clean, 1 findings at or above --fail-on (a BROKEN environment counts as much as a
BLOCKED one; manual checks never fail a run), 2 usage or config error, 3 something could not be
assessed (a failed sign-in included), 4 internal error (or a --push-gateway push that failed),
130 interrupted by SIGINT (Ctrl-C),
143 stopped by SIGTERM. An interrupted run writes no file over an existing one.`,
		SilenceUsage:  true,
		SilenceErrors: true,
		Version:       deps.Version,
	}
	root.SetOut(deps.Stdout)
	root.SetErr(deps.Stderr)
	root.SetIn(deps.Stdin)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return &UsageError{Err: err} })
	root.AddCommand(
		newScanCommand(deps),
		newCollectCommand(deps),
		newEvalCommand(deps),
		newRulesCommand(deps),
		newExplainCommand(deps),
		newVersionCommand(deps),
		newConfigCommand(deps),
		newEmulatorCommand(deps),
		newDemoCommand(deps),
		newReportCommand(deps),
		newEnvironmentsCommand(deps),
		newServeCommand(deps),
		newPermissionsCommand(deps),
		newSupportBundleCommand(deps),
		newRemediateCommand(deps),
	)
	return root
}
