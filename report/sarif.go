package report

import (
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/url"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"unicode"

	"github.com/owenrumney/go-sarif/v3/pkg/report/v210/sarif"

	"github.com/teamslink/teamslink/internal/finding"
	"github.com/teamslink/teamslink/internal/termtext"
)

// The rules of teamslink's own that SARIF runs carry beside the catalogue.
const (
	// SARIFSignInRule is the rule of the results that say a tenant's
	// sign-in failed, one per tenant of Report.SignInErrors.
	SARIFSignInRule = "TL-SIGNIN"
	// SARIFReadinessRule is the rule of a result that says an environment
	// is BLOCKED, BROKEN or UNKNOWN when none of its findings does (a report
	// whose verdicts and findings disagree): never a silent pass.
	SARIFReadinessRule = "TL-READINESS"
)

// DefaultSARIFCategory is the category of runAutomationDetails.id when
// SARIFOptions.Category is empty.
const DefaultSARIFCategory = "teamslink"

const (
	sarifToolName = "teamslink"
	sarifToolURI  = "https://github.com/teamslink/teamslink"
	// sarifSchemaURI is the id of the official OASIS SARIF 2.1.0 schema
	// (errata 01), the one the tests validate against.
	sarifSchemaURI = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
	// sarifShortDescriptionMax is GitHub's bound on shortDescription.text.
	sarifShortDescriptionMax = 1024
)

// ErrSARIFNoLocation is returned when a result has nowhere to point: its
// environment has no line in tenants.yaml and SARIFOptions.Anchor is empty.
// GitHub rejects a result without a physical location.
var ErrSARIFNoLocation = errors.New("no file for a SARIF result to point at")

// ErrSARIFOutsideRoot is returned when the file a result points at is not
// under SARIFOptions.Root: GitHub resolves URIs against the repository, so
// such a path would show nowhere.
var ErrSARIFOutsideRoot = errors.New("file outside the SARIF root")

// sarifWriter writes the report as one SARIF 2.1.0 log with one run, in the
// subset GitHub code scanning accepts.
type sarifWriter struct {
	w    io.Writer
	opts SARIFOptions
}

func newSARIFWriter(w io.Writer, opts Options) Writer { return &sarifWriter{w: w, opts: opts.SARIF} }

// Write renders the report, checks it against GitHub's limits and writes
// it, indented, or writes nothing and returns why (*SARIFLimitError,
// ErrSARIFNoLocation, ErrSARIFOutsideRoot).
//
// A result is made for each finding that needs attention: fail, warn and
// error (a BROKEN or UNKNOWN environment is made so by such findings), and
// each failed sign-in. Pass, skip and manual findings make none, and
// neither do waived ones: GitHub shows a result whatever its suppressions
// say, so a waived finding is listed in the run's properties (waived), with
// its reason, owner and last day, and its alert closes.
func (s *sarifWriter) Write(ctx context.Context, r *finding.Report) error {
	if err := begin(ctx, r); err != nil {
		return fmt.Errorf("write sarif report: %w", err)
	}
	if err := precheckSARIF(r, githubSARIFLimits); err != nil {
		return fmt.Errorf("write sarif report: %w", err)
	}
	doc, err := buildSARIF(ctx, r, s.opts)
	if err != nil {
		return fmt.Errorf("write sarif report: %w", err)
	}
	data, err := checkedSARIF(doc, r, githubSARIFLimits)
	if err != nil {
		return fmt.Errorf("write sarif report: %w", err)
	}
	if err := writeAll(s.w, data); err != nil {
		return fmt.Errorf("write sarif report: %w", err)
	}
	return nil
}

// encodeSARIF is the document as the file holds it: 2-space indentation,
// no HTML escaping, a final newline.
func encodeSARIF(doc *sarif.Report) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(doc); err != nil {
		return nil, fmt.Errorf("encode: %w", err)
	}
	return buf.Bytes(), nil
}

