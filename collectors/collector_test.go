package collectors_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/teamslink/teamslink/collectors"
	"github.com/teamslink/teamslink/internal/odata"
	"github.com/teamslink/teamslink/internal/snapshot"
)

// gauge records the most collectors seen running at once, overall and per tenant.
type gauge struct {
	mu        sync.Mutex
	running   int
	max       int
	perTenant map[string]int
	maxTenant int
}

func (g *gauge) enter(tenant string) func() {
	g.mu.Lock()
	g.running++
	g.perTenant[tenant]++
	g.max = max(g.max, g.running)
	g.maxTenant = max(g.maxTenant, g.perTenant[tenant])
	g.mu.Unlock()
	time.Sleep(5 * time.Millisecond)
	return func() {
		g.mu.Lock()
		g.running--
		g.perTenant[tenant]--
		g.mu.Unlock()
	}
}

type envSource struct {
	g      *gauge
	tenant string
	calls  *atomic.Int32
}

func (s envSource) CollectEnvironment(_ context.Context, e *snapshot.Environment) {
	defer s.g.enter(s.tenant)()
	s.calls.Add(1)
	e.Name = "collected " + e.URL
}

type tenantSource struct {
	g     *gauge
	calls *atomic.Int32
}

func (s tenantSource) CollectTenant(_ context.Context, t *snapshot.Tenant) {
	defer s.g.enter(t.ID)()
	s.calls.Add(1)
	t.Name = "collected " + t.ID
}

func TestCollectBoundsConcurrencyAndKeepsOrder(t *testing.T) {
	t.Parallel()
	g := &gauge{perTenant: map[string]int{}}
	var tenantCalls, envCalls atomic.Int32
	var jobs []collectors.TenantJob
	for i := range 5 {
		id := fmt.Sprintf("tenant-%d", i)
		job := collectors.TenantJob{Tenant: snapshot.Tenant{ID: id}, Sources: []collectors.TenantCollector{tenantSource{g, &tenantCalls}}}
		for j := range 6 {
			job.Environments = append(job.Environments, collectors.EnvironmentJob{
				Environment: snapshot.Environment{URL: fmt.Sprintf("https://t%d-e%d.crm.dynamics.com", i, j)},
				Source:      envSource{g, id, &envCalls},
			})
		}
		jobs = append(jobs, job)
	}
	now := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
	snap := collectors.Collect(t.Context(), jobs, collectors.Options{Concurrency: 6, PerTenant: 2, Now: func() time.Time { return now }, Tool: "test"})
	if tenantCalls.Load() != 5 || envCalls.Load() != 30 {
		t.Fatalf("calls: %d tenant, %d environment; want each once (5, 30)", tenantCalls.Load(), envCalls.Load())
	}
	if g.max > 6 || g.maxTenant > 2 {
		t.Errorf("concurrency: %d at once (limit 6), %d per tenant (limit 2)", g.max, g.maxTenant)
	}
	if !snap.CollectedAt.Equal(now) || snap.SchemaVersion != snapshot.SchemaVersion || snap.Tool != "test" {
		t.Errorf("snapshot header: %v %q %q", snap.CollectedAt, snap.SchemaVersion, snap.Tool)
	}
	for i, e := range snap.Environments {
		want := fmt.Sprintf("https://t%d-e%d.crm.dynamics.com", i/6, i%6)
		if e.URL != want || e.TenantID != fmt.Sprintf("tenant-%d", i/6) || e.Name != "collected "+want {
			t.Errorf("environments[%d] = %s (tenant %s, %q), want %s", i, e.URL, e.TenantID, e.Name, want)
		}
	}
	for i, tn := range snap.Tenants {
		if tn.Name != "collected "+tn.ID || tn.ID != fmt.Sprintf("tenant-%d", i) {
			t.Errorf("tenants[%d] = %+v", i, tn)
		}
	}
}

func TestFailedSection(t *testing.T) {
	t.Parallel()
	now := time.Now()
	tests := []struct {
		name   string
		err    error
		status int
	}{
		{"API error", &odata.APIError{Status: 403, Code: "Authorization_RequestDenied", Message: "Insufficient privileges"}, 403},
		{"throttled", &odata.ThrottledError{Status: 429, Err: errors.New("slow down")}, 429},
		{"wrapped API error", fmt.Errorf("$batch: %w", &odata.APIError{Status: 503}), 503},
		{"transport error", errors.New("connection reset by peer"), 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := collectors.Failed("GET x", tt.err, now)
			if s.Status != snapshot.StatusError || s.HTTPStatus != tt.status || s.Error != tt.err.Error() || s.Source != "GET x" {
				t.Errorf("Failed = %+v", s)
			}
		})
	}
}

// failing fills every section it owns as error with the given HTTP status.
type failing struct{ status int }

func (f failing) CollectTenant(_ context.Context, t *snapshot.Tenant) {
	for _, s := range []*snapshot.Section{&t.Licenses.Section, &t.Consent.Section, &t.Caller.Section, &t.SharePoint.Section} {
		*s = snapshot.Section{Status: snapshot.StatusError, HTTPStatus: f.status, Error: fmt.Sprintf("HTTP %d", f.status)}
	}
}

