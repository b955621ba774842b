package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"unicode"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/tw"
	"github.com/spf13/cobra"

	"github.com/teamslink/teamslink/internal/discovery"
	"github.com/teamslink/teamslink/internal/finding"
	"github.com/teamslink/teamslink/internal/scan"
)

// EnvironmentsSchemaVersion names the JSON contract of teamslink
// environments --format json.
const EnvironmentsSchemaVersion = "teamslink.environments/v1"

// environmentsDoc is the JSON output of teamslink environments.
type environmentsDoc struct {
	SchemaVersion string              `json:"schemaVersion"`
	Tenants       []environmentTenant `json:"tenants"`
}

// environmentTenant is one tenant: where its environments come from and,
// when discovery failed, why.
type environmentTenant struct {
	ID    string `json:"id"`
	Name  string `json:"name,omitempty"`
	Cloud string `json:"cloud"`
	// Source is bap or gds for a tenant that discovers; absent otherwise.
	Source       string             `json:"source,omitempty"`
	Failure      *environmentsError `json:"failure,omitempty"`
	Environments []environmentEntry `json:"environments"`
}

// environmentsError is a tenant whose environments could not be discovered
// (kind discovery) or whose credential issued no token (kind sign-in).
type environmentsError struct {
	Kind       string `json:"kind"`
	Error      string `json:"error"`
	HTTPStatus int    `json:"httpStatus,omitempty"`
}

// environmentEntry is one environment: listed in tenants.yaml, or
// discovered with the filters' decision.
type environmentEntry struct {
	discovery.Decision
	// Origin is listed or discovered.
	Origin string `json:"origin"`
}

func newEnvironmentsCommand(deps Deps) *cobra.Command {
	var (
		configPath string
		format     string
	)
	cmd := &cobra.Command{
		Use:   "environments",
		Short: "List the environments each tenant of tenants.yaml would scan, discovered or listed",
		Long: `For every tenant of tenants.yaml, print the environments a scan would assess: those listed under
environments ("listed") and, for a tenant with a discover block, every environment the discovery
service returns ("discovered"), each with whether it is scanned and, if not, why (its type, its
state, the include and exclude patterns, no Dataverse database, a host outside the tenant's cloud).
Nothing but the discovery service is called: no environment is read.

A tenant whose discovery fails (refused, an outage after retries, an answer that does not parse,
no environment at all, or none that matched with nothing listed) is printed with the reason, and
the command exits 3, as a scan would for that tenant.

Examples:
  teamslink environments --config tenants.yaml
  teamslink environments --config tenants.yaml --format json`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if format != "table" && format != "json" {
				return usageErrorf("unknown --format %q (valid: table, json)", format)
			}
			if configPath == "" {
				return usageErrorf("say which tenants: --config tenants.yaml")
			}
			cfg, err := (&targetOptions{configPath: configPath}).load(cmd.Context())
			if err != nil {
				return err
			}
			fleet, err := scan.Discover(cmd.Context(), cfg, deps.scanOptions(nil))
			if err != nil {
				return scanError(err)
			}
			doc := environmentsDocument(fleet)
			if format == "json" {
				err = writeEnvironmentsJSON(cmd.OutOrStdout(), doc)
			} else {
				err = writeEnvironmentsTable(cmd.OutOrStdout(), doc)
			}
			if err != nil {
				return fmt.Errorf("write environments: %w", err)
			}
			failed := 0
			for _, t := range doc.Tenants {
				if t.Failure != nil {
					failed++
				}
			}
			if failed > 0 {
				return &ExitError{Code: finding.ExitIncomplete, Err: fmt.Errorf("the environments of %d tenant(s) could not be discovered", failed)}
			}
			return nil
		},
	}
	cmd.Flags().StringVarP(&configPath, "config", "c", "", "tenants.yaml listing the tenants (see docs/configuration.md)")
	cmd.Flags().StringVar(&format, "format", "table", "output format: table or json")
	return cmd
}