// buildSARIF makes the SARIF log of r: one run, its rules sorted by id, its
// results sorted by tenant, environment, rule and table.
func buildSARIF(ctx context.Context, r *finding.Report, opts SARIFOptions) (*sarif.Report, error) {
	loc, err := newSARIFLocator(opts)
	if err != nil {
		return nil, err
	}
	if err := loc.check(r); err != nil {
		return nil, err
	}
	run := sarif.NewRunWithInformationURI(sarifToolName, sarifToolURI)
	if v := strings.TrimSpace(r.Tool.Version); v != "" {
		run.Tool.Driver.WithVersion(v)
		if sv := strings.TrimPrefix(v, "v"); semverPattern.MatchString(sv) {
			run.Tool.Driver.WithSemanticVersion(sv)
		}
	}
	for _, ri := range sarifCatalogue(r) {
		addSARIFRule(run, ri)
	}
	results, err := sarifResults(ctx, r, loc)
	if err != nil {
		return nil, err
	}
	for _, res := range results {
		out := run.CreateResultForRule(res.rule).
			WithLevel(res.level).
			WithMessage(sarif.NewTextMessage(res.message)).
			AddLocation(sarif.NewLocationWithPhysicalLocation(sarif.NewPhysicalLocation().
				WithArtifactLocation(sarif.NewSimpleArtifactLocation(res.uri)).
				WithRegion(sarif.NewRegion().WithStartLine(res.line)))).
			WithPartialFingerprints(map[string]string{"primaryLocationLineHash": res.fingerprint})
		props := sarif.NewPropertyBag()
		for k, v := range res.properties {
			props.Add(k, v)
		}
		out.WithProperties(props)
	}
	category := cmp.Or(strings.TrimSpace(opts.Category), DefaultSARIFCategory)
	run.WithAutomationDetails(sarif.NewRunAutomationDetails().WithID(strings.TrimRight(category, "/") + "/"))
	run.WithProperties(sarifRunProperties(r))

	doc := sarif.NewReport()
	doc.Schema = sarifSchemaURI
	doc.AddRun(run)
	return doc, nil
}

// semverPattern is a semantic version 2.0.0, without a leading v.
var semverPattern = regexp.MustCompile(`^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(-[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?(\+[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?$`)

// sarifCatalogue is every rule a run lists, sorted by id: the report's
// catalogue, the rules its findings name that the catalogue lacks (a report
// of an older version carries none; a --policy-dir rule rendered without
// its policies), made from the findings, and teamslink's own rules.
func sarifCatalogue(r *finding.Report) []finding.RuleInfo {
	byID := map[string]finding.RuleInfo{}
	for _, ri := range r.Rules {
		byID[ri.ID] = ri
	}
	made := map[string]finding.RuleInfo{}
	for _, e := range r.Environments {
		for _, f := range e.Findings {
			if _, listed := byID[f.Rule]; listed || f.Rule == "" {
				continue
			}
			ri, ok := made[f.Rule]
			if !ok {
				ri = finding.RuleInfo{ID: f.Rule, Scope: f.Scope, Experiences: f.Experiences}
			}
			ri.Title = cmp.Or(ri.Title, f.Title)
			if !ri.Severity.Valid() {
				ri.Severity = f.Severity
			}
			ri.Docs = cmp.Or(ri.Docs, f.Docs)
			ri.ErrorCode = cmp.Or(ri.ErrorCode, f.ErrorCode)
			ri.Remediation = cmp.Or(ri.Remediation, f.Remediation)
			if ri.Fix == nil {
				ri.Fix = f.Fix
			}
			made[f.Rule] = ri
		}
	}
	maps.Copy(byID, made)
	byID[SARIFSignInRule] = finding.RuleInfo{
		ID:          SARIFSignInRule,
		Title:       "teamslink can sign in to the tenant",
		Description: "teamslink signs in to each tenant with the credential tenants.yaml gives it. When that sign-in fails nothing of the tenant can be read, so none of its rules can be assessed and every one of them reports error.",
		Severity:    finding.SeverityHigh,
		Scope:       finding.ScopeTenant,
		Experiences: finding.Experiences,
		Remediation: "Fix the credential the result names, as its message says (the tenant's auth method in tenants.yaml, its secret, certificate or federated identity), then scan again.",
		Builtin:     true,
	}
	byID[SARIFReadinessRule] = finding.RuleInfo{
		ID:          SARIFReadinessRule,
		Title:       "The environment's readiness is backed by its findings",
		Description: "An environment that is BLOCKED, BROKEN or UNKNOWN is so because of findings that fail or could not be assessed. When a report says so but carries none of those findings, this rule says it, so that the environment never looks clean.",
		Severity:    finding.SeverityHigh,
		Scope:       finding.ScopeEnvironment,
		Experiences: finding.Experiences,
		Remediation: "Scan the environment again; if the report still disagrees with itself, report it as a teamslink bug.",
		Builtin:     true,
	}
	out := make([]finding.RuleInfo, 0, len(byID))
	for _, ri := range byID {
		out = append(out, ri)
	}
	slices.SortFunc(out, func(a, b finding.RuleInfo) int { return cmp.Compare(a.ID, b.ID) })
	return out
}

