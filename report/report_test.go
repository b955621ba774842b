package report

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/olekukonko/tablewriter/pkg/twwidth"

	"github.com/teamslink/teamslink/internal/finding"
	"github.com/teamslink/teamslink/internal/termtext"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

func TestMain(m *testing.M) {
	// tablewriter measures ambiguous-width runes (—, …) from the locale;
	// pin them narrow so golden files do not depend on who runs the tests.
	twwidth.SetEastAsian(false)
	os.Exit(m.Run())
}

func fixedOptions(color bool) Options {
	return Options{Color: color, Now: func() time.Time { return fixedNow },
		SARIF: SARIFOptions{Root: ".", Anchor: "snapshot.json"}}
}

// render writes r in format and returns the output.
func render(t *testing.T, format string, r *finding.Report, opts Options) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := New(format, &buf, opts)
	if err != nil {
		t.Fatalf("New(%q): %v", format, err)
	}
	if err := w.Write(t.Context(), r); err != nil {
		t.Fatalf("Write(%s): %v", format, err)
	}
	return buf.Bytes()
}

// golden compares got with testdata/name, rewriting it under -update.
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
		t.Fatalf("read golden file (run go test ./report -update to create it): %v", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("output differs from %s (run go test ./report -update after checking the change)\n--- got ---\n%s\n--- want ---\n%s", path, got, want)
	}
}

func TestGolden(t *testing.T) {
	t.Parallel()
	for _, fx := range fixtures() {
		for _, format := range Formats() {
			t.Run(fx.name+"/"+format, func(t *testing.T) {
				t.Parallel()
				golden(t, fx.name+"."+format+".golden", render(t, format, fx.report, fixedOptions(false)))
			})
		}
	}
	t.Run("blocked/table-color", func(t *testing.T) {
		t.Parallel()
		golden(t, "blocked.table-color.golden", render(t, "table", newReport(blockedEnv()), fixedOptions(true)))
	})
}

func TestDeterministic(t *testing.T) {
	t.Parallel()
	for _, format := range Formats() {
		t.Run(format, func(t *testing.T) {
			t.Parallel()
			first := render(t, format, newReport(readyEnv(), blockedEnv(), unknownEnv()), fixedOptions(false))
			for range 5 {
				if again := render(t, format, newReport(readyEnv(), blockedEnv(), unknownEnv()), fixedOptions(false)); !bytes.Equal(first, again) {
					t.Fatalf("two renderings of the same report differ")
				}
			}
		})
	}
}

func TestNew(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		format  string
		noDst   bool
		wantErr string
	}{
		{name: "json", format: "json"},
		{name: "table", format: "table"},
		{name: "case and space insensitive", format: " JSON "},
		{name: "unknown", format: "xml", wantErr: `unknown format "xml" (valid: html, json, junit, markdown, matrix, sarif, table)`},
		{name: "empty", format: "", wantErr: `unknown format "" (valid: html, json, junit, markdown, matrix, sarif, table)`},
		{name: "nil destination", format: "json", noDst: true, wantErr: "new json writer: nil destination writer"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var dst io.Writer = &bytes.Buffer{}
			if tt.noDst {
				dst = nil
			}
			w, err := New(tt.format, dst, fixedOptions(false))
			if tt.wantErr == "" {
				if err != nil || w == nil {
					t.Fatalf("New(%q) = %v, %v; want a writer", tt.format, w, err)
				}
				return
			}
			if err == nil || err.Error() != tt.wantErr {
				t.Fatalf("New(%q) error = %v; want %q", tt.format, err, tt.wantErr)
			}
		})
	}
}

func TestUnknownFormatErrorIsTyped(t *testing.T) {
	t.Parallel()
	_, err := New("sarif2", &bytes.Buffer{}, fixedOptions(false))
	var ufe *UnknownFormatError
	if !errors.As(err, &ufe) {
		t.Fatalf("error %v is not an *UnknownFormatError", err)
	}
	if ufe.Format != "sarif2" || !slices.Equal(ufe.Valid, Formats()) {
		t.Errorf("UnknownFormatError = %+v", ufe)
	}
}

func TestFormatsSorted(t *testing.T) {
	t.Parallel()
	got := Formats()
	if !slices.IsSorted(got) || len(got) != len(formats) {
		t.Fatalf("Formats() = %v; want every registered format, sorted", got)
	}
	if !slices.Contains(got, "json") || !slices.Contains(got, "table") {
		t.Fatalf("Formats() = %v; want json and table", got)
	}
}

