package scan_test

import (
	"testing"
	"time"

	"github.com/teamslink/teamslink/internal/emulator"
	"github.com/teamslink/teamslink/internal/scan"
)

// TestTokensConcurrent delays the token endpoint and checks from the
// emulator's log that one tenant's token requests (Graph, SharePoint, each
// environment) overlap. Each request takes at least tokenDelay, so two
// requests of which one starts less than tokenDelay after the other ran at
// the same time: requests one after another never pass, however slow the
// machine.
func TestTokensConcurrent(t *testing.T) {
	t.Parallel()
	const tokenDelay = 300 * time.Millisecond
	scenarios := syntheticFleet(t, 1, 3, "")
	scenarios[0].Faults = []emulator.Fault{{Name: "slow-token", Kind: emulator.FaultLatency, Delay: tokenDelay.String(), Match: emulator.FaultMatch{Path: "oauth2/v2.0/token"}}}
	srv, cfg, opts := fleetConfig(t, scenarios)
	snap, err := scan.Collect(t.Context(), cfg, opts)
	if err != nil {
		t.Fatal(err)
	}
	if len(snap.Tenants) != 1 {
		t.Fatalf("%d tenants, want 1", len(snap.Tenants))
	}
	var starts []time.Time
	for _, r := range srv.Requests() {
		if r.TokenRequest {
			starts = append(starts, r.Time)
		}
	}
	if len(starts) != 5 {
		t.Fatalf("%d token requests, want 5 (Graph, SharePoint, three environments)", len(starts))
	}
	overlapping := 0
	for i := range starts {
		for j := range i {
			if d := starts[i].Sub(starts[j]).Abs(); d < tokenDelay {
				overlapping++
			}
		}
	}
	if overlapping == 0 {
		t.Errorf("no two token requests of the tenant overlap (starts %v): they went one after another", starts)
	}
}
