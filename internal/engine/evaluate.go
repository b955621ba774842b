package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/rego"

	"github.com/teamslink/teamslink/internal/finding"
	"github.com/teamslink/teamslink/internal/snapshot"
)

// Profiles of required state.
const (
	// ProfilePreflight checks that the experience can be turned on; whether
	// it is on already is informational.
	ProfilePreflight = "preflight"
	// ProfileEnabled also requires the experience to be turned on.
	ProfileEnabled = "enabled"
)

// DefaultTables are the target tables when neither the options nor the
// environment name any: tables present in every customer engagement
// environment and in the out-of-box Teams set.
var DefaultTables = []string{"account", "contact"}

// Options say what to assess.
type Options struct {
	// Experience to assess; empty means each environment's configured
	// experience, or enhanced (which includes basic).
	Experience finding.Experience
	// Tables are the target tables; empty means each environment's, or DefaultTables.
	Tables []string
	// Profile is ProfilePreflight (the default) or ProfileEnabled.
	Profile string
	// Now stamps the report; required.
	Now func() time.Time
	// ToolVersion goes into the report.
	ToolVersion string
	// Waivers turn the fail, warn and manual findings they cover into
	// waived; every rule they name must be in the catalogue.
	Waivers []finding.WaiverRule
}

// ParseProfile validates a profile name.
func ParseProfile(s string) (string, error) {
	switch s {
	case "", ProfilePreflight:
		return ProfilePreflight, nil
	case ProfileEnabled:
		return ProfileEnabled, nil
	}
	return "", fmt.Errorf("unknown profile %q (valid: preflight, enabled)", s)
}

// Evaluate runs every policy on every environment of snap. Rules of scope
// tenant are evaluated once per tenant and options, and their findings are
// given to each of the tenant's environments. Problems with the policies
// themselves (no result for a target, two results, a malformed one, an
// evaluation error or timeout) become findings marked Internal, never a
// silent pass. The returned error is for a snapshot that breaks the reader's
// rules (a dangling tenant id, a table listed twice, an unknown experience)
// or a context cancelled by the caller.
func (e *Engine) Evaluate(ctx context.Context, snap *snapshot.Snapshot, opts Options) (*finding.Report, error) {
	profile, err := ParseProfile(opts.Profile)
	if err != nil {
		return nil, err
	}
	now := opts.Now
	if now == nil {
		return nil, errors.New("evaluate: no clock (Options.Now)")
	}
	if err := e.CheckWaivers(opts.Waivers); err != nil {
		return nil, err
	}
	tenants := newTenantValues(snap)
	generated := now().UTC()
	waivers := finding.NewWaivers(opts.Waivers, generated)
	rep := &finding.Report{
		SchemaVersion: finding.ReportSchemaVersion,
		Tool:          finding.Tool{Name: "teamslink", Version: opts.ToolVersion},
		GeneratedAt:   generated,
		SnapshotAt:    snap.CollectedAt,
		Profile:       profile,
		SignInErrors:  []finding.SignInError{},
		Environments:  make([]finding.Environment, 0, len(snap.Environments)),
	}
	signIns := map[string]*finding.SignInError{}
	for i := range snap.Tenants {
		if s := signInError(&snap.Tenants[i]); s != nil {
			signIns[s.Tenant] = s
			rep.SignInErrors = append(rep.SignInErrors, *s)
		}
	}
	tenantRuns := map[tenantRun]*collected{}
	strs := newInterner()
	for i := range snap.Environments {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		env := &snap.Environments[i]
		tenant, ok := snap.Tenant(env.TenantID)
		if !ok {
			return nil, fmt.Errorf("environments[%d].tenantId: no tenant %q in the snapshot", i, env.TenantID)
		}
		if err := checkTables(env); err != nil {
			return nil, fmt.Errorf("environments[%d].entities.%w", i, err)
		}
		a, err := assess(env, opts, profile)
		if err != nil {
			return nil, fmt.Errorf("evaluate %s: %w", env.URL, err)
		}
		tenantValue, err := tenants.value(tenant.ID)
		if err != nil {
			return nil, err
		}
		run := tenantRun{tenant: tenant.ID, experience: a.experience, profile: profile}
		tenantResults, ok := tenantRuns[run]
		if !ok {
			tenantResults, err = e.run(ctx, true, tenantInput(tenantValue, a), strs)
			if err != nil {
				return nil, err
			}
			tenantRuns[run] = tenantResults
		}
		out, err := e.evaluateEnvironment(ctx, tenant, tenantValue, env, a, tenantResults, signIns[tenant.ID], waivers, strs)
		if err != nil {
			return nil, fmt.Errorf("evaluate %s: %w", env.URL, err)
		}
		rep.Environments = append(rep.Environments, out)
		if tenants.done(tenant.ID) {
			// The tenant's last environment: what was kept for the others
			// goes, so that a fleet's evaluation holds one tenant's.
			for r := range tenantRuns {
				if r.tenant == tenant.ID {
					delete(tenantRuns, r)
				}
			}
		}
	}
	rep.Summary = rep.Summarize()
	rep.Waivers = waivers.Notices()
	for _, r := range e.rules {
		rep.Rules = append(rep.Rules, r.Info())
	}
	return rep, nil
}

