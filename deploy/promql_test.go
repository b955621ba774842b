package deploy_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/rulefmt"
	"github.com/prometheus/prometheus/promql/parser"

	"github.com/teamslink/teamslink/internal/finding"
	"github.com/teamslink/teamslink/internal/metrics"
)

// The files under test, from this package's directory.
const (
	alertsFile    = "prometheus/alerts.yaml"
	dashboardFile = "grafana/teamslink.json"
	metricsDoc    = "../docs/metrics.md"
	runbooksDoc   = "../docs/runbooks.md"
)

// targetLabels are the labels a series gets from where it is scraped: job
// and instance from Prometheus, shard from the Pushgateway's grouping key
// of the fleet scan.
var targetLabels = []string{"job", "instance", "shard"}

// external are the series that Prometheus and the Pushgateway make, which
// the rules may use beside teamslink's, with their labels.
var external = map[string][]string{
	"up":                        {"job", "instance"},
	"push_time_seconds":         {"job", "instance", "shard"},
	"push_failure_time_seconds": {"job", "instance", "shard"},
}

// labelValues are the values the rules and panels may match for the
// labels whose values are a closed set.
var labelValues = map[string][]string{
	"state":    strs(finding.Readinesses),
	"status":   strs(finding.Statuses),
	"severity": strs(finding.Severities),
	"result":   {metrics.ResultSuccess, metrics.ResultError, metrics.ResultCanceled},
}

// boundedLabels are the labels an alert may carry or name in its
// annotations: the bounded labels of docs/metrics.md that the rules
// aggregate by, and the target labels.
var boundedLabels = []string{"tenant", "environment", "experience", "state", "rule", "severity",
	"status", "section", "api", "code", "reason", "method", "result", "job", "instance", "shard"}

func strs[S ~string](xs []S) []string {
	out := make([]string, len(xs))
	for i, x := range xs {
		out[i] = string(x)
	}
	return out
}

// catalogue is every series name that can be queried, with its labels: the
// /metrics table of docs/metrics.md (generated from the registry, and kept
// fresh by internal/metrics' own test), a histogram as its _bucket, _sum
// and _count series, plus the target labels; and the external series.
func catalogue(t *testing.T) map[string]map[string]bool {
	t.Helper()
	doc, err := os.ReadFile(metricsDoc)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]map[string]bool{}
	add := func(name string, labels ...[]string) {
		set := map[string]bool{}
		for _, ls := range labels {
			for _, l := range ls {
				set[l] = true
			}
		}
		out[name] = set
	}
	in := false
	sc := bufio.NewScanner(bytes.NewReader(doc))
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "## ") {
			in = line == "## /metrics"
			continue
		}
		if !in || !strings.HasPrefix(line, "| `teamslink_") {
			continue
		}
		cells := strings.Split(line, "|")
		if len(cells) < 5 {
			t.Fatalf("%s: unexpected row %q", metricsDoc, line)
		}
		name := strings.Trim(strings.TrimSpace(cells[1]), "`")
		typ := strings.TrimSpace(cells[2])
		var labels []string
		for l := range strings.SplitSeq(cells[3], ",") {
			if l = strings.Trim(strings.TrimSpace(l), "`"); l != "" {
				labels = append(labels, l)
			}
		}
		switch typ {
		case "histogram":
			add(name+"_bucket", labels, targetLabels, []string{"le"})
			add(name+"_sum", labels, targetLabels)
			add(name+"_count", labels, targetLabels)
		case "counter", "gauge":
			add(name, labels, targetLabels)
		default:
			t.Fatalf("%s: %s has type %q", metricsDoc, name, typ)
		}
	}
	if len(out) < 10 {
		t.Fatalf("%s: found only %d series in the /metrics table", metricsDoc, len(out))
	}
	for name, labels := range external {
		add(name, labels)
	}
	return out
}

