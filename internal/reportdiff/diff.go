// Package reportdiff compares two teamslink reports of the same fleet, an
// old one and a new one, and says per environment and per finding what
// regressed, what was fixed, what changed otherwise, and what is new or
// gone; it renders the comparison as a table, JSON (the teamslink.diff/v1
// contract, with a schema) or Markdown.
//
// Environments are matched by tenant and URL, findings within one by rule
// and table, all without regard to case (a trailing slash of a URL aside).
//
// # Readiness
//
// The states rank ENABLED = READY (good) > UNKNOWN > BLOCKED > BROKEN. A
// move down the ranking regresses (READY → BLOCKED, ENABLED → BROKEN,
// BLOCKED → BROKEN, UNKNOWN → BLOCKED), a move up is fixed (BLOCKED → READY,
// BROKEN → ENABLED, UNKNOWN → READY), and a move between the two good states
// (turned on or off) changed. A move to UNKNOWN always regresses, even from
// BLOCKED or BROKEN: losing sight of an environment is never a fix. A move
// to or from NOT_ASSESSED (the run was not asked about the experience)
// changed.
//
// # Findings
//
// Statuses rank pass, skip, manual and waived (nothing to do) above warn,
// above error, above fail. A move down regresses (pass → fail, waived →
// fail when a waiver expires, warn → fail); a move to error always
// regresses (the data could no longer be read); a move up is fixed
// (fail → pass, error → pass), except to waived, which changed: a waived
// failure is accepted, not fixed. A move within the top rank changed.
//
// New and gone environments and findings are said as such; they never
// count as a regression or a fix themselves, but a new failing finding in
// an environment that stays counts through that environment's readiness.
package reportdiff

import (
	"cmp"
	"slices"
	"strings"
	"time"

	"github.com/teamslink/teamslink/internal/finding"
)

// SchemaVersion names the JSON contract of a Diff.
const SchemaVersion = "teamslink.diff/v1"

// Change is how one thing moved from the old report to the new one.
type Change string

// The changes, in the order reports show them: worst first.
const (
	Regressed Change = "regressed" // worse: a regression
	Fixed     Change = "fixed"     // better
	Changed   Change = "changed"   // different, neither better nor worse
	New       Change = "new"       // only in the new report
	Gone      Change = "gone"      // only in the old report
	Unchanged Change = "unchanged" // the same
)

// Changes lists every change in display order.
var Changes = []Change{Regressed, Fixed, Changed, New, Gone, Unchanged}

func changeOrder(c Change) int {
	if i := slices.Index(Changes, c); i >= 0 {
		return i
	}
	return len(Changes)
}

// Diff is the comparison of two reports.
type Diff struct {
	SchemaVersion string `json:"schemaVersion"`
	Old           Side   `json:"old"`
	New           Side   `json:"new"`
	// Summary counts the changes.
	Summary Summary `json:"summary"`
	// Environments are every environment of either report, sorted by
	// tenant, then URL.
	Environments []Environment `json:"environments"`
}

// Side describes one of the two reports compared.
type Side struct {
	SchemaVersion string       `json:"schemaVersion"`
	Tool          finding.Tool `json:"tool"`
	GeneratedAt   time.Time    `json:"generatedAt"`
	SnapshotAt    time.Time    `json:"snapshotAt"`
	Profile       string       `json:"profile"`
	Environments  int          `json:"environments"`
}

// Environment is how one environment moved.
type Environment struct {
	Tenant     string `json:"tenant"`
	TenantName string `json:"tenantName,omitempty"`
	URL        string `json:"url"`
	Name       string `json:"name,omitempty"`
	// Change is new or gone for an environment in one report only;
	// otherwise the worst change of its readiness and findings (regressed
	// before fixed before changed), unchanged when nothing moved.
	Change Change `json:"change"`
	// Readiness has one entry per experience either report assessed.
	Readiness []Readiness `json:"readiness"`
	// Findings are the findings that moved, new and gone ones included,
	// worst change first; Unchanged counts the others.
	Findings  []Finding `json:"findings"`
	Unchanged int       `json:"unchangedFindings"`
}

