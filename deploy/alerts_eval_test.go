package deploy_test

import (
	"context"
	"maps"
	"math"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/histogram"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/value"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/tsdb/chunkenc"
	"github.com/prometheus/prometheus/tsdb/chunks"
	"github.com/prometheus/prometheus/util/annotations"
)

// evalStart is minute 0 of the series below; a fixed time, so that
// timestamp values are stable.
var evalStart = time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC)

// span is a series as a once-a-minute scrape stores it: a sample every
// minute of [from, to), then a staleness marker at to, as Prometheus writes
// when a series leaves the exposition (a verdict's series ends when the
// verdict changes).
type span struct {
	labels   labels.Labels
	from, to int                   // minutes
	value    func(min int) float64 // nil: 1
}

// readiness returns the spans of one environment's verdict on one
// experience: state from each change's minute to the next, until end.
// extra labels (job, shard) are added to every series.
func readiness(tenant, env, exp string, end int, extra []string, changes ...change) []span {
	var out []span
	for i, c := range changes {
		to := end
		if i+1 < len(changes) {
			to = changes[i+1].at
		}
		ls := append([]string{"__name__", "teamslink_environment_readiness",
			"tenant", tenant, "environment", env, "experience", exp, "state", c.state}, extra...)
		out = append(out, span{labels: labels.FromStrings(ls...), from: c.at, to: to})
	}
	return out
}

type change struct {
	at    int
	state string
}

// gauge is one series with a constant value over [0, end).
func gauge(end int, v float64, ls ...string) span {
	return span{labels: labels.FromStrings(ls...), to: end, value: func(int) float64 { return v }}
}

// counter is one series that grows by perMinute every minute over [0, end).
func counter(end int, perMinute float64, ls ...string) span {
	return span{labels: labels.FromStrings(ls...), to: end, value: func(m int) float64 { return perMinute * float64(m) }}
}

// floatSample is a float sample for storage.NewListSeries.
type floatSample struct {
	t int64
	f float64
}

func (s floatSample) T() int64                      { return s.t }
func (s floatSample) ST() int64                     { return 0 }
func (s floatSample) F() float64                    { return s.f }
func (s floatSample) H() *histogram.Histogram       { return nil }
func (s floatSample) FH() *histogram.FloatHistogram { return nil }
func (s floatSample) Type() chunkenc.ValueType      { return chunkenc.ValFloat }
func (s floatSample) Copy() chunks.Sample           { return s }

// sliceSet is a storage.SeriesSet over a slice.
type sliceSet struct {
	series []storage.Series
	i      int
}

func (s *sliceSet) Next() bool                        { s.i++; return s.i <= len(s.series) }
func (s *sliceSet) At() storage.Series                { return s.series[s.i-1] }
func (s *sliceSet) Err() error                        { return nil }
func (s *sliceSet) Warnings() annotations.Annotations { return nil }

// queryable stores the spans for the PromQL engine.
func queryable(spans []span, end int) storage.Queryable {
	byLabels := map[string]*struct {
		ls      labels.Labels
		samples []chunks.Sample
	}{}
	ms := func(min int) int64 { return evalStart.Add(time.Duration(min) * time.Minute).UnixMilli() }
	for _, sp := range spans {
		key := sp.labels.String()
		s, ok := byLabels[key]
		if !ok {
			s = &struct {
				ls      labels.Labels
				samples []chunks.Sample
			}{ls: sp.labels}
			byLabels[key] = s
		}
		for m := sp.from; m < sp.to; m++ {
			v := 1.0
			if sp.value != nil {
				v = sp.value(m)
			}
			s.samples = append(s.samples, floatSample{ms(m), v})
		}
		if sp.to < end {
			s.samples = append(s.samples, floatSample{ms(sp.to), math.Float64frombits(value.StaleNaN)})
		}
	}
	var all []storage.Series
	for _, s := range byLabels {
		slices.SortFunc(s.samples, func(a, b chunks.Sample) int { return int(a.T() - b.T()) })
		all = append(all, storage.NewListSeries(s.ls, s.samples))
	}
	slices.SortFunc(all, func(a, b storage.Series) int { return labels.Compare(a.Labels(), b.Labels()) })
	return &storage.MockQueryable{MockQuerier: &storage.MockQuerier{
		SelectMockFunction: func(_ bool, _ *storage.SelectHints, matchers ...*labels.Matcher) storage.SeriesSet {
			var out []storage.Series
			for _, s := range all {
				if matchAll(s.Labels(), matchers) {
					out = append(out, s)
				}
			}
			return &sliceSet{series: out}
		},
	}}
}

