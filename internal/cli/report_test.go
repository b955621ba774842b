package cli

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/teamslink/teamslink/internal/finding"
	"github.com/teamslink/teamslink/internal/reportdiff"
	"github.com/teamslink/teamslink/report"
)

// offlineDeps are deps for commands that need no emulator, at a fixed time.
func offlineDeps(at time.Time) Deps {
	return Deps{Version: "test", Now: func() time.Time { return at }}
}

var reportClock = time.Date(2026, 11, 2, 9, 30, 0, 0, time.UTC)

func sampleSnapshot(name string) string {
	return filepath.Join(repoRoot, "testdata", "snapshots", name+".json")
}

// mustRead returns the contents of path.
func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestReportRenderMatchesEval: a report saved by eval and rendered by
// "report render" gives, in every format, the bytes eval wrote itself.
func TestReportRenderMatchesEval(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"ready", "enabled", "broken-consent", "sp-800503ca-all", "sections-errored", "spo-limited"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			saved := filepath.Join(dir, "report.json")
			anchor := "--sarif-anchor=" + filepath.Join(dir, "tenants.yaml")
			root := "--sarif-root=" + dir
			evalSpecs, renderSpecs := []string{"json=" + saved}, []string{}
			for _, f := range report.Formats() {
				evalSpecs = append(evalSpecs, f+"="+filepath.Join(dir, "eval."+f))
				renderSpecs = append(renderSpecs, f+"="+filepath.Join(dir, "render."+f))
			}
			deps := offlineDeps(reportClock)
			if code, _, errOut := runMain(t, deps, "eval", sampleSnapshot(name), anchor, root, "--format", strings.Join(evalSpecs, ",")); code > 1 && code != finding.ExitIncomplete {
				t.Fatalf("eval exit %d: %s", code, errOut)
			}
			code, out, errOut := runMain(t, deps, "report", "render", saved, anchor, root, "--format", strings.Join(renderSpecs, ","))
			if code != 0 || out != "" || errOut != "" {
				t.Fatalf("render exit %d, stdout %q, stderr %q; want 0 and silence", code, out, errOut)
			}
			for _, f := range report.Formats() {
				if e, r := mustRead(t, filepath.Join(dir, "eval."+f)), mustRead(t, filepath.Join(dir, "render."+f)); !bytes.Equal(e, r) {
					t.Errorf("%s: report render differs from eval:\n--- render ---\n%s\n--- eval ---\n%s", f, r, e)
				}
			}
			// To standard output, the default format is the table.
			code, out, _ = runMain(t, deps, "report", "render", saved, root)
			if want := string(mustRead(t, filepath.Join(dir, "eval.table"))); code != 0 || out != want {
				t.Errorf("render to stdout: exit %d, output differs from eval's table:\n%s", code, out)
			}
		})
	}
}

func TestReportRenderInputs(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write := func(name, content string) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	v3 := string(mustRead(t, filepath.Join(repoRoot, "report", "testdata", "blocked.json.golden")))
	v1 := write("v1.json", strings.Replace(v3, finding.ReportSchemaVersion, "teamslink.report/v1", 1))
	broken := write("broken.json", strings.Replace(v3, `"profile": "preflight",`, `"profile": "preflight"`, 1))
	badStatus := write("status.json", strings.Replace(v3, `"status": "fail"`, `"status": "failed"`, 1))
	tests := []struct {
		name string
		args []string
		code int
		out  []string // texts stdout holds
		err  []string // texts stderr holds
	}{
		{name: "a v2 report", args: []string{filepath.Join(repoRoot, "report", "testdata", "v2", "blocked.json"), "--format", "matrix"},
			out: []string{"BLOCKED", "Fabrikam Production"}},
		{name: "missing file", args: []string{filepath.Join(dir, "nope.json")}, code: 2,
			err: []string{"teamslink: read report " + filepath.Join(dir, "nope.json") + ": no such file or directory"}},
		{name: "older version", args: []string{v1}, code: 2,
			err: []string{"read report " + v1 + `: schemaVersion "teamslink.report/v1" is older than this teamslink reads teamslink.report/v2 and teamslink.report/v3`}},
		{name: "broken JSON", args: []string{broken}, code: 2, err: []string{broken + ": line 10, column 3: invalid JSON"}},
		{name: "schema", args: []string{badStatus}, code: 2,
			err: []string{badStatus + ": does not match the teamslink.report/v3 schema: line 76, column 21: environments[0].findings[1].status", "report.schema.json#/$defs/status/enum"}},
		{name: "a snapshot", args: []string{sampleSnapshot("ready")}, code: 2, err: []string{`is a snapshot, not a report: evaluate it with "teamslink eval"`}},
		{name: "unknown format", args: []string{v1, "--format", "pdf"}, code: 2, err: []string{`unknown format "pdf" (valid: `}},
		{name: "no report", args: nil, code: 2, err: []string{"accepts 1 arg(s), received 0"}},
	}
	t.Run("unknown report command", func(t *testing.T) {
		t.Parallel()
		code, _, errOut := runMain(t, offlineDeps(reportClock), "report", "show", "x.json")
		if code != 2 || !strings.Contains(errOut, `unknown command "show" for "teamslink report" (valid: diff, merge, render)`) {
			t.Errorf("exit %d, stderr %q", code, errOut)
		}
	})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			code, out, errOut := runMain(t, offlineDeps(reportClock), append([]string{"report", "render"}, tt.args...)...)
			if code != tt.code {
				t.Errorf("exit %d, want %d; stderr: %s", code, tt.code, errOut)
			}
			for _, w := range tt.out {
				if !strings.Contains(out, w) {
					t.Errorf("stdout lacks %q:\n%s", w, out)
				}
			}
			for _, w := range tt.err {
				if !strings.Contains(errOut, w) {
					t.Errorf("stderr lacks %q:\n%s", w, errOut)
				}
			}
		})
	}
}

