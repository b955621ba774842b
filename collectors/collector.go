// Package collectors fills a snapshot from the live services. Each source has
// its own package (dataverse, graph, sharepoint); this package holds the
// contract they share and Collect, which runs them for a fleet of tenants.
//
// A collector never fails the run: what it could not read is recorded in the
// section it was filling (status error, the error text, the HTTP status and
// the request), so a policy reports "error" for it, never "pass".
package collectors

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/teamslink/teamslink/internal/odata"
	"github.com/teamslink/teamslink/internal/snapshot"
)

// TenantCollector fills tenant-wide sections. It is called once per tenant.
type TenantCollector interface {
	CollectTenant(ctx context.Context, t *snapshot.Tenant)
}

// EnvironmentCollector fills one environment's sections. It is called once
// per environment.
type EnvironmentCollector interface {
	CollectEnvironment(ctx context.Context, e *snapshot.Environment)
}

// TenantJob is one tenant to collect: its identity and settings prefilled in
// Tenant, the collectors of its tenant-wide state, its environments, and
// the credential they all sign in with.
type TenantJob struct {
	Tenant       snapshot.Tenant
	Sources      []TenantCollector
	Environments []EnvironmentJob
	Credential   Credential
	// Ready, when not nil, is closed once the tenant's collectors may
	// start (its tokens fetched, say): they wait for it before they take a
	// slot, so that no slot waits on it.
	Ready <-chan struct{}
}

// Credential names how a tenant signs in, for the snapshot's record of a
// failed sign-in.
type Credential struct {
	// Method is the tenants.yaml auth method; ClientID the application id
	// it uses, if any.
	Method   string
	ClientID string
	// Failure reports, once the tenant's collectors have run, why the
	// credential never issued a token, on one bounded line; "" when it did
	// (or was never asked). Nil means it cannot tell.
	Failure func() string
}

// EnvironmentJob is one environment: URL, name and configured settings
// prefilled, and the collector that reads the rest.
type EnvironmentJob struct {
	Environment snapshot.Environment
	Source      EnvironmentCollector
}

// Options bound the work of Collect.
type Options struct {
	// Concurrency bounds how many collectors run at once across the fleet;
	// 0 means DefaultConcurrency.
	Concurrency int
	// PerTenant bounds how many run at once against one tenant (one
	// identity, whose Dataverse limits are per user); 0 means DefaultPerTenant.
	PerTenant int
	// Now stamps the snapshot; required.
	Now func() time.Time
	// Tool names the program in the snapshot.
	Tool string
}

// DefaultConcurrency and DefaultPerTenant keep well under Dataverse's 52
// concurrent requests per user (facts §7).
const (
	DefaultConcurrency = 8
	DefaultPerTenant   = 4
)

// Collect runs every job and returns the snapshot, tenants and environments
// in the order given. Tenant-wide state is read once per tenant, alongside
// that tenant's environments.
func Collect(ctx context.Context, jobs []TenantJob, opts Options) *snapshot.Snapshot {
	now := opts.Now
	if now == nil {
		panic("collectors: Collect needs Options.Now")
	}
	limit, perTenant := opts.Concurrency, opts.PerTenant
	if limit <= 0 {
		limit = DefaultConcurrency
	}
	if perTenant <= 0 {
		perTenant = DefaultPerTenant
	}
	snap := &snapshot.Snapshot{
		SchemaVersion: snapshot.SchemaVersion,
		CollectedAt:   now().UTC(),
		Tool:          opts.Tool,
		Tenants:       make([]snapshot.Tenant, len(jobs)),
	}
	var envs []*snapshot.Environment
	for i := range jobs {
		snap.Tenants[i] = jobs[i].Tenant
		for j := range jobs[i].Environments {
			e := jobs[i].Environments[j].Environment
			e.TenantID = jobs[i].Tenant.ID
			envs = append(envs, &e)
		}
	}

	global := make(chan struct{}, limit)
	var wg sync.WaitGroup
	// A collector that panics fails what it was reading, never the run:
	// once every collector is done, the tenant's (or the environment's)
	// sections are replaced by errors that say so.
	var (
		mu           sync.Mutex
		tenantPanics = map[*snapshot.Tenant]string{}
		envPanics    = map[*snapshot.Environment]string{}
	)
	// run starts fn once its tenant is ready and a slot is free both in
	// the fleet and in its tenant; panicked records what fn panicked with.
	// Interrupted, fn runs anyway, to record what it could not read.
	run := func(ready <-chan struct{}, tenant chan struct{}, fn func(), panicked func(string)) {
		wg.Go(func() {
			if ready != nil {
				select {
				case <-ready:
				case <-ctx.Done():
				}
			}
			tenant <- struct{}{}
			defer func() { <-tenant }()
			global <- struct{}{}
			defer func() { <-global }()
			defer func() {
				if v := recover(); v != nil {
					mu.Lock()
					defer mu.Unlock()
					panicked(fmt.Sprint(v))
				}
			}()
			fn()
		})
	}
	k := 0
	for i := range jobs {
		tenantSlots := make(chan struct{}, perTenant)
		t := &snap.Tenants[i]
		for _, src := range jobs[i].Sources {
			run(jobs[i].Ready, tenantSlots, func() { src.CollectTenant(ctx, t) }, func(v string) { tenantPanics[t] = v })
		}
		for j := range jobs[i].Environments {
			e, src := envs[k], jobs[i].Environments[j].Source
			k++
			run(jobs[i].Ready, tenantSlots, func() { src.CollectEnvironment(ctx, e) }, func(v string) { envPanics[e] = v })
		}
	}
	wg.Wait()
	for t, v := range tenantPanics {
		failTenant(t, panicSection(v, now()))
	}
	for e, v := range envPanics {
		failEnvironment(e, panicSection(v, now()))
	}
	snap.Environments = make([]snapshot.Environment, len(envs))
	for i, e := range envs {
		snap.Environments[i] = *e
	}
	for i := range jobs {
		snap.Tenants[i].SignIn = signIn(jobs[i].Credential, &snap.Tenants[i], snap.Environments)
	}
	return snap
}

