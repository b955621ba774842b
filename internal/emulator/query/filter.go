package query

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Type is the EDM type of a property or literal.
type Type int

// The EDM types the parser distinguishes.
const (
	Null     Type = iota // the null literal
	String               // Edm.String
	GUID                 // Edm.Guid
	Int                  // Edm.Int32 / Edm.Int64 (choices, whole numbers)
	Float                // Edm.Double / Edm.Decimal
	Bool                 // Edm.Boolean
	DateTime             // Edm.DateTimeOffset
)

// EdmName is the type's name as OData error messages print it.
func (t Type) EdmName() string {
	switch t {
	case String:
		return "Edm.String"
	case GUID:
		return "Edm.Guid"
	case Int:
		return "Edm.Int32"
	case Float:
		return "Edm.Double"
	case Bool:
		return "Edm.Boolean"
	case DateTime:
		return "Edm.DateTimeOffset"
	default:
		return "<null>"
	}
}

func (t Type) numeric() bool { return t == Int || t == Float }

// Resolver returns the type of the named property (a simple name or a
// slash-separated path such as IsCustomizable/Value) and false when the
// resource has no such property.
type Resolver func(name string) (Type, bool)

// Getter returns a property's value for one row: nil, string, bool, int,
// int64, float64 or time.Time.
type Getter func(name string) any

// FilterOptions tune the parser to one service's dialect.
type FilterOptions struct {
	// Functions lists the allowed function names (startswith, endswith,
	// contains). Any other function is an *UnsupportedError.
	Functions []string
}

// maxDepth bounds expression nesting so hostile input cannot exhaust the stack.
const maxDepth = 64

// maxFilterLen bounds the length of an expression.
const maxFilterLen = 32 << 10

// Filter is a parsed, type-checked $filter expression.
type Filter struct {
	src  string
	root node
}

// String returns the source text.
func (f *Filter) String() string { return f.src }

// Match reports whether the row get reads satisfies the expression.
func (f *Filter) Match(get Getter) bool { return f.root.eval(get) }

// SyntaxError is a $filter (or $orderby, $select, $expand) that does not parse.
type SyntaxError struct {
	Src    string
	Pos    int // 0-based byte offset
	Reason string
}

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("Syntax error at position %d in '%s': %s.", e.Pos, e.Src, e.Reason)
}

// UnknownPropertyError names a property the resource does not have.
type UnknownPropertyError struct{ Name string }

func (e *UnknownPropertyError) Error() string {
	return fmt.Sprintf("could not find a property named '%s'", e.Name)
}

// TypeError is a binary operator applied to incompatible operand types.
type TypeError struct {
	Left, Right Type
	Op          string // eq, ne, gt, ge, lt, le
}

func (e *TypeError) Error() string {
	return fmt.Sprintf("A binary operator with incompatible types was detected. Found operand types '%s' and '%s' for operator kind '%s'.",
		e.Left.EdmName(), e.Right.EdmName(), opKind(e.Op))
}

// FunctionArgError is a known function called with arguments of the wrong kind.
type FunctionArgError struct{ Func string }

func (e *FunctionArgError) Error() string {
	return fmt.Sprintf("No function signature for the function with name '%s' matches the specified arguments. The function signatures considered are: %s(Edm.String Nullable=true, Edm.String Nullable=true).", e.Func, e.Func)
}

// UnsupportedError is valid OData the emulated service does not accept.
type UnsupportedError struct{ What string }

func (e *UnsupportedError) Error() string { return e.What + " is not supported" }

func opKind(op string) string {
	switch op {
	case "eq":
		return "Equal"
	case "ne":
		return "NotEqual"
	case "gt":
		return "GreaterThan"
	case "ge":
		return "GreaterThanOrEqual"
	case "lt":
		return "LessThan"
	case "le":
		return "LessThanOrEqual"
	}
	return op
}