func (f failing) CollectEnvironment(_ context.Context, e *snapshot.Environment) {
	for _, s := range []*snapshot.Section{&e.Organization.Section, &e.SharePointSites.Section, &e.DocumentLocations.Section, &e.Entities.Section, &e.Caller.Section} {
		*s = snapshot.Section{Status: snapshot.StatusError, HTTPStatus: f.status, Error: fmt.Sprintf("HTTP %d", f.status)}
	}
}

// TestCollectRecordsSignIn: a tenant whose credential issued no token, or
// all of whose requests were refused with 401 or 403, gets a signIn record
// naming the credential; a tenant with one readable section, or failures of
// another kind, gets none.
func TestCollectRecordsSignIn(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		failure     string // the credential's Failure answer
		tenant, env int    // the HTTP status of the tenant's and the environment's sections; 0 is read
		want        *snapshot.SignIn
	}{
		{"no token", "AzureCLICredential: Azure CLI not found on path", 0, 0,
			&snapshot.SignIn{Method: "azure-cli", Error: "AzureCLICredential: Azure CLI not found on path"}},
		{"every request refused", "", 403, 401,
			&snapshot.SignIn{Method: "azure-cli", HTTPStatus: 403, Error: "every request of the tenant was refused with 401 or 403; the first: HTTP 403"}},
		{"one environment readable", "", 403, 0, nil},
		{"server errors are not a sign-in", "", 500, 500, nil},
		{"signed in", "", 0, 0, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			job := collectors.TenantJob{
				Tenant:     snapshot.Tenant{ID: "tenant-1"},
				Credential: collectors.Credential{Method: "azure-cli", Failure: func() string { return tt.failure }},
			}
			if tt.tenant != 0 {
				job.Sources = []collectors.TenantCollector{failing{tt.tenant}}
			}
			var env collectors.EnvironmentCollector = failing{tt.env}
			if tt.env == 0 {
				env = envSource{&gauge{perTenant: map[string]int{}}, "tenant-1", &atomic.Int32{}}
			}
			job.Environments = []collectors.EnvironmentJob{{Environment: snapshot.Environment{URL: "https://e.crm.dynamics.com"}, Source: env}}
			snap := collectors.Collect(t.Context(), []collectors.TenantJob{job}, collectors.Options{Now: time.Now})
			got := snap.Tenants[0].SignIn
			if (got == nil) != (tt.want == nil) || (got != nil && *got != *tt.want) {
				t.Errorf("signIn = %+v, want %+v", got, tt.want)
			}
		})
	}
}

// panicking fills a section, then panics, as a collector with a bug would.
type panicking struct{}

func (panicking) CollectTenant(_ context.Context, t *snapshot.Tenant) {
	t.Licenses.Status = snapshot.StatusOK // half written: must not survive
	panic("index out of range")
}

func (panicking) CollectEnvironment(_ context.Context, e *snapshot.Environment) {
	e.Organization.Status = snapshot.StatusOK
	panic("nil map")
}

// okSource reads every section it owns.
type okSource struct{}

func (okSource) CollectTenant(_ context.Context, t *snapshot.Tenant) {
	t.Licenses.Status, t.Consent.Status = snapshot.StatusOK, snapshot.StatusOK
}

func (okSource) CollectEnvironment(_ context.Context, e *snapshot.Environment) {
	e.Organization.Status = snapshot.StatusOK
}

// TestCollectSurvivesPanics: a collector that panics fails its tenant's (or
// environment's) sections with an internal error and leaves the other
// tenants as they were; the run goes on.
func TestCollectSurvivesPanics(t *testing.T) {
	t.Parallel()
	jobs := []collectors.TenantJob{
		{Tenant: snapshot.Tenant{ID: "broken"}, Sources: []collectors.TenantCollector{panicking{}, okSource{}},
			Environments: []collectors.EnvironmentJob{{Environment: snapshot.Environment{URL: "https://broken.crm.dynamics.com"}, Source: panicking{}}}},
		{Tenant: snapshot.Tenant{ID: "fine"}, Sources: []collectors.TenantCollector{okSource{}},
			Environments: []collectors.EnvironmentJob{{Environment: snapshot.Environment{URL: "https://fine.crm.dynamics.com"}, Source: okSource{}}}},
	}
	snap := collectors.Collect(t.Context(), jobs, collectors.Options{Now: func() time.Time { return time.Unix(0, 0) }})

	broken, fine := snap.Tenants[0], snap.Tenants[1]
	for name, s := range map[string]snapshot.Section{
		"licenses": broken.Licenses.Section, "consent": broken.Consent.Section, "caller": broken.Caller.Section,
		"sharePoint": broken.SharePoint.Section, "groupSettings": broken.GroupSettings.Section,
		"organization": snap.Environments[0].Organization.Section, "entities": snap.Environments[0].Entities.Section,
	} {
		if s.Status != snapshot.StatusError || !strings.Contains(s.Error, "internal error: a collector panicked") {
			t.Errorf("broken tenant's %s: %+v; want an internal error", name, s)
		}
	}
	if fine.Licenses.Status != snapshot.StatusOK || snap.Environments[1].Organization.Status != snapshot.StatusOK {
		t.Errorf("the other tenant changed: %+v, %+v", fine.Licenses.Section, snap.Environments[1].Organization.Section)
	}
}
