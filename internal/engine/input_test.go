package engine

import (
	"encoding/json"
	"reflect"
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

// TestInternerValue interns every string value of a result tree, shares
// equal objects and arrays, and keeps values it cannot encode, and
// the trees that hold them, as they are.
func TestInternerValue(t *testing.T) {
	in := newInterner()
	fresh := func() string { return string([]byte("shared")) } // a new copy each call
	canon := in.str(fresh())
	tree := func() map[string]any {
		return map[string]any{
			fresh(): []any{fresh(), true, nil, map[string]any{"k": fresh()}},
			"n":     json.Number("3"),
		}
	}
	first := in.value(tree()).(map[string]any)
	second := in.value(tree()).(map[string]any)
	if reflect.ValueOf(first).UnsafePointer() != reflect.ValueOf(second).UnsafePointer() {
		t.Error("two equal objects: not shared")
	}
	list := first["shared"].([]any)
	strs := []string{list[0].(string), list[3].(map[string]any)["k"].(string)}
	for i, s := range strs {
		if unsafe.StringData(s) != unsafe.StringData(canon) {
			t.Errorf("string %d not interned", i)
		}
	}
	if list[1] != true || list[2] != nil || first["n"] != json.Number("3") {
		t.Errorf("other values changed: %v", first)
	}

	tests := []struct {
		name   string
		a, b   any
		shared bool
	}{
		{"equal arrays", []any{"x", json.Number("1")}, []any{"x", json.Number("1")}, true},
		{"a number is not its string", []any{"1"}, []any{json.Number("1")}, false},
		{"order of an array counts", []any{"x", "y"}, []any{"y", "x"}, false},
		{"a key is not a value", map[string]any{"ab": ""}, map[string]any{"a": "b"}, false},
		{"null is not false", map[string]any{"k": nil}, map[string]any{"k": false}, false},
		{"an unknown type is never shared", []any{1.5}, []any{1.5}, false},
	}
	for _, tt := range tests {
		a, b := in.value(tt.a), in.value(tt.b)
		same := reflect.ValueOf(a).UnsafePointer() == reflect.ValueOf(b).UnsafePointer()
		if same != tt.shared {
			t.Errorf("%s: shared = %v, want %v", tt.name, same, tt.shared)
		}
		if !reflect.DeepEqual(a, tt.a) {
			t.Errorf("%s: value changed: %v, want %v", tt.name, a, tt.a)
		}
	}
}
