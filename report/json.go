package report

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/teamslink/teamslink/internal/finding"
)

// JSONSchema is the JSON Schema (2020-12) of the json format, the
// teamslink.report/v3 contract. Consumers validate reports against it.
//
//go:embed schema/report.schema.json
var JSONSchema []byte

// jsonWriter writes the report as indented JSON, the versioned contract
// named by finding.ReportSchemaVersion.
type jsonWriter struct {
	w io.Writer
}

func newJSONWriter(w io.Writer, _ Options) Writer { return &jsonWriter{w: w} }

// Write encodes the report with 2-space indentation. Output is
// deterministic: struct fields keep their order, map keys are sorted.
//
// The environments are encoded and written one at a time, so that a
// fleet's report never exists a second time as one buffer (or two: the
// encoder indents a compact copy): the bytes are those of encoding the
// whole document at once.
func (j *jsonWriter) Write(ctx context.Context, r *finding.Report) error {
	if err := begin(ctx, r); err != nil {
		return fmt.Errorf("write json report: %w", err)
	}
	doc, err := contractReport(r, false)
	if err != nil {
		return fmt.Errorf("write json report: %w", err)
	}
	head, err := encodeJSON(doc, "")
	if err != nil {
		return fmt.Errorf("write json report: encode: %w", err)
	}
	if len(r.Environments) == 0 {
		return wrapWrite(writeAll(j.w, head))
	}
	// The document without its environments reads ... "environments": [] ...;
	// each one goes between the brackets as the whole document's encoding
	// would put it: on its own line, indented two levels.
	const marker = "\n  \"environments\": []"
	before, after, ok := bytes.Cut(head, []byte(marker))
	if !ok {
		return fmt.Errorf("write json report: encode: no environments list in the document")
	}
	if err := writeAll(j.w, append(before, marker[:len(marker)-1]...)); err != nil {
		return wrapWrite(err)
	}
	for i := range r.Environments {
		env, err := encodeJSON(contractEnvironment(r.Environments[i]), "    ")
		if err != nil {
			return fmt.Errorf("write json report: encode: %w", err)
		}
		sep := ",\n    "
		if i == 0 {
			sep = "\n    "
		}
		if err := writeAll(j.w, append([]byte(sep), env...)); err != nil {
			return wrapWrite(err)
		}
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("write json report: %w", context.Cause(ctx))
		}
	}
	return wrapWrite(writeAll(j.w, append([]byte("\n  ]"), after...)))
}

func wrapWrite(err error) error {
	if err != nil {
		return fmt.Errorf("write json report: %w", err)
	}
	return nil
}

// encodeJSON encodes v as the report's encoder does (2-space indentation,
// HTML characters as they are), its lines after the first prefixed with
// prefix; a document (prefix "") ends in a newline, a part does not.
func encodeJSON(v any, prefix string) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent(prefix, "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	if prefix != "" {
		return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
	}
	return buf.Bytes(), nil
}

// SchemaVersionError is returned when a report claims a contract version
// this package does not write.
type SchemaVersionError struct {
	Got string
}

func (e *SchemaVersionError) Error() string {
	return fmt.Sprintf("report schemaVersion %q is not one teamslink reads (%s)", e.Got, strings.Join(finding.ReadableReportVersions, ", "))
}

// contractReport returns a copy of r shaped as the schema requires: the
// current schema version set (a report of an older readable version is
// carried forward, what it lacks left absent), lists never null, the summary
// counted when absent. r itself is not modified.
//
// With environments false the copy has none (an empty list), for writers
// that shape and write them one at a time (contractEnvironment).
func contractReport(r *finding.Report, environments bool) (*finding.Report, error) {
	out := *r
	if out.SchemaVersion != "" && !slices.Contains(finding.ReadableReportVersions, out.SchemaVersion) {
		return nil, &SchemaVersionError{Got: out.SchemaVersion}
	}
	out.SchemaVersion = finding.ReportSchemaVersion
	if out.Summary == nil {
		out.Summary = r.Summarize()
	}
	out.SignInErrors = nonNil(r.SignInErrors)
	out.Environments = []finding.Environment{}
	if environments {
		out.Environments = make([]finding.Environment, len(r.Environments))
		for i, e := range r.Environments {
			out.Environments[i] = contractEnvironment(e)
		}
	}
	return &out, nil
}

// contractEnvironment returns a copy of e shaped as the schema requires:
// lists never null, every finding's scope said.
func contractEnvironment(e finding.Environment) finding.Environment {
	e.Verdicts = nonNil(e.Verdicts)
	fs := make([]finding.Finding, len(e.Findings))
	for j, f := range e.Findings {
		f.Experiences = nonNil(f.Experiences)
		if f.Scope == "" {
			f.Scope = finding.ScopeEnvironment
			if f.Table != "" {
				f.Scope = finding.ScopeTable
			}
		}
		fs[j] = f
	}
	e.Findings = fs
	return e
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
