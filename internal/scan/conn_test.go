package scan_test

import (
	"maps"
	"slices"
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
