package finding

import (
	"fmt"
	"slices"
	"time"
)

// ReportSchemaVersion names the JSON contract of a Report.
//
// v3 (from v2): the report carries the catalogue entries of its rules
// (rules), the waivers that did not apply (waivers), each environment's
// place in tenants.yaml (declaredAt), and a waived finding's source and
// earlier status. A v2 report still reads (report render, diff, merge): what
// v3 adds is absent from it, never invented.
//
// v2 (from v1): the status manual (and its summary count); the readiness
// states ENABLED and BROKEN and each verdict's turnedOn; a finding's scope
// and access (how to read what an error could not); the report's
// signInErrors; summaries that count a tenant-wide finding once per tenant.
const ReportSchemaVersion = "teamslink.report/v3"

// ReadableReportVersions are the contract versions teamslink reads back.
var ReadableReportVersions = []string{"teamslink.report/v2", ReportSchemaVersion}

// Readiness is the verdict on one experience in one environment.
type Readiness string

// The readiness values (DESIGN.md, "Policies and findings"). NotAssessed is
// for an experience the run was not asked about.
const (
	Enabled     Readiness = "ENABLED" // turned on, and every prerequisite holds
	Ready       Readiness = "READY"   // off, and it can be turned on now
	Blocked     Readiness = "BLOCKED" // off; the failing rules stop it being turned on
	Broken      Readiness = "BROKEN"  // on, but a prerequisite no longer holds: users hit errors
	Unknown     Readiness = "UNKNOWN" // something it needs could not be read
	NotAssessed Readiness = "NOT_ASSESSED"
)

// Readinesses lists the readiness values in the order of how much they ask
// of an admin, most first.
var Readinesses = []Readiness{Broken, Blocked, Unknown, Ready, Enabled, NotAssessed}

// Switch is whether an experience is turned on in an environment, as the
// rule that reads its toggle saw it.
type Switch string

// The switch states. SwitchUnknown is for a toggle that could not be read.
const (
	SwitchOn      Switch = "on"
	SwitchOff     Switch = "off"
	SwitchUnknown Switch = "unknown"
)

// Verdict says whether one experience is on, can be turned on, or is broken
// in one environment, and names the rules that stop it, break it or could
// not be assessed.
type Verdict struct {
	Experience Experience `json:"experience"`
	Readiness  Readiness  `json:"readiness"`
	// TurnedOn is whether the experience is on, as its toggle rule read it;
	// nil when that could not be read, or the experience was not assessed.
	TurnedOn *bool `json:"turnedOn"`
	// Blocking lists the failing rules (BLOCKED while off, BROKEN while
	// on), Unknown the rules that could not be assessed (UNKNOWN, or
	// alongside another state), Warnings those
	// that hold but will hurt users, Manual the checks to make by hand
	// (they never change the readiness).
	Blocking []string `json:"blocking,omitempty"`
	Unknown  []string `json:"unknown,omitempty"`
	Warnings []string `json:"warnings,omitempty"`
	Manual   []string `json:"manual,omitempty"`
}

// Environment is the assessed state of one environment: its findings and verdicts.
type Environment struct {
	Tenant     string     `json:"tenant"`
	TenantName string     `json:"tenantName,omitempty"`
	URL        string     `json:"url"`
	Name       string     `json:"name,omitempty"`
	Experience Experience `json:"experience"`
	Verdicts   []Verdict  `json:"verdicts"`
	Findings   []Finding  `json:"findings"`
	// DeclaredAt is where tenants.yaml declares the environment; nil when
	// it was not scanned from a config (eval of a snapshot, --env).
	DeclaredAt *SourceLine `json:"declaredAt,omitempty"`
}

// SourceLine is a line of a file, e.g. tenants.yaml line 14.
type SourceLine struct {
	File string `json:"file"`
	Line int    `json:"line"`
}

// Verdict returns the verdict for e, or NotAssessed.
func (e Environment) Verdict(x Experience) Verdict {
	for _, v := range e.Verdicts {
		if v.Experience == x {
			return v
		}
	}
	return Verdict{Experience: x, Readiness: NotAssessed}
}

// Summary counts findings by status: a tenant finding once per tenant,
// however many of its environments show it; environment and table findings
// once per environment.
type Summary map[Status]int

