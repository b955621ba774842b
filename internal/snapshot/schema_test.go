package snapshot

import (
	"bytes"
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// TestSchemaAcceptsFullSnapshot marshals a snapshot with every field set and
// validates it against the schema: a field the Go types write that the
// schema does not allow fails here.
func TestSchemaAcceptsFullSnapshot(t *testing.T) {
	t.Parallel()
	data, err := json.Marshal(fullSnapshot())
	if err != nil {
		t.Fatal(err)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	s, err := compiledSchema()
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Validate(doc); err != nil {
		t.Fatalf("schema rejects a fully populated snapshot:\n%v", err)
	}
}

// TestSchemaMatchesGoTypes walks the Go types and the schema side by side:
// every JSON field of every struct is a property and no property is missing
// a field, required lists exactly the fields without omitempty, every
// object forbids other properties, and each field's JSON type is exact
// (pointers also allow null, time.Time is a date-time string).
func TestSchemaMatchesGoTypes(t *testing.T) {
	t.Parallel()
	var root map[string]any
	if err := json.Unmarshal(JSONSchema, &root); err != nil {
		t.Fatalf("schema is not JSON: %v", err)
	}
	if got := root["$schema"]; got != "https://json-schema.org/draft/2020-12/schema" {
		t.Errorf("$schema = %v, want draft 2020-12", got)
	}
	if got := root["$id"]; got != schemaURL {
		t.Errorf("$id = %v, want %s", got, schemaURL)
	}
	props, _ := root["properties"].(map[string]any)
	version, _ := props["schemaVersion"].(map[string]any)
	if got := version["const"]; got != SchemaVersion {
		t.Errorf("schemaVersion const = %v, want %s", got, SchemaVersion)
	}
	w := schemaWalker{t: t, defs: root["$defs"].(map[string]any)}
	w.check(root, reflect.TypeFor[Snapshot](), "snapshot")
}

type schemaWalker struct {
	t    *testing.T
	defs map[string]any
}

// resolve merges the definition a node refers to with the node's own
// keywords (which win).
func (w schemaWalker) resolve(node map[string]any, at string) map[string]any {
	ref, ok := node["$ref"].(string)
	if !ok {
		return node
	}
	def, ok := w.defs[strings.TrimPrefix(ref, "#/$defs/")].(map[string]any)
	if !ok || !strings.HasPrefix(ref, "#/$defs/") {
		w.t.Errorf("%s: $ref %q does not name a definition", at, ref)
		return node
	}
	merged := map[string]any{}
	for k, v := range w.resolve(def, at) {
		merged[k] = v
	}
	for k, v := range node {
		if k != "$ref" {
			merged[k] = v
		}
	}
	return merged
}

func (w schemaWalker) check(node map[string]any, typ reflect.Type, at string) {
	t := w.t
	node = w.resolve(node, at)
	want := []string{jsonTypeName(typ)}
	elem := typ
	if typ.Kind() == reflect.Pointer {
		elem = typ.Elem()
		want = []string{jsonTypeName(elem), "null"}
	}
	if got := schemaTypes(node["type"]); !sameSet(got, want) {
		t.Errorf("%s: schema type %v, Go type %s wants %v", at, got, typ, want)
	}
	switch {
	case elem == timeType:
		if node["format"] != "date-time" {
			t.Errorf("%s: time.Time needs format date-time, schema has %v", at, node["format"])
		}
	case elem == reflect.TypeFor[Status]():
		enum := schemaTypes(node["enum"])
		if !sameSet(enum, []string{string(StatusOK), string(StatusError), string(StatusSkipped)}) {
			t.Errorf("%s: status enum %v, want ok, error, skipped", at, enum)
		}
	case elem.Kind() == reflect.Slice:
		items, ok := node["items"].(map[string]any)
		if !ok {
			t.Errorf("%s: array without items", at)
			return
		}
		w.check(items, elem.Elem(), at+"[]")
	case elem.Kind() == reflect.Struct:
		if node["additionalProperties"] != false {
			t.Errorf("%s: additionalProperties must be false", at)
		}
		props, _ := node["properties"].(map[string]any)
		var names, required []string
		for _, f := range jsonFields(elem) {
			names = append(names, f.name)
			if !f.omitempty {
				required = append(required, f.name)
			}
			prop, ok := props[f.name].(map[string]any)
			if !ok {
				t.Errorf("%s: Go field %q is not in the schema's properties", at, f.name)
				continue
			}
			w.check(prop, elem.FieldByIndex(f.index).Type, at+"."+f.name)
		}
		for name := range props {
			if !slices.Contains(names, name) {
				t.Errorf("%s: schema property %q has no Go field", at, name)
			}
		}
		if got := schemaTypes(node["required"]); !sameSet(got, required) {
			t.Errorf("%s: required %v, want the fields without omitempty %v", at, got, required)
		}
	}
}

func jsonTypeName(t reflect.Type) string {
	if t == timeType {
		return "string"
	}
	switch t.Kind() {
	case reflect.String:
		return "string"
	case reflect.Int:
		return "integer"
	case reflect.Bool:
		return "boolean"
	case reflect.Slice:
		return "array"
	case reflect.Struct:
		return "object"
	default:
		return "unsupported Go kind " + t.Kind().String()
	}
}

// schemaTypes reads a keyword that is a string or a list of strings.
func schemaTypes(v any) []string {
	switch v := v.(type) {
	case string:
		return []string{v}
	case []any:
		out := make([]string, 0, len(v))
		for _, s := range v {
			str, _ := s.(string)
			out = append(out, str)
		}
		return out
	default:
		return nil
	}
}

func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}
