package report

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/teamslink/teamslink/internal/finding"
)

// TestReadRoundTrip reads every golden JSON report back and renders it
// again: the JSON is byte for byte the golden file, and every other format
// renders the saved report exactly as it rendered the report in memory.
func TestReadRoundTrip(t *testing.T) {
	t.Parallel()
	if *update {
		t.Skip("the golden files are being rewritten")
	}
	for _, fx := range fixtures() {
		t.Run(fx.name, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join("testdata", fx.name+".json.golden")
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			rep, err := ReadFile(path)
			if err != nil {
				t.Fatalf("ReadFile: %v", err)
			}
			if got := render(t, "json", rep, fixedOptions(false)); !bytes.Equal(got, want) {
				t.Fatalf("the report read from %s renders other JSON:\n%s", path, got)
			}
			for _, format := range Formats() {
				direct := render(t, format, fx.report, fixedOptions(false))
				if got := render(t, format, rep, fixedOptions(false)); !bytes.Equal(got, direct) {
					t.Errorf("%s: the report read back renders differently from the one in memory:\n--- read ---\n%s\n--- in memory ---\n%s", format, got, direct)
				}
			}
		})
	}
}

// TestReadV2 reads reports saved by the v2 contract: they validate against
// the v2 schema, keep their declared version, and render as v3 with what v3
// added left absent.
func TestReadV2(t *testing.T) {
	t.Parallel()
	paths, err := filepath.Glob(filepath.Join("testdata", "v2", "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(paths) == 0 {
		t.Fatal("no v2 reports in testdata/v2")
	}
	sch := compileSchema(t)
	for _, path := range paths {
		t.Run(filepath.Base(path), func(t *testing.T) {
			t.Parallel()
			old, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			rep, err := Read(bytes.NewReader(old), path)
			if err != nil {
				t.Fatalf("Read: %v", err)
			}
			if rep.SchemaVersion != "teamslink.report/v2" {
				t.Errorf("SchemaVersion = %q; want the declared teamslink.report/v2", rep.SchemaVersion)
			}
			if rep.Rules != nil || rep.Waivers != nil {
				t.Errorf("a v2 report got rules or waivers it does not carry")
			}
			for _, e := range rep.Environments {
				if e.DeclaredAt != nil {
					t.Errorf("%s got a declaredAt a v2 report does not carry", e.URL)
				}
			}
			got := render(t, "json", rep, fixedOptions(false))
			if err := sch.Validate(decodeInstance(t, got)); err != nil {
				t.Fatalf("the v2 report renders JSON that is not v3: %v", err)
			}
			want := bytes.Replace(old, []byte(`"teamslink.report/v2"`), []byte(`"`+finding.ReportSchemaVersion+`"`), 1)
			if !bytes.Equal(got, want) {
				t.Errorf("rendered as v3, the report is more than the v2 document with its version raised:\n%s", got)
			}
			if _, err := Read(bytes.NewReader(got), "rendered"); err != nil {
				t.Errorf("the v3 rendering does not read back: %v", err)
			}
			for _, format := range Formats() {
				render(t, format, rep, fixedOptions(false))
			}
		})
	}
}

// TestReadSchemasCoverReadableVersions keeps the schemas Read knows in step
// with the versions the model says are readable.
func TestReadSchemasCoverReadableVersions(t *testing.T) {
	t.Parallel()
	for _, v := range finding.ReadableReportVersions {
		compile, ok := readSchemas[v]
		if !ok {
			t.Errorf("no schema for readable version %s", v)
			continue
		}
		if _, err := compile(); err != nil {
			t.Errorf("schema of %s: %v", v, err)
		}
		if schemaFiles[v] == "" {
			t.Errorf("no schema file name for %s", v)
		}
	}
	if len(readSchemas) != len(finding.ReadableReportVersions) {
		t.Errorf("%d schemas for %d readable versions", len(readSchemas), len(finding.ReadableReportVersions))
	}
}

// blockedJSON is the blocked fixture as saved.
func blockedJSON(t *testing.T) string {
	t.Helper()
	return string(render(t, "json", newReport(blockedEnv()), fixedOptions(false)))
}

// replaceOnce replaces the first old in s, failing when there is none.
func replaceOnce(t *testing.T, s, old, new string) string {
	t.Helper()
	if !strings.Contains(s, old) {
		t.Fatalf("the document has no %q", old)
	}
	return strings.Replace(s, old, new, 1)
}

func TestReadRefuses(t *testing.T) {
	t.Parallel()
	base := blockedJSON(t)
	tests := []struct {
		name string
		doc  func(t *testing.T) string
		// as is the type the reason must be; want are texts the message
		// must hold, in order.
		as   any
		want []string
	}{
		{name: "empty", doc: func(*testing.T) string { return " \n" },
			as: new(*SyntaxError), want: []string{"read report in.json: line 2, column 1: invalid JSON: empty document"}},
		{name: "broken syntax", doc: func(t *testing.T) string {
			return replaceOnce(t, base, `"profile": "preflight",`, `"profile": "preflight"`)
		},
			as: new(*SyntaxError), want: []string{"in.json: line 10, column 3: invalid JSON: invalid character '\"' after object key:value pair"}},
		{name: "truncated", doc: func(*testing.T) string { return base[:len(base)/2] },
			as: new(*SyntaxError), want: []string{"invalid JSON: unexpected end of input"}},
		{name: "trailing data", doc: func(*testing.T) string { return base + "{}\n" },
			as: new(*SyntaxError), want: []string{"data after the JSON document"}},
		{name: "duplicate key", doc: func(t *testing.T) string {
			return replaceOnce(t, base, `"profile": "preflight",`, `"profile": "preflight", "profile": "enabled",`)
		}, as: new(*SyntaxError), want: []string{"line 9, column 27: invalid JSON: key \"profile\" given twice in one object"}},
		{name: "too deep", doc: func(*testing.T) string {
			return strings.Repeat("[", maxReadDepth+1) + strings.Repeat("]", maxReadDepth+1)
		},
			as: new(*SyntaxError), want: []string{"line 1, column 65: invalid JSON: nested deeper than 64 levels"}},
		{name: "not an object", doc: func(*testing.T) string { return `[1, 2]` },
			as: new(*SchemaError), want: []string{"read report in.json: not a teamslink report: line 1, column 1: expected a JSON object (a teamslink report), got an array"}},
		{name: "no version", doc: func(t *testing.T) string {
			return replaceOnce(t, base, `"schemaVersion": "teamslink.report/v3",`, ``)
		}, as: new(*VersionError), want: []string{"in.json: no schemaVersion: not a teamslink report (this teamslink reads teamslink.report/v2 and teamslink.report/v3)"}},
		{name: "older version", doc: func(t *testing.T) string {
			return replaceOnce(t, base, `"teamslink.report/v3"`, `"teamslink.report/v1"`)
		}, as: new(*VersionError), want: []string{`in.json: schemaVersion "teamslink.report/v1" is older than this teamslink reads teamslink.report/v2 and teamslink.report/v3`}},
		{name: "newer version", doc: func(t *testing.T) string {
			return replaceOnce(t, base, `"teamslink.report/v3"`, `"teamslink.report/v4"`)
		}, as: new(*VersionError), want: []string{`schemaVersion "teamslink.report/v4" is newer than this teamslink reads`, "use a newer teamslink"}},
		{name: "a snapshot", doc: func(*testing.T) string { return `{"schemaVersion": "teamslink.snapshot/v1"}` },
			as: new(*VersionError), want: []string{`is a snapshot, not a report: evaluate it with "teamslink eval"`}},
		{name: "another document", doc: func(*testing.T) string { return `{"schemaVersion": "2.1.0"}` },
			as: new(*VersionError), want: []string{`schemaVersion "2.1.0" is not a teamslink report version`}},
		{name: "bad status", doc: func(t *testing.T) string { return replaceOnce(t, base, `"status": "fail"`, `"status": "failed"`) },
			as: new(*SchemaError), want: []string{
				"does not match the teamslink.report/v3 schema: line 76, column 21: environments[0].findings[1].status:",
				`, got "failed" (schema report.schema.json#/$defs/status/enum)`}},
		{name: "unknown key", doc: func(t *testing.T) string {
			return replaceOnce(t, base, `"profile": "preflight",`, `"profile": "preflight", "colour": "red",`)
		}, as: new(*SchemaError), want: []string{"line 1, column 1: additional properties 'colour' not allowed (schema report.schema.json#/additionalProperties)"}},
		{name: "missing field", doc: func(t *testing.T) string {
			return replaceOnce(t, base, `"message": "7 SharePoint sites`, `"note": "7 SharePoint sites`)
		},
			as: new(*SchemaError), want: []string{"(2 problems)", "environments[0].findings[1]: additional properties 'note' not allowed", "environments[0].findings[1]: missing property 'message'"}},
		{name: "v2 document with a v3 field", doc: func(t *testing.T) string {
			v2, err := os.ReadFile(filepath.Join("testdata", "v2", "blocked.json"))
			if err != nil {
				t.Fatal(err)
			}
			return replaceOnce(t, string(v2), `"profile": "preflight",`, `"profile": "preflight", "rules": [],`)
		}, as: new(*SchemaError), want: []string{"does not match the teamslink.report/v2 schema", "additional properties 'rules' not allowed (schema report.v2.schema.json#/additionalProperties)"}},
		{name: "count beyond int", doc: func(t *testing.T) string { return replaceOnce(t, base, `"fail": 4`, `"fail": 99999999999999999999`) },
			as: new(*SchemaError), want: []string{"summary: cannot hold number 99999999999999999999 in a Go int"}},
		{name: "bad time", doc: func(t *testing.T) string {
			return replaceOnce(t, base, `"generatedAt": "2026-11-02T09:20:00Z"`, `"generatedAt": "yesterday"`)
		}, as: new(*SchemaError), want: []string{"line 7, column 18: generatedAt: 'yesterday' is not valid date-time", "(schema report.schema.json#/properties/generatedAt/format)"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rep, err := Read(strings.NewReader(tt.doc(t)), "in.json")
			if err == nil {
				t.Fatalf("Read accepted it: %+v", rep)
			}
			var re *ReadError
			if !errors.As(err, &re) || re.Path != "in.json" {
				t.Fatalf("error %T %v is not a *ReadError naming in.json", err, err)
			}
			if !errors.As(err, tt.as) {
				t.Errorf("error %v does not wrap a %T", err, tt.as)
			}
			msg := err.Error()
			rest := msg
			for _, w := range tt.want {
				i := strings.Index(rest, w)
				if i < 0 {
					t.Fatalf("message lacks %q (in order):\n%s", w, msg)
				}
				rest = rest[i+len(w):]
			}
		})
	}
}

func TestReadTooLarge(t *testing.T) {
	t.Parallel()
	big := io.MultiReader(strings.NewReader(`{"schemaVersion": "`), zeros{}, strings.NewReader(`"}`))
	_, err := Read(io.LimitReader(big, MaxReadSize+10), "huge.json")
	var tl *TooLargeError
	if !errors.As(err, &tl) || !strings.Contains(err.Error(), "read report huge.json: larger than the limit of 256 MiB") {
		t.Fatalf("Read of a document over the limit = %v", err)
	}
}

// zeros reads as endless '0' bytes.
type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = '0'
	}
	return len(p), nil
}

