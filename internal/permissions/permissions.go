// Package permissions is the one table of what teamslink asks of Microsoft:
// every request the collectors, the discovery and the sign-in make (method
// and path, per service), the Microsoft Graph application and delegated
// permissions it needs (least privileged first), the Dataverse privilege or
// security role, the SharePoint role, the snapshot section it fills and the
// rules that read that section, per mode (scan, serve, remediate). The
// facts come from the project's Microsoft reference (microsoft-facts.md,
// fleet-and-ci-facts.md); what those do not state is labelled INFERENCE or
// NOT CONFIRMED. A test holds the table to the requests the collectors make
// against the emulator: a request the table does not list fails it.
package permissions

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// Service is the Microsoft service a request goes to.
type Service string

// The services, in the order the table lists them.
const (
	Login      Service = "login"      // Microsoft Entra ID's token endpoint
	Graph      Service = "graph"      // Microsoft Graph
	SharePoint Service = "sharepoint" // the SharePoint Online admin site
	Dataverse  Service = "dataverse"  // an environment's Dataverse Web API
	BAP        Service = "bap"        // the Power Platform admin API (discovery)
	GDS        Service = "gds"        // the Dataverse Global Discovery Service (discovery)
)

// Services lists every service, in table order.
var Services = []Service{Login, Graph, SharePoint, Dataverse, BAP, GDS}

// ServiceInfo says how teamslink reaches a service.
type ServiceInfo struct {
	Service Service `json:"service"`
	Title   string  `json:"title"`
	// Root is the service root the table's paths are relative to.
	Root string `json:"root"`
	// Token is the scope of the token teamslink asks for.
	Token string `json:"token"`
	// Note says what holds for every request of the service.
	Note string `json:"note,omitempty"`
}

// Info describes each service.
var Info = map[Service]ServiceInfo{
	Login: {Login, "Microsoft Entra ID (sign-in)", "https://<authority>/", "none: this is where tokens come from", ""},
	Graph: {Graph, "Microsoft Graph", "https://<graph>/v1.0/", "<graph-root>/.default",
		"Application permissions need admin consent; they reach the token as its roles claim, delegated ones as its scp claim."},
	SharePoint: {SharePoint, "SharePoint Online admin site", "https://<tenant>-admin.sharepoint.com/", "<sharePointAdminUrl>/.default", ""},
	Dataverse: {Dataverse, "Dataverse Web API (per environment)", "https://<org>.crm<N>.dynamics.com/api/data/v9.2/", "<environment-url>/.default",
		"Every request needs the identity to be a user of the environment (an application user for an app registration) with a security role. The System Administrator role, which TL-ROLE-001 asks of the caller anyway, carries every read (INFERENCE)."},
	BAP: {BAP, "Power Platform admin API (discover: bap)", "https://<bap>/", "the cloud's admin API scope (https://service.powerapps.com//.default)", ""},
	GDS: {GDS, "Global Discovery Service (discover: gds)", "https://<globaldisco>/api/discovery/v2.0/", "<gds-root>/.default", ""},
}

// Mode is how teamslink runs.
type Mode string

// The modes. Serve makes the requests of scan, on a schedule.
const (
	ModeScan      Mode = "scan"
	ModeServe     Mode = "serve"
	ModeRemediate Mode = "remediate"
)

// Modes lists the modes.
var Modes = []Mode{ModeScan, ModeServe, ModeRemediate}

// ParseMode returns the mode named s.
func ParseMode(s string) (Mode, error) {
	for _, m := range Modes {
		if string(m) == s {
			return m, nil
		}
	}
	return "", fmt.Errorf("unknown mode %q (valid: remediate, scan, serve)", s)
}

// Label says how sure a fact is, as the reference facts mark it.
type Label string

// The labels.
const (
	Confirmed    Label = "CONFIRMED"
	Inference    Label = "INFERENCE"
	NotConfirmed Label = "NOT CONFIRMED"
)

// Grant is one permission, privilege or role, with how sure the table is
// that it is what the request needs.
type Grant struct {
	Name  string `json:"name"`
	Label Label  `json:"label"`
}

