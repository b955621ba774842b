package redact

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"

	"github.com/teamslink/teamslink/internal/snapshot"
)

// Snapshot returns a redacted deep copy of s; s is not changed.
//
// Replaced: tenant and environment ids and names, environment URLs, every
// host and URL, the caller's user principal name and object ids, site,
// document location and custom security role names, record ids and ETags,
// the values of group naming settings, and whatever free text (errors,
// request lines) repeats them. Kept: what rules decide on and what names
// no customer — SKU and service plan ids and names, the collaboration
// app's appId and display name, role template ids and the names of
// Microsoft's roles, table logical names and metadata ids, privilege ids
// and names, flags, counts, statuses and times.
func (r *Redactor) Snapshot(s *snapshot.Snapshot) (*snapshot.Snapshot, error) {
	c, err := deepCopy(s)
	if err != nil {
		return nil, err
	}
	// Structured fields first, so free text can repeat what they learned.
	for i := range c.Tenants {
		r.tenant(&c.Tenants[i])
	}
	for i := range c.Environments {
		r.environment(&c.Environments[i])
	}
	for i := range c.Tenants {
		t := &c.Tenants[i]
		for _, sec := range []*snapshot.Section{&t.Licenses.Section, &t.Consent.Section, &t.Caller.Section, &t.SharePoint.Section} {
			r.section(sec)
		}
		if t.GroupSettings != nil {
			r.section(&t.GroupSettings.Section)
		}
		if t.SignIn != nil {
			t.SignIn.Error = r.Text(t.SignIn.Error)
		}
	}
	for i := range c.Environments {
		e := &c.Environments[i]
		for _, sec := range []*snapshot.Section{&e.Organization.Section, &e.SharePointSites.Section, &e.DocumentLocations.Section, &e.Entities.Section, &e.Caller.Section} {
			r.section(sec)
		}
		if e.RolePrivileges != nil {
			r.section(&e.RolePrivileges.Section)
		}
	}
	return c, nil
}

func deepCopy(s *snapshot.Snapshot) (*snapshot.Snapshot, error) {
	data, err := json.Marshal(s)
	if err != nil {
		return nil, fmt.Errorf("redact snapshot: %w", err)
	}
	var c snapshot.Snapshot
	if err := json.Unmarshal(data, &c); err != nil {
		return nil, fmt.Errorf("redact snapshot: %w", err)
	}
	return &c, nil
}

func (r *Redactor) section(s *snapshot.Section) {
	s.Error = r.Text(s.Error)
	s.Source = r.Text(s.Source)
}

func (r *Redactor) tenant(t *snapshot.Tenant) {
	t.ID = r.ID(t.ID)
	t.Name = r.Name("tenant", t.Name)
	if sp := t.Consent.ServicePrincipal; sp != nil {
		sp.ID = r.ID(sp.ID) // appId and displayName are Microsoft's app
	}
	t.Consent.GraphServicePrincipalID = r.ID(t.Consent.GraphServicePrincipalID)
	for i := range t.Consent.Grants {
		g := &t.Consent.Grants[i]
		g.ID, g.ClientID, g.ResourceID = r.ID(g.ID), r.ID(g.ClientID), r.ID(g.ResourceID)
		if g.PrincipalID != nil {
			p := r.ID(*g.PrincipalID)
			g.PrincipalID = &p
		}
	}
	t.Caller.ObjectID = r.ID(t.Caller.ObjectID)
	t.Caller.UserPrincipalName = r.Email(t.Caller.UserPrincipalName)
	if t.SharePoint.AdminURL != "" {
		t.SharePoint.AdminURL = r.URL(t.SharePoint.AdminURL)
	}
	if gs := t.GroupSettings; gs != nil {
		for i := range gs.Settings {
			st := &gs.Settings[i]
			st.ID = r.ID(st.ID)
			for j := range st.Values {
				st.Values[j].Value = r.settingValue(st.Values[j].Name, st.Values[j].Value)
			}
		}
	}
	if t.SignIn != nil {
		t.SignIn.ClientID = r.ID(t.SignIn.ClientID)
	}
}

// Group.Unified values that hold the customer's own words; the others are
// booleans and ids.
var wordSettings = map[string]bool{
	"prefixsuffixnamingrequirement": true, "customblockedwordslist": true,
	"classificationlist": true, "defaultclassification": true, "classificationdescriptions": true,
	"usageguidelinesurl": true, "guestusageguidelinesurl": true, "groupcreationallowedgroupid": true,
}

