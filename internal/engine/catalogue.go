package engine

import (
	"fmt"
	"slices"
	"strings"

	"github.com/open-policy-agent/opa/v1/ast"

	"github.com/teamslink/teamslink/internal/finding"
)

// Scope says what one result of a rule is about: finding.Scope, which each
// finding carries so that summaries count a tenant finding once.
type Scope = finding.Scope

// Rule scopes: one result per environment, one per target table, or one per
// environment from an evaluation made once per tenant (the rule reads only the
// tenant and the options).
const (
	ScopeEnvironment = finding.ScopeEnvironment
	ScopeTable       = finding.ScopeTable
	ScopeTenant      = finding.ScopeTenant
)

// Rule is one catalogue entry, read from a policy's METADATA annotation.
type Rule struct {
	ID          string           `json:"id"`
	Title       string           `json:"title"`
	Description string           `json:"description"`
	Severity    finding.Severity `json:"severity"`
	ErrorCode   string           `json:"errorCode,omitempty"`
	// Explains are other error texts, verbatim from the docs, that the rule
	// lies behind (METADATA custom.explains); explain finds rules by them too.
	Explains    []string             `json:"explains,omitempty"`
	Experiences []finding.Experience `json:"experiences"`
	Scope       Scope                `json:"scope"`
	Docs        string               `json:"docs,omitempty"`
	Remediation string               `json:"remediation,omitempty"`
	Fix         *finding.Fix         `json:"automatedFix,omitempty"`
	Assumptions []string             `json:"assumptions,omitempty"`
	// Package is the Rego package that yields the rule's results.
	Package string `json:"package"`
	// Location is file:row of the annotated rule.
	Location string `json:"location"`
	// Builtin is true for the embedded policies, false for --policy-dir ones.
	Builtin bool `json:"builtin"`
}

// Info is the rule's catalogue entry as a report carries it.
func (r Rule) Info() finding.RuleInfo {
	return finding.RuleInfo{
		ID: r.ID, Title: r.Title, Description: r.Description, Severity: r.Severity,
		Scope: r.Scope, Experiences: slices.Clone(r.Experiences), ErrorCode: r.ErrorCode,
		Docs: r.Docs, Remediation: r.Remediation, Fix: r.Fix, Builtin: r.Builtin,
	}
}

// AppliesTo reports whether the rule is a prerequisite of experience x.
func (r Rule) AppliesTo(x finding.Experience) bool { return slices.Contains(r.Experiences, x) }

// builtinPrefix is reserved for the embedded catalogue.
const builtinPrefix = "TL-"

// readCatalogue builds the rule catalogue from every annotation that carries
// custom.id. builtinFiles names the files of the embedded policies.
func readCatalogue(c *ast.Compiler, builtinFiles map[string]bool) ([]Rule, error) {
	var rules []Rule
	var problems []string
	seen := map[string]string{}
	for _, ref := range c.GetAnnotationSet().Flatten() {
		a := ref.Annotations
		if a == nil || a.Custom == nil {
			continue
		}
		if _, ok := a.Custom["id"]; !ok {
			continue
		}
		loc := location(a.Location)
		r, err := ruleFromAnnotation(ref)
		if err != nil {
			problems = append(problems, loc+": "+err.Error())
			continue
		}
		r.Location = loc
		r.Builtin = a.Location != nil && builtinFiles[a.Location.File]
		if r.Builtin != strings.HasPrefix(r.ID, builtinPrefix) {
			problems = append(problems, fmt.Sprintf("%s: rule id %q: ids starting %q are reserved for the built-in policies", loc, r.ID, builtinPrefix))
			continue
		}
		if prev, dup := seen[r.ID]; dup {
			problems = append(problems, fmt.Sprintf("%s: rule id %q is already declared at %s", loc, r.ID, prev))
			continue
		}
		seen[r.ID] = loc
		rules = append(rules, r)
	}
	if len(problems) > 0 {
		return nil, &PolicyError{Problems: problems}
	}
	slices.SortFunc(rules, func(a, b Rule) int { return strings.Compare(a.ID, b.ID) })
	return rules, nil
}

func ruleFromAnnotation(ref *ast.AnnotationsRef) (Rule, error) {
	a := ref.Annotations
	m := a.Custom
	r := Rule{Title: a.Title, Description: a.Description}
	var err error
	str := func(key string, required bool) string {
		v, ok := m[key]
		if !ok || v == nil {
			if required && err == nil {
				err = fmt.Errorf("METADATA custom.%s is required", key)
			}
			return ""
		}
		s, ok := v.(string)
		if !ok && err == nil {
			err = fmt.Errorf("METADATA custom.%s must be a string", key)
		}
		return s
	}
	r.ID = str("id", true)
	r.Severity = finding.Severity(str("severity", true))
	r.ErrorCode = str("error_code", false)
	r.Docs = str("docs", false)
	r.Remediation = str("remediation", false)
	r.Scope = Scope(str("scope", true))
	if err != nil {
		return r, err
	}
	if r.Title == "" {
		return r, fmt.Errorf("rule %s: METADATA title is required", r.ID)
	}
	if !r.Severity.Valid() {
		return r, fmt.Errorf("rule %s: severity %q is not one of critical, high, medium, low, info", r.ID, r.Severity)
	}
	if r.Scope != ScopeEnvironment && r.Scope != ScopeTable && r.Scope != ScopeTenant {
		return r, fmt.Errorf("rule %s: scope %q is not one of environment, table, tenant", r.ID, r.Scope)
	}
	exps, ok := m["experience"].([]any)
	if !ok || len(exps) == 0 {
		return r, fmt.Errorf("rule %s: METADATA custom.experience must list basic and/or enhanced", r.ID)
	}
	for _, e := range exps {
		s, _ := e.(string)
		x, perr := finding.ParseExperience(s)
		if perr != nil {
			return r, fmt.Errorf("rule %s: %w", r.ID, perr)
		}
		r.Experiences = append(r.Experiences, x)
	}
	if fix, ok := m["automated_fix"].(map[string]any); ok {
		action, _ := fix["action"].(string)
		desc, _ := fix["description"].(string)
		if action == "" {
			return r, fmt.Errorf("rule %s: automated_fix.action is required", r.ID)
		}
		r.Fix = &finding.Fix{Action: action, Description: desc}
	}
	if v, ok := m["explains"]; ok {
		list, isList := v.([]any)
		if !isList {
			return r, fmt.Errorf("rule %s: METADATA custom.explains must be a list of error texts", r.ID)
		}
		for _, e := range list {
			text, isText := e.(string)
			if !isText || strings.TrimSpace(text) == "" {
				return r, fmt.Errorf("rule %s: METADATA custom.explains entries must be non-empty strings", r.ID)
			}
			r.Explains = append(r.Explains, text)
		}
	}
	if as, ok := m["assumptions"].([]any); ok {
		for _, s := range as {
			if str, ok := s.(string); ok {
				r.Assumptions = append(r.Assumptions, str)
			}
		}
	}
	if pkg := ref.GetPackage(); pkg != nil {
		r.Package = pkg.Path.String()
	}
	return r, nil
}

func location(l *ast.Location) string {
	if l == nil {
		return "<unknown>"
	}
	return fmt.Sprintf("%s:%d", l.File, l.Row)
}
