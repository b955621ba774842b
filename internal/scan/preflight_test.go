package scan_test

import (
	"strings"
	"testing"

	"github.com/teamslink/teamslink/internal/emulator"
	"github.com/teamslink/teamslink/internal/scan"
)

// TestPreflight signs in through the emulator as a person holding every
// permission, an application missing Directory.Read.All, and a person who
// is not System Administrator in the environment.
func TestPreflight(t *testing.T) {
	t.Parallel()
	const appMissing = "not-global-admin"
	tenantOf := map[string]string{}
	_, cfg, opts := fleet(t, func(sc *emulator.Scenario) {
		tenantOf[sc.Name] = sc.Tenant.ID
		if sc.Name == appMissing {
			sc.Caller.Type = "app"
			granted := []string{"Organization.Read.All", "Application.Read.All", "RoleManagement.Read.Directory"}
			sc.Clients[0].GraphPermissions = &granted
		}
	}, nil, "ready", appMissing, "not-sysadmin")
	res, err := scan.Preflight(t.Context(), cfg, opts)
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 3 {
		t.Fatalf("%d tenants, want 3", len(res))
	}
	by := map[string]scan.PreflightTenant{}
	for _, p := range res {
		by[p.ID] = p
	}
	cases := []struct {
		name, tenant, caller string
		missing              []string // the Need of each missing check
	}{
		{"every permission held", tenantOf["ready"], "person", nil},
		{"an application missing one permission", tenantOf[appMissing], "application", []string{"Directory.Read.All"}},
		{"not System Administrator", tenantOf["not-sysadmin"], "person", []string{"the System Administrator role"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p, ok := by[tc.tenant]
			if !ok {
				t.Fatalf("no result for tenant %s", tc.tenant)
			}
			if p.SignInError != "" || p.Caller != tc.caller {
				t.Fatalf("sign-in %q, caller %q; want caller %q", p.SignInError, p.Caller, tc.caller)
			}
			var missing []string
			checks := append([]scan.Check(nil), p.Checks...)
			for _, e := range p.Environments {
				checks = append(checks, e.Checks...)
			}
			held := 0
			for _, c := range checks {
				switch c.Status {
				case scan.CheckMissing:
					missing = append(missing, c.Need)
					if c.Fix == "" {
						t.Errorf("missing %s has no fix", c.Need)
					}
				case scan.CheckUnknown:
					t.Errorf("check %s unknown: %s", c.Need, c.Evidence)
				case scan.CheckHeld:
					held++
				}
			}
			if got, want := strings.Join(missing, "; "), strings.Join(tc.missing, "; "); got != want {
				t.Errorf("missing %q, want %q", got, want)
			}
			if m, u := p.Counts(); m != len(tc.missing) || u != 0 {
				t.Errorf("counts %d missing, %d unknown", m, u)
			}
			if held < 3 || len(p.Environments) == 0 {
				t.Errorf("%d checks held, %d environments: %+v", held, len(p.Environments), p)
			}
		})
	}
}
