package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/spf13/cobra"

	"github.com/teamslink/teamslink/internal/config"
	"github.com/teamslink/teamslink/internal/engine"
	"github.com/teamslink/teamslink/internal/finding"
	"github.com/teamslink/teamslink/internal/metrics"
	"github.com/teamslink/teamslink/internal/scan"
	"github.com/teamslink/teamslink/internal/serve"
)

// serveOptions are the flags of serve.
type serveOptions struct {
	configPath  string
	listen      []string
	webConfig   string
	systemd     bool
	interval    time.Duration
	jitter      float64
	schedule    string
	concurrency int
	perTenant   int
	reportDir   string
	retain      int
	grace       time.Duration
	experience  string
	entities    []string
	policyDirs  []string
	profile     string
}

func newServeCommand(deps Deps) *cobra.Command {
	var o serveOptions
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Rescan tenants.yaml on a schedule and serve /metrics, /probe and the HTML report",
		Long: `Scan every tenant of tenants.yaml on a schedule and serve what the latest scans found:

  /metrics                          the Prometheus series (docs/metrics.md)
  /probe?tenant=ID&environment=ENV  one environment's cached verdict, blackbox-exporter style;
                                    ENV is the environment label of docs/metrics.md
  /api/v1/report[?tenant=ID]        the latest reports as one JSON report (teamslink.report)
  /                                 the HTML report, with each environment's state over time
  /-/healthy, /-/ready              liveness, and readiness once the report directory is read
  POST /-/reload (or SIGHUP)        read tenants.yaml again; a file that does not load is
                                    refused and the previous one kept

A scan covers one tenant, never two of one tenant at once, at most --concurrency at a time.
A scrape never starts one. With --report-dir every scan's report and snapshot are kept
(--retain per tenant), and a restarted serve answers from them before its first scan.
TLS and basic auth come from --web.config.file (the Prometheus exporter-toolkit format,
see docs/serve.md). serve listens on loopback unless told otherwise. SIGINT or SIGTERM
stops scheduling, lets running scans finish for --shutdown-grace, then cancels them.

Examples:
  teamslink serve --config tenants.yaml
  teamslink serve --config tenants.yaml --web.listen-address=:9741 --interval=1h --jitter=0.1 \
    --concurrency=8 --per-tenant=2 --report-dir=/var/lib/teamslink --retain=24
  teamslink serve --config tenants.yaml --schedule "0 */4 * * *" --web.config.file web.yml`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runServe(cmd, deps, &o)
		},
	}
	f := cmd.Flags()
	f.StringVarP(&o.configPath, "config", "c", "", "tenants.yaml listing tenants and environments (required)")
	f.StringArrayVar(&o.listen, "web.listen-address", []string{serve.DefaultListenAddress}, "`ADDRESS` to listen on (repeatable); :9741 for every interface")
	f.StringVar(&o.webConfig, "web.config.file", "", "exporter-toolkit web configuration `FILE` for TLS and basic auth")
	f.BoolVar(&o.systemd, "web.systemd-socket", false, "listen on the sockets systemd passes instead of --web.listen-address")
	f.DurationVar(&o.interval, "interval", serve.DefaultInterval, "scan each tenant this long after its last scan ended")
	f.Float64Var(&o.jitter, "jitter", serve.DefaultJitter, "vary each wait by up to this share of it (0 to 0.9)")
	f.StringVar(&o.schedule, "schedule", "", "scan at the times of a cron `EXPRESSION` (UTC, e.g. \"0 * * * *\") instead of --interval")
	f.IntVar(&o.concurrency, "concurrency", serve.DefaultConcurrency, "tenants scanned at once")
	f.IntVar(&o.perTenant, "per-tenant", scan.DefaultPerTenant, "collectors run at once within one tenant (1 to 50)")
	f.StringVar(&o.reportDir, "report-dir", "", "keep each scan's report and snapshot in `DIR`, and start from them")
	f.IntVar(&o.retain, "retain", serve.DefaultRetain, "scans kept per tenant in --report-dir and the timeline")
	f.DurationVar(&o.grace, "shutdown-grace", serve.DefaultGrace, "how long running scans may finish when serve stops")
	f.StringVar(&o.experience, "experience", "", "experience to assess: basic or enhanced (default: each environment's, else enhanced)")
	f.StringSliceVar(&o.entities, "entities", nil, "target tables by logical name (default: each environment's, else account,contact)")
	f.StringArrayVar(&o.policyDirs, "policy-dir", nil, "extra Rego policies `DIR` (same contract and capabilities as the built-in ones)")
	f.StringVar(&o.profile, "profile", "preflight", "required state: preflight (can it be turned on?) or enabled (is it on?)")
	return cmd
}