// TestCatalogueMatchesRegistry checks the reading of docs/metrics.md
// against the registry itself: every series a registry filled with a scan,
// a report and API answers exposes is in the catalogue, with its labels.
func TestCatalogueMatchesRegistry(t *testing.T) {
	t.Parallel()
	cat := catalogue(t)
	reg := prometheus.NewRegistry()
	m := metrics.New(reg, metrics.BuildInfo{Version: "1.0.0", Revision: "abc"})
	at := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
	m.ConfigReloaded(true, at)
	m.ObserveScan(time.Minute, nil)
	h := m.Hooks(metrics.APIDataverse)
	h.OnResponse(429, time.Second)
	h.OnRetry("throttled", time.Second)
	h.OnThrottle(429, 2*time.Second)
	m.ObserveReport(&finding.Report{
		Environments: []finding.Environment{{
			Tenant: "3f1c2a9e-5b7d-4c2e-9a61-8d0e4b7f2c15", URL: "https://contoso.crm4.dynamics.com",
			Verdicts: []finding.Verdict{{Experience: finding.ExperienceBasic, Readiness: finding.Broken}},
			Findings: []finding.Finding{
				{Key: finding.Key{Rule: "TL-SP-002"}, Severity: finding.SeverityCritical, Status: finding.StatusFail, Scope: finding.ScopeEnvironment},
				{Key: finding.Key{Rule: "TL-ROLE-001"}, Severity: finding.SeverityHigh, Status: finding.StatusError, Scope: finding.ScopeEnvironment,
					Access: &finding.Access{Section: "environment.caller"}},
			},
		}},
		SignInErrors: []finding.SignInError{{Tenant: "8b2d6f40-1c3e-4a5b-8d7f-2e9a0c1b3d4e", Method: "client-secret"}},
	}, at)

	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	if len(mfs) < 12 {
		t.Errorf("the filled registry has %d families; the fixture no longer fills it", len(mfs))
	}
	for _, mf := range mfs {
		name := mf.GetName()
		if mf.GetType().String() == "HISTOGRAM" {
			name += "_bucket"
		}
		labels, ok := cat[name]
		if !ok {
			t.Errorf("%s is registered but not in %s's /metrics table", name, metricsDoc)
			continue
		}
		for _, mt := range mf.GetMetric() {
			for _, lp := range mt.GetLabel() {
				if !labels[lp.GetName()] {
					t.Errorf("%s has label %s, which %s does not list", name, lp.GetName(), metricsDoc)
				}
			}
		}
	}
}

// newParser is the PromQL parser the checks use: the defaults of the
// Prometheus release go.mod pins.
func newParser() parser.Parser { return parser.NewParser(parser.Options{}) }

// loadRules parses alerts.yaml as Prometheus loads a rule file.
func loadRules(t *testing.T) *rulefmt.RuleGroups {
	t.Helper()
	data, err := os.ReadFile(alertsFile)
	if err != nil {
		t.Fatal(err)
	}
	groups, errs := rulefmt.Parse(data, false, model.LegacyValidation, newParser(),
		slog.New(slog.NewTextHandler(io.Discard, nil)))
	for _, err := range errs {
		t.Errorf("%s: %v", alertsFile, err)
	}
	if groups == nil {
		t.FailNow()
	}
	return groups
}

