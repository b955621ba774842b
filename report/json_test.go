package report

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/teamslink/teamslink/internal/finding"
)

const schemaURL = "urn:teamslink:report:v3"

// compileSchema compiles JSONSchema with format assertions on.
func compileSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(JSONSchema))
	if err != nil {
		t.Fatalf("parse schema: %v", err)
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	c.AssertFormat()
	if err := c.AddResource(schemaURL, doc); err != nil {
		t.Fatalf("add schema: %v", err)
	}
	sch, err := c.Compile(schemaURL)
	if err != nil {
		t.Fatalf("compile schema: %v", err)
	}
	return sch
}

func decodeInstance(t *testing.T, b []byte) any {
	t.Helper()
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("parse instance: %v", err)
	}
	return v
}

// TestGoldenJSONMatchesSchema validates every golden JSON report, and the
// JSON of every fixture as rendered now (the same bytes once the golden
// test passes; under -update the files are being rewritten concurrently).
func TestGoldenJSONMatchesSchema(t *testing.T) {
	t.Parallel()
	sch := compileSchema(t)
	for _, fx := range fixtures() {
		t.Run("rendered/"+fx.name, func(t *testing.T) {
			t.Parallel()
			if err := sch.Validate(decodeInstance(t, render(t, "json", fx.report, fixedOptions(false)))); err != nil {
				t.Fatalf("JSON of fixture %s does not match the schema: %v", fx.name, err)
			}
		})
	}
	if *update {
		return
	}
	paths, err := filepath.Glob(filepath.Join("testdata", "*.json.golden"))
	if err != nil {
		t.Fatal(err)
	}
	if len(paths) < len(fixtures()) {
		t.Fatalf("found %d golden JSON files, want at least %d (run go test ./report -update)", len(paths), len(fixtures()))
	}
	for _, path := range paths {
		t.Run(path, func(t *testing.T) {
			t.Parallel()
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if err := sch.Validate(decodeInstance(t, b)); err != nil {
				t.Fatalf("%s does not match the schema: %v", path, err)
			}
		})
	}
}

// TestSchemaIsStrict proves the schema rejects what the contract forbids
// and accepts what it leaves open.
func TestSchemaIsStrict(t *testing.T) {
	t.Parallel()
	sch := compileSchema(t)
	base := render(t, "json", newReport(blockedEnv()), fixedOptions(false))
	tests := []struct {
		name   string
		mutate func(doc map[string]any)
		valid  bool
	}{
		{name: "unchanged", mutate: func(map[string]any) {}, valid: true},
		{name: "open evidence", valid: true, mutate: func(d map[string]any) {
			findingWith(t, d, "evidence")["evidence"].(map[string]any)["anythingGoes"] = []any{1, "two"}
		}},
		{name: "unknown top-level key", mutate: func(d map[string]any) { d["extra"] = true }},
		{name: "wrong schema version", mutate: func(d map[string]any) { d["schemaVersion"] = "teamslink.report/v1" }},
		{name: "missing summary", mutate: func(d map[string]any) { delete(d, "summary") }},
		{name: "unknown summary status", mutate: func(d map[string]any) { d["summary"].(map[string]any)["broken"] = 1 }},
		{name: "negative count", mutate: func(d map[string]any) { d["summary"].(map[string]any)["fail"] = -1 }},
		{name: "bad generatedAt", mutate: func(d map[string]any) { d["generatedAt"] = "yesterday" }},
		{name: "unknown tool key", mutate: func(d map[string]any) { d["tool"].(map[string]any)["commit"] = "abc" }},
		{name: "unknown environment key", mutate: func(d map[string]any) { firstEnv(d)["region"] = "emea" }},
		{name: "bad experience", mutate: func(d map[string]any) { firstEnv(d)["experience"] = "premium" }},
		{name: "unknown verdict key", mutate: func(d map[string]any) {
			firstEnv(d)["verdicts"].([]any)[0].(map[string]any)["score"] = 3
		}},
		{name: "bad readiness", mutate: func(d map[string]any) {
			firstEnv(d)["verdicts"].([]any)[0].(map[string]any)["readiness"] = "MAYBE"
		}},
		{name: "unknown finding key", mutate: func(d map[string]any) { firstFinding(d)["confidence"] = "high" }},
		{name: "bad status", mutate: func(d map[string]any) { firstFinding(d)["status"] = "failed" }},
		{name: "bad severity", mutate: func(d map[string]any) { firstFinding(d)["severity"] = "urgent" }},
		{name: "missing rule", mutate: func(d map[string]any) { delete(firstFinding(d), "rule") }},
		{name: "evidence not an object", mutate: func(d map[string]any) { firstFinding(d)["evidence"] = "text" }},
		{name: "unknown fix key", mutate: func(d map[string]any) {
			findingWith(t, d, "fix")["fix"].(map[string]any)["dryRun"] = true
		}},
		{name: "unknown waiver key", mutate: func(d map[string]any) {
			findingWith(t, d, "waiver")["waiver"].(map[string]any)["ticket"] = "CHG-1"
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			doc := decodeInstance(t, base).(map[string]any)
			tt.mutate(doc)
			err := sch.Validate(doc)
			if tt.valid && err != nil {
				t.Fatalf("want valid, got %v", err)
			}
			if !tt.valid && err == nil {
				t.Fatal("want the schema to reject the document, it accepted it")
			}
		})
	}
}

