// Package graph reads a tenant's state from Microsoft Graph: subscribed SKUs
// with their service plans, the collaboration app's service principal and
// its delegated permission grants, and the caller's directory roles. The
// reads travel in one JSON $batch, plus one follow-up $batch for what needs
// an object id from the first (the grants, and an application caller's roles).
package graph

import (
	"context"
	"errors"
	"fmt"
	"strings"
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

type servicePrincipal struct {
	ID          string `json:"id"`
	AppID       string `json:"appId"`
	DisplayName string `json:"displayName"`
}

type collection[T any] struct {
	Value []T `json:"value"`
}

// CollectTenant fills t's licenses, consent and caller sections.
func (c *Collector) CollectTenant(ctx context.Context, t *snapshot.Tenant) {
	const (
		skus = iota
		appByID
		appByName
		graphSP
		me
		callerRoles
		appCaller
	)
	urls := []string{
		"subscribedSkus?$select=skuId,skuPartNumber,capabilityStatus,servicePlans",
		fmt.Sprintf("servicePrincipals(appId='%s')?$select=id,appId,displayName", c.opts.AppID),
		fmt.Sprintf("servicePrincipals?$filter=startswith(displayName,'%s')&$select=id,appId,displayName", c.opts.AppNamePrefix),
		fmt.Sprintf("servicePrincipals(appId='%s')?$select=id", GraphAppID),
		"me?$select=id,userPrincipalName",
		"me/memberOf/microsoft.graph.directoryRole?$select=roleTemplateId,displayName",
	}
	if c.opts.ClientID != "" {
		urls = append(urls, fmt.Sprintf("servicePrincipals(appId='%s')?$select=id,appId,displayName", c.opts.ClientID))
	}
	reqs := make([]odata.GraphRequest, len(urls))
	for i, u := range urls {
		reqs[i] = odata.GraphRequest{URL: u}
	}
	source := func(u string) string { return "GET " + c.client.BaseURL().String() + u }

	t.Licenses.SKUs, t.Consent.Grants, t.Caller.DirectoryRoles = []snapshot.SKU{}, []snapshot.PermissionGrant{}, []snapshot.DirectoryRole{}
	resps, err := c.client.GraphBatch(ctx, reqs)
	now := c.opts.Now()
	if err != nil {
		err = fmt.Errorf("$batch: %w", err)
		t.Licenses.Section = collectors.Failed(source(urls[skus]), err, now)
		t.Consent.Section = collectors.Failed(source(urls[appByID]), err, now)
		t.Caller.Section = collectors.Failed(source(urls[me]), err, now)
		return
	}

	// Licences.
	var skuPage collection[snapshot.SKU]
	if err := resps[skus].DecodeJSON(&skuPage); err != nil {
		t.Licenses.Section = collectors.Failed(source(urls[skus]), err, now)
	} else {
		t.Licenses.Section = collectors.OK(source(urls[skus]), resps[skus].Status, now)
		t.Licenses.SKUs = skuPage.Value
		for i := range t.Licenses.SKUs {
			if t.Licenses.SKUs[i].ServicePlans == nil {
				t.Licenses.SKUs[i].ServicePlans = []snapshot.ServicePlan{}
			}
		}
	}

	// The collaboration app: by appId, else by display name.
	// The source is the request that decided: the appId lookup when it
	// found the app (or failed), else the display-name search.
	consentSource, consentStatus := source(urls[appByID]), resps[appByID].Status
	sp, consentErr := c.findApp(resps[appByID], resps[appByName])
	if consentErr == nil && (sp == nil || sp.MatchedBy == "displayName") {
		consentSource, consentStatus = source(urls[appByName]), resps[appByName].Status
	}
	var graphSPRow servicePrincipal
	if err := resps[graphSP].DecodeJSON(&graphSPRow); err == nil {
		t.Consent.GraphServicePrincipalID = graphSPRow.ID
	}

	// The caller: a user when /me answers (a delegated token), otherwise
	// the application whose client id the scan used.
	var callerSP servicePrincipal
	callerSource, callerStatus := source(urls[callerRoles]), resps[callerRoles].Status
	callerErr := c.readUser(t, resps[me], resps[callerRoles])
	isApp := false
	if callerErr != nil && len(resps) > appCaller {
		if err := resps[appCaller].DecodeJSON(&callerSP); err == nil {
			isApp, callerErr = true, nil
			t.Caller.Type, t.Caller.ObjectID = CallerApplication, callerSP.ID
		}
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
		var grants collection[snapshot.PermissionGrant]
		if err := followResps[k].DecodeJSON(&grants); err != nil {
			consentErr = err
			consentSource = source(followURLs[k])
		} else {
			t.Consent.Grants = grants.Value
			consentStatus = followResps[k].Status
		}
		k++
	}
	if consentErr != nil {
		t.Consent.Section = collectors.Failed(consentSource, consentErr, now)
		t.Consent.ServicePrincipal = nil
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
	} else {
		t.Caller.Section = collectors.OK(callerSource, callerStatus, now)
	}
}

// findApp returns the collaboration app's service principal, nil when the
// tenant has none (not an error: consent was never given), or the error
// that kept it from knowing.
func (c *Collector) findApp(byID, byName odata.GraphResponse) (*snapshot.ServicePrincipal, error) {
	var row servicePrincipal
	err := byID.DecodeJSON(&row)
	if err == nil {
		return &snapshot.ServicePrincipal{ID: row.ID, AppID: row.AppID, DisplayName: row.DisplayName, MatchedBy: "appId"}, nil
	}
	if !errors.Is(err, odata.ErrNotFound) {
		return nil, err
	}
	var page collection[servicePrincipal]
	if err := byName.DecodeJSON(&page); err != nil {
		return nil, err
	}
	for _, p := range page.Value {
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
	if err := me.DecodeJSON(&user); err != nil {
		return err
	}
	var page collection[snapshot.DirectoryRole]
	if err := roles.DecodeJSON(&page); err != nil {
		return err
	}
	t.Caller.Type, t.Caller.ObjectID, t.Caller.UserPrincipalName = CallerUser, user.ID, user.UserPrincipalName
	t.Caller.DirectoryRoles = page.Value
	return nil
}

// readAssignments reads an application's directory roles from its role
// assignments; for built-in roles the definition id is the template id.
func (c *Collector) readAssignments(t *snapshot.Tenant, r odata.GraphResponse) error {
	var page collection[struct {
		RoleDefinitionID string `json:"roleDefinitionId"`
	}]
	if err := r.DecodeJSON(&page); err != nil {
		return err
	}
	for _, a := range page.Value {
		name := ""
		if strings.EqualFold(a.RoleDefinitionID, GlobalAdministratorTemplateID) {
			name = "Global Administrator"
		}
		t.Caller.DirectoryRoles = append(t.Caller.DirectoryRoles, snapshot.DirectoryRole{RoleTemplateID: strings.ToLower(a.RoleDefinitionID), DisplayName: name})
	}
	return nil
}
