package collectors

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
)

// Kind is the JSON type a documented field has on the wire (facts §12).
type Kind int

// Wire kinds.
const (
	String   Kind = iota + 1
	GUID          // a string holding a GUID
	Bool          // true or false (Dataverse Booleans are JSON Booleans)
	Int           // a number without fraction or exponent (choices, counts)
	IntOrStr      // a number or a string (SharePoint enums, by OData format)
	Array
)

func (k Kind) String() string {
	return [...]string{"", "a string", "a GUID", "a Boolean", "an integer", "an integer or a name", "an array"}[k]
}

// Field is one member of a response row that a policy reads, under its wire
// name, with its documented type.
type Field struct {
	Name string
	Kind Kind
	// Nullable members may be JSON null: a lookup with no value, a choice
	// never set. Any other member must be present with a value.
	Nullable bool
}

// Record is one kind of row a collector reads: where it lands in the
// snapshot, the request that returns it, and the fields the policies need
// from it. Absent is not false: a row without one of these fields is
// recorded as missing it, never given a zero value.
type Record struct {
	// Name names the row kind in messages, e.g. "organization".
	Name string
	// Section is the snapshot section the row fills, e.g.
	// "environment.organization".
	Section string
	// Request is a regular expression that selects the request returning the
	// row (path and query), so tests can damage exactly that response.
	Request string
	Fields  []Field
}

var guidPattern = regexp.MustCompile(`^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$`)

// Require checks one row as the service sent it: nil when every field is
// present with its type, an *IncompleteError naming the fields that are
// absent (or null where not nullable), or an error for a row that is not a
// JSON object or a field of another type.
func (r Record) Require(row json.RawMessage) error {
	return r.RequireAll([]json.RawMessage{row})
}

// RequireAll is Require for every row; an *IncompleteError names each
// missing field once, in the order of r.Fields.
func (r Record) RequireAll(rows []json.RawMessage) error {
	seen := map[string]bool{}
	for i, row := range rows {
		var members map[string]json.RawMessage
		if err := json.Unmarshal(row, &members); err != nil || members == nil {
			return fmt.Errorf("%s row %d is not a JSON object", r.Name, i)
		}
		for _, f := range r.Fields {
			v, ok := members[f.Name]
			if !ok || bytes.Equal(bytes.TrimSpace(v), []byte("null")) {
				if !ok || !f.Nullable {
					seen[f.Name] = true
				}
				continue
			}
			if !f.Kind.matches(v) {
				return fmt.Errorf("%s row %d: %s is %s, want %s", r.Name, i, f.Name, shorten(v), f.Kind)
			}
		}
	}
	if len(seen) == 0 {
		return nil
	}
	e := &IncompleteError{Record: r.Name}
	for _, f := range r.Fields {
		if seen[f.Name] {
			e.Missing = append(e.Missing, f.Name)
		}
	}
	return e
}

// IncompleteError is a response without fields the policies read. Failed
// records them in the section's Missing list.
type IncompleteError struct {
	Record  string
	Missing []string
}

func (e *IncompleteError) Error() string {
	return fmt.Sprintf("the %s response lacks %s (absent or null); a missing field is never read as false or zero", e.Record, strings.Join(e.Missing, ", "))
}

func (k Kind) matches(v json.RawMessage) bool {
	v = bytes.TrimSpace(v)
	switch k {
	case String:
		var s string
		return json.Unmarshal(v, &s) == nil
	case GUID:
		var s string
		return json.Unmarshal(v, &s) == nil && guidPattern.MatchString(s)
	case Bool:
		return string(v) == "true" || string(v) == "false"
	case Int:
		var n int64
		return json.Unmarshal(v, &n) == nil
	case IntOrStr:
		return Int.matches(v) || String.matches(v)
	case Array:
		return len(v) > 0 && v[0] == '['
	}
	return false
}

// shorten quotes at most 40 bytes of a wire value for a message.
func shorten(v json.RawMessage) string {
	s := strings.TrimSpace(string(v))
	if len(s) > 40 {
		s = s[:40] + "…"
	}
	return s
}

// Collection is a collection page whose value array must be present: a body
// without "value" is not an empty collection.
type Collection struct {
	Value    *[]json.RawMessage `json:"value"`
	NextLink string             `json:"@odata.nextLink"`
}

// Rows returns the page's rows, or an *IncompleteError missing "value"
// when the body has no value array (absent or null): a collection without
// it is not an empty one. Further pages are left unread: use it for samples.
func (c Collection) Rows(r Record) ([]json.RawMessage, error) {
	if c.Value == nil {
		return nil, &IncompleteError{Record: r.Name + " collection", Missing: []string{"value"}}
	}
	return *c.Value, nil
}

// AllRows is Rows for a collection read whole (roles, grants, tables): a page
// that says more follow is an error, since what is on the next page could
// decide the rule.
func (c Collection) AllRows(r Record) ([]json.RawMessage, error) {
	if c.NextLink != "" {
		return nil, fmt.Errorf("%s: the response is paged (@odata.nextLink) and only its first page was read", r.Name)
	}
	return c.Rows(r)
}

// Response is an answer whose body decodes as JSON: an odata.BatchResponse
// or odata.GraphResponse (a non-2xx answer decodes to its typed error).
type Response interface {
	DecodeJSON(out any) error
}

// DecodeOne decodes a single-row answer checked against rec into out.
func DecodeOne(r Response, rec Record, out any) error {
	var raw json.RawMessage
	if err := r.DecodeJSON(&raw); err != nil {
		return err
	}
	if err := rec.Require(raw); err != nil {
		return err
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return fmt.Errorf("%s: %w", rec.Name, err)
	}
	return nil
}

// DecodeAll decodes a collection read whole whose rows are rec: a body
// without a value array, or a page that says more follow, is an error.
func DecodeAll[T any](r Response, rec Record) ([]T, error) {
	var page Collection
	if err := r.DecodeJSON(&page); err != nil {
		return nil, err
	}
	rows, err := page.AllRows(rec)
	if err != nil {
		return nil, err
	}
	return Unmarshal[T](rows, rec)
}

// Unmarshal checks rows against rec and decodes them.
func Unmarshal[T any](rows []json.RawMessage, rec Record) ([]T, error) {
	if err := rec.RequireAll(rows); err != nil {
		return nil, err
	}
	out := make([]T, len(rows))
	for i, row := range rows {
		if err := json.Unmarshal(row, &out[i]); err != nil {
			return nil, fmt.Errorf("%s row %d: %w", rec.Name, i, err)
		}
	}
	return out, nil
}
