package config

import (
	"fmt"
	"net/url"
	"slices"
	"strings"

	"github.com/teamslink/teamslink/internal/cloud"
)

// Discover asks teamslink to list a tenant's Dataverse environments
// instead of (or beside) naming them under environments, and says which of
// those it finds to scan. Every list that is empty lets everything
// through, except States, which defaults to Enabled. Discovered
// environments take the config defaults (experience, profile, tables).
type Discover struct {
	// Source is the service that lists them: bap (the Power Platform admin
	// API, for a service principal registered as a management app) or gds
	// (the Global Discovery Service, for a signed-in user). The default
	// follows the auth method: gds for azure-cli and device-code, which
	// sign in a person; bap for the others, which sign in an application.
	Source DiscoverySource `yaml:"source"`
	// Types are the environment types to scan: Production, Sandbox,
	// Trial, Developer, Default (the tenant's default environment). Only
	// the admin API says an environment's type.
	Types []string `yaml:"types"`
	// States are the states to scan, Enabled and Disabled; default Enabled.
	States []string `yaml:"states"`
	// Include are glob patterns (* any run of characters, ? one) of which
	// an environment's URL, host or name must match one; empty matches all.
	Include []string `yaml:"include"`
	// Exclude are glob patterns of the same form; a match is not scanned.
	Exclude []string `yaml:"exclude"`
}

// DiscoverySource names the service that lists a tenant's environments.
type DiscoverySource string

// The discovery sources.
const (
	SourceBAP DiscoverySource = "bap" // Power Platform admin API
	SourceGDS DiscoverySource = "gds" // Dataverse Global Discovery Service
)

// DiscoverySources lists the valid sources.
var DiscoverySources = []DiscoverySource{SourceBAP, SourceGDS}

// EnvironmentTypes are the types discover.types may name.
var EnvironmentTypes = []string{"Production", "Sandbox", "Trial", "Developer", "Default"}

// EnvironmentStates are the states discover.states may name.
var EnvironmentStates = []string{"Enabled", "Disabled"}

// DefaultSource is the discovery source of a tenant that names none: gds
// for the methods that sign in a person (azure-cli, device-code), bap for
// those that sign in an application.
func DefaultSource(m Method) DiscoverySource {
	if m == MethodAzureCLI || m == MethodDeviceCode {
		return SourceGDS
	}
	return SourceBAP
}

// AdminAPI is the Power Platform admin API root the tenant uses, without a
// trailing slash, and its token scope: the endpoints.bap and
// endpoints.bapScope overrides, or the cloud's. Either is "" where the
// cloud's is NOT CONFIRMED (every cloud but public) and no override is set.
func (t Tenant) AdminAPI() (root, scope string) {
	c, _ := cloud.For(t.Cloud)
	root, scope = c.AdminAPIURL, c.AdminAPIScope
	if t.Endpoints.BAP != "" {
		root = t.Endpoints.BAP
	}
	if t.Endpoints.BAPScope != "" {
		scope = t.Endpoints.BAPScope
	}
	return strings.TrimSuffix(root, "/"), scope
}

// GlobalDiscoveryURL is the Global Discovery Service root the tenant uses,
// without a trailing slash: the endpoints.globalDiscovery override, or its
// cloud's. It is "" only for an unknown cloud.
func (t Tenant) GlobalDiscoveryURL() string {
	if t.Endpoints.GlobalDiscovery != "" {
		return strings.TrimSuffix(t.Endpoints.GlobalDiscovery, "/")
	}
	c, _ := cloud.For(t.Cloud)
	return c.GlobalDiscoveryURL
}

// AcceptsEnvironmentHost reports whether an environment on host may be
// scanned for the tenant: a Dynamics 365 host of its cloud or, once its
// endpoints are overridden (the emulator), any host. Discovered
// environments pass the same check as the URLs of this file.
func (t Tenant) AcceptsEnvironmentHost(host string) bool {
	return t.Endpoints.Overridden() || cloud.KnownDataverseHost(t.Cloud, host)
}

// applyDiscoverDefaults fills the source from the auth method and the
// states with Enabled.
func (t *Tenant) applyDiscoverDefaults() {
	t.Endpoints.BAP = strings.TrimSuffix(t.Endpoints.BAP, "/")
	t.Endpoints.GlobalDiscovery = strings.TrimSuffix(t.Endpoints.GlobalDiscovery, "/")
	d := t.Discover
	if d == nil {
		return
	}
	if d.Source == "" {
		d.Source = DefaultSource(t.Auth.Method)
	}
	if d.States == nil {
		d.States = []string{"Enabled"}
	}
}

