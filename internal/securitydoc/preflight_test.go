package securitydoc

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/teamslink/teamslink/internal/config"
	"github.com/teamslink/teamslink/internal/emulator"
	"github.com/teamslink/teamslink/internal/emulator/emulatortest"
	"github.com/teamslink/teamslink/internal/permissions"
	"github.com/teamslink/teamslink/internal/scan"
)

// serviceOf tells which service an emulator host stands for, and the root
// the table's paths are relative to (as internal/permissions' own test).
func serviceOf(host string) (permissions.Service, string) {
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

// TestPreflightOnlyReads runs `permissions check`'s preflight over the
// emulator, for a person and an application, and holds every request it
// made, batch parts included, to the scan rows of the permissions table:
// the preflight reads as a scan does and writes nothing.
func TestPreflightOnlyReads(t *testing.T) {
	t.Parallel()
	all, err := emulator.LoadScenarios(filepath.Join(repoRoot, "testdata", "scenarios"))
	if err != nil {
		t.Fatal(err)
	}
	var scenarios []*emulator.Scenario
	for _, s := range all {
		switch s.Name {
		case "ready":
		case "not-global-admin":
			s.Caller.Type = "app"
		default:
			continue
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
		for _, e := range sc.Environments {
			tn.Environments = append(tn.Environments, config.Environment{URL: e.URL})
		}
		cfg.Tenants = append(cfg.Tenants, tn)
	}
	cfg.ApplyDefaults()
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	secret := scenarios[0].Clients[0].Secret
	res, err := scan.Preflight(t.Context(), cfg, scan.Options{Now: time.Now, Version: "test", LookupEnv: func(string) (string, bool) { return secret, true }})
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 2 || res[0].SignInError != "" || res[1].SignInError != "" {
		t.Fatalf("preflight %+v, want two tenants signed in", res)
	}
	made := 0
	var check func(r emulator.LoggedRequest)
	check = func(r emulator.LoggedRequest) {
		svc, root := serviceOf(r.Host)
		path, ok := strings.CutPrefix(r.Path, root)
		row, matched := permissions.Match(svc, r.Method, path)
		switch {
		case !ok || !matched:
			t.Errorf("%s %s %s: no row of the permissions table matches this request", svc, r.Method, r.Path)
		case !row.In(permissions.ModeScan):
			t.Errorf("%s %s %s: matches %s, which is not a read of a scan", svc, r.Method, r.Path, row.ID)
		default:
			made++
		}
		for _, c := range r.Children {
			check(c)
		}
	}
	for _, r := range srv.Requests() {
		check(r)
	}
	if made < 10 {
		t.Errorf("only %d requests matched: the preflight did not run", made)
	}
}
