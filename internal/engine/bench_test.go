package engine_test

import (
	"fmt"
	"testing"

	"github.com/teamslink/teamslink/internal/engine"
	"github.com/teamslink/teamslink/internal/snapshot"
)

// BenchmarkEvaluate measures one tenant with ten environments; the target is
// at most 1 ms of one core per environment (ns/op ÷ 10).
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
	for b.Loop() {
		rep, err := eng.Evaluate(b.Context(), snap, engine.Options{})
		if err != nil {
			b.Fatal(err)
		}
		if len(rep.Environments) != 10 {
			b.Fatalf("%d environments", len(rep.Environments))
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/10/1e3, "µs/env")
}
