// Package engine compiles the embedded Rego policies (and any user policies)
// once, reads their METADATA into the rule catalogue, and evaluates snapshots
// against them, enforcing that every rule yields exactly one result per target.
package engine

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/rego"

	"github.com/teamslink/teamslink/policies"
)

// The rules a policy package defines for its results: results are evaluated
// for each environment, tenant_results once for each tenant (with the same
// options), since they read nothing but the tenant.
const (
	resultsRule       = "results"
	tenantResultsRule = "tenant_results"
)

// rootPackage is the package every policy, built-in or user, lives under.
// Everything under it is the built-in namespace except userPackage, under
// which every user policy has a package of its own: a user module that
// joined a built-in package would add its rules to the built-in ones (and
// its results to theirs), or add to the helpers the built-in rules use.
var (
	rootPackage = ast.MustParseRef("data.teamslink")
	userPackage = ast.MustParseRef("data.teamslink.custom")
)

// DefaultTimeout bounds each evaluation of a prepared query: an
// environment's results, or a tenant's tenant_results.
const DefaultTimeout = 5 * time.Second

// GCPercent is the garbage-collection target evaluation is tuned for, and
// that the teamslink binary sets unless GOGC is set: evaluation allocates
// much and keeps little (the compiled policies and a snapshot, a few MB), so
// collecting at 400% instead of Go's 100% spends about a sixth less CPU per
// environment for a few MB more heap. BenchmarkEvaluate measures both.
const GCPercent = 400

// MemoryLimit is the soft limit of the Go heap the teamslink binary sets
// unless GOMEMLIMIT is set: GCPercent lets the heap grow to five times what
// is live, which for a fleet's snapshot and report (tens of MB) would be
// hundreds of MB of garbage. Near the limit the collector runs more often
// instead; a scan whose live heap is larger still runs, at the cost of
// more collection.
const MemoryLimit = 96 << 20

// Config says which policies to load.
type Config struct {
	// PolicyDirs are extra directories of user policies (*.rego, tests
	// excluded), compiled under the same capabilities as the built-in ones.
	PolicyDirs []string
	// Timeout bounds one evaluation; zero means DefaultTimeout.
	Timeout time.Duration
}

// Engine holds the compiled policies and their prepared queries. It is safe
// for concurrent use.
type Engine struct {
	rules   []Rule
	byID    map[string]Rule
	queries []preparedQuery
	timeout time.Duration
}

// preparedQuery evaluates the results (or tenant_results) of a group of
// packages; built-in and user policies are prepared apart so a broken user
// policy cannot take the built-in results down with it.
type preparedQuery struct {
	packages []string
	tenant   bool // tenant_results, evaluated once per tenant
	query    rego.PreparedEvalQuery
}

// rule is the name of the rule the query reads in each package.
func (q *preparedQuery) rule() string {
	if q.tenant {
		return tenantResultsRule
	}
	return resultsRule
}

// owns reports whether rule r's results come from this query.
func (q *preparedQuery) owns(r Rule) bool {
	return (r.Scope == ScopeTenant) == q.tenant && slices.Contains(q.packages, r.Package)
}

// PolicyError is a problem in a policy: a compile error or a broken
// METADATA contract. Each problem reads "file:row: message".
type PolicyError struct {
	Problems []string
}

func (e *PolicyError) Error() string {
	return "policy error:\n  " + strings.Join(e.Problems, "\n  ")
}