// ParseFilter parses and type-checks src against the resource resolve describes.
func ParseFilter(src string, resolve Resolver, opts FilterOptions) (*Filter, error) {
	if len(src) > maxFilterLen {
		return nil, &SyntaxError{Src: src[:64] + "…", Pos: maxFilterLen, Reason: "expression too long"}
	}
	toks, err := lex(src)
	if err != nil {
		return nil, err
	}
	p := &parser{src: src, toks: toks, resolve: resolve, funcs: opts.Functions}
	root, err := p.parseOr(0)
	if err != nil {
		return nil, err
	}
	if t := p.peek(); t.kind != tkEOF {
		return nil, p.syntax(t.pos, "unexpected '"+t.text+"'")
	}
	return &Filter{src: src, root: root}, nil
}

// ---- lexer ----

type tokKind int

const (
	tkEOF tokKind = iota
	tkLParen
	tkRParen
	tkComma
	tkString
	tkInt
	tkFloat
	tkGUID
	tkDateTime
	tkIdent
)

type token struct {
	kind tokKind
	text string // raw text; for strings the unescaped value
	pos  int
}

var (
	guidRE     = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}`)
	dateTimeRE = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,7})?)?(Z|[+-]\d{2}:\d{2})?)?`)
	numberRE   = regexp.MustCompile(`^-?\d+(\.\d+)?([eE][+-]?\d+)?`)
)

func isIdentStart(c byte) bool {
	return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
}

func isIdentChar(c byte) bool {
	return isIdentStart(c) || (c >= '0' && c <= '9') || c == '.' || c == '/'
}

func lex(src string) ([]token, error) {
	var toks []token
	i := 0
	for {
		for i < len(src) && (src[i] == ' ' || src[i] == '\t' || src[i] == '\n' || src[i] == '\r') {
			i++
		}
		if i >= len(src) {
			toks = append(toks, token{kind: tkEOF, pos: i})
			return toks, nil
		}
		c := src[i]
		rest := src[i:]
		switch {
		case c == '(':
			toks = append(toks, token{kind: tkLParen, text: "(", pos: i})
			i++
		case c == ')':
			toks = append(toks, token{kind: tkRParen, text: ")", pos: i})
			i++
		case c == ',':
			toks = append(toks, token{kind: tkComma, text: ",", pos: i})
			i++
		case c == '\'':
			var b strings.Builder
			j := i + 1
			closed := false
			for j < len(src) {
				if src[j] == '\'' {
					if j+1 < len(src) && src[j+1] == '\'' {
						b.WriteByte('\'')
						j += 2
						continue
					}
					closed = true
					j++
					break
				}
				b.WriteByte(src[j])
				j++
			}
			if !closed {
				return nil, &SyntaxError{Src: src, Pos: i, Reason: "unterminated string literal"}
			}
			toks = append(toks, token{kind: tkString, text: b.String(), pos: i})
			i = j
		case boundary(rest, guidRE):
			m := guidRE.FindString(rest)
			toks = append(toks, token{kind: tkGUID, text: m, pos: i})
			i += len(m)
		case c >= '0' && c <= '9' && boundary(rest, dateTimeRE) && strings.Contains(dateTimeRE.FindString(rest), "-"):
			m := dateTimeRE.FindString(rest)
			toks = append(toks, token{kind: tkDateTime, text: m, pos: i})
			i += len(m)
		case (c >= '0' && c <= '9') || (c == '-' && len(rest) > 1 && rest[1] >= '0' && rest[1] <= '9'):
			m := numberRE.FindString(rest)
			if m == "" || (len(rest) > len(m) && isIdentChar(rest[len(m)])) {
				return nil, &SyntaxError{Src: src, Pos: i, Reason: "malformed number"}
			}
			kind := tkInt
			if strings.ContainsAny(m, ".eE") {
				kind = tkFloat
			}
			toks = append(toks, token{kind: kind, text: m, pos: i})
			i += len(m)
		case isIdentStart(c):
			j := i + 1
			for j < len(src) && isIdentChar(src[j]) {
				j++
			}
			if w := src[i:j]; (strings.HasSuffix(w, "/any") || strings.HasSuffix(w, "/all")) && j < len(src) && src[j] == '(' {
				return nil, &UnsupportedError{What: "the lambda operator in '" + w + "'"}
			}
			toks = append(toks, token{kind: tkIdent, text: src[i:j], pos: i})
			i = j
		default:
			r, _ := utf8.DecodeRuneInString(rest)
			return nil, &SyntaxError{Src: src, Pos: i, Reason: fmt.Sprintf("unexpected character %q", r)}
		}
	}
}

