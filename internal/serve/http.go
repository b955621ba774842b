package serve

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/common/expfmt"

	"github.com/teamslink/teamslink/internal/finding"
	"github.com/teamslink/teamslink/internal/metrics"
	"github.com/teamslink/teamslink/report"
)

// The paths serve answers.
const (
	PathMetrics = "/metrics"
	PathProbe   = "/probe"
	PathReport  = "/api/v1/report"
	PathHealthy = "/-/healthy"
	PathReady   = "/-/ready"
	PathReload  = "/-/reload"
)

// htmlMaxAge is how long the encoded HTML page is served again while no
// report changed: it shows relative times ("2 h old").
const htmlMaxAge = 30 * time.Second

// Handler returns the HTTP handler of every endpoint:
//
//   - /metrics: the registry, encoded at most once per MetricsMaxAge unless
//     a report changed (a scrape of thousands of environments costs tens of
//     milliseconds to encode; scrapers meanwhile get the last encoding);
//   - /probe?tenant=&environment=: the cached verdict of one environment,
//     blackbox-exporter style; never starts a scan;
//   - /api/v1/report[?tenant=]: the latest reports as one JSON report;
//   - /: the HTML report of the same, with the state of each environment
//     over the scans kept;
//   - /-/healthy, /-/ready, and POST /-/reload.
func (s *Service) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+PathMetrics, s.serveMetrics)
	mux.HandleFunc("GET "+PathProbe, s.serveProbe)
	mux.HandleFunc("GET "+PathReport, s.serveReport)
	mux.HandleFunc("GET /{$}", s.serveHTML)
	mux.HandleFunc("GET "+PathHealthy, func(w http.ResponseWriter, _ *http.Request) {
		text(w, http.StatusOK, "Healthy.")
	})
	mux.HandleFunc("GET "+PathReady, func(w http.ResponseWriter, _ *http.Request) {
		if s.Ready() {
			text(w, http.StatusOK, "Ready.")
			return
		}
		text(w, http.StatusServiceUnavailable, "Not ready: loading the report directory.")
	})
	mux.HandleFunc("POST "+PathReload, func(w http.ResponseWriter, r *http.Request) {
		if err := s.Reload(r.Context()); err != nil {
			text(w, http.StatusInternalServerError, "failed to reload config: "+err.Error())
			return
		}
		text(w, http.StatusOK, "Config reloaded.")
	})
	mux.HandleFunc(PathReload, func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Allow", http.MethodPost)
		text(w, http.StatusMethodNotAllowed, "Only POST requests allowed.")
	})
	return mux
}

// text writes a plain-text answer.
func text(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = fmt.Fprintln(w, msg)
}

// httpCaches hold the encoded answers that are expensive to make.
type httpCaches struct {
	metrics sync.Map // cacheKey → *cached
	html    cached
	report  cached
}

// cached is one encoded answer, rebuilt by one request at a time while the
// others get the previous one.
type cached struct {
	build sync.Mutex
	cur   atomic.Pointer[encoded]
}

// encoded is an answer as bytes, with the generation and time it was made.
type encoded struct {
	gen    uint64
	at     time.Time
	status int
	header http.Header
	body   []byte
}

// get returns the cached answer if it is of gen and younger than maxAge;
// else it rebuilds it with render, unless another request already is, in
// which case the previous answer (if any) is good enough.
func (c *cached) get(gen uint64, now time.Time, maxAge time.Duration, render func() *encoded) *encoded {
	fresh := func(e *encoded) bool { return e != nil && e.gen == gen && now.Sub(e.at) < maxAge }
	cur := c.cur.Load()
	if fresh(cur) {
		return cur
	}
	if cur != nil && !c.build.TryLock() {
		return cur
	}
	if cur == nil {
		c.build.Lock()
	}
	defer c.build.Unlock()
	if e := c.cur.Load(); fresh(e) {
		return e
	}
	e := render()
	e.gen, e.at = gen, now
	c.cur.Store(e)
	return e
}

// write sends e.
func (e *encoded) write(w http.ResponseWriter) {
	for k, v := range e.header {
		w.Header()[k] = v
	}
	w.WriteHeader(e.status)
	_, _ = w.Write(e.body)
}

// recorder is an http.ResponseWriter that keeps the answer.
type recorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func newRecorder() *recorder { return &recorder{header: http.Header{}, status: http.StatusOK} }

func (r *recorder) Header() http.Header         { return r.header }
func (r *recorder) Write(b []byte) (int, error) { return r.body.Write(b) }
func (r *recorder) WriteHeader(status int)      { r.status = status }

func (r *recorder) encoded() *encoded {
	return &encoded{status: r.status, header: r.header, body: r.body.Bytes()}
}

// metricsKey is what an encoded /metrics answer depends on: the negotiated
// format and whether the scraper takes gzip.
func metricsKey(r *http.Request) string {
	gzip := false
	for _, part := range strings.Split(r.Header.Get("Accept-Encoding"), ",") {
		name, _, _ := strings.Cut(strings.TrimSpace(part), ";")
		gzip = gzip || strings.EqualFold(name, "gzip")
	}
	return fmt.Sprintf("%s|%t", expfmt.Negotiate(r.Header), gzip)
}

