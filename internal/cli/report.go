package cli

import (
	"errors"
	"strings"

	"github.com/spf13/cobra"

	"github.com/teamslink/teamslink/internal/finding"
	"github.com/teamslink/teamslink/report"
)

// newReportCommand is "teamslink report": work with saved JSON reports.
func newReportCommand(deps Deps) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "report",
		Short: "Render, merge and compare saved JSON reports",
		Long: `Work with JSON reports saved by scan or eval (--format json=FILE) without scanning again:
render one in other formats, merge the reports of the shards of one fleet scan, or compare an
old report with a new one. This teamslink reads the report contracts
` + strings.Join(finding.ReadableReportVersions, " and ") + `; a report of any other version is refused with
the version found.

Examples:
  teamslink report render report.json --format table
  teamslink report merge shard-0.json shard-1.json -o fleet.json
  teamslink report diff yesterday.json today.json --fail-on-regression`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				return usageErrorf("unknown command %q for \"teamslink report\" (valid: diff, merge, render)", args[0])
			}
			return cmd.Help()
		},
	}
	cmd.AddCommand(newReportRenderCommand(deps), newReportMergeCommand(deps), newReportDiffCommand(deps))
	return cmd
}

// renderReportOptions are the flags of report render.
type renderReportOptions struct {
	format string
	output string
	render renderOptions
}

func (o *renderReportOptions) register(cmd *cobra.Command, defaultFormat string) {
	o.render.register(cmd)
	f := cmd.Flags()
	f.StringVarP(&o.format, "format", "f", defaultFormat, "report format ("+strings.Join(report.Formats(), ", ")+"); several as json=FILE,table")
	f.StringVarP(&o.output, "output", "o", "", "write the report to `FILE` instead of standard output")
}

func newReportRenderCommand(deps Deps) *cobra.Command {
	var o renderReportOptions
	cmd := &cobra.Command{
		Use:   "render REPORT.json",
		Short: "Render a saved JSON report in other formats, without scanning",
		Long: `Read a JSON report saved by scan or eval and render it in one or more formats, exactly as
the run that made it would have: --format table,json=FILE,… takes every format scan takes. A
report of an older readable contract version renders with what later versions added (the
rules' catalogue, waiver notices, tenants.yaml lines) absent. SARIF results of environments
that tenants.yaml does not place point at the report file unless --sarif-anchor names another.

render only renders: it exits 0 once the report is written, whatever the findings say, and 2
when the report cannot be read (the message names the file, and the line and column or the
JSON path of the problem). Use "report diff --fail-on-regression", or scan and eval with
--fail-on, to gate a pipeline.

Examples:
  teamslink report render report.json
  teamslink report render report.json --format matrix
  teamslink report render report.json --format table,json=report-v3.json
  teamslink report render report.json --format json --output copy.json`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			specs, err := parseOutputs(o.format, o.output)
			if err != nil {
				return err
			}
			rd, err := o.render.resolve(deps.Now, args[0])
			if err != nil {
				return err
			}
			red, err := o.render.redact.load(deps)
			if err != nil {
				return err
			}
			rep, err := readReport(args[0])
			if err != nil {
				return err
			}
			if _, rep, err = red.apply(nil, rep); err != nil {
				return err
			}
			if err := writeFiles(cmd.Context(), reportFiles(cmd.Context(), specs, rep, rd)); err != nil {
				return err
			}
			return writeStdoutReport(cmd.Context(), cmd, specs, rep, rd)
		},
	}
	o.register(cmd, "table")
	return cmd
}

// readReport reads a saved report; a report that cannot be read is a usage
// error (exit 2) whose message names the file and the problem.
func readReport(path string) (*finding.Report, error) {
	rep, err := report.ReadFile(path)
	if err != nil {
		var re *report.ReadError
		if errors.As(err, &re) {
			return nil, &UsageError{Err: err}
		}
		return nil, err
	}
	return rep, nil
}
