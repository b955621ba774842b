package metrics

import (
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/teamslink/teamslink/internal/finding"
)

// The series derived from reports. Each environment has at most one
// readiness series per experience and one rule series per rule, so the
// report-derived series of E environments number at most E × (rules +
// experiences), plus one per tenant (its last successful scan, and its
// credential while its sign-in fails) and one per unreadable section.
var (
	readinessDesc = prometheus.NewDesc(namespace+"_environment_readiness",
		"The verdict of the latest report on the experience in the environment: one series with the value 1 whose state label is ENABLED, READY, BLOCKED, BROKEN or UNKNOWN; an experience the run was not asked about has none.",
		[]string{"tenant", "environment", "experience", "state"}, nil)
	ruleDesc = prometheus.NewDesc(namespace+"_rule_status",
		"The status of the rule in the environment in the latest report: one series with the value 1 whose status label is fail, error, warn, waived, manual or pass (for a table rule, the worst over the tables); a rule that does not apply (skip) has none.",
		[]string{"tenant", "environment", "rule", "severity", "status"}, nil)
	lastSuccessDesc = prometheus.NewDesc(namespace+"_last_successful_scan_timestamp_seconds",
		"When the latest report of the tenant whose sign-in succeeded was made, in seconds since the Unix epoch.",
		[]string{"tenant"}, nil)
	credentialDesc = prometheus.NewDesc(namespace+"_credential_failed",
		"1 while the latest report of the tenant says its sign-in failed (nothing of it could be read), by the tenants.yaml auth method; absent once it signs in.",
		[]string{"tenant", "method"}, nil)
	discoveryDesc = prometheus.NewDesc(namespace+"_discovery_failed",
		"1 while the latest report of the tenant says its environments could not be discovered, or none was left to scan, so it was not scanned, by discovery source (bap or gds); absent once discovery succeeds.",
		[]string{"tenant", "source"}, nil)
	collectionErrorsDesc = prometheus.NewDesc(namespace+"_collection_errors",
		"Snapshot sections that could not be read in the latest reports, by section: each environment (each tenant, for a tenant-wide section) counts once; failed sign-ins are teamslink_credential_failed instead.",
		[]string{"section"}, nil)
)

// statusRank orders the statuses a rule series can show, worst first: the
// series of a table rule shows the worst of its tables.
var statusRank = map[finding.Status]int{
	finding.StatusFail: 0, finding.StatusError: 1, finding.StatusWarn: 2,
	finding.StatusWaived: 3, finding.StatusManual: 4, finding.StatusPass: 5,
}

// sortedMetric is a built series with its sort key: its label values in
// the order of their names, as the registry sorts a family's series.
type sortedMetric struct {
	key string
	m   prometheus.Metric
}

// sortKey joins label values with the lowest byte, so that comparing keys
// compares the values one after the other.
func sortKey(values ...string) string { return strings.Join(values, "\x00") }

// tenantState is what one tenant exports.
type tenantState struct {
	// readiness and rules are the tenant's readiness and rule series,
	// built once per report.
	readiness, rules []sortedMetric
	// sections are the sections that could not be read, each once per
	// environment (or tenant).
	sections map[string]int
	// signInFailed says the report's sign-in failed, with the auth method.
	signInFailed bool
	method       string
	// discovery is the source whose discovery failed; with it,
	// signInFailed is false: the tenant was signed in to, or not, but not
	// scanned.
	discovery string
	// lastSuccess is when the latest report whose sign-in succeeded was
	// made; zero before one.
	lastSuccess time.Time
}

// reportCollector exports the state of every tenant's latest report.
type reportCollector struct {
	mu      sync.RWMutex
	tenants map[string]*tenantState
	// sorted holds every tenant's readiness then rule series, each family
	// in the registry's order, so that its sort of tens of thousands of
	// series finds them sorted; rebuilt on the first Collect after a
	// change (dirty).
	sorted []prometheus.Metric
	dirty  bool
}

func newReportCollector() *reportCollector {
	return &reportCollector{tenants: map[string]*tenantState{}}
}

// ObserveReport sets the readiness, rule, collection-error and credential
// series from r, made at at (when the scan finished; zero takes
// r.GeneratedAt), and the last successful scan time of every tenant whose
// sign-in succeeded. The report replaces everything earlier reports said of
// the tenants it covers (those of its environments and sign-in errors, and
// any listed in tenants, for a tenant that now has no environment): an
// environment, rule or experience it no longer has loses its series, so the
// series stay bounded across rescans and config reloads. Other tenants keep
// theirs; Retain drops a tenant no longer configured. A target's report must
// therefore hold whole tenants.
func (m *Metrics) ObserveReport(r *finding.Report, at time.Time, tenants ...string) {
	if r == nil {
		return
	}
	if at.IsZero() {
		at = r.GeneratedAt
	}
	m.report.observe(r, at, tenants)
}