// TestAlertRules loads the rules with Prometheus's own parser, which also
// checks the PromQL and the templates, and checks what each alert carries.
func TestAlertRules(t *testing.T) {
	t.Parallel()
	groups := loadRules(t)
	anchors := runbookAnchors(t)
	cat := catalogue(t)
	bounded := set(boundedLabels)
	seen := map[string]bool{}
	for _, g := range groups.Groups {
		for _, r := range g.Rules {
			t.Run(r.Alert, func(t *testing.T) {
				t.Parallel()
				if r.Alert == "" {
					t.Fatalf("group %s: a rule without alert (recording rules are not expected here): %s", g.Name, r.Expr)
				}
				if !strings.HasPrefix(r.Alert, "Teamslink") {
					t.Errorf("alert %s: the name should start with Teamslink", r.Alert)
				}
				switch r.Labels["severity"] {
				case "critical", "warning", "info":
				default:
					t.Errorf("severity label %q, want critical, warning or info", r.Labels["severity"])
				}
				for k := range r.Labels {
					if k != "severity" {
						t.Errorf("label %s: only severity is set by the rule; more labels split alerts", k)
					}
				}
				for _, a := range []string{"summary", "description", "runbook_url"} {
					if strings.TrimSpace(r.Annotations[a]) == "" {
						t.Errorf("annotation %s missing", a)
					}
				}
				url := r.Annotations["runbook_url"]
				anchor, ok := strings.CutPrefix(url, "docs/runbooks.md#")
				if !ok || !anchors[anchor] {
					t.Errorf("runbook_url %q: want docs/runbooks.md#<anchor of a heading in %s>", url, runbooksDoc)
				}
				if want := strings.ToLower(r.Alert); anchor != want {
					t.Errorf("runbook_url anchor %q, want %q (the alert's own section)", anchor, want)
				}

				expr, err := newParser().ParseExpr(r.Expr)
				if err != nil {
					t.Fatal(err)
				}
				out := checkExpr(t, cat, expr)
				if out == nil {
					return // checkExpr said why
				}
				for _, text := range r.Annotations {
					for _, m := range templateLabel.FindAllStringSubmatch(text, -1) {
						switch {
						case !bounded[m[1]]:
							t.Errorf("annotation names label %s, which is not a bounded label", m[1])
						case !out[m[1]]:
							t.Errorf("annotation names label %s, which the expression's result does not have (it has %v)", m[1], sorted(out))
						}
					}
				}
				for l := range out {
					if !bounded[l] {
						t.Errorf("the alert would carry label %s, which is not bounded", l)
					}
				}
			})
			if seen[r.Alert] {
				t.Errorf("alert %s defined twice", r.Alert)
			}
			seen[r.Alert] = true
		}
	}
	// Every deliverable of the alerting rules has its alert.
	for _, want := range []string{"TeamslinkEnvironmentBroken", "TeamslinkEnvironmentBlocked", "TeamslinkReadinessRegressed",
		"TeamslinkScanStale", "TeamslinkCollectionErrors", "TeamslinkThrottlingSustained", "TeamslinkCredentialFailed",
		"TeamslinkConfigReloadFailed", "TeamslinkFleetScanPushStale"} {
		if !seen[want] {
			t.Errorf("no alert %s", want)
		}
	}
	// Every runbook section belongs to an alert.
	for anchor := range anchors {
		if strings.HasPrefix(anchor, "teamslink") && !seen[alertOfAnchor(anchor, seen)] {
			t.Errorf("%s has a section #%s for no alert", runbooksDoc, anchor)
		}
	}
}

// alertOfAnchor returns the alert among seen whose anchor is a, or "".
func alertOfAnchor(a string, seen map[string]bool) string {
	for name := range seen {
		if strings.ToLower(name) == a {
			return name
		}
	}
	return ""
}

// templateLabel finds $labels.NAME in an annotation template.
var templateLabel = regexp.MustCompile(`\$labels\.([a-zA-Z_][a-zA-Z0-9_]*)`)

// runbookAnchors returns the GitHub anchors of the headings of
// docs/runbooks.md.
func runbookAnchors(t *testing.T) map[string]bool {
	t.Helper()
	doc, err := os.ReadFile(runbooksDoc)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]bool{}
	for line := range strings.SplitSeq(string(doc), "\n") {
		if h, ok := strings.CutPrefix(line, "## "); ok {
			out[anchor(h)] = true
		}
	}
	return out
}

// anchor is GitHub's anchor for a heading: lower case, spaces to hyphens,
// punctuation other than hyphens and underscores dropped.
func anchor(heading string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(strings.TrimSpace(heading)) {
		switch {
		case r == ' ':
			b.WriteByte('-')
		case r == '-' || r == '_' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9':
			b.WriteRune(r)
		}
	}
	return b.String()
}

