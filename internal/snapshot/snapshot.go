// Package snapshot is the document collectors fill and the engine evaluates:
// the state of tenants and their environments as read from Dataverse,
// Microsoft Graph and SharePoint Online, section by section, each section
// saying whether it was read, when, from which request, and why not.
//
// Dataverse records keep their logical column names and @odata.etag exactly
// as the Web API returned them, so a remediator can act on what was seen.
package snapshot

import (
	"fmt"
	"time"
)

// SchemaVersion names the snapshot contract; Read rejects any other.
const SchemaVersion = "teamslink.snapshot/v1"

// Snapshot is the collected state of one or more tenants.
type Snapshot struct {
	SchemaVersion string        `json:"schemaVersion"`
	CollectedAt   time.Time     `json:"collectedAt"`
	Tool          string        `json:"tool,omitempty"`
	Tenants       []Tenant      `json:"tenants"`
	Environments  []Environment `json:"environments"`
}

// Tenant returns the tenant with the given id.
func (s *Snapshot) Tenant(id string) (*Tenant, bool) {
	for i := range s.Tenants {
		if s.Tenants[i].ID == id {
			return &s.Tenants[i], true
		}
	}
	return nil, false
}

// Status says whether a section was read.
type Status string

// Section statuses.
const (
	StatusOK      Status = "ok"      // read; the data is complete
	StatusError   Status = "error"   // could not be read; the data must not be trusted
	StatusSkipped Status = "skipped" // not read on purpose (not needed, or not asked for)
)

// Section is the provenance every part of a snapshot carries.
type Section struct {
	Status      Status    `json:"status"`
	Error       string    `json:"error,omitempty"`
	HTTPStatus  int       `json:"httpStatus,omitempty"`
	Source      string    `json:"source,omitempty"`
	CollectedAt time.Time `json:"collectedAt"`
	// Missing names the fields the service did not send (absent, or null
	// where the field is not nullable). Such a section has status error:
	// absent is never read as false or zero.
	Missing []string `json:"missing,omitempty"`
}

// OK reports whether the section was read.
func (s Section) OK() bool { return s.Status == StatusOK }

// Tenant is the tenant-wide state, collected once per tenant.
type Tenant struct {
	ID         string     `json:"id"`
	Name       string     `json:"name,omitempty"`
	Cloud      string     `json:"cloud"`
	Licenses   Licenses   `json:"licenses"`
	Consent    Consent    `json:"consent"`
	Caller     Principal  `json:"caller"`
	SharePoint SharePoint `json:"sharePoint"`
	// GroupSettings is nil in snapshots written before teamslink read it;
	// a rule that needs it then reports the section missing.
	GroupSettings *GroupSettings `json:"groupSettings,omitempty"`
	// SignIn is set when the tenant's sign-in failed, so that nothing of it
	// could be read; nil when it worked. Snapshots written before it
	// existed have none, and their failed sections still say why.
	SignIn *SignIn `json:"signIn,omitempty"`
}

// SignIn records a tenant whose sign-in failed: its credential issued no
// token at all, or every request of the tenant was refused with 401 or 403.
// It also records a tenant whose environments could not be discovered
// (Discovery set), which is then not scanned at all: nothing of it was read.
type SignIn struct {
	// Method is the tenants.yaml auth method of the credential, e.g.
	// client-secret or azure-cli.
	Method string `json:"method"`
	// ClientID is the application (client) id the credential used, if any.
	ClientID string `json:"clientId,omitempty"`
	// Error is why, bounded: the credential's own error condensed to one
	// line, or the refusal of the first section.
	Error string `json:"error"`
	// HTTPStatus is 401 or 403 when tokens were issued but every request
	// was refused; absent when no token could be had. With Discovery, the
	// status the discovery service answered with, if it answered.
	HTTPStatus int `json:"httpStatus,omitempty"`
	// Discovery is the service (bap or gds) that could not list the
	// tenant's environments, or listed none to scan; empty for a sign-in
	// failure. Error then says why.
	Discovery string `json:"discovery,omitempty"`
}

// Licenses are the tenant's subscribed SKUs (Graph subscribedSkus).
type Licenses struct {
	Section
	SKUs []SKU `json:"skus"`
}

