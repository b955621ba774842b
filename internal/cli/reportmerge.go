package cli

import (
	"errors"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/teamslink/teamslink/internal/finding"
	"github.com/teamslink/teamslink/report"
)

func newReportMergeCommand(deps Deps) *cobra.Command {
	var o renderReportOptions
	cmd := &cobra.Command{
		Use:   "merge REPORT.json...",
		Short: "Join the JSON reports of the shards of one fleet scan into one",
		Long: `Read the JSON reports of disjoint sets of tenants, such as the shards of one fleet scan
(scan --shard K/N in N pods), and write them as one report: every environment (sorted by
tenant, then URL), every sign-in error, the union of the rules' catalogue, and the waiver
notices as one scan of one tenants.yaml would give them (a waiver that matched nothing in one
shard but applied in another is not reported). The snapshot time is the earliest of the
inputs, the generation time the latest, and the summary is counted again.

A tenant (or an environment URL) in two inputs is refused, naming the tenant and both files,
as are inputs of different contract versions, builds or profiles and a rule two inputs define
differently: exit 2, and no file is written. The output is JSON unless --format says
otherwise; it takes every format and file scan takes.

Examples:
  teamslink report merge shard-0.json shard-1.json shard-2.json -o fleet.json
  teamslink report merge shard-*.json --format table,json=fleet.json`,
		Args: minArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			specs, err := parseOutputs(o.format, o.output)
			if err != nil {
				return err
			}
			seen := map[string]string{}
			for _, path := range args {
				if first, ok := seen[filepath.Clean(path)]; ok {
					return usageErrorf("report merge: %s is given twice (as %s and %s)", path, first, path)
				}
				seen[filepath.Clean(path)] = path
			}
			rd, err := o.render.resolve(deps.Now, args[0])
			if err != nil {
				return err
			}
			red, err := o.render.redact.load(deps)
			if err != nil {
				return err
			}
			reports := make([]*finding.Report, len(args))
			for i, path := range args {
				if reports[i], err = readReport(path); err != nil {
					return err
				}
			}
			merged, err := report.Merge(reports...)
			if err != nil {
				var me *report.MergeError
				if errors.As(err, &me) {
					me.Inputs = args
					return &UsageError{Err: err}
				}
				return err
			}
			if _, merged, err = red.apply(nil, merged); err != nil {
				return err
			}
			if err := writeFiles(cmd.Context(), reportFiles(cmd.Context(), specs, merged, rd)); err != nil {
				return err
			}
			return writeStdoutReport(cmd.Context(), cmd, specs, merged, rd)
		},
	}
	o.register(cmd, "json")
	return cmd
}