// Report is the result of evaluating a snapshot: every environment with its
// findings and verdicts.
type Report struct {
	SchemaVersion string    `json:"schemaVersion"`
	Tool          Tool      `json:"tool"`
	GeneratedAt   time.Time `json:"generatedAt"`
	SnapshotAt    time.Time `json:"snapshotAt"`
	Profile       string    `json:"profile"`
	// SignInErrors are the tenants whose sign-in failed, each said once:
	// their findings are errors that point here rather than repeat it.
	SignInErrors []SignInError `json:"signInErrors"`
	Environments []Environment `json:"environments"`
	Summary      Summary       `json:"summary"`
	// Rules are the catalogue entries of the rules evaluated, so a saved
	// report renders (SARIF rules, help text) without the policies.
	Rules []RuleInfo `json:"rules,omitempty"`
	// Waivers are the declared waivers that did not apply: expired, or
	// matching nothing.
	Waivers []WaiverNotice `json:"waivers,omitempty"`
}

// RuleInfo is the catalogue entry of a rule, as a report carries it.
type RuleInfo struct {
	ID          string       `json:"id"`
	Title       string       `json:"title"`
	Description string       `json:"description,omitempty"`
	Severity    Severity     `json:"severity"`
	Scope       Scope        `json:"scope"`
	Experiences []Experience `json:"experiences"`
	ErrorCode   string       `json:"errorCode,omitempty"`
	Docs        string       `json:"docs,omitempty"`
	Remediation string       `json:"remediation,omitempty"`
	Fix         *Fix         `json:"automatedFix,omitempty"`
	// Builtin is false for a --policy-dir rule.
	Builtin bool `json:"builtin"`
}

// Rule returns the catalogue entry of id, if the report carries it.
func (r *Report) Rule(id string) (RuleInfo, bool) {
	for _, ri := range r.Rules {
		if ri.ID == id {
			return ri, true
		}
	}
	return RuleInfo{}, false
}

// SignInError says that nothing of a tenant could be read because its
// sign-in failed, or its environments could not be discovered: which
// credential, why, and how to fix it.
type SignInError struct {
	Tenant     string `json:"tenant"`
	TenantName string `json:"tenantName,omitempty"`
	// Method is the tenants.yaml auth method (e.g. client-secret,
	// azure-cli); ClientID the application id it used, if any.
	Method   string `json:"method"`
	ClientID string `json:"clientId,omitempty"`
	// Error is why, on one bounded line: the credential's error, or the
	// refusal of every request.
	Error string `json:"error"`
	// HTTPStatus is 401 or 403 when tokens were issued but every request
	// was refused; absent when no token could be had.
	HTTPStatus int `json:"httpStatus,omitempty"`
	// Discovery is the service (bap or gds) that could not list the
	// tenant's environments, or listed none to scan: the tenant was signed
	// in to, or not, but never scanned. Empty for a sign-in failure.
	Discovery string `json:"discovery,omitempty"`
	// Fix is what to do for this method; Docs where it is explained.
	Fix  string `json:"fix"`
	Docs string `json:"docs"`
}

// Failure names what failed, in lower case: "sign-in", or "discovery of
// environments (bap)".
func (e SignInError) Failure() string {
	if e.Discovery != "" {
		return "discovery of environments (" + e.Discovery + ")"
	}
	return "sign-in"
}

// Tool identifies the program that made a report.
type Tool struct {
	Name    string `json:"name"`
	Version string `json:"version"`
}

// Findings returns every finding of the report in order.
func (r *Report) Findings() []Finding {
	var all []Finding
	for _, e := range r.Environments {
		all = append(all, e.Findings...)
	}
	return all
}

// Has reports whether any finding has one of the given statuses.
func (r *Report) Has(statuses ...Status) bool {
	for _, e := range r.Environments {
		for _, f := range e.Findings {
			if slices.Contains(statuses, f.Status) {
				return true
			}
		}
	}
	return false
}

// HasFailure reports whether any prerequisite failed.
func (r *Report) HasFailure() bool { return r.Has(StatusFail) }

// HasError reports whether any rule could not be assessed.
func (r *Report) HasError() bool { return r.Has(StatusError) }

// HasVerdict reports whether any environment has a verdict in one of the
// given readiness states.
func (r *Report) HasVerdict(states ...Readiness) bool {
	for _, e := range r.Environments {
		for _, v := range e.Verdicts {
			if slices.Contains(states, v.Readiness) {
				return true
			}
		}
	}
	return false
}

// HasInternalError reports whether a policy broke the engine's contract.
func (r *Report) HasInternalError() bool {
	for _, e := range r.Environments {
		for _, f := range e.Findings {
			if f.Internal {
				return true
			}
		}
	}
	return false
}

