package cli

import (
	"github.com/spf13/cobra"

	"github.com/teamslink/teamslink/internal/permissions"
)

func newPermissionsCommand(deps Deps) *cobra.Command {
	var mode, format string
	cmd := &cobra.Command{
		Use:   "permissions",
		Short: "List every request teamslink makes and the permission each needs",
		Long: `List, per service (sign-in, Microsoft Graph, the SharePoint admin site, Dataverse, the
discovery services), every request teamslink makes in a mode, with the Microsoft Graph application
and delegated permissions it needs (any one of those listed, least privileged first), the Dataverse
privilege and the security role that carries it, the directory, SharePoint or Power Platform role,
the snapshot section it fills and the rules that read it; then the Graph permissions to grant.
Names Microsoft does not state for the request are marked INFERENCE or NOT CONFIRMED.

scan and serve make the same requests; remediate adds its writes, listed as planned and not yet
used until remediation lands. The same table is docs/permissions.md.

Examples:
  teamslink permissions
  teamslink permissions --mode remediate --format markdown
  teamslink permissions --format json
  teamslink permissions check --config tenants.yaml   # a preflight of the configured identities`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			m, err := permissions.ParseMode(mode)
			if err != nil {
				return &UsageError{Err: err}
			}
			w := cmd.OutOrStdout()
			switch format {
			case "table":
				return permissions.WriteTable(w, m)
			case "json":
				return permissions.WriteJSON(w, m)
			case "markdown":
				return permissions.WriteMarkdown(w, m, 2)
			}
			return usageErrorf("unknown format %q (valid: json, markdown, table)", format)
		},
	}
	cmd.Flags().StringVar(&mode, "mode", "scan", "the mode whose requests to list: scan, serve or remediate")
	cmd.Flags().StringVarP(&format, "format", "f", "table", "output format: table, json or markdown")
	cmd.AddCommand(newPermissionsCheckCommand(deps))
	return cmd
}
