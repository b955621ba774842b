package engine

// interner keeps one copy of each string that the policies' results repeat
// across a fleet: an assumption the evidence states, the steps of a manual
// check, a privilege name, a message. OPA allocates every string of every
// result afresh, and the report holds them until it is written, so without
// it the report of a thousand tenants carries a thousand copies of each.
// One interner serves one evaluation and goes with it.
type interner map[string]string

// str is the interned copy of s.
func (in interner) str(s string) string {
	if c, ok := in[s]; ok {
		return c
	}
	in[s] = s
	return s
}

// value interns the strings of a result value (the JSON-like tree OPA
// converts results into): object keys and string values. Objects are
// rebuilt with the interned keys; arrays are interned in place.
func (in interner) value(v any) any {
	switch v := v.(type) {
	case string:
		return in.str(v)
	case map[string]any:
		m := make(map[string]any, len(v))
		for k, x := range v {
			m[in.str(k)] = in.value(x)
		}
		return m
	case []any:
		for i, x := range v {
			v[i] = in.value(x)
		}
		return v
	}
	return v
}
