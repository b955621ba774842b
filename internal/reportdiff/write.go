package reportdiff

import (
	"bufio"
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/teamslink/teamslink/internal/finding"
	"github.com/teamslink/teamslink/internal/termtext"
	"github.com/teamslink/teamslink/report"
)

// JSONSchema is the JSON Schema (2020-12) of the json format, the
// teamslink.diff/v1 contract.
//
//go:embed schema/diff.schema.json
var JSONSchema []byte

// Options tune how a diff renders.
type Options struct {
	// Color turns on ANSI colour in the table format; the caller decides,
	// from whether the destination is a terminal.
	Color bool
}

// writers are the formats Write renders.
var writers = map[string]func(w io.Writer, d Diff, opts Options) error{
	"json":     writeJSON,
	"markdown": writeMarkdown,
	"table":    writeTable,
}

// Formats returns the names of the formats Write renders, sorted.
func Formats() []string {
	names := make([]string, 0, len(writers))
	for name := range writers {
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}

// CheckFormat returns a *report.UnknownFormatError listing the valid formats
// when Write does not render format.
func CheckFormat(format string) error {
	if _, ok := writers[strings.ToLower(strings.TrimSpace(format))]; !ok {
		return &report.UnknownFormatError{Format: format, Valid: Formats()}
	}
	return nil
}

// Write renders d in format (table, json or markdown, case-insensitive) to
// w. Output is rendered whole before the first byte is written; the first
// error of w is returned.
func Write(ctx context.Context, w io.Writer, format string, d Diff, opts Options) error {
	if err := CheckFormat(format); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("write %s diff: %w", format, err)
	}
	var buf bytes.Buffer
	if err := writers[strings.ToLower(strings.TrimSpace(format))](&buf, d, opts); err != nil {
		return fmt.Errorf("write %s diff: %w", format, err)
	}
	n, err := w.Write(buf.Bytes())
	if err == nil && n != buf.Len() {
		err = io.ErrShortWrite
	}
	if err != nil {
		return fmt.Errorf("write %s diff: %w", format, err)
	}
	return nil
}