var errBrokenDisk = errors.New("input/output error")

type failingReader struct{}

func (failingReader) Read([]byte) (int, error) { return 0, errBrokenDisk }

func TestReadFileErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	missing := filepath.Join(dir, "missing.json")
	_, err := ReadFile(missing)
	var re *ReadError
	if !errors.As(err, &re) || re.Path != missing || !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("ReadFile(missing) = %v", err)
	}
	if got, want := err.Error(), "read report "+missing+": no such file or directory"; got != want {
		t.Errorf("message %q; want %q", got, want)
	}
	if _, err := Read(failingReader{}, "disk.json"); !errors.Is(err, errBrokenDisk) || !errors.As(err, &re) {
		t.Errorf("Read of a failing reader = %v", err)
	}
}

// TestReadDoesNotShareInput proves the report read owns its data: reading
// the same bytes twice gives equal, independent reports.
func TestReadDoesNotShareInput(t *testing.T) {
	t.Parallel()
	doc := []byte(blockedJSON(t))
	a, err := Read(bytes.NewReader(doc), "a")
	if err != nil {
		t.Fatal(err)
	}
	b, err := Read(bytes.NewReader(doc), "b")
	if err != nil {
		t.Fatal(err)
	}
	a.Environments[0].Findings[0].Status = finding.StatusFail
	if b.Environments[0].Findings[0].Status == finding.StatusFail {
		t.Fatal("two reads share their findings")
	}
}

