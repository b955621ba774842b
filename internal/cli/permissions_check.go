package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/tw"
	"github.com/spf13/cobra"

	"github.com/teamslink/teamslink/internal/config"
	"github.com/teamslink/teamslink/internal/finding"
	"github.com/teamslink/teamslink/internal/scan"
)

func newPermissionsCheckCommand(deps Deps) *cobra.Command {
	var (
		configPath string
		tenants    []string
		format     string
		fleet      fleetOptions
	)
	cmd := &cobra.Command{
		Use:   "check",
		Short: "Sign in as each tenant's identity and report the permissions it holds and lacks",
		Long: `A preflight before a scan: for each tenant of tenants.yaml (and each of its environments,
discovered ones included), sign in as the configured identity and compare what it holds with what
` + "`teamslink permissions`" + ` lists for a scan:

  Microsoft Graph  the roles (application) or scp (delegated) claim of the Graph token; the token's
                   payload is read without checking its signature: it is teamslink's own token,
                   just issued by the tenant's authority over TLS, and the services still check it
  discovery        whether the discovery service (bap or gds) listed the environments
  Dataverse        WhoAmI (a user of the environment) and the System Administrator role, held
                   directly or through a team
  SharePoint       the directory role the admin request needs, SharePoint Administrator or Global
                   Administrator (NOT CONFIRMED), from the caller's directory roles: a person's
                   /me/memberOf, an application's role assignments (which carry no names: an
                   application holding roles but not Global Administrator is unknown)

Each check says held, missing (with the fix) or unknown (why it could not tell).
Tenants are checked concurrently, as a scan collects them (--concurrency, --per-tenant); the
output keeps the order of tenants.yaml.

Exit codes: 0 everything held, 1 a permission or role is missing, 2 usage or config error,
3 nothing missing but something could not be checked (a failed sign-in included).

Examples:
  teamslink permissions check --config tenants.yaml
  teamslink permissions check --config tenants.yaml --tenant Contoso --format json
  teamslink permissions check --config tenants.yaml --concurrency 32 --shard 0/4`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if format != "table" && format != "json" {
				return usageErrorf("unknown format %q (valid: json, table)", format)
			}
			if configPath == "" {
				return usageErrorf("say which tenants to check: --config tenants.yaml")
			}
			cfg, err := config.LoadContext(cmd.Context(), configPath)
			if err != nil {
				return &UsageError{Err: err}
			}
			opts := deps.scanOptions(nil)
			if err := fleet.apply(&opts); err != nil {
				return err
			}
			opts.Tenants, opts.Progress = tenants, nil
			res, err := scan.Preflight(cmd.Context(), cfg, opts)
			if err != nil {
				return scanError(err)
			}
			w := cmd.OutOrStdout()
			if format == "json" {
				err = writePreflightJSON(w, res)
			} else {
				err = writePreflightTable(w, res)
			}
			if err != nil {
				return err
			}
			return preflightExit(res)
		},
	}
	f := cmd.Flags()
	f.StringVarP(&configPath, "config", "c", "", "tenants.yaml listing tenants and environments (see docs/configuration.md)")
	f.StringArrayVar(&tenants, "tenant", nil, "check only this tenant, by id or name (repeatable)")
	f.StringVarP(&format, "format", "f", "table", "output format: table or json")
	fleet.register(cmd)
	return cmd
}

// preflightExit is 1 when something is missing, 3 when nothing is but
// something could not be checked, nil when everything is held.
func preflightExit(res []scan.PreflightTenant) error {
	var missing, unknown int
	for _, p := range res {
		m, u := p.Counts()
		missing, unknown = missing+m, unknown+u
	}
	switch {
	case missing > 0:
		return &ExitError{Code: finding.ExitFindings}
	case unknown > 0:
		return &ExitError{Code: finding.ExitIncomplete}
	}
	return nil
}

func writePreflightJSON(w io.Writer, res []scan.PreflightTenant) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(struct {
		SchemaVersion string                 `json:"schemaVersion"`
		Tenants       []scan.PreflightTenant `json:"tenants"`
	}{"teamslink.permissions-check/v1", res})
}

func writePreflightTable(w io.Writer, res []scan.PreflightTenant) error {
	for k, p := range res {
		name := p.ID
		if p.Name != "" {
			name = p.Name + " (" + p.ID + ")"
		}
		sep := "\n"
		if k == 0 {
			sep = ""
		}
		caller := ""
		if p.Caller != "" {
			caller = ", signed in as " + p.Caller
		}
		if _, err := fmt.Fprintf(w, "%sTenant %s%s\n", sep, name, caller); err != nil {
			return err
		}
		if p.SignInError != "" {
			if _, err := fmt.Fprintf(w, "  SIGN-IN FAILED: %s\n  Nothing could be checked: fix the sign-in first (teamslink config check, docs/configuration.md).\n", p.SignInError); err != nil {
				return err
			}
			continue
		}
		rows := [][]string{}
		add := func(where string, cs []scan.Check) {
			for _, c := range cs {
				detail := c.Evidence
				if c.Held != "" {
					detail = c.Held + " (" + c.Evidence + ")"
				}
				if c.Fix != "" {
					detail += ". Fix: " + c.Fix
				}
				rows = append(rows, []string{strings.ToUpper(c.Status), where, c.Kind, c.Need, detail})
			}
		}
		add("tenant", p.Checks)
		for _, e := range p.Environments {
			add(e.URL, e.Checks)
		}
		t := tablewriter.NewTable(w, tablewriter.WithRowMaxWidth(60), tablewriter.WithRowAutoWrap(tw.WrapNormal))
		t.Header("Status", "Where", "Kind", "Needs", "Detail")
		if err := t.Bulk(rows); err != nil {
			return err
		}
		if err := t.Render(); err != nil {
			return fmt.Errorf("render checks: %w", err)
		}
	}
	return nil
}
