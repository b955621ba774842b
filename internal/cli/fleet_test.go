package cli

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/goccy/go-yaml"

	"github.com/teamslink/teamslink/internal/scan"
)

// reportEnvironments reads the tenant and URL of every environment of a
// JSON report.
func reportEnvironments(t *testing.T, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var rep struct {
		Environments []struct{ Tenant, URL string }
	}
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range rep.Environments {
		out = append(out, e.Tenant+" "+e.URL)
	}
	return out
}

// TestScanFleetUsage: the fleet flags refuse what they cannot do before any
// request, as usage errors.
func TestScanFleetUsage(t *testing.T) {
	t.Parallel()
	srv, configPath, deps := fleetConfig(t, nil, "ready")
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"unknown tenant", []string{"--config", configPath, "--tenant", "Northwind"}, `tenant "Northwind" is not in the config`},
		{"shard K beyond N", []string{"--config", configPath, "--shard", "4/4"}, "--shard: 4/4: want N from 1"},
		{"shard not K/N", []string{"--config", configPath, "--shard", "1-of-4"}, `--shard: "1-of-4" is not K/N`},
		{"shard without config", []string{"--tenant", contosoID, "--env", "https://contoso-sales.crm.dynamics.com", "--shard", "0/2"}, "--shard splits the tenants of --config"},
		{"two tenants with env", []string{"--tenant", contosoID, "--tenant", fabrikamID, "--env", "https://contoso-sales.crm.dynamics.com"}, "--env belongs to one --tenant"},
		{"no concurrency", []string{"--config", configPath, "--concurrency", "0"}, "--concurrency 0: must be at least 1"},
		{"per-tenant beyond Dataverse", []string{"--config", configPath, "--per-tenant", "60"}, "--per-tenant 60: must be 1 to 50"},
		{"push gateway not http", []string{"--config", configPath, "--push-gateway", "ftp://gw:21"}, "--push-gateway: push gateway: want http(s)://"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			code, _, stderr := runMain(t, deps, append([]string{"scan"}, tt.args...)...)
			if code != 2 || !strings.Contains(stderr, tt.want) {
				t.Errorf("exit %d, stderr %q; want 2 saying %q", code, stderr, tt.want)
			}
		})
	}
	for _, r := range srv.Requests() {
		t.Errorf("request sent on a usage error: %s %s", r.Host, r.Path)
	}
}

// TestScanTenantFilter: --tenant, by name or id in any case, limits scan
// and collect --config to those tenants.
func TestScanTenantFilter(t *testing.T) {
	t.Parallel()
	_, configPath, deps := fleetConfig(t, nil, "ready", "enabled", "broken-consent")
	dir := t.TempDir()
	report := filepath.Join(dir, "report.json")
	code, _, stderr := runMain(t, deps, "scan", "--config", configPath, "--tenant", "CONTOSO", "--tenant", "95AFE1A7-160D-59AF-A970-E6A628E0DCE2", "--format", "json="+report, "--concurrency", "2", "--per-tenant", "1")
	if code != 0 {
		t.Fatalf("exit %d; stderr %s", code, stderr)
	}
	got := reportEnvironments(t, report)
	slices.Sort(got)
	if want := []string{contosoID + " https://contoso-sales.crm.dynamics.com", "95afe1a7-160d-59af-a970-e6a628e0dce2 https://tailwind.crm.dynamics.com"}; !slices.Equal(got, want) {
		t.Errorf("environments reported %q, want %q", got, want)
	}

	other := scan.Shard{K: 1 - scan.ShardOf(contosoID, 2), N: 2}
	code, stdout, stderr := runMain(t, deps, "scan", "--config", configPath, "--tenant", "contoso", "--shard", other.String(), "--format", "json")
	if code != 0 || !strings.Contains(stderr, "falls in shard "+other.String()+": nothing was scanned") || !strings.Contains(stdout, `"environments": []`) {
		t.Errorf("a shard without the tenant named: exit %d, stderr %q, stdout %s", code, stderr, stdout)
	}

	snap := filepath.Join(dir, "snapshot.json")
	code, _, stderr = runMain(t, deps, "collect", "--config", configPath, "--tenant", "Wide World Importers", "-o", snap)
	if code != 0 || !strings.Contains(stderr, "1 tenant(s), 1 environment(s)") {
		t.Errorf("collect --tenant: exit %d, stderr %s", code, stderr)
	}
}

