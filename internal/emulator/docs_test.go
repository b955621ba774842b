package emulator

import (
	"os"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestDocsExamplesParse keeps the YAML examples in docs/emulator.md valid.
func TestDocsExamplesParse(t *testing.T) {
	t.Parallel()
	doc, err := os.ReadFile("../../docs/emulator.md")
	if err != nil {
		t.Fatal(err)
	}
	blocks := regexp.MustCompile("(?s)```yaml\n(.*?)```").FindAllStringSubmatch(string(doc), -1)
	if len(blocks) < 2 {
		t.Fatalf("found %d yaml blocks, want the scenario and the fault examples", len(blocks))
	}
	sc := parseInline(t, "docs-scenario", blocks[0][1])
	if _, err := New(Options{Clock: time.Now, Scenarios: []*Scenario{sc}, CAFile: t.TempDir() + "/ca.pem"}); err != nil {
		t.Errorf("scenario example: %v", err)
	}
	for _, b := range blocks[1:] {
		if !strings.HasPrefix(b[1], "faults:") {
			continue
		}
		parseInline(t, "docs-fault", appScenario+b[1])
	}
}
