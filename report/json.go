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
func (j *jsonWriter) Write(ctx context.Context, r *finding.Report) error {
	if err := begin(ctx, r); err != nil {
		return fmt.Errorf("write json report: %w", err)
	}
	doc, err := contractReport(r)
	if err != nil {
		return fmt.Errorf("write json report: %w", err)
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(doc); err != nil {
		return fmt.Errorf("write json report: encode: %w", err)
	}
	if err := writeAll(j.w, buf.Bytes()); err != nil {
		return fmt.Errorf("write json report: %w", err)
	}
	return nil
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
func contractReport(r *finding.Report) (*finding.Report, error) {
	out := *r
	if out.SchemaVersion != "" && !slices.Contains(finding.ReadableReportVersions, out.SchemaVersion) {
		return nil, &SchemaVersionError{Got: out.SchemaVersion}
	}
	out.SchemaVersion = finding.ReportSchemaVersion
	if out.Summary == nil {
		out.Summary = r.Summarize()
	}
	out.SignInErrors = nonNil(r.SignInErrors)
	out.Environments = make([]finding.Environment, len(r.Environments))
	for i, e := range r.Environments {
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
		out.Environments[i] = e
	}
	return &out, nil
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
