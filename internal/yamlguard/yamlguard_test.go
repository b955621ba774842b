package yamlguard

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/goccy/go-yaml"
)

// laughs is the billion-laughs alias bomb in block style: level i on line
// i+2 holds nine aliases of level i-1, so the last level expands to 9^levels
// scalars from about 50 bytes a line.
func laughs(levels int) string {
	var b strings.Builder
	b.WriteString("bomb:\n  - &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n")
	for i := 1; i < levels; i++ {
		fmt.Fprintf(&b, "  - &a%d [%s]\n", i, strings.TrimSuffix(strings.Repeat(fmt.Sprintf("*a%d, ", i-1), 9), ", "))
	}
	return b.String()
}

// manyKeys is one block mapping of n keys.
func manyKeys(n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "k%d: v\n", i)
	}
	return b.String()
}

// indented nests n block mappings, one a line, each two columns right of
// the one above.
func indented(n int) string {
	var b strings.Builder
	for i := range n {
		b.WriteString(strings.Repeat("  ", i) + "k:\n")
	}
	return b.String()
}

func TestCheck(t *testing.T) {
	t.Parallel()
	small := Limits{MaxBytes: 1 << 10, MaxDepth: 4, MaxNodes: 50}
	tests := []struct {
		name string
		lim  Limits
		doc  string
		kind error // nil: accepted
		line int
	}{
		{"plain document", Default, "tenants:\n  - id: x\n    environments: [{url: https://a}]\n", nil, 0},
		{"empty document", Default, "", nil, 0},
		{"syntax error left to the decoder", Default, "a: [\n", nil, 0},
		{"anchors and merge keys within budget", Default, "base: &b {x: 1, y: [1, 2]}\na: *b\nc:\n  <<: *b\n  z: 3\n", nil, 0},
		{"depth at the limit, flow", small, "a: [[[1]]]\n", nil, 0},
		{"depth past the limit, flow", small, "a: [[[[1]]]]\n", ErrTooDeep, 1},
		{"depth at the limit, block", small, indented(4), nil, 0},
		{"depth past the limit, block", small, indented(5), ErrTooDeep, 5},
		{"depth past the limit, list in the key's column", small, "a:\n- b:\n  - c:\n    - 1\n", ErrTooDeep, 3},
		{"depth past the limit, compact lists", small, "- - - - - x\n", ErrTooDeep, 1},
		{"depth past the limit through an alias", small, "a: &a [[1]]\nb: [[*a]]\n", ErrTooDeep, 2},
		{"deep flow nesting", Default, "a: " + strings.Repeat("[", 10_000) + strings.Repeat("]", 10_000) + "\n", ErrTooDeep, 1},
		{"deep block nesting", Default, indented(100), ErrTooDeep, 33},
		{"too large", small, strings.Repeat("#", 1<<10+1), ErrTooLarge, 0},
		{"too many nodes", small, "a: [" + strings.Repeat("1, ", 60) + "1]\n", ErrTooMany, 1},
		{"keys at the limit", Limits{MaxKeys: 3}, "a: 1\nb: 2\nc: {x: 1, y: 2, z: 3}\n", nil, 0},
		{"keys past the limit, block", Limits{MaxKeys: 3}, "a: 1\nb: 2\nc: 3\nd: 4\n", ErrTooMany, 4},
		{"keys past the limit, nested block", Limits{MaxKeys: 3}, "a:\n  b: 1\n  c:\n    - x\n  d: 2\n  e: 3\n", ErrTooMany, 6},
		{"keys past the limit, explicit", Limits{MaxKeys: 3}, "? a\n? b\n? c\n: 3\n? d\n", ErrTooMany, 5},
		{"keys past the limit, flow", Limits{MaxKeys: 3}, "a: {w: 1, x: 2, y: 3, z: 4}\n", ErrTooMany, 1},
		{"many keys whose parse takes the square of their number", Default, manyKeys(5_000), ErrTooMany, 501},
		{"documents at the limit", Limits{MaxDocuments: 3}, "a\n--- b\n--- c\n", nil, 0},
		{"documents past the limit", Limits{MaxDocuments: 3}, "a\n--- b\n...\n--- c\n--- d\n", ErrTooMany, 5},
		{"many documents", Default, strings.Repeat("--- x\n", 5_000), ErrTooMany, 17},
		{"nodes counted before parsing", Limits{MaxNodes: 100}, "a: " + strings.Repeat("[]", 200) + "\n", ErrTooMany, 1},
		{"local tag", Default, "tenants: !foo bar\n", ErrTag, 1},
		{"core tag", Default, "a: 1\nb: !!str 2\n", ErrTag, 2},
		{"alias bomb", Default, laughs(9), ErrTooMany, 7},
		{"text bomb", Default, "a: &a " + strings.Repeat("x", 64<<10) + "\nb: [" + strings.TrimSuffix(strings.Repeat("*a, ", 20), ", ") + "]\n", ErrTooMany, 2},
		{"alias without anchor", Default, "a: *nowhere\n", ErrAlias, 1},
		{"alias before its anchor", Default, "a: *b\nb: &b 1\n", ErrAlias, 1},
		{"recursive alias", Default, "a: &a [1, *a]\n", ErrAlias, 1},
		{"anchor defined twice", Default, "a: &a 1\nb: &a 2\nc: *a\n", ErrAlias, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := tt.lim.Check([]byte(tt.doc))
			if tt.kind == nil {
				if err != nil {
					t.Fatalf("Check = %v, want nil", err)
				}
				return
			}
			var ge *Error
			if !errors.As(err, &ge) || !errors.Is(err, tt.kind) {
				t.Fatalf("Check = %v, want an *Error of kind %v", err, tt.kind)
			}
			if ge.Line != tt.line {
				t.Fatalf("Check = %v, want it on line %d", err, tt.line)
			}
		})
	}
}