// New compiles the built-in policies and those in cfg.PolicyDirs, builds the
// catalogue and prepares the queries.
func New(ctx context.Context, cfg Config) (*Engine, error) {
	caps, err := ast.LoadCapabilitiesJSON(bytes.NewReader(policies.Capabilities))
	if err != nil {
		return nil, fmt.Errorf("load capabilities: %w", err)
	}
	popts := ast.ParserOptions{ProcessAnnotation: true, RegoVersion: ast.RegoV1, Capabilities: caps}

	modules := map[string]*ast.Module{}
	builtinFiles := map[string]bool{}
	var problems []string
	err = fs.WalkDir(policies.FS, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !isPolicyFile(path) {
			return err
		}
		src, err := fs.ReadFile(policies.FS, path)
		if err != nil {
			return err
		}
		name := "policies/" + path
		m, err := ast.ParseModuleWithOpts(name, string(src), popts)
		if err != nil {
			problems = append(problems, astProblems(err)...)
			return nil
		}
		modules[name] = m
		builtinFiles[name] = true
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read embedded policies: %w", err)
	}
	for _, dir := range cfg.PolicyDirs {
		userModules, userProblems, err := parseDir(dir, popts)
		if err != nil {
			return nil, err
		}
		problems = append(problems, userProblems...)
		for name, m := range userModules {
			if problem := userPackageProblem(name, m); problem != "" {
				problems = append(problems, problem)
				continue
			}
			modules[name] = m
		}
	}
	if len(problems) > 0 {
		return nil, &PolicyError{Problems: problems}
	}

	compiler := ast.NewCompiler().
		WithCapabilities(caps).
		WithStrict(true).
		WithDefaultRegoVersion(ast.RegoV1).
		WithEnablePrintStatements(false)
	if compiler.Compile(modules); compiler.Failed() {
		return nil, &PolicyError{Problems: astProblems(compiler.Errors)}
	}

	rules, err := readCatalogue(compiler, builtinFiles)
	if err != nil {
		return nil, err
	}
	e := &Engine{rules: rules, byID: map[string]Rule{}, timeout: cfg.Timeout}
	if e.timeout <= 0 {
		e.timeout = DefaultTimeout
	}
	for _, r := range rules {
		e.byID[r.ID] = r
	}

	builtin, user := resultPackages(modules, builtinFiles)
	if err := checkEveryRuleHasPackage(rules, builtin, user); err != nil {
		return nil, err
	}
	if problems := tenantIsolationProblems(compiler, append(slices.Clone(builtin.tenant), user.tenant...)); len(problems) > 0 {
		return nil, &PolicyError{Problems: problems}
	}
	for _, pkgs := range []packageSet{builtin, user} {
		for _, tenant := range []bool{true, false} {
			names := pkgs.of(tenant)
			if len(names) == 0 {
				continue
			}
			q, err := prepare(ctx, compiler, names, tenant)
			if err != nil {
				return nil, err
			}
			e.queries = append(e.queries, q)
		}
	}
	return e, nil
}

// Rules returns the catalogue, sorted by id.
func (e *Engine) Rules() []Rule { return slices.Clone(e.rules) }

// Rule returns the catalogue entry with the given id.
func (e *Engine) Rule(id string) (Rule, bool) {
	r, ok := e.byID[strings.ToUpper(strings.TrimSpace(id))]
	return r, ok
}

func isPolicyFile(path string) bool {
	return strings.HasSuffix(path, ".rego") && !strings.HasSuffix(path, "_test.rego")
}

// parseDir parses every policy file under dir.
func parseDir(dir string, popts ast.ParserOptions) (map[string]*ast.Module, []string, error) {
	modules := map[string]*ast.Module{}
	var problems []string
	info, err := os.Stat(dir)
	if err != nil {
		return nil, nil, &PolicyError{Problems: []string{fmt.Sprintf("policy directory %s: %v", dir, errors.Unwrap(err))}}
	}
	if !info.IsDir() {
		return nil, nil, &PolicyError{Problems: []string{fmt.Sprintf("policy directory %s: not a directory", dir)}}
	}
	err = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !isPolicyFile(path) {
			return err
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		m, err := ast.ParseModuleWithOpts(path, string(src), popts)
		if err != nil {
			problems = append(problems, astProblems(err)...)
			return nil
		}
		modules[path] = m
		return nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("read policy directory %s: %w", dir, err)
	}
	if len(modules) == 0 && len(problems) == 0 {
		return nil, nil, &PolicyError{Problems: []string{fmt.Sprintf("policy directory %s: no .rego policies found", dir)}}
	}
	return modules, problems, nil
}

