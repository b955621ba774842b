package policies_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/rego"
	"github.com/open-policy-agent/opa/v1/tester"

	"github.com/teamslink/teamslink/policies"
)

// parserOptions are the options the engine parses policies with.
var parserOptions = ast.ParserOptions{RegoVersion: ast.RegoV1, ProcessAnnotation: true}

// loadModules parses the embedded Rego files; withTests adds the *_test.rego
// files (unit tests and fixtures) that production compilation leaves out.
func loadModules(t *testing.T, withTests bool) map[string]*ast.Module {
	t.Helper()
	modules := map[string]*ast.Module{}
	err := fs.WalkDir(policies.FS, policies.Root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() || !strings.HasSuffix(path, ".rego") {
			return nil
		}
		if !withTests && strings.HasSuffix(path, policies.TestSuffix) {
			return nil
		}
		src, err := fs.ReadFile(policies.FS, path)
		if err != nil {
			return fmt.Errorf("read %s: %w", path, err)
		}
		mod, err := ast.ParseModuleWithOpts(path, string(src), parserOptions)
		if err != nil {
			return fmt.Errorf("parse %s: %w", path, err)
		}
		modules[path] = mod
		return nil
	})
	if err != nil {
		t.Fatalf("load policies: %v", err)
	}
	if len(modules) == 0 {
		t.Fatal("no Rego modules embedded")
	}
	return modules
}

// newCompiler is a strict compiler on the pinned capabilities.
func newCompiler(t *testing.T) *ast.Compiler {
	t.Helper()
	return ast.NewCompiler().
		WithCapabilities(loadCapabilities(t)).
		WithStrict(true).
		WithDefaultRegoVersion(ast.RegoV1).
		WithEnablePrintStatements(true)
}

// compileErrors renders compile errors one per line as file:row: message.
func compileErrors(err error) string {
	var errs ast.Errors
	if !errors.As(err, &errs) {
		return err.Error()
	}
	lines := make([]string, 0, len(errs))
	for _, e := range errs {
		if e.Location != nil {
			lines = append(lines, fmt.Sprintf("%s:%d: %s", e.Location.File, e.Location.Row, e.Message))
			continue
		}
		lines = append(lines, e.Message)
	}
	return strings.Join(lines, "\n")
}

func compile(t *testing.T, withTests bool) *ast.Compiler {
	t.Helper()
	c := newCompiler(t)
	if c.Compile(loadModules(t, withTests)); c.Failed() {
		t.Fatalf("compile policies:\n%s", compileErrors(c.Errors))
	}
	return c
}

// rule is one catalogue entry as the engine reads it from METADATA.
type rule struct {
	ID       string
	Package  string
	Scope    string
	Severity string
	Custom   map[string]any
	Ann      *ast.Annotations
}

// catalogue reads every annotated rule carrying custom.id.
func catalogue(t *testing.T, c *ast.Compiler) map[string]rule {
	t.Helper()
	rules := map[string]rule{}
	for _, ar := range c.GetAnnotationSet().Flatten() {
		a := ar.Annotations
		id, ok := a.Custom["id"].(string)
		if !ok {
			continue
		}
		if a.Scope != "rule" {
			t.Errorf("%s: METADATA with custom.id has scope %q, want rule", id, a.Scope)
		}
		if prev, dup := rules[id]; dup {
			t.Errorf("%s is annotated twice: %s and %s", id, prev.Ann.Location, a.Location)
		}
		scope, _ := a.Custom["scope"].(string)
		severity, _ := a.Custom["severity"].(string)
		rules[id] = rule{
			ID:       id,
			Package:  ar.GetPackage().Path.String(),
			Scope:    scope,
			Severity: severity,
			Custom:   a.Custom,
			Ann:      a,
		}
	}
	return rules
}

// wantFixes are the automated fixes DESIGN.md's catalogue lists.
var wantFixes = map[string]string{
	"TL-LIC-001":     "",
	"TL-LIC-002":     "",
	"TL-ROLE-001":    "",
	"TL-ROLE-002":    "",
	"TL-ROLE-003":    "",
	"TL-CONSENT-001": "admin-consent-url",
	"TL-SP-001":      "disable-onedrive",
	"TL-SP-002":      "deactivate-sites",
	"TL-SP-003":      "delete-document-locations",
	"TL-SP-004":      "",
	"TL-SP-005":      "",
	"TL-ENT-001":     "enable-document-management",
	"TL-ENT-002":     "set-teams-document-status",
	"TL-ENV-001":     "enable-basic",
	"TL-ENV-002":     "enable-enhanced",
	"TL-GRP-001":     "",
	"TL-MAN-001":     "",
	"TL-MAN-002":     "",
	"TL-MAN-003":     "",
}

