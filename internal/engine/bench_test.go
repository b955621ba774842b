package engine_test

import (
	"fmt"
	"testing"

	"github.com/teamslink/teamslink/internal/engine"
	"github.com/teamslink/teamslink/internal/snapshot"
)

// BenchmarkEvaluate measures one tenant with ten environments; the target is
// at most 1 ms of one core per environment. It reports the wall time per
// environment (µs/env) and the CPU time of the whole process per environment
// (cpu-µs/env, on every core, garbage collection included).
func BenchmarkEvaluate(b *testing.B) {
	eng := builtin(b)
	base := readSnapshot(b, "sp-800503ca-all")
	snap := &snapshot.Snapshot{SchemaVersion: base.SchemaVersion, CollectedAt: base.CollectedAt, Tenants: base.Tenants}
	for i := range 10 {
		env := base.Environments[i%len(base.Environments)]
		env.URL = fmt.Sprintf("https://fabrikam-%02d.crm4.dynamics.com", i)
		snap.Environments = append(snap.Environments, env)
	}
	b.ReportAllocs()
	cpu := processCPU()
	for b.Loop() {
		rep, err := eng.Evaluate(b.Context(), snap, engine.Options{})
		if err != nil {
			b.Fatal(err)
		}
		if len(rep.Environments) != 10 {
			b.Fatalf("%d environments", len(rep.Environments))
		}
	}
	cpu = processCPU() - cpu
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/10/1e3, "µs/env")
	if cpu > 0 {
		b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N)/10/1e3, "cpu-µs/env")
	}
}
