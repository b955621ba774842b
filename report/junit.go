package report

import (
	"bytes"
	"cmp"
	"context"
	"encoding/xml"
	"fmt"
	"io"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/teamslink/teamslink/internal/finding"
	"github.com/teamslink/teamslink/internal/termtext"
)

// The junit format is the portable JUnit XML shape that GitLab
// (artifacts:reports:junit), Azure DevOps (PublishTestResults@2) and Jenkins
// all read, valid against the Ant JUnit schema (testdata/junit.xsd, from
// windyroad/JUnit-Schema):
//
//   - <testsuites> (the schema allows it no attributes) holds one <testsuite>
//     per environment, named "tenant / environment (host)" so names are
//     unique, and one per tenant whose sign-in failed;
//   - each suite has, in the schema's order, <properties>, its <testcase>s,
//     <system-out> (the environment's verdicts) and <system-err>, all three
//     required by the schema even when empty; package and id are required
//     on a suite inside <testsuites>;
//   - a testcase per rule and table (classname the rule family, TL-SP; name
//     the rule id, its title and the table), plus one per experience for the
//     environment's readiness (classname "readiness"): ENABLED and READY pass,
//     BLOCKED and BROKEN are failures, UNKNOWN an error, an experience not
//     assessed is skipped;
//   - a suite "teamslink / waivers that did not apply" lists the expired
//     and unmatched waivers, each a skipped testcase with the notice;
//   - <failure> for fail, <error> for a rule that could not be assessed,
//     <skipped> for skip, manual, waived and warn, each with the message in
//     its message attribute and, in its body, the message again (GitLab shows
//     only the body) with the evidence and the advice.
//
// Where the issue and the schema disagree the schema wins: the issue asks
// for <system-out> inside the testcase, and GitLab reads it there, but the
// schema allows a testcase only name, classname and time and one of
// skipped, error or failure (no system-out, no file attribute); so the
// evidence goes in the body of that element, and a passing testcase carries
// none (the json format has it). Likewise the schema requires a type on
// <failure> and <error>: it is the finding's status, or the readiness state.
//
// A warning is <skipped> with a "warning:" message: it is not a failure (it
// blocks nothing and fails no run under the default --fail-on), but it must
// not look like a plain pass either; skipped is the one other outcome the
// schema has, and all three consumers show its message (GitLab the body).
//
// Times are deterministic: every time attribute is 0, and each suite's
// timestamp is the report's generatedAt in UTC (the schema's pattern takes
// no time zone), or the writer's clock for a report without one.

// Classnames of the testcases that are not a rule.
const (
	junitReadinessClass = "readiness"
	junitSignInClass    = "sign-in"
	junitPackage        = "teamslink"
)

// junitWriter renders the report as JUnit XML.
type junitWriter struct {
	w     io.Writer
	clock func() time.Time
}

func newJUnitWriter(w io.Writer, opts Options) Writer {
	return &junitWriter{w: w, clock: opts.Now}
}

type junitSuites struct {
	XMLName xml.Name     `xml:"testsuites"`
	Suites  []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name       string          `xml:"name,attr"`
	Timestamp  string          `xml:"timestamp,attr"`
	Hostname   string          `xml:"hostname,attr"`
	Tests      int             `xml:"tests,attr"`
	Failures   int             `xml:"failures,attr"`
	Errors     int             `xml:"errors,attr"`
	Skipped    int             `xml:"skipped,attr"`
	Time       string          `xml:"time,attr"`
	Package    string          `xml:"package,attr"`
	ID         int             `xml:"id,attr"`
	Properties junitProperties `xml:"properties"`
	Cases      []junitCase     `xml:"testcase"`
	SystemOut  junitText       `xml:"system-out"`
	SystemErr  junitText       `xml:"system-err"`
}

type junitProperties struct {
	Properties []junitProperty `xml:"property"`
}

type junitProperty struct {
	Name  string `xml:"name,attr"`
	Value string `xml:"value,attr"`
}

