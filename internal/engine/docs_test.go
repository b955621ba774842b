package engine_test

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/tester"

	"github.com/teamslink/teamslink/internal/engine"
	"github.com/teamslink/teamslink/internal/finding"
	"github.com/teamslink/teamslink/policies"
)

// TestPolicyContractExample loads the complete custom policy of
// docs/policy-contract.md as --policy-dir would, evaluates it, and runs its
// Rego tests, so the example stays true.
func TestPolicyContractExample(t *testing.T) {
	t.Parallel()
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "policy-contract.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(doc), "## A complete custom policy")
	if !ok {
		t.Fatal("no complete custom policy section")
	}
	blocks := regexp.MustCompile("(?s)```rego\n(.*?)```").FindAllStringSubmatch(section, 2)
	if len(blocks) != 2 {
		t.Fatalf("found %d rego blocks, want the policy and its tests", len(blocks))
	}
	dir := filepath.Join(t.TempDir(), "custom", "folders")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, src := range map[string]string{"folders.rego": blocks[0][1], "folders_test.rego": blocks[1][1]} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}

	eng, err := engine.New(t.Context(), engine.Config{PolicyDirs: []string{filepath.Dir(dir)}})
	if err != nil {
		t.Fatal(err)
	}
	rep, err := eng.Evaluate(t.Context(), readSnapshot(t, "ready"), engine.Options{Now: testNow})
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"X-ACME-001", "X-ACME-002"} {
		f := findRule(rep.Environments[0].Findings, id)
		if f == nil || f.Internal || f.Status == finding.StatusError {
			t.Errorf("%s = %+v, want a decided finding", id, f)
		}
	}

	modules := map[string]*ast.Module{}
	opts := ast.ParserOptions{RegoVersion: ast.RegoV1, ProcessAnnotation: true}
	err = fs.WalkDir(policies.FS, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".rego") || strings.HasSuffix(path, policies.TestSuffix) {
			return err
		}
		src, err := fs.ReadFile(policies.FS, path)
		if err != nil {
			return err
		}
		modules[path], err = ast.ParseModuleWithOpts(path, string(src), opts)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	for name, block := range map[string]string{"folders.rego": blocks[0][1], "folders_test.rego": blocks[1][1]} {
		if modules[name], err = ast.ParseModuleWithOpts(name, block, opts); err != nil {
			t.Fatal(err)
		}
	}
	caps, err := ast.LoadCapabilitiesJSON(bytes.NewReader(policies.Capabilities))
	if err != nil {
		t.Fatal(err)
	}
	compiler := ast.NewCompiler().WithCapabilities(caps).WithStrict(true).WithDefaultRegoVersion(ast.RegoV1)
	ch, err := tester.NewRunner().SetCompiler(compiler).SetModules(modules).RaiseBuiltinErrors(true).RunTests(t.Context(), nil)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for r := range ch {
		if !strings.HasSuffix(r.Package, "folders_test") {
			continue
		}
		n++
		if r.Fail || r.Error != nil {
			t.Errorf("%s: failed (%v) at %v", r.Name, r.Error, r.FailedAt)
		}
	}
	if want := strings.Count(blocks[1][1], "\ntest_"); n != want {
		t.Errorf("ran %d of the example's tests, want its %d", n, want)
	}
}
