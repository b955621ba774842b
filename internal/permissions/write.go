package permissions

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/tw"
)

// SchemaVersion names the JSON form of the table.
const SchemaVersion = "teamslink.permissions/v1"

// rows returns the rows of mode, or every row for mode "".
func rows(mode Mode) []Request {
	if mode == "" {
		return Table()
	}
	return ForMode(mode)
}

// byService groups rs by service, in Services order, leaving out services
// with no row.
func byService(rs []Request) [][]Request {
	var out [][]Request
	for _, s := range Services {
		var g []Request
		for _, r := range rs {
			if r.Service == s {
				g = append(g, r)
			}
		}
		if len(g) > 0 {
			out = append(out, g)
		}
	}
	return out
}

// grants renders grants as "A or B", each not CONFIRMED one labelled.
func grants(gs []Grant) string {
	parts := make([]string, len(gs))
	for i, g := range gs {
		parts[i] = g.Name
		if g.Label != Confirmed {
			parts[i] += " (" + string(g.Label) + ")"
		}
	}
	return strings.Join(parts, " or ")
}

// dataverseGrants renders a row's Dataverse needs: every privilege listed,
// or the System Administrator role when the row ends with it.
func dataverseGrants(gs []Grant) string {
	and := func(gs []Grant) string { return strings.ReplaceAll(grants(gs), " or ", " and ") }
	if n := len(gs); n > 1 && gs[n-1] == systemAdministrator {
		return and(gs[:n-1]) + ", or " + grants(gs[n-1:]) + ", which carries every read"
	}
	return and(gs)
}

// needs renders what a row needs in one line.
func needs(r Request) string {
	var parts []string
	if len(r.Application) > 0 {
		parts = append(parts, "application: "+grants(r.Application))
	}
	if len(r.Delegated) > 0 {
		parts = append(parts, "delegated: "+grants(r.Delegated))
	}
	if len(r.Dataverse) > 0 {
		parts = append(parts, "Dataverse: "+dataverseGrants(r.Dataverse))
	}
	if len(r.Role) > 0 {
		parts = append(parts, "role: "+grants(r.Role))
	}
	if len(parts) == 0 {
		return "nothing of its own"
	}
	return strings.Join(parts, "; ")
}

// when renders a row's condition.
func when(r Request) string {
	switch {
	case r.When == "":
		return "always"
	}
	return "when " + r.When
}

// WriteTable writes the rows of mode ("" for all) as one terminal table per
// service.
func WriteTable(w io.Writer, mode Mode) error {
	for k, g := range byService(rows(mode)) {
		info := Info[g[0].Service]
		sep := "\n"
		if k == 0 {
			sep = ""
		}
		if _, err := fmt.Fprintf(w, "%s%s — %s (token %s)\n", sep, strings.ToUpper(string(info.Service)), info.Title, info.Token); err != nil {
			return err
		}
		if info.Note != "" {
			if _, err := fmt.Fprintln(w, info.Note); err != nil {
				return err
			}
		}
		t := tablewriter.NewTable(w, tablewriter.WithRowMaxWidth(46), tablewriter.WithRowAutoWrap(tw.WrapNormal))
		t.Header("Request", "Section", "Rules", "Needs", "Made")
		for _, r := range g {
			if err := t.Append(r.Method+" "+r.Path, r.Section, strings.Join(r.Rules, " "), needs(r), when(r)); err != nil {
				return err
			}
		}
		if err := t.Render(); err != nil {
			return fmt.Errorf("render permissions: %w", err)
		}
	}
	return writeSummary(w, mode, false)
}

// writeSummary writes the Graph permissions to grant, for an application
// and for a person.
func writeSummary(w io.Writer, mode Mode, markdown bool) error {
	if mode == "" {
		mode = ModeScan
	}
	for _, delegated := range []bool{false, true} {
		kind := "an application (application permissions, admin consent)"
		if delegated {
			kind = "a person (delegated permissions)"
		}
		head := "\nMicrosoft Graph permissions to grant " + kind + " for " + string(mode) + ":\n"
		if markdown {
			head = "\n**Microsoft Graph permissions to grant " + kind + " for " + string(mode) + "** (one of each line):\n\n"
		}
		if _, err := io.WriteString(w, head); err != nil {
			return err
		}
		for _, n := range GraphPermissions(mode, delegated) {
			cond := ""
			if !n.Always {
				cond = " — only " + strings.Join(n.When, "; or ")
			}
			line := fmt.Sprintf("  - %s%s (%s)\n", grants(n.AnyOf), cond, strings.Join(n.Requests, ", "))
			if markdown {
				line = fmt.Sprintf("- %s%s (`%s`)\n", grants(n.AnyOf), cond, strings.Join(n.Requests, "`, `"))
			}
			if _, err := io.WriteString(w, line); err != nil {
				return err
			}
		}
	}
	return nil
}

