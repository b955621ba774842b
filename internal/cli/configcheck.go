package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/teamslink/teamslink/internal/config"
	"github.com/teamslink/teamslink/internal/engine"
)

func newConfigCommand(_ Deps) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "config",
		Short: "Work with tenants.yaml",
	}
	var policyDirs []string
	check := &cobra.Command{
		Use:   "check FILE",
		Short: "Validate a tenants.yaml and say what is wrong, with the line",
		Long: `Decode a tenants.yaml strictly (unknown keys are errors), apply the defaults and validate
every tenant and environment: ids, auth methods and their settings, environment URLs on a known
Dynamics host of the tenant's cloud, tables, experiences and profiles, discover blocks (source,
types, states, patterns, and the endpoints the source needs in the tenant's cloud; what discovery
finds is listed by "teamslink environments"), and the waivers: each names
a rule of the catalogue (the built-in one and any --policy-dir), a tenant and environment of the
file, a reason, an owner and a last day. Exits 0 when it is valid, 2 with one line per problem
(file:line: key: message) when not. Reads no secrets.

Examples:
  teamslink config check tenants.yaml
  teamslink config check tenants.yaml --policy-dir ./policies`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := config.LoadContext(cmd.Context(), args[0])
			if err != nil {
				return &UsageError{Err: err}
			}
			eng, err := engine.New(cmd.Context(), engine.Config{PolicyDirs: policyDirs})
			if err != nil {
				return err
			}
			if err := eng.CheckWaivers(cfg.WaiverRules()); err != nil {
				return &UsageError{Err: err}
			}
			envs, discovering := 0, 0
			for _, t := range cfg.Tenants {
				envs += len(t.Environments)
				if t.Discover != nil {
					discovering++
				}
			}
			found := ""
			if discovering > 0 {
				found = fmt.Sprintf(" (and those %d tenant(s) discover)", discovering)
			}
			_, err = fmt.Fprintf(cmd.OutOrStdout(), "%s: valid: %d tenant(s), %d environment(s)%s, %d waiver(s)\n", args[0], len(cfg.Tenants), envs, found, len(cfg.Waivers))
			return err
		},
	}
	check.Flags().StringArrayVar(&policyDirs, "policy-dir", nil, "extra Rego policies `DIR` whose rules waivers may name")
	cmd.AddCommand(check)
	return cmd
}
