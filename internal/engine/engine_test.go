package engine_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"

	"github.com/teamslink/teamslink/internal/engine"
	"github.com/teamslink/teamslink/internal/finding"
	"github.com/teamslink/teamslink/internal/snapshot"
	"github.com/teamslink/teamslink/policies"
)

var (
	sharedOnce sync.Once
	sharedEng  *engine.Engine
	sharedErr  error
)

// builtin returns the engine with only the embedded policies, compiled once.
func builtin(t testing.TB) *engine.Engine {
	t.Helper()
	sharedOnce.Do(func() { sharedEng, sharedErr = engine.New(context.Background(), engine.Config{}) })
	if sharedErr != nil {
		t.Fatalf("compile built-in policies: %v", sharedErr)
	}
	return sharedEng
}

// testNow is the tests' clock: a fixed instant after every sample snapshot.
func testNow() time.Time { return time.Date(2026, 11, 2, 9, 30, 0, 0, time.UTC) }

func readSnapshot(t testing.TB, name string) *snapshot.Snapshot {
	t.Helper()
	s, err := snapshot.ReadFile(filepath.Join("..", "..", "testdata", "snapshots", name+".json"))
	if err != nil {
		t.Fatalf("read snapshot %s: %v", name, err)
	}
	return s
}

var catalogueIDs = []string{
	"TL-CONSENT-001", "TL-ENT-001", "TL-ENT-002", "TL-ENV-001", "TL-ENV-002", "TL-GRP-001",
	"TL-LIC-001", "TL-LIC-002", "TL-MAN-001", "TL-MAN-002", "TL-MAN-003", "TL-ROLE-001", "TL-ROLE-002", "TL-ROLE-003",
	"TL-SP-001", "TL-SP-002", "TL-SP-003", "TL-SP-004", "TL-SP-005",
}

func TestCatalogue(t *testing.T) {
	t.Parallel()
	rules := builtin(t).Rules()
	var ids []string
	for _, r := range rules {
		ids = append(ids, r.ID)
		t.Run(r.ID, func(t *testing.T) {
			switch {
			case r.Title == "", r.Description == "":
				t.Error("title and description are required")
			case !r.Severity.Valid():
				t.Errorf("severity %q", r.Severity)
			case !strings.HasPrefix(r.Docs, "https://learn.microsoft.com/"):
				t.Errorf("docs %q is not a Microsoft Learn URL", r.Docs)
			case r.Remediation == "":
				t.Error("remediation is required")
			case !r.Builtin:
				t.Error("built-in rule not marked as such")
			case len(r.Experiences) == 0:
				t.Error("no experience")
			}
		})
	}
	if !slices.Equal(ids, catalogueIDs) {
		t.Fatalf("catalogue ids = %v, want %v", ids, catalogueIDs)
	}
	for _, id := range []string{"TL-SP-001", "TL-SP-002", "TL-SP-003"} {
		r, _ := builtin(t).Rule(id)
		if r.ErrorCode != "800503ca" {
			t.Errorf("%s error code = %q, want 800503ca", id, r.ErrorCode)
		}
	}
}

type want struct {
	basic, enhanced finding.Readiness
	// blocking or unknown rules per experience, as the verdict names them.
	basicRules, enhancedRules []string
}

func TestEvaluateSamples(t *testing.T) {
	t.Parallel()
	ready := want{basic: finding.Ready, enhanced: finding.Ready}
	blockedBoth := func(rules ...string) want {
		return want{finding.Blocked, finding.Blocked, rules, rules}
	}
	blockedEnhanced := func(rules ...string) want {
		return want{finding.Ready, finding.Blocked, nil, rules}
	}
	tests := []struct {
		snapshot string
		envs     map[string]want
	}{
		{"ready", map[string]want{"https://contoso-sales.crm.dynamics.com": ready}},
		{"enabled", map[string]want{"https://tailwind.crm.dynamics.com": {basic: finding.Enabled, enhanced: finding.Enabled}}},
		{"broken-consent", map[string]want{"https://wideworld.crm.dynamics.com": {finding.Enabled, finding.Broken, nil, []string{"TL-CONSENT-001"}}}},
		{"sp-800503ca-all", map[string]want{
			"https://fabrikam.crm4.dynamics.com":     blockedBoth("TL-SP-001", "TL-SP-002", "TL-SP-003"),
			"https://fabrikam-dev.crm4.dynamics.com": {basic: finding.Ready, enhanced: finding.NotAssessed},
		}},
		{"sp-onedrive", map[string]want{"https://northwind.crm.dynamics.com": blockedBoth("TL-SP-001")}},
		{"sp-active-sites", map[string]want{"https://tailspin.crm11.dynamics.com": blockedBoth("TL-SP-002")}},
		{"sp-absolute-locations", map[string]want{"https://wingtip.crm.dynamics.com": blockedBoth("TL-SP-003")}},
		{"sp-onpremises", map[string]want{"https://litware.crm3.dynamics.com": blockedBoth("TL-SP-004")}},
		{"spo-limited", map[string]want{"https://adatum.crm.dynamics.com": ready}},
		{"group-naming-policy", map[string]want{"https://bellows.crm.dynamics.com": ready}},
		{"role-missing-privileges", map[string]want{"https://graphicdesign.crm.dynamics.com": ready}},
		{"spo-blocked", map[string]want{"https://woodgrove.crm.dynamics.com": blockedBoth("TL-SP-005")}},
		{"consent-missing", map[string]want{"https://proseware.crm.dynamics.com": blockedEnhanced("TL-CONSENT-001")}},
		{"consent-missing-scope", map[string]want{"https://lamna.crm.dynamics.com": blockedEnhanced("TL-CONSENT-001")}},
		{"not-sysadmin", map[string]want{"https://relecloud.crm.dynamics.com": blockedBoth("TL-ROLE-001")}},
		{"not-global-admin", map[string]want{"https://alpineskihouse.crm.dynamics.com": blockedEnhanced("TL-ROLE-002")}},
		{"custom-table-no-docmgmt", map[string]want{"https://cohowinery.crm.dynamics.com": blockedBoth("TL-ENT-001(new_project)")}},
		{"no-ce-licence", map[string]want{"https://fourthcoffee.crm.dynamics.com": blockedBoth("TL-LIC-001")}},
		{"no-teams-licence", map[string]want{"https://treyresearch.crm.dynamics.com": blockedBoth("TL-LIC-002")}},
		{"sections-errored", map[string]want{
			"https://humongous.crm.dynamics.com":        {finding.Unknown, finding.Unknown, []string{"TL-SP-003"}, []string{"TL-CONSENT-001", "TL-SP-003"}},
			"https://humongous-claims.crm.dynamics.com": {finding.Ready, finding.Unknown, nil, []string{"TL-CONSENT-001"}},
		}},
	}
	eng := builtin(t)
	for _, tt := range tests {
		t.Run(tt.snapshot, func(t *testing.T) {
			t.Parallel()
			rep, err := eng.Evaluate(t.Context(), readSnapshot(t, tt.snapshot), engine.Options{Now: testNow})
			if err != nil {
				t.Fatal(err)
			}
			if rep.HasInternalError() {
				t.Fatalf("internal error findings: %+v", internalFindings(rep))
			}
			if len(rep.Environments) != len(tt.envs) {
				t.Fatalf("%d environments, want %d", len(rep.Environments), len(tt.envs))
			}
			for _, env := range rep.Environments {
				w, ok := tt.envs[env.URL]
				if !ok {
					t.Fatalf("unexpected environment %s", env.URL)
				}
				checkVerdict(t, env, finding.ExperienceBasic, w.basic, w.basicRules)
				checkVerdict(t, env, finding.ExperienceEnhanced, w.enhanced, w.enhancedRules)
			}
		})
	}
}

