package cli

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	"sigs.k8s.io/yaml"

	"github.com/teamslink/teamslink/internal/emulator"
)

const (
	tailwindID  = "95afe1a7-160d-59af-a970-e6a628e0dce2"
	tailwindEnv = "tailwind" // the environment label of https://tailwind.crm.dynamics.com
)

// syncBuffer is a log two goroutines write and read.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// serveFleet starts the emulator with the enabled scenario (Tailwind, both
// experiences on) and writes a tenants.yaml that scans it. It returns the
// emulator, its scenario (change it, then ResetState, to change what it
// serves), the config path and deps on the wall clock.
func serveFleet(t *testing.T) (*emulator.Server, *emulator.Scenario, string, Deps) {
	t.Helper()
	var sc *emulator.Scenario
	srv, _, deps := faultyFleet(t, func(s *emulator.Scenario) { sc = s }, "enabled")
	deps.Now = time.Now
	path := filepath.Join(t.TempDir(), "tenants.yaml")
	writeTailwindConfig(t, path, srv)
	return srv, sc, path, deps
}

func writeTailwindConfig(t *testing.T, path string, srv *emulator.Server) {
	t.Helper()
	doc := `tenants:
  - id: ` + tailwindID + `
    name: Tailwind Traders
    auth: {method: client-secret, clientId: 5d2f8a61-3c4e-4b7a-9e1d-8f6a2c4b7e93, secretEnv: ` + demoSecretEnv + `}
    endpoints: {connectTo: "` + srv.Addr() + `", caFile: "` + srv.CAFile() + `"}
    sharePointAdminUrl: https://tailwind-admin.sharepoint.com
    environments:
      - url: https://tailwind.crm.dynamics.com
        experience: enhanced
        tables: [account, contact, new_project]
`
	if err := os.WriteFile(path, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
}

// freeAddr returns a loopback address with a port free a moment ago.
func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	return addr
}

