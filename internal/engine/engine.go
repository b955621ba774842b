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

// resultsRule is the rule every policy package defines for its results.
const resultsRule = "results"

// rootPackage is the package every policy, built-in or user, lives under.
var rootPackage = ast.MustParseRef("data.teamslink")

// DefaultTimeout bounds one evaluation of one environment.
const DefaultTimeout = 5 * time.Second

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

// preparedQuery evaluates the results of a group of packages; built-in and
// user policies are prepared apart so a broken user policy cannot take the
// built-in results down with it.
type preparedQuery struct {
	packages []string
	query    rego.PreparedEvalQuery
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
			if !m.Package.Path.HasPrefix(rootPackage) {
				problems = append(problems, fmt.Sprintf("%s:%d: package %s must be under teamslink (for example package teamslink.custom.%s)",
					name, m.Package.Location.Row, strings.TrimPrefix(m.Package.Path.String(), "data."), filepath.Base(strings.TrimSuffix(name, ".rego"))))
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

	builtinPkgs, userPkgs := resultPackages(modules, builtinFiles)
	if err := checkEveryRuleHasPackage(rules, append(slices.Clone(builtinPkgs), userPkgs...)); err != nil {
		return nil, err
	}
	for _, pkgs := range [][]string{builtinPkgs, userPkgs} {
		if len(pkgs) == 0 {
			continue
		}
		q, err := prepare(ctx, compiler, pkgs)
		if err != nil {
			return nil, err
		}
		e.queries = append(e.queries, q)
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

// resultPackages lists the packages that define a results rule, built-in and
// user apart, each sorted.
func resultPackages(modules map[string]*ast.Module, builtinFiles map[string]bool) (builtin, user []string) {
	seen := map[string]bool{}
	names := make([]string, 0, len(modules))
	for name := range modules {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		m := modules[name]
		pkg := m.Package.Path.String()
		if seen[pkg] {
			continue
		}
		for _, r := range m.Rules {
			if r.Head.Ref().String() == resultsRule {
				seen[pkg] = true
				if builtinFiles[name] {
					builtin = append(builtin, pkg)
				} else {
					user = append(user, pkg)
				}
				break
			}
		}
	}
	return builtin, user
}

func checkEveryRuleHasPackage(rules []Rule, pkgs []string) error {
	var problems []string
	for _, r := range rules {
		if !slices.Contains(pkgs, r.Package) {
			problems = append(problems, fmt.Sprintf("%s: rule %s: package %s defines no %q rule", r.Location, r.ID, strings.TrimPrefix(r.Package, "data."), resultsRule))
		}
	}
	if len(problems) > 0 {
		return &PolicyError{Problems: problems}
	}
	return nil
}

// prepare builds one query that returns the results of every package in pkgs,
// as an array in the same order.
func prepare(ctx context.Context, c *ast.Compiler, pkgs []string) (preparedQuery, error) {
	refs := make([]string, len(pkgs))
	for i, p := range pkgs {
		refs[i] = p + "." + resultsRule
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
	return preparedQuery{packages: pkgs, query: pq}, nil
}
