package remediate

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/teamslink/teamslink/internal/cloud"
	"github.com/teamslink/teamslink/internal/finding"
	"github.com/teamslink/teamslink/internal/snapshot"
)

// The fixes of the rule catalogue (automated_fix.action) that remediate
// makes, and the one it never makes but answers with a URL.
const (
	FixDisableOneDrive          = "disable-onedrive"
	FixDeactivateSites          = "deactivate-sites"
	FixDeleteDocumentLocations  = "delete-document-locations"
	FixEnableDocumentManagement = "enable-document-management"
	FixSetTeamsDocumentStatus   = "set-teams-document-status"
	FixEnableBasic              = "enable-basic"
	FixEnableEnhanced           = "enable-enhanced"
	FixAdminConsentURL          = "admin-consent-url"
)

// Fixes lists every fix remediate knows, for `rules` and the tests that
// check the catalogue has no fix without an action.
var Fixes = []string{FixDisableOneDrive, FixDeactivateSites, FixDeleteDocumentLocations, FixEnableDocumentManagement,
	FixSetTeamsDocumentStatus, FixEnableBasic, FixEnableEnhanced, FixAdminConsentURL}

// ExperienceColumns are the organization columns that turn the experiences
// on. No Microsoft page maps the toggles to columns (facts §1, INFERENCE):
// they are data, and every plan that writes them says so.
type ExperienceColumns struct {
	Basic    string
	Enhanced string
}

// DefaultExperienceColumns are the columns TL-ENV-001 and TL-ENV-002 read.
var DefaultExperienceColumns = ExperienceColumns{Basic: "ismsteamsenabled", Enhanced: "ismsteamscollaborationenabled"}

const experienceAssumption = "INFERENCE (facts §1): no Microsoft page maps the %s toggle to a column; teamslink writes %s, the column its rules read. Override with --%s-column."

// CollaborationAppID is the collaboration app whose admin consent Enhanced
// needs; NOT CONFIRMED (facts §9, community-sourced).
const CollaborationAppID = "a8adde6c-aeb4-4fd6-9d8f-c2dfdecac60a"

// ConsentScopes are the delegated Graph scopes the app needs (facts §9).
var ConsentScopes = []string{"Group.ReadWrite.All", "User.Read.All"}

// PlanOptions say what to plan.
type PlanOptions struct {
	Now    func() time.Time
	Tool   string
	Source string
	// Only limits the plan to these rule ids; Environments to these URLs.
	Only         []string
	Environments []string
	// Enable turns these experiences on once nothing blocks them.
	Enable  []finding.Experience
	Columns ExperienceColumns
	// Live, when set, reads the records a snapshot's bounded sample left
	// out (sites, document locations) and checks that the Teams document
	// status action exists; without it the plan covers the sample and
	// says what it left out.
	Live Clients
	// Limit bounds the records planned per fix and environment.
	Limit int
	// Assessment is how rep was evaluated; the plan records it.
	Assessment Assessment
	// Evaluate evaluates a snapshot as the scan did, for the what-if.
	Evaluate func(context.Context, *snapshot.Snapshot) (*finding.Report, error)
}

// DefaultLimit is the most records planned per fix and environment.
const DefaultLimit = 5000

