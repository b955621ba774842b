package metrics_test

import (
	"fmt"
	"slices"
	"time"

	"github.com/teamslink/teamslink/internal/finding"
)

// Fixed clock and ids, so that outputs are stable.
var (
	fixedNow      = time.Date(2026, 11, 2, 9, 20, 0, 0, time.UTC)
	fixedSnapshot = time.Date(2026, 11, 2, 7, 5, 0, 0, time.UTC)
)

const (
	contosoID  = "3f2b8c1e-6d4a-4b7e-9a15-2c8d0e7f4a61"
	fabrikamID = "8d1e4c2a-5b7f-4e3d-9c61-0a2f7b9e3d58"
)

var (
	both         = []finding.Experience{finding.ExperienceBasic, finding.ExperienceEnhanced}
	enhancedOnly = []finding.Experience{finding.ExperienceEnhanced}
)

// rule is the catalogue entry of a fixture rule.
type rule struct {
	id       string
	severity finding.Severity
	scope    finding.Scope
	exp      []finding.Experience
	manual   bool
}

// rules is a catalogue shaped like the built-in one: tenant, environment and
// table rules, Basic and Enhanced ones, a manual check.
var rules = []rule{
	{"TL-LIC-001", finding.SeverityHigh, finding.ScopeTenant, both, false},
	{"TL-LIC-002", finding.SeverityHigh, finding.ScopeTenant, both, false},
	{"TL-ROLE-001", finding.SeverityHigh, finding.ScopeEnvironment, both, false},
	{"TL-ROLE-002", finding.SeverityMedium, finding.ScopeTenant, enhancedOnly, false},
	{"TL-CONSENT-001", finding.SeverityCritical, finding.ScopeTenant, enhancedOnly, false},
	{"TL-SP-002", finding.SeverityCritical, finding.ScopeEnvironment, both, false},
	{"TL-SP-005", finding.SeverityMedium, finding.ScopeTenant, both, false},
	{"TL-ENT-001", finding.SeverityHigh, finding.ScopeTable, both, false},
	{"TL-ENT-002", finding.SeverityMedium, finding.ScopeTable, both, false},
	{"TL-MAN-001", finding.SeverityMedium, finding.ScopeTenant, both, true},
	{"TL-ENV-002", finding.SeverityInfo, finding.ScopeEnvironment, enhancedOnly, false},
}

// sections are the snapshot sections the fixture's error findings name.
var sections = map[string]string{
	"TL-LIC-001": "tenant.licences", "TL-LIC-002": "tenant.licences", "TL-ROLE-001": "environment.roles",
	"TL-ROLE-002": "tenant.roles", "TL-CONSENT-001": "tenant.consent", "TL-SP-002": "environment.sharepoint",
	"TL-SP-005": "tenant.sharepoint", "TL-ENT-001": "environment.entities", "TL-ENT-002": "environment.entities",
	"TL-MAN-001": "tenant.manual", "TL-ENV-002": "environment.settings",
}

// env describes a fixture environment: every rule passes unless status
// says otherwise; rules of experiences it does not assess are skipped.
type env struct {
	tenant, url, name string
	exp               finding.Experience
	on                finding.Switch // "" is off
	status            map[string]finding.Status
	tables            []string
	signIn            bool // every finding is an error of a failed sign-in
}

// environment builds the findings and decides the verdicts as the engine does.
func (e env) environment() finding.Environment {
	out := finding.Environment{Tenant: e.tenant, URL: e.url, Name: e.name, Experience: e.exp}
	tables := e.tables
	if tables == nil {
		tables = []string{"account", "contact"}
	}
	for _, r := range rules {
		targets := []string{""}
		if r.scope == finding.ScopeTable {
			targets = tables
		}
		for _, table := range targets {
			st := finding.StatusPass
			if r.manual {
				st = finding.StatusManual
			}
			if s, ok := e.status[r.id]; ok {
				st = s
			}
			if !slices.ContainsFunc(r.exp, e.exp.Includes) {
				st = finding.StatusSkip
			}
			f := finding.Finding{
				Key:   finding.Key{Tenant: e.tenant, Environment: e.url, Rule: r.id, Table: table},
				Scope: r.scope, Severity: r.severity, Status: st, Experiences: r.exp,
				Message: fmt.Sprintf("%s on %s", r.id, e.url),
			}
			if e.signIn {
				f.Status = finding.StatusError
			}
			if f.Status == finding.StatusError {
				f.Access = &finding.Access{Section: sections[r.id], Source: "GET " + e.url + "/api/data/v9.2/x", HTTPStatus: 403, SignIn: e.signIn}
			}
			out.Findings = append(out.Findings, f)
		}
	}
	on := e.on
	if on == "" {
		on = finding.SwitchOff
	}
	if e.signIn {
		on = finding.SwitchUnknown
	}
	for _, x := range finding.Experiences {
		if e.exp.Includes(x) {
			out.Verdicts = append(out.Verdicts, finding.Decide(x, on, out.Findings))
		}
	}
	return out
}

