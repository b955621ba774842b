package metrics_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil/promlint"

	"github.com/teamslink/teamslink/internal/finding"
	"github.com/teamslink/teamslink/internal/metrics"
)

// TestPromlint lints every series of /metrics and /probe with promlint, the
// linter of promtool check metrics: no problem is allowed.
func TestPromlint(t *testing.T) {
	t.Parallel()
	reg, _ := filled(t)
	envs := fleetReport().Environments
	tests := []struct {
		name string
		reg  prometheus.Gatherer
	}{
		{"metrics", reg},
		{"probe", metrics.ProbeRegistry(envs[0], 2*time.Hour)},
		{"probe of a broken environment", metrics.ProbeRegistry(envs[2], time.Minute)},
		{"probe failure", metrics.ProbeFailure()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			problems, err := promlint.NewWithMetricFamilies(gather(t, tt.reg)).Lint()
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range problems {
				t.Errorf("%s: %s", p.Metric, p.Text)
			}
		})
	}
}

// TestEveryDescribedSeriesIsFilled keeps filled (and so docs/metrics.md)
// complete: every metric Metrics describes has a series in it.
func TestEveryDescribedSeriesIsFilled(t *testing.T) {
	t.Parallel()
	reg, _ := filled(t)
	mfs := gather(t, reg)
	ch := make(chan *prometheus.Desc)
	go func() {
		reg.Describe(ch)
		close(ch)
	}()
	n := 0
	for d := range ch {
		n++
		name := descName(d)
		if family(mfs, name) == nil {
			t.Errorf("%s is described but has no series in the filled registry", name)
		}
		if !strings.HasPrefix(name, "teamslink_") {
			t.Errorf("%s does not start with teamslink_", name)
		}
	}
	if n < 14 {
		t.Errorf("only %d metrics described", n)
	}
}

// descName reads the metric name out of a Desc's String, the only place
// client_golang shows it.
func descName(d *prometheus.Desc) string {
	s := d.String()
	_, rest, _ := strings.Cut(s, `fqName: "`)
	name, _, _ := strings.Cut(rest, `"`)
	return name
}

// TestSeriesBound: the series of a fleet stay within environments × (rules
// + experiences) + 100, the serve benchmark's bound, with the scans of
// every tenant and API traffic recorded too.
func TestSeriesBound(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name          string
		envs, perTen  int
		scanEveryTen  bool
		observeTwice  bool
		reobserveHalf bool
	}{
		{name: "one environment", envs: 1, perTen: 1},
		{name: "ten tenants of ten", envs: 100, perTen: 10, scanEveryTen: true},
		{name: "three thousand", envs: 3000, perTen: 4, scanEveryTen: true},
		{name: "observed twice", envs: 300, perTen: 3, scanEveryTen: true, observeTwice: true},
		{name: "fleet shrinks", envs: 300, perTen: 3, reobserveHalf: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			reg := prometheus.NewRegistry()
			m := metrics.New(reg, testBuild)
			m.ConfigReloaded(true, fixedNow)
			r := largeFleet(tt.envs, tt.perTen)
			m.ObserveReport(r, fixedNow)
			if tt.observeTwice {
				m.ObserveReport(r, fixedNow.Add(time.Hour))
			}
			if tt.reobserveHalf {
				// Half the tenants leave the config, and every tenant
				// left loses an environment.
				r.Environments = r.Environments[:len(r.Environments)/2]
				var kept []string
				r.Environments = slices.DeleteFunc(r.Environments, func(e finding.Environment) bool {
					if !slices.Contains(kept, e.Tenant) {
						kept = append(kept, e.Tenant)
						return true
					}
					return false
				})
				m.Retain(kept...)
				m.ObserveReport(r, fixedNow.Add(time.Hour))
			}
			tenants := map[string]bool{}
			for _, e := range r.Environments {
				tenants[e.Tenant] = true
			}
			if tt.scanEveryTen {
				for range tenants {
					m.ObserveScan(time.Minute, nil)
				}
			}
			for _, api := range []string{metrics.APIDataverse, metrics.APIGraph, metrics.APISharePoint, metrics.APILogin, metrics.APIDiscovery} {
				h := m.Hooks(api)
				for _, code := range []int{200, 204, 401, 403, 404, 429, 503} {
					h.OnResponse(code, time.Second)
				}
				h.OnThrottle(429, time.Second)
			}
			got := seriesCount(gather(t, reg))
			bound := len(r.Environments)*(len(r.Rules)+len(finding.Experiences)) + 100
			if got > bound {
				t.Errorf("%d series for %d environments of %d rules, above the bound %d", got, len(r.Environments), len(r.Rules), bound)
			}
		})
	}
}