// Request is one row of the table: a request and what it needs.
type Request struct {
	// ID names the row, stable, e.g. "graph.subscribedSkus".
	ID      string  `json:"id"`
	Service Service `json:"service"`
	Method  string  `json:"method"`
	// Path is the request's path and query below the service root, with
	// {placeholders}.
	Path string `json:"path"`
	// pattern matches the path and query of a request below the root.
	pattern *regexp.Regexp
	// Section is the snapshot section the answer fills; "" for requests
	// that fill none (sign-in, discovery, $batch envelopes, writes).
	Section string `json:"section,omitempty"`
	// Rules are the rules that read the section (or that a write fixes).
	Rules []string `json:"rules,omitempty"`
	// Application are the Microsoft Graph application permissions, any one
	// of which suffices, least privileged first.
	Application []Grant `json:"application,omitempty"`
	// Delegated are the Microsoft Graph delegated permissions, likewise.
	Delegated []Grant `json:"delegated,omitempty"`
	// Dataverse are what the request needs in Dataverse, all of them: the
	// privileges (or what the identity must be), then, when it is the last,
	// the System Administrator role as the alternative that carries them.
	Dataverse []Grant `json:"dataverse,omitempty"`
	// Role is a directory, SharePoint or Power Platform role, or the
	// registration the request needs.
	Role []Grant `json:"role,omitempty"`
	// Modes are the modes that make the request.
	Modes []Mode `json:"modes"`
	// When, if set, is the condition under which the request is made;
	// without it every run of its modes makes it.
	When string `json:"when,omitempty"`
	// Note explains the row.
	Note string `json:"note,omitempty"`
	// Facts names the reference the row comes from.
	Facts string `json:"facts"`
}

// Matches reports whether a request of service with method and path (and
// query, below the service root, escaped or not) is this row's.
func (r Request) Matches(service Service, method, path string) bool {
	return r.Service == service && strings.EqualFold(r.Method, method) && r.pattern.MatchString(path)
}

// In reports whether mode makes the request.
func (r Request) In(mode Mode) bool { return slices.Contains(r.Modes, mode) }

// Names are the names of grants.
func Names(gs []Grant) []string {
	out := make([]string, len(gs))
	for i, g := range gs {
		out[i] = g.Name
	}
	return out
}

var (
	scanModes      = []Mode{ModeScan, ModeServe, ModeRemediate}
	remediateModes = []Mode{ModeRemediate}
)

func c(name string) Grant  { return Grant{name, Confirmed} }
func i(name string) Grant  { return Grant{name, Inference} }
func nc(name string) Grant { return Grant{name, NotConfirmed} }

// systemAdministrator is the role that carries every Dataverse read
// teamslink makes (INFERENCE), and which TL-ROLE-001 asks of the caller.
var systemAdministrator = i("the System Administrator role")

// dv is the Dataverse need of a read: the privilege, then the role.
func dv(privileges ...Grant) []Grant { return append(privileges, systemAdministrator) }

