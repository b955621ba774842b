package cli

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/teamslink/teamslink/internal/config"
	"github.com/teamslink/teamslink/internal/emulator"
	"github.com/teamslink/teamslink/internal/engine"
	"github.com/teamslink/teamslink/internal/finding"
	"github.com/teamslink/teamslink/internal/snapshot"
)

// TestRequestBudget reads the emulator's request log after a fleet scan: at
// most 2 Dataverse requests per environment and 3 Graph/SharePoint requests
// per tenant, token requests aside, also where the SharePoint admin site is
// found through Graph: GET sites/root travels inside the first Graph $batch,
// never as a request of its own.
func TestRequestBudget(t *testing.T) {
	t.Parallel()
	srv, cfg, deps := demoFleet(t)
	envHosts := map[string]bool{}
	for _, tn := range cfg.Tenants {
		for _, e := range tn.Environments {
			envHosts[strings.TrimPrefix(e.URL, "https://")] = true
		}
	}
	if _, err := collectSnapshot(t.Context(), cfg, deps, nil); err != nil {
		t.Fatal(err)
	}
	perEnv := map[string]int{}
	perTenant := map[string]int{}
	rootSites := map[string]int{} // tenant → sites/root inside a $batch
	for _, r := range srv.Requests() {
		switch {
		case r.TokenRequest, strings.HasPrefix(r.Host, "login."): // token acquisition
		case envHosts[r.Host]:
			perEnv[r.Host]++
		default:
			perTenant[r.Tenant]++
			if strings.Contains(r.Path, "/sites/root") {
				t.Errorf("tenant %s: %s %s is a request of its own, want it inside the first Graph $batch", r.Tenant, r.Method, r.Path)
			}
			for _, c := range r.Children {
				if strings.Contains(c.Path, "/sites/root") {
					rootSites[r.Tenant]++
				}
			}
		}
	}
	if len(perEnv) != len(envHosts) {
		t.Errorf("requests reached %d environments, want %d", len(perEnv), len(envHosts))
	}
	for host, n := range perEnv {
		t.Logf("Dataverse %s: %d requests", host, n)
		if n > 2 {
			t.Errorf("%s: %d Dataverse requests, want at most 2", host, n)
		}
	}
	if len(perTenant) != len(cfg.Tenants) {
		t.Errorf("Graph/SharePoint requests for %d tenants, want %d: %v", len(perTenant), len(cfg.Tenants), perTenant)
	}
	discovering := 0
	for _, tn := range cfg.Tenants {
		t.Logf("Graph and SharePoint, tenant %s (%s): %d requests", tn.ID, tn.Name, perTenant[tn.ID])
		if n := perTenant[tn.ID]; n > 3 {
			t.Errorf("tenant %s: %d Graph/SharePoint requests, want at most 3", tn.ID, n)
		}
		want := 0
		if tn.SharePointAdminURL == "" {
			want, discovering = 1, discovering+1
		}
		if n := rootSites[tn.ID]; n != want {
			t.Errorf("tenant %s: sites/root %d times inside a $batch, want %d", tn.ID, n, want)
		}
	}
	if discovering == 0 {
		t.Error("no tenant of the demo fleet finds its admin site through Graph: the budget of those is untested")
	}
}

// scanReady collects the ready tenant through faults and evaluates it.
func scanReady(t *testing.T, tokenLifetime string, faults ...emulator.Fault) (*emulator.Server, *snapshot.Snapshot, *finding.Report, string) {
	t.Helper()
	srv, cfg, deps := faultyFleet(t, func(s *emulator.Scenario) {
		s.Faults = append(s.Faults, faults...)
		if tokenLifetime != "" {
			s.TokenLifetime = tokenLifetime
		}
	}, "ready")
	var logs bytes.Buffer
	deps.Stderr, deps.Stdout = &logs, &logs
	snap, rep := collectAndEvaluate(t, cfg, deps)
	return srv, snap, rep, logs.String()
}

func statusOf(rep *finding.Report, rule string) finding.Status {
	for _, f := range rep.Findings() {
		if f.Rule == rule && f.Table == "" {
			return f.Status
		}
	}
	return ""
}

