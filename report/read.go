package report

import (
	"bytes"
	"cmp"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"

	"github.com/teamslink/teamslink/internal/finding"
)

// MaxReadSize is the largest report document Read accepts, in bytes
// (256 MiB). Evidence samples are bounded, so even a large fleet's report
// is far smaller.
const MaxReadSize = 256 << 20

// maxReadDepth bounds how deeply a report may nest; evidence is the deepest
// part. The bound keeps hostile input from exhausting the stack.
const maxReadDepth = 64

// jsonSchemaV2 is the JSON Schema of the teamslink.report/v2 contract, kept
// as it was released so that a v2 report is checked against what its writer
// promised.
//
//go:embed schema/report.v2.schema.json
var jsonSchemaV2 []byte

// reportV2 is the one older contract version Read upgrades from.
const reportV2 = "teamslink.report/v2"

// readSchemas are the schemas Read checks each readable version against,
// each compiled once, on first use.
var readSchemas = map[string]func() (*jsonschema.Schema, error){
	reportV2:                    lazySchema("urn:teamslink:report:v2", jsonSchemaV2),
	finding.ReportSchemaVersion: lazySchema("urn:teamslink:report:v3", JSONSchema),
}

func lazySchema(url string, data []byte) func() (*jsonschema.Schema, error) {
	return sync.OnceValues(func() (*jsonschema.Schema, error) { return compileReportSchema(url, data) })
}

// schemaFiles name the embedded schema of each version in messages.
var schemaFiles = map[string]string{
	reportV2:                    "report.v2.schema.json",
	finding.ReportSchemaVersion: "report.schema.json",
}

func compileReportSchema(url string, data []byte) (*jsonschema.Schema, error) {
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("parse report schema: %w", err)
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	c.AssertFormat()
	if err := c.AddResource(url, doc); err != nil {
		return nil, fmt.Errorf("load report schema: %w", err)
	}
	s, err := c.Compile(url)
	if err != nil {
		return nil, fmt.Errorf("compile report schema: %w", err)
	}
	return s, nil
}

// ReadError says why a saved report could not be read: the file (or the
// name given to Read) and what is wrong. Err is a *TooLargeError, a
// *SyntaxError, a *VersionError or a *SchemaError when the document is at
// fault; anything else is an error reading it.
type ReadError struct {
	Path string
	Err  error
}

func (e *ReadError) Error() string { return "read report " + e.Path + ": " + e.Err.Error() }

// Unwrap returns the reason.
func (e *ReadError) Unwrap() error { return e.Err }

// TooLargeError is a document over the limit Read accepts.
type TooLargeError struct {
	Limit int64
}

func (e *TooLargeError) Error() string {
	return fmt.Sprintf("larger than the limit of %d MiB", e.Limit>>20)
}

// SyntaxError is a document that is not one well-formed JSON value: broken
// syntax, an empty file, data after the value, a key given twice in one
// object, or nesting deeper than a report has. Line and Column count from 1
// (columns in characters).
type SyntaxError struct {
	Line, Column int
	Msg          string
}

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("line %d, column %d: invalid JSON: %s", e.Line, e.Column, e.Msg)
}

// VersionError is a document whose schemaVersion is missing, or is not one
// this build reads (finding.ReadableReportVersions).
type VersionError struct {
	// Got is the schemaVersion found; empty when there is none.
	Got string
	// Readable are the versions this build reads.
	Readable []string
}

func (e *VersionError) Error() string {
	reads := "this teamslink reads " + strings.Join(e.Readable, " and ")
	switch {
	case e.Got == "":
		return "no schemaVersion: not a teamslink report (" + reads + ")"
	case strings.HasPrefix(e.Got, "teamslink.snapshot/"):
		return fmt.Sprintf("schemaVersion %q is a snapshot, not a report: evaluate it with \"teamslink eval\"", e.Got)
	}
	got, ok := reportVersion(e.Got)
	if !ok {
		return fmt.Sprintf("schemaVersion %q is not a teamslink report version (%s)", e.Got, reads)
	}
	lo, hi := versionRange(e.Readable)
	switch {
	case got < lo:
		return fmt.Sprintf("schemaVersion %q is older than %s: render it with the teamslink that wrote it, or scan again", e.Got, reads)
	case got > hi:
		return fmt.Sprintf("schemaVersion %q is newer than %s: use a newer teamslink", e.Got, reads)
	}
	return fmt.Sprintf("schemaVersion %q is not one %s", e.Got, strings.TrimPrefix(reads, "this "))
}

