package metrics_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/teamslink/teamslink/internal/metrics"
	"github.com/teamslink/teamslink/internal/odata"
)

var testBuild = metrics.BuildInfo{Version: "1.2.3", Revision: "4f9c2e1", GoVersion: "go1.26.8"}

// filled is a registry with every series of Metrics present: the fleet
// report observed, scans of each result, API requests through the odata
// hooks and the round tripper, and a config reload.
func filled(t *testing.T) (*prometheus.Registry, *metrics.Metrics) {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	m := metrics.New(reg, testBuild)
	m.ConfigReloaded(true, fixedNow)
	m.ObserveReport(fleetReport(), fixedNow)
	m.ObserveScan(42*time.Second, nil)
	m.ObserveScan(3*time.Second, errors.New("collect: boom"))

	h := m.Hooks(metrics.APIDataverse)
	h.OnResponse(200, time.Second)
	h.OnResponse(429, time.Second)
	h.OnThrottle(429, 2*time.Second)
	h.OnRetry(odata.ReasonThrottled, 2*time.Second)

	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Retry-After", "5")
		w.WriteHeader(http.StatusTooManyRequests)
	}))
	t.Cleanup(srv.Close)
	c := &http.Client{Transport: m.RoundTripper(metrics.APILogin, srv.Client().Transport)}
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, srv.URL+"/tenant/oauth2/v2.0/token", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return reg, m
}

// gather gathers g, failing the test on an error.
func gather(t testing.TB, g prometheus.Gatherer) []*dto.MetricFamily {
	t.Helper()
	mfs, err := g.Gather()
	if err != nil {
		t.Fatalf("gather: %v", err)
	}
	return mfs
}

// seriesCount counts the series of mfs as the exposition format has them:
// a histogram is its buckets, +Inf, _sum and _count.
func seriesCount(mfs []*dto.MetricFamily) int {
	n := 0
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			switch {
			case m.Histogram != nil:
				n += len(m.GetHistogram().GetBucket()) + 3
			case m.Summary != nil:
				n += len(m.GetSummary().GetQuantile()) + 2
			default:
				n++
			}
		}
	}
	return n
}

// family returns the family called name, or nil.
func family(mfs []*dto.MetricFamily, name string) *dto.MetricFamily {
	for _, mf := range mfs {
		if mf.GetName() == name {
			return mf
		}
	}
	return nil
}

// labels is a metric's labels as a map.
func labels(m *dto.Metric) map[string]string {
	out := map[string]string{}
	for _, l := range m.GetLabel() {
		out[l.GetName()] = l.GetValue()
	}
	return out
}

// value is a gauge's or counter's value.
func value(m *dto.Metric) float64 {
	if m.Counter != nil {
		return m.GetCounter().GetValue()
	}
	return m.GetGauge().GetValue()
}

// sample renders a metric as name{k="v",...} value, labels sorted, for
// comparisons.
func sample(name string, m *dto.Metric) string {
	var ls []string
	for k, v := range labels(m) {
		ls = append(ls, k+`="`+v+`"`)
	}
	slices.Sort(ls)
	return name + "{" + strings.Join(ls, ",") + "} " + strconv.FormatFloat(value(m), 'f', -1, 64)
}

// samples renders every metric of the family name whose labels include
// match.
func samples(mfs []*dto.MetricFamily, name string, match map[string]string) []string {
	mf := family(mfs, name)
	if mf == nil {
		return nil
	}
	var out []string
	for _, m := range mf.GetMetric() {
		ls := labels(m)
		ok := true
		for k, v := range match {
			if ls[k] != v {
				ok = false
			}
		}
		if ok {
			out = append(out, sample(name, m))
		}
	}
	slices.Sort(out)
	return out
}
