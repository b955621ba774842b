package report

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/teamslink/teamslink/internal/finding"
)

// Fixed clock and ids so golden files are stable.
var (
	fixedNow      = time.Date(2026, 11, 2, 9, 20, 0, 0, time.UTC)
	fixedSnapshot = time.Date(2026, 11, 2, 7, 5, 0, 0, time.UTC)
)

const (
	contosoID  = "3f2b8c1e-6d4a-4b7e-9a15-2c8d0e7f4a61"
	fabrikamID = "8d1e4c2a-5b7f-4e3d-9c61-0a2f7b9e3d58"
	docsSP     = "https://learn.microsoft.com/dynamics365/teams-integration/teams-troubleshoot"
	docsEnable = "https://learn.microsoft.com/dynamics365/sales/teams-integration/enable-record-linking"
	err800503  = "800503ca"
)

var both = []finding.Experience{finding.ExperienceBasic, finding.ExperienceEnhanced}
var enhancedOnly = []finding.Experience{finding.ExperienceEnhanced}

// rule is the catalogue part of a finding, shared by every fixture.
type rule struct {
	id, title string
	severity  finding.Severity
	exp       []finding.Experience
	errCode   string
	fix       *finding.Fix
	remedy    string
	docs      string
}

// scopes are the fixture rules' scopes; a rule not listed is per environment.
var scopes = map[string]finding.Scope{
	"TL-LIC-001": finding.ScopeTenant, "TL-LIC-002": finding.ScopeTenant, "TL-ROLE-002": finding.ScopeTenant,
	"TL-CONSENT-001": finding.ScopeTenant, "TL-SP-005": finding.ScopeTenant, "TL-MAN-001": finding.ScopeTenant,
	"TL-ENT-001": finding.ScopeTable, "TL-ENT-002": finding.ScopeTable,
}

var rules = map[string]rule{
	"TL-LIC-001": {id: "TL-LIC-001", title: "A Dynamics 365 customer engagement app licence exists in the tenant", severity: finding.SeverityHigh, exp: both,
		remedy: "Assign a Dynamics 365 customer engagement app licence in the Microsoft 365 admin center.", docs: docsEnable},
	"TL-LIC-002": {id: "TL-LIC-002", title: "A Microsoft Teams licence (TEAMS1) is provisioned", severity: finding.SeverityHigh, exp: both,
		remedy: "Assign a licence that includes the TEAMS1 service plan.", docs: docsEnable},
	"TL-ROLE-001": {id: "TL-ROLE-001", title: "The caller is System Administrator in the environment", severity: finding.SeverityHigh, exp: both,
		remedy: "Assign the System Administrator security role to the account that enables the feature.", docs: docsEnable},
	"TL-ROLE-002": {id: "TL-ROLE-002", title: "The caller is a Global Administrator", severity: finding.SeverityMedium, exp: enhancedOnly,
		remedy: "Have a Global Administrator turn on the Enhanced experience.", docs: docsEnable},
	"TL-CONSENT-001": {id: "TL-CONSENT-001", title: "Admin consent for the collaboration app", severity: finding.SeverityCritical, exp: enhancedOnly,
		errCode: "The admin has not consented to use user sync feature, you can add them manually.",
		fix:     &finding.Fix{Action: "admin-consent-url", Description: "Print the tenant-wide admin consent URL for the collaboration app."},
		remedy:  "A Global Administrator grants tenant-wide consent with Group.ReadWrite.All and User.Read.All.", docs: docsEnable},
	"TL-SP-002": {id: "TL-SP-002", title: "SharePoint integration not configured ⇒ no active SharePoint sites", severity: finding.SeverityCritical, exp: both,
		errCode: err800503, fix: &finding.Fix{Action: "deactivate-sites", Description: "Deactivate the active SharePoint site records."},
		remedy: "Deactivate the SharePoint site records, or finish configuring SharePoint integration.", docs: docsSP},
	"TL-SP-003": {id: "TL-SP-003", title: "SharePoint integration not configured ⇒ no absolute-URL document locations", severity: finding.SeverityCritical, exp: both,
		errCode: err800503, fix: &finding.Fix{Action: "delete-document-locations", Description: "Delete the absolute-URL document locations, keeping a backup."},
		remedy: "Delete the document locations created with absolute URLs, or configure SharePoint integration first.", docs: docsSP},
	"TL-SP-005": {id: "TL-SP-005", title: "SharePoint unmanaged-device access allows server-to-server calls", severity: finding.SeverityMedium, exp: both,
		remedy: "Allow full access from unmanaged devices, or accept web-only access for users.", docs: docsSP},
	"TL-ENT-001": {id: "TL-ENT-001", title: "Document management is enabled on the table", severity: finding.SeverityHigh, exp: both,
		errCode: "This record isn't connected to Dynamics 365. Repin the tab and try again.",
		fix:     &finding.Fix{Action: "enable-document-management", Description: "Set IsDocumentManagementEnabled on the table."},
		remedy:  "Enable document management for the table in Settings > Document management.", docs: docsEnable},
	"TL-ENT-002": {id: "TL-ENT-002", title: "Teams document status is enabled on custom tables", severity: finding.SeverityMedium, exp: both,
		fix:    &finding.Fix{Action: "set-teams-document-status", Description: "Call msdyn_SetTeamsDocumentStatus for the table."},
		remedy: "Call the msdyn_SetTeamsDocumentStatus action for the table.", docs: docsEnable},
	"TL-MAN-001": {id: "TL-MAN-001", title: "Teams allows external apps (check by hand)", severity: finding.SeverityMedium, exp: both,
		remedy: "In the Microsoft 365 admin center open Settings > Services & add-ins > Microsoft Teams and check that external apps are allowed.", docs: docsSP},
	"TL-ENV-002": {id: "TL-ENV-002", title: "Enhanced collaboration is enabled", severity: finding.SeverityInfo, exp: enhancedOnly,
		fix:    &finding.Fix{Action: "enable-enhanced", Description: "Turn on the Enhanced experience, only after consent."},
		remedy: "Turn on the Enhanced collaboration experience in the environment settings.", docs: docsEnable},
}

