package scan_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/teamslink/teamslink/internal/config"
	"github.com/teamslink/teamslink/internal/emulator"
	"github.com/teamslink/teamslink/internal/scan"
)

// benchLatency is injected on every request the emulator serves.
const benchLatency = "20ms"

// syntheticFleet makes n copies of the sample scenario "ready", each its
// own tenant with its own hosts and envs environments, every request
// delayed by latency ("" for none); requests inside a $batch travel in
// their batch's round trip and are not delayed again.
func syntheticFleet(tb testing.TB, n, envs int, latency string) []*emulator.Scenario {
	tb.Helper()
	data, err := os.ReadFile(filepath.Join("..", "..", "testdata", "scenarios", "ready.yaml"))
	if err != nil {
		tb.Fatal(err)
	}
	head, env, ok := strings.Cut(string(data), "\nenvironments:\n")
	if !ok {
		tb.Fatal("ready.yaml has no environments")
	}
	var b strings.Builder
	b.WriteString(head + "\nenvironments:\n")
	for k := range envs {
		b.WriteString(strings.ReplaceAll(env, "-sales.crm", fmt.Sprintf("-sales%d.crm", k)))
	}
	text := b.String()
	out := make([]*emulator.Scenario, n)
	for i := range n {
		t := strings.ReplaceAll(text, "contoso", fmt.Sprintf("fleet%04d", i))
		t = strings.ReplaceAll(t, "2c8d0e7f4a61", fmt.Sprintf("%012x", i))
		sc, err := emulator.ParseScenario([]byte(t), fmt.Sprintf("fleet%04d", i))
		if err != nil {
			tb.Fatal(err)
		}
		if latency != "" {
			sc.Faults = append(sc.Faults, emulator.Fault{Name: "latency", Kind: emulator.FaultLatency, Delay: latency, Match: emulator.FaultMatch{Scope: "outer"}})
		}
		out[i] = sc
	}
	return out
}

// fleetConfig starts the emulator with scenarios and returns a config of
// their tenants through it and options that answer their secret.
func fleetConfig(tb testing.TB, scenarios []*emulator.Scenario) (*emulator.Server, *config.Config, scan.Options) {
	tb.Helper()
	srv, err := emulator.New(emulator.Options{Scenarios: scenarios, CAFile: filepath.Join(tb.TempDir(), "ca.pem"), Clock: time.Now, MaxLog: 1 << 20})
	if err != nil {
		tb.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = srv.Close() })
	cfg := &config.Config{}
	for _, sc := range scenarios {
		tn := config.Tenant{
			ID: sc.Tenant.ID, Name: sc.Tenant.Name,
			Auth:               config.Auth{Method: config.MethodClientSecret, ClientID: sc.Clients[0].ClientID, SecretEnv: secretEnv},
			Endpoints:          config.Endpoints{ConnectTo: srv.Addr(), CAFile: srv.CAFile()},
			SharePointAdminURL: sc.SharePoint.AdminURL,
		}
		for _, e := range sc.Environments {
			tn.Environments = append(tn.Environments, config.Environment{URL: e.URL})
		}
		cfg.Tenants = append(cfg.Tenants, tn)
	}
	cfg.ApplyDefaults()
	if err := cfg.Validate(); err != nil {
		tb.Fatal(err)
	}
	secret := scenarios[0].Clients[0].Secret
	opts := scan.Options{
		Now:     time.Now,
		Version: "bench",
		LookupEnv: func(name string) (string, bool) {
			return secret, name == secretEnv
		},
	}
	return srv, cfg, opts
}

// BenchmarkFleet collects 100 tenants of 3 environments each through the
// emulator with 20 ms on every request, at the default concurrency, and
// reports per scan the TLS handshakes and requests (outer and inside
// $batch) per tenant. Wall time per scan is the ns/op.
func BenchmarkFleet(b *testing.B) {
	const tenants, envs = 100, 3
	srv, cfg, opts := fleetConfig(b, syntheticFleet(b, tenants, envs, benchLatency))
	var handshakes, requests, tokens, inner int
	for b.Loop() {
		srv.ResetLog()
		snap, err := scan.Collect(b.Context(), cfg, opts)
		if err != nil {
			b.Fatal(err)
		}
		if len(snap.Tenants) != tenants {
			b.Fatalf("%d tenants collected, want %d", len(snap.Tenants), tenants)
		}
		for h, n := range srv.Handshakes() {
			if n > 1 {
				b.Logf("%d handshakes with %s", n, h)
			}
			handshakes += n
		}
		for _, r := range srv.Requests() {
			requests++
			inner += len(r.Children)
			if r.TokenRequest {
				tokens++
			}
		}
	}
	per := float64(b.N * tenants)
	b.ReportMetric(float64(handshakes)/per, "handshakes/tenant")
	b.ReportMetric(float64(requests)/per, "requests/tenant")
	b.ReportMetric(float64(tokens)/per, "tokens/tenant")
	b.ReportMetric(float64(inner)/per, "batched/tenant")
}
