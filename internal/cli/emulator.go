package cli

import (
	"context"
	"fmt"
	"io"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/teamslink/teamslink/internal/emulator"
)

// defaultScenarios is where the sample scenarios live in the repository.
const defaultScenarios = "testdata/scenarios"

func newEmulatorCommand(deps Deps) *cobra.Command {
	var (
		scenarioFiles []string
		addr          string
		caFile        string
	)
	cmd := &cobra.Command{
		Use:   "emulator",
		Short: "Run the local Entra, Dataverse, Graph and SharePoint emulator",
		Long: `Run the local cloud emulator: a test double that speaks the documented wire formats of
Microsoft Entra ID (tokens), the Dataverse Web API, Microsoft Graph and the SharePoint admin
endpoint over HTTPS on loopback, with state from scenario files (docs/emulator.md). It is not
the Microsoft services. It prints its endpoints and a tenants.yaml that scans it; clients keep
the real host names and connect to the emulator (endpoints.connectTo), trusting its CA.

Examples:
  teamslink emulator
  teamslink emulator --scenario testdata/scenarios/sp-800503ca-all.yaml --addr 127.0.0.1:8443`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			scenarios, err := loadScenarios(cmd.Context(), scenarioFiles)
			if err != nil {
				return err
			}
			srv, err := emulator.New(emulator.Options{Scenarios: scenarios, Addr: addr, CAFile: caFile, Clock: deps.Now})
			if err != nil {
				return &UsageError{Err: err}
			}
			if err := srv.Start(); err != nil {
				return err
			}
			defer srv.Close()
			out := cmd.OutOrStdout()
			if _, err := io.WriteString(out, srv.Describe()+"\n"); err != nil {
				return err
			}
			if err := writeEmulatorConfig(out, scenarios, srv.Addr(), srv.CAFile()); err != nil {
				return err
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), syscall.SIGINT, syscall.SIGTERM)
			defer stop()
			fmt.Fprintln(cmd.ErrOrStderr(), "serving; press Ctrl-C to stop")
			<-ctx.Done()
			return nil
		},
	}
	cmd.Flags().StringArrayVar(&scenarioFiles, "scenario", nil, "scenario `FILE` (repeatable; default every file in "+defaultScenarios+")")
	cmd.Flags().StringVar(&addr, "addr", "127.0.0.1:0", "listen address")
	cmd.Flags().StringVar(&caFile, "ca-file", "", "write the emulator's CA certificate to `FILE` (default a temporary file)")
	return cmd
}

func loadScenarios(ctx context.Context, files []string) ([]*emulator.Scenario, error) {
	if len(files) == 0 {
		s, err := emulator.LoadScenariosContext(ctx, defaultScenarios)
		if err != nil {
			return nil, usageErrorf("%v (run from the repository root, or pass --scenario FILE)", err)
		}
		return s, nil
	}
	var out []*emulator.Scenario
	for _, f := range files {
		s, err := emulator.LoadScenarioContext(ctx, f)
		if err != nil {
			return nil, &UsageError{Err: err}
		}
		out = append(out, s)
	}
	return out, nil
}

// writeEmulatorConfig prints a tenants.yaml that scans every scenario tenant
// through the emulator, and how to pass the secrets.
func writeEmulatorConfig(w io.Writer, scenarios []*emulator.Scenario, addr, caFile string) error {
	b := &errWriter{w: w}
	b.printf("# tenants.yaml for this emulator; each client's secret is in its scenario file:\n")
	b.printf("#   export TEAMSLINK_EMULATOR_SECRET=<clients[0].secret of the scenario>\n")
	b.printf("tenants:\n")
	for _, sc := range scenarios {
		if len(sc.Clients) == 0 {
			continue
		}
		b.printf("  - id: %s\n    name: %q\n", sc.Tenant.ID, sc.Tenant.Name)
		b.printf("    auth: {method: client-secret, clientId: %s, secretEnv: TEAMSLINK_EMULATOR_SECRET}\n", sc.Clients[0].ClientID)
		b.printf("    endpoints: {connectTo: %q, caFile: %q}\n", addr, caFile)
		if sc.SharePoint != nil && sc.SharePoint.AdminURL != "" {
			b.printf("    sharePointAdminUrl: %s\n", sc.SharePoint.AdminURL)
		}
		b.printf("    environments:\n")
		for _, e := range sc.Environments {
			b.printf("      - url: %s\n", e.URL)
		}
	}
	return b.err
}

// errWriter keeps the first write error.
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) printf(format string, args ...any) {
	if e.err == nil {
		_, e.err = fmt.Fprintf(e.w, format, args...)
	}
}