// enhancedOnly are the rules that apply to the Enhanced experience only.
var enhancedOnly = map[string]bool{"TL-ROLE-002": true, "TL-CONSENT-001": true, "TL-ENV-002": true}

// wantErrorCodes are the documented errors the rules explain, verbatim.
var wantErrorCodes = map[string]string{
	"TL-CONSENT-001": "The admin has not consented to use user sync feature, you can add them manually.",
	"TL-SP-001":      "800503ca",
	"TL-SP-002":      "800503ca",
	"TL-SP-003":      "800503ca",
	"TL-SP-004":      "You cannot enable Microsoft Teams integration since the environment is integrated with SharePoint on-premises",
	"TL-ENT-001":     "This record isn't connected to Dynamics 365. Repin the tab and try again.",
	"TL-ROLE-003":    "User does not have permissions to create SharePoint Site or Document Location. This record is not connected to Dynamics 365.",
	"TL-MAN-001":     "I can't find the Dynamics 365 app in the Microsoft Teams app store.",
	"TL-MAN-003":     "Sorry, the environment you selected isn't up-to-date or isn't supported. Please select another environment.",
	"TL-GRP-001":     "Error while creating a team or channel. The property is missing a required prefix/suffix per your organization's Group naming requirements",
}

var (
	kebab      = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)
	ruleID     = regexp.MustCompile(`^TL-([A-Z]+)-(\d{3})$`)
	statuses   = []string{"pass", "fail", "warn", "error", "skip", "manual"}
	severities = []string{"critical", "high", "medium", "low", "info"}
)

func TestCatalogueMetadata(t *testing.T) {
	t.Parallel()
	rules := catalogue(t, compile(t, false))

	if got, want := slices.Sorted(maps.Keys(rules)), slices.Sorted(maps.Keys(wantFixes)); !slices.Equal(got, want) {
		t.Fatalf("catalogue ids = %v, want %v", got, want)
	}
	for _, id := range slices.Sorted(maps.Keys(rules)) {
		r := rules[id]
		t.Run(id, func(t *testing.T) {
			t.Parallel()
			a := r.Ann
			if a.Title == "" || a.Description == "" {
				t.Error("title and description are required")
			}
			if !strings.HasPrefix(r.Package, "data.teamslink.") {
				t.Errorf("package %s is not under data.teamslink", r.Package)
			}
			if !slices.Contains(severities, r.Severity) {
				t.Errorf("severity %q is not one of %v", r.Severity, severities)
			}
			if !slices.Contains([]string{"environment", "table", "tenant"}, r.Scope) {
				t.Errorf("scope %q, want environment, table or tenant", r.Scope)
			}
			exp, ok := r.Custom["experience"].([]any)
			if !ok || len(exp) == 0 {
				t.Fatalf("experience %v is not a non-empty list", r.Custom["experience"])
			}
			want := []any{"basic", "enhanced"}
			if enhancedOnly[id] {
				want = []any{"enhanced"}
			}
			if !slices.Equal(exp, want) {
				t.Errorf("experience %v, want %v", exp, want)
			}
			if docs, _ := r.Custom["docs"].(string); !strings.HasPrefix(docs, "https://learn.microsoft.com/") {
				t.Errorf("docs %q is not a learn.microsoft.com URL", docs)
			}
			if rem, _ := r.Custom["remediation"].(string); strings.TrimSpace(rem) == "" {
				t.Error("remediation is required")
			}
			if got, want := r.Custom["error_code"], wantErrorCodes[id]; (want == "" && got != nil) || (want != "" && got != want) {
				t.Errorf("error_code = %q, want %q", got, want)
			}
			if ex, ok := r.Custom["explains"]; ok {
				list, _ := ex.([]any)
				if len(list) == 0 {
					t.Errorf("explains %v must be a non-empty list of strings", ex)
				}
				for _, s := range list {
					if str, _ := s.(string); str == "" {
						t.Errorf("explains entry %v is not a non-empty string", s)
					}
				}
			}
			if as, ok := r.Custom["assumptions"]; ok {
				list, _ := as.([]any)
				if len(list) == 0 {
					t.Errorf("assumptions %v must be a non-empty list of strings", as)
				}
				for _, s := range list {
					if str, _ := s.(string); str == "" {
						t.Errorf("assumption %v is not a non-empty string", s)
					}
				}
			}
			fix, hasFix := r.Custom["automated_fix"].(map[string]any)
			switch want := wantFixes[id]; {
			case want == "" && r.Custom["automated_fix"] != nil:
				t.Errorf("automated_fix %v, want none", r.Custom["automated_fix"])
			case want != "" && !hasFix:
				t.Errorf("automated_fix missing, want action %s", want)
			case want != "":
				action, _ := fix["action"].(string)
				desc, _ := fix["description"].(string)
				if action != want || !kebab.MatchString(action) || desc == "" {
					t.Errorf("automated_fix = %v, want action %s with a description", fix, want)
				}
			}
		})
	}
}

