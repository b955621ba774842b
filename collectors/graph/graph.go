// Package graph reads a tenant's state from Microsoft Graph: subscribed SKUs
// with their service plans, the collaboration app's service principal and
// its delegated permission grants, the caller's directory roles, and the
// tenant-wide group settings (the Entra group naming policy). The
// reads travel in one JSON $batch, plus one follow-up $batch for what needs
// an object id from the first (the grants, and an application caller's roles).
// Another collector's Graph read can travel in the first $batch too (Also).
package graph

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/teamslink/teamslink/collectors"
	"github.com/teamslink/teamslink/internal/odata"
	"github.com/teamslink/teamslink/internal/snapshot"
)

// Facts §9. The collaboration app's appId is community-sourced, not
// documented by Microsoft: it is an Options default that config can replace.
const (
	// CollaborationAppID is "Dynamics 365 Microsoft Teams Collaboration
	// Integration" (NOT CONFIRMED officially).
	CollaborationAppID = "a8adde6c-aeb4-4fd6-9d8f-c2dfdecac60a"
	// CollaborationAppNamePrefix finds the app by display name when the
	// appId lookup finds nothing.
	CollaborationAppNamePrefix = "Dynamics 365 Microsoft Teams"
	// GraphAppID is Microsoft Graph's own appId: the grants' resource.
	GraphAppID = "00000003-0000-0000-c000-000000000000"
	// GlobalAdministratorTemplateID is the Global Administrator role.
	GlobalAdministratorTemplateID = "62e90394-69f5-4237-9190-012177145e10"
)

// Caller kinds: who the scan's token belongs to.
const (
	CallerUser        = "user"
	CallerApplication = "servicePrincipal"
)

// Options tune a Collector.
type Options struct {
	// ClientID is the application (client) id the scan authenticates as,
	// if any: with an application token /me does not answer, and the
	// caller is this application's service principal.
	ClientID string
	// AppID and AppNamePrefix find the collaboration app; empty means the defaults above.
	AppID         string
	AppNamePrefix string
	// Now is the clock; required.
	Now func() time.Time
	// Also are reads of other collectors sent in the first $batch, so that
	// they cost no round trip of their own.
	Also []Also
}

// Also is a Graph GET another collector needs, sent in this collector's
// first $batch. Then gets its answer, or the $batch's error (then resp is
// the zero value), and runs alongside the follow-up $batch; it fills only
// its own sections of t.
type Also struct {
	// URL is relative to …/v1.0/, as in a $batch.
	URL  string
	Then func(ctx context.Context, t *snapshot.Tenant, resp odata.GraphResponse, batchErr error)
}

// Collector reads one tenant through a Graph client (base …/v1.0/).
type Collector struct {
	client *odata.Client
	opts   Options
}

// New returns a collector for the tenant client speaks to.
func New(client *odata.Client, opts Options) *Collector {
	if opts.AppID == "" {
		opts.AppID = CollaborationAppID
	}
	if opts.AppNamePrefix == "" {
		opts.AppNamePrefix = CollaborationAppNamePrefix
	}
	if opts.Now == nil {
		panic("graph: New needs Options.Now")
	}
	return &Collector{client: client, opts: opts}
}

