package cli

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/teamslink/teamslink/collectors"
	"github.com/teamslink/teamslink/collectors/dataverse"
	"github.com/teamslink/teamslink/collectors/graph"
	"github.com/teamslink/teamslink/collectors/sharepoint"
	"github.com/teamslink/teamslink/internal/emulator"
	"github.com/teamslink/teamslink/internal/finding"
	"github.com/teamslink/teamslink/internal/snapshot"
)

// missingFieldSetups say, per record the collectors read, which sample
// scenario returns rows of it and how to change that scenario so it does;
// records not named here are read from the ready scenario as it is.
var missingFieldSetups = map[string]struct {
	scenario string
	mutate   func(*emulator.Scenario)
}{
	dataverse.SiteRecord.Name:     {scenario: "sp-active-sites"},
	dataverse.LocationRecord.Name: {scenario: "sp-absolute-locations"},
	dataverse.TeamRecord.Name:     {scenario: "not-sysadmin"},
	dataverse.TeamRoleRecord.Name: {scenario: "not-sysadmin"},
	// Teams that hold roles, and their members.
	dataverse.TeamRoleLinkRecord.Name: {scenario: "role-missing-privileges"},
	dataverse.TeamMemberRecord.Name:   {scenario: "role-missing-privileges"},
	graph.GroupSettingRecord.Name:     {scenario: "group-naming-policy"},
	graph.SettingValueRecord.Name:     {scenario: "group-naming-policy"},
	// The app is found by its display name when the appId lookup finds none.
	graph.AppSearchRecord.Name: {mutate: func(s *emulator.Scenario) {
		for i := range s.ServicePrincipals {
			if s.ServicePrincipals[i].AppID == graph.CollaborationAppID {
				s.ServicePrincipals[i].AppID = "0c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f"
			}
		}
	}},
	graph.CallerAppRecord.Name:      {mutate: applicationCaller},
	graph.RoleAssignmentRecord.Name: {mutate: applicationCaller},
}

// applicationCaller makes the scan sign in as its application, which holds
// one directory role.
func applicationCaller(s *emulator.Scenario) {
	const spID = "3b8d2e4f-6a1c-4d5e-8f7a-9b0c1d2e3f4a"
	s.Caller = emulator.Caller{Type: "app", ObjectID: spID}
	s.ServicePrincipals = append(s.ServicePrincipals, emulator.ServicePrincipal{ID: spID, AppID: s.Clients[0].ClientID, DisplayName: s.Clients[0].DisplayName})
	s.RoleAssignments = append(s.RoleAssignments, emulator.RoleAssignment{ID: "ra-1", PrincipalID: spID, RoleDefinitionID: graph.GlobalAdministratorTemplateID, DirectoryScopeID: "/"})
}

// TestMissingFields serves, for every field of every record the collectors
// read (the decoders' own tables, so no field can skip this test), the
// documented response with that one field removed, and once with it null
// where null is not a documented value: its section is error naming the
// field, no rule reading the section passes, and Enhanced is neither READY
// nor ENABLED.
func TestMissingFields(t *testing.T) {
	t.Parallel()
	records := slices.Concat(dataverse.Records, graph.Records, sharepoint.Records)
	cells := 0
	for _, rec := range records {
		for _, f := range rec.Fields {
			for _, kind := range []string{"omit-field", "null-field"} {
				if kind == "null-field" && f.Nullable {
					continue
				}
				cells++
				t.Run(fmt.Sprintf("%s/%s/%s", rec.Name, f.Name, kind), func(t *testing.T) {
					t.Parallel()
					checkMissingField(t, rec, f, kind)
				})
			}
		}
	}
	if cells < 60 {
		t.Fatalf("only %d cells: the record tables lost their fields", cells)
	}
}

func checkMissingField(t *testing.T, rec collectors.Record, f collectors.Field, kind string) {
	setup := missingFieldSetups[rec.Name]
	if setup.scenario == "" {
		setup.scenario = "ready"
	}
	fault := emulator.Fault{Name: "damage", Kind: kind, Field: f.Name, Match: emulator.FaultMatch{Path: rec.Request}}
	srv, cfg, deps := faultyFleet(t, func(s *emulator.Scenario) {
		if setup.mutate != nil {
			setup.mutate(s)
		}
		s.Faults = append(s.Faults, fault)
	}, setup.scenario)
	deps.Stderr, deps.Stdout = &strings.Builder{}, &strings.Builder{}
	snap, rep := collectAndEvaluate(t, cfg, deps)
	if faultCount(srv, fault.Name) == 0 {
		t.Fatalf("no request matched %s", rec.Request)
	}
	section := sectionAt(snap, rec.Section)
	if section == nil {
		t.Fatalf("no section %s in the snapshot", rec.Section)
	}
	if section.Status != snapshot.StatusError || !slices.Contains(section.Missing, f.Name) {
		t.Fatalf("%s is %s with missing %v, want error missing %s (error: %s)", rec.Section, section.Status, section.Missing, f.Name, section.Error)
	}
	reading := 0
	for _, fd := range rep.Findings() {
		if fd.Evidence["section"] != rec.Section {
			continue
		}
		reading++
		if fd.Status != finding.StatusError {
			t.Errorf("%s is %s on an unread %s", fd.Rule, fd.Status, rec.Section)
		}
	}
	if reading == 0 {
		t.Errorf("no finding names %s as the section it could not read", rec.Section)
	}
	for _, e := range rep.Environments {
		if v := e.Verdict(finding.ExperienceEnhanced); v.Readiness == finding.Ready || v.Readiness == finding.Enabled {
			t.Errorf("%s: Enhanced %s without %s", e.URL, v.Readiness, f.Name)
		}
	}
}

// groupSettingsSection is the tenant's groupSettings section, or nil.
func groupSettingsSection(t *snapshot.Tenant) *snapshot.Section {
	if t.GroupSettings == nil {
		return nil
	}
	return &t.GroupSettings.Section
}

// rolePrivilegesSection is the environment's rolePrivileges section, or nil.
func rolePrivilegesSection(e *snapshot.Environment) *snapshot.Section {
	if e.RolePrivileges == nil {
		return nil
	}
	return &e.RolePrivileges.Section
}

// sectionAt returns the first environment's or the tenant's section at a
// path such as "environment.organization".
func sectionAt(snap *snapshot.Snapshot, path string) *snapshot.Section {
	t, e := &snap.Tenants[0], &snap.Environments[0]
	return map[string]*snapshot.Section{
		"tenant.licenses":               &t.Licenses.Section,
		"tenant.consent":                &t.Consent.Section,
		"tenant.caller":                 &t.Caller.Section,
		"tenant.sharePoint":             &t.SharePoint.Section,
		"tenant.groupSettings":          groupSettingsSection(t),
		"environment.organization":      &e.Organization.Section,
		"environment.sharePointSites":   &e.SharePointSites.Section,
		"environment.documentLocations": &e.DocumentLocations.Section,
		"environment.entities":          &e.Entities.Section,
		"environment.caller":            &e.Caller.Section,
		"environment.rolePrivileges":    rolePrivilegesSection(e),
	}[path]
}