// addSARIFRule adds the reporting descriptor of ri to run.
func addSARIFRule(run *sarif.Run, ri finding.RuleInfo) {
	title := cmp.Or(strings.TrimSpace(termtext.Prose(ri.Title)), ri.ID)
	rule := run.AddRule(ri.ID).
		WithName(sarifRuleName(title, ri.ID)).
		WithShortDescription(sarif.NewMultiformatMessageString().WithText(truncate(title, sarifShortDescriptionMax))).
		WithFullDescription(sarif.NewMultiformatMessageString().WithText(cmp.Or(termtext.Prose(ri.Description), title))).
		WithHelp(sarif.NewMultiformatMessageString().WithText(sarifHelpText(ri, title)).WithMarkdown(sarifHelpMarkdown(ri, title))).
		WithDefaultConfiguration(sarif.NewReportingConfiguration().WithLevel(sarifDefaultLevel(ri.Severity)))
	if isAbsoluteURL(ri.Docs) {
		rule.WithHelpURI(ri.Docs)
	}
	props := sarif.NewPropertyBag().WithTags(sarifTags(ri))
	if score := sarifSecuritySeverity(ri.Severity); score != "" {
		props.Add("security-severity", score)
	}
	if ri.Severity != "" {
		props.Add("severity", string(ri.Severity))
	}
	rule.WithProperties(props)
}

// sarifRuleName is the rule's name as SARIF wants it, an identifier a
// person can read: the title's words run together, each capitalised.
func sarifRuleName(title, id string) string {
	var b strings.Builder
	for _, word := range strings.FieldsFunc(title, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }) {
		rs := []rune(word)
		rs[0] = unicode.ToUpper(rs[0])
		b.WriteString(string(rs))
	}
	if b.Len() == 0 {
		return strings.ReplaceAll(id, "-", "")
	}
	return b.String()
}

// sarifHelpText is the rule's help in plain text: what to do, the
// automated fix, the error it explains and the docs.
func sarifHelpText(ri finding.RuleInfo, title string) string {
	var parts []string
	if rem := termtext.Prose(ri.Remediation); rem != "" {
		parts = append(parts, rem)
	} else {
		parts = append(parts, cmp.Or(termtext.Prose(ri.Description), title))
	}
	if ri.Fix != nil && ri.Fix.Action != "" {
		parts = append(parts, "Automated fix ("+ri.Fix.Action+", through teamslink remediate): "+termtext.Prose(ri.Fix.Description))
	}
	if ri.ErrorCode != "" {
		parts = append(parts, "Explains the error: "+termtext.Prose(ri.ErrorCode))
	}
	if ri.Docs != "" {
		parts = append(parts, "Docs: "+ri.Docs)
	}
	return strings.Join(parts, "\n\n")
}

// sarifHelpMarkdown is sarifHelpText in Markdown, with the docs as a link.
func sarifHelpMarkdown(ri finding.RuleInfo, title string) string {
	var parts []string
	if rem := termtext.Prose(ri.Remediation); rem != "" {
		parts = append(parts, "**Remediation.** "+rem)
	} else {
		parts = append(parts, cmp.Or(termtext.Prose(ri.Description), title))
	}
	if ri.Fix != nil && ri.Fix.Action != "" {
		parts = append(parts, "**Automated fix** (`"+ri.Fix.Action+"`, through `teamslink remediate`): "+termtext.Prose(ri.Fix.Description))
	}
	if ri.ErrorCode != "" {
		parts = append(parts, "**Explains the error:** "+termtext.Prose(ri.ErrorCode))
	}
	switch {
	case isAbsoluteURL(ri.Docs):
		parts = append(parts, "[Documentation]("+ri.Docs+")")
	case ri.Docs != "":
		parts = append(parts, "Docs: `"+ri.Docs+"`")
	}
	return strings.Join(parts, "\n\n")
}

func isAbsoluteURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != ""
}

// sarifFamilies names the prerequisite family of each rule id prefix, as
// the policies' packages do.
var sarifFamilies = map[string]string{
	"LIC": "licensing", "ROLE": "roles", "CONSENT": "consent", "SP": "sharepoint",
	"ENT": "entities", "ENV": "environment", "GRP": "groups", "MAN": "manual",
	"SIGNIN": "sign-in", "READINESS": "readiness",
}

// sarifTags are the rule's tags: its family, scope and experiences.
func sarifTags(ri finding.RuleInfo) []string {
	tags := []string{"teamslink"}
	if parts := strings.Split(ri.ID, "-"); len(parts) >= 2 {
		tags = append(tags, cmp.Or(sarifFamilies[strings.ToUpper(parts[1])], strings.ToLower(parts[1])))
	}
	if ri.Scope != "" {
		tags = append(tags, "scope:"+string(ri.Scope))
	}
	for _, x := range ri.Experiences {
		tags = append(tags, "experience:"+string(x))
	}
	return slices.Compact(tags)
}

// sarifDefaultLevel is a rule's level from its severity alone.
func sarifDefaultLevel(s finding.Severity) string {
	switch s {
	case finding.SeverityCritical, finding.SeverityHigh:
		return sarif.LevelError
	case finding.SeverityMedium:
		return sarif.LevelWarning
	}
	return sarif.LevelNote
}

// sarifSecuritySeverity is GitHub's score of a severity, inside its bands
// (critical above 9.0, high 7.0–8.9, medium 4.0–6.9, low 0.1–3.9); an info
// rule gets none, so it is not a security rule.
func sarifSecuritySeverity(s finding.Severity) string {
	switch s {
	case finding.SeverityCritical:
		return "9.5"
	case finding.SeverityHigh:
		return "8.0"
	case finding.SeverityMedium:
		return "5.5"
	case finding.SeverityLow:
		return "2.0"
	}
	return ""
}

// sarifLevel is a result's level from its status and severity: what could
// not be assessed is an error, as is a failing rule of medium severity or
// more; a warning is one notch below.
func sarifLevel(st finding.Status, sev finding.Severity) string {
	atLeastMedium := sev.Rank() >= finding.SeverityMedium.Rank()
	switch {
	case st == finding.StatusError:
		return sarif.LevelError
	case st == finding.StatusFail && atLeastMedium:
		return sarif.LevelError
	case st == finding.StatusFail, st == finding.StatusWarn && atLeastMedium:
		return sarif.LevelWarning
	}
	return sarif.LevelNote
}

// sarifNeedsResult reports whether a finding of status s is a result.
func sarifNeedsResult(s finding.Status) bool {
	return s == finding.StatusFail || s == finding.StatusWarn || s == finding.StatusError
}

// sarifResult is one result before it becomes SARIF.
type sarifResult struct {
	tenant, environment, rule, table string
	level, message                   string
	uri                              string
	line                             int
	fingerprint                      string
	properties                       map[string]any
}

// sarifResults makes the results of r, sorted.
func sarifResults(ctx context.Context, r *finding.Report, loc *sarifLocator) ([]sarifResult, error) {
	var out []sarifResult
	for _, e := range r.Environments {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		n := len(out)
		for _, f := range e.Findings {
			if !sarifNeedsResult(f.Status) {
				continue
			}
			res, err := sarifFindingResult(e, f, loc)
			if err != nil {
				return nil, err
			}
			out = append(out, res)
		}
		if len(out) == n {
			if res, ok, err := sarifReadinessResult(e, loc); err != nil {
				return nil, err
			} else if ok {
				out = append(out, res)
			}
		}
	}
	for _, s := range r.SignInErrors {
		res, err := sarifSignInResult(r, s, loc)
		if err != nil {
			return nil, err
		}
		out = append(out, res)
	}
	slices.SortStableFunc(out, func(a, b sarifResult) int {
		return cmp.Or(
			cmp.Compare(strings.ToLower(a.tenant), strings.ToLower(b.tenant)),
			cmp.Compare(strings.ToLower(a.environment), strings.ToLower(b.environment)),
			cmp.Compare(a.rule, b.rule),
			cmp.Compare(a.table, b.table),
		)
	})
	return out, nil
}