func firstEnv(d map[string]any) map[string]any {
	return d["environments"].([]any)[0].(map[string]any)
}

func firstFinding(d map[string]any) map[string]any {
	return firstEnv(d)["findings"].([]any)[0].(map[string]any)
}

func findingWith(t *testing.T, d map[string]any, key string) map[string]any {
	t.Helper()
	for _, f := range firstEnv(d)["findings"].([]any) {
		if m := f.(map[string]any); m[key] != nil {
			return m
		}
	}
	t.Fatalf("fixture has no finding with %q", key)
	return nil
}

// TestSchemaCoversGoTypes keeps the schema and the Go model in step: every
// JSON field of each type is a property of its schema object and the other
// way round, and the schema's required list is the fields without omitempty.
func TestSchemaCoversGoTypes(t *testing.T) {
	t.Parallel()
	var schema map[string]any
	if err := json.Unmarshal(JSONSchema, &schema); err != nil {
		t.Fatal(err)
	}
	defs := schema["$defs"].(map[string]any)
	tests := []struct {
		def string
		typ reflect.Type
	}{
		{"", reflect.TypeFor[finding.Report]()},
		{"tool", reflect.TypeFor[finding.Tool]()},
		{"environment", reflect.TypeFor[finding.Environment]()},
		{"verdict", reflect.TypeFor[finding.Verdict]()},
		{"finding", reflect.TypeFor[finding.Finding]()},
		{"fix", reflect.TypeFor[finding.Fix]()},
		{"access", reflect.TypeFor[finding.Access]()},
		{"signInError", reflect.TypeFor[finding.SignInError]()},
		{"waiver", reflect.TypeFor[finding.Waiver]()},
	}
	for _, tt := range tests {
		t.Run(tt.typ.Name(), func(t *testing.T) {
			t.Parallel()
			obj := schema
			if tt.def != "" {
				obj = defs[tt.def].(map[string]any)
			}
			if obj["additionalProperties"] != false {
				t.Errorf("schema for %s is not closed (additionalProperties: false)", tt.typ)
			}
			var props []string
			for k := range obj["properties"].(map[string]any) {
				props = append(props, k)
			}
			var required []string
			for _, r := range obj["required"].([]any) {
				required = append(required, r.(string))
			}
			fields, wantRequired := jsonFields(tt.typ)
			slices.Sort(props)
			slices.Sort(required)
			if !slices.Equal(props, fields) {
				t.Errorf("schema properties %v; Go fields %v", props, fields)
			}
			if !slices.Equal(required, wantRequired) {
				t.Errorf("schema required %v; Go fields without omitempty %v", required, wantRequired)
			}
		})
	}
	// Summary is keyed by status: exactly the defined statuses.
	var statuses []string
	for _, s := range finding.Statuses {
		statuses = append(statuses, string(s))
	}
	var summary []string
	for k := range defs["summary"].(map[string]any)["properties"].(map[string]any) {
		summary = append(summary, k)
	}
	slices.Sort(statuses)
	slices.Sort(summary)
	if !slices.Equal(summary, statuses) {
		t.Errorf("summary properties %v; statuses %v", summary, statuses)
	}
	// The enums are exactly the Go constants.
	enum := func(def string) []string {
		var out []string
		for _, v := range defs[def].(map[string]any)["enum"].([]any) {
			out = append(out, v.(string))
		}
		slices.Sort(out)
		return out
	}
	var readiness []string
	for _, r := range finding.Readinesses {
		readiness = append(readiness, string(r))
	}
	slices.Sort(readiness)
	if got := enum("readiness"); !slices.Equal(got, readiness) {
		t.Errorf("readiness enum %v; Go readinesses %v", got, readiness)
	}
	if got := enum("status"); !slices.Equal(got, statuses) {
		t.Errorf("status enum %v; Go statuses %v", got, statuses)
	}
}

// jsonFields returns the JSON names of t's fields (embedded structs
// flattened), sorted, and those not marked omitempty.
func jsonFields(t reflect.Type) (all, required []string) {
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" || !f.IsExported() {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if f.Anonymous && name == "" {
			a, r := jsonFields(f.Type)
			all, required = append(all, a...), append(required, r...)
			continue
		}
		if name == "" {
			name = f.Name
		}
		all = append(all, name)
		if !slices.Contains(strings.Split(opts, ","), "omitempty") {
			required = append(required, name)
		}
	}
	slices.Sort(all)
	slices.Sort(required)
	return all, required
}

