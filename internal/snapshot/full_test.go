package snapshot

import (
	"reflect"
	"strconv"
	"testing"
	"time"
)

// fullSnapshot returns a snapshot with every field set: every pointer
// non-nil, every list non-empty, every string, number and flag non-zero.
// TestFullSnapshotSetsEveryField keeps it that way when fields are added.
func fullSnapshot() *Snapshot {
	at := time.Date(2026, 11, 2, 9, 15, 0, 0, time.UTC)
	section := func(source string) Section {
		return Section{
			Status:      StatusOK,
			Error:       "partial: continued after 1 error",
			HTTPStatus:  200,
			Source:      "GET " + source,
			CollectedAt: at,
			Missing:     []string{"isonedriveenabled"},
		}
	}
	str := func(s string) *string { return &s }
	num := func(n int) *int { return &n }
	yes := true
	site := SharePointSite{
		ETag:             `W/"1001"`,
		ID:               "6a0f2b1c-3d4e-4f50-8a61-7b2c3d4e5f60",
		Name:             "Default Site",
		AbsoluteURL:      "https://contoso.sharepoint.com/sites/sales",
		RelativeURL:      "sites/sales",
		IsDefault:        true,
		ServiceType:      1,
		StateCode:        1,
		ValidationStatus: num(4),
	}
	return &Snapshot{
		SchemaVersion: SchemaVersion,
		// A zone other than UTC: Read and Write turn it into UTC.
		CollectedAt: time.Date(2026, 11, 2, 11, 15, 0, 500, time.FixedZone("CEST", 2*60*60)),
		Tool:        "teamslink test",
		Tenants: []Tenant{{
			ID:    "3f2b8c1e-6d4a-4b7e-9a15-2c8d0e7f4a61",
			Name:  "Contoso",
			Cloud: "public",
			Licenses: Licenses{
				Section: section("https://graph.microsoft.com/v1.0/subscribedSkus"),
				SKUs: []SKU{{
					SKUID:            "05e9a617-0261-4cee-bb44-138d3ef5d965",
					SKUPartNumber:    "SPE_E3",
					CapabilityStatus: "Enabled",
					ServicePlans: []ServicePlan{{
						ServicePlanID:      "57ff2da0-773e-42df-b2af-ffb7a2317929",
						ServicePlanName:    "TEAMS1",
						ProvisioningStatus: "Success",
					}},
				}},
			},
			Consent: Consent{
				Section: section("https://graph.microsoft.com/v1.0/servicePrincipals"),
				ServicePrincipal: &ServicePrincipal{
					ID:          "b7d1e0a4-2f6c-4e19-8c3a-5e9f1d2b7a40",
					AppID:       "a8adde6c-aeb4-4fd6-9d8f-c2dfdecac60a",
					DisplayName: "Dynamics 365 Microsoft Teams Collaboration Integration",
					MatchedBy:   "appId",
				},
				GraphServicePrincipalID: "6c2f9e11-8b3d-4a7f-b5e2-0d4c8a9f3e17",
				Grants: []PermissionGrant{{
					ID:          "pNHRt2wvGU6MOl6fHSt6QBGe4mw9i39KteINTIqfPhc",
					ClientID:    "b7d1e0a4-2f6c-4e19-8c3a-5e9f1d2b7a40",
					ConsentType: "Principal",
					PrincipalID: str("0a7c3e52-91d8-4f6b-a2e4-7b5d9c1f8e36"),
					ResourceID:  "6c2f9e11-8b3d-4a7f-b5e2-0d4c8a9f3e17",
					Scope:       "User.Read.All Group.ReadWrite.All",
				}},
			},
			Caller: Principal{
				Section:           section("https://graph.microsoft.com/v1.0/me/memberOf"),
				ObjectID:          "0a7c3e52-91d8-4f6b-a2e4-7b5d9c1f8e36",
				UserPrincipalName: "admin@contoso.onmicrosoft.com",
				Type:              "user",
				DirectoryRoles: []DirectoryRole{{
					RoleTemplateID: "62e90394-69f5-4237-9190-012177145e10",
					DisplayName:    "Global Administrator",
				}},
			},
			SharePoint: SharePoint{
				Section:                    section("https://contoso-admin.sharepoint.com/_api/SPO.Tenant"),
				AdminURL:                   "https://contoso-admin.sharepoint.com",
				ConditionalAccessPolicy:    "AllowLimitedAccess",
				ConditionalAccessPolicyRaw: "1",
			},
			SignIn: &SignIn{
				Method:     "client-secret",
				ClientID:   "5d2f8a61-3c4e-4b7a-9e1d-8f6a2c4b7e93",
				Error:      "every request was refused: 403 Forbidden",
				HTTPStatus: 403,
				Discovery:  "bap",
			},
			GroupSettings: &GroupSettings{
				Section: section("https://graph.microsoft.com/v1.0/groupSettings"),
				Settings: []GroupSetting{{
					ID:          "1f2e3d4c-5b6a-4978-8a9b-0c1d2e3f4a5b",
					DisplayName: "Group.Unified",
					TemplateID:  "62375ab9-6b52-47ed-826b-58e47e0e304b",
					Values:      []SettingValue{{Name: "PrefixSuffixNamingRequirement", Value: "GRP_[GroupName]"}},
				}},
			},
		}},
		Environments: []Environment{{
			TenantID:     "3f2b8c1e-6d4a-4b7e-9a15-2c8d0e7f4a61",
			URL:          "https://contoso-sales.crm.dynamics.com",
			ID:           "9d3e5f7a-1b2c-4d6e-8f0a-3c5e7a9b1d24",
			Name:         "Contoso Sales",
			Experience:   "enhanced",
			TargetTables: []string{"account", "new_project"},
			Overrides:    &Overrides{SharePointIntegrationConfigured: &yes},
			Organization: Organization{
				Section: section("https://contoso-sales.crm.dynamics.com/api/data/v9.2/organizations"),
				Record: &OrganizationRecord{
					ETag:                          `W/"48213377"`,
					OrganizationID:                "9d3e5f7a-1b2c-4d6e-8f0a-3c5e7a9b1d24",
					SharePointDeploymentType:      num(1),
					IsOneDriveEnabled:             true,
					IsMSTeamsEnabled:              true,
					IsMSTeamsCollaborationEnabled: true,
					IsMSTeamsUserSyncEnabled:      true,
					IsMSTeamsSettingChangedByUser: true,
					IsFolderAutoCreatedOnSP:       true,
				},
			},
			SharePointSites: SharePointSites{
				Section:            section("https://contoso-sales.crm.dynamics.com/api/data/v9.2/sharepointsites?$filter=statecode eq 0&$count=true"),
				ActiveCount:        5000,
				CountLimitExceeded: true,
				DefaultSite:        &site,
				Sample:             []SharePointSite{site},
			},
			DocumentLocations: DocumentLocations{
				Section:            section("https://contoso-sales.crm.dynamics.com/api/data/v9.2/sharepointdocumentlocations?$count=true"),
				AbsoluteURLCount:   12,
				CountLimitExceeded: true,
				Sample: []DocumentLocation{{
					ETag:                 `W/"2002"`,
					ID:                   "7b1c2d3e-4f50-4a61-8b72-9c0d1e2f3a4b",
					Name:                 "Documents on Default Site 1",
					AbsoluteURL:          "https://contoso.sharepoint.com/sites/sales/account",
					RelativeURL:          str("account"),
					ParentSiteOrLocation: str("6a0f2b1c-3d4e-4f50-8a61-7b2c3d4e5f60"),
					RegardingObjectID:    str("c0d1e2f3-a4b5-4c6d-8e7f-9a0b1c2d3e4f"),
					ServiceType:          1,
					LocationType:         1,
					StateCode:            1,
				}},
			},
			Entities: Entities{
				Section: section("https://contoso-sales.crm.dynamics.com/api/data/v9.2/EntityDefinitions"),
				Tables: []Table{{
					LogicalName:                 "new_project",
					Exists:                      true,
					MetadataID:                  "c41e9a7b-3d52-4f08-9e6a-1b7d2c8f5a93",
					IsCustomEntity:              true,
					IsDocumentManagementEnabled: true,
					IsMSTeamsIntegrationEnabled: true,
				}},
			},
			Caller: EnvironmentCaller{
				Section:        section("https://contoso-sales.crm.dynamics.com/api/data/v9.2/WhoAmI"),
				UserID:         "5e8a2c4f-7d1b-4e93-a6c0-2f9b8d3e1a57",
				BusinessUnitID: "e2b7c9d4-6a1f-4e8b-93c5-0d7f2a4b6e81",
				Roles: []SecurityRole{{
					RoleID:         "a1c3e5f7-2b4d-4f6a-8c0e-9d1b3f5a7c92",
					Name:           "System Administrator",
					RoleTemplateID: "627090ff-40a3-4053-8790-584edc5be201",
					Via:            "team",
					TeamID:         "f1e2d3c4-b5a6-4978-8a9b-0c1d2e3f4a5b",
				}},
			},
			RolePrivileges: &RolePrivileges{
				Section:                       section("https://contoso-sales.crm.dynamics.com/api/data/v9.2/privileges"),
				Privileges:                    []Privilege{{PrivilegeID: "0b1c2d3e-4f5a-4b6c-8d7e-9f0a1b2c3d4e", Name: "prvCreateSharePointSite"}},
				EnabledUserCount:              5000,
				EnabledUserCountLimitExceeded: true,
				Roles: []HeldRole{{
					RoleID:         "d4f6b8c0-5e7a-4c9d-9f3b-2a4e6c8d0f35",
					Name:           "Salesperson",
					RoleTemplateID: "c2f4a6b8-0d1e-4f3a-8b5c-7d9e1f3a5b46",
					UserCount:      12,
					Privileges:     []string{"prvCreateSharePointSite"},
				}},
				Truncated: []string{"systemusers"},
			},
		}},
	}
}