// boundary reports whether re matches at the start of s and is not followed
// by an identifier character (so a GUID is not the head of a longer word).
func boundary(s string, re *regexp.Regexp) bool {
	m := re.FindString(s)
	if m == "" {
		return false
	}
	return len(s) == len(m) || !isIdentChar(s[len(m)])
}

// ---- parser ----

type parser struct {
	src     string
	toks    []token
	i       int
	resolve Resolver
	funcs   []string
}

func (p *parser) peek() token { return p.toks[p.i] }

func (p *parser) next() token {
	t := p.toks[p.i]
	if t.kind != tkEOF {
		p.i++
	}
	return t
}

func (p *parser) syntax(pos int, reason string) error {
	return &SyntaxError{Src: p.src, Pos: pos, Reason: reason}
}

func (p *parser) isKeyword(word string) bool {
	t := p.peek()
	return t.kind == tkIdent && t.text == word
}

func (p *parser) parseOr(depth int) (node, error) {
	if depth > maxDepth {
		return nil, p.syntax(p.peek().pos, "expression nested too deeply")
	}
	l, err := p.parseAnd(depth)
	if err != nil {
		return nil, err
	}
	for p.isKeyword("or") {
		p.next()
		r, err := p.parseAnd(depth)
		if err != nil {
			return nil, err
		}
		l = orNode{l, r}
	}
	return l, nil
}

func (p *parser) parseAnd(depth int) (node, error) {
	l, err := p.parseUnary(depth)
	if err != nil {
		return nil, err
	}
	for p.isKeyword("and") {
		p.next()
		r, err := p.parseUnary(depth)
		if err != nil {
			return nil, err
		}
		l = andNode{l, r}
	}
	return l, nil
}

func (p *parser) parseUnary(depth int) (node, error) {
	if depth > maxDepth {
		return nil, p.syntax(p.peek().pos, "expression nested too deeply")
	}
	if p.isKeyword("not") {
		p.next()
		x, err := p.parseUnary(depth + 1)
		if err != nil {
			return nil, err
		}
		return notNode{x}, nil
	}
	return p.parsePrimary(depth)
}

var comparisonOps = []string{"eq", "ne", "gt", "ge", "lt", "le"}

func (p *parser) parsePrimary(depth int) (node, error) {
	t := p.peek()
	if t.kind == tkLParen {
		p.next()
		x, err := p.parseOr(depth + 1)
		if err != nil {
			return nil, err
		}
		if c := p.next(); c.kind != tkRParen {
			return nil, p.syntax(c.pos, "')' expected")
		}
		return x, nil
	}
	l, err := p.parseOperand()
	if err != nil {
		return nil, err
	}
	if op := p.peek(); op.kind == tkIdent && slices.Contains(comparisonOps, op.text) {
		p.next()
		r, err := p.parseOperand()
		if err != nil {
			return nil, err
		}
		lt, rt := l.typ(), r.typ()
		if !(lt == Null || rt == Null || lt == rt || (lt.numeric() && rt.numeric())) {
			return nil, &TypeError{Left: lt, Right: rt, Op: op.text}
		}
		return cmpNode{op: op.text, l: l, r: r}, nil
	}
	if op := p.peek(); op.kind == tkIdent && (op.text == "has" || op.text == "in" || op.text == "add" || op.text == "sub" || op.text == "mul" || op.text == "div" || op.text == "mod") {
		return nil, &UnsupportedError{What: "the '" + op.text + "' operator"}
	}
	if l.typ() != Bool {
		return nil, p.syntax(p.peek().pos, "comparison operator expected")
	}
	return boolNode{l}, nil
}

