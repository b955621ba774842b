package dataverse_test

import (
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/teamslink/teamslink/collectors/dataverse"
	"github.com/teamslink/teamslink/internal/emulator"
	"github.com/teamslink/teamslink/internal/emulator/emulatortest"
	"github.com/teamslink/teamslink/internal/odata"
	"github.com/teamslink/teamslink/internal/snapshot"
)

const gdiEnv = "https://graphicdesign.crm.dynamics.com"

// collectPrivileges collects the role-missing-privileges environment, with
// the scenario changed first, and returns it with the server.
func collectPrivileges(t *testing.T, opts dataverse.Options, change func(*emulator.Scenario)) (*snapshot.Environment, *emulator.Server) {
	t.Helper()
	sc := emulatortest.Scenario(t, "role-missing-privileges")
	if change != nil {
		change(sc)
	}
	srv := emulatortest.Start(t, time.Now, sc)
	base, _ := url.Parse(gdiEnv + "/api/data/v9.2/")
	c, err := odata.New(base, emulatortest.Credential(t, srv, sc), odata.Options{Now: time.Now, Scopes: []string{gdiEnv + "/.default"}, HTTPClient: srv.Client(), Flavor: odata.Dataverse, MaxRetries: -1})
	if err != nil {
		t.Fatal(err)
	}
	opts.Now = time.Now
	env := &snapshot.Environment{URL: gdiEnv, TargetTables: []string{"account"}}
	dataverse.New(c, opts).CollectEnvironment(t.Context(), env)
	return env, srv
}

func roleSummary(rp *snapshot.RolePrivileges) []string {
	var out []string
	for _, r := range rp.Roles {
		out = append(out, r.Name+":"+strings.Repeat("u", r.UserCount)+":"+strings.Join(missingFrom(r.Privileges), ","))
	}
	return out
}

func missingFrom(held []string) []string {
	var out []string
	for _, p := range dataverse.PinPrivileges {
		if !slices.Contains(held, p) {
			out = append(out, p)
		}
	}
	return out
}

// TestRolePrivileges: the roles enabled users hold, directly or through a
// team, each with its number of enabled holders and the pinning privileges
// it grants; a role only a disabled user holds is left out; two requests.
func TestRolePrivileges(t *testing.T) {
	t.Parallel()
	env, srv := collectPrivileges(t, dataverse.Options{}, nil)
	rp := env.RolePrivileges
	if rp == nil || !rp.OK() {
		t.Fatalf("rolePrivileges = %+v; want ok", rp)
	}
	if len(rp.Privileges) != 12 || rp.EnabledUserCount != 4 || rp.EnabledUserCountLimitExceeded || len(rp.Truncated) != 0 {
		t.Errorf("privileges %d, enabled users %d (capped %v), truncated %v; want 12, 4, false, none", len(rp.Privileges), rp.EnabledUserCount, rp.EnabledUserCountLimitExceeded, rp.Truncated)
	}
	want := []string{
		"Field Agent:uuu:prvCreateSharePointSite",
		"Salesperson:uu:prvAppendToSharePointSite,prvDeleteSharePointDocumentLocation",
		"Marketing Professional:u:",
		"System Administrator:u:",
	}
	if got := roleSummary(rp); !slices.Equal(got, want) {
		t.Errorf("roles\n got %v\nwant %v", got, want)
	}
	if !strings.Contains(rp.Source, "/privileges?$select=privilegeid,name&$filter=name eq 'prvCreateSharePointSite' or ") {
		t.Errorf("source = %q, want the privileges read", rp.Source)
	}
	if n := dataverseRequests(srv, "graphicdesign.crm.dynamics.com"); n != 2 {
		t.Errorf("%d Dataverse requests, want 2 (the $batch and its follow-up)", n)
	}
	if !env.Caller.OK() || len(env.Caller.Roles) != 1 {
		t.Errorf("caller = %s %q %+v; want System Administrator read in the same follow-up", env.Caller.Status, env.Caller.Error, env.Caller.Roles)
	}
}

func dataverseRequests(srv *emulator.Server, host string) int {
	n := 0
	for _, r := range srv.Requests() {
		if r.Host == host {
			n++
		}
	}
	return n
}

