package securitydoc

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var repoRoot = filepath.Join("..", "..")

// TestSecurityDocReferences holds docs/security.md to the code: every
// `dir` TestName on the page names a function of that directory's tests,
// and every claim's "Held by" cell names tests.
func TestSecurityDocReferences(t *testing.T) {
	t.Parallel()
	md, err := os.ReadFile(filepath.Join(repoRoot, "docs", "security.md"))
	if err != nil {
		t.Fatal(err)
	}
	refs, problems := Parse(string(md))
	more, err := Resolve(repoRoot, refs)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range append(problems, more...) {
		t.Error(p)
	}
	// A page whose references stopped parsing must not pass for one
	// without problems.
	if len(refs) < 40 {
		t.Errorf("only %d test references in docs/security.md", len(refs))
	}
	if !strings.Contains(string(md), "| "+HeldBy+" |") {
		t.Errorf("docs/security.md has no %q column", HeldBy)
	}
}

func TestParse(t *testing.T) {
	t.Parallel()
	const head = "| claim | Held by |\n|---|---|\n"
	tests := []struct {
		name     string
		md       string
		refs     []string // Ref.String() of each
		problems []string // substrings, one per problem
	}{
		{name: "one reference", md: head + "| a | `internal/auth` TestA |\n", refs: []string{"`internal/auth` TestA"}},
		{name: "several", md: head + "| a | `internal/auth` TestA; `collectors/graph` FuzzB; `policies` TestC |\n",
			refs: []string{"`internal/auth` TestA", "`collectors/graph` FuzzB", "`policies` TestC"}},
		{name: "references in prose count", md: "Held by `internal/redact` TestSameVerdicts, as said.\n", refs: []string{"`internal/redact` TestSameVerdicts"}},
		{name: "an empty cell", md: head + "| a |  |\n", problems: []string{"names no test"}},
		{name: "a cell of words", md: head + "| a | the tests |\n", problems: []string{`"the tests" is not a list`}},
		{name: "a cell with a reference and words", md: head + "| a | `internal/auth` TestA and more |\n", refs: []string{"`internal/auth` TestA"}, problems: []string{"is not a list"}},
		{name: "a comma is not the separator", md: head + "| a | `internal/auth` TestA, `internal/auth` TestB |\n",
			refs: []string{"`internal/auth` TestA", "`internal/auth` TestB"}, problems: []string{"is not a list"}},
		{name: "a claim whose tests are still to come", md: "### Remediation\n" + head + "| a | pending (remediate) |\n", problems: []string{"is not a list"}},
		{name: "a table without the column is not checked", md: "| what | becomes |\n|---|---|\n| hosts | tokens |\n"},
		{name: "a short row", md: "| claim | x | Held by |\n|---|---|---|\n| a |\n", problems: []string{"no Held by cell"}},
		{name: "fenced code is not read", md: "```\n| claim | Held by |\n|---|---|\n| a | nothing |\n`internal/x` TestY\n```\n"},
		{name: "an escaped pipe stays in its cell", md: head + "| a \\| b | `internal/auth` TestA |\n", refs: []string{"`internal/auth` TestA"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			refs, problems := Parse(tt.md)
			var got []string
			for _, r := range refs {
				got = append(got, r.String())
			}
			if strings.Join(got, "\n") != strings.Join(tt.refs, "\n") {
				t.Errorf("refs = %q, want %q", got, tt.refs)
			}
			if len(problems) != len(tt.problems) {
				t.Fatalf("problems = %v, want %d: %q", problems, len(tt.problems), tt.problems)
			}
			for i, p := range problems {
				if !strings.Contains(p.Text, tt.problems[i]) {
					t.Errorf("problem %q, want one with %q", p.Text, tt.problems[i])
				}
			}
		})
	}
}

func TestResolve(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	pkg := filepath.Join(root, "internal", "thing")
	if err := os.MkdirAll(pkg, 0o755); err != nil {
		t.Fatal(err)
	}
	files := map[string]string{
		"thing.go":      "package thing\n\nfunc TestNotATestFile() {}\n",
		"thing_test.go": "package thing\n\nimport \"testing\"\n\nfunc TestReal(t *testing.T) {}\n\ntype s struct{}\n\nfunc (s) TestMethod(t *testing.T) {}\n",
		"x_test.go":     "package thing_test\n\nimport \"testing\"\n\nfunc FuzzReal(f *testing.F) {}\n",
	}
	for name, src := range files {
		if err := os.WriteFile(filepath.Join(pkg, name), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	refs := []Ref{
		{1, "internal/thing", "TestReal"},
		{2, "internal/thing", "FuzzReal"},
		{3, "internal/thing", "TestMissing"},
		{4, "internal/thing", "TestNotATestFile"},
		{5, "internal/thing", "TestMethod"},
		{6, "internal/remediate", "TestPlan"},
	}
	problems, err := Resolve(root, refs)
	if err != nil {
		t.Fatal(err)
	}
	want := map[int]string{3: "no test function TestMissing", 4: "no test function TestNotATestFile", 5: "no test function TestMethod", 6: "no directory internal/remediate"}
	if len(problems) != len(want) {
		t.Fatalf("problems %v, want %v", problems, want)
	}
	for _, p := range problems {
		if !strings.Contains(p.Text, want[p.Line]) {
			t.Errorf("line %d: %q, want %q", p.Line, p.Text, want[p.Line])
		}
	}
	if err := os.WriteFile(filepath.Join(pkg, "broken_test.go"), []byte("package thing\nfunc {"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Resolve(root, refs[:1]); err == nil || !strings.Contains(err.Error(), "broken_test.go") {
		t.Errorf("a test file that does not parse: err = %v", err)
	}
}