// SKU is one subscribed SKU with its service plans.
type SKU struct {
	SKUID            string        `json:"skuId"`
	SKUPartNumber    string        `json:"skuPartNumber"`
	CapabilityStatus string        `json:"capabilityStatus"`
	ServicePlans     []ServicePlan `json:"servicePlans"`
}

// ServicePlan is one service plan inside a SKU.
type ServicePlan struct {
	ServicePlanID      string `json:"servicePlanId"`
	ServicePlanName    string `json:"servicePlanName"`
	ProvisioningStatus string `json:"provisioningStatus"`
}

// Consent is the collaboration enterprise app's service principal and the
// delegated permission grants made to it.
type Consent struct {
	Section
	// ServicePrincipal is nil when no service principal matched.
	ServicePrincipal *ServicePrincipal `json:"servicePrincipal"`
	// GraphServicePrincipalID is the object id of Microsoft Graph's service
	// principal in the tenant: the resource the grants must target.
	GraphServicePrincipalID string            `json:"graphServicePrincipalId,omitempty"`
	Grants                  []PermissionGrant `json:"grants"`
}

// ServicePrincipal is the collaboration app as found in the tenant.
type ServicePrincipal struct {
	ID          string `json:"id"`
	AppID       string `json:"appId"`
	DisplayName string `json:"displayName"`
	// MatchedBy is "appId" or "displayName": how the collector found it.
	MatchedBy string `json:"matchedBy"`
}

// PermissionGrant is one oauth2PermissionGrant (delegated permissions).
type PermissionGrant struct {
	ID          string  `json:"id"`
	ClientID    string  `json:"clientId"`
	ConsentType string  `json:"consentType"`
	PrincipalID *string `json:"principalId"`
	ResourceID  string  `json:"resourceId"`
	Scope       string  `json:"scope"`
}

// Principal is who ran the scan in Microsoft Entra ID, with the directory
// roles they hold.
type Principal struct {
	Section
	ObjectID          string `json:"objectId,omitempty"`
	UserPrincipalName string `json:"userPrincipalName,omitempty"`
	// Type is "user" or "servicePrincipal".
	Type           string          `json:"type,omitempty"`
	DirectoryRoles []DirectoryRole `json:"directoryRoles"`
}

// DirectoryRole is one Entra role the caller holds.
type DirectoryRole struct {
	RoleTemplateID string `json:"roleTemplateId"`
	DisplayName    string `json:"displayName"`
}

// SharePoint is the SharePoint Online tenant setting that governs access
// from unmanaged devices.
type SharePoint struct {
	Section
	AdminURL string `json:"adminUrl,omitempty"`
	// ConditionalAccessPolicy is the normalised name: AllowFullAccess,
	// AllowLimitedAccess, BlockAccess or AuthenticationContext.
	ConditionalAccessPolicy string `json:"conditionalAccessPolicy,omitempty"`
	// ConditionalAccessPolicyRaw is the value as the endpoint returned it
	// (a number or a name).
	ConditionalAccessPolicyRaw string `json:"conditionalAccessPolicyRaw,omitempty"`
}

// GroupSettings are the tenant-wide directory settings of Microsoft 365
// groups (Graph groupSettings), among them the Group.Unified naming policy.
// A tenant starts with none: defaults apply until an admin creates one.
type GroupSettings struct {
	Section
	Settings []GroupSetting `json:"settings"`
}

// GroupSetting is one directory settings object, created from a template.
type GroupSetting struct {
	ID          string         `json:"id"`
	DisplayName string         `json:"displayName"`
	TemplateID  string         `json:"templateId"`
	Values      []SettingValue `json:"values"`
}

// SettingValue is one name and value of a settings object; every value is
// a string, e.g. "true".
type SettingValue struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// Environment is one Dataverse environment's state, collected once per environment.
type Environment struct {
	TenantID string `json:"tenantId"`
	URL      string `json:"url"`
	ID       string `json:"id,omitempty"`
	Name     string `json:"name,omitempty"`
	// Experience is the experience configured for this environment, if any.
	Experience string `json:"experience,omitempty"`
	// TargetTables are the tables to be pinned in Teams, as configured.
	TargetTables []string `json:"targetTables,omitempty"`
	// Overrides are assumptions config set for this environment.
	Overrides         *Overrides        `json:"overrides,omitempty"`
	Organization      Organization      `json:"organization"`
	SharePointSites   SharePointSites   `json:"sharePointSites"`
	DocumentLocations DocumentLocations `json:"documentLocations"`
	Entities          Entities          `json:"entities"`
	Caller            EnvironmentCaller `json:"caller"`
	// RolePrivileges is nil in snapshots written before teamslink read it;
	// a rule that needs it then reports the section missing.
	RolePrivileges *RolePrivileges `json:"rolePrivileges,omitempty"`
}

