// Package scan is teamslink's one scan pipeline: a config becomes targets
// (the tenants chosen by name and shard, their environments listed or
// discovered), the targets are collected into a snapshot, the snapshot is
// evaluated into a report. The scan, collect and serve commands share it;
// internal/cli only maps flags to Options and writes what comes out.
//
// A tenant's failure (a credential that issues no token, a discovery that
// is refused, a service that is down) is recorded in the snapshot and the
// report as that tenant's, never stops the others, and never reads as a
// pass.
package scan

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/teamslink/teamslink/collectors"
	"github.com/teamslink/teamslink/internal/auth"
	"github.com/teamslink/teamslink/internal/finding"
	"github.com/teamslink/teamslink/internal/metrics"
)

// Options say how to run the pipeline. Now is required; the zero value of
// every other field selects its default.
type Options struct {
	// Now is the process's one clock. Required.
	Now func() time.Time
	// Version is teamslink's version, for the snapshot's tool and the
	// User-Agent of every request.
	Version string

	// LookupEnv reads the environment variables tenants.yaml names for
	// secrets; nil means os.LookupEnv.
	LookupEnv func(string) (string, bool)
	// DeviceCodePrompt shows a person the device-code sign-in instructions;
	// required only by tenants whose auth method is device-code.
	DeviceCodePrompt func(ctx context.Context, message string) error

	// Tenants, when not empty, are the only tenants scanned: each an id or
	// a name of the config, any case. A name the config lacks is a
	// *ConfigError.
	Tenants []string
	// Shard takes a stable share of the tenants; the zero value is all.
	Shard Shard

	// Tables are the target tables of every environment, overriding the
	// config's; empty leaves each environment's.
	Tables []string
	// Concurrency bounds how many collectors (and discoveries) run at once
	// across the fleet; 0 means DefaultConcurrency.
	Concurrency int
	// PerTenant bounds how many run at once within one tenant, whose
	// identity Dataverse limits; 0 means DefaultPerTenant.
	PerTenant int

	// Experience to assess; empty means each environment's, else enhanced.
	Experience finding.Experience
	// Profile is "preflight" (the default) or "enabled".
	Profile string

	// Metrics, when set, counts every request of the run (by API, status
	// and retry) and, from Run, each tenant's scan and the report.
	Metrics *metrics.Metrics
	// Progress, when set, is told how many of the run's tenants are done
	// (collected, or given up on because their discovery failed) out of
	// how many: once with none done when collection starts, then as each
	// finishes. It is called from one goroutine at a time.
	Progress func(done, total int)

	// transports are the run's shared HTTP transports, set by the entry
	// point (Discover, Collect) that first needs them and closed when it
	// ends.
	transports *auth.Transports
}

// withTransports gives opts the run's shared transports unless it has
// them, and returns what to call as the run ends: closing the idle
// connections of those it made.
func (o *Options) withTransports() (done func()) {
	if o.transports != nil {
		return func() {}
	}
	o.transports = auth.NewTransports(max(o.concurrency(), o.perTenant()))
	return o.transports.CloseIdleConnections
}

// The bounds of a run unless told otherwise: well under Dataverse's 52
// concurrent requests of one identity (facts §7).
const (
	DefaultConcurrency = collectors.DefaultConcurrency
	DefaultPerTenant   = collectors.DefaultPerTenant
)

// MaxPerTenant is the highest PerTenant accepted: Dataverse refuses a
// user's 52nd concurrent request (microsoft-facts, service protection).
const MaxPerTenant = 50

// Validate checks the bounds and the shard.
func (o Options) Validate() error {
	switch {
	case o.Now == nil:
		return errors.New("scan: Options.Now is required")
	case o.Concurrency < 0:
		return &ConfigError{Err: fmt.Errorf("concurrency %d: must be at least 1", o.Concurrency)}
	case o.PerTenant < 0 || o.PerTenant > MaxPerTenant:
		return &ConfigError{Err: fmt.Errorf("per-tenant %d: must be 1 to %d (Dataverse refuses more than 52 concurrent requests of one user)", o.PerTenant, MaxPerTenant)}
	}
	if err := o.Shard.validate(); err != nil {
		return &ConfigError{Err: fmt.Errorf("shard %w", err)}
	}
	return nil
}

// concurrency is the fleet-wide bound, defaulted.
func (o Options) concurrency() int {
	if o.Concurrency > 0 {
		return o.Concurrency
	}
	return DefaultConcurrency
}

// perTenant is the per-tenant bound, defaulted.
func (o Options) perTenant() int {
	if o.PerTenant > 0 {
		return o.PerTenant
	}
	return DefaultPerTenant
}

// tool names teamslink in snapshots.
func (o Options) tool() string { return "teamslink " + o.Version }

// ConfigError is a mistake in the config or the options that no request
// could fix: a tenant filter that names no tenant, a credential that cannot
// be built (a missing secret variable), a waiver of an unknown rule. The
// CLI reports it as a usage error (exit 2).
type ConfigError struct{ Err error }

// Error is the underlying error's text.
func (e *ConfigError) Error() string { return e.Err.Error() }

// Unwrap returns the underlying error.
func (e *ConfigError) Unwrap() error { return e.Err }

// interruption returns why ctx ended (its cause), or nil while it has not:
// after an interrupt, a half-collected snapshot is not the state of
// anything.
func interruption(ctx context.Context) error {
	if ctx.Err() == nil {
		return nil
	}
	return context.Cause(ctx)
}
