package cli

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestScanSignInFails scans, through the emulator, a tenant whose client
// secret is wrong. The table report says first, once, that the sign-in
// failed, with the credential, why, and the fix; every finding is an error
// that only points to it; the JSON report holds it as the tenant's sign-in
// error; the run exits 3. Both outputs are golden files.
func TestScanSignInFails(t *testing.T) {
	t.Parallel()
	deps, dir, config := wrongSecretFleet(t)
	var out, errOut bytes.Buffer
	deps.Stdout, deps.Stderr = &out, &errOut
	jsonPath := filepath.Join(dir, "report.json")
	code := Main([]string{"scan", "--config", config, "--format", "table,json=" + jsonPath}, deps)
	if code != 3 {
		t.Errorf("exit code %d, want 3 (nothing could be assessed); stderr %s", code, errOut.String())
	}
	table := out.String()
	if !strings.HasPrefix(table, "Sign-in failed: nothing of this tenant could be read\n") {
		t.Errorf("the table does not start with the sign-in error:\n%s", table)
	}
	if n := strings.Count(table, "AADSTS7000215"); n != 1 {
		t.Errorf("the credential's error appears %d times in the table, want once", n)
	}
	for _, want := range []string{"client-secret credential", "auth.secretEnv", "docs/configuration.md#authentication-methods"} {
		if !strings.Contains(table, want) {
			t.Errorf("the sign-in error lacks %q", want)
		}
	}
	goldenFile(t, filepath.Join("testdata", "scan-signin.table.golden"), out.Bytes())

	b, err := os.ReadFile(jsonPath)
	if err != nil {
		t.Fatal(err)
	}
	var rep struct {
		SignInErrors []struct{ Tenant, Method, Error, Fix, Docs string } `json:"signInErrors"`
		Environments []struct {
			Findings []struct {
				Rule, Status, Message string
				Access                *struct{ SignIn bool }
			}
		}
	}
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatal(err)
	}
	if len(rep.SignInErrors) != 1 || rep.SignInErrors[0].Method != "client-secret" || !strings.Contains(rep.SignInErrors[0].Error, "AADSTS7000215") {
		t.Errorf("signInErrors %+v, want the tenant's one", rep.SignInErrors)
	}
	for _, e := range rep.Environments {
		for _, f := range e.Findings {
			if f.Status == "skip" || f.Status == "manual" {
				continue // decided without reading anything (Enhanced-only rules under Basic, checks by hand, ...)
			}
			if f.Status != "error" || f.Access == nil || !f.Access.SignIn || strings.Contains(f.Message, "AADSTS") {
				t.Errorf("%s = %s %q, want an error that only points to the sign-in error", f.Rule, f.Status, f.Message)
			}
		}
	}
	// The config lives in a temporary directory; the golden names it tenants.yaml.
	b = bytes.ReplaceAll(b, []byte(strconv.Quote(config)), []byte(`"tenants.yaml"`))
	goldenFile(t, filepath.Join("testdata", "scan-signin.json.golden"), b)

	// collect says it once on stderr too, instead of once per section.
	out.Reset()
	errOut.Reset()
	if code := Main([]string{"collect", "--config", config, "-o", filepath.Join(dir, "snapshot.json")}, deps); code != 0 {
		t.Errorf("collect exit code %d, want 0 (the snapshot records the failure); stderr %s", code, errOut.String())
	}
	if got := errOut.String(); strings.Count(got, "AADSTS7000215") != 1 || !strings.Contains(got, "sign-in failed (client-secret credential)") || !strings.Contains(got, "9 section(s) could not be read") {
		t.Errorf("collect's stderr does not say the sign-in failure once:\n%s", got)
	}
}

// wrongSecretFleet is one ready tenant of the emulator whose client secret
// is wrong, in a tenants.yaml of a temporary dir: deps, dir and the file.
func wrongSecretFleet(t *testing.T) (Deps, string, string) {
	t.Helper()
	srv, _, deps := demoFleet(t, "ready")
	deps.LookupEnv = func(name string) (string, bool) { return "not-the-secret", name == demoSecretEnv }
	dir := t.TempDir()
	config := filepath.Join(dir, "tenants.yaml")
	doc := `tenants:
  - id: 3f2b8c1e-6d4a-4b7e-9a15-2c8d0e7f4a61
    name: "Contoso"
    auth: {method: client-secret, clientId: 5d2f8a61-3c4e-4b7a-9e1d-8f6a2c4b7e93, secretEnv: ` + demoSecretEnv + `}
    endpoints: {connectTo: "` + srv.Addr() + `", caFile: "` + srv.CAFile() + `"}
    sharePointAdminUrl: https://contoso-admin.sharepoint.com
    environments:
      - url: https://contoso-sales.crm.dynamics.com
        name: "Contoso Sales"
`
	if err := os.WriteFile(config, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	return deps, dir, config
}
