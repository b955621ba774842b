package report

import (
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"fmt"
	"html/template"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/teamslink/teamslink/internal/finding"
	"github.com/teamslink/teamslink/internal/termtext"
)

// The html format is one self-contained page: its stylesheet and script are
// inline, and a Content-Security-Policy allows exactly those two blocks (by
// hash) and data: images (the empty icon that keeps a browser from asking
// the server for /favicon.ico), nothing else. So the page makes no request
// of its own, whether it is opened from disk, served by teamslink serve or
// mailed to an auditor.
//
//go:embed html/report.html.tmpl html/report.css html/report.js
var htmlAssets embed.FS

// The page's assets, read once: the template, the inline blocks and the
// policy that names them by hash.
var (
	htmlTemplate = template.Must(template.New("report.html.tmpl").ParseFS(htmlAssets, "html/report.html.tmpl"))
	htmlStyle    = htmlPaletteCSS() + mustAsset("html/report.css")
	htmlScript   = mustAsset("html/report.js")
	htmlCSP      = "default-src 'none'; style-src " + cspHash(htmlStyle) + "; script-src " + cspHash(htmlScript) +
		"; img-src data:; base-uri 'none'; form-action 'none'"
)

func mustAsset(name string) string {
	b, err := htmlAssets.ReadFile(name)
	if err != nil {
		panic(fmt.Sprintf("report: embedded asset %s: %v", name, err))
	}
	return string(b)
}

// cspHash is the CSP source expression that allows one inline block: the
// base64 of the SHA-256 of its exact text.
func cspHash(block string) string {
	sum := sha256.Sum256([]byte(block))
	return "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
}

// swatch is a foreground and background colour pair of the page, named as
// the stylesheet uses it (--NAME-fg, --NAME-bg).
type swatch struct {
	name, fg, bg string
}

// htmlPalette is every pair of colours the page puts text on: readiness
// states, finding statuses and the page's own text. A test checks that each
// pair has a WCAG AA contrast ratio (at least 4.5:1) and that no state or
// status that is not a pass borrows a pass colour; the browser test reads
// the BLOCKED colour back from a rendered cell.
var htmlPalette = []swatch{
	{"page", "#1f2328", "#ffffff"},
	{"muted", "#57606a", "#ffffff"},
	{"link", "#0550ae", "#ffffff"},
	{"panel", "#1f2328", "#f6f8fa"},
	{"panel-muted", "#57606a", "#f6f8fa"},
	{"panel-link", "#0550ae", "#f6f8fa"},
	{"alert", "#8c1d13", "#fff5f4"},
	{"notice", "#6b4500", "#fffaeb"},

	{"state-enabled", "#ffffff", "#1a7f37"},
	{"state-ready", "#0f5323", "#d3f5dc"},
	{"state-blocked", "#ffffff", "#b42318"},
	{"state-broken", "#ffffff", "#7a1020"},
	{"state-unknown", "#ffffff", "#6e3fa3"},
	{"state-not-assessed", "#4b5563", "#eef0f3"},

	{"status-fail", "#8c1d13", "#fde2df"},
	{"status-error", "#5b2a91", "#efe4fb"},
	{"status-warn", "#6b4500", "#fff1c7"},
	{"status-manual", "#0b4b8f", "#dcebff"},
	{"status-pass", "#0f5323", "#d3f5dc"},
	{"status-waived", "#0b5959", "#d4f1f1"},
	{"status-skip", "#4b5563", "#eef0f3"},
}

// htmlPaletteCSS declares the palette as custom properties, first in the
// stylesheet, so the rules below refer to colours by name only.
func htmlPaletteCSS() string {
	var b strings.Builder
	b.WriteString(":root {\n")
	for _, s := range htmlPalette {
		fmt.Fprintf(&b, "  --%s-fg: %s;\n  --%s-bg: %s;\n", s.name, s.fg, s.name, s.bg)
	}
	b.WriteString("}\n")
	return b.String()
}

// htmlWriter renders the report as one HTML page for people: admins who
// fix what blocks an environment, auditors who read why it passes.
type htmlWriter struct {
	w     io.Writer
	clock func() time.Time
}

func newHTMLWriter(w io.Writer, opts Options) Writer {
	return &htmlWriter{w: w, clock: opts.Now}
}

