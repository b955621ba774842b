// Package dataverse reads an environment's state from the Dataverse Web API:
// the caller (WhoAmI) and their security roles, the organization settings,
// active SharePoint sites, absolute-URL document locations, table metadata,
// and the pinning privileges of the roles enabled users hold. All reads of
// one environment travel in one $batch, plus one follow-up $batch for what
// needs an answer of the first: the caller's roles (WhoAmI's user id) and
// the held roles' names and privileges (the role and privilege ids).
package dataverse

import (
	"context"
	"encoding/json"
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
	// LinkPageSize is the page size of the role and membership reads of
	// the privileges read, each read in one page; 0 means the Dataverse
	// maximum, 5,000.
	LinkPageSize int
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
	if opts.LinkPageSize <= 0 || opts.LinkPageSize > odata.MaxPageSizeLimit {
		opts.LinkPageSize = odata.MaxPageSizeLimit
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

// The rows this collector reads and the fields the policies need from each
// (facts §1, §2, §7, §12): a row without one of them makes its section an
// error that names the field, never a false or a zero.
var (
	OrganizationRecord = collectors.Record{Name: "organization", Section: "environment.organization", Request: `organizations\?`, Fields: []collectors.Field{
		{Name: "organizationid", Kind: collectors.GUID},
		{Name: "sharepointdeploymenttype", Kind: collectors.Int, Nullable: true},
		{Name: "isonedriveenabled", Kind: collectors.Bool},
		{Name: "ismsteamsenabled", Kind: collectors.Bool},
		{Name: "ismsteamscollaborationenabled", Kind: collectors.Bool},
		{Name: "ismsteamsusersyncenabled", Kind: collectors.Bool},
		{Name: "ismsteamssettingchangedbyuser", Kind: collectors.Bool},
		{Name: "isfolderautocreatedonsp", Kind: collectors.Bool},
	}}
	SiteRecord = collectors.Record{Name: "sharepointsite", Section: "environment.sharePointSites", Request: `sharepointsites\?`, Fields: []collectors.Field{
		{Name: "sharepointsiteid", Kind: collectors.GUID},
		{Name: "name", Kind: collectors.String, Nullable: true},
		{Name: "absoluteurl", Kind: collectors.String, Nullable: true},
		{Name: "relativeurl", Kind: collectors.String, Nullable: true},
		{Name: "isdefault", Kind: collectors.Bool},
		{Name: "servicetype", Kind: collectors.Int},
		{Name: "statecode", Kind: collectors.Int},
		{Name: "validationstatus", Kind: collectors.Int, Nullable: true},
	}}
	LocationRecord = collectors.Record{Name: "sharepointdocumentlocation", Section: "environment.documentLocations", Request: `sharepointdocumentlocations\?`, Fields: []collectors.Field{
		{Name: "sharepointdocumentlocationid", Kind: collectors.GUID},
		{Name: "name", Kind: collectors.String, Nullable: true},
		{Name: "absoluteurl", Kind: collectors.String},
		{Name: "relativeurl", Kind: collectors.String, Nullable: true},
		{Name: "_parentsiteorlocation_value", Kind: collectors.GUID, Nullable: true},
		{Name: "_regardingobjectid_value", Kind: collectors.GUID, Nullable: true},
		{Name: "servicetype", Kind: collectors.Int},
		{Name: "locationtype", Kind: collectors.Int},
		{Name: "statecode", Kind: collectors.Int},
	}}
	EntityRecord = collectors.Record{Name: "EntityDefinitions", Section: "environment.entities", Request: `EntityDefinitions`, Fields: []collectors.Field{
		{Name: "LogicalName", Kind: collectors.String},
		{Name: "MetadataId", Kind: collectors.GUID},
		{Name: "IsCustomEntity", Kind: collectors.Bool},
		{Name: "IsDocumentManagementEnabled", Kind: collectors.Bool},
		{Name: "IsMSTeamsIntegrationEnabled", Kind: collectors.Bool},
	}}
	WhoAmIRecord = collectors.Record{Name: "WhoAmI", Section: "environment.caller", Request: `WhoAmI`, Fields: []collectors.Field{
		{Name: "UserId", Kind: collectors.GUID},
		{Name: "BusinessUnitId", Kind: collectors.GUID},
		{Name: "OrganizationId", Kind: collectors.GUID},
	}}
	RoleRecord = collectors.Record{Name: "role", Section: "environment.caller", Request: `systemuserroles_association`, Fields: []collectors.Field{
		{Name: "roleid", Kind: collectors.GUID},
		{Name: "name", Kind: collectors.String},
		{Name: "_roletemplateid_value", Kind: collectors.GUID, Nullable: true},
	}}
	TeamRecord = collectors.Record{Name: "team", Section: "environment.caller", Request: `teammembership_association`, Fields: []collectors.Field{
		{Name: "teamid", Kind: collectors.GUID},
		{Name: "teamroles_association", Kind: collectors.Array},
	}}
	// TeamRoleRecord is a role held through a team (expanded in the team row).
	TeamRoleRecord = collectors.Record{Name: "team role", Section: "environment.caller", Request: `teammembership_association`, Fields: RoleRecord.Fields}
)

// The rows of the privileges read (fleet facts §2b): privileges by name,
// enabled users, the intersect entities of user and team roles and of team
// membership, and the held roles with their privileges.
var (
	PrivilegeRecord = collectors.Record{Name: "privilege", Section: "environment.rolePrivileges", Request: `/privileges\?`, Fields: []collectors.Field{
		{Name: "privilegeid", Kind: collectors.GUID},
		{Name: "name", Kind: collectors.String},
	}}
	EnabledUserRecord = collectors.Record{Name: "enabled systemuser", Section: "environment.rolePrivileges", Request: `/systemusers\?`, Fields: []collectors.Field{
		{Name: "systemuserid", Kind: collectors.GUID},
	}}
	UserRoleRecord = collectors.Record{Name: "systemuserroles", Section: "environment.rolePrivileges", Request: `systemuserrolescollection`, Fields: []collectors.Field{
		{Name: "systemuserid", Kind: collectors.GUID},
		{Name: "roleid", Kind: collectors.GUID},
	}}
	TeamRoleLinkRecord = collectors.Record{Name: "teamroles", Section: "environment.rolePrivileges", Request: `teamrolescollection`, Fields: []collectors.Field{
		{Name: "teamid", Kind: collectors.GUID},
		{Name: "roleid", Kind: collectors.GUID},
	}}
	HeldRoleRecord      = collectors.Record{Name: "held role", Section: "environment.rolePrivileges", Request: `/roles\?`, Fields: RoleRecord.Fields}
	RolePrivilegeRecord = collectors.Record{Name: "roleprivileges", Section: "environment.rolePrivileges", Request: `roleprivilegescollection`, Fields: []collectors.Field{
		{Name: "roleid", Kind: collectors.GUID},
		{Name: "privilegeid", Kind: collectors.GUID},
	}}
	TeamMemberRecord = collectors.Record{Name: "teammembership", Section: "environment.rolePrivileges", Request: `teammemberships`, Fields: []collectors.Field{
		{Name: "systemuserid", Kind: collectors.GUID},
		{Name: "teamid", Kind: collectors.GUID},
	}}
)

// Records are every row kind this collector reads.
var Records = []collectors.Record{
	OrganizationRecord, SiteRecord, LocationRecord, EntityRecord, WhoAmIRecord, RoleRecord, TeamRecord, TeamRoleRecord,
	PrivilegeRecord, EnabledUserRecord, UserRoleRecord, TeamRoleLinkRecord, HeldRoleRecord, RolePrivilegeRecord, TeamMemberRecord,
}

// PinPrivileges are the privileges pinning a record needs: Create, Read,
// Write, Append, AppendTo and Delete on SharePoint Site and Document
// Location (fleet facts §2b, CONFIRMED), named prv<Verb><SchemaName>
// (INFERENCE): they are looked up by name, and a name the environment does
// not know is reported, never taken as granted or as missing.
var PinPrivileges = func() []string {
	var out []string
	for _, table := range []string{"SharePointSite", "SharePointDocumentLocation"} {
		for _, verb := range []string{"Create", "Read", "Write", "Append", "AppendTo", "Delete"} {
			out = append(out, "prv"+verb+table)
		}
	}
	return out
}()

// Bounds of the privileges read: the held roles whose privileges the
// follow-up reads, and the teams holding roles whose members it counts
// (most held first); past them the section says truncated.
const (
	MaxHeldRoles = 200
	MaxRoleTeams = 100
)

// countAnnotations asks Dataverse for the total count and whether it was capped.
const countAnnotations = `odata.include-annotations="Microsoft.Dynamics.CRM.totalrecordcount,Microsoft.Dynamics.CRM.totalrecordcountlimitexceeded"`

// CollectEnvironment fills e's organization, sharePointSites,
// documentLocations, entities, caller and rolePrivileges sections.
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
		// The roles enabled users hold (fleet facts §2b, the cheapest
		// route): privileges by name, enabled users, the user and team
		// role links; the follow-up reads what these name.
		"privileges?$select=privilegeid,name&$filter=" + orFilter("name", quoted(PinPrivileges)),
		"systemusers?$select=systemuserid&$filter=isdisabled eq false&$count=true",
		"systemuserrolescollection?$select=systemuserid,roleid",
		"teamrolescollection?$select=teamid,roleid",
	}
	sample := fmt.Sprintf("odata.maxpagesize=%d,%s", c.opts.SampleSize, countAnnotations)
	reqs := make([]odata.BatchRequest, len(paths))
	for i, p := range paths {
		reqs[i] = odata.BatchRequest{Method: http.MethodGet, Path: p}
	}
	reqs[2].Header = http.Header{"Prefer": {sample}}
	reqs[3].Header = http.Header{"Prefer": {sample}}
	reqs[6].Header = http.Header{"Prefer": {c.linkPage() + "," + countAnnotations}}
	reqs[7].Header = http.Header{"Prefer": {c.linkPage()}}
	reqs[8].Header = http.Header{"Prefer": {c.linkPage()}}

	source := func(i int) string { return "GET " + c.client.BaseURL().String() + paths[i] }
	resps, err := c.client.Batch(ctx, reqs)
	now := c.opts.Now()
	if err != nil {
		e.RolePrivileges = emptyRolePrivileges()
		for i, s := range []*snapshot.Section{&e.Caller.Section, &e.Organization.Section, &e.SharePointSites.Section, &e.DocumentLocations.Section, &e.Entities.Section, &e.RolePrivileges.Section} {
			*s = collectors.Failed(source(i), fmt.Errorf("$batch: %w", err), now)
		}
		e.Caller.Roles, e.SharePointSites.Sample, e.DocumentLocations.Sample, e.Entities.Tables = []snapshot.SecurityRole{}, []snapshot.SharePointSite{}, []snapshot.DocumentLocation{}, []snapshot.Table{}
		return
	}

	c.readOrganization(e, resps[1], source(1), now)
	c.readSites(e, resps[2], source(2), now)
	c.readLocations(e, resps[3], source(3), now)
	c.readEntities(e, resps[4], source(4), tables, now)
	caller := c.startCaller(e, resps[0], source(0), now)
	privs := c.startPrivileges(e, resps[5:9], []string{source(5), source(6), source(7), source(8)}, now)

	// One follow-up $batch for both.
	follow := append(slices.Clone(caller.requests), privs.requests...)
	if len(follow) == 0 {
		return
	}
	resps, err = c.client.Batch(ctx, follow)
	now = c.opts.Now()
	if err != nil {
		err = fmt.Errorf("$batch: %w", err)
		if len(caller.requests) > 0 {
			e.Caller.Section = collectors.Failed(caller.sources[0], err, now)
		}
		if len(privs.requests) > 0 {
			*e.RolePrivileges = *emptyRolePrivileges()
			e.RolePrivileges.Section = collectors.Failed(privs.sources[0], err, now)
		}
		return
	}
	n := len(caller.requests)
	if n > 0 {
		c.finishCaller(e, resps[:n], caller.sources, now)
	}
	if len(privs.requests) > 0 {
		privs.finish(e, resps[n:], now)
	}
}

