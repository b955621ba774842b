package cli

import (
	"errors"
	"fmt"
	"path/filepath"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/spf13/cobra"

	"github.com/teamslink/teamslink/internal/engine"
	"github.com/teamslink/teamslink/internal/finding"
	"github.com/teamslink/teamslink/internal/metrics"
	"github.com/teamslink/teamslink/internal/scan"
)

func newScanCommand(deps Deps) *cobra.Command {
	var (
		targets     targetOptions
		assess      assessOptions
		snapshotOut string
		pushURL     string
	)
	cmd := &cobra.Command{
		Use:   "scan",
		Short: "Collect the live state and report readiness in one go",
		Long: `Collect the state of one environment (--tenant ID --env URL) or a whole fleet
(--config tenants.yaml), evaluate every prerequisite and report: collect and eval in one step.
Each environment gets a state per experience: ENABLED, READY, BLOCKED, BROKEN or UNKNOWN (see
"teamslink --help"). --profile enabled also makes "not turned on" a failure, for environments where
linking is expected to be on.

Over a fleet, --concurrency and --per-tenant bound the work at once (across the fleet, and
within one tenant); --tenant (repeatable) scans only the tenants named; --shard K/N scans the
share K (0-based) of N by a stable hash of the tenant id, so that N runs cover the fleet once;
"teamslink report merge" joins their JSON reports. One tenant's failure (sign-in, discovery,
an outage) is that tenant's finding and never stops the others. --push-gateway URL pushes the
run's metrics to a Prometheus Pushgateway at the end, grouped by job="teamslink" and shard (K,
or "all"); a push that fails is said on stderr and makes the run exit 4 (docs/fleet.md).

Examples:
  teamslink scan --config tenants.yaml
  teamslink scan --tenant 3f2b8c1e-6d4a-4b7e-9a15-2c8d0e7f4a61 --env https://contoso.crm.dynamics.com
  teamslink scan --config tenants.yaml --format table,json=report.json --snapshot-out snapshot.json
  teamslink scan --config tenants.yaml --tenant Contoso --tenant Fabrikam
  teamslink scan --config tenants.yaml --shard 0/4 --format json=report-0.json \
    --push-gateway http://pushgateway:9091 --concurrency 8 --per-tenant 2 --fail-on error`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			p, err := assess.parse()
			if err != nil {
				return err
			}
			// The built-in policies compile while the config loads and the
			// first requests go out. User policies (--policy-dir) compile
			// once the config is read, before any request, so that their
			// mistakes stop the scan first (engine.Start).
			var pending *engine.Pending
			startPolicies := func() (err error) {
				pending, err = engine.Start(cmd.Context(), engine.Config{PolicyDirs: assess.policyDirs})
				return err
			}
			if len(assess.policyDirs) == 0 {
				if err := startPolicies(); err != nil {
					return err
				}
			}
			for _, o := range p.outputs {
				if snapshotOut != "" && o.path != "" && filepath.Clean(o.path) == filepath.Clean(snapshotOut) {
					return usageErrorf("--snapshot-out and the %s report both write %s; give each its own file", o.format, o.path)
				}
			}
			opts, err := targets.options(deps, trimAll(assess.entities))
			if err != nil {
				return err
			}
			opts.Experience, opts.Profile = p.experience, p.profile
			var gateway *scan.Gateway
			if pushURL != "" {
				if gateway, err = scan.ParseGateway(pushURL); err != nil {
					return usageErrorf("--push-gateway: %w", err)
				}
			}
			cfg, err := targets.load(cmd.Context())
			if err != nil {
				return err
			}
			if pending == nil {
				if err := startPolicies(); err != nil {
					return err
				}
			}
			anchor := targets.configPath
			if anchor == "" {
				anchor = snapshotOut // scan --env --snapshot-out: the snapshot it writes
			}
			rd, err := assess.render.resolve(deps.Now, anchor)
			if err != nil {
				return err
			}
			red, err := assess.render.redact.load(deps)
			if err != nil {
				return err
			}
			reg := prometheus.NewRegistry()
			if gateway != nil {
				opts.Metrics = metrics.New(reg, metrics.BuildInfo{Version: deps.Version})
			}
			res, err := scan.RunCompiling(cmd.Context(), cfg, pending, opts)
			if err != nil {
				var cfgErr *scan.ConfigError
				if gateway != nil && !errors.As(err, &cfgErr) {
					// The scans ran and ended without a report: say so, and
					// leave the readiness of the last report in place.
					if perr := gateway.Push(cmd.Context(), opts.Shard, reg, false); perr != nil {
						fmt.Fprintf(deps.Stderr, "teamslink: %v\n", perr)
					}
				}
				return scanError(err)
			}
			if len(res.Tenants) == 0 {
				fmt.Fprintf(deps.Stderr, "teamslink: no tenant of %s falls in shard %s: nothing was scanned\n", targets.configPath, opts.Shard)
			}
			snap, rep, err := red.apply(res.Snapshot, res.Report)
			if err != nil {
				return err
			}
			var extra []outputFile
			if snapshotOut != "" {
				extra = append(extra, snapshotFile(snapshotOut, snap))
			}
			outErr := writeReports(cmd, rep, p, rd, extra...)
			if gateway == nil {
				return outErr
			}
			perr := gateway.Push(cmd.Context(), opts.Shard, reg, true)
			if perr == nil {
				return outErr
			}
			var exit *ExitError
			if outErr == nil || (errors.As(outErr, &exit) && exit.Err == nil) {
				// Findings or not, an audit whose metrics are not where the
				// alerts look must not pass for a finished one.
				return &ExitError{Code: finding.ExitInternal, Err: perr}
			}
			fmt.Fprintf(deps.Stderr, "teamslink: %v\n", perr)
			return outErr
		},
	}
	targets.register(cmd)
	assess.register(cmd)
	cmd.Flags().StringVar(&snapshotOut, "snapshot-out", "", "also write the collected snapshot to `FILE`")
	cmd.Flags().StringVar(&pushURL, "push-gateway", "", "at the end, push the run's metrics to the Prometheus Pushgateway at `URL` (job teamslink, label shard)")
	return cmd
}