// evalTo evaluates the named sample snapshots into one JSON report at path.
func evalTo(t *testing.T, path string, names ...string) {
	t.Helper()
	args := []string{"eval"}
	for _, n := range names {
		args = append(args, sampleSnapshot(n))
	}
	if code, _, errOut := runMain(t, offlineDeps(reportClock), append(args, "--format", "json", "-o", path)...); code > 1 {
		t.Fatalf("eval %v: exit %d: %s", names, code, errOut)
	}
}

// tenantOf is the tenant of the first environment of the report at path.
func tenantOf(t *testing.T, path string) string {
	t.Helper()
	r, err := report.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return r.Environments[0].Tenant
}

// TestReportMerge: the merge of the reports of two shards is the report of
// one eval of both snapshots, byte for byte; overlapping shards are refused.
func TestReportMerge(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	names := []string{"ready", "sp-onedrive", "broken-consent"}
	shards := make([]string, len(names))
	for i, n := range names {
		shards[i] = filepath.Join(dir, n+".json")
		evalTo(t, shards[i], n)
	}
	// One eval of every snapshot, in the order merge sorts tenants.
	byTenant := slices.Clone(names)
	slices.SortFunc(byTenant, func(a, b string) int {
		return strings.Compare(tenantOf(t, filepath.Join(dir, a+".json")), tenantOf(t, filepath.Join(dir, b+".json")))
	})
	whole := filepath.Join(dir, "whole.json")
	evalTo(t, whole, byTenant...)

	merged := filepath.Join(dir, "merged.json")
	code, out, errOut := runMain(t, offlineDeps(reportClock), append(append([]string{"report", "merge"}, shards...), "-o", merged)...)
	if code != 0 || out != "" || errOut != "" {
		t.Fatalf("merge: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	if got, want := mustRead(t, merged), mustRead(t, whole); !bytes.Equal(got, want) {
		t.Errorf("the merged report differs from one eval of every snapshot:\n%s", lineDiff(string(want), string(got)))
	}
	// The matrix of the merge, straight to standard output.
	code, out, _ = runMain(t, offlineDeps(reportClock), "report", "merge", shards[0], shards[1], "--format", "matrix")
	if code != 0 || !strings.Contains(out, "Readiness") || strings.Count(out, "https://") != 2 {
		t.Errorf("merge --format matrix: exit %d:\n%s", code, out)
	}

	copyOf := filepath.Join(dir, "ready-again.json")
	if err := os.WriteFile(copyOf, mustRead(t, shards[0]), 0o600); err != nil {
		t.Fatal(err)
	}
	tenant := tenantOf(t, shards[0])
	refused := []struct {
		name string
		args []string
		want string
	}{
		{name: "overlapping tenants", args: []string{shards[0], shards[1], copyOf},
			want: "teamslink: merge reports: " + shards[0] + " and " + copyOf + " both hold tenant " + tenant + ": the shards of one fleet scan hold disjoint tenants\n"},
		{name: "one file twice", args: []string{shards[0], shards[1], dir + "/./" + filepath.Base(shards[1])},
			want: "is given twice"},
		{name: "an unreadable input", args: []string{shards[0], filepath.Join(dir, "none.json")},
			want: "read report " + filepath.Join(dir, "none.json") + ": no such file or directory"},
	}
	for _, tt := range refused {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			out := filepath.Join(t.TempDir(), "all.json")
			code, _, errOut := runMain(t, offlineDeps(reportClock), append(append([]string{"report", "merge"}, tt.args...), "-o", out)...)
			if code != finding.ExitUsage || !strings.Contains(errOut, tt.want) {
				t.Errorf("exit %d, stderr %q; want 2 and %q", code, errOut, tt.want)
			}
			if _, err := os.Stat(out); err == nil {
				t.Error("a refused merge wrote its output")
			}
		})
	}
}

// demoReport runs "teamslink demo" at the given time over the scenarios in
// dir and returns the path of the JSON report it wrote.
func demoReport(t *testing.T, scenarios string, at time.Time) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "demo")
	code, _, errOut := runMain(t, offlineDeps(at), "demo", "--scenarios", scenarios,
		"--config", filepath.Join(repoRoot, "testdata", "demo", "tenants.yaml"), "--out", out)
	if code != 0 {
		t.Fatalf("demo: exit %d: %s", code, errOut)
	}
	return filepath.Join(out, "report.json")
}