// Readiness is how one experience's state moved in one environment.
type Readiness struct {
	Experience finding.Experience `json:"experience"`
	// Old and New are the states; empty in a report the environment is
	// not in.
	Old    finding.Readiness `json:"old,omitempty"`
	New    finding.Readiness `json:"new,omitempty"`
	Change Change            `json:"change"`
	// Blocking and Unknown are the new verdict's rules that block or break
	// the experience, and that could not be assessed: why it stands where
	// it does now.
	Blocking []string `json:"blocking,omitempty"`
	Unknown  []string `json:"unknown,omitempty"`
}

// Finding is how one finding moved in one environment.
type Finding struct {
	Rule     string           `json:"rule"`
	Table    string           `json:"table,omitempty"`
	Scope    finding.Scope    `json:"scope,omitempty"`
	Title    string           `json:"title,omitempty"`
	Severity finding.Severity `json:"severity,omitempty"`
	// Old and New are the statuses; empty in a report the finding is not in.
	Old    finding.Status `json:"old,omitempty"`
	New    finding.Status `json:"new,omitempty"`
	Change Change         `json:"change"`
	// Message is the new report's message, or the old one's for a gone finding.
	Message string `json:"message"`
}

// Summary counts what moved. Findings count a tenant-wide finding once per
// tenant, however many of its environments show it.
type Summary struct {
	Environments Counts `json:"environments"`
	Readiness    Counts `json:"readiness"`
	Findings     Counts `json:"findings"`
	// Regression is whether anything regressed (HasRegression).
	Regression bool `json:"regression"`
}

// Counts counts by change.
type Counts struct {
	Regressed int `json:"regressed"`
	Fixed     int `json:"fixed"`
	Changed   int `json:"changed"`
	New       int `json:"new"`
	Gone      int `json:"gone"`
	Unchanged int `json:"unchanged"`
}

// add counts one c.
func (n *Counts) add(c Change) {
	switch c {
	case Regressed:
		n.Regressed++
	case Fixed:
		n.Fixed++
	case Changed:
		n.Changed++
	case New:
		n.New++
	case Gone:
		n.Gone++
	case Unchanged:
		n.Unchanged++
	}
}

// Of returns the count of c.
func (n Counts) Of(c Change) int {
	switch c {
	case Regressed:
		return n.Regressed
	case Fixed:
		return n.Fixed
	case Changed:
		return n.Changed
	case New:
		return n.New
	case Gone:
		return n.Gone
	case Unchanged:
		return n.Unchanged
	}
	return 0
}

// HasRegression reports whether any experience's readiness or any finding
// regressed from the old report to the new one.
func (d Diff) HasRegression() bool {
	return d.Summary.Readiness.Regressed > 0 || d.Summary.Findings.Regressed > 0
}

// Compare compares the old report with the new one; a nil report counts as
// one without environments. Neither is modified.
func Compare(old, new *finding.Report) Diff {
	old, new = orEmpty(old), orEmpty(new)
	d := Diff{SchemaVersion: SchemaVersion, Old: side(old), New: side(new), Environments: []Environment{}}
	type pair struct{ old, new *finding.Environment }
	var pairs []*pair
	byKey := map[envKey][]*pair{}
	for i := range old.Environments {
		p := &pair{old: &old.Environments[i]}
		k := keyOfEnv(p.old)
		byKey[k] = append(byKey[k], p)
		pairs = append(pairs, p)
	}
	taken := map[envKey]int{}
	for i := range new.Environments {
		e := &new.Environments[i]
		k := keyOfEnv(e)
		if n := taken[k]; n < len(byKey[k]) {
			byKey[k][n].new = e
			taken[k]++
			continue
		}
		pairs = append(pairs, &pair{new: e})
	}
	tenantSeen := map[tenantFinding]bool{}
	for _, p := range pairs {
		e, unchanged := compareEnvironment(p.old, p.new)
		d.Summary.Environments.add(e.Change)
		for _, r := range e.Readiness {
			d.Summary.Readiness.add(r.Change)
		}
		for _, f := range slices.Concat(e.Findings, unchanged) {
			if f.Scope == finding.ScopeTenant {
				k := tenantFinding{strings.ToLower(e.Tenant), f.Rule, strings.ToLower(f.Table), f.Old, f.New}
				if tenantSeen[k] {
					continue
				}
				tenantSeen[k] = true
			}
			d.Summary.Findings.add(f.Change)
		}
		d.Environments = append(d.Environments, e)
	}
	slices.SortStableFunc(d.Environments, func(a, b Environment) int {
		return cmp.Or(
			strings.Compare(strings.ToLower(a.Tenant), strings.ToLower(b.Tenant)),
			strings.Compare(strings.ToLower(a.URL), strings.ToLower(b.URL)),
		)
	})
	d.Summary.Regression = d.HasRegression()
	return d
}