// Write renders r as one page. The output is deterministic: it depends on
// the report and the clock only.
func (h *htmlWriter) Write(ctx context.Context, r *finding.Report) error {
	if err := begin(ctx, r); err != nil {
		return fmt.Errorf("write html report: %w", err)
	}
	page, err := h.page(ctx, r)
	if err != nil {
		return fmt.Errorf("write html report: %w", err)
	}
	var buf bytes.Buffer
	if err := htmlTemplate.Execute(&buf, page); err != nil {
		return fmt.Errorf("write html report: execute template: %w", err)
	}
	if err := writeAll(h.w, buf.Bytes()); err != nil {
		return fmt.Errorf("write html report: %w", err)
	}
	return nil
}

// htmlPage is what the template renders: every string already made safe
// for a page by clean; html/template escapes it for where it goes.
type htmlPage struct {
	Title               string
	CSP                 template.HTMLAttr // content="…" of the policy's meta tag
	Style               template.CSS
	Script              template.JS
	Tool, Profile       string
	Generated, Snapshot string // RFC 3339, or "unknown"
	GeneratedAttr       string // the datetime attribute; empty when unknown
	SnapshotAttr        string
	SnapshotAge         string
	EnvironmentCount    string // "6 environments"
	Summary             []htmlCount
	SummaryNote         string
	SignIns             []htmlSignIn
	SignInsTitle        string
	Tenants             []htmlTenant
	Filters             htmlFilters
	Waivers             []htmlWaiver
	Environments        []htmlEnvironment
	Experiences         []string // the matrix's experience columns
	MatrixColumns       int
	HasEnvironments     bool
}

type htmlCount struct {
	Label, Class string
	Count        int
}

type htmlSignIn struct {
	Tenant, Credential, Error, Fix string
	Docs                           htmlLink
}

// htmlLink is a link when Href is an http(s) URL, else plain text.
type htmlLink struct {
	Href, Text string
}

func link(s string) htmlLink {
	s = strings.TrimSpace(termtext.Clean(s))
	if strings.HasPrefix(s, "https://") || strings.HasPrefix(s, "http://") {
		return htmlLink{Href: s, Text: s}
	}
	return htmlLink{Text: s}
}

// htmlTenant is one tenant's rows of the readiness matrix.
type htmlTenant struct {
	ID, Name     string
	Token        string // the tenant filter's value
	SignInFailed bool
	Rows         []htmlRow
}

// htmlRow is one environment in the readiness matrix.
type htmlRow struct {
	Anchor, Name, URL string
	States            []htmlState
	Blocking, Unknown []string
	SignInFailed      bool
	Filter            htmlFilter
}

// htmlState is one readiness cell: its word, and the class that colours it.
type htmlState struct {
	Experience, Word, Class string
	Assessed                bool
}

// htmlFilter is what the script filters an environment (its matrix row and
// its section) by: space-separated lists in data attributes.
type htmlFilter struct {
	Tenant, States, Rules, AttentionRules string
}

type htmlFilters struct {
	States, Tenants, Rules []htmlOption
}

type htmlOption struct {
	Value, Label string
}

type htmlWaiver struct {
	Problem, Rule, Scope, Reason, Owner, Expires, Source, Message string
	Findings                                                      int
}

// htmlEnvironment is one environment's section: its verdicts and findings.
type htmlEnvironment struct {
	Anchor, Name, URL, Tenant, Experience, Declared string
	Verdicts                                        []htmlVerdict
	Findings                                        []htmlFinding
	SignInFailed                                    bool
	Filter                                          htmlFilter
}

type htmlVerdict struct {
	htmlState
	Blocking, Unknown, Warnings, Manual []string
}

// htmlFinding is one row of an environment's findings table.
type htmlFinding struct {
	Rule, Title, Status, Class, Severity, Table, Message string
	Token                                                string // the rule filter's value
	Attention                                            bool   // fail, error, warn or manual
	Internal                                             bool
	Waiver                                               string
	// Access is how to read what an error finding could not read.
	Access *htmlAccess
	// Evidence is shown open for a finding that needs attention, folded
	// for one that does not.
	Evidence     string
	EvidenceOpen bool
	Remediation  []string
	Fix          string
	ErrorCode    string
	Docs         htmlLink
}

type htmlAccess struct {
	Advice, Request string
	Docs            htmlLink
}

