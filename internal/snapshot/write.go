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
// A snapshot with environments is checked and written one environment at a
// time, so that a fleet's snapshot never exists a second time as one
// document, nor as its parse tree: the bytes are those of the whole
// document, and a snapshot that fails any check is checked whole again for
// the problems Read would list.
func Write(w io.Writer, s *Snapshot) error {
	if s == nil || len(s.Environments) == 0 {
		data, err := encode(s)
		if err != nil {
			return err
		}
		return writeAll(w, data)
	}
	head, err := checkParts(s)
	if err != nil {
		return err
	}
	if head == nil { // a problem: the whole document says which
		data, err := encode(s)
		if err != nil {
			return err
		}
		return writeAll(w, data)
	}
	before, after, _ := bytes.Cut(head, []byte(environmentsMarker))
	if err := writeAll(w, append(before, environmentsMarker[:len(environmentsMarker)-1]...)); err != nil {
		return err
	}
	for i := range s.Environments {
		part, err := encodeEnvironment(&s.Environments[i])
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
	return writeAll(w, append([]byte("\n  ]"), after...))
}

// environmentsMarker is the environments list of a document without
// environments, as the encoder writes it; the list of a whole document
// replaces its [].
const environmentsMarker = "\n  \"environments\": []"

func writeAll(w io.Writer, data []byte) error {
	if _, err := w.Write(data); err != nil {
		return fmt.Errorf("write snapshot: %w", err)
	}
	return nil
}

// checkParts checks s part by part as Read would check the whole document:
// the document without its environments, then each environment in a
// document of its own (the schema, the Go types and strict decoding judge
// an environment alone), then, on s itself, the checks across tenants and
// environments and the size the whole document would have. It returns the
// encoding of the document without its environments, or nil when a part
// has a problem (which only the whole document names as Read would).
func checkParts(s *Snapshot) ([]byte, error) {
	head := *s
	head.Environments = []Environment{}
	headData, err := encodeDocument(canonical(&head))
	if err != nil {
		return nil, fmt.Errorf("write snapshot: %w", err)
	}
	if !bytes.Contains(headData, []byte(environmentsMarker)) {
		return nil, errors.New("write snapshot: no environments list in the document")
	}
	if _, err := check(headData, false); err != nil {
		return nil, nil
	}
	size := len(headData) + len("\n  ")
	for i := range s.Environments {
		part := Snapshot{SchemaVersion: s.SchemaVersion, CollectedAt: s.CollectedAt, Tool: s.Tool, Tenants: []Tenant{}, Environments: s.Environments[i : i+1]}
		data, err := encodeDocument(canonical(&part))
		if err != nil {
			return nil, fmt.Errorf("write snapshot: %w", err)
		}
		if _, err := check(data, false); err != nil {
			return nil, nil
		}
		env, err := encodeEnvironment(&s.Environments[i])
		if err != nil {
			return nil, fmt.Errorf("write snapshot: %w", err)
		}
		size += len(",\n    ") + len(env)
	}
	if size-1 > MaxSize || len(checkSemantics(s)) > 0 { // the first environment has no comma
		return nil, nil
	}
	return headData, nil
}

// encodeEnvironment renders e as the whole document's encoding does at its
// place in the environments list (lines after the first indented by four
// spaces), without a final newline.
func encodeEnvironment(e *Environment) ([]byte, error) {
	part := canonical(&Snapshot{Environments: []Environment{*e}})
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("    ", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(&part.Environments[0]); err != nil {
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