// tenantFinding identifies a tenant-wide finding's move within its tenant,
// so the summary counts it once.
type tenantFinding struct {
	tenant, rule, table string
	old, new            finding.Status
}

func orEmpty(r *finding.Report) *finding.Report {
	if r == nil {
		return &finding.Report{}
	}
	return r
}

func side(r *finding.Report) Side {
	return Side{
		SchemaVersion: r.SchemaVersion, Tool: r.Tool, GeneratedAt: r.GeneratedAt, SnapshotAt: r.SnapshotAt,
		Profile: r.Profile, Environments: len(r.Environments),
	}
}

type envKey struct{ tenant, url string }

func keyOfEnv(e *finding.Environment) envKey {
	return envKey{strings.ToLower(e.Tenant), strings.ToLower(strings.TrimSuffix(e.URL, "/"))}
}

// compareEnvironment compares one environment; either side may be nil. It
// also returns the findings that did not move, for the summary.
func compareEnvironment(old, new *finding.Environment) (Environment, []Finding) {
	cur := cmp.Or(new, old)
	out := Environment{Tenant: cur.Tenant, TenantName: cur.TenantName, URL: cur.URL, Name: cur.Name, Findings: []Finding{}, Readiness: []Readiness{}}
	if new != nil && old != nil {
		out.TenantName, out.Name = cmp.Or(new.TenantName, old.TenantName), cmp.Or(new.Name, old.Name)
	}
	for _, x := range finding.Experiences {
		if !assessed(old, x) && !assessed(new, x) {
			continue
		}
		r := Readiness{Experience: x}
		var nv finding.Verdict
		if old != nil {
			r.Old = old.Verdict(x).Readiness
		}
		if new != nil {
			nv = new.Verdict(x)
			r.New = nv.Readiness
			r.Blocking, r.Unknown = nv.Blocking, nv.Unknown
		}
		r.Change = presence(old != nil, new != nil, func() Change { return readinessChange(r.Old, r.New) })
		out.Readiness = append(out.Readiness, r)
	}
	var unchanged []Finding
	out.Findings, unchanged = compareFindings(old, new)
	out.Unchanged = len(unchanged)
	switch {
	case old == nil:
		out.Change = New
	case new == nil:
		out.Change = Gone
	default:
		out.Change = Unchanged
		for _, r := range out.Readiness {
			out.Change = worse(out.Change, r.Change)
		}
		for _, f := range out.Findings {
			c := f.Change
			if c == New || c == Gone { // a finding that came or went changed its environment
				c = Changed
			}
			out.Change = worse(out.Change, c)
		}
	}
	return out, unchanged
}

// assessed reports whether e has a verdict on x other than NOT_ASSESSED.
func assessed(e *finding.Environment, x finding.Experience) bool {
	if e == nil {
		return false
	}
	for _, v := range e.Verdicts {
		if v.Experience == x {
			return true
		}
	}
	return false
}

// worse returns the worse of a and b, for an environment's overall change:
// regressed, then fixed, then changed, then unchanged.
func worse(a, b Change) Change {
	if changeOrder(b) < changeOrder(a) {
		return b
	}
	return a
}