// runServe checks the flags, then serves until the command's context ends.
func runServe(cmd *cobra.Command, deps Deps, o *serveOptions) error {
	ctx := cmd.Context()
	var experience finding.Experience
	switch {
	case o.configPath == "":
		return usageErrorf("serve needs --config tenants.yaml")
	case o.concurrency < 1:
		return usageErrorf("--concurrency %d: must be at least 1", o.concurrency)
	case o.perTenant < 1 || o.perTenant > scan.MaxPerTenant:
		return usageErrorf("--per-tenant %d: must be 1 to %d (Dataverse refuses more than 52 concurrent requests of one user)", o.perTenant, scan.MaxPerTenant)
	case o.retain < 1:
		return usageErrorf("--retain %d: must be at least 1", o.retain)
	case o.profile != "preflight" && o.profile != "enabled":
		return usageErrorf("--profile: unknown profile %q (valid: preflight, enabled)", o.profile)
	case o.schedule != "" && cmd.Flags().Changed("interval"):
		return usageErrorf("give either --interval or --schedule, not both")
	}
	if o.experience != "" {
		var err error
		if experience, err = finding.ParseExperience(o.experience); err != nil {
			return &UsageError{Err: fmt.Errorf("--experience: %w", err)}
		}
	}
	for _, t := range o.entities {
		if !validLogicalName(strings.TrimSpace(t)) {
			return usageErrorf("--entities: %q is not a table logical name (lowercase letters, digits and _)", t)
		}
	}
	sched, err := serve.IntervalSchedule(o.interval, o.jitter)
	if o.schedule != "" {
		sched, err = serve.CronSchedule(o.schedule, o.jitter, time.UTC)
	}
	if err != nil {
		return &UsageError{Err: fmt.Errorf("--%w", err)}
	}
	web := serve.WebOptions{ListenAddresses: o.listen, SystemdSocket: o.systemd, ConfigFile: o.webConfig}
	if err := serve.ValidateWeb(web); err != nil {
		return &UsageError{Err: err}
	}
	eng, err := engine.New(ctx, engine.Config{PolicyDirs: o.policyDirs})
	if err != nil {
		return err
	}

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m := metrics.New(reg, metrics.BuildInfo{Version: deps.Version})
	logger := slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), nil))
	scanOpts := deps.scanOptions(trimAll(o.entities))
	scanOpts.Progress = nil // no bar: serve logs each scan
	scanOpts.Concurrency, scanOpts.PerTenant = o.perTenant, o.perTenant
	scanOpts.Experience, scanOpts.Profile, scanOpts.Metrics = experience, o.profile, m
	svc, err := serve.New(serve.Options{
		Load: func(ctx context.Context) ([]serve.Target, error) {
			cfg, err := config.LoadContext(ctx, o.configPath)
			if err != nil {
				return nil, err
			}
			// A waiver of a rule these policies lack is refused with the
			// config, before any request.
			if err := eng.CheckWaivers(cfg.WaiverRules()); err != nil {
				return nil, err
			}
			return serve.Targets(cfg), nil
		},
		Scan:     serveScan(eng, scanOpts),
		Now:      deps.Now,
		Metrics:  m,
		Gatherer: reg,
		Schedule: sched, Concurrency: o.concurrency,
		ReportDir: o.reportDir, Retain: o.retain,
		Grace:  o.grace,
		Logger: logger,
	})
	if err != nil {
		return err
	}

	// SIGHUP reloads tenants.yaml, as POST /-/reload does.
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	go func() {
		for {
			select {
			case <-hup:
				_ = svc.Reload(ctx) // a refused config is logged and counted
			case <-ctx.Done():
				return
			}
		}
	}()

	if err := svc.Run(ctx, web); err != nil {
		if errors.Is(err, context.Canceled) {
			return nil
		}
		var refused *serve.ConfigError
		if errors.As(err, &refused) {
			return &UsageError{Err: err}
		}
		return err
	}
	return nil
}

// serveScan is the scan of one target through the scan pipeline: its
// tenant alone collected (opts.Metrics counts the requests) and evaluated
// with the waivers that can apply to it. It does not use scan.Run, which
// with Metrics also records the scan and its report: serve does that
// itself, so that a scan is counted once and the report of a tenant removed
// by a reload meanwhile is dropped rather than exported.
func serveScan(eng *engine.Engine, opts scan.Options) serve.ScanFunc {
	return func(ctx context.Context, t serve.Target) (*serve.Result, error) {
		o := opts
		o.Tenants = []string{t.ID}
		snap, err := scan.Collect(ctx, t.Config, o)
		if err != nil {
			return nil, fmt.Errorf("scan tenant %s: %w", t.ID, err)
		}
		// Waivers of other tenants would only be reported unmatched here.
		var waivers []finding.WaiverRule
		for _, w := range t.Config.WaiverRules() {
			if w.Tenant == "" || strings.EqualFold(w.Tenant, t.ID) {
				waivers = append(waivers, w)
			}
		}
		rep, err := scan.Evaluate(ctx, eng, snap, waivers, t.Config.DeclaredAt, o)
		if err != nil {
			return nil, fmt.Errorf("evaluate tenant %s: %w", t.ID, err)
		}
		return &serve.Result{Report: rep, Snapshot: snap}, nil
	}
}