// UnknownWaiverRuleError is returned for a waiver of a rule the catalogue
// does not have: a typo would otherwise waive nothing, silently.
type UnknownWaiverRuleError struct {
	Rule   string
	Source string // where the waiver is declared
}

func (e *UnknownWaiverRuleError) Error() string {
	where := "waiver"
	if e.Source != "" {
		where = e.Source + ": waiver"
	}
	return fmt.Sprintf("%s: no rule %q in the catalogue (teamslink rules lists them)", where, e.Rule)
}

// CheckWaivers returns an *UnknownWaiverRuleError for the first waiver whose
// rule is not in the catalogue.
func (e *Engine) CheckWaivers(ws []finding.WaiverRule) error {
	for _, w := range ws {
		if _, ok := e.Rule(w.Rule); !ok {
			return &UnknownWaiverRuleError{Rule: w.Rule, Source: w.Source}
		}
	}
	return nil
}

// checkTables rejects an environment that lists a table twice, as the
// snapshot reader does: the policies index tables by logical name, and two
// entries would fail every rule of the environment's evaluation.
func checkTables(env *snapshot.Environment) error {
	if d := env.Entities.Duplicates(); len(d) > 0 {
		return fmt.Errorf("tables[%d].logicalName: duplicate table %q", d[0].At, env.Entities.Tables[d[0].At].LogicalName)
	}
	return nil
}

// assessment is what to assess in one environment.
type assessment struct {
	experience finding.Experience
	profile    string
	tables     []string
}

// assess resolves the options for env: the experience and tables asked for,
// else the environment's own, else the defaults.
func assess(env *snapshot.Environment, opts Options, profile string) (assessment, error) {
	a := assessment{experience: opts.Experience, profile: profile, tables: opts.Tables}
	if a.experience == "" {
		a.experience = finding.ExperienceEnhanced
		if env.Experience != "" {
			x, err := finding.ParseExperience(env.Experience)
			if err != nil {
				return a, fmt.Errorf("experience: %w", err)
			}
			a.experience = x
		}
	}
	if len(a.tables) == 0 {
		a.tables = env.TargetTables
	}
	if len(a.tables) == 0 {
		a.tables = DefaultTables
	}
	a.tables = normalizeTables(a.tables)
	return a, nil
}

// tenantRun identifies one evaluation of the tenant rules: everything their
// input holds.
type tenantRun struct {
	tenant     string
	experience finding.Experience
	profile    string
}

// target is what one result is about: the environment, or one of its tables.
type target struct {
	rule  string
	table string
}

// collected are the results of one evaluation by target, with what went wrong.
type collected struct {
	results map[target][]map[string]any
	// failures are queries that failed as a whole, with the reason.
	failures []queryFailure
	// problems are results that break the contract and name no valid target.
	problems []string
}

