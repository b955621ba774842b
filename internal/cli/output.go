package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/teamslink/teamslink/internal/engine"
	"github.com/teamslink/teamslink/internal/finding"
	"github.com/teamslink/teamslink/internal/safefile"
	"github.com/teamslink/teamslink/internal/scan"
	"github.com/teamslink/teamslink/internal/snapshot"
	"github.com/teamslink/teamslink/report"
)

// outputSpec is one requested report: a format and where it goes ("" = stdout).
type outputSpec struct {
	format string
	path   string
}

// parseOutputs reads --format ("table", or "table,json=out.json", spaces
// around names and paths ignored) and --output (the file for a single
// format). No two formats may write the same file.
func parseOutputs(formatFlag, outputFlag string) ([]outputSpec, error) {
	var specs []outputSpec
	toStdout := 0
	byFile := map[string]string{}
	for _, part := range strings.Split(formatFlag, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		name, path, _ := strings.Cut(part, "=")
		name, path = strings.TrimSpace(name), strings.TrimSpace(path)
		if !isFormat(name) {
			return nil, usageErrorf("unknown format %q (valid: %s)", name, strings.Join(report.Formats(), ", "))
		}
		if path == "" {
			toStdout++
		} else {
			clean := filepath.Clean(path)
			if other, ok := byFile[clean]; ok {
				return nil, usageErrorf("--format: %s and %s both write %s; give each its own file", other, name, path)
			}
			byFile[clean] = name
		}
		specs = append(specs, outputSpec{format: name, path: path})
	}
	if len(specs) == 0 {
		return nil, usageErrorf("--format: no format given (valid: %s)", strings.Join(report.Formats(), ", "))
	}
	if outputFlag != "" {
		if len(specs) != 1 || specs[0].path != "" {
			return nil, usageErrorf("--output takes one format; for several use --format json=FILE,sarif=FILE")
		}
		specs[0].path = outputFlag
		toStdout = 0
	}
	if toStdout > 1 {
		return nil, usageErrorf("--format: only one format can go to standard output; give the others a file (format=FILE)")
	}
	return specs, nil
}

func isFormat(name string) bool {
	for _, f := range report.Formats() {
		if f == name {
			return true
		}
	}
	return false
}

// reportFiles are the requested reports that go to files, rendered as rd
// says: under --sarif-split tenant, the sarif report is one file per
// tenant, each with its own category (a report of no tenant stays one file).
func reportFiles(ctx context.Context, specs []outputSpec, rep *finding.Report, rd rendering) []outputFile {
	var files []outputFile
	for _, s := range specs {
		if s.path == "" {
			continue
		}
		shares := []*finding.Report{rep}
		if s.format == "sarif" && rd.splitByTenant {
			if split := report.SplitByTenant(rep); len(split) > 0 {
				shares = split
			}
		}
		for _, share := range shares {
			what, path, opts := s.format+" report", s.path, rd.opts
			if share != rep {
				tenant := report.ReportTenant(share)
				what += " of tenant " + tenant
				path = perTenantPath(s.path, tenant)
				opts.SARIF.Category = report.SARIFTenantCategory(opts.SARIF.Category, tenant)
			}
			files = append(files, outputFile{what: what, path: path, render: func(w io.Writer) error {
				rw, err := report.New(s.format, w, opts)
				if err != nil {
					return &UsageError{Err: err}
				}
				return renderError(rw.Write(ctx, share))
			}})
		}
	}
	return files
}

// renderError makes a usage error of what the user can fix by how they
// call teamslink: a SARIF file beyond GitHub's limits (the message says to
// split it), a result with no file to point at, a file outside --sarif-root.
func renderError(err error) error {
	var limit *report.SARIFLimitError
	if errors.As(err, &limit) || errors.Is(err, report.ErrSARIFNoLocation) || errors.Is(err, report.ErrSARIFOutsideRoot) {
		return &UsageError{Err: err}
	}
	return err
}

