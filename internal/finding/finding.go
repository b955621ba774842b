// Package finding is the leaf model every other package shares: the result of
// one rule on one target (a Finding), its Status and Severity, the per
// environment Verdict for each collaboration experience, and the Report that
// carries them, with the predicates that decide a run's exit code.
package finding

import (
	"fmt"
	"strings"
)

// Status is the outcome of one rule on one target.
type Status string

// The statuses a finding can have. See DESIGN.md, "Policies and findings".
const (
	StatusPass   Status = "pass"   // the prerequisite holds
	StatusFail   Status = "fail"   // it does not hold; blocks enablement
	StatusWarn   Status = "warn"   // holds, but something will hurt users
	StatusError  Status = "error"  // the data it needs could not be collected
	StatusSkip   Status = "skip"   // not applicable to this target or experience
	StatusWaived Status = "waived" // a waiver covers it
	// StatusManual is a check no API shows: the finding gives the steps to
	// make it by hand. It is never a pass and never a failure: it blocks
	// nothing and fails no run, whatever --fail-on says.
	StatusManual Status = "manual"
)

// Statuses lists every valid status in display order.
var Statuses = []Status{StatusFail, StatusError, StatusWarn, StatusManual, StatusPass, StatusWaived, StatusSkip}

// Valid reports whether s is one of the defined statuses.
func (s Status) Valid() bool {
	for _, v := range Statuses {
		if s == v {
			return true
		}
	}
	return false
}

// ParseStatus returns the status named by s.
func ParseStatus(s string) (Status, error) {
	st := Status(strings.ToLower(strings.TrimSpace(s)))
	if !st.Valid() {
		return "", fmt.Errorf("unknown status %q (valid: %s)", s, joinStatuses(Statuses))
	}
	return st, nil
}

func joinStatuses(ss []Status) string {
	names := make([]string, len(ss))
	for i, s := range ss {
		names[i] = string(s)
	}
	return strings.Join(names, ", ")
}

// Severity ranks how much a failing rule matters.
type Severity string

// The severities a rule can declare, most severe first.
const (
	SeverityCritical Severity = "critical"
	SeverityHigh     Severity = "high"
	SeverityMedium   Severity = "medium"
	SeverityLow      Severity = "low"
	SeverityInfo     Severity = "info"
)

// Severities lists every valid severity, most severe first.
var Severities = []Severity{SeverityCritical, SeverityHigh, SeverityMedium, SeverityLow, SeverityInfo}

// Valid reports whether s is one of the defined severities.
func (s Severity) Valid() bool { return s.Rank() >= 0 }

// Rank orders severities: critical is 4, info is 0, an unknown severity -1.
func (s Severity) Rank() int {
	for i, v := range Severities {
		if s == v {
			return len(Severities) - 1 - i
		}
	}
	return -1
}

// Experience is one of the two ways of linking records to Teams channels.
type Experience string

// The collaboration experiences. Enhanced needs everything Basic needs, and more.
const (
	ExperienceBasic    Experience = "basic"
	ExperienceEnhanced Experience = "enhanced"
)

// Experiences lists the experiences in the order reports show them.
var Experiences = []Experience{ExperienceBasic, ExperienceEnhanced}

// ParseExperience returns the experience named by s.
func ParseExperience(s string) (Experience, error) {
	switch e := Experience(strings.ToLower(strings.TrimSpace(s))); e {
	case ExperienceBasic, ExperienceEnhanced:
		return e, nil
	}
	return "", fmt.Errorf("unknown experience %q (valid: basic, enhanced)", s)
}

// Includes reports whether assessing e also assesses other: Enhanced includes Basic.
func (e Experience) Includes(other Experience) bool {
	return e == other || (e == ExperienceEnhanced && other == ExperienceBasic)
}

// Key identifies a finding across runs: the same rule on the same target has
// the same key, so SARIF fingerprints, metrics and diffs can rely on it.
type Key struct {
	Tenant      string `json:"tenant"`
	Environment string `json:"environment"`
	Rule        string `json:"rule"`
	Table       string `json:"table,omitempty"`
}