type queryFailure struct {
	query  *preparedQuery
	reason string
}

// run evaluates the tenant or the environment queries on input; the
// messages and evidence the findings keep are interned in strs.
func (e *Engine) run(ctx context.Context, tenant bool, input ast.Value, strs *interner) (*collected, error) {
	c := &collected{results: map[target][]map[string]any{}}
	for i := range e.queries {
		q := &e.queries[i]
		if q.tenant != tenant {
			continue
		}
		raw, err := e.eval(ctx, q, input)
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			c.failures = append(c.failures, queryFailure{query: q, reason: err.Error()})
			continue
		}
		for _, res := range raw {
			t, problem := e.checkResult(res, tenant)
			if problem != "" {
				c.problems = append(c.problems, problem)
				continue
			}
			if m, ok := res["message"].(string); ok {
				res["message"] = strs.str(m)
			}
			if ev, ok := res["evidence"]; ok {
				res["evidence"] = strs.value(ev)
			}
			c.results[t] = append(c.results[t], res)
		}
	}
	return c, nil
}

func (e *Engine) evaluateEnvironment(ctx context.Context, tenant *snapshot.Tenant, tenantValue ast.Value, env *snapshot.Environment, a assessment, tenantResults *collected, signIn *finding.SignInError, waivers *finding.Waivers, strs *interner) (finding.Environment, error) {
	input, err := environmentInput(tenantValue, env, a)
	if err != nil {
		return finding.Environment{}, err
	}
	envResults, err := e.run(ctx, false, input, strs)
	if err != nil {
		return finding.Environment{}, err
	}
	out := finding.Environment{
		Tenant:     tenant.ID,
		TenantName: tenant.Name,
		URL:        env.URL,
		Name:       env.Name,
		Experience: a.experience,
		Findings:   e.findings(finding.Key{Tenant: tenant.ID, Environment: env.URL}, a.tables, tenantResults, envResults),
	}
	adviseAll(out.Findings, tenant, env, signIn)
	waivers.Apply(out.Findings)
	for _, x := range finding.Experiences {
		if a.experience.Includes(x) {
			out.Verdicts = append(out.Verdicts, finding.Decide(x, turnedOn(x, out.Findings), out.Findings))
		} else {
			out.Verdicts = append(out.Verdicts, finding.Verdict{Experience: x, Readiness: finding.NotAssessed})
		}
	}
	return out, nil
}

// toggleRules are the rules that read whether each experience is turned on.
// Their pass, skip and fail results carry the organization column they read
// and its value as evidence ("column", "value"); which column that is (the
// Basic toggle ismsteamsenabled, the Enhanced one
// ismsteamscollaborationenabled) is an INFERENCE the rules' METADATA names
// and the policies own, so the verdict reads the answer from the findings
// rather than from the snapshot.
var toggleRules = map[finding.Experience]string{
	finding.ExperienceBasic:    "TL-ENV-001",
	finding.ExperienceEnhanced: "TL-ENV-002",
}

// turnedOn reads from findings whether experience x is on: the toggle rule's
// evidence value, when its finding decided (pass, skip, fail, or a waiver of
// one) and shows the column it read; unknown otherwise (the organization
// could not be read, the rule broke its contract, or it is missing).
func turnedOn(x finding.Experience, findings []finding.Finding) finding.Switch {
	id := toggleRules[x]
	for _, f := range findings {
		if f.Rule != id || f.Table != "" {
			continue
		}
		if f.Internal || f.Status == finding.StatusError {
			return finding.SwitchUnknown
		}
		column, _ := f.Evidence["column"].(string)
		on, ok := f.Evidence["value"].(bool)
		switch {
		case column == "" || !ok:
			return finding.SwitchUnknown
		case on:
			return finding.SwitchOn
		}
		return finding.SwitchOff
	}
	return finding.SwitchUnknown
}

