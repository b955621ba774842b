package report

import (
	"cmp"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/teamslink/teamslink/internal/finding"
)

// MergeError says why reports cannot be merged: which inputs disagree, and
// on what.
type MergeError struct {
	// First and Second are the inputs at fault, by their place in the
	// call (from 0); Second is -1 when First alone is.
	First, Second int
	// Inputs name the inputs in the message, e.g. their files; the caller
	// may set them. Without them the inputs are "report 1", "report 2", ….
	Inputs []string
	// Reason says what is wrong, following the inputs' names: "both hold
	// tenant …", "is nil".
	Reason string
}

func (e *MergeError) Error() string {
	if e.Second < 0 {
		return "merge reports: " + e.name(e.First) + " " + e.Reason
	}
	return "merge reports: " + e.name(e.First) + " and " + e.name(e.Second) + " " + e.Reason
}

func (e *MergeError) name(i int) string {
	if i >= 0 && i < len(e.Inputs) && e.Inputs[i] != "" {
		return e.Inputs[i]
	}
	return "report " + strconv.Itoa(i+1)
}

// errNothingToMerge is returned by Merge called with no report.
var errNothingToMerge = errors.New("merge reports: no report to merge")

// Merge joins reports of disjoint sets of tenants, such as the shards of one
// fleet scan (scan --shard K/N), into one report:
//   - environments of every input, sorted by tenant, then URL;
//   - sign-in errors of every input, sorted by tenant;
//   - the union of the rules' catalogue entries, sorted by id;
//   - the waiver notices, as one scan of one tenants.yaml would give them:
//     an expired waiver once, with the findings it would have covered added
//     up; a waiver that matched nothing in one shard but covers a finding in
//     another is not reported, one that matched nothing anywhere once;
//   - the earliest snapshot time (the oldest data the report shows) and the
//     latest generation time; the summary counted again.
//
// It refuses, with a *MergeError naming the inputs: a tenant (or an
// environment URL) in two inputs, compared without regard to case; inputs of
// different contract versions, tools or profiles; a rule the inputs define
// differently (they were evaluated with different policies). No input is
// modified; the result shares the findings' evidence with them.
func Merge(reports ...*finding.Report) (*finding.Report, error) {
	if len(reports) == 0 {
		return nil, errNothingToMerge
	}
	for i, r := range reports {
		if r == nil {
			return nil, &MergeError{First: i, Second: -1, Reason: "is nil"}
		}
		if v := versionOf(r); !slices.Contains(finding.ReadableReportVersions, v) {
			return nil, &MergeError{First: i, Second: -1, Reason: fmt.Sprintf("has schemaVersion %q, which this teamslink does not read (%s)", v, strings.Join(finding.ReadableReportVersions, ", "))}
		}
	}
	first := reports[0]
	out := &finding.Report{
		SchemaVersion: first.SchemaVersion,
		Tool:          first.Tool,
		GeneratedAt:   first.GeneratedAt,
		SnapshotAt:    first.SnapshotAt,
		Profile:       first.Profile,
		SignInErrors:  []finding.SignInError{},
		Environments:  []finding.Environment{},
	}
	for i, r := range reports[1:] {
		i++
		switch {
		case versionOf(r) != versionOf(first):
			return nil, &MergeError{First: 0, Second: i, Reason: fmt.Sprintf("were written to different contracts (%s and %s): read both into one with one teamslink, e.g. by scanning again", versionOf(first), versionOf(r))}
		case r.Tool != first.Tool:
			return nil, &MergeError{First: 0, Second: i, Reason: fmt.Sprintf("were made by different builds (%s and %s): scan every shard with one build", toolName(first.Tool), toolName(r.Tool))}
		case r.Profile != first.Profile:
			return nil, &MergeError{First: 0, Second: i, Reason: fmt.Sprintf("were evaluated under different profiles (%q and %q)", first.Profile, r.Profile)}
		}
		if r.GeneratedAt.After(out.GeneratedAt) {
			out.GeneratedAt = r.GeneratedAt
		}
		if r.SnapshotAt.Before(out.SnapshotAt) {
			out.SnapshotAt = r.SnapshotAt
		}
	}
	if err := checkDisjoint(reports); err != nil {
		return nil, err
	}
	rules, err := mergeRules(reports)
	if err != nil {
		return nil, err
	}
	out.Rules = rules
	for _, r := range reports {
		out.SignInErrors = append(out.SignInErrors, r.SignInErrors...)
		for _, e := range r.Environments {
			e.Verdicts = slices.Clone(e.Verdicts)
			e.Findings = slices.Clone(e.Findings)
			out.Environments = append(out.Environments, e)
		}
	}
	slices.SortStableFunc(out.SignInErrors, func(a, b finding.SignInError) int {
		return strings.Compare(strings.ToLower(a.Tenant), strings.ToLower(b.Tenant))
	})
	slices.SortStableFunc(out.Environments, func(a, b finding.Environment) int {
		return cmp.Or(
			strings.Compare(strings.ToLower(a.Tenant), strings.ToLower(b.Tenant)),
			strings.Compare(strings.ToLower(a.URL), strings.ToLower(b.URL)),
		)
	})
	out.Waivers = mergeWaivers(reports)
	out.Summary = out.Summarize()
	return out, nil
}

// versionOf is the contract version of r; a report built in memory without
// one is of the current version.
func versionOf(r *finding.Report) string {
	return cmp.Or(r.SchemaVersion, finding.ReportSchemaVersion)
}