// writeStdoutReport renders rep to standard output in the one format that
// goes there, if any.
func writeStdoutReport(ctx context.Context, cmd *cobra.Command, specs []outputSpec, rep *finding.Report, rd rendering) error {
	for _, s := range specs {
		if s.path != "" {
			continue
		}
		if err := interruption(ctx); err != nil {
			return err
		}
		out := cmd.OutOrStdout()
		opts := rd.opts
		opts.Color = isTerminal(out)
		w, err := report.New(s.format, out, opts)
		if err != nil {
			return &UsageError{Err: err}
		}
		if err := renderError(w.Write(ctx, rep)); err != nil {
			return fmt.Errorf("write %s report: %w", s.format, err)
		}
	}
	return nil
}

// outputFile is one file a command writes: what it is, where, and how to
// render it.
type outputFile struct {
	what   string
	path   string
	render func(io.Writer) error
	// snapshot marks the snapshot file, which SARIF results may point at.
	snapshot bool
}

func snapshotFile(path string, snap *snapshot.Snapshot) outputFile {
	return outputFile{what: "snapshot", path: path, snapshot: true, render: func(w io.Writer) error { return snapshot.Write(w, snap) }}
}

// writeFiles renders every file and then, unless ctx ended meanwhile, puts
// them all in place: a failed or interrupted run replaces none of them.
// Each goes through safefile, so a link stays a link, a file keeps its mode
// and a device or pipe is written, never replaced.
func writeFiles(ctx context.Context, files []outputFile) error {
	staged := make([]*safefile.File, 0, len(files))
	defer func() {
		for _, f := range staged {
			_ = f.Abort() // does nothing to a committed file
		}
	}()
	for _, o := range files {
		f, err := safefile.Create(o.path)
		if err != nil {
			// The path given cannot take the output: a directory, a
			// missing directory, no permission.
			return &UsageError{Err: fmt.Errorf("write %s: %w", o.what, err)}
		}
		staged = append(staged, f)
		if err := o.render(f); err != nil {
			return fmt.Errorf("write %s to %s: %w", o.what, o.path, err)
		}
	}
	for i, f := range staged {
		if err := f.Commit(ctx); err != nil {
			return fmt.Errorf("write %s to %s: %w", files[i].what, files[i].path, err)
		}
		// Once one file is in place the others follow, so that the set
		// is one run's even if the run is interrupted now.
		ctx = context.WithoutCancel(ctx)
	}
	return nil
}

// assessOptions are the flags shared by eval and scan.
type assessOptions struct {
	format     string
	output     string
	experience string
	entities   []string
	failOn     string
	policyDirs []string
	profile    string
	render     renderOptions
}

func (o *assessOptions) register(cmd *cobra.Command) {
	o.render.register(cmd)
	f := cmd.Flags()
	f.StringVarP(&o.format, "format", "f", "table", "report format ("+strings.Join(report.Formats(), ", ")+"); several as json=FILE,table")
	f.StringVarP(&o.output, "output", "o", "", "write the report to `FILE` instead of standard output")
	f.StringVar(&o.experience, "experience", "", "experience to assess: basic or enhanced (default: each environment's, else enhanced)")
	f.StringSliceVar(&o.entities, "entities", nil, "target tables by logical name, e.g. account,contact,new_project (default: each environment's, else account,contact)")
	f.StringVar(&o.failOn, "fail-on", "fail", "lowest status that fails the run: fail, warn or error")
	f.StringArrayVar(&o.policyDirs, "policy-dir", nil, "extra Rego policies `DIR` (same contract and capabilities as the built-in ones)")
	f.StringVar(&o.profile, "profile", "preflight", "required state: preflight (can it be turned on?) or enabled (is it on?)")
}

type parsedAssess struct {
	outputs    []outputSpec
	experience finding.Experience
	failOn     finding.FailOn
	profile    string
}

