package scan_test

import (
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/teamslink/teamslink/internal/scan"
)

// TestConnectionsReused scans a fleet through the emulator's real sockets
// and counts full TLS handshakes by host: at most one per host per tenant
// that used it, and the hosts every tenant shares (login, Graph) far fewer
// than once per tenant, since the tenants share one transport.
func TestConnectionsReused(t *testing.T) {
	t.Parallel()
	names := []string{"ready", "enabled", "no-teams-licence", "not-sysadmin", "spo-limited"}
	srv, cfg, opts := fleet(t, nil, nil, names...)
	srv.ResetLog()
	if _, err := scan.Collect(t.Context(), cfg, opts); err != nil {
		t.Fatal(err)
	}
	tenantsOf := map[string]map[string]bool{} // host → tenants that sent to it
	for _, r := range srv.Requests() {
		if tenantsOf[r.Host] == nil {
			tenantsOf[r.Host] = map[string]bool{}
		}
		if r.Tenant != "" {
			tenantsOf[r.Host][r.Tenant] = true
		}
	}
	hs := srv.Handshakes()
	t.Logf("handshakes: %v", hs)
	shared := 0
	for _, host := range slices.Sorted(maps.Keys(hs)) {
		n, users := hs[host], len(tenantsOf[host])
		if users == 0 {
			t.Errorf("%d handshakes for %s, which no request used", n, host)
			continue
		}
		if n > users {
			t.Errorf("%d handshakes for %s, used by %d tenants: want at most one per tenant", n, host, users)
		}
		if users == len(names) {
			shared++
			if n > 1 {
				t.Errorf("%d handshakes for %s, shared by every tenant: want one", n, host)
			}
		}
	}
	if shared < 2 {
		t.Errorf("%d hosts shared by every tenant, want at least login and Graph", shared)
	}
}

// TestFleetRequestsAndHandshakes scans a fleet of generated tenants, none
// naming its SharePoint admin site, and holds it to its budget from the
// emulator's log: at most one TLS handshake per host per tenant that uses
// it (one for the whole fleet to login and Graph, which the tenants share),
// 3 Graph and SharePoint requests per tenant (sites/root inside the first
// $batch), 2 Dataverse requests per environment and one token per scope.
func TestFleetRequestsAndHandshakes(t *testing.T) {
	t.Parallel()
	const tenants, envs = 12, 3
	srv, cfg, opts := fleetConfig(t, syntheticFleet(t, tenants, envs, ""))
	for i := range cfg.Tenants {
		cfg.Tenants[i].SharePointAdminURL = "" // found through Graph
	}
	srv.ResetLog()
	snap, err := scan.Collect(t.Context(), cfg, opts)
	if err != nil {
		t.Fatal(err)
	}
	for _, tn := range snap.Tenants {
		if !tn.SharePoint.OK() {
			t.Fatalf("tenant %s: sharePoint %s %q, want it read from the admin site found through Graph", tn.ID, tn.SharePoint.Status, tn.SharePoint.Error)
		}
	}
	users := map[string]map[string]bool{} // host → tenants that sent to it
	graphSP, tokens := map[string]int{}, map[string]int{}
	dataverse := map[string]int{} // environment host → requests
	for _, r := range srv.Requests() {
		if users[r.Host] == nil {
			users[r.Host] = map[string]bool{}
		}
		users[r.Host][r.Tenant] = true
		switch {
		case r.TokenRequest:
			tokens[r.Tenant]++
		case strings.HasPrefix(r.Host, "login."):
		case strings.HasSuffix(r.Host, ".dynamics.com"):
			dataverse[r.Host]++
		default:
			graphSP[r.Tenant]++
		}
	}
	for host, n := range srv.Handshakes() {
		switch u := len(users[host]); {
		case host == "login.microsoftonline.com" || host == "graph.microsoft.com":
			if n != 1 {
				t.Errorf("%d handshakes with %s, shared by the fleet: want 1", n, host)
			}
		case u == 0:
			t.Errorf("%d handshakes with %s, which no request used", n, host)
		case n > u:
			t.Errorf("%d handshakes with %s, used by %d tenants: want at most one per tenant", n, host, u)
		}
	}
	if len(dataverse) != tenants*envs {
		t.Errorf("requests reached %d environments, want %d", len(dataverse), tenants*envs)
	}
	for host, n := range dataverse {
		if n != 2 {
			t.Errorf("%s: %d Dataverse requests, want 2 (the $batch and its follow-up)", host, n)
		}
	}
	for _, tn := range cfg.Tenants {
		if n := graphSP[tn.ID]; n != 3 {
			t.Errorf("tenant %s: %d Graph and SharePoint requests, want 3", tn.ID, n)
		}
		if n := tokens[tn.ID]; n != 2+envs {
			t.Errorf("tenant %s: %d token requests, want %d (Graph, SharePoint, each environment)", tn.ID, n, 2+envs)
		}
	}
}
