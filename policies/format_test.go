package policies_test

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/format"

	"github.com/teamslink/teamslink/policies"
)

// TestRegoFormatted keeps every Rego file as `opa fmt` (Rego v1) writes it;
// -update rewrites the files that differ.
func TestRegoFormatted(t *testing.T) {
	t.Parallel()
	err := fs.WalkDir(policies.FS, policies.Root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".rego") {
			return err
		}
		src, err := fs.ReadFile(policies.FS, path)
		if err != nil {
			return err
		}
		got, err := format.SourceWithOpts(path, src, format.Opts{RegoVersion: ast.RegoV1})
		if err != nil {
			t.Errorf("format %s: %v", path, err)
			return nil
		}
		if bytes.Equal(got, src) {
			return nil
		}
		if *update {
			return os.WriteFile(filepath.FromSlash(path), got, 0o644)
		}
		t.Errorf("%s is not formatted as opa fmt would; run: go test ./policies -run TestRegoFormatted -update", path)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
