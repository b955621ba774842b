package reportdiff

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/olekukonko/tablewriter/pkg/twwidth"
	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/teamslink/teamslink/internal/finding"
	"github.com/teamslink/teamslink/internal/termtext"
	"github.com/teamslink/teamslink/report"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

func TestMain(m *testing.M) {
	// tablewriter measures ambiguous-width runes (—, →) from the locale;
	// pin them narrow so golden files do not depend on who runs the tests.
	twwidth.SetEastAsian(false)
	os.Exit(m.Run())
}

func write(t *testing.T, format string, d Diff, opts Options) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := Write(t.Context(), &buf, format, d, opts); err != nil {
		t.Fatalf("Write(%s): %v", format, err)
	}
	return buf.Bytes()
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden file (run go test ./internal/reportdiff -update to create it): %v", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("output differs from %s (run go test ./internal/reportdiff -update after checking the change)\n--- got ---\n%s", path, got)
	}
}

// cases are the diffs every format is golden-tested with.
func cases() []struct {
	name string
	diff Diff
} {
	fo, fn := fleetPair()
	so, sn := samePair()
	return []struct {
		name string
		diff Diff
	}{
		{"fleet", Compare(fo, fn)},
		{"fixed", Compare(fn, fo)},
		{"unchanged", Compare(so, sn)},
		{"empty", Compare(nil, nil)},
	}
}

func TestGolden(t *testing.T) {
	t.Parallel()
	for _, c := range cases() {
		for _, format := range Formats() {
			t.Run(c.name+"/"+format, func(t *testing.T) {
				t.Parallel()
				golden(t, c.name+"."+format+".golden", write(t, format, c.diff, Options{}))
			})
		}
	}
	t.Run("fleet/table-color", func(t *testing.T) {
		t.Parallel()
		d := cases()[0].diff
		on := write(t, "table", d, Options{Color: true})
		golden(t, "fleet.table-color.golden", on)
		if off := write(t, "table", d, Options{}); termtext.StripSGR(string(on)) != string(off) {
			t.Error("colour on and off differ in more than escapes")
		}
		if js := write(t, "json", d, Options{Color: true}); bytes.Contains(js, []byte("\x1b[")) {
			t.Error("json with Color contains ANSI escapes")
		}
	})
}

func compileSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(JSONSchema))
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	c.AssertFormat()
	if err := c.AddResource("urn:teamslink:diff:v1", doc); err != nil {
		t.Fatal(err)
	}
	sch, err := c.Compile("urn:teamslink:diff:v1")
	if err != nil {
		t.Fatal(err)
	}
	return sch
}

func instance(t *testing.T, b []byte) any {
	t.Helper()
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// TestJSONMatchesSchema validates the JSON of every case against the
// embedded schema, and proves the schema strict.
func TestJSONMatchesSchema(t *testing.T) {
	t.Parallel()
	sch := compileSchema(t)
	for _, c := range cases() {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			if err := sch.Validate(instance(t, write(t, "json", c.diff, Options{}))); err != nil {
				t.Fatalf("JSON of %s does not match the schema: %v", c.name, err)
			}
		})
	}
	base := write(t, "json", cases()[0].diff, Options{})
	firstEnv := func(d map[string]any) map[string]any { return d["environments"].([]any)[0].(map[string]any) }
	tests := []struct {
		name   string
		mutate func(map[string]any)
	}{
		{"unknown top-level key", func(d map[string]any) { d["extra"] = 1 }},
		{"wrong version", func(d map[string]any) { d["schemaVersion"] = "teamslink.diff/v2" }},
		{"unknown change", func(d map[string]any) { firstEnv(d)["change"] = "worse" }},
		{"missing summary count", func(d map[string]any) { delete(d["summary"].(map[string]any)["findings"].(map[string]any), "gone") }},
		{"bad readiness", func(d map[string]any) { firstEnv(d)["readiness"].([]any)[0].(map[string]any)["new"] = "MAYBE" }},
		{"unknown finding key", func(d map[string]any) {
			firstEnv(d)["findings"].([]any)[0].(map[string]any)["evidence"] = map[string]any{}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			doc := instance(t, base).(map[string]any)
			tt.mutate(doc)
			if sch.Validate(doc) == nil {
				t.Fatal("the schema accepted it")
			}
		})
	}
}

