package report

import (
	"bufio"
	"cmp"
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/tw"

	"github.com/teamslink/teamslink/internal/finding"
	"github.com/teamslink/teamslink/internal/termtext"
)

// Wrap widths of the findings table, in runes. The table writer wraps text
// itself so hanging indents survive and the output does not depend on the
// terminal.
const (
	titleWidth   = 28
	messageWidth = 80
)

// notAssessed is how the matrix shows an experience the run was not asked about.
const notAssessed = "—"

// tableWriter renders the report for people: a readiness matrix, then each
// environment's findings with evidence and remediation, then a summary.
type tableWriter struct {
	w     io.Writer
	pal   termtext.Palette
	clock func() time.Time
	// matrixOnly leaves out the per-environment findings.
	matrixOnly bool
}

func newTableWriter(w io.Writer, opts Options) Writer {
	return &tableWriter{w: w, pal: termtext.Palette{On: opts.Color}, clock: opts.Now}
}

// Write renders r. Output is buffered and flushed at the end; the first
// error from the destination is returned.
func (t *tableWriter) Write(ctx context.Context, r *finding.Report) error {
	if err := begin(ctx, r); err != nil {
		return fmt.Errorf("write table report: %w", err)
	}
	// bufio keeps the first write error and returns it from every later
	// write and from Flush, so no failure of the destination is lost.
	bw := bufio.NewWriter(t.w)
	if err := t.render(ctx, bw, r); err != nil {
		return fmt.Errorf("write table report: %w", err)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write table report: %w", err)
	}
	return nil
}