func TestJSONContract(t *testing.T) {
	t.Parallel()
	sch := compileSchema(t)
	tests := []struct {
		name    string
		report  func() *finding.Report
		wantErr string
	}{
		{name: "schema version filled in", report: func() *finding.Report {
			r := newReport(readyEnv())
			r.SchemaVersion = ""
			return r
		}},
		{name: "summary counted when absent", report: func() *finding.Report {
			r := newReport(blockedEnv())
			r.Summary = nil
			return r
		}},
		{name: "nil lists written as empty", report: func() *finding.Report {
			e := basicEnv()
			e.Verdicts, e.Findings = nil, nil
			r := newReport(e)
			r.Environments = append(r.Environments, finding.Environment{
				Tenant: contosoID, URL: "https://x.crm.dynamics.com", Experience: finding.ExperienceBasic,
				Findings: []finding.Finding{{Key: finding.Key{Tenant: contosoID, Environment: "https://x.crm.dynamics.com", Rule: "X-1"},
					Severity: finding.SeverityLow, Status: finding.StatusPass}},
			})
			r.Summary = r.Summarize()
			return r
		}},
		{name: "other schema version refused", wantErr: `report schemaVersion "teamslink.report/v1" is not one teamslink reads (teamslink.report/v2, teamslink.report/v3)`,
			report: func() *finding.Report {
				r := newReport(readyEnv())
				r.SchemaVersion = "teamslink.report/v1"
				return r
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := tt.report()
			before, _ := json.Marshal(r)
			var buf bytes.Buffer
			w, err := New("json", &buf, fixedOptions(false))
			if err != nil {
				t.Fatal(err)
			}
			err = w.Write(t.Context(), r)
			if after, _ := json.Marshal(r); !bytes.Equal(before, after) {
				t.Error("Write modified the report it was given")
			}
			if tt.wantErr != "" {
				var sve *SchemaVersionError
				if !errors.As(err, &sve) || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Write = %v; want a SchemaVersionError %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if err := sch.Validate(decodeInstance(t, buf.Bytes())); err != nil {
				t.Fatalf("output does not match the schema: %v\n%s", err, buf.Bytes())
			}
			var back finding.Report
			dec := json.NewDecoder(&buf)
			dec.DisallowUnknownFields()
			if err := dec.Decode(&back); err != nil {
				t.Fatalf("output does not decode into finding.Report: %v", err)
			}
			if back.SchemaVersion != finding.ReportSchemaVersion {
				t.Errorf("schemaVersion = %q", back.SchemaVersion)
			}
			if !reflect.DeepEqual(back.Summary, r.Summarize()) {
				t.Errorf("summary = %v; want %v", back.Summary, r.Summarize())
			}
		})
	}
}

func TestJSONIsIndentedAndUnescaped(t *testing.T) {
	t.Parallel()
	out := string(render(t, "json", newReport(blockedEnv()), fixedOptions(false)))
	if !strings.HasPrefix(out, "{\n  \"schemaVersion\": \"teamslink.report/v3\",\n") {
		t.Errorf("output does not start with the 2-space indented schemaVersion:\n%.200s", out)
	}
	if !strings.HasSuffix(out, "}\n") {
		t.Error("output does not end with a newline")
	}
	if strings.Contains(out, `\u003e`) || !strings.Contains(out, "Settings > Document management") {
		t.Error("output HTML-escapes > in messages")
	}
}

// TestJSONStreamsTheWholeDocument: the writer, which writes the
// environments one at a time, writes the bytes of encoding the whole
// document at once, for every fixture, a report of no environment, and
// evidence full of the characters HTML escaping would change.
func TestJSONStreamsTheWholeDocument(t *testing.T) {
	t.Parallel()
	html := newReport(readyEnv())
	html.Environments[0].Findings[0].Message = `<a href="x?a=1&b=2">link</a> "quoted" \ back`
	reports := map[string]*finding.Report{"no environment": newReport(), "html characters": html}
	for _, f := range fixtures() {
		reports[f.name] = f.report
	}
	for name, r := range reports {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			doc, err := contractReport(r, true)
			if err != nil {
				t.Fatal(err)
			}
			want, err := encodeJSON(doc, "")
			if err != nil {
				t.Fatal(err)
			}
			var got bytes.Buffer
			if err := newJSONWriter(&got, Options{}).Write(t.Context(), r); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got.Bytes(), want) {
				t.Errorf("streamed report differs from the whole document's encoding:\n got %.300q\nwant %.300q", got.Bytes(), want)
			}
		})
	}
}
