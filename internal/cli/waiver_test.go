package cli_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/teamslink/teamslink/internal/finding"
)

// waiverConfig declares the sp-active-sites sample's environment with
// waivers: one that applies (TL-SP-002 until 2027), one whose last day has
// passed (the clock of these tests is 2026-11-02), one for a table the
// environment has no finding for.
const waiverConfig = `tenants:
  - id: bd9bccd7-843b-5d31-9600-58e608597598
    name: Tailspin
    auth: {method: azure-cli}
    environments:
      - url: https://tailspin.crm11.dynamics.com
waivers:
  - rule: TL-SP-002
    environment: https://tailspin.crm11.dynamics.com
    reason: The sites are deactivated in the next change window
    owner: crm-admins@tailspin.example
    expires: 2027-01-31
  - rule: TL-LIC-001
    tenant: Tailspin
    reason: Licences arrive next month
    owner: it@tailspin.example
    expires: 2026-10-31
  - rule: TL-ENT-001
    table: new_project
    reason: Retired table
    owner: it@tailspin.example
    expires: 2027-01-31
`

func writeConfig(t *testing.T, body string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "tenants.yaml")
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestEvalWithWaivers(t *testing.T) {
	t.Parallel()
	cfg := writeConfig(t, waiverConfig)
	code, out, errOut := run(t, "eval", snapshotPath("sp-active-sites"), "--config", cfg, "--format", "json")
	var rep finding.Report
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("exit %d, stderr %q: %v", code, errOut, err)
	}
	env := rep.Environments[0]
	var sp002 *finding.Finding
	for i, f := range env.Findings {
		if f.Rule == "TL-SP-002" {
			sp002 = &env.Findings[i]
		}
	}
	if sp002 == nil || sp002.Status != finding.StatusWaived || sp002.Waiver == nil ||
		sp002.Waiver.Owner != "crm-admins@tailspin.example" || sp002.Waiver.Source != cfg+":8" {
		t.Fatalf("TL-SP-002 = %+v, want waived by %s:8", sp002, cfg)
	}
	if env.DeclaredAt == nil || env.DeclaredAt.File != cfg || env.DeclaredAt.Line != 6 {
		t.Errorf("declaredAt = %+v, want %s line 6", env.DeclaredAt, cfg)
	}
	problems := map[string]finding.WaiverProblem{}
	for _, n := range rep.Waivers {
		problems[n.Rule] = n.Problem
	}
	if len(problems) != 2 || problems["TL-LIC-001"] != finding.WaiverExpired || problems["TL-ENT-001"] != finding.WaiverUnmatched {
		t.Errorf("waiver notices = %+v, want TL-LIC-001 expired and TL-ENT-001 unmatched", rep.Waivers)
	}
	// The active sites were the sample's one failure: waived, nothing
	// blocks it, and the run is clean.
	if got := env.Verdict(finding.ExperienceBasic).Readiness; got != finding.Ready || code != 0 {
		t.Errorf("basic readiness %s, exit %d; want READY and 0", got, code)
	}

	_, table, _ := run(t, "eval", snapshotPath("sp-active-sites"), "--config", cfg)
	for _, want := range []string{"WAIVED", "Waivers that did not apply (2)", "expired: TL-LIC-001", "unmatched: TL-ENT-001"} {
		if !strings.Contains(table, want) {
			t.Errorf("table report lacks %q", want)
		}
	}
}

func TestWaiverOfUnknownRule(t *testing.T) {
	t.Parallel()
	cfg := writeConfig(t, strings.Replace(waiverConfig, "rule: TL-ENT-001", "rule: TL-ENT-099", 1))
	for _, args := range [][]string{
		{"config", "check", cfg},
		{"eval", snapshotPath("sp-active-sites"), "--config", cfg},
	} {
		code, _, errOut := run(t, args...)
		if code != 2 || !strings.Contains(errOut, cfg+`:18: waiver: no rule "TL-ENT-099" in the catalogue`) {
			t.Errorf("%s: exit %d, stderr %q; want 2 naming the rule and its line", args[0], code, errOut)
		}
	}
	code, out, errOut := run(t, "config", "check", writeConfig(t, waiverConfig))
	if code != 0 || !strings.Contains(out, "3 waiver(s)") {
		t.Errorf("valid waivers: exit %d, %q %q", code, out, errOut)
	}
}
