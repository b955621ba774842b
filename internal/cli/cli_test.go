package cli_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/teamslink/teamslink/internal/cli"
	"github.com/teamslink/teamslink/internal/engine"
)

var update = flag.Bool("update", false, "rewrite golden files")

var fixedNow = func() time.Time { return time.Date(2026, 11, 2, 9, 30, 0, 0, time.UTC) }

// run executes teamslink in-process and returns its exit code and output.
func run(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = cli.Main(args, cli.Deps{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errOut, Version: "test", Now: fixedNow})
	return code, out.String(), errOut.String()
}

func snapshotPath(name string) string {
	return filepath.Join("..", "..", "testdata", "snapshots", name+".json")
}

func golden(t *testing.T, path, got string) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./internal/cli -update to create it)", err)
	}
	if string(want) != got {
		t.Errorf("output differs from %s (run go test ./internal/cli -update after an intended change)\n--- got ---\n%s", path, got)
	}
}

// TestEvalSamples runs eval on every sample snapshot: the exit code is the
// one the case calls for, and table and JSON output match their golden files.
func TestEvalSamples(t *testing.T) {
	t.Parallel()
	exitCodes := map[string]int{
		"ready":                   0,
		"enabled":                 0,
		"broken-consent":          1,
		"spo-limited":             0,
		"group-naming-policy":     0,
		"role-missing-privileges": 0,
		"sections-errored":        3,
		"sp-800503ca-all":         1,
		"sp-onedrive":             1,
		"sp-active-sites":         1,
		"sp-absolute-locations":   1,
		"sp-onpremises":           1,
		"spo-blocked":             1,
		"consent-missing":         1,
		"consent-missing-scope":   1,
		"not-sysadmin":            1,
		"not-global-admin":        1,
		"custom-table-no-docmgmt": 1,
		"no-ce-licence":           1,
		"no-teams-licence":        1,
	}
	files, err := filepath.Glob(snapshotPath("*"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != len(exitCodes) {
		t.Fatalf("%d sample snapshots, %d expectations", len(files), len(exitCodes))
	}
	for _, file := range files {
		name := strings.TrimSuffix(filepath.Base(file), ".json")
		wantCode, ok := exitCodes[name]
		if !ok {
			t.Fatalf("no expected exit code for sample %s", name)
		}
		for _, format := range []string{"table", "json"} {
			t.Run(name+"/"+format, func(t *testing.T) {
				t.Parallel()
				code, out, errOut := run(t, "eval", file, "--format", format)
				if code != wantCode {
					t.Errorf("exit code %d, want %d; stderr: %s", code, wantCode, errOut)
				}
				if errOut != "" {
					t.Errorf("stderr: %s", errOut)
				}
				golden(t, filepath.Join("testdata", "eval", name+"."+format+".golden"), out)
			})
		}
	}
}

func TestEvalFailOn(t *testing.T) {
	t.Parallel()
	tests := []struct {
		snapshot, failOn string
		want             int
	}{
		{"spo-limited", "fail", 0},
		{"spo-limited", "warn", 1},
		{"spo-blocked", "error", 0},
		{"spo-blocked", "fail", 1},
		{"sections-errored", "error", 3},
		{"sections-errored", "warn", 3},
		{"broken-consent", "fail", 1},
		{"broken-consent", "warn", 1},
		{"broken-consent", "error", 0},
		{"enabled", "warn", 0},
	}
	for _, tt := range tests {
		t.Run(tt.snapshot+"/"+tt.failOn, func(t *testing.T) {
			t.Parallel()
			if code, _, errOut := run(t, "eval", snapshotPath(tt.snapshot), "--format", "json", "--fail-on", tt.failOn); code != tt.want {
				t.Errorf("exit code %d, want %d (%s)", code, tt.want, errOut)
			}
		})
	}
}

func TestEvalUsageErrors(t *testing.T) {
	t.Parallel()
	bad := filepath.Join(t.TempDir(), "bad.json")
	doc, err := os.ReadFile(snapshotPath("ready"))
	if err != nil {
		t.Fatal(err)
	}
	doc = bytes.Replace(doc, []byte(`"absoluteUrlCount": 0`), []byte(`"absoluteUrlCount": "none"`), 1)
	if err := os.WriteFile(bad, doc, 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		args   []string
		stderr string
	}{
		{"malformed snapshot names the JSON path", []string{"eval", bad}, "environments[0].documentLocations.absoluteUrlCount"},
		{"missing file", []string{"eval", "does-not-exist.json"}, "does-not-exist.json"},
		{"no snapshot", []string{"eval"}, "requires at least 1 arg"},
		{"unknown format", []string{"eval", snapshotPath("ready"), "--format", "xml"}, `unknown format "xml" (valid: html, json, junit, markdown, matrix, sarif, table)`},
		{"unknown experience", []string{"eval", snapshotPath("ready"), "--experience", "premium"}, `unknown experience "premium"`},
		{"bad table name", []string{"eval", snapshotPath("ready"), "--entities", "Account"}, `"Account" is not a table logical name`},
		{"two formats to one file", []string{"eval", snapshotPath("ready"), "--format", "json=r.json,table=./r.json"}, "json and table both write ./r.json"},
		{"snapshot and report to one file", []string{"scan", "--format", "json", "-o", "out.json", "--snapshot-out", "out.json"}, "--snapshot-out and the json report both write out.json"},
		{"unknown fail-on", []string{"eval", snapshotPath("ready"), "--fail-on", "never"}, `unknown --fail-on "never"`},
		{"unknown flag", []string{"eval", snapshotPath("ready"), "--colour"}, "unknown flag: --colour"},
		{"missing policy dir", []string{"eval", snapshotPath("ready"), "--policy-dir", "nope"}, "policy directory"},
		{"unknown rule", []string{"explain", "TL-NOPE-999"}, `no rule id or error matches "TL-NOPE-999"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			code, _, errOut := run(t, tt.args...)
			if code != 2 {
				t.Errorf("exit code %d, want 2", code)
			}
			if !strings.Contains(errOut, tt.stderr) {
				t.Errorf("stderr %q does not contain %q", errOut, tt.stderr)
			}
		})
	}
}

func TestEvalWritesFiles(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	jsonPath := filepath.Join(dir, "report.json")
	code, out, errOut := run(t, "eval", snapshotPath("ready"), snapshotPath("spo-limited"), "--format", "table,json="+jsonPath)
	if code != 0 {
		t.Fatalf("exit code %d: %s", code, errOut)
	}
	if !strings.Contains(out, "contoso-sales") || !strings.Contains(out, "adatum") {
		t.Errorf("table output lacks an environment:\n%s", out)
	}
	var rep struct {
		SchemaVersion string `json:"schemaVersion"`
		Environments  []any  `json:"environments"`
	}
	b, err := os.ReadFile(jsonPath)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &rep); err != nil || rep.SchemaVersion != "teamslink.report/v3" || len(rep.Environments) != 2 {
		t.Fatalf("report file: %v %+v", err, rep)
	}
}

func TestRulesJSON(t *testing.T) {
	t.Parallel()
	code, out, errOut := run(t, "rules", "--format", "json")
	if code != 0 {
		t.Fatalf("exit code %d: %s", code, errOut)
	}
	var doc struct {
		Rules []struct {
			ID       string `json:"id"`
			Severity string `json:"severity"`
			Docs     string `json:"docs"`
		} `json:"rules"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, r := range doc.Rules {
		ids = append(ids, r.ID)
		if r.Severity == "" || !strings.HasPrefix(r.Docs, "https://") {
			t.Errorf("%s: severity %q docs %q", r.ID, r.Severity, r.Docs)
		}
	}
	eng, err := engine.New(t.Context(), engine.Config{})
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, r := range eng.Rules() {
		want = append(want, r.ID)
	}
	if !slices.Equal(ids, want) || !slices.IsSorted(ids) || len(ids) < 15 {
		t.Errorf("rule ids %v: want the catalogue %v, sorted", ids, want)
	}
}

func TestRulesTable(t *testing.T) {
	t.Parallel()
	code, out, _ := run(t, "rules")
	if code != 0 {
		t.Fatalf("exit code %d", code)
	}
	golden(t, filepath.Join("testdata", "rules.table.golden"), out)
}

func TestExplain(t *testing.T) {
	t.Parallel()
	tests := []struct{ query, golden string }{
		{"800503ca", "explain-800503ca"},
		{"TL-SP-002", "explain-tl-sp-002"},
		{"tl-consent-001", "explain-tl-consent-001"},
		{"admin has not consented", "explain-consent-message"},
		{"User does not have permissions to create SharePoint Site", "explain-sharepoint-permissions"},
		{"isn\u2019t connected to Dynamics 365", "explain-not-connected"},
		{"required prefix/suffix", "explain-prefix-suffix"},
		{"You don't have permissions to view files in this location", "explain-unchecked-message"},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			t.Parallel()
			code, out, errOut := run(t, "explain", tt.query)
			if code != 0 {
				t.Fatalf("exit code %d: %s", code, errOut)
			}
			golden(t, filepath.Join("testdata", tt.golden+".golden"), out)
		})
	}
	_, out, _ := run(t, "explain", "800503ca")
	for _, id := range []string{"TL-SP-001", "TL-SP-002", "TL-SP-003"} {
		if !strings.Contains(out, id) {
			t.Errorf("explain 800503ca does not name %s", id)
		}
	}
}

// TestRulesDocUpToDate fails when docs/rules.md no longer matches the catalogue.
func TestRulesDocUpToDate(t *testing.T) {
	t.Parallel()
	code, out, errOut := run(t, "rules", "--format", "markdown")
	if code != 0 {
		t.Fatalf("exit code %d: %s", code, errOut)
	}
	path := filepath.Join("..", "..", "docs", "rules.md")
	if *update {
		if err := os.WriteFile(path, []byte(out), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(want) != out {
		t.Error("docs/rules.md is stale: run make docs")
	}
}

func TestVersion(t *testing.T) {
	t.Parallel()
	code, out, _ := run(t, "version")
	if code != 0 || !strings.HasPrefix(out, "teamslink test (") {
		t.Errorf("version: %d %q", code, out)
	}
}

// TestConfigCheckHostile: a tenants.yaml that used to crash go-yaml or run
// for minutes is a config error, exit 2 with file and line, at once.
func TestConfigCheckHostile(t *testing.T) {
	t.Parallel()
	bomb := "defaults:\n  tables:\n    - &a0 [a, a, a, a, a, a, a, a, a]\n"
	for i := 1; i < 9; i++ {
		bomb += fmt.Sprintf("    - &a%d [%s]\n", i, strings.TrimSuffix(strings.Repeat(fmt.Sprintf("*a%d, ", i-1), 9), ", "))
	}
	tests := []struct{ name, doc, want string }{
		{"tag that panicked", "tenants: !foo bar\n", "tenants.yaml:1: YAML tags"},
		{"alias bomb", bomb, "tenants.yaml:8: expanding this alias"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(t.TempDir(), "tenants.yaml")
			if err := os.WriteFile(path, []byte(tt.doc), 0o600); err != nil {
				t.Fatal(err)
			}
			code, _, errOut := run(t, "config", "check", path)
			if code != 2 || !strings.Contains(errOut, tt.want) || strings.Contains(errOut, "goroutine") {
				t.Errorf("exit %d, stderr %q; want 2 and %q", code, errOut, tt.want)
			}
		})
	}
}

// TestConfigCheckCancelled: config check hands the command's context (the
// one SIGINT and SIGTERM cancel) to the config loader.
func TestConfigCheckCancelled(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	var out, errOut bytes.Buffer
	root := cli.NewRootCommand(cli.Deps{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errOut, Version: "test", Now: fixedNow})
	root.SetArgs([]string{"config", "check", filepath.Join("..", "..", "testdata", "demo", "tenants.yaml")})
	if err := root.ExecuteContext(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("config check with a cancelled context = %v, want context.Canceled", err)
	}
}

func TestConfigCheck(t *testing.T) {
	t.Parallel()
	code, out, errOut := run(t, "config", "check", filepath.Join("..", "..", "testdata", "demo", "tenants.yaml"))
	if code != 0 || !strings.Contains(out, "valid: 20 tenant(s), 22 environment(s), 0 waiver(s)") {
		t.Errorf("valid config: exit %d, %q %q", code, out, errOut)
	}
	bad := filepath.Join(t.TempDir(), "tenants.yaml")
	if err := os.WriteFile(bad, []byte("tenants:\n  - id: not-a-guid\n    auth: {method: azure-cli}\n    environments:\n      - url: http://contoso.crm.dynamics.com\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	code, _, errOut = run(t, "config", "check", bad)
	if code != 2 || !strings.Contains(errOut, "tenants.yaml:2:") || !strings.Contains(errOut, "tenants.yaml:5:") {
		t.Errorf("invalid config: exit %d, stderr %q; want 2 and the lines of both problems", code, errOut)
	}
}

// TestEvalNextYear evaluates every sample snapshot with the clock a year
// ahead of today: exit codes and findings are those of the golden clock, so
// no verdict depends on the date the tests run.
func TestEvalNextYear(t *testing.T) {
	t.Parallel()
	nextYear := time.Now().AddDate(1, 0, 0)
	files, err := filepath.Glob(snapshotPath("*"))
	if err != nil {
		t.Fatal(err)
	}
	withoutStamp := func(t *testing.T, out string) map[string]any {
		t.Helper()
		var doc map[string]any
		if err := json.Unmarshal([]byte(out), &doc); err != nil {
			t.Fatalf("report is not JSON: %v", err)
		}
		delete(doc, "generatedAt")
		return doc
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			t.Parallel()
			var out, errOut bytes.Buffer
			code := cli.Main([]string{"eval", file, "--format", "json"}, cli.Deps{
				Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errOut, Version: "test",
				Now: func() time.Time { return nextYear },
			})
			wantCode, want, _ := run(t, "eval", file, "--format", "json")
			if code != wantCode {
				t.Errorf("exit code %d a year from now, %d on the golden clock", code, wantCode)
			}
			got := withoutStamp(t, out.String())
			if g, w := got, withoutStamp(t, want); !jsonEqual(g, w) {
				t.Errorf("a year from now the report differs beyond its timestamp:\n%s", out.String())
			}
			if stamp := nextYear.UTC().Format(time.RFC3339); !strings.Contains(out.String(), stamp[:len("2006-01-02")]) {
				t.Errorf("the report is not stamped by the injected clock (%s)", stamp)
			}
		})
	}
}

func jsonEqual(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return bytes.Equal(x, y)
}

// TestEvalSummaryCountsTenantOnce: sections-errored has two environments in
// one tenant. Its consent could not be read (TL-CONSENT-001, a tenant rule,
// error on both environments) and the Sales environment's document
// locations could not be read (TL-SP-003): two problems, two errors in the
// summary, while each environment lists its own findings.
func TestEvalSummaryCountsTenantOnce(t *testing.T) {
	t.Parallel()
	_, out, errOut := run(t, "eval", snapshotPath("sections-errored"), "--format", "json")
	var rep struct {
		Summary      map[string]int `json:"summary"`
		Environments []struct {
			Findings []struct{ Rule, Status, Scope string }
		}
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("%v (stderr %s)", err, errOut)
	}
	if rep.Summary["error"] != 2 {
		t.Errorf("summary %v, want 2 errors", rep.Summary)
	}
	shown := 0
	for _, e := range rep.Environments {
		for _, f := range e.Findings {
			if f.Rule == "TL-CONSENT-001" && f.Status == "error" && f.Scope == "tenant" {
				shown++
			}
		}
	}
	if shown != 2 {
		t.Errorf("TL-CONSENT-001 shown as a tenant error on %d environments, want 2", shown)
	}
}
