package cli_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// goldenReports are every golden report of the repository: the eval goldens
// of the sample snapshots and the report package's fixtures.
func goldenReports(t *testing.T, suffix string) []string {
	t.Helper()
	var files []string
	for _, dir := range []string{filepath.Join("testdata", "eval"), filepath.Join("..", "..", "report", "testdata")} {
		found, err := filepath.Glob(filepath.Join(dir, "*"+suffix))
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, found...)
	}
	if len(files) < 10 {
		t.Fatalf("found %d golden %s files", len(files), suffix)
	}
	return files
}

// TestGoldenAdviceFitsStatus reads every golden JSON report: no error, skip
// or pass finding carries the rule's remediation or automated fix, and every
// error finding (but a policy's broken contract) says how to read what it
// could not, naming the permission or role its request needs.
func TestGoldenAdviceFitsStatus(t *testing.T) {
	t.Parallel()
	for _, file := range goldenReports(t, ".json.golden") {
		t.Run(filepath.Base(filepath.Dir(file))+"/"+filepath.Base(file), func(t *testing.T) {
			t.Parallel()
			b, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			var rep struct {
				Environments []struct {
					Findings []struct {
						Rule, Table, Environment, Status, Remediation string
						Fix                                           any
						Internal                                      bool
						Access                                        *struct{ Section, Permission, Advice string }
					}
				}
			}
			if err := json.Unmarshal(b, &rep); err != nil {
				t.Fatal(err)
			}
			for _, e := range rep.Environments {
				for _, f := range e.Findings {
					at := f.Environment + " " + f.Rule + " " + f.Table
					switch f.Status {
					case "error", "skip", "pass":
						if f.Fix != nil || f.Remediation != "" {
							t.Errorf("%s: a %s finding carries the rule's remediation or automated fix", at, f.Status)
						}
					}
					if f.Status != "error" || f.Internal {
						continue
					}
					if f.Access == nil || f.Access.Section == "" || f.Access.Advice == "" {
						t.Errorf("%s: an error finding without access advice", at)
						continue
					}
					if p := f.Access.Permission; !strings.Contains(p, "permission") && !strings.Contains(p, "role") {
						t.Errorf("%s: access permission %q names no permission or role", at, p)
					}
				}
			}
		})
	}
}

// TestGoldenTableAdviceFitsStatus reads every golden table report: no ERROR
// or SKIP row shows a remediation or an automated fix, and every ERROR row
// (but a policy's broken contract) says how to read what it could not.
func TestGoldenTableAdviceFitsStatus(t *testing.T) {
	t.Parallel()
	files := goldenReports(t, ".table.golden")
	for _, file := range files {
		t.Run(filepath.Base(filepath.Dir(file))+"/"+filepath.Base(file), func(t *testing.T) {
			t.Parallel()
			b, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			type row struct{ status, text string }
			var rows []row
			for _, line := range strings.Split(string(b), "\n") {
				cells := strings.Split(line, "│")
				if len(cells) < 6 {
					continue
				}
				if status := strings.TrimSpace(stripSGR(cells[1])); status != "" {
					rows = append(rows, row{status: status})
				}
				if len(rows) > 0 {
					rows[len(rows)-1].text += stripSGR(cells[len(cells)-2]) + "\n"
				}
			}
			for _, r := range rows {
				switch r.status {
				case "ERROR", "SKIP", "PASS":
					if strings.Contains(r.text, "remediation:") || strings.Contains(r.text, "automated fix:") {
						t.Errorf("a %s row shows a remediation or an automated fix:\n%s", r.status, r.text)
					}
				}
				if r.status == "ERROR" && !strings.Contains(r.text, "internal error: the policy broke") && !strings.Contains(r.text, "to read it:") {
					t.Errorf("an ERROR row does not say how to read it:\n%s", r.text)
				}
			}
		})
	}
}

// stripSGR removes ANSI colour from s (the colour golden).
func stripSGR(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\x1b' {
			if j := strings.IndexByte(s[i:], 'm'); j >= 0 {
				i += j
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