// The rows this collector reads and the fields the policies need from each
// (facts §9, §12): a row without one of them makes its section an error
// that names the field, never a false, an empty string or a zero.
var (
	SKURecord = collectors.Record{Name: "subscribedSku", Section: "tenant.licenses", Request: `subscribedSkus`, Fields: []collectors.Field{
		{Name: "skuId", Kind: collectors.GUID},
		{Name: "skuPartNumber", Kind: collectors.String},
		{Name: "capabilityStatus", Kind: collectors.String},
		{Name: "servicePlans", Kind: collectors.Array},
	}}
	ServicePlanRecord = collectors.Record{Name: "servicePlan", Section: "tenant.licenses", Request: `subscribedSkus`, Fields: []collectors.Field{
		{Name: "servicePlanId", Kind: collectors.GUID},
		{Name: "servicePlanName", Kind: collectors.String},
		{Name: "provisioningStatus", Kind: collectors.String},
	}}
	AppRecord       = collectors.Record{Name: "collaboration app servicePrincipal", Section: "tenant.consent", Request: `servicePrincipals\(appId='` + CollaborationAppID + `'\)`, Fields: spFields}
	AppSearchRecord = collectors.Record{Name: "collaboration app servicePrincipal search", Section: "tenant.consent", Request: `servicePrincipals\?\$filter=startswith`, Fields: spFields}
	GraphSPRecord   = collectors.Record{Name: "Microsoft Graph servicePrincipal", Section: "tenant.consent", Request: `servicePrincipals\(appId='` + GraphAppID + `'\)`, Fields: spFields[:2]}
	GrantRecord     = collectors.Record{Name: "oauth2PermissionGrant", Section: "tenant.consent", Request: `oauth2PermissionGrants`, Fields: []collectors.Field{
		{Name: "id", Kind: collectors.String},
		{Name: "clientId", Kind: collectors.GUID},
		{Name: "consentType", Kind: collectors.String},
		{Name: "principalId", Kind: collectors.GUID, Nullable: true},
		{Name: "resourceId", Kind: collectors.GUID},
		{Name: "scope", Kind: collectors.String},
	}}
	MeRecord = collectors.Record{Name: "me", Section: "tenant.caller", Request: `/me\?`, Fields: []collectors.Field{
		{Name: "id", Kind: collectors.GUID},
		{Name: "userPrincipalName", Kind: collectors.String, Nullable: true},
	}}
	DirectoryRoleRecord = collectors.Record{Name: "directoryRole", Section: "tenant.caller", Request: `memberOf`, Fields: []collectors.Field{
		{Name: "roleTemplateId", Kind: collectors.GUID},
		{Name: "displayName", Kind: collectors.String, Nullable: true},
	}}
	// CallerAppRecord's request is the lookup by the configured client id,
	// which only config knows: the pattern matches every lookup by appId.
	CallerAppRecord      = collectors.Record{Name: "caller's servicePrincipal", Section: "tenant.caller", Request: `servicePrincipals\(appId='[^']*'\)`, Fields: spFields}
	RoleAssignmentRecord = collectors.Record{Name: "unifiedRoleAssignment", Section: "tenant.caller", Request: `roleAssignments`, Fields: []collectors.Field{
		{Name: "roleDefinitionId", Kind: collectors.String},
	}}
	// GroupSettingRecord is a tenant-wide directory settings object (facts
	// §2a): every value is a string.
	GroupSettingRecord = collectors.Record{Name: "groupSetting", Section: "tenant.groupSettings", Request: `groupSettings`, Fields: []collectors.Field{
		{Name: "id", Kind: collectors.GUID},
		{Name: "displayName", Kind: collectors.String, Nullable: true},
		{Name: "templateId", Kind: collectors.GUID},
		{Name: "values", Kind: collectors.Array},
	}}
	SettingValueRecord = collectors.Record{Name: "groupSetting value", Section: "tenant.groupSettings", Request: `groupSettings`, Fields: []collectors.Field{
		{Name: "name", Kind: collectors.String},
		{Name: "value", Kind: collectors.String},
	}}
)

var spFields = []collectors.Field{
	{Name: "id", Kind: collectors.GUID},
	{Name: "appId", Kind: collectors.GUID},
	{Name: "displayName", Kind: collectors.String, Nullable: true},
}

// Records are every row kind this collector reads.
var Records = []collectors.Record{SKURecord, ServicePlanRecord, AppRecord, AppSearchRecord, GraphSPRecord, GrantRecord, MeRecord, DirectoryRoleRecord, CallerAppRecord, RoleAssignmentRecord, GroupSettingRecord, SettingValueRecord}

// appOnlyMessage is how Graph refuses /me to an application token (facts
// §9, "Telling a user caller from an application"): the one answer that
// says the caller is an application. Any other failure decides nothing.
const appOnlyMessage = "only valid with delegated authentication flow"

type servicePrincipal struct {
	ID          string `json:"id"`
	AppID       string `json:"appId"`
	DisplayName string `json:"displayName"`
}