// checkExpr checks every series expr selects and every label it groups,
// matches or joins on against the catalogue, and returns the labels of its
// result (an upper bound).
func checkExpr(t *testing.T, cat map[string]map[string]bool, expr parser.Expr) map[string]bool {
	t.Helper()
	switch n := expr.(type) {
	case *parser.VectorSelector:
		if n.Name == "" {
			t.Errorf("%s: a selector without a metric name", n)
			return nil
		}
		labels, ok := cat[n.Name]
		if !ok {
			t.Errorf("%s: no series %s in %s (or the Prometheus and Pushgateway series)", n, n.Name, metricsDoc)
			return nil
		}
		for _, m := range n.LabelMatchers {
			if m.Name == model.MetricNameLabel {
				continue
			}
			if !labels[m.Name] {
				t.Errorf("%s: %s has no label %s (it has %v)", n, n.Name, m.Name, sorted(labels))
			}
			if vals, closed := labelValues[m.Name]; closed && m.Value != "" {
				for v := range strings.SplitSeq(m.Value, "|") {
					if !slices.Contains(vals, v) {
						t.Errorf("%s: label %s never has the value %q (values: %v)", n, m.Name, v, vals)
					}
				}
			}
		}
		return maps.Clone(labels)
	case *parser.MatrixSelector:
		return checkExpr(t, cat, n.VectorSelector)
	case *parser.SubqueryExpr:
		return checkExpr(t, cat, n.Expr)
	case *parser.ParenExpr:
		return checkExpr(t, cat, n.Expr)
	case *parser.UnaryExpr:
		return checkExpr(t, cat, n.Expr)
	case *parser.StepInvariantExpr:
		return checkExpr(t, cat, n.Expr)
	case *parser.NumberLiteral, *parser.StringLiteral:
		return map[string]bool{}
	case *parser.AggregateExpr:
		if n.Param != nil {
			checkExpr(t, cat, n.Param)
		}
		in := checkExpr(t, cat, n.Expr)
		if in == nil {
			return nil
		}
		for _, l := range n.Grouping {
			if !in[l] {
				t.Errorf("%s: groups by %s, which %s does not have (it has %v)", n, l, n.Expr, sorted(in))
			}
		}
		if n.Without {
			for _, l := range n.Grouping {
				delete(in, l)
			}
			return in
		}
		if n.Op == parser.TOPK || n.Op == parser.BOTTOMK || n.Op == parser.LIMITK || n.Op == parser.LIMIT_RATIO {
			return in
		}
		out := set(n.Grouping)
		if n.Op == parser.COUNT_VALUES {
			if s, ok := n.Param.(*parser.StringLiteral); ok {
				out[s.Val] = true
			}
		}
		return out
	case *parser.BinaryExpr:
		lhs, rhs := checkExpr(t, cat, n.LHS), checkExpr(t, cat, n.RHS)
		if lhs == nil || rhs == nil {
			return nil
		}
		if vm := n.VectorMatching; vm != nil && vm.On {
			for _, l := range vm.MatchingLabels {
				if !lhs[l] || !rhs[l] {
					t.Errorf("%s: matches on %s, which one side does not have (%v, %v)", n, l, sorted(lhs), sorted(rhs))
				}
			}
		}
		switch {
		case n.Op == parser.LOR:
			maps.Copy(lhs, rhs)
			return lhs
		case n.LHS.Type() == parser.ValueTypeVector:
			return lhs
		}
		return rhs
	case *parser.Call:
		var out map[string]bool
		for _, a := range n.Args {
			ls := checkExpr(t, cat, a)
			if ls == nil {
				return nil
			}
			if out == nil && (a.Type() == parser.ValueTypeVector || a.Type() == parser.ValueTypeMatrix) {
				out = ls
			}
		}
		if out == nil {
			out = map[string]bool{}
		}
		switch n.Func.Name {
		case "label_replace", "label_join":
			var sources []parser.Expr
			if n.Func.Name == "label_join" {
				sources = n.Args[3:]
			} else {
				sources = n.Args[3:4]
			}
			for _, a := range sources {
				if s, ok := a.(*parser.StringLiteral); ok && !out[s.Val] {
					t.Errorf("%s: %s takes label %s, which %s does not have", n, n.Func.Name, s.Val, n.Args[0])
				}
			}
			if s, ok := n.Args[1].(*parser.StringLiteral); ok {
				out[s.Val] = true
			}
		case "histogram_quantile":
			if !out["le"] {
				t.Errorf("%s: histogram_quantile over series without le", n)
			}
			delete(out, "le")
		case "absent", "absent_over_time", "vector", "time", "scalar":
			out = map[string]bool{}
		}
		return out
	}
	t.Errorf("%s: expression of type %T not checked", expr, expr)
	return nil
}

func set(xs []string) map[string]bool {
	out := make(map[string]bool, len(xs))
	for _, x := range xs {
		out[x] = true
	}
	return out
}

func sorted(s map[string]bool) []string { return slices.Sorted(maps.Keys(s)) }

// dashboard is the part of a Grafana dashboard the tests read.
type dashboard struct {
	UID           string  `json:"uid"`
	Title         string  `json:"title"`
	SchemaVersion int     `json:"schemaVersion"`
	Panels        []panel `json:"panels"`
	Templating    struct {
		List []variable `json:"list"`
	} `json:"templating"`
}

type datasource struct {
	Type string `json:"type"`
	UID  string `json:"uid"`
}

