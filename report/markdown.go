package report

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"html"
	"io"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/teamslink/teamslink/internal/finding"
	"github.com/teamslink/teamslink/internal/termtext"
)

// markdownLimit bounds the markdown output in bytes. GitHub refuses a step
// summary ($GITHUB_STEP_SUMMARY) above 1 MiB ("supports content up to a
// size of 1024k"); the output stays a little below it. A longer report is
// cut at a section boundary and ends with a note saying what was left out.
// (A pull-request comment takes at most 65,536 characters: a large fleet's
// summary is for the step summary, or needs the JSON or HTML report.)
const markdownLimit = 1<<20 - 32<<10

// markdownNoteReserve is kept free under the limit for the truncation note.
const markdownNoteReserve = 4 << 10

// markdownWriter renders the report as GitHub-flavoured Markdown for a
// pull-request comment or a step summary: the readiness matrix first, then
// what blocks, broke or could not assess each environment that needs
// attention, with remediation and docs, the details in collapsible
// <details> blocks; waived findings with reason, owner and expiry; waivers
// that did not apply; sign-in errors. Every string that comes from a
// tenant, the config, the snapshot or a policy is escaped, so it renders as
// text and never as markup.
type markdownWriter struct {
	w     io.Writer
	clock func() time.Time
	limit int
}

func newMarkdownWriter(w io.Writer, opts Options) Writer {
	return &markdownWriter{w: w, clock: opts.Now, limit: markdownLimit}
}

// mdBlock is a unit the output is cut at: a section, or one row of a table
// or item of a list. Every block is whole Markdown on its own: no block
// opens a <details> it does not close.
type mdBlock struct {
	text string
	// attach puts the block right after the previous one (a table row, a
	// list item); otherwise a blank line separates them.
	attach bool
	// what names what the block is, for the truncation note; the zero
	// kind for a block that is never left out alone (a table's head goes
	// with its first row).
	what mdKind
}

// mdKind names a kind of block in the singular and the plural.
type mdKind struct{ one, many string }

// The kinds of block the truncation note counts.
var (
	kindSignIn    = mdKind{"sign-in error", "sign-in errors"}
	kindRow       = mdKind{"row of the readiness matrix", "rows of the readiness matrix"}
	kindNotice    = mdKind{"waiver that did not apply", "waivers that did not apply"}
	kindAttention = mdKind{"section on an environment that needs attention", "sections on environments that need attention"}
	kindWaived    = mdKind{"waived finding", "waived findings"}
	kindRest      = mdKind{"section on an environment that needs no attention", "sections on environments that need no attention"}
)

// Write renders r, cut to the size limit.
func (m *markdownWriter) Write(ctx context.Context, r *finding.Report) error {
	if err := begin(ctx, r); err != nil {
		return fmt.Errorf("write markdown report: %w", err)
	}
	blocks, err := m.blocks(ctx, r)
	if err != nil {
		return fmt.Errorf("write markdown report: %w", err)
	}
	if err := writeAll(m.w, assemble(blocks, m.limit)); err != nil {
		return fmt.Errorf("write markdown report: %w", err)
	}
	return nil
}

// assemble joins the blocks while they fit under limit; the first that
// does not fit ends the output, with a note that counts what was left out.
func assemble(blocks []mdBlock, limit int) []byte {
	var buf bytes.Buffer
	for i, b := range blocks {
		sep := 0
		if i > 0 && !b.attach {
			sep = 1
		}
		if buf.Len()+sep+len(b.text) > limit-markdownNoteReserve {
			buf.WriteString("\n")
			buf.WriteString(truncationNote(blocks[i:]))
			return buf.Bytes()
		}
		if sep > 0 {
			buf.WriteByte('\n')
		}
		buf.WriteString(b.text)
	}
	return buf.Bytes()
}

