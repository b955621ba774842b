package discovery_test

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/teamslink/teamslink/internal/discovery"
	"github.com/teamslink/teamslink/internal/emulator"
	"github.com/teamslink/teamslink/internal/emulator/emulatortest"
	"github.com/teamslink/teamslink/internal/odata"
)

// lister starts the emulator with the scenario, changed by change, and
// returns a lister of source signed in as its first client over real
// sockets, with retries that do not wait.
func lister(t *testing.T, name string, source discovery.Source, change func(*emulator.Scenario)) (discovery.Lister, *emulator.Server) {
	t.Helper()
	sc := emulatortest.Scenario(t, name)
	if change != nil {
		change(sc)
	}
	srv := emulatortest.Start(t, time.Now, sc)
	opts := odata.Options{
		Now:        time.Now,
		HTTPClient: srv.Client(),
		Sleep:      func(ctx context.Context, _ time.Duration) error { return ctx.Err() },
	}
	var base string
	switch source {
	case discovery.SourceBAP:
		base, opts.Flavor, opts.Scopes = "https://api.bap.microsoft.com/", odata.Graph, []string{"https://service.powerapps.com//.default"}
	case discovery.SourceGDS:
		base, opts.Flavor, opts.Scopes = "https://globaldisco.crm.dynamics.com"+discovery.GDSRoot, odata.Dataverse, []string{"https://globaldisco.crm.dynamics.com/.default"}
	}
	u, _ := url.Parse(base)
	c, err := odata.New(u, emulatortest.Credential(t, srv, sc), opts)
	if err != nil {
		t.Fatal(err)
	}
	if source == discovery.SourceBAP {
		return discovery.NewBAP(c), srv
	}
	return discovery.NewGDS(c), srv
}

// summary is "name type state url" per environment.
func summary(envs []discovery.Environment) string {
	var lines []string
	for _, e := range envs {
		lines = append(lines, strings.Join([]string{e.Name, e.Type, e.State, e.URL}, " "))
	}
	return strings.Join(lines, "\n")
}

// TestDiscoverOverTheEmulator: both services list the Fabrikam scenario's
// environments, two to a page, and the filters pick from them.
func TestDiscoverOverTheEmulator(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		source  discovery.Source
		filter  discovery.Filter
		found   string
		matched []string
	}{
		{
			name:   "admin API, enabled",
			source: discovery.SourceBAP,
			filter: discovery.Filter{States: []string{discovery.StateEnabled}},
			found: "Fabrikam Sales Production Enabled https://fabrikam.crm4.dynamics.com\n" +
				"Fabrikam Dev Developer Enabled https://fabrikam-dev.crm4.dynamics.com\n" +
				"Fabrikam Archive Sandbox Disabled https://fabrikam-archive.crm4.dynamics.com\n" +
				"Fabrikam Flows Production Enabled ",
			matched: []string{"https://fabrikam.crm4.dynamics.com", "https://fabrikam-dev.crm4.dynamics.com"},
		},
		{
			name:    "admin API, default environment only",
			source:  discovery.SourceBAP,
			filter:  discovery.Filter{Types: []string{discovery.TypeDefault}},
			matched: []string{"https://fabrikam.crm4.dynamics.com"},
		},
		{
			name:    "admin API, sandboxes of any state, excluding archives",
			source:  discovery.SourceBAP,
			filter:  discovery.Filter{Types: []string{"sandbox", "developer"}, Exclude: []string{"*archive*"}},
			matched: []string{"https://fabrikam-dev.crm4.dynamics.com"},
		},
		{
			name:   "discovery service, enabled, by host pattern",
			source: discovery.SourceGDS,
			filter: discovery.Filter{States: []string{discovery.StateEnabled}, Include: []string{"fabrikam*.crm4.dynamics.com"}},
			found: "Fabrikam Sales  Enabled https://fabrikam.crm4.dynamics.com\n" +
				"Fabrikam Dev  Enabled https://fabrikam-dev.crm4.dynamics.com\n" +
				"Fabrikam Archive  Disabled https://fabrikam-archive.crm4.dynamics.com",
			matched: []string{"https://fabrikam.crm4.dynamics.com", "https://fabrikam-dev.crm4.dynamics.com"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			l, srv := lister(t, "sp-800503ca-all", tt.source, nil)
			res, err := discovery.Discover(t.Context(), l, tt.filter)
			if err != nil {
				t.Fatal(err)
			}
			var found []discovery.Environment
			for _, d := range res.Found {
				found = append(found, d.Environment)
			}
			if tt.found != "" && summary(found) != tt.found {
				t.Errorf("found\n%s\nwant\n%s", summary(found), tt.found)
			}
			var matched []string
			for _, e := range res.Matched() {
				matched = append(matched, e.URL)
			}
			if strings.Join(matched, " ") != strings.Join(tt.matched, " ") {
				t.Errorf("matched %v, want %v", matched, tt.matched)
			}
			// Two to a page: the second page came through the next link.
			pages := 0
			for _, r := range srv.Requests() {
				if (r.Host == "api.bap.microsoft.com" || r.Host == "globaldisco.crm.dynamics.com") && r.Status == 200 {
					pages++
				}
			}
			if pages != 2 {
				t.Errorf("%d pages read, want 2", pages)
			}
		})
	}
}