// environmentsDocument turns the discovered fleet into the output.
func environmentsDocument(fleet []*scan.Target) environmentsDoc {
	doc := environmentsDoc{SchemaVersion: EnvironmentsSchemaVersion, Tenants: []environmentTenant{}}
	for _, tt := range fleet {
		t := tt.Tenant
		out := environmentTenant{ID: t.ID, Name: t.Name, Cloud: string(t.Cloud), Environments: []environmentEntry{}}
		if t.Discover != nil {
			out.Source = string(t.Discover.Source)
		}
		if f := tt.Failure; f != nil {
			kind := "discovery"
			if f.Discovery == "" {
				kind = "sign-in"
			}
			out.Failure = &environmentsError{Kind: kind, Error: f.Error, HTTPStatus: f.HTTPStatus}
		}
		for _, e := range t.Environments[:tt.Listed] {
			out.Environments = append(out.Environments, environmentEntry{
				Decision: discovery.Decision{Environment: discovery.Environment{URL: e.URL, Name: e.Name}, Scan: true},
				Origin:   "listed",
			})
		}
		if tt.Discovery != nil {
			for _, d := range tt.Discovery.Found {
				out.Environments = append(out.Environments, environmentEntry{Decision: d, Origin: "discovered"})
			}
		}
		doc.Tenants = append(doc.Tenants, out)
	}
	return doc
}

func writeEnvironmentsJSON(w io.Writer, doc environmentsDoc) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(doc)
}

// writeEnvironmentsTable prints one table of every tenant's environments,
// then the tenants whose discovery failed.
func writeEnvironmentsTable(w io.Writer, doc environmentsDoc) error {
	tbl := tablewriter.NewTable(w,
		tablewriter.WithTrimSpace(tw.Off),
		tablewriter.WithRowAutoWrap(tw.WrapNone),
		tablewriter.WithHeaderAutoWrap(tw.WrapNone),
	)
	tbl.Header("Tenant", "Environment", "Type", "State", "Region", "Origin", "Scan")
	var rows [][]string
	var failures []string
	for _, t := range doc.Tenants {
		tenant := safe(t.ID)
		if t.Name != "" {
			tenant = safe(t.Name) + "\n" + tenant
		}
		if t.Failure != nil {
			what, why := "discovery failed", safe(t.Failure.Error)
			if t.Failure.Kind == "sign-in" {
				what, why = "sign-in failed", "sign-in failed: "+why
			}
			failures = append(failures, fmt.Sprintf("tenant %s: %s", strings.ReplaceAll(tenant, "\n", " "), why))
			rows = append(rows, []string{tenant, "(not scanned: " + what + ")", "", "", "", "", "no"})
			continue
		}
		for _, e := range t.Environments {
			env := safe(e.URL)
			if env == "" {
				env = "(no Dataverse database)"
			}
			if e.Name != "" {
				env = safe(e.Name) + "\n" + env
			}
			state := safe(e.State)
			if e.Default {
				state = strings.TrimSpace(state + " (default)")
			}
			scan := "yes"
			if !e.Scan {
				scan = "no: " + safe(e.Reason)
			}
			origin := e.Origin
			if e.Origin == "discovered" {
				origin += " (" + safe(t.Source) + ")"
			}
			rows = append(rows, []string{tenant, env, safe(e.Type), state, safe(e.Region), origin, scan})
		}
	}
	if err := tbl.Bulk(rows); err != nil {
		return fmt.Errorf("add rows: %w", err)
	}
	if err := tbl.Render(); err != nil {
		return fmt.Errorf("render: %w", err)
	}
	for _, f := range failures {
		if _, err := fmt.Fprintln(w, f); err != nil {
			return err
		}
	}
	return nil
}

// safe makes a string from a service printable: control and bidi
// characters replaced, lines joined.
func safe(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r == '\n' || r == '\t':
			return ' '
		case unicode.IsControl(r), unicode.Is(unicode.Bidi_Control, r):
			return unicode.ReplacementChar
		}
		return r
	}, s)
}