// TestRego runs every Rego unit test as a subtest, compiled strictly against
// capabilities.json.
func TestRego(t *testing.T) {
	t.Parallel()
	modules := loadModules(t, true)

	runner := tester.NewRunner().
		SetCompiler(newCompiler(t)).
		SetModules(modules).
		CapturePrintOutput(true).
		RaiseBuiltinErrors(true).
		SetTimeout(30 * time.Second)
	ch, err := runner.RunTests(t.Context(), nil)
	if err != nil {
		t.Fatalf("run Rego tests:\n%s", compileErrors(err))
	}
	var results []*tester.Result
	for r := range ch {
		results = append(results, r)
	}
	slices.SortFunc(results, func(a, b *tester.Result) int {
		return strings.Compare(a.Package+"."+a.Name, b.Package+"."+b.Name)
	})

	for _, r := range results {
		t.Run(strings.TrimPrefix(r.Package, "data.")+"/"+r.Name, func(t *testing.T) {
			t.Parallel()
			switch {
			case r.Skip:
				t.Skip("todo test")
			case r.Error != nil:
				t.Fatalf("%s: error: %v\n%s", r.Location, r.Error, r.Output)
			case r.Fail:
				t.Fatalf("%s: failed at %v\n%s", r.Location, r.FailedAt, r.Output)
			}
		})
	}

	t.Run("coverage of the catalogue", func(t *testing.T) {
		t.Parallel()
		if len(results) < 56 {
			t.Errorf("%d Rego tests, want at least 56", len(results))
		}
		for id := range wantFixes {
			m := ruleID.FindStringSubmatch(id)
			prefix := fmt.Sprintf("test_%s_%s_", strings.ToLower(m[1]), m[2])
			n := 0
			for _, r := range results {
				if strings.HasPrefix(r.Name, prefix) {
					n++
				}
			}
			if n < 4 {
				t.Errorf("%s has %d tests named %s*, want at least 4", id, n, prefix)
			}
		}
	})
}

// readySnapshot is testdata/snapshots/ready.json: a compliant environment.
func readySnapshot(t *testing.T) map[string]any {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "testdata", "snapshots", "ready.json"))
	if err != nil {
		t.Fatalf("read ready snapshot: %v", err)
	}
	var snap map[string]any
	if err := json.Unmarshal(raw, &snap); err != nil {
		t.Fatalf("decode ready snapshot: %v", err)
	}
	return snap
}

// readyInput is the engine's input for the ready snapshot's environment.
func readyInput(t *testing.T, experience, profile string, tables ...string) map[string]any {
	t.Helper()
	snap := readySnapshot(t)
	return map[string]any{
		"tenant":      snap["tenants"].([]any)[0],
		"environment": snap["environments"].([]any)[0],
		"options": map[string]any{
			"experience": experience,
			"profile":    profile,
			"tables":     tables,
		},
	}
}

// normalise round-trips v through JSON so values compare by content.
func normalise(t *testing.T, v any) any {
	t.Helper()
	raw, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("marshal: %v", err)
	}
	var out any
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatalf("unmarshal: %v", err)
	}
	return out
}

// TestFixtureMirrorsReadySnapshot keeps the Rego base fixture equal to the
// ready snapshot, so Rego tests start from the same compliant state.
func TestFixtureMirrorsReadySnapshot(t *testing.T) {
	t.Parallel()
	c := compile(t, true)
	rs, err := rego.New(rego.Compiler(c), rego.Query("x := data.teamslink.test.base_input")).Eval(t.Context())
	if err != nil || len(rs) != 1 {
		t.Fatalf("evaluate base_input: %v (%d results)", err, len(rs))
	}
	got := normalise(t, rs[0].Bindings["x"]).(map[string]any)
	want := normalise(t, readyInput(t, "enhanced", "preflight", "account", "contact", "new_project")).(map[string]any)
	for _, key := range []string{"tenant", "environment", "options"} {
		if !reflect.DeepEqual(got[key], want[key]) {
			g, _ := json.MarshalIndent(got[key], "", "  ")
			w, _ := json.MarshalIndent(want[key], "", "  ")
			t.Errorf("base_input.%s differs from ready.json:\n got: %s\nwant: %s", key, g, w)
		}
	}
}