// TestScanShardsAndPush: two shards of a three-tenant fleet report every
// environment once between them, each pushes its run to
// /metrics/job/teamslink/shard/K with PUT, and report merge joins them; a
// Pushgateway that refuses a push makes the run exit 4, its report written.
func TestScanShardsAndPush(t *testing.T) {
	t.Parallel()
	_, configPath, deps := fleetConfig(t, nil, "ready", "enabled", "broken-consent")
	var (
		mu     sync.Mutex
		pushes []string
		status = http.StatusOK
	)
	gw := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		defer mu.Unlock()
		pushes = append(pushes, r.Method+" "+r.URL.Path)
		if !strings.Contains(string(body), "teamslink_environment_readiness") && status == http.StatusOK {
			pushes = append(pushes, "without readiness")
		}
		w.WriteHeader(status)
	}))
	t.Cleanup(gw.Close)

	dir := t.TempDir()
	var all, files []string
	for k := range 2 {
		report := filepath.Join(dir, "report-"+itoa(k)+".json")
		code, _, stderr := runMain(t, deps, "scan", "--config="+configPath, "--shard="+itoa(k)+"/2", "--push-gateway="+gw.URL,
			"--format=json="+report, "--concurrency=8", "--per-tenant=2", "--fail-on=error")
		if code != 0 {
			t.Fatalf("shard %d/2: exit %d; stderr %s", k, code, stderr)
		}
		got := reportEnvironments(t, report)
		for _, e := range got {
			if !(scan.Shard{K: k, N: 2}).Has(strings.Fields(e)[0]) {
				t.Errorf("shard %d/2 reported %s", k, e)
			}
		}
		all, files = append(all, got...), append(files, report)
	}
	slices.Sort(all)
	if len(all) != 3 || len(slices.Compact(slices.Clone(all))) != 3 {
		t.Errorf("the two shards reported %q; want each of the 3 environments once", all)
	}
	mu.Lock()
	if want := []string{"PUT /metrics/job/teamslink/shard/0", "PUT /metrics/job/teamslink/shard/1"}; !slices.Equal(pushes, want) {
		t.Errorf("pushes %q, want %q", pushes, want)
	}
	status, pushes = http.StatusInternalServerError, nil
	mu.Unlock()

	merged := filepath.Join(dir, "fleet.json")
	if code, _, stderr := runMain(t, deps, append([]string{"report", "merge", "-o", merged}, files...)...); code != 0 {
		t.Fatalf("report merge: exit %d; stderr %s", code, stderr)
	}
	if got := reportEnvironments(t, merged); len(got) != 3 {
		t.Errorf("merged report has %q", got)
	}

	report := filepath.Join(dir, "refused.json")
	code, _, stderr := runMain(t, deps, "scan", "--config", configPath, "--push-gateway", gw.URL, "--format", "json="+report, "--fail-on", "error")
	if code != 4 || !strings.Contains(stderr, "push metrics to "+gw.URL+": unexpected status code 500") {
		t.Errorf("refused push: exit %d, stderr %q; want 4 saying the push failed", code, stderr)
	}
	if got := reportEnvironments(t, report); len(got) != 3 {
		t.Errorf("refused push: report has %q, want the 3 environments", got)
	}
}

// TestProgress: the bar says what it counts out of the total, and is
// cleared when done; without
// a terminal, or in CI, there is none.
func TestProgress(t *testing.T) {
	t.Parallel()
	var b bytes.Buffer
	p := newProgress(&b)
	for done := range 4 {
		p(done, 3)
	}
	// Renders are throttled; the finished bar is cleared.
	if out := b.String(); !strings.Contains(out, "scanning tenants") || !strings.Contains(out, "/3)") || !strings.HasSuffix(out, "\r") {
		t.Errorf("progress bar drew %q", out)
	}
	tests := []struct {
		name string
		deps Deps
	}{
		{"pipe", Deps{Stderr: &b, LookupEnv: func(string) (string, bool) { return "", false }}},
		{"CI", Deps{Stderr: os.Stderr, LookupEnv: func(k string) (string, bool) { return "true", k == "CI" }}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if progressBar(tt.deps) != nil {
				t.Error("a progress bar where none belongs")
			}
		})
	}
}

// TestFleetScanManifestArgs runs the container arguments of the fleet-scan
// CronJob as written in deploy/ (the completion index 1, the paths and the
// Pushgateway pointed at the test's): they parse, scan shard 1/4 and push
// its group.
func TestFleetScanManifestArgs(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile(filepath.Join(repoRoot, "deploy", "kubernetes", "fleet-scan", "cronjob.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var cj struct {
		Spec struct {
			JobTemplate struct {
				Spec struct {
					Template struct {
						Spec struct {
							Containers []struct{ Args []string }
						}
					}
				}
			} `yaml:"jobTemplate"`
		}
	}
	if err := yaml.Unmarshal(b, &cj); err != nil {
		t.Fatal(err)
	}
	containers := cj.Spec.JobTemplate.Spec.Template.Spec.Containers
	if len(containers) != 1 {
		t.Fatalf("%d containers in the CronJob", len(containers))
	}
	_, configPath, deps := fleetConfig(t, nil, "ready", "enabled", "broken-consent")
	var (
		mu    sync.Mutex
		paths []string
	)
	gw := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		paths = append(paths, r.Method+" "+r.URL.Path)
	}))
	t.Cleanup(gw.Close)
	report := filepath.Join(t.TempDir(), "report-1.json")
	var args []string
	for _, a := range containers[0].Args {
		a = strings.ReplaceAll(a, "$(JOB_COMPLETION_INDEX)", "1")
		name, _, _ := strings.Cut(a, "=")
		switch name {
		case "--config":
			a = "--config=" + configPath
		case "--push-gateway":
			a = "--push-gateway=" + gw.URL
		case "--format":
			if a != "--format=json=/reports/report-1.json" {
				t.Errorf("--format is %s", a)
			}
			a = "--format=json=" + report
		}
		args = append(args, a)
	}
	code, _, stderr := runMain(t, deps, args...)
	if code != 0 {
		t.Fatalf("teamslink %s: exit %d; stderr %s", strings.Join(args, " "), code, stderr)
	}
	got := reportEnvironments(t, report)
	if len(got) == 0 {
		t.Error("shard 1/4 reported nothing; Contoso's tenant id hashes to it")
	}
	for _, e := range got {
		if !(scan.Shard{K: 1, N: 4}).Has(strings.Fields(e)[0]) {
			t.Errorf("shard 1/4 reported %s", e)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if want := []string{"PUT /metrics/job/teamslink/shard/1"}; !slices.Equal(paths, want) {
		t.Errorf("pushes %q, want %q", paths, want)
	}
}