var placeholderRE = regexp.MustCompile(`\[[^\]]*\]`)

// settingValue redacts the words of a naming setting and keeps its shape:
// as many comma-separated parts, each empty where it was, the [GroupName]
// style placeholders where they were.
func (r *Redactor) settingValue(name, value string) string {
	if !wordSettings[strings.ToLower(name)] || strings.TrimSpace(value) == "" {
		return value
	}
	parts := strings.Split(value, ",")
	for i, p := range parts {
		if strings.TrimSpace(p) == "" {
			continue
		}
		var b strings.Builder
		last := 0
		for _, loc := range placeholderRE.FindAllStringIndex(p, -1) {
			if lit := p[last:loc[0]]; strings.TrimSpace(lit) != "" {
				b.WriteString(r.Name("word", lit))
			}
			b.WriteString(p[loc[0]:loc[1]])
			last = loc[1]
		}
		if lit := p[last:]; strings.TrimSpace(lit) != "" {
			b.WriteString(r.Name("word", lit))
		}
		parts[i] = b.String()
	}
	return strings.Join(parts, ",")
}

func (r *Redactor) environment(e *snapshot.Environment) {
	e.TenantID = r.ID(e.TenantID)
	e.URL = r.URL(e.URL)
	e.ID = r.ID(e.ID)
	e.Name = r.Name("env", e.Name)
	if rec := e.Organization.Record; rec != nil {
		rec.ETag = ETag
		rec.OrganizationID = r.ID(rec.OrganizationID)
	}
	site := func(s *snapshot.SharePointSite) {
		s.ETag = ETag
		s.ID = r.ID(s.ID)
		s.Name = r.Name("site", s.Name)
		s.AbsoluteURL = r.URL(s.AbsoluteURL)
		s.RelativeURL = r.relative(s.RelativeURL)
	}
	if d := e.SharePointSites.DefaultSite; d != nil {
		site(d)
	}
	for i := range e.SharePointSites.Sample {
		site(&e.SharePointSites.Sample[i])
	}
	for i := range e.DocumentLocations.Sample {
		l := &e.DocumentLocations.Sample[i]
		l.ETag = ETag
		l.ID = r.ID(l.ID)
		l.Name = r.Name("location", l.Name)
		l.AbsoluteURL = r.URL(l.AbsoluteURL)
		if l.RelativeURL != nil {
			v := r.relative(*l.RelativeURL)
			l.RelativeURL = &v
		}
		l.ParentSiteOrLocation = r.idPtr(l.ParentSiteOrLocation)
		l.RegardingObjectID = r.idPtr(l.RegardingObjectID)
	}
	e.Caller.UserID = r.ID(e.Caller.UserID)
	e.Caller.BusinessUnitID = r.ID(e.Caller.BusinessUnitID)
	for i := range e.Caller.Roles {
		role := &e.Caller.Roles[i]
		role.RoleID = r.ID(role.RoleID)
		role.TeamID = r.ID(role.TeamID)
		role.Name = r.roleName(role.Name, role.RoleTemplateID)
	}
	if rp := e.RolePrivileges; rp != nil {
		for i := range rp.Roles {
			role := &rp.Roles[i]
			role.RoleID = r.ID(role.RoleID)
			role.Name = r.roleName(role.Name, role.RoleTemplateID)
		}
	}
}

func (r *Redactor) idPtr(p *string) *string {
	if p == nil {
		return nil
	}
	v := r.ID(*p)
	return &v
}

// relative redacts a relative URL segment by segment.
func (r *Redactor) relative(s string) string {
	if s == "" {
		return s
	}
	out := r.path(s)
	r.learn(s, out)
	return out
}

// roleName keeps the name of a role Microsoft defines (one with a role
// template id) and redacts a custom role's.
func (r *Redactor) roleName(name, templateID string) string {
	if templateID != "" || builtinRoles[name] {
		return name
	}
	return r.Name("role", name)
}

// builtinRoles are Microsoft's security role and directory role names,
// kept where no template id says so (a report's evidence).
var builtinRoles = map[string]bool{
	"System Administrator": true, "System Customizer": true, "Basic User": true,
	"Environment Maker": true, "Delegate": true, "Support User": true,
	"Global Administrator": true, "Dynamics 365 Administrator": true,
	"Power Platform Administrator": true, "SharePoint Administrator": true,
	"Teams Administrator": true, "Global Reader": true,
	"Dynamics 365 Microsoft Teams Collaboration Integration": true,
}
