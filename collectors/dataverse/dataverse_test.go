package dataverse_test

import (
	"net/url"
	"testing"
	"time"

	"github.com/teamslink/teamslink/collectors/dataverse"
	"github.com/teamslink/teamslink/internal/emulator"
	"github.com/teamslink/teamslink/internal/emulator/emulatortest"
	"github.com/teamslink/teamslink/internal/odata"
	"github.com/teamslink/teamslink/internal/snapshot"
)

// client starts the emulator with one scenario and returns a Dataverse
// client for envURL that reaches it over HTTPS with a real azidentity credential.
func client(t *testing.T, scenario, envURL string) (*odata.Client, *emulator.Server) {
	t.Helper()
	sc := emulatortest.Scenario(t, scenario)
	srv := emulatortest.Start(t, time.Now, sc)
	base, _ := url.Parse(envURL + "/api/data/v9.2/")
	c, err := odata.New(base, emulatortest.Credential(t, srv, sc), odata.Options{Now: time.Now, Scopes: []string{envURL + "/.default"}, HTTPClient: srv.Client(), Flavor: odata.Dataverse})
	if err != nil {
		t.Fatal(err)
	}
	return c, srv
}

func TestCountIsCappedAndSampleBounded(t *testing.T) {
	t.Parallel()
	c, srv := client(t, "sp-absolute-locations", "https://wingtip.crm.dynamics.com")
	env := &snapshot.Environment{URL: "https://wingtip.crm.dynamics.com", TargetTables: []string{"account", "nosuchtable"}}
	dataverse.New(c, dataverse.Options{SampleSize: 3, Now: time.Now}).CollectEnvironment(t.Context(), env)

	dl := env.DocumentLocations
	if !dl.OK() || dl.AbsoluteURLCount != 5000 || !dl.CountLimitExceeded || len(dl.Sample) != 3 {
		t.Errorf("documentLocations = %s count %d capped %v sample %d; want ok, 5000, capped, 3", dl.Status, dl.AbsoluteURLCount, dl.CountLimitExceeded, len(dl.Sample))
	}
	for _, l := range dl.Sample {
		if l.ID == "" || l.ETag == "" || l.AbsoluteURL == "" {
			t.Errorf("sampled location lacks its id, ETag or URL: %+v", l)
		}
	}
	tables := env.Entities.Tables
	if len(tables) != 2 || !tables[0].Exists || tables[1].Exists || tables[1].LogicalName != "nosuchtable" {
		t.Errorf("entities = %+v; want account (exists) and nosuchtable (does not)", tables)
	}
	if env.Organization.Record == nil || env.ID == "" || env.Caller.UserID == "" || len(env.Caller.Roles) == 0 {
		t.Errorf("organization or caller not read: %+v %+v", env.Organization, env.Caller)
	}
	var dataverseRequests int
	for _, r := range srv.Requests() {
		if r.Host == "wingtip.crm.dynamics.com" {
			dataverseRequests++
			if r.Method != "POST" || len(r.Children) == 0 {
				t.Errorf("a Dataverse request outside a $batch: %s %s", r.Method, r.Path)
			}
		}
	}
	if dataverseRequests != 2 {
		t.Errorf("%d Dataverse requests, want 2 ($batch and the roles follow-up)", dataverseRequests)
	}
}

func TestRolesThroughTeams(t *testing.T) {
	t.Parallel()
	c, _ := client(t, "not-sysadmin", "https://relecloud.crm.dynamics.com")
	env := &snapshot.Environment{URL: "https://relecloud.crm.dynamics.com", TargetTables: []string{"account"}}
	dataverse.New(c, dataverse.Options{Now: time.Now}).CollectEnvironment(t.Context(), env)
	var viaTeam bool
	for _, r := range env.Caller.Roles {
		if r.Via == "team" && r.TeamID != "" {
			viaTeam = true
		}
		if r.RoleTemplateID == dataverse.SystemAdministratorTemplateID {
			t.Errorf("caller unexpectedly holds System Administrator: %+v", r)
		}
	}
	if !env.Caller.OK() || !viaTeam {
		t.Errorf("caller = %s %q roles %+v; want a role held through a team", env.Caller.Status, env.Caller.Error, env.Caller.Roles)
	}
}