func (p *parser) parseOperand() (operand, error) {
	t := p.next()
	switch t.kind {
	case tkString:
		return literal{t: String, v: t.text}, nil
	case tkGUID:
		return literal{t: GUID, v: strings.ToLower(t.text)}, nil
	case tkInt:
		n, err := strconv.ParseInt(t.text, 10, 64)
		if err != nil {
			return nil, p.syntax(t.pos, "integer out of range")
		}
		return literal{t: Int, v: n}, nil
	case tkFloat:
		f, err := strconv.ParseFloat(t.text, 64)
		if err != nil {
			return nil, p.syntax(t.pos, "malformed number")
		}
		return literal{t: Float, v: f}, nil
	case tkDateTime:
		v, err := parseDateTime(t.text)
		if err != nil {
			return nil, p.syntax(t.pos, "malformed date/time literal")
		}
		return literal{t: DateTime, v: v}, nil
	case tkIdent:
		switch t.text {
		case "null":
			return literal{t: Null}, nil
		case "true":
			return literal{t: Bool, v: true}, nil
		case "false":
			return literal{t: Bool, v: false}, nil
		}
		if p.peek().kind == tkLParen {
			return p.parseCall(t)
		}
		typ, ok := p.resolve(t.text)
		if !ok {
			return nil, &UnknownPropertyError{Name: t.text}
		}
		return property{name: t.text, t: typ}, nil
	case tkEOF:
		return nil, p.syntax(t.pos, "operand expected at end of expression")
	default:
		return nil, p.syntax(t.pos, "operand expected, found '"+t.text+"'")
	}
}

func (p *parser) parseCall(name token) (operand, error) {
	fn := name.text
	if !slices.Contains(p.funcs, fn) {
		return nil, &UnsupportedError{What: "the function '" + fn + "'"}
	}
	p.next() // (
	var args []operand
	for {
		a, err := p.parseOperand()
		if err != nil {
			return nil, err
		}
		args = append(args, a)
		t := p.next()
		if t.kind == tkRParen {
			break
		}
		if t.kind != tkComma {
			return nil, p.syntax(t.pos, "',' or ')' expected")
		}
	}
	if len(args) != 2 {
		return nil, &FunctionArgError{Func: fn}
	}
	prop, ok := args[0].(property)
	lit, ok2 := args[1].(literal)
	if !ok || !ok2 || prop.t != String || lit.t != String {
		return nil, &FunctionArgError{Func: fn}
	}
	return call{fn: fn, prop: prop, arg: lit.v.(string)}, nil
}

func parseDateTime(s string) (time.Time, error) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02T15:04", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("bad date %q", s)
}

// ---- evaluation ----

type node interface{ eval(Getter) bool }

type operand interface {
	typ() Type
	value(Getter) any
}

type orNode struct{ l, r node }
type andNode struct{ l, r node }
type notNode struct{ x node }
type boolNode struct{ x operand }
type cmpNode struct {
	op   string
	l, r operand
}

func (n orNode) eval(g Getter) bool  { return n.l.eval(g) || n.r.eval(g) }
func (n andNode) eval(g Getter) bool { return n.l.eval(g) && n.r.eval(g) }
func (n notNode) eval(g Getter) bool { return !n.x.eval(g) }
func (n boolNode) eval(g Getter) bool {
	b, _ := n.x.value(g).(bool)
	return b
}

func (n cmpNode) eval(g Getter) bool {
	a, b := normalize(n.l.value(g)), normalize(n.r.value(g))
	switch n.op {
	case "eq":
		return equal(a, b)
	case "ne":
		return !equal(a, b)
	}
	c, ok := Compare(a, b)
	if !ok {
		return false
	}
	switch n.op {
	case "gt":
		return c > 0
	case "ge":
		return c >= 0
	case "lt":
		return c < 0
	case "le":
		return c <= 0
	}
	return false
}

