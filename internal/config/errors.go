package config

import (
	"errors"
	"fmt"
	"reflect"
	"strings"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
)

// Error is one problem in a config, located by file, line and key path.
// File and Line are empty when the config was not read from a file or the
// key has no line of its own.
type Error struct {
	File    string
	Line    int
	Path    string // e.g. tenants[0].environments[1].url
	Message string
	// Err is the cause when the document was refused before decoding (a
	// *yamlguard.Error: too large, too deep, an alias bomb, a tag, a
	// decoder failure); nil for a decode or validation problem.
	Err error
}

// Error formats as file:line: path: message, leaving out what is unknown.
func (e *Error) Error() string {
	var b strings.Builder
	if e.File != "" {
		b.WriteString(e.File)
		if e.Line > 0 {
			fmt.Fprintf(&b, ":%d", e.Line)
		}
		b.WriteString(": ")
	}
	if e.Path != "" {
		b.WriteString(e.Path)
		b.WriteString(": ")
	}
	b.WriteString(e.Message)
	return b.String()
}

// Unwrap returns Err, so errors.Is(err, yamlguard.ErrTooDeep) works.
func (e *Error) Unwrap() error { return e.Err }

// Errors is every problem Validate found.
type Errors []*Error

// Error lists the problems, one per line.
func (es Errors) Error() string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// Unwrap exposes each *Error to errors.As.
func (es Errors) Unwrap() []error {
	out := make([]error, len(es))
	for i, e := range es {
		out[i] = e
	}
	return out
}

// source is where a config came from: its name and its syntax tree, used
// to find the line of a key path.
type source struct {
	name  string
	file  *ast.File
	lines map[string]int // key path -> line of the key (or list item)
	keys  map[pos]string // position of a key or scalar token -> its key path
}

type pos struct{ line, col int }

func newSource(name string, file *ast.File) *source {
	s := &source{name: name, file: file, lines: map[string]int{}, keys: map[pos]string{}}
	if len(file.Docs) > 0 && file.Docs[0].Body != nil {
		s.walk("", file.Docs[0].Body)
	}
	return s
}

func (s *source) walk(path string, n ast.Node) {
	switch n := n.(type) {
	case *ast.MappingNode:
		for _, v := range n.Values {
			s.walk(path, v)
		}
	case *ast.MappingValueNode:
		key := keyString(n.Key)
		p := key
		if path != "" {
			p = path + "." + key
		}
		if tk := n.Key.GetToken(); tk != nil {
			s.lines[p] = tk.Position.Line
			s.keys[pos{tk.Position.Line, tk.Position.Column}] = p
		}
		s.walk(p, n.Value)
	case *ast.SequenceNode:
		for i, v := range n.Values {
			p := fmt.Sprintf("%s[%d]", path, i)
			if tk := v.GetToken(); tk != nil {
				s.lines[p] = tk.Position.Line
			}
			s.walk(p, v)
		}
	case *ast.AnchorNode:
		s.walk(path, n.Value)
	case *ast.TagNode:
		s.walk(path, n.Value)
	case nil:
	default:
		if tk := n.GetToken(); tk != nil {
			k := pos{tk.Position.Line, tk.Position.Column}
			if _, taken := s.keys[k]; !taken {
				s.keys[k] = path
			}
		}
	}
}

func keyString(k ast.MapKeyNode) string {
	if sn, ok := k.(*ast.StringNode); ok {
		return sn.Value
	}
	if tk := k.GetToken(); tk != nil {
		return tk.Value
	}
	return k.String()
}

// settle drops what only a decode error needs, the syntax tree and the
// key path of each token, once the config is read: a fleet's config is
// held for the whole run, and its lines are all that is asked of it after.
func (s *source) settle() {
	s.file, s.keys = nil, nil
}

// line is the line of path, or of its nearest ancestor that is in the file
// (a missing key is reported where its parent is).
func (s *source) line(path string) int {
	if s == nil {
		return 0
	}
	for p := path; p != ""; p = parentPath(p) {
		if l, ok := s.lines[p]; ok {
			return l
		}
	}
	return 0
}

func (s *source) docLine(i int) int {
	if i >= len(s.file.Docs) {
		return 0
	}
	d := s.file.Docs[i]
	switch {
	case d.Start != nil:
		return d.Start.Position.Line
	case d.Body != nil && d.Body.GetToken() != nil:
		return d.Body.GetToken().Position.Line
	}
	return 0
}

// parentPath drops the last element of a key path: a.b[2].c -> a.b[2] -> a.b -> a -> "".
func parentPath(p string) string {
	if strings.HasSuffix(p, "]") {
		return p[:strings.LastIndex(p, "[")]
	}
	if i := strings.LastIndex(p, "."); i >= 0 {
		return p[:i]
	}
	return ""
}

