package graph_test

import (
	"net/url"
	"testing"
	"time"

	"github.com/teamslink/teamslink/collectors/graph"
	"github.com/teamslink/teamslink/internal/emulator"
	"github.com/teamslink/teamslink/internal/emulator/emulatortest"
	"github.com/teamslink/teamslink/internal/odata"
	"github.com/teamslink/teamslink/internal/snapshot"
)

// collect loads the ready scenario, changes it, and collects its tenant
// through the emulator with a real azidentity credential.
func collect(t *testing.T, change func(*emulator.Scenario)) (*snapshot.Tenant, *emulator.Server) {
	t.Helper()
	sc := emulatortest.Scenario(t, "ready")
	change(sc)
	srv := emulatortest.Start(t, time.Now, sc)
	base, _ := url.Parse("https://graph.microsoft.com/v1.0/")
	c, err := odata.New(base, emulatortest.Credential(t, srv, sc), odata.Options{Now: time.Now, Scopes: []string{"https://graph.microsoft.com/.default"}, HTTPClient: srv.Client(), Flavor: odata.Graph})
	if err != nil {
		t.Fatal(err)
	}
	tenant := &snapshot.Tenant{ID: sc.Tenant.ID}
	graph.New(c, graph.Options{ClientID: sc.Clients[0].ClientID, Now: time.Now}).CollectTenant(t.Context(), tenant)
	return tenant, srv
}

func TestAppFoundByDisplayName(t *testing.T) {
	t.Parallel()
	tenant, _ := collect(t, func(sc *emulator.Scenario) {
		for i, sp := range sc.ServicePrincipals {
			if sp.AppID == graph.CollaborationAppID {
				sc.ServicePrincipals[i].AppID = "0f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0"
			}
		}
	})
	c := tenant.Consent
	if !c.OK() || c.ServicePrincipal == nil || c.ServicePrincipal.MatchedBy != "displayName" || len(c.Grants) != 1 {
		t.Fatalf("consent = %s %q sp %+v grants %d; want the app matched by display name with its grant", c.Status, c.Error, c.ServicePrincipal, len(c.Grants))
	}
}

func TestNoAppIsReadNotAnError(t *testing.T) {
	t.Parallel()
	tenant, _ := collect(t, func(sc *emulator.Scenario) {
		var keep []emulator.ServicePrincipal
		for _, sp := range sc.ServicePrincipals {
			if sp.AppID != graph.CollaborationAppID {
				keep = append(keep, sp)
			}
		}
		sc.ServicePrincipals, sc.OAuth2PermissionGrants = keep, nil
	})
	if c := tenant.Consent; !c.OK() || c.ServicePrincipal != nil || len(c.Grants) != 0 {
		t.Fatalf("consent = %s %q sp %+v; want ok with no service principal", c.Status, c.Error, c.ServicePrincipal)
	}
}

func TestApplicationCaller(t *testing.T) {
	t.Parallel()
	const spID = "2c4e6a8b-1d3f-4a5c-9e7b-0f2d4c6e8a1b"
	tenant, srv := collect(t, func(sc *emulator.Scenario) {
		sc.Caller = emulator.Caller{Type: "app", ObjectID: spID, DisplayName: "teamslink scanner",
			DirectoryRoles: []emulator.DirectoryRole{{RoleTemplateID: graph.GlobalAdministratorTemplateID, DisplayName: "Global Administrator"}}}
		sc.ServicePrincipals = append(sc.ServicePrincipals, emulator.ServicePrincipal{ID: spID, AppID: sc.Clients[0].ClientID, DisplayName: "teamslink scanner"})
	})
	c := tenant.Caller
	if !c.OK() || c.Type != graph.CallerApplication || c.ObjectID != spID {
		t.Fatalf("caller = %s %q type %q id %q; want the application's service principal", c.Status, c.Error, c.Type, c.ObjectID)
	}
	if len(c.DirectoryRoles) != 1 || c.DirectoryRoles[0].RoleTemplateID != graph.GlobalAdministratorTemplateID {
		t.Errorf("directory roles = %+v, want Global Administrator", c.DirectoryRoles)
	}
	graphRequests := 0
	for _, r := range srv.Requests() {
		if r.Host == "graph.microsoft.com" {
			graphRequests++
		}
	}
	if graphRequests != 2 {
		t.Errorf("%d Graph requests, want 2 (the $batch and its follow-up)", graphRequests)
	}
}
