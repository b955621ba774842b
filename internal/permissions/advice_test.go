package permissions_test

import (
	"strings"
	"testing"

	"github.com/teamslink/teamslink/internal/permissions"
)

func TestNeeds(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, section, source string
		want                  []string
		not                   []string
	}{
		{"a Graph request", "tenant.licenses", "GET https://graph.microsoft.com/v1.0/subscribedSkus?$select=skuId", []string{"Organization.Read.All or Directory.Read.All", "GET subscribedSkus"}, nil},
		{"the request that decided", "tenant.consent", "GET https://graph.microsoft.com/v1.0/oauth2PermissionGrants?$filter=clientId%20eq%20'x'", []string{"Directory.Read.All", "GET oauth2PermissionGrants"}, []string{"Application.Read.All"}},
		{"found from Graph", "tenant.sharePoint", "GET https://graph.microsoft.com/v1.0/sites/root?$select=webUrl", []string{"Sites.Read.All (INFERENCE)"}, []string{"SharePoint Administrator"}},
		{"the admin site", "tenant.sharePoint", "GET https://contoso-admin.sharepoint.com/_api/SPO.Tenant", []string{"SharePoint Administrator (NOT CONFIRMED)"}, []string{"Sites.Read.All"}},
		{"a Dataverse read", "environment.organization", "GET https://contoso.crm.dynamics.com/api/data/v9.2/organizations?$select=x", []string{"in Dataverse, prvReadOrganization (INFERENCE)", "or the System Administrator role (INFERENCE), which carries every read"}, nil},
		{"an unknown request", "environment.caller", "GET https://example.invalid/anything", []string{"GET WhoAmI", "GET systemusers({userId})/systemuserroles_association"}, nil},
		{"no source", "tenant.caller", "", []string{"GET me", "RoleManagement.Read.Directory"}, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := permissions.Needs(tc.section, tc.source)
			t.Log(got)
			for _, w := range tc.want {
				if !strings.Contains(got, w) {
					t.Errorf("Needs(%s) = %q, lacks %q", tc.section, got, w)
				}
			}
			for _, w := range tc.not {
				if strings.Contains(got, w) {
					t.Errorf("Needs(%s) = %q, has %q", tc.section, got, w)
				}
			}
		})
	}
	if permissions.Needs("environment.nothing", "") != "" {
		t.Error("a section the table does not fill has needs")
	}
	if got := len(permissions.Sections()); got != 11 {
		t.Errorf("%d sections, want the snapshot's 11", got)
	}
}