// discover checks a tenant's discover block and the endpoints it needs.
func (v *validator) discover(p string, t Tenant, c cloud.Cloud, cloudOK bool) {
	d := t.Discover
	if d == nil {
		return
	}
	dp := p + ".discover"
	switch {
	case d.Source == "":
		v.add(dp+".source", "required (valid: %s)", sourceList())
	case !slices.Contains(DiscoverySources, d.Source):
		v.add(dp+".source", "unknown source %q (valid: %s)", d.Source, sourceList())
	}
	if d.Source == SourceBAP && cloudOK {
		root, scope := t.AdminAPI()
		switch {
		case root == "":
			v.add(dp+".source", "the Power Platform admin API of cloud %s is NOT CONFIRMED: set endpoints.bap and endpoints.bapScope to its root URL and token scope, or use source gds", c.Name)
		case scope == "":
			v.add(p+".endpoints.bapScope", "required with endpoints.bap in cloud %s, whose admin API token scope is NOT CONFIRMED", c.Name)
		}
	}
	v.names(dp+".types", d.Types, EnvironmentTypes, "an environment type")
	if d.Source == SourceGDS && len(d.Types) > 0 {
		v.add(dp+".types", "the Global Discovery Service does not say an environment's type; filter by include or exclude patterns, or use source bap")
	}
	v.names(dp+".states", d.States, EnvironmentStates, "an environment state")
	v.patterns(dp+".include", d.Include)
	v.patterns(dp+".exclude", d.Exclude)
}

// names checks that every item is one of valid (any case), once.
func (v *validator) names(p string, items, valid []string, what string) {
	seen := map[string]bool{}
	for i, s := range items {
		ip := fmt.Sprintf("%s[%d]", p, i)
		key := strings.ToLower(s)
		switch {
		case !slices.ContainsFunc(valid, func(x string) bool { return strings.EqualFold(x, s) }):
			v.add(ip, "%q is not %s (valid: %s)", s, what, strings.Join(valid, ", "))
		case seen[key]:
			v.add(ip, "%s is listed twice", s)
		}
		seen[key] = true
	}
}

// patterns checks glob patterns: not empty, no control characters.
func (v *validator) patterns(p string, items []string) {
	for i, s := range items {
		ip := fmt.Sprintf("%s[%d]", p, i)
		switch {
		case strings.TrimSpace(s) == "":
			v.add(ip, "empty pattern: write a URL, host or name, with * for any run of characters and ? for one")
		case strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f }):
			v.add(ip, "has a control character")
		}
	}
}

// discoveryEndpoints checks the endpoint overrides of discovery.
func (v *validator) discoveryEndpoints(p string, e Endpoints) {
	if e.BAP != "" {
		v.rootURL(p+".bap", e.BAP)
	}
	if e.GlobalDiscovery != "" {
		v.rootURL(p+".globalDiscovery", e.GlobalDiscovery)
	}
	if s := e.BAPScope; s != "" {
		u, err := url.Parse(s)
		if err != nil || u.Scheme != "https" || u.Host == "" || !strings.HasSuffix(s, "/.default") {
			v.add(p+".bapScope", "must be a token scope, https://<resource>/.default (the public cloud's is https://service.powerapps.com//.default)")
		}
	}
}

func sourceList() string {
	s := make([]string, len(DiscoverySources))
	for i, d := range DiscoverySources {
		s[i] = string(d)
	}
	return strings.Join(s, ", ")
}

// discovers reports whether the tenant at index ti, or any tenant when ti
// is negative, discovers its environments.
func (c *Config) discovers(ti int) bool {
	for i, t := range c.Tenants {
		if (ti < 0 || i == ti) && t.Discover != nil {
			return true
		}
	}
	return false
}

// isURL reports whether s reads as an https URL (a waiver naming a
// discovered environment must give its URL: its name is not known before
// discovery).
func isURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && u.Scheme == "https" && u.Host != ""
}

// SameEnvironment reports whether two environment URLs name the same
// environment: hosts compared without regard to case, the Web API host
// <org>.api.<zone> folded onto <org>.<zone>, port 443 dropped.
func SameEnvironment(a, b string) bool {
	ka, kb := envKey(strings.TrimSuffix(a, "/")), envKey(strings.TrimSuffix(b, "/"))
	return ka != "" && ka == kb
}
