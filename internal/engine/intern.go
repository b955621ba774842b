package engine

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"slices"
)

// interner keeps one copy of each string, object and array that the
// policies' results repeat across a fleet: an assumption the evidence
// states, the steps of a manual check, the privileges a role needs, a
// message. OPA allocates every result afresh and the report holds them all
// until it is written, so without it the report of a thousand tenants
// carries a thousand copies of each. Shared values are read-only, as
// finding.Finding.Evidence is. One interner serves one evaluation and goes
// with it.
type interner struct {
	strs map[string]string
	// trees are the objects and arrays seen, by the SHA-256 of their
	// canonical encoding (see walk).
	trees map[[sha256.Size]byte]any
	buf   []byte // the encoding of the value being walked
}

func newInterner() *interner {
	return &interner{strs: map[string]string{}, trees: map[[sha256.Size]byte]any{}}
}

// str is the interned copy of s.
func (in *interner) str(s string) string {
	if c, ok := in.strs[s]; ok {
		return c
	}
	in.strs[s] = s
	return s
}

// value is v (the JSON-like tree OPA converts results into, which it
// changes in place) with its strings interned and each object or array
// replaced by an equal one seen before, if any.
func (in *interner) value(v any) any {
	out, buf, _ := in.walk(v, in.buf[:0])
	in.buf = buf
	return out
}

// walk interns v and appends its canonical encoding to enc: a tag per
// value, lengths before contents, object keys sorted, so that two trees
// have the same encoding exactly when they are equal. A value of a type
// the encoding does not know is kept as it is, and so is every tree that
// holds one (ok false).
func (in *interner) walk(v any, enc []byte) (out any, _ []byte, ok bool) {
	switch v := v.(type) {
	case nil:
		return nil, append(enc, 'z'), true
	case bool:
		if v {
			return v, append(enc, 't'), true
		}
		return v, append(enc, 'f'), true
	case string:
		return in.str(v), appendString(append(enc, 's'), v), true
	case json.Number:
		return json.Number(in.str(string(v))), appendString(append(enc, 'n'), string(v)), true
	case []any:
		start := len(enc)
		enc = binary.AppendUvarint(append(enc, '['), uint64(len(v)))
		shareable := true
		for i, x := range v {
			v[i], enc, ok = in.walk(x, enc)
			shareable = shareable && ok
		}
		if !shareable {
			return v, enc, false
		}
		return in.tree(v, enc[start:]), enc, true
	case map[string]any:
		start := len(enc)
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		enc = binary.AppendUvarint(append(enc, '{'), uint64(len(v)))
		shareable := true
		for _, k := range keys {
			enc = appendString(enc, k)
			v[k], enc, ok = in.walk(v[k], enc)
			shareable = shareable && ok
		}
		if !shareable {
			return v, enc, false
		}
		return in.tree(v, enc[start:]), enc, true
	}
	return v, enc, false
}

// tree is the object or array seen before with encoding enc, or v, which
// is then remembered.
func (in *interner) tree(v any, enc []byte) any {
	sum := sha256.Sum256(enc)
	if seen, ok := in.trees[sum]; ok {
		return seen
	}
	in.trees[sum] = v
	return v
}

func appendString(b []byte, s string) []byte {
	return append(binary.AppendUvarint(b, uint64(len(s))), s...)
}
