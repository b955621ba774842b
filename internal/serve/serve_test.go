package serve_test

import (
	"context"
	"errors"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/teamslink/teamslink/internal/metrics"
	"github.com/teamslink/teamslink/internal/serve"
)

// readinessLine is the /metrics line of one environment's Enhanced verdict.
func readinessLine(tenant, envLabel, state string) string {
	return `teamslink_environment_readiness{environment="` + envLabel + `",experience="enhanced",state="` + state + `",tenant="` + tenant + `"} 1`
}

// label is the environment label of environment j of tenant i.
func label(i, j int) string { return metrics.EnvironmentLabel(envURL(i, j)) }

func TestScansOnScheduleAndFlipsToBroken(t *testing.T) {
	t.Parallel()
	f := setup(t, 2, 2, func(o *serve.Options, _ *fakeScans) {
		o.Schedule, _ = serve.IntervalSchedule(50*time.Millisecond, 0)
	})
	id := tenantID(1)
	eventually(t, "the first scans", func() bool {
		_, body := get(t, f.url+serve.PathMetrics)
		return hasLine(body, readinessLine(id, label(1, 1), "ENABLED"))
	})
	f.scans.setBroken(id, true)
	eventually(t, "a scan that sees the consent revoked", func() bool {
		_, body := get(t, f.url+serve.PathMetrics)
		return hasLine(body, readinessLine(id, label(1, 1), "BROKEN")) && !hasLine(body, readinessLine(id, label(1, 1), "ENABLED"))
	})
	_, probe := get(t, f.url+serve.PathProbe+"?tenant="+id+"&environment="+label(1, 1))
	for _, want := range []string{"teamslink_probe_success 0", `teamslink_probe_readiness{experience="enhanced",state="BROKEN"} 1`} {
		if !hasLine(probe, want) {
			t.Errorf("/probe lacks %q:\n%s", want, probe)
		}
	}
	// The other tenant is untouched.
	_, other := get(t, f.url+serve.PathProbe+"?tenant="+tenantID(0)+"&environment="+label(0, 0))
	if !hasLine(other, "teamslink_probe_success 1") {
		t.Errorf("/probe of the other tenant:\n%s", other)
	}
}

