package snapshot

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"strings"
)

// MaxSize is the largest snapshot document Read accepts, in bytes (64 MiB).
// Samples are bounded, so a real snapshot is far smaller.
const MaxSize = 64 << 20

// supportedVersions are the schemaVersion values Read accepts.
var supportedVersions = []string{SchemaVersion}

// Read reads one snapshot document from r. The document must be at most
// MaxSize bytes of JSON holding a single object that is valid against
// JSONSchema and whose tenants and environments agree (tenant ids unique,
// each environment's tenantId naming a tenant, environment URLs unique
// absolute https URLs). Anything else is a *ValidationError listing every
// problem found with its path; errors reading r are returned wrapped.
//
// The snapshot returned is canonical: times are in UTC, required lists are
// empty rather than nil and empty optional lists are nil.
func Read(r io.Reader) (*Snapshot, error) {
	data, err := readLimited(r, MaxSize)
	if err != nil {
		return nil, err
	}
	return decode(data)
}

// readLimited reads all of r if it holds at most limit bytes.
func readLimited(r io.Reader, limit int) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, int64(limit)+1))
	if err != nil {
		return nil, fmt.Errorf("read snapshot: %w", err)
	}
	if len(data) > limit {
		return nil, tooLarge()
	}
	return data, nil
}

// tooLarge is the error for a document over MaxSize.
func tooLarge() *ValidationError {
	return &ValidationError{Problems: []Problem{{
		Message: fmt.Sprintf("document is larger than the limit of %d MiB (%d bytes)", MaxSize>>20, MaxSize),
	}}}
}

// ReadFile reads the snapshot document in the named file, like Read; a
// *ValidationError it returns names the file.
func ReadFile(name string) (*Snapshot, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, fmt.Errorf("read snapshot: %w", err)
	}
	defer f.Close()
	s, err := Read(f)
	var verr *ValidationError
	if errors.As(err, &verr) {
		verr.File = name
	}
	return s, err
}

// Validate checks s as Read would check the document Write makes of it: a
// *ValidationError lists every problem.
func Validate(s *Snapshot) error {
	_, err := encode(s)
	return err
}

// decode runs the checks in order, each only on input that passed the one
// before: JSON syntax, schema version, JSON Schema, Go representability,
// strict decoding, then the checks across tenants and environments.
func decode(data []byte) (*Snapshot, error) { return check(data, true) }

// check is decode; without across, the checks across tenants and
// environments are left out (for a part of a document: Write's).
func check(data []byte, across bool) (*Snapshot, error) {
	doc, problems := parseJSON(data)
	if len(problems) > 0 {
		return nil, &ValidationError{Problems: sortedProblems(problems)}
	}
	if p, ok := checkVersion(doc); !ok {
		return nil, &ValidationError{Problems: []Problem{p}}
	}
	problems, err := validateSchema(doc)
	if err != nil {
		return nil, err
	}
	if len(problems) > 0 {
		return nil, &ValidationError{Problems: sortedProblems(problems)}
	}
	checkGoTypes(doc, reflect.TypeFor[Snapshot](), nil, &problems)
	if len(problems) > 0 {
		return nil, &ValidationError{Problems: sortedProblems(problems)}
	}

	var s Snapshot
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&s); err != nil {
		// The checks above leave nothing for the decoder to reject; should
		// they miss a case, it is still a problem with the document.
		return nil, &ValidationError{Problems: []Problem{{Message: "cannot decode: " + strings.TrimPrefix(err.Error(), "json: ")}}}
	}
	if !across {
		return &s, nil
	}
	if problems := checkSemantics(&s); len(problems) > 0 {
		return nil, &ValidationError{Problems: sortedProblems(problems)}
	}
	return canonical(&s), nil
}

// checkVersion rejects a document of another schema version before the
// schema is applied, so it gets one clear message instead of a list of
// differences. A missing or non-string version is left to the schema.
func checkVersion(doc any) (Problem, bool) {
	obj, ok := doc.(map[string]any)
	if !ok {
		return Problem{}, true
	}
	v, ok := obj["schemaVersion"].(string)
	if !ok {
		return Problem{}, true
	}
	for _, supported := range supportedVersions {
		if v == supported {
			return Problem{}, true
		}
	}
	return Problem{
		Path:    "schemaVersion",
		Message: fmt.Sprintf("unsupported schema version %q (supported: %s)", v, strings.Join(supportedVersions, ", ")),
	}, false
}