// page builds the view of r.
func (h *htmlWriter) page(ctx context.Context, r *finding.Report) (*htmlPage, error) {
	tool := termtext.Clean(strings.TrimSpace(r.Tool.Name + " " + r.Tool.Version))
	if tool == "" {
		tool = "teamslink"
	}
	p := &htmlPage{
		Title:           tool + " report — " + stamp(r.GeneratedAt),
		CSP:             template.HTMLAttr(`content="` + htmlCSP + `"`),
		Style:           template.CSS(htmlStyle),
		Script:          template.JS(htmlScript),
		Tool:            tool,
		Profile:         termtext.Clean(r.Profile),
		Generated:       stamp(r.GeneratedAt),
		GeneratedAttr:   attrTime(r.GeneratedAt),
		Snapshot:        stamp(r.SnapshotAt),
		SnapshotAttr:    attrTime(r.SnapshotAt),
		HasEnvironments: len(r.Environments) > 0,
	}
	if !r.SnapshotAt.IsZero() {
		p.SnapshotAge = age(h.clock().Sub(r.SnapshotAt))
	}
	for _, x := range finding.Experiences {
		p.Experiences = append(p.Experiences, experienceName(x))
	}
	p.MatrixColumns = len(p.Experiences) + 3
	p.EnvironmentCount = fmt.Sprintf("%d environments", len(r.Environments))
	if len(r.Environments) == 1 {
		p.EnvironmentCount = "1 environment"
	}
	counts := r.Summarize()
	for _, s := range finding.Statuses {
		p.Summary = append(p.Summary, htmlCount{Label: string(s), Class: "status-" + string(s), Count: counts[s]})
	}
	if len(r.Environments) > 1 {
		p.SummaryNote = "A tenant-wide finding counts once per tenant."
	}

	signedOut := map[string]bool{}
	for _, s := range r.SignInErrors {
		signedOut[s.Tenant] = true
		p.SignIns = append(p.SignIns, signIn(s))
	}
	p.SignInsTitle = signInTitle(r.SignInErrors)
	for _, n := range r.Waivers {
		p.Waivers = append(p.Waivers, waiverNotice(n))
	}

	groups := tenantGroups(r)
	rules := map[string]string{} // id → title, for the rule filter
	for _, ri := range r.Rules {
		rules[ri.ID] = termtext.Clean(ri.Title)
	}
	n := 0
	for _, g := range groups {
		t := htmlTenant{ID: termtext.Clean(g.id), Name: termtext.Clean(g.name), Token: token(g.id), SignInFailed: signedOut[g.id]}
		for _, e := range g.envs {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			n++
			env, row, err := environment(e, fmt.Sprintf("env-%d", n), signedOut[e.Tenant])
			if err != nil {
				return nil, fmt.Errorf("environment %s: %w", e.URL, err)
			}
			for _, f := range e.Findings {
				if _, ok := rules[f.Rule]; !ok || rules[f.Rule] == "" {
					rules[f.Rule] = termtext.Clean(f.Title)
				}
			}
			t.Rows = append(t.Rows, row)
			p.Environments = append(p.Environments, env)
		}
		p.Tenants = append(p.Tenants, t)
		label := t.ID
		if t.Name != "" {
			label = t.Name + " (" + t.ID + ")"
		}
		p.Filters.Tenants = append(p.Filters.Tenants, htmlOption{Value: token(g.id), Label: label})
	}
	for _, s := range []finding.Readiness{finding.Broken, finding.Blocked, finding.Unknown, finding.Ready, finding.Enabled} {
		p.Filters.States = append(p.Filters.States, htmlOption{Value: string(s), Label: string(s)})
	}
	for _, id := range sortedKeysOf(rules) {
		label := termtext.Clean(id)
		if rules[id] != "" {
			label += " — " + rules[id]
		}
		p.Filters.Rules = append(p.Filters.Rules, htmlOption{Value: token(id), Label: label})
	}
	return p, nil
}

// tenantGroup is one tenant's environments, in the order the report has them.
type tenantGroup struct {
	id, name string
	envs     []finding.Environment
}