// reportVersion returns N of teamslink.report/vN.
func reportVersion(v string) (int, bool) {
	n, ok := strings.CutPrefix(v, "teamslink.report/v")
	if !ok {
		return 0, false
	}
	i, err := strconv.Atoi(n)
	return i, err == nil && i > 0
}

func versionRange(vs []string) (lo, hi int) {
	for i, v := range vs {
		n, _ := reportVersion(v)
		if i == 0 || n < lo {
			lo = n
		}
		hi = max(hi, n)
	}
	return lo, hi
}

// SchemaError is a well-formed document that does not match the schema of
// its version, or holds a value the report model cannot take.
type SchemaError struct {
	// Version is the document's schemaVersion; empty when the document is
	// not an object.
	Version string
	// Problems are in document order.
	Problems []Problem
}

// maxPrintedProblems bounds how many problems SchemaError.Error prints.
const maxPrintedProblems = 20

func (e *SchemaError) Error() string {
	var b strings.Builder
	if e.Version == "" {
		b.WriteString("not a teamslink report")
	} else {
		fmt.Fprintf(&b, "does not match the %s schema", e.Version)
	}
	if len(e.Problems) == 1 {
		b.WriteString(": ")
		b.WriteString(e.Problems[0].String())
		return b.String()
	}
	fmt.Fprintf(&b, " (%d problems):", len(e.Problems))
	for i, p := range e.Problems {
		if i == maxPrintedProblems {
			fmt.Fprintf(&b, "\n  … and %d more", len(e.Problems)-maxPrintedProblems)
			break
		}
		b.WriteString("\n  ")
		b.WriteString(p.String())
	}
	return b.String()
}

// Problem is one thing wrong with a report document.
type Problem struct {
	// Line and Column locate the value in the document (from 1).
	Line, Column int
	// Path is the value's JSON path, e.g. environments[0].findings[2].status;
	// empty for the document as a whole.
	Path string
	// Schema is the schema keyword that rejected it, e.g.
	// report.schema.json#/$defs/status/enum; empty when the report model,
	// not the schema, refused the value.
	Schema string
	// Message says what is wrong, e.g. `"failed" is not one of ...`.
	Message string
}

// String renders the problem as "line L, column C: path: message (schema S)".
func (p Problem) String() string {
	s := fmt.Sprintf("line %d, column %d: ", p.Line, p.Column)
	if p.Path != "" {
		s += p.Path + ": "
	}
	s += p.Message
	if p.Schema != "" {
		s += " (schema " + p.Schema + ")"
	}
	return s
}

// ReadFile reads the saved report at path, like Read; errors name the path.
func ReadFile(path string) (*finding.Report, error) {
	f, err := os.Open(path)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err // the ReadError names the path once
		}
		return nil, &ReadError{Path: path, Err: err}
	}
	defer f.Close()
	return Read(f, path)
}

// Read reads one saved JSON report (the json format of any version in
// finding.ReadableReportVersions) from r; name is what errors call it,
// usually the file name. The document must be at most MaxReadSize bytes of
// one JSON object, with no key twice in one object, that matches the JSON
// Schema of its version; every failure is a *ReadError.
//
// A report of an older readable version is read into the current model:
// what later versions added (for v2: the rules' catalogue, waiver notices,
// where tenants.yaml declares each environment, a waiver's source and
// earlier status) stays absent, never invented. SchemaVersion keeps the
// version the document declared, so a caller can tell; every writer renders
// the report in the current contract.
func Read(r io.Reader, name string) (*finding.Report, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxReadSize+1))
	if err != nil {
		return nil, &ReadError{Path: name, Err: err}
	}
	if len(data) > MaxReadSize {
		return nil, &ReadError{Path: name, Err: &TooLargeError{Limit: MaxReadSize}}
	}
	rep, err := decodeReport(data)
	if err != nil {
		return nil, &ReadError{Path: name, Err: err}
	}
	return rep, nil
}

