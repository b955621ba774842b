package cli

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/teamslink/teamslink/internal/finding"
	"github.com/teamslink/teamslink/report"
)

// goldenFile compares got with the file at path, rewriting it under -update
// (the flag the external tests of this package register).
func goldenFile(t *testing.T, path string, got []byte) {
	t.Helper()
	if f := flag.Lookup("update"); f != nil && f.Value.String() == "true" {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./internal/cli -update to create it)", err)
	}
	if !bytes.Equal(want, got) {
		t.Errorf("output differs from %s (run go test ./internal/cli -update after an intended change)\n--- got ---\n%s", path, got)
	}
}

// TestReadinessOverEmulator scans, through the emulator, one tenant whose
// experiences are off with every prerequisite met (ready), one where both
// are on and everything still holds (enabled), and the same with the admin
// consent revoked (broken-consent): READY, ENABLED, and BROKEN for Enhanced
// while Basic stays ENABLED. The matrix is a golden file.
func TestReadinessOverEmulator(t *testing.T) {
	t.Parallel()
	_, cfg, deps := demoFleet(t, "ready", "enabled", "broken-consent")
	_, rep := collectAndEvaluate(t, cfg, deps)
	want := map[string][2]finding.Readiness{
		"https://contoso-sales.crm.dynamics.com": {finding.Ready, finding.Ready},
		"https://tailwind.crm.dynamics.com":      {finding.Enabled, finding.Enabled},
		"https://wideworld.crm.dynamics.com":     {finding.Enabled, finding.Broken},
	}
	if len(rep.Environments) != len(want) {
		t.Fatalf("%d environments, want %d", len(rep.Environments), len(want))
	}
	for _, e := range rep.Environments {
		w := want[e.URL]
		for i, x := range finding.Experiences {
			if v := e.Verdict(x); v.Readiness != w[i] {
				t.Errorf("%s %s = %s (failing %v, unknown %v), want %s", e.URL, x, v.Readiness, v.Blocking, v.Unknown, w[i])
			}
		}
	}
	if v := rep.Environments[2].Verdict(finding.ExperienceEnhanced); len(v.Blocking) != 1 || v.Blocking[0] != "TL-CONSENT-001" {
		t.Errorf("broken-consent: Enhanced is broken by %v, want TL-CONSENT-001", v.Blocking)
	}
	if code := rep.ExitCode(finding.FailOnFail); code != finding.ExitFindings {
		t.Errorf("exit code %d, want 1: a BROKEN environment fails the run", code)
	}
	var out bytes.Buffer
	w, err := report.New("matrix", &out, report.Options{Now: deps.Now})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(t.Context(), rep); err != nil {
		t.Fatal(err)
	}
	goldenFile(t, filepath.Join("testdata", "readiness.matrix.golden"), out.Bytes())
}