// linkPage asks for the link reads' page, by default the largest
// Dataverse serves (facts §7): each is read in one page, and a next page
// marks it truncated.
func (c *Collector) linkPage() string {
	return fmt.Sprintf("odata.maxpagesize=%d", c.opts.LinkPageSize)
}

// followUp is what one reader needs from the follow-up $batch.
type followUp struct {
	requests []odata.BatchRequest
	sources  []string
}

func (c *Collector) followUp(paths ...string) followUp {
	var f followUp
	for _, p := range paths {
		f.requests = append(f.requests, odata.BatchRequest{Method: http.MethodGet, Path: p, Header: http.Header{"Prefer": {c.linkPage()}}})
		f.sources = append(f.sources, "GET "+c.client.BaseURL().String()+p)
	}
	return f
}

func (c *Collector) readOrganization(e *snapshot.Environment, r odata.BatchResponse, source string, now time.Time) {
	rows, err := collectors.DecodeAll[snapshot.OrganizationRecord](r, OrganizationRecord)
	if err == nil && len(rows) != 1 {
		err = fmt.Errorf("expected one organization row, got %d", len(rows))
	}
	if err != nil {
		e.Organization.Section = collectors.Failed(source, err, now)
		return
	}
	rec := rows[0]
	e.Organization.Section = collectors.OK(source, r.Status, now)
	e.Organization.Record = &rec
	if e.ID == "" {
		e.ID = rec.OrganizationID
	}
}