// env is the target of a fixture's findings.
type env struct {
	tenant, tenantName, url, name string
	exp                           finding.Experience
	// on says whether the experiences are turned on; "" is off.
	on finding.Switch
}

func (e env) finding(id, table string, st finding.Status, msg string, ev map[string]any) finding.Finding {
	r, ok := rules[id]
	if !ok {
		panic(fmt.Sprintf("fixture: no rule %s", id))
	}
	f := finding.Finding{
		Key:         finding.Key{Tenant: e.tenant, Environment: e.url, Rule: id, Table: table},
		Scope:       cmp.Or(scopes[id], finding.ScopeEnvironment),
		Title:       r.title,
		Severity:    r.severity,
		Status:      st,
		Message:     msg,
		Evidence:    ev,
		ErrorCode:   r.errCode,
		Docs:        r.docs,
		Experiences: r.exp,
	}
	// The advice fits the status, as the engine attaches it.
	switch st {
	case finding.StatusFail, finding.StatusWarn, finding.StatusWaived:
		f.Remediation, f.Fix = r.remedy, r.fix
	case finding.StatusManual:
		f.Remediation = r.remedy
	}
	return f
}

// unreadable is an error finding's access to its section.
func unreadable(section, source string, status int, permission, advice string) *finding.Access {
	return &finding.Access{Section: section, Source: source, HTTPStatus: status, Permission: permission, Advice: advice}
}

// environment assembles the findings and decides the verdicts the way the
// engine does: every experience the run assessed, NOT_ASSESSED for the rest.
func (e env) environment(fs ...finding.Finding) finding.Environment {
	out := finding.Environment{
		Tenant: e.tenant, TenantName: e.tenantName, URL: e.url, Name: e.name,
		Experience: e.exp, Findings: fs,
	}
	on := e.on
	if on == "" {
		on = finding.SwitchOff
	}
	for _, x := range finding.Experiences {
		if e.exp.Includes(x) {
			out.Verdicts = append(out.Verdicts, finding.Decide(x, on, fs))
		}
	}
	return out
}

