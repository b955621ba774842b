package graph_test

import (
	"context"
	"net/url"
	"strings"
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
func collect(t *testing.T, change func(*emulator.Scenario), also ...graph.Also) (*snapshot.Tenant, *emulator.Server) {
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
	graph.New(c, graph.Options{ClientID: sc.Clients[0].ClientID, Now: time.Now, Also: also}).CollectTenant(t.Context(), tenant)
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

func TestGroupSettings(t *testing.T) {
	t.Parallel()
	tenant, _ := collect(t, func(sc *emulator.Scenario) {
		sc.GroupSettings = []emulator.GroupSetting{{
			DisplayName: "Group.Unified",
			TemplateID:  "62375AB9-6B52-47ED-826B-58E47E0E304B",
			Values:      []emulator.SettingValue{{Name: "PrefixSuffixNamingRequirement", Value: "GRP_[GroupName]"}, {Name: "CustomBlockedWordsList", Value: ""}},
		}}
	})
	gs := tenant.GroupSettings
	if gs == nil || !gs.OK() || len(gs.Settings) != 1 {
		t.Fatalf("group settings = %+v; want one settings object read", gs)
	}
	s := gs.Settings[0]
	if s.TemplateID != "62375ab9-6b52-47ed-826b-58e47e0e304b" || s.DisplayName != "Group.Unified" || len(s.Values) != 2 || s.Values[0].Value != "GRP_[GroupName]" || s.Values[1].Value != "" {
		t.Errorf("setting = %+v; want the template id lower-cased and both values, the empty one kept", s)
	}
}

func TestNoGroupSettingsIsReadNotAnError(t *testing.T) {
	t.Parallel()
	tenant, _ := collect(t, func(*emulator.Scenario) {})
	if gs := tenant.GroupSettings; gs == nil || !gs.OK() || gs.Settings == nil || len(gs.Settings) != 0 {
		t.Fatalf("group settings = %+v; want ok with an empty list", gs)
	}
}

func TestGroupSettingsForbidden(t *testing.T) {
	t.Parallel()
	tenant, _ := collect(t, func(sc *emulator.Scenario) {
		sc.Faults = append(sc.Faults, emulator.Fault{Kind: emulator.FaultStatus, Status: 403, Match: emulator.FaultMatch{Path: "groupSettings"}})
	})
	gs := tenant.GroupSettings
	if gs == nil || gs.Status != snapshot.StatusError || gs.HTTPStatus != 403 || len(gs.Settings) != 0 {
		t.Fatalf("group settings = %+v; want error 403 with no settings", gs)
	}
	if !tenant.Licenses.OK() || !tenant.Consent.OK() {
		t.Errorf("a 403 on groupSettings spoilt other sections: licenses %s, consent %s", tenant.Licenses.Status, tenant.Consent.Status)
	}
}

// TestAlsoTravelsInTheFirstBatch: another collector's read goes in the first
// $batch, its answer (or the $batch's error) is handed over, and the tenant
// still costs two Graph requests.
func TestAlsoTravelsInTheFirstBatch(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		fault     *emulator.Fault
		wantBody  string // in the answer handed over
		wantErr   string // of the $batch, when it failed
		wantGraph int    // Graph requests of the tenant
	}{
		{name: "answered", wantBody: `"webUrl":"https://contoso.sharepoint.com"`, wantGraph: 2},
		{name: "the $batch refused", fault: &emulator.Fault{Kind: emulator.FaultStatus, Status: 403, Match: emulator.FaultMatch{Path: `/\$batch$`, Scope: "outer"}},
			wantErr: "$batch", wantGraph: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var (
				got    odata.GraphResponse
				gotErr error
				calls  int
			)
			tenant, srv := collect(t, func(sc *emulator.Scenario) {
				if tt.fault != nil {
					sc.Faults = append(sc.Faults, *tt.fault)
				}
			}, graph.Also{URL: "sites/root?$select=webUrl", Then: func(_ context.Context, tn *snapshot.Tenant, resp odata.GraphResponse, err error) {
				calls++
				got, gotErr = resp, err
				tn.SharePoint.AdminURL = "set by Then"
			}})
			if calls != 1 {
				t.Fatalf("Then called %d times, want once", calls)
			}
			if tenant.SharePoint.AdminURL != "set by Then" {
				t.Errorf("Then's tenant is not the collector's")
			}
			switch {
			case tt.wantErr != "":
				if gotErr == nil || !strings.Contains(gotErr.Error(), tt.wantErr) {
					t.Errorf("Then got error %v, want one containing %q", gotErr, tt.wantErr)
				}
				if tenant.Licenses.Status != snapshot.StatusError {
					t.Errorf("licenses %s after a failed $batch, want error", tenant.Licenses.Status)
				}
			case gotErr != nil || got.Err() != nil || !strings.Contains(string(got.Body), tt.wantBody):
				t.Errorf("Then got %d %s (error %v), want an answer holding %s", got.Status, got.Body, gotErr, tt.wantBody)
			}
			graphRequests := 0
			for _, r := range srv.Requests() {
				if r.Host == "graph.microsoft.com" {
					graphRequests++
				}
			}
			if graphRequests != tt.wantGraph {
				t.Errorf("%d Graph requests, want %d", graphRequests, tt.wantGraph)
			}
		})
	}
}

// TestAlsoPanicIsTheCollectors: a panic in Then reaches the collector's
// goroutine, where collectors.Collect records it, instead of ending the
// process from a goroutine of its own.
func TestAlsoPanicIsTheCollectors(t *testing.T) {
	t.Parallel()
	defer func() {
		if v := recover(); v != "boom" {
			t.Errorf("recovered %v, want Then's panic", v)
		}
	}()
	collect(t, func(*emulator.Scenario) {}, graph.Also{URL: "sites/root", Then: func(context.Context, *snapshot.Tenant, odata.GraphResponse, error) { panic("boom") }})
	t.Error("CollectTenant returned although Then panicked")
}