func TestWriteRefuses(t *testing.T) {
	t.Parallel()
	d := cases()[0].diff
	err := Write(t.Context(), &bytes.Buffer{}, "sarif", d, Options{})
	var ufe *report.UnknownFormatError
	if !errors.As(err, &ufe) || err.Error() != `unknown format "sarif" (valid: json, markdown, table)` {
		t.Errorf("unknown format: %v", err)
	}
	canceled, cancel := context.WithCancel(t.Context())
	cancel()
	var buf bytes.Buffer
	if err := Write(canceled, &buf, "table", d, Options{}); !errors.Is(err, context.Canceled) || buf.Len() != 0 {
		t.Errorf("canceled: %v, %d bytes", err, buf.Len())
	}
	for _, format := range Formats() {
		if err := Write(t.Context(), failing{}, format, d, Options{}); !errors.Is(err, errFull) {
			t.Errorf("%s to a failing writer: %v", format, err)
		}
		if err := Write(t.Context(), short{}, format, d, Options{}); err == nil {
			t.Errorf("%s to a short writer: nil", format)
		}
	}
	if err := Write(t.Context(), &buf, " Markdown ", d, Options{}); err != nil {
		t.Errorf("format names are case and space insensitive: %v", err)
	}
}

var errFull = errors.New("disk full")

type failing struct{}

func (failing) Write([]byte) (int, error) { return 0, errFull }

type short struct{}

func (short) Write(p []byte) (int, error) { return len(p) / 2, nil }

// TestUntrustedText: text from a report cannot restyle a terminal or break
// out of a Markdown table cell.
func TestUntrustedText(t *testing.T) {
	t.Parallel()
	old := rep(oldAt, env(contoso, "Evil\x1b]0;pwned\x07", tailwindURL, "a | b", finding.Ready, "",
		f("TL-SP-001", "", finding.StatusPass, "fine")))
	new := rep(newAt, env(contoso, "Evil\x1b]0;pwned\x07", tailwindURL, "a | b", finding.Blocked, "",
		f("TL-SP-001", "", finding.StatusFail, "sites \x1b[2J <script>alert(1)</script> | *bold* \u202e\nnext")))
	d := Compare(old, new)
	table := string(write(t, "table", d, Options{}))
	for _, bad := range []string{"\x1b", "\x07", "\u202e"} {
		if strings.Contains(table, bad) {
			t.Errorf("table output holds %q", bad)
		}
	}
	md := string(write(t, "markdown", d, Options{}))
	for _, bad := range []string{"<script>", "\x1b", " | *bold*", "a | b"} {
		if strings.Contains(md, bad) {
			t.Errorf("markdown holds %q:\n%s", bad, md)
		}
	}
	if !strings.Contains(md, `&lt;script&gt;alert(1)&lt;/script&gt; \| \*bold\*`) {
		t.Errorf("markdown lacks the escaped message:\n%s", md)
	}
}

// TestMarkdownBounded: a diff too big for a job summary is cut, with a
// note, under GitHub's 1 MiB limit.
func TestMarkdownBounded(t *testing.T) {
	t.Parallel()
	var olds, news []finding.Environment
	for i := range 400 {
		url := fmt.Sprintf("https://org%03d.crm.dynamics.com", i)
		var of, nf []finding.Finding
		for j := range 12 {
			of = append(of, f("TL-ENT-001", fmt.Sprintf("new_table%02d", j), finding.StatusPass, "fine"))
			nf = append(nf, f("TL-ENT-001", fmt.Sprintf("new_table%02d", j), finding.StatusFail, strings.Repeat("Document management is not enabled on the table. ", 4)))
		}
		olds = append(olds, env(contoso, "Contoso", url, "", finding.Ready, "", of...))
		news = append(news, env(contoso, "Contoso", url, "", finding.Blocked, "", nf...))
	}
	md := write(t, "markdown", Compare(rep(oldAt, olds...), rep(newAt, news...)), Options{})
	if len(md) > MaxMarkdownSize {
		t.Fatalf("markdown is %d bytes; the limit is %d", len(md), MaxMarkdownSize)
	}
	if !bytes.Contains(md, []byte("environments' findings are left out to stay under GitHub's 1 MiB summary limit")) {
		t.Errorf("no note says findings were left out")
	}
	if !bytes.Contains(md, []byte("https://org399.crm.dynamics.com")) {
		t.Errorf("the readiness table lost an environment")
	}
}
