package cli

import (
	"strings"

	"github.com/spf13/cobra"

	"github.com/teamslink/teamslink/internal/config"
	"github.com/teamslink/teamslink/internal/engine"
	"github.com/teamslink/teamslink/internal/snapshot"
)

func newEvalCommand(deps Deps) *cobra.Command {
	var (
		o          assessOptions
		configPath string
	)
	cmd := &cobra.Command{
		Use:   "eval SNAPSHOT...",
		Short: "Evaluate a collected snapshot against every prerequisite",
		Long: `Evaluate a snapshot written by "teamslink collect" (or by hand) against the built-in
policies and any --policy-dir, without credentials or network, and report the readiness of
every environment in it. Several snapshots are evaluated as one report.

Examples:
  teamslink eval snapshot.json
  teamslink eval snapshot.json --experience basic --entities account,contact,new_project
  teamslink eval snapshot.json --format json --output report.json
  teamslink eval snapshot.json --format table,json=report.json --fail-on warn
  teamslink eval snapshot.json --config tenants.yaml --format sarif=teamslink.sarif`,
		Args: minArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			p, err := o.parse()
			if err != nil {
				return err
			}
			snaps := make([]*snapshot.Snapshot, len(args))
			for i, path := range args {
				if snaps[i], err = snapshot.ReadFile(path); err != nil {
					return &UsageError{Err: err}
				}
			}
			snap, err := snapshot.Merge(snaps...)
			if err != nil {
				return &UsageError{Err: err}
			}
			eng, err := engine.New(cmd.Context(), engine.Config{PolicyDirs: o.policyDirs})
			if err != nil {
				return err
			}
			in := assessment{anchor: args[0]}
			if configPath != "" {
				cfg, err := config.LoadContext(cmd.Context(), configPath)
				if err != nil {
					return &UsageError{Err: err}
				}
				// Evaluate refuses a waiver of an unknown rule (exit 2).
				in = assessment{anchor: configPath, waivers: cfg.WaiverRules(), declared: cfg.DeclaredAt}
			}
			return assessAndReport(cmd, deps, eng, snap, &o, p, in)
		},
	}
	o.register(cmd)
	cmd.Flags().StringVarP(&configPath, "config", "c", "", "tenants.yaml whose waivers apply, and whose lines SARIF results point at")
	return cmd
}

func trimAll(ss []string) []string {
	out := make([]string, 0, len(ss))
	for _, s := range ss {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// minArgs is cobra.MinimumNArgs with a usage error.
func minArgs(n int) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if err := cobra.MinimumNArgs(n)(cmd, args); err != nil {
			return &UsageError{Err: err}
		}
		return nil
	}
}

// exactArgs is cobra.ExactArgs with a usage error.
func exactArgs(n int) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if err := cobra.ExactArgs(n)(cmd, args); err != nil {
			return &UsageError{Err: err}
		}
		return nil
	}
}