// Build plans the fixes of rep's failing (and warning) findings on snap,
// the snapshot rep was evaluated from, and the what-if of each environment.
func Build(ctx context.Context, snap *snapshot.Snapshot, rep *finding.Report, opts PlanOptions) (*Plan, error) {
	if opts.Columns == (ExperienceColumns{}) {
		opts.Columns = DefaultExperienceColumns
	}
	if opts.Limit <= 0 {
		opts.Limit = DefaultLimit
	}
	for _, id := range opts.Only {
		if !slices.ContainsFunc(rep.Rules, func(r finding.RuleInfo) bool { return strings.EqualFold(r.ID, id) }) {
			return nil, fmt.Errorf("--only %s: no such rule", id)
		}
	}
	for _, u := range opts.Environments {
		if !slices.ContainsFunc(rep.Environments, func(e finding.Environment) bool { return sameURL(e.URL, u) }) {
			return nil, fmt.Errorf("--environment %s: not in the scan", u)
		}
	}
	if redacted(snap) {
		return nil, fmt.Errorf("the snapshot is redacted: its ids and ETags are not the tenant's; plan from an unredacted snapshot or --config")
	}
	p := &Plan{SchemaVersion: PlanVersion, CreatedAt: opts.Now().UTC(), Tool: opts.Tool, Source: opts.Source,
		Assessment: opts.Assessment, Environments: []EnvironmentPlan{}}
	n := 0
	for _, re := range rep.Environments {
		if len(opts.Environments) > 0 && !slices.ContainsFunc(opts.Environments, func(u string) bool { return sameURL(u, re.URL) }) {
			continue
		}
		env := findEnvironment(snap, re.Tenant, re.URL)
		tenant, _ := snap.Tenant(re.Tenant)
		if env == nil || tenant == nil {
			return nil, fmt.Errorf("the report's environment %s is not in the snapshot", re.URL)
		}
		ep, err := planEnvironment(ctx, tenant, env, re, &opts, &n)
		if err != nil {
			return nil, err
		}
		if err := whatIf(ctx, snap, tenant, env, re, &ep, &opts, &n); err != nil {
			return nil, err
		}
		p.Environments = append(p.Environments, ep)
	}
	if err := p.Seal(); err != nil {
		return nil, err
	}
	return p, nil
}

func sameURL(a, b string) bool {
	return strings.EqualFold(strings.TrimSuffix(a, "/"), strings.TrimSuffix(b, "/"))
}

// redacted reports whether the snapshot's ETags were redacted (and with
// them its ids): a plan made from it could not touch the tenant's records.
func redacted(s *snapshot.Snapshot) bool {
	const mark = `W/"redacted"`
	for _, e := range s.Environments {
		if o := e.Organization.Record; o != nil && o.ETag == mark {
			return true
		}
		for _, x := range e.SharePointSites.Sample {
			if x.ETag == mark {
				return true
			}
		}
		for _, x := range e.DocumentLocations.Sample {
			if x.ETag == mark {
				return true
			}
		}
	}
	return false
}

func findEnvironment(s *snapshot.Snapshot, tenant, u string) *snapshot.Environment {
	for i := range s.Environments {
		if s.Environments[i].TenantID == tenant && sameURL(s.Environments[i].URL, u) {
			return &s.Environments[i]
		}
	}
	return nil
}

type planner struct {
	ctx    context.Context
	tenant *snapshot.Tenant
	env    *snapshot.Environment
	opts   *PlanOptions
	ep     *EnvironmentPlan
	n      *int
}

func (pl *planner) add(a Action) {
	*pl.n++
	a.ID = strconv.Itoa(*pl.n)
	a.Tenant, a.Environment = pl.env.TenantID, pl.env.URL
	pl.ep.Actions = append(pl.ep.Actions, a)
}

func (pl *planner) wanted(rule string) bool {
	return len(pl.opts.Only) == 0 || slices.ContainsFunc(pl.opts.Only, func(id string) bool { return strings.EqualFold(id, rule) })
}