type panel struct {
	ID          int         `json:"id"`
	Type        string      `json:"type"`
	Title       string      `json:"title"`
	Description string      `json:"description"`
	Datasource  *datasource `json:"datasource"`
	GridPos     *struct {
		H, W, X, Y int
	} `json:"gridPos"`
	Targets []struct {
		RefID      string      `json:"refId"`
		Expr       string      `json:"expr"`
		Datasource *datasource `json:"datasource"`
	} `json:"targets"`
	FieldConfig struct {
		Defaults struct {
			Mappings []mapping `json:"mappings"`
		} `json:"defaults"`
		Overrides []struct {
			Matcher struct {
				ID      string `json:"id"`
				Options any    `json:"options"`
			} `json:"matcher"`
			Properties []struct {
				ID    string          `json:"id"`
				Value json.RawMessage `json:"value"`
			} `json:"properties"`
		} `json:"overrides"`
	} `json:"fieldConfig"`
	Panels []panel `json:"panels"`
}

type mapping struct {
	Type    string `json:"type"`
	Options map[string]struct {
		Text  string `json:"text"`
		Color string `json:"color"`
	} `json:"options"`
}

type variable struct {
	Name       string          `json:"name"`
	Type       string          `json:"type"`
	Query      json.RawMessage `json:"query"`
	Datasource *datasource     `json:"datasource"`
	IncludeAll bool            `json:"includeAll"`
	AllValue   string          `json:"allValue"`
	Multi      bool            `json:"multi"`
}

// queryText is a variable's query: a string, or {"query": "..."}.
func (v variable) queryText() string {
	var s string
	if json.Unmarshal(v.Query, &s) == nil {
		return s
	}
	var q struct {
		Query string `json:"query"`
	}
	_ = json.Unmarshal(v.Query, &q)
	return q.Query
}

func loadDashboard(t *testing.T) dashboard {
	t.Helper()
	data, err := os.ReadFile(dashboardFile)
	if err != nil {
		t.Fatal(err)
	}
	var d dashboard
	if err := json.Unmarshal(data, &d); err != nil {
		t.Fatalf("%s: %v", dashboardFile, err)
	}
	return d
}

// allPanels flattens the dashboard's panels, those inside rows included.
func allPanels(ps []panel) []panel {
	var out []panel
	for _, p := range ps {
		out = append(out, p)
		out = append(out, allPanels(p.Panels)...)
	}
	return out
}

// grafanaVar finds $name, ${name} and ${name:format} in a query.
var grafanaVar = regexp.MustCompile(`\$\{([A-Za-z0-9_]+)(?::[a-z]+)?\}|\$([A-Za-z0-9_]+)`)

// builtinDurations are Grafana's own variables that stand for a duration.
var builtinDurations = map[string]bool{"__rate_interval": true, "__interval": true, "__range": true}

// substitute replaces the dashboard's variables in a query by values that
// parse: a duration for Grafana's interval variables, a regular expression
// matching anything for the dashboard's own. An unknown variable fails.
func substitute(t *testing.T, q string, vars map[string]bool) string {
	t.Helper()
	return grafanaVar.ReplaceAllStringFunc(q, func(m string) string {
		sub := grafanaVar.FindStringSubmatch(m)
		name := sub[1] + sub[2]
		switch {
		case builtinDurations[name]:
			return "5m"
		case vars[name]:
			return ".*"
		}
		t.Errorf("query %q uses $%s, which the dashboard does not define", q, name)
		return ".*"
	})
}

// labelValuesQuery reads a Grafana label_values(selector, label) query.
var labelValuesQuery = regexp.MustCompile(`^label_values\((.*),\s*([A-Za-z_][A-Za-z0-9_]*)\)$`)