// checkRefreshedOnce checks that the expire-token fault name fired once and
// that the scan asked for four tokens: Graph, SharePoint, the environment,
// and one more after the fault.
func checkRefreshedOnce(t *testing.T, srv *emulator.Server, name string) {
	t.Helper()
	if n := faultCount(srv, name); n != 1 {
		t.Errorf("expire-token fired %d times, want 1", n)
	}
	tokens := 0
	for _, r := range srv.Requests() {
		if r.TokenRequest {
			tokens++
		}
	}
	if tokens != 4 {
		t.Errorf("%d token requests, want 4", tokens)
	}
}

func faultCount(srv *emulator.Server, name string) int {
	n := 0
	var walk func([]emulator.LoggedRequest)
	walk = func(rs []emulator.LoggedRequest) {
		for _, r := range rs {
			if r.Fault == name {
				n++
			}
			walk(r.Children)
		}
	}
	walk(srv.Requests())
	return n
}

func TestFaults(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		fault emulator.Fault
		// tokenLifetime is the scenario's token lifetime, if not the default.
		tokenLifetime string
		// check inspects the outcome.
		check func(t *testing.T, srv *emulator.Server, snap *snapshot.Snapshot, rep *finding.Report)
	}{
		{
			name:  "429 with Retry-After is retried and succeeds",
			fault: emulator.Fault{Name: "throttle", Kind: "throttle", RetryAfter: "0.2", Times: 1, Match: emulator.FaultMatch{Host: "contoso-sales.crm.dynamics.com", Path: `\$batch`}},
			check: func(t *testing.T, srv *emulator.Server, _ *snapshot.Snapshot, rep *finding.Report) {
				if faultCount(srv, "throttle") != 1 {
					t.Errorf("the throttle fault fired %d times, want 1", faultCount(srv, "throttle"))
				}
				if v := rep.Environments[0].Verdict(finding.ExperienceEnhanced); v.Readiness != finding.Ready {
					t.Errorf("verdict %s after a retried 429, want READY", v.Readiness)
				}
			},
		},
		{
			name:  "inner Graph 429 is retried",
			fault: emulator.Fault{Name: "inner-throttle", Kind: "throttle", RetryAfter: "0.2", Times: 1, Match: emulator.FaultMatch{Host: "graph.microsoft.com", Path: "subscribedSkus", Scope: "inner"}},
			check: func(t *testing.T, srv *emulator.Server, snap *snapshot.Snapshot, rep *finding.Report) {
				if faultCount(srv, "inner-throttle") != 1 || !snap.Tenants[0].Licenses.OK() {
					t.Errorf("fault fired %d times; licenses %s %s", faultCount(srv, "inner-throttle"), snap.Tenants[0].Licenses.Status, snap.Tenants[0].Licenses.Error)
				}
			},
		},
		{
			name:  "persistent 503 on one section errors only that section",
			fault: emulator.Fault{Name: "down", Kind: "status", Status: 503, Match: emulator.FaultMatch{Path: "sharepointsites", Scope: "inner"}},
			check: func(t *testing.T, _ *emulator.Server, snap *snapshot.Snapshot, rep *finding.Report) {
				e := snap.Environments[0]
				if e.SharePointSites.Status != snapshot.StatusError || e.SharePointSites.HTTPStatus != 503 {
					t.Errorf("sharePointSites = %s %d, want error 503", e.SharePointSites.Status, e.SharePointSites.HTTPStatus)
				}
				if !e.Organization.OK() || !e.DocumentLocations.OK() || !e.Entities.OK() || !e.Caller.OK() {
					t.Error("a 503 on sharepointsites spoiled other sections")
				}
				// Every rule that needs the sites (directly or to derive
				// "SharePoint integration configured") could not be assessed.
				for _, rule := range []string{"TL-SP-001", "TL-SP-002", "TL-SP-003"} {
					if st := statusOf(rep, rule); st != finding.StatusError {
						t.Errorf("%s = %s, want error", rule, st)
					}
				}
				if got := rep.ExitCode(finding.FailOnFail); got != finding.ExitIncomplete {
					t.Errorf("exit code %d, want 3", got)
				}
			},
		},
		{
			// A token the service rejects as expired while the credential's
			// cache still holds it for minutes: the credential refreshes
			// tokens within five minutes of expiry, so a short lifetime
			// makes the one refresh after the 401 bring a new token.
			name:          "expired token mid-scan is refreshed once",
			tokenLifetime: "4m",
			fault:         emulator.Fault{Name: "expired", Kind: "expire-token", Times: 1, Match: emulator.FaultMatch{Host: "contoso-sales.crm.dynamics.com"}},
			check: func(t *testing.T, srv *emulator.Server, snap *snapshot.Snapshot, rep *finding.Report) {
				// One token each for Graph, SharePoint and the environment, and one refresh.
				checkRefreshedOnce(t, srv, "expired")
				if rep.HasError() {
					t.Errorf("sections failed after a token refresh: %+v", snap.Environments[0].Organization.Section)
				}
			},
		},
		{
			// Graph revokes a token the credential would keep for the hour
			// (continuous access evaluation): its claims challenge brings a
			// new token from the credential, not its cache.
			name:  "revoked Graph token answers a claims challenge",
			fault: emulator.Fault{Name: "revoked", Kind: "expire-token", Times: 1, Match: emulator.FaultMatch{Host: "graph.microsoft.com"}},
			check: func(t *testing.T, srv *emulator.Server, snap *snapshot.Snapshot, rep *finding.Report) {
				// One token each for Graph, SharePoint and the environment, and one for the challenge.
				checkRefreshedOnce(t, srv, "revoked")
				if tn := snap.Tenants[0]; !tn.Licenses.OK() || !tn.Consent.OK() || !tn.Caller.OK() {
					t.Errorf("Graph sections after the challenge: licenses %s %q, consent %s, caller %s", tn.Licenses.Status, tn.Licenses.Error, tn.Consent.Status, tn.Caller.Status)
				}
				if rep.HasError() {
					t.Error("a section failed after the claims challenge")
				}
			},
		},
		{
			name:  "malformed body is a section error, not a crash",
			fault: emulator.Fault{Name: "garbled", Kind: "malformed", Match: emulator.FaultMatch{Host: "contoso-admin.sharepoint.com"}},
			check: func(t *testing.T, _ *emulator.Server, snap *snapshot.Snapshot, rep *finding.Report) {
				if sp := snap.Tenants[0].SharePoint; sp.Status != snapshot.StatusError || sp.Error == "" {
					t.Errorf("sharePoint section = %s %q, want error", sp.Status, sp.Error)
				}
				if st := statusOf(rep, "TL-SP-005"); st != finding.StatusError {
					t.Errorf("TL-SP-005 = %s, want error", st)
				}
			},
		},
		{
			name:  "oversize body is a section error",
			fault: emulator.Fault{Name: "huge", Kind: "oversize", Size: "20MiB", Match: emulator.FaultMatch{Host: "graph.microsoft.com", Scope: "outer"}},
			check: func(t *testing.T, _ *emulator.Server, snap *snapshot.Snapshot, rep *finding.Report) {
				if l := snap.Tenants[0].Licenses; l.Status != snapshot.StatusError || !strings.Contains(l.Error, "too large") {
					t.Errorf("licenses = %s %q, want a too-large error", l.Status, l.Error)
				}
				if st := statusOf(rep, "TL-LIC-001"); st != finding.StatusError {
					t.Errorf("TL-LIC-001 = %s, want error", st)
				}
			},
		},
		{
			name:  "connection reset is a section error",
			fault: emulator.Fault{Name: "reset", Kind: "reset", Match: emulator.FaultMatch{Host: "contoso-admin.sharepoint.com"}},
			check: func(t *testing.T, _ *emulator.Server, snap *snapshot.Snapshot, _ *finding.Report) {
				if sp := snap.Tenants[0].SharePoint; sp.Status != snapshot.StatusError {
					t.Errorf("sharePoint section = %s, want error", sp.Status)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv, snap, rep, logs := scanReady(t, tt.tokenLifetime, tt.fault)
			tt.check(t, srv, snap, rep)
			if strings.Contains(logs, "emulator-demo-secret-not-real") {
				t.Error("the client secret appeared in the output")
			}
		})
	}
}

