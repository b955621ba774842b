package securitydoc

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

// HeldBy is the header of the column that names a claim's tests.
const HeldBy = "Held by"

// Ref is one reference to a test: `Dir` Test, Dir relative to the
// repository root.
type Ref struct {
	Line int
	Dir  string
	Test string
}

func (r Ref) String() string { return fmt.Sprintf("`%s` %s", r.Dir, r.Test) }

// Problem is something wrong with the page, at a line.
type Problem struct {
	Line int
	Text string
}

func (p Problem) String() string { return fmt.Sprintf("docs/security.md:%d: %s", p.Line, p.Text) }

// refRE matches a reference anywhere in the page: a repository directory
// in backticks, a space, a test, fuzz, benchmark or example function name.
var refRE = regexp.MustCompile("`((?:internal|collectors|cmd|report|policies|deploy)(?:/[A-Za-z0-9_.-]+)*)` ((?:Test|Fuzz|Benchmark|Example)[A-Za-z0-9_]*)")

// cellRE is a whole "Held by" cell: references separated by semicolons.
var cellRE = regexp.MustCompile("^" + refRE.String() + "(?:; " + refRE.String() + ")*$")

// Parse reads a Markdown page and returns every test reference in it, and
// the problems of its "Held by" columns: a cell that is not a list of
// references ("`dir` TestA; `dir` TestB"). Every claim names its tests.
func Parse(md string) ([]Ref, []Problem) {
	var (
		refs     []Ref
		problems []Problem
		heldBy   = -1 // the column of the current table, -1 when none
		fence    bool
	)
	for i, line := range strings.Split(md, "\n") {
		n := i + 1
		trimmed := strings.TrimSpace(line)
		if strings.HasPrefix(trimmed, "```") {
			fence = !fence
			continue
		}
		if fence {
			continue
		}
		for _, m := range refRE.FindAllStringSubmatch(line, -1) {
			refs = append(refs, Ref{Line: n, Dir: m[1], Test: m[2]})
		}
		if headingLevel(trimmed) > 0 {
			heldBy = -1
			continue
		}
		if !strings.HasPrefix(trimmed, "|") {
			heldBy = -1
			continue
		}
		cells := splitRow(trimmed)
		if heldBy < 0 {
			// A table's first row is its header.
			heldBy = -2
			for k, c := range cells {
				if c == HeldBy {
					heldBy = k
				}
			}
			continue
		}
		if heldBy == -2 || isDelimiterRow(cells) {
			continue
		}
		if heldBy >= len(cells) {
			problems = append(problems, Problem{n, "the row has no " + HeldBy + " cell"})
			continue
		}
		cell := cells[heldBy]
		switch {
		case cell == "":
			problems = append(problems, Problem{n, "the claim names no test"})
		case !cellRE.MatchString(cell):
			problems = append(problems, Problem{n, fmt.Sprintf("%s cell %q is not a list of `dir` TestName separated by \"; \"", HeldBy, cell)})
		}
	}
	return refs, problems
}

func headingLevel(line string) int {
	level := 0
	for level < len(line) && line[level] == '#' {
		level++
	}
	if level == 0 || level > 6 || level == len(line) || line[level] != ' ' {
		return 0
	}
	return level
}

// splitRow splits a table row into its trimmed cells; a backslash-escaped
// pipe stays in its cell.
func splitRow(row string) []string {
	row = strings.TrimSuffix(strings.TrimPrefix(row, "|"), "|")
	var cells []string
	var cur strings.Builder
	for i := 0; i < len(row); i++ {
		switch {
		case row[i] == '\\' && i+1 < len(row) && row[i+1] == '|':
			cur.WriteByte('|')
			i++
		case row[i] == '|':
			cells = append(cells, strings.TrimSpace(cur.String()))
			cur.Reset()
		default:
			cur.WriteByte(row[i])
		}
	}
	return append(cells, strings.TrimSpace(cur.String()))
}

func isDelimiterRow(cells []string) bool {
	for _, c := range cells {
		if strings.Trim(c, ":-") != "" || c == "" {
			return false
		}
	}
	return true
}

// Resolve finds each reference's function among the _test.go files of its
// directory below root, and returns a problem for every one that is not
// there: a missing directory, or no top-level function of that name.
func Resolve(root string, refs []Ref) ([]Problem, error) {
	funcs := map[string]map[string]bool{} // dir → test functions
	var problems []Problem
	for _, r := range refs {
		fs, ok := funcs[r.Dir]
		if !ok {
			var err error
			fs, err = testFuncs(filepath.Join(root, filepath.FromSlash(r.Dir)))
			if err != nil {
				return nil, err
			}
			funcs[r.Dir] = fs
		}
		switch {
		case fs == nil:
			problems = append(problems, Problem{r.Line, fmt.Sprintf("%s: no directory %s with Go tests", r, r.Dir)})
		case !fs[r.Test]:
			problems = append(problems, Problem{r.Line, fmt.Sprintf("%s: %s has no test function %s", r, r.Dir, r.Test)})
		}
	}
	return problems, nil
}

// testFuncs returns the top-level functions of dir's _test.go files, nil
// when dir does not exist or has none.
func testFuncs(dir string) (map[string]bool, error) {
	entries, err := os.ReadDir(dir)
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out map[string]bool
	fset := token.NewFileSet()
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, filepath.Join(dir, e.Name()), nil, parser.SkipObjectResolution)
		if err != nil {
			return nil, fmt.Errorf("parse %s: %w", filepath.Join(dir, e.Name()), err)
		}
		if out == nil {
			out = map[string]bool{}
		}
		for _, d := range f.Decls {
			if fd, ok := d.(*ast.FuncDecl); ok && fd.Recv == nil {
				out[fd.Name.Name] = true
			}
		}
	}
	return out, nil
}