// TestDashboard checks the dashboard's shape, its variables, and every
// query against the catalogue, as the alerts are.
func TestDashboard(t *testing.T) {
	t.Parallel()
	d := loadDashboard(t)
	cat := catalogue(t)
	if d.UID == "" || d.Title == "" || d.SchemaVersion == 0 {
		t.Errorf("uid %q, title %q, schemaVersion %d: all three are needed for an import", d.UID, d.Title, d.SchemaVersion)
	}

	vars := map[string]bool{}
	var haveDatasource, haveTenant bool
	for _, v := range d.Templating.List {
		vars[v.Name] = true
		switch {
		case v.Type == "datasource":
			haveDatasource = v.Name == "datasource" && v.queryText() == "prometheus"
		case v.Name == "tenant":
			haveTenant = v.Type == "query" && v.Multi && v.IncludeAll && v.AllValue == ".*"
		}
	}
	if !haveDatasource {
		t.Error(`no variable "datasource" of type datasource for prometheus`)
	}
	if !haveTenant {
		t.Error(`no multi-value variable "tenant" with All (.*)`)
	}
	for _, v := range d.Templating.List {
		if v.Type != "query" {
			continue
		}
		if v.Datasource == nil || v.Datasource.UID != "${datasource}" {
			t.Errorf("variable %s: datasource %v, want uid ${datasource}", v.Name, v.Datasource)
		}
		m := labelValuesQuery.FindStringSubmatch(v.queryText())
		if m == nil {
			t.Errorf("variable %s: query %q, want label_values(selector, label)", v.Name, v.queryText())
			continue
		}
		sel, err := newParser().ParseExpr(substitute(t, m[1], vars))
		if err != nil {
			t.Errorf("variable %s: %v", v.Name, err)
			continue
		}
		if out := checkExpr(t, cat, sel); out != nil && !out[m[2]] {
			t.Errorf("variable %s: %s has no label %s", v.Name, m[1], m[2])
		}
	}

	ids := map[int]bool{}
	exprs := 0
	for _, p := range allPanels(d.Panels) {
		if ids[p.ID] {
			t.Errorf("panel id %d used twice", p.ID)
		}
		ids[p.ID] = true
		if p.GridPos == nil || p.GridPos.W == 0 || p.GridPos.H == 0 || p.GridPos.X+p.GridPos.W > 24 {
			t.Errorf("panel %q: gridPos %+v", p.Title, p.GridPos)
		}
		if p.Type == "row" {
			continue
		}
		if p.Title == "" || p.Description == "" {
			t.Errorf("panel %d: a title and a description are needed", p.ID)
		}
		if p.Datasource == nil || p.Datasource.UID != "${datasource}" {
			t.Errorf("panel %q: datasource %v, want uid ${datasource}", p.Title, p.Datasource)
		}
		if len(p.Targets) == 0 {
			t.Errorf("panel %q: no query", p.Title)
		}
		for _, tg := range p.Targets {
			if tg.Datasource == nil || tg.Datasource.UID != "${datasource}" {
				t.Errorf("panel %q query %s: datasource %v, want uid ${datasource}", p.Title, tg.RefID, tg.Datasource)
			}
			expr, err := newParser().ParseExpr(substitute(t, tg.Expr, vars))
			if err != nil {
				t.Errorf("panel %q query %s: %v", p.Title, tg.RefID, err)
				continue
			}
			exprs++
			checkExpr(t, cat, expr)
		}
		// Never a false pass: a verdict that is not ENABLED or READY is
		// never shown in green.
		for _, m := range p.FieldConfig.Defaults.Mappings {
			for k, o := range m.Options {
				if slices.Contains([]string{"BROKEN", "BLOCKED", "UNKNOWN"}, o.Text) && strings.Contains(o.Color, "green") {
					t.Errorf("panel %q: value %s shows %s in %s", p.Title, k, o.Text, o.Color)
				}
			}
		}
		for _, o := range p.FieldConfig.Overrides {
			name := fmt.Sprint(o.Matcher.Options)
			for _, pr := range o.Properties {
				if pr.ID == "color" && slices.Contains([]string{"BROKEN", "BLOCKED", "UNKNOWN", "error"}, name) &&
					strings.Contains(string(pr.Value), "green") {
					t.Errorf("panel %q: series %s is coloured %s", p.Title, name, pr.Value)
				}
			}
		}
	}
	if exprs < 15 {
		t.Errorf("only %d panel queries", exprs)
	}

	// What the dashboard is for: each of these series shows on some panel.
	var all strings.Builder
	for _, p := range allPanels(d.Panels) {
		for _, tg := range p.Targets {
			all.WriteString(tg.Expr + "\n")
		}
	}
	for _, want := range []string{"teamslink_environment_readiness", "teamslink_rule_status", "teamslink_scan_duration_seconds_bucket",
		"teamslink_api_requests_total", "teamslink_api_throttled_requests_total", "teamslink_credential_failed"} {
		if !strings.Contains(all.String(), want) {
			t.Errorf("no panel queries %s", want)
		}
	}
}