// TestObserveReportReplaces: a report replaces what earlier ones said of
// its tenants, environments, rules and experiences it no longer has lose
// their series, other tenants keep theirs, and Retain drops tenants.
func TestObserveReportReplaces(t *testing.T) {
	t.Parallel()
	envs := fleetEnvs()
	contoso, fabrikam := envs[:5], envs[5:6]
	type step struct {
		report  *finding.Report
		tenants []string // extra tenants the report covers
		retain  []string // Retain after the report, when not nil
	}
	tests := []struct {
		name  string
		steps []step
		// absent and present are environment labels whose series must
		// (not) exist at the end.
		absent, present []string
		// absentRules are rule ids with no series at the end.
		absentRules []string
	}{
		{
			name:    "environment gone",
			steps:   []step{{report: newReport(contoso...)}, {report: newReport(contoso[:2]...)}},
			absent:  []string{"contoso-sales", "contoso-hr", "contoso-ops"},
			present: []string{"contoso", "contoso-dev"},
		},
		{
			name:    "another tenant's report leaves this one's",
			steps:   []step{{report: newReport(contoso...)}, {report: newReport(fabrikam...)}},
			present: []string{"contoso", "contoso-ops", "fabrikam"},
		},
		{
			name:    "a tenant with no environment left",
			steps:   []step{{report: newReport(append(slices.Clone(contoso), fabrikam...)...)}, {report: newReport(fabrikam...), tenants: []string{contosoID}}},
			absent:  []string{"contoso", "contoso-dev"},
			present: []string{"fabrikam"},
		},
		{
			name:    "tenant removed from the config",
			steps:   []step{{report: newReport(append(slices.Clone(contoso), fabrikam...)...), retain: []string{fabrikamID}}},
			absent:  []string{"contoso", "contoso-ops"},
			present: []string{"fabrikam"},
		},
		{
			name: "rule gone",
			steps: []step{{report: newReport(fabrikam...)}, {report: func() *finding.Report {
				r := newReport(fabrikam...)
				e := &r.Environments[0]
				e.Findings = slices.DeleteFunc(e.Findings, func(f finding.Finding) bool { return f.Rule == "TL-ENT-001" })
				return r
			}()}},
			present:     []string{"fabrikam"},
			absentRules: []string{"TL-ENT-001"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			reg := prometheus.NewPedanticRegistry()
			m := metrics.New(reg, testBuild)
			for i, s := range tt.steps {
				m.ObserveReport(s.report, fixedNow.Add(time.Duration(i)*time.Hour), s.tenants...)
				if s.retain != nil {
					m.Retain(s.retain...)
				}
			}
			mfs := gather(t, reg)
			for _, name := range []string{"teamslink_environment_readiness", "teamslink_rule_status"} {
				for _, e := range tt.absent {
					if got := samples(mfs, name, map[string]string{"environment": e}); len(got) > 0 {
						t.Errorf("%s of %s still exported: %v", name, e, got)
					}
				}
				for _, e := range tt.present {
					if got := samples(mfs, name, map[string]string{"environment": e}); len(got) == 0 {
						t.Errorf("%s of %s missing", name, e)
					}
				}
			}
			for _, id := range tt.absentRules {
				if got := samples(mfs, "teamslink_rule_status", map[string]string{"rule": id}); len(got) > 0 {
					t.Errorf("rule %s still exported: %v", id, got)
				}
			}
		})
	}
}