// Overrides are per-environment assumptions from config that replace a
// derivation the tool cannot confirm from documented columns.
type Overrides struct {
	// SharePointIntegrationConfigured replaces the derived answer to
	// "is server-based SharePoint integration configured?".
	SharePointIntegrationConfigured *bool `json:"sharePointIntegrationConfigured,omitempty"`
}

// Organization is the environment's organization row.
type Organization struct {
	Section
	Record *OrganizationRecord `json:"record"`
}

// OrganizationRecord holds the organization columns teamslink reads, under
// their Dataverse logical names.
type OrganizationRecord struct {
	ETag                          string `json:"@odata.etag"`
	OrganizationID                string `json:"organizationid"`
	SharePointDeploymentType      *int   `json:"sharepointdeploymenttype"`
	IsOneDriveEnabled             bool   `json:"isonedriveenabled"`
	IsMSTeamsEnabled              bool   `json:"ismsteamsenabled"`
	IsMSTeamsCollaborationEnabled bool   `json:"ismsteamscollaborationenabled"`
	IsMSTeamsUserSyncEnabled      bool   `json:"ismsteamsusersyncenabled"`
	IsMSTeamsSettingChangedByUser bool   `json:"ismsteamssettingchangedbyuser"`
	IsFolderAutoCreatedOnSP       bool   `json:"isfolderautocreatedonsp"`
}

// SharePointSites are the environment's active sharepointsite rows: a
// server-side count and a bounded sample.
type SharePointSites struct {
	Section
	ActiveCount int `json:"activeCount"`
	// CountLimitExceeded is true when Dataverse capped the count at 5,000.
	CountLimitExceeded bool `json:"countLimitExceeded"`
	// DefaultSite is the active default site, if there is one.
	DefaultSite *SharePointSite  `json:"defaultSite"`
	Sample      []SharePointSite `json:"sample"`
}

// SharePointSite is one sharepointsite row under its logical column names.
type SharePointSite struct {
	ETag             string `json:"@odata.etag"`
	ID               string `json:"sharepointsiteid"`
	Name             string `json:"name"`
	AbsoluteURL      string `json:"absoluteurl"`
	RelativeURL      string `json:"relativeurl"`
	IsDefault        bool   `json:"isdefault"`
	ServiceType      int    `json:"servicetype"`
	StateCode        int    `json:"statecode"`
	ValidationStatus *int   `json:"validationstatus"`
}

// DocumentLocations are the sharepointdocumentlocation rows created with an
// absolute URL: a server-side count and a bounded sample.
type DocumentLocations struct {
	Section
	AbsoluteURLCount   int                `json:"absoluteUrlCount"`
	CountLimitExceeded bool               `json:"countLimitExceeded"`
	Sample             []DocumentLocation `json:"sample"`
}

// DocumentLocation is one sharepointdocumentlocation row under its logical
// column names.
type DocumentLocation struct {
	ETag                 string  `json:"@odata.etag"`
	ID                   string  `json:"sharepointdocumentlocationid"`
	Name                 string  `json:"name"`
	AbsoluteURL          string  `json:"absoluteurl"`
	RelativeURL          *string `json:"relativeurl"`
	ParentSiteOrLocation *string `json:"_parentsiteorlocation_value"`
	RegardingObjectID    *string `json:"_regardingobjectid_value"`
	ServiceType          int     `json:"servicetype"`
	LocationType         int     `json:"locationtype"`
	StateCode            int     `json:"statecode"`
}

// Entities is the table metadata teamslink reads: the target tables and the
// out-of-box Teams tables.
type Entities struct {
	Section
	Tables []Table `json:"tables"`
}

// Table returns the metadata for the table with the given logical name.
func (e Entities) Table(logicalName string) (Table, bool) {
	for _, t := range e.Tables {
		if t.LogicalName == logicalName {
			return t, true
		}
	}
	return Table{}, false
}