// countedPage is a collection page with Dataverse's count annotations.
type countedPage struct {
	collectors.Collection
	Count         *int `json:"@odata.count"`
	LimitExceeded bool `json:"@Microsoft.Dynamics.CRM.totalrecordcountlimitexceeded"`
}

func (p countedPage) count() (int, bool, error) {
	if p.Count == nil {
		return 0, false, fmt.Errorf("the response carries no @odata.count")
	}
	if *p.Count < 0 {
		return 0, false, fmt.Errorf("the response's @odata.count is negative (%d)", *p.Count)
	}
	capped := p.LimitExceeded || *p.Count >= odata.DataverseCountCap
	return *p.Count, capped, nil
}

// readCounted decodes a counted collection whose rows are rec, into out
// (at most limit rows). The section is the answer's: ok, failed, or
// incomplete when a row lacks a field of rec.
func readCounted[T any](r odata.BatchResponse, rec collectors.Record, limit int, source string, now time.Time, out *[]T) (n int, capped bool, section snapshot.Section) {
	var page countedPage
	err := r.DecodeJSON(&page)
	var rows []json.RawMessage
	if err == nil {
		rows, err = page.Rows(rec)
	}
	if err == nil {
		n, capped, err = page.count()
	}
	if err != nil {
		return 0, false, collectors.Failed(source, err, now)
	}
	decoded, err := collectors.Unmarshal[T](bounded(rows, limit), rec)
	if err != nil {
		return 0, false, collectors.Failed(source, err, now)
	}
	*out = decoded
	return n, capped, collectors.OK(source, r.Status, now)
}

