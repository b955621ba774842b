// Package metrics is teamslink's Prometheus instrumentation: the series that
// serve exposes on /metrics and a fleet scan pushes to a Pushgateway
// (readiness per environment and experience, rule status, scans, API
// requests and throttling, collection errors, credential failures, config
// reloads, build info), and the per-request registry of /probe.
//
// Everything is registered on the prometheus.Registerer the caller injects,
// never on the global default registry. Metric names start with teamslink_
// and follow the Prometheus naming conventions (base units in the name,
// _total on counters, _timestamp_seconds on timestamps, _info for
// metadata). Labels are bounded: tenant (the tenant id), environment (a
// short name derived from the environment's host, see EnvironmentLabel),
// experience, rule, status, severity, state, api, code, reason, method,
// section and result. No label ever carries a record id, a URL or the text
// of an error.
//
// docs/metrics.md lists every series; it is generated from the registry by
// `go test ./internal/metrics -update`, and a test fails when it is stale.
package metrics
