package permissions

import (
	"net/url"
	"slices"
	"strings"
)

// Sections lists the snapshot sections the table's scan requests fill, in
// table order.
func Sections() []string {
	var out []string
	for _, r := range ForMode(ModeScan) {
		if r.Section != "" && !slices.Contains(out, r.Section) {
			out = append(out, r.Section)
		}
	}
	return out
}

// roots are the service roots below which the table's paths are given.
var roots = []string{"/v1.0/", "/api/data/v9.2/", "/api/discovery/v2.0/", "/"}

// Needs says what reading a snapshot section takes, for error advice: when
// source (a section's "METHOD URL") is a request of the table for that
// section, what that request needs; otherwise what every request of the
// section needs, each named. It is "" for a section the table does not fill.
func Needs(section, source string) string {
	var rs []Request
	for _, r := range ForMode(ModeScan) {
		if r.Section == section {
			rs = append(rs, r)
		}
	}
	if len(rs) == 0 {
		return ""
	}
	if method, raw, ok := strings.Cut(source, " "); ok {
		if u, err := url.Parse(raw); err == nil {
			path := u.EscapedPath()
			if u.RawQuery != "" {
				path += "?" + u.RawQuery
			}
			for _, root := range roots {
				rel, ok := strings.CutPrefix(path, root)
				if !ok {
					continue
				}
				for _, r := range rs {
					// A source may leave out the query a pattern expects.
					if strings.EqualFold(r.Method, method) && (r.pattern.MatchString(rel) || r.pattern.MatchString(rel+"?")) {
						return needText(r)
					}
				}
			}
		}
	}
	parts := make([]string, len(rs))
	for i, r := range rs {
		parts[i] = needText(r)
	}
	return strings.Join(slices.Compact(parts), "; ")
}

// needText says in a phrase what one request needs.
func needText(r Request) string {
	req := r.Method + " " + strings.SplitN(r.Path, "?", 2)[0]
	var parts []string
	if len(r.Application) > 0 {
		parts = append(parts, "the Microsoft Graph application permission "+grants(r.Application))
	}
	if len(r.Delegated) > 0 {
		parts = append(parts, "the delegated permission "+grants(r.Delegated))
	}
	if len(r.Dataverse) > 0 {
		parts = append(parts, "in Dataverse, "+dataverseGrants(r.Dataverse))
	}
	if len(r.Role) > 0 {
		parts = append(parts, "the "+grants(r.Role)+" role")
	}
	need := strings.Join(parts, ", or for a person ")
	if r.Service == SharePoint || r.Service == Dataverse || len(r.Application) == 0 {
		need = strings.Join(parts, "; ")
	}
	return need + " (for " + req + ", docs/permissions.md)"
}