// findings turns the collected results of one environment into exactly one
// finding per rule and target, sorted by rule and table; what is missing,
// doubled or broken becomes an internal error.
func (e *Engine) findings(base finding.Key, tables []string, runs ...*collected) []finding.Finding {
	findings := make([]finding.Finding, 0, e.targetCount(len(tables)))
	var problems []finding.Finding
	failed := map[target]bool{}
	for _, c := range runs {
		for _, f := range c.failures {
			// The whole query failed: every rule it owns gets an internal error.
			for _, r := range e.rules {
				if f.query.owns(r) {
					for _, t := range e.targets(r, tables) {
						failed[t] = true
						problems = append(problems, e.internal(base, r, t.table, "policy evaluation failed: "+f.reason))
					}
				}
			}
		}
		for _, p := range c.problems {
			problems = append(problems, e.internal(base, Rule{ID: "POLICY"}, "", p))
		}
	}

	for _, r := range e.rules {
		for _, t := range e.targets(r, tables) {
			if failed[t] {
				continue
			}
			var got []map[string]any
			for _, c := range runs {
				if rs := c.results[t]; len(rs) > 0 {
					got = append(got, rs...)
				}
			}
			switch len(got) {
			case 1:
				findings = append(findings, e.finding(base, r, t.table, got[0]))
			case 0:
				findings = append(findings, e.internal(base, r, t.table, "the policy produced no result for this target"))
			default:
				findings = append(findings, e.internal(base, r, t.table, fmt.Sprintf("the policy produced %d results for this target; exactly one is required", len(got))))
			}
		}
	}
	for _, c := range runs {
		for t := range c.results {
			r := e.byID[t.rule]
			if failed[t] || (r.Scope == ScopeTable) == slices.Contains(tables, t.table) {
				continue // an expected target, done above
			}
			what := "environment"
			if t.table != "" {
				what = "table " + t.table + ", which is not a target table"
			}
			findings = append(findings, e.internal(base, r, t.table, "the policy produced a result for an unexpected target: "+what))
		}
	}
	findings = append(findings, problems...)
	slices.SortStableFunc(findings, func(a, b finding.Finding) int {
		if c := strings.Compare(a.Rule, b.Rule); c != 0 {
			return c
		}
		return strings.Compare(a.Table, b.Table)
	})
	return findings
}

// targetCount is the number of targets of all rules for n tables.
func (e *Engine) targetCount(n int) int {
	count := 0
	for _, r := range e.rules {
		if r.Scope == ScopeTable {
			count += n
		} else {
			count++
		}
	}
	return count
}

// targets lists the targets rule r must yield exactly one result for.
func (e *Engine) targets(r Rule, tables []string) []target {
	if r.Scope == ScopeTable {
		ts := make([]target, len(tables))
		for i, t := range tables {
			ts[i] = target{rule: r.ID, table: t}
		}
		return ts
	}
	return []target{{rule: r.ID}}
}

func (e *Engine) eval(ctx context.Context, q *preparedQuery, input ast.Value) ([]map[string]any, error) {
	ctx, cancel := context.WithTimeout(ctx, e.timeout)
	defer cancel()
	rs, err := q.query.Eval(ctx, rego.EvalParsedInput(input))
	if err != nil {
		if ctx.Err() == context.DeadlineExceeded {
			return nil, fmt.Errorf("evaluation exceeded %s", e.timeout)
		}
		return nil, err
	}
	if len(rs) != 1 {
		return nil, fmt.Errorf("query returned %d result sets", len(rs))
	}
	sets, ok := rs[0].Bindings["results"].([]any)
	if !ok || len(sets) != len(q.packages) {
		return nil, fmt.Errorf("query returned %T, want one results set per package", rs[0].Bindings["results"])
	}
	var out []map[string]any
	for i, s := range sets {
		items, ok := s.([]any)
		if !ok {
			return nil, fmt.Errorf("%s.%s is %T, want a set of objects", q.packages[i], q.rule(), s)
		}
		for _, it := range items {
			m, ok := it.(map[string]any)
			if !ok {
				return nil, fmt.Errorf("%s.%s contains %T, want objects", q.packages[i], q.rule(), it)
			}
			out = append(out, m)
		}
	}
	return out, nil
}

