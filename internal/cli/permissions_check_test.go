package cli

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/teamslink/teamslink/internal/emulator"
	"github.com/teamslink/teamslink/internal/finding"
)

// TestPermissionsCheck runs the preflight over the emulator: an identity
// holding everything, one missing a Graph permission, one holding no
// directory role (so not the SharePoint admin's), and one whose secret is
// wrong.
func TestPermissionsCheck(t *testing.T) {
	t.Parallel()
	srv, _, deps := faultyFleet(t, func(sc *emulator.Scenario) {
		if sc.Name == "ready" { // a person without Sites.Read.All, which finding the admin site needs
			granted := []string{"Organization.Read.All", "Application.Read.All", "User.Read", "Directory.Read.All"}
			sc.Clients[0].GraphPermissions = &granted
		}
		if sc.Name == "sp-onedrive" { // a person holding no directory role
			sc.Caller.DirectoryRoles = nil
		}
	}, "ready", "enabled", "sp-onedrive")
	tenant := func(id, name, secretEnv, spo, env string) string {
		s := `  - id: ` + id + `
    name: "` + name + `"
    auth: {method: client-secret, clientId: 5d2f8a61-3c4e-4b7a-9e1d-8f6a2c4b7e93, secretEnv: ` + secretEnv + `}
    endpoints: {connectTo: "` + srv.Addr() + `", caFile: "` + srv.CAFile() + `"}
`
		if spo != "" {
			s += "    sharePointAdminUrl: " + spo + "\n"
		}
		return s + "    environments:\n      - url: " + env + "\n"
	}
	contoso := tenant("3f2b8c1e-6d4a-4b7e-9a15-2c8d0e7f4a61", "Contoso", demoSecretEnv, "", "https://contoso-sales.crm.dynamics.com")
	tailwind := tenant("95afe1a7-160d-59af-a970-e6a628e0dce2", "Tailwind Traders", demoSecretEnv, "https://tailwind-admin.sharepoint.com", "https://tailwind.crm.dynamics.com")
	northwind := tenant("1f97b9dd-d200-5f59-8b91-fc18a823f77a", "Northwind", demoSecretEnv, "https://northwind-admin.sharepoint.com", "https://northwind.crm.dynamics.com")
	wrong := tenant("95afe1a7-160d-59af-a970-e6a628e0dce2", "Tailwind Traders", "WRONG_SECRET", "https://tailwind-admin.sharepoint.com", "https://tailwind.crm.dynamics.com")
	cases := []struct {
		name    string
		tenants string
		format  string
		args    []string
		code    int
		want    []string
		inOrder bool // want appears in this order
	}{
		{"held", tailwind, "table", nil, finding.ExitClean, []string{"Tenant Tailwind Traders", "signed in as person", "HELD", "Directory.Read.All", "System Administrator", "directory role", "SharePoint Administrator or Global Administrator"}, false},
		{"missing one", contoso + tailwind, "table", nil, finding.ExitFindings, []string{"MISSING", "Sites.Read.All", "Delegated permissions"}, false},
		{"missing one json", contoso, "json", nil, finding.ExitFindings, []string{`"status": "missing"`, `"need": "Sites.Read.All"`, `"graph.rootSite"`}, false},
		{"no SharePoint admin role", northwind, "json", nil, finding.ExitFindings, []string{`"need": "SharePoint Administrator or Global Administrator"`, `"status": "missing"`, `"sharepoint.tenant"`, "Roles \u0026 admins → SharePoint Administrator"}, false},
		{"one at a time", contoso + tailwind + northwind, "table", []string{"--concurrency", "1", "--per-tenant", "1"}, finding.ExitFindings, []string{"Tenant Contoso", "Tenant Tailwind Traders", "Tenant Northwind"}, true},
		{"a share of the fleet", contoso + tailwind + northwind, "table", []string{"--shard", "0/1"}, finding.ExitFindings, []string{"Tenant Northwind"}, false},
		{"sign-in fails", wrong, "table", nil, finding.ExitIncomplete, []string{"SIGN-IN FAILED"}, false},
		{"bad concurrency", tailwind, "table", []string{"--concurrency", "0"}, finding.ExitUsage, nil, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(t.TempDir(), "tenants.yaml")
			if err := os.WriteFile(path, []byte("tenants:\n"+tc.tenants), 0o600); err != nil {
				t.Fatal(err)
			}
			var out, errOut bytes.Buffer
			d := deps
			d.Stdout, d.Stderr = &out, &errOut
			d.LookupEnv = func(name string) (string, bool) {
				switch name {
				case demoSecretEnv:
					return deps.LookupEnv(name)
				case "WRONG_SECRET":
					return "not-the-secret", true
				}
				return "", false
			}
			defer func() { t.Logf("output:\n%s", out.String()) }()
			code := Main(append([]string{"permissions", "check", "--config", path, "--format", tc.format}, tc.args...), d)
			if code != tc.code {
				t.Errorf("exit %d, want %d; stderr: %s\n%s", code, tc.code, errOut.String(), out.String())
			}
			at := 0
			for _, w := range tc.want {
				i := strings.Index(out.String(), w)
				if i < 0 {
					t.Errorf("output lacks %q:\n%s", w, out.String())
				}
				if tc.inOrder && i < at {
					t.Errorf("%q comes before the one ahead of it in tenants.yaml", w)
				}
				at = i
			}
			if tc.format == "json" && !json.Valid(out.Bytes()) {
				t.Errorf("not JSON:\n%s", out.String())
			}
		})
	}
}