// CollectTenant fills t's licenses, consent, caller and groupSettings sections.
func (c *Collector) CollectTenant(ctx context.Context, t *snapshot.Tenant) {
	const (
		skus = iota
		appByID
		appByName
		graphSP
		me
		callerRoles
		groupSettings
	)
	urls := []string{
		"subscribedSkus?$select=skuId,skuPartNumber,capabilityStatus,servicePlans",
		fmt.Sprintf("servicePrincipals(appId='%s')?$select=id,appId,displayName", c.opts.AppID),
		fmt.Sprintf("servicePrincipals?$filter=startswith(displayName,'%s')&$select=id,appId,displayName", c.opts.AppNamePrefix),
		fmt.Sprintf("servicePrincipals(appId='%s')?$select=id,appId", GraphAppID),
		"me?$select=id,userPrincipalName",
		"me/memberOf/microsoft.graph.directoryRole?$select=roleTemplateId,displayName",
		// Tenant-wide settings, Directory.Read.All (facts §2a).
		"groupSettings",
	}
	appCaller := -1 // the caller's own service principal, when the client id is known
	if c.opts.ClientID != "" {
		appCaller = len(urls)
		urls = append(urls, fmt.Sprintf("servicePrincipals(appId='%s')?$select=id,appId,displayName", c.opts.ClientID))
	}
	also := len(urls)
	for _, a := range c.opts.Also {
		urls = append(urls, a.URL)
	}
	reqs := make([]odata.GraphRequest, len(urls))
	for i, u := range urls {
		reqs[i] = odata.GraphRequest{URL: u}
	}
	source := func(u string) string { return "GET " + c.client.BaseURL().String() + u }

	t.Licenses.SKUs, t.Consent.Grants, t.Caller.DirectoryRoles = []snapshot.SKU{}, []snapshot.PermissionGrant{}, []snapshot.DirectoryRole{}
	t.GroupSettings = &snapshot.GroupSettings{Settings: []snapshot.GroupSetting{}}
	resps, err := c.client.GraphBatch(ctx, reqs)
	now := c.opts.Now()
	if err != nil {
		err = fmt.Errorf("$batch: %w", err)
	}
	wait := c.also(ctx, t, resps, also, err)
	defer wait()
	if err != nil {
		t.Licenses.Section = collectors.Failed(source(urls[skus]), err, now)
		t.Consent.Section = collectors.Failed(source(urls[appByID]), err, now)
		t.Caller.Section = collectors.Failed(source(urls[me]), err, now)
		t.GroupSettings.Section = collectors.Failed(source(urls[groupSettings]), err, now)
		return
	}

	// Group settings: the naming policy lives in the Group.Unified object.
	if list, err := readGroupSettings(resps[groupSettings]); err != nil {
		t.GroupSettings.Section = collectors.Failed(source(urls[groupSettings]), err, now)
	} else {
		t.GroupSettings.Section = collectors.OK(source(urls[groupSettings]), resps[groupSettings].Status, now)
		t.GroupSettings.Settings = list
	}

	// Licences.
	if list, err := readSKUs(resps[skus]); err != nil {
		t.Licenses.Section = collectors.Failed(source(urls[skus]), err, now)
	} else {
		t.Licenses.Section = collectors.OK(source(urls[skus]), resps[skus].Status, now)
		t.Licenses.SKUs = list
	}

	// The collaboration app: by appId, else by display name. The source is
	// the request that decided: the appId lookup when it found the app (or
	// failed), else the display-name search. Grants are checked against
	// Microsoft Graph's own service principal, so a failed lookup of it
	// leaves consent unknown.
	consentSource, consentStatus := source(urls[appByID]), resps[appByID].Status
	sp, consentErr := c.findApp(resps[appByID], resps[appByName])
	if consentErr == nil && (sp == nil || sp.MatchedBy == "displayName") {
		consentSource, consentStatus = source(urls[appByName]), resps[appByName].Status
	}
	if consentErr == nil {
		graphID, err := readGraphSP(resps[graphSP])
		switch {
		case err == nil:
			t.Consent.GraphServicePrincipalID = graphID
		case sp != nil: // without the app there are no grants to check
			consentErr, consentSource = err, source(urls[graphSP])
		}
	}

	// The caller: a user when /me answers (a delegated token); the
	// application whose client id the scan used when /me answers that it
	// needs a delegated token; unknown otherwise.
	var callerSP servicePrincipal
	callerSource, callerStatus := source(urls[callerRoles]), resps[callerRoles].Status
	isApp, callerErr := false, c.readUser(t, resps[me], resps[callerRoles])
	if isAppOnly(callerErr) {
		switch {
		case appCaller < 0:
			callerErr = fmt.Errorf("%w; the token is an application's, but no client id is configured to find its service principal", callerErr)
		default:
			callerSource, callerStatus = source(urls[appCaller]), resps[appCaller].Status
			callerErr = collectors.DecodeOne(resps[appCaller], CallerAppRecord, &callerSP)
			if callerErr == nil && !strings.EqualFold(callerSP.AppID, c.opts.ClientID) {
				callerErr = fmt.Errorf("%s: Graph returned appId %s for appId %s", CallerAppRecord.Name, callerSP.AppID, c.opts.ClientID)
			}
			if callerErr == nil {
				isApp = true
				t.Caller.Type, t.Caller.ObjectID = CallerApplication, callerSP.ID
			}
		}
	} else if callerErr != nil {
		callerSource, callerStatus = source(urls[me]), resps[me].Status
	}

	// The follow-up: grants to the app, and an application caller's roles.
	var follow []odata.GraphRequest
	var followURLs []string
	if consentErr == nil && sp != nil {
		followURLs = append(followURLs, fmt.Sprintf("oauth2PermissionGrants?$filter=clientId eq '%s'", sp.ID))
	}
	if isApp {
		followURLs = append(followURLs, fmt.Sprintf("roleManagement/directory/roleAssignments?$filter=principalId eq '%s'", callerSP.ID))
	}
	for _, u := range followURLs {
		follow = append(follow, odata.GraphRequest{URL: u})
	}
	var followResps []odata.GraphResponse
	if len(follow) > 0 {
		followResps, err = c.client.GraphBatch(ctx, follow)
		now = c.opts.Now()
		if err != nil {
			err = fmt.Errorf("$batch: %w", err)
			if consentErr == nil && sp != nil {
				consentErr = err
			}
			if isApp {
				callerErr = err
			}
			followResps = nil
		}
	}
	k := 0
	if consentErr == nil && sp != nil && followResps != nil {
		grants, err := collectors.DecodeAll[snapshot.PermissionGrant](followResps[k], GrantRecord)
		if err != nil {
			consentErr, consentSource = err, source(followURLs[k])
		} else {
			t.Consent.Grants = grants
			consentStatus = followResps[k].Status
		}
		k++
	}
	if consentErr != nil {
		t.Consent.Section = collectors.Failed(consentSource, consentErr, now)
		t.Consent.ServicePrincipal, t.Consent.GraphServicePrincipalID, t.Consent.Grants = nil, "", []snapshot.PermissionGrant{}
	} else {
		t.Consent.Section = collectors.OK(consentSource, consentStatus, now)
		t.Consent.ServicePrincipal = sp
	}

	if isApp && followResps != nil {
		callerSource, callerStatus = source(followURLs[k]), followResps[k].Status
		callerErr = c.readAssignments(t, followResps[k])
	}
	if callerErr != nil {
		t.Caller.Section = collectors.Failed(callerSource, callerErr, now)
		t.Caller.Type, t.Caller.ObjectID, t.Caller.UserPrincipalName, t.Caller.DirectoryRoles = "", "", "", []snapshot.DirectoryRole{}
	} else {
		t.Caller.Section = collectors.OK(callerSource, callerStatus, now)
	}
}