func newReport(envs ...finding.Environment) *finding.Report {
	r := &finding.Report{
		SchemaVersion: finding.ReportSchemaVersion,
		Tool:          finding.Tool{Name: "teamslink", Version: "0.1.0"},
		GeneratedAt:   fixedNow,
		SnapshotAt:    fixedSnapshot,
		Profile:       "preflight",
		Environments:  envs,
	}
	r.Summary = r.Summarize()
	r.Rules = catalogue(envs)
	return r
}

// catalogue is the report's catalogue: the entries of the fixture rules its
// environments' findings name, sorted by id, as the engine carries them.
func catalogue(envs []finding.Environment) []finding.RuleInfo {
	ids := map[string]bool{}
	for _, e := range envs {
		for _, f := range e.Findings {
			ids[f.Rule] = true
		}
	}
	var out []finding.RuleInfo
	for _, id := range slices.Sorted(maps.Keys(ids)) {
		r, ok := rules[id]
		if !ok {
			continue // a rule no catalogue has, as a --policy-dir rule the report was rendered without
		}
		out = append(out, finding.RuleInfo{
			ID: r.id, Title: r.title, Description: r.title + ".", Severity: r.severity,
			Scope: cmp.Or(scopes[id], finding.ScopeEnvironment), Experiences: r.exp, ErrorCode: r.errCode,
			Docs: r.docs, Remediation: r.remedy, Fix: r.fix, Builtin: true,
		})
	}
	return out
}

// declared places each environment on its own line of tenants.yaml, as a
// scan with --config does.
func declared(envs ...finding.Environment) []finding.Environment {
	for i := range envs {
		envs[i].DeclaredAt = &finding.SourceLine{File: "tenants.yaml", Line: 8 + 6*i}
	}
	return envs
}

// fleetReport is every kind of environment in one report, declared in
// tenants.yaml, with a waiver that expired and one that matched nothing.
func fleetReport() *finding.Report {
	r := newReport(declared(readyEnv(), blockedEnv(), unknownEnv(), basicEnv(), enabledEnv(), brokenEnv())...)
	r.Waivers = []finding.WaiverNotice{
		{Problem: finding.WaiverExpired, Rule: "TL-SP-005", Tenant: contosoID, Reason: "Web-only access accepted for the pilot", Owner: "sec@contoso.example",
			Expires: "2026-10-31", Source: "tenants.yaml:44", Findings: 1,
			Message: "waiver of TL-SP-005 expired on 2026-10-31: the findings it covered count again; fix them, or renew the waiver with a new expiry"},
		{Problem: finding.WaiverUnmatched, Rule: "TL-ENT-001", Environment: "https://contoso-old.crm.dynamics.com", Table: "new_project",
			Reason: "Retired table", Owner: "crm@contoso.example", Source: "tenants.yaml:50",
			Message: "waiver of TL-ENT-001 matched no finding that needs one: check its rule, tenant, environment and table, or remove it if the problem is fixed"},
	}
	return r
}

var (
	contosoSales = env{tenant: contosoID, tenantName: "Contoso", url: "https://contoso.crm.dynamics.com", name: "Contoso Sales", exp: finding.ExperienceEnhanced}
	fabrikamProd = env{tenant: fabrikamID, tenantName: "Fabrikam", url: "https://fabrikam.crm4.dynamics.com", name: "Fabrikam Production", exp: finding.ExperienceEnhanced}
	fabrikamTest = env{tenant: fabrikamID, tenantName: "Fabrikam", url: "https://fabrikam-test.crm4.dynamics.com", exp: finding.ExperienceEnhanced}
	contosoDev   = env{tenant: contosoID, url: "https://contoso-dev.crm.dynamics.com", name: "Contoso Dev", exp: finding.ExperienceBasic}
	contosoProd  = env{tenant: contosoID, tenantName: "Contoso", url: "https://contoso-prod.crm.dynamics.com", name: "Contoso Production", exp: finding.ExperienceEnhanced, on: finding.SwitchOn}
)

