package snapshot

import (
	"encoding/json"
	"fmt"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"time"
)

var timeType = reflect.TypeFor[time.Time]()

// jsonField is one JSON member of a struct type.
type jsonField struct {
	name      string
	index     []int
	omitempty bool
}

var fieldCache sync.Map // reflect.Type → []jsonField

// jsonFields lists the JSON members of struct type t the way encoding/json
// sees them: exported fields under their tag names, embedded structs
// without a tag flattened into their parent.
func jsonFields(t reflect.Type) []jsonField {
	if cached, ok := fieldCache.Load(t); ok {
		return cached.([]jsonField)
	}
	var fields []jsonField
	for i := range t.NumField() {
		f := t.Field(i)
		tag, hasTag := f.Tag.Lookup("json")
		name, opts, _ := strings.Cut(tag, ",")
		if tag == "-" {
			continue
		}
		if f.Anonymous && !hasTag && f.Type.Kind() == reflect.Struct {
			for _, inner := range jsonFields(f.Type) {
				inner.index = append([]int{i}, inner.index...)
				fields = append(fields, inner)
			}
			continue
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		omitempty := false
		for _, o := range strings.Split(opts, ",") {
			omitempty = omitempty || o == "omitempty"
		}
		fields = append(fields, jsonField{name: name, index: []int{i}, omitempty: omitempty})
	}
	fieldCache.Store(t, fields)
	return fields
}

func fieldByName(t reflect.Type, name string) (jsonField, bool) {
	for _, f := range jsonFields(t) {
		if f.name == name {
			return f, true
		}
	}
	return jsonField{}, false
}

// checkGoTypes walks a schema-valid document alongside the Go types it
// decodes into and reports values the schema allows but Go cannot hold
// exactly: integers written with a fraction or exponent or out of range,
// and date-times Go does not parse or cannot write back.
func checkGoTypes(v any, t reflect.Type, at path, out *[]located) {
	switch {
	case t == timeType:
		s, ok := v.(string)
		if !ok {
			return
		}
		var tm time.Time
		if err := tm.UnmarshalJSON([]byte(strconv.Quote(s))); err != nil {
			*out = append(*out, located{path: at, message: fmt.Sprintf("expected an RFC 3339 date-time, got %q", s)})
			return
		}
		if y := tm.UTC().Year(); y < 0 || y > 9999 {
			*out = append(*out, located{path: at, message: fmt.Sprintf("date-time %q is outside years 0000 to 9999 in UTC", s)})
		}
	case t.Kind() == reflect.Pointer:
		if v != nil {
			checkGoTypes(v, t.Elem(), at, out)
		}
	case t.Kind() == reflect.Struct:
		obj, ok := v.(map[string]any)
		if !ok {
			return
		}
		for key, val := range obj {
			f, ok := fieldByName(t, key)
			if !ok {
				*out = append(*out, located{path: at, message: fmt.Sprintf("unknown field %q", key)})
				continue
			}
			checkGoTypes(val, t.FieldByIndex(f.index).Type, at.with(key), out)
		}
	case t.Kind() == reflect.Slice:
		arr, ok := v.([]any)
		if !ok {
			return
		}
		for i, elem := range arr {
			checkGoTypes(elem, t.Elem(), at.with(i), out)
		}
	case t.Kind() == reflect.Int:
		n, ok := v.(json.Number)
		if !ok {
			return
		}
		if _, err := strconv.ParseInt(string(n), 10, strconv.IntSize); err != nil {
			if strings.ContainsAny(string(n), ".eE") {
				*out = append(*out, located{path: at, message: fmt.Sprintf("expected integer, got %s", n)})
			} else {
				*out = append(*out, located{path: at, message: fmt.Sprintf("integer %s is out of range", n)})
			}
		}
	}
}

// checkSemantics reports what the schema cannot say: tenant ids are unique,
// every environment names a tenant in the snapshot, environment URLs are
// unique absolute https URLs, and an environment's tables are unique by
// logical name (compared without case, as Dataverse does).
func checkSemantics(s *Snapshot) []located {
	var out []located
	tenants := make(map[string]int, len(s.Tenants))
	for i, t := range s.Tenants {
		if first, dup := tenants[t.ID]; dup {
			out = append(out, located{
				path:    path{"tenants", i, "id"},
				message: fmt.Sprintf("duplicate tenant id %q (first at %s)", t.ID, path{"tenants", first, "id"}),
			})
			continue
		}
		tenants[t.ID] = i
	}
	urls := make(map[string]int, len(s.Environments))
	for i, env := range s.Environments {
		if _, ok := tenants[env.TenantID]; !ok {
			out = append(out, located{
				path:    path{"environments", i, "tenantId"},
				message: fmt.Sprintf("tenant %q is not in tenants", env.TenantID),
			})
		}
		at := path{"environments", i, "url"}
		key, msg := environmentURLKey(env.URL)
		if msg != "" {
			out = append(out, located{path: at, message: msg})
			continue
		}
		if first, dup := urls[key]; dup {
			out = append(out, located{
				path:    at,
				message: fmt.Sprintf("duplicate environment url %q (first at %s)", env.URL, path{"environments", first, "url"}),
			})
			continue
		}
		urls[key] = i
	}
	for i := range s.Environments {
		for _, d := range s.Environments[i].Entities.Duplicates() {
			out = append(out, located{
				path: path{"environments", i, "entities", "tables", d.At, "logicalName"},
				message: fmt.Sprintf("duplicate table %q (first at %s)", s.Environments[i].Entities.Tables[d.At].LogicalName,
					path{"environments", i, "entities", "tables", d.First, "logicalName"}),
			})
		}
	}
	return out
}

// Duplicate is a table listed again at index At, first listed at First.
type Duplicate struct{ At, First int }

// Duplicates lists the tables listed more than once, by logical name
// compared without case, as Dataverse compares them. The policies index
// tables by name, so a snapshot must have none.
func (e Entities) Duplicates() []Duplicate {
	var out []Duplicate
	seen := make(map[string]int, len(e.Tables))
	for j, t := range e.Tables {
		name := strings.ToLower(t.LogicalName)
		if first, dup := seen[name]; dup {
			out = append(out, Duplicate{At: j, First: first})
			continue
		}
		seen[name] = j
	}
	return out
}

// environmentURLKey checks that raw is an absolute https URL without user
// info, query or fragment, and returns the form two URLs of the same
// environment share (host in lower case, no trailing slash), or a message
// saying what is wrong.
func environmentURLKey(raw string) (key, msg string) {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "https" || u.Host == "" || u.Opaque != "" {
		return "", fmt.Sprintf("must be an absolute https URL, got %q", raw)
	}
	if u.User != nil {
		return "", "must not contain user information"
	}
	if u.RawQuery != "" || u.ForceQuery || u.Fragment != "" || strings.Contains(raw, "#") {
		return "", "must not contain a query or fragment"
	}
	return "https://" + strings.ToLower(u.Host) + strings.TrimRight(u.EscapedPath(), "/"), ""
}
