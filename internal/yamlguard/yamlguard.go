// Package yamlguard bounds what decoding an untrusted YAML document may
// cost, so that neither tenants.yaml nor an emulator scenario can exhaust
// memory, hang the process or crash it inside go-yaml.
//
// Check looks at a document before it is decoded: its size, how deeply its
// collections nest (counted through aliases), how many keys one mapping
// and how many documents the stream holds, how many nodes and how much
// scalar text it holds once every alias is written out (an alias bomb
// stops here), and whether it uses tags, which go-yaml v1.19 can panic on
// and neither file needs. It reads the document with go-yaml's own scanner
// and parser, so it sees what the decoder will see. Nesting, keys and
// documents are bounded from the token stream before the parser runs,
// because the parser's time and memory grow with the square of each. A
// document that does not parse passes Check: the caller's decoder then
// reports the syntax error in its usual words.
//
// Run calls the decoder in its own goroutine and returns when it does, when
// the context is done or when the time bound passes, turning a panic into
// an error. An abandoned decoder runs on in the background, but Check has
// bounded the work it can still do. Decode runs Check and the decoder that
// way.
//
// No message repeats a value from the document: a secret pasted in the
// wrong place must not reach a log.
package yamlguard

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"time"

	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/lexer"
	"github.com/goccy/go-yaml/parser"
	"github.com/goccy/go-yaml/token"
)

// Limits bound one YAML file. A zero field takes its value from Default.
type Limits struct {
	// MaxBytes is the largest document accepted, and also the most scalar
	// text it may hold once aliases are expanded: an alias never makes a
	// document hold more text than a file could.
	MaxBytes int
	// MaxDepth is how deeply collections may nest; an alias counts as the
	// collections it stands for.
	MaxDepth int
	// MaxKeys is how many keys one mapping may hold: go-yaml v1.19's
	// parser takes time and memory that grow with the square of it.
	MaxKeys int
	// MaxDocuments is how many documents the file may hold, for the same
	// reason.
	MaxDocuments int
	// MaxNodes is how many YAML nodes (scalars and collections) the
	// document may hold once aliases are expanded.
	MaxNodes int
	// Timeout bounds how long Run waits for the decoder.
	Timeout time.Duration
}

// Default is the limits both teamslink inputs use: far more than a fleet
// of thousands of tenants or the largest scenario needs, far less than
// what would hurt.
var Default = Limits{
	MaxBytes:     1 << 20,
	MaxDepth:     32,
	MaxKeys:      500,
	MaxDocuments: 16,
	MaxNodes:     250_000,
	Timeout:      10 * time.Second,
}

func (l Limits) orDefault() Limits {
	if l.MaxBytes <= 0 {
		l.MaxBytes = Default.MaxBytes
	}
	if l.MaxDepth <= 0 {
		l.MaxDepth = Default.MaxDepth
	}
	if l.MaxKeys <= 0 {
		l.MaxKeys = Default.MaxKeys
	}
	if l.MaxDocuments <= 0 {
		l.MaxDocuments = Default.MaxDocuments
	}
	if l.MaxNodes <= 0 {
		l.MaxNodes = Default.MaxNodes
	}
	if l.Timeout <= 0 {
		l.Timeout = Default.Timeout
	}
	return l
}

// The kinds of *Error, for errors.Is.
var (
	ErrTooLarge = errors.New("yaml document too large")
	ErrTooDeep  = errors.New("yaml nested too deeply")
	ErrTooMany  = errors.New("yaml document expands too far")
	ErrAlias    = errors.New("yaml alias not usable")
	ErrTag      = errors.New("yaml tag not supported")
	ErrTimeout  = errors.New("yaml decoding timed out")
	ErrPanic    = errors.New("yaml library failure")
)

// Error is a document the guard refused, or a decoder failure it caught.
type Error struct {
	// Line is where the problem is, 0 when it is the whole document.
	Line int
	// Message says what is wrong without quoting the document.
	Message string
	// Kind is one of the Err* values above.
	Kind error
}

// Error formats as "line N: message", or the message alone without a line.
func (e *Error) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("line %d: %s", e.Line, e.Message)
	}
	return e.Message
}

// Unwrap returns the kind, so errors.Is(err, ErrTooDeep) works.
func (e *Error) Unwrap() error { return e.Kind }

