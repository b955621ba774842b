package snapshot

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"math/big"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
)

// JSONSchema is the JSON Schema (draft 2020-12) of a teamslink.snapshot/v1
// document. Read validates every document against it.
//
//go:embed schema/snapshot.schema.json
var JSONSchema []byte

// schemaURL is the $id of JSONSchema.
const schemaURL = "urn:teamslink:snapshot:v1"

// compiledSchema compiles JSONSchema once, on first use.
var compiledSchema = sync.OnceValues(func() (*jsonschema.Schema, error) {
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(JSONSchema))
	if err != nil {
		return nil, fmt.Errorf("parse snapshot schema: %w", err)
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	c.AssertFormat()
	if err := c.AddResource(schemaURL, doc); err != nil {
		return nil, fmt.Errorf("load snapshot schema: %w", err)
	}
	s, err := c.Compile(schemaURL)
	if err != nil {
		return nil, fmt.Errorf("compile snapshot schema: %w", err)
	}
	return s, nil
})

// validateSchema checks a parsed document against JSONSchema. The error is
// non-nil only when the schema itself cannot be compiled.
func validateSchema(doc any) ([]located, error) {
	s, err := compiledSchema()
	if err != nil {
		return nil, err
	}
	err = s.Validate(doc)
	if err == nil {
		return nil, nil
	}
	var verr *jsonschema.ValidationError
	if !errors.As(err, &verr) {
		return nil, fmt.Errorf("validate snapshot: %w", err)
	}
	var out []located
	collectLeaves(verr.DetailedOutput(), doc, &out)
	return out, nil
}

// collectLeaves turns the failing leaves of a detailed output unit into
// problems; inner units only group their causes.
func collectLeaves(u *jsonschema.OutputUnit, doc any, out *[]located) {
	if len(u.Errors) > 0 {
		for i := range u.Errors {
			collectLeaves(&u.Errors[i], doc, out)
		}
		return
	}
	if u.Error == nil {
		return
	}
	at := instancePath(u.InstanceLocation, doc)
	switch k := u.Error.Kind.(type) {
	case *kind.Required:
		for _, name := range k.Missing {
			*out = append(*out, located{path: at, message: fmt.Sprintf("missing required field %q", name)})
		}
	case *kind.AdditionalProperties:
		for _, name := range k.Properties {
			*out = append(*out, located{path: at, message: fmt.Sprintf("unknown field %q", name)})
		}
	default:
		*out = append(*out, located{path: at, message: describeKind(u.Error.Kind, u.Error.String())})
	}
}

// describeKind words one schema failure for a person reading the snapshot.
func describeKind(k jsonschema.ErrorKind, fallback string) string {
	switch k := k.(type) {
	case *kind.Type:
		// The library lists null first; "string or null" reads better.
		want := slices.DeleteFunc(slices.Clone(k.Want), func(w string) bool { return w == "null" })
		if len(want) < len(k.Want) {
			want = append(want, "null")
		}
		return fmt.Sprintf("expected %s, got %s", strings.Join(want, " or "), k.Got)
	case *kind.Enum:
		want := make([]string, len(k.Want))
		for i, w := range k.Want {
			want[i] = fmt.Sprint(w)
		}
		return "must be one of " + strings.Join(want, ", ")
	case *kind.Const:
		return fmt.Sprintf("must be %v", k.Want)
	case *kind.Format:
		return fmt.Sprintf("expected %s, got %s", formatName(k.Want), quoteValue(k.Got))
	case *kind.MinLength:
		if k.Want == 1 {
			return "must not be empty"
		}
		return fmt.Sprintf("must be at least %d characters long", k.Want)
	case *kind.Minimum:
		return fmt.Sprintf("must be at least %s, got %s", ratString(k.Want), ratString(k.Got))
	case *kind.Maximum:
		return fmt.Sprintf("must be at most %s, got %s", ratString(k.Want), ratString(k.Got))
	default:
		return fallback
	}
}

func formatName(f string) string {
	if f == "date-time" {
		return "an RFC 3339 date-time"
	}
	return "format " + f
}

func quoteValue(v any) string {
	if s, ok := v.(string); ok {
		return fmt.Sprintf("%q", s)
	}
	return fmt.Sprint(v)
}

func ratString(r *big.Rat) string {
	if r == nil {
		return "?"
	}
	if r.IsInt() {
		return r.Num().String()
	}
	return r.FloatString(6)
}

var pointerUnescaper = strings.NewReplacer("~1", "/", "~0", "~")

// instancePath turns a JSON Pointer into a path, using the document to tell
// array indexes from object keys.
func instancePath(pointer string, doc any) path {
	if pointer == "" {
		return nil
	}
	var at path
	node := doc
	for _, tok := range strings.Split(strings.TrimPrefix(pointer, "/"), "/") {
		tok = pointerUnescaper.Replace(tok)
		switch n := node.(type) {
		case []any:
			if i, err := strconv.Atoi(tok); err == nil && i >= 0 && i < len(n) {
				at = append(at, i)
				node = n[i]
				continue
			}
			at = append(at, tok)
			node = nil
		case map[string]any:
			at = append(at, tok)
			node = n[tok]
		default:
			at = append(at, tok)
			node = nil
		}
	}
	return at
}
