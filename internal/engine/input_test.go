package engine

import (
	"testing"

	"github.com/teamslink/teamslink/internal/snapshot"
)

// TestTenantValuesHeldWhileNeeded walks interleaved environments: a tenant's
// value is converted once, shared while it has environments left and dropped
// after its last.
func TestTenantValuesHeldWhileNeeded(t *testing.T) {
	snap := &snapshot.Snapshot{
		Tenants: []snapshot.Tenant{{ID: "a", Cloud: "public"}, {ID: "b", Cloud: "public"}},
		Environments: []snapshot.Environment{
			{TenantID: "a"}, {TenantID: "b"}, {TenantID: "a"},
		},
	}
	tv := newTenantValues(snap)
	steps := []struct {
		tenant   string
		last     bool
		heldHere []string // tenants whose values are held after the step
	}{
		{"a", false, []string{"a"}},
		{"b", true, []string{"a"}},
		{"a", true, nil},
	}
	first, err := tv.value("a")
	if err != nil {
		t.Fatal(err)
	}
	for i, s := range steps {
		v, err := tv.value(s.tenant)
		if err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
		if s.tenant == "a" && v != first {
			t.Errorf("step %d: tenant a converted again", i)
		}
		if last := tv.done(s.tenant); last != s.last {
			t.Errorf("step %d: done(%s) = %v, want %v", i, s.tenant, last, s.last)
		}
		if len(tv.values) != len(s.heldHere) {
			t.Errorf("step %d: %d values held, want %v", i, len(tv.values), s.heldHere)
		}
		for _, id := range s.heldHere {
			if _, ok := tv.values[id]; !ok {
				t.Errorf("step %d: value of %s dropped early", i, id)
			}
		}
	}
	if _, err := tv.value("c"); err == nil {
		t.Error("value of a tenant not in the snapshot: no error")
	}
}
