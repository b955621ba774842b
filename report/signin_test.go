package report

import (
	"strings"
	"testing"

	"github.com/teamslink/teamslink/internal/finding"
)

// TestDiscoveryFailureNotSignIn: a tenant whose environments could not be
// discovered is said to be so in every format, never as a failed sign-in,
// and a report with both kinds names both.
func TestDiscoveryFailureNotSignIn(t *testing.T) {
	t.Parallel()
	discovery := finding.SignInError{
		Tenant: contosoID, TenantName: "Contoso", Method: "client-secret", Discovery: "bap", HTTPStatus: 403,
		Error: "list environments: 403 Forbidden", Fix: "Register the application as a Power Platform management app.",
		Docs: "docs/configuration.md#environment-discovery",
	}
	only := newReport()
	only.SignInErrors = []finding.SignInError{discovery}
	both := signInReport()
	both.SignInErrors = append(both.SignInErrors, discovery)

	for _, format := range []string{"table", "markdown", "html", "junit", "sarif"} {
		t.Run(format, func(t *testing.T) {
			t.Parallel()
			opts := fixedOptions(false)
			out := string(render(t, format, only, opts))
			if strings.Contains(strings.ToLower(out), "sign-in failed") || strings.Contains(out, "Sign-in to tenant") {
				t.Errorf("a discovery failure is called a sign-in failure:\n%s", out)
			}
			if !strings.Contains(strings.ToLower(out), "discover") {
				t.Errorf("the discovery failure is not said:\n%s", out)
			}
			out = string(render(t, format, both, opts))
			if !strings.Contains(strings.ToLower(out), "discover") || !strings.Contains(strings.ToLower(out), "sign-in") {
				t.Errorf("a report with a sign-in and a discovery failure does not name both:\n%s", out)
			}
		})
	}
	if got := signInTitle(both.SignInErrors); got != "Sign-in or discovery failed for 2 tenants: nothing of them could be read" {
		t.Errorf("title of both = %q", got)
	}
}