func sarifFindingResult(e finding.Environment, f finding.Finding, loc *sarifLocator) (sarifResult, error) {
	uri, line, err := loc.environment(e)
	if err != nil {
		return sarifResult{}, err
	}
	ev, err := evidenceLines(f.Evidence)
	if err != nil {
		return sarifResult{}, fmt.Errorf("finding %s: evidence: %w", f.Key, err)
	}
	msg := cmp.Or(termtext.Prose(f.Message), fmt.Sprintf("Rule %s reports %s.", f.Rule, f.Status))
	where := sarifWhere(e)
	if f.Table != "" {
		where += ", table " + termtext.Clean(f.Table)
	}
	msg = where + ": " + sarifSentence(msg)
	switch {
	case f.Status == finding.StatusError && f.Access != nil && f.Access.Advice != "":
		msg += " To read it: " + termtext.Prose(f.Access.Advice)
	case f.Status != finding.StatusError && f.Remediation != "":
		msg += " Remediation: " + termtext.Prose(f.Remediation)
	}
	props := map[string]any{
		"status":      string(f.Status),
		"severity":    string(f.Severity),
		"tenant":      f.Tenant,
		"environment": f.Environment,
		"readiness":   sarifReadiness(e),
	}
	if f.Table != "" {
		props["table"] = f.Table
	}
	if len(ev) > 0 {
		props["evidence"] = ev
	}
	if a := f.Access; a != nil {
		props["section"] = a.Section
		if a.Permission != "" {
			props["permission"] = a.Permission
		}
	}
	if f.Internal {
		props["internal"] = true
	}
	return sarifResult{
		tenant: f.Tenant, environment: f.Environment, rule: f.Rule, table: f.Table,
		level: sarifLevel(f.Status, f.Severity), message: msg, uri: uri, line: line,
		fingerprint: SARIFFingerprint(f.Key), properties: props,
	}, nil
}

// sarifReadinessResult is the result of an environment whose verdict says
// it is BLOCKED, BROKEN or UNKNOWN while no finding of it made a result.
func sarifReadinessResult(e finding.Environment, loc *sarifLocator) (sarifResult, bool, error) {
	states := sarifUnsettledStates(e)
	if len(states) == 0 {
		return sarifResult{}, false, nil
	}
	uri, line, err := loc.environment(e)
	if err != nil {
		return sarifResult{}, false, err
	}
	key := finding.Key{Tenant: e.Tenant, Environment: e.URL, Rule: SARIFReadinessRule}
	return sarifResult{
		tenant: e.Tenant, environment: e.URL, rule: SARIFReadinessRule,
		level:   sarif.LevelError,
		message: sarifWhere(e) + ": the report says " + strings.Join(states, ", ") + ", but none of its findings fails or could not be assessed. Scan the environment again.",
		uri:     uri, line: line, fingerprint: SARIFFingerprint(key),
		properties: map[string]any{"tenant": e.Tenant, "environment": e.URL, "readiness": sarifReadiness(e)},
	}, true, nil
}

// sarifUnsettledStates are e's verdicts that need attention, e.g. "basic
// BLOCKED": BLOCKED, BROKEN and UNKNOWN.
func sarifUnsettledStates(e finding.Environment) []string {
	var states []string
	for _, v := range e.Verdicts {
		switch v.Readiness {
		case finding.Blocked, finding.Broken, finding.Unknown:
			states = append(states, string(v.Experience)+" "+string(v.Readiness))
		}
	}
	return states
}

// sarifUnsettled reports whether any verdict of e needs attention.
func sarifUnsettled(e finding.Environment) bool { return len(sarifUnsettledStates(e)) > 0 }