func checkVerdict(t *testing.T, env finding.Environment, x finding.Experience, readiness finding.Readiness, rules []string) {
	t.Helper()
	v := env.Verdict(x)
	if v.Readiness != readiness {
		t.Errorf("%s %s = %s (blocking %v, unknown %v), want %s", env.URL, x, v.Readiness, v.Blocking, v.Unknown, readiness)
		return
	}
	got := v.Blocking
	if readiness == finding.Unknown {
		got = v.Unknown
	}
	if !slices.Equal(got, rules) {
		t.Errorf("%s %s %s rules = %v, want %v", env.URL, x, readiness, got, rules)
	}
}

func internalFindings(rep *finding.Report) []finding.Finding {
	var out []finding.Finding
	for _, f := range rep.Findings() {
		if f.Internal {
			out = append(out, f)
		}
	}
	return out
}

// TestEveryRuleOneResultPerTarget checks the engine's own bookkeeping on real
// data: each rule appears once per environment, table rules once per table.
func TestEveryRuleOneResultPerTarget(t *testing.T) {
	t.Parallel()
	rep, err := builtin(t).Evaluate(t.Context(), readSnapshot(t, "ready"), engine.Options{Now: testNow, Tables: []string{"account", "contact", "new_project", "incident"}})
	if err != nil {
		t.Fatal(err)
	}
	counts := map[string]int{}
	for _, f := range rep.Findings() {
		counts[f.Rule]++
	}
	for _, r := range builtin(t).Rules() {
		want := 1
		if r.Scope == engine.ScopeTable {
			want = 4
		}
		if counts[r.ID] != want {
			t.Errorf("%s: %d findings, want %d", r.ID, counts[r.ID], want)
		}
	}
}

func TestErroredSectionIsNeverAPass(t *testing.T) {
	t.Parallel()
	rep, err := builtin(t).Evaluate(t.Context(), readSnapshot(t, "sections-errored"), engine.Options{Now: testNow})
	if err != nil {
		t.Fatal(err)
	}
	env := rep.Environments[0]
	for _, f := range env.Findings {
		if f.Rule == "TL-SP-003" && f.Status != finding.StatusError {
			t.Errorf("TL-SP-003 = %s, want error", f.Status)
		}
	}
	if got := rep.ExitCode(finding.FailOnFail); got != finding.ExitIncomplete {
		t.Errorf("exit code %d, want %d", got, finding.ExitIncomplete)
	}
}

func TestExperienceAndProfileOptions(t *testing.T) {
	t.Parallel()
	snap := readSnapshot(t, "not-global-admin")
	tests := []struct {
		name     string
		opts     engine.Options
		rule     string
		status   finding.Status
		enhanced finding.Readiness
	}{
		{"enhanced by default", engine.Options{Now: testNow}, "TL-ROLE-002", finding.StatusFail, finding.Blocked},
		{"basic skips enhanced rules", engine.Options{Now: testNow, Experience: finding.ExperienceBasic}, "TL-ROLE-002", finding.StatusSkip, finding.NotAssessed},
		{"preflight: toggle off is informational", engine.Options{Now: testNow}, "TL-ENV-001", finding.StatusSkip, finding.Blocked},
		{"enabled profile requires the toggle", engine.Options{Now: testNow, Profile: engine.ProfileEnabled}, "TL-ENV-001", finding.StatusFail, finding.Blocked},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rep, err := builtin(t).Evaluate(t.Context(), snap, tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			env := rep.Environments[0]
			if got := env.Verdict(finding.ExperienceEnhanced).Readiness; got != tt.enhanced {
				t.Errorf("enhanced verdict %s, want %s", got, tt.enhanced)
			}
			for _, f := range env.Findings {
				if f.Rule == tt.rule && f.Status != tt.status {
					t.Errorf("%s = %s (%s), want %s", f.Rule, f.Status, f.Message, tt.status)
				}
			}
		})
	}
}

