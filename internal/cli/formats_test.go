package cli_test

import (
	"bytes"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestEvalSampleFormats renders every sample snapshot in junit, markdown
// and html in one run: the JUnit validates against its schema with
// xmllint, and no format says "pass" for a sample whose sections could not
// be read (the report tests check each writer on the fixtures; this checks
// them on what the collectors write).
func TestEvalSampleFormats(t *testing.T) {
	t.Parallel()
	xmllint, err := exec.LookPath("xmllint")
	if err != nil {
		t.Fatal("xmllint is needed to validate the JUnit report: run make test-deps, or sudo apt-get install -y libxml2-utils")
	}
	files, err := filepath.Glob(snapshotPath("*"))
	if err != nil || len(files) == 0 {
		t.Fatalf("samples: %v", err)
	}
	xsd := filepath.Join(repoRoot, "report", "testdata", "junit.xsd")
	for _, file := range files {
		name := strings.TrimSuffix(filepath.Base(file), ".json")
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			junit, md, html := filepath.Join(dir, "r.xml"), filepath.Join(dir, "r.md"), filepath.Join(dir, "r.html")
			code, _, errOut := run(t, "eval", file, "--format", "junit="+junit+",markdown="+md+",html="+html)
			if code != 0 && code != 1 && code != 3 {
				t.Fatalf("exit %d: %s", code, errOut)
			}
			if out, err := exec.CommandContext(t.Context(), xmllint, "--noout", "--schema", xsd, junit).CombinedOutput(); err != nil {
				t.Fatalf("xmllint --schema junit.xsd: %v\n%s", err, out)
			}
			xml, mdOut, htmlOut := readFile(t, junit), readFile(t, md), readFile(t, html)
			if code == 3 { // something could not be assessed
				if !bytes.Contains(xml, []byte("<error ")) {
					t.Error("exit 3, but the JUnit report has no <error>")
				}
				if !bytes.Contains(mdOut, []byte("UNKNOWN")) && !bytes.Contains(mdOut, []byte("ERROR")) {
					t.Error("exit 3, but the Markdown report shows neither UNKNOWN nor ERROR")
				}
			}
			if code == 1 && !bytes.Contains(xml, []byte("<failure ")) {
				t.Error("exit 1, but the JUnit report has no <failure>")
			}
			if !bytes.HasPrefix(htmlOut, []byte("<!DOCTYPE html>")) {
				t.Errorf("html report starts %q", htmlOut[:min(len(htmlOut), 40)])
			}
		})
	}
}