// TestExperienceNoLongerAssessed: an environment switched from Enhanced to
// Basic loses its Enhanced readiness series.
func TestExperienceNoLongerAssessed(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewRegistry()
	m := metrics.New(reg, testBuild)
	e := fleetEnvs()[0]
	m.ObserveReport(newReport(e), fixedNow)
	e.exp = finding.ExperienceBasic
	m.ObserveReport(newReport(e), fixedNow)
	got := samples(gather(t, reg), "teamslink_environment_readiness", nil)
	want := []string{`teamslink_environment_readiness{environment="contoso",experience="basic",state="READY",tenant="` + contosoID + `"} 1`}
	if !slices.Equal(got, want) {
		t.Errorf("readiness\n got %q\nwant %q", got, want)
	}
}

// TestReportSeries checks the values the fleet report gives.
func TestReportSeries(t *testing.T) {
	t.Parallel()
	reg, _ := filled(t)
	mfs := gather(t, reg)
	northwind := "5a0e9c7d-1b2f-4c3e-8d4a-6f7b8c9d0e1f"
	tests := []struct {
		name   string
		metric string
		match  map[string]string
		want   []string
	}{
		{
			name: "readiness of each kind", metric: "teamslink_environment_readiness", match: map[string]string{"experience": "enhanced"},
			want: []string{
				`teamslink_environment_readiness{environment="contoso",experience="enhanced",state="READY",tenant="` + contosoID + `"} 1`,
				`teamslink_environment_readiness{environment="contoso-dev",experience="enhanced",state="BLOCKED",tenant="` + contosoID + `"} 1`,
				`teamslink_environment_readiness{environment="contoso-hr",experience="enhanced",state="ENABLED",tenant="` + contosoID + `"} 1`,
				`teamslink_environment_readiness{environment="contoso-sales",experience="enhanced",state="BROKEN",tenant="` + contosoID + `"} 1`,
				`teamslink_environment_readiness{environment="northwind",experience="enhanced",state="UNKNOWN",tenant="` + northwind + `"} 1`,
			},
		},
		{
			name: "basic only has no enhanced series", metric: "teamslink_environment_readiness", match: map[string]string{"environment": "contoso-ops"},
			want: []string{`teamslink_environment_readiness{environment="contoso-ops",experience="basic",state="UNKNOWN",tenant="` + contosoID + `"} 1`},
		},
		{
			name: "table rule shows its worst table", metric: "teamslink_rule_status", match: map[string]string{"environment": "fabrikam", "rule": "TL-ENT-001"},
			want: []string{`teamslink_rule_status{environment="fabrikam",rule="TL-ENT-001",severity="high",status="fail",tenant="` + fabrikamID + `"} 1`},
		},
		{
			name: "skipped rules have none", metric: "teamslink_rule_status", match: map[string]string{"environment": "fabrikam", "rule": "TL-CONSENT-001"},
		},
		{
			name: "waived", metric: "teamslink_rule_status", match: map[string]string{"environment": "contoso-hr", "rule": "TL-MAN-001"},
			want: []string{`teamslink_rule_status{environment="contoso-hr",rule="TL-MAN-001",severity="medium",status="waived",tenant="` + contosoID + `"} 1`},
		},
		{
			name: "an error is never a pass", metric: "teamslink_rule_status", match: map[string]string{"environment": "contoso-ops", "rule": "TL-ROLE-001"},
			want: []string{`teamslink_rule_status{environment="contoso-ops",rule="TL-ROLE-001",severity="high",status="error",tenant="` + contosoID + `"} 1`},
		},
		{
			name: "collection errors by section, sign-in failures aside", metric: "teamslink_collection_errors",
			want: []string{
				`teamslink_collection_errors{section="environment.roles"} 1`,
				`teamslink_collection_errors{section="tenant.licences"} 1`,
			},
		},
		{
			name: "credential failure", metric: "teamslink_credential_failed",
			want: []string{`teamslink_credential_failed{method="client-secret",tenant="` + northwind + `"} 1`},
		},
		{
			name: "last successful scan, none for a failed sign-in", metric: "teamslink_last_successful_scan_timestamp_seconds",
			want: []string{
				`teamslink_last_successful_scan_timestamp_seconds{tenant="` + contosoID + `"} ` + at(fixedNow),
				`teamslink_last_successful_scan_timestamp_seconds{tenant="` + fabrikamID + `"} ` + at(fixedNow),
			},
		},
		{
			name: "build info", metric: "teamslink_build_info",
			want: []string{`teamslink_build_info{goversion="go1.26.8",revision="4f9c2e1",version="1.2.3"} 1`},
		},
		{
			name: "scans by result", metric: "teamslink_scans_total",
			want: []string{`teamslink_scans_total{result="canceled"} 0`, `teamslink_scans_total{result="error"} 1`, `teamslink_scans_total{result="success"} 1`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := samples(mfs, tt.metric, tt.match)
			if !slices.Equal(got, tt.want) {
				t.Errorf("%s\n got %q\nwant %q", tt.metric, got, tt.want)
			}
		})
	}
}

