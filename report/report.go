// Package report renders a finding.Report in one format; writers never fetch.
//
// Every format is one file holding a constructor, registered by one line in
// the formats map below. New picks a writer by name; an unknown name is an
// *UnknownFormatError that lists the valid ones, never a silent fallback.
package report

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/teamslink/teamslink/internal/finding"
)

// Writer renders one report to the destination it was built with.
type Writer interface {
	Write(ctx context.Context, r *finding.Report) error
}

// Options tune how a writer renders.
type Options struct {
	// Color turns on ANSI colour in formats that support it. The caller
	// decides, from whether the destination is a terminal; writers never look.
	Color bool
	// Now is the clock used for relative times ("snapshot 2h old"). It is
	// required: the process injects its one clock, tests pin theirs.
	Now func() time.Time
	// SARIF tunes the sarif format; the other formats ignore it.
	SARIF SARIFOptions
}

// SARIFOptions say where SARIF results point and how the run is named.
type SARIFOptions struct {
	// Root is the repository root that artifact URIs are relative to
	// (--sarif-root; the CLI defaults it to the git top level of the
	// working directory). Empty: paths are written as given, slashed.
	Root string
	// Anchor is the file a result points at when its environment has no
	// line in tenants.yaml (--sarif-anchor, else the snapshot file).
	Anchor string
	// Category is the first part of runAutomationDetails.id
	// (category/run-id); empty means "teamslink".
	Category string
}

// factory builds the writer of one format.
type factory func(w io.Writer, opts Options) Writer

// formats is the registry: one line per format, its constructor in its own file.
var formats = map[string]factory{
	"html":     newHTMLWriter,
	"json":     newJSONWriter,
	"junit":    newJUnitWriter,
	"markdown": newMarkdownWriter,
	"matrix":   newMatrixWriter,
	"sarif":    newSARIFWriter,
	"table":    newTableWriter,
}

// Formats returns the names of every format New accepts, sorted.
func Formats() []string {
	names := make([]string, 0, len(formats))
	for name := range formats {
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}

// UnknownFormatError is returned by New for a format it does not know.
type UnknownFormatError struct {
	Format string   // the name asked for
	Valid  []string // the names New accepts, sorted
}

func (e *UnknownFormatError) Error() string {
	return fmt.Sprintf("unknown format %q (valid: %s)", e.Format, strings.Join(e.Valid, ", "))
}

// errNilDestination is returned by New when there is nowhere to write, and
// errNoClock when Options.Now is missing.
var (
	errNilDestination = errors.New("nil destination writer")
	errNoClock        = errors.New("no clock (Options.Now)")
)

// New returns the writer for format (case-insensitive), writing to w.
func New(format string, w io.Writer, opts Options) (Writer, error) {
	f, ok := formats[strings.ToLower(strings.TrimSpace(format))]
	if !ok {
		return nil, &UnknownFormatError{Format: format, Valid: Formats()}
	}
	if w == nil {
		return nil, fmt.Errorf("new %s writer: %w", format, errNilDestination)
	}
	if opts.Now == nil {
		return nil, fmt.Errorf("new %s writer: %w", format, errNoClock)
	}
	return f(w, opts), nil
}

// errNilReport is returned by every writer asked to write a nil report.
var errNilReport = errors.New("nil report")

// begin is the check every writer makes before rendering anything.
func begin(ctx context.Context, r *finding.Report) error {
	if r == nil {
		return errNilReport
	}
	return ctx.Err()
}

// writeAll writes b to w in full, turning a short write into an error.
func writeAll(w io.Writer, b []byte) error {
	n, err := w.Write(b)
	if err != nil {
		return err
	}
	if n != len(b) {
		return io.ErrShortWrite
	}
	return nil
}