// junitText is an element whose text keeps its line breaks (CDATA).
type junitText struct {
	Text string `xml:",cdata"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	Time      string        `xml:"time,attr"`
	Skipped   *junitOutcome `xml:"skipped"`
	Error     *junitOutcome `xml:"error"`
	Failure   *junitOutcome `xml:"failure"`
}

// junitOutcome is a <failure>, <error> or <skipped>: the schema requires a
// type on the first two and allows none on skipped.
type junitOutcome struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr,omitempty"`
	Body    string `xml:",cdata"`
}

// Write renders r as one JUnit XML document.
func (j *junitWriter) Write(ctx context.Context, r *finding.Report) error {
	if err := begin(ctx, r); err != nil {
		return fmt.Errorf("write junit report: %w", err)
	}
	doc, err := j.document(ctx, r)
	if err != nil {
		return fmt.Errorf("write junit report: %w", err)
	}
	var buf bytes.Buffer
	buf.WriteString(xml.Header)
	enc := xml.NewEncoder(&buf)
	enc.Indent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return fmt.Errorf("write junit report: encode: %w", err)
	}
	buf.WriteByte('\n')
	if err := writeAll(j.w, buf.Bytes()); err != nil {
		return fmt.Errorf("write junit report: %w", err)
	}
	return nil
}

func (j *junitWriter) document(ctx context.Context, r *finding.Report) (*junitSuites, error) {
	at := r.GeneratedAt
	if at.IsZero() {
		at = j.clock()
	}
	stampAt := at.UTC().Format("2006-01-02T15:04:05")
	doc := &junitSuites{}
	for _, s := range r.SignInErrors {
		doc.Suites = append(doc.Suites, signInSuite(s))
	}
	for i, e := range r.Environments {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		s, err := environmentSuite(r, e)
		if err != nil {
			return nil, fmt.Errorf("environment %d (%s): %w", i, e.URL, err)
		}
		doc.Suites = append(doc.Suites, s)
	}
	if len(r.Waivers) > 0 {
		doc.Suites = append(doc.Suites, waiverSuite(r.Waivers))
	}
	for i := range doc.Suites {
		s := &doc.Suites[i]
		s.ID, s.Package, s.Timestamp, s.Time = i, junitPackage, stampAt, "0"
		s.Tests = len(s.Cases)
		for _, c := range s.Cases {
			switch {
			case c.Failure != nil:
				s.Failures++
			case c.Error != nil:
				s.Errors++
			case c.Skipped != nil:
				s.Skipped++
			}
		}
	}
	return doc, nil
}

// signInSuite is the suite of a tenant whose sign-in failed: one error
// testcase that says why, once, with the fix.
func signInSuite(s finding.SignInError) junitSuite {
	tenant := xmlSafe(cmp.Or(s.TenantName, s.Tenant))
	body := []string{
		s.Failure() + " failed: nothing of tenant " + tenantLabel(s.Tenant, s.TenantName) + " could be read",
		"why: " + xmlSafe(s.Error),
	}
	credential := xmlSafe(s.Method) + " credential"
	if s.ClientID != "" {
		credential += ", client id " + xmlSafe(s.ClientID)
	}
	body = append(body, "credential: "+credential)
	if s.HTTPStatus != 0 {
		body = append(body, fmt.Sprintf("every request was refused: HTTP %d", s.HTTPStatus))
	}
	body = appendField(body, "fix", s.Fix)
	body = appendField(body, "docs", s.Docs)
	props := properties(
		"tenant", s.Tenant,
		"tenant.name", s.TenantName,
		"auth.method", s.Method,
		"auth.clientId", s.ClientID,
	)
	return junitSuite{
		Name:       tokenOr(tenant+" / sign-in ("+xmlSafe(s.Tenant)+")", "sign-in"),
		Hostname:   "localhost",
		Properties: props,
		Cases: []junitCase{{
			Name: "sign-in to tenant " + tenant, Classname: junitSignInClass, Time: "0",
			Error: &junitOutcome{Type: "sign-in", Message: s.Failure() + " failed: " + xmlSafe(s.Error), Body: strings.Join(body, "\n")},
		}},
		SystemOut: junitText{Text: s.Failure() + " of tenant " + tenantLabel(s.Tenant, s.TenantName) + " failed; every finding of its environments is an error that points here"},
	}
}