// evaluator evaluates every family's results and tenant_results on an input,
// as the engine does: tenant_results see only the tenant and the options.
type evaluator struct {
	queries map[string]rego.PreparedEvalQuery // package path.rule -> query
	rules   map[string]rule
}

func newEvaluator(t *testing.T) *evaluator {
	t.Helper()
	c := compile(t, false)
	e := &evaluator{queries: map[string]rego.PreparedEvalQuery{}, rules: catalogue(t, c)}
	for _, mod := range c.Modules {
		for _, r := range mod.Rules {
			name := r.Head.Name.String()
			if name != "results" && name != "tenant_results" {
				continue
			}
			ref := mod.Package.Path.String() + "." + name
			if _, done := e.queries[ref]; done {
				continue
			}
			pq, err := rego.New(rego.Compiler(c), rego.Query(ref)).PrepareForEval(t.Context())
			if err != nil {
				t.Fatalf("prepare %s: %v", ref, err)
			}
			e.queries[ref] = pq
		}
	}
	return e
}

// result is one element of a family's results set.
type result struct {
	Package  string
	Tenant   bool           // from tenant_results
	ID       string         `json:"id"`
	Status   string         `json:"status"`
	Message  string         `json:"message"`
	Table    *string        `json:"table"`
	Evidence map[string]any `json:"evidence"`
	keys     []string
}

func (e *evaluator) eval(t *testing.T, input map[string]any) []result {
	t.Helper()
	normalised := normalise(t, input)
	in, err := ast.InterfaceToValue(normalised)
	if err != nil {
		t.Fatalf("convert input: %v", err)
	}
	tenantIn, err := ast.InterfaceToValue(tenantInput(normalised))
	if err != nil {
		t.Fatalf("convert tenant input: %v", err)
	}
	var out []result
	for _, ref := range slices.Sorted(maps.Keys(e.queries)) {
		pkg, tenant := ref[:strings.LastIndex(ref, ".")], strings.HasSuffix(ref, ".tenant_results")
		query := in
		if tenant {
			query = tenantIn
		}
		rs, err := e.queries[ref].Eval(t.Context(), rego.EvalParsedInput(query))
		if err != nil {
			t.Fatalf("evaluate %s: %v", ref, err)
		}
		if len(rs) != 1 || len(rs[0].Expressions) != 1 {
			t.Fatalf("%s is undefined", ref)
		}
		items, ok := rs[0].Expressions[0].Value.([]any)
		if !ok {
			t.Fatalf("%s is %T, want a set", ref, rs[0].Expressions[0].Value)
		}
		for _, item := range items {
			raw, err := json.Marshal(item)
			if err != nil {
				t.Fatalf("marshal result: %v", err)
			}
			var r result
			if err := json.Unmarshal(raw, &r); err != nil {
				t.Fatalf("%s: result %s does not decode: %v", pkg, raw, err)
			}
			var keys map[string]any
			_ = json.Unmarshal(raw, &keys)
			r.keys = slices.Sorted(maps.Keys(keys))
			r.Package = pkg
			r.Tenant = tenant
			out = append(out, r)
		}
	}
	return out
}

// key names a result's target: the rule id, plus the table for table rules.
func (r result) key() string {
	if r.Table != nil {
		return r.ID + "@" + *r.Table
	}
	return r.ID
}