// TestPolicyContract loads user policies that break the contract in each way
// the engine must catch.
func TestPolicyContract(t *testing.T) {
	t.Parallel()
	snap := readSnapshot(t, "ready")
	tests := []struct {
		dir string
		// loadErr is a substring of the compile/load error, if loading must fail.
		loadErr string
		// internal is a substring of an internal-error finding, if evaluation must report one.
		internal string
	}{
		{dir: "missing", internal: "no result for this target"},
		{dir: "duplicate", internal: "produced 2 results"},
		{dir: "unknown-id", internal: `"X-NOT-DECLARED", which is not in the rule catalogue`},
		{dir: "bad-status", internal: `status "maybe" is not one of`},
		{dir: "pass-no-evidence", internal: "rule X-NOEV-001: a pass result must have evidence that shows why"},
		{dir: "pass-empty-evidence", internal: "rule X-EMPTYEV-001: a pass result must have evidence that shows why"},
		{dir: "compile-error", loadErr: "broken.rego:11: undefined function http.send"},
		{dir: "outside-root", loadErr: "outside.rego:1: package mycompany.checks is not under teamslink.custom; user policies go in a package of their own under teamslink.custom, e.g. package teamslink.custom.outside"},
		{dir: "builtin-package", loadErr: "sharepoint.rego:1: package teamslink.sharepoint is in the built-in namespace; user policies go in a package of their own under teamslink.custom, e.g. package teamslink.custom.sharepoint"},
		{dir: "builtin-root", loadErr: "root.rego:1: package teamslink is in the built-in namespace"},
		{dir: "builtin-namespace", loadErr: "acme.rego:1: package teamslink.acme is in the built-in namespace"},
		{dir: "builtin-helpers", loadErr: "lib.rego:1: package teamslink.lib is in the built-in namespace"},
		{dir: "custom-root", loadErr: "custom.rego:1: package teamslink.custom is not under teamslink.custom"},
		{dir: "reserved-id", loadErr: `rule id "TL-MINE-001": ids starting "TL-" are reserved`},
		{dir: "slow", internal: "evaluation exceeded"},
		{dir: "tenant-reads-environment", loadErr: "leak.rego:18: input.environment.organization.record.sharepointdeploymenttype is read by a rule that tenant_results uses"},
		{dir: "tenant-whole-input", loadErr: "whole.rego:15: input is read by a rule that tenant_results uses"},
		{dir: "tenant-no-set", loadErr: `rule X-NOSET-001 (scope tenant): package teamslink.custom.noset defines no "tenant_results" rule`},
		{dir: "tenant-in-results", internal: "rule X-MISPLACED-001: result in results but the rule's scope is tenant; it belongs in tenant_results"},
	}
	for _, tt := range tests {
		t.Run(tt.dir, func(t *testing.T) {
			t.Parallel()
			eng, err := engine.New(t.Context(), engine.Config{
				PolicyDirs: []string{filepath.Join("testdata", tt.dir)},
				Timeout:    200 * time.Millisecond,
			})
			if tt.loadErr != "" {
				var perr *engine.PolicyError
				if !errors.As(err, &perr) || !strings.Contains(err.Error(), tt.loadErr) {
					t.Fatalf("load error = %v, want a PolicyError containing %q", err, tt.loadErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			rep, err := eng.Evaluate(t.Context(), snap, engine.Options{Now: testNow})
			if err != nil {
				t.Fatal(err)
			}
			var msgs []string
			for _, f := range internalFindings(rep) {
				msgs = append(msgs, f.Rule+": "+f.Message)
				if f.Status != finding.StatusError {
					t.Errorf("internal finding with status %s", f.Status)
				}
			}
			if !strings.Contains(strings.Join(msgs, "\n"), tt.internal) {
				t.Fatalf("internal findings %q, want one containing %q", msgs, tt.internal)
			}
			if rep.ExitCode(finding.FailOnFail) != finding.ExitInternal {
				t.Errorf("exit code %d, want %d", rep.ExitCode(finding.FailOnFail), finding.ExitInternal)
			}
			// The built-in rules still decide: a broken user policy never hides them.
			for _, f := range rep.Findings() {
				if strings.HasPrefix(f.Rule, "TL-") && f.Internal {
					t.Errorf("built-in %s became an internal error: %s", f.Rule, f.Message)
				}
			}
		})
	}
}

// TestBuiltinPackagesLeaveUserNamespace: no embedded policy is under
// teamslink.custom, the namespace user policies are confined to, so a user
// policy can never join a built-in package.
func TestBuiltinPackagesLeaveUserNamespace(t *testing.T) {
	t.Parallel()
	err := fs.WalkDir(policies.FS, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".rego") {
			return err
		}
		src, err := fs.ReadFile(policies.FS, path)
		if err != nil {
			return err
		}
		m, err := ast.ParseModuleWithOpts(path, string(src), ast.ParserOptions{RegoVersion: ast.RegoV1})
		if err != nil {
			return err
		}
		if pkg := m.Package.Path.String(); pkg == "data.teamslink.custom" || strings.HasPrefix(pkg, "data.teamslink.custom.") {
			t.Errorf("%s: built-in package %s is in the user namespace teamslink.custom", path, pkg)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestUserPolicy(t *testing.T) {
	t.Parallel()
	eng, err := engine.New(t.Context(), engine.Config{PolicyDirs: []string{filepath.Join("testdata", "good")}})
	if err != nil {
		t.Fatal(err)
	}
	r, ok := eng.Rule("X-NAMING-001")
	if !ok || r.Builtin || r.Package != "data.teamslink.custom.naming" {
		t.Fatalf("user rule = %+v, %v", r, ok)
	}
	rep, err := eng.Evaluate(t.Context(), readSnapshot(t, "sp-onedrive"), engine.Options{Now: testNow})
	if err != nil {
		t.Fatal(err)
	}
	var got *finding.Finding
	for _, f := range rep.Findings() {
		if f.Rule == "X-NAMING-001" {
			got = &f
		}
	}
	if got == nil || got.Status != finding.StatusWarn || got.Evidence["url"] != "https://northwind.crm.dynamics.com" {
		t.Fatalf("user finding = %+v", got)
	}
}

// TestManualStatus: a rule may return manual, which the engine keeps as it
// is: never an internal error, never blocking a verdict, never failing a run.
func TestManualStatus(t *testing.T) {
	t.Parallel()
	eng, err := engine.New(t.Context(), engine.Config{PolicyDirs: []string{filepath.Join("testdata", "manual")}})
	if err != nil {
		t.Fatal(err)
	}
	rep, err := eng.Evaluate(t.Context(), readSnapshot(t, "ready"), engine.Options{Now: testNow})
	if err != nil {
		t.Fatal(err)
	}
	f := findRule(rep.Environments[0].Findings, "X-HAND-001")
	if f == nil || f.Internal || f.Status != finding.StatusManual {
		t.Fatalf("manual finding = %+v", f)
	}
	for _, v := range rep.Environments[0].Verdicts {
		if slices.Contains(v.Blocking, "X-HAND-001") || slices.Contains(v.Unknown, "X-HAND-001") {
			t.Errorf("verdict %+v counts the manual check", v)
		}
	}
	if got := rep.ExitCode(finding.FailOnWarn); got != finding.ExitClean {
		t.Errorf("exit code %d with a manual finding, want %d", got, finding.ExitClean)
	}
}

// TestTenantIsolation loads tenant rules that reach the environment, or an
// option a tenant evaluation does not have, in the ways Rego allows; each
// must be refused when the policies load.
func TestTenantIsolation(t *testing.T) {
	t.Parallel()
	const head = `package teamslink.custom.iso

# METADATA
# title: Isolation probe
# description: A tenant rule.
# custom:
#   id: X-ISO-001
#   severity: low
#   experience: [basic, enhanced]
#   scope: tenant
#   remediation: None.
tenant_results contains {"id": "X-ISO-001", "status": "pass", "message": "ok", "evidence": {}} if probe
`
	tests := []struct {
		name, body, refused string // refused: the reference reported; "" means it loads
	}{
		{"tenant and the two options", `probe if {
	input.tenant.id != ""
	input.options.experience in {"basic", "enhanced"}
	input.options.profile != ""
}`, ""},
		{"environment", `probe if input.environment.url != ""`, "input.environment.url"},
		{"option tables", `probe if count(object.get(input.options, "tables", [])) == 0`, "input.options is read"},
		{"option by variable", `probe if {
	some k
	input.options[k] == "x"
}`, "input.options[__local"},
		{"whole input", `probe if object.get(input, "environment", null) == null`, "input is read"},
		{"through a function", `probe if helper("x")

helper(x) := input.environment.name == x`, "input.environment.name"},
		{"through an import", `import input.environment as env

probe if env.url != ""`, "input.environment.url"},
		{"through a default rule", `default helper := false

helper if input.environment.experience == "basic"

probe if not helper`, "input.environment.experience"},
		{"through every", `probe if {
	every t in input.environment.targetTables {
		t != ""
	}
}`, "input.environment.targetTables"},
		{"through a dynamic data reference", `probe if {
	some k
	data.teamslink.custom.other[k] == "x"
}
-- other.rego --
package teamslink.custom.other

leak := input.environment.url`, "input.environment.url"},
		{"through with", `probe if helper with input.tenant as input.environment

helper if input.tenant.id == ""`, "input.environment"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			body, other, _ := strings.Cut(tt.body, "-- other.rego --\n")
			files := map[string]string{"iso.rego": head + "\n" + body + "\n"}
			if other != "" {
				files["other.rego"] = other + "\n"
			}
			for name, src := range files {
				if err := os.WriteFile(filepath.Join(dir, name), []byte(src), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			_, err := engine.New(t.Context(), engine.Config{PolicyDirs: []string{dir}})
			if tt.refused == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.refused) || !strings.Contains(err.Error(), "tenant rules are evaluated once per tenant") {
				t.Fatalf("error = %v, want the read of %s refused", err, tt.refused)
			}
		})
	}
}

// TestTenantRules checks that a rule of scope tenant, evaluated once per
// tenant, reaches every environment of the tenant, and once per experience:
// two environments of one tenant that ask for different experiences get
// different tenant findings.
func TestTenantRules(t *testing.T) {
	t.Parallel()
	eng, err := engine.New(t.Context(), engine.Config{PolicyDirs: []string{filepath.Join("testdata", "tenant-good")}})
	if err != nil {
		t.Fatal(err)
	}
	if r, _ := eng.Rule("X-SEATS-001"); r.Scope != engine.ScopeTenant {
		t.Fatalf("X-SEATS-001 scope %q, want tenant", r.Scope)
	}
	base := readSnapshot(t, "ready")
	snap := *base
	snap.Environments = nil
	for i, x := range []string{"enhanced", "basic", "enhanced"} {
		env := base.Environments[0]
		env.URL = fmt.Sprintf("https://contoso-%d.crm.dynamics.com", i)
		env.Experience = x
		snap.Environments = append(snap.Environments, env)
	}
	rep, err := eng.Evaluate(t.Context(), &snap, engine.Options{Now: testNow})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]finding.Status{
		"X-SEATS-001":    {finding.StatusPass, finding.StatusPass, finding.StatusPass},
		"TL-LIC-001":     {finding.StatusPass, finding.StatusPass, finding.StatusPass},
		"TL-CONSENT-001": {finding.StatusPass, finding.StatusSkip, finding.StatusPass},
		"TL-ROLE-002":    {finding.StatusPass, finding.StatusSkip, finding.StatusPass},
	}
	for id, statuses := range want {
		for i, env := range rep.Environments {
			f := findRule(env.Findings, id)
			if f == nil || f.Status != statuses[i] || f.Environment != env.URL {
				t.Errorf("%s on %s = %+v, want status %s", id, env.URL, f, statuses[i])
			}
		}
	}

	// One evaluation per tenant and experience: each environment's tenant
	// findings come from an evaluation with its own experience, and the two
	// enhanced environments share the very evidence of theirs.
	for _, env := range rep.Environments {
		if got := findRule(env.Findings, "X-SEATS-001").Evidence["experience"]; got != string(env.Experience) {
			t.Errorf("X-SEATS-001 on %s: evaluated for experience %v, want %s", env.URL, got, env.Experience)
		}
	}
	evidence := func(env int, id string) uintptr {
		return reflect.ValueOf(findRule(rep.Environments[env].Findings, id).Evidence).Pointer()
	}
	for _, id := range []string{"X-SEATS-001", "TL-LIC-001", "TL-CONSENT-001"} {
		if evidence(0, id) != evidence(2, id) {
			t.Errorf("%s: the enhanced environments have two copies of the evidence", id)
		}
	}

	// A tenant section that could not be read is an error on every environment.
	snap.Tenants = slices.Clone(base.Tenants)
	snap.Tenants[0].Licenses.Status = snapshot.StatusError
	snap.Tenants[0].Licenses.Error = "Forbidden"
	rep, err = eng.Evaluate(t.Context(), &snap, engine.Options{Now: testNow})
	if err != nil {
		t.Fatal(err)
	}
	for _, env := range rep.Environments {
		for _, id := range []string{"X-SEATS-001", "TL-LIC-001", "TL-LIC-002"} {
			if f := findRule(env.Findings, id); f == nil || f.Status != finding.StatusError {
				t.Errorf("%s on %s = %+v, want error", id, env.URL, f)
			}
		}
	}
}

func findRule(findings []finding.Finding, id string) *finding.Finding {
	for i := range findings {
		if findings[i].Rule == id {
			return &findings[i]
		}
	}
	return nil
}

// TestConcurrentEvaluate proves the prepared queries are safe to share
// between goroutines (run with -race).
func TestConcurrentEvaluate(t *testing.T) {
	t.Parallel()
	eng := builtin(t)
	names := []string{"ready", "sp-800503ca-all", "sections-errored", "custom-table-no-docmgmt"}
	snaps := make([]*snapshot.Snapshot, len(names))
	for i, n := range names {
		snaps[i] = readSnapshot(t, n)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 8*len(snaps))
	for i := range 8 {
		for _, s := range snaps {
			wg.Go(func() {
				rep, err := eng.Evaluate(t.Context(), s, engine.Options{Now: testNow})
				if err == nil && rep.HasInternalError() {
					err = errors.New("internal error finding")
				}
				if err != nil {
					errs <- err
				}
				_ = i
			})
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// TestDuplicateTablesRefused: a snapshot that did not come through the
// reader still cannot list a table twice.
func TestDuplicateTablesRefused(t *testing.T) {
	t.Parallel()
	snap := readSnapshot(t, "ready")
	tables := snap.Environments[0].Entities.Tables
	dup := tables[0]
	dup.LogicalName = strings.ToUpper(dup.LogicalName)
	snap.Environments[0].Entities.Tables = append(slices.Clone(tables), dup)
	_, err := builtin(t).Evaluate(t.Context(), snap, engine.Options{Now: testNow})
	if err == nil || !strings.Contains(err.Error(), "environments[0].entities.tables[") || !strings.Contains(err.Error(), "duplicate table") {
		t.Fatalf("err = %v, want the duplicate table named", err)
	}
}

func TestCancelledContext(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := builtin(t).Evaluate(ctx, readSnapshot(t, "ready"), engine.Options{Now: testNow}); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}

// TestManualStatus: a rule may answer manual. It is never an internal error,
// blocks no verdict, fails no run at any --fail-on, and is counted under its
// own name.
func TestManualVerdict(t *testing.T) {
	t.Parallel()
	eng, err := engine.New(t.Context(), engine.Config{PolicyDirs: []string{filepath.Join("testdata", "byhand")}})
	if err != nil {
		t.Fatal(err)
	}
	rep, err := eng.Evaluate(t.Context(), readSnapshot(t, "ready"), engine.Options{Now: testNow})
	if err != nil {
		t.Fatal(err)
	}
	env := rep.Environments[0]
	f := findRule(env.Findings, "X-BYHAND-001")
	if f == nil || f.Status != finding.StatusManual || f.Internal {
		t.Fatalf("X-BYHAND-001 = %+v, want a manual finding", f)
	}
	if f.Remediation == "" || f.Fix != nil {
		t.Errorf("X-BYHAND-001: remediation %q, fix %+v; a manual finding keeps the steps and never carries a fix", f.Remediation, f.Fix)
	}
	for _, x := range finding.Experiences {
		if v := env.Verdict(x); v.Readiness != finding.Ready || !slices.Contains(v.Manual, "X-BYHAND-001") {
			t.Errorf("%s verdict %+v, want READY with the manual check listed", x, v)
		}
	}
	for _, failOn := range []finding.FailOn{finding.FailOnWarn, finding.FailOnFail, finding.FailOnError} {
		if code := rep.ExitCode(failOn); code != finding.ExitClean {
			t.Errorf("--fail-on %s: exit %d, want 0", failOn, code)
		}
	}
	// The built-in manual checks (TL-MAN-*) and this one.
	if want := 1 + len(manualRules(eng)); rep.Summary[finding.StatusManual] != want {
		t.Errorf("summary %v, want %d manual", rep.Summary, want)
	}
}

// TestAdviceFitsStatus: an error finding carries no remediation and no fix
// but the access to its section (the request, the answer, the permission it
// needs, and what to do about that answer); pass and skip carry no advice;
// fail keeps the rule's remediation and fix.
func TestAdviceFitsStatus(t *testing.T) {
	t.Parallel()
	tests := []struct {
		section, source string
		httpStatus      int
		missing         []string
		rule            string
		permission      string // a part of Access.Permission
		advice          string // a part of Access.Advice
	}{
		{"tenant.licenses", "GET https://graph.microsoft.com/v1.0/subscribedSkus", 403, nil, "TL-LIC-001", "Organization.Read.All", "grant it the Microsoft Graph application permission Organization.Read.All"},
		{"tenant.consent", "GET https://graph.microsoft.com/v1.0/servicePrincipals(appId='x')", 403, nil, "TL-CONSENT-001", "Application.Read.All", "HTTP 403"},
		{"tenant.consent", "GET https://graph.microsoft.com/v1.0/oauth2PermissionGrants?$filter=clientId eq 'x'", 403, nil, "TL-CONSENT-001", "Directory.Read.All", "HTTP 403"},
		{"tenant.caller", "GET https://graph.microsoft.com/v1.0/roleManagement/directory/roleAssignments", 403, nil, "TL-ROLE-002", "RoleManagement.Read.Directory", "grant it"},
		{"tenant.caller", "GET https://graph.microsoft.com/v1.0/me?$select=id", 429, nil, "TL-ROLE-002", "INFERENCE", "scan again later"},
		{"tenant.sharePoint", "GET https://contoso-admin.sharepoint.com/_api/SPO.Tenant", 403, nil, "TL-SP-005", "SharePoint Administrator (NOT CONFIRMED) or Global Administrator", "HTTP 403"},
		{"tenant.sharePoint", "GET https://graph.microsoft.com/v1.0/sites/root", 404, nil, "TL-SP-005", "Sites.Read.All", "sharePointAdminUrl"},
		{"environment.organization", "GET https://contoso-sales.crm.dynamics.com/api/data/v9.2/organizations", 401, nil, "TL-SP-001", "prvReadOrganization", "a user of the environment"},
		{"environment.sharePointSites", "GET https://contoso-sales.crm.dynamics.com/api/data/v9.2/sharepointsites", 503, nil, "TL-SP-002", "prvReadSharePointSite", "scan again later"},
		{"environment.documentLocations", "GET https://contoso-sales.crm.dynamics.com/api/data/v9.2/sharepointdocumentlocations", 500, nil, "TL-SP-003", "prvReadSharePointDocumentLocation", "HTTP 500"},
		{"environment.entities", "GET https://contoso-sales.crm.dynamics.com/api/data/v9.2/EntityDefinitions", 0, nil, "TL-ENT-001", "EntityDefinitions", "no usable answer"},
		{"environment.caller", "GET https://contoso-sales.crm.dynamics.com/api/data/v9.2/systemusers(x)/systemuserroles_association", 200, []string{"_roletemplateid_value"}, "TL-ROLE-001", "prvReadUser (INFERENCE) and prvReadRole", "answered without _roletemplateid_value"},
	}
	eng := builtin(t)
	for _, tt := range tests {
		t.Run(tt.section+"/"+strconv.Itoa(tt.httpStatus), func(t *testing.T) {
			t.Parallel()
			snap := readSnapshot(t, "ready")
			sec := sectionOf(&snap.Tenants[0], &snap.Environments[0], tt.section)
			sec.Status, sec.Error, sec.HTTPStatus, sec.Source, sec.Missing = snapshot.StatusError, "it failed", tt.httpStatus, tt.source, tt.missing
			rep, err := eng.Evaluate(t.Context(), snap, engine.Options{Now: testNow})
			if err != nil {
				t.Fatal(err)
			}
			seen := false
			for _, f := range rep.Findings() {
				if f.Status != finding.StatusError {
					continue
				}
				if f.Remediation != "" || f.Fix != nil {
					t.Errorf("%s: an error finding carries the rule's remediation or fix", f.Key)
				}
				a := f.Access
				if a == nil || a.Section != tt.section {
					t.Errorf("%s: access %+v, want one for %s", f.Key, a, tt.section)
					continue
				}
				seen = seen || f.Rule == tt.rule
				if a.Source != tt.source || a.HTTPStatus != tt.httpStatus {
					t.Errorf("%s: access names %q HTTP %d, want %q HTTP %d", f.Key, a.Source, a.HTTPStatus, tt.source, tt.httpStatus)
				}
				if !strings.Contains(a.Permission, tt.permission) || !strings.Contains(a.Advice, tt.advice) || !strings.Contains(a.Advice, a.Permission) {
					t.Errorf("%s: permission %q, advice %q; want %q in the permission, %q and the permission in the advice", f.Key, a.Permission, a.Advice, tt.permission, tt.advice)
				}
			}
			if !seen {
				t.Errorf("no error finding for %s", tt.rule)
			}
		})
	}

	rep, err := eng.Evaluate(t.Context(), readSnapshot(t, "sp-onedrive"), engine.Options{Now: testNow})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range rep.Findings() {
		switch f.Status {
		case finding.StatusPass, finding.StatusSkip:
			if f.Remediation != "" || f.Fix != nil {
				t.Errorf("%s: a %s finding carries remediation %q or fix %+v", f.Key, f.Status, f.Remediation, f.Fix)
			}
		case finding.StatusFail:
			r, _ := eng.Rule(f.Rule)
			if f.Remediation != r.Remediation || (r.Fix != nil) != (f.Fix != nil) {
				t.Errorf("%s: a fail finding lost the rule's remediation or fix", f.Key)
			}
		}
	}
	if f := findRule(rep.Environments[0].Findings, "TL-SP-001"); f == nil || f.Status != finding.StatusFail || f.Fix == nil {
		t.Errorf("TL-SP-001 on sp-onedrive = %+v, want a fail with its fix", f)
	}
}

// sectionOf returns the section at a snapshot path.
func sectionOf(tn *snapshot.Tenant, e *snapshot.Environment, path string) *snapshot.Section {
	return map[string]*snapshot.Section{
		"tenant.licenses":               &tn.Licenses.Section,
		"tenant.consent":                &tn.Consent.Section,
		"tenant.caller":                 &tn.Caller.Section,
		"tenant.sharePoint":             &tn.SharePoint.Section,
		"environment.organization":      &e.Organization.Section,
		"environment.sharePointSites":   &e.SharePointSites.Section,
		"environment.documentLocations": &e.DocumentLocations.Section,
		"environment.entities":          &e.Entities.Section,
		"environment.caller":            &e.Caller.Section,
	}[path]
}

// TestSummaryCountsTenantFindingsOnce: a tenant with two environments, a
// tenant-wide failure (no customer engagement licence: TL-LIC-001) and a
// failure in one environment (OneDrive on: TL-SP-001) summarises as 2
// fails, while each environment's own findings still show the tenant one.
func TestSummaryCountsTenantFindingsOnce(t *testing.T) {
	t.Parallel()
	snap := readSnapshot(t, "ready")
	lic := &snap.Tenants[0].Licenses
	lic.SKUs = slices.DeleteFunc(lic.SKUs, func(s snapshot.SKU) bool { return s.SKUPartNumber == "DYN365_ENTERPRISE_SALES" })
	second := snap.Environments[0]
	second.URL = "https://contoso-test.crm.dynamics.com"
	org := *second.Organization.Record
	org.IsOneDriveEnabled = true
	second.Organization.Record = &org
	snap.Environments = append(snap.Environments, second)

	rep, err := builtin(t).Evaluate(t.Context(), snap, engine.Options{Now: testNow})
	if err != nil {
		t.Fatal(err)
	}
	if got := rep.Summary[finding.StatusFail]; got != 2 {
		t.Errorf("summary has %d fails, want 2 (TL-LIC-001 once, TL-SP-001 once): %v", got, rep.Summary)
	}
	perEnv := map[string][]string{}
	for _, e := range rep.Environments {
		for _, f := range e.Findings {
			if f.Status == finding.StatusFail {
				perEnv[e.URL] = append(perEnv[e.URL], f.Rule)
			}
		}
	}
	want := map[string][]string{
		"https://contoso-sales.crm.dynamics.com": {"TL-LIC-001"},
		"https://contoso-test.crm.dynamics.com":  {"TL-LIC-001", "TL-SP-001"},
	}
	if !reflect.DeepEqual(perEnv, want) {
		t.Errorf("failing rules per environment %v, want %v", perEnv, want)
	}
	if f := findRule(rep.Environments[1].Findings, "TL-LIC-001"); f == nil || f.Scope != finding.ScopeTenant {
		t.Errorf("TL-LIC-001 = %+v, want scope tenant", f)
	}
}

// TestSignInSaidOnce: a tenant whose snapshot records a failed sign-in gets
// one sign-in error in the report, with the fix for its method; its error
// findings point to it, without the credential's error in their message or
// evidence; the run exits 3.
func TestSignInSaidOnce(t *testing.T) {
	t.Parallel()
	tests := []struct {
		method     string
		httpStatus int
		fix, docs  string
	}{
		{"azure-cli", 0, "az login --tenant 3f2b8c1e-6d4a-4b7e-9a15-2c8d0e7f4a61", "docs/configuration.md#authentication-methods"},
		{"client-secret", 0, "auth.secretEnv or auth.secretFile", "docs/configuration.md#authentication-methods"},
		{"client-certificate", 0, "auth.certificateFile", "docs/configuration.md#authentication-methods"},
		{"workload-identity", 0, "auth.tokenFile", "docs/configuration.md#authentication-methods"},
		{"managed-identity", 0, "auth.managedIdentityClientId", "docs/configuration.md#authentication-methods"},
		{"device-code", 0, "public-client app", "docs/configuration.md#authentication-methods"},
		{"client-secret", 403, "every request of the tenant was refused (HTTP 403)", "docs/configuration.md#permissions-the-identity-needs"},
		{"client-secret/bap", 403, "New-PowerAppManagementApp -ApplicationId 5d2f8a61-3c4e-4b7a-9e1d-8f6a2c4b7e93", "docs/configuration.md#environment-discovery"},
		{"azure-cli/gds", 0, "enabled member of", "docs/configuration.md#environment-discovery"},
	}
	eng := builtin(t)
	for _, tt := range tests {
		t.Run(tt.method+"/"+strconv.Itoa(tt.httpStatus), func(t *testing.T) {
			t.Parallel()
			const reason = "SECRET-LOOKING CREDENTIAL ERROR"
			snap := readSnapshot(t, "ready")
			tn, env := &snap.Tenants[0], &snap.Environments[0]
			for _, path := range []string{"tenant.licenses", "tenant.consent", "tenant.caller", "tenant.sharePoint",
				"environment.organization", "environment.sharePointSites", "environment.documentLocations", "environment.entities", "environment.caller"} {
				s := sectionOf(tn, env, path)
				s.Status, s.Error, s.HTTPStatus = snapshot.StatusError, "authenticate: "+reason, tt.httpStatus
			}
			method, source, _ := strings.Cut(tt.method, "/")
			tn.SignIn = &snapshot.SignIn{Method: method, Error: reason, HTTPStatus: tt.httpStatus, Discovery: source}
			if source != "" {
				tn.SignIn.ClientID = "5d2f8a61-3c4e-4b7a-9e1d-8f6a2c4b7e93"
			}
			rep, err := eng.Evaluate(t.Context(), snap, engine.Options{Now: testNow})
			if err != nil {
				t.Fatal(err)
			}
			if len(rep.SignInErrors) != 1 {
				t.Fatalf("%d sign-in errors, want 1", len(rep.SignInErrors))
			}
			s := rep.SignInErrors[0]
			if s.Tenant != tn.ID || s.Method != method || s.Error != reason || !strings.Contains(s.Fix, tt.fix) || s.Docs != tt.docs {
				t.Errorf("sign-in error %+v, want method %s, the reason, a fix with %q and docs %s", s, tt.method, tt.fix, tt.docs)
			}
			for _, f := range rep.Findings() {
				if f.Status != finding.StatusError {
					continue
				}
				ev, _ := json.Marshal(f.Evidence)
				if f.Access == nil || !f.Access.SignIn || strings.Contains(f.Message, reason) || strings.Contains(string(ev), reason) {
					t.Errorf("%s: %q, evidence %s, access %+v; want a pointer to the sign-in error", f.Key, f.Message, ev, f.Access)
				}
			}
			if code := rep.ExitCode(finding.FailOnError); code != finding.ExitIncomplete {
				t.Errorf("exit code %d, want 3", code)
			}
		})
	}
}

// TestReadinessFollowsTheToggle: from the enabled sample (both experiences
// on, every prerequisite met), a lapsed prerequisite makes the experience
// BROKEN by the rule that no longer holds; an unreadable organization makes
// it UNKNOWN even beside a failure, since on and off cannot be told apart;
// the enabled profile leaves it ENABLED, and makes an off experience
// BLOCKED by its toggle rule.
func TestReadinessFollowsTheToggle(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name            string
		snapshot        string
		profile         string
		mutate          func(*snapshot.Snapshot)
		basic, enhanced finding.Readiness
		failing         []string // the Enhanced verdict's failing rules
	}{
		{name: "enabled", snapshot: "enabled", basic: finding.Enabled, enhanced: finding.Enabled},
		{name: "enabled under the enabled profile", snapshot: "enabled", profile: engine.ProfileEnabled, basic: finding.Enabled, enhanced: finding.Enabled},
		{name: "OneDrive switched on without SharePoint integration", snapshot: "enabled", mutate: func(s *snapshot.Snapshot) {
			s.Environments[0].Organization.Record.IsOneDriveEnabled = true
		}, basic: finding.Broken, enhanced: finding.Broken, failing: []string{"TL-SP-001"}},
		{name: "a target table's document management off", snapshot: "enabled", mutate: func(s *snapshot.Snapshot) {
			for i := range s.Environments[0].Entities.Tables {
				if tb := &s.Environments[0].Entities.Tables[i]; tb.LogicalName == "account" {
					tb.IsDocumentManagementEnabled = false
				}
			}
		}, basic: finding.Broken, enhanced: finding.Broken, failing: []string{"TL-ENT-001(account)"}},
		{name: "consent revoked", snapshot: "broken-consent", basic: finding.Enabled, enhanced: finding.Broken, failing: []string{"TL-CONSENT-001"}},
		{name: "only Enhanced on", snapshot: "enabled", mutate: func(s *snapshot.Snapshot) {
			s.Environments[0].Organization.Record.IsMSTeamsEnabled = false
		}, basic: finding.Ready, enhanced: finding.Enabled},
		{name: "organization unreadable beside a failure", snapshot: "no-ce-licence", mutate: func(s *snapshot.Snapshot) {
			s.Environments[0].Organization.Status, s.Environments[0].Organization.HTTPStatus = snapshot.StatusError, 500
		}, basic: finding.Unknown, enhanced: finding.Unknown, failing: []string{"TL-LIC-001"}},
		{name: "off under the enabled profile", snapshot: "ready", profile: engine.ProfileEnabled,
			basic: finding.Blocked, enhanced: finding.Blocked, failing: []string{"TL-ENV-001", "TL-ENV-002"}},
	}
	eng := builtin(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			snap := readSnapshot(t, tt.snapshot)
			if tt.mutate != nil {
				tt.mutate(snap)
			}
			rep, err := eng.Evaluate(t.Context(), snap, engine.Options{Now: testNow, Profile: tt.profile})
			if err != nil {
				t.Fatal(err)
			}
			env := rep.Environments[0]
			basic, enhanced := env.Verdict(finding.ExperienceBasic), env.Verdict(finding.ExperienceEnhanced)
			if basic.Readiness != tt.basic || enhanced.Readiness != tt.enhanced {
				t.Errorf("basic %s, enhanced %s (failing %v, unknown %v); want %s, %s", basic.Readiness, enhanced.Readiness, enhanced.Blocking, enhanced.Unknown, tt.basic, tt.enhanced)
			}
			if !slices.Equal(enhanced.Blocking, tt.failing) {
				t.Errorf("enhanced failing %v, want %v", enhanced.Blocking, tt.failing)
			}
			broken := tt.enhanced == finding.Broken || tt.basic == finding.Broken || tt.enhanced == finding.Blocked
			if code := rep.ExitCode(finding.FailOnFail); broken && code != finding.ExitFindings {
				t.Errorf("exit code %d, want 1", code)
			}
		})
	}
}

// manualRules are the built-in checks made by hand.
func manualRules(eng *engine.Engine) []string {
	var ids []string
	for _, r := range eng.Rules() {
		if strings.HasPrefix(r.ID, "TL-MAN-") {
			ids = append(ids, r.ID)
		}
	}
	return ids
}