// FuzzRead feeds Read arbitrary documents, seeded with every golden and v2
// report. Whatever it is given, Read returns a report or a *ReadError, never
// panics; a report it returns renders in every format, and its JSON reads
// back to the same JSON. Run it with
//
//	go test ./report -run '^$' -fuzz FuzzRead -fuzztime 60s -fuzzminimizetime 5s
//
// (the seeds are whole reports, so minimising one at the default 60s per
// new input leaves little time to fuzz).
func FuzzRead(f *testing.F) {
	seeds, _ := filepath.Glob(filepath.Join("testdata", "*.json.golden"))
	v2, _ := filepath.Glob(filepath.Join("testdata", "v2", "*.json"))
	for _, p := range append(seeds, v2...) {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"schemaVersion": "teamslink.report/v3"}`))
	f.Add([]byte(`{"schemaVersion": "teamslink.report/v2", "schemaVersion": "teamslink.report/v3"}`))
	f.Add([]byte(`[`))
	f.Fuzz(func(t *testing.T, doc []byte) {
		rep, err := Read(bytes.NewReader(doc), "fuzz.json")
		if err != nil {
			var re *ReadError
			if !errors.As(err, &re) {
				t.Fatalf("error %T is not a *ReadError: %v", err, err)
			}
			return
		}
		first := render(t, "json", rep, fixedOptions(false))
		again, err := Read(bytes.NewReader(first), "rendered.json")
		if err != nil {
			t.Fatalf("the JSON of a report Read accepted does not read back: %v\n%s", err, first)
		}
		if second := render(t, "json", again, fixedOptions(false)); !bytes.Equal(first, second) {
			t.Fatalf("JSON changes on a second round trip:\n--- first ---\n%s\n--- second ---\n%s", first, second)
		}
		for _, format := range Formats() {
			render(t, format, rep, fixedOptions(false))
		}
	})
}

// TestReadManyProblems: a large document with a problem in every finding is
// located in one pass and said in a bounded message.
func TestReadManyProblems(t *testing.T) {
	t.Parallel()
	e := blockedEnv()
	one := e.Findings[1] // fail
	e.Findings = nil
	for i := range 5000 {
		f := one
		f.Table = fmt.Sprintf("new_table%04d", i)
		e.Findings = append(e.Findings, f)
	}
	doc := strings.ReplaceAll(string(render(t, "json", newReport(e), fixedOptions(false))), `"status": "fail"`, `"status": "failed"`)
	_, err := Read(strings.NewReader(doc), "many.json")
	var se *SchemaError
	if !errors.As(err, &se) || len(se.Problems) != 5000 {
		t.Fatalf("Read = %v; want 5000 problems", err)
	}
	msg := err.Error()
	if !strings.Contains(msg, "(5000 problems):") || !strings.Contains(msg, "… and 4980 more") || strings.Count(msg, "\n") != 21 {
		t.Errorf("message not bounded:\n%s", msg)
	}
	if last := se.Problems[4999]; last.Path != "environments[0].findings[4999].status" || last.Line < 5000 {
		t.Errorf("last problem %+v", last)
	}
}