// Decode checks data and, if it passes, calls decode, both under Run.
func (l Limits) Decode(ctx context.Context, data []byte, decode func() error) error {
	return l.Run(ctx, func() error {
		if err := l.Check(data); err != nil {
			return err
		}
		return decode()
	})
}

// Check returns an *Error when decoding data could cost more than l
// allows, or uses a tag; nil otherwise, also when data is not valid YAML.
func (l Limits) Check(data []byte) (err error) {
	l = l.orDefault()
	if len(data) > l.MaxBytes {
		return &Error{Kind: ErrTooLarge, Message: fmt.Sprintf("larger than %s, the limit for this file", size(l.MaxBytes))}
	}
	defer func() {
		if r := recover(); r != nil {
			err = panicError("the YAML parser", r)
		}
	}()
	tokens := lexer.Tokenize(string(data))
	if err := l.checkTokens(tokens); err != nil {
		return err
	}
	file, perr := parser.Parse(tokens, 0)
	if perr != nil {
		return nil // the caller's decoder reports it
	}
	if len(file.Docs) > l.MaxDocuments {
		d, ln := file.Docs[l.MaxDocuments], 0
		switch {
		case d.Start != nil && d.Start.Position != nil:
			ln = d.Start.Position.Line
		case d.Body != nil:
			ln = line(d.Body)
		}
		return tooManyDocs(ln, l.MaxDocuments)
	}
	w := &walker{lim: l, anchors: map[string]*anchor{}}
	for _, doc := range file.Docs {
		if _, err := w.walk(doc.Body, 0); err != nil {
			return err
		}
	}
	return nil
}

// checkTokens refuses tags and bounds nesting, the keys of a mapping and
// the documents of the stream before the parser runs. The depth of block
// collections is read from indentation: a key or "-" to the right of the
// one above opens a level, and so does a "-" in the column of the key whose
// value it is; a key in the column of its level adds to that mapping. Flow
// collections count their brackets, flow mappings their commas. The counts
// can be off by one here and there, never by a factor: the walk over the
// parsed document checks depth and keys exactly. Scalars and flow
// collections are counted as nodes, never more than the walk will count,
// so that a document with too many is refused before it is parsed.
func (l Limits) checkTokens(tokens token.Tokens) error {
	type level struct {
		col     int
		seq     bool
		entries int // keys of a mapping
	}
	var (
		block, flow []level
		docs, nodes int
		inDoc       bool
		prev        *token.Token // the last token that is not a comment
	)
	for _, tk := range tokens {
		line := 0
		if tk.Position != nil {
			line = tk.Position.Line
		}
		switch tk.Type {
		case token.CommentType:
		case token.DocumentHeaderType:
			block, flow, inDoc = block[:0], flow[:0], false
		case token.DocumentEndType:
			block, flow, inDoc = block[:0], flow[:0], false
			continue
		}
		if tk.Type != token.CommentType && !inDoc {
			inDoc, docs = true, docs+1
			if docs > l.MaxDocuments {
				return tooManyDocs(line, l.MaxDocuments)
			}
		}
		if scalarTokens[tk.Type] || tk.Type == token.SequenceStartType || tk.Type == token.MappingStartType {
			// The name after & or * is not a node of its own.
			if prev == nil || (prev.Type != token.AnchorType && prev.Type != token.AliasType) {
				if nodes++; nodes > l.MaxNodes {
					return &Error{Line: line, Kind: ErrTooMany, Message: fmt.Sprintf("more than %d YAML nodes", l.MaxNodes)}
				}
			}
		}
		switch tk.Type {
		case token.TagType:
			return &Error{Line: line, Kind: ErrTag, Message: "YAML tags (!name, !!type) are not supported in this file"}
		case token.SequenceStartType, token.MappingStartType:
			flow = append(flow, level{seq: tk.Type == token.SequenceStartType, entries: 1})
		case token.SequenceEndType, token.MappingEndType:
			if len(flow) > 0 {
				flow = flow[:len(flow)-1]
			}
		case token.CollectEntryType:
			if n := len(flow); n > 0 && !flow[n-1].seq {
				if flow[n-1].entries++; flow[n-1].entries > l.MaxKeys {
					return tooManyKeys(line, l.MaxKeys)
				}
			}
		case token.SequenceEntryType, token.MappingKeyType, token.MappingValueType:
			if len(flow) > 0 || tk.Position == nil {
				break
			}
			col, seq := tk.Position.Column, tk.Type == token.SequenceEntryType
			// A key: "?", or the token before ":" on its line.
			key := tk.Type == token.MappingKeyType
			if tk.Type == token.MappingValueType && prev != nil && prev.Position != nil && prev.Position.Line == line {
				col, key = prev.Position.Column, prev.Type != token.MappingKeyType
			}
			for len(block) > 0 && block[len(block)-1].col > col {
				block = block[:len(block)-1]
			}
			if n := len(block); n > 0 && block[n-1].col == col && block[n-1].seq && !seq {
				block = block[:n-1] // a key after the list that was its sibling's value
			}
			if n := len(block); n == 0 || block[n-1].col < col || block[n-1].seq != seq {
				block = append(block, level{col: col, seq: seq})
			}
			if top := &block[len(block)-1]; key {
				if top.entries++; top.entries > l.MaxKeys {
					return tooManyKeys(line, l.MaxKeys)
				}
			}
		}
		if tk.Type != token.CommentType {
			prev = tk
		}
		if len(block)+len(flow) > l.MaxDepth {
			return tooDeep(line, l.MaxDepth)
		}
	}
	return nil
}