// checkContract asserts the engine contract on one evaluation: known ids,
// valid shapes, and exactly one result per rule per target.
func (e *evaluator) checkContract(t *testing.T, input map[string]any, results []result) map[string]result {
	t.Helper()
	var tables []string
	if opts, ok := input["options"].(map[string]any); ok {
		if ts, ok := opts["tables"].([]string); ok {
			tables = ts
		}
	}
	byKey := map[string]result{}
	for _, r := range results {
		def, ok := e.rules[r.ID]
		if !ok {
			t.Errorf("%s yields result id %q that is not in the catalogue", r.Package, r.ID)
			continue
		}
		if def.Package != r.Package {
			t.Errorf("%s: result comes from %s but the rule is annotated in %s", r.ID, r.Package, def.Package)
		}
		if (def.Scope == "tenant") != r.Tenant {
			t.Errorf("%s: scope %s, but the result came from tenant_results=%v", r.ID, def.Scope, r.Tenant)
		}
		if !slices.Contains(statuses, r.Status) {
			t.Errorf("%s: status %q is not one of %v", r.key(), r.Status, statuses)
		}
		if strings.TrimSpace(r.Message) == "" {
			t.Errorf("%s: empty message", r.key())
		}
		if r.Evidence == nil {
			t.Errorf("%s: evidence is not an object", r.key())
		}
		wantKeys := []string{"evidence", "id", "message", "status"}
		if def.Scope == "table" {
			wantKeys = []string{"evidence", "id", "message", "status", "table"}
			if r.Table == nil || !slices.Contains(tables, *r.Table) {
				t.Errorf("%s: table %v is not one of options.tables %v", r.ID, r.Table, tables)
			}
		}
		if !slices.Equal(r.keys, wantKeys) {
			t.Errorf("%s: result keys %v, want %v", r.key(), r.keys, wantKeys)
		}
		if r.Status == "error" {
			for _, k := range []string{"section", "sectionStatus", "error", "httpStatus"} {
				if _, ok := r.Evidence[k]; !ok {
					t.Errorf("%s: error evidence lacks %q: %v", r.key(), k, r.Evidence)
				}
			}
		}
		if _, dup := byKey[r.key()]; dup {
			t.Errorf("%s: more than one result", r.key())
		}
		byKey[r.key()] = r
	}
	for id, def := range e.rules {
		targets := []string{id}
		if def.Scope == "table" {
			targets = nil
			for _, tb := range tables {
				targets = append(targets, id+"@"+tb)
			}
		}
		for _, k := range targets {
			if _, ok := byKey[k]; !ok {
				t.Errorf("%s: no result", k)
			}
		}
	}
	return byKey
}

// sections are every snapshot section a policy may read.
var sections = []string{
	"tenant.licenses", "tenant.consent", "tenant.caller", "tenant.sharePoint", "tenant.groupSettings",
	"environment.organization", "environment.sharePointSites", "environment.documentLocations",
	"environment.entities", "environment.caller", "environment.rolePrivileges",
}

// dependsOn lists the sections each rule reads on the ready input.
var dependsOn = map[string][]string{
	"TL-LIC-001":     {"tenant.licenses"},
	"TL-LIC-002":     {"tenant.licenses"},
	"TL-ROLE-001":    {"environment.caller"},
	"TL-ROLE-002":    {"tenant.caller"},
	"TL-ROLE-003":    {"environment.rolePrivileges"},
	"TL-CONSENT-001": {"tenant.consent"},
	"TL-SP-001":      {"environment.organization", "environment.sharePointSites"},
	"TL-SP-002":      {"environment.organization", "environment.sharePointSites"},
	"TL-SP-003":      {"environment.organization", "environment.sharePointSites", "environment.documentLocations"},
	"TL-SP-004":      {"environment.organization"},
	"TL-SP-005":      {"tenant.sharePoint"},
	"TL-ENT-001":     {"environment.entities"},
	"TL-ENT-002":     {"environment.entities"},
	"TL-ENV-001":     {"environment.organization"},
	"TL-ENV-002":     {"environment.organization"},
	"TL-GRP-001":     {"tenant.groupSettings"},
}

// section returns the map holding a dotted section path, and its last key.
func section(input map[string]any, path string) (map[string]any, string) {
	parts := strings.Split(path, ".")
	return input[parts[0]].(map[string]any), parts[1]
}

