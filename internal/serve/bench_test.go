package serve_test

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/teamslink/teamslink/internal/finding"
	"github.com/teamslink/teamslink/internal/metrics"
	"github.com/teamslink/teamslink/internal/serve"
)

// The benchmark's fleet (issue 9): 3,000 environments, three to a tenant,
// scraped by 50 concurrent loopback clients.
const (
	benchTenants   = 1000
	benchPerTenant = 3
	benchClients   = 50
)

// benchFleet returns the reports of the benchmark's tenants: a spread of
// verdicts (ready, blocked, broken, enabled, unknown-free), one in seven
// environments assessed for Basic alone.
func benchFleet(at time.Time) map[string]*finding.Report {
	out := make(map[string]*finding.Report, benchTenants)
	for i := range benchTenants {
		var envs []env
		for j := range benchPerTenant {
			n := i*benchPerTenant + j
			e := env{url: envURL(i, j)}
			switch n % 7 {
			case 1:
				e.fail = []string{"TL-CONSENT-001"}
			case 2:
				e.on, e.fail = true, []string{"TL-SP-002"}
			case 3:
				e.on = true
			case 4:
				e.fail = []string{"TL-ENT-001"}
			case 5:
				e.basic = true
			}
			envs = append(envs, e)
		}
		out[tenantID(i)] = tenantReport(tenantID(i), at, envs...)
	}
	return out
}

// BenchmarkEndpoints measures /metrics and /probe of a serve holding 3,000
// environments under 50 concurrent loopback clients, and reports the p50
// and p99 latency and the series count. It fails if a request started a
// scan, or if the series exceed environments × (rules + experiences) + 100.
// For the figures run it for 30 s:
//
//	go test -run '^$' -bench Endpoints -benchtime 30s ./internal/serve
func BenchmarkEndpoints(b *testing.B) {
	reports := benchFleet(time.Now())
	var scans atomic.Int64
	cfg := newFakeConfig(benchTenants)
	reg := prometheus.NewRegistry()
	sched, err := serve.IntervalSchedule(time.Hour, 0)
	if err != nil {
		b.Fatal(err)
	}
	svc, err := serve.New(serve.Options{
		Load: cfg.load,
		Scan: func(_ context.Context, t serve.Target) (*serve.Result, error) {
			scans.Add(1)
			return &serve.Result{Report: reports[t.ID]}, nil
		},
		Now: time.Now, Metrics: metrics.New(reg, metrics.BuildInfo{Version: "bench"}), Gatherer: reg,
		Schedule: sched, Concurrency: 8, Rand: rand.New(rand.NewPCG(1, 1)),
	})
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer func() {
		cancel()
		<-svc.Done()
	}()
	if err := svc.Start(ctx); err != nil {
		b.Fatal(err)
	}
	srv := httptest.NewServer(svc.Handler())
	defer srv.Close()
	eventually(b, "every tenant's first scan", func() bool {
		if scans.Load() < benchTenants {
			return false
		}
		code, _ := get(b, srv.URL+serve.PathReport+"?tenant="+tenantID(benchTenants-1))
		return code == http.StatusOK
	})
	time.Sleep(50 * time.Millisecond) // the last scan's report observed

	mfs, err := reg.Gather()
	if err != nil {
		b.Fatal(err)
	}
	series := 0
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			series++
			if h := m.GetHistogram(); h != nil {
				series += len(h.GetBucket()) + 1 // _bucket series, _sum and _count
			}
		}
	}
	bound := benchTenants*benchPerTenant*(len(rules)+len(finding.Experiences)) + 100
	if series > bound {
		b.Fatalf("%d series, over the bound of %d", series, bound)
	}

	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: benchClients, DisableCompression: true}}
	endpoints := []struct {
		name string
		url  func(i int64) string
		gzip bool
	}{
		{"metrics", func(int64) string { return srv.URL + serve.PathMetrics }, true},
		{"probe", func(i int64) string {
			t := int(i % benchTenants)
			return srv.URL + serve.PathProbe + "?tenant=" + tenantID(t) + "&environment=" + label(t, int(i%benchPerTenant))
		}, false},
	}
	for _, ep := range endpoints {
		b.Run(ep.name, func(b *testing.B) {
			before := scans.Load()
			var (
				next      atomic.Int64
				mu        sync.Mutex
				latencies = make([]time.Duration, 0, b.N)
				failed    atomic.Value
				wg        sync.WaitGroup
			)
			b.ResetTimer()
			for range benchClients {
				wg.Go(func() {
					for {
						i := next.Add(1)
						if i > int64(b.N) {
							return
						}
						req, _ := http.NewRequest(http.MethodGet, ep.url(i), nil)
						if ep.gzip {
							// As Prometheus scrapes.
							req.Header.Set("Accept-Encoding", "gzip")
						}
						start := time.Now()
						resp, err := client.Do(req)
						if err == nil {
							_, err = io.Copy(io.Discard, resp.Body)
							resp.Body.Close()
							if err == nil && resp.StatusCode != http.StatusOK {
								err = fmt.Errorf("status %d", resp.StatusCode)
							}
						}
						d := time.Since(start)
						if err != nil {
							failed.Store(err)
							return
						}
						mu.Lock()
						latencies = append(latencies, d)
						mu.Unlock()
					}
				})
			}
			wg.Wait()
			b.StopTimer()
			if err, ok := failed.Load().(error); ok {
				b.Fatal(err)
			}
			if n := scans.Load() - before; n != 0 {
				b.Fatalf("%d scans started during the requests", n)
			}
			slices.Sort(latencies)
			pct := func(p float64) float64 {
				return float64(latencies[min(len(latencies)-1, int(p*float64(len(latencies))))].Microseconds()) / 1000
			}
			b.ReportMetric(pct(0.50), "p50-ms")
			b.ReportMetric(pct(0.99), "p99-ms")
			b.ReportMetric(float64(series), "series")
		})
	}
}
