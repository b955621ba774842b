package engine

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/teamslink/teamslink/internal/permissions"
)

// TestPermissionTableDocumented: the permissions table fills every section
// the policies read, each has advice for any request, and
// docs/configuration.md points to docs/permissions.md, generated from it.
func TestPermissionTableDocumented(t *testing.T) {
	t.Parallel()
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "configuration.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, table, ok := strings.Cut(string(doc), "### Permissions the identity needs")
	if !ok || !strings.Contains(table, "permissions.md") {
		t.Fatal("docs/configuration.md has no permissions section pointing to docs/permissions.md")
	}
	sections := []string{
		"tenant.licenses", "tenant.consent", "tenant.caller", "tenant.sharePoint", "tenant.groupSettings",
		"environment.organization", "environment.sharePointSites", "environment.documentLocations",
		"environment.entities", "environment.caller", "environment.rolePrivileges",
	}
	if got := permissions.Sections(); !slices.Equal(slices.Sorted(slices.Values(got)), slices.Sorted(slices.Values(sections))) {
		t.Errorf("the permissions table fills %v, want %v", got, sections)
	}
	for _, s := range sections {
		if permissionFor(s, "GET https://example.invalid/anything") == "" {
			t.Errorf("%s: no permission for an unknown request", s)
		}
	}
}