// TestDiscoverFailures: what the service refuses, or answers with nothing,
// is an error for the tenant, never an empty list.
func TestDiscoverFailures(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		source discovery.Source
		change func(*emulator.Scenario)
		is     error
		decode bool // a *odata.DecodeError
		text   string
	}{
		{
			name:   "admin API 403: not a management app",
			source: discovery.SourceBAP,
			change: func(sc *emulator.Scenario) { sc.Discovery.AccessDenied = true },
			is:     odata.ErrForbidden,
			text:   "403 Forbidden: Forbidden: The caller with object id",
		},
		{
			name:   "discovery service 403",
			source: discovery.SourceGDS,
			change: func(sc *emulator.Scenario) { sc.Discovery.AccessDenied = true },
			is:     odata.ErrForbidden,
			text:   "discover environments through the Global Discovery Service: list instances: read page 1: GET https://globaldisco.crm.dynamics.com/api/discovery/v2.0/Instances",
		},
		{
			name:   "403 fault",
			source: discovery.SourceBAP,
			change: func(sc *emulator.Scenario) {
				sc.Faults = []emulator.Fault{{Kind: emulator.FaultStatus, Status: 403, Match: emulator.FaultMatch{Host: "api.bap.microsoft.com"}}}
			},
			is: odata.ErrForbidden,
		},
		{
			name:   "503 after retries",
			source: discovery.SourceBAP,
			change: func(sc *emulator.Scenario) {
				sc.Faults = []emulator.Fault{{Kind: emulator.FaultStatus, Status: 503, Match: emulator.FaultMatch{Host: "api.bap.microsoft.com", Method: "GET"}}}
			},
			is: odata.ErrThrottled,
		},
		{
			name:   "500 on the second page",
			source: discovery.SourceBAP,
			change: func(sc *emulator.Scenario) {
				sc.Faults = []emulator.Fault{{Kind: emulator.FaultStatus, Status: 500, Match: emulator.FaultMatch{Host: "api.bap.microsoft.com", Path: "skiptoken"}}}
			},
			text: "page 2: GET https://api.bap.microsoft.com/",
		},
		{
			name:   "malformed body",
			source: discovery.SourceBAP,
			change: func(sc *emulator.Scenario) {
				sc.Faults = []emulator.Fault{{Kind: emulator.FaultMalformed, Match: emulator.FaultMatch{Host: "api.bap.microsoft.com"}}}
			},
			decode: true,
		},
		{
			name:   "an environment without its name",
			source: discovery.SourceBAP,
			change: func(sc *emulator.Scenario) {
				sc.Faults = []emulator.Fault{{Kind: emulator.FaultOmitField, Field: "name", Match: emulator.FaultMatch{Host: "api.bap.microsoft.com"}}}
			},
			text: `value[0]: no "name" (the environment id)`,
		},
		{
			name:   "no environment at all",
			source: discovery.SourceBAP,
			change: func(sc *emulator.Scenario) { sc.Environments, sc.Discovery = nil, nil },
			is:     discovery.ErrNoEnvironments,
		},
		{
			name:   "no instance for the user",
			source: discovery.SourceGDS,
			change: func(sc *emulator.Scenario) {
				sc.Discovery.Environments = []emulator.DiscoveredEnvironment{{Name: "no database"}}
			},
			is: discovery.ErrNoEnvironments,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			l, _ := lister(t, "sp-800503ca-all", tt.source, tt.change)
			res, err := discovery.Discover(t.Context(), l, discovery.Filter{})
			if err == nil {
				t.Fatalf("Discover = %d environments, want an error", len(res.Found))
			}
			var de *discovery.Error
			if !errors.As(err, &de) || de.Source != tt.source {
				t.Fatalf("error %v is not a *discovery.Error of %s", err, tt.source)
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("error %v is not %v", err, tt.is)
			}
			if tt.decode && !errors.As(err, new(*odata.DecodeError)) {
				t.Errorf("error %v is not a *odata.DecodeError", err)
			}
			if !strings.Contains(err.Error(), tt.text) {
				t.Errorf("error %q lacks %q", err, tt.text)
			}
		})
	}
}