// TestSignInFailureKeepsLastSuccess: a tenant whose sign-in fails keeps the
// time of its last good scan, so that the scan-stale alert fires; signing in
// again clears the credential series.
func TestSignInFailureKeepsLastSuccess(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewRegistry()
	m := metrics.New(reg, testBuild)
	e := fleetEnvs()[5]
	m.ObserveReport(newReport(e), fixedNow)
	e.signIn = true
	m.ObserveReport(newReport(e), fixedNow.Add(time.Hour))
	mfs := gather(t, reg)
	want := `teamslink_last_successful_scan_timestamp_seconds{tenant="` + fabrikamID + `"} ` + at(fixedNow)
	if got := samples(mfs, "teamslink_last_successful_scan_timestamp_seconds", nil); !slices.Equal(got, []string{want}) {
		t.Errorf("last success %q, want %q", got, want)
	}
	if got := samples(mfs, "teamslink_credential_failed", nil); len(got) != 1 {
		t.Errorf("credential failed %q, want one series", got)
	}
	e.signIn = false
	m.ObserveReport(newReport(e), fixedNow.Add(2*time.Hour))
	mfs = gather(t, reg)
	if got := samples(mfs, "teamslink_credential_failed", nil); len(got) != 0 {
		t.Errorf("credential failed %q after a good sign-in, want none", got)
	}
	want = `teamslink_last_successful_scan_timestamp_seconds{tenant="` + fabrikamID + `"} ` + at(fixedNow.Add(2*time.Hour))
	if got := samples(mfs, "teamslink_last_successful_scan_timestamp_seconds", nil); !slices.Equal(got, []string{want}) {
		t.Errorf("last success %q, want %q", got, want)
	}
}

// TestNoURLInLabels: no label value anywhere is a URL or carries error
// text, whatever the report says.
func TestNoURLInLabels(t *testing.T) {
	t.Parallel()
	reg, m := filled(t)
	odd := newReport(
		env{tenant: contosoID, url: "https://odd.crm.dynamics.com:443/path?q=https://x", exp: finding.ExperienceBasic},
		env{tenant: contosoID, url: "odd.crm4.dynamics.com", exp: finding.ExperienceBasic},
		env{tenant: contosoID, url: "https://", exp: finding.ExperienceBasic},
	)
	m.ObserveReport(odd, fixedNow)
	mfs := gather(t, reg)
	mfs = append(mfs, gather(t, metrics.ProbeRegistry(odd.Environments[0], time.Second))...)
	for _, mf := range mfs {
		for _, mt := range mf.GetMetric() {
			for k, v := range labels(mt) {
				if strings.Contains(v, "://") || strings.Contains(v, "AADSTS") || strings.Contains(v, "/") || strings.Contains(v, " ") {
					t.Errorf("%s{%s=%q}: a URL, path or text in a label", mf.GetName(), k, v)
				}
			}
		}
	}
}

