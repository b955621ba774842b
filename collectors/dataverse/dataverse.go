// Package dataverse reads an environment's state from the Dataverse Web API:
// the caller (WhoAmI) and their security roles, the organization settings,
// active SharePoint sites, absolute-URL document locations and table
// metadata. All reads of one environment travel in one $batch, plus one
// follow-up $batch for the caller's roles, which need WhoAmI's answer.
package dataverse

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/teamslink/teamslink/collectors"
	"github.com/teamslink/teamslink/internal/odata"
	"github.com/teamslink/teamslink/internal/snapshot"
)

// SystemAdministratorTemplateID is the role template id of the System
// Administrator security role (facts §8).
const SystemAdministratorTemplateID = "627090ff-40a3-4053-8790-584edc5be201"

// DefaultSampleSize bounds the records kept per section.
const DefaultSampleSize = 50

// Options tune a Collector.
type Options struct {
	// SampleSize bounds sampled records per section; 0 means DefaultSampleSize.
	SampleSize int
	// Tables are read from EntityDefinitions besides the environment's
	// target tables.
	Tables []string
	// Now is the clock; required.
	Now func() time.Time
}

// Collector reads one environment through a Dataverse client whose base URL
// is the environment's Web API root (…/api/data/v9.2/).
type Collector struct {
	client *odata.Client
	opts   Options
}

// New returns a collector for the environment client speaks to.
func New(client *odata.Client, opts Options) *Collector {
	if opts.SampleSize <= 0 {
		opts.SampleSize = DefaultSampleSize
	}
	if opts.Now == nil {
		panic("dataverse: New needs Options.Now")
	}
	return &Collector{client: client, opts: opts}
}

// The columns read per table, under their logical names (facts §1, §2).
const (
	organizationColumns = "organizationid,sharepointdeploymenttype,isonedriveenabled,ismsteamsenabled,ismsteamscollaborationenabled,ismsteamsusersyncenabled,ismsteamssettingchangedbyuser,isfolderautocreatedonsp"
	siteColumns         = "sharepointsiteid,name,absoluteurl,relativeurl,isdefault,servicetype,statecode,validationstatus"
	locationColumns     = "sharepointdocumentlocationid,name,absoluteurl,relativeurl,_parentsiteorlocation_value,_regardingobjectid_value,servicetype,locationtype,statecode"
	entityColumns       = "LogicalName,MetadataId,IsCustomEntity,IsDocumentManagementEnabled,IsMSTeamsIntegrationEnabled"
	roleColumns         = "name,roleid,_roletemplateid_value"
)

// countAnnotations asks Dataverse for the total count and whether it was capped.
const countAnnotations = `odata.include-annotations="Microsoft.Dynamics.CRM.totalrecordcount,Microsoft.Dynamics.CRM.totalrecordcountlimitexceeded"`

// CollectEnvironment fills e's organization, sharePointSites,
// documentLocations, entities and caller sections.
func (c *Collector) CollectEnvironment(ctx context.Context, e *snapshot.Environment) {
	tables := mergeTables(e.TargetTables, c.opts.Tables)
	paths := []string{
		"WhoAmI",
		"organizations?$select=" + organizationColumns,
		"sharepointsites?$select=" + siteColumns + "&$filter=statecode eq 0&$orderby=isdefault desc&$count=true",
		// Channel libraries that Teams itself creates (servicetype 3) are
		// not the absolute-URL locations the prerequisite is about (facts §2, INFERENCE).
		"sharepointdocumentlocations?$select=" + locationColumns + "&$filter=absoluteurl ne null and servicetype ne 3&$count=true",
		"EntityDefinitions?$select=" + entityColumns + "&$filter=" + logicalNameFilter(tables),
	}
	sample := fmt.Sprintf("odata.maxpagesize=%d,%s", c.opts.SampleSize, countAnnotations)
	reqs := make([]odata.BatchRequest, len(paths))
	for i, p := range paths {
		reqs[i] = odata.BatchRequest{Method: http.MethodGet, Path: p}
	}
	reqs[2].Header = http.Header{"Prefer": {sample}}
	reqs[3].Header = http.Header{"Prefer": {sample}}

	source := func(i int) string { return "GET " + c.client.BaseURL().String() + paths[i] }
	resps, err := c.client.Batch(ctx, reqs)
	now := c.opts.Now()
	if err != nil {
		for i, s := range []*snapshot.Section{&e.Caller.Section, &e.Organization.Section, &e.SharePointSites.Section, &e.DocumentLocations.Section, &e.Entities.Section} {
			*s = collectors.Failed(source(i), fmt.Errorf("$batch: %w", err), now)
		}
		e.Caller.Roles, e.SharePointSites.Sample, e.DocumentLocations.Sample, e.Entities.Tables = []snapshot.SecurityRole{}, []snapshot.SharePointSite{}, []snapshot.DocumentLocation{}, []snapshot.Table{}
		return
	}

	c.readOrganization(e, resps[1], source(1), now)
	c.readSites(e, resps[2], source(2), now)
	c.readLocations(e, resps[3], source(3), now)
	c.readEntities(e, resps[4], source(4), tables, now)
	c.readCaller(ctx, e, resps[0], source(0), now)
}