// Exit codes, as in DESIGN.md.
const (
	ExitClean      = 0 // nothing at or above the threshold
	ExitFindings   = 1 // findings at or above --fail-on
	ExitUsage      = 2 // usage or config error
	ExitIncomplete = 3 // something could not be assessed
	ExitInternal   = 4 // internal error
	// A run stopped by a signal exits 128 plus its number, as shells report
	// a process the signal killed; it replaces no file.
	ExitInterrupted = 130 // SIGINT (Ctrl-C)
	ExitTerminated  = 143 // SIGTERM
)

// FailOn is the lowest finding status that makes a run fail.
type FailOn string

// The thresholds for --fail-on.
const (
	FailOnWarn  FailOn = "warn"  // warn or fail exits 1
	FailOnFail  FailOn = "fail"  // fail exits 1 (the default)
	FailOnError FailOn = "error" // only what could not be assessed fails the run
)

// ParseFailOn returns the threshold named by s.
func ParseFailOn(s string) (FailOn, error) {
	switch f := FailOn(s); f {
	case FailOnWarn, FailOnFail, FailOnError:
		return f, nil
	}
	return "", fmt.Errorf("unknown --fail-on %q (valid: fail, warn, error)", s)
}

// ExitCode maps the report to the process exit code: an internal error wins,
// then anything that could not be assessed, a failed sign-in included (a
// run that could not look is never clean), then findings at or above the threshold. A BROKEN
// environment counts as much as a BLOCKED one: under fail (and warn) either
// exits 1. Manual checks never fail a run.
func (r *Report) ExitCode(threshold FailOn) int {
	failing := r.HasFailure() || r.HasVerdict(Blocked, Broken)
	switch {
	case r.HasInternalError():
		return ExitInternal
	case r.HasError(), len(r.SignInErrors) > 0:
		return ExitIncomplete
	case threshold == FailOnWarn && (failing || r.Has(StatusWarn)):
		return ExitFindings
	case threshold == FailOnFail && failing:
		return ExitFindings
	}
	return ExitClean
}

// Summarize counts the report's findings by status. A tenant finding (scope
// tenant: licences, the caller's directory role, consent, the SharePoint
// tenant setting) is one problem however many environments show it, so it
// is counted once per tenant, rule, table and status; every other finding
// once per environment.
func (r *Report) Summarize() Summary {
	s := Summary{}
	for _, st := range Statuses {
		s[st] = 0
	}
	type tenantFinding struct {
		tenant, rule, table string
		status              Status
	}
	seen := map[tenantFinding]bool{}
	for _, e := range r.Environments {
		for _, f := range e.Findings {
			if f.Scope == ScopeTenant {
				k := tenantFinding{f.Tenant, f.Rule, f.Table, f.Status}
				if seen[k] {
					continue
				}
				seen[k] = true
			}
			s[f.Status]++
		}
	}
	return s
}

// Decide computes the verdict for experience x from findings, given whether
// the experience is turned on:
//   - a toggle that could not be read makes it UNKNOWN, whatever else holds:
//     without it BLOCKED and BROKEN cannot be told apart;
//   - on, any failing rule makes it BROKEN; off, BLOCKED;
//   - otherwise any rule that could not be assessed makes it UNKNOWN;
//   - otherwise it is ENABLED when on, READY when off.
//
// Waived, skipped and manual findings never block or break it.
func Decide(x Experience, on Switch, findings []Finding) Verdict {
	v := Verdict{Experience: x}
	switch on {
	case SwitchOn, SwitchOff:
		b := on == SwitchOn
		v.TurnedOn = &b
	}
	for _, f := range findings {
		if !f.AppliesTo(x) {
			continue
		}
		name := f.Rule
		if f.Table != "" {
			name += "(" + f.Table + ")"
		}
		switch f.Status {
		case StatusFail:
			v.Blocking = append(v.Blocking, name)
		case StatusError:
			v.Unknown = append(v.Unknown, name)
		case StatusWarn:
			v.Warnings = append(v.Warnings, name)
		case StatusManual:
			v.Manual = append(v.Manual, name)
		}
	}
	switch {
	case v.TurnedOn == nil:
		v.Readiness = Unknown
	case len(v.Blocking) > 0 && *v.TurnedOn:
		v.Readiness = Broken
	case len(v.Blocking) > 0:
		v.Readiness = Blocked
	case len(v.Unknown) > 0:
		v.Readiness = Unknown
	case *v.TurnedOn:
		v.Readiness = Enabled
	default:
		v.Readiness = Ready
	}
	return v
}
