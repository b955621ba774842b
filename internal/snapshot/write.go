package snapshot

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// Write writes s to w as a JSON document indented by two spaces and ending
// in a newline. The output depends only on s: fields in a fixed order,
// times in UTC, required lists written as [] even when nil.
//
// Write first checks the document as Read would and writes nothing if Read
// would reject it; the error is then a *ValidationError.
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

// WriteFile writes s to the named file like Write. It writes a temporary
// file in the same directory, syncs it and renames it over name, so a crash
// leaves either the old file or the new one, never part of one.
func WriteFile(name string, s *Snapshot) (err error) {
	data, err := encode(s)
	if err != nil {
		var verr *ValidationError
		if errors.As(err, &verr) {
			verr.File = name
		}
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(name), "."+filepath.Base(name)+".tmp-*")
	if err != nil {
		return fmt.Errorf("write snapshot: %w", err)
	}
	defer func() {
		if err != nil {
			_ = tmp.Close()
			_ = os.Remove(tmp.Name())
		}
	}()
	if _, err := tmp.Write(data); err != nil {
		return fmt.Errorf("write snapshot %s: %w", name, err)
	}
	if err := tmp.Chmod(0o644); err != nil {
		return fmt.Errorf("write snapshot %s: %w", name, err)
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("write snapshot %s: %w", name, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write snapshot %s: %w", name, err)
	}
	if err := os.Rename(tmp.Name(), name); err != nil {
		return fmt.Errorf("write snapshot %s: %w", name, err)
	}
	syncDir(filepath.Dir(name))
	return nil
}

// syncDir makes a rename in dir durable where the platform allows it;
// where it does not, the rename is still atomic, only perhaps not yet on disk.
func syncDir(dir string) {
	d, err := os.Open(dir)
	if err != nil {
		return
	}
	_ = d.Sync()
	_ = d.Close()
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
