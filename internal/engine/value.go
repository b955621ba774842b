package engine

import (
	"encoding"
	"encoding/json"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"
)

// toValue converts a snapshot part to the Rego value of its JSON form, so
// policies see exactly the documented field names, without encoding and
// decoding JSON: struct fields by their json tags (omitempty and embedded
// structs included), nil pointers, slices and maps as null, and types with a
// MarshalJSON or MarshalText method (time.Time) through that method.
// TestToValueMatchesJSON holds it to encoding/json on every sample snapshot.
func toValue(v any) (ast.Value, error) {
	return valueOf(reflect.ValueOf(v))
}

var (
	timeType      = reflect.TypeFor[time.Time]()
	jsonMarshaler = reflect.TypeFor[json.Marshaler]()
	textMarshaler = reflect.TypeFor[encoding.TextMarshaler]()
	marshalCache  sync.Map // reflect.Type -> bool
)

// marshals reports whether t has its own JSON or text form.
func marshals(t reflect.Type) bool {
	if m, ok := marshalCache.Load(t); ok {
		return m.(bool)
	}
	m := t.Implements(jsonMarshaler) || t.Implements(textMarshaler)
	marshalCache.Store(t, m)
	return m
}

func valueOf(v reflect.Value) (ast.Value, error) {
	if !v.IsValid() {
		return ast.NullValue, nil
	}
	t := v.Type()
	if t == timeType {
		// time.Time.MarshalJSON, without the JSON round trip: the
		// snapshot has a timestamp in every section.
		tm := v.Interface().(time.Time)
		if y := tm.Year(); y < 0 || y > 9999 {
			return nil, fmt.Errorf("time %v: year outside of range [0,9999]", tm)
		}
		return ast.String(tm.Format(time.RFC3339Nano)), nil
	}
	if t.Kind() != reflect.Pointer && t.Kind() != reflect.Interface && marshals(t) {
		return marshaled(v)
	}
	switch t.Kind() {
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			return ast.NullValue, nil
		}
		return valueOf(v.Elem())
	case reflect.String:
		return ast.String(v.String()), nil
	case reflect.Bool:
		return ast.Boolean(v.Bool()), nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return ast.Number(strconv.FormatInt(v.Int(), 10)), nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return ast.Number(strconv.FormatUint(v.Uint(), 10)), nil
	case reflect.Float32, reflect.Float64:
		return ast.Number(strconv.FormatFloat(v.Float(), 'g', -1, t.Bits())), nil
	case reflect.Slice:
		if v.IsNil() {
			return ast.NullValue, nil
		}
		fallthrough
	case reflect.Array:
		terms := make([]*ast.Term, v.Len())
		for i := range terms {
			x, err := valueOf(v.Index(i))
			if err != nil {
				return nil, fmt.Errorf("[%d]: %w", i, err)
			}
			terms[i] = ast.NewTerm(x)
		}
		return ast.NewArray(terms...), nil
	case reflect.Map:
		if v.IsNil() {
			return ast.NullValue, nil
		}
		if t.Key().Kind() != reflect.String {
			return nil, fmt.Errorf("unsupported map key type %s", t.Key())
		}
		items := make([][2]*ast.Term, 0, v.Len())
		for it := v.MapRange(); it.Next(); {
			x, err := valueOf(it.Value())
			if err != nil {
				return nil, fmt.Errorf("%s: %w", it.Key().String(), err)
			}
			items = append(items, ast.Item(ast.StringTerm(it.Key().String()), ast.NewTerm(x)))
		}
		return ast.NewObject(items...), nil
	case reflect.Struct:
		fields := structFields(t)
		items := make([][2]*ast.Term, 0, len(fields))
		for _, f := range fields {
			fv, ok := fieldByIndex(v, f.index)
			if !ok || (f.omitEmpty && fv.IsZero() && isEmptyKind(fv.Kind())) {
				continue
			}
			x, err := valueOf(fv)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", f.name, err)
			}
			items = append(items, ast.Item(f.key, ast.NewTerm(x)))
		}
		return ast.NewObject(items...), nil
	}
	return nil, fmt.Errorf("unsupported type %s", t)
}

// marshaled converts a value through its own MarshalJSON or MarshalText.
func marshaled(v reflect.Value) (ast.Value, error) {
	if m, ok := v.Interface().(json.Marshaler); ok {
		b, err := m.MarshalJSON()
		if err != nil {
			return nil, err
		}
		return ast.ValueFromReader(strings.NewReader(string(b)))
	}
	b, err := v.Interface().(encoding.TextMarshaler).MarshalText()
	if err != nil {
		return nil, err
	}
	return ast.String(b), nil
}

// isEmptyKind reports whether omitempty drops a zero value of kind k, as
// encoding/json does (false, 0, "", nil, empty slices and maps; not structs).
func isEmptyKind(k reflect.Kind) bool {
	return k != reflect.Struct && k != reflect.Array
}

// field is one JSON member of a struct type.
type field struct {
	name      string
	key       *ast.Term
	index     []int
	omitEmpty bool
}

var fieldCache sync.Map // reflect.Type -> []field

// structFields lists t's JSON members in encoding/json's order, embedded
// structs' exported fields promoted.
func structFields(t reflect.Type) []field {
	if fs, ok := fieldCache.Load(t); ok {
		return fs.([]field)
	}
	var fields []field
	var walk func(t reflect.Type, index []int)
	walk = func(t reflect.Type, index []int) {
		for i := range t.NumField() {
			sf := t.Field(i)
			tag := sf.Tag.Get("json")
			if tag == "-" {
				continue
			}
			name, opts, _ := strings.Cut(tag, ",")
			idx := append(append([]int(nil), index...), i)
			if sf.Anonymous && name == "" {
				ft := sf.Type
				if ft.Kind() == reflect.Pointer {
					ft = ft.Elem()
				}
				if ft.Kind() == reflect.Struct {
					walk(ft, idx)
					continue
				}
			}
			if !sf.IsExported() {
				continue
			}
			if name == "" {
				name = sf.Name
			}
			fields = append(fields, field{
				name:      name,
				key:       ast.StringTerm(name),
				index:     idx,
				omitEmpty: strings.Contains(","+opts+",", ",omitempty,"),
			})
		}
	}
	walk(t, nil)
	fs, _ := fieldCache.LoadOrStore(t, fields)
	return fs.([]field)
}

// fieldByIndex is reflect.Value.FieldByIndex that reports a nil embedded
// pointer instead of panicking.
func fieldByIndex(v reflect.Value, index []int) (reflect.Value, bool) {
	for i, x := range index {
		if i > 0 && v.Kind() == reflect.Pointer {
			if v.IsNil() {
				return reflect.Value{}, false
			}
			v = v.Elem()
		}
		v = v.Field(x)
	}
	return v, true
}