// waiverSuite lists the declared waivers that did not apply (expired, or
// matching nothing), so that none is silent: each is a skipped testcase
// whose message says why and what to do, as a warning is.
func waiverSuite(notices []finding.WaiverNotice) junitSuite {
	s := junitSuite{Name: "teamslink / waivers that did not apply", Hostname: "localhost"}
	var out []string
	for i, n := range notices {
		name := "waiver of " + xmlSafe(n.Rule)
		for _, part := range []string{n.Tenant, n.Environment, n.Table} {
			if part != "" {
				name += " " + xmlSafe(part)
			}
		}
		name += " (" + cmp.Or(xmlSafe(n.Source), fmt.Sprintf("waiver %d", i+1)) + ")"
		body := []string{xmlSafe(string(n.Problem)) + ": " + xmlSafe(n.Message)}
		body = appendField(body, "reason", n.Reason)
		body = appendField(body, "owner", n.Owner)
		body = appendField(body, "last day", n.Expires)
		if n.Findings > 0 {
			body = append(body, fmt.Sprintf("findings it would have covered: %d", n.Findings))
		}
		out = append(out, name+": "+xmlSafe(string(n.Problem)))
		s.Cases = append(s.Cases, junitCase{
			Name: name, Classname: "waiver", Time: "0",
			Skipped: &junitOutcome{Message: xmlSafe(string(n.Problem)) + " waiver: " + xmlSafe(n.Message), Body: strings.Join(body, "\n")},
		})
	}
	s.SystemOut = junitText{Text: strings.Join(out, "\n")}
	return s
}

// environmentSuite is the suite of one environment: its readiness per
// experience, then a testcase per finding, by rule and table.
func environmentSuite(r *finding.Report, e finding.Environment) (junitSuite, error) {
	host := envHost(e.URL)
	label := cmp.Or(xmlSafe(e.Name), host, xmlSafe(e.URL))
	if e.Name != "" && host != "" {
		label += " (" + host + ")"
	}
	s := junitSuite{
		Name:     tokenOr(xmlSafe(cmp.Or(e.TenantName, e.Tenant))+" / "+label, "environment"),
		Hostname: tokenOr(host, "localhost"),
	}
	kv := []string{
		"tenant", e.Tenant,
		"tenant.name", e.TenantName,
		"environment.url", e.URL,
		"environment.name", e.Name,
		"experience", string(e.Experience),
	}
	var out []string
	out = append(out, environmentLine(e))
	for _, x := range finding.Experiences {
		v := e.Verdict(x)
		kv = append(kv, "readiness."+string(x), string(v.Readiness))
		out = append(out, verdictLine(v))
		s.Cases = append(s.Cases, readinessCase(v))
	}
	if e.DeclaredAt != nil {
		kv = append(kv, "declaredAt", fmt.Sprintf("%s:%d", e.DeclaredAt.File, e.DeclaredAt.Line))
	}
	kv = append(kv,
		"profile", r.Profile,
		"tool", strings.TrimSpace(r.Tool.Name+" "+r.Tool.Version),
		"snapshotAt", timeOrEmpty(r.SnapshotAt),
		"generatedAt", timeOrEmpty(r.GeneratedAt),
	)
	s.Properties = properties(kv...)
	s.SystemOut = junitText{Text: strings.Join(out, "\n")}

	fs := slices.Clone(e.Findings)
	slices.SortStableFunc(fs, func(a, b finding.Finding) int {
		return cmp.Or(cmp.Compare(a.Rule, b.Rule), cmp.Compare(a.Table, b.Table))
	})
	for _, f := range fs {
		c, err := findingCase(f, e)
		if err != nil {
			return junitSuite{}, fmt.Errorf("finding %s: %w", f.Key, err)
		}
		s.Cases = append(s.Cases, c)
	}
	return s, nil
}

