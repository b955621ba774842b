package cli

import (
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/teamslink/teamslink/internal/finding"
	"github.com/teamslink/teamslink/internal/reportdiff"
)

// reportDiffOptions are the flags of report diff.
type reportDiffOptions struct {
	format           string
	output           string
	failOnRegression bool
}

func newReportDiffCommand(_ Deps) *cobra.Command {
	var o reportDiffOptions
	cmd := &cobra.Command{
		Use:   "diff OLD.json NEW.json",
		Short: "Compare two saved JSON reports: what regressed, what was fixed, what is new or gone",
		Long: `Compare an old JSON report with a new one of the same fleet, per environment (tenant and
URL) and per finding (rule and table), and say what regressed, what was fixed, what changed
otherwise, and which environments and findings are new or gone.

Readiness ranks ENABLED = READY > UNKNOWN > BLOCKED > BROKEN: READY → BLOCKED and
ENABLED → BROKEN regress, BLOCKED → READY and BROKEN → ENABLED are fixed, and any move to
UNKNOWN regresses (losing sight of an environment is never a fix). Findings: pass → fail and
any move to error regress, fail → pass is fixed, fail → waived changed (accepted, not fixed).
New and gone environments are listed, never counted as a regression.

Formats: table (the default), json (the teamslink.diff/v1 contract, JSON Schema in
internal/reportdiff/schema/), markdown (for a pull-request comment or $GITHUB_STEP_SUMMARY,
under GitHub's 1 MiB limit). Exits 0, or 1 with --fail-on-regression when anything
regressed; 2 when a report cannot be read.

Examples:
  teamslink report diff yesterday.json today.json
  teamslink report diff yesterday.json today.json --fail-on-regression
  teamslink report diff yesterday.json today.json --format markdown -o "$GITHUB_STEP_SUMMARY"
  teamslink report diff yesterday.json today.json --format json -o diff.json`,
		Args: exactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := reportdiff.CheckFormat(o.format); err != nil {
				return &UsageError{Err: fmt.Errorf("--format: %w", err)}
			}
			old, err := readReport(args[0])
			if err != nil {
				return err
			}
			new, err := readReport(args[1])
			if err != nil {
				return err
			}
			d := reportdiff.Compare(old, new)
			if o.output != "" {
				err = writeFiles(cmd.Context(), []outputFile{{what: o.format + " diff", path: o.output, render: func(w io.Writer) error {
					return reportdiff.Write(cmd.Context(), w, o.format, d, reportdiff.Options{})
				}}})
			} else {
				out := cmd.OutOrStdout()
				err = reportdiff.Write(cmd.Context(), out, o.format, d, reportdiff.Options{Color: isTerminal(out)})
			}
			if err != nil {
				return err
			}
			if o.failOnRegression && d.HasRegression() {
				return &ExitError{Code: finding.ExitFindings, Err: fmt.Errorf("report diff: %s (--fail-on-regression)", d.Regressions())}
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVarP(&o.format, "format", "f", "table", "diff format ("+strings.Join(reportdiff.Formats(), ", ")+")")
	f.StringVarP(&o.output, "output", "o", "", "write the diff to `FILE` instead of standard output")
	f.BoolVar(&o.failOnRegression, "fail-on-regression", false, "exit 1 when a readiness state or a finding regressed")
	return cmd
}