// tenantGroups groups the report's environments by tenant, tenants in the
// order they first appear. A tenant's name is the first one any of its
// environments or its sign-in error gives.
func tenantGroups(r *finding.Report) []tenantGroup {
	var groups []tenantGroup
	index := map[string]int{}
	for _, e := range r.Environments {
		i, ok := index[e.Tenant]
		if !ok {
			i = len(groups)
			index[e.Tenant] = i
			groups = append(groups, tenantGroup{id: e.Tenant})
		}
		groups[i].name = cmp.Or(groups[i].name, e.TenantName)
		groups[i].envs = append(groups[i].envs, e)
	}
	for _, s := range r.SignInErrors {
		if i, ok := index[s.Tenant]; ok {
			groups[i].name = cmp.Or(groups[i].name, s.TenantName)
		}
	}
	return groups
}

// environment builds an environment's section and its matrix row.
func environment(e finding.Environment, anchor string, signedOut bool) (htmlEnvironment, htmlRow, error) {
	filter := htmlFilter{Tenant: token(e.Tenant)}
	var states, rules, attention []string
	env := htmlEnvironment{
		Anchor: anchor, Name: termtext.Clean(e.Name), URL: termtext.Clean(e.URL), Tenant: termtext.Clean(e.Tenant),
		Experience: termtext.Clean(string(e.Experience)), SignInFailed: signedOut,
	}
	if e.TenantName != "" {
		env.Tenant = termtext.Clean(e.TenantName) + " (" + termtext.Clean(e.Tenant) + ")"
	}
	if d := e.DeclaredAt; d != nil {
		env.Declared = termtext.Clean(d.File) + fmt.Sprintf(":%d", d.Line)
	}
	row := htmlRow{Anchor: anchor, Name: env.Name, URL: env.URL, SignInFailed: signedOut}
	var blocking, unknown []string
	for _, x := range finding.Experiences {
		v := e.Verdict(x)
		st := state(x, v.Readiness)
		row.States = append(row.States, st)
		if st.Assessed {
			states = appendNew(states, string(v.Readiness))
		}
		env.Verdicts = append(env.Verdicts, htmlVerdict{
			htmlState: st,
			Blocking:  cleanAll(v.Blocking), Unknown: cleanAll(v.Unknown),
			Warnings: cleanAll(v.Warnings), Manual: cleanAll(v.Manual),
		})
		blocking = union(blocking, v.Blocking)
		unknown = union(unknown, v.Unknown)
	}
	row.Blocking, row.Unknown = cleanAll(blocking), cleanAll(unknown)
	for _, f := range sortFindings(e.Findings) {
		hf, err := htmlFindingOf(f)
		if err != nil {
			return htmlEnvironment{}, htmlRow{}, fmt.Errorf("finding %s: %w", f.Key, err)
		}
		env.Findings = append(env.Findings, hf)
		rules = appendNew(rules, token(f.Rule))
		if hf.Attention {
			attention = appendNew(attention, token(f.Rule))
		}
	}
	slices.Sort(rules)
	slices.Sort(attention)
	filter.States = strings.Join(states, " ")
	filter.Rules = strings.Join(rules, " ")
	filter.AttentionRules = strings.Join(attention, " ")
	env.Filter, row.Filter = filter, filter
	return env, row, nil
}

// state is a readiness cell. Its class comes from a fixed list, so report
// data never reaches a class name; an unknown readiness looks UNKNOWN.
func state(x finding.Experience, r finding.Readiness) htmlState {
	st := htmlState{Experience: experienceName(x), Word: termtext.Clean(string(r)), Assessed: true}
	switch r {
	case finding.Enabled:
		st.Class = "state-enabled"
	case finding.Ready:
		st.Class = "state-ready"
	case finding.Blocked:
		st.Class = "state-blocked"
	case finding.Broken:
		st.Class = "state-broken"
	case finding.NotAssessed, "":
		st.Class, st.Word, st.Assessed = "state-not-assessed", "not assessed", false
	default: // UNKNOWN, or a state this version does not know: never termtext.Green
		st.Class = "state-unknown"
	}
	return st
}