// truncationNote says what the cut left out, by kind, in order.
func truncationNote(rest []mdBlock) string {
	var kinds []mdKind
	count := map[mdKind]int{}
	for _, b := range rest {
		if b.what == (mdKind{}) {
			continue
		}
		if count[b.what] == 0 {
			kinds = append(kinds, b.what)
		}
		count[b.what]++
	}
	parts := make([]string, 0, len(kinds))
	for _, k := range kinds {
		parts = append(parts, fmt.Sprintf("%d %s", count[k], plural(count[k], k.one, k.many)))
	}
	left := "the rest"
	if len(parts) > 0 {
		left = strings.Join(parts, ", ")
	}
	// Keep the note within markdownNoteReserve.
	left = truncate(left, 1024)
	return "> [!WARNING]\n> **This report is truncated** to stay under GitHub's 1 MiB limit for a step summary. " +
		"Left out: " + left + ". The json and html formats of the same report have everything.\n"
}

func (m *markdownWriter) blocks(ctx context.Context, r *finding.Report) ([]mdBlock, error) {
	var bs []mdBlock
	add := func(text string, attach bool, what mdKind) {
		bs = append(bs, mdBlock{text: text, attach: attach, what: what})
	}

	add(m.header(r), false, mdKind{})
	if len(r.SignInErrors) > 0 {
		head := "### ❓ " + signInTitle(r.SignInErrors) + "\n"
		for i, s := range r.SignInErrors {
			text := signInItem(s)
			if i == 0 {
				text = head + "\n" + text
			}
			add(text, i > 0, kindSignIn)
		}
	}

	add("### Readiness\n", false, mdKind{})
	if len(r.Environments) == 0 {
		add("No environments were assessed.\n", false, mdKind{})
	} else {
		signedOut := map[string]bool{}
		for _, s := range r.SignInErrors {
			signedOut[s.Tenant] = true
		}
		head := "| Tenant | Environment | Basic | Enhanced | Failing | Unknown |\n| --- | --- | --- | --- | --- | --- |\n"
		// Those that need attention first, so a cut leaves out the healthy.
		envs := slices.Clone(r.Environments)
		slices.SortStableFunc(envs, func(a, b finding.Environment) int { return cmp.Compare(worstRank(a), worstRank(b)) })
		for i, e := range envs {
			row := matrixRow(e, signedOut[e.Tenant])
			if i == 0 {
				row = head + row
			}
			add(row, i > 0, kindRow)
		}
	}
	add(summaryLine(r), false, mdKind{})

	if len(r.Waivers) > 0 {
		for i, n := range r.Waivers {
			text := waiverNoticeItem(n)
			if i == 0 {
				text = fmt.Sprintf("### ⚠️ Waivers that did not apply (%d)\n\n", len(r.Waivers)) + text
			}
			add(text, i > 0, kindNotice)
		}
	}

	var attention, rest []finding.Environment
	for _, e := range r.Environments {
		if needsAttention(e) {
			attention = append(attention, e)
		} else {
			rest = append(rest, e)
		}
	}
	slices.SortStableFunc(attention, func(a, b finding.Environment) int { return cmp.Compare(worstRank(a), worstRank(b)) })
	for _, e := range attention {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		text, err := attentionSection(e)
		if err != nil {
			return nil, fmt.Errorf("environment %s: %w", e.URL, err)
		}
		add(text, false, kindAttention)
	}

	first := true
	for _, e := range r.Environments {
		for _, f := range sortFindings(e.Findings) {
			if f.Status != finding.StatusWaived {
				continue
			}
			row := waivedRow(e, f)
			if first {
				row = "### 💤 Waived findings\n\n| Environment | Rule | Table | Was | Reason | Owner | Last day | Declared |\n| --- | --- | --- | --- | --- | --- | --- | --- |\n" + row
			}
			add(row, !first, kindWaived)
			first = false
		}
	}

	for i, e := range rest {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		text := restSection(e)
		if i == 0 {
			text = "### Other environments\n\n" + text
		}
		add(text, false, kindRest)
	}
	return bs, nil
}