// enabledEnv: both experiences are turned on and every prerequisite holds.
func enabledEnv() finding.Environment {
	e := contosoProd
	on := func(column string) map[string]any { return map[string]any{"column": column, "value": true} }
	return e.environment(
		e.finding("TL-LIC-001", "", finding.StatusPass, "The tenant has an enabled Dynamics 365 customer engagement licence.", nil),
		e.finding("TL-CONSENT-001", "", finding.StatusPass, "Tenant-wide consent covers Group.ReadWrite.All and User.Read.All.", nil),
		e.finding("TL-ENT-001", "account", finding.StatusPass, "Document management is enabled on account.", nil),
		e.finding("TL-ENV-002", "", finding.StatusPass, "Enhanced Teams collaboration is turned on in the environment.", on("ismsteamscollaborationenabled")),
	)
}

// brokenEnv: both experiences are on, but consent was revoked (Enhanced)
// and a target table lost document management (both).
func brokenEnv() finding.Environment {
	e := contosoProd
	e.url, e.name = "https://contoso-emea.crm4.dynamics.com", "Contoso EMEA"
	on := map[string]any{"column": "ismsteamscollaborationenabled", "value": true}
	return e.environment(
		e.finding("TL-CONSENT-001", "", finding.StatusFail, "No AllPrincipals grant exists for the collaboration app: the admin consent was revoked.",
			map[string]any{"matchedBy": "appId", "grants": []any{}}),
		e.finding("TL-ENT-001", "contact", finding.StatusFail, "Document management is not enabled on contact.",
			map[string]any{"table": "contact", "isDocumentManagementEnabled": false}),
		e.finding("TL-ENT-001", "account", finding.StatusPass, "Document management is enabled on account.", nil),
		e.finding("TL-ENV-002", "", finding.StatusPass, "Enhanced Teams collaboration is turned on in the environment.", on),
	)
}

// readyEnv: every prerequisite of both experiences holds.
func readyEnv() finding.Environment {
	e := contosoSales
	return e.environment(
		e.finding("TL-LIC-001", "", finding.StatusPass, "The tenant has an enabled Dynamics 365 customer engagement licence.",
			map[string]any{"skuPartNumber": "DYN365_ENTERPRISE_SALES", "servicePlan": "DYN365_ENTERPRISE_SALES"}),
		e.finding("TL-LIC-002", "", finding.StatusPass, "TEAMS1 is provisioned in SPE_E3.", map[string]any{"skuPartNumber": "SPE_E3"}),
		e.finding("TL-ROLE-001", "", finding.StatusPass, "The caller holds System Administrator directly.", nil),
		e.finding("TL-ROLE-002", "", finding.StatusPass, "The caller is a Global Administrator.", nil),
		e.finding("TL-CONSENT-001", "", finding.StatusPass, "Tenant-wide consent covers Group.ReadWrite.All and User.Read.All.", nil),
		e.finding("TL-SP-002", "", finding.StatusSkip, "SharePoint integration is configured; active sites are expected.", nil),
		e.finding("TL-ENT-001", "account", finding.StatusPass, "Document management is enabled on account.", nil),
		e.finding("TL-ENT-001", "contact", finding.StatusPass, "Document management is enabled on contact.", nil),
		e.finding("TL-ENT-002", "account", finding.StatusSkip, "account is an out-of-box table; enabled with the feature.", nil),
		e.finding("TL-ENV-002", "", finding.StatusSkip, "Not turned on yet; informational under the preflight profile.", nil),
	)
}