func experienceName(x finding.Experience) string {
	s := string(x)
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// statusClass is the class of a finding's status, from a fixed list; a
// status this version does not know looks like an error, never a pass.
func statusClass(s finding.Status) string {
	if s.Valid() {
		return "status-" + string(s)
	}
	return "status-error"
}

// htmlFindingOf builds one finding's row: the message, and for a finding
// that is not a pass what was seen and what to do, as the table format
// gives them; the evidence of a pass too, folded, since an auditor asks why.
func htmlFindingOf(f finding.Finding) (htmlFinding, error) {
	hf := htmlFinding{
		Rule: termtext.Clean(f.Rule), Token: token(f.Rule), Title: termtext.Clean(f.Title), Status: strings.ToUpper(termtext.Clean(string(f.Status))),
		Class: statusClass(f.Status), Severity: termtext.Clean(string(f.Severity)), Table: termtext.Clean(f.Table),
		Message: termtext.Clean(f.Message), Attention: nonPass(f.Status) || !f.Status.Valid(), Internal: f.Internal,
		Docs: link(f.Docs),
	}
	if f.Waiver != nil {
		hf.Waiver = termtext.Clean(waiver(*f.Waiver))
		if f.Waiver.Was != "" {
			hf.Waiver += "; was " + termtext.Clean(string(f.Waiver.Was))
		}
	}
	if a := f.Access; a != nil && hf.Attention {
		acc := &htmlAccess{Advice: termtext.Prose(a.Advice)}
		if a.Source != "" && !a.SignIn {
			acc.Request = termtext.Clean(a.Source)
			if a.HTTPStatus != 0 {
				acc.Request += fmt.Sprintf(" → HTTP %d", a.HTTPStatus)
			}
			acc.Docs = hf.Docs
		}
		hf.Access, hf.Docs = acc, htmlLink{}
		return hf, nil
	}
	ev, err := evidenceLines(f.Evidence)
	if err != nil {
		return htmlFinding{}, fmt.Errorf("evidence: %w", err)
	}
	hf.Evidence = strings.Join(ev, "\n")
	hf.EvidenceOpen = hf.Attention
	if hf.Attention || f.Status == finding.StatusWaived {
		if rem := termtext.Prose(f.Remediation); rem != "" {
			hf.Remediation = strings.Split(rem, "\n")
		}
		if f.Fix != nil {
			hf.Fix = termtext.Clean(strings.TrimSuffix(f.Fix.Action+" — "+f.Fix.Description, " — "))
		}
		hf.ErrorCode = termtext.Clean(f.ErrorCode)
	}
	return hf, nil
}

func signIn(s finding.SignInError) htmlSignIn {
	tenant := termtext.Clean(s.Tenant)
	if s.TenantName != "" {
		tenant = termtext.Clean(s.TenantName) + " (" + tenant + ")"
	}
	credential := termtext.Clean(s.Method) + " credential"
	if s.ClientID != "" {
		credential += ", client id " + termtext.Clean(s.ClientID)
	}
	return htmlSignIn{Tenant: tenant, Credential: credential + signInWhat(s), Error: termtext.Prose(s.Error), Fix: termtext.Prose(s.Fix), Docs: link(s.Docs)}
}

func waiverNotice(n finding.WaiverNotice) htmlWaiver {
	var scope []string
	for _, part := range []string{n.Tenant, n.Environment, n.Table} {
		if part != "" {
			scope = append(scope, termtext.Clean(part))
		}
	}
	return htmlWaiver{
		Problem: termtext.Clean(string(n.Problem)), Rule: termtext.Clean(n.Rule), Scope: strings.Join(scope, " · "),
		Reason: termtext.Clean(n.Reason), Owner: termtext.Clean(n.Owner), Expires: termtext.Clean(n.Expires), Source: termtext.Clean(n.Source),
		Message: termtext.Prose(n.Message), Findings: n.Findings,
	}
}

// attrTime is a time for a datetime attribute, or "" when unknown.
func attrTime(ts time.Time) string {
	if ts.IsZero() {
		return ""
	}
	return stamp(ts)
}

func cleanAll(ss []string) []string {
	out := make([]string, 0, len(ss))
	for _, s := range ss {
		out = append(out, termtext.Clean(s))
	}
	return out
}

// appendNew appends s unless ss has it.
func appendNew(ss []string, s string) []string {
	if slices.Contains(ss, s) {
		return ss
	}
	return append(ss, s)
}

// token is s as one word of a space-separated data attribute, the form the
// page's script filters by.
func token(s string) string { return strings.Join(strings.Fields(termtext.Clean(s)), "_") }

func sortedKeysOf(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