// sarifSignInResult is the result of a tenant whose sign-in failed. It
// points at the first environment of the tenant that tenants.yaml declares,
// else the anchor.
func sarifSignInResult(r *finding.Report, s finding.SignInError, loc *sarifLocator) (sarifResult, error) {
	env := finding.Environment{Tenant: s.Tenant, TenantName: s.TenantName}
	for _, e := range r.Environments {
		if strings.EqualFold(e.Tenant, s.Tenant) && e.DeclaredAt != nil {
			env = e
			break
		}
	}
	uri, line, err := loc.environment(env)
	if err != nil {
		return sarifResult{}, fmt.Errorf("sign-in error of tenant %s: %w", s.Tenant, err)
	}
	tenant := termtext.Clean(s.Tenant)
	if s.TenantName != "" {
		tenant = termtext.Clean(s.TenantName) + " (" + tenant + ")"
	}
	credential := termtext.Clean(s.Method) + " credential"
	if s.ClientID != "" {
		credential += " (client id " + termtext.Clean(s.ClientID) + ")"
	}
	msg := "Sign-in to tenant " + tenant + " with the " + credential + " failed, so nothing of the tenant could be read: "
	if s.Discovery != "" {
		msg = "The environments of tenant " + tenant + " could not be discovered (" + termtext.Clean(s.Discovery) + ", with the " + credential + "), so the tenant was not scanned: "
	}
	msg +=
		sarifSentence(cmp.Or(termtext.Prose(s.Error), "no reason given"))
	if s.Fix != "" {
		msg += " Fix: " + termtext.Prose(s.Fix)
	}
	props := map[string]any{"tenant": s.Tenant, "method": s.Method}
	if s.ClientID != "" {
		props["clientId"] = s.ClientID
	}
	if s.HTTPStatus != 0 {
		props["httpStatus"] = s.HTTPStatus
	}
	if s.Docs != "" {
		props["docs"] = s.Docs
	}
	return sarifResult{
		tenant: s.Tenant, rule: SARIFSignInRule, level: sarif.LevelError, message: msg,
		uri: uri, line: line, fingerprint: SARIFFingerprint(finding.Key{Tenant: s.Tenant, Rule: SARIFSignInRule}),
		properties: props,
	}, nil
}

// sarifSentence ends s with a full stop unless it ends a sentence already.
func sarifSentence(s string) string {
	if s == "" || strings.ContainsAny(s[len(s)-1:], ".!?") {
		return s
	}
	return s + "."
}

// sarifWhere names an environment and its tenant for a result's message.
func sarifWhere(e finding.Environment) string {
	where := termtext.Clean(e.URL)
	if e.Name != "" {
		where = termtext.Clean(e.Name) + " (" + where + ")"
	}
	tenant := termtext.Clean(e.Tenant)
	if e.TenantName != "" {
		tenant = termtext.Clean(e.TenantName)
	}
	return where + ", tenant " + tenant
}

// sarifReadiness is each assessed experience's readiness in e.
func sarifReadiness(e finding.Environment) map[string]string {
	out := map[string]string{}
	for _, v := range e.Verdicts {
		if v.Readiness != finding.NotAssessed && v.Readiness != "" {
			out[string(v.Experience)] = string(v.Readiness)
		}
	}
	return out
}

// SARIFFingerprint is the partialFingerprints.primaryLocationLineHash of
// the result of k: a hash of its tenant, environment URL (without a
// trailing slash), rule and table, lowercased. It names no line, so an
// alert keeps its identity when tenants.yaml is edited and the line that
// declares the environment moves, and it is the same in every run.
func SARIFFingerprint(k finding.Key) string {
	parts := []string{k.Tenant, strings.TrimRight(k.Environment, "/"), k.Rule, k.Table}
	sum := sha256.Sum256([]byte(strings.ToLower(strings.Join(parts, "\x00"))))
	return hex.EncodeToString(sum[:16])
}

// sarifWaived is a waived finding as the run's properties list it.
type sarifWaived struct {
	Rule        string         `json:"rule"`
	Tenant      string         `json:"tenant"`
	Environment string         `json:"environment"`
	Table       string         `json:"table,omitempty"`
	Was         finding.Status `json:"was,omitempty"`
	Reason      string         `json:"reason"`
	Owner       string         `json:"owner"`
	Expires     string         `json:"expires,omitempty"`
	Source      string         `json:"source,omitempty"`
}

