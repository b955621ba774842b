package engine

import (
	"encoding"
	"encoding/base64"
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
// structs included), nil pointers, slices and maps as null, []byte as
// base64, and types with a MarshalJSON or MarshalText method (time.Time)
// through that method. What it does not do as encoding/json does (two fields
// of one name, the ",string" option) is an error, never a different value.
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
	if t.Kind() != reflect.Pointer && t.Kind() != reflect.Interface {
		if marshals(t) {
			return marshaled(v)
		}
		// encoding/json also uses a pointer receiver's method when it can.
		if v.CanAddr() && marshals(reflect.PointerTo(t)) {
			return marshaled(v.Addr())
		}
	}
	if t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.Uint8 && !v.IsNil() {
		return ast.String(base64.StdEncoding.EncodeToString(v.Bytes())), nil
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
		fields, err := structFields(t)
		if err != nil {
			return nil, err
		}
		items := make([][2]*ast.Term, 0, len(fields))
		for _, f := range fields {
			fv, ok := fieldByIndex(v, f.index)
			if !ok || (f.omitEmpty && isEmptyValue(fv)) {
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

// isEmptyValue reports whether omitempty drops v, as encoding/json does:
// false, 0, "", nil, and empty arrays, slices and maps; never a struct.
func isEmptyValue(v reflect.Value) bool {
	switch v.Kind() {
	case reflect.Array, reflect.Map, reflect.Slice, reflect.String:
		return v.Len() == 0
	case reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
		reflect.Float32, reflect.Float64:
		return v.IsZero()
	case reflect.Interface, reflect.Pointer:
		return v.IsNil()
	}
	return false
}

// field is one JSON member of a struct type.
type field struct {
	name      string
	key       *ast.Term
	index     []int
	omitEmpty bool
}

// structInfo is what structFields found for a type.
type structInfo struct {
	fields []field
	err    error
}

var fieldCache sync.Map // reflect.Type -> structInfo

// structFields lists t's JSON members in encoding/json's order, embedded
// structs' exported fields promoted. Two members of one name (which
// encoding/json resolves by depth and tags) and the ",string" option are
// errors.
func structFields(t reflect.Type) ([]field, error) {
	if info, ok := fieldCache.Load(t); ok {
		return info.(structInfo).fields, info.(structInfo).err
	}
	var fields []field
	var problems []string
	seen := map[string]bool{}
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
			if strings.Contains(","+opts+",", ",string,") {
				problems = append(problems, fmt.Sprintf("field %s: the json option string is not supported", sf.Name))
			}
			if seen[name] {
				problems = append(problems, fmt.Sprintf("two fields named %q", name))
			}
			seen[name] = true
			fields = append(fields, field{
				name:      name,
				key:       ast.StringTerm(name),
				index:     idx,
				omitEmpty: strings.Contains(","+opts+",", ",omitempty,"),
			})
		}
	}
	walk(t, nil)
	info := structInfo{fields: fields}
	if len(problems) > 0 {
		info.err = fmt.Errorf("%s: %s", t, strings.Join(problems, "; "))
	}
	stored, _ := fieldCache.LoadOrStore(t, info)
	return stored.(structInfo).fields, stored.(structInfo).err
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
