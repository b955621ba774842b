package bench

import (
	"flag"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/teamslink/teamslink/internal/emulator"
	"github.com/teamslink/teamslink/internal/engine"
	"github.com/teamslink/teamslink/internal/snapshot"
)

var (
	sizes = flag.String("bench.sizes", "30,100,300,1000", "fleet sizes (tenants, 3 environments each) of the scale rows")
	bin   = flag.String("bench.bin", "", "the teamslink binary to measure; empty builds ./cmd/teamslink")
)

// The scale rows' shape (the issue's): 3 environments a tenant, 20 ms on
// every request that is not inside a $batch, the default concurrency.
const (
	envsPerTenant = 3
	latency       = 20 * time.Millisecond
	concurrency   = 8
)

// TestMain makes the test binary the spawner of the scans when SpawnEnv
// is set (see Rig.Spawner).
func TestMain(m *testing.M) {
	if os.Getenv(SpawnEnv) != "" {
		os.Exit(Spawn(os.Args[1:]))
	}
	os.Exit(m.Run())
}

// BenchmarkTable prints make bench's one table: each figure of issue 10
// with its target, the measured value and the ratio, then the scale rows.
// Run it once (-benchtime 1x); it takes a few minutes.
func BenchmarkTable(b *testing.B) {
	exe := binary(b)
	ready, err := os.ReadFile(filepath.Join("..", "..", "testdata", "scenarios", "ready.yaml"))
	if err != nil {
		b.Fatal(err)
	}
	var ns []int
	for _, f := range strings.Split(*sizes, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			b.Fatalf("-bench.sizes %q: %q is not a tenant count", *sizes, f)
		}
		ns = append(ns, n)
	}
	for b.Loop() {
		// The single-process figures first, while this process is small
		// and quiet; then the fleets, smallest first.
		t := Table{Machine: machine()}
		t.Eval = evalRow(b)
		t.Start = startRow(b, exe, ready)
		t.Small, t.Large = largeRows(b, exe, ready)
		for _, n := range ns {
			t.Scale = append(t.Scale, scaleRow(b, exe, ready, n))
		}
		if err := t.Print(os.Stdout, latency, concurrency); err != nil {
			b.Fatal(err)
		}
	}
}

// binary builds teamslink into a temporary directory, unless -bench.bin names one.
func binary(b *testing.B) string {
	if *bin != "" {
		return *bin
	}
	out := filepath.Join(b.TempDir(), "teamslink")
	cmd := exec.Command("go", "build", "-trimpath", "-o", out, "./cmd/teamslink")
	cmd.Dir = filepath.Join("..", "..")
	if msg, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("go build: %v\n%s", err, msg)
	}
	return out
}

// rig runs the emulator with n tenants; spawned scans report their own
// peak RSS (Rig.Spawner) at the cost of one more process start.
func rig(b *testing.B, ready []byte, n int, lat string, spawned bool) *Rig {
	scenarios, err := Fleet(ready, n, envsPerTenant, lat)
	if err != nil {
		b.Fatal(err)
	}
	r, err := Start(b.TempDir(), time.Now, scenarios, false)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = r.Close() })
	if spawned {
		r.Spawner = spawner(b)
	}
	return r
}

func scaleRow(b *testing.B, exe string, ready []byte, n int) Scan {
	r := rig(b, ready, n, latency.String(), true)
	s, err := r.Run(b.Context(), time.Now, exe)
	if err != nil {
		b.Fatal(err)
	}
	_ = r.Close()
	return s
}

// startRow is the median of five scans of one tenant: process start to
// the first request.
func startRow(b *testing.B, exe string, ready []byte) time.Duration {
	r := rig(b, ready, 1, "", false)
	var runs []time.Duration
	for range 5 {
		s, err := r.Run(b.Context(), time.Now, exe)
		if err != nil {
			b.Fatal(err)
		}
		runs = append(runs, s.FirstRequest)
	}
	return median(runs)
}

