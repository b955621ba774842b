package permissions_test

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/teamslink/teamslink/collectors"
	"github.com/teamslink/teamslink/collectors/dataverse"
	"github.com/teamslink/teamslink/collectors/graph"
	"github.com/teamslink/teamslink/collectors/sharepoint"
	"github.com/teamslink/teamslink/internal/config"
	"github.com/teamslink/teamslink/internal/emulator"
	"github.com/teamslink/teamslink/internal/emulator/emulatortest"
	"github.com/teamslink/teamslink/internal/engine"
	"github.com/teamslink/teamslink/internal/permissions"
	"github.com/teamslink/teamslink/internal/scan"
)

// service tells which service an emulator host stands for, and the service
// root the table's paths are relative to.
func service(host string) (permissions.Service, string) {
	switch {
	case strings.HasPrefix(host, "login."):
		return permissions.Login, "/"
	case strings.HasPrefix(host, "graph.") || strings.Contains(host, "-graph.") || strings.HasPrefix(host, "microsoftgraph."):
		return permissions.Graph, "/v1.0/"
	case strings.Contains(host, ".sharepoint."):
		return permissions.SharePoint, "/"
	case strings.HasPrefix(host, "api.bap."):
		return permissions.BAP, "/"
	case strings.HasPrefix(host, "globaldisco."):
		return permissions.GDS, "/api/discovery/v2.0/"
	}
	return permissions.Dataverse, "/api/data/v9.2/"
}

