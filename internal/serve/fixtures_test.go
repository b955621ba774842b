package serve_test

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/teamslink/teamslink/internal/finding"
	"github.com/teamslink/teamslink/internal/metrics"
	"github.com/teamslink/teamslink/internal/serve"
)

// rule is a fixture rule.
type rule struct {
	id       string
	severity finding.Severity
	scope    finding.Scope
	exp      []finding.Experience
}

var (
	both         = []finding.Experience{finding.ExperienceBasic, finding.ExperienceEnhanced}
	enhancedOnly = []finding.Experience{finding.ExperienceEnhanced}
)

// rules is a catalogue shaped like the built-in one (eleven rules).
var rules = []rule{
	{"TL-LIC-001", finding.SeverityHigh, finding.ScopeTenant, both},
	{"TL-LIC-002", finding.SeverityHigh, finding.ScopeTenant, both},
	{"TL-ROLE-001", finding.SeverityHigh, finding.ScopeEnvironment, both},
	{"TL-ROLE-002", finding.SeverityMedium, finding.ScopeTenant, enhancedOnly},
	{"TL-CONSENT-001", finding.SeverityCritical, finding.ScopeTenant, enhancedOnly},
	{"TL-SP-002", finding.SeverityCritical, finding.ScopeEnvironment, both},
	{"TL-SP-005", finding.SeverityMedium, finding.ScopeTenant, both},
	{"TL-ENT-001", finding.SeverityHigh, finding.ScopeTable, both},
	{"TL-ENT-002", finding.SeverityMedium, finding.ScopeTable, both},
	{"TL-MAN-001", finding.SeverityMedium, finding.ScopeTenant, both},
	{"TL-ENV-002", finding.SeverityInfo, finding.ScopeEnvironment, enhancedOnly},
}

// env is a fixture environment: every rule passes but those in fail; a
// basic one is assessed for Basic alone, its Enhanced-only rules skipped.
type env struct {
	url   string
	on    bool
	fail  []string
	basic bool
}

// environment builds the findings and decides the verdicts as the engine does.
func (e env) environment(tenant string) finding.Environment {
	exp := finding.ExperienceEnhanced
	if e.basic {
		exp = finding.ExperienceBasic
	}
	out := finding.Environment{Tenant: tenant, URL: e.url, Experience: exp}
	for _, r := range rules {
		tables := []string{""}
		if r.scope == finding.ScopeTable {
			tables = []string{"account", "contact"}
		}
		for _, table := range tables {
			st := finding.StatusPass
			if slices.Contains(e.fail, r.id) {
				st = finding.StatusFail
			}
			if !slices.ContainsFunc(r.exp, exp.Includes) {
				st = finding.StatusSkip
			}
			out.Findings = append(out.Findings, finding.Finding{
				Key:   finding.Key{Tenant: tenant, Environment: e.url, Rule: r.id, Table: table},
				Scope: r.scope, Severity: r.severity, Status: st, Experiences: r.exp,
				Message: r.id + " on " + e.url,
			})
		}
	}
	on := finding.SwitchOff
	if e.on {
		on = finding.SwitchOn
	}
	for _, x := range finding.Experiences {
		if exp.Includes(x) {
			out.Verdicts = append(out.Verdicts, finding.Decide(x, on, out.Findings))
		}
	}
	return out
}

// tenantReport is the report of one tenant made at at.
func tenantReport(tenant string, at time.Time, envs ...env) *finding.Report {
	r := &finding.Report{
		SchemaVersion: finding.ReportSchemaVersion,
		Tool:          finding.Tool{Name: "teamslink", Version: "test"},
		GeneratedAt:   at,
		SnapshotAt:    at.Add(-time.Minute),
		Profile:       "preflight",
		SignInErrors:  []finding.SignInError{},
	}
	for _, e := range envs {
		r.Environments = append(r.Environments, e.environment(tenant))
	}
	for _, ru := range rules {
		r.Rules = append(r.Rules, finding.RuleInfo{ID: ru.id, Title: ru.id, Severity: ru.severity, Scope: ru.scope, Experiences: ru.exp, Builtin: true})
	}
	r.Summary = r.Summarize()
	return r
}

// tenantID is the id of the fixture tenant i.
func tenantID(i int) string { return fmt.Sprintf("%08x-0000-4000-8000-%012x", i, i) }

// envURL is the url of environment j of tenant i.
func envURL(i, j int) string { return fmt.Sprintf("https://org%04d-%d.crm.dynamics.com", i, j) }