// blockedEnv: several failures with evidence, sampled records beyond the bound,
// a warning and a waived finding.
func blockedEnv() finding.Environment {
	e := fabrikamProd
	sites := make([]any, 0, 7)
	for i := 1; i <= 7; i++ {
		sites = append(sites, map[string]any{
			"sharepointsiteid": fmt.Sprintf("5c0d%04d-1b2a-4c3d-8e4f-a1b2c3d4e5f6", i),
			"name":             fmt.Sprintf("Sales site %d", i),
			"absoluteurl":      fmt.Sprintf("https://fabrikam.sharepoint.com/sites/sales%d", i),
			"statecode":        0,
			"validationstatus": 4,
		})
	}
	locations := make([]any, 0, 6)
	for i := 1; i <= 6; i++ {
		locations = append(locations, map[string]any{
			"sharepointdocumentlocationid": fmt.Sprintf("9a7b%04d-3c2d-4e1f-a0b9-c8d7e6f5a4b3", i),
			"absoluteurl":                  fmt.Sprintf("https://fabrikam.sharepoint.com/sites/sales/account/Account %d", i),
			"_regardingobjectid_value":     fmt.Sprintf("1e2d%04d-5c4b-4a39-8271-605f4e3d2c1b", i),
		})
	}
	integration := map[string]any{
		"configured": false,
		"source":     "derived",
		"reasoning": map[string]any{
			"sharepointdeploymenttype": nil,
			"defaultSite":              nil,
		},
	}
	waived := e.finding("TL-ROLE-002", "", finding.StatusWaived, "The caller is not a Global Administrator.",
		map[string]any{"directoryRoles": []any{"Dynamics 365 Administrator"}})
	waived.Waiver = &finding.Waiver{Reason: "A Global Administrator enables Enhanced in the change window", Owner: "it-ops@fabrikam.example",
		Expires: "2026-12-31", Source: "tenants.yaml:31", Was: finding.StatusFail}
	return e.environment(
		e.finding("TL-LIC-001", "", finding.StatusPass, "The tenant has an enabled Dynamics 365 customer engagement licence.", nil),
		e.finding("TL-SP-002", "", finding.StatusFail,
			"7 SharePoint sites are active while SharePoint integration is not configured; enabling record linking will fail with 800503ca.",
			map[string]any{"activeCount": 7, "countLimitExceeded": false, "integration": integration, "sample": sites}),
		e.finding("TL-SP-003", "", finding.StatusFail,
			"5000+ document locations were created with absolute URLs while SharePoint integration is not configured.",
			map[string]any{"absoluteUrlCount": "5000+", "countLimitExceeded": true, "integration": integration, "sample": locations}),
		e.finding("TL-CONSENT-001", "", finding.StatusFail,
			"The AllPrincipals grant for the collaboration app lacks User.Read.All.",
			map[string]any{
				"matchedBy":     "appId",
				"sp":            map[string]any{"id": "b7d1e0a4-2f6c-4e19-8c3a-5e9f1d2b7a40", "appId": "a8adde6c-aeb4-4fd6-9d8f-c2dfdecac60a"},
				"grant":         map[string]any{"id": "pNHRt2wvGU6MOl6fHSt6QBGe4mw9i39KteINTIqfPhc", "consentType": "AllPrincipals", "scope": "Group.ReadWrite.All"},
				"missingScopes": []any{"User.Read.All"},
			}),
		e.finding("TL-ENT-001", "new_project", finding.StatusFail, "Document management is not enabled on new_project.",
			map[string]any{"table": "new_project", "isDocumentManagementEnabled": false, "isCustomEntity": true}),
		e.finding("TL-ENT-001", "account", finding.StatusPass, "Document management is enabled on account.", nil),
		e.finding("TL-SP-005", "", finding.StatusWarn,
			"Unmanaged devices get limited, web-only access to SharePoint; users on them cannot download files.",
			map[string]any{"conditionalAccessPolicy": "AllowLimitedAccess"}),
		waived,
		e.finding("TL-MAN-001", "", finding.StatusManual, "No API shows whether Teams allows external apps; check it by hand.", nil),
		e.finding("TL-ENV-002", "", finding.StatusSkip, "Not turned on yet; informational under the preflight profile.", nil),
	)
}