// readinessCase is the testcase of one experience's verdict: it fails
// when the experience is BLOCKED or BROKEN and errors when UNKNOWN, so an
// environment that could not be assessed never reads as passing.
func readinessCase(v finding.Verdict) junitCase {
	c := junitCase{Name: string(v.Experience) + " experience readiness", Classname: junitReadinessClass, Time: "0"}
	msg := verdictLine(v)
	body := []string{msg}
	if len(v.Unknown) > 0 && v.Readiness != finding.Unknown {
		body = append(body, "could not be assessed as well: "+xmlSafe(strings.Join(v.Unknown, ", ")))
	}
	if len(v.Warnings) > 0 {
		body = append(body, "warnings: "+xmlSafe(strings.Join(v.Warnings, ", ")))
	}
	if len(v.Manual) > 0 {
		body = append(body, "to check by hand: "+xmlSafe(strings.Join(v.Manual, ", ")))
	}
	o := &junitOutcome{Type: string(v.Readiness), Message: msg, Body: strings.Join(body, "\n")}
	switch v.Readiness {
	case finding.Enabled, finding.Ready:
	case finding.Blocked, finding.Broken:
		c.Failure = o
	case finding.NotAssessed:
		o.Type = ""
		c.Skipped = o
	default: // UNKNOWN, or a state this writer does not know: never a pass
		c.Error = o
	}
	return c
}

// verdictLine says one experience's verdict in a sentence.
func verdictLine(v finding.Verdict) string {
	x := string(v.Experience)
	rules := func(names []string) string { return xmlSafe(strings.Join(names, ", ")) }
	switch v.Readiness {
	case finding.Enabled:
		return x + ": ENABLED: turned on, and every prerequisite holds"
	case finding.Ready:
		return x + ": READY: off, and it can be turned on now"
	case finding.Blocked:
		return x + ": BLOCKED: off, and these rules stop it being turned on: " + rules(v.Blocking)
	case finding.Broken:
		return x + ": BROKEN: turned on, but these prerequisites no longer hold, so users hit errors: " + rules(v.Blocking)
	case finding.Unknown:
		if v.TurnedOn == nil && len(v.Unknown) == 0 {
			return x + ": UNKNOWN: whether it is turned on could not be read"
		}
		return x + ": UNKNOWN: these rules could not be assessed: " + rules(v.Unknown)
	case finding.NotAssessed, "":
		return x + ": not assessed: the run was not asked about it"
	}
	return x + ": " + xmlSafe(string(v.Readiness))
}

// findingCase is the testcase of one finding.
func findingCase(f finding.Finding, e finding.Environment) (junitCase, error) {
	name := xmlSafe(strings.TrimSpace(f.Rule + " " + f.Title))
	if f.Table != "" {
		name += " [" + xmlSafe(f.Table) + "]"
	}
	c := junitCase{Name: cmp.Or(name, "unnamed rule"), Classname: ruleFamily(xmlSafe(f.Rule)), Time: "0"}
	if f.Status == finding.StatusPass {
		return c, nil
	}
	body, err := findingBody(f, e)
	if err != nil {
		return junitCase{}, err
	}
	msg := xmlSafe(f.Message)
	switch f.Status {
	case finding.StatusFail:
		c.Failure = &junitOutcome{Type: string(f.Status), Message: msg, Body: body}
	case finding.StatusSkip:
		c.Skipped = &junitOutcome{Message: msg, Body: body}
	case finding.StatusWarn:
		c.Skipped = &junitOutcome{Message: "warning: " + msg, Body: body}
	case finding.StatusManual:
		c.Skipped = &junitOutcome{Message: "manual check: " + msg, Body: body}
	case finding.StatusWaived:
		m := "waived"
		if f.Waiver != nil {
			m += ": " + xmlSafe(waiver(*f.Waiver))
		}
		c.Skipped = &junitOutcome{Message: m, Body: body}
	default: // error, or a status this writer does not know: never a pass
		typ := cmp.Or(xmlSafe(string(f.Status)), "error")
		if f.Internal {
			typ, msg = "internal", "internal error: the policy broke the engine's contract: "+msg
		}
		c.Error = &junitOutcome{Type: typ, Message: msg, Body: body}
	}
	return c, nil
}

