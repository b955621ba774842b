package permissions_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/teamslink/teamslink/internal/permissions"
)

var update = flag.Bool("update", false, "rewrite docs/permissions.md from the table")

// TestDocIsCurrent fails when docs/permissions.md is not what the table
// generates; go test ./internal/permissions -update rewrites it.
func TestDocIsCurrent(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	if err := permissions.WriteDoc(&buf); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join("..", "..", "docs", "permissions.md")
	if *update {
		if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, buf.Bytes()) {
		t.Errorf("docs/permissions.md is stale: run go test ./internal/permissions -update")
	}
}

// TestWriters checks each format names every row of its mode and only those.
func TestWriters(t *testing.T) {
	t.Parallel()
	for _, mode := range permissions.Modes {
		for _, format := range []string{"table", "json", "markdown"} {
			t.Run(string(mode)+"/"+format, func(t *testing.T) {
				t.Parallel()
				var buf bytes.Buffer
				var err error
				switch format {
				case "table":
					err = permissions.WriteTable(&buf, mode)
				case "json":
					err = permissions.WriteJSON(&buf, mode)
				case "markdown":
					err = permissions.WriteMarkdown(&buf, mode, 2)
				}
				if err != nil {
					t.Fatal(err)
				}
				out := buf.String()
				if format == "json" {
					var doc struct {
						SchemaVersion string `json:"schemaVersion"`
						Services      []struct {
							Requests []struct {
								ID string `json:"id"`
							} `json:"requests"`
						} `json:"services"`
					}
					if err := json.Unmarshal(buf.Bytes(), &doc); err != nil {
						t.Fatal(err)
					}
					n := 0
					for _, s := range doc.Services {
						n += len(s.Requests)
					}
					if want := len(permissions.ForMode(mode)); n != want || doc.SchemaVersion != permissions.SchemaVersion {
						t.Errorf("json: %d requests (%s), want %d", n, doc.SchemaVersion, want)
					}
				}
				for _, r := range permissions.Table() {
					if format == "json" {
						break
					}
					// The table wraps long cells: look for the method and the path's first word.
					word := strings.FieldsFunc(r.Path, func(c rune) bool { return c == '?' || c == '(' || c == ' ' || c == '/' })[0]
					has := strings.Contains(out, word)
					if r.In(mode) && !has {
						t.Errorf("%s: row %s (%s) missing", format, r.ID, word)
					}
				}
			})
		}
	}
}