// newReport puts environments in a report, with the sign-in errors of the
// tenants whose environments say so.
func newReport(envs ...env) *finding.Report {
	r := &finding.Report{
		SchemaVersion: finding.ReportSchemaVersion,
		Tool:          finding.Tool{Name: "teamslink", Version: "0.1.0"},
		GeneratedAt:   fixedNow,
		SnapshotAt:    fixedSnapshot,
		Profile:       "preflight",
	}
	failed := map[string]bool{}
	for _, e := range envs {
		r.Environments = append(r.Environments, e.environment())
		if e.signIn && !failed[e.tenant] {
			failed[e.tenant] = true
			r.SignInErrors = append(r.SignInErrors, finding.SignInError{
				Tenant: e.tenant, Method: "client-secret", ClientID: "0b1c2d3e-0000-4000-8000-000000000001",
				Error: "AADSTS7000215: Invalid client secret provided (https://login.microsoftonline.com/x)", HTTPStatus: 401,
				Fix: "Create a new client secret", Docs: "https://learn.microsoft.com/entra",
			})
		}
	}
	for _, ru := range rules {
		r.Rules = append(r.Rules, finding.RuleInfo{ID: ru.id, Title: ru.id, Severity: ru.severity, Scope: ru.scope, Experiences: ru.exp, Builtin: true})
	}
	r.Summary = r.Summarize()
	return r
}

// fleetEnvs are the fixture's kinds of environment: ready, blocked, broken,
// enabled, unknown (a section unreadable), basic only, and one of a tenant
// whose sign-in failed.
func fleetEnvs() []env {
	return []env{
		{tenant: contosoID, url: "https://contoso.crm.dynamics.com", name: "Contoso Production", exp: finding.ExperienceEnhanced},
		{tenant: contosoID, url: "https://contoso-dev.crm4.dynamics.com/", name: "Contoso Dev", exp: finding.ExperienceEnhanced,
			status: map[string]finding.Status{"TL-CONSENT-001": finding.StatusFail, "TL-SP-005": finding.StatusWarn}},
		{tenant: contosoID, url: "https://contoso-sales.crm.dynamics.com", exp: finding.ExperienceEnhanced, on: finding.SwitchOn,
			status: map[string]finding.Status{"TL-SP-002": finding.StatusFail}},
		{tenant: contosoID, url: "https://contoso-hr.crm.dynamics.com", exp: finding.ExperienceEnhanced, on: finding.SwitchOn,
			status: map[string]finding.Status{"TL-MAN-001": finding.StatusWaived}},
		{tenant: contosoID, url: "https://contoso-ops.crm.dynamics.com", exp: finding.ExperienceBasic,
			status: map[string]finding.Status{"TL-ROLE-001": finding.StatusError, "TL-LIC-001": finding.StatusError}},
		{tenant: fabrikamID, url: "https://fabrikam.crm.dynamics.com", exp: finding.ExperienceBasic, tables: []string{"account", "contact", "new_project"},
			status: map[string]finding.Status{"TL-ENT-001": finding.StatusFail}},
		{tenant: "5a0e9c7d-1b2f-4c3e-8d4a-6f7b8c9d0e1f", url: "https://northwind.crm.dynamics.com", exp: finding.ExperienceEnhanced, signIn: true},
	}
}

// fleetReport is the fixture report of every kind of environment.
func fleetReport() *finding.Report {
	r := newReport(fleetEnvs()...)
	// A tenant whose environments could not be discovered: not scanned.
	r.SignInErrors = append(r.SignInErrors, finding.SignInError{
		Tenant: undiscoveredID, Method: "client-secret", Discovery: "bap", HTTPStatus: 403,
		Error: "list environments: 403 Forbidden", Fix: "Register the application as a management app", Docs: "docs/configuration.md#environment-discovery",
	})
	return r
}

// undiscoveredID is the tenant of fleetReport whose discovery failed.
const undiscoveredID = "5e6f7a8b-0000-4000-8000-00000000d15c"

// largeFleet is a report of n environments, perTenant to a tenant, with a
// spread of verdicts, as the serve benchmark's fleet.
func largeFleet(n, perTenant int) *finding.Report {
	envs := make([]env, n)
	for i := range envs {
		e := env{
			tenant: fmt.Sprintf("%08x-0000-4000-8000-%012x", i/perTenant, i/perTenant),
			url:    fmt.Sprintf("https://org%05d.crm%d.dynamics.com", i, i%5),
			exp:    finding.ExperienceEnhanced,
		}
		switch i % 7 {
		case 1:
			e.status = map[string]finding.Status{"TL-CONSENT-001": finding.StatusFail}
		case 2:
			e.on = finding.SwitchOn
			e.status = map[string]finding.Status{"TL-SP-002": finding.StatusFail}
		case 3:
			e.on = finding.SwitchOn
		case 4:
			e.status = map[string]finding.Status{"TL-ENT-001": finding.StatusError}
		case 5:
			e.exp = finding.ExperienceBasic
		}
		envs[i] = e
	}
	return newReport(envs...)
}
