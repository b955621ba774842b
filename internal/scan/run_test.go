package scan_test

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/teamslink/teamslink/internal/config"
	"github.com/teamslink/teamslink/internal/emulator"
	"github.com/teamslink/teamslink/internal/emulator/emulatortest"
	"github.com/teamslink/teamslink/internal/engine"
	"github.com/teamslink/teamslink/internal/finding"
	"github.com/teamslink/teamslink/internal/metrics"
	"github.com/teamslink/teamslink/internal/scan"
)

const (
	secretEnv = "TEAMSLINK_EMULATOR_SECRET"
	wrongEnv  = "TEAMSLINK_WRONG_SECRET"
)

var fixedNow = time.Date(2026, 11, 2, 9, 15, 0, 0, time.UTC)

// fleet starts the emulator with the named sample scenarios, each changed
// by mutate, and returns a config of their tenants through it, each
// changed by edit, and options that answer the scenarios' secret.
func fleet(t *testing.T, mutate func(*emulator.Scenario), edit func(*config.Tenant), names ...string) (*emulator.Server, *config.Config, scan.Options) {
	t.Helper()
	all, err := emulator.LoadScenarios(filepath.Join("..", "..", "testdata", "scenarios"))
	if err != nil {
		t.Fatal(err)
	}
	var scenarios []*emulator.Scenario
	for _, s := range all {
		if slices.Contains(names, s.Name) {
			if mutate != nil {
				mutate(s)
			}
			scenarios = append(scenarios, s)
		}
	}
	if len(scenarios) != len(names) {
		t.Fatalf("found %d of the scenarios %v", len(scenarios), names)
	}
	srv := emulatortest.Start(t, time.Now, scenarios...)
	cfg := &config.Config{}
	for _, sc := range scenarios {
		tn := config.Tenant{
			ID: sc.Tenant.ID, Name: sc.Tenant.Name,
			Auth:      config.Auth{Method: config.MethodClientSecret, ClientID: sc.Clients[0].ClientID, SecretEnv: secretEnv},
			Endpoints: config.Endpoints{ConnectTo: srv.Addr(), CAFile: srv.CAFile()},
		}
		if sc.SharePoint != nil {
			tn.SharePointAdminURL = sc.SharePoint.AdminURL
		}
		for _, e := range sc.Environments {
			tn.Environments = append(tn.Environments, config.Environment{URL: e.URL})
		}
		if edit != nil {
			edit(&tn)
		}
		cfg.Tenants = append(cfg.Tenants, tn)
	}
	cfg.ApplyDefaults()
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	secret := scenarios[0].Clients[0].Secret
	opts := scan.Options{
		Now:     func() time.Time { return fixedNow },
		Version: "test",
		LookupEnv: func(name string) (string, bool) {
			switch name {
			case secretEnv:
				return secret, true
			case wrongEnv:
				return "not-the-secret", true
			}
			return "", false
		},
	}
	return srv, cfg, opts
}

func newEngine(t *testing.T) *engine.Engine {
	t.Helper()
	eng, err := engine.New(t.Context(), engine.Config{Timeout: time.Minute}) // a busy machine under -race
	if err != nil {
		t.Fatal(err)
	}
	return eng
}

// series gathers reg into "name{label=value,...}" → value, labels sorted.
func series(t *testing.T, reg prometheus.Gatherer) map[string]float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			var labels []string
			for _, l := range m.GetLabel() {
				labels = append(labels, l.GetName()+"="+l.GetValue())
			}
			out[mf.GetName()+"{"+strings.Join(labels, ",")+"}"] = value(m)
		}
	}
	return out
}

func value(m *dto.Metric) float64 {
	switch {
	case m.Counter != nil:
		return m.Counter.GetValue()
	case m.Gauge != nil:
		return m.Gauge.GetValue()
	case m.Histogram != nil:
		return float64(m.Histogram.GetSampleCount())
	}
	return 0
}

// sum adds the series whose key starts with prefix.
func sum(s map[string]float64, prefix string) float64 {
	total := 0.0
	for k, v := range s {
		if strings.HasPrefix(k, prefix) {
			total += v
		}
	}
	return total
}

