package cli_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// clockOwner is the one file that may read the wall clock: it injects it into
// cli.Deps, and every package that stamps or compares times gets it from there.
const clockOwner = "cmd/teamslink/main.go"

// wallClockReads are the time package's functions that read the wall clock.
var wallClockReads = map[string]bool{"Now": true, "Since": true, "Until": true}

// TestOneClock fails when non-test code outside clockOwner reads the wall
// clock, so no output a test compares can depend on today's date.
func TestOneClock(t *testing.T) {
	t.Parallel()
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}").Output()
	if err != nil {
		t.Fatalf("go list -m: %v", err)
	}
	root := strings.TrimSpace(string(out))
	fset := token.NewFileSet()
	checked := 0
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if name := d.Name(); path != root && (strings.HasPrefix(name, ".") || name == "testdata" || name == "vendor") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		rel, _ := filepath.Rel(root, path)
		rel = filepath.ToSlash(rel)
		f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		checked++
		for _, pos := range wallClockCalls(f) {
			if rel != clockOwner {
				p := fset.Position(pos)
				t.Errorf("%s:%d reads the wall clock; take the injected clock (cli.Deps.Now, Options.Now) instead", rel, p.Line)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if checked < 50 {
		t.Fatalf("checked only %d files under %s; the walk is broken", checked, root)
	}
}

// wallClockCalls returns where f refers to time.Now, time.Since or
// time.Until, under whatever name it imports "time".
func wallClockCalls(f *ast.File) []token.Pos {
	name := ""
	for _, imp := range f.Imports {
		if p, _ := strconv.Unquote(imp.Path.Value); p == "time" {
			name = "time"
			if imp.Name != nil {
				name = imp.Name.Name
			}
		}
	}
	if name == "" || name == "_" {
		return nil
	}
	var found []token.Pos
	ast.Inspect(f, func(n ast.Node) bool {
		sel, ok := n.(*ast.SelectorExpr)
		if !ok {
			return true
		}
		if id, ok := sel.X.(*ast.Ident); ok && (id.Name == name || name == ".") && wallClockReads[sel.Sel.Name] {
			found = append(found, sel.Pos())
		}
		return true
	})
	return found
}

// TestWallClockCalls proves the detector sees each way of reaching the clock.
func TestWallClockCalls(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		src  string
		want int
	}{
		{"call", "package p\nimport \"time\"\nvar _ = time.Now()", 1},
		{"value", "package p\nimport \"time\"\nvar now = time.Now", 1},
		{"since and until", "package p\nimport \"time\"\nvar a, b = time.Since(time.Time{}), time.Until(time.Time{})", 2},
		{"renamed import", "package p\nimport clk \"time\"\nvar _ = clk.Now()", 1},
		{"injected clock", "package p\nimport \"time\"\ntype O struct{ Now func() time.Time }\nfunc f(o O) time.Time { return o.Now() }", 0},
		{"no time import", "package p\ntype t struct{}\nfunc (t) Now() {}\nvar time t\nfunc f() { time.Now() }", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f, err := parser.ParseFile(token.NewFileSet(), "p.go", tt.src, 0)
			if err != nil {
				t.Fatal(err)
			}
			if got := len(wallClockCalls(f)); got != tt.want {
				t.Errorf("found %d wall-clock reads, want %d", got, tt.want)
			}
		})
	}
}
