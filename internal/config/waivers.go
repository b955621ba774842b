package config

import (
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/teamslink/teamslink/internal/finding"
)

// Waiver accepts the findings of one rule, for a tenant, an environment or
// a table, until a date: a prerequisite the organisation knowingly leaves
// unmet, or a manual check it has made. A waived finding is reported as
// waived, with the reason and owner, and blocks nothing; once the waiver's
// last day has passed it stops applying and the report says so. A waiver
// never covers an error: data nobody could read is not accepted by anyone.
type Waiver struct {
	// Rule is the rule id, e.g. TL-SP-005; it must be in the catalogue
	// (config check and scan refuse an unknown one).
	Rule string `yaml:"rule"`
	// Tenant is the id or name of a tenant of this file; empty covers
	// every tenant.
	Tenant string `yaml:"tenant"`
	// Environment is the URL or name of an environment of this file (of
	// the tenant, when one is given); empty covers every environment.
	Environment string `yaml:"environment"`
	// Table is a table logical name; empty covers every table.
	Table string `yaml:"table"`
	// Reason says why the finding is accepted; required.
	Reason string `yaml:"reason"`
	// Owner is who answers for the decision, e.g. an e-mail address; required.
	Owner string `yaml:"owner"`
	// Expires is the last day the waiver applies, YYYY-MM-DD (UTC);
	// required, so that every waiver is looked at again.
	Expires string `yaml:"expires"`
}

// rulePattern is the form of a rule id: TL-SP-005, or a --policy-dir
// rule's own (ACME-001).
var rulePattern = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9]*(-[A-Za-z0-9]+)+$`)

// waivers checks every waiver of c against the tenants and environments it
// declares.
func (v *validator) waivers(c *Config) {
	for i, w := range c.Waivers {
		p := fmt.Sprintf("waivers[%d]", i)
		switch {
		case w.Rule == "":
			v.add(p+".rule", "required: the id of the rule whose findings are accepted, e.g. TL-SP-005 (teamslink rules lists them)")
		case !rulePattern.MatchString(w.Rule):
			v.add(p+".rule", "%q is not a rule id (e.g. TL-SP-005; teamslink rules lists them)", w.Rule)
		}
		tenant := -1
		if w.Tenant != "" {
			if tenant = c.tenantIndex(w.Tenant); tenant < 0 {
				v.add(p+".tenant", "no tenant of this file has the id or name %q", w.Tenant)
			}
		}
		if w.Environment != "" && !(w.Tenant != "" && tenant < 0) {
			_, _, ok := c.environmentOf(tenant, w.Environment)
			switch {
			case ok:
			case c.discovers(tenant) && isURL(w.Environment):
				// An environment discovery may find: checked when it runs.
			case c.discovers(tenant):
				v.add(p+".environment", "no environment of %s has the URL or name %q; for an environment discovery finds, give its URL (its name is not known before discovery)", c.scopeName(tenant), w.Environment)
			default:
				v.add(p+".environment", "no environment of %s has the URL or name %q", c.scopeName(tenant), w.Environment)
			}
		}
		if w.Table != "" && !logicalPattern.MatchString(w.Table) {
			v.add(p+".table", "%q is not a table logical name (lower case letters, digits and _, e.g. account, new_project)", w.Table)
		}
		if strings.TrimSpace(w.Reason) == "" {
			v.add(p+".reason", "required: why the finding is accepted")
		}
		if strings.TrimSpace(w.Owner) == "" {
			v.add(p+".owner", "required: who answers for the waiver, e.g. an e-mail address")
		}
		switch _, err := time.Parse(time.DateOnly, w.Expires); {
		case w.Expires == "":
			v.add(p+".expires", "required: the last day the waiver applies, YYYY-MM-DD, so that it is looked at again")
		case err != nil:
			v.add(p+".expires", "%q is not a date YYYY-MM-DD", w.Expires)
		}
	}
}

// scopeName names the tenant at index ti, or the whole file when ti < 0.
func (c *Config) scopeName(ti int) string {
	if ti >= 0 {
		return fmt.Sprintf("tenant %s", c.Tenants[ti].ID)
	}
	return "this file"
}

// tenantIndex is the index of the tenant whose id (any case) or name is s,
// or -1.
func (c *Config) tenantIndex(s string) int {
	for i, t := range c.Tenants {
		if strings.EqualFold(t.ID, s) || (t.Name != "" && t.Name == s) {
			return i
		}
	}
	return -1
}

// environmentOf finds the environment whose URL (compared as envKey does)
// or name is s, in tenant ti or, when ti < 0, in any tenant.
func (c *Config) environmentOf(ti int, s string) (tenant int, env Environment, ok bool) {
	key := envKey(strings.TrimSuffix(s, "/"))
	for i, t := range c.Tenants {
		if ti >= 0 && i != ti {
			continue
		}
		for _, e := range t.Environments {
			if (key != "" && envKey(e.URL) == key) || (e.Name != "" && e.Name == s) {
				return i, e, true
			}
		}
	}
	return -1, Environment{}, false
}

// WaiverRules are the config's waivers in the form the engine applies:
// tenants and environments resolved to the ids and URLs findings carry, the
// rule id in upper case, and where each is declared.
func (c *Config) WaiverRules() []finding.WaiverRule {
	out := make([]finding.WaiverRule, 0, len(c.Waivers))
	for i, w := range c.Waivers {
		r := finding.WaiverRule{
			Rule: strings.ToUpper(w.Rule), Table: w.Table,
			Reason: strings.TrimSpace(w.Reason), Owner: strings.TrimSpace(w.Owner),
			Source: c.where(fmt.Sprintf("waivers[%d]", i)),
		}
		ti := -1
		if w.Tenant != "" {
			ti = c.tenantIndex(w.Tenant)
			if ti >= 0 {
				r.Tenant = c.Tenants[ti].ID
			}
		}
		if w.Environment != "" {
			if t, e, ok := c.environmentOf(ti, w.Environment); ok {
				r.Tenant, r.Environment = c.Tenants[t].ID, e.URL
			} else {
				// An environment discovery may find (Validate allows only
				// its URL): never widened to every environment.
				r.Environment = strings.TrimSuffix(w.Environment, "/")
			}
		}
		r.Expires, _ = time.Parse(time.DateOnly, w.Expires) // validated: midnight UTC
		out = append(out, r)
	}
	return out
}

// DeclaredAt is the line of the file that declares the environment with
// this tenant id and URL: its url key or, for an environment the tenant
// discovers, the tenant's discover key; nil when the config was not read
// from a file or declares no such environment.
func (c *Config) DeclaredAt(tenant, url string) *finding.SourceLine {
	if c.src == nil {
		return nil
	}
	key := envKey(url)
	for i, t := range c.Tenants {
		if !strings.EqualFold(t.ID, tenant) {
			continue
		}
		path := ""
		for j, e := range t.Environments {
			if envKey(e.URL) == key {
				path = fmt.Sprintf("tenants[%d].environments[%d].url", i, j)
				break
			}
		}
		if path == "" && t.Discover != nil {
			// A discovered environment is declared by the discover block.
			path = fmt.Sprintf("tenants[%d].discover", i)
		}
		if path == "" {
			continue
		}
		line := c.src.line(path)
		if line == 0 {
			return nil
		}
		return &finding.SourceLine{File: c.src.name, Line: line}
	}
	return nil
}

// where is file:line of a key path, or "" when the config has no file.
func (c *Config) where(path string) string {
	if c.src == nil {
		return ""
	}
	if line := c.src.line(path); line > 0 {
		return fmt.Sprintf("%s:%d", c.src.name, line)
	}
	return c.src.name
}
