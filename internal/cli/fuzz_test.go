package cli

import (
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/teamslink/teamslink/report"
)

// FuzzParseOutputs feeds arbitrary --format and --output values to the
// parser of "table,json=FILE,...". It must never panic and must reject only
// with a *UsageError (exit 2). Whatever it accepts must be usable: at least
// one known format, at most one to standard output, --output only with a
// single format, no two formats written to one file (the first would be
// lost), names and paths without surrounding spaces; and written back as a
// --format value it must parse to the same outputs.
//
// The seeds run with the normal tests. To fuzz, from the repository root:
//
//	go test ./internal/cli/ -run='^$' -fuzz=FuzzParseOutputs -fuzztime=1m
//
// New failing inputs are written to testdata/fuzz/FuzzParseOutputs; keep
// them as regression seeds once fixed.
func FuzzParseOutputs(f *testing.F) {
	for _, seed := range [][2]string{
		{"table", ""},
		{"json", "report.json"},
		{"table,json=report.json", ""},
		{"json=report.json,matrix=matrix.txt,table", ""},
		{"table, json = report.json ", ""},
		{"json=a.json,table=a.json", ""},
		{"json=out/./a.json,table=out/a.json", ""},
		{"table,json", ""},
		{"json=report.json", "other.json"},
		{"xml", ""},
		{",,", ""},
		{"=report.json", ""},
		{"json=", ""},
		{"json==", ""},
		{"json=a=b", ""},
		{"table\x00,json=\xff", ""},
	} {
		f.Add(seed[0], seed[1])
	}
	f.Fuzz(func(t *testing.T, formatFlag, outputFlag string) {
		specs, err := parseOutputs(formatFlag, outputFlag)
		if err != nil {
			if !errors.As(err, new(*UsageError)) {
				t.Fatalf("parseOutputs(%q, %q): %v is not a usage error", formatFlag, outputFlag, err)
			}
			return
		}
		if len(specs) == 0 {
			t.Fatalf("parseOutputs(%q, %q) accepted no output", formatFlag, outputFlag)
		}
		if outputFlag != "" && (len(specs) != 1 || specs[0].path != outputFlag) {
			t.Fatalf("parseOutputs(%q, %q) = %+v: --output is not the one file", formatFlag, outputFlag, specs)
		}
		stdout := 0
		files := map[string]bool{}
		for _, s := range specs {
			if !slices.Contains(report.Formats(), s.format) {
				t.Fatalf("parseOutputs(%q, %q) accepted format %q", formatFlag, outputFlag, s.format)
			}
			if s.path == "" {
				stdout++
				continue
			}
			if outputFlag == "" && s.path != strings.TrimSpace(s.path) {
				t.Fatalf("parseOutputs(%q, %q): path %q has surrounding spaces", formatFlag, outputFlag, s.path)
			}
			if clean := filepath.Clean(s.path); files[clean] {
				t.Fatalf("parseOutputs(%q, %q) = %+v: two formats write %s", formatFlag, outputFlag, specs, clean)
			} else {
				files[clean] = true
			}
		}
		if stdout > 1 {
			t.Fatalf("parseOutputs(%q, %q) = %+v: %d formats on standard output", formatFlag, outputFlag, specs, stdout)
		}
		if outputFlag != "" {
			return
		}
		parts := make([]string, len(specs))
		for i, s := range specs {
			parts[i] = s.format
			if s.path != "" {
				parts[i] += "=" + s.path
			}
		}
		again, err := parseOutputs(strings.Join(parts, ","), "")
		if err != nil || !slices.Equal(again, specs) {
			t.Fatalf("parseOutputs(%q) = %+v, but written back as %q it gives %+v, %v", formatFlag, specs, strings.Join(parts, ","), again, err)
		}
	})
}