func (o *assessOptions) parse() (parsedAssess, error) {
	var p parsedAssess
	var err error
	if p.outputs, err = parseOutputs(o.format, o.output); err != nil {
		return p, err
	}
	if err := o.render.checkSplit(p.outputs); err != nil {
		return p, err
	}
	if o.experience != "" {
		if p.experience, err = finding.ParseExperience(o.experience); err != nil {
			return p, &UsageError{Err: fmt.Errorf("--experience: %w", err)}
		}
	}
	if p.failOn, err = finding.ParseFailOn(o.failOn); err != nil {
		return p, &UsageError{Err: err}
	}
	switch o.profile {
	case "preflight", "enabled":
		p.profile = o.profile
	default:
		return p, usageErrorf("--profile: unknown profile %q (valid: preflight, enabled)", o.profile)
	}
	for _, t := range o.entities {
		if !validLogicalName(strings.TrimSpace(t)) {
			return p, usageErrorf("--entities: %q is not a table logical name (lowercase letters, digits and _)", t)
		}
	}
	return p, nil
}

func validLogicalName(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r == '_':
		case r >= '0' && r <= '9' && i > 0:
		default:
			return false
		}
	}
	return true
}

// exitFor turns a report into the command's result: nil when clean.
func exitFor(rep *finding.Report, failOn finding.FailOn) error {
	if code := rep.ExitCode(failOn); code != finding.ExitClean {
		return &ExitError{Code: code}
	}
	return nil
}

// assessment is what eval and scan know about where their targets came
// from: the file to anchor SARIF results at, the config's waivers, and
// where the config declares each environment.
type assessment struct {
	anchor   string
	waivers  []finding.WaiverRule
	declared func(tenant, url string) *finding.SourceLine
}

// evalOptions are the pipeline options of an evaluation: deps' clock and
// version, and the experience, tables and profile of the flags.
func (o *assessOptions) evalOptions(deps Deps, p parsedAssess) scan.Options {
	opts := deps.scanOptions(trimAll(o.entities))
	opts.Experience, opts.Profile = p.experience, p.profile
	return opts
}

// anchorOf is the file SARIF results point at by default: the file the
// targets came from or, for scan --env --snapshot-out, the snapshot it
// writes.
func anchorOf(anchor string, extra []outputFile) string {
	for _, x := range extra {
		if anchor == "" && x.snapshot {
			anchor = x.path
		}
	}
	return anchor
}

// assessAndReport evaluates snap, writes the extra files and every requested
// report, and turns the result into the command's exit: the second half of
// eval.
func assessAndReport(cmd *cobra.Command, deps Deps, eng *engine.Engine, snap *snapshot.Snapshot, o *assessOptions, p parsedAssess, in assessment, extra ...outputFile) error {
	rd, err := o.render.resolve(deps.Now, anchorOf(in.anchor, extra))
	if err != nil {
		return err
	}
	red, err := o.render.redact.load(deps)
	if err != nil {
		return err
	}
	rep, err := scan.Evaluate(cmd.Context(), eng, snap, in.waivers, in.declared, o.evalOptions(deps, p))
	if err != nil {
		return scanError(err)
	}
	if _, rep, err = red.apply(snap, rep); err != nil {
		return err
	}
	return writeReports(cmd, rep, p, rd, extra...)
}

// writeReports writes the extra files and every requested report of rep,
// and turns it into the command's exit.
func writeReports(cmd *cobra.Command, rep *finding.Report, p parsedAssess, rd rendering, extra ...outputFile) error {
	if err := writeFiles(cmd.Context(), slices.Concat(extra, reportFiles(cmd.Context(), p.outputs, rep, rd))); err != nil {
		return err
	}
	if err := writeStdoutReport(cmd.Context(), cmd, p.outputs, rep, rd); err != nil {
		return err
	}
	return exitFor(rep, p.failOn)
}