func (c *reportCollector) observe(r *finding.Report, at time.Time, extra []string) {
	groups := map[string][]finding.Environment{}
	var order []string
	add := func(t string) {
		if _, ok := groups[t]; !ok {
			groups[t] = nil
			order = append(order, t)
		}
	}
	for _, t := range extra {
		add(labelValue(t))
	}
	for _, e := range r.Environments {
		t := labelValue(e.Tenant)
		add(t)
		groups[t] = append(groups[t], e)
	}
	failed, undiscovered := map[string]string{}, map[string]string{}
	for _, s := range r.SignInErrors {
		t := labelValue(s.Tenant)
		add(t)
		if s.Discovery != "" {
			undiscovered[t] = labelValue(s.Discovery)
		} else {
			failed[t] = labelValue(s.Method)
		}
	}

	built := make(map[string]*tenantState, len(order))
	for _, t := range order {
		st := tenantSeries(t, groups[t])
		if method, ok := failed[t]; ok {
			st.signInFailed, st.method = true, method
		} else if source, ok := undiscovered[t]; ok {
			st.discovery = source
		} else {
			st.lastSuccess = at
		}
		built[t] = st
	}

	c.mu.Lock()
	defer c.mu.Unlock()
	for t, st := range built {
		if old, ok := c.tenants[t]; ok {
			if st.signInFailed || st.discovery != "" {
				st.lastSuccess = old.lastSuccess
			}
		}
		c.tenants[t] = st
	}
	c.dirty = true
}

// tenantSeries builds the series of one tenant's environments.
func tenantSeries(tenant string, envs []finding.Environment) *tenantState {
	st := &tenantState{sections: map[string]int{}}
	urls := make([]string, len(envs))
	for i, e := range envs {
		urls[i] = e.URL
	}
	labels := EnvironmentLabels(urls)
	tenantSections := map[string]bool{}
	for i, e := range envs {
		env := labels[i]
		seen := map[finding.Experience]bool{}
		for _, v := range e.Verdicts {
			if v.Readiness == finding.NotAssessed || v.Readiness == "" || seen[v.Experience] {
				continue
			}
			seen[v.Experience] = true
			x, state := labelValue(string(v.Experience)), labelValue(string(v.Readiness))
			st.readiness = append(st.readiness, sortedMetric{sortKey(env, x, state, tenant),
				prometheus.MustNewConstMetric(readinessDesc, prometheus.GaugeValue, 1, tenant, env, x, state)})
		}
		type worst struct {
			status   finding.Status
			severity finding.Severity
		}
		rules := map[string]worst{}
		envSections := map[string]bool{}
		for _, f := range e.Findings {
			if rank, ok := statusRank[f.Status]; ok {
				w, had := rules[f.Rule]
				if !had || rank < statusRank[w.status] {
					rules[f.Rule] = worst{f.Status, f.Severity}
				}
			}
			if f.Status == finding.StatusError && f.Access != nil && !f.Access.SignIn && f.Access.Section != "" {
				if f.Scope == finding.ScopeTenant {
					tenantSections[f.Access.Section] = true
				} else {
					envSections[f.Access.Section] = true
				}
			}
		}
		for _, id := range slices.Sorted(maps.Keys(rules)) {
			w := rules[id]
			rule, sev, status := labelValue(id), labelValue(string(w.severity)), string(w.status)
			st.rules = append(st.rules, sortedMetric{sortKey(env, rule, sev, status, tenant),
				prometheus.MustNewConstMetric(ruleDesc, prometheus.GaugeValue, 1, tenant, env, rule, sev, status)})
		}
		for s := range envSections {
			st.sections[labelValue(s)]++
		}
	}
	for s := range tenantSections {
		st.sections[labelValue(s)]++
	}
	return st
}

// retain drops every tenant not in keep.
func (c *reportCollector) retain(keep map[string]bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for t := range c.tenants {
		if !keep[t] {
			delete(c.tenants, t)
			c.dirty = true
		}
	}
}

// sortedSeries returns the readiness and rule series of every tenant in
// the registry's order, rebuilding them after a change.
func (c *reportCollector) sortedSeries() []prometheus.Metric {
	c.mu.RLock()
	if !c.dirty {
		defer c.mu.RUnlock()
		return c.sorted
	}
	c.mu.RUnlock()
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.dirty {
		return c.sorted
	}
	var readiness, rules []sortedMetric
	for _, st := range c.tenants {
		readiness = append(readiness, st.readiness...)
		rules = append(rules, st.rules...)
	}
	byKey := func(a, b sortedMetric) int { return strings.Compare(a.key, b.key) }
	slices.SortFunc(readiness, byKey)
	slices.SortFunc(rules, byKey)
	out := make([]prometheus.Metric, 0, len(readiness)+len(rules))
	for _, list := range [][]sortedMetric{readiness, rules} {
		for _, sm := range list {
			out = append(out, sm.m)
		}
	}
	c.sorted, c.dirty = out, false
	return out
}

// Describe implements prometheus.Collector.
func (c *reportCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{readinessDesc, ruleDesc, lastSuccessDesc, credentialDesc, discoveryDesc, collectionErrorsDesc} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (c *reportCollector) Collect(ch chan<- prometheus.Metric) {
	// The slice is never modified once built: a change builds a new one.
	for _, m := range c.sortedSeries() {
		ch <- m
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	sections := map[string]int{}
	for t, st := range c.tenants {
		if !st.lastSuccess.IsZero() {
			ch <- prometheus.MustNewConstMetric(lastSuccessDesc, prometheus.GaugeValue, unixSeconds(st.lastSuccess), t)
		}
		if st.signInFailed {
			ch <- prometheus.MustNewConstMetric(credentialDesc, prometheus.GaugeValue, 1, t, st.method)
		}
		if st.discovery != "" {
			ch <- prometheus.MustNewConstMetric(discoveryDesc, prometheus.GaugeValue, 1, t, st.discovery)
		}
		for s, n := range st.sections {
			sections[s] += n
		}
	}
	for s, n := range sections {
		ch <- prometheus.MustNewConstMetric(collectionErrorsDesc, prometheus.GaugeValue, float64(n), s)
	}
}
