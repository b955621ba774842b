package metrics_test

import (
	"bytes"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"

	"github.com/teamslink/teamslink/internal/metrics"
)

// benchEnvironments is the serve benchmark's fleet size (issue 9), three
// environments to a tenant.
const (
	benchEnvironments = 3000
	benchPerTenant    = 3
)

// BenchmarkObserveReport measures replacing the series of a whole
// 3,000-environment fleet from one report.
func BenchmarkObserveReport(b *testing.B) {
	r := largeFleet(benchEnvironments, benchPerTenant)
	m := metrics.New(prometheus.NewRegistry(), testBuild)
	b.ReportAllocs()
	for b.Loop() {
		m.ObserveReport(r, fixedNow)
	}
}

// BenchmarkObserveTenantReport measures what serve does after each scan: one
// tenant's report into a registry that holds the whole fleet.
func BenchmarkObserveTenantReport(b *testing.B) {
	m := metrics.New(prometheus.NewRegistry(), testBuild)
	m.ObserveReport(largeFleet(benchEnvironments, benchPerTenant), fixedNow)
	one := largeFleet(benchPerTenant, benchPerTenant)
	b.ReportAllocs()
	for b.Loop() {
		m.ObserveReport(one, fixedNow)
	}
}

// BenchmarkGather measures one scrape of /metrics with 3,000 environments:
// gathering the registry, and gathering then encoding it in the text
// format as promhttp does. It reports the series count.
func BenchmarkGather(b *testing.B) {
	reg := prometheus.NewRegistry()
	m := metrics.New(reg, testBuild)
	r := largeFleet(benchEnvironments, benchPerTenant)
	m.ObserveReport(r, fixedNow)
	for i := 0; i < len(r.Environments); i += benchPerTenant {
		m.ObserveScan(time.Minute, nil)
	}
	mfs, err := reg.Gather()
	if err != nil {
		b.Fatal(err)
	}
	series := seriesCount(mfs)
	b.Run("gather", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := reg.Gather(); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(series), "series")
	})
	b.Run("gather+text", func(b *testing.B) {
		b.ReportAllocs()
		var buf bytes.Buffer
		for b.Loop() {
			buf.Reset()
			mfs, err := reg.Gather()
			if err != nil {
				b.Fatal(err)
			}
			enc := expfmt.NewEncoder(&buf, expfmt.NewFormat(expfmt.TypeTextPlain))
			for _, mf := range mfs {
				if err := enc.Encode(mf); err != nil {
					b.Fatal(err)
				}
			}
		}
		b.ReportMetric(float64(series), "series")
		b.ReportMetric(float64(buf.Len()), "bytes")
	})
}