func (t *tableWriter) render(ctx context.Context, w *bufio.Writer, r *finding.Report) error {
	t.signIns(w, r.SignInErrors)
	t.header(w, r)
	if len(r.Environments) == 0 {
		fmt.Fprintln(w, "No environments were assessed.")
	} else {
		fmt.Fprintln(w, t.pal.Bold("Readiness"))
		if err := t.matrix(w, r.Environments, r.SignInErrors); err != nil {
			return fmt.Errorf("readiness matrix: %w", err)
		}
	}
	for i, e := range r.Environments {
		if t.matrixOnly {
			break
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		fmt.Fprintln(w)
		if err := t.environment(w, e); err != nil {
			return fmt.Errorf("environment %d (%s): %w", i, e.URL, err)
		}
	}
	t.waiverNotices(w, r.Waivers)
	fmt.Fprintln(w)
	fmt.Fprintln(w, t.summary(r))
	return nil
}

// waiverNotices lists the declared waivers that did not apply, so that an
// expired or mistyped waiver is never silent.
func (t *tableWriter) waiverNotices(w io.Writer, notices []finding.WaiverNotice) {
	if len(notices) == 0 {
		return
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, t.pal.Bold(t.pal.Paint(termtext.Yellow, fmt.Sprintf("Waivers that did not apply (%d)", len(notices)))))
	for _, n := range notices {
		head := "  " + termtext.Clean(string(n.Problem)) + ": " + termtext.Clean(n.Rule)
		for _, part := range []string{n.Tenant, n.Environment, n.Table} {
			if part != "" {
				head += " " + termtext.Clean(part)
			}
		}
		if n.Source != "" {
			head += " (" + termtext.Clean(n.Source) + ")"
		}
		fmt.Fprintln(w, head)
		for _, l := range termtext.Wrap("    "+termtext.Prose(n.Message), messageWidth+titleWidth) {
			fmt.Fprintln(w, l)
		}
	}
}

// signIns says first, once per tenant, that a tenant's sign-in failed:
// which credential, why, and the fix. Its findings only point here.
func (t *tableWriter) signIns(w io.Writer, errs []finding.SignInError) {
	if len(errs) == 0 {
		return
	}
	fmt.Fprintln(w, t.pal.Bold(t.pal.Paint(termtext.Magenta, signInTitle(errs))))
	for _, e := range errs {
		tenant := termtext.Clean(e.Tenant)
		if e.TenantName != "" {
			tenant = termtext.Clean(e.TenantName) + " (" + tenant + ")"
		}
		credential := termtext.Clean(e.Method) + " credential"
		if e.ClientID != "" {
			credential += ", client id " + termtext.Clean(e.ClientID)
		}
		fmt.Fprintln(w, "  tenant "+tenant+": "+credential+signInWhat(e))
		field := func(label, value string) {
			for _, l := range termtext.Wrap("    "+t.pal.Paint(termtext.Dim, label+":")+" "+termtext.Prose(value), messageWidth+titleWidth) {
				fmt.Fprintln(w, l)
			}
		}
		field("why", e.Error)
		field("fix", e.Fix)
		field("docs", e.Docs)
	}
	fmt.Fprintln(w)
}

// header names the tool, the profile and how old the snapshot is.
func (t *tableWriter) header(w io.Writer, r *finding.Report) {
	tool := termtext.Clean(strings.TrimSpace(r.Tool.Name + " " + r.Tool.Version))
	if tool == "" {
		tool = "teamslink"
	}
	line := tool + " report"
	if r.Profile != "" {
		line += " · profile " + termtext.Clean(r.Profile)
	}
	fmt.Fprintln(w, t.pal.Bold(line))
	fmt.Fprintf(w, "generated %s · snapshot %s\n\n", stamp(r.GeneratedAt), t.snapshotAge(r.SnapshotAt))
}

func stamp(ts time.Time) string {
	if ts.IsZero() {
		return "unknown"
	}
	return ts.UTC().Format(time.RFC3339)
}

func (t *tableWriter) snapshotAge(at time.Time) string {
	if at.IsZero() {
		return "time unknown"
	}
	return stamp(at) + " (" + age(t.clock().Sub(at)) + ")"
}

// age renders how long ago something happened, coarsely.
func age(d time.Duration) string {
	switch {
	case d < 0:
		return "after the report clock"
	case d < time.Minute:
		return "less than a minute old"
	case d < time.Hour:
		return fmt.Sprintf("%dm old", int(d/time.Minute))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh old", int(d/time.Hour))
	}
	return fmt.Sprintf("%dd old", int(d/(24*time.Hour)))
}

// matrix renders one row per environment: where it is, each experience's
// readiness, the failing rules that block it (off) or break it (on), and
// the rules that could not be assessed.
// An environment of a tenant whose sign-in failed shows that, not every rule.
func (t *tableWriter) matrix(w io.Writer, envs []finding.Environment, signIns []finding.SignInError) error {
	signedOut := map[string]bool{}
	for _, s := range signIns {
		signedOut[s.Tenant] = true
	}
	tbl := termtext.NewTable(w)
	tbl.Header("Tenant", "Environment", "Basic", "Enhanced", "Failing", "Unknown")
	rows := make([][]string, 0, len(envs))
	for _, e := range envs {
		basic := e.Verdict(finding.ExperienceBasic)
		enhanced := e.Verdict(finding.ExperienceEnhanced)
		unknown := termtext.Lines(union(basic.Unknown, enhanced.Unknown)...)
		if signedOut[e.Tenant] {
			unknown = "every rule: sign-in failed"
		}
		rows = append(rows, []string{
			termtext.Lines(e.TenantName, e.Tenant),
			termtext.Lines(e.Name, e.URL),
			t.readiness(basic.Readiness),
			t.readiness(enhanced.Readiness),
			termtext.Lines(union(basic.Blocking, enhanced.Blocking)...),
			unknown,
		})
	}
	if err := tbl.Bulk(rows); err != nil {
		return fmt.Errorf("add rows: %w", err)
	}
	if err := tbl.Render(); err != nil {
		return fmt.Errorf("render: %w", err)
	}
	return nil
}

func (t *tableWriter) readiness(r finding.Readiness) string {
	switch r {
	case finding.Enabled, finding.Ready:
		return t.pal.Paint(termtext.Green, string(r))
	case finding.Blocked:
		return t.pal.Paint(termtext.Red, string(r))
	case finding.Broken:
		return t.pal.Paint(termtext.BoldRed, string(r))
	case finding.Unknown:
		return t.pal.Paint(termtext.Magenta, string(r))
	case finding.NotAssessed, "":
		return t.pal.Paint(termtext.Dim, notAssessed)
	}
	return termtext.Clean(string(r))
}

// environment renders one environment's heading and findings table.
func (t *tableWriter) environment(w io.Writer, e finding.Environment) error {
	title := termtext.Clean(e.URL)
	if e.Name != "" {
		title = termtext.Clean(e.Name) + " — " + title
	}
	fmt.Fprintln(w, t.pal.Bold(title))
	tenant := termtext.Clean(e.Tenant)
	if e.TenantName != "" {
		tenant = termtext.Clean(e.TenantName) + " (" + tenant + ")"
	}
	parts := []string{"tenant " + tenant}
	if e.Experience != "" {
		parts = append(parts, "assessed for "+termtext.Clean(string(e.Experience)))
	}
	for _, x := range finding.Experiences {
		parts = append(parts, string(x)+" "+t.readiness(e.Verdict(x).Readiness))
	}
	fmt.Fprintln(w, strings.Join(parts, " · "))
	if len(e.Findings) == 0 {
		fmt.Fprintln(w, "No findings.")
		return nil
	}

	tbl := termtext.NewTable(w, tablewriter.WithAutoHide(tw.On)) // hides TABLE when no rule is per table
	tbl.Header("Status", "Severity", "Rule", "Table", "Message")
	rows := make([][]string, 0, len(e.Findings))
	for _, f := range sortFindings(e.Findings) {
		msg, err := t.details(f)
		if err != nil {
			return fmt.Errorf("finding %s: %w", f.Key, err)
		}
		rows = append(rows, []string{
			t.status(f.Status),
			termtext.Clean(string(f.Severity)),
			termtext.Lines(append([]string{termtext.Clean(f.Rule)}, termtext.Wrap(termtext.Clean(f.Title), titleWidth)...)...),
			termtext.Clean(f.Table),
			msg,
		})
	}
	if err := tbl.Bulk(rows); err != nil {
		return fmt.Errorf("add findings: %w", err)
	}
	if err := tbl.Render(); err != nil {
		return fmt.Errorf("render findings: %w", err)
	}
	return nil
}

// details is the message cell: the message, and for a finding that is not
// a pass, what was seen and what to do about it: for an error, how to read
// what could not be read; otherwise the rule's remediation and fix.
func (t *tableWriter) details(f finding.Finding) (string, error) {
	out := termtext.Wrap(termtext.Clean(f.Message), messageWidth)
	if f.Internal {
		for _, l := range termtext.Wrap("internal error: the policy broke the engine's contract", messageWidth) {
			out = append(out, t.pal.Paint(termtext.Magenta, l))
		}
	}
	if f.Waiver != nil {
		out = append(out, termtext.Wrap("waived: "+termtext.Clean(waiver(*f.Waiver)), messageWidth)...)
	}
	if !nonPass(f.Status) {
		return strings.Join(out, "\n"), nil
	}
	field := func(label, value string) {
		if value != "" {
			out = append(out, termtext.Wrap(t.pal.Paint(termtext.Dim, label+":")+" "+termtext.Prose(value), messageWidth)...)
		}
	}
	if a := f.Access; a != nil {
		// The section's problem is the message; say how to read it.
		field("to read it", a.Advice)
		if a.Source != "" && !a.SignIn {
			request := a.Source
			if a.HTTPStatus != 0 {
				request += fmt.Sprintf(" → HTTP %d", a.HTTPStatus)
			}
			field("request", request)
			field("docs", f.Docs)
		}
		return strings.Join(out, "\n"), nil
	}
	ev, err := evidenceLines(f.Evidence)
	if err != nil {
		return "", fmt.Errorf("evidence: %w", err)
	}
	if len(ev) > 0 {
		out = append(out, t.pal.Paint(termtext.Dim, "evidence:"))
		for _, l := range ev {
			out = append(out, termtext.Wrap("  "+l, messageWidth)...)
		}
	}
	field("remediation", f.Remediation)
	if f.Fix != nil {
		field("automated fix", strings.TrimSuffix(f.Fix.Action+" — "+f.Fix.Description, " — "))
	}
	field("explains error", f.ErrorCode)
	field("docs", f.Docs)
	return strings.Join(out, "\n"), nil
}

func waiver(w finding.Waiver) string {
	s := w.Reason
	meta := []string{}
	if w.Owner != "" {
		meta = append(meta, "owner "+w.Owner)
	}
	if w.Expires != "" {
		meta = append(meta, "until "+w.Expires)
	}
	if w.Source != "" {
		meta = append(meta, w.Source)
	}
	if len(meta) > 0 {
		s += " (" + strings.Join(meta, ", ") + ")"
	}
	return s
}

// nonPass reports whether a finding of status s shows what was seen and
// what to do: fail, error and warn, and manual (the steps to check by hand).
func nonPass(s finding.Status) bool {
	return s == finding.StatusFail || s == finding.StatusError || s == finding.StatusWarn || s == finding.StatusManual
}

func (t *tableWriter) status(s finding.Status) string {
	return t.paintStatus(s, strings.ToUpper(termtext.Clean(string(s))))
}

// summary is the closing line: environments and findings per status.
func (t *tableWriter) summary(r *finding.Report) string {
	counts := r.Summarize()
	parts := make([]string, 0, len(finding.Statuses))
	for _, s := range finding.Statuses {
		part := fmt.Sprintf("%d %s", counts[s], s)
		if counts[s] > 0 {
			part = t.paintStatus(s, part)
		}
		parts = append(parts, part)
	}
	noun := "environments"
	if len(r.Environments) == 1 {
		noun = "environment"
	}
	line := fmt.Sprintf("Summary: %d %s · %s", len(r.Environments), noun, strings.Join(parts, " · "))
	if len(r.Environments) > 1 {
		line += " (a tenant-wide finding counts once per tenant)"
	}
	return line
}

// paintStatus paints text in the colour of status s.
func (t *tableWriter) paintStatus(s finding.Status, text string) string {
	return t.pal.Paint(statusColor[s], text)
}

// statusColor is the colour of each status: red fail, magenta error,
// yellow warn, blue manual, green pass, cyan waived, dim skip.
var statusColor = map[finding.Status]string{
	finding.StatusFail:   termtext.Red,
	finding.StatusError:  termtext.Magenta,
	finding.StatusWarn:   termtext.Yellow,
	finding.StatusManual: termtext.Blue,
	finding.StatusPass:   termtext.Green,
	finding.StatusWaived: termtext.Cyan,
	finding.StatusSkip:   termtext.Dim,
}

// sortFindings returns the findings in display order: by status (fail,
// error, warn, manual, pass, waived, skip), then most severe first, then rule id and
// table. The input is not modified.
func sortFindings(fs []finding.Finding) []finding.Finding {
	out := slices.Clone(fs)
	slices.SortStableFunc(out, func(a, b finding.Finding) int {
		return cmp.Or(
			cmp.Compare(statusOrder(a.Status), statusOrder(b.Status)),
			cmp.Compare(b.Severity.Rank(), a.Severity.Rank()),
			cmp.Compare(a.Rule, b.Rule),
			cmp.Compare(a.Table, b.Table),
		)
	})
	return out
}

func statusOrder(s finding.Status) int {
	if i := slices.Index(finding.Statuses, s); i >= 0 {
		return i
	}
	return len(finding.Statuses)
}

// union returns the strings of a, then those of b not in a.
func union(a, b []string) []string {
	out := slices.Clone(a)
	for _, s := range b {
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}
