package metrics_test

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/teamslink/teamslink/internal/metrics"
)

// update rewrites docs/metrics.md: go test ./internal/metrics -update
var update = flag.Bool("update", false, "rewrite docs/metrics.md from the registry")

// docPath is docs/metrics.md from this package's directory.
var docPath = filepath.Join("..", "..", "docs", "metrics.md")

// TestMetricsDocUpToDate fails when docs/metrics.md no longer lists the
// series the registry has; -update rewrites it.
func TestMetricsDocUpToDate(t *testing.T) {
	t.Parallel()
	reg, _ := filled(t)
	probe := metrics.ProbeRegistry(fleetReport().Environments[0], time.Hour)

	fleet := prometheus.NewRegistry()
	m := metrics.New(fleet, testBuild)
	r := largeFleet(3000, 3)
	m.ObserveReport(r, fixedNow)
	for i := 0; i < len(r.Environments); i += 3 {
		m.ObserveScan(time.Minute, nil)
	}
	doc := metricsDoc(gather(t, reg), gather(t, probe), seriesCount(gather(t, fleet)), len(r.Rules))

	if *update {
		if err := os.WriteFile(docPath, doc, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	got, err := os.ReadFile(docPath)
	if err != nil {
		t.Fatalf("%v (run go test ./internal/metrics -update)", err)
	}
	if !bytes.Equal(got, doc) {
		t.Error("docs/metrics.md is stale: run go test ./internal/metrics -update")
	}
}

// metricsDoc renders docs/metrics.md from the gathered families of a filled
// /metrics registry and of a /probe registry.
func metricsDoc(mfs, probe []*dto.MetricFamily, fleetSeries, fleetRules int) []byte {
	var b bytes.Buffer
	b.WriteString(`# Metrics

Generated from the registry by ` + "`go test ./internal/metrics -update`" + ` (` + "`internal/metrics/docs_test.go`" + `);
do not edit by hand. A test fails when this page no longer matches the registry.

` + "`teamslink serve`" + ` exposes the series below on ` + "`/metrics`" + `, and ` + "`/probe`" + ` answers with the probe
series. Every name starts with ` + "`teamslink_`" + `; promlint (what ` + "`promtool check metrics`" + ` runs) finds no problem
with any of them.

## Labels

Every label is bounded. None carries a record id, a URL or the text of an error.

| label | values |
|---|---|
| ` + "`tenant`" + ` | the tenant id, as tenants.yaml has it |
| ` + "`environment`" + ` | the first label of the environment's host: ` + "`contoso-dev`" + ` for https://contoso-dev.crm4.dynamics.com; an IP address whole; the whole host for environments of one tenant whose first labels are the same (contoso.crm and contoso.crm4) |
| ` + "`experience`" + ` | ` + "`basic`, `enhanced`" + ` |
| ` + "`state`" + ` | ` + "`ENABLED`, `READY`, `BLOCKED`, `BROKEN`, `UNKNOWN`" + `; on ` + "`/probe`" + ` also ` + "`NOT_ASSESSED`" + ` |
| ` + "`rule`" + ` | a rule id, e.g. ` + "`TL-CONSENT-001`" + ` |
| ` + "`severity`" + ` | the rule's: ` + "`critical`, `high`, `medium`, `low`, `info`" + ` |
| ` + "`status`" + ` | ` + "`fail`, `error`, `warn`, `waived`, `manual`, `pass`" + `; on ` + "`/probe`" + ` also ` + "`skip`" + ` |
| ` + "`api`" + ` | ` + "`dataverse`, `graph`, `sharepoint`, `login`, `discovery`" + ` (` + "`other`" + ` for anything else) |
| ` + "`code`" + ` | the HTTP status, three digits (` + "`other`" + ` outside 100-599) |
| ` + "`reason`" + ` | why a request was repeated: ` + "`throttled`, `unavailable`, `bad_gateway`, `gateway_timeout`, `connection`, `unauthorized`, `batch_throttled`" + ` |
| ` + "`method`" + ` | the tenants.yaml auth method of a failed sign-in |
| ` + "`section`" + ` | a snapshot section, e.g. ` + "`tenant.consent`" + ` |
| ` + "`result`" + ` | ` + "`success`, `error`, `canceled`" + ` |

The environment label is derived from the host rather than the environment's name: a display name
changes (a discovered environment's is its admins' to rename) and repeats across environments, and a
label that changes splits a series' history. ` + "`metrics.EnvironmentLabel`" + ` computes it, so ` + "`/probe`" + ` and
dashboards can use the same value.

## Cardinality

Each environment has at most one ` + "`teamslink_environment_readiness`" + ` series per experience it was assessed
for and one ` + "`teamslink_rule_status`" + ` series per rule that applies to it (a skipped rule has none); each
tenant has its last successful scan time, and a credential series while its sign-in fails; every other
series is bounded by the label values above (scans are counted and timed fleet-wide, without a tenant
label). A report replaces the series of the tenants
it covers, so environments, rules and experiences that are gone lose theirs, and ` + "`Retain`" + ` drops the
tenants a reloaded config no longer has.
`)
	fmt.Fprintf(&b, "\nThe test fleet of 3,000 environments (1,000 tenants, %d rules, every tenant scanned) has %d series,\n", fleetRules, fleetSeries)
	fmt.Fprintf(&b, "within the bound of environments × (rules + experiences) + 100 = %d that `TestSeriesBound` checks.\n", 3000*(fleetRules+2)+100)
	b.WriteString("The tenant series come on top of the per-environment ones: a fleet of one environment per tenant\n" +
		"in which every rule applies to every environment and both experiences are assessed can exceed that bound\n" +
		"by up to one series per tenant.\n")

	b.WriteString("\n## /metrics\n\n")
	table(&b, mfs)
	b.WriteString(`
Verdicts are one series per experience whose ` + "`state`" + ` label is the verdict, rather than a state set with a
zero for every other state: that keeps a fleet of thousands of environments within the bound above, and
` + "`count by (state)`" + ` counts environments directly. When the verdict changes, the old series ends.

## /probe

A new registry per request, from the cached report (a probe never starts a scan), as the blackbox
exporter does; the environment's labels come from the scrape config. ` + "`teamslink_probe_success`" + ` is 1 only
when an experience was assessed, every assessed one is ENABLED or READY and no finding failed or could
not be assessed; a target with no report answers ` + "`teamslink_probe_success 0`" + ` alone.

`)
	table(&b, probe)
	b.WriteString(`
## Queries

| question | PromQL |
|---|---|
| environments that cannot use an experience | ` + "`teamslink_environment_readiness{state=~\"BLOCKED|BROKEN\"}`" + ` |
| environments whose experience broke in the last hour | ` + "`teamslink_environment_readiness{state=\"BROKEN\"} and on (tenant, environment, experience) (teamslink_environment_readiness{state=\"ENABLED\"} offset 1h)`" + ` |
| environments by verdict | ` + "`count by (experience, state) (teamslink_environment_readiness)`" + ` |
| failing rules across the fleet | ` + "`count by (rule, severity) (teamslink_rule_status{status=\"fail\"})`" + ` |
| tenants not scanned successfully for 3 hours | ` + "`time() - teamslink_last_successful_scan_timestamp_seconds > 3 * 3600`" + ` |
| share of answers that were throttling | ` + "`sum by (api) (rate(teamslink_api_throttled_requests_total[10m])) / sum by (api) (rate(teamslink_api_requests_total[10m]))`" + ` |
| a rejected config reload | ` + "`teamslink_config_last_reload_successful == 0`" + ` |
`)
	return bytes.ReplaceAll(b.Bytes(), []byte("BLOCKED|BROKEN\"}`"), []byte("BLOCKED\\|BROKEN\"}`"))
}

// table writes the families of mfs as a Markdown table.
func table(b *bytes.Buffer, mfs []*dto.MetricFamily) {
	b.WriteString("| metric | type | labels | help |\n|---|---|---|---|\n")
	for _, mf := range mfs {
		var names []string
		if ms := mf.GetMetric(); len(ms) > 0 {
			for _, l := range ms[0].GetLabel() {
				names = append(names, "`"+l.GetName()+"`")
			}
		}
		help := strings.ReplaceAll(mf.GetHelp(), "|", `\|`)
		fmt.Fprintf(b, "| `%s` | %s | %s | %s |\n", mf.GetName(), strings.ToLower(mf.GetType().String()), strings.Join(names, ", "), help)
	}
}
