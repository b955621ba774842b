// Package serve is teamslink serve: it rescans the tenants of a config on a
// schedule (an interval with jitter, or a cron expression), never two scans
// of one tenant at once and at most Concurrency at a time, keeps the latest
// report of each (and, with a report directory, every scan's report and
// snapshot, so that a restart answers from the previous run), and serves
// them over HTTP: /metrics, /probe, /api/v1/report, the HTML report at /,
// /-/healthy, /-/ready and /-/reload, with TLS and basic auth through the
// Prometheus exporter-toolkit.
//
// The scan itself is injected (ScanFunc), as are the config loader
// (LoadFunc), the clock and the metrics registry; the package knows no
// command line.
package serve