type literal struct {
	t Type
	v any
}

func (l literal) typ() Type        { return l.t }
func (l literal) value(Getter) any { return l.v }

type property struct {
	name string
	t    Type
}

func (p property) typ() Type          { return p.t }
func (p property) value(g Getter) any { return g(p.name) }

type call struct {
	fn   string
	prop property
	arg  string
}

func (c call) typ() Type { return Bool }
func (c call) value(g Getter) any {
	s, ok := normalize(g(c.prop.name)).(string)
	if !ok {
		return false
	}
	s, arg := strings.ToLower(s), strings.ToLower(c.arg)
	switch c.fn {
	case "startswith":
		return strings.HasPrefix(s, arg)
	case "endswith":
		return strings.HasSuffix(s, arg)
	case "contains":
		return strings.Contains(s, arg)
	}
	return false
}

// normalize maps the value kinds a Getter may return onto string, bool,
// float64, time.Time or nil.
func normalize(v any) any {
	switch x := v.(type) {
	case int:
		return float64(x)
	case int32:
		return float64(x)
	case int64:
		return float64(x)
	case float32:
		return float64(x)
	case *string:
		if x == nil {
			return nil
		}
		return *x
	}
	return v
}

func equal(a, b any) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	c, ok := Compare(a, b)
	return ok && c == 0
}

// Compare orders two non-null values of the same kind: strings compare
// case-insensitively (as Dataverse's collation does), false sorts before
// true. ok is false when the values cannot be compared.
func Compare(a, b any) (c int, ok bool) {
	a, b = normalize(a), normalize(b)
	switch x := a.(type) {
	case string:
		y, ok := b.(string)
		if !ok {
			return 0, false
		}
		return strings.Compare(strings.ToLower(x), strings.ToLower(y)), true
	case float64:
		y, ok := b.(float64)
		if !ok {
			return 0, false
		}
		switch {
		case x < y:
			return -1, true
		case x > y:
			return 1, true
		}
		return 0, true
	case bool:
		y, ok := b.(bool)
		if !ok {
			return 0, false
		}
		switch {
		case x == y:
			return 0, true
		case !x:
			return -1, true
		}
		return 1, true
	case time.Time:
		y, ok := b.(time.Time)
		if !ok {
			return 0, false
		}
		return x.Compare(y), true
	}
	return 0, false
}

// NullTestsOnly reports whether the expression reads property name only to
// compare it with null (name eq null, name ne null): then whether a row
// matches depends on whether the value is null, not on the value.
func (f *Filter) NullTestsOnly(name string) bool { return nullTestsOnly(f.root, name) }

func nullTestsOnly(n node, name string) bool {
	switch x := n.(type) {
	case orNode:
		return nullTestsOnly(x.l, name) && nullTestsOnly(x.r, name)
	case andNode:
		return nullTestsOnly(x.l, name) && nullTestsOnly(x.r, name)
	case notNode:
		return nullTestsOnly(x.x, name)
	case boolNode:
		return !reads(x.x, name)
	case cmpNode:
		if x.op == "eq" || x.op == "ne" {
			if p, ok := x.l.(property); ok && p.name == name && isNull(x.r) {
				return true
			}
			if p, ok := x.r.(property); ok && p.name == name && isNull(x.l) {
				return true
			}
		}
		return !reads(x.l, name) && !reads(x.r, name)
	}
	return false
}

func isNull(o operand) bool {
	l, ok := o.(literal)
	return ok && l.v == nil
}

// reads reports whether an operand may read property name.
func reads(o operand, name string) bool {
	switch x := o.(type) {
	case literal:
		return false
	case property:
		return x.name == name
	case call:
		return x.prop.name == name
	}
	return true
}