// largeRows scans one environment of 10 rows and one of 1,000,000
// absolute-URL locations and 10,000 active sites, alternately, five times
// each, and keeps each one's fastest scan: the two see the same load.
func largeRows(b *testing.B, exe string, ready []byte) (small, large Scan) {
	one, err := Fleet(ready, 1, 1, "")
	if err != nil {
		b.Fatal(err)
	}
	big, err := Large(ready, 1_000_000, 10_000)
	if err != nil {
		b.Fatal(err)
	}
	rs, err := Start(b.TempDir(), time.Now, one, true)
	if err != nil {
		b.Fatal(err)
	}
	defer rs.Close()
	rs.Spawner = spawner(b)
	rl, err := Start(b.TempDir(), time.Now, []*emulator.Scenario{big}, true)
	if err != nil {
		b.Fatal(err)
	}
	defer rl.Close()
	rl.Spawner = spawner(b)
	for i := range 5 {
		for _, r := range []struct {
			rig  *Rig
			best *Scan
		}{{rs, &small}, {rl, &large}} {
			s, err := r.rig.Run(b.Context(), time.Now, exe)
			if err != nil {
				b.Fatal(err)
			}
			if i == 0 || s.Wall < r.best.Wall {
				*r.best = s
			}
		}
	}
	return small, large
}

// machine describes this machine from /proc (Linux): CPU model, cores,
// load average when the run began.
func machine() string {
	model, cores := "unknown CPU", 0
	if data, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(data), "\n") {
			k, v, ok := strings.Cut(line, ":")
			switch k = strings.TrimSpace(k); {
			case ok && k == "model name":
				model = strings.TrimSpace(v)
			case ok && k == "processor":
				cores++
			}
		}
	}
	load := "unknown"
	if data, err := os.ReadFile("/proc/loadavg"); err == nil {
		if f := strings.Fields(string(data)); len(f) >= 3 {
			load = strings.Join(f[:3], " ")
		}
	}
	return fmt.Sprintf("%s, %d CPUs, load average %s (1, 5, 15 min) at the start", model, cores, load)
}

// spawner is this test binary, which TestMain makes a spawner.
func spawner(b *testing.B) string {
	self, err := os.Executable()
	if err != nil {
		b.Fatal(err)
	}
	return self
}

func median(d []time.Duration) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	return s[len(s)/2]
}

// evalRow is BenchmarkEvaluate's fleet (internal/engine): ten environments
// of one tenant, each from another sample scenario, at the binary's GC
// target; it returns the process's CPU per environment, the fastest of 5
// batches.
func evalRow(b *testing.B) time.Duration {
	eng, err := engine.New(b.Context(), engine.Config{})
	if err != nil {
		b.Fatal(err)
	}
	read := func(name string) *snapshot.Snapshot {
		s, err := snapshot.ReadFile(filepath.Join("..", "..", "testdata", "snapshots", name+".json"))
		if err != nil {
			b.Fatal(err)
		}
		return s
	}
	snap := read("ready")
	snap.Environments = nil
	for i, name := range []string{"ready", "sp-onedrive", "sp-active-sites", "sp-absolute-locations", "sp-800503ca-all",
		"sp-onpremises", "custom-table-no-docmgmt", "not-sysadmin", "sections-errored", "spo-limited"} {
		env := read(name).Environments[0]
		env.TenantID = snap.Tenants[0].ID
		env.URL = fmt.Sprintf("https://fabrikam-%02d.crm4.dynamics.com", i)
		snap.Environments = append(snap.Environments, env)
	}
	now := func() time.Time { return snap.CollectedAt.Add(time.Hour) }
	defer debug.SetGCPercent(debug.SetGCPercent(engine.GCPercent))
	eval := func() {
		if _, err := eng.Evaluate(b.Context(), snap, engine.Options{Now: now}); err != nil {
			b.Fatal(err)
		}
	}
	for range 5 { // warm up: the first evaluations fill OPA's caches
		eval()
	}
	// testing.Benchmark cannot run inside a benchmark: batches of a fixed
	// count of evaluations, timed by this process's CPU (garbage
	// collection included); the fastest batch, as for the scans, since a
	// shared machine only ever adds time.
	const batches, rounds = 5, 40
	fastest := time.Duration(math.MaxInt64)
	for range batches {
		before := selfCPU()
		for range rounds {
			eval()
		}
		fastest = min(fastest, selfCPU()-before)
	}
	return fastest / time.Duration(rounds*len(snap.Environments))
}

// selfCPU is this process's user and system time.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
