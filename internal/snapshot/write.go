package snapshot

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// Write writes s to w as a JSON document indented by two spaces and ending
// in a newline. The output depends only on s: fields in a fixed order,
// times in UTC, required lists written as [] even when nil.
//
// Write first checks the document as Read would and writes nothing if Read
// would reject it; the error is then a *ValidationError. Files are written
// by the caller (the CLI through internal/safefile), so that a link, a mode
// or a device at the path is kept.
//
// A snapshot with tenants or environments is checked and written one
// tenant and one environment at a time, so that a fleet's snapshot never
// exists a second time as one document, nor as its parse tree: the bytes
// are those of the whole document, and a snapshot that fails any check is
// checked whole again for the problems Read would list.
func Write(w io.Writer, s *Snapshot) error {
	if s == nil || len(s.Tenants)+len(s.Environments) == 0 {
		data, err := encode(s)
		if err != nil {
			return err
		}
		return writeAll(w, data)
	}
	head, size, err := checkParts(s)
	if err != nil {
		return err
	}
	if head == nil || size > MaxSize { // a problem: the whole document says which
		data, err := encode(s)
		if err != nil {
			return err
		}
		return writeAll(w, data)
	}
	rest := head
	for _, l := range lists(s) {
		before, after, _ := bytes.Cut(rest, []byte(l.marker))
		if err := writeAll(w, before); err != nil {
			return err
		}
		if err := writeList(w, l); err != nil {
			return err
		}
		rest = after
	}
	return writeAll(w, rest)
}

// list is one of the document's lists, written item by item where the
// encoding of the document without items has marker.
type list struct {
	marker string
	n      int
	encode func(i int) ([]byte, error)
}

// lists are the document's lists in the order it has them.
func lists(s *Snapshot) []list {
	return []list{
		{tenantsMarker, len(s.Tenants), func(i int) ([]byte, error) { return encodeTenant(&s.Tenants[i]) }},
		{environmentsMarker, len(s.Environments), func(i int) ([]byte, error) { return encodeEnvironment(&s.Environments[i]) }},
	}
}

func writeList(w io.Writer, l list) error {
	if l.n == 0 {
		return writeAll(w, []byte(l.marker))
	}
	if err := writeAll(w, []byte(l.marker[:len(l.marker)-1])); err != nil { // without its ]
		return err
	}
	for i := range l.n {
		part, err := l.encode(i)
		if err != nil {
			return fmt.Errorf("write snapshot: %w", err)
		}
		sep := ",\n    "
		if i == 0 {
			sep = "\n    "
		}
		if err := writeAll(w, append([]byte(sep), part...)); err != nil {
			return err
		}
	}
	return writeAll(w, []byte("\n  ]"))
}

// tenantsMarker and environmentsMarker are the lists of a document without
// tenants and environments, as the encoder writes them; those of a whole
// document replace their [].
const (
	tenantsMarker      = "\n  \"tenants\": []"
	environmentsMarker = "\n  \"environments\": []"
)

func writeAll(w io.Writer, data []byte) error {
	if _, err := w.Write(data); err != nil {
		return fmt.Errorf("write snapshot: %w", err)
	}
	return nil
}

// checkParts checks s part by part as Read would check the whole document:
// the document without its tenants and environments, then each tenant and
// each environment in a document of its own (the schema, the Go types and
// strict decoding judge one alone), then, on s itself, the checks across
// tenants and environments. It returns the encoding of the document
// without tenants and environments, or nil when a part has a problem (which
// only the whole document names as Read would), and the size of the whole
// document.
func checkParts(s *Snapshot) (head []byte, size int, err error) {
	empty := *s
	empty.Tenants, empty.Environments = []Tenant{}, []Environment{}
	headData, err := encodeDocument(canonical(&empty))
	if err != nil {
		return nil, 0, fmt.Errorf("write snapshot: %w", err)
	}
	if i, j := bytes.Index(headData, []byte(tenantsMarker)), bytes.Index(headData, []byte(environmentsMarker)); i < 0 || j < i {
		return nil, 0, errors.New("write snapshot: no tenants and environments lists in the document")
	}
	if _, err := check(headData, false); err != nil {
		return nil, 0, nil
	}
	size = len(headData)
	for _, l := range lists(s) {
		for i := range l.n {
			part := Snapshot{SchemaVersion: s.SchemaVersion, CollectedAt: s.CollectedAt, Tool: s.Tool, Tenants: []Tenant{}, Environments: []Environment{}}
			if l.marker == tenantsMarker {
				part.Tenants = s.Tenants[i : i+1]
			} else {
				part.Environments = s.Environments[i : i+1]
			}
			data, err := encodeDocument(canonical(&part))
			if err != nil {
				return nil, 0, fmt.Errorf("write snapshot: %w", err)
			}
			if _, err := check(data, false); err != nil {
				return nil, 0, nil
			}
			item, err := l.encode(i)
			if err != nil {
				return nil, 0, fmt.Errorf("write snapshot: %w", err)
			}
			size += len(",\n    ") + len(item)
		}
		if l.n > 0 {
			size += len("\n  ") - 1 // the first item has no comma; the list its closing line
		}
	}
	if len(checkSemantics(s)) > 0 {
		return nil, 0, nil
	}
	return headData, size, nil
}

// encodeTenant and encodeEnvironment render one item as the whole
// document's encoding does at its place in its list (lines after the first
// indented by four spaces), without a final newline.
func encodeTenant(t *Tenant) ([]byte, error) {
	return encodeItem(&canonical(&Snapshot{Tenants: []Tenant{*t}}).Tenants[0])
}

func encodeEnvironment(e *Environment) ([]byte, error) {
	return encodeItem(&canonical(&Snapshot{Environments: []Environment{*e}}).Environments[0])
}

func encodeItem(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("    ", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// encode renders s canonically and checks the bytes as Read would.
func encode(s *Snapshot) ([]byte, error) {
	if s == nil {
		return nil, errors.New("write snapshot: snapshot is nil")
	}
	data, err := encodeDocument(canonical(s))
	if err != nil {
		return nil, fmt.Errorf("write snapshot: %w", err)
	}
	buf := bytes.NewBuffer(data)
	if buf.Len() > MaxSize {
		return nil, tooLarge()
	}
	if _, err := decode(buf.Bytes()); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// encodeDocument renders s as Write does: indented by two spaces, HTML
// characters as they are (sources are URLs full of & and <), a final
// newline.
func encodeDocument(s *Snapshot) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(s); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