// TestRunIsolatesTenants: of four tenants, one whose secret is wrong and
// one whose discovery is refused each get a sign-in error of their own,
// and the other two are scanned as if alone; the metrics count every API's
// requests, four scans ended in a report and the report's series; progress
// goes from 0 to 4 of 4.
func TestRunIsolatesTenants(t *testing.T) {
	t.Parallel()
	const (
		contoso   = "3f2b8c1e-6d4a-4b7e-9a15-2c8d0e7f4a61" // ready
		tailwind  = "95afe1a7-160d-59af-a970-e6a628e0dce2" // enabled
		wideWorld = "cb1a622e-5d7f-52e0-87c4-0cec99649b02" // broken-consent: wrong secret
	)
	var discoveryRefused string
	_, cfg, opts := fleet(t, func(sc *emulator.Scenario) {
		if sc.Name == "no-teams-licence" {
			discoveryRefused = sc.Tenant.ID
			sc.Discovery = &emulator.Discovery{AccessDenied: true}
		}
	}, func(tn *config.Tenant) {
		switch {
		case tn.ID == wideWorld:
			tn.Auth.SecretEnv = wrongEnv
		case tn.ID == discoveryRefused:
			tn.Environments, tn.Discover = nil, &config.Discover{}
		}
	}, "ready", "enabled", "broken-consent", "no-teams-licence")

	reg := prometheus.NewRegistry()
	opts.Metrics = metrics.New(reg, metrics.BuildInfo{Version: "test"})
	var (
		mu       sync.Mutex
		progress [][2]int
	)
	opts.Progress = func(done, total int) {
		mu.Lock()
		defer mu.Unlock()
		progress = append(progress, [2]int{done, total})
	}
	res, err := scan.Run(t.Context(), cfg, newEngine(t), opts)
	if err != nil {
		t.Fatal(err)
	}
	var order []string
	for _, tn := range cfg.Tenants {
		order = append(order, tn.ID)
	}
	if got, want := strings.Join(res.Tenants, " "), strings.Join(order, " "); got != want {
		t.Errorf("tenants scanned: %s, want the config's %s", got, want)
	}
	failed := map[string]string{}
	for _, s := range res.Report.SignInErrors {
		failed[s.Tenant] = s.Error
	}
	if len(failed) != 2 || failed[wideWorld] == "" || !strings.Contains(failed[discoveryRefused], "Power Platform admin API") {
		t.Errorf("sign-in errors %v, want Wide World's credential and the refused discovery", failed)
	}
	want := map[string]finding.Readiness{contoso: finding.Ready, tailwind: finding.Enabled}
	for _, e := range res.Report.Environments {
		w, ok := want[e.Tenant]
		if !ok {
			continue
		}
		for _, v := range e.Verdicts {
			if v.Readiness != w {
				t.Errorf("%s %s: %s, want %s as when scanned alone", e.URL, v.Experience, v.Readiness, w)
			}
		}
		delete(want, e.Tenant)
	}
	if len(want) > 0 {
		t.Errorf("no environment of %v in the report", want)
	}

	s := series(t, reg)
	for _, api := range []string{"graph", "dataverse", "login"} {
		if sum(s, "teamslink_api_requests_total{api="+api+",code=2") == 0 {
			t.Errorf("no successful %s request counted", api)
		}
	}
	if s["teamslink_api_requests_total{api=discovery,code=403}"] == 0 {
		t.Error("the refused discovery is not counted")
	}
	if s["teamslink_api_requests_total{api=login,code=401}"] == 0 {
		t.Error("the refused token request is not counted")
	}
	if got := s["teamslink_scans_total{result=success}"]; got != 4 {
		t.Errorf("scans_total{success} = %v, want 4 (every tenant ended in the report)", got)
	}
	if s["teamslink_environment_readiness{environment=contoso-sales,experience=enhanced,state=READY,tenant="+contoso+"}"] != 1 {
		t.Errorf("no READY series for Contoso; series: %v", keys(s, "teamslink_environment_readiness"))
	}
	if s["teamslink_credential_failed{method=client-secret,tenant="+wideWorld+"}"] != 1 {
		t.Errorf("no credential failure for Wide World; series: %v", keys(s, "teamslink_credential_failed"))
	}

	mu.Lock()
	defer mu.Unlock()
	if len(progress) != 5 || progress[0] != [2]int{0, 4} || progress[4] != [2]int{4, 4} {
		t.Errorf("progress %v, want 0/4 up to 4/4, once per tenant", progress)
	}
	for i := 1; i < len(progress); i++ {
		if progress[i][0] != progress[i-1][0]+1 {
			t.Errorf("progress %v does not count up by one", progress)
		}
	}
}