// presence is New or Gone for something in one report only, else moved().
func presence(inOld, inNew bool, moved func() Change) Change {
	switch {
	case !inOld:
		return New
	case !inNew:
		return Gone
	}
	return moved()
}

// readinessRank ranks the states (higher is better); -1 for a state with
// no place in the ranking (NOT_ASSESSED, or an unknown value).
func readinessRank(r finding.Readiness) int {
	switch r {
	case finding.Enabled, finding.Ready:
		return 3
	case finding.Unknown:
		return 2
	case finding.Blocked:
		return 1
	case finding.Broken:
		return 0
	}
	return -1
}

// readinessChange is how a move from old to new counts (see the package
// documentation).
func readinessChange(old, new finding.Readiness) Change {
	ro, rn := readinessRank(old), readinessRank(new)
	switch {
	case old == new:
		return Unchanged
	case new == finding.Unknown:
		return Regressed
	case ro < 0 || rn < 0:
		return Changed
	case rn < ro:
		return Regressed
	case rn > ro:
		return Fixed
	}
	return Changed
}

// statusBadness ranks statuses by how much they ask of an admin (higher is
// worse); -1 for an unknown status.
func statusBadness(s finding.Status) int {
	switch s {
	case finding.StatusFail:
		return 3
	case finding.StatusError:
		return 2
	case finding.StatusWarn:
		return 1
	case finding.StatusPass, finding.StatusSkip, finding.StatusManual, finding.StatusWaived:
		return 0
	}
	return -1
}

// statusChange is how a move from old to new counts (see the package
// documentation).
func statusChange(old, new finding.Status) Change {
	bo, bn := statusBadness(old), statusBadness(new)
	switch {
	case old == new:
		return Unchanged
	case new == finding.StatusError:
		return Regressed
	case bo < 0 || bn < 0:
		return Changed
	case bn > bo:
		return Regressed
	case bn < bo && new == finding.StatusWaived:
		return Changed
	case bn < bo:
		return Fixed
	}
	return Changed
}

type findingKey struct{ rule, table string }

// compareFindings pairs the findings of two environments by rule and table
// (the n-th of a key in one with the n-th in the other) and returns those
// that moved, worst first, and those that did not.
func compareFindings(old, new *finding.Environment) (moved, unchanged []Finding) {
	var olds, news []finding.Finding
	if old != nil {
		olds = old.Findings
	}
	if new != nil {
		news = new.Findings
	}
	byKey := map[findingKey][]int{}
	for i, f := range olds {
		k := findingKey{f.Rule, strings.ToLower(f.Table)}
		byKey[k] = append(byKey[k], i)
	}
	matched := make([]bool, len(olds))
	var out []Finding
	for _, nf := range news {
		k := findingKey{nf.Rule, strings.ToLower(nf.Table)}
		if idx := byKey[k]; len(idx) > 0 {
			byKey[k] = idx[1:]
			matched[idx[0]] = true
			of := olds[idx[0]]
			c := statusChange(of.Status, nf.Status)
			if c == Unchanged {
				unchanged = append(unchanged, describe(nf, of.Status, nf.Status, c))
				continue
			}
			out = append(out, describe(nf, of.Status, nf.Status, c))
			continue
		}
		out = append(out, describe(nf, "", nf.Status, New))
	}
	for i, of := range olds {
		if !matched[i] {
			out = append(out, describe(of, of.Status, "", Gone))
		}
	}
	slices.SortStableFunc(out, func(a, b Finding) int {
		return cmp.Or(
			cmp.Compare(changeOrder(a.Change), changeOrder(b.Change)),
			cmp.Compare(b.Severity.Rank(), a.Severity.Rank()),
			strings.Compare(a.Rule, b.Rule),
			strings.Compare(a.Table, b.Table),
		)
	})
	if out == nil {
		out = []Finding{}
	}
	return out, unchanged
}

func describe(f finding.Finding, old, new finding.Status, c Change) Finding {
	return Finding{
		Rule: f.Rule, Table: f.Table, Scope: f.Scope, Title: f.Title, Severity: f.Severity,
		Old: old, New: new, Change: c, Message: f.Message,
	}
}
