package cli_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestImportDirection keeps the layering of DESIGN.md: the leaf models import
// nothing of ours, collectors never import the engine or reports, reports
// never import collectors or the engine, and only internal/cli imports cobra.
func TestImportDirection(t *testing.T) {
	t.Parallel()
	const module = "github.com/teamslink/teamslink/"
	out, err := exec.Command("go", "list", "-f", `{{.ImportPath}}{{range .Deps}} {{.}}{{end}}`, module+"...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	forbidden := map[string][]string{
		"internal/finding":  {module},
		"internal/snapshot": {module},
		"collectors":        {module + "internal/engine", module + "report", module + "internal/cli"},
		"report":            {module + "collectors", module + "internal/engine", module + "internal/cli"},
		"internal/engine":   {module + "collectors", module + "report", module + "internal/cli"},
		"internal/emulator": {module + "collectors", module + "internal/odata", module + "internal/permissions"},
		"internal/odata":    {module + "internal/engine", module + "report", module + "internal/cli"},
		"internal/scan":     {module + "report", module + "internal/cli"},
		"internal/redact":   {module + "collectors", module + "internal/engine", module + "report", module + "internal/cli"},
	}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		fields := strings.Fields(line)
		pkg, deps := strings.TrimPrefix(fields[0], module), fields[1:]
		for prefix, bans := range forbidden {
			if pkg != prefix && !strings.HasPrefix(pkg, prefix+"/") {
				continue
			}
			for _, d := range deps {
				for _, ban := range bans {
					if strings.HasPrefix(d, ban) {
						t.Errorf("%s imports %s", pkg, d)
					}
				}
			}
		}
		if !strings.HasPrefix(pkg, "internal/cli") && !strings.HasPrefix(pkg, "cmd/") {
			for _, d := range deps {
				if strings.HasPrefix(d, "github.com/spf13/cobra") {
					t.Errorf("%s imports cobra; only internal/cli may", pkg)
				}
			}
		}
	}
}