// scalarTokens are the token types that are each one scalar node.
var scalarTokens = map[token.Type]bool{
	token.StringType: true, token.SingleQuoteType: true, token.DoubleQuoteType: true,
	token.IntegerType: true, token.BinaryIntegerType: true, token.OctetIntegerType: true,
	token.HexIntegerType: true, token.FloatType: true, token.BoolType: true,
	token.NullType: true, token.InfinityType: true, token.NanType: true,
}

func tooDeep(line, max int) error {
	return &Error{Line: line, Kind: ErrTooDeep, Message: fmt.Sprintf("nested more than %d levels deep", max)}
}

func tooManyKeys(line, max int) error {
	return &Error{Line: line, Kind: ErrTooMany, Message: fmt.Sprintf("a mapping of more than %d keys", max)}
}

func tooManyDocs(line, max int) error {
	return &Error{Line: line, Kind: ErrTooMany, Message: fmt.Sprintf("more than %d YAML documents", max)}
}

// anchor is what an alias to it expands to.
type anchor struct {
	done   bool // false while its own value is walked
	nodes  int
	bytes  int
	height int // collections nested in it, itself included
}

// walker totals the document as the decoder will see it, aliases written
// out.
type walker struct {
	lim     Limits
	anchors map[string]*anchor
	nodes   int
	bytes   int
}

// walk visits n, whose parent collections number depth, and returns the
// height of n: how many collections nest in it, itself included.
func (w *walker) walk(n ast.Node, depth int) (int, error) {
	switch n := n.(type) {
	case nil:
		return 0, nil
	case *ast.MappingNode:
		if err := w.collection(n, depth); err != nil {
			return 0, err
		}
		if len(n.Values) > w.lim.MaxKeys {
			return 0, tooManyKeys(line(n.Values[w.lim.MaxKeys]), w.lim.MaxKeys)
		}
		h := 0
		for _, v := range n.Values {
			vh, err := w.walk(v, depth+1)
			if err != nil {
				return 0, err
			}
			h = max(h, vh)
		}
		return h + 1, nil
	case *ast.SequenceNode:
		if err := w.collection(n, depth); err != nil {
			return 0, err
		}
		h := 0
		for _, v := range n.Values {
			vh, err := w.walk(v, depth+1)
			if err != nil {
				return 0, err
			}
			h = max(h, vh)
		}
		return h + 1, nil
	case *ast.MappingValueNode:
		kh, err := w.walk(n.Key, depth)
		if err != nil {
			return 0, err
		}
		vh, err := w.walk(n.Value, depth)
		return max(kh, vh), err
	case *ast.MappingKeyNode:
		return w.walk(n.Value, depth)
	case *ast.TagNode:
		return 0, &Error{Line: line(n), Kind: ErrTag, Message: "YAML tags (!name, !!type) are not supported in this file"}
	case *ast.AnchorNode:
		return w.anchor(n, depth)
	case *ast.AliasNode:
		return w.alias(n, depth)
	case *ast.LiteralNode:
		b := 0
		if n.Value != nil {
			b = len(n.Value.Value)
		}
		return 0, w.scalar(n, b)
	case *ast.StringNode:
		return 0, w.scalar(n, len(n.Value))
	default:
		// Other scalars (numbers, booleans, null, merge keys): their text
		// is the token's.
		b := 0
		if tk := n.GetToken(); tk != nil {
			b = len(tk.Value)
		}
		return 0, w.scalar(n, b)
	}
}