// userPackageProblem says why user module m, parsed from file name, may not
// have its package, or returns "" when its package is under userPackage.
func userPackageProblem(name string, m *ast.Module) string {
	path := m.Package.Path
	if len(path) > len(userPackage) && path.HasPrefix(userPackage) {
		return ""
	}
	where := "is not under teamslink.custom"
	if path.HasPrefix(rootPackage) && !path.HasPrefix(userPackage) {
		where = "is in the built-in namespace"
	}
	return fmt.Sprintf("%s:%d: package %s %s; user policies go in a package of their own under teamslink.custom, e.g. package teamslink.custom.%s",
		name, m.Package.Location.Row, strings.TrimPrefix(path.String(), "data."), where, filepath.Base(strings.TrimSuffix(name, ".rego")))
}

// astProblems renders OPA errors as "file:row: message".
func astProblems(err error) []string {
	var errs ast.Errors
	if errors.As(err, &errs) {
		out := make([]string, 0, len(errs))
		for _, e := range errs {
			if e.Location != nil {
				out = append(out, fmt.Sprintf("%s:%d: %s", e.Location.File, e.Location.Row, e.Message))
			} else {
				out = append(out, e.Message)
			}
		}
		return out
	}
	return []string{err.Error()}
}

// packageSet lists the packages that define results (environment) and
// tenant_results (tenant), each sorted.
type packageSet struct {
	environment, tenant []string
}

// of returns the packages of tenant_results (tenant) or results.
func (s packageSet) of(tenant bool) []string {
	if tenant {
		return s.tenant
	}
	return s.environment
}

// resultPackages finds the result packages, built-in and user apart.
func resultPackages(modules map[string]*ast.Module, builtinFiles map[string]bool) (builtin, user packageSet) {
	names := make([]string, 0, len(modules))
	for name := range modules {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		m := modules[name]
		pkg := m.Package.Path.String()
		set := &user
		if builtinFiles[name] {
			set = &builtin
		}
		for _, r := range m.Rules {
			switch r.Head.Ref().String() {
			case resultsRule:
				if !slices.Contains(set.environment, pkg) {
					set.environment = append(set.environment, pkg)
				}
			case tenantResultsRule:
				if !slices.Contains(set.tenant, pkg) {
					set.tenant = append(set.tenant, pkg)
				}
			}
		}
	}
	return builtin, user
}

// checkEveryRuleHasPackage checks that each rule's package defines the rule
// its results belong in: tenant_results for scope tenant, results otherwise.
func checkEveryRuleHasPackage(rules []Rule, sets ...packageSet) error {
	var problems []string
	for _, r := range rules {
		want, found := resultsRule, false
		if r.Scope == ScopeTenant {
			want = tenantResultsRule
		}
		for _, set := range sets {
			found = found || slices.Contains(set.of(r.Scope == ScopeTenant), r.Package)
		}
		if !found {
			problems = append(problems, fmt.Sprintf("%s: rule %s (scope %s): package %s defines no %q rule", r.Location, r.ID, r.Scope, strings.TrimPrefix(r.Package, "data."), want))
		}
	}
	if len(problems) > 0 {
		return &PolicyError{Problems: problems}
	}
	return nil
}

// prepare builds one query that returns the results (or, for tenant, the
// tenant_results) of every package in pkgs, as an array in the same order.
func prepare(ctx context.Context, c *ast.Compiler, pkgs []string, tenant bool) (preparedQuery, error) {
	rule := resultsRule
	if tenant {
		rule = tenantResultsRule
	}
	refs := make([]string, len(pkgs))
	for i, p := range pkgs {
		refs[i] = p + "." + rule
	}
	q := "results := [" + strings.Join(refs, ", ") + "]"
	pq, err := rego.New(
		rego.Compiler(c),
		rego.Query(q),
		rego.StrictBuiltinErrors(true),
	).PrepareForEval(ctx)
	if err != nil {
		return preparedQuery{}, fmt.Errorf("prepare policy query: %w", err)
	}
	return preparedQuery{packages: pkgs, tenant: tenant, query: pq}, nil
}