// TestSecretNeverPrinted runs a whole scan through the command, with every
// output on, and looks for the client secret everywhere it could leak: the
// command's output, the reports, the snapshot and the emulator's request log.
func TestSecretNeverPrinted(t *testing.T) {
	t.Parallel()
	srv, cfg, deps := faultyFleet(t, func(s *emulator.Scenario) {
		// Make sure failure paths run too: an error body, a throttle, a wrong secret elsewhere.
		s.Faults = append(s.Faults,
			emulator.Fault{Kind: "status", Status: 500, Match: emulator.FaultMatch{Path: "EntityDefinitions", Scope: "inner"}},
			emulator.Fault{Kind: "throttle", RetryAfter: "0.1", Times: 1, Match: emulator.FaultMatch{Host: "graph.microsoft.com"}},
		)
	}, "ready", "sections-errored")
	dir := t.TempDir()
	configPath := filepath.Join(dir, "tenants.yaml")
	doc, err := os.ReadFile(filepath.Join(repoRoot, "testdata", "demo", "tenants.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	text := strings.ReplaceAll(string(doc), "connectTo: 127.0.0.1:8443", "connectTo: "+srv.Addr())
	text = strings.ReplaceAll(text, "caFile: emulator-ca.pem", "caFile: "+srv.CAFile())
	if err := os.WriteFile(configPath, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	_ = cfg
	var out, errOut bytes.Buffer
	deps.Stdout, deps.Stderr = &out, &errOut
	// A tenant whose scenario is not loaded fails to get a token: its error text is checked too.
	code := Main([]string{"scan", "--config", configPath, "--format", "table,json=" + filepath.Join(dir, "r.json"), "--snapshot-out", filepath.Join(dir, "s.json")}, deps)
	if code != 3 {
		t.Errorf("exit code %d, want 3 (sections could not be read)", code)
	}
	logJSON, err := json.Marshal(srv.Requests())
	if err != nil {
		t.Fatal(err)
	}
	places := map[string]string{"stdout": out.String(), "stderr": errOut.String(), "request log": string(logJSON)}
	for _, f := range []string{"r.json", "s.json"} {
		b, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		places[f] = string(b)
	}
	secret, _ := deps.LookupEnv(demoSecretEnv)
	for where, text := range places {
		if strings.Contains(text, secret) {
			t.Errorf("the client secret appears in %s", where)
		}
	}
	if !strings.Contains(places["s.json"], "AADSTS") && !strings.Contains(places["s.json"], "invalid_client") {
		t.Error("expected the tenants without a scenario to fail authentication (the failure path was not exercised)")
	}
}

// TestPersistentOutageLeavesOtherEnvironmentsAlone scans the tenant whose
// Sales environment answers 503 on document locations (and whose Graph
// denies service principals): exit code 3, those sections error, and the
// Claims environment of the same tenant is read in full.
func TestPersistentOutageLeavesOtherEnvironmentsAlone(t *testing.T) {
	t.Parallel()
	_, cfg, deps := demoFleet(t, "sections-errored")
	snap, rep := collectAndEvaluate(t, cfg, deps)
	if got := rep.ExitCode(finding.FailOnFail); got != finding.ExitIncomplete {
		t.Errorf("exit code %d, want 3", got)
	}
	for _, e := range snap.Environments {
		sections := map[string]snapshot.Section{
			"organization": e.Organization.Section, "sharePointSites": e.SharePointSites.Section,
			"documentLocations": e.DocumentLocations.Section, "entities": e.Entities.Section, "caller": e.Caller.Section,
		}
		for name, s := range sections {
			wantError := e.URL == "https://humongous.crm.dynamics.com" && name == "documentLocations"
			if (s.Status == snapshot.StatusError) != wantError {
				t.Errorf("%s %s: status %s (%s)", e.URL, name, s.Status, s.Error)
			}
		}
	}
	for _, env := range rep.Environments {
		for _, f := range env.Findings {
			if f.Rule == "TL-SP-003" {
				want := finding.StatusPass
				if env.URL == "https://humongous.crm.dynamics.com" {
					want = finding.StatusError
				}
				if f.Status != want {
					t.Errorf("%s TL-SP-003 = %s, want %s", env.URL, f.Status, want)
				}
			}
		}
	}
}

// collectAndEvaluate collects cfg through the emulator and evaluates it with
// the built-in policies.
func collectAndEvaluate(t *testing.T, cfg *config.Config, deps Deps) (*snapshot.Snapshot, *finding.Report) {
	t.Helper()
	snap, err := collectSnapshot(t.Context(), cfg, deps, nil)
	if err != nil {
		t.Fatal(err)
	}
	eng, err := engine.New(t.Context(), engine.Config{Timeout: time.Minute}) // a busy machine under -race
	if err != nil {
		t.Fatal(err)
	}
	rep, err := eng.Evaluate(t.Context(), snap, engine.Options{Now: deps.Now})
	if err != nil {
		t.Fatal(err)
	}
	return snap, rep
}