// at renders t as a timestamp sample value.
func at(t time.Time) string { return strconv.FormatInt(t.Unix(), 10) }

// TestObserveScan classifies results.
func TestObserveScan(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"success", nil, metrics.ResultSuccess},
		{"error", errors.New("collect: refused"), metrics.ResultError},
		{"canceled", fmt.Errorf("collect: %w", context.Canceled), metrics.ResultCanceled},
		{"deadline is an error", context.DeadlineExceeded, metrics.ResultError},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			reg := prometheus.NewRegistry()
			m := metrics.New(reg, testBuild)
			m.ObserveScan(90*time.Second, tt.err)
			mfs := gather(t, reg)
			got := samples(mfs, "teamslink_scans_total", map[string]string{"result": tt.want})
			if want := []string{`teamslink_scans_total{result="` + tt.want + `"} 1`}; !slices.Equal(got, want) {
				t.Errorf("got %q, want %q", got, want)
			}
			h := family(mfs, "teamslink_scan_duration_seconds").GetMetric()[0].GetHistogram()
			if h.GetSampleCount() != 1 || h.GetSampleSum() != 90 {
				t.Errorf("histogram count %d sum %v, want 1 and 90", h.GetSampleCount(), h.GetSampleSum())
			}
		})
	}
}

// TestConfigReloaded: a rejected config reads 0 and keeps the time of the
// config in use.
func TestConfigReloaded(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		attempts []bool
		wantOK   float64
		wantAt   float64
	}{
		{"first load", []bool{true}, 1, float64(fixedNow.Unix())},
		{"rejected after a good one", []bool{true, false}, 0, float64(fixedNow.Unix())},
		{"good again", []bool{true, false, true}, 1, float64(fixedNow.Unix() + 2*60)},
		{"never loaded", []bool{false}, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			reg := prometheus.NewRegistry()
			m := metrics.New(reg, testBuild)
			for i, ok := range tt.attempts {
				m.ConfigReloaded(ok, fixedNow.Add(time.Duration(i)*time.Minute))
			}
			mfs := gather(t, reg)
			if got := value(family(mfs, "teamslink_config_last_reload_successful").GetMetric()[0]); got != tt.wantOK {
				t.Errorf("successful = %v, want %v", got, tt.wantOK)
			}
			if got := value(family(mfs, "teamslink_config_last_reload_success_timestamp_seconds").GetMetric()[0]); got != tt.wantAt {
				t.Errorf("timestamp = %v, want %v", got, tt.wantAt)
			}
		})
	}
}

// TestNilRegisterer: New(nil, …) registers nothing and works.
func TestNilRegisterer(t *testing.T) {
	t.Parallel()
	m := metrics.New(nil, metrics.BuildInfo{})
	m.ObserveReport(fleetReport(), fixedNow)
	m.ObserveScan(time.Second, nil)
	m.ConfigReloaded(true, fixedNow)
}

// TestRegisterTwice: a second Metrics on one registry panics, as
// MustRegister does, rather than exporting half its series.
func TestRegisterTwice(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewRegistry()
	metrics.New(reg, testBuild)
	defer func() {
		if recover() == nil {
			t.Error("no panic")
		}
	}()
	metrics.New(reg, testBuild)
}

// TestConcurrentUse observes reports, scans and requests while gathering,
// for the race detector: serve does all of these at once.
func TestConcurrentUse(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewPedanticRegistry()
	m := metrics.New(reg, testBuild)
	r := largeFleet(60, 3)
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range 20 {
				part := newReport(fleetEnvs()[g%len(fleetEnvs()) : g%len(fleetEnvs())+1]...)
				m.ObserveReport(part, fixedNow.Add(time.Duration(i)*time.Second))
				m.ObserveReport(r, fixedNow)
				m.ObserveScan(time.Second, nil)
				m.Hooks(metrics.APIGraph).OnResponse(200, time.Millisecond)
				if i%5 == 0 {
					m.Retain(contosoID)
				}
			}
		})
		wg.Go(func() {
			for range 20 {
				if _, err := reg.Gather(); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
}