func matchAll(ls labels.Labels, ms []*labels.Matcher) bool {
	for _, m := range ms {
		if !m.Matches(ls.Get(m.Name)) {
			return false
		}
	}
	return true
}

// TestAlertsFire evaluates the rules' expressions on series shaped as
// teamslink and the Pushgateway expose them, at chosen moments (the for:
// clauses aside): each alert fires on what it is for, and not otherwise.
func TestAlertsFire(t *testing.T) {
	t.Parallel()
	exprs := map[string]string{}
	for _, g := range loadRules(t).Groups {
		for _, r := range g.Rules {
			exprs[r.Alert] = r.Expr
		}
	}
	const end = 24 * 60
	const (
		c, f     = "3f1c2a9e-5b7d-4c2e-9a61-8d0e4b7f2c15", "8b2d6f40-1c3e-4a5b-8d7f-2e9a0c1b3d4e"
		prod, ts = "contoso", "contoso-test"
	)
	serve := []string{"job", "teamslink", "instance", "10.0.0.7:9741"}
	shard := func(k string) []string { return []string{"job", "teamslink", "instance", "", "shard", k} }
	scanAt := float64(evalStart.Add(time.Hour).Unix()) // the last successful scan: minute 60
	broke := slices.Concat(
		readiness(c, prod, "basic", end, serve, change{0, "ENABLED"}, change{120, "BROKEN"}),
		readiness(c, ts, "basic", end, serve, change{0, "ENABLED"}),
	)
	tests := []struct {
		name   string
		alert  string
		series []span
		at     int // minute
		want   []labels.Labels
	}{
		{"ENABLED then BROKEN has regressed", "TeamslinkReadinessRegressed", broke, 125,
			[]labels.Labels{labels.FromStrings("tenant", c, "environment", prod, "experience", "basic", "state", "BROKEN")}},
		{"and still has nearly an hour later", "TeamslinkReadinessRegressed", broke, 175,
			[]labels.Labels{labels.FromStrings("tenant", c, "environment", prod, "experience", "basic", "state", "BROKEN")}},
		{"an hour after the change, the regression is over", "TeamslinkReadinessRegressed", broke, 185, nil},
		{"while the environment stays BROKEN", "TeamslinkEnvironmentBroken", broke, 185,
			[]labels.Labels{labels.FromStrings("tenant", c, "environment", prod, "experience", "basic")}},
		{"BROKEN all along has not regressed", "TeamslinkReadinessRegressed",
			readiness(c, prod, "basic", end, serve, change{0, "BROKEN"}), 125, nil},
		{"READY then BLOCKED has regressed", "TeamslinkReadinessRegressed",
			readiness(c, prod, "enhanced", end, serve, change{0, "READY"}, change{120, "BLOCKED"}), 130,
			[]labels.Labels{labels.FromStrings("tenant", c, "environment", prod, "experience", "enhanced", "state", "BLOCKED")}},
		{"BLOCKED then ENABLED is no regression", "TeamslinkReadinessRegressed",
			readiness(c, prod, "basic", end, serve, change{0, "BLOCKED"}, change{120, "ENABLED"}), 130, nil},
		{"ENABLED, UNKNOWN for half an hour, then BROKEN has regressed", "TeamslinkReadinessRegressed",
			readiness(c, prod, "basic", end, serve, change{0, "ENABLED"}, change{120, "UNKNOWN"}, change{150, "BROKEN"}), 155,
			[]labels.Labels{labels.FromStrings("tenant", c, "environment", prod, "experience", "basic", "state", "BROKEN")}},
		{"serve and a shard reporting one environment make one alert", "TeamslinkReadinessRegressed",
			slices.Concat(broke, readiness(c, prod, "basic", end, shard("0"), change{0, "ENABLED"}, change{120, "BROKEN"})), 125,
			[]labels.Labels{labels.FromStrings("tenant", c, "environment", prod, "experience", "basic", "state", "BROKEN")}},
		{"BLOCKED fires its own alert, only for the blocked experience", "TeamslinkEnvironmentBlocked",
			slices.Concat(readiness(c, prod, "enhanced", end, serve, change{0, "BLOCKED"}), readiness(c, prod, "basic", end, serve, change{0, "READY"})), 125,
			[]labels.Labels{labels.FromStrings("tenant", c, "environment", prod, "experience", "enhanced")}},
		{"UNKNOWN fires its own alert", "TeamslinkEnvironmentUnknown",
			readiness(c, prod, "basic", end, serve, change{0, "UNKNOWN"}), 125,
			[]labels.Labels{labels.FromStrings("tenant", c, "environment", prod, "experience", "basic")}},

		{"serve's scan 3 h 10 min old is stale", "TeamslinkScanStale",
			[]span{gauge(end, scanAt, slices.Concat([]string{"__name__", "teamslink_last_successful_scan_timestamp_seconds", "tenant", c}, serve)...)},
			60 + 190, []labels.Labels{labels.FromStrings("tenant", c)}},
		{"serve's scan 2 h 50 min old is not", "TeamslinkScanStale",
			[]span{gauge(end, scanAt, slices.Concat([]string{"__name__", "teamslink_last_successful_scan_timestamp_seconds", "tenant", c}, serve)...)},
			60 + 170, nil},
		{"a shard's scan is not serve's", "TeamslinkScanStale",
			[]span{gauge(end, scanAt, slices.Concat([]string{"__name__", "teamslink_last_successful_scan_timestamp_seconds", "tenant", c}, shard("1"))...)},
			60 + 190, nil},
		{"a shard that has not pushed for 18 h 10 min", "TeamslinkFleetScanPushStale",
			[]span{gauge(end, scanAt, slices.Concat([]string{"__name__", "push_time_seconds"}, shard("1"))...),
				gauge(end, float64(evalStart.Add(20*time.Hour).Unix()), slices.Concat([]string{"__name__", "push_time_seconds"}, shard("0"))...)},
			60 + 18*60 + 10, []labels.Labels{labels.FromStrings("job", "teamslink", "shard", "1")}},
		{"a push refused after the last success", "TeamslinkFleetScanPushFailed",
			[]span{gauge(end, scanAt, slices.Concat([]string{"__name__", "push_time_seconds"}, shard("1"))...),
				gauge(end, scanAt+60, slices.Concat([]string{"__name__", "push_failure_time_seconds"}, shard("1"))...),
				gauge(end, scanAt, slices.Concat([]string{"__name__", "push_time_seconds"}, shard("0"))...),
				gauge(end, 0, slices.Concat([]string{"__name__", "push_failure_time_seconds"}, shard("0"))...)},
			120, []labels.Labels{labels.FromStrings("job", "teamslink", "shard", "1")}},
		{"a shard whose last run had failed scans", "TeamslinkFleetScanErrors",
			[]span{gauge(end, 3, slices.Concat([]string{"__name__", "teamslink_scans_total", "result", "error"}, shard("2"))...),
				gauge(end, 0, slices.Concat([]string{"__name__", "teamslink_scans_total", "result", "error"}, shard("1"))...),
				gauge(end, 5, slices.Concat([]string{"__name__", "teamslink_scans_total", "result", "error"}, serve)...)},
			120, []labels.Labels{labels.FromStrings("job", "teamslink", "shard", "2")}},

		{"serve rejected its config", "TeamslinkConfigReloadFailed",
			[]span{gauge(end, 0, slices.Concat([]string{"__name__", "teamslink_config_last_reload_successful"}, serve)...)},
			120, []labels.Labels{labels.FromStrings("job", "teamslink")}},
		{"a shard, which never reloads, is not serve", "TeamslinkConfigReloadFailed",
			[]span{gauge(end, 0, slices.Concat([]string{"__name__", "teamslink_config_last_reload_successful"}, shard("0"))...)},
			120, nil},
		{"more than a tenth of serve's scans failed", "TeamslinkScansFailing",
			[]span{counter(end, 1, slices.Concat([]string{"__name__", "teamslink_scans_total", "result", "error"}, serve)...),
				counter(end, 5, slices.Concat([]string{"__name__", "teamslink_scans_total", "result", "success"}, serve)...)},
			240, []labels.Labels{labels.FromStrings("job", "teamslink")}},
		{"a few failed scans are not", "TeamslinkScansFailing",
			[]span{counter(end, 0.1, slices.Concat([]string{"__name__", "teamslink_scans_total", "result", "error"}, serve)...),
				counter(end, 5, slices.Concat([]string{"__name__", "teamslink_scans_total", "result", "success"}, serve)...)},
			240, nil},

		{"a tenant that cannot sign in", "TeamslinkCredentialFailed",
			[]span{gauge(end, 1, slices.Concat([]string{"__name__", "teamslink_credential_failed", "tenant", f, "method", "client-secret"}, serve)...)},
			120, []labels.Labels{labels.FromStrings("tenant", f, "method", "client-secret")}},
		{"an unreadable section", "TeamslinkCollectionErrors",
			[]span{gauge(end, 4, slices.Concat([]string{"__name__", "teamslink_collection_errors", "section", "tenant.consent"}, serve)...),
				gauge(end, 0, slices.Concat([]string{"__name__", "teamslink_collection_errors", "section", "tenant.licenses"}, serve)...)},
			120, []labels.Labels{labels.FromStrings("section", "tenant.consent")}},
		{"Dataverse throttles a tenth of the answers, Graph one in a hundred", "TeamslinkThrottlingSustained",
			[]span{counter(end, 100, slices.Concat([]string{"__name__", "teamslink_api_requests_total", "api", "dataverse", "code", "200"}, serve)...),
				counter(end, 10, slices.Concat([]string{"__name__", "teamslink_api_requests_total", "api", "dataverse", "code", "429"}, serve)...),
				counter(end, 10, slices.Concat([]string{"__name__", "teamslink_api_throttled_requests_total", "api", "dataverse"}, serve)...),
				counter(end, 100, slices.Concat([]string{"__name__", "teamslink_api_requests_total", "api", "graph", "code", "200"}, serve)...),
				counter(end, 1, slices.Concat([]string{"__name__", "teamslink_api_throttled_requests_total", "api", "graph"}, serve)...)},
			120, []labels.Labels{labels.FromStrings("api", "dataverse")}},
		{"serve cannot be scraped", "TeamslinkServeDown",
			[]span{gauge(end, 0, slices.Concat([]string{"__name__", "up"}, serve)...),
				gauge(end, 1, "__name__", "up", "job", "pushgateway", "instance", "10.0.0.9:9091")},
			120, []labels.Labels{labels.FromStrings("job", "teamslink")}},
	}
	seen := map[string]bool{}
	for _, tt := range tests {
		seen[tt.alert] = true
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			expr, ok := exprs[tt.alert]
			if !ok {
				t.Fatalf("no alert %s", tt.alert)
			}
			got := evalAt(t, queryable(tt.series, end), expr, tt.at)
			if len(got) != len(tt.want) {
				t.Fatalf("%s at minute %d: %d alerts %v, want %d %v", tt.alert, tt.at, len(got), got, len(tt.want), tt.want)
			}
			for _, w := range tt.want {
				if !slices.ContainsFunc(got, func(g labels.Labels) bool { return subset(w, g) }) {
					t.Errorf("%s at minute %d: no alert with %s among %v", tt.alert, tt.at, w, got)
				}
			}
		})
	}
	for name := range exprs {
		if !seen[name] {
			t.Errorf("no case evaluates %s", name)
		}
	}
}

