package cli_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/teamslink/teamslink/internal/finding"
)

func TestPermissionsCommand(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		args []string
		code int
		want []string // in stdout, or in stderr for a usage error
		not  []string
	}{
		{"table", []string{"permissions"}, finding.ExitClean, []string{"GRAPH", "subscribedSkus", "Organization.Read.All", "DATAVERSE", "WhoAmI", "BAP"}, []string{"not yet used"}},
		{"serve", []string{"permissions", "--mode", "serve", "--format", "markdown"}, finding.ExitClean, []string{"## Microsoft Graph", "`tenant.licenses`", "RoleManagement.Read.Directory"}, []string{"not yet used"}},
		{"remediate", []string{"permissions", "--mode", "remediate"}, finding.ExitClean, []string{"PATCH", "DELETE", "msdyn_SetTeamsDocumentStatus", "sdkmessages", "MSCRM.MergeLabels"}, []string{"not yet used"}},
		{"json", []string{"permissions", "--format", "json"}, finding.ExitClean, []string{`"schemaVersion": "teamslink.permissions/v1"`, `"service": "graph"`}, nil},
		{"bad mode", []string{"permissions", "--mode", "audit"}, finding.ExitUsage, []string{"unknown mode", "valid: remediate, scan, serve"}, nil},
		{"bad format", []string{"permissions", "--format", "yaml"}, finding.ExitUsage, []string{"unknown format", "valid: json, markdown, table"}, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			code, out, errOut := run(t, tc.args...)
			if code != tc.code {
				t.Fatalf("exit %d, want %d; stderr: %s", code, tc.code, errOut)
			}
			text := out
			if code != finding.ExitClean {
				text = errOut
			}
			for _, w := range tc.want {
				if !strings.Contains(text, w) {
					t.Errorf("output lacks %q:\n%s", w, text)
				}
			}
			for _, w := range tc.not {
				if strings.Contains(text, w) {
					t.Errorf("output has %q", w)
				}
			}
			if tc.name == "json" && !json.Valid([]byte(out)) {
				t.Errorf("not JSON: %s", out)
			}
		})
	}
}
