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
func Write(w io.Writer, s *Snapshot) error {
	data, err := encode(s)
	if err != nil {
		return err
	}
	if _, err := w.Write(data); err != nil {
		return fmt.Errorf("write snapshot: %w", err)
	}
	return nil
}

// encode renders s canonically and checks the bytes as Read would.
func encode(s *Snapshot) ([]byte, error) {
	if s == nil {
		return nil, errors.New("write snapshot: snapshot is nil")
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	// Sources are URLs full of & and <: keep them readable.
	enc.SetEscapeHTML(false)
	if err := enc.Encode(canonical(s)); err != nil {
		return nil, fmt.Errorf("write snapshot: %w", err)
	}
	if buf.Len() > MaxSize {
		return nil, tooLarge()
	}
	if _, err := decode(buf.Bytes()); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