// writeJSON encodes d with 2-space indentation, lists never null.
func writeJSON(w io.Writer, d Diff, _ Options) error {
	d.SchemaVersion = SchemaVersion
	d.Environments = nonNil(d.Environments)
	for i := range d.Environments {
		e := &d.Environments[i]
		e.Readiness, e.Findings = nonNil(e.Readiness), nonNil(e.Findings)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(d); err != nil {
		return fmt.Errorf("encode: %w", err)
	}
	return nil
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// writeTable renders d for a terminal: the reports compared, the
// environments that moved with each experience's old and new state, then
// each one's findings that moved, then the summary.
func writeTable(w io.Writer, d Diff, opts Options) error {
	pal := palette{termtext.Palette{On: opts.Color}}
	bw := bufio.NewWriter(w)
	fmt.Fprintln(bw, pal.Bold("teamslink report diff"))
	fmt.Fprintln(bw, "old: "+sideLine(d.Old))
	fmt.Fprintln(bw, "new: "+sideLine(d.New))
	fmt.Fprintln(bw)
	moved := movedEnvironments(d)
	if len(moved) == 0 {
		fmt.Fprintln(bw, "No environment moved.")
	} else {
		fmt.Fprintln(bw, pal.Bold("Readiness"))
		tbl := termtext.NewTable(bw)
		tbl.Header("Change", "Tenant", "Environment", "Basic", "Enhanced")
		rows := make([][]string, 0, len(moved))
		for _, e := range moved {
			rows = append(rows, []string{
				pal.change(e.Change),
				termtext.Lines(e.TenantName, e.Tenant),
				termtext.Lines(e.Name, e.URL),
				pal.readiness(e, finding.ExperienceBasic),
				pal.readiness(e, finding.ExperienceEnhanced),
			})
		}
		if err := tbl.Bulk(rows); err != nil {
			return fmt.Errorf("readiness: %w", err)
		}
		if err := tbl.Render(); err != nil {
			return fmt.Errorf("readiness: %w", err)
		}
	}
	for _, e := range moved {
		if len(e.Findings) == 0 {
			continue
		}
		fmt.Fprintln(bw)
		fmt.Fprintln(bw, pal.Bold(title(e)))
		// The table column only where a finding is about a table (the
		// writer's own auto-hiding breaks the borders).
		tables := slices.ContainsFunc(e.Findings, func(f Finding) bool { return f.Table != "" })
		tbl := termtext.NewTable(bw)
		header := []string{"Change", "Rule", "Table", "Status", "Message"}
		if !tables {
			header = slices.Delete(header, 2, 3)
		}
		tbl.Header(header)
		rows := make([][]string, 0, len(e.Findings))
		for _, f := range e.Findings {
			row := []string{
				pal.change(f.Change),
				termtext.Lines(append([]string{f.Rule}, termtext.Wrap(termtext.Clean(f.Title), titleWidth)...)...),
				termtext.Clean(f.Table),
				pal.statuses(f.Old, f.New),
				strings.Join(termtext.Wrap(termtext.Clean(f.Message), messageWidth), "\n"),
			}
			if !tables {
				row = slices.Delete(row, 2, 3)
			}
			rows = append(rows, row)
		}
		if err := tbl.Bulk(rows); err != nil {
			return fmt.Errorf("findings of %s: %w", e.URL, err)
		}
		if err := tbl.Render(); err != nil {
			return fmt.Errorf("findings of %s: %w", e.URL, err)
		}
	}
	fmt.Fprintln(bw)
	fmt.Fprintln(bw, "Environments: "+pal.counts(d.Summary.Environments))
	fmt.Fprintln(bw, "Readiness:    "+pal.counts(d.Summary.Readiness))
	fmt.Fprintln(bw, "Findings:     "+pal.counts(d.Summary.Findings)+" (a tenant-wide finding counts once per tenant)")
	fmt.Fprintln(bw, verdictLine(d, pal))
	return bw.Flush()
}

// verdictLine says in one sentence whether anything regressed.
func verdictLine(d Diff, pal palette) string {
	if d.HasRegression() {
		return pal.Paint(termtext.BoldRed, "Regression: "+regressions(d)+".")
	}
	return pal.Paint(termtext.Green, "No regression.")
}

// Regressions says what regressed, e.g. "2 readiness states and 1 finding
// regressed"; "" when nothing did.
func (d Diff) Regressions() string {
	if !d.HasRegression() {
		return ""
	}
	return regressions(d)
}

// regressions says what regressed: "2 readiness states and 1 finding regressed".
func regressions(d Diff) string {
	var parts []string
	if n := d.Summary.Readiness.Regressed; n > 0 {
		parts = append(parts, plural(n, "readiness state", "readiness states"))
	}
	if n := d.Summary.Findings.Regressed; n > 0 {
		parts = append(parts, plural(n, "finding", "findings"))
	}
	return strings.Join(parts, " and ") + " regressed"
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

// movedEnvironments are the environments that are not unchanged.
func movedEnvironments(d Diff) []Environment {
	var out []Environment
	for _, e := range d.Environments {
		if e.Change != Unchanged {
			out = append(out, e)
		}
	}
	return out
}

func sideLine(s Side) string {
	tool := termtext.Clean(strings.TrimSpace(s.Tool.Name + " " + s.Tool.Version))
	parts := []string{orDefault(tool, "teamslink") + " report generated " + stamp(s.GeneratedAt), "snapshot " + stamp(s.SnapshotAt)}
	if s.Profile != "" {
		parts = append(parts, "profile "+termtext.Clean(s.Profile))
	}
	noun := "environments"
	if s.Environments == 1 {
		noun = "environment"
	}
	parts = append(parts, fmt.Sprintf("%d %s", s.Environments, noun))
	return strings.Join(parts, " · ")
}

func orDefault(s, fallback string) string {
	if s == "" {
		return fallback
	}
	return s
}

func stamp(t time.Time) string {
	if t.IsZero() {
		return "unknown"
	}
	return t.UTC().Format(time.RFC3339)
}

func title(e Environment) string {
	if e.Name != "" {
		return termtext.Clean(e.Name) + " — " + termtext.Clean(e.URL)
	}
	return termtext.Clean(e.URL)
}

// experienceCell renders one experience's move: "READY → BLOCKED", the
// state alone when it did not move, "—" when neither report assessed it.
func experienceCell(e Environment, x finding.Experience, paint func(finding.Readiness) string) string {
	for _, r := range e.Readiness {
		if r.Experience != x {
			continue
		}
		if r.Change == Unchanged {
			return paint(r.New)
		}
		return paint(r.Old) + " → " + paint(r.New)
	}
	return "—"
}

// Wrap widths of the findings table, in runes.
const (
	titleWidth   = 28
	messageWidth = 72
)

var changeColor = map[Change]string{Regressed: termtext.BoldRed, Fixed: termtext.Green, Changed: termtext.Yellow, New: termtext.Cyan, Gone: termtext.Dim}

// palette paints the diff's states and changes, on the terminal palette.
type palette struct{ termtext.Palette }

func (p palette) change(c Change) string {
	return p.Paint(changeColor[c], strings.ToUpper(termtext.Clean(string(c))))
}

// state paints a readiness state as the report's table does: only ENABLED
// and READY are green.
func (p palette) state(r finding.Readiness) string {
	switch r {
	case finding.Enabled, finding.Ready:
		return p.Paint(termtext.Green, string(r))
	case finding.Blocked:
		return p.Paint(termtext.Red, string(r))
	case finding.Broken:
		return p.Paint(termtext.BoldRed, string(r))
	case finding.Unknown:
		return p.Paint(termtext.Magenta, string(r))
	case "":
		return "—"
	}
	return p.Paint(termtext.Dim, termtext.Clean(string(r)))
}

func (p palette) readiness(e Environment, x finding.Experience) string {
	return experienceCell(e, x, p.state)
}

var statusColor = map[finding.Status]string{
	finding.StatusFail: termtext.Red, finding.StatusError: termtext.Magenta, finding.StatusWarn: termtext.Yellow,
	finding.StatusPass: termtext.Green, finding.StatusWaived: termtext.Cyan, finding.StatusSkip: termtext.Dim, finding.StatusManual: "34",
}

func (p palette) status(s finding.Status) string {
	if s == "" {
		return "—"
	}
	return p.Paint(statusColor[s], strings.ToUpper(termtext.Clean(string(s))))
}

func (p palette) statuses(old, new finding.Status) string {
	return p.status(old) + " → " + p.status(new)
}

// counts renders a Counts on one line, in display order.
func (p palette) counts(n Counts) string {
	parts := make([]string, 0, len(Changes))
	for _, c := range Changes {
		part := fmt.Sprintf("%d %s", n.Of(c), c)
		if n.Of(c) > 0 && c != Unchanged {
			part = p.Paint(changeColor[c], part)
		}
		parts = append(parts, part)
	}
	return strings.Join(parts, " · ")
}

// MaxMarkdownSize bounds the markdown format (1 MiB, GitHub's limit for a
// job summary): past it, findings are left out with a note.
const MaxMarkdownSize = 1 << 20

// writeMarkdown renders d for a pull-request comment or a job summary: a
// verdict line, the reports compared, the environments that moved, and each
// one's findings in a collapsed section.
func writeMarkdown(w io.Writer, d Diff, _ Options) error {
	var b strings.Builder
	b.WriteString("## teamslink report diff\n\n")
	if d.HasRegression() {
		b.WriteString("**Regression:** " + regressions(d) + ".\n\n")
	} else {
		b.WriteString("**No regression.**\n\n")
	}
	b.WriteString("| report | generated | snapshot | profile | environments |\n|---|---|---|---|---|\n")
	for _, s := range []struct {
		name string
		side Side
	}{{"old", d.Old}, {"new", d.New}} {
		tool := orDefault(strings.TrimSpace(s.side.Tool.Name+" "+s.side.Tool.Version), "teamslink")
		fmt.Fprintf(&b, "| %s (%s) | %s | %s | %s | %d |\n", s.name, md(tool), stamp(s.side.GeneratedAt), stamp(s.side.SnapshotAt), md(s.side.Profile), s.side.Environments)
	}
	b.WriteString("\n| | environments | readiness | findings |\n|---|---|---|---|\n")
	for _, c := range Changes {
		fmt.Fprintf(&b, "| %s | %d | %d | %d |\n", c, d.Summary.Environments.Of(c), d.Summary.Readiness.Of(c), d.Summary.Findings.Of(c))
	}
	b.WriteString("\nA tenant-wide finding counts once per tenant.\n")
	moved := movedEnvironments(d)
	if len(moved) == 0 {
		b.WriteString("\nNo environment moved.\n")
	} else {
		b.WriteString("\n### Readiness\n\n| change | tenant | environment | basic | enhanced |\n|---|---|---|---|---|\n")
		for _, e := range moved {
			fmt.Fprintf(&b, "| **%s** | %s | %s | %s | %s |\n", e.Change, mdLines(e.TenantName, e.Tenant), mdLines(e.Name, e.URL),
				experienceCell(e, finding.ExperienceBasic, mdState), experienceCell(e, finding.ExperienceEnhanced, mdState))
		}
	}
	var sections []string
	for _, e := range moved {
		if len(e.Findings) == 0 {
			continue
		}
		var s strings.Builder
		fmt.Fprintf(&s, "\n<details%s><summary>%s: %s</summary>\n\n", openIf(e.Change == Regressed), md(title(e)), findingCounts(e.Findings))
		s.WriteString("| change | rule | table | status | message |\n|---|---|---|---|---|\n")
		for _, f := range e.Findings {
			fmt.Fprintf(&s, "| **%s** | %s<br>%s | %s | %s → %s | %s |\n", f.Change, md(f.Rule), md(f.Title), md(f.Table), mdStatus(f.Old), mdStatus(f.New), md(f.Message))
		}
		s.WriteString("\n</details>\n")
		sections = append(sections, s.String())
	}
	if len(sections) > 0 {
		b.WriteString("\n### Findings\n")
	}
	for i, s := range sections {
		const note = "\n_The remaining environments' findings are left out to stay under GitHub's 1 MiB summary limit; the json format has them all._\n"
		if b.Len()+len(s)+len(note) > MaxMarkdownSize {
			fmt.Fprintf(&b, "%s", strings.Replace(note, "remaining environments'", fmt.Sprintf("remaining %d environments'", len(sections)-i), 1))
			break
		}
		b.WriteString(s)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func openIf(open bool) string {
	if open {
		return " open"
	}
	return ""
}

// findingCounts says how a list of findings moved: "1 regressed, 2 fixed".
func findingCounts(fs []Finding) string {
	var n Counts
	for _, f := range fs {
		n.add(f.Change)
	}
	var parts []string
	for _, c := range Changes {
		if n.Of(c) > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n.Of(c), c))
		}
	}
	return strings.Join(parts, ", ")
}

func mdState(r finding.Readiness) string {
	switch r {
	case "":
		return "—"
	case finding.NotAssessed:
		return "not assessed"
	}
	return "**" + md(string(r)) + "**"
}

func mdStatus(s finding.Status) string {
	if s == "" {
		return "—"
	}
	return md(string(s))
}

// mdLines joins the non-empty strings with line breaks, each escaped.
func mdLines(ss ...string) string {
	var out []string
	for _, s := range ss {
		if s != "" {
			out = append(out, md(s))
		}
	}
	return strings.Join(out, "<br>")
}

var mdEscaper = strings.NewReplacer(
	`\`, `\\`, "`", "\\`", "*", `\*`, "_", `\_`, "[", `\[`, "]", `\]`, "|", `\|`, "#", `\#`,
	"\r\n", " ", "\n", " ", "\r", " ",
)

// md makes text from a report safe in a Markdown table cell: HTML is
// escaped, the characters Markdown gives meaning to are backslashed, line
// breaks become spaces, and control characters U+FFFD.
func md(s string) string {
	return mdEscaper.Replace(html.EscapeString(termtext.Clean(s)))
}
