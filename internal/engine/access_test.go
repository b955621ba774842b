package engine

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestPermissionTableDocumented: docs/configuration.md lists every section
// of the permission table, and every section the policies read has an entry
// whose last need matches any request.
func TestPermissionTableDocumented(t *testing.T) {
	t.Parallel()
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "configuration.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, table, ok := strings.Cut(string(doc), "### Permissions the identity needs")
	if !ok {
		t.Fatal("docs/configuration.md has no permissions section")
	}
	sections := []string{
		"tenant.licenses", "tenant.consent", "tenant.caller", "tenant.sharePoint", "tenant.groupSettings",
		"environment.organization", "environment.sharePointSites", "environment.documentLocations",
		"environment.entities", "environment.caller", "environment.rolePrivileges",
	}
	if len(sectionNeeds) != len(sections) {
		t.Errorf("the table has %d sections, want %d", len(sectionNeeds), len(sections))
	}
	for _, s := range sections {
		needs := sectionNeeds[s]
		if len(needs) == 0 || needs[len(needs)-1].request != "" {
			t.Errorf("%s: no need that matches any request", s)
		}
		if !strings.Contains(table, "| `"+s+"` |") {
			t.Errorf("docs/configuration.md does not list section %s", s)
		}
		if permissionFor(s, "GET https://example.invalid/anything") == "" {
			t.Errorf("%s: no permission for an unknown request", s)
		}
	}
}