func planEnvironment(ctx context.Context, tenant *snapshot.Tenant, env *snapshot.Environment, re finding.Environment, opts *PlanOptions, n *int) (EnvironmentPlan, error) {
	ep := EnvironmentPlan{Tenant: re.Tenant, TenantName: re.TenantName, URL: re.URL, Name: re.Name, Actions: []Action{}, WhatIf: []WhatIf{}}
	pl := &planner{ctx: ctx, tenant: tenant, env: env, opts: opts, ep: &ep, n: n}
	for _, f := range re.Findings {
		if !pl.wanted(f.Rule) {
			continue
		}
		switch f.Status {
		case finding.StatusError:
			ep.Unread = appendOnce(ep.Unread, f.Rule+": "+f.Message)
			continue
		case finding.StatusFail, finding.StatusWarn, finding.StatusManual:
		default:
			continue
		}
		fix := ""
		if f.Fix != nil {
			fix = f.Fix.Action
		}
		var err error
		switch {
		case f.Status == finding.StatusManual || fix == "" || fix == FixEnableBasic || fix == FixEnableEnhanced:
			// Turning an experience on is asked for (--enable), not a fix
			// of a failure; the rest is for a person.
			if fix != FixEnableBasic && fix != FixEnableEnhanced {
				ep.Manual = append(ep.Manual, ManualStep{Rule: f.Rule, Title: f.Title, Status: string(f.Status), Table: f.Table, Steps: f.Remediation, Docs: f.Docs})
			}
		case fix == FixDisableOneDrive:
			pl.disableOneDrive(f)
		case fix == FixDeactivateSites:
			err = pl.deactivateSites(f)
		case fix == FixDeleteDocumentLocations:
			err = pl.deleteLocations(f)
		case fix == FixEnableDocumentManagement:
			pl.tableFlag(f, KindEntityDefinition, "IsDocumentManagementEnabled")
		case fix == FixSetTeamsDocumentStatus:
			err = pl.teamsStatus(f)
		case fix == FixAdminConsentURL:
			ep.Refused = append(ep.Refused, Refusal{Rule: f.Rule, Fix: fix,
				Reason: "teamslink never consents by itself: a Global Administrator must grant admin consent for the organisation (then scan again)",
				URL:    ConsentURL(tenant)})
		default:
			ep.Manual = append(ep.Manual, ManualStep{Rule: f.Rule, Title: f.Title, Status: string(f.Status), Table: f.Table, Steps: f.Remediation, Docs: f.Docs})
		}
		if err != nil {
			return ep, err
		}
	}
	return ep, nil
}

func appendOnce(list []string, s string) []string {
	if slices.Contains(list, s) {
		return list
	}
	return append(list, s)
}

// sectionOK refuses to plan over a section that could not be read.
func (pl *planner) sectionOK(name string, s snapshot.Section) bool {
	if s.OK() {
		return true
	}
	pl.ep.Unread = appendOnce(pl.ep.Unread, name+": "+s.Error)
	return false
}

func (pl *planner) disableOneDrive(f finding.Finding) {
	org := pl.env.Organization
	if !pl.sectionOK("environment.organization", org.Section) || org.Record == nil || !org.Record.IsOneDriveEnabled {
		return
	}
	pl.add(Action{Kind: KindUpdate, Rule: f.Rule, Fix: FixDisableOneDrive,
		Target:      Target{Set: "organizations", ID: org.Record.OrganizationID, Name: pl.env.Name},
		Description: "turn OneDrive off in the environment (organization.isonedriveenabled true → false)",
		ETag:        org.Record.ETag,
		Seen:        map[string]any{"isonedriveenabled": true},
		Write:       map[string]any{"isonedriveenabled": false},
		Undo:        "set isonedriveenabled back to true",
	})
}

// siteRow and locationRow are the columns the live completion reads.
const (
	siteSelect     = "sharepointsiteid,name,absoluteurl,statecode,statuscode"
	locationSelect = "sharepointdocumentlocationid,name,absoluteurl,statecode"
)