func TestColor(t *testing.T) {
	t.Parallel()
	for _, fx := range fixtures() {
		t.Run(fx.name, func(t *testing.T) {
			t.Parallel()
			off := render(t, "table", fx.report, fixedOptions(false))
			if bytes.Contains(off, []byte("\x1b[")) {
				t.Errorf("colour off: output contains ANSI escapes:\n%q", off)
			}
			on := render(t, "table", fx.report, fixedOptions(true))
			if !bytes.Contains(on, []byte("\x1b[")) {
				t.Errorf("colour on: output contains no ANSI escapes")
			}
			if got := termtext.StripSGR(string(on)); got != string(off) {
				t.Errorf("colour on and off differ in more than escapes:\n--- on, stripped ---\n%s\n--- off ---\n%s", got, off)
			}
			// JSON never carries colour, whatever the option says.
			if js := render(t, "json", fx.report, fixedOptions(true)); bytes.Contains(js, []byte("\x1b[")) {
				t.Errorf("json with Color contains ANSI escapes")
			}
		})
	}
}

func TestColorStatuses(t *testing.T) {
	t.Parallel()
	out := string(render(t, "table", newReport(readyEnv(), blockedEnv(), unknownEnv(), enabledEnv(), brokenEnv()), fixedOptions(true)))
	for _, want := range []string{
		"\x1b[32mENABLED\x1b[0m", "\x1b[1;31mBROKEN\x1b[0m", "\x1b[32mREADY\x1b[0m",
		"\x1b[31mFAIL\x1b[0m", "\x1b[35mERROR\x1b[0m", "\x1b[33mWARN\x1b[0m",
		"\x1b[32mPASS\x1b[0m", "\x1b[2mSKIP\x1b[0m", "\x1b[34mMANUAL\x1b[0m", "\x1b[31mBLOCKED\x1b[0m", "\x1b[35mUNKNOWN\x1b[0m",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("coloured output lacks %q", want)
		}
	}
}

// failingWriter accepts limit bytes, then fails every write.
type failingWriter struct {
	limit int
	n     int
}

var errDiskFull = errors.New("disk full")

func (f *failingWriter) Write(p []byte) (int, error) {
	if f.n+len(p) > f.limit {
		k := max(f.limit-f.n, 0)
		f.n += k
		return k, errDiskFull
	}
	f.n += len(p)
	return len(p), nil
}

func TestWriterErrorIsReturned(t *testing.T) {
	t.Parallel()
	r := newReport(readyEnv(), blockedEnv(), unknownEnv(), basicEnv())
	for _, format := range Formats() {
		for _, limit := range []int{0, 100, 5000} {
			t.Run(fmt.Sprintf("%s/after-%d-bytes", format, limit), func(t *testing.T) {
				t.Parallel()
				var full bytes.Buffer
				if w, err := New(format, &full, fixedOptions(false)); err != nil || w.Write(t.Context(), r) != nil {
					t.Fatalf("render %s: %v", format, err)
				}
				if limit >= full.Len() {
					t.Skipf("the %s output is only %d bytes", format, full.Len())
				}
				w, err := New(format, &failingWriter{limit: limit}, fixedOptions(false))
				if err != nil {
					t.Fatal(err)
				}
				err = w.Write(t.Context(), r)
				if !errors.Is(err, errDiskFull) {
					t.Fatalf("Write to a failing writer = %v; want an error wrapping %v", err, errDiskFull)
				}
			})
		}
	}
}

// shortWriter claims to write fewer bytes than it was given, without an error.
type shortWriter struct{}

func (shortWriter) Write(p []byte) (int, error) { return len(p) / 2, nil }

func TestShortWriteIsAnError(t *testing.T) {
	t.Parallel()
	for _, format := range Formats() {
		t.Run(format, func(t *testing.T) {
			t.Parallel()
			w, err := New(format, shortWriter{}, fixedOptions(false))
			if err != nil {
				t.Fatal(err)
			}
			if err := w.Write(t.Context(), newReport(readyEnv())); err == nil {
				t.Fatal("Write to a short writer returned nil")
			}
		})
	}
}

func TestWriteRefuses(t *testing.T) {
	t.Parallel()
	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	tests := []struct {
		name    string
		ctx     context.Context
		report  *finding.Report
		wantErr error
		wantMsg string
	}{
		{name: "nil report", ctx: context.Background(), wantErr: errNilReport, wantMsg: "nil report"},
		{name: "canceled context", ctx: canceled, report: newReport(readyEnv()), wantErr: context.Canceled, wantMsg: "context canceled"},
	}
	for _, tt := range tests {
		for _, format := range Formats() {
			t.Run(tt.name+"/"+format, func(t *testing.T) {
				t.Parallel()
				var buf bytes.Buffer
				w, err := New(format, &buf, fixedOptions(false))
				if err != nil {
					t.Fatal(err)
				}
				err = w.Write(tt.ctx, tt.report)
				if !errors.Is(err, tt.wantErr) || !strings.Contains(err.Error(), tt.wantMsg) {
					t.Fatalf("Write = %v; want %v", err, tt.wantErr)
				}
				if buf.Len() != 0 {
					t.Errorf("Write wrote %d bytes before failing", buf.Len())
				}
			})
		}
	}
}