// startServe runs "teamslink serve args..." on a free loopback port until
// the test ends (or stop is called) and returns its base URL and stop,
// which returns the exit code.
func startServe(t *testing.T, deps Deps, args ...string) (string, func() int) {
	t.Helper()
	addr := freeAddr(t)
	log := &syncBuffer{}
	deps.Stdout, deps.Stderr = log, log
	ctx, cancel := context.WithCancel(context.Background())
	code := make(chan int, 1)
	go func() {
		code <- Run(ctx, append([]string{"serve", "--web.listen-address", addr}, args...), deps)
	}()
	base := "http://" + addr
	var once sync.Once
	exit := -1
	stop := func() int {
		once.Do(func() {
			cancel()
			select {
			case exit = <-code:
			case <-time.After(30 * time.Second):
				t.Errorf("serve did not stop; its log:\n%s", log.String())
			}
		})
		return exit
	}
	t.Cleanup(func() { stop() })
	waitFor(t, "serve to listen", func() bool {
		select {
		case c := <-code:
			code <- c
			t.Fatalf("serve exited with %d:\n%s", c, log.String())
		default:
		}
		resp, err := http.Get(base + "/-/healthy")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
	return base, stop
}

// waitFor waits up to 60 s for cond.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// fetch gets base+path and returns the status and body.
func fetch(t *testing.T, method, url string) (int, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
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

// metricLine reports whether the exposition has the line.
func metricLine(body, line string) bool {
	return slices.Contains(strings.Split(body, "\n"), line)
}

func enhancedReadiness(state string) string {
	return `teamslink_environment_readiness{environment="` + tailwindEnv + `",experience="enhanced",state="` + state + `",tenant="` + tailwindID + `"} 1`
}

// TestServeAgainstTheEmulator is the end-to-end check: serve scans
// the emulator on a short interval and exposes the verdicts; the consent is
// revoked and the next scheduled scan turns Enhanced BROKEN in /metrics and
// /probe; a reload of a broken tenants.yaml keeps the old one with the
// reload metric at 0; and serve restarted on the same report directory
// answers /probe from the previous run before scanning.
func TestServeAgainstTheEmulator(t *testing.T) {
	t.Parallel()
	srv, sc, config, deps := serveFleet(t)
	dir := t.TempDir()
	base, stop := startServe(t, deps, "--config", config, "--interval", "300ms", "--jitter", "0",
		"--report-dir", dir, "--retain", "5", "--concurrency", "2", "--per-tenant", "2")
	probe := base + "/probe?tenant=" + tailwindID + "&environment=" + tailwindEnv

	waitFor(t, "Enhanced ENABLED in /metrics", func() bool {
		_, body := fetch(t, http.MethodGet, base+"/metrics")
		return metricLine(body, enhancedReadiness("ENABLED"))
	})
	// The scans' requests are counted; each scan once.
	_, body := fetch(t, http.MethodGet, base+"/metrics")
	if !strings.Contains(body, `teamslink_api_requests_total{api="dataverse",code="200"}`) || !strings.Contains(body, `teamslink_api_requests_total{api="login",code="200"}`) {
		t.Errorf("/metrics does not count the scans' requests")
	}
	if _, body := fetch(t, http.MethodGet, probe); !metricLine(body, "teamslink_probe_success 1") {
		t.Errorf("/probe of an enabled environment:\n%s", body)
	}
	if code, _ := fetch(t, http.MethodGet, base+"/-/ready"); code != http.StatusOK {
		t.Errorf("/-/ready: %d", code)
	}

	// The admin consent is revoked (as the broken-consent scenario has it).
	sc.OAuth2PermissionGrants = nil
	if err := srv.ResetState(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "Enhanced BROKEN in /metrics", func() bool {
		_, body := fetch(t, http.MethodGet, base+"/metrics")
		return metricLine(body, enhancedReadiness("BROKEN")) && !metricLine(body, enhancedReadiness("ENABLED"))
	})
	_, body = fetch(t, http.MethodGet, probe)
	for _, want := range []string{"teamslink_probe_success 0", `teamslink_probe_readiness{experience="enhanced",state="BROKEN"} 1`} {
		if !metricLine(body, want) {
			t.Errorf("/probe after the consent was revoked lacks %q:\n%s", want, body)
		}
	}
	if code, page := fetch(t, http.MethodGet, base+"/"); code != http.StatusOK || !strings.Contains(page, "BROKEN") || !strings.Contains(page, `id="serve"`) {
		t.Errorf("/: %d, without the BROKEN timeline", code)
	}
	if code, rep := fetch(t, http.MethodGet, base+"/api/v1/report?tenant="+tailwindID); code != http.StatusOK || !strings.Contains(rep, `"readiness": "BROKEN"`) {
		t.Errorf("/api/v1/report: %d\n%.400s", code, rep)
	}

	// A broken tenants.yaml is refused; the old one keeps being served.
	if err := os.WriteFile(config, []byte("tenants:\n  - id: [not, an, id]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, msg := fetch(t, http.MethodPost, base+"/-/reload"); code != http.StatusInternalServerError {
		t.Errorf("POST /-/reload of a broken config: %d %s", code, msg)
	}
	_, body = fetch(t, http.MethodGet, base+"/metrics")
	if !metricLine(body, "teamslink_config_last_reload_successful 0") {
		t.Errorf("the reload metric does not read 0")
	}
	if !metricLine(body, enhancedReadiness("BROKEN")) {
		t.Errorf("a refused reload dropped the tenant's series")
	}
	if _, body := fetch(t, http.MethodGet, probe); !metricLine(body, `teamslink_probe_readiness{experience="enhanced",state="BROKEN"} 1`) {
		t.Errorf("/probe after a refused reload:\n%s", body)
	}
	// SIGHUP reloads as POST /-/reload does: the good file again.
	writeTailwindConfig(t, config, srv)
	if err := syscall.Kill(os.Getpid(), syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the reload metric back at 1 after SIGHUP", func() bool {
		_, body := fetch(t, http.MethodGet, base+"/metrics")
		return metricLine(body, "teamslink_config_last_reload_successful 1")
	})
	if code := stop(); code != 0 {
		t.Errorf("serve stopped with exit %d", code)
	}

	// Restarted on the same report directory with the emulator gone: the
	// previous run answers before any scan (the next is an hour away).
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	base, _ = startServe(t, deps, "--config", config, "--interval", "1h", "--jitter", "0", "--report-dir", dir)
	probe = base + "/probe?tenant=" + tailwindID + "&environment=" + tailwindEnv
	waitFor(t, "ready", func() bool {
		code, _ := fetch(t, http.MethodGet, base+"/-/ready")
		return code == http.StatusOK
	})
	_, body = fetch(t, http.MethodGet, probe)
	if !metricLine(body, `teamslink_probe_readiness{experience="enhanced",state="BROKEN"} 1`) {
		t.Errorf("/probe after the restart does not answer from the previous run:\n%s", body)
	}
	_, body = fetch(t, http.MethodGet, base+"/metrics")
	if !metricLine(body, enhancedReadiness("BROKEN")) || !metricLine(body, `teamslink_scans_total{result="success"} 0`) {
		t.Errorf("/metrics after the restart: not the previous run's, or a scan ran")
	}
}

func TestServeUsageErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no config", []string{"serve"}, "--config"},
		{"bad cron", []string{"serve", "--config", "x.yaml", "--schedule", "every hour"}, "--schedule"},
		{"interval and cron", []string{"serve", "--config", "x.yaml", "--schedule", "@hourly", "--interval", "2h"}, "not both"},
		{"zero interval", []string{"serve", "--config", "x.yaml", "--interval", "0s"}, "--interval"},
		{"jitter of one", []string{"serve", "--config", "x.yaml", "--jitter", "1"}, "--jitter"},
		{"no concurrency", []string{"serve", "--config", "x.yaml", "--concurrency", "0"}, "--concurrency"},
		{"too many per tenant", []string{"serve", "--config", "x.yaml", "--per-tenant", "60"}, "--per-tenant"},
		{"bad profile", []string{"serve", "--config", "x.yaml", "--profile", "strict"}, "--profile"},
		{"missing web config", []string{"serve", "--config", "x.yaml", "--web.config.file", filepath.Join("testdata", "no-such-web.yml")}, "web config"},
		{"missing config", []string{"serve", "--config", filepath.Join("testdata", "does-not-exist.yaml"), "--web.listen-address", "127.0.0.1:0"}, "does-not-exist.yaml"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var out bytes.Buffer
			deps := Deps{Stdout: &out, Stderr: &out, Now: time.Now, Version: "test"}
			if code := Run(t.Context(), tt.args, deps); code != 2 {
				t.Fatalf("exit %d, want 2:\n%s", code, out.String())
			}
			if !strings.Contains(out.String(), tt.want) {
				t.Errorf("the message does not say %q:\n%s", tt.want, out.String())
			}
		})
	}
}

// TestServeTakesTheDeploymentArgs parses the serve Deployment's arguments
// with the serve command, so that the manifest works as written.
func TestServeTakesTheDeploymentArgs(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile(filepath.Join(repoRoot, "deploy", "kubernetes", "serve", "deployment.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var d appsv1.Deployment
	if err := yaml.Unmarshal(b, &d); err != nil {
		t.Fatal(err)
	}
	args := d.Spec.Template.Spec.Containers[0].Args
	if len(args) == 0 || args[0] != "serve" {
		t.Fatalf("the container does not run serve: %v", args)
	}
	cmd := newServeCommand(Deps{Now: time.Now})
	if err := cmd.ParseFlags(args[1:]); err != nil {
		t.Fatalf("serve refuses the Deployment's arguments %v: %v", args, err)
	}
	for _, name := range []string{"config", "web.listen-address", "interval", "jitter", "concurrency", "per-tenant", "report-dir", "retain"} {
		if !cmd.Flags().Changed(name) {
			t.Errorf("the Deployment does not set --%s", name)
		}
	}
}
