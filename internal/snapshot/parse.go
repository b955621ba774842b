package snapshot

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// maxDepth bounds how deeply a document may nest. A snapshot nests six
// levels deep; the bound keeps hostile input from exhausting the stack.
const maxDepth = 32

// syntaxError is a malformed document, located by byte offset.
type syntaxError struct {
	offset int64
	msg    string
}

func (e *syntaxError) Error() string { return e.msg }

// parseJSON decodes exactly one JSON value from data into the generic form
// the schema validator reads (objects map[string]any, arrays []any, numbers
// json.Number). It rejects empty input, trailing data, duplicate object keys
// and excessive nesting, and locates syntax errors by line and column.
func parseJSON(data []byte) (any, []located) {
	if len(bytes.TrimLeft(data, " \t\r\n")) == 0 {
		return nil, []located{{message: "empty document: expected a JSON object"}}
	}
	p := &parser{dec: json.NewDecoder(bytes.NewReader(data)), data: data}
	p.dec.UseNumber()
	v, err := p.value(nil, 0)
	if err != nil {
		return nil, []located{{message: p.describe(err)}}
	}
	end := p.dec.InputOffset()
	if _, err := p.dec.Token(); err != io.EOF {
		start := end + int64(len(data[end:])-len(bytes.TrimLeft(data[end:], " \t\r\n")))
		return nil, []located{{message: "unexpected data after the JSON document at " + position(data, start)}}
	}
	return v, p.dups
}

type parser struct {
	dec  *json.Decoder
	data []byte
	dups []located
}

func (p *parser) value(at path, depth int) (any, error) {
	tok, err := p.dec.Token()
	if err != nil {
		return nil, err
	}
	delim, ok := tok.(json.Delim)
	if !ok {
		return tok, nil
	}
	if depth >= maxDepth {
		return nil, &syntaxError{offset: p.dec.InputOffset() - 1, msg: fmt.Sprintf("nested deeper than %d levels", maxDepth)}
	}
	switch delim {
	case '{':
		obj := map[string]any{}
		for p.dec.More() {
			tok, err := p.dec.Token()
			if err != nil {
				return nil, err
			}
			key, ok := tok.(string)
			if !ok {
				// Token reports a non-string key as a syntax error itself;
				// this is a guard, not an expected path.
				return nil, &syntaxError{offset: p.dec.InputOffset(), msg: "expected an object key"}
			}
			v, err := p.value(at.with(key), depth+1)
			if err != nil {
				return nil, err
			}
			if _, dup := obj[key]; dup {
				p.dups = append(p.dups, located{path: at, message: fmt.Sprintf("duplicate field %q", key)})
			}
			obj[key] = v
		}
		if _, err := p.dec.Token(); err != nil {
			return nil, err
		}
		return obj, nil
	case '[':
		arr := []any{}
		for p.dec.More() {
			v, err := p.value(at.with(len(arr)), depth+1)
			if err != nil {
				return nil, err
			}
			arr = append(arr, v)
		}
		if _, err := p.dec.Token(); err != nil {
			return nil, err
		}
		return arr, nil
	default:
		return nil, &syntaxError{offset: p.dec.InputOffset() - 1, msg: fmt.Sprintf("unexpected %q", rune(delim))}
	}
}

// describe turns a decoding error into a message with line and column.
// The token reader does not locate syntax errors reliably, so a syntax
// error is located again by scanning the whole document.
func (p *parser) describe(err error) string {
	var se *syntaxError
	if errors.As(err, &se) {
		return fmt.Sprintf("invalid JSON at %s: %s", position(p.data, se.offset), se.msg)
	}
	var v any
	var jse *json.SyntaxError
	if errors.As(json.Unmarshal(p.data, &v), &jse) {
		if strings.HasPrefix(jse.Error(), "unexpected end of") {
			return fmt.Sprintf("invalid JSON at %s: unexpected end of input", position(p.data, int64(len(p.data))))
		}
		// Offset counts the bytes scanned, the offending one included.
		return fmt.Sprintf("invalid JSON at %s: %s", position(p.data, jse.Offset-1), jse.Error())
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Sprintf("invalid JSON at %s: unexpected end of input", position(p.data, int64(len(p.data))))
	}
	return fmt.Sprintf("invalid JSON: %v", err)
}

// position renders a byte offset as "line L, column C" (both from 1;
// columns count characters).
func position(data []byte, offset int64) string {
	offset = min(max(offset, 0), int64(len(data)))
	before := data[:offset]
	line := bytes.Count(before, []byte{'\n'}) + 1
	lineStart := bytes.LastIndexByte(before, '\n') + 1
	col := utf8.RuneCount(before[lineStart:]) + 1
	return fmt.Sprintf("line %d, column %d", line, col)
}