// table is the one table. Rows of a service are tried in order, so a
// specific pattern comes before a general one.
var table = []Request{
	// Sign-in (azidentity).
	{ID: "login.instance", Service: Login, Method: "GET", Path: "common/discovery/instance?…", pattern: regexp.MustCompile(`^common/discovery/instance\b`),
		Modes: scanModes, When: "azidentity's instance discovery, unless disabled", Note: "Public metadata: no permission.", Facts: "microsoft-facts §11"},
	{ID: "login.openid", Service: Login, Method: "GET", Path: "{tenant}/v2.0/.well-known/openid-configuration", pattern: regexp.MustCompile(`^[^/]+/(v2\.0/)?\.well-known/openid-configuration$`),
		Modes: scanModes, Note: "Public metadata: no permission.", Facts: "microsoft-facts §11"},
	{ID: "login.token", Service: Login, Method: "POST", Path: "{tenant}/oauth2/v2.0/token", pattern: regexp.MustCompile(`^[^/]+/oauth2/v2\.0/token$`),
		Role:  []Grant{c("an app registration (or person, or managed identity) of the tenant with the credential tenants.yaml names")},
		Modes: scanModes, Note: "One token per resource: Graph, each environment, the SharePoint admin site, the discovery service. The permissions below are granted on the app registration; admin consent makes them the token's roles (application) or scp (delegated) claims.", Facts: "microsoft-facts §7, §11"},

	// Microsoft Graph.
	{ID: "graph.batch", Service: Graph, Method: "POST", Path: "$batch", pattern: regexp.MustCompile(`^\$batch$`),
		Modes: scanModes, Note: "The JSON $batch envelope (at most 20 requests): no permission of its own; each inner request needs its own.", Facts: "microsoft-facts §9"},
	{ID: "graph.subscribedSkus", Service: Graph, Method: "GET", Path: "subscribedSkus?$select=…", pattern: regexp.MustCompile(`^subscribedSkus\?`),
		Section: "tenant.licenses", Rules: []string{"TL-LIC-001", "TL-LIC-002"},
		Application: []Grant{c("Organization.Read.All"), c("Directory.Read.All")}, Delegated: []Grant{c("Organization.Read.All"), c("Directory.Read.All")},
		Modes: scanModes, Facts: "microsoft-facts §9 subscribedSkus"},
	{ID: "graph.collaborationApp", Service: Graph, Method: "GET", Path: "servicePrincipals(appId='a8adde6c-aeb4-4fd6-9d8f-c2dfdecac60a')?$select=…", pattern: regexp.MustCompile(`^servicePrincipals\(appId='a8adde6c-aeb4-4fd6-9d8f-c2dfdecac60a'\)`),
		Section: "tenant.consent", Rules: []string{"TL-CONSENT-001"},
		Application: []Grant{i("Application.Read.All"), i("Directory.Read.All")}, Delegated: []Grant{c("Application.Read.All"), c("Directory.Read.All")},
		Modes: scanModes, Note: "The collaboration app by its community-sourced appId (NOT CONFIRMED officially). The facts name the delegated least privilege; the application one is taken to be the same (INFERENCE).", Facts: "microsoft-facts §9 service principal lookup"},
	{ID: "graph.collaborationAppSearch", Service: Graph, Method: "GET", Path: "servicePrincipals?$filter=startswith(displayName,'Dynamics 365 Microsoft Teams')&$select=…", pattern: regexp.MustCompile(`^servicePrincipals\?\$filter=startswith`),
		Section: "tenant.consent", Rules: []string{"TL-CONSENT-001"},
		Application: []Grant{i("Application.Read.All"), i("Directory.Read.All")}, Delegated: []Grant{c("Application.Read.All"), c("Directory.Read.All")},
		Modes: scanModes, Note: "The collaboration app by display name, when the appId finds nothing.", Facts: "microsoft-facts §9"},
	{ID: "graph.graphServicePrincipal", Service: Graph, Method: "GET", Path: "servicePrincipals(appId='00000003-0000-0000-c000-000000000000')?$select=id,appId", pattern: regexp.MustCompile(`^servicePrincipals\(appId='00000003-0000-0000-c000-000000000000'\)`),
		Section: "tenant.consent", Rules: []string{"TL-CONSENT-001"},
		Application: []Grant{i("Application.Read.All"), i("Directory.Read.All")}, Delegated: []Grant{c("Application.Read.All"), c("Directory.Read.All")},
		Modes: scanModes, Note: "Microsoft Graph's own service principal: the resource the grants must target.", Facts: "microsoft-facts §9"},
	{ID: "graph.me", Service: Graph, Method: "GET", Path: "me?$select=id,userPrincipalName", pattern: regexp.MustCompile(`^me\?`),
		Section: "tenant.caller", Rules: []string{"TL-ROLE-002"},
		Delegated: []Grant{i("User.Read")},
		Modes:     scanModes, Note: "For an application token Graph answers 400 (\"only valid with delegated authentication flow\"), which tells teamslink the caller is an application: no application permission is needed.", Facts: "microsoft-facts §9 telling a user caller from an application"},
	{ID: "graph.memberOf", Service: Graph, Method: "GET", Path: "me/memberOf/microsoft.graph.directoryRole?$select=roleTemplateId,displayName", pattern: regexp.MustCompile(`^me/memberOf/microsoft\.graph\.directoryRole\?`),
		Section: "tenant.caller", Rules: []string{"TL-ROLE-002"},
		Delegated: []Grant{i("Directory.Read.All")},
		Modes:     scanModes, Note: "The signed-in person's activated directory roles; an application token gets 400, as for /me.", Facts: "microsoft-facts §9 Global Administrator check"},
	{ID: "graph.groupSettings", Service: Graph, Method: "GET", Path: "groupSettings", pattern: regexp.MustCompile(`^groupSettings$`),
		Section: "tenant.groupSettings", Rules: []string{"TL-GRP-001"},
		Application: []Grant{c("Directory.Read.All")}, Delegated: []Grant{c("Directory.Read.All")},
		Modes: scanModes, Facts: "fleet-and-ci-facts §2a"},
	{ID: "graph.callerServicePrincipal", Service: Graph, Method: "GET", Path: "servicePrincipals(appId='{clientId}')?$select=…", pattern: regexp.MustCompile(`^servicePrincipals\(appId='[^']*'\)`),
		Section: "tenant.caller", Rules: []string{"TL-ROLE-002"},
		Application: []Grant{i("Application.Read.All"), i("Directory.Read.All")}, Delegated: []Grant{c("Application.Read.All"), c("Directory.Read.All")},
		Modes: scanModes, When: "tenants.yaml gives the tenant a clientId", Note: "The scanning application's own service principal, whose object id its role assignments are listed by.", Facts: "microsoft-facts §9"},
	{ID: "graph.oauth2PermissionGrants", Service: Graph, Method: "GET", Path: "oauth2PermissionGrants?$filter=clientId eq '{appObjectId}'", pattern: regexp.MustCompile(`^oauth2PermissionGrants\?`),
		Section: "tenant.consent", Rules: []string{"TL-CONSENT-001"},
		Application: []Grant{c("Directory.Read.All")}, Delegated: []Grant{c("Directory.Read.All")},
		Modes: scanModes, When: "the tenant has the collaboration app", Facts: "microsoft-facts §9 oauth2PermissionGrants"},
	{ID: "graph.roleAssignments", Service: Graph, Method: "GET", Path: "roleManagement/directory/roleAssignments?$filter=principalId eq '{spObjectId}'", pattern: regexp.MustCompile(`^roleManagement/directory/roleAssignments\?`),
		Section: "tenant.caller", Rules: []string{"TL-ROLE-002"},
		Application: []Grant{c("RoleManagement.Read.Directory")}, Delegated: []Grant{c("RoleManagement.Read.Directory")},
		Modes: scanModes, When: "the caller is an application", Facts: "microsoft-facts §9 Global Administrator check"},
	{ID: "graph.rootSite", Service: Graph, Method: "GET", Path: "sites/root?$select=webUrl,siteCollection", pattern: regexp.MustCompile(`^sites/root\?`),
		Section: "tenant.sharePoint", Rules: []string{"TL-SP-005"},
		Application: []Grant{i("Sites.Read.All")}, Delegated: []Grant{i("Sites.Read.All")},
		Modes: scanModes, When: "tenants.yaml gives no sharePointAdminUrl", Note: "Finds the SharePoint admin site from the root site; sent inside the first Graph $batch. Set sharePointAdminUrl to need no Sites.Read.All. The permission is from Graph's site-get reference, not the reference facts.", Facts: "docs/configuration.md; Graph site-get"},

	// SharePoint Online admin.
	{ID: "sharepoint.tenant", Service: SharePoint, Method: "GET", Path: "_api/SPO.Tenant", pattern: regexp.MustCompile(`^_api/SPO\.Tenant$`),
		Section: "tenant.sharePoint", Rules: []string{"TL-SP-005"},
		Role:  []Grant{nc("SharePoint Administrator"), nc("Global Administrator")},
		Modes: scanModes, Note: "No official REST reference gives the permission; which SharePoint application permission admits an app-only token here is NOT CONFIRMED.", Facts: "microsoft-facts §10"},

	// Dataverse: the first $batch, then the follow-up.
	{ID: "dataverse.batch", Service: Dataverse, Method: "POST", Path: "$batch", pattern: regexp.MustCompile(`^\$batch$`),
		Modes: scanModes, Note: "The multipart $batch envelope: no privilege of its own; each inner request needs its own.", Facts: "microsoft-facts §7 $batch"},
	{ID: "dataverse.whoAmI", Service: Dataverse, Method: "GET", Path: "WhoAmI", pattern: regexp.MustCompile(`^WhoAmI(\(\))?$`),
		Section: "environment.caller", Rules: []string{"TL-ROLE-001"},
		Dataverse: []Grant{i("a user of the environment (an application user for an app registration); no privilege is documented")},
		Modes:     scanModes, Facts: "microsoft-facts §7 WhoAmI"},
	{ID: "dataverse.organizations", Service: Dataverse, Method: "GET", Path: "organizations?$select=…", pattern: regexp.MustCompile(`^organizations\?`),
		Section: "environment.organization", Rules: []string{"TL-SP-001", "TL-SP-002", "TL-SP-003", "TL-SP-004", "TL-ENT-002", "TL-ENV-001", "TL-ENV-002"},
		Dataverse: dv(i("prvReadOrganization")),
		Modes:     scanModes, Note: "Privilege names follow prv + verb + SchemaName (CONFIRMED rule); the name itself is INFERENCE.", Facts: "microsoft-facts §1; fleet-and-ci-facts §2b"},
	{ID: "dataverse.sharepointsites", Service: Dataverse, Method: "GET", Path: "sharepointsites?$select=…&$filter=statecode eq 0&$orderby=isdefault desc&$count=true", pattern: regexp.MustCompile(`^sharepointsites\?`),
		Section: "environment.sharePointSites", Rules: []string{"TL-SP-001", "TL-SP-002", "TL-SP-003"},
		Dataverse: dv(i("prvReadSharePointSite")),
		Modes:     scanModes, Facts: "microsoft-facts §2"},
	{ID: "dataverse.sharepointdocumentlocations", Service: Dataverse, Method: "GET", Path: "sharepointdocumentlocations?$select=…&$filter=absoluteurl ne null and servicetype ne 3&$count=true", pattern: regexp.MustCompile(`^sharepointdocumentlocations\?`),
		Section: "environment.documentLocations", Rules: []string{"TL-SP-003"},
		Dataverse: dv(i("prvReadSharePointDocumentLocation")),
		Modes:     scanModes, Facts: "microsoft-facts §2; fleet-and-ci-facts §2b"},
	{ID: "dataverse.entityDefinitions", Service: Dataverse, Method: "GET", Path: "EntityDefinitions?$select=…&$filter=LogicalName eq '…'", pattern: regexp.MustCompile(`^EntityDefinitions\?`),
		Section: "environment.entities", Rules: []string{"TL-ENT-001", "TL-ENT-002"},
		Dataverse: dv(i("no privilege is documented for reading table definitions: any user with a security role")),
		Modes:     scanModes, Facts: "microsoft-facts §3"},
	{ID: "dataverse.privileges", Service: Dataverse, Method: "GET", Path: "privileges?$select=privilegeid,name&$filter=name eq 'prv…'", pattern: regexp.MustCompile(`^privileges\?`),
		Section: "environment.rolePrivileges", Rules: []string{"TL-ROLE-003"},
		Dataverse: dv(i("read on the privilege table (not in the reference facts)")),
		Modes:     scanModes, Facts: "fleet-and-ci-facts §2b"},
	{ID: "dataverse.enabledUsers", Service: Dataverse, Method: "GET", Path: "systemusers?$select=systemuserid&$filter=isdisabled eq false&$count=true", pattern: regexp.MustCompile(`^systemusers\?`),
		Section: "environment.rolePrivileges", Rules: []string{"TL-ROLE-003"},
		Dataverse: dv(i("prvReadUser")),
		Modes:     scanModes, Facts: "fleet-and-ci-facts §2b"},
	{ID: "dataverse.userRoles", Service: Dataverse, Method: "GET", Path: "systemuserrolescollection?$select=systemuserid,roleid", pattern: regexp.MustCompile(`^systemuserrolescollection\?`),
		Section: "environment.rolePrivileges", Rules: []string{"TL-ROLE-003"},
		Dataverse: dv(i("prvReadUser"), i("prvReadRole")),
		Modes:     scanModes, Facts: "fleet-and-ci-facts §2b"},
	{ID: "dataverse.teamRoles", Service: Dataverse, Method: "GET", Path: "teamrolescollection?$select=teamid,roleid", pattern: regexp.MustCompile(`^teamrolescollection\?`),
		Section: "environment.rolePrivileges", Rules: []string{"TL-ROLE-003"},
		Dataverse: dv(i("prvReadTeam"), i("prvReadRole")),
		Modes:     scanModes, Facts: "fleet-and-ci-facts §2b"},
	{ID: "dataverse.callerRoles", Service: Dataverse, Method: "GET", Path: "systemusers({userId})/systemuserroles_association?$select=name,roleid,_roletemplateid_value", pattern: regexp.MustCompile(`^systemusers\([^)]*\)/systemuserroles_association\?`),
		Section: "environment.caller", Rules: []string{"TL-ROLE-001"},
		Dataverse: dv(i("prvReadUser"), i("prvReadRole")),
		Modes:     scanModes, When: "WhoAmI answered", Facts: "microsoft-facts §8"},
	{ID: "dataverse.callerTeams", Service: Dataverse, Method: "GET", Path: "systemusers({userId})/teammembership_association?$select=teamid,name&$expand=teamroles_association(…)", pattern: regexp.MustCompile(`^systemusers\([^)]*\)/teammembership_association\?`),
		Section: "environment.caller", Rules: []string{"TL-ROLE-001"},
		Dataverse: dv(i("prvReadUser"), i("prvReadTeam"), i("prvReadRole")),
		Modes:     scanModes, When: "WhoAmI answered", Facts: "microsoft-facts §8"},
	{ID: "dataverse.heldRoles", Service: Dataverse, Method: "GET", Path: "roles?$select=name,roleid,_roletemplateid_value&$filter=roleid eq …", pattern: regexp.MustCompile(`^roles\?`),
		Section: "environment.rolePrivileges", Rules: []string{"TL-ROLE-003"},
		Dataverse: dv(i("prvReadRole")),
		Modes:     scanModes, When: "the environment knows a pinning privilege and enabled users hold roles", Facts: "fleet-and-ci-facts §2b"},
	{ID: "dataverse.rolePrivileges", Service: Dataverse, Method: "GET", Path: "roleprivilegescollection?$select=roleid,privilegeid&$filter=(roleid eq …) and (privilegeid eq …)", pattern: regexp.MustCompile(`^roleprivilegescollection\?`),
		Section: "environment.rolePrivileges", Rules: []string{"TL-ROLE-003"},
		Dataverse: dv(i("prvReadRole")),
		Modes:     scanModes, When: "the environment knows a pinning privilege and enabled users hold roles", Facts: "fleet-and-ci-facts §2b"},
	{ID: "dataverse.teamMembers", Service: Dataverse, Method: "GET", Path: "teammemberships?$select=systemuserid,teamid&$filter=teamid eq …", pattern: regexp.MustCompile(`^teammemberships\?`),
		Section: "environment.rolePrivileges", Rules: []string{"TL-ROLE-003"},
		Dataverse: dv(i("prvReadTeam"), i("prvReadUser")),
		Modes:     scanModes, When: "teams hold roles that grant a pinning privilege", Facts: "fleet-and-ci-facts §2b"},

	// Discovery.
	{ID: "bap.environments", Service: BAP, Method: "GET", Path: "providers/Microsoft.BusinessAppPlatform/scopes/admin/environments?api-version=2020-10-01", pattern: regexp.MustCompile(`^providers/Microsoft\.BusinessAppPlatform/scopes/admin/environments\?api-version=2020-10-01`),
		Role:  []Grant{c("the app registered as a Power Platform management app (adminApplications), or a Power Platform administrator")},
		Modes: scanModes, When: "the tenant has discover with source bap (the default for applications)", Note: "Paging (nextLink) is followed on the same host: INFERENCE, not documented. Only delegated Power Platform permissions exist; a registered management app is treated as an administrator.", Facts: "fleet-and-ci-facts §1b"},
	{ID: "gds.instances", Service: GDS, Method: "GET", Path: "Instances?$select=…", pattern: regexp.MustCompile(`^Instances\?`),
		Role:  []Grant{c("a signed-in user: it lists the environments the user is an enabled member of"), nc("an application token (not documented to work)")},
		Modes: scanModes, When: "the tenant has discover with source gds (the default for a person)", Facts: "fleet-and-ci-facts §1a"},

	// Remediation (internal/remediate): the re-reads before and after each
	// write, then the writes.
	{ID: "remediate.readRecord", Service: Dataverse, Method: "GET", Path: "organizations, sharepointsites or sharepointdocumentlocations({id}): the columns of the action ($select), or for a location the whole row with the tables of its lookups (the backup)", pattern: regexp.MustCompile(`^(organizations|sharepointsites|sharepointdocumentlocations)\([^)]*\)(\?|$)`),
		Rules:     []string{"TL-SP-001", "TL-SP-002", "TL-SP-003", "TL-ENV-001", "TL-ENV-002"},
		Dataverse: dv(i("prvReadOrganization"), i("prvReadSharePointSite"), i("prvReadSharePointDocumentLocation")),
		Modes:     remediateModes, Note: "Before each write (drift check, backup) and after it (verification).", Facts: "microsoft-facts §1, §2"},
	{ID: "remediate.readDefinition", Service: Dataverse, Method: "GET", Path: "EntityDefinitions(LogicalName='{table}') (the full definition to PUT back; $select of one flag to verify)", pattern: regexp.MustCompile(`^EntityDefinitions\(LogicalName='[^']*'\)(\?|$)`),
		Rules:     []string{"TL-ENT-001", "TL-ENT-002", "TL-SP-003"},
		Dataverse: dv(i("prvReadEntity")),
		Modes:     remediateModes, Note: "Also the EntitySetName of a recreated location's regarding table.", Facts: "microsoft-facts §3"},
	{ID: "remediate.findAction", Service: Dataverse, Method: "GET", Path: "sdkmessages?$select=name&$filter=name eq 'msdyn_SetTeamsDocumentStatus'", pattern: regexp.MustCompile(`^sdkmessages\?`),
		Rules:     []string{"TL-ENT-002"},
		Dataverse: dv(i("prvReadSdkMessage")),
		Modes:     remediateModes, Note: "Whether the action exists (its solution may be missing): INFERENCE, facts §4.", Facts: "microsoft-facts §4"},
	{ID: "remediate.disableOneDrive", Service: Dataverse, Method: "PATCH", Path: "organizations({organizationid})  {isonedriveenabled: false}", pattern: regexp.MustCompile(`^organizations\([^)]*\)$`),
		Rules:     []string{"TL-SP-001", "TL-ENV-001", "TL-ENV-002"},
		Dataverse: dv(i("prvWriteOrganization")),
		Modes:     remediateModes, Note: "Also the write that turns Basic or Enhanced on (ismsteamsenabled, ismsteamscollaborationenabled: column mapping INFERENCE); enabling needs System Administrator (CONFIRMED, prerequisite page). With If-Match.", Facts: "microsoft-facts §0, §1"},
	{ID: "remediate.deactivateSite", Service: Dataverse, Method: "PATCH", Path: "sharepointsites({id})  {statecode: 1, statuscode: 2}", pattern: regexp.MustCompile(`^sharepointsites\([^)]*\)$`),
		Rules:     []string{"TL-SP-002"},
		Dataverse: []Grant{i("prvWriteSharePointSite"), c("System Administrator security role (creating or updating sharepointsite records requires it)")},
		Modes:     remediateModes, Note: "With If-Match; undo activates the site again.", Facts: "microsoft-facts §2"},
	{ID: "remediate.deleteLocation", Service: Dataverse, Method: "DELETE", Path: "sharepointdocumentlocations({id})", pattern: regexp.MustCompile(`^sharepointdocumentlocations\([^)]*\)$`),
		Rules:     []string{"TL-SP-003"},
		Dataverse: dv(i("prvDeleteSharePointDocumentLocation")),
		Modes:     remediateModes, Note: "With If-Match, and only with --allow-delete.", Facts: "microsoft-facts §2; fleet-and-ci-facts §2b"},
	{ID: "remediate.recreateLocation", Service: Dataverse, Method: "POST", Path: "sharepointdocumentlocations  {sharepointdocumentlocationid, …, parentsiteorlocation_…@odata.bind, regardingobjectid_…@odata.bind}", pattern: regexp.MustCompile(`^sharepointdocumentlocations$`),
		Rules:     []string{"TL-SP-003"},
		Dataverse: dv(i("prvCreateSharePointDocumentLocation"), i("prvAppendSharePointDocumentLocation"), i("prvAppendToSharePointSite")),
		Modes:     remediateModes, When: "rollback of a delete", Note: "An inactive location's state is set after it is created (PATCH sharepointdocumentlocations({id}), prvWriteSharePointDocumentLocation).", Facts: "microsoft-facts §2"},
	{ID: "remediate.enableDocumentManagement", Service: Dataverse, Method: "PUT", Path: "EntityDefinitions(LogicalName='{table}')  (MSCRM.MergeLabels: true)", pattern: regexp.MustCompile(`^EntityDefinitions\(LogicalName='[^']*'\)$`),
		Rules:     []string{"TL-ENT-001"},
		Dataverse: []Grant{c("System Administrator or System Customizer security role")},
		Modes:     remediateModes, Facts: "microsoft-facts §3"},
	{ID: "remediate.publish", Service: Dataverse, Method: "POST", Path: "PublishXml", pattern: regexp.MustCompile(`^Publish(All)?Xml$`),
		Rules:     []string{"TL-ENT-001"},
		Dataverse: []Grant{c("System Administrator or System Customizer security role")},
		Modes:     remediateModes, Facts: "microsoft-facts §3"},
	{ID: "remediate.setTeamsDocumentStatus", Service: Dataverse, Method: "POST", Path: "msdyn_SetTeamsDocumentStatus", pattern: regexp.MustCompile(`^msdyn_SetTeamsDocumentStatus$`),
		Rules:     []string{"TL-ENT-002"},
		Dataverse: []Grant{nc("the privilege the action needs is not documented"), systemAdministrator},
		Modes:     remediateModes, Facts: "microsoft-facts §4"},
}

