package metrics

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/teamslink/teamslink/internal/finding"
)

// probeStates are the states of teamslink_probe_readiness, every one of
// which has a series on /probe.
var probeStates = []finding.Readiness{finding.Enabled, finding.Ready, finding.Blocked, finding.Broken, finding.Unknown, finding.NotAssessed}

// ProbeRegistry builds the registry of one /probe answer, blackbox-exporter
// style (a new registry per request, from the cached report: a probe never
// triggers a scan), for env as the latest report has it and the age of the
// snapshot that report was evaluated from:
//
//   - teamslink_probe_success is 1 only when at least one experience was
//     assessed, every assessed one is ENABLED or READY, and no finding
//     failed or could not be assessed: BLOCKED, BROKEN and UNKNOWN are
//     failures, never a success;
//   - teamslink_probe_snapshot_age_seconds is snapshotAge;
//   - teamslink_probe_readiness{experience,state} is a state set: a series
//     for every state of every experience, 1 on the verdict, 0 on the rest
//     (NOT_ASSESSED for an experience the run was not asked about);
//   - teamslink_probe_findings{status} counts the environment's findings by
//     status, every status present.
//
// The probed environment's labels come from the scrape config (the target),
// as with the blackbox exporter, so none is set here.
func ProbeRegistry(env finding.Environment, snapshotAge time.Duration) *prometheus.Registry {
	reg := prometheus.NewRegistry()
	p := newProbeMetrics(reg)
	p.age.Set(snapshotAge.Seconds())

	assessed, ok := 0, true
	for _, x := range finding.Experiences {
		v := env.Verdict(x)
		if v.Readiness == "" {
			v.Readiness = finding.NotAssessed
		}
		for _, s := range probeStates {
			val := 0.0
			if s == v.Readiness {
				val = 1
			}
			p.readiness.WithLabelValues(string(x), string(s)).Set(val)
		}
		switch v.Readiness {
		case finding.NotAssessed:
		case finding.Enabled, finding.Ready:
			assessed++
		default:
			assessed++
			ok = false
		}
	}
	counts := map[finding.Status]int{}
	for _, f := range env.Findings {
		counts[f.Status]++
		if f.Status == finding.StatusFail || f.Status == finding.StatusError || f.Internal {
			ok = false
		}
	}
	for _, s := range finding.Statuses {
		p.findings.WithLabelValues(string(s)).Set(float64(counts[s]))
	}
	if ok && assessed > 0 {
		p.success.Set(1)
	}
	return reg
}

// ProbeFailure builds the registry of a /probe answer for a target with no
// report yet (not scanned, or unknown): teamslink_probe_success 0 and
// nothing else.
func ProbeFailure() *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(newProbeSuccess())
	return reg
}

// probeMetrics are the series of one probe.
type probeMetrics struct {
	success   prometheus.Gauge
	age       prometheus.Gauge
	readiness *prometheus.GaugeVec
	findings  *prometheus.GaugeVec
}

func newProbeSuccess() prometheus.Gauge {
	return prometheus.NewGauge(prometheus.GaugeOpts{
		Namespace: namespace, Name: "probe_success",
		Help: "Whether the environment is fine in its latest report (1): an experience assessed, every assessed one ENABLED or READY, no finding failed or unassessed. 0 for BLOCKED, BROKEN, UNKNOWN, or no report.",
	})
}

func newProbeMetrics(reg prometheus.Registerer) probeMetrics {
	p := probeMetrics{
		success: newProbeSuccess(),
		age: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: namespace, Name: "probe_snapshot_age_seconds",
			Help: "How old the snapshot of the environment's latest report is.",
		}),
		readiness: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Namespace: namespace, Name: "probe_readiness",
			Help: "The verdict on each experience as a state set: 1 on the state of the latest report, 0 on every other.",
		}, []string{"experience", "state"}),
		findings: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Namespace: namespace, Name: "probe_findings",
			Help: "The environment's findings in its latest report, by status.",
		}, []string{"status"}),
	}
	reg.MustRegister(p.success, p.age, p.readiness, p.findings)
	return p
}