// TestPrivilegeNamesNotFound: an environment without the inferred
// privilege names keeps the section ok with the names it found; a role is
// never said to grant a privilege that was not found.
func TestPrivilegeNamesNotFound(t *testing.T) {
	t.Parallel()
	env, _ := collectPrivileges(t, dataverse.Options{}, func(sc *emulator.Scenario) {
		no := false
		e := &sc.Environments[0]
		e.SeedPrivileges = &no
		e.Privileges = []emulator.Row{{"privilegeid": "0d1e2f3a-4b5c-4d6e-8f7a-9b0c1d2e3f4a", "name": "prvReadSharePointSite"}}
		for i := range e.Roles {
			delete(e.Roles[i], "roleprivileges_association")
		}
	})
	rp := env.RolePrivileges
	if !rp.OK() || len(rp.Privileges) != 1 || rp.Privileges[0].Name != "prvReadSharePointSite" {
		t.Fatalf("rolePrivileges = %s %q privileges %+v; want ok with prvReadSharePointSite only", rp.Status, rp.Error, rp.Privileges)
	}
	for _, r := range rp.Roles {
		if !slices.Equal(r.Privileges, []string{"prvReadSharePointSite"}) {
			t.Errorf("role %s grants %v; want only the privilege found", r.Name, r.Privileges)
		}
	}
}

// TestPrivilegeLinksTruncated: a link read with more rows than one page
// is named in Truncated, and its counts are lower bounds.
func TestPrivilegeLinksTruncated(t *testing.T) {
	t.Parallel()
	env, srv := collectPrivileges(t, dataverse.Options{LinkPageSize: 2}, nil)
	rp := env.RolePrivileges
	if !rp.OK() {
		t.Fatalf("rolePrivileges = %s %q; want ok", rp.Status, rp.Error)
	}
	for _, read := range []string{"systemusers", "systemuserrolescollection"} {
		if !slices.Contains(rp.Truncated, read) {
			t.Errorf("truncated %v lacks %s", rp.Truncated, read)
		}
	}
	if rp.EnabledUserCount != 4 {
		t.Errorf("enabled users = %d; the server's count is not bounded by the page", rp.EnabledUserCount)
	}
	if n := dataverseRequests(srv, "graphicdesign.crm.dynamics.com"); n != 2 {
		t.Errorf("%d Dataverse requests, want 2: no next page is followed", n)
	}
}

// TestPrivilegesForbidden: a link read that fails makes the section an
// error with its status, and spoils no other section.
func TestPrivilegesForbidden(t *testing.T) {
	t.Parallel()
	env, _ := collectPrivileges(t, dataverse.Options{}, func(sc *emulator.Scenario) {
		sc.Faults = append(sc.Faults, emulator.Fault{Kind: emulator.FaultStatus, Status: 403, Match: emulator.FaultMatch{Path: "systemuserrolescollection"}})
	})
	rp := env.RolePrivileges
	if rp.Status != snapshot.StatusError || rp.HTTPStatus != 403 || len(rp.Roles) != 0 || !strings.Contains(rp.Source, "systemuserrolescollection") {
		t.Fatalf("rolePrivileges = %s %d %q roles %d; want error 403 from systemuserrolescollection", rp.Status, rp.HTTPStatus, rp.Source, len(rp.Roles))
	}
	if !env.Caller.OK() || !env.Organization.OK() || !env.Entities.OK() {
		t.Errorf("other sections spoilt: caller %s, organization %s, entities %s", env.Caller.Status, env.Organization.Status, env.Entities.Status)
	}
}

// TestFollowUpFailsBoth: when the follow-up $batch fails, the caller and
// the privileges sections are errors and the first batch's sections stand.
func TestFollowUpFailsBoth(t *testing.T) {
	t.Parallel()
	env, _ := collectPrivileges(t, dataverse.Options{}, func(sc *emulator.Scenario) {
		// A reset inside the follow-up takes the whole $batch down.
		sc.Faults = append(sc.Faults, emulator.Fault{Kind: emulator.FaultReset, Match: emulator.FaultMatch{Path: "roleprivilegescollection", Scope: "inner"}})
	})
	if env.Caller.Status != snapshot.StatusError || env.RolePrivileges.Status != snapshot.StatusError {
		t.Fatalf("caller %s, rolePrivileges %s; want both errors", env.Caller.Status, env.RolePrivileges.Status)
	}
	if !env.Organization.OK() || !env.Entities.OK() {
		t.Errorf("first-batch sections spoilt: organization %s, entities %s", env.Organization.Status, env.Entities.Status)
	}
}
