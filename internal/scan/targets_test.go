package scan

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/teamslink/teamslink/internal/config"
	"github.com/teamslink/teamslink/internal/finding"
)

// randomFleet is a config of n tenants with random GUIDs, from seed.
func randomFleet(seed uint64, n int) *config.Config {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	cfg := &config.Config{}
	for i := range n {
		b := make([]byte, 16)
		for j := range b {
			b[j] = byte(r.UintN(256))
		}
		id := fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
		if i%3 == 0 {
			id = strings.ToUpper(id) // the hash must not depend on case
		}
		cfg.Tenants = append(cfg.Tenants, config.Tenant{ID: id, Name: fmt.Sprintf("Tenant %d", i)})
	}
	return cfg
}

// TestShardsPartitionTheFleet is the sharding property: for N from 1 to 8,
// over seeded random fleets of tenant GUIDs, every tenant is in exactly one
// of the shards 0/N … N-1/N, so their union is the fleet and they are
// disjoint; and a tenant's shard does not depend on the case of its id or
// on the other tenants.
func TestShardsPartitionTheFleet(t *testing.T) {
	t.Parallel()
	for n := 1; n <= 8; n++ {
		t.Run(fmt.Sprintf("N=%d", n), func(t *testing.T) {
			t.Parallel()
			for seed := range uint64(20) {
				cfg := randomFleet(seed*31+uint64(n), 1+int(seed)*13)
				owner := map[string]int{}
				for k := range n {
					got, err := Select(cfg, nil, Shard{K: k, N: n})
					if err != nil {
						t.Fatal(err)
					}
					for _, tn := range got {
						if prev, ok := owner[tn.ID]; ok {
							t.Fatalf("seed %d: tenant %s in shards %d and %d of %d", seed, tn.ID, prev, k, n)
						}
						owner[tn.ID] = k
						if ShardOf(strings.ToLower(tn.ID), n) != k || !(Shard{K: k, N: n}).Has(strings.ToUpper(tn.ID)) {
							t.Fatalf("seed %d: tenant %s: shard depends on the case of its id", seed, tn.ID)
						}
					}
				}
				if len(owner) != len(cfg.Tenants) {
					t.Fatalf("seed %d: the %d shards of %d hold %d of %d tenants", seed, n, n, len(owner), len(cfg.Tenants))
				}
				// Alone in a config, a tenant stays in its shard.
				for _, tn := range cfg.Tenants[:min(3, len(cfg.Tenants))] {
					alone := &config.Config{Tenants: []config.Tenant{tn}}
					got, err := Select(alone, nil, Shard{K: owner[tn.ID], N: n})
					if err != nil || len(got) != 1 {
						t.Fatalf("seed %d: tenant %s alone is not in its shard %d/%d: %v %v", seed, tn.ID, owner[tn.ID], n, got, err)
					}
				}
			}
		})
	}
}

// TestShardsSpread: over 4,000 random tenants, each of 4 shards holds
// roughly a quarter (a hash that put everything in one shard would still
// partition).
func TestShardsSpread(t *testing.T) {
	t.Parallel()
	cfg := randomFleet(7, 4000)
	for k := range 4 {
		got, _ := Select(cfg, nil, Shard{K: k, N: 4})
		if len(got) < 800 || len(got) > 1200 {
			t.Errorf("shard %d/4 holds %d of 4000 tenants", k, len(got))
		}
	}
}

