package engine_test

import (
	"fmt"
	"runtime/debug"
	"testing"

	"github.com/teamslink/teamslink/internal/engine"
	"github.com/teamslink/teamslink/internal/snapshot"
)

// BenchmarkEvaluate measures one tenant with ten environments; the target is
// at most 1 ms of one core per environment. It reports the wall time per
// environment (µs/env) and the CPU time of the whole process per environment
// (cpu-µs/env, on every core, garbage collection included).
//
//   - fleet: ten environments, each from another sample scenario (one ready,
//     the others each failing or unreadable in their own way);
//   - worst: ten copies of the costliest environment, where every SharePoint
//     rule fails with sampled records in its evidence;
//
// each under Go's default garbage collection (gogc=100) and under the
// binary's GCPercent (gogc=400), whatever GOGC says.
func BenchmarkEvaluate(b *testing.B) {
	eng := builtin(b)
	fleet := []string{
		"ready", "sp-onedrive", "sp-active-sites", "sp-absolute-locations", "sp-800503ca-all",
		"sp-onpremises", "custom-table-no-docmgmt", "not-sysadmin", "sections-errored", "spo-limited",
	}
	worst := make([]string, 10)
	for i := range worst {
		worst[i] = "sp-800503ca-all"
	}
	for _, bench := range []struct {
		name      string
		scenarios []string
	}{{"fleet", fleet}, {"worst", worst}} {
		snap := tenantOf(b, bench.scenarios)
		for _, percent := range []int{100, engine.GCPercent} {
			b.Run(fmt.Sprintf("%s/gogc=%d", bench.name, percent), func(b *testing.B) {
				defer debug.SetGCPercent(debug.SetGCPercent(percent))
				benchmarkEvaluate(b, eng, snap)
			})
		}
	}
}

func benchmarkEvaluate(b *testing.B, eng *engine.Engine, snap *snapshot.Snapshot) {
	b.ReportAllocs()
	cpu := processCPU()
	for b.Loop() {
		rep, err := eng.Evaluate(b.Context(), snap, engine.Options{Now: testNow})
		if err != nil {
			b.Fatal(err)
		}
		if len(rep.Environments) != len(snap.Environments) || rep.HasInternalError() {
			b.Fatalf("%d environments, internal error %v", len(rep.Environments), rep.HasInternalError())
		}
	}
	cpu = processCPU() - cpu
	envs := float64(b.N * len(snap.Environments))
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/envs/1e3, "µs/env")
	if cpu > 0 {
		b.ReportMetric(float64(cpu.Nanoseconds())/envs/1e3, "cpu-µs/env")
	}
}

// tenantOf builds one tenant (ready.json's) with the first environment of
// each scenario, each under its own URL.
func tenantOf(b *testing.B, scenarios []string) *snapshot.Snapshot {
	ready := readSnapshot(b, "ready")
	snap := &snapshot.Snapshot{SchemaVersion: ready.SchemaVersion, CollectedAt: ready.CollectedAt, Tenants: ready.Tenants}
	for i, name := range scenarios {
		env := readSnapshot(b, name).Environments[0]
		env.TenantID = ready.Tenants[0].ID
		env.URL = fmt.Sprintf("https://fabrikam-%02d.crm4.dynamics.com", i)
		snap.Environments = append(snap.Environments, env)
	}
	return snap
}
