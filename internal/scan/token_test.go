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

// TestTokensPrefetchedAhead checks from the emulator's log that a fleet's
// tokens are fetched a bounded window ahead of its collection, not all at
// the start: when a tenant asks for its first token, fewer than the window
// of the other tenants have asked for theirs and still have a request to
// start (a place is given back when a tenant's collection ends). With one
// collector slot, a prefetch of every tenant at the start fails it.
func TestTokensPrefetchedAhead(t *testing.T) {
	t.Parallel()
	const tenants = 3 * scan.PrefetchAhead
	srv, cfg, opts := fleetConfig(t, syntheticFleet(t, tenants, 1, ""))
	opts.Concurrency = 1
	snap, err := scan.Collect(t.Context(), cfg, opts)
	if err != nil {
		t.Fatal(err)
	}
	if len(snap.Tenants) != tenants {
		t.Fatalf("%d tenants, want %d", len(snap.Tenants), tenants)
	}
	firstToken, lastRequest := map[string]time.Time{}, map[string]time.Time{}
	for _, r := range srv.Requests() {
		switch {
		case r.Tenant == "":
			t.Fatalf("request %s %s%s logged without its tenant", r.Method, r.Host, r.Path)
		case r.TokenRequest:
			if at, ok := firstToken[r.Tenant]; !ok || r.Time.Before(at) {
				firstToken[r.Tenant] = r.Time
			}
		case r.Time.After(lastRequest[r.Tenant]):
			lastRequest[r.Tenant] = r.Time
		}
	}
	if len(firstToken) != tenants || len(lastRequest) != tenants {
		t.Fatalf("%d tenants asked for tokens, %d sent requests; want %d", len(firstToken), len(lastRequest), tenants)
	}
	most := 0
	for k, at := range firstToken {
		ahead := 0
		for j, asked := range firstToken {
			if j != k && asked.Before(at) && !lastRequest[j].Before(at) {
				ahead++
			}
		}
		most = max(most, ahead)
	}
	if most >= scan.PrefetchAhead {
		t.Errorf("a tenant asked for its first token while %d others held theirs with requests still to send; want fewer than %d", most, scan.PrefetchAhead)
	}
}
