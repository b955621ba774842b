package cli

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestScanChecksBeforeAnyRequest: the built-in policies compile while a
// scan's first requests go out, yet a waiver of an unknown rule and a broken
// --policy-dir still stop the scan before it sends anything; a waiver of a
// --policy-dir rule is known in time.
func TestScanChecksBeforeAnyRequest(t *testing.T) {
	t.Parallel()
	good := filepath.Join(repoRoot, "internal", "engine", "testdata", "good")
	broken := filepath.Join(repoRoot, "internal", "engine", "testdata", "compile-error")
	tests := []struct {
		name     string
		waiver   string // the rule the config waives
		args     []string
		code     int
		stderr   string
		requests bool // whether the scan reached the emulator
	}{
		{name: "unknown rule waived", waiver: "TL-ENT-099", code: 2, stderr: `waiver: no rule "TL-ENT-099" in the catalogue`},
		{name: "broken policy directory", waiver: "TL-ENT-001", args: []string{"--policy-dir", broken}, code: 2, stderr: "policy error"},
		{name: "user rule waived", waiver: "X-NAMING-001", args: []string{"--policy-dir", good}, code: 0, requests: true},
		{name: "built-in rule waived", waiver: "TL-ENT-001", code: 0, requests: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv, _, deps := demoFleet(t, "ready")
			cfg := filepath.Join(t.TempDir(), "tenants.yaml")
			yaml := fmt.Sprintf(`tenants:
  - id: 3f2b8c1e-6d4a-4b7e-9a15-2c8d0e7f4a61
    name: Contoso
    auth: {method: client-secret, clientId: 5d2f8a61-3c4e-4b7a-9e1d-8f6a2c4b7e93, secretEnv: %s}
    endpoints: {connectTo: "%s", caFile: "%s"}
    environments:
      - url: https://contoso-sales.crm.dynamics.com
waivers:
  - rule: %s
    tenant: Contoso
    reason: test
    owner: it@contoso.example
    expires: 2027-01-31
`, demoSecretEnv, srv.Addr(), srv.CAFile(), tt.waiver)
			if err := os.WriteFile(cfg, []byte(yaml), 0o600); err != nil {
				t.Fatal(err)
			}
			var out, errOut bytes.Buffer
			deps.Stdout, deps.Stderr = &out, &errOut
			code := Main(append([]string{"scan", "--config", cfg, "--format", "json", "--fail-on", "error"}, tt.args...), deps)
			if tt.code == 0 && code > 1 || tt.code != 0 && code != tt.code {
				t.Fatalf("exit %d, want %d: %s", code, tt.code, errOut.String())
			}
			if !strings.Contains(errOut.String(), tt.stderr) {
				t.Errorf("stderr %q lacks %q", errOut.String(), tt.stderr)
			}
			if n := len(srv.Requests()); tt.requests != (n > 0) {
				t.Errorf("%d requests reached the emulator; want any: %v", n, tt.requests)
			}
		})
	}
}
