package serve

import (
	"cmp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/teamslink/teamslink/internal/finding"
	"github.com/teamslink/teamslink/internal/metrics"
	"github.com/teamslink/teamslink/report"
)

// view is what the HTTP handlers answer from: the state of every target at
// one generation, never changed once built.
type view struct {
	gen uint64
	// targets are the configured targets in the config's order.
	targets []targetView
	// byTenant finds a target by lowercased tenant id.
	byTenant map[string]*targetView
	// reports are the latest reports, in the config's order.
	reports []*finding.Report

	mergeOnce sync.Once
	merged    *finding.Report
	mergeErr  error
}

// targetView is one target in a view.
type targetView struct {
	Target
	report      *finding.Report
	reportAt    time.Time
	timeline    []point
	running     bool
	next        time.Time
	lastAttempt time.Time
	lastErr     string
	// envs finds an environment of the report by its metrics label.
	envs map[string]*finding.Environment
}

// viewCache holds the view of the latest generation.
type viewCache struct {
	mu sync.Mutex
	v  *view
}

// view returns the view of the current generation, building it if needed.
func (s *Service) view() *view {
	s.mu.Lock()
	gen := s.gen
	s.views.mu.Lock()
	defer s.views.mu.Unlock()
	if v := s.views.v; v != nil && v.gen == gen {
		s.mu.Unlock()
		return v
	}
	v := &view{gen: gen, targets: make([]targetView, 0, len(s.order)), byTenant: make(map[string]*targetView, len(s.order))}
	for _, key := range s.order {
		st := s.targets[key]
		v.targets = append(v.targets, targetView{
			Target: st.target, report: st.report, reportAt: st.reportAt, timeline: st.timeline,
			running: st.running, next: st.next, lastAttempt: st.lastAttempt, lastErr: st.lastErr,
		})
	}
	s.mu.Unlock()
	for i := range v.targets {
		tv := &v.targets[i]
		v.byTenant[strings.ToLower(tv.ID)] = tv
		if tv.report == nil {
			continue
		}
		v.reports = append(v.reports, tv.report)
		urls := make([]string, len(tv.report.Environments))
		for j, e := range tv.report.Environments {
			urls[j] = e.URL
		}
		tv.envs = make(map[string]*finding.Environment, len(urls))
		for j, label := range metrics.EnvironmentLabels(urls) {
			tv.envs[label] = &tv.report.Environments[j]
		}
	}
	s.views.v = v
	return v
}

// mergedReport is the latest reports of every target as one. Reports made
// by another build of teamslink (read from the report directory after an
// upgrade) are merged as the newest build's: report.Merge refuses reports
// of different tools, which the targets of one serve are not meant to be.
func (v *view) mergedReport() (*finding.Report, error) {
	v.mergeOnce.Do(func() {
		reports := slices.Clone(v.reports)
		newest := slices.MaxFunc(reports, func(a, b *finding.Report) int { return a.GeneratedAt.Compare(b.GeneratedAt) })
		for i, r := range reports {
			if r.Tool != newest.Tool {
				c := *r
				c.Tool = newest.Tool
				reports[i] = &c
			}
		}
		v.merged, v.mergeErr = report.Merge(reports...)
	})
	return v.merged, v.mergeErr
}

// unscanned lists the targets with no report yet.
func (v *view) unscanned() []string {
	var out []string
	for _, t := range v.targets {
		if t.report == nil {
			out = append(out, cmp.Or(t.Name, t.ID))
		}
	}
	return out
}
