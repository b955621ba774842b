package redact

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/teamslink/teamslink/internal/finding"
)

// Report returns a redacted deep copy of rep; rep is not changed. Tenant
// ids and names, environment URLs and names, client ids, and every string
// the Redactor learned from a snapshot are replaced wherever they appear:
// keys, messages, evidence, advice, waivers and sign-in errors. Statuses,
// severities, verdicts, rule ids and the rules' catalogue are kept.
func (r *Redactor) Report(rep *finding.Report) (*finding.Report, error) {
	data, err := json.Marshal(rep)
	if err != nil {
		return nil, fmt.Errorf("redact report: %w", err)
	}
	var c finding.Report
	if err := json.Unmarshal(data, &c); err != nil {
		return nil, fmt.Errorf("redact report: %w", err)
	}
	// Structured fields first, so that free text repeating them is caught.
	for i := range c.SignInErrors {
		e := &c.SignInErrors[i]
		e.Tenant, e.TenantName, e.ClientID = r.ID(e.Tenant), r.Name("tenant", e.TenantName), r.ID(e.ClientID)
	}
	for i := range c.Environments {
		e := &c.Environments[i]
		e.Tenant, e.TenantName = r.ID(e.Tenant), r.Name("tenant", e.TenantName)
		e.URL, e.Name = r.URL(e.URL), r.Name("env", e.Name)
		for j := range e.Findings {
			f := &e.Findings[j]
			f.Tenant = r.ID(f.Tenant)
			f.Environment = r.URL(f.Environment)
		}
	}
	for i := range c.SignInErrors {
		e := &c.SignInErrors[i]
		e.Error, e.Fix = r.Text(e.Error), r.Text(e.Fix)
	}
	for i := range c.Environments {
		e := &c.Environments[i]
		if e.DeclaredAt != nil {
			e.DeclaredAt.File = r.Text(e.DeclaredAt.File)
		}
		for j := range e.Verdicts {
			v := &e.Verdicts[j]
			for _, list := range [][]string{v.Blocking, v.Unknown, v.Warnings, v.Manual} {
				for k := range list {
					list[k] = r.Text(list[k])
				}
			}
		}
		for j := range e.Findings {
			r.finding(&e.Findings[j])
		}
	}
	for i := range c.Waivers {
		w := &c.Waivers[i]
		w.Tenant, w.Environment = r.ID(w.Tenant), r.Text(w.Environment)
		w.Reason, w.Owner, w.Source, w.Message = r.Text(w.Reason), r.Text(w.Owner), r.Text(w.Source), r.Text(w.Message)
	}
	return &c, nil
}

func (r *Redactor) finding(f *finding.Finding) {
	f.Message = r.Text(f.Message)
	f.Remediation = r.Text(f.Remediation)
	if f.Access != nil {
		f.Access.Source, f.Access.Advice = r.Text(f.Access.Source), r.Text(f.Access.Advice)
	}
	if f.Waiver != nil {
		f.Waiver.Reason, f.Waiver.Owner, f.Waiver.Source = r.Text(f.Waiver.Reason), r.Text(f.Waiver.Owner), r.Text(f.Waiver.Source)
	}
	if f.Evidence != nil {
		// Evidence is shared across a tenant's environments: replace, never
		// change in place (the copy above is ours, but keep the habit).
		f.Evidence = r.evidence("", f.Evidence).(map[string]any)
	}
}

// Evidence keys whose values are record or object ids.
var idKeys = map[string]bool{
	"id": true, "tenant": true, "tenantid": true, "objectid": true, "userid": true, "businessunitid": true,
	"teamid": true, "roleid": true, "clientid": true, "resourceid": true, "principalid": true,
	"organizationid": true, "sharepointsiteid": true, "sharepointdocumentlocationid": true,
	"_regardingobjectid_value": true, "_parentsiteorlocation_value": true,
	"graphserviceprincipalid": true, "environmentid": true,
}

// Evidence keys whose values are names of customer things.
var nameKeys = map[string]bool{
	"name": true, "displayname": true, "tenantname": true, "environmentname": true,
}

// evidence redacts one evidence value, by its key where the key says what
// it holds, else as text.
func (r *Redactor) evidence(key string, v any) any {
	k := strings.ToLower(key)
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for kk, vv := range x {
			out[kk] = r.evidence(kk, vv)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, vv := range x {
			out[i] = r.evidence(key, vv)
		}
		return out
	case string:
		switch {
		case k == "@odata.etag":
			return ETag
		case idKeys[k]:
			return r.ID(x)
		case k == "userprincipalname" || k == "upn" || k == "mail" || k == "email":
			return r.Email(x)
		case nameKeys[k] && !builtinRoles[x] && !strings.HasPrefix(x, "Group.") && !strings.HasPrefix(x, "prv"):
			// Privilege names (prvCreateSharePointSite) and Microsoft's
			// role and setting names are kept.
			if _, known := r.dict[x]; known {
				return r.dict[x]
			}
			return r.Name("name", x)
		case strings.HasSuffix(k, "url") && strings.Contains(x, "://"):
			return r.URL(x)
		case strings.HasSuffix(k, "url"):
			return r.relative(x)
		}
		return r.Text(x)
	}
	return v
}
