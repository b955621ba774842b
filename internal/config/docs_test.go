package config

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

// TestDocsExamples keeps docs/configuration.md honest: every YAML block in it
// that is a whole config (has a top-level tenants key) must load.
func TestDocsExamples(t *testing.T) {
	t.Parallel()
	const doc = "../../docs/configuration.md"
	data, err := os.ReadFile(doc)
	if err != nil {
		t.Fatal(err)
	}
	blocks := regexp.MustCompile("(?s)```yaml\n(.*?)```").FindAllStringSubmatch(string(data), -1)
	n := 0
	for _, b := range blocks {
		if !regexp.MustCompile(`(?m)^tenants:`).MatchString(b[1]) {
			continue
		}
		n++
		if _, err := Parse([]byte(b[1]), doc+" example "+strings.SplitN(b[1], "\n", 2)[0]); err != nil {
			t.Errorf("%v", err)
		}
	}
	if n < 2 {
		t.Fatalf("found %d full examples in %s, want the full example and the emulator example", n, doc)
	}
}