// Table returns every row, in table order.
func Table() []Request { return slices.Clone(table) }

// ForMode returns the rows mode makes (or plans), in table order.
func ForMode(mode Mode) []Request {
	var out []Request
	for _, r := range table {
		if r.In(mode) {
			out = append(out, r)
		}
	}
	return out
}

// Match returns the first row that a request of service with method and
// path (below the service root) matches.
func Match(service Service, method, path string) (Request, bool) {
	for _, r := range table {
		if r.Matches(service, method, path) {
			return r, true
		}
	}
	return Request{}, false
}

// GraphPermissions returns the Graph permissions mode needs of an
// application (delegated false) or a person (delegated true): for each
// request, the alternatives that satisfy it, least privileged first, in
// table order, requests with the same alternatives merged.
func GraphPermissions(mode Mode, delegated bool) []Need {
	var out []Need
	for _, r := range ForMode(mode) {
		gs := r.Application
		if delegated {
			gs = r.Delegated
		}
		if len(gs) == 0 {
			continue
		}
		k := slices.IndexFunc(out, func(n Need) bool { return slices.Equal(Names(n.AnyOf), Names(gs)) })
		if k < 0 {
			out = append(out, Need{AnyOf: gs})
			k = len(out) - 1
		}
		out[k].Requests = append(out[k].Requests, r.ID)
		if r.When != "" {
			out[k].When = append(out[k].When, r.When)
		} else {
			out[k].Always = true
		}
	}
	return out
}

// Need is a permission requirement: any one of AnyOf satisfies the
// requests it names.
type Need struct {
	AnyOf    []Grant
	Requests []string
	// Always is true when a request that needs it is always made; When
	// lists the conditions of those that are not.
	Always bool
	When   []string
}
