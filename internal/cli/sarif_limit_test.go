package cli

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/teamslink/teamslink/internal/finding"
	"github.com/teamslink/teamslink/report"
)

// overLimitReport has two tenants with 12,501 failing findings each:
// 25,002 SARIF results in one file, over GitHub's 25,000 per run.
func overLimitReport() *finding.Report {
	r := &finding.Report{SchemaVersion: finding.ReportSchemaVersion, Tool: finding.Tool{Name: "teamslink", Version: "test"}}
	for i := range 2 {
		e := finding.Environment{
			Tenant: fmt.Sprintf("00000000-0000-4000-8000-%012d", i), URL: fmt.Sprintf("https://org%d.crm.dynamics.com", i),
			Experience: finding.ExperienceBasic,
		}
		for j := range 12_501 {
			e.Findings = append(e.Findings, finding.Finding{
				Key:   finding.Key{Tenant: e.Tenant, Environment: e.URL, Rule: "TL-ENT-001", Table: fmt.Sprintf("new_t%d", j)},
				Scope: finding.ScopeTable, Title: "Document management is enabled on the table", Severity: finding.SeverityHigh,
				Status: finding.StatusFail, Message: "Document management is not enabled.", Experiences: []finding.Experience{finding.ExperienceBasic},
			})
		}
		e.Verdicts = []finding.Verdict{finding.Decide(finding.ExperienceBasic, finding.SwitchOff, e.Findings)}
		r.Environments = append(r.Environments, e)
	}
	return r
}

// TestSARIFOverGitHubLimits: one file for a fleet over GitHub's limits is
// refused (exit 2) with the advice to split, and no file is written.
func TestSARIFOverGitHubLimits(t *testing.T) {
	t.Parallel()
	rep := overLimitReport()
	dir := t.TempDir()
	out := filepath.Join(dir, "fleet.sarif")
	now := func() time.Time { return time.Date(2026, 11, 2, 9, 30, 0, 0, time.UTC) }
	rd := rendering{opts: report.Options{Now: now, SARIF: report.SARIFOptions{Root: dir, Anchor: filepath.Join(dir, "snapshot.json")}}}
	specs := []outputSpec{{format: "sarif", path: out}}

	err := writeFiles(t.Context(), reportFiles(t.Context(), specs, rep, rd))
	var limit *report.SARIFLimitError
	var usage *UsageError
	if !errors.As(err, &limit) || !errors.As(err, &usage) || ExitCode(err) != finding.ExitUsage {
		t.Fatalf("writeFiles = %v; want a usage error holding a *SARIFLimitError", err)
	}
	if !strings.Contains(err.Error(), "use --sarif-split tenant") || !strings.Contains(err.Error(), "25002 results per run") {
		t.Errorf("error %q does not say what is over and to split by tenant", err)
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("a file GitHub would reject was written: %v", err)
	}

	// With --sarif-split tenant each tenant's file holds its 12,501
	// results (TestEvalSARIFSplit writes split files; writing these would
	// only be slow).
	for _, share := range report.SplitByTenant(rep) {
		if n := len(share.Findings()); n != 12_501 {
			t.Errorf("tenant %s: %d findings", report.ReportTenant(share), n)
		}
	}
}

func TestPerTenantPath(t *testing.T) {
	t.Parallel()
	tests := []struct{ path, tenant, want string }{
		{"out.sarif", "3f2b8c1e-6d4a-4b7e-9a15-2c8d0e7f4a61", "out.3f2b8c1e-6d4a-4b7e-9a15-2c8d0e7f4a61.sarif"},
		{filepath.Join("ci", "teamslink.sarif"), "ABC", filepath.Join("ci", "teamslink.abc.sarif")},
		{"report", "t1", "report.t1"},
		{"out.sarif", "../../etc", "out.______etc.sarif"},
		{"out.sarif", "", "out.no-tenant.sarif"},
	}
	for _, tt := range tests {
		t.Run(tt.path+"/"+tt.tenant, func(t *testing.T) {
			t.Parallel()
			if got := perTenantPath(tt.path, tt.tenant); got != tt.want {
				t.Errorf("perTenantPath(%q, %q) = %q; want %q", tt.path, tt.tenant, got, tt.want)
			}
		})
	}
}

// TestScanSignInSARIF scans, through the emulator, a tenant whose client
// secret is wrong, to SARIF: a TL-SIGNIN result at the line of tenants.yaml
// that declares its environment, and every rule that could not be read an
// error result there too, so no earlier alert closes as fixed.
func TestScanSignInSARIF(t *testing.T) {
	t.Parallel()
	deps, dir, config := wrongSecretFleet(t)
	var stdout, stderr bytes.Buffer
	deps.Stdout, deps.Stderr = &stdout, &stderr
	out := filepath.Join(dir, "teamslink.sarif")
	if code := Main([]string{"scan", "--config", config, "--format", "sarif=" + out, "--sarif-root", dir}, deps); code != 3 {
		t.Fatalf("exit %d, want 3; stderr %s", code, stderr.String())
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var sarif struct {
		Runs []struct {
			Results []struct {
				RuleID    string `json:"ruleId"`
				Level     string `json:"level"`
				Message   struct{ Text string }
				Locations []struct {
					PhysicalLocation struct {
						ArtifactLocation struct{ URI string }
						Region           struct{ StartLine int }
					}
				}
			}
		}
	}
	if err := json.Unmarshal(b, &sarif); err != nil {
		t.Fatal(err)
	}
	signIns, errorsSeen := 0, 0
	for _, res := range sarif.Runs[0].Results {
		loc := res.Locations[0].PhysicalLocation
		if loc.ArtifactLocation.URI != "tenants.yaml" || loc.Region.StartLine != 8 {
			t.Errorf("%s points at %s:%d; want tenants.yaml:8", res.RuleID, loc.ArtifactLocation.URI, loc.Region.StartLine)
		}
		if res.Level != "error" {
			t.Errorf("%s has level %s; want error", res.RuleID, res.Level)
		}
		if res.RuleID == report.SARIFSignInRule {
			signIns++
			if !strings.Contains(res.Message.Text, "AADSTS7000215") || !strings.Contains(res.Message.Text, "client-secret") {
				t.Errorf("sign-in message %q", res.Message.Text)
			}
		} else {
			errorsSeen++
		}
	}
	if signIns != 1 || errorsSeen == 0 {
		t.Errorf("%d sign-in results and %d error results; want one and the rules that could not be read", signIns, errorsSeen)
	}
}
