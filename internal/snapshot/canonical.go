package snapshot

import (
	"reflect"
	"time"
)

// canonical returns a deep copy of s in the one form Write emits and Read
// returns, so that Read(Write(s)) equals s field for field:
//   - a list the document requires is empty, never nil (it is written as
//     [], never null);
//   - an optional list that is empty is nil (it is left out);
//   - times are in UTC, without a monotonic clock reading.
//
// s itself is not changed.
func canonical(s *Snapshot) *Snapshot {
	c := canonicalValue(reflect.ValueOf(s).Elem())
	out := c.Interface().(Snapshot)
	return &out
}

func canonicalValue(v reflect.Value) reflect.Value {
	t := v.Type()
	switch {
	case t == timeType:
		return reflect.ValueOf(v.Interface().(time.Time).UTC())
	case t.Kind() == reflect.Pointer:
		if v.IsNil() {
			return reflect.Zero(t)
		}
		p := reflect.New(t.Elem())
		p.Elem().Set(canonicalValue(v.Elem()))
		return p
	case t.Kind() == reflect.Slice:
		if v.IsNil() {
			return reflect.Zero(t)
		}
		out := reflect.MakeSlice(t, v.Len(), v.Len())
		for i := range v.Len() {
			out.Index(i).Set(canonicalValue(v.Index(i)))
		}
		return out
	case t.Kind() == reflect.Struct:
		out := reflect.New(t).Elem()
		out.Set(v)
		for _, f := range jsonFields(t) {
			dst := out.FieldByIndex(f.index)
			val := canonicalValue(v.FieldByIndex(f.index))
			if val.Kind() == reflect.Slice {
				switch {
				case f.omitempty && val.Len() == 0:
					val = reflect.Zero(val.Type())
				case !f.omitempty && val.IsNil():
					val = reflect.MakeSlice(val.Type(), 0, 0)
				}
			}
			dst.Set(val)
		}
		return out
	default:
		return v
	}
}