// findingBody is the text of a finding's failure, error or skipped element:
// the message (GitLab shows only the body), where, the evidence, and what
// to do: for an error, how to read what could not be read; otherwise the
// rule's remediation and fix.
func findingBody(f finding.Finding, e finding.Environment) (string, error) {
	out := []string{xmlSafe(f.Message)}
	if f.Internal {
		out = append(out, "internal error: the policy broke the engine's contract")
	}
	out = append(out, "environment: "+environmentLine(e))
	meta := "status " + xmlSafe(string(f.Status))
	if f.Severity != "" {
		meta += " · severity " + xmlSafe(string(f.Severity))
	}
	if f.Scope == finding.ScopeTenant {
		meta += " · tenant-wide"
	}
	out = append(out, meta)
	if w := f.Waiver; w != nil {
		out = append(out, "waived: "+xmlSafe(waiver(*w)))
		if w.Was != "" {
			out = append(out, "status before the waiver: "+xmlSafe(string(w.Was)))
		}
	}
	if a := f.Access; a != nil {
		out = appendField(out, "section", a.Section)
		out = appendField(out, "to read it", a.Advice)
		if a.Source != "" && !a.SignIn {
			request := a.Source
			if a.HTTPStatus != 0 {
				request += fmt.Sprintf(" → HTTP %d", a.HTTPStatus)
			}
			out = appendField(out, "request", request)
			out = appendField(out, "docs", f.Docs)
		}
		if !strings.Contains(a.Advice, a.Permission) {
			out = appendField(out, "needs", a.Permission)
		}
		return strings.Join(out, "\n"), nil
	}
	ev, err := evidenceLines(f.Evidence)
	if err != nil {
		return "", fmt.Errorf("evidence: %w", err)
	}
	if len(ev) > 0 {
		out = append(out, "evidence:")
		for _, l := range ev {
			out = append(out, "  "+xmlSafe(l))
		}
	}
	out = appendField(out, "remediation", f.Remediation)
	if f.Fix != nil {
		out = appendField(out, "automated fix", strings.TrimSuffix(f.Fix.Action+" — "+f.Fix.Description, " — "))
	}
	out = appendField(out, "explains error", f.ErrorCode)
	out = appendField(out, "docs", f.Docs)
	return strings.Join(out, "\n"), nil
}

// environmentLine names an environment and its tenant on one line.
func environmentLine(e finding.Environment) string {
	where := xmlSafe(e.URL)
	if e.Name != "" {
		where = xmlSafe(e.Name) + " (" + where + ")"
	}
	return where + ", tenant " + tenantLabel(e.Tenant, e.TenantName)
}

func tenantLabel(id, name string) string {
	if name == "" {
		return xmlSafe(id)
	}
	return xmlSafe(name) + " (" + xmlSafe(id) + ")"
}

// appendField appends "label: value" when there is a value; a value of
// several paragraphs keeps them on their own lines.
func appendField(out []string, label, value string) []string {
	if value = termtext.Prose(value); value == "" {
		return out
	}
	return append(out, xmlSafe(label+": "+value))
}

// properties builds the <properties> of name, value pairs, leaving out
// empty values.
func properties(kv ...string) junitProperties {
	var p junitProperties
	for i := 0; i+1 < len(kv); i += 2 {
		if v := xmlSafe(kv[i+1]); v != "" {
			p.Properties = append(p.Properties, junitProperty{Name: kv[i], Value: v})
		}
	}
	return p
}

// ruleFamily is the classname of a rule's testcases: its id without the
// trailing number (TL-SP-002 → TL-SP), or the whole id when it has none.
func ruleFamily(id string) string {
	if i := strings.LastIndexByte(id, '-'); i > 0 && i < len(id)-1 && strings.Trim(id[i+1:], "0123456789") == "" {
		return id[:i]
	}
	return cmp.Or(id, "unknown")
}

// envHost is the host of an environment URL, or "".
func envHost(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	return xmlSafe(u.Hostname())
}

func timeOrEmpty(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return stamp(t)
}

// tokenOr returns s, or def when s is blank: the schema wants a name and a
// hostname of at least one character after collapsing white space.
func tokenOr(s, def string) string {
	if strings.TrimSpace(s) == "" {
		return def
	}
	return s
}

// xmlSafe makes text from the snapshot, the config or a policy fit for XML
// 1.0 and for a reader's terminal: control characters (other than newline)
// and bidirectional overrides become U+FFFD, as do the non-characters
// U+FFFE and U+FFFF that XML forbids. encoding/xml escapes the rest.
func xmlSafe(s string) string {
	return strings.Map(func(r rune) rune {
		if r == 0xFFFE || r == 0xFFFF {
			return '\uFFFD'
		}
		return r
	}, termtext.Clean(s))
}