// checkResult validates one result object, from tenant_results or results,
// against the contract and returns its target, or a problem description.
func (e *Engine) checkResult(res map[string]any, tenant bool) (target, string) {
	id, _ := res["id"].(string)
	r, ok := e.byID[id]
	if !ok {
		return target{}, fmt.Sprintf("a policy produced a result for %q, which is not in the rule catalogue: %s", id, compact(res))
	}
	if (r.Scope == ScopeTenant) != tenant {
		if tenant {
			return target{}, fmt.Sprintf("rule %s: result in %s but the rule's scope is %s; only scope tenant belongs there", id, tenantResultsRule, r.Scope)
		}
		return target{}, fmt.Sprintf("rule %s: result in %s but the rule's scope is tenant; it belongs in %s", id, resultsRule, tenantResultsRule)
	}
	t := target{rule: id}
	if tb, ok := res["table"]; ok {
		s, _ := tb.(string)
		if r.Scope != ScopeTable || s == "" {
			return target{}, fmt.Sprintf("rule %s: result has a table but the rule's scope is %s", id, r.Scope)
		}
		t.table = s
	} else if r.Scope == ScopeTable {
		return target{}, fmt.Sprintf("rule %s: result has no table but the rule's scope is table", id)
	}
	st, _ := res["status"].(string)
	switch finding.Status(st) {
	case finding.StatusPass, finding.StatusFail, finding.StatusWarn, finding.StatusError, finding.StatusSkip, finding.StatusManual:
	default:
		return target{}, fmt.Sprintf("rule %s: status %q is not one of pass, fail, warn, error, skip, manual", id, st)
	}
	if msg, _ := res["message"].(string); msg == "" {
		return target{}, fmt.Sprintf("rule %s: result has no message", id)
	}
	ev, ok := res["evidence"]
	evidence, isObj := ev.(map[string]any)
	if ok && !isObj {
		return target{}, fmt.Sprintf("rule %s: evidence must be an object", id)
	}
	if finding.Status(st) == finding.StatusPass && len(evidence) == 0 {
		return target{}, fmt.Sprintf("rule %s: a pass result must have evidence that shows why (a non-empty object)", id)
	}
	return t, ""
}

func (e *Engine) finding(base finding.Key, r Rule, table string, res map[string]any) finding.Finding {
	f := e.skeleton(base, r, table)
	f.Status = finding.Status(res["status"].(string))
	f.Message = res["message"].(string)
	if ev, ok := res["evidence"].(map[string]any); ok && len(ev) > 0 {
		f.Evidence = ev
	}
	return f
}

func (e *Engine) internal(base finding.Key, r Rule, table, msg string) finding.Finding {
	f := e.skeleton(base, r, table)
	f.Status = finding.StatusError
	f.Message = "internal error: " + msg
	f.Internal = true
	if f.Title == "" {
		f.Title = "Policy contract"
		f.Severity = finding.SeverityHigh
		f.Experiences = slices.Clone(finding.Experiences)
	}
	return f
}

func (e *Engine) skeleton(base finding.Key, r Rule, table string) finding.Finding {
	k := base
	k.Rule = r.ID
	k.Table = table
	scope := r.Scope
	if scope == "" { // a problem no rule owns
		scope = finding.ScopeEnvironment
	}
	return finding.Finding{
		Key:         k,
		Scope:       scope,
		Title:       r.Title,
		Severity:    r.Severity,
		Remediation: r.Remediation,
		Fix:         r.Fix,
		ErrorCode:   r.ErrorCode,
		Docs:        r.Docs,
		Experiences: r.Experiences,
	}
}

func compact(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	if len(b) > 200 {
		return string(b[:200]) + "…"
	}
	return string(b)
}

func normalizeTables(tables []string) []string {
	out := make([]string, 0, len(tables))
	for _, t := range tables {
		t = strings.ToLower(strings.TrimSpace(t))
		if t != "" && !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	return out
}
