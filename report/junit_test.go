package report

import (
	"encoding/xml"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/teamslink/teamslink/internal/finding"
)

// xmllintPath finds xmllint, failing the test (never skipping it) when it
// is missing, with the command that installs it.
func xmllintPath(t *testing.T) string {
	t.Helper()
	path, err := exec.LookPath("xmllint")
	if err != nil {
		t.Fatal("xmllint is needed to validate the JUnit report against its schema: run make test-deps, or sudo apt-get install -y libxml2-utils")
	}
	return path
}

// hostileReport is a blocked environment whose names, messages and
// evidence carry what XML and terminals must not take literally.
func hostileReport() *finding.Report {
	e := blockedEnv()
	e.TenantName = `Evil "tenant" <x> & ]]> co`
	e.Name = "Prod\x1b]0;pwned\x07 \uFFFE"
	e.Findings[1].Message = "sites ]]><![CDATA[ <b>active</b> & \x00 \u202e"
	e.Findings[1].Evidence["sample"] = []any{map[string]any{"name": "evil ]]>", "absoluteurl": "https://x.invalid/<script>"}}
	r := newReport(e)
	r.SignInErrors = []finding.SignInError{{Tenant: "t-<1>", Method: "client-secret", Error: "bad ]]> secret \x01", Fix: "fix & retry"}}
	return r
}

func TestJUnitValidatesAgainstSchema(t *testing.T) {
	t.Parallel()
	xmllint := xmllintPath(t)
	cases := fixtures()
	cases = append(cases, struct {
		name   string
		report *finding.Report
	}{"hostile", hostileReport()})
	for _, fx := range cases {
		t.Run(fx.name, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(t.TempDir(), "TEST-teamslink.xml")
			if err := os.WriteFile(path, render(t, "junit", fx.report, fixedOptions(false)), 0o644); err != nil {
				t.Fatal(err)
			}
			out, err := exec.CommandContext(t.Context(), xmllint, "--noout", "--schema", filepath.Join("testdata", "junit.xsd"), path).CombinedOutput()
			if err != nil {
				t.Fatalf("xmllint --schema testdata/junit.xsd: %v\n%s", err, out)
			}
		})
	}
}

// parseJUnit reads a junit report back.
func parseJUnit(t *testing.T, b []byte) junitSuites {
	t.Helper()
	var doc junitSuites
	if err := xml.Unmarshal(b, &doc); err != nil {
		t.Fatalf("parse junit output: %v\n%s", err, b)
	}
	return doc
}

func TestJUnitCounts(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		report *finding.Report
		suite  string
		// tests, failures, errors, skipped
		want [4]int
	}{
		// 2 readiness (both BLOCKED) + 10 findings: 4 fail; warn, waived,
		// manual and skip are skipped.
		{"blocked", newReport(blockedEnv()), "Fabrikam / Fabrikam Production (fabrikam.crm4.dynamics.com)", [4]int{12, 6, 0, 4}},
		// 2 readiness (UNKNOWN) + 5 findings: 3 errors, a warning.
		{"unknown", newReport(unknownEnv()), "Fabrikam / fabrikam-test.crm4.dynamics.com", [4]int{7, 0, 5, 1}},
		// 2 readiness (BROKEN) + 4 findings: 2 fail.
		{"broken", newReport(brokenEnv()), "Contoso / Contoso EMEA (contoso-emea.crm4.dynamics.com)", [4]int{6, 4, 0, 0}},
		// enhanced not assessed: skipped; two findings skip.
		{"basic-only", newReport(basicEnv()), "3f2b8c1e-6d4a-4b7e-9a15-2c8d0e7f4a61 / Contoso Dev (contoso-dev.crm.dynamics.com)", [4]int{6, 0, 0, 3}},
		{"signin", signInReport(), "Fabrikam / sign-in (8d1e4c2a-5b7f-4e3d-9c61-0a2f7b9e3d58)", [4]int{1, 0, 1, 0}},
		{"ready", newReport(readyEnv()), "Contoso / Contoso Sales (contoso.crm.dynamics.com)", [4]int{12, 0, 0, 3}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			doc := parseJUnit(t, render(t, "junit", tt.report, fixedOptions(false)))
			found := false
			for _, s := range doc.Suites {
				var got [4]int
				for _, c := range s.Cases {
					got[0]++
					switch {
					case c.Failure != nil:
						got[1]++
					case c.Error != nil:
						got[2]++
					case c.Skipped != nil:
						got[3]++
					}
				}
				if attrs := [4]int{s.Tests, s.Failures, s.Errors, s.Skipped}; attrs != got {
					t.Errorf("suite %q counts tests, failures, errors, skipped = %v; its testcases say %v", s.Name, attrs, got)
				}
				if s.Name == tt.suite {
					found = true
					if got != tt.want {
						t.Errorf("suite %q: tests, failures, errors, skipped = %v; want %v", s.Name, got, tt.want)
					}
				}
			}
			if !found {
				t.Fatalf("no suite %q in the output", tt.suite)
			}
		})
	}
}

