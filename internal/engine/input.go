package engine

import (
	"fmt"

	"github.com/open-policy-agent/opa/v1/ast"

	"github.com/teamslink/teamslink/internal/snapshot"
)

// tenantValues converts each tenant to a Rego value once, so environments of
// the same tenant share it.
func tenantValues(snap *snapshot.Snapshot) (map[string]ast.Value, error) {
	out := make(map[string]ast.Value, len(snap.Tenants))
	for i := range snap.Tenants {
		v, err := toValue(&snap.Tenants[i])
		if err != nil {
			return nil, fmt.Errorf("tenants[%d]: %w", i, err)
		}
		out[snap.Tenants[i].ID] = v
	}
	return out, nil
}

// environmentInput builds the input document of one environment's
// evaluation: {"tenant", "environment", "options"}.
func environmentInput(tenant ast.Value, env *snapshot.Environment, a assessment) (ast.Value, error) {
	envValue, err := toValue(env)
	if err != nil {
		return nil, fmt.Errorf("environment %s: %w", env.URL, err)
	}
	tableTerms := make([]*ast.Term, len(a.tables))
	for i, t := range a.tables {
		tableTerms[i] = ast.StringTerm(t)
	}
	options := ast.NewObject(append(optionItems(a), ast.Item(ast.StringTerm("tables"), ast.ArrayTerm(tableTerms...)))...)
	return ast.NewObject(
		ast.Item(ast.StringTerm("tenant"), ast.NewTerm(tenant)),
		ast.Item(ast.StringTerm("environment"), ast.NewTerm(envValue)),
		ast.Item(ast.StringTerm("options"), ast.NewTerm(options)),
	), nil
}

// tenantInput builds the input document of a tenant evaluation:
// {"tenant", "options"}, where options has no tables.
func tenantInput(tenant ast.Value, a assessment) ast.Value {
	return ast.NewObject(
		ast.Item(ast.StringTerm("tenant"), ast.NewTerm(tenant)),
		ast.Item(ast.StringTerm("options"), ast.NewTerm(ast.NewObject(optionItems(a)...))),
	)
}

// optionItems are the options every evaluation has: experience and profile.
func optionItems(a assessment) [][2]*ast.Term {
	return [][2]*ast.Term{
		ast.Item(ast.StringTerm("experience"), ast.StringTerm(string(a.experience))),
		ast.Item(ast.StringTerm("profile"), ast.StringTerm(a.profile)),
	}
}