// TestTableCoversTheCollectors runs the collectors, the discovery and the
// sign-in over the emulator (real sockets, the demo's scenarios, both
// discovery services, a person and an application caller, an admin site
// configured and one found from Graph) and holds the table to the request
// log: every request must match a row of mode scan, and every scan row that
// has no condition must have been made.
func TestTableCoversTheCollectors(t *testing.T) {
	t.Parallel()
	all, err := emulator.LoadScenarios(filepath.Join("..", "..", "testdata", "scenarios"))
	if err != nil {
		t.Fatal(err)
	}
	var scenarios []*emulator.Scenario
	for _, s := range all {
		if s.Name == "not-global-admin" {
			s.Caller.Type = "app" // an application caller: role assignments
		}
		scenarios = append(scenarios, s)
	}
	srv := emulatortest.Start(t, time.Now, scenarios...)

	cfg := &config.Config{}
	for _, sc := range scenarios {
		tn := config.Tenant{
			ID: sc.Tenant.ID, Name: sc.Tenant.Name,
			Auth:      config.Auth{Method: config.MethodClientSecret, ClientID: sc.Clients[0].ClientID, SecretEnv: "TEAMSLINK_EMULATOR_SECRET"},
			Endpoints: config.Endpoints{ConnectTo: srv.Addr(), CAFile: srv.CAFile()},
		}
		if sc.SharePoint != nil && sc.Name != "ready" { // ready finds its admin site from Graph
			tn.SharePointAdminURL = sc.SharePoint.AdminURL
		}
		switch sc.Name {
		case "sp-800503ca-all":
			tn.Discover = &config.Discover{Source: config.SourceBAP}
		case "enabled":
			tn.Discover = &config.Discover{Source: config.SourceGDS}
		default:
			for _, e := range sc.Environments {
				tn.Environments = append(tn.Environments, config.Environment{URL: e.URL})
			}
		}
		cfg.Tenants = append(cfg.Tenants, tn)
	}
	cfg.ApplyDefaults()
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	secret := scenarios[0].Clients[0].Secret
	snap, err := scan.Collect(t.Context(), cfg, scan.Options{
		Now: time.Now, Version: "test",
		LookupEnv: func(string) (string, bool) { return secret, true },
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(snap.Tenants) != len(scenarios) {
		t.Fatalf("collected %d tenants, want %d", len(snap.Tenants), len(scenarios))
	}

	made := map[string]int{}
	var check func(r emulator.LoggedRequest)
	check = func(r emulator.LoggedRequest) {
		svc, root := service(r.Host)
		path, ok := strings.CutPrefix(r.Path, root)
		if !ok {
			t.Errorf("%s https://%s%s: not below the %s root %s", r.Method, r.Host, r.Path, svc, root)
			return
		}
		row, ok := permissions.Match(svc, r.Method, path)
		switch {
		case !ok:
			t.Errorf("%s %s %s: no row of the permissions table matches this request", svc, r.Method, path)
		case !row.In(permissions.ModeScan):
			t.Errorf("%s %s %s: matches row %s, which is not a scan row", svc, r.Method, path, row.ID)
		default:
			made[row.ID]++
		}
		for _, child := range r.Children {
			check(child)
		}
	}
	for _, r := range srv.Requests() {
		check(r)
	}
	for _, row := range permissions.ForMode(permissions.ModeScan) {
		if made[row.ID] == 0 && row.When == "" {
			t.Errorf("row %s (%s %s %s) has no condition, but the scan never made it", row.ID, row.Service, row.Method, row.Path)
		}
	}
	// The conditional rows the fleet above sets up must be made too, so
	// that a pattern that no longer matches is caught.
	for _, id := range []string{"graph.callerServicePrincipal", "graph.oauth2PermissionGrants", "graph.roleAssignments", "graph.rootSite", "dataverse.callerRoles", "dataverse.teamMembers", "dataverse.callerTeams", "dataverse.heldRoles", "dataverse.rolePrivileges", "bap.environments", "gds.instances"} {
		if made[id] == 0 {
			t.Errorf("row %s: the fleet meets its condition, but no request matched it", id)
		}
	}
	t.Logf("requests per row: %v", made)
}

// TestTableRows checks the rows' shape: ids unique, a mode each, the
// planned rows remediation's only, every scan read tied to a section and
// its rules, and every rule a rule of the catalogue.
func TestTableRows(t *testing.T) {
	t.Parallel()
	ids := map[string]bool{}
	for _, r := range permissions.Table() {
		t.Run(r.ID, func(t *testing.T) {
			t.Parallel()
			if len(r.Modes) == 0 || r.Facts == "" || r.Path == "" || r.Method == "" {
				t.Errorf("row %s lacks modes, facts, path or method: %+v", r.ID, r)
			}
			if r.Method == "GET" && r.Section != "" && len(r.Rules) == 0 {
				t.Errorf("row %s fills %s but names no rule", r.ID, r.Section)
			}
			if r.Section != "" && !strings.HasPrefix(r.Section, "tenant.") && !strings.HasPrefix(r.Section, "environment.") {
				t.Errorf("row %s: section %q", r.ID, r.Section)
			}
		})
		if ids[r.ID] {
			t.Errorf("duplicate row id %s", r.ID)
		}
		ids[r.ID] = true
	}
}

// TestRulesExist checks that every rule the table names is in the catalogue.
func TestRulesExist(t *testing.T) {
	t.Parallel()
	eng, err := engine.New(t.Context(), engine.Config{Timeout: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	known := map[string]bool{}
	for _, r := range eng.Rules() {
		known[r.ID] = true
	}
	for _, r := range permissions.Table() {
		for _, id := range r.Rules {
			if !known[id] {
				t.Errorf("row %s names rule %s, which the catalogue lacks", r.ID, id)
			}
		}
	}
}

// TestRecordsHaveRows ties the collectors' row kinds to the table: every
// record a collector decodes fills a section that a row of the table, of
// the record's service, fills.
func TestRecordsHaveRows(t *testing.T) {
	t.Parallel()
	kinds := []struct {
		service permissions.Service
		records []collectors.Record
	}{
		{permissions.Graph, graph.Records},
		{permissions.Dataverse, dataverse.Records},
		{permissions.SharePoint, sharepoint.Records},
	}
	for _, k := range kinds {
		for _, rec := range k.records {
			found := slices.ContainsFunc(permissions.ForMode(permissions.ModeScan), func(r permissions.Request) bool {
				return r.Service == k.service && r.Section == rec.Section
			})
			if !found {
				t.Errorf("%s record %q fills %s, which no %s row of the table fills", k.service, rec.Name, rec.Section, k.service)
			}
		}
	}
}
