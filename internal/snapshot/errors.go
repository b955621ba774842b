package snapshot

import (
	"fmt"
	"math"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// maxPrintedProblems bounds how many problems ValidationError.Error prints.
const maxPrintedProblems = 20

// ValidationError says why a snapshot document was rejected: what is wrong
// and where, one Problem per finding.
type ValidationError struct {
	// File is the file the document came from; empty when it came from a
	// reader or from memory.
	File string
	// Problems are ordered by path: array elements by index, object
	// members by name.
	Problems []Problem
}

// Problem is one thing wrong with a snapshot document.
type Problem struct {
	// Path locates the value, e.g. environments[2].documentLocations.absoluteUrlCount;
	// empty for the document as a whole.
	Path string
	// Message says what is wrong, e.g. "expected integer, got string".
	Message string
}

// String renders the problem as "path: message".
func (p Problem) String() string {
	if p.Path == "" {
		return p.Message
	}
	return p.Path + ": " + p.Message
}

// Error prints one "file: path: message" line per problem, at most 20, then
// how many more there are.
func (e *ValidationError) Error() string {
	if len(e.Problems) == 0 {
		return e.prefix() + "invalid snapshot"
	}
	var b strings.Builder
	for i, p := range e.Problems {
		if i == maxPrintedProblems {
			fmt.Fprintf(&b, "\n%s… and %d more", e.prefix(), len(e.Problems)-maxPrintedProblems)
			break
		}
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(e.prefix())
		b.WriteString(p.String())
	}
	return b.String()
}

func (e *ValidationError) prefix() string {
	if e.File == "" {
		return ""
	}
	return e.File + ": "
}

// path is a location in a document: object keys (string) and array
// indexes (int), from the root.
type path []any

// with returns p extended by one key or index, never sharing p's backing array.
func (p path) with(elem any) path {
	return append(p[:len(p):len(p)], elem)
}

var identifier = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// String renders p as environments[2].documentLocations.absoluteUrlCount;
// keys that are not identifiers are quoted: record["@odata.etag"].
func (p path) String() string {
	var b strings.Builder
	for _, elem := range p {
		switch elem := elem.(type) {
		case int:
			b.WriteByte('[')
			b.WriteString(strconv.Itoa(elem))
			b.WriteByte(']')
		case string:
			if identifier.MatchString(elem) {
				if b.Len() > 0 {
					b.WriteByte('.')
				}
				b.WriteString(elem)
			} else {
				b.WriteByte('[')
				b.WriteString(strconv.Quote(elem))
				b.WriteByte(']')
			}
		}
	}
	return b.String()
}

// located is a problem before its path is rendered, so problems can be put
// in document order.
type located struct {
	path    path
	message string
}

func (l located) problem() Problem {
	return Problem{Path: l.path.String(), Message: l.message}
}

// sortedProblems puts problems in the order of the document as Write lays
// it out (members in the order of the Go fields, array elements by index,
// parents first), then by message, and renders them.
func sortedProblems(ls []located) []Problem {
	type sortable struct {
		key []int
		Problem
	}
	all := make([]sortable, len(ls))
	for i, l := range ls {
		all[i] = sortable{key: orderKey(l.path), Problem: l.problem()}
	}
	slices.SortStableFunc(all, func(a, b sortable) int {
		if c := slices.Compare(a.key, b.key); c != 0 {
			return c
		}
		if c := strings.Compare(a.Path, b.Path); c != 0 {
			return c
		}
		return strings.Compare(a.Message, b.Message)
	})
	out := make([]Problem, len(all))
	for i, a := range all {
		out[i] = a.Problem
	}
	return out
}

// orderKey maps a path to positions: an array index stays itself, an object
// key becomes the position of its field in the Go type at that point (keys
// the type does not have sort after those it has).
func orderKey(p path) []int {
	key := make([]int, len(p))
	t := reflect.TypeFor[Snapshot]()
	for i, elem := range p {
		for t != nil && t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		switch elem := elem.(type) {
		case int:
			key[i] = elem
			if t != nil && t.Kind() == reflect.Slice {
				t = t.Elem()
			} else {
				t = nil
			}
		case string:
			key[i] = math.MaxInt
			if t == nil || t.Kind() != reflect.Struct {
				t = nil
				continue
			}
			st := t
			t = nil
			for pos, f := range jsonFields(st) {
				if f.name == elem {
					key[i] = pos
					t = st.FieldByIndex(f.index).Type
					break
				}
			}
		}
	}
	return key
}
