package cli

import (
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/teamslink/teamslink/internal/engine"
)

func newScanCommand(deps Deps) *cobra.Command {
	var (
		targets     targetOptions
		assess      assessOptions
		snapshotOut string
	)
	cmd := &cobra.Command{
		Use:   "scan",
		Short: "Collect the live state and report readiness in one go",
		Long: `Collect the state of one environment (--tenant ID --env URL) or a whole fleet
(--config tenants.yaml), evaluate every prerequisite and report: collect and eval in one step.
Each environment gets a state per experience: ENABLED, READY, BLOCKED, BROKEN or UNKNOWN (see
"teamslink --help"). --profile enabled also makes "not turned on" a failure, for environments where
linking is expected to be on.

Examples:
  teamslink scan --config tenants.yaml
  teamslink scan --tenant 3f2b8c1e-6d4a-4b7e-9a15-2c8d0e7f4a61 --env https://contoso.crm.dynamics.com
  teamslink scan --config tenants.yaml --format table,json=report.json --snapshot-out snapshot.json`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			p, err := assess.parse()
			if err != nil {
				return err
			}
			for _, o := range p.outputs {
				if snapshotOut != "" && o.path != "" && filepath.Clean(o.path) == filepath.Clean(snapshotOut) {
					return usageErrorf("--snapshot-out and the %s report both write %s; give each its own file", o.format, o.path)
				}
			}
			cfg, err := targets.load(cmd.Context())
			if err != nil {
				return err
			}
			eng, err := engine.New(cmd.Context(), engine.Config{PolicyDirs: assess.policyDirs})
			if err != nil {
				return err
			}
			waivers := cfg.WaiverRules()
			if err := eng.CheckWaivers(waivers); err != nil {
				// Before any request: a typo in a waiver is a usage error.
				return &UsageError{Err: err}
			}
			snap, err := collectSnapshot(cmd.Context(), cfg, deps, trimAll(assess.entities))
			if err != nil {
				return err
			}
			var extra []outputFile
			if snapshotOut != "" {
				extra = append(extra, snapshotFile(snapshotOut, snap))
			}
			in := assessment{anchor: targets.configPath}
			if targets.configPath != "" {
				in.waivers, in.declared = waivers, cfg.DeclaredAt
			}
			return assessAndReport(cmd, deps, eng, snap, &assess, p, in, extra...)
		},
	}
	targets.register(cmd)
	assess.register(cmd)
	cmd.Flags().StringVar(&snapshotOut, "snapshot-out", "", "also write the collected snapshot to `FILE`")
	return cmd
}