func TestFullSnapshotSetsEveryField(t *testing.T) {
	t.Parallel()
	for _, unset := range unsetFields(reflect.ValueOf(fullSnapshot()).Elem(), "snapshot") {
		t.Errorf("fullSnapshot leaves %s unset; set it so the schema tests cover it", unset)
	}
}

// unsetFields lists the fields under v that hold a zero value, a nil
// pointer or an empty list.
func unsetFields(v reflect.Value, at string) []string {
	switch {
	case v.Type() == timeType:
		if v.Interface().(time.Time).IsZero() {
			return []string{at}
		}
		return nil
	case v.Kind() == reflect.Pointer:
		if v.IsNil() {
			return []string{at}
		}
		return unsetFields(v.Elem(), at)
	case v.Kind() == reflect.Slice:
		if v.Len() == 0 {
			return []string{at}
		}
		var out []string
		for i := range v.Len() {
			out = append(out, unsetFields(v.Index(i), at+"["+strconv.Itoa(i)+"]")...)
		}
		return out
	case v.Kind() == reflect.Struct:
		var out []string
		for _, f := range jsonFields(v.Type()) {
			out = append(out, unsetFields(v.FieldByIndex(f.index), at+"."+f.name)...)
		}
		return out
	default:
		if v.IsZero() {
			return []string{at}
		}
		return nil
	}
}
