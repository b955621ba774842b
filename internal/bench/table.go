package bench

import (
	"fmt"
	"io"
	"strings"
	"time"
)

// Table is what make bench prints: the figures, then the scale rows.
type Table struct {
	// Scale are fleet scans of growing size, 3 environments a tenant.
	Scale []Scan
	// Start is process start to first request, one tenant.
	Start time.Duration
	// Small and Large are one environment of 10 rows and one of 1,000,000
	// absolute-URL locations and 10,000 active sites.
	Small, Large Scan
	// Eval is the CPU of evaluating one environment.
	Eval time.Duration
	// Machine says what ran it: CPU model, cores, load average.
	Machine string
}

const mib = 1 << 20

// Print writes the table in Markdown; latency and concurrency are those
// of the scale rows, for their floors.
func (t Table) Print(w io.Writer, latency time.Duration, concurrency int) error {
	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	find := func(tenants int) (Scan, bool) {
		for _, s := range t.Scale {
			if s.Tenants == tenants {
				return s, true
			}
		}
		return Scan{}, false
	}
	p("| figure | target | measured | ratio |\n|---|---|---|---|\n")
	s300, ok300 := find(300)
	if ok300 {
		floor := s300.Floor(latency, concurrency)
		p("| 300 tenants × 3 environments, %v a request, concurrency %d: wall time | ≤ 1.3 × floor (%s) | %s | %.2f × floor |\n",
			latency, concurrency, secs(floor), secs(s300.Wall), ratio(s300.Wall, floor))
		p("| peak RSS of that scan | ≤ 150 MiB | %s | %.2f |\n", mibs(s300.MaxRSS), float64(s300.MaxRSS)/(150*mib))
		if s1000, ok := find(1000); ok {
			limit := s300.MaxRSS * 3 / 2
			p("| peak RSS, 1,000 tenants × 3 environments | ≤ 1.5 × the 300 figure (%s) | %s | %.2f × the 300 figure |\n",
				mibs(limit), mibs(s1000.MaxRSS), float64(s1000.MaxRSS)/float64(s300.MaxRSS))
		}
	}
	maxGS := 0
	for _, s := range t.Scale {
		maxGS = max(maxGS, s.MaxGraphSharePoint)
	}
	p("| Graph + SharePoint requests of a tenant whose admin site is found through sites/root | ≤ 3 | %d (most of any tenant) | %.2f |\n", maxGS, float64(maxGS)/3)
	p("| process start → first request (scan, one tenant, median of 5) | ≤ 60 ms | %s | %.2f |\n", ms(t.Start), ratio(t.Start, 60*time.Millisecond))
	p("| environment of 1,000,000 absolute-URL locations and 10,000 active sites: scan time (fastest of 5 each) | ≤ 1.1 × a 10-row environment (%s) | %s | %.2f × |\n",
		ms(t.Small.Wall), ms(t.Large.Wall), ratio(t.Large.Wall, t.Small.Wall))
	p("| that scan's peak RSS | ≤ 64 MiB | %s (10 rows: %s) | %.2f |\n", mibs(t.Large.MaxRSS), mibs(t.Small.MaxRSS), float64(t.Large.MaxRSS)/(64*mib))
	p("| policy evaluation, CPU per environment (fastest of 5 batches) | ≤ 1 ms | %s | %.2f |\n", ms(t.Eval), ratio(t.Eval, time.Millisecond))

	p("\n| tenants × environments | wall | floor | wall ÷ floor | CPU per environment | peak RSS | TLS handshakes per tenant | requests per environment | requests per tenant |\n")
	p("|---|---|---|---|---|---|---|---|---|\n")
	for _, s := range t.Scale {
		floor := s.Floor(latency, concurrency)
		p("| %d × %d | %s | %s | %.2f | %s | %s | %.2f | %.2f | %.2f |\n",
			s.Tenants, s.Envs/max(s.Tenants, 1), secs(s.Wall), secs(floor), ratio(s.Wall, floor),
			ms(s.CPU/time.Duration(max(s.Envs, 1))), mibs(s.MaxRSS),
			per(s.Handshakes, s.Tenants), per(s.Dataverse, s.Envs), per(s.Requests, s.Tenants))
	}
	p("\nfloor: every request not inside a $batch (login included) × %v ÷ %d. Requests per environment: Dataverse only; per tenant: all of them.\n", latency, concurrency)
	if t.Machine != "" {
		p("machine: %s\n", t.Machine)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func ratio(a, b time.Duration) float64 {
	if b <= 0 {
		return 0
	}
	return float64(a) / float64(b)
}

func per(n, of int) float64 {
	if of == 0 {
		return 0
	}
	return float64(n) / float64(of)
}

func secs(d time.Duration) string { return fmt.Sprintf("%.2f s", d.Seconds()) }
func ms(d time.Duration) string   { return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond)) }
func mibs(n int64) string         { return fmt.Sprintf("%.1f MiB", float64(n)/mib) }
