package engine

import (
	"fmt"
	"slices"

	"github.com/open-policy-agent/opa/v1/ast"
)

// tenantOptions are the members of input.options a tenant evaluation has.
var tenantOptions = []string{"experience", "profile"}

// tenantIsolationProblems checks that the tenant_results of pkgs, and every
// rule and function they use, read no input but input.tenant and the
// experience and profile options. Their results are reused for every
// environment of the tenant, so a rule that read input.environment would see
// it missing and could pass on every environment alike. A reference to the
// whole input or options (input, input[x], input.options) counts, since it
// could reach what a tenant evaluation lacks.
func tenantIsolationProblems(c *ast.Compiler, pkgs []string) []string {
	var problems []string
	seen := map[*ast.Rule]bool{}
	var queue []*ast.Rule
	enqueue := func(rules []*ast.Rule) {
		for _, r := range rules {
			for ; r != nil; r = r.Else {
				if !seen[r] {
					seen[r] = true
					queue = append(queue, r)
				}
			}
		}
	}
	for _, pkg := range pkgs {
		enqueue(c.GetRules(ast.MustParseRef(pkg + "." + tenantResultsRule)))
	}
	reported := map[string]bool{}
	for len(queue) > 0 {
		r := queue[0]
		queue = queue[1:]
		ast.WalkRefs(r, func(ref ast.Ref) bool {
			switch {
			case ref.HasPrefix(ast.InputRootRef):
				if readsTenantOnly(ref) {
					return false
				}
				loc := location(ref[0].Location)
				if ref[0].Location == nil {
					loc = location(r.Location)
				}
				msg := fmt.Sprintf("%s: %s is read by a rule that %s uses; tenant rules are evaluated once per tenant and may read only input.tenant, input.options.experience and input.options.profile",
					loc, ref, tenantResultsRule)
				if !reported[msg] {
					reported[msg] = true
					problems = append(problems, msg)
				}
			case ref.HasPrefix(ast.DefaultRootRef):
				// An over-approximation where the ref has variables.
				enqueue(c.GetRulesDynamicWithOpts(ref, ast.RulesOptions{}))
			}
			return false
		})
	}
	slices.Sort(problems)
	return problems
}

// readsTenantOnly reports whether an input reference stays within what a
// tenant evaluation has: input.tenant, input.options.experience and
// input.options.profile, named by literal keys.
func readsTenantOnly(ref ast.Ref) bool {
	key := func(i int) (string, bool) {
		if len(ref) <= i {
			return "", false
		}
		s, ok := ref[i].Value.(ast.String)
		return string(s), ok
	}
	switch first, _ := key(1); first {
	case "tenant":
		return true
	case "options":
		option, ok := key(2)
		return ok && slices.Contains(tenantOptions, option)
	}
	return false
}
