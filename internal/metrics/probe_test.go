package metrics_test

import (
	"slices"
	"testing"
	"time"

	"github.com/teamslink/teamslink/internal/finding"
	"github.com/teamslink/teamslink/internal/metrics"
)

// TestProbeRegistry: probe_success is 1 only for an environment that is
// fine; BLOCKED, BROKEN, UNKNOWN and any error are 0, never green.
func TestProbeRegistry(t *testing.T) {
	t.Parallel()
	envs := fleetReport().Environments
	errorButReady := fleetEnvs()[0].environment()
	// A finding that could not be assessed, of a rule no experience needs:
	// the verdicts stay READY, the probe still fails.
	errorButReady.Findings = append(errorButReady.Findings, finding.Finding{
		Key: finding.Key{Tenant: contosoID, Environment: "https://contoso.crm.dynamics.com", Rule: "TL-X-001"}, Status: finding.StatusError,
	})
	tests := []struct {
		name        string
		env         finding.Environment
		wantSuccess float64
		wantStates  map[string]string // experience → state with value 1
	}{
		{"ready", envs[0], 1, map[string]string{"basic": "READY", "enhanced": "READY"}},
		{"blocked", envs[1], 0, map[string]string{"basic": "READY", "enhanced": "BLOCKED"}},
		{"broken", envs[2], 0, map[string]string{"basic": "BROKEN", "enhanced": "BROKEN"}},
		{"enabled, a waiver", envs[3], 1, map[string]string{"basic": "ENABLED", "enhanced": "ENABLED"}},
		{"unknown", envs[4], 0, map[string]string{"basic": "UNKNOWN", "enhanced": "NOT_ASSESSED"}},
		{"basic only, a table fails", envs[5], 0, map[string]string{"basic": "BLOCKED", "enhanced": "NOT_ASSESSED"}},
		{"sign-in failed", envs[6], 0, map[string]string{"basic": "UNKNOWN", "enhanced": "UNKNOWN"}},
		{"an error beside ready verdicts", errorButReady, 0, map[string]string{"basic": "READY", "enhanced": "READY"}},
		{"nothing assessed", finding.Environment{Tenant: contosoID, URL: "https://x.crm.dynamics.com"}, 0, map[string]string{"basic": "NOT_ASSESSED", "enhanced": "NOT_ASSESSED"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			mfs := gather(t, metrics.ProbeRegistry(tt.env, 90*time.Minute))
			if got := value(family(mfs, "teamslink_probe_success").GetMetric()[0]); got != tt.wantSuccess {
				t.Errorf("probe_success = %v, want %v", got, tt.wantSuccess)
			}
			if got := value(family(mfs, "teamslink_probe_snapshot_age_seconds").GetMetric()[0]); got != 5400 {
				t.Errorf("snapshot age = %v, want 5400", got)
			}
			// A state set: every state of every experience, one of them 1.
			rs := family(mfs, "teamslink_probe_readiness").GetMetric()
			if len(rs) != 12 {
				t.Errorf("%d readiness series, want 2 experiences × 6 states", len(rs))
			}
			for _, m := range rs {
				ls := labels(m)
				want := 0.0
				if tt.wantStates[ls["experience"]] == ls["state"] {
					want = 1
				}
				if value(m) != want {
					t.Errorf("readiness %v = %v, want %v", ls, value(m), want)
				}
			}
			total := 0.0
			for _, m := range family(mfs, "teamslink_probe_findings").GetMetric() {
				total += value(m)
			}
			if int(total) != len(tt.env.Findings) {
				t.Errorf("findings by status add to %v, want %d", total, len(tt.env.Findings))
			}
		})
	}
}

// TestProbeFailure: a target with no report is a failed probe, nothing else.
func TestProbeFailure(t *testing.T) {
	t.Parallel()
	mfs := gather(t, metrics.ProbeFailure())
	var got []string
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			got = append(got, sample(mf.GetName(), m))
		}
	}
	if want := []string{"teamslink_probe_success{} 0"}; !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}