// TestJUnitErrorNeverPasses checks that nothing that could not be assessed
// reads as a passing testcase: an error finding is an <error>, a failing
// one a <failure>, and the readiness of an UNKNOWN, BLOCKED or BROKEN
// environment is never a pass.
func TestJUnitErrorNeverPasses(t *testing.T) {
	t.Parallel()
	for _, fx := range fixtures() {
		t.Run(fx.name, func(t *testing.T) {
			t.Parallel()
			doc := parseJUnit(t, render(t, "junit", fx.report, fixedOptions(false)))
			suites := map[string]junitSuite{}
			for _, s := range doc.Suites {
				suites[s.Properties.get("environment.url")] = s
			}
			for _, e := range fx.report.Environments {
				s, ok := suites[e.URL]
				if !ok {
					t.Fatalf("no suite for %s", e.URL)
				}
				cases := map[string]junitCase{}
				for _, c := range s.Cases {
					cases[c.Name] = c
				}
				for _, f := range e.Findings {
					name := f.Rule + " " + f.Title
					if f.Table != "" {
						name += " [" + f.Table + "]"
					}
					c, ok := cases[name]
					if !ok {
						t.Fatalf("suite %q has no testcase %q", s.Name, name)
					}
					switch f.Status {
					case finding.StatusError:
						if c.Error == nil {
							t.Errorf("%s: error finding %s is not an <error> testcase: %+v", s.Name, f.Key, c)
						}
					case finding.StatusFail:
						if c.Failure == nil {
							t.Errorf("%s: failing finding %s is not a <failure> testcase: %+v", s.Name, f.Key, c)
						}
					case finding.StatusPass:
						if c.Failure != nil || c.Error != nil || c.Skipped != nil {
							t.Errorf("%s: passing finding %s is not a passing testcase", s.Name, f.Key)
						}
					default:
						if c.Skipped == nil {
							t.Errorf("%s: %s finding %s is not a <skipped> testcase", s.Name, f.Status, f.Key)
						}
					}
				}
				for _, x := range finding.Experiences {
					v := e.Verdict(x)
					c := cases[string(x)+" experience readiness"]
					switch v.Readiness {
					case finding.Unknown:
						if c.Error == nil {
							t.Errorf("%s: %s is UNKNOWN but its readiness testcase is no <error>", s.Name, x)
						}
					case finding.Blocked, finding.Broken:
						if c.Failure == nil || c.Failure.Type != string(v.Readiness) {
							t.Errorf("%s: %s is %s but its readiness testcase is no <failure type=%q>", s.Name, x, v.Readiness, v.Readiness)
						}
					}
				}
			}
		})
	}
}

func TestJUnitEscapes(t *testing.T) {
	t.Parallel()
	out := render(t, "junit", hostileReport(), fixedOptions(false))
	for _, bad := range []string{"\x1b", "\x07", "\x00", "\x01", "\u202e", "\uFFFE"} {
		if strings.Contains(string(out), bad) {
			t.Errorf("output contains %q from the report's data", bad)
		}
	}
	doc := parseJUnit(t, out)
	var msg string
	for _, s := range doc.Suites {
		for _, c := range s.Cases {
			if strings.HasPrefix(c.Name, "TL-SP-002 ") && c.Failure != nil {
				msg = c.Failure.Message
				if !strings.HasPrefix(c.Failure.Body, msg+"\n") {
					t.Errorf("failure body does not start with the message:\n%s", c.Failure.Body)
				}
				if !strings.Contains(c.Failure.Body, "absoluteurl=https://x.invalid/<script>") {
					t.Errorf("failure body lost the evidence:\n%s", c.Failure.Body)
				}
			}
		}
	}
	if want := "sites ]]><![CDATA[ <b>active</b> & \uFFFD \uFFFD"; msg != want {
		t.Errorf("message read back = %q; want %q", msg, want)
	}
}

func TestRuleFamily(t *testing.T) {
	t.Parallel()
	tests := []struct{ id, want string }{
		{"TL-SP-002", "TL-SP"},
		{"TL-MAN-001", "TL-MAN"},
		{"ACME-CUSTOM", "ACME-CUSTOM"},
		{"ACME-", "ACME-"},
		{"TL-ENT-1a", "TL-ENT-1a"},
		{"", "unknown"},
	}
	for _, tt := range tests {
		t.Run(tt.id, func(t *testing.T) {
			t.Parallel()
			if got := ruleFamily(tt.id); got != tt.want {
				t.Errorf("ruleFamily(%q) = %q; want %q", tt.id, got, tt.want)
			}
		})
	}
}

// get returns the value of the property name, or "".
func (p junitProperties) get(name string) string {
	for _, pr := range p.Properties {
		if pr.Name == name {
			return pr.Value
		}
	}
	return ""
}