// TestReportDiffDemo is the "done when": the demo's report before
// and after a scenario change (OneDrive switched on in the enabled and the
// ready tenant, without SharePoint integration) shows ENABLED → BROKEN and
// READY → BLOCKED and, with --fail-on-regression, exits 1; the reverse diff
// shows them fixed and exits 0.
func TestReportDiffDemo(t *testing.T) {
	t.Parallel()
	scenarios := t.TempDir()
	files, err := filepath.Glob(filepath.Join(repoRoot, "testdata", "scenarios", "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("scenarios: %v", err)
	}
	for _, f := range files {
		if err := os.WriteFile(filepath.Join(scenarios, filepath.Base(f)), mustRead(t, f), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	before := demoReport(t, scenarios, reportClock)
	for _, name := range []string{"enabled.yaml", "ready.yaml"} {
		path := filepath.Join(scenarios, name)
		doc := string(mustRead(t, path))
		if strings.Count(doc, "isonedriveenabled: false") != 1 {
			t.Fatalf("%s: expected one isonedriveenabled: false", name)
		}
		if err := os.WriteFile(path, []byte(strings.Replace(doc, "isonedriveenabled: false", "isonedriveenabled: true", 1)), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	after := demoReport(t, scenarios, reportClock.Add(24*time.Hour))
	deps := offlineDeps(reportClock)

	tests := []struct {
		name     string
		args     []string
		code     int
		out, err []string
	}{
		{name: "regression", args: []string{before, after, "--fail-on-regression"}, code: 1,
			out: []string{"REGRESSED", "Tailwind Traders Sales", "ENABLED → BROKEN", "Contoso Sales", "READY → BLOCKED", "TL-SP-001", "PASS → FAIL",
				"Environments: 2 regressed · 0 fixed", "Regression: 4 readiness states and 2 findings regressed."},
			err: []string{"teamslink: report diff: 4 readiness states and 2 findings regressed (--fail-on-regression)"}},
		{name: "regression, not asked to fail", args: []string{before, after}, code: 0, out: []string{"ENABLED → BROKEN"}},
		{name: "the reverse is a fix", args: []string{after, before, "--fail-on-regression"}, code: 0,
			out: []string{"FIXED", "BROKEN → ENABLED", "BLOCKED → READY", "FAIL → PASS", "Environments: 0 regressed · 2 fixed", "No regression."}},
		{name: "markdown", args: []string{before, after, "--format", "markdown"}, code: 0,
			out: []string{"**Regression:** 4 readiness states and 2 findings regressed.", "| **regressed** |", "**ENABLED** → **BROKEN**"}},
		{name: "unchanged", args: []string{before, before, "--fail-on-regression"}, code: 0, out: []string{"No environment moved.", "No regression."}},
		{name: "unknown format", args: []string{before, after, "--format", "html"}, code: 2,
			err: []string{`--format: unknown format "html" (valid: json, markdown, table)`}},
		{name: "unreadable", args: []string{before, filepath.Join(t.TempDir(), "missing.json")}, code: 2, err: []string{"missing.json: no such file or directory"}},
		{name: "one report", args: []string{before}, code: 2, err: []string{"accepts 2 arg(s), received 1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			code, out, errOut := runMain(t, deps, append([]string{"report", "diff"}, tt.args...)...)
			if code != tt.code {
				t.Errorf("exit %d, want %d; stderr: %s", code, tt.code, errOut)
			}
			for _, w := range tt.out {
				if !strings.Contains(out, w) {
					t.Errorf("stdout lacks %q:\n%s", w, out)
				}
			}
			for _, w := range tt.err {
				if !strings.Contains(errOut, w) {
					t.Errorf("stderr lacks %q:\n%s", w, errOut)
				}
			}
			if len(tt.err) == 0 && errOut != "" {
				t.Errorf("stderr: %s", errOut)
			}
		})
	}

	t.Run("json to a file", func(t *testing.T) {
		t.Parallel()
		path := filepath.Join(t.TempDir(), "diff.json")
		code, out, errOut := runMain(t, deps, "report", "diff", before, after, "--format", "json", "-o", path, "--fail-on-regression")
		if code != 1 || out != "" || !strings.Contains(errOut, "regressed (--fail-on-regression)") {
			t.Fatalf("exit %d, stdout %q, stderr %q", code, out, errOut)
		}
		var d reportdiff.Diff
		if err := json.Unmarshal(mustRead(t, path), &d); err != nil {
			t.Fatal(err)
		}
		if d.SchemaVersion != reportdiff.SchemaVersion || !d.Summary.Regression || d.Summary.Environments.Regressed != 2 {
			t.Errorf("diff.json: %+v", d.Summary)
		}
		for _, e := range d.Environments {
			want := reportdiff.Unchanged
			if e.URL == "https://tailwind.crm.dynamics.com" || e.URL == "https://contoso-sales.crm.dynamics.com" {
				want = reportdiff.Regressed
			}
			if e.Change != want {
				t.Errorf("%s: %s, want %s", e.URL, e.Change, want)
			}
		}
	})
}
