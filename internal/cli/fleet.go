package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"

	"github.com/teamslink/teamslink/internal/config"
	"github.com/teamslink/teamslink/internal/scan"
	"github.com/teamslink/teamslink/internal/snapshot"
)

// fleetOptions are the flags that shape a run over tenants.yaml: how much
// runs at once and which share of the tenants.
type fleetOptions struct {
	concurrency int
	perTenant   int
	shard       string
}

func (o *fleetOptions) register(cmd *cobra.Command) {
	f := cmd.Flags()
	f.IntVar(&o.concurrency, "concurrency", scanDefaults.Concurrency, "`N` collectors (each tenant's Graph and SharePoint reads, each environment) at once across the fleet")
	f.IntVar(&o.perTenant, "per-tenant", scanDefaults.PerTenant, fmt.Sprintf("`N` collectors at once within one tenant (at most %d: Dataverse limits one identity's concurrent requests)", scan.MaxPerTenant))
	f.StringVar(&o.shard, "shard", "", "with --config: scan share `K/N` of the tenants (K 0-based), by a stable hash of the tenant id; N runs with K = 0..N-1 cover the fleet once")
}

// bounds checks --concurrency and --per-tenant and sets them in opts.
func (o *fleetOptions) bounds(opts *scan.Options) error {
	if o.concurrency < 1 {
		return usageErrorf("--concurrency %d: must be at least 1", o.concurrency)
	}
	if o.perTenant < 1 || o.perTenant > scan.MaxPerTenant {
		return usageErrorf("--per-tenant %d: must be 1 to %d (Dataverse refuses more than 52 concurrent requests of one identity)", o.perTenant, scan.MaxPerTenant)
	}
	opts.Concurrency, opts.PerTenant = o.concurrency, o.perTenant
	return nil
}

// apply sets the bounds and the shard of a run over tenants.yaml in opts.
func (o *fleetOptions) apply(opts *scan.Options) error {
	if err := o.bounds(opts); err != nil {
		return err
	}
	shard, err := scan.ParseShard(o.shard)
	if err != nil {
		return usageErrorf("--shard: %w", err)
	}
	opts.Shard = shard
	return nil
}

// scanDefaults are the bounds a run gets unless told otherwise.
var scanDefaults = scan.Options{Concurrency: scan.DefaultConcurrency, PerTenant: scan.DefaultPerTenant}

// options maps the flags and deps to the pipeline's options. tables are
// the command line's target tables.
func (o *targetOptions) options(deps Deps, tables []string) (scan.Options, error) {
	opts := deps.scanOptions(tables)
	if err := o.fleet.bounds(&opts); err != nil {
		return opts, err
	}
	if o.configPath == "" {
		if o.fleet.shard != "" {
			return opts, usageErrorf("--shard splits the tenants of --config; give --config tenants.yaml")
		}
		return opts, nil
	}
	shard, err := scan.ParseShard(o.fleet.shard)
	if err != nil {
		return opts, usageErrorf("--shard: %w", err)
	}
	opts.Shard, opts.Tenants = shard, o.tenants
	return opts, nil
}

// scanOptions are the pipeline options deps give: the clock, the version,
// the environment, the device-code prompt on stderr and, on a terminal
// outside CI, a progress bar there.
func (d Deps) scanOptions(tables []string) scan.Options {
	return scan.Options{
		Now:       d.Now,
		Version:   d.Version,
		LookupEnv: d.LookupEnv,
		DeviceCodePrompt: func(_ context.Context, message string) error {
			_, err := fmt.Fprintln(d.Stderr, message)
			return err
		},
		Tables:      tables,
		Concurrency: scanDefaults.Concurrency,
		PerTenant:   scanDefaults.PerTenant,
		Progress:    progressBar(d),
	}
}

// progressBar draws tenants done out of all on stderr when it is a
// terminal and CI is not set; nil otherwise, so that a pipe or a CI log
// gets nothing.
func progressBar(d Deps) func(done, total int) {
	lookup := d.LookupEnv
	if lookup == nil {
		lookup = os.LookupEnv
	}
	if _, ci := lookup("CI"); ci || !isTerminal(d.Stderr) {
		return nil
	}
	return newProgress(d.Stderr)
}

// newProgress returns a progress function drawing on w; the bar appears
// with the first call and is cleared once every tenant is done.
func newProgress(w io.Writer) func(done, total int) {
	var bar *progressbar.ProgressBar
	return func(done, total int) {
		if bar == nil {
			if total == 0 {
				return
			}
			bar = progressbar.NewOptions(total,
				progressbar.OptionSetWriter(w),
				progressbar.OptionSetDescription("scanning tenants"),
				progressbar.OptionShowCount(),
				progressbar.OptionSetWidth(30),
				progressbar.OptionThrottle(100*time.Millisecond),
				progressbar.OptionClearOnFinish(),
				progressbar.OptionSetRenderBlankState(true),
			)
		}
		_ = bar.Set(done)
		if done >= total {
			_ = bar.Finish()
		}
	}
}

// collectSnapshot runs the pipeline's collection with deps' options and
// the default bounds: what demo and the tests use.
func collectSnapshot(ctx context.Context, cfg *config.Config, deps Deps, tables []string) (*snapshot.Snapshot, error) {
	snap, err := scan.Collect(ctx, cfg, deps.scanOptions(tables))
	return snap, scanError(err)
}

// scanError makes a usage error of the pipeline's *scan.ConfigError.
func scanError(err error) error {
	var cfgErr *scan.ConfigError
	if errors.As(err, &cfgErr) {
		return &UsageError{Err: err}
	}
	return err
}
