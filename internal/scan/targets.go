package scan

import (
	"fmt"
	"hash/fnv"
	"strconv"
	"strings"

	"github.com/teamslink/teamslink/internal/config"
	"github.com/teamslink/teamslink/internal/finding"
)

// MaxShards bounds N in a shard K/N.
const MaxShards = 10000

// Shard is share K (0-based) of N of a fleet: the tenants whose stable hash
// falls in K, so that N workers, one per share, scan every tenant once. The
// zero value is the whole fleet.
type Shard struct {
	K, N int
}

// ParseShard reads "K/N", K from 0 to N-1; "" is the whole fleet.
func ParseShard(s string) (Shard, error) {
	if strings.TrimSpace(s) == "" {
		return Shard{}, nil
	}
	ks, ns, ok := strings.Cut(s, "/")
	k, errK := strconv.Atoi(strings.TrimSpace(ks))
	n, errN := strconv.Atoi(strings.TrimSpace(ns))
	if !ok || errK != nil || errN != nil {
		return Shard{}, &ConfigError{Err: fmt.Errorf("%q is not K/N, e.g. 0/4 (K is 0-based)", s)}
	}
	sh := Shard{K: k, N: n}
	if err := sh.validate(); err != nil {
		return Shard{}, &ConfigError{Err: err}
	}
	return sh, nil
}

func (s Shard) validate() error {
	if s == (Shard{}) {
		return nil
	}
	if s.N < 1 || s.N > MaxShards || s.K < 0 || s.K >= s.N {
		return fmt.Errorf("%d/%d: want N from 1 to %d and K from 0 to N-1 (K is 0-based)", s.K, s.N, MaxShards)
	}
	return nil
}

// All reports whether s is the whole fleet (no shard, or 0/1).
func (s Shard) All() bool { return s.N <= 1 }

// String is "K/N", or "all".
func (s Shard) String() string {
	if s == (Shard{}) {
		return "all"
	}
	return fmt.Sprintf("%d/%d", s.K, s.N)
}

// Label is the value of the Pushgateway grouping label shard: K, or "all"
// for a run of the whole fleet given no shard.
func (s Shard) Label() string {
	if s == (Shard{}) {
		return "all"
	}
	return strconv.Itoa(s.K)
}

// Has reports whether the tenant with this id is in the share: the FNV-1a
// 64-bit hash of the lowercased id, modulo N, is K.
func (s Shard) Has(tenantID string) bool {
	if s.N <= 1 {
		return true
	}
	return ShardOf(tenantID, s.N) == s.K
}

// ShardOf is the share, 0 to n-1, of the tenant with this id among n.
func ShardOf(tenantID string, n int) int {
	h := fnv.New64a()
	_, _ = h.Write([]byte(strings.ToLower(strings.TrimSpace(tenantID))))
	return int(h.Sum64() % uint64(n))
}

// Select returns the tenants of cfg to scan, in the config's order: those
// that names lists (by id or name, any case; all when empty), then those in
// shard. A name that matches no tenant is a *ConfigError.
func Select(cfg *config.Config, names []string, shard Shard) ([]config.Tenant, error) {
	if err := shard.validate(); err != nil {
		return nil, &ConfigError{Err: fmt.Errorf("shard %w", err)}
	}
	wanted := make([]bool, len(cfg.Tenants))
	for _, n := range names {
		n = strings.TrimSpace(n)
		found := false
		for i, t := range cfg.Tenants {
			if strings.EqualFold(t.ID, n) || (t.Name != "" && strings.EqualFold(t.Name, n)) {
				wanted[i], found = true, true
			}
		}
		if !found {
			return nil, &ConfigError{Err: fmt.Errorf("tenant %q is not in the config (give a tenant's id or name)", n)}
		}
	}
	var out []config.Tenant
	for i, t := range cfg.Tenants {
		if (len(names) == 0 || wanted[i]) && shard.Has(t.ID) {
			out = append(out, t)
		}
	}
	return out, nil
}

// waiversFor keeps the waivers that may cover a finding of the tenants: a
// waiver of another tenant would only be reported unmatched in this run,
// while the run that scans its tenant applies it.
func waiversFor(ws []finding.WaiverRule, tenants []config.Tenant) []finding.WaiverRule {
	out := make([]finding.WaiverRule, 0, len(ws))
	for _, w := range ws {
		keep := w.Tenant == ""
		for _, t := range tenants {
			keep = keep || strings.EqualFold(t.ID, w.Tenant)
		}
		if keep {
			out = append(out, w)
		}
	}
	return out
}
