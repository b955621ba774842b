package engine

import (
	"encoding/json"
	"testing"
	"unsafe"

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

// TestInternerValue interns every string of a result tree, keys included,
// and leaves the other values as they are.
func TestInternerValue(t *testing.T) {
	in := interner{}
	canon := in.str(string([]byte("shared")))
	fresh := func() string { return string([]byte("shared")) } // a new copy each call
	tree := in.value(map[string]any{
		fresh(): []any{fresh(), true, nil, map[string]any{"k": fresh()}},
		"n":     json.Number("3"),
	}).(map[string]any)

	var strs []string
	for k := range tree {
		if k == "shared" {
			strs = append(strs, k)
		}
	}
	list := tree["shared"].([]any)
	strs = append(strs, list[0].(string), list[3].(map[string]any)["k"].(string))
	for i, s := range strs {
		if unsafe.StringData(s) != unsafe.StringData(canon) {
			t.Errorf("string %d not interned", i)
		}
	}
	if list[1] != true || list[2] != nil || tree["n"] != json.Number("3") {
		t.Errorf("other values changed: %v", tree)
	}
}
