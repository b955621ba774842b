package metrics_test

import (
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/teamslink/teamslink/internal/finding"
	"github.com/teamslink/teamslink/internal/metrics"
	"github.com/teamslink/teamslink/internal/odata"
)

// Example wires the metrics the way serve does: one registry, the odata
// clients' hooks, a credential's token requests through RoundTripper, each
// scan's outcome and report, /metrics and a /probe answer.
func Example() {
	now := func() time.Time { return fixedNow } // serve's injected clock
	reg := prometheus.NewRegistry()
	m := metrics.New(reg, metrics.BuildInfo{Version: "1.2.3", Revision: "4f9c2e1"})
	m.ConfigReloaded(true, now())

	_ = odata.Options{Flavor: odata.Dataverse, Hooks: m.Hooks(metrics.APIDataverse) /* , … */}
	_ = &http.Client{Transport: m.RoundTripper(metrics.APILogin, http.DefaultTransport)}

	started := now()
	var report *finding.Report // what the scan of one tenant produced
	var err error
	m.ObserveScan(now().Sub(started), err)
	if err == nil {
		m.ObserveReport(report, now())
	}

	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	mux.HandleFunc("/probe", func(w http.ResponseWriter, r *http.Request) {
		var env finding.Environment // the cached environment the query names
		snapshotAt := fixedSnapshot
		promhttp.HandlerFor(metrics.ProbeRegistry(env, now().Sub(snapshotAt)), promhttp.HandlerOpts{}).ServeHTTP(w, r)
	})
}