func (c *Collector) readSites(e *snapshot.Environment, r odata.BatchResponse, source string, now time.Time) {
	e.SharePointSites.Sample = []snapshot.SharePointSite{}
	var rows []snapshot.SharePointSite
	n, capped, section := readCounted(r, SiteRecord, c.opts.SampleSize, source, now, &rows)
	e.SharePointSites.Section = section
	if !section.OK() {
		return
	}
	e.SharePointSites.ActiveCount, e.SharePointSites.CountLimitExceeded = n, capped
	e.SharePointSites.Sample = rows
	// Sorted by isdefault desc, so an active default site is the first row.
	if len(rows) > 0 && rows[0].IsDefault {
		d := rows[0]
		e.SharePointSites.DefaultSite = &d
	}
}

func (c *Collector) readLocations(e *snapshot.Environment, r odata.BatchResponse, source string, now time.Time) {
	e.DocumentLocations.Sample = []snapshot.DocumentLocation{}
	var rows []snapshot.DocumentLocation
	n, capped, section := readCounted(r, LocationRecord, c.opts.SampleSize, source, now, &rows)
	e.DocumentLocations.Section = section
	if !section.OK() {
		return
	}
	e.DocumentLocations.AbsoluteURLCount, e.DocumentLocations.CountLimitExceeded = n, capped
	e.DocumentLocations.Sample = rows
}

// entityDefinition is one EntityDefinitions row as the Web API returns it.
type entityDefinition struct {
	LogicalName                 string `json:"LogicalName"`
	MetadataID                  string `json:"MetadataId"`
	IsCustomEntity              bool   `json:"IsCustomEntity"`
	IsDocumentManagementEnabled bool   `json:"IsDocumentManagementEnabled"`
	IsMSTeamsIntegrationEnabled bool   `json:"IsMSTeamsIntegrationEnabled"`
}