// TestDashboardReadinessCodes evaluates the query of the readiness matrix
// and timeline: one number per environment and experience, the worst
// verdict when serve and a shard both report it, that the panels' value
// mappings turn back into the verdict.
func TestDashboardReadinessCodes(t *testing.T) {
	t.Parallel()
	d := loadDashboard(t)
	vars := map[string]bool{}
	for _, v := range d.Templating.List {
		vars[v.Name] = true
	}
	var p *panel
	for _, q := range allPanels(d.Panels) {
		if q.Type == "state-timeline" {
			p = &q
		}
	}
	if p == nil || len(p.Targets) != 1 {
		t.Fatal("no state timeline with one query")
	}
	const end = 300
	const c = "3f1c2a9e-5b7d-4c2e-9a61-8d0e4b7f2c15"
	serve := []string{"job", "teamslink", "instance", "10.0.0.7:9741"}
	series := slices.Concat(
		readiness(c, "contoso", "basic", end, serve, change{0, "ENABLED"}, change{120, "BROKEN"}),
		readiness(c, "contoso-test", "basic", end, serve, change{0, "ENABLED"}),
		readiness(c, "contoso-test", "enhanced", end, serve, change{0, "READY"}),
		readiness(c, "contoso-dev", "basic", end, serve, change{0, "UNKNOWN"}),
		readiness(c, "contoso-dev", "basic", end, []string{"job", "teamslink", "instance", "", "shard", "0"}, change{0, "BLOCKED"}),
	)
	vec := eval(t, queryable(series, end), substitute(t, p.Targets[0].Expr, vars), 125)
	got := map[string]string{}
	for _, s := range vec {
		got[s.Metric.Get("environment")+"/"+s.Metric.Get("experience")] = stateOf(t, *p, s.F)
	}
	want := map[string]string{"contoso/basic": "BROKEN", "contoso-test/basic": "ENABLED", "contoso-test/enhanced": "READY", "contoso-dev/basic": "BLOCKED"}
	if !maps.Equal(got, want) {
		t.Errorf("verdicts %v, want %v", got, want)
	}
}

