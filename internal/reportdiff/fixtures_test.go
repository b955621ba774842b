package reportdiff

import (
	"time"

	"github.com/teamslink/teamslink/internal/finding"
)

// Fixed times and ids, so golden files are stable.
var (
	oldAt = time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)
	newAt = time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
)

const (
	contoso  = "3f2b8c1e-6d4a-4b7e-9a15-2c8d0e7f4a61"
	fabrikam = "8d1e4c2a-5b7f-4e3d-9c61-0a2f7b9e3d58"
)

// titles of the fixture rules.
var titles = map[string]string{
	"TL-CONSENT-001": "Admin consent for the collaboration app",
	"TL-SP-001":      "SharePoint integration not configured ⇒ OneDrive disabled",
	"TL-SP-002":      "SharePoint integration not configured ⇒ no active SharePoint sites",
	"TL-ENT-001":     "Document management is enabled on the table",
	"TL-LIC-001":     "A Dynamics 365 customer engagement app licence exists in the tenant",
	"TL-ROLE-001":    "The caller is System Administrator in the environment",
	"TL-SP-005":      "SharePoint unmanaged-device access allows server-to-server calls",
}

var tenantRules = map[string]bool{"TL-CONSENT-001": true, "TL-LIC-001": true, "TL-SP-005": true}

// f is a finding of rule on table with status st.
func f(rule, table string, st finding.Status, msg string) finding.Finding {
	scope := finding.ScopeEnvironment
	switch {
	case tenantRules[rule]:
		scope = finding.ScopeTenant
	case table != "":
		scope = finding.ScopeTable
	}
	return finding.Finding{
		Key: finding.Key{Rule: rule, Table: table}, Scope: scope, Title: titles[rule], Severity: finding.SeverityHigh,
		Status: st, Message: msg, Experiences: finding.Experiences,
	}
}

// env is an environment with the given basic and enhanced states (""
// leaves an experience unassessed) and findings.
func env(tenant, tenantName, url, name string, basic, enhanced finding.Readiness, fs ...finding.Finding) finding.Environment {
	e := finding.Environment{Tenant: tenant, TenantName: tenantName, URL: url, Name: name, Experience: finding.ExperienceEnhanced}
	for i, r := range []finding.Readiness{basic, enhanced} {
		if r == "" {
			continue
		}
		v := finding.Verdict{Experience: finding.Experiences[i], Readiness: r}
		for _, x := range fs {
			switch x.Status {
			case finding.StatusFail:
				v.Blocking = append(v.Blocking, x.Rule)
			case finding.StatusError:
				v.Unknown = append(v.Unknown, x.Rule)
			}
		}
		e.Verdicts = append(e.Verdicts, v)
	}
	for i := range fs {
		fs[i].Tenant, fs[i].Environment = tenant, url
	}
	e.Findings = fs
	return e
}

func rep(at time.Time, envs ...finding.Environment) *finding.Report {
	return &finding.Report{
		SchemaVersion: finding.ReportSchemaVersion, Tool: finding.Tool{Name: "teamslink", Version: "0.1.0"},
		GeneratedAt: at, SnapshotAt: at.Add(-time.Hour), Profile: "preflight",
		SignInErrors: []finding.SignInError{}, Environments: envs,
	}
}

const (
	tailwindURL = "https://contoso.crm.dynamics.com"
	salesURL    = "https://contoso-sales.crm.dynamics.com"
	fabProdURL  = "https://fabrikam.crm4.dynamics.com"
	fabTestURL  = "https://fabrikam-test.crm4.dynamics.com"
	oldURL      = "https://contoso-old.crm.dynamics.com"
)

