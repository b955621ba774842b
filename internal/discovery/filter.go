package discovery

import (
	"net/url"
	"regexp"
	"slices"
	"strings"
)

// Filter decides which discovered environments to scan. Every list that is
// empty lets everything through; names compare without regard to case.
type Filter struct {
	// Types are the SKUs to scan (TypeProduction, ...); TypeDefault
	// matches the tenant's default environment whatever its SKU.
	Types []string
	// States are the states to scan, e.g. StateEnabled.
	States []string
	// Include are glob patterns (* any run of characters, ? one character)
	// of which an environment's URL, host or name must match one.
	Include []string
	// Exclude are glob patterns of the same form; an environment matching
	// one is not scanned, even when an include pattern matches it.
	Exclude []string
	// KnownHost, when set, must accept an environment's host (a Dynamics
	// 365 host of the tenant's cloud) for it to be scanned: a token is
	// never sent to a host a discovery answer names unless it passes the
	// check tenants.yaml URLs pass.
	KnownHost func(host string) bool
}

// Decision is one discovered environment and whether to scan it.
type Decision struct {
	Environment
	// Scan is true when the environment passed every filter.
	Scan bool `json:"scan"`
	// Reason says why it is not scanned, e.g. "in state Disabled (states:
	// Enabled)"; "" when it is.
	Reason string `json:"reason,omitempty"`
}

// Decide applies the filter to each environment, in order. An environment
// without a Dataverse database, with a URL that is not an https root, on an
// unknown host, or listed a second time is never scanned.
func (f Filter) Decide(envs []Environment) []Decision {
	include := compileAll(f.Include)
	exclude := compileAll(f.Exclude)
	seen := map[string]bool{}
	out := make([]Decision, len(envs))
	for i, e := range envs {
		out[i] = Decision{Environment: e}
		reason := f.reason(e, include, exclude)
		if reason == "" {
			if key := e.Host(); seen[key] {
				reason = "listed twice by the service"
			} else {
				seen[key] = true
			}
		}
		out[i].Scan, out[i].Reason = reason == "", reason
	}
	return out
}

func (f Filter) reason(e Environment, include, exclude []*regexp.Regexp) string {
	if e.URL == "" {
		return "with no Dataverse database"
	}
	u, err := url.Parse(e.URL)
	if err != nil || u.Scheme != "https" || u.Hostname() == "" || u.User != nil || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
		return "with a URL that is not an https root URL"
	}
	if f.KnownHost != nil && !f.KnownHost(u.Hostname()) {
		return "on a host that is not a Dynamics 365 host of the tenant's cloud"
	}
	if len(f.Types) > 0 && !f.typeMatches(e) {
		t := e.Type
		if t == "" {
			t = "unknown"
		}
		return "of type " + t + " (types: " + strings.Join(f.Types, ", ") + ")"
	}
	if len(f.States) > 0 && !containsFold(f.States, e.State) {
		s := e.State
		if s == "" {
			s = "unknown"
		}
		return "in state " + s + " (states: " + strings.Join(f.States, ", ") + ")"
	}
	subjects := []string{strings.TrimSuffix(e.URL, "/"), e.Host(), e.Name}
	if len(include) > 0 && !anyMatch(include, subjects) {
		return "matching no include pattern"
	}
	for i, re := range exclude {
		if anyMatch([]*regexp.Regexp{re}, subjects) {
			return "matching exclude pattern " + f.Exclude[i]
		}
	}
	return ""
}

func (f Filter) typeMatches(e Environment) bool {
	if e.Default && containsFold(f.Types, TypeDefault) {
		return true
	}
	return e.Type != "" && containsFold(f.Types, e.Type)
}

func containsFold(list []string, s string) bool {
	return s != "" && slices.ContainsFunc(list, func(x string) bool { return strings.EqualFold(x, s) })
}

func anyMatch(res []*regexp.Regexp, subjects []string) bool {
	for _, re := range res {
		for _, s := range subjects {
			if s != "" && re.MatchString(s) {
				return true
			}
		}
	}
	return false
}

func compileAll(patterns []string) []*regexp.Regexp {
	out := make([]*regexp.Regexp, len(patterns))
	for i, p := range patterns {
		out[i] = Glob(p)
	}
	return out
}

// Glob compiles a pattern in which * stands for any run of characters
// (slashes and dots included) and ? for one character, and every other
// character for itself, matched against a whole string without regard to
// case. Every string is a valid pattern.
func Glob(pattern string) *regexp.Regexp {
	var b strings.Builder
	b.WriteString(`(?is)^`)
	for _, r := range pattern {
		switch r {
		case '*':
			b.WriteString(`.*`)
		case '?':
			b.WriteString(`.`)
		default:
			b.WriteString(regexp.QuoteMeta(string(r)))
		}
	}
	b.WriteString(`$`)
	return regexp.MustCompile(b.String())
}