// TestCheckQuotesNothing: the value of a scalar, an alias or an anchor
// name can be a secret pasted in the wrong place; no message repeats it.
func TestCheckQuotesNothing(t *testing.T) {
	t.Parallel()
	const secret = "abc8Q~Zx9yW3vU7tS5rQ1pO-nM_lKjI2hG4fE6dC"
	docs := []string{
		"a: !" + secret + "\n",
		"a: *" + secret + "\n",
		"a: &" + secret + " [1, *" + secret + "]\n",
		"a: &" + secret + " 1\nb: &" + secret + " 2\n",
		"a: &x " + secret + strings.Repeat(".", 64<<10) + "\nb: [" + strings.Repeat("*x, ", 20) + "*x]\n",
		"a: " + strings.Repeat("[", 40) + secret + "\n",
	}
	for i, doc := range docs {
		err := Default.Check([]byte(doc))
		if err == nil {
			t.Errorf("doc %d accepted", i)
			continue
		}
		if strings.Contains(err.Error(), secret) {
			t.Errorf("doc %d: error repeats the value: %v", i, err)
		}
	}
}

func TestRun(t *testing.T) {
	t.Parallel()
	decodeErr := errors.New("decode failed")
	block := func(ctx context.Context) func() error {
		return func() error { <-ctx.Done(); return nil }
	}
	tests := []struct {
		name   string
		lim    Limits
		cancel time.Duration // cancel the context after this; 0 never, <0 before Run
		decode func(ctx context.Context) func() error
		want   error
		quoted string // must not appear in the message
	}{
		{"decoder's error returned", Default, 0, func(context.Context) func() error { return func() error { return decodeErr } }, decodeErr, ""},
		{"decoder's success returned", Default, 0, func(context.Context) func() error { return func() error { return nil } }, nil, ""},
		{"runtime panic becomes an error", Default, 0, func(context.Context) func() error {
			return func() error { var rows []int; at := len(os.Args) + 1; return errors.New(strconv.Itoa(rows[at])) }
		}, ErrPanic, ""},
		{"other panic value not quoted", Default, 0, func(context.Context) func() error {
			return func() error { panic("secret-value") }
		}, ErrPanic, "secret-value"},
		{"time bound", Limits{Timeout: 20 * time.Millisecond}, 0, block, ErrTimeout, ""},
		{"cancelled while decoding", Default, 20 * time.Millisecond, block, context.Canceled, ""},
		{"cancelled before", Default, -1, func(context.Context) func() error {
			return func() error { panic("decode called with a cancelled context") }
		}, context.Canceled, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			switch {
			case tt.cancel < 0:
				cancel()
			case tt.cancel > 0:
				time.AfterFunc(tt.cancel, cancel)
			}
			start := time.Now()
			// A blocked decoder is released when the test ends.
			err := tt.lim.Run(ctx, tt.decode(t.Context()))
			if !errors.Is(err, tt.want) || (tt.want == nil) != (err == nil) {
				t.Fatalf("Run = %v, want %v", err, tt.want)
			}
			if d := time.Since(start); d > 5*time.Second {
				t.Fatalf("Run took %v", d)
			}
			if tt.quoted != "" && strings.Contains(err.Error(), tt.quoted) {
				t.Fatalf("Run = %v, quotes the panic value", err)
			}
		})
	}
}