// fleetPair is an old and a new report of one fleet in which:
//   - Contoso (enabled): OneDrive was switched on, so both experiences
//     went ENABLED → BROKEN, and the tenant's consent was revoked;
//   - Contoso Sales (ready): the revoked consent blocks Enhanced, READY → BLOCKED;
//   - Fabrikam Production: the active sites were deactivated, BLOCKED → READY;
//   - Fabrikam Test: the licences can no longer be read, READY → UNKNOWN;
//   - Contoso Old was removed, Contoso Dev is new.
func fleetPair() (old, new *finding.Report) {
	old = rep(oldAt,
		env(contoso, "Contoso", tailwindURL, "Contoso", finding.Enabled, finding.Enabled,
			f("TL-CONSENT-001", "", finding.StatusPass, "Tenant-wide consent covers Group.ReadWrite.All and User.Read.All."),
			f("TL-SP-001", "", finding.StatusPass, "OneDrive is disabled."),
			f("TL-ENT-001", "account", finding.StatusPass, "Document management is enabled on account."),
		),
		env(contoso, "Contoso", salesURL, "Contoso Sales", finding.Ready, finding.Ready,
			f("TL-CONSENT-001", "", finding.StatusPass, "Tenant-wide consent covers Group.ReadWrite.All and User.Read.All."),
			f("TL-ENT-001", "account", finding.StatusPass, "Document management is enabled on account."),
		),
		env(contoso, "Contoso", oldURL, "Contoso Old", finding.Blocked, "",
			f("TL-ROLE-001", "", finding.StatusFail, "The caller is not System Administrator."),
		),
		env(fabrikam, "Fabrikam", fabProdURL, "Fabrikam Production", finding.Blocked, finding.Blocked,
			f("TL-SP-002", "", finding.StatusFail, "7 SharePoint sites are active while SharePoint integration is not configured."),
			f("TL-SP-005", "", finding.StatusWarn, "Unmanaged devices get limited, web-only access."),
		),
		env(fabrikam, "Fabrikam", fabTestURL, "", finding.Ready, finding.Ready,
			f("TL-LIC-001", "", finding.StatusPass, "The tenant has an enabled Dynamics 365 customer engagement licence."),
		),
	)
	new = rep(newAt,
		env(contoso, "Contoso", tailwindURL, "Contoso", finding.Broken, finding.Broken,
			f("TL-CONSENT-001", "", finding.StatusFail, "No AllPrincipals grant exists for the collaboration app: the admin consent was revoked."),
			f("TL-SP-001", "", finding.StatusFail, "OneDrive is enabled while SharePoint integration is not configured."),
			f("TL-ENT-001", "account", finding.StatusPass, "Document management is enabled on account."),
		),
		env(contoso, "Contoso", salesURL+"/", "Contoso Sales", finding.Ready, finding.Blocked,
			f("TL-CONSENT-001", "", finding.StatusFail, "No AllPrincipals grant exists for the collaboration app: the admin consent was revoked."),
			f("TL-ENT-001", "account", finding.StatusPass, "Document management is enabled on account."),
			f("TL-ENT-001", "contact", finding.StatusPass, "Document management is enabled on contact."),
		),
		env(contoso, "Contoso", "https://contoso-dev.crm.dynamics.com", "Contoso Dev", finding.Ready, "",
			f("TL-ROLE-001", "", finding.StatusPass, "The caller holds System Administrator."),
		),
		env(fabrikam, "Fabrikam", fabProdURL, "Fabrikam Production", finding.Ready, finding.Ready,
			f("TL-SP-002", "", finding.StatusPass, "No SharePoint site is active."),
			f("TL-SP-005", "", finding.StatusWaived, "Unmanaged devices get limited, web-only access."),
		),
		env(fabrikam, "Fabrikam", fabTestURL, "", finding.Unknown, finding.Unknown,
			f("TL-LIC-001", "", finding.StatusError, "tenant.licenses could not be read: Insufficient privileges to complete the operation."),
		),
	)
	return old, new
}

// samePair is a report compared with itself.
func samePair() (old, new *finding.Report) {
	o, _ := fleetPair()
	n, _ := fleetPair()
	n.GeneratedAt = newAt
	return o, n
}