// maxMetricsKeys bounds how many encodings are cached: scrapers use one or
// two; anything beyond is encoded per request.
const maxMetricsKeys = 8

func (s *Service) serveMetrics(w http.ResponseWriter, r *http.Request) {
	key := metricsKey(r)
	v, ok := s.http.metrics.Load(key)
	if !ok {
		n := 0
		s.http.metrics.Range(func(any, any) bool { n++; return true })
		if n >= maxMetricsKeys {
			s.metricsHandler().ServeHTTP(w, r)
			return
		}
		v, _ = s.http.metrics.LoadOrStore(key, &cached{})
	}
	s.mu.Lock()
	gen := s.gen
	s.mu.Unlock()
	e := v.(*cached).get(gen, s.opts.Now(), s.opts.MetricsMaxAge, func() *encoded {
		rec := newRecorder()
		req := r.Clone(context.WithoutCancel(r.Context()))
		s.metricsHandler().ServeHTTP(rec, req)
		return rec.encoded()
	})
	e.write(w)
}

// metricsHandler encodes the registry, with promhttp.
func (s *Service) metricsHandler() http.Handler {
	return promhttp.HandlerFor(s.opts.Gatherer, promhttp.HandlerOpts{
		ErrorHandling:       promhttp.ContinueOnError,
		OfferedCompressions: []promhttp.Compression{promhttp.Identity, promhttp.Gzip},
	})
}

// serveProbe answers one environment's verdict from the latest report, as
// the blackbox exporter answers a probe: a new registry per request. A
// request without its parameters is a 400, a tenant the config does not
// list a 404 (a mistake in the scrape config, so up is 0); an environment
// the tenant's latest report lacks, or a tenant not scanned yet,
// teamslink_probe_success 0.
func (s *Service) serveProbe(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	tenant, env := strings.TrimSpace(q.Get("tenant")), strings.ToLower(strings.TrimSpace(q.Get("environment")))
	if tenant == "" || env == "" {
		text(w, http.StatusBadRequest, "the tenant and environment parameters are required: /probe?tenant=TENANT_ID&environment=LABEL")
		return
	}
	v := s.view()
	t, ok := v.byTenant[strings.ToLower(tenant)]
	if !ok {
		text(w, http.StatusNotFound, "unknown tenant "+tenant+": it is not in the config")
		return
	}
	var reg *prometheus.Registry
	if e, ok := t.envs[env]; ok {
		reg = metrics.ProbeRegistry(*e, s.opts.Now().Sub(t.report.SnapshotAt))
	} else {
		reg = metrics.ProbeFailure()
	}
	promhttp.HandlerFor(reg, promhttp.HandlerOpts{}).ServeHTTP(w, r)
}

// serveReport answers the latest reports as one JSON report, or the one
// tenant ?tenant= names.
func (s *Service) serveReport(w http.ResponseWriter, r *http.Request) {
	v := s.view()
	if tenant := strings.TrimSpace(r.URL.Query().Get("tenant")); tenant != "" {
		t, ok := v.byTenant[strings.ToLower(tenant)]
		switch {
		case !ok:
			text(w, http.StatusNotFound, "unknown tenant "+tenant+": it is not in the config")
		case t.report == nil:
			text(w, http.StatusServiceUnavailable, "tenant "+tenant+" has no report yet: its first scan has not ended")
		default:
			s.writeJSON(t.report).write(w)
		}
		return
	}
	if len(v.reports) == 0 {
		text(w, http.StatusServiceUnavailable, "no report yet: no scan has ended")
		return
	}
	s.http.report.get(v.gen, s.opts.Now(), htmlMaxAge, func() *encoded {
		merged, err := v.mergedReport()
		if err != nil {
			rec := newRecorder()
			text(rec, http.StatusInternalServerError, err.Error())
			return rec.encoded()
		}
		return s.writeJSON(merged)
	}).write(w)
}

// writeJSON encodes rep as the json format does.
func (s *Service) writeJSON(rep *finding.Report) *encoded {
	rec := newRecorder()
	jw, err := report.New("json", &rec.body, report.Options{Now: s.opts.Now})
	if err == nil {
		err = jw.Write(context.Background(), rep)
	}
	if err != nil {
		rec = newRecorder()
		text(rec, http.StatusInternalServerError, "encode report: "+err.Error())
		return rec.encoded()
	}
	rec.header.Set("Content-Type", "application/json")
	return rec.encoded()
}

func (s *Service) serveHTML(w http.ResponseWriter, _ *http.Request) {
	v := s.view()
	s.http.html.get(v.gen, s.opts.Now(), htmlMaxAge, func() *encoded {
		rec := newRecorder()
		if err := s.renderPage(&rec.body, v); err != nil {
			rec = newRecorder()
			text(rec, http.StatusInternalServerError, "render report: "+err.Error())
			return rec.encoded()
		}
		rec.header.Set("Content-Type", "text/html; charset=utf-8")
		rec.header.Set("X-Content-Type-Options", "nosniff")
		return rec.encoded()
	}).write(w)
}
