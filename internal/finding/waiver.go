package finding

import (
	"strings"
	"time"
)

// WaiverRule is one waiver as the config declares it: which findings it
// covers (a rule, and optionally a tenant, an environment and a table), why,
// who owns the decision, and the last day it applies.
type WaiverRule struct {
	Rule string
	// Tenant is a tenant id; empty covers every tenant.
	Tenant string
	// Environment is an environment URL (https://org.crm.dynamics.com,
	// no trailing slash); empty covers every environment of the tenant.
	Environment string
	// Table is a table logical name; empty covers every table and the
	// rule's findings that are about no table.
	Table  string
	Reason string
	Owner  string
	// Expires is the last day the waiver applies, midnight UTC of that day;
	// zero means it never expires.
	Expires time.Time
	// Source is where it is declared, e.g. tenants.yaml:42.
	Source string
}

// Waivable reports whether a waiver may cover a finding with status s. A
// waiver acknowledges a prerequisite that does not hold (fail, warn) or a
// check made by hand (manual); it never covers an error, which is data
// nobody could read, nor a pass or skip, which need no waiver.
func Waivable(s Status) bool {
	return s == StatusFail || s == StatusWarn || s == StatusManual
}

// Covers reports whether w covers the finding f.
func (w WaiverRule) Covers(f Finding) bool {
	return w.Rule == f.Rule &&
		(w.Tenant == "" || strings.EqualFold(w.Tenant, f.Tenant)) &&
		(w.Environment == "" || strings.EqualFold(w.Environment, f.Environment)) &&
		(w.Table == "" || w.Table == f.Table)
}

// ExpiredAt reports whether w no longer applies at now: after the whole of
// its last day (UTC) has passed.
func (w WaiverRule) ExpiredAt(now time.Time) bool {
	return !w.Expires.IsZero() && !now.Before(w.Expires.AddDate(0, 0, 1))
}

// ExpiryDate is the last day w applies, as YYYY-MM-DD, or "".
func (w WaiverRule) ExpiryDate() string {
	if w.Expires.IsZero() {
		return ""
	}
	return w.Expires.Format(time.DateOnly)
}

// WaiverProblem says why a declared waiver did not apply.
type WaiverProblem string

// The waiver problems a report lists.
const (
	// WaiverExpired: the waiver's last day has passed; the findings it
	// covered count again.
	WaiverExpired WaiverProblem = "expired"
	// WaiverUnmatched: no finding of the report is one it could cover (a
	// typo in the tenant, environment or table, or the problem is fixed).
	WaiverUnmatched WaiverProblem = "unmatched"
)

// WaiverNotice reports a declared waiver that did not apply, so that an
// expired or mistyped waiver is never silent.
type WaiverNotice struct {
	Problem     WaiverProblem `json:"problem"`
	Rule        string        `json:"rule"`
	Tenant      string        `json:"tenant,omitempty"`
	Environment string        `json:"environment,omitempty"`
	Table       string        `json:"table,omitempty"`
	Reason      string        `json:"reason"`
	Owner       string        `json:"owner"`
	Expires     string        `json:"expires,omitempty"`
	Source      string        `json:"source,omitempty"`
	// Message says it in one sentence, with what to do.
	Message string `json:"message"`
	// Findings counts the findings the waiver would have covered (expired).
	Findings int `json:"findings,omitempty"`
}

// Waivers applies a config's waivers to the findings of one report,
// environment by environment, and remembers which ones covered anything.
type Waivers struct {
	rules []WaiverRule
	used  []int
	now   time.Time
}

// NewWaivers returns the waivers of rules as they stand at now.
func NewWaivers(rules []WaiverRule, now time.Time) *Waivers {
	return &Waivers{rules: rules, used: make([]int, len(rules)), now: now}
}

// Apply turns every waivable finding that an unexpired waiver covers into
// StatusWaived, carrying the waiver; the first waiver that covers a finding
// wins. Findings are modified in place; verdicts are decided afterwards.
func (ws *Waivers) Apply(findings []Finding) {
	if ws == nil {
		return
	}
	for i := range findings {
		f := &findings[i]
		if !Waivable(f.Status) {
			continue
		}
		for j, w := range ws.rules {
			if !w.Covers(*f) {
				continue
			}
			ws.used[j]++
			if w.ExpiredAt(ws.now) {
				continue
			}
			f.Waiver = &Waiver{Reason: w.Reason, Owner: w.Owner, Expires: w.ExpiryDate(), Source: w.Source, Was: f.Status}
			f.Status = StatusWaived
			break
		}
	}
}

// Notices returns a notice for each waiver that has expired, and for each
// that covered no finding of the environments applied so far, in the order
// they were declared; nil when every waiver applied.
func (ws *Waivers) Notices() []WaiverNotice {
	if ws == nil {
		return nil
	}
	var notices []WaiverNotice
	for j, w := range ws.rules {
		n := WaiverNotice{
			Rule: w.Rule, Tenant: w.Tenant, Environment: w.Environment, Table: w.Table,
			Reason: w.Reason, Owner: w.Owner, Expires: w.ExpiryDate(), Source: w.Source,
		}
		switch {
		case w.ExpiredAt(ws.now):
			n.Problem, n.Findings = WaiverExpired, ws.used[j]
			n.Message = "waiver of " + w.Rule + " expired on " + n.Expires + ": the findings it covered count again; fix them, or renew the waiver with a new expiry"
		case ws.used[j] == 0:
			n.Problem = WaiverUnmatched
			n.Message = "waiver of " + w.Rule + " matched no finding that needs one: check its rule, tenant, environment and table, or remove it if the problem is fixed"
		default:
			continue
		}
		notices = append(notices, n)
	}
	return notices
}