func keys(s map[string]float64, prefix string) []string {
	var out []string
	for k := range s {
		if strings.HasPrefix(k, prefix) {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return out
}

// TestRunSelects: --tenant and --shard choose what is collected; shards
// 0..N-1 of a fleet collect each environment once.
func TestRunSelects(t *testing.T) {
	t.Parallel()
	srv, cfg, opts := fleet(t, nil, nil, "ready", "enabled", "broken-consent", "no-teams-licence")
	eng := newEngine(t)
	all := map[string]bool{}
	for _, tn := range cfg.Tenants {
		for _, e := range tn.Environments {
			all[e.URL] = true
		}
	}

	named := opts
	named.Tenants = []string{"contoso", "TAILWIND TRADERS"}
	res, err := scan.Run(t.Context(), cfg, eng, named)
	if err != nil {
		t.Fatal(err)
	}
	var tenants []string
	for _, e := range res.Snapshot.Environments {
		tenants = append(tenants, e.TenantID)
	}
	slices.Sort(tenants)
	if got := strings.Join(slices.Compact(tenants), " "); got != "3f2b8c1e-6d4a-4b7e-9a15-2c8d0e7f4a61 95afe1a7-160d-59af-a970-e6a628e0dce2" {
		t.Errorf("--tenant contoso --tenant 'TAILWIND TRADERS' collected the environments of %s", got)
	}
	for _, r := range srv.Requests() {
		if strings.Contains(r.Host, "wideworld") {
			t.Fatalf("a tenant not named was read: %s %s", r.Host, r.Path)
		}
	}

	const n = 3
	seen := map[string]int{}
	for k := range n {
		sharded := opts
		sharded.Shard = scan.Shard{K: k, N: n}
		res, err := scan.Run(t.Context(), cfg, eng, sharded)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range res.Report.Environments {
			seen[e.URL]++
			if !sharded.Shard.Has(e.Tenant) {
				t.Errorf("shard %v scanned %s of tenant %s", sharded.Shard, e.URL, e.Tenant)
			}
		}
	}
	for u := range all {
		if seen[u] != 1 {
			t.Errorf("%s scanned %d times by the %d shards, want once", u, seen[u], n)
		}
	}

	unknown := opts
	unknown.Tenants = []string{"Northwind"}
	var cfgErr *scan.ConfigError
	if _, err := scan.Run(t.Context(), cfg, eng, unknown); !errors.As(err, &cfgErr) {
		t.Errorf("an unknown --tenant: %v, want a *ConfigError", err)
	}
}

// TestRunInterrupted: a run stopped before it ends returns why, no report,
// and counts every tenant's scan as canceled.
func TestRunInterrupted(t *testing.T) {
	t.Parallel()
	_, cfg, opts := fleet(t, nil, nil, "ready", "enabled")
	reg := prometheus.NewRegistry()
	opts.Metrics = metrics.New(reg, metrics.BuildInfo{})
	ctx, cancel := context.WithCancelCause(t.Context())
	stop := errors.New("stopped by the test")
	cancel(stop)
	res, err := scan.Run(ctx, cfg, newEngine(t), opts)
	if !errors.Is(err, stop) || res != nil {
		t.Fatalf("Run = %v, %v; want the interruption", res, err)
	}
	s := series(t, reg)
	if s["teamslink_scans_total{result=canceled}"] != 2 || s["teamslink_scans_total{result=success}"] != 0 {
		t.Errorf("scans: %v", keys(s, "teamslink_scans_total"))
	}
}

// TestCollectBadCredentialIsConfigError: a secret variable that is not set
// is a mistake in the config, found before any request.
func TestCollectBadCredentialIsConfigError(t *testing.T) {
	t.Parallel()
	srv, cfg, opts := fleet(t, nil, func(tn *config.Tenant) { tn.Auth.SecretEnv = "TEAMSLINK_UNSET" }, "ready")
	_, err := scan.Collect(t.Context(), cfg, opts)
	var cfgErr *scan.ConfigError
	if !errors.As(err, &cfgErr) || !strings.Contains(err.Error(), "TEAMSLINK_UNSET") {
		t.Fatalf("Collect = %v, want a *ConfigError naming the variable", err)
	}
	if n := len(srv.Requests()); n != 0 {
		t.Errorf("%d requests sent", n)
	}
}