// Table is one table's EntityDefinitions metadata.
type Table struct {
	LogicalName string `json:"logicalName"`
	// Exists is false when EntityDefinitions had no such table.
	Exists                      bool   `json:"exists"`
	MetadataID                  string `json:"metadataId,omitempty"`
	IsCustomEntity              bool   `json:"isCustomEntity"`
	IsDocumentManagementEnabled bool   `json:"isDocumentManagementEnabled"`
	IsMSTeamsIntegrationEnabled bool   `json:"isMSTeamsIntegrationEnabled"`
}

// EnvironmentCaller is who ran the scan in Dataverse, with the security
// roles they hold directly and through teams.
type EnvironmentCaller struct {
	Section
	UserID         string         `json:"userId,omitempty"`
	BusinessUnitID string         `json:"businessUnitId,omitempty"`
	Roles          []SecurityRole `json:"roles"`
}

// SecurityRole is one Dataverse security role the caller holds.
type SecurityRole struct {
	RoleID         string `json:"roleId"`
	Name           string `json:"name"`
	RoleTemplateID string `json:"roleTemplateId,omitempty"`
	// Via is "user" for a direct assignment or "team" for one through a team.
	Via    string `json:"via"`
	TeamID string `json:"teamId,omitempty"`
}

// RolePrivileges are the security roles enabled users hold, directly or
// through a team, with the privileges pinning a record needs (Create, Read,
// Write, Append, AppendTo and Delete on SharePoint Site and Document
// Location) that each grants. Counts, not user lists: each role carries the
// number of enabled users holding it.
type RolePrivileges struct {
	Section
	// Privileges are the privileges pinning needs, as found by name in the
	// environment; a name the environment does not know is not among them.
	Privileges []Privilege `json:"privileges"`
	// EnabledUserCount is the server's count of enabled users, capped at
	// 5,000 (EnabledUserCountLimitExceeded).
	EnabledUserCount              int  `json:"enabledUserCount"`
	EnabledUserCountLimitExceeded bool `json:"enabledUserCountLimitExceeded"`
	// Roles are the roles at least one enabled user holds, most users first.
	Roles []HeldRole `json:"roles"`
	// Truncated names the reads that returned more than was read (a page
	// with more to follow, or more roles or teams than are checked): roles
	// may then be missing and user counts are lower bounds.
	Truncated []string `json:"truncated"`
}

// Privilege is one privilege found by name.
type Privilege struct {
	PrivilegeID string `json:"privilegeId"`
	Name        string `json:"name"`
}

// HeldRole is one security role enabled users hold.
type HeldRole struct {
	RoleID         string `json:"roleId"`
	Name           string `json:"name"`
	RoleTemplateID string `json:"roleTemplateId,omitempty"`
	// UserCount is the number of enabled users holding the role, directly
	// or through a team.
	UserCount int `json:"userCount"`
	// Privileges are the names of the pinning privileges the role grants.
	Privileges []string `json:"privileges"`
}

// Merge combines snapshots into one, for evaluating several at once. Tenants
// and environments keep their order; a tenant or environment URL that
// appears twice is an error. The result's CollectedAt is the earliest.
func Merge(snaps ...*Snapshot) (*Snapshot, error) {
	if len(snaps) == 1 {
		return snaps[0], nil
	}
	out := &Snapshot{SchemaVersion: SchemaVersion}
	tenants := map[string]bool{}
	urls := map[string]bool{}
	for i, s := range snaps {
		if i == 0 || s.CollectedAt.Before(out.CollectedAt) {
			out.CollectedAt = s.CollectedAt
		}
		if out.Tool == "" {
			out.Tool = s.Tool
		}
		for _, t := range s.Tenants {
			if tenants[t.ID] {
				return nil, fmt.Errorf("merge snapshots: tenant %s appears in more than one snapshot", t.ID)
			}
			tenants[t.ID] = true
			out.Tenants = append(out.Tenants, t)
		}
		for _, e := range s.Environments {
			if urls[e.URL] {
				return nil, fmt.Errorf("merge snapshots: environment %s appears in more than one snapshot", e.URL)
			}
			urls[e.URL] = true
			out.Environments = append(out.Environments, e)
		}
	}
	return out, nil
}