func TestDecode(t *testing.T) {
	t.Parallel()
	called := false
	err := Default.Decode(t.Context(), []byte("a: !foo [1]\n"), func() error { called = true; return nil })
	if !errors.Is(err, ErrTag) || called {
		t.Fatalf("Decode = %v (decoder called: %v), want ErrTag before decoding", err, called)
	}
	var v map[string]any
	if err := Default.Decode(t.Context(), []byte("a: [1]\n"), func() error { return yaml.Unmarshal([]byte("a: [1]\n"), &v) }); err != nil || len(v) != 1 {
		t.Fatalf("Decode = %v, %v", err, v)
	}
}

func TestSize(t *testing.T) {
	t.Parallel()
	for n, want := range map[int]string{1 << 20: "1 MiB", 64 << 10: "64 KiB", 1000: "1000 bytes", 3 << 19: "1536 KiB"} {
		if got := size(n); got != want {
			t.Errorf("size(%d) = %q, want %q", n, got, want)
		}
	}
}

// FuzzCheck: Check never panics, and go-yaml decodes what it accepts
// within the time bound without panicking. Run with:
//
//	go test ./internal/yamlguard -run '^$' -fuzz FuzzCheck -fuzztime 30s
func FuzzCheck(f *testing.F) {
	for _, seed := range []string{
		"tenants:\n  - id: x\n    environments: [{url: https://a}]\n",
		"base: &b {x: 1}\na: *b\nc: {<<: *b, z: 3}\n",
		"tenants: !foo bar\n",
		laughs(9),
		"a: " + strings.Repeat("[", 2_000) + "\n",
		indented(200),
		"- - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - x\n",
		"a: &a [1, *a]\n",
		manyKeys(600),
		strings.Repeat("--- x\n", 20),
		"a: *b\nb: &b 1\n",
		"--- a\n--- &x b\n--- *x\n",
		"? - a\n  - b\n: c\n",
		"a: |\n  text\n  more\nb: >-\n  folded\n",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if err := Default.Check(data); err != nil {
			var ge *Error
			if !errors.As(err, &ge) || ge.Message == "" {
				t.Fatalf("Check = %#v, want an *Error with a message", err)
			}
			return
		}
		var v any
		err := Default.Run(t.Context(), func() error { return yaml.Unmarshal(data, &v) })
		if errors.Is(err, ErrPanic) || errors.Is(err, ErrTimeout) {
			t.Fatalf("accepted document: %v", err)
		}
	})
}