// panicSection is the section of what a collector was reading when it
// panicked with v: an internal error, never data.
func panicSection(v string, now time.Time) snapshot.Section {
	return snapshot.Section{Status: snapshot.StatusError, Source: "teamslink",
		Error: odata.BoundText("internal error: a collector panicked (" + v + "); please report it"), CollectedAt: now.UTC()}
}

// failTenant replaces every tenant-wide section of t by s: a collector of
// the tenant panicked, so none of what it may have half written is kept.
func failTenant(t *snapshot.Tenant, s snapshot.Section) {
	t.Licenses = snapshot.Licenses{Section: s}
	t.Consent = snapshot.Consent{Section: s}
	t.Caller = snapshot.Principal{Section: s}
	t.SharePoint = snapshot.SharePoint{Section: s}
	t.GroupSettings = &snapshot.GroupSettings{Section: s}
}

// failEnvironment replaces every section of e by s, its identity kept.
func failEnvironment(e *snapshot.Environment, s snapshot.Section) {
	e.Organization = snapshot.Organization{Section: s}
	e.SharePointSites = snapshot.SharePointSites{Section: s}
	e.DocumentLocations = snapshot.DocumentLocations{Section: s}
	e.Entities = snapshot.Entities{Section: s}
	e.Caller = snapshot.EnvironmentCaller{Section: s}
	e.RolePrivileges = &snapshot.RolePrivileges{Section: s}
}

// signIn says whether the tenant's sign-in failed: its credential issued no
// token, or every section of the tenant and of its environments was refused
// with 401 or 403 (tokens that no service accepted). Nil when it worked.
func signIn(c Credential, t *snapshot.Tenant, envs []snapshot.Environment) *snapshot.SignIn {
	method := c.Method
	if method == "" {
		method = "unknown"
	}
	if c.Failure != nil {
		if reason := c.Failure(); reason != "" {
			return &snapshot.SignIn{Method: method, ClientID: c.ClientID, Error: reason}
		}
	}
	sections := []snapshot.Section{t.Licenses.Section, t.Consent.Section, t.Caller.Section, t.SharePoint.Section}
	for _, e := range envs {
		if e.TenantID == t.ID {
			sections = append(sections, e.Organization.Section, e.SharePointSites.Section, e.DocumentLocations.Section, e.Entities.Section, e.Caller.Section)
		}
	}
	for _, s := range sections {
		if s.Status != snapshot.StatusError || (s.HTTPStatus != http.StatusUnauthorized && s.HTTPStatus != http.StatusForbidden) {
			return nil
		}
	}
	first := sections[0]
	return &snapshot.SignIn{
		Method: method, ClientID: c.ClientID, HTTPStatus: first.HTTPStatus,
		Error: odata.BoundText("every request of the tenant was refused with 401 or 403; the first: " + first.Error),
	}
}

// OK returns a section that was read from source at now.
func OK(source string, status int, now time.Time) snapshot.Section {
	return snapshot.Section{Status: snapshot.StatusOK, HTTPStatus: status, Source: source, CollectedAt: now.UTC()}
}

// Failed returns a section that could not be read, with the error's text
// and, when the service answered, its HTTP status.
func Failed(source string, err error, now time.Time) snapshot.Section {
	s := snapshot.Section{Status: snapshot.StatusError, Error: odata.BoundText(err.Error()), Source: source, CollectedAt: now.UTC()}
	var (
		api        *odata.APIError
		throttled  *odata.ThrottledError
		incomplete *IncompleteError
	)
	if errors.As(err, &incomplete) {
		s.Missing = append([]string(nil), incomplete.Missing...)
	}
	switch {
	case errors.As(err, &throttled):
		s.HTTPStatus = throttled.Status
	case errors.As(err, &api):
		s.HTTPStatus = api.Status
	}
	return s
}

// Skipped returns a section deliberately not read, saying why.
func Skipped(source, why string, now time.Time) snapshot.Section {
	return snapshot.Section{Status: snapshot.StatusSkipped, Error: why, Source: source, CollectedAt: now.UTC()}
}