// also hands each Also its answer, resps[first+i], or batchErr, in its own
// goroutine; wait waits for them all and passes on a panic of one to the
// collector's goroutine, where Collect records it.
func (c *Collector) also(ctx context.Context, t *snapshot.Tenant, resps []odata.GraphResponse, first int, batchErr error) (wait func()) {
	if len(c.opts.Also) == 0 {
		return func() {}
	}
	var wg sync.WaitGroup
	panics := make([]any, len(c.opts.Also))
	for i, a := range c.opts.Also {
		var resp odata.GraphResponse
		if batchErr == nil {
			resp = resps[first+i]
		}
		wg.Go(func() {
			defer func() { panics[i] = recover() }()
			a.Then(ctx, t, resp, batchErr)
		})
	}
	return func() {
		wg.Wait()
		for _, p := range panics {
			if p != nil {
				panic(p)
			}
		}
	}
}

// isAppOnly reports whether err is Graph's answer to /me with an
// application token.
func isAppOnly(err error) bool {
	var api *odata.APIError
	return errors.As(err, &api) && api.Status == http.StatusBadRequest && strings.Contains(api.Message, appOnlyMessage)
}

// readSKUs decodes the subscribed SKUs and their service plans.
func readSKUs(r odata.GraphResponse) ([]snapshot.SKU, error) {
	type sku struct {
		snapshot.SKU
		Plans []json.RawMessage `json:"servicePlans"`
	}
	rows, err := collectors.DecodeAll[sku](r, SKURecord)
	if err != nil {
		return nil, err
	}
	out := make([]snapshot.SKU, len(rows))
	for i, row := range rows {
		if err := ServicePlanRecord.RequireAll(row.Plans); err != nil {
			return nil, fmt.Errorf("subscribedSku %s: %w", row.SKUPartNumber, err)
		}
		out[i] = row.SKU
		out[i].ServicePlans = make([]snapshot.ServicePlan, len(row.Plans))
		for j, p := range row.Plans {
			if err := json.Unmarshal(p, &out[i].ServicePlans[j]); err != nil {
				return nil, fmt.Errorf("subscribedSku %s plan %d: %w", row.SKUPartNumber, j, err)
			}
		}
	}
	return out, nil
}