// decodeReport runs the checks in order, each only on input that passed the
// one before: JSON syntax, schema version, the version's JSON Schema, then
// strict decoding into the model, then the upgrade to the current model.
func decodeReport(data []byte) (*finding.Report, error) {
	doc, err := parseDocument(data)
	if err != nil {
		return nil, err
	}
	obj, ok := doc.(map[string]any)
	if !ok {
		return nil, &SchemaError{Problems: []Problem{{Line: 1, Column: 1, Message: "expected a JSON object (a teamslink report), got " + jsonKind(doc)}}}
	}
	version, _ := obj["schemaVersion"].(string)
	schema, ok := readSchemas[version]
	if !ok {
		return nil, &VersionError{Got: version, Readable: slices.Clone(finding.ReadableReportVersions)}
	}
	sch, err := schema()
	if err != nil {
		return nil, err
	}
	if err := sch.Validate(doc); err != nil {
		var verr *jsonschema.ValidationError
		if !errors.As(err, &verr) {
			return nil, fmt.Errorf("validate report: %w", err)
		}
		return nil, &SchemaError{Version: version, Problems: schemaProblems(data, verr, schemaFiles[version])}
	}
	var rep finding.Report
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber() // evidence keeps its numbers exactly as written
	dec.DisallowUnknownFields()
	if err := dec.Decode(&rep); err != nil {
		return nil, &SchemaError{Version: version, Problems: []Problem{decodeProblem(data, err)}}
	}
	upgrade(&rep)
	return &rep, nil
}

// upgrade brings a report of an older readable version into the current
// model. v3 only added to v2 (rules, waivers, declaredAt, a waiver's source
// and earlier status), so a v2 report needs nothing invented; the lists the
// contract requires are made non-nil, as the writers expect them.
func upgrade(r *finding.Report) {
	r.SignInErrors = nonNil(r.SignInErrors)
	r.Environments = nonNil(r.Environments)
	for i := range r.Environments {
		e := &r.Environments[i]
		e.Verdicts = nonNil(e.Verdicts)
		e.Findings = nonNil(e.Findings)
	}
}

// decodeProblem turns an error of the strict decoder (a value the schema
// allows but the model cannot hold, such as an integer beyond int64) into a
// located problem.
func decodeProblem(data []byte, err error) Problem {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		line, col := position(data, te.Offset)
		msg := "cannot hold " + te.Value
		if te.Type != nil {
			msg += " in a Go " + te.Type.String()
		}
		return Problem{Line: line, Column: col, Path: te.Field, Message: msg}
	}
	return Problem{Line: 1, Column: 1, Message: "cannot decode: " + strings.TrimPrefix(err.Error(), "json: ")}
}

// schemaProblems lists the failing leaves of a validation error, located in
// the document, in document order.
func schemaProblems(data []byte, verr *jsonschema.ValidationError, file string) []Problem {
	var leaves []*jsonschema.OutputUnit
	var walk func(u *jsonschema.OutputUnit)
	walk = func(u *jsonschema.OutputUnit) {
		for i := range u.Errors {
			walk(&u.Errors[i])
		}
		if len(u.Errors) == 0 && u.Error != nil {
			leaves = append(leaves, u)
		}
	}
	walk(verr.DetailedOutput())
	pointers := make(map[string]bool, len(leaves))
	for _, u := range leaves {
		pointers[u.InstanceLocation] = true
	}
	offsets := offsetsOf(data, pointers)
	type located struct {
		offset int64
		Problem
	}
	out := make([]located, 0, len(leaves))
	for _, u := range leaves {
		off := offsets[u.InstanceLocation]
		line, col := position(data, off)
		// The absolute location is the keyword's place in the schema
		// file; the library leaves it out where no $ref was followed.
		schema := file + "#" + u.KeywordLocation
		if _, frag, ok := strings.Cut(u.AbsoluteKeywordLocation, "#"); ok {
			schema = file + "#" + frag
		}
		out = append(out, located{offset: off, Problem: Problem{
			Line: line, Column: col, Path: jsonPath(pointerTokens(u.InstanceLocation)), Schema: schema, Message: describe(u.Error),
		}})
	}
	slices.SortStableFunc(out, func(a, b located) int {
		return cmp.Or(cmp.Compare(a.offset, b.offset), strings.Compare(a.Message, b.Message))
	})
	problems := make([]Problem, 0, len(out))
	for _, o := range out {
		if n := len(problems); n > 0 && problems[n-1] == o.Problem {
			continue
		}
		problems = append(problems, o.Problem)
	}
	if len(problems) == 0 { // a guard: a failure always has a leaf
		problems = append(problems, Problem{Line: 1, Column: 1, Message: verr.Error()})
	}
	return problems
}