func TestParseShard(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in      string
		want    Shard
		wantErr string
	}{
		{"", Shard{}, ""},
		{"0/1", Shard{0, 1}, ""},
		{"3/4", Shard{3, 4}, ""},
		{" 2 / 8 ", Shard{2, 8}, ""},
		{"4/4", Shard{}, "K from 0 to N-1"},
		{"1/0", Shard{}, "N from 1"},
		{"-1/4", Shard{}, "K from 0 to N-1"},
		{"1/20000", Shard{}, "N from 1 to 10000"},
		{"1", Shard{}, "not K/N"},
		{"a/4", Shard{}, "not K/N"},
		{"1/4/2", Shard{}, "not K/N"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			got, err := ParseShard(tt.in)
			if tt.wantErr != "" {
				var cfgErr *ConfigError
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !errors.As(err, &cfgErr) {
					t.Fatalf("ParseShard(%q) = %v, %v; want a *ConfigError saying %q", tt.in, got, err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("ParseShard(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
			}
		})
	}
}

func TestShardLabel(t *testing.T) {
	t.Parallel()
	tests := []struct {
		s             Shard
		label, String string
		all           bool
	}{
		{Shard{}, "all", "all", true},
		{Shard{0, 1}, "0", "0/1", true},
		{Shard{2, 4}, "2", "2/4", false},
	}
	for _, tt := range tests {
		t.Run(tt.String, func(t *testing.T) {
			t.Parallel()
			if tt.s.Label() != tt.label || tt.s.String() != tt.String || tt.s.All() != tt.all {
				t.Errorf("%#v: label %q, string %q, all %v", tt.s, tt.s.Label(), tt.s.String(), tt.s.All())
			}
		})
	}
}

func TestSelectByName(t *testing.T) {
	t.Parallel()
	cfg := &config.Config{Tenants: []config.Tenant{
		{ID: "3f2b8c1e-6d4a-4b7e-9a15-2c8d0e7f4a61", Name: "Contoso"},
		{ID: "10a86877-5713-50b1-82c1-b12f5ba6a7e6", Name: "Fabrikam"},
		{ID: "79037090-f81e-5136-973f-4442e36edd83"},
	}}
	tests := []struct {
		name    string
		names   []string
		want    []string // names or ids, in the config's order
		wantErr string
	}{
		{"all", nil, []string{"Contoso", "Fabrikam", ""}, ""},
		{"by name, any case", []string{"fabrikam"}, []string{"Fabrikam"}, ""},
		{"by id, any case", []string{"3F2B8C1E-6D4A-4B7E-9A15-2C8D0E7F4A61"}, []string{"Contoso"}, ""},
		{"config order, repeats once", []string{"79037090-f81e-5136-973f-4442e36edd83", "Contoso", "contoso"}, []string{"Contoso", ""}, ""},
		{"unknown", []string{"Contoso", "Northwind"}, nil, `tenant "Northwind" is not in the config`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := Select(cfg, tt.names, Shard{})
			if tt.wantErr != "" {
				var cfgErr *ConfigError
				if !errors.As(err, &cfgErr) || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Select = %v, %v; want a *ConfigError saying %q", got, err, tt.wantErr)
				}
				return
			}
			var names []string
			for _, tn := range got {
				names = append(names, tn.Name)
			}
			if err != nil || strings.Join(names, ",") != strings.Join(tt.want, ",") {
				t.Errorf("Select = %q, %v; want %q", names, err, tt.want)
			}
		})
	}
}

func TestWaiversFor(t *testing.T) {
	t.Parallel()
	ws := []finding.WaiverRule{
		{Rule: "TL-A", Tenant: ""},
		{Rule: "TL-B", Tenant: "3F2B8C1E-6D4A-4B7E-9A15-2C8D0E7F4A61"},
		{Rule: "TL-C", Tenant: "10a86877-5713-50b1-82c1-b12f5ba6a7e6"},
	}
	got := waiversFor(ws, []config.Tenant{{ID: "3f2b8c1e-6d4a-4b7e-9a15-2c8d0e7f4a61"}})
	if len(got) != 2 || got[0].Rule != "TL-A" || got[1].Rule != "TL-B" {
		t.Errorf("waivers kept: %+v; want TL-A (every tenant) and TL-B (this one's)", got)
	}
}

func TestOptionsValidate(t *testing.T) {
	t.Parallel()
	now := func() time.Time { return time.Time{} }
	tests := []struct {
		name    string
		opts    Options
		wantErr string
	}{
		{"defaults", Options{Now: now}, ""},
		{"no clock", Options{}, "Now is required"},
		{"negative concurrency", Options{Now: now, Concurrency: -1}, "concurrency -1"},
		{"per-tenant beyond Dataverse", Options{Now: now, PerTenant: 51}, "per-tenant 51: must be 1 to 50"},
		{"shard out of range", Options{Now: now, Shard: Shard{K: 4, N: 4}}, "shard 4/4"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := tt.opts.Validate()
			if (tt.wantErr == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tt.wantErr)) {
				t.Errorf("Validate = %v, want %q", err, tt.wantErr)
			}
		})
	}
}
