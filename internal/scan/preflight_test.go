package scan_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/teamslink/teamslink/internal/emulator"
	"github.com/teamslink/teamslink/internal/scan"
)

// sharePointNeed is the Need of the SharePoint admin role check.
const sharePointNeed = "SharePoint Administrator or Global Administrator"

// TestPreflight signs in through the emulator as people and applications
// holding and lacking what a scan needs: every permission, a Graph
// permission missing, System Administrator missing, and the directory role
// of the SharePoint admin request held by template id, held by name,
// missing for a person, missing for an application, and undecidable for
// an application whose role assignments carry no names.
func TestPreflight(t *testing.T) {
	t.Parallel()
	const appMissing = "not-global-admin"
	tenantOf := map[string]string{}
	spAdmin := emulator.DirectoryRole{RoleTemplateID: "f28a1f50-f6e7-4571-818b-6a12f2af6b6c", DisplayName: "SharePoint Administrator"}
	_, cfg, opts := fleet(t, func(sc *emulator.Scenario) {
		tenantOf[sc.Name] = sc.Tenant.ID
		switch sc.Name {
		case appMissing: // holds SharePoint Administrator, which an assignment does not name
			sc.Caller.Type = "app"
			granted := []string{"Organization.Read.All", "Application.Read.All", "RoleManagement.Read.Directory"}
			sc.Clients[0].GraphPermissions = &granted
		case "enabled": // a person holding no directory role
			sc.Caller.DirectoryRoles = nil
		case "spo-limited": // a person who is SharePoint Administrator only
			sc.Caller.DirectoryRoles = []emulator.DirectoryRole{spAdmin}
		case "sp-onedrive": // an application that is Global Administrator
			sc.Caller.Type = "app"
		case "consent-missing": // an application holding no directory role
			sc.Caller.Type, sc.Caller.DirectoryRoles = "app", nil
		}
	}, nil, "ready", appMissing, "not-sysadmin", "enabled", "spo-limited", "sp-onedrive", "consent-missing")
	res, err := scan.Preflight(t.Context(), cfg, opts)
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != len(cfg.Tenants) {
		t.Fatalf("%d tenants, want %d", len(res), len(cfg.Tenants))
	}
	for i, p := range res {
		if p.ID != cfg.Tenants[i].ID {
			t.Errorf("result %d is tenant %s, want %s: the order is the config's", i, p.ID, cfg.Tenants[i].ID)
		}
	}
	by := map[string]scan.PreflightTenant{}
	for _, p := range res {
		by[p.ID] = p
	}
	cases := []struct {
		name, tenant, caller string
		missing              []string // the Need of each missing check
		unknown              []string
		sharePoint           string // what the SharePoint check says it holds
	}{
		{name: "every permission held", tenant: tenantOf["ready"], caller: "person", sharePoint: "Global Administrator"},
		{name: "an application missing one permission", tenant: tenantOf[appMissing], caller: "application", missing: []string{"Directory.Read.All"}, unknown: []string{sharePointNeed}},
		{name: "not System Administrator", tenant: tenantOf["not-sysadmin"], caller: "person", missing: []string{"the System Administrator role"}, sharePoint: "Global Administrator"},
		{name: "a person without a directory role", tenant: tenantOf["enabled"], caller: "person", missing: []string{sharePointNeed}},
		{name: "a person who is SharePoint Administrator", tenant: tenantOf["spo-limited"], caller: "person", sharePoint: "SharePoint Administrator"},
		{name: "an application that is Global Administrator", tenant: tenantOf["sp-onedrive"], caller: "application", sharePoint: "Global Administrator"},
		{name: "an application without a directory role", tenant: tenantOf["consent-missing"], caller: "application", missing: []string{sharePointNeed}},
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
			var missing, unknown []string
			checks := append([]scan.Check(nil), p.Checks...)
			for _, e := range p.Environments {
				checks = append(checks, e.Checks...)
			}
			held, sharePoint := 0, 0
			for _, c := range checks {
				if c.Need == sharePointNeed {
					sharePoint++
					if c.Status == scan.CheckHeld && c.Held != tc.sharePoint {
						t.Errorf("SharePoint check held through %q, want %q", c.Held, tc.sharePoint)
					}
					if !strings.Contains(c.Evidence, "NOT CONFIRMED") {
						t.Errorf("SharePoint check evidence %q does not say the need is NOT CONFIRMED", c.Evidence)
					}
				}
				switch c.Status {
				case scan.CheckMissing:
					missing = append(missing, c.Need)
					if c.Fix == "" {
						t.Errorf("missing %s has no fix", c.Need)
					}
				case scan.CheckUnknown:
					unknown = append(unknown, c.Need)
				case scan.CheckHeld:
					held++
				}
			}
			if sharePoint != 1 {
				t.Errorf("%d SharePoint checks, want 1", sharePoint)
			}
			if got, want := strings.Join(missing, "; "), strings.Join(tc.missing, "; "); got != want {
				t.Errorf("missing %q, want %q", got, want)
			}
			if got, want := strings.Join(unknown, "; "), strings.Join(tc.unknown, "; "); got != want {
				t.Errorf("unknown %q, want %q", got, want)
			}
			if m, u := p.Counts(); m != len(tc.missing) || u != len(tc.unknown) {
				t.Errorf("counts %d missing, %d unknown", m, u)
			}
			if held < 3 || len(p.Environments) == 0 {
				t.Errorf("%d checks held, %d environments: %+v", held, len(p.Environments), p)
			}
		})
	}

	// One at a time gives the same answer, in the same order.
	serial := opts
	serial.Concurrency, serial.PerTenant = 1, 1
	again, err := scan.Preflight(t.Context(), cfg, serial)
	if err != nil {
		t.Fatal(err)
	}
	a, _ := json.Marshal(res)
	b, _ := json.Marshal(again)
	if string(a) != string(b) {
		t.Errorf("concurrency 1 gives another result:\n%s\nwant\n%s", b, a)
	}
}

// TestPreflightInterrupted: a cancelled preflight is an error, not a
// report of unknown checks.
func TestPreflightInterrupted(t *testing.T) {
	t.Parallel()
	_, cfg, opts := fleet(t, nil, nil, "ready", "enabled")
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := scan.Preflight(ctx, cfg, opts); err == nil || !errors.Is(err, context.Canceled) {
		t.Errorf("Preflight after cancel = %v, want context.Canceled", err)
	}
}