func (pl *planner) deactivateSites(f finding.Finding) error {
	s := pl.env.SharePointSites
	if !pl.sectionOK("environment.sharePointSites", s.Section) {
		return nil
	}
	type site struct{ id, name, url, etag string }
	var sites []site
	complete := !s.CountLimitExceeded && len(s.Sample) >= s.ActiveCount
	if !complete && pl.opts.Live != nil {
		err := pl.page("sharepointsites?$select="+siteSelect+"&$filter=statecode eq 0", func(r map[string]any) {
			sites = append(sites, site{str(r["sharepointsiteid"]), str(r["name"]), str(r["absoluteurl"]), str(r["@odata.etag"])})
		})
		if err != nil {
			return fmt.Errorf("environment %s: read the active SharePoint sites: %w", pl.env.URL, err)
		}
	} else {
		for _, x := range s.Sample {
			if x.StateCode == 0 {
				sites = append(sites, site{x.ID, x.Name, x.AbsoluteURL, x.ETag})
			}
		}
		if !complete {
			pl.ep.Notes = append(pl.ep.Notes, fmt.Sprintf("%s: the snapshot holds %d of the %d active SharePoint sites; plan with --config to read them all", f.Rule, len(sites), s.ActiveCount))
		}
	}
	for i, x := range sites {
		if i == pl.opts.Limit {
			pl.ep.Notes = append(pl.ep.Notes, fmt.Sprintf("%s: planned the first %d active sites of %d (--limit); plan again after applying", f.Rule, pl.opts.Limit, len(sites)))
			break
		}
		pl.add(Action{Kind: KindUpdate, Rule: f.Rule, Fix: FixDeactivateSites,
			Target:      Target{Set: "sharepointsites", ID: x.id, Name: x.name},
			Description: fmt.Sprintf("deactivate the SharePoint site %q (%s): statecode 0 → 1, statuscode 1 → 2", x.name, x.url),
			ETag:        x.etag,
			// An active site's status is always 1 (facts §2).
			Seen:  map[string]any{"statecode": int64(0), "statuscode": int64(1)},
			Write: map[string]any{"statecode": int64(1), "statuscode": int64(2)},
			Undo:  "activate the site again (statecode 0, statuscode 1)",
		})
	}
	return nil
}

func (pl *planner) deleteLocations(f finding.Finding) error {
	l := pl.env.DocumentLocations
	if !pl.sectionOK("environment.documentLocations", l.Section) {
		return nil
	}
	type loc struct{ id, name, url, etag string }
	var locs []loc
	complete := !l.CountLimitExceeded && len(l.Sample) >= l.AbsoluteURLCount
	if !complete && pl.opts.Live != nil {
		err := pl.page("sharepointdocumentlocations?$select="+locationSelect+"&$filter=absoluteurl ne null and servicetype ne 3", func(r map[string]any) {
			locs = append(locs, loc{str(r["sharepointdocumentlocationid"]), str(r["name"]), str(r["absoluteurl"]), str(r["@odata.etag"])})
		})
		if err != nil {
			return fmt.Errorf("environment %s: read the absolute-URL document locations: %w", pl.env.URL, err)
		}
	} else {
		for _, x := range l.Sample {
			locs = append(locs, loc{x.ID, x.Name, x.AbsoluteURL, x.ETag})
		}
		if !complete {
			pl.ep.Notes = append(pl.ep.Notes, fmt.Sprintf("%s: the snapshot holds %d of the %d absolute-URL document locations; plan with --config to read them all", f.Rule, len(locs), l.AbsoluteURLCount))
		}
	}
	for i, x := range locs {
		if i == pl.opts.Limit {
			pl.ep.Notes = append(pl.ep.Notes, fmt.Sprintf("%s: planned the first %d document locations of %d (--limit); plan again after applying", f.Rule, pl.opts.Limit, len(locs)))
			break
		}
		pl.add(Action{Kind: KindDelete, Rule: f.Rule, Fix: FixDeleteDocumentLocations, Deletes: true,
			Target:      Target{Set: "sharepointdocumentlocations", ID: x.id, Name: x.name},
			Description: fmt.Sprintf("delete the document location %q created with the absolute URL %s", x.name, x.url),
			ETag:        x.etag,
			Seen:        map[string]any{"absoluteurl": x.url},
			Undo:        "recreate the location with the same id, columns, parent and regarding record from the journal's backup",
		})
	}
	return nil
}

func (pl *planner) page(path string, fn func(map[string]any)) error {
	c, err := pl.opts.Live(pl.env.TenantID, pl.env.URL)
	if err != nil {
		return err
	}
	_, err = c.Pages(pl.ctx, path, pl.opts.Limit+1, func(raw json.RawMessage) error {
		var r map[string]any
		if err := json.Unmarshal(raw, &r); err != nil {
			return err
		}
		fn(r)
		return nil
	})
	return err
}

func str(v any) string { s, _ := v.(string); return s }

