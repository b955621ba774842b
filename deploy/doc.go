// Package deploy holds what runs teamslink on Kubernetes and watches it:
// the kustomize bases for `teamslink serve` (kubernetes/serve) and for the
// sharded fleet scan (kubernetes/fleet-scan), the Prometheus alerting rules
// (prometheus/alerts.yaml, and the same rules as a PrometheusRule in
// kubernetes/rules) and the Grafana dashboard (grafana/teamslink.json).
//
// It has no Go API. Its tests decode every manifest strictly into the
// Kubernetes and Prometheus Operator API types, load the rules with
// Prometheus's own parser, check that every series the rules and the
// dashboard query is one that internal/metrics exports (docs/metrics.md),
// and evaluate each alert with the PromQL engine on sample series.
// docs/deploy.md explains how to use them.
package deploy