func TestResultsContract(t *testing.T) {
	t.Parallel()
	e := newEvaluator(t)

	tests := []struct {
		name   string
		input  func(t *testing.T) map[string]any
		expect map[string]string // key -> status; keys not listed are unchecked
	}{
		{
			name: "ready snapshot, enhanced preflight",
			input: func(t *testing.T) map[string]any {
				return readyInput(t, "enhanced", "preflight", "account", "contact", "new_project")
			},
			expect: map[string]string{
				"TL-LIC-001": "pass", "TL-LIC-002": "pass", "TL-ROLE-001": "pass", "TL-ROLE-002": "pass",
				"TL-CONSENT-001": "pass", "TL-SP-001": "pass", "TL-SP-002": "pass", "TL-SP-003": "pass",
				"TL-SP-004": "pass", "TL-SP-005": "pass", "TL-ENT-001@account": "pass", "TL-ENT-001@contact": "pass",
				"TL-ENT-001@new_project": "pass", "TL-ENT-002@account": "skip", "TL-ENT-002@contact": "skip",
				"TL-ENT-002@new_project": "pass", "TL-ENV-001": "skip", "TL-ENV-002": "skip",
			},
		},
		{
			name: "ready snapshot, basic enabled, an uncollected table",
			input: func(t *testing.T) map[string]any {
				return readyInput(t, "basic", "enabled", "account", "lead")
			},
			expect: map[string]string{
				"TL-ROLE-002": "skip", "TL-CONSENT-001": "skip", "TL-ENV-002": "skip", "TL-ENV-001": "fail",
				"TL-ENT-001@lead": "error", "TL-ENT-002@lead": "skip", "TL-ENT-001@account": "pass",
			},
		},
		{
			name: "no tables",
			input: func(t *testing.T) map[string]any {
				return readyInput(t, "enhanced", "enabled")
			},
			expect: map[string]string{"TL-ENV-001": "fail", "TL-ENV-002": "fail"},
		},
		{
			name: "empty input",
			input: func(*testing.T) map[string]any {
				return map[string]any{}
			},
			expect: map[string]string{
				"TL-LIC-001": "error", "TL-ROLE-002": "error", "TL-SP-001": "error", "TL-ENV-001": "error",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			input := tt.input(t)
			byKey := e.checkContract(t, input, e.eval(t, input))
			for k, want := range tt.expect {
				if got := byKey[k].Status; got != want {
					t.Errorf("%s: status %q, want %q (%s)", k, got, want, byKey[k].Message)
				}
			}
		})
	}
}

// TestNeverPassOnUnreadData breaks one section at a time (errored, skipped,
// missing) and checks that exactly the rules reading it turn to error while
// every other rule keeps its status.
func TestNeverPassOnUnreadData(t *testing.T) {
	t.Parallel()
	e := newEvaluator(t)
	tables := []string{"account", "contact", "new_project"}
	base := e.checkContract(t, readyInput(t, "enhanced", "preflight", tables...), e.eval(t, readyInput(t, "enhanced", "preflight", tables...)))

	breaks := []struct {
		name  string
		apply func(parent map[string]any, key string)
	}{
		{name: "error", apply: func(p map[string]any, k string) {
			s := p[k].(map[string]any)
			s["status"], s["error"], s["httpStatus"] = "error", "Principal user is missing a privilege", 403
		}},
		{name: "skipped", apply: func(p map[string]any, k string) {
			s := p[k].(map[string]any)
			s["status"], s["error"] = "skipped", "not requested"
		}},
		{name: "missing", apply: func(p map[string]any, k string) { delete(p, k) }},
	}
	for _, sec := range sections {
		for _, br := range breaks {
			t.Run(sec+"/"+br.name, func(t *testing.T) {
				t.Parallel()
				input := readyInput(t, "enhanced", "preflight", tables...)
				br.apply(section(input, sec))
				byKey := e.checkContract(t, input, e.eval(t, input))
				for k, r := range byKey {
					if !slices.Contains(dependsOn[r.ID], sec) {
						if r.Status != base[k].Status {
							t.Errorf("%s does not read %s but changed from %s to %s: %s", k, sec, base[k].Status, r.Status, r.Message)
						}
						continue
					}
					want := "error"
					if r.ID == "TL-ENT-002" && base[k].Status == "skip" {
						want = "skip" // out-of-box tables skip by name alone
					}
					if r.Status != want {
						t.Errorf("%s reads %s (%s) but is %s, want %s: %s", k, sec, br.name, r.Status, want, r.Message)
						continue
					}
					if want == "error" && (r.Evidence["section"] != sec || !strings.Contains(r.Message, sec)) {
						t.Errorf("%s: error names %v / %q, want section %s", k, r.Evidence["section"], r.Message, sec)
					}
				}
			})
		}
	}
}

// tenantInput is what a tenant evaluation sees of input: the tenant, and the
// options without the tables.
func tenantInput(input any) any {
	m, ok := input.(map[string]any)
	if !ok {
		return input
	}
	out := map[string]any{}
	if v, ok := m["tenant"]; ok {
		out["tenant"] = v
	}
	if opts, ok := m["options"].(map[string]any); ok {
		o := maps.Clone(opts)
		delete(o, "tables")
		out["options"] = o
	} else if v, ok := m["options"]; ok {
		out["options"] = v
	}
	return out
}