// tableFlag plans turning a table's flag on; a table that does not exist
// is for a person.
func (pl *planner) tableFlag(f finding.Finding, kind Kind, flag string) {
	ents := pl.env.Entities
	if !pl.sectionOK("environment.entities", ents.Section) {
		return
	}
	t, ok := ents.Table(f.Table)
	if !ok || !t.Exists {
		pl.ep.Manual = append(pl.ep.Manual, ManualStep{Rule: f.Rule, Title: f.Title, Status: string(f.Status), Table: f.Table,
			Steps: fmt.Sprintf("the table %s does not exist in the environment: fix the configured target tables, or create it", f.Table)})
		return
	}
	seen := t.IsDocumentManagementEnabled
	desc := "enable document management on the table %s (PUT its full definition with IsDocumentManagementEnabled true, MSCRM.MergeLabels: true, then PublishXml)"
	undo := "PUT the definition back with IsDocumentManagementEnabled false and publish"
	fix := FixEnableDocumentManagement
	assumption := ""
	if kind == KindTeamsDocumentStatus {
		seen = t.IsMSTeamsIntegrationEnabled
		desc = "set the Teams document status of the table %s (msdyn_SetTeamsDocumentStatus Enable true)"
		undo = "call msdyn_SetTeamsDocumentStatus with Enable false"
		fix = FixSetTeamsDocumentStatus
		assumption = "INFERENCE (facts §3, §4): msdyn_SetTeamsDocumentStatus sets EntityMetadata.IsMSTeamsIntegrationEnabled, which verification re-reads"
	}
	if seen {
		return
	}
	pl.add(Action{Kind: kind, Rule: f.Rule, Fix: fix,
		Target:      Target{Set: "EntityDefinitions", LogicalName: t.LogicalName},
		Description: fmt.Sprintf(desc, t.LogicalName),
		Seen:        map[string]any{flag: false},
		Write:       map[string]any{flag: true},
		Undo:        undo,
		Assumption:  assumption,
	})
}

func (pl *planner) teamsStatus(f finding.Finding) error {
	if pl.opts.Live != nil {
		c, err := pl.opts.Live(pl.env.TenantID, pl.env.URL)
		if err != nil {
			return err
		}
		ok, err := dv{c}.hasTeamsDocumentStatusAction(pl.ctx)
		if err != nil {
			return fmt.Errorf("environment %s: look up %s: %w", pl.env.URL, setTeamsDocumentStatus, err)
		}
		if !ok {
			pl.ep.Refused = append(pl.ep.Refused, Refusal{Rule: f.Rule, Fix: FixSetTeamsDocumentStatus,
				Reason: fmt.Sprintf("the environment has no %s action (the Microsoft solution that ships it is not installed), so the Teams document status of %s cannot be set", setTeamsDocumentStatus, f.Table)})
			return nil
		}
	}
	pl.tableFlag(f, KindTeamsDocumentStatus, "IsMSTeamsIntegrationEnabled")
	return nil
}

// ConsentURL is the admin-consent URL of the collaboration app for the
// tenant, in its cloud ("" for a cloud teamslink does not know) (Microsoft identity platform v2.0 adminconsent
// endpoint, with the Graph scopes the app needs).
func ConsentURL(t *snapshot.Tenant) string {
	c, err := cloud.For(cloud.Name(t.Cloud))
	if err != nil {
		return "" // an unknown cloud has no authority to send anyone to
	}
	scopes := make([]string, len(ConsentScopes))
	for i, s := range ConsentScopes {
		scopes[i] = c.GraphURL + "/" + s
	}
	q := url.Values{"client_id": {CollaborationAppID}, "scope": {strings.Join(scopes, " ")}}
	return strings.TrimSuffix(c.AuthorityHost, "/") + "/" + url.PathEscape(t.ID) + "/v2.0/adminconsent?" + q.Encode()
}

// AutoFixable reports whether remediate writes the fix itself: every fix
// it knows but the admin-consent URL, which a Global Administrator opens.
func AutoFixable(fix string) bool {
	return fix != FixAdminConsentURL && slices.Contains(Fixes, fix)
}