func TestUnencodableEvidenceNamesTheFinding(t *testing.T) {
	t.Parallel()
	e := blockedEnv()
	e.Findings[1].Evidence["callback"] = func() {} // not JSON
	r := newReport(e)
	for _, format := range Formats() {
		if format == "matrix" {
			continue // renders no evidence
		}
		t.Run(format, func(t *testing.T) {
			t.Parallel()
			w, err := New(format, &bytes.Buffer{}, fixedOptions(false))
			if err != nil {
				t.Fatal(err)
			}
			err = w.Write(t.Context(), r)
			if err == nil {
				t.Fatal("Write with a func in evidence returned nil")
			}
			if format == "table" && !strings.Contains(err.Error(), e.Findings[1].Key.String()) {
				t.Errorf("error %q does not name the finding %s", err, e.Findings[1].Key)
			}
		})
	}
}

func TestSnapshotAge(t *testing.T) {
	t.Parallel()
	tests := []struct {
		d    time.Duration
		want string
	}{
		{-time.Minute, "after the report clock"},
		{30 * time.Second, "less than a minute old"},
		{42 * time.Minute, "42m old"},
		{25 * time.Hour, "25h old"},
		{72 * time.Hour, "3d old"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			t.Parallel()
			if got := age(tt.d); got != tt.want {
				t.Errorf("age(%v) = %q; want %q", tt.d, got, tt.want)
			}
		})
	}
}

func TestFindingOrder(t *testing.T) {
	t.Parallel()
	mk := func(rule string, st finding.Status, sev finding.Severity, table string) finding.Finding {
		return finding.Finding{Key: finding.Key{Rule: rule, Table: table}, Status: st, Severity: sev}
	}
	in := []finding.Finding{
		mk("TL-A", finding.StatusSkip, finding.SeverityCritical, ""),
		mk("TL-B", finding.StatusPass, finding.SeverityHigh, ""),
		mk("TL-C", finding.StatusWarn, finding.SeverityLow, ""),
		mk("TL-D", finding.StatusFail, finding.SeverityMedium, ""),
		mk("TL-E", finding.StatusFail, finding.SeverityCritical, ""),
		mk("TL-F", finding.StatusError, finding.SeverityInfo, ""),
		mk("TL-G", finding.StatusWaived, finding.SeverityHigh, ""),
		mk("TL-H", finding.StatusManual, finding.SeverityLow, ""),
		mk("TL-D", finding.StatusFail, finding.SeverityMedium, "account"),
		mk("TL-C", finding.StatusFail, finding.SeverityMedium, ""),
	}
	var got []string
	for _, f := range sortFindings(in) {
		got = append(got, f.Key.String())
	}
	want := []string{"//TL-E", "//TL-C", "//TL-D", "//TL-D/account", "//TL-F", "//TL-C", "//TL-H", "//TL-B", "//TL-G", "//TL-A"}
	if !slices.Equal(got, want) {
		t.Errorf("order = %v; want %v", got, want)
	}
	if in[0].Rule != "TL-A" {
		t.Error("sortFindings modified its input")
	}
}

func TestTableNeutralisesControlCharacters(t *testing.T) {
	t.Parallel()
	e := blockedEnv()
	e.Name = "Prod\x1b]0;pwned\x07"
	e.Findings[1].Message = "sites \x1b[2J active\u202e"
	e.Findings[1].Evidence["sample"] = []any{map[string]any{"name": "evil\x1b[31m", "absoluteurl": "https://x.invalid/\x1b[0m"}}
	e.Findings[1].Evidence["key\x1b[1m"] = "v\rw"
	out := string(render(t, "table", newReport(e), fixedOptions(false)))
	for _, bad := range []string{"\x1b", "\x07", "\r", "\u202e"} {
		if strings.Contains(out, bad) {
			t.Errorf("output contains %q from the report's data", bad)
		}
	}
	if !strings.Contains(out, "sites \uFFFD[2J active\uFFFD") {
		t.Errorf("the neutralised message is missing from the output:\n%s", out)
	}
}