// fakeScans is a ScanFunc whose verdicts the test sets: each tenant's
// environments are enabled unless broken says otherwise. It counts the
// scans, and how many run at once, per tenant and in all.
type fakeScans struct {
	now     func() time.Time
	envs    int
	delay   time.Duration
	block   chan struct{} // when not nil, a scan waits for it (or its ctx)
	mu      sync.Mutex
	broken  map[string]bool
	calls   map[string]int
	running map[string]int
	maxPer  int
	total   int
	maxAll  int
}

func newFakeScans(now func() time.Time, envs int) *fakeScans {
	return &fakeScans{now: now, envs: envs, broken: map[string]bool{}, calls: map[string]int{}, running: map[string]int{}}
}

func (f *fakeScans) scan(ctx context.Context, t serve.Target) (*serve.Result, error) {
	f.mu.Lock()
	f.calls[t.ID]++
	f.running[t.ID]++
	f.total++
	f.maxPer = max(f.maxPer, f.running[t.ID])
	f.maxAll = max(f.maxAll, f.total)
	broken := f.broken[t.ID]
	block := f.block
	f.mu.Unlock()
	defer func() {
		f.mu.Lock()
		f.running[t.ID]--
		f.total--
		f.mu.Unlock()
	}()
	if block != nil {
		select {
		case <-block:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	if f.delay > 0 {
		select {
		case <-time.After(f.delay):
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	var envs []env
	i := 0
	_, _ = fmt.Sscanf(t.ID, "%08x", &i)
	for j := range f.envs {
		e := env{url: envURL(i, j), on: true}
		if broken {
			e.fail = []string{"TL-CONSENT-001"}
		}
		envs = append(envs, e)
	}
	return &serve.Result{Report: tenantReport(t.ID, f.now(), envs...)}, nil
}

func (f *fakeScans) count(id string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[id]
}

func (f *fakeScans) setBroken(id string, b bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.broken[id] = b
}

// fakeConfig is a LoadFunc whose targets (or error) the test sets.
type fakeConfig struct {
	mu      sync.Mutex
	targets []serve.Target
	err     error
}

func newFakeConfig(n int) *fakeConfig {
	c := &fakeConfig{}
	for i := range n {
		c.targets = append(c.targets, serve.Target{ID: tenantID(i), Name: fmt.Sprintf("Tenant %d", i)})
	}
	return c
}

func (c *fakeConfig) load(context.Context) ([]serve.Target, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.targets), c.err
}

func (c *fakeConfig) set(targets []serve.Target, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.targets, c.err = targets, err
}

// fixture is a started service with its fakes and a test HTTP server.
type fixture struct {
	svc    *serve.Service
	scans  *fakeScans
	config *fakeConfig
	reg    *prometheus.Registry
	url    string
	cancel context.CancelFunc
}

// setup starts a service of n tenants of envs environments each, with
// opts changed by tune, and a loopback HTTP server of its handler.
func setup(t testing.TB, n, envs int, tune func(*serve.Options, *fakeScans)) *fixture {
	t.Helper()
	f := &fixture{scans: newFakeScans(time.Now, envs), config: newFakeConfig(n), reg: prometheus.NewRegistry()}
	sched, err := serve.IntervalSchedule(time.Hour, 0)
	if err != nil {
		t.Fatal(err)
	}
	opts := serve.Options{
		Load: f.config.load, Scan: f.scans.scan, Now: time.Now,
		Metrics: metrics.New(f.reg, metrics.BuildInfo{Version: "test"}), Gatherer: f.reg,
		Schedule: sched, Rand: rand.New(rand.NewPCG(1, 2)), Grace: time.Second,
	}
	if tune != nil {
		tune(&opts, f.scans)
	}
	f.svc, err = serve.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	f.cancel = cancel
	if err := f.svc.Start(ctx); err != nil {
		cancel()
		t.Fatal(err)
	}
	srv := httptest.NewServer(f.svc.Handler())
	f.url = srv.URL
	t.Cleanup(func() {
		srv.Close()
		cancel()
		<-f.svc.Done()
	})
	return f
}

// get fetches path and returns the status and body.
func get(t testing.TB, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

// post posts to path and returns the status and body.
func post(t testing.TB, url string) (int, string) {
	t.Helper()
	resp, err := http.Post(url, "text/plain", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// eventually waits up to 10 s for cond.
func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// hasLine reports whether the exposition body has a line starting with
// prefix.
func hasLine(body, prefix string) bool {
	for _, l := range strings.Split(body, "\n") {
		if strings.HasPrefix(l, prefix) {
			return true
		}
	}
	return false
}