func TestNeverTwoScansOfOneTargetAndTheConcurrencyBound(t *testing.T) {
	t.Parallel()
	f := setup(t, 6, 1, func(o *serve.Options, s *fakeScans) {
		o.Schedule, _ = serve.IntervalSchedule(time.Millisecond, 0.5)
		o.Concurrency = 2
		s.delay = 3 * time.Millisecond
	})
	eventually(t, "ten scans of every target", func() bool {
		for i := range 6 {
			if f.scans.count(tenantID(i)) < 10 {
				return false
			}
		}
		return true
	})
	// Scrapes and reloads meanwhile change nothing of that.
	for range 20 {
		get(t, f.url+serve.PathMetrics)
		if err := f.svc.Reload(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	f.scans.mu.Lock()
	defer f.scans.mu.Unlock()
	if f.scans.maxPer != 1 {
		t.Errorf("%d scans of one target ran at once", f.scans.maxPer)
	}
	if f.scans.maxAll > 2 {
		t.Errorf("%d scans ran at once, over the bound of 2", f.scans.maxAll)
	}
}

func TestAScrapeNeverTriggersAScan(t *testing.T) {
	t.Parallel()
	f := setup(t, 3, 2, nil) // every hour: one scan each at start, then none
	eventually(t, "the first scans", func() bool {
		for i := range 3 {
			if f.scans.count(tenantID(i)) != 1 {
				return false
			}
		}
		return f.svc.Ready()
	})
	eventually(t, "the reports", func() bool {
		code, _ := get(t, f.url+serve.PathReport+"?tenant="+tenantID(2))
		return code == http.StatusOK
	})
	paths := []string{
		serve.PathMetrics, serve.PathProbe + "?tenant=" + tenantID(0) + "&environment=" + label(0, 0),
		serve.PathReport, serve.PathReport + "?tenant=" + tenantID(1), "/", serve.PathHealthy, serve.PathReady,
	}
	for range 5 {
		for _, p := range paths {
			if code, body := get(t, f.url+p); code != http.StatusOK {
				t.Fatalf("GET %s: %d %s", p, code, body)
			}
		}
	}
	for i := range 3 {
		if n := f.scans.count(tenantID(i)); n != 1 {
			t.Errorf("tenant %d scanned %d times, want 1", i, n)
		}
	}
	_, body := get(t, f.url+serve.PathMetrics)
	if !hasLine(body, `teamslink_scans_total{result="success"} 3`) {
		t.Errorf("/metrics does not count 3 scans")
	}
}

func TestRestartAnswersFromTheReportDirectory(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	first := setup(t, 2, 2, func(o *serve.Options, _ *fakeScans) {
		o.ReportDir, o.Retain = dir, 3
		o.Schedule, _ = serve.IntervalSchedule(20*time.Millisecond, 0)
	})
	first.scans.setBroken(tenantID(1), true)
	eventually(t, "five scans of each tenant", func() bool {
		return first.scans.count(tenantID(0)) >= 5 && first.scans.count(tenantID(1)) >= 5
	})
	first.cancel()
	<-first.svc.Done()

	// Retention: three reports and three snapshots-or-fewer per tenant, and
	// the timeline.
	for i := range 2 {
		entries, err := os.ReadDir(filepath.Join(dir, tenantID(i)))
		if err != nil {
			t.Fatal(err)
		}
		reports := 0
		for _, e := range entries {
			if strings.HasPrefix(e.Name(), "report-") {
				reports++
			}
		}
		if reports != 3 {
			t.Errorf("tenant %d: %d reports kept, want 3 (%v)", i, reports, entries)
		}
	}

	// The second serve's scans block: whatever it answers comes from the
	// directory.
	second := setup(t, 2, 2, func(o *serve.Options, s *fakeScans) {
		o.ReportDir, o.Retain = dir, 3
		o.Schedule, _ = serve.IntervalSchedule(time.Hour, 0)
		s.block = make(chan struct{})
	})
	eventually(t, "ready", second.svc.Ready)
	_, probe := get(t, second.url+serve.PathProbe+"?tenant="+tenantID(1)+"&environment="+label(1, 0))
	if !hasLine(probe, `teamslink_probe_readiness{experience="enhanced",state="BROKEN"} 1`) {
		t.Errorf("/probe after the restart does not answer from the previous run:\n%s", probe)
	}
	_, body := get(t, second.url+serve.PathMetrics)
	if !hasLine(body, readinessLine(tenantID(0), label(0, 1), "ENABLED")) {
		t.Errorf("/metrics after the restart lacks the previous verdicts")
	}
	if !hasLine(body, `teamslink_scans_total{result="success"} 0`) {
		t.Errorf("the restarted serve finished a scan")
	}
	// Previous reports are an hour from due: nothing was scanned.
	for i := range 2 {
		if n := second.scans.count(tenantID(i)); n != 0 {
			t.Errorf("tenant %d scanned %d times after the restart", i, n)
		}
	}
	_, page := get(t, second.url+"/")
	if !strings.Contains(page, `state-broken" title="`) || !strings.Contains(page, "×3") {
		t.Errorf("the page's timeline lacks the runs of the previous scans")
	}
}

func TestABrokenReloadKeepsTheOldConfig(t *testing.T) {
	t.Parallel()
	f := setup(t, 2, 1, nil)
	eventually(t, "the first scans", func() bool {
		return f.scans.count(tenantID(0)) == 1 && f.scans.count(tenantID(1)) == 1
	})
	_, body := get(t, f.url+serve.PathMetrics)
	if !hasLine(body, "teamslink_config_last_reload_successful 1") {
		t.Fatalf("the first load is not recorded as successful")
	}
	f.config.set(nil, errors.New("tenants.yaml:3: unknown key"))
	code, msg := post(t, f.url+serve.PathReload)
	if code != http.StatusInternalServerError || !strings.Contains(msg, "unknown key") {
		t.Errorf("POST /-/reload of a broken config: %d %q", code, msg)
	}
	if code, _ := get(t, f.url+serve.PathReload); code != http.StatusMethodNotAllowed {
		t.Errorf("GET /-/reload: %d, want 405", code)
	}
	eventually(t, "the reload metric at 0", func() bool {
		_, body := get(t, f.url+serve.PathMetrics)
		return hasLine(body, "teamslink_config_last_reload_successful 0")
	})
	_, body = get(t, f.url+serve.PathMetrics)
	for i := range 2 {
		if !hasLine(body, readinessLine(tenantID(i), label(i, 0), "ENABLED")) {
			t.Errorf("tenant %d lost its series after a rejected reload", i)
		}
	}
	if code, _ := get(t, f.url+serve.PathProbe+"?tenant="+tenantID(1)+"&environment="+label(1, 0)); code != http.StatusOK {
		t.Errorf("/probe of an old target after a rejected reload: %d", code)
	}

	// A good config again: one tenant less, one more.
	f.config.set([]serve.Target{{ID: tenantID(1)}, {ID: tenantID(5)}}, nil)
	if code, msg := post(t, f.url+serve.PathReload); code != http.StatusOK {
		t.Fatalf("POST /-/reload: %d %s", code, msg)
	}
	eventually(t, "the new tenant scanned", func() bool { return f.scans.count(tenantID(5)) == 1 })
	eventually(t, "the series of the config", func() bool {
		_, body := get(t, f.url+serve.PathMetrics)
		return hasLine(body, "teamslink_config_last_reload_successful 1") &&
			!strings.Contains(body, tenantID(0)) && hasLine(body, readinessLine(tenantID(5), label(5, 0), "ENABLED"))
	})
	if code, _ := get(t, f.url+serve.PathProbe+"?tenant="+tenantID(0)+"&environment="+label(0, 0)); code != http.StatusNotFound {
		t.Errorf("/probe of a removed tenant: %d, want 404", code)
	}
}

func TestProbe(t *testing.T) {
	t.Parallel()
	f := setup(t, 2, 2, func(_ *serve.Options, s *fakeScans) { s.broken[tenantID(1)] = true })
	eventually(t, "the reports", func() bool {
		code, _ := get(t, f.url+serve.PathReport+"?tenant="+tenantID(1))
		return code == http.StatusOK && f.scans.count(tenantID(0)) == 1
	})
	tests := []struct {
		name  string
		query string
		code  int
		want  []string
	}{
		{"enabled", "tenant=" + tenantID(0) + "&environment=" + label(0, 1), 200,
			[]string{"teamslink_probe_success 1", `teamslink_probe_readiness{experience="enhanced",state="ENABLED"} 1`, "teamslink_probe_snapshot_age_seconds "}},
		{"tenant id in capitals", "tenant=" + strings.ToUpper(tenantID(0)) + "&environment=" + strings.ToUpper(label(0, 1)), 200,
			[]string{"teamslink_probe_success 1"}},
		{"broken", "tenant=" + tenantID(1) + "&environment=" + label(1, 0), 200,
			[]string{"teamslink_probe_success 0", `teamslink_probe_findings{status="fail"} 1`}},
		{"environment not in the report", "tenant=" + tenantID(0) + "&environment=nowhere", 200,
			[]string{"teamslink_probe_success 0"}},
		{"tenant not in the config", "tenant=" + tenantID(9) + "&environment=" + label(9, 0), 404, nil},
		{"no environment", "tenant=" + tenantID(0), 400, nil},
		{"nothing", "", 400, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			code, body := get(t, f.url+serve.PathProbe+"?"+tt.query)
			if code != tt.code {
				t.Fatalf("%d, want %d:\n%s", code, tt.code, body)
			}
			for _, w := range tt.want {
				if !hasLine(body, w) {
					t.Errorf("lacks %q:\n%s", w, body)
				}
			}
			if strings.Contains(body, "teamslink_probe_success 0") && strings.Contains(body, "teamslink_probe_success 1") {
				t.Errorf("both a success and a failure")
			}
		})
	}
}

func TestProbeOfATenantNotScannedYetFails(t *testing.T) {
	t.Parallel()
	f := setup(t, 1, 1, func(_ *serve.Options, s *fakeScans) { s.block = make(chan struct{}) })
	eventually(t, "ready", f.svc.Ready)
	code, body := get(t, f.url+serve.PathProbe+"?tenant="+tenantID(0)+"&environment="+label(0, 0))
	if code != http.StatusOK || !hasLine(body, "teamslink_probe_success 0") {
		t.Errorf("/probe before any report: %d\n%s", code, body)
	}
	if code, _ := get(t, f.url+serve.PathReport); code != http.StatusServiceUnavailable {
		t.Errorf("/api/v1/report before any report: %d, want 503", code)
	}
	code, page := get(t, f.url+"/")
	if code != http.StatusOK || !strings.Contains(page, "No report yet") || strings.Contains(page, "state-enabled") {
		t.Errorf("/ before any report: %d\n%s", code, page)
	}
}

func TestReportAPI(t *testing.T) {
	t.Parallel()
	f := setup(t, 3, 2, nil)
	eventually(t, "the reports", func() bool {
		for i := range 3 {
			if code, _ := get(t, f.url+serve.PathReport+"?tenant="+tenantID(i)); code != http.StatusOK {
				return false
			}
		}
		return true
	})
	_, all := get(t, f.url+serve.PathReport)
	for i := range 3 {
		if !strings.Contains(all, envURL(i, 1)) {
			t.Errorf("the merged report lacks tenant %d", i)
		}
	}
	_, one := get(t, f.url+serve.PathReport+"?tenant="+tenantID(1))
	if !strings.Contains(one, envURL(1, 0)) || strings.Contains(one, envURL(0, 0)) {
		t.Errorf("?tenant= does not filter")
	}
	if code, _ := get(t, f.url+serve.PathReport+"?tenant=nobody"); code != http.StatusNotFound {
		t.Errorf("?tenant= of an unknown tenant: %d, want 404", code)
	}
}

var styleOrScript = regexp.MustCompile(`(?i)<script|<style|\sstyle=|\son[a-z]+=`)

func TestHTMLPageKeepsItsPolicy(t *testing.T) {
	t.Parallel()
	f := setup(t, 2, 1, func(o *serve.Options, _ *fakeScans) {
		o.Schedule, _ = serve.IntervalSchedule(20*time.Millisecond, 0)
	})
	eventually(t, "three scans", func() bool { return f.scans.count(tenantID(1)) >= 3 })
	f.scans.setBroken(tenantID(1), true)
	n := f.scans.count(tenantID(1))
	eventually(t, "a broken scan", func() bool { return f.scans.count(tenantID(1)) >= n+2 })
	var page string
	eventually(t, "the page with the broken run", func() bool {
		_, page = get(t, f.url+"/")
		return strings.Contains(page, "BROKEN ×")
	})
	start, end := strings.Index(page, `<section id="serve"`), strings.LastIndex(page, "</main>")
	if start < 0 || end < start {
		t.Fatalf("no serve section before </main>")
	}
	section := page[start:end]
	if m := styleOrScript.FindString(section); m != "" {
		t.Errorf("the serve section has %q, which the page's policy blocks", m)
	}
	if !strings.Contains(page, `http-equiv="Content-Security-Policy"`) {
		t.Errorf("the page lost its policy")
	}
	if !strings.Contains(section, "ENABLED ×") || !strings.Contains(section, " → ") {
		t.Errorf("the timeline does not show the change:\n%s", section)
	}
}

func TestMetricsAreCachedUntilAReportChanges(t *testing.T) {
	t.Parallel()
	extra := prometheus.NewCounter(prometheus.CounterOpts{Name: "test_ticks_total", Help: "Ticks."})
	f := setup(t, 1, 1, func(o *serve.Options, _ *fakeScans) { o.MetricsMaxAge = time.Hour })
	f.reg.MustRegister(extra)
	eventually(t, "the report", func() bool {
		_, body := get(t, f.url+serve.PathMetrics)
		return hasLine(body, readinessLine(tenantID(0), label(0, 0), "ENABLED"))
	})
	_, before := get(t, f.url+serve.PathMetrics)
	extra.Inc()
	_, cached := get(t, f.url+serve.PathMetrics)
	if cached != before {
		t.Errorf("the body changed within its max age while no report did")
	}
	if err := f.svc.Reload(t.Context()); err != nil { // a change: encoded again
		t.Fatal(err)
	}
	_, after := get(t, f.url+serve.PathMetrics)
	if !hasLine(after, "test_ticks_total 1") {
		t.Errorf("a change did not refresh the body")
	}
}

func TestShutdownCancelsScansAfterTheGrace(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewRegistry()
	m := metrics.New(reg, metrics.BuildInfo{})
	scans := newFakeScans(time.Now, 1)
	scans.block = make(chan struct{})
	cfg := newFakeConfig(2)
	sched, err := serve.IntervalSchedule(time.Hour, 0)
	if err != nil {
		t.Fatal(err)
	}
	svc, err := serve.New(serve.Options{
		Load: cfg.load, Scan: scans.scan, Now: time.Now, Metrics: m, Gatherer: reg, Schedule: sched,
		Grace: 50 * time.Millisecond, Rand: rand.New(rand.NewPCG(1, 1)),
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	if err := svc.Start(ctx); err != nil {
		t.Fatal(err)
	}
	eventually(t, "both scans running", func() bool {
		scans.mu.Lock()
		defer scans.mu.Unlock()
		return scans.total == 2
	})
	cancel()
	select {
	case <-svc.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("the service did not stop")
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != "teamslink_scans_total" {
			continue
		}
		for _, s := range mf.GetMetric() {
			if s.GetLabel()[0].GetValue() == metrics.ResultCanceled && s.GetCounter().GetValue() != 2 {
				t.Errorf("canceled scans = %v, want 2", s.GetCounter().GetValue())
			}
		}
	}
}

func TestAFirstConfigThatDoesNotLoadIsAnError(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewRegistry()
	cfg := newFakeConfig(1)
	cfg.err = errors.New("tenants.yaml: no such file")
	svc, err := serve.New(serve.Options{Load: cfg.load, Scan: newFakeScans(time.Now, 1).scan, Now: time.Now, Metrics: metrics.New(reg, metrics.BuildInfo{}), Gatherer: reg})
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.Start(t.Context()); err == nil || !strings.Contains(err.Error(), "no such file") {
		t.Errorf("Start = %v, want the load error", err)
	}
	if svc.Ready() {
		t.Errorf("ready without a config")
	}
}
