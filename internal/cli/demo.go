package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/teamslink/teamslink/internal/config"
	"github.com/teamslink/teamslink/internal/emulator"
	"github.com/teamslink/teamslink/internal/engine"
	"github.com/teamslink/teamslink/internal/finding"
	"github.com/teamslink/teamslink/internal/remediate"
	"github.com/teamslink/teamslink/internal/snapshot"
	"github.com/teamslink/teamslink/report"
)

// demoSecretEnv is the variable the demo config names for every tenant's
// secret; the demo answers it from the scenario files, never from the process.
const demoSecretEnv = "TEAMSLINK_EMULATOR_SECRET"

func newDemoCommand(deps Deps) *cobra.Command {
	var (
		scenarioDir string
		configPath  string
		outDir      string
	)
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Scan the sample tenants through the local emulator, end to end",
		Long: `Start the cloud emulator in-process with the sample tenants, scan every one of them
through the real path (azidentity client-secret credential, HTTPS, Dataverse $batch, Graph
JSON $batch, the SharePoint admin endpoint), print the readiness matrix and write the
snapshot and reports to ./teamslink-demo/.

Examples:
  teamslink demo
  teamslink demo --out /tmp/demo`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			scenarios, err := emulator.LoadScenariosContext(cmd.Context(), scenarioDir)
			if err != nil {
				return usageErrorf("%v (run from the repository root, or pass --scenarios DIR)", err)
			}
			secret, err := sharedSecret(scenarios)
			if err != nil {
				return &UsageError{Err: err}
			}
			cfg, err := config.LoadContext(cmd.Context(), configPath)
			if err != nil {
				return &UsageError{Err: err}
			}
			srv, err := emulator.New(emulator.Options{Scenarios: scenarios, Clock: deps.Now})
			if err != nil {
				return &UsageError{Err: err}
			}
			if err := srv.Start(); err != nil {
				return err
			}
			defer srv.Close()
			for i := range cfg.Tenants {
				cfg.Tenants[i].Endpoints.ConnectTo = srv.Addr()
				cfg.Tenants[i].Endpoints.CAFile = srv.CAFile()
			}
			demoDeps := deps
			demoDeps.LookupEnv = func(name string) (string, bool) {
				if name == demoSecretEnv {
					return secret, true
				}
				return "", false
			}

			snap, err := collectSnapshot(cmd.Context(), cfg, demoDeps, nil)
			if err != nil {
				return err
			}
			eng, err := engine.New(cmd.Context(), engine.Config{})
			if err != nil {
				return err
			}
			rep, err := eng.Evaluate(cmd.Context(), snap, engine.Options{Now: deps.now, ToolVersion: deps.Version})
			if err != nil {
				return err
			}
			// What remediate would do about it, from the snapshot alone:
			// a plan with its what-if, nothing written.
			plan, err := remediate.Build(cmd.Context(), snap, rep, remediate.PlanOptions{
				Now: deps.Now, Tool: "teamslink " + deps.Version, Source: "demo snapshot",
				Evaluate: func(ctx context.Context, s *snapshot.Snapshot) (*finding.Report, error) {
					return eng.Evaluate(ctx, s, engine.Options{Now: deps.now, ToolVersion: deps.Version})
				},
			})
			if err != nil {
				return err
			}
			if err := writeDemoFiles(cmd, deps, outDir, snap, rep, plan); err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			w, err := report.New("matrix", out, report.Options{Color: isTerminal(out), Now: deps.Now})
			if err != nil {
				return err
			}
			if err := w.Write(cmd.Context(), rep); err != nil {
				return err
			}
			requests := srv.Requests()
			fmt.Fprintf(cmd.ErrOrStderr(), "\nscanned %d tenants, %d environments through the emulator at %s (%d HTTPS requests); reports in %s\n",
				len(snap.Tenants), len(snap.Environments), srv.Addr(), len(requests), outDir)
			fmt.Fprintf(cmd.ErrOrStderr(), "remediation plan (nothing written): %s; %s\n", planSummary(plan), filepath.Join(outDir, "plan.json"))
			if rep.HasInternalError() {
				return &ExitError{Code: finding.ExitInternal}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&scenarioDir, "scenarios", defaultScenarios, "scenario `DIR` for the emulator")
	cmd.Flags().StringVar(&configPath, "config", "testdata/demo/tenants.yaml", "tenants.yaml of the demo fleet")
	cmd.Flags().StringVar(&outDir, "out", "teamslink-demo", "write the snapshot and reports to `DIR`")
	return cmd
}

// sharedSecret returns the one client secret the demo scenarios share.
func sharedSecret(scenarios []*emulator.Scenario) (string, error) {
	secret := ""
	for _, sc := range scenarios {
		for _, c := range sc.Clients {
			switch {
			case c.Secret == "":
				return "", fmt.Errorf("scenario %s: the demo needs client secrets written in the scenario", sc.Name)
			case secret == "":
				secret = c.Secret
			case secret != c.Secret:
				return "", errors.New("the demo scenarios must share one client secret")
			}
		}
	}
	if secret == "" {
		return "", errors.New("no scenario defines a client")
	}
	return secret, nil
}

// planSummary counts a plan's actions and the states its what-if flips.
func planSummary(p *remediate.Plan) string {
	flips := map[string]int{}
	for _, e := range p.Environments {
		for _, w := range e.WhatIf {
			if w.Before != w.After {
				flips[w.Before+" → "+w.After]++
			}
		}
	}
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(flips)) {
		parts = append(parts, fmt.Sprintf("%d %s", flips[k], k))
	}
	s := fmt.Sprintf("%d actions", len(p.Actions()))
	if len(parts) > 0 {
		s += ", what-if " + strings.Join(parts, ", ")
	}
	return s
}

func writeDemoFiles(cmd *cobra.Command, deps Deps, dir string, snap *snapshot.Snapshot, rep *finding.Report, plan *remediate.Plan) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	specs := []outputSpec{
		{format: "json", path: filepath.Join(dir, "report.json")},
		{format: "table", path: filepath.Join(dir, "report.txt")},
		{format: "html", path: filepath.Join(dir, "report.html")},
		{format: "markdown", path: filepath.Join(dir, "report.md")},
		{format: "junit", path: filepath.Join(dir, "report.xml")},
	}
	files := append([]outputFile{snapshotFile(filepath.Join(dir, "snapshot.json"), snap)}, reportFiles(cmd.Context(), specs, rep, rendering{opts: report.Options{Now: deps.Now}})...)
	files = append(files, outputFile{what: "plan", path: filepath.Join(dir, "plan.json"), render: func(w io.Writer) error { return remediate.WritePlan(w, plan) }})
	return writeFiles(cmd.Context(), files)
}