func (w *walker) collection(n ast.Node, depth int) error {
	if depth+1 > w.lim.MaxDepth {
		return tooDeep(line(n), w.lim.MaxDepth)
	}
	return w.add(n, 1, 0, false)
}

func (w *walker) scalar(n ast.Node, bytes int) error {
	return w.add(n, 1, bytes, false)
}

// add counts nodes and bytes at n, which is an alias when expanded is set.
func (w *walker) add(n ast.Node, nodes, bytes int, expanded bool) error {
	w.nodes += nodes
	w.bytes += bytes
	var msg string
	switch {
	case w.nodes > w.lim.MaxNodes && expanded:
		msg = fmt.Sprintf("expanding this alias takes the document past %d YAML nodes (an alias bomb?)", w.lim.MaxNodes)
	case w.bytes > w.lim.MaxBytes && expanded:
		msg = fmt.Sprintf("expanding this alias takes the document past %s of text (an alias bomb?)", size(w.lim.MaxBytes))
	case w.nodes > w.lim.MaxNodes:
		msg = fmt.Sprintf("more than %d YAML nodes", w.lim.MaxNodes)
	default:
		return nil
	}
	return &Error{Line: line(n), Kind: ErrTooMany, Message: msg}
}

// anchor walks an anchored value once and remembers what it expands to.
// A name defined twice is refused: go-yaml does not resolve every alias
// to the same one of the two.
func (w *walker) anchor(n *ast.AnchorNode, depth int) (int, error) {
	name := anchorName(n.Name)
	if _, dup := w.anchors[name]; dup {
		return 0, &Error{Line: line(n), Kind: ErrAlias, Message: "anchor name already defined earlier in the document; give each anchor its own name"}
	}
	a := &anchor{}
	w.anchors[name] = a
	nodes, bytes := w.nodes, w.bytes
	h, err := w.walk(n.Value, depth)
	if err != nil {
		return 0, err
	}
	a.done, a.nodes, a.bytes, a.height = true, w.nodes-nodes, w.bytes-bytes, h
	return h, nil
}

func (w *walker) alias(n *ast.AliasNode, depth int) (int, error) {
	a, ok := w.anchors[anchorName(n.Value)]
	switch {
	case !ok:
		return 0, &Error{Line: line(n), Kind: ErrAlias, Message: "alias refers to no anchor defined before it"}
	case !a.done:
		return 0, &Error{Line: line(n), Kind: ErrAlias, Message: "alias refers to an anchor that contains it (a recursive structure)"}
	case depth+a.height > w.lim.MaxDepth:
		return 0, tooDeep(line(n), w.lim.MaxDepth)
	}
	return a.height, w.add(n, a.nodes, a.bytes, true)
}

func anchorName(n ast.Node) string {
	if n == nil {
		return ""
	}
	if tk := n.GetToken(); tk != nil {
		return tk.Value
	}
	return n.String()
}

func line(n ast.Node) int {
	if tk := n.GetToken(); tk != nil && tk.Position != nil {
		return tk.Position.Line
	}
	return 0
}

// Run calls decode in its own goroutine and returns its error, ctx's error
// when ctx is done first, or an *Error of kind ErrTimeout when l.Timeout
// passes first. A panic in decode becomes an *Error of kind ErrPanic.
func (l Limits) Run(ctx context.Context, decode func() error) error {
	l = l.orDefault()
	if err := ctx.Err(); err != nil {
		return err
	}
	done := make(chan error, 1) // buffered: an abandoned decoder does not block
	go func() {
		defer func() {
			if r := recover(); r != nil {
				done <- panicError("the YAML decoder", r)
			}
		}()
		done <- decode()
	}()
	timer := time.NewTimer(l.Timeout)
	defer timer.Stop()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	case <-timer.C:
		return &Error{Kind: ErrTimeout, Message: fmt.Sprintf("decoding took longer than %v", l.Timeout)}
	}
}

// panicError describes a recovered panic. Only a runtime error's text is
// kept: any other panic value may quote the document.
func panicError(who string, r any) error {
	msg := who + " failed on this document"
	if re, ok := r.(runtime.Error); ok {
		msg += " (" + re.Error() + ")"
	}
	return &Error{Kind: ErrPanic, Message: msg}
}

// size formats a byte count as the limits are written: 1 MiB, 64 KiB.
func size(n int) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}