// sarifRunProperties are what the run says beside its results: the
// profile, when the snapshot was taken, the waived findings (GitHub would
// show a suppressed result as an alert, so they are listed here instead)
// and the waivers that did not apply.
func sarifRunProperties(r *finding.Report) *sarif.PropertyBag {
	props := sarif.NewPropertyBag()
	if r.Profile != "" {
		props.Add("profile", r.Profile)
	}
	if !r.GeneratedAt.IsZero() {
		props.Add("generatedAt", stamp(r.GeneratedAt))
	}
	if !r.SnapshotAt.IsZero() {
		props.Add("snapshotAt", stamp(r.SnapshotAt))
	}
	var waived []sarifWaived
	for _, e := range r.Environments {
		for _, f := range e.Findings {
			if f.Status != finding.StatusWaived {
				continue
			}
			w := sarifWaived{Rule: f.Rule, Tenant: f.Tenant, Environment: f.Environment, Table: f.Table}
			if f.Waiver != nil {
				w.Was, w.Reason, w.Owner, w.Expires, w.Source = f.Waiver.Was, f.Waiver.Reason, f.Waiver.Owner, f.Waiver.Expires, f.Waiver.Source
			}
			waived = append(waived, w)
		}
	}
	slices.SortStableFunc(waived, func(a, b sarifWaived) int {
		return cmp.Or(cmp.Compare(a.Tenant, b.Tenant), cmp.Compare(a.Environment, b.Environment), cmp.Compare(a.Rule, b.Rule), cmp.Compare(a.Table, b.Table))
	})
	if len(waived) > 0 {
		props.Add("waived", waived)
	}
	if len(r.Waivers) > 0 {
		props.Add("waiversNotApplied", r.Waivers)
	}
	return props
}

// sarifLocator turns an environment into the file and line its results
// point at.
type sarifLocator struct {
	root    string // absolute; "" writes paths as given
	rootArg string // as given, for messages
	anchor  string
	uris    map[string]string // file → uri, computed once
}

func newSARIFLocator(opts SARIFOptions) (*sarifLocator, error) {
	l := &sarifLocator{rootArg: opts.Root, anchor: opts.Anchor, uris: map[string]string{}}
	if opts.Root != "" {
		abs, err := filepath.Abs(opts.Root)
		if err != nil {
			return nil, fmt.Errorf("sarif root %s: %w", opts.Root, err)
		}
		l.root = abs
	}
	return l, nil
}

// check resolves every file a result of r could point at, so a file
// outside the root is refused whether or not anything fails today.
func (l *sarifLocator) check(r *finding.Report) error {
	if l.anchor != "" {
		if _, err := l.uri(l.anchor); err != nil {
			return err
		}
	}
	for _, e := range r.Environments {
		if d := e.DeclaredAt; d != nil && d.File != "" {
			if _, err := l.uri(d.File); err != nil {
				return err
			}
		}
	}
	return nil
}

// environment is where e's results point: the line of tenants.yaml that
// declares it, else line 1 of the anchor.
func (l *sarifLocator) environment(e finding.Environment) (string, int, error) {
	file, line := l.anchor, 1
	if d := e.DeclaredAt; d != nil && d.File != "" {
		file, line = d.File, max(d.Line, 1)
	}
	if file == "" {
		what := "tenant " + e.Tenant
		if e.URL != "" {
			what = "environment " + e.URL
		}
		return "", 0, fmt.Errorf("%w: %s has no line in tenants.yaml and no anchor file is set (--sarif-anchor, or scan with --config)", ErrSARIFNoLocation, what)
	}
	uri, err := l.uri(file)
	if err != nil {
		return "", 0, err
	}
	return uri, line, nil
}

// uri is file as an artifact URI: relative to the root, with forward
// slashes, percent-encoded where a URI needs it.
func (l *sarifLocator) uri(file string) (string, error) {
	if u, ok := l.uris[file]; ok {
		return u, nil
	}
	p := file
	if l.root != "" {
		abs, err := filepath.Abs(file)
		if err != nil {
			return "", fmt.Errorf("sarif location %s: %w", file, err)
		}
		rel, err := filepath.Rel(l.root, abs)
		if err != nil || rel == "." || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
			return "", fmt.Errorf("%w: %s is not inside the repository root %s (--sarif-root)", ErrSARIFOutsideRoot, file, l.rootArg)
		}
		p = rel
	}
	u := (&url.URL{Path: filepath.ToSlash(p)}).String()
	l.uris[file] = u
	return u, nil
}