// lastKey is the last key of a path: tenants[0].auth.secret -> secret.
func lastKey(p string) string {
	return p[strings.LastIndex(p, ".")+1:]
}

// reservedKeys are top-level keys a later version will define.
var reservedKeys = map[string]bool{"schedule": true, "fleet": true}

// secretKeys are keys people reach for when they mean to put a secret
// value in the file, which it never holds.
var secretKeys = map[string]bool{
	"secret": true, "clientsecret": true, "password": true,
	"certificatepassword": true, "token": true, "key": true, "privatekey": true,
}

// decodeError turns a go-yaml error into an *Error with a line and, where
// the token is known, the key path. The value of the offending key is never
// repeated: it may be a secret put in the wrong place.
func decodeError(name string, src *source, err error) error {
	var ye yaml.Error
	if !errors.As(err, &ye) {
		return fmt.Errorf("%s: decode: %w", name, err)
	}
	e := &Error{File: name, Message: ye.GetMessage()}
	tk := ye.GetToken()
	if tk != nil {
		e.Line = tk.Position.Line
	}
	if src != nil && tk != nil {
		e.Path = src.keys[pos{tk.Position.Line, tk.Position.Column}]
	}
	var (
		unknown *yaml.UnknownFieldError
		typ     *yaml.TypeError
		node    *yaml.UnexpectedNodeTypeError
	)
	switch {
	case errors.As(err, &unknown) && e.Path != "":
		e.Message = unknownKeyMessage(e.Path)
	case errors.As(err, &typ):
		e.Message = typeMessage(typ)
	case errors.As(err, &node):
		e.Message = fmt.Sprintf("must be %s, not %s", nodeKind(node.Expected), nodeKind(node.Actual))
	}
	return e
}

func unknownKeyMessage(path string) string {
	key := lastKey(path)
	parent := parentPath(path)
	switch {
	case parent == "" && reservedKeys[key]:
		return "not supported yet: reserved for a later version of teamslink"
	case secretKeys[strings.ToLower(key)]:
		return "unknown key: tenants.yaml never holds a secret value; name an environment variable (secretEnv, certificatePasswordEnv) or a file (secretFile, certificateFile) instead"
	}
	if valid := keysAt(parent); len(valid) > 0 {
		return fmt.Sprintf("unknown key (valid: %s)", strings.Join(valid, ", "))
	}
	return "unknown key"
}

// keysAt lists the keys a mapping at path accepts, from the yaml tags of
// the struct decoded there.
func keysAt(path string) []string {
	t := reflect.TypeOf(Config{})
	var segs []string
	for p := path; p != ""; p = parentPath(p) {
		segs = append([]string{p[len(parentPath(p)):]}, segs...)
	}
	for _, seg := range segs {
		for t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		if strings.HasPrefix(seg, "[") {
			if t.Kind() != reflect.Slice {
				return nil
			}
			t = t.Elem()
			continue
		}
		f, ok := fieldByTag(t, strings.TrimPrefix(seg, "."))
		if !ok {
			return nil
		}
		t = f.Type
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct {
		return nil
	}
	var keys []string
	for i := range t.NumField() {
		if tag := t.Field(i).Tag.Get("yaml"); tag != "" {
			keys = append(keys, tag)
		}
	}
	return keys
}

func fieldByTag(t reflect.Type, tag string) (reflect.StructField, bool) {
	if t.Kind() != reflect.Struct {
		return reflect.StructField{}, false
	}
	for i := range t.NumField() {
		if t.Field(i).Tag.Get("yaml") == tag {
			return t.Field(i), true
		}
	}
	return reflect.StructField{}, false
}

// typeMessage says in YAML words what a key needed and what it got.
func typeMessage(e *yaml.TypeError) string {
	want := yamlKind(e.DstType)
	if e.SrcType == nil {
		return "must be " + want
	}
	return fmt.Sprintf("must be %s, not %s", want, yamlKind(e.SrcType))
}

func nodeKind(t ast.NodeType) string {
	switch t {
	case ast.SequenceType:
		return "a list"
	case ast.MappingType:
		return "a mapping"
	case ast.StringType, ast.LiteralType:
		return "a string"
	case ast.BoolType:
		return "true or false"
	case ast.IntegerType, ast.FloatType, ast.InfinityType, ast.NanType:
		return "a number"
	case ast.NullType:
		return "null"
	}
	return "a " + t.YAMLName()
}

func yamlKind(t reflect.Type) string {
	if t == nil {
		return "a value"
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Slice, reflect.Array:
		return "a list"
	case reflect.Struct, reflect.Map:
		return "a mapping"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "a number"
	case reflect.Float32, reflect.Float64:
		return "a number"
	}
	return "a " + t.Kind().String()
}
