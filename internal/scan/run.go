package scan

import (
	"context"
	"errors"
	"time"

	"github.com/teamslink/teamslink/internal/config"
	"github.com/teamslink/teamslink/internal/engine"
	"github.com/teamslink/teamslink/internal/finding"
	"github.com/teamslink/teamslink/internal/snapshot"
)

// Result is what a run produced: the snapshot it collected and the report
// it evaluated from it.
type Result struct {
	Snapshot *snapshot.Snapshot
	Report   *finding.Report
	// Tenants are the ids of the tenants the run scanned, in the config's
	// order (those of a failed discovery included).
	Tenants []string
}

// Run is the whole pipeline: it checks the config's waivers against eng's
// rules (before any request), collects the tenants opts select, and
// evaluates the snapshot with the waivers that can apply to them, each
// environment pointing at the line of cfg that declares it. With
// opts.Metrics it records each tenant's scan (its duration, and whether it
// ended in a report) and the report's series.
func Run(ctx context.Context, cfg *config.Config, eng *engine.Engine, opts Options) (*Result, error) {
	return RunCompiling(ctx, cfg, engine.Ready(eng), opts)
}

// RunCompiling is Run with policies that may still be compiling: the
// waivers are checked against pending's rule ids before any request, and
// evaluation waits for the engine, so that collection need not.
func RunCompiling(ctx context.Context, cfg *config.Config, pending *engine.Pending, opts Options) (*Result, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	tenants, err := Select(cfg, opts.Tenants, opts.Shard)
	if err != nil {
		return nil, err
	}
	waivers := cfg.WaiverRules()
	if err := pending.CheckWaivers(waivers); err != nil {
		// Before any request: a typo in a waiver is a usage error.
		return nil, &ConfigError{Err: err}
	}
	if len(opts.Tenants) > 0 || !opts.Shard.All() {
		waivers = waiversFor(waivers, tenants)
	}
	ids := make([]string, len(tenants))
	for i, t := range tenants {
		ids[i] = t.ID
	}
	started := opts.Now()
	snap, tr, err := collect(ctx, cfg, &opts)
	var rep *finding.Report
	if err == nil {
		var eng *engine.Engine
		if eng, err = pending.Wait(ctx); err == nil {
			rep, err = Evaluate(ctx, eng, snap, waivers, cfg.DeclaredAt, opts)
		}
	}
	if m := opts.Metrics; m != nil {
		var took []time.Duration
		if tr != nil {
			took = tr.durations()
		}
		observed := err
		if ctx.Err() != nil {
			observed = ctx.Err() // a stopped run's scans were canceled
		}
		for i := range ids {
			d := opts.Now().Sub(started)
			if i < len(took) {
				d = took[i]
			}
			m.ObserveScan(d, observed)
		}
		if err == nil {
			m.ObserveReport(rep, opts.Now(), ids...)
		}
	}
	if err != nil {
		return nil, err
	}
	return &Result{Snapshot: snap, Report: rep, Tenants: ids}, nil
}

// Evaluate evaluates snap with eng as opts say (experience, tables,
// profile), applying waivers; declared, when not nil, says where the config
// declares each environment (config.Config.DeclaredAt). A waiver of a rule
// eng lacks is a *ConfigError.
func Evaluate(ctx context.Context, eng *engine.Engine, snap *snapshot.Snapshot, waivers []finding.WaiverRule, declared func(tenant, url string) *finding.SourceLine, opts Options) (*finding.Report, error) {
	rep, err := eng.Evaluate(ctx, snap, engine.Options{
		Experience:  opts.Experience,
		Tables:      opts.Tables,
		Profile:     opts.Profile,
		Now:         opts.Now,
		ToolVersion: opts.Version,
		Waivers:     waivers,
	})
	if err != nil {
		var unknown *engine.UnknownWaiverRuleError
		if errors.As(err, &unknown) {
			return nil, &ConfigError{Err: err}
		}
		return nil, err
	}
	if declared != nil {
		for i := range rep.Environments {
			e := &rep.Environments[i]
			e.DeclaredAt = declared(e.Tenant, e.URL)
		}
	}
	return rep, nil
}