// readGroupSettings decodes the tenant-wide settings objects and their
// values, read whole: what a next page held could decide the rule.
func readGroupSettings(r odata.GraphResponse) ([]snapshot.GroupSetting, error) {
	type setting struct {
		snapshot.GroupSetting
		RawValues []json.RawMessage `json:"values"`
	}
	rows, err := collectors.DecodeAll[setting](r, GroupSettingRecord)
	if err != nil {
		return nil, err
	}
	out := make([]snapshot.GroupSetting, len(rows))
	for i, row := range rows {
		values, err := collectors.Unmarshal[snapshot.SettingValue](row.RawValues, SettingValueRecord)
		if err != nil {
			return nil, fmt.Errorf("groupSetting %s: %w", row.ID, err)
		}
		out[i] = row.GroupSetting
		out[i].TemplateID = strings.ToLower(out[i].TemplateID)
		out[i].Values = values
	}
	return out, nil
}

// readGraphSP returns the object id of Microsoft Graph's service principal,
// the resource the grants must target. Not finding it is an error: without
// it no grant can be shown to be for Graph.
func readGraphSP(r odata.GraphResponse) (string, error) {
	var row servicePrincipal
	if err := collectors.DecodeOne(r, GraphSPRecord, &row); err != nil {
		if errors.Is(err, odata.ErrNotFound) {
			return "", fmt.Errorf("the service principal of Microsoft Graph (appId %s) was not found, so no grant can be shown to be for Graph: %w", GraphAppID, err)
		}
		return "", err
	}
	if !strings.EqualFold(row.AppID, GraphAppID) {
		return "", fmt.Errorf("%s: Graph returned appId %s for appId %s", GraphSPRecord.Name, row.AppID, GraphAppID)
	}
	return row.ID, nil
}

// findApp returns the collaboration app's service principal, nil when the
// tenant has none (not an error: consent was never given), or the error
// that kept it from knowing.
func (c *Collector) findApp(byID, byName odata.GraphResponse) (*snapshot.ServicePrincipal, error) {
	var row servicePrincipal
	err := collectors.DecodeOne(byID, AppRecord, &row)
	if err == nil {
		if !strings.EqualFold(row.AppID, c.opts.AppID) {
			return nil, fmt.Errorf("%s: Graph returned appId %s for appId %s", AppRecord.Name, row.AppID, c.opts.AppID)
		}
		return &snapshot.ServicePrincipal{ID: row.ID, AppID: row.AppID, DisplayName: row.DisplayName, MatchedBy: "appId"}, nil
	}
	if !errors.Is(err, odata.ErrNotFound) {
		return nil, err
	}
	page, err := collectors.DecodeAll[servicePrincipal](byName, AppSearchRecord)
	if err != nil {
		return nil, err
	}
	for _, p := range page {
		if strings.HasPrefix(strings.ToLower(p.DisplayName), strings.ToLower(c.opts.AppNamePrefix)) {
			return &snapshot.ServicePrincipal{ID: p.ID, AppID: p.AppID, DisplayName: p.DisplayName, MatchedBy: "displayName"}, nil
		}
	}
	return nil, nil
}

func (c *Collector) readUser(t *snapshot.Tenant, me, roles odata.GraphResponse) error {
	var user struct {
		ID                string `json:"id"`
		UserPrincipalName string `json:"userPrincipalName"`
	}
	if err := collectors.DecodeOne(me, MeRecord, &user); err != nil {
		return err
	}
	list, err := collectors.DecodeAll[snapshot.DirectoryRole](roles, DirectoryRoleRecord)
	if err != nil {
		return err
	}
	t.Caller.Type, t.Caller.ObjectID, t.Caller.UserPrincipalName = CallerUser, user.ID, user.UserPrincipalName
	t.Caller.DirectoryRoles = list
	return nil
}

// readAssignments reads an application's directory roles from its role
// assignments; for built-in roles the definition id is the template id.
func (c *Collector) readAssignments(t *snapshot.Tenant, r odata.GraphResponse) error {
	list, err := collectors.DecodeAll[struct {
		RoleDefinitionID string `json:"roleDefinitionId"`
	}](r, RoleAssignmentRecord)
	if err != nil {
		return err
	}
	for _, a := range list {
		name := ""
		if strings.EqualFold(a.RoleDefinitionID, GlobalAdministratorTemplateID) {
			name = "Global Administrator"
		}
		t.Caller.DirectoryRoles = append(t.Caller.DirectoryRoles, snapshot.DirectoryRole{RoleTemplateID: strings.ToLower(a.RoleDefinitionID), DisplayName: name})
	}
	return nil
}