// describe words one schema failure in the library's words, adding the
// value found where those leave it out.
func describe(e *jsonschema.OutputError) string {
	msg := e.String()
	switch k := e.Kind.(type) {
	case *kind.Enum:
		msg += ", got " + quoteJSON(k.Got)
	case *kind.Const:
		msg += ", got " + quoteJSON(k.Got)
	}
	return msg
}

// quoteJSON renders a value of the generic document as JSON, bounded.
func quoteJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	if r := []rune(string(b)); len(r) > 80 {
		return string(r[:79]) + "…"
	}
	return string(b)
}

// pointerTokens splits a JSON Pointer into its reference tokens, unescaped.
func pointerTokens(pointer string) []string {
	if pointer == "" {
		return nil
	}
	tokens := strings.Split(strings.TrimPrefix(pointer, "/"), "/")
	for i, t := range tokens {
		tokens[i] = pathUnescaper.Replace(t)
	}
	return tokens
}

var pathUnescaper = strings.NewReplacer("~1", "/", "~0", "~")

// jsonPath renders unescaped reference tokens as environments[0].findings[2].status.
func jsonPath(tokens []string) string {
	var b strings.Builder
	for _, tok := range tokens {
		if _, err := strconv.Atoi(tok); err == nil {
			b.WriteString("[" + tok + "]")
			continue
		}
		if isIdentifier(tok) {
			if b.Len() > 0 {
				b.WriteByte('.')
			}
			b.WriteString(tok)
			continue
		}
		b.WriteString("[" + strconv.Quote(tok) + "]")
	}
	return b.String()
}

func isIdentifier(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		switch {
		case r == '_', r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z':
		case r >= '0' && r <= '9' && i > 0:
		default:
			return false
		}
	}
	return true
}

func jsonKind(v any) string {
	switch v.(type) {
	case []any:
		return "an array"
	case string:
		return "a string"
	case json.Number:
		return "a number"
	case bool:
		return "a boolean"
	case nil:
		return "null"
	}
	return "an object"
}

// parseDocument decodes exactly one JSON value from data into the generic
// form the schema validator reads (objects map[string]any, arrays []any,
// numbers json.Number). It refuses an empty document, data after the value,
// a key given twice in one object and nesting deeper than maxReadDepth, and
// locates every problem by line and column.
func parseDocument(data []byte) (any, error) {
	if len(bytes.TrimLeft(data, " \t\r\n")) == 0 {
		line, col := position(data, int64(len(data)))
		return nil, &SyntaxError{Line: line, Column: col, Msg: "empty document: expected a JSON object"}
	}
	p := &docParser{dec: json.NewDecoder(bytes.NewReader(data)), data: data}
	p.dec.UseNumber()
	v, err := p.value(0)
	if err != nil {
		return nil, p.syntaxError(err)
	}
	end := p.dec.InputOffset()
	if _, err := p.dec.Token(); err != io.EOF {
		line, col := position(data, skipSpace(data, end))
		return nil, &SyntaxError{Line: line, Column: col, Msg: "data after the JSON document"}
	}
	return v, nil
}

// docParser reads a document token by token.
type docParser struct {
	dec  *json.Decoder
	data []byte
}

// locatedError is a problem the parser found itself, at a byte offset.
type locatedError struct {
	offset int64
	msg    string
}

func (e *locatedError) Error() string { return e.msg }