func (c *Collector) readOrganization(e *snapshot.Environment, r odata.BatchResponse, source string, now time.Time) {
	var page struct {
		Value []snapshot.OrganizationRecord `json:"value"`
	}
	if err := r.DecodeJSON(&page); err != nil {
		e.Organization.Section = collectors.Failed(source, err, now)
		return
	}
	if len(page.Value) != 1 {
		e.Organization.Section = collectors.Failed(source, fmt.Errorf("expected one organization row, got %d", len(page.Value)), now)
		return
	}
	e.Organization.Section = collectors.OK(source, r.Status, now)
	e.Organization.Record = &page.Value[0]
	if e.ID == "" {
		e.ID = page.Value[0].OrganizationID
	}
}

// countedPage is a collection page with Dataverse's count annotations.
type countedPage[T any] struct {
	Value         []T  `json:"value"`
	Count         *int `json:"@odata.count"`
	LimitExceeded bool `json:"@Microsoft.Dynamics.CRM.totalrecordcountlimitexceeded"`
}

func (p countedPage[T]) count() (int, bool, error) {
	if p.Count == nil {
		return 0, false, fmt.Errorf("the response carries no @odata.count")
	}
	capped := p.LimitExceeded || *p.Count >= odata.DataverseCountCap
	return *p.Count, capped, nil
}

func (c *Collector) readSites(e *snapshot.Environment, r odata.BatchResponse, source string, now time.Time) {
	e.SharePointSites.Sample = []snapshot.SharePointSite{}
	var page countedPage[snapshot.SharePointSite]
	err := r.DecodeJSON(&page)
	n, capped := 0, false
	if err == nil {
		n, capped, err = page.count()
	}
	if err != nil {
		e.SharePointSites.Section = collectors.Failed(source, err, now)
		return
	}
	e.SharePointSites.Section = collectors.OK(source, r.Status, now)
	e.SharePointSites.ActiveCount, e.SharePointSites.CountLimitExceeded = n, capped
	e.SharePointSites.Sample = bounded(page.Value, c.opts.SampleSize)
	// Sorted by isdefault desc, so an active default site is the first row.
	if len(page.Value) > 0 && page.Value[0].IsDefault {
		d := page.Value[0]
		e.SharePointSites.DefaultSite = &d
	}
}

func (c *Collector) readLocations(e *snapshot.Environment, r odata.BatchResponse, source string, now time.Time) {
	e.DocumentLocations.Sample = []snapshot.DocumentLocation{}
	var page countedPage[snapshot.DocumentLocation]
	err := r.DecodeJSON(&page)
	n, capped := 0, false
	if err == nil {
		n, capped, err = page.count()
	}
	if err != nil {
		e.DocumentLocations.Section = collectors.Failed(source, err, now)
		return
	}
	e.DocumentLocations.Section = collectors.OK(source, r.Status, now)
	e.DocumentLocations.AbsoluteURLCount, e.DocumentLocations.CountLimitExceeded = n, capped
	e.DocumentLocations.Sample = bounded(page.Value, c.opts.SampleSize)
}

// entityDefinition is one EntityDefinitions row as the Web API returns it.
type entityDefinition struct {
	LogicalName                 string `json:"LogicalName"`
	MetadataID                  string `json:"MetadataId"`
	IsCustomEntity              *bool  `json:"IsCustomEntity"`
	IsDocumentManagementEnabled *bool  `json:"IsDocumentManagementEnabled"`
	IsMSTeamsIntegrationEnabled *bool  `json:"IsMSTeamsIntegrationEnabled"`
}

func (c *Collector) readEntities(e *snapshot.Environment, r odata.BatchResponse, source string, tables []string, now time.Time) {
	e.Entities.Tables = []snapshot.Table{}
	var page struct {
		Value []entityDefinition `json:"value"`
	}
	if err := r.DecodeJSON(&page); err != nil {
		e.Entities.Section = collectors.Failed(source, err, now)
		return
	}
	found := map[string]entityDefinition{}
	for _, d := range page.Value {
		found[strings.ToLower(d.LogicalName)] = d
	}
	for _, name := range tables {
		d, ok := found[name]
		t := snapshot.Table{LogicalName: name, Exists: ok}
		if ok {
			t.MetadataID = d.MetadataID
			t.IsCustomEntity = deref(d.IsCustomEntity)
			t.IsDocumentManagementEnabled = deref(d.IsDocumentManagementEnabled)
			t.IsMSTeamsIntegrationEnabled = deref(d.IsMSTeamsIntegrationEnabled)
		}
		e.Entities.Tables = append(e.Entities.Tables, t)
	}
	e.Entities.Section = collectors.OK(source, r.Status, now)
}

