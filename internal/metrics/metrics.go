package metrics

import (
	"context"
	"errors"
	"runtime"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// namespace prefixes every metric name.
const namespace = "teamslink"

// BuildInfo identifies the running binary for teamslink_build_info.
type BuildInfo struct {
	// Version is the release, as main's -ldflags -X sets it; "" reads
	// "unknown".
	Version string
	// Revision is the VCS commit, if known.
	Revision string
	// GoVersion is the Go release the binary was built with; "" takes
	// runtime.Version().
	GoVersion string
}

// The values of the result label of teamslink_scans_total.
const (
	ResultSuccess  = "success"  // the scan produced a report
	ResultError    = "error"    // the scan failed before producing one
	ResultCanceled = "canceled" // the scan was stopped (shutdown, reload)
)

// scanBuckets are the bounds of teamslink_scan_duration_seconds: one tenant's
// scan takes seconds, a throttled one minutes.
var scanBuckets = []float64{1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800}

// Metrics holds every series teamslink exports on /metrics. Its methods are
// safe for concurrent use.
type Metrics struct {
	buildInfo prometheus.Gauge

	reloadSuccessful prometheus.Gauge
	reloadTimestamp  prometheus.Gauge

	scans        *prometheus.CounterVec
	scanDuration prometheus.Histogram

	requests   *prometheus.CounterVec
	retries    *prometheus.CounterVec
	throttled  *prometheus.CounterVec
	retryAfter *prometheus.CounterVec

	report *reportCollector

	// reloadMu orders ConfigReloaded's two gauges.
	reloadMu sync.Mutex
}

// New creates the metrics and registers them on reg (never the global
// registry in library code); a nil reg leaves them unregistered. It panics,
// as MustRegister does, if reg already holds series of the same names:
// create one Metrics per registry.
func New(reg prometheus.Registerer, build BuildInfo) *Metrics {
	if build.Version == "" {
		build.Version = "unknown"
	}
	if build.GoVersion == "" {
		build.GoVersion = runtime.Version()
	}
	m := &Metrics{
		buildInfo: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: namespace, Name: "build_info",
			Help:        "A metric with a constant '1' value labeled by the version, revision and Go version teamslink was built from.",
			ConstLabels: prometheus.Labels{"version": build.Version, "revision": build.Revision, "goversion": build.GoVersion},
		}),
		reloadSuccessful: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: namespace, Name: "config_last_reload_successful",
			Help: "Whether the last attempt to load the configuration succeeded (1) or was rejected, keeping the previous one (0).",
		}),
		reloadTimestamp: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: namespace, Name: "config_last_reload_success_timestamp_seconds",
			Help: "When the configuration was last loaded successfully, in seconds since the Unix epoch.",
		}),
		scans: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "scans_total",
			Help: "Scans of a target (a tenant and its environments) finished, by result: success (a report), error, or canceled.",
		}, []string{"result"}),
		scanDuration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Namespace: namespace, Name: "scan_duration_seconds",
			Help:    "How long the scans of targets took, whatever their result.",
			Buckets: scanBuckets,
		}),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "api_requests_total",
			Help: "HTTP requests that got an answer, by API and HTTP status code; every attempt counts, retries included.",
		}, []string{"api", "code"}),
		retries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "api_retries_total",
			Help: "Requests repeated, by API and reason (throttled, unavailable, bad_gateway, gateway_timeout, connection, unauthorized, batch_throttled).",
		}, []string{"api", "reason"}),
		throttled: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "api_throttled_requests_total",
			Help: "Answers 429 or 503 (service protection limits), including those inside a $batch, by API.",
		}, []string{"api"}),
		retryAfter: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "api_retry_after_seconds_total",
			Help: "The waits that 429 and 503 answers asked for in their Retry-After header, summed, by API.",
		}, []string{"api"}),
		report: newReportCollector(),
	}
	m.buildInfo.Set(1)
	for _, r := range []string{ResultSuccess, ResultError, ResultCanceled} {
		m.scans.WithLabelValues(r)
	}
	if reg != nil {
		reg.MustRegister(m.buildInfo, m.reloadSuccessful, m.reloadTimestamp,
			m.scans, m.scanDuration,
			m.requests, m.retries, m.throttled, m.retryAfter,
			m.report)
	}
	return m
}

// ConfigReloaded records an attempt to load the configuration at at: ok
// sets teamslink_config_last_reload_successful to 1 and the success
// timestamp to at; a rejected config sets it to 0 and keeps the timestamp of
// the config still in use. Call it for the first load too.
func (m *Metrics) ConfigReloaded(ok bool, at time.Time) {
	m.reloadMu.Lock()
	defer m.reloadMu.Unlock()
	if !ok {
		m.reloadSuccessful.Set(0)
		return
	}
	m.reloadSuccessful.Set(1)
	m.reloadTimestamp.Set(unixSeconds(at))
}

// ObserveScan records that the scan of a target took d and ended with err:
// nil is a success, a context cancellation a canceled scan, any other error
// a failed one. Both series are fleet-wide, with no tenant label, so that
// they stay bounded; the report of a successful scan goes to ObserveReport,
// which sets the tenant's last successful scan time.
func (m *Metrics) ObserveScan(d time.Duration, err error) {
	result := ResultSuccess
	switch {
	case errors.Is(err, context.Canceled):
		result = ResultCanceled
	case err != nil:
		result = ResultError
	}
	m.scans.WithLabelValues(result).Inc()
	m.scanDuration.Observe(d.Seconds())
}

// Retain drops every series of the tenants not listed: after a config
// reload, call it with the tenant ids the new config scans, so that a tenant
// removed from the config stops being exported.
func (m *Metrics) Retain(tenants ...string) {
	keep := make(map[string]bool, len(tenants))
	for _, t := range tenants {
		keep[labelValue(t)] = true
	}
	m.report.retain(keep)
}

// unixSeconds is t in seconds since the Unix epoch, with its fraction.
func unixSeconds(t time.Time) float64 {
	return float64(t.UnixNano()) / 1e9
}