// stateOf maps a value through the panel's value mappings.
func stateOf(t *testing.T, p panel, v float64) string {
	t.Helper()
	key := strconv.FormatFloat(v, 'f', -1, 64)
	for _, m := range p.FieldConfig.Defaults.Mappings {
		if o, ok := m.Options[key]; ok {
			return o.Text
		}
	}
	t.Errorf("panel %q maps no text to %s", p.Title, key)
	return key
}

// evalAt evaluates expr at minute at and returns the label sets of the
// result, as the alerts would carry them.
func evalAt(t *testing.T, q storage.Queryable, expr string, at int) []labels.Labels {
	t.Helper()
	vec := eval(t, q, expr, at)
	out := make([]labels.Labels, len(vec))
	for i, s := range vec {
		out[i] = s.Metric
	}
	return out
}

// eval evaluates expr at minute at.
func eval(t *testing.T, q storage.Queryable, expr string, at int) promql.Vector {
	t.Helper()
	engine := promql.NewEngine(promql.EngineOpts{MaxSamples: 1_000_000, Timeout: 10 * time.Second, LookbackDelta: 5 * time.Minute})
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	qry, err := engine.NewInstantQuery(ctx, q, nil, expr, evalStart.Add(time.Duration(at)*time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	defer qry.Close()
	res := qry.Exec(ctx)
	vec, err := res.Vector()
	if err != nil {
		t.Fatal(err)
	}
	return vec
}

// subset reports whether every label of want has its value in got.
func subset(want, got labels.Labels) bool {
	ok := true
	want.Range(func(l labels.Label) {
		if got.Get(l.Name) != l.Value {
			ok = false
		}
	})
	return ok
}
