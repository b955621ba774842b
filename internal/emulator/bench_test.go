package emulator

import (
	"runtime"
	"testing"
	"time"
)

// maxMillionRowHeap bounds the heap an emulator holding a 1,000,000-row
// environment may take (issue 10: RSS ≤ 64 MiB).
const maxMillionRowHeap = 64 << 20

// heapOf is the live heap that building an emulator for the scenarios adds.
func heapOf(tb testing.TB, scenarios ...*Scenario) (uint64, *Server) {
	tb.Helper()
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	s, err := New(Options{Scenarios: scenarios, Clock: time.Now})
	if err != nil {
		tb.Fatal(err)
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	if after.HeapAlloc < before.HeapAlloc {
		return 0, s
	}
	return after.HeapAlloc - before.HeapAlloc, s
}

// TestMillionRowHeap measures the heap of a 1,000,000-location,
// 10,000-site environment. It does not call t.Parallel: parallel tests
// wait until the serial ones are done, so nothing else allocates meanwhile.
func TestMillionRowHeap(t *testing.T) {
	small, s1 := heapOf(t, fleetTenant(t, 0, ""))
	big, s2 := heapOf(t, fleetTenant(t, 0, millionRows))
	t.Logf("emulator heap: %d KiB for a 10-row environment, %d KiB for 1,000,000 locations and 10,000 sites", small>>10, big>>10)
	if big > maxMillionRowHeap {
		t.Errorf("a 1,000,000-row environment takes %d MiB of heap, want ≤ %d MiB", big>>20, maxMillionRowHeap>>20)
	}
	runtime.KeepAlive(s1)
	runtime.KeepAlive(s2)
}

// BenchmarkCollectorBatch serves the collectors' sites and locations reads
// (counts and a 50-row sample, one $batch) from environments of 10 rows,
// of 200 (the samples full), and of 1,000,000 locations and 10,000 sites.
func BenchmarkCollectorBatch(b *testing.B) {
	for _, bc := range []struct {
		name, extra string
	}{
		{"rows=10", generated(5, 5)},
		{"rows=200", generated(100, 100)},
		{"rows=1010000", millionRows},
	} {
		b.Run(bc.name, func(b *testing.B) {
			heap, s := heapOf(b, fleetTenant(b, 0, bc.extra))
			if err := s.Start(); err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { _ = s.Close() })
			env := fleetEnv(0)
			tok := getToken(b, s, fleetTenantID(0), appClient, appSecret, env+"/.default")
			client := s.Client()
			postBatch(b, s, client, env, tok) // a warm connection
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				postBatch(b, s, client, env, tok)
			}
			b.StopTimer()
			b.ReportMetric(float64(heap)/(1<<10), "state-KiB")
		})
	}
}