func toolName(t finding.Tool) string {
	return cmp.Or(strings.TrimSpace(t.Name+" "+t.Version), "an unnamed tool")
}

// checkDisjoint refuses a tenant, or an environment URL, that two inputs
// hold. A tenant is held by an input that has one of its environments or
// its sign-in error.
func checkDisjoint(reports []*finding.Report) error {
	type holder struct {
		input int
		name  string
	}
	tenants := map[string]holder{}
	urls := map[string]holder{}
	for i, r := range reports {
		mine := map[string]bool{}
		claim := func(tenant string) error {
			key := strings.ToLower(tenant)
			if mine[key] {
				return nil
			}
			mine[key] = true
			if h, ok := tenants[key]; ok {
				return &MergeError{First: h.input, Second: i, Reason: "both hold tenant " + tenant + ": the shards of one fleet scan hold disjoint tenants"}
			}
			tenants[key] = holder{input: i, name: tenant}
			return nil
		}
		for _, s := range r.SignInErrors {
			if err := claim(s.Tenant); err != nil {
				return err
			}
		}
		for _, e := range r.Environments {
			if err := claim(e.Tenant); err != nil {
				return err
			}
			key := strings.ToLower(strings.TrimSuffix(e.URL, "/"))
			if h, ok := urls[key]; ok && h.input != i {
				return &MergeError{First: h.input, Second: i, Reason: fmt.Sprintf("both hold environment %s (tenants %s and %s)", e.URL, h.name, e.Tenant)}
			}
			urls[key] = holder{input: i, name: e.Tenant}
		}
	}
	return nil
}

// mergeRules returns the union of the inputs' catalogues, sorted by id, and
// refuses a rule two inputs define differently.
func mergeRules(reports []*finding.Report) ([]finding.RuleInfo, error) {
	type defined struct {
		input int
		rule  finding.RuleInfo
	}
	byID := map[string]defined{}
	var out []finding.RuleInfo
	for i, r := range reports {
		for _, ri := range r.Rules {
			d, ok := byID[ri.ID]
			if !ok {
				byID[ri.ID] = defined{input: i, rule: ri}
				out = append(out, ri)
				continue
			}
			if field := ruleDifference(d.rule, ri); field != "" {
				return nil, &MergeError{First: d.input, Second: i, Reason: fmt.Sprintf("define rule %s differently (its %s): they were evaluated with different policies", ri.ID, field)}
			}
		}
	}
	slices.SortFunc(out, func(a, b finding.RuleInfo) int { return strings.Compare(a.ID, b.ID) })
	return out, nil
}

// ruleDifference names the first JSON field in which a and b differ, or "".
func ruleDifference(a, b finding.RuleInfo) string {
	va, vb := reflect.ValueOf(a), reflect.ValueOf(b)
	t := va.Type()
	for i := range t.NumField() {
		if !reflect.DeepEqual(va.Field(i).Interface(), vb.Field(i).Interface()) {
			name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
			return cmp.Or(name, t.Field(i).Name)
		}
	}
	return ""
}

// noticeKey identifies a waiver notice across inputs: the waiver and what
// went wrong with it.
type noticeKey struct {
	problem                                                  finding.WaiverProblem
	rule, tenant, environment, table, reason, owner, expires string
	source                                                   string
}

func keyOf(n finding.WaiverNotice) noticeKey {
	return noticeKey{n.Problem, n.Rule, n.Tenant, n.Environment, n.Table, n.Reason, n.Owner, n.Expires, n.Source}
}

// mergeWaivers gives the waiver notices of the inputs as one scan of one
// tenants.yaml would: each notice once, an expired waiver's findings added
// up, and a waiver one input found unmatched left out when it covers a
// finding of another. Notices are ordered by where they are declared.
func mergeWaivers(reports []*finding.Report) []finding.WaiverNotice {
	applied := appliedWaivers(reports)
	index := map[noticeKey]int{}
	var out []finding.WaiverNotice
	for _, r := range reports {
		for _, n := range r.Waivers {
			if n.Problem == finding.WaiverUnmatched && applied[appliedKey{n.Rule, n.Reason, n.Owner, n.Expires, n.Source}] {
				continue
			}
			k := keyOf(n)
			if i, ok := index[k]; ok {
				out[i].Findings += n.Findings
				continue
			}
			index[k] = len(out)
			out = append(out, n)
		}
	}
	slices.SortStableFunc(out, func(a, b finding.WaiverNotice) int {
		fa, la := splitSource(a.Source)
		fb, lb := splitSource(b.Source)
		return cmp.Or(strings.Compare(fa, fb), cmp.Compare(la, lb))
	})
	return out
}

// appliedKey identifies the waiver a waived finding carries.
type appliedKey struct{ rule, reason, owner, expires, source string }

// appliedWaivers are the waivers that cover a finding of some input.
func appliedWaivers(reports []*finding.Report) map[appliedKey]bool {
	applied := map[appliedKey]bool{}
	for _, r := range reports {
		for _, e := range r.Environments {
			for _, f := range e.Findings {
				if w := f.Waiver; w != nil {
					applied[appliedKey{f.Rule, w.Reason, w.Owner, w.Expires, w.Source}] = true
				}
			}
		}
	}
	return applied
}

// splitSource splits "tenants.yaml:42" into the file and the line (0 when
// there is none), so that line 9 sorts before line 10.
func splitSource(s string) (string, int) {
	if i := strings.LastIndexByte(s, ':'); i >= 0 {
		if n, err := strconv.Atoi(s[i+1:]); err == nil {
			return s[:i], n
		}
	}
	return s, 0
}