// String renders the key as tenant/environment/rule[/table].
func (k Key) String() string {
	s := k.Tenant + "/" + k.Environment + "/" + k.Rule
	if k.Table != "" {
		s += "/" + k.Table
	}
	return s
}

// Scope says what a rule's finding is about, as its METADATA declares.
type Scope string

// The scopes: a tenant finding is one evaluation shown on each of the
// tenant's environments, so summaries count it once per tenant.
const (
	ScopeTenant      Scope = "tenant"      // tenant-wide state, evaluated once per tenant
	ScopeEnvironment Scope = "environment" // one environment
	ScopeTable       Scope = "table"       // one target table of one environment
)

// Fix describes the automated remediation a rule offers, if any.
type Fix struct {
	Action      string `json:"action"`
	Description string `json:"description"`
}

// Access says how to make readable what an error finding could not read:
// the snapshot section, the request that failed and the service's answer,
// the permission or role that request needs, and what to do. An error
// finding carries it instead of the rule's remediation and fix, which are
// about a prerequisite nobody could see.
type Access struct {
	// Section is the snapshot section, e.g. tenant.consent.
	Section string `json:"section"`
	// Source is the request that failed, e.g. "GET https://graph.microsoft.com/v1.0/...".
	Source string `json:"source,omitempty"`
	// HTTPStatus is the service's answer; 0 when there was none.
	HTTPStatus int `json:"httpStatus,omitempty"`
	// Permission is the Graph permission, Dataverse privilege or SharePoint
	// role the request needs; where Microsoft documents no name it says so.
	Permission string `json:"permission"`
	// Advice is what to do, fitted to the answer (403: grant the
	// permission; 429/503: try later; ...), naming the permission.
	Advice string `json:"advice"`
	// SignIn is true when nothing of the tenant could be read because its
	// sign-in failed: the report's signInErrors say why, once.
	SignIn bool `json:"signIn,omitempty"`
}

// Waiver is the config entry that turned a finding into StatusWaived.
type Waiver struct {
	Reason string `json:"reason"`
	Owner  string `json:"owner"`
	// Expires is the last day the waiver applies (YYYY-MM-DD, UTC).
	Expires string `json:"expires,omitempty"`
	// Source is where the waiver is declared, e.g. tenants.yaml:42.
	Source string `json:"source,omitempty"`
	// Was is the status the finding had before the waiver covered it.
	Was Status `json:"was,omitempty"`
}

// Finding is the result of one rule on one target.
type Finding struct {
	Key
	// Scope is the rule's scope; a tenant finding appears on every
	// environment of its tenant and is counted once.
	Scope    Scope    `json:"scope"`
	Title    string   `json:"title"`
	Severity Severity `json:"severity"`
	Status   Status   `json:"status"`
	Message  string   `json:"message"`
	// Evidence is read-only: the findings of a tenant rule share it across
	// the tenant's environments.
	Evidence map[string]any `json:"evidence,omitempty"`
	// Remediation and Fix are the rule's advice for a prerequisite that
	// does not hold: fail, warn (and waived) findings carry both, manual
	// ones the remediation (the steps to check by hand); error, skip and
	// pass findings neither.
	Remediation string `json:"remediation,omitempty"`
	Fix         *Fix   `json:"fix,omitempty"`
	// Access is how to read what an error finding could not.
	Access      *Access      `json:"access,omitempty"`
	ErrorCode   string       `json:"errorCode,omitempty"`
	Docs        string       `json:"docs,omitempty"`
	Experiences []Experience `json:"experiences"`
	Waiver      *Waiver      `json:"waiver,omitempty"`
	// Internal marks a finding the engine made because a policy broke its
	// contract (no result, two results, a malformed one). It exits 4.
	Internal bool `json:"internal,omitempty"`
}

// AppliesTo reports whether the finding's rule is a prerequisite of e.
func (f Finding) AppliesTo(e Experience) bool {
	for _, x := range f.Experiences {
		if x == e {
			return true
		}
	}
	return false
}
