package engine

import (
	"fmt"

	"github.com/open-policy-agent/opa/v1/ast"

	"github.com/teamslink/teamslink/internal/snapshot"
)

// tenantValues converts each tenant to a Rego value when its first
// environment is evaluated, shares it with the tenant's other environments
// and lets it go after the last: a fleet's evaluation holds the values of
// the tenants in progress, not of every tenant.
type tenantValues struct {
	snap      *snapshot.Snapshot
	at        map[string]int // tenant id → index in snap.Tenants
	remaining map[string]int // tenant id → environments not yet evaluated
	values    map[string]ast.Value
}

func newTenantValues(snap *snapshot.Snapshot) *tenantValues {
	tv := &tenantValues{
		snap:      snap,
		at:        make(map[string]int, len(snap.Tenants)),
		remaining: map[string]int{},
		values:    map[string]ast.Value{},
	}
	for i := range snap.Tenants {
		tv.at[snap.Tenants[i].ID] = i
	}
	for i := range snap.Environments {
		tv.remaining[snap.Environments[i].TenantID]++
	}
	return tv
}

// value is the Rego value of the tenant id.
func (tv *tenantValues) value(id string) (ast.Value, error) {
	if v, ok := tv.values[id]; ok {
		return v, nil
	}
	i, ok := tv.at[id]
	if !ok {
		return nil, fmt.Errorf("no tenant %q in the snapshot", id)
	}
	v, err := toValue(&tv.snap.Tenants[i])
	if err != nil {
		return nil, fmt.Errorf("tenants[%d]: %w", i, err)
	}
	tv.values[id] = v
	return v, nil
}

// done records that one environment of tenant id is evaluated, and says
// whether it was the last: its value is then dropped.
func (tv *tenantValues) done(id string) (last bool) {
	tv.remaining[id]--
	if tv.remaining[id] > 0 {
		return false
	}
	delete(tv.values, id)
	return true
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