// jsonDocument is the JSON form of the table.
type jsonDocument struct {
	SchemaVersion string        `json:"schemaVersion"`
	Mode          Mode          `json:"mode,omitempty"`
	Services      []jsonService `json:"services"`
	Graph         jsonGraph     `json:"graph"`
}

type jsonService struct {
	ServiceInfo
	Requests []Request `json:"requests"`
}

type jsonGraph struct {
	Application []Need `json:"application"`
	Delegated   []Need `json:"delegated"`
}

// WriteJSON writes the rows of mode ("" for all) grouped per service, with
// the Graph permissions to grant.
func WriteJSON(w io.Writer, mode Mode) error {
	doc := jsonDocument{SchemaVersion: SchemaVersion, Mode: mode, Services: []jsonService{}}
	for _, g := range byService(rows(mode)) {
		doc.Services = append(doc.Services, jsonService{ServiceInfo: Info[g[0].Service], Requests: g})
	}
	m := mode
	if m == "" {
		m = ModeScan
	}
	doc.Graph = jsonGraph{Application: GraphPermissions(m, false), Delegated: GraphPermissions(m, true)}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(doc)
}

// WriteMarkdown writes the rows of mode ("" for all) as one Markdown table
// per service, headings at level, then the Graph permissions to grant.
func WriteMarkdown(w io.Writer, mode Mode, level int) error {
	h := strings.Repeat("#", level)
	var b strings.Builder
	for _, g := range byService(rows(mode)) {
		info := Info[g[0].Service]
		fmt.Fprintf(&b, "%s %s\n\n", h, info.Title)
		fmt.Fprintf(&b, "Service root `%s`; token scope `%s`.", info.Root, info.Token)
		if info.Note != "" {
			b.WriteString(" " + info.Note)
		}
		b.WriteString("\n\n")
		b.WriteString("| request | section | rules | needs | modes | made |\n|---|---|---|---|---|---|\n")
		for _, r := range g {
			modes := make([]string, len(r.Modes))
			for i, m := range r.Modes {
				modes[i] = string(m)
			}
			need := needs(r)
			if r.Note != "" {
				need += ". " + r.Note
			}
			fmt.Fprintf(&b, "| `%s %s` | %s | %s | %s | %s | %s |\n", r.Method, cell(r.Path), code(r.Section), strings.Join(r.Rules, ", "), cell(need), strings.Join(modes, ", "), cell(when(r)))
		}
		b.WriteString("\n")
	}
	if _, err := io.WriteString(w, b.String()); err != nil {
		return err
	}
	return writeSummary(w, mode, true)
}

func code(s string) string {
	if s == "" {
		return "—"
	}
	return "`" + s + "`"
}

// cell escapes a Markdown table cell.
func cell(s string) string { return strings.ReplaceAll(s, "|", `\|`) }

// docPreamble opens docs/permissions.md.
const docPreamble = `# Permissions

<!-- Generated from internal/permissions (the one table); do not edit: run
     go test ./internal/permissions -update. A test fails when this page is stale. -->

Every request teamslink makes, per service, with what it needs: the Microsoft Graph application
and delegated permissions (any one of those listed, least privileged first), the Dataverse
privilege and the security role that carries it, the directory, SharePoint or Power Platform role,
the snapshot section the answer fills and the rules that read it. ` + "`teamslink permissions`" + ` prints
the same table for one mode (` + "`--mode scan|serve|remediate`, `--format table|json|markdown`" + `).

- **scan** and **serve** make the same requests (serve on a schedule).
- **remediate** plans with the scan's requests, then re-reads each record it writes before and after
  the write (drift check, backup, verification); a test runs plan, apply and rollback against the
  emulator and fails when one of their requests matches no row.
- Facts come from the project's Microsoft reference; a name marked INFERENCE or NOT CONFIRMED is
  not stated by Microsoft for that request. A test runs the collectors against the emulator and
  fails when a request matches no row, or when a row without a condition is never made.
- A request that fails for want of a permission makes its section ` + "`error`" + `, never a pass: the
  findings that read it say which permission to grant.

`

// WriteDoc writes docs/permissions.md.
func WriteDoc(w io.Writer) error {
	if _, err := io.WriteString(w, docPreamble); err != nil {
		return err
	}
	return WriteMarkdown(w, "", 2)
}
