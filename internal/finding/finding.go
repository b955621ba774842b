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
	StatusManual Status = "manual" // no API shows it; the finding gives the steps to check by hand
)

// Statuses lists every valid status in display order.
// A manual finding is never a pass and never a failure: it blocks no verdict
// and fails no run.
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

// Fix describes the automated remediation a rule offers, if any.
type Fix struct {
	Action      string `json:"action"`
	Description string `json:"description"`
}

// Waiver is the config entry that turned a finding into StatusWaived.
type Waiver struct {
	Reason  string `json:"reason"`
	Owner   string `json:"owner"`
	Expires string `json:"expires,omitempty"`
}

// Finding is the result of one rule on one target.
type Finding struct {
	Key
	Title    string   `json:"title"`
	Severity Severity `json:"severity"`
	Status   Status   `json:"status"`
	Message  string   `json:"message"`
	// Evidence is read-only: the findings of a tenant rule share it across
	// the tenant's environments.
	Evidence    map[string]any `json:"evidence,omitempty"`
	Remediation string         `json:"remediation,omitempty"`
	Fix         *Fix           `json:"fix,omitempty"`
	ErrorCode   string         `json:"errorCode,omitempty"`
	Docs        string         `json:"docs,omitempty"`
	Experiences []Experience   `json:"experiences"`
	Waiver      *Waiver        `json:"waiver,omitempty"`
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