func (c *Collector) readEntities(e *snapshot.Environment, r odata.BatchResponse, source string, tables []string, now time.Time) {
	e.Entities.Tables = []snapshot.Table{}
	rows, err := collectors.DecodeAll[entityDefinition](r, EntityRecord)
	if err != nil {
		e.Entities.Section = collectors.Failed(source, err, now)
		return
	}
	found := map[string]entityDefinition{}
	for _, d := range rows {
		found[strings.ToLower(d.LogicalName)] = d
	}
	for _, name := range tables {
		d, ok := found[name]
		t := snapshot.Table{LogicalName: name, Exists: ok}
		if ok {
			t.MetadataID = d.MetadataID
			t.IsCustomEntity = d.IsCustomEntity
			t.IsDocumentManagementEnabled = d.IsDocumentManagementEnabled
			t.IsMSTeamsIntegrationEnabled = d.IsMSTeamsIntegrationEnabled
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

// startCaller reads who the caller is and returns the follow-up reads of
// the roles they hold directly and through their teams (none when WhoAmI
// failed, which decides the section).
func (c *Collector) startCaller(e *snapshot.Environment, r odata.BatchResponse, whoAmISource string, now time.Time) followUp {
	e.Caller.Roles = []snapshot.SecurityRole{}
	var who whoAmI
	if err := collectors.DecodeOne(r, WhoAmIRecord, &who); err != nil {
		e.Caller.Section = collectors.Failed(whoAmISource, err, now)
		return followUp{}
	}
	e.Caller.UserID, e.Caller.BusinessUnitID = who.UserID, who.BusinessUnitID
	f := followUp{}
	for _, p := range []string{
		fmt.Sprintf("systemusers(%s)/systemuserroles_association?$select=%s", who.UserID, roleColumns),
		fmt.Sprintf("systemusers(%s)/teammembership_association?$select=teamid,name&$expand=teamroles_association($select=%s)", who.UserID, roleColumns),
	} {
		f.requests = append(f.requests, odata.BatchRequest{Method: http.MethodGet, Path: p})
		f.sources = append(f.sources, "GET "+c.client.BaseURL().String()+p)
	}
	return f
}

// finishCaller reads the caller's roles from the follow-up answers.
func (c *Collector) finishCaller(e *snapshot.Environment, resps []odata.BatchResponse, sources []string, now time.Time) {
	direct, section := decodeSection[roleRow](resps[0], RoleRecord, sources[0], now)
	if !section.OK() {
		e.Caller.Section = section
		return
	}
	teams, section := decodeSection[teamRow](resps[1], TeamRecord, sources[1], now)
	if section.OK() {
		section = checkTeamRoles(resps[1], sources[1], now)
	}
	if !section.OK() {
		e.Caller.Section = section
		return
	}
	for _, r := range direct {
		e.Caller.Roles = append(e.Caller.Roles, securityRole(r, "user", ""))
	}
	for _, t := range teams {
		for _, r := range t.Roles {
			e.Caller.Roles = append(e.Caller.Roles, securityRole(r, "team", t.TeamID))
		}
	}
	e.Caller.Section = collectors.OK(sources[0], resps[0].Status, now)
}

// checkTeamRoles checks the roles expanded in each team row.
func checkTeamRoles(r odata.BatchResponse, source string, now time.Time) snapshot.Section {
	var page struct {
		Value []struct {
			Roles []json.RawMessage `json:"teamroles_association"`
		} `json:"value"`
	}
	if err := r.DecodeJSON(&page); err != nil {
		return collectors.Failed(source, err, now)
	}
	var rows []json.RawMessage
	for _, t := range page.Value {
		rows = append(rows, t.Roles...)
	}
	if err := TeamRoleRecord.RequireAll(rows); err != nil {
		return collectors.Failed(source, err, now)
	}
	return collectors.OK(source, r.Status, now)
}

// decodeSection decodes a collection read whole whose rows are rec, with the
// section it makes: ok, or failed naming what was wrong or missing.
func decodeSection[T any](r odata.BatchResponse, rec collectors.Record, source string, now time.Time) ([]T, snapshot.Section) {
	out, err := collectors.DecodeAll[T](r, rec)
	if err != nil {
		return nil, collectors.Failed(source, err, now)
	}
	return out, collectors.OK(source, r.Status, now)
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
	return orFilter("LogicalName", quoted(tables))
}

// orFilter builds "name eq a or name eq b" from literals.
func orFilter(name string, literals []string) string {
	parts := make([]string, len(literals))
	for i, l := range literals {
		parts[i] = name + " eq " + l
	}
	return strings.Join(parts, " or ")
}

// quoted makes OData string literals of names that hold no quote.
func quoted(names []string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = "'" + n + "'"
	}
	return out
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