// unknownEnv: sections that could not be read, and a policy that broke the contract.
func unknownEnv() finding.Environment {
	e := fabrikamTest
	internal := e.finding("TL-ENT-002", "contact", finding.StatusError,
		"Policy teamslink.entities returned 2 results for TL-ENT-002 on contact; expected exactly one.",
		map[string]any{"results": 2})
	internal.Internal = true
	licences := e.finding("TL-LIC-001", "", finding.StatusError,
		"tenant.licenses could not be read: Insufficient privileges to complete the operation.",
		map[string]any{"section": "tenant.licenses", "sectionStatus": "error", "error": "Authorization_RequestDenied: Insufficient privileges to complete the operation.", "httpStatus": 403})
	licences.Access = unreadable("tenant.licenses", "GET https://graph.microsoft.com/v1.0/subscribedSkus", 403,
		"the Microsoft Graph permission Organization.Read.All",
		"The identity teamslink signs in as may not read this (HTTP 403): grant it the Microsoft Graph permission Organization.Read.All, then scan again.")
	sites := e.finding("TL-SP-002", "", finding.StatusError,
		"environment.sharePointSites could not be read: the service was unavailable after 4 tries.",
		map[string]any{"section": "environment.sharePointSites", "sectionStatus": "error", "error": "503 Service Unavailable (Retry-After 30s, 4 tries)", "httpStatus": 503})
	sites.Access = unreadable("environment.sharePointSites", "GET https://fabrikam-test.crm4.dynamics.com/api/data/v9.2/sharepointsites", 503,
		"a Dataverse security role with read on SharePoint Site",
		"The service kept throttling or was unavailable (HTTP 503) beyond teamslink's retries: scan again later. The request needs a Dataverse security role with read on SharePoint Site.")
	return e.environment(
		licences,
		sites,
		internal,
		e.finding("TL-ROLE-001", "", finding.StatusPass, "The caller holds System Administrator through team Admins.", nil),
		e.finding("TL-SP-005", "", finding.StatusWarn, "Access from unmanaged devices is governed by an authentication context; teamslink cannot tell whether server-to-server calls pass.",
			map[string]any{"conditionalAccessPolicy": "AuthenticationContext"}),
	)
}

// basicEnv: only Basic was asked for, so Enhanced is NOT_ASSESSED and its rules skip.
func basicEnv() finding.Environment {
	e := contosoDev
	return e.environment(
		e.finding("TL-LIC-001", "", finding.StatusPass, "The tenant has an enabled Dynamics 365 customer engagement licence.", nil),
		e.finding("TL-ROLE-002", "", finding.StatusSkip, "Enhanced collaboration was not asked for.", nil),
		e.finding("TL-CONSENT-001", "", finding.StatusSkip, "Enhanced collaboration was not asked for.", nil),
		e.finding("TL-ENT-001", "account", finding.StatusPass, "Document management is enabled on account.", nil),
	)
}

// signInReport: the tenant's credential could not get a token, so every
// finding is an error that points to the one sign-in error.
func signInReport() *finding.Report {
	e := fabrikamProd
	pointer := func(id, section, permission string) finding.Finding {
		f := e.finding(id, "", finding.StatusError, "cannot assess: section "+section+" was not read, because the sign-in to tenant Fabrikam ("+fabrikamID+") failed",
			map[string]any{"section": section, "sectionStatus": "error", "error": "authenticate: ClientSecretCredential authentication failed", "httpStatus": nil})
		f.Access = &finding.Access{Section: section, Permission: permission, SignIn: true,
			Source: "GET https://graph.microsoft.com/v1.0/subscribedSkus",
			Advice: "Fix the sign-in first: the tenant's sign-in error says why, once, with the fix. Then this request needs " + permission + "."}
		return f
	}
	envFindings := []finding.Finding{
		pointer("TL-LIC-001", "tenant.licenses", "the Microsoft Graph permission Organization.Read.All"),
		pointer("TL-ROLE-001", "environment.caller", "a Dataverse security role with read on User, Security Role and Team"),
	}
	r := newReport(e.environment(envFindings...))
	r.SignInErrors = []finding.SignInError{{
		Tenant: fabrikamID, TenantName: "Fabrikam", Method: "client-secret", ClientID: "5d2f8a61-3c4e-4b7a-9e1d-8f6a2c4b7e93",
		Error: "ClientSecretCredential authentication failed (401: 401 Unauthorized): AADSTS7000215: Invalid client secret provided.",
		Fix:   "Check the client secret: the variable or file the tenant's auth.secretEnv or auth.secretFile names must hold the secret's value, not its id.",
		Docs:  "docs/configuration.md#authentication-methods",
	}}
	return r
}

// fixtures are the reports every format is golden-tested with.
func fixtures() []struct {
	name   string
	report *finding.Report
} {
	return []struct {
		name   string
		report *finding.Report
	}{
		{"ready", newReport(readyEnv())},
		{"blocked", newReport(blockedEnv())},
		{"unknown", newReport(unknownEnv())},
		{"basic-only", newReport(basicEnv())},
		{"enabled", newReport(enabledEnv())},
		{"broken", newReport(brokenEnv())},
		{"signin", signInReport()},
		{"fleet", fleetReport()},
		{"empty", newReport()},
	}
}