// whoAmI is the WhoAmI function's answer (PascalCase, facts §7).
type whoAmI struct {
	UserID         string `json:"UserId"`
	BusinessUnitID string `json:"BusinessUnitId"`
	OrganizationID string `json:"OrganizationId"`
}

// roleRow is a role as systemuserroles_association and teamroles_association return it.
type roleRow struct {
	RoleID         string  `json:"roleid"`
	Name           string  `json:"name"`
	RoleTemplateID *string `json:"_roletemplateid_value"`
}

type teamRow struct {
	TeamID string    `json:"teamid"`
	Name   string    `json:"name"`
	Roles  []roleRow `json:"teamroles_association"`
}

// readCaller reads who the caller is, then in one follow-up $batch the
// roles they hold directly and through their teams.
func (c *Collector) readCaller(ctx context.Context, e *snapshot.Environment, r odata.BatchResponse, whoAmISource string, now time.Time) {
	e.Caller.Roles = []snapshot.SecurityRole{}
	var who whoAmI
	if err := r.DecodeJSON(&who); err != nil {
		e.Caller.Section = collectors.Failed(whoAmISource, err, now)
		return
	}
	if who.UserID == "" {
		e.Caller.Section = collectors.Failed(whoAmISource, fmt.Errorf("WhoAmI returned no UserId"), now)
		return
	}
	e.Caller.UserID, e.Caller.BusinessUnitID = who.UserID, who.BusinessUnitID
	paths := []string{
		fmt.Sprintf("systemusers(%s)/systemuserroles_association?$select=%s", who.UserID, roleColumns),
		fmt.Sprintf("systemusers(%s)/teammembership_association?$select=teamid,name&$expand=teamroles_association($select=%s)", who.UserID, roleColumns),
	}
	source := "GET " + c.client.BaseURL().String() + paths[0]
	resps, err := c.client.Batch(ctx, []odata.BatchRequest{{Method: http.MethodGet, Path: paths[0]}, {Method: http.MethodGet, Path: paths[1]}})
	now = c.opts.Now()
	if err != nil {
		e.Caller.Section = collectors.Failed(source, fmt.Errorf("$batch: %w", err), now)
		return
	}
	var direct struct {
		Value []roleRow `json:"value"`
	}
	if err := resps[0].DecodeJSON(&direct); err != nil {
		e.Caller.Section = collectors.Failed(source, err, now)
		return
	}
	var teams struct {
		Value []teamRow `json:"value"`
	}
	if err := resps[1].DecodeJSON(&teams); err != nil {
		e.Caller.Section = collectors.Failed("GET "+c.client.BaseURL().String()+paths[1], err, now)
		return
	}
	for _, r := range direct.Value {
		e.Caller.Roles = append(e.Caller.Roles, securityRole(r, "user", ""))
	}
	for _, t := range teams.Value {
		for _, r := range t.Roles {
			e.Caller.Roles = append(e.Caller.Roles, securityRole(r, "team", t.TeamID))
		}
	}
	e.Caller.Section = collectors.OK(source, resps[0].Status, now)
}

func securityRole(r roleRow, via, teamID string) snapshot.SecurityRole {
	s := snapshot.SecurityRole{RoleID: r.RoleID, Name: r.Name, Via: via, TeamID: teamID}
	if r.RoleTemplateID != nil {
		s.RoleTemplateID = strings.ToLower(*r.RoleTemplateID)
	}
	return s
}

// logicalNameFilter builds "LogicalName eq 'a' or LogicalName eq 'b'".
func logicalNameFilter(tables []string) string {
	parts := make([]string, len(tables))
	for i, t := range tables {
		parts[i] = "LogicalName eq '" + t + "'"
	}
	return strings.Join(parts, " or ")
}

// mergeTables returns targets followed by the extra tables not among them.
func mergeTables(targets, extra []string) []string {
	out := make([]string, 0, len(targets)+len(extra))
	for _, t := range slices.Concat(targets, extra) {
		t = strings.ToLower(strings.TrimSpace(t))
		if t != "" && !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	return out
}

func bounded[T any](rows []T, n int) []T {
	if len(rows) > n {
		rows = rows[:n]
	}
	return rows
}

func deref(b *bool) bool { return b != nil && *b }