func (p *docParser) value(depth int) (any, error) {
	start := skipSpace(p.data, p.dec.InputOffset())
	tok, err := p.dec.Token()
	if err != nil {
		return nil, err
	}
	delim, ok := tok.(json.Delim)
	if !ok {
		return tok, nil
	}
	if depth >= maxReadDepth {
		return nil, &locatedError{offset: start, msg: fmt.Sprintf("nested deeper than %d levels", maxReadDepth)}
	}
	switch delim {
	case '{':
		obj := map[string]any{}
		for p.dec.More() {
			keyAt := skipSpace(p.data, p.dec.InputOffset())
			tok, err := p.dec.Token()
			if err != nil {
				return nil, err
			}
			key, ok := tok.(string)
			if !ok { // the decoder reports a non-string key itself; a guard
				return nil, &locatedError{offset: keyAt, msg: "expected an object key"}
			}
			if _, dup := obj[key]; dup {
				return nil, &locatedError{offset: keyAt, msg: fmt.Sprintf("key %q given twice in one object", key)}
			}
			v, err := p.value(depth + 1)
			if err != nil {
				return nil, err
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
			v, err := p.value(depth + 1)
			if err != nil {
				return nil, err
			}
			arr = append(arr, v)
		}
		if _, err := p.dec.Token(); err != nil {
			return nil, err
		}
		return arr, nil
	}
	return nil, &locatedError{offset: start, msg: fmt.Sprintf("unexpected %q", rune(delim))}
}

// syntaxError locates a parse error. The token reader does not locate
// syntax errors reliably, so a syntax error is located again by scanning
// the whole document with the standard decoder.
func (p *docParser) syntaxError(err error) *SyntaxError {
	var le *locatedError
	if errors.As(err, &le) {
		line, col := position(p.data, le.offset)
		return &SyntaxError{Line: line, Column: col, Msg: le.msg}
	}
	var v any
	var se *json.SyntaxError
	if errors.As(json.Unmarshal(p.data, &v), &se) {
		msg := strings.TrimPrefix(se.Error(), "json: ")
		off := se.Offset - 1 // Offset counts the offending byte too
		if strings.HasPrefix(msg, "unexpected end of") {
			off, msg = int64(len(p.data)), "unexpected end of input"
		}
		line, col := position(p.data, off)
		return &SyntaxError{Line: line, Column: col, Msg: msg}
	}
	line, col := position(p.data, int64(len(p.data)))
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return &SyntaxError{Line: line, Column: col, Msg: "unexpected end of input"}
	}
	return &SyntaxError{Line: line, Column: col, Msg: strings.TrimPrefix(err.Error(), "json: ")}
}

// offsetsOf finds, in one pass over data (a document that parsed), where
// the value each JSON Pointer in pointers starts; a pointer that leads
// nowhere is left out (offset 0, the document's start).
func offsetsOf(data []byte, pointers map[string]bool) map[string]int64 {
	// Only values on the way to a wanted one are entered.
	onPath := map[string]bool{}
	for p := range pointers {
		for i := 0; i <= len(p); i++ {
			if i == len(p) || p[i] == '/' {
				onPath[p[:i]] = true
			}
		}
	}
	found := make(map[string]int64, len(pointers))
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var visit func(ptr string) error
	visit = func(ptr string) error {
		start := skipSpace(data, dec.InputOffset())
		if pointers[ptr] {
			found[ptr] = start
		}
		if !onPath[ptr] {
			return skipValue(dec)
		}
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		switch tok {
		case json.Delim('{'):
			for dec.More() {
				key, err := dec.Token()
				if err != nil {
					return err
				}
				k, _ := key.(string)
				if err := visit(ptr + "/" + pointerEscaper.Replace(k)); err != nil {
					return err
				}
			}
		case json.Delim('['):
			for i := 0; dec.More(); i++ {
				if err := visit(ptr + "/" + strconv.Itoa(i)); err != nil {
					return err
				}
			}
		default:
			return nil
		}
		_, err = dec.Token() // the closing delimiter
		return err
	}
	_ = visit("") // the document parsed; an error only ends the search early
	return found
}

var pointerEscaper = strings.NewReplacer("~", "~0", "/", "~1")

// skipValue reads past one value.
func skipValue(dec *json.Decoder) error {
	depth := 0
	for {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		switch tok {
		case json.Delim('{'), json.Delim('['):
			depth++
		case json.Delim('}'), json.Delim(']'):
			depth--
		}
		if depth == 0 {
			return nil
		}
	}
}

// skipSpace moves off past whitespace and the separators the token reader
// leaves before the next token.
func skipSpace(data []byte, off int64) int64 {
	for off < int64(len(data)) {
		switch data[off] {
		case ' ', '\t', '\r', '\n', ',', ':':
			off++
		default:
			return off
		}
	}
	return off
}

// position renders a byte offset as a line and a column, both from 1;
// columns count characters.
func position(data []byte, offset int64) (line, col int) {
	offset = min(max(offset, 0), int64(len(data)))
	before := data[:offset]
	line = bytes.Count(before, []byte{'\n'}) + 1
	lineStart := bytes.LastIndexByte(before, '\n') + 1
	return line, utf8.RuneCount(before[lineStart:]) + 1
}
