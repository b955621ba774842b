package cli

import (
	"strings"
	"testing"

	"github.com/teamslink/teamslink/internal/emulator"
	"github.com/teamslink/teamslink/internal/finding"
)

// TestFailedLookupsDecideNothing collects the ready tenant with one Graph
// lookup failing, in a state where a fallback would pass: what depended on
// the lookup is error, Enhanced is UNKNOWN, and the run exits 3.
func TestFailedLookupsDecideNothing(t *testing.T) {
	t.Parallel()
	const otherAPI = "2f0e6c8a-1b3d-4e5f-9a7b-6c5d4e3f2a1b"
	tests := []struct {
		name    string
		mutate  func(*emulator.Scenario)
		fault   emulator.Fault
		rule    string
		section string
	}{
		{
			// The grant targets another API: only Graph's own service
			// principal shows it is not the consent the feature needs.
			name:    "Graph's service principal lookup fails",
			mutate:  func(s *emulator.Scenario) { s.OAuth2PermissionGrants[0].ResourceID = otherAPI },
			fault:   emulator.Fault{Name: "graph-sp", Kind: "status", Status: 503, Match: emulator.FaultMatch{Host: "graph.microsoft.com", Scope: "inner", Path: `servicePrincipals\(appId='00000003-0000-0000-c000-000000000000'\)`}},
			rule:    "TL-CONSENT-001",
			section: "tenant.consent",
		},
		{
			// The caller is a signed-in user who is not a Global
			// Administrator, and the scanner's app has a service principal
			// (as every real app has): a failed /me must not make the
			// caller that application.
			name: "GET /me fails",
			mutate: func(s *emulator.Scenario) {
				s.Caller.DirectoryRoles = nil
				s.ServicePrincipals = append(s.ServicePrincipals, emulator.ServicePrincipal{ID: "3b8d2e4f-6a1c-4d5e-8f7a-9b0c1d2e3f4a", AppID: s.Clients[0].ClientID, DisplayName: s.Clients[0].DisplayName})
			},
			fault:   emulator.Fault{Name: "me", Kind: "status", Status: 503, Match: emulator.FaultMatch{Host: "graph.microsoft.com", Scope: "inner", Path: `/me\?`}},
			rule:    "TL-ROLE-002",
			section: "tenant.caller",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv, cfg, deps := faultyFleet(t, func(s *emulator.Scenario) {
				tt.mutate(s)
				s.Faults = append(s.Faults, tt.fault)
			}, "ready")
			deps.Stderr, deps.Stdout = &strings.Builder{}, &strings.Builder{}
			snap, rep := collectAndEvaluate(t, cfg, deps)
			if faultCount(srv, tt.fault.Name) == 0 {
				t.Fatal("the fault never fired")
			}
			if got := statusOf(rep, tt.rule); got != finding.StatusError {
				t.Errorf("%s is %s, want error", tt.rule, got)
			}
			tenant := snap.Tenants[0]
			sections := map[string]string{"tenant.consent": string(tenant.Consent.Status), "tenant.caller": string(tenant.Caller.Status)}
			if got := sections[tt.section]; got != "error" {
				t.Errorf("%s is %s, want error", tt.section, got)
			}
			if v := rep.Environments[0].Verdict(finding.ExperienceEnhanced); v.Readiness != finding.Unknown {
				t.Errorf("Enhanced is %s, want UNKNOWN", v.Readiness)
			}
			if code := rep.ExitCode(finding.FailOnFail); code != finding.ExitIncomplete {
				t.Errorf("exit code %d, want %d", code, finding.ExitIncomplete)
			}
		})
	}
}