// header names the tool, the profile and the report's times, and says in
// one line how many environments need attention.
func (m *markdownWriter) header(r *finding.Report) string {
	tool := mdText(strings.TrimSpace(r.Tool.Name + " " + r.Tool.Version))
	if tool == "" {
		tool = "teamslink"
	}
	var b strings.Builder
	b.WriteString("## teamslink report\n\n")
	b.WriteString(tool)
	if r.Profile != "" {
		b.WriteString(" · profile " + mdText(r.Profile))
	}
	b.WriteString(" · generated " + stamp(r.GeneratedAt) + " · snapshot ")
	if r.SnapshotAt.IsZero() {
		b.WriteString("time unknown")
	} else {
		b.WriteString(stamp(r.SnapshotAt) + " (" + age(m.clock().Sub(r.SnapshotAt)) + ")")
	}
	b.WriteString("\n")
	counts := map[finding.Readiness]int{}
	need := 0
	for _, e := range r.Environments {
		if needsAttention(e) {
			need++
			counts[worst(e)]++
		}
	}
	if n := len(r.Environments); n > 0 {
		b.WriteString("\n")
		verb := plural(need, "needs", "need")
		if need == 0 {
			fmt.Fprintf(&b, "**%d of %d %s %s attention.**\n", need, n, plural(n, "environment", "environments"), verb)
		} else {
			var parts []string
			for _, st := range []finding.Readiness{finding.Broken, finding.Blocked, finding.Unknown} {
				if counts[st] > 0 {
					parts = append(parts, fmt.Sprintf("%d %s", counts[st], readinessText(st)))
				}
			}
			fmt.Fprintf(&b, "**%d of %d %s %s attention:** %s.\n", need, n, plural(n, "environment", "environments"), verb, strings.Join(parts, ", "))
		}
	}
	return b.String()
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// signInItem is one tenant's sign-in error as a list item.
func signInItem(s finding.SignInError) string {
	tenant := "**" + mdText(cmp.Or(s.TenantName, s.Tenant)) + "**"
	if s.TenantName != "" {
		tenant += " (" + mdText(s.Tenant) + ")"
	}
	credential := mdText(s.Method) + " credential"
	if s.ClientID != "" {
		credential += ", client id " + mdText(s.ClientID)
	}
	out := []string{"- " + tenant + ": " + credential + mdText(signInWhat(s))}
	out = appendMDField(out, "Why", s.Error)
	if s.HTTPStatus != 0 {
		out = append(out, fmt.Sprintf("  - **Refused:** every request, HTTP %d", s.HTTPStatus))
	}
	out = appendMDField(out, "Fix", s.Fix)
	out = appendMDDocs(out, s.Docs)
	return strings.Join(out, "\n") + "\n"
}

// matrixRow is one environment's row of the readiness matrix.
func matrixRow(e finding.Environment, signedOut bool) string {
	basic := e.Verdict(finding.ExperienceBasic)
	enhanced := e.Verdict(finding.ExperienceEnhanced)
	unknown := mdCell(union(basic.Unknown, enhanced.Unknown)...)
	if signedOut {
		unknown = "every rule: sign-in failed"
	}
	return "| " + strings.Join([]string{
		mdCell(e.TenantName, e.Tenant),
		mdCell(e.Name, e.URL),
		readinessText(basic.Readiness),
		readinessText(enhanced.Readiness),
		mdCell(union(basic.Blocking, enhanced.Blocking)...),
		unknown,
	}, " | ") + " |\n"
}

// mdCell joins the non-empty strings, escaped, with line breaks: a table cell.
func mdCell(ss ...string) string {
	var out []string
	for _, s := range ss {
		if s = mdText(s); s != "" {
			out = append(out, s)
		}
	}
	return strings.Join(out, "<br>")
}

// summaryLine counts environments and findings per status.
func summaryLine(r *finding.Report) string {
	counts := r.Summarize()
	parts := make([]string, 0, len(finding.Statuses))
	for _, s := range finding.Statuses {
		parts = append(parts, fmt.Sprintf("%d %s", counts[s], s))
	}
	n := len(r.Environments)
	line := fmt.Sprintf("**Summary:** %d %s · %s", n, plural(n, "environment", "environments"), strings.Join(parts, " · "))
	if n > 1 {
		line += " (a tenant-wide finding counts once per tenant)"
	}
	return line + "\n"
}

// waiverNoticeItem is one waiver that did not apply, as a list item.
func waiverNoticeItem(n finding.WaiverNotice) string {
	head := "- **" + mdText(string(n.Problem)) + ":** " + mdText(n.Rule)
	for _, part := range []string{n.Tenant, n.Environment, n.Table} {
		if part != "" {
			head += " · " + mdText(part)
		}
	}
	if n.Source != "" {
		head += " (" + mdText(n.Source) + ")"
	}
	out := []string{head, "  - " + mdText(n.Message)}
	out = appendMDField(out, "Reason", n.Reason)
	out = appendMDField(out, "Owner", n.Owner)
	out = appendMDField(out, "Last day", n.Expires)
	return strings.Join(out, "\n") + "\n"
}

// needsAttention reports whether an experience of e is BLOCKED, BROKEN or
// UNKNOWN.
func needsAttention(e finding.Environment) bool {
	switch worst(e) {
	case finding.Broken, finding.Blocked, finding.Unknown:
		return true
	}
	return false
}

// worst is the readiness of e that asks most of an admin.
func worst(e finding.Environment) finding.Readiness {
	best := finding.NotAssessed
	for _, x := range finding.Experiences {
		if st := e.Verdict(x).Readiness; readinessRank(st) < readinessRank(best) {
			best = st
		}
	}
	return best
}

func worstRank(e finding.Environment) int { return readinessRank(worst(e)) }

// readinessRank orders states as finding.Readinesses does; a state it does
// not know ranks first, so it is never hidden among the healthy.
func readinessRank(st finding.Readiness) int {
	if i := slices.Index(finding.Readinesses, st); i >= 0 {
		return i
	}
	return -1
}

// readinessText is a state as the matrix shows it: a symbol and the state
// in words, so it reads without colour or emoji.
func readinessText(st finding.Readiness) string {
	switch st {
	case finding.Enabled:
		return "✅ ENABLED"
	case finding.Ready:
		return "🟢 READY"
	case finding.Blocked:
		return "⛔ BLOCKED"
	case finding.Broken:
		return "💥 BROKEN"
	case finding.Unknown:
		return "❓ UNKNOWN"
	case finding.NotAssessed, "":
		return "— not assessed"
	}
	return "❓ " + mdText(string(st))
}

// statusText is a finding's status: a symbol and the status in words. A
// status this writer does not know is never shown as a pass.
func statusText(s finding.Status) string {
	switch s {
	case finding.StatusFail:
		return "❌ FAIL"
	case finding.StatusError:
		return "❓ ERROR"
	case finding.StatusWarn:
		return "⚠️ WARN"
	case finding.StatusManual:
		return "✋ MANUAL"
	case finding.StatusPass:
		return "✅ PASS"
	case finding.StatusWaived:
		return "💤 WAIVED"
	case finding.StatusSkip:
		return "⏭️ SKIP"
	}
	return "❓ " + mdText(strings.ToUpper(string(s)))
}

// environmentTitle names an environment by its name, else its URL.
func environmentTitle(e finding.Environment) string {
	return cmp.Or(e.Name, e.URL, "unnamed environment")
}

// environmentMeta is the line under an environment's heading: tenant, URL,
// where tenants.yaml declares it, and each experience's state.
func environmentMeta(e finding.Environment) string {
	tenant := mdText(cmp.Or(e.TenantName, e.Tenant))
	if e.TenantName != "" {
		tenant += " (" + mdText(e.Tenant) + ")"
	}
	parts := []string{"Tenant " + tenant}
	if e.Name != "" {
		parts = append(parts, mdText(e.URL))
	}
	if d := e.DeclaredAt; d != nil {
		parts = append(parts, "declared at "+mdText(fmt.Sprintf("%s:%d", d.File, d.Line)))
	}
	for _, x := range finding.Experiences {
		parts = append(parts, string(x)+" "+readinessText(e.Verdict(x).Readiness))
	}
	return strings.Join(parts, " · ") + "\n"
}

// attentionSection is the section of an environment that is BLOCKED,
// BROKEN or UNKNOWN: what blocks or broke it with the remediation, what
// could not be assessed and how to read it, the warnings, manual checks and
// waivers, then the evidence and every finding in collapsible blocks.
func attentionSection(e finding.Environment) (string, error) {
	var b strings.Builder
	st := worst(e)
	fmt.Fprintf(&b, "### %s: %s\n\n", readinessText(st), mdText(environmentTitle(e)))
	b.WriteString(environmentMeta(e))

	fs := sortFindings(e.Findings)
	byStatus := func(s finding.Status) []finding.Finding {
		var out []finding.Finding
		for _, f := range fs {
			if f.Status == s {
				out = append(out, f)
			}
		}
		return out
	}
	broken, blocked := false, false
	for _, x := range finding.Experiences {
		switch e.Verdict(x).Readiness {
		case finding.Broken:
			broken = true
		case finding.Blocked:
			blocked = true
		}
	}
	failTitle := "**Failing rules:**"
	switch {
	case broken && blocked:
		failTitle = "**What blocks or broke it** (these rules fail):"
	case broken:
		failTitle = "**What broke it** (it is turned on, but these prerequisites no longer hold, so users hit errors):"
	case blocked:
		failTitle = "**What blocks it** (these rules stop it being turned on):"
	}
	list := func(title string, items []finding.Finding, item func(finding.Finding) []string) {
		if len(items) == 0 {
			return
		}
		b.WriteString("\n" + title + "\n\n")
		for _, f := range items {
			b.WriteString(strings.Join(item(f), "\n") + "\n")
		}
	}
	list(failTitle, byStatus(finding.StatusFail), adviceItem)
	var unknown []finding.Finding
	for _, f := range fs {
		if f.Status == finding.StatusError || !f.Status.Valid() {
			unknown = append(unknown, f)
		}
	}
	list("**Could not be assessed** (no honest verdict without them):", unknown, accessItem)
	if len(unknown) == 0 && st == finding.Unknown {
		b.WriteString("\nWhether the experience is turned on could not be read, so no honest verdict exists.\n")
	}
	list("**Warnings** (they hold, but will hurt users):", byStatus(finding.StatusWarn), adviceItem)
	list("**Check by hand** (no API shows them):", byStatus(finding.StatusManual), adviceItem)
	list("**Waived:**", byStatus(finding.StatusWaived), waivedItem)

	ev, err := evidenceDetails(fs)
	if err != nil {
		return "", err
	}
	b.WriteString(ev)
	b.WriteString(findingsDetails(e, fs))
	return b.String(), nil
}

// restSection is an environment that needs no attention, folded.
func restSection(e finding.Environment) string {
	fs := sortFindings(e.Findings)
	var b strings.Builder
	states := make([]string, 0, len(finding.Experiences))
	for _, x := range finding.Experiences {
		states = append(states, string(x)+" "+readinessText(e.Verdict(x).Readiness))
	}
	fmt.Fprintf(&b, "<details><summary>%s: %s (%s)</summary>\n\n", readinessText(worst(e)), htmlText(environmentTitle(e)), strings.Join(states, ", "))
	b.WriteString(environmentMeta(e))
	var notable []finding.Finding
	for _, f := range fs {
		if nonPass(f.Status) {
			notable = append(notable, f)
		}
	}
	if len(notable) > 0 {
		b.WriteString("\n")
		for _, f := range notable {
			b.WriteString(strings.Join(adviceItem(f), "\n") + "\n")
		}
	}
	if len(fs) > 0 {
		b.WriteString("\n" + findingsTable(fs))
	} else {
		b.WriteString("\nNo findings.\n")
	}
	b.WriteString("\n</details>\n")
	return b.String()
}

// findingHead is a finding's first line as a list item: status, rule,
// title, table and message.
func findingHead(f finding.Finding) string {
	head := "- " + statusText(f.Status) + " **" + mdText(f.Rule) + "** " + mdText(f.Title)
	if f.Table != "" {
		head += " (table " + mdText(f.Table) + ")"
	}
	if f.Message != "" {
		head += ": " + mdText(f.Message)
	}
	return head
}

// adviceItem is a failing, warning or manual finding with the rule's
// remediation, fix, the error it explains and the docs.
func adviceItem(f finding.Finding) []string {
	out := []string{findingHead(f)}
	if f.Internal {
		out = append(out, "  - **Internal error:** the policy broke the engine's contract")
	}
	out = appendMDField(out, "Remediation", f.Remediation)
	if f.Fix != nil {
		out = appendMDField(out, "Automated fix", strings.TrimSuffix(f.Fix.Action+" — "+f.Fix.Description, " — "))
	}
	out = appendMDField(out, "Explains error", f.ErrorCode)
	return appendMDDocs(out, f.Docs)
}

// accessItem is a finding that could not be assessed, with how to read
// what could not be read.
func accessItem(f finding.Finding) []string {
	out := []string{findingHead(f)}
	if f.Internal {
		out = append(out, "  - **Internal error:** the policy broke the engine's contract")
	}
	a := f.Access
	if a == nil {
		return appendMDDocs(out, f.Docs)
	}
	out = appendMDField(out, "To read it", a.Advice)
	if a.Source != "" && !a.SignIn {
		request := a.Source
		if a.HTTPStatus != 0 {
			request += fmt.Sprintf(" → HTTP %d", a.HTTPStatus)
		}
		out = appendMDField(out, "Request", request)
		out = appendMDDocs(out, f.Docs)
	}
	return out
}

// waivedItem is a waived finding with its waiver.
func waivedItem(f finding.Finding) []string {
	out := []string{findingHead(f)}
	if w := f.Waiver; w != nil {
		out = appendMDField(out, "Reason", w.Reason)
		out = appendMDField(out, "Owner", w.Owner)
		out = appendMDField(out, "Last day", cmp.Or(w.Expires, "none"))
		out = appendMDField(out, "Was", string(w.Was))
		out = appendMDField(out, "Declared", w.Source)
	}
	return out
}

// waivedRow is a waived finding's row in the waived-findings table.
func waivedRow(e finding.Environment, f finding.Finding) string {
	w := f.Waiver
	if w == nil {
		w = &finding.Waiver{}
	}
	return "| " + strings.Join([]string{
		mdCell(environmentTitle(e)),
		mdCell(f.Rule),
		mdCell(f.Table),
		mdCell(string(w.Was)),
		mdCell(w.Reason),
		mdCell(w.Owner),
		mdCell(cmp.Or(w.Expires, "none")),
		mdCell(w.Source),
	}, " | ") + " |\n"
}

// evidenceDetails folds the evidence of the findings that are not a pass
// into one <details> block, a code block per finding.
func evidenceDetails(fs []finding.Finding) (string, error) {
	var b strings.Builder
	for _, f := range fs {
		if !nonPass(f.Status) && f.Status != finding.StatusWaived {
			continue
		}
		if f.Access != nil {
			continue // the section's problem is the message; the advice says how to read it
		}
		ev, err := evidenceLines(f.Evidence)
		if err != nil {
			return "", fmt.Errorf("finding %s: evidence: %w", f.Key, err)
		}
		if len(ev) == 0 {
			continue
		}
		title := "**" + mdText(f.Rule) + "**"
		if f.Table != "" {
			title += " (table " + mdText(f.Table) + ")"
		}
		b.WriteString("\n" + title + "\n\n" + codeBlock(ev))
	}
	if b.Len() == 0 {
		return "", nil
	}
	return "\n<details><summary>Evidence</summary>\n" + b.String() + "\n</details>\n", nil
}

// findingsDetails folds every finding of e into a table.
func findingsDetails(e finding.Environment, fs []finding.Finding) string {
	if len(fs) == 0 {
		return ""
	}
	return fmt.Sprintf("\n<details><summary>All %d findings of %s</summary>\n\n", len(fs), htmlText(environmentTitle(e))) +
		findingsTable(fs) + "\n</details>\n"
}

// findingsTable is one row per finding: status, severity, rule, table, message.
func findingsTable(fs []finding.Finding) string {
	var b strings.Builder
	b.WriteString("| Status | Severity | Rule | Table | Message |\n| --- | --- | --- | --- | --- |\n")
	for _, f := range fs {
		msg := mdText(f.Message)
		if w := f.Waiver; w != nil {
			msg += "<br>waived: " + mdText(waiver(*w))
		}
		b.WriteString("| " + strings.Join([]string{
			statusText(f.Status), mdText(string(f.Severity)), mdCell(f.Rule, f.Title), mdText(f.Table), msg,
		}, " | ") + " |\n")
	}
	return b.String()
}

// appendMDField appends a nested list item "**label:** value".
func appendMDField(out []string, label, value string) []string {
	if value = termtext.Prose(value); value == "" {
		return out
	}
	return append(out, "  - **"+label+":** "+mdText(value))
}

// appendMDDocs appends the docs link: an autolink when it is a plain http(s)
// URL, else the text escaped.
func appendMDDocs(out []string, docs string) []string {
	if docs == "" {
		return out
	}
	return append(out, "  - **Docs:** "+mdLink(docs))
}

// mdLink renders a URL from a rule or the config as an autolink when it is
// a plain http(s) URL that cannot break out of <…>, else as escaped text.
func mdLink(raw string) string {
	u, err := url.Parse(raw)
	if err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != "" &&
		!strings.ContainsFunc(raw, func(r rune) bool { return r <= ' ' || strings.ContainsRune("<>\"'`\\|", r) || r > unicode.MaxASCII }) {
		return "<" + raw + ">"
	}
	return mdText(raw)
}

// codeBlock fences lines as a code block whose fence is longer than any run
// of backticks in them, so no line can close it.
func codeBlock(lines []string) string {
	n := 3
	for _, l := range lines {
		run := 0
		for _, r := range l {
			if r == '`' {
				run++
				n = max(n, run+1)
			} else {
				run = 0
			}
		}
	}
	fence := strings.Repeat("`", n)
	return fence + "text\n" + strings.Join(lines, "\n") + "\n" + fence + "\n"
}

// mdText makes a string from a tenant, the config, the snapshot or a policy
// render as itself in Markdown, on one line: control characters are
// neutralised (clean), white space runs become one space, HTML's special
// characters become entities, Markdown's inline punctuation (emphasis,
// links, code, tables, math, headings) is backslash-escaped, a leading
// list or heading marker is escaped, and an @mention or #reference is
// broken with a word joiner so a tenant name pings nobody.
func mdText(s string) string {
	s = strings.Join(strings.Fields(termtext.Clean(s)), " ")
	var b strings.Builder
	prev := ' '
	for i, r := range s {
		switch {
		case r == '&':
			b.WriteString("&amp;")
		case r == '<':
			b.WriteString("&lt;")
		case r == '>':
			b.WriteString("&gt;")
		case strings.ContainsRune("\\`*_[]|$~#", r):
			b.WriteByte('\\')
			b.WriteRune(r)
		case i == 0 && strings.ContainsRune("+-=", r):
			b.WriteByte('\\')
			b.WriteRune(r)
		case (r == '.' || r == ')') && isDigits(s[:i]):
			b.WriteByte('\\') // "1." or "1)" would start an ordered list
			b.WriteRune(r)
		case r == '@' && !isWord(prev):
			b.WriteString("@\u2060")
		default:
			b.WriteRune(r)
		}
		if r == '#' && !isWord(prev) {
			b.WriteString("\u2060")
		}
		prev = r
	}
	return b.String()
}

// htmlText is mdText for raw HTML, where Markdown is not parsed (the
// <summary> of a <details> block): HTML escaping, on one line, mentions
// broken.
func htmlText(s string) string {
	var b strings.Builder
	prev := ' '
	for _, r := range strings.Join(strings.Fields(termtext.Clean(s)), " ") {
		b.WriteRune(r)
		if (r == '@' || r == '#') && !isWord(prev) {
			b.WriteString("\u2060")
		}
		prev = r
	}
	return html.EscapeString(b.String())
}

func isWord(r rune) bool { return r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r) }

func isDigits(s string) bool {
	return s != "" && utf8.RuneCountInString(s) <= 9 && strings.Trim(s, "0123456789") == ""
}
