package scan

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/teamslink/teamslink/collectors/graph"
	"github.com/teamslink/teamslink/internal/auth"
	"github.com/teamslink/teamslink/internal/metrics"
	"github.com/teamslink/teamslink/internal/odata"
	"github.com/teamslink/teamslink/internal/permissions"
)

// sharePointRoleNames are the directory roles, by name, that the table's
// SharePoint admin request (sharepoint.tenant) asks for, any one of which
// suffices.
func sharePointRoleNames() []string {
	for _, r := range permissions.ForMode(permissions.ModeScan) {
		if r.ID == "sharepoint.tenant" {
			return permissions.Names(r.Role)
		}
	}
	return nil
}

// directoryRole is one of the caller's directory roles: a person's from
// /me/memberOf (template id and name), an application's from its role
// assignments (the definition id, which is the template id of a built-in
// role; no name).
type directoryRole struct {
	TemplateID string `json:"roleTemplateId"`
	Name       string `json:"displayName"`
}

// sharePointCheck says whether the caller holds a directory role the
// SharePoint admin request needs (SharePoint Administrator or Global
// Administrator, NOT CONFIRMED by an official REST reference), from the
// caller's directory roles as the scan reads them: held when one of them
// is Global Administrator (by template id) or has one of the names;
// missing when none does — for an application, only when it holds no
// directory role at all, since role assignments carry no names and the
// reference facts give no template id for SharePoint Administrator;
// unknown otherwise, or when the roles could not be read.
func sharePointCheck(ctx context.Context, tt *Target, graphURL string, app bool) Check {
	names := sharePointRoleNames()
	c := Check{Service: permissions.SharePoint, Need: strings.Join(names, " or "), Kind: "directory role",
		Requests: []string{"sharepoint.tenant"}}
	const unconfirmed = "which role the SharePoint admin API (GET _api/SPO.Tenant) needs is NOT CONFIRMED by an official reference"
	gc, err := tt.session.client(metrics.APIGraph, graphURL+"/v1.0/", odata.Graph, auth.GraphScope(graphURL), 0)
	if err != nil {
		c.Status, c.Evidence = CheckUnknown, err.Error()
		return c
	}
	var (
		roles []directoryRole
		from  string
	)
	if app {
		c.Requests = append(c.Requests, "graph.callerServicePrincipal", "graph.roleAssignments")
		roles, err = applicationRoles(ctx, gc, tt.Tenant.Auth.ClientID)
		from = "the application's directory role assignments"
	} else {
		c.Requests = append(c.Requests, "graph.memberOf")
		roles, err = pagedRoles(ctx, gc, "me/memberOf/microsoft.graph.directoryRole?$select=roleTemplateId,displayName")
		from = "the person's directory roles (/me/memberOf)"
	}
	if err != nil {
		c.Status = CheckUnknown
		c.Evidence = "could not read " + from + ": " + auth.SignInReason(err)
		var api *odata.APIError
		if errors.As(err, &api) && (api.Status == http.StatusForbidden || api.Status == http.StatusUnauthorized) {
			c.Evidence += "; " + permissions.Needs("tenant.caller", "")
		}
		return c
	}
	for _, r := range roles {
		switch {
		case strings.EqualFold(r.TemplateID, graph.GlobalAdministratorTemplateID):
			c.Status, c.Held, c.Evidence = CheckHeld, "Global Administrator", from+"; "+unconfirmed
			return c
		case r.Name != "" && slices.ContainsFunc(names, func(n string) bool { return strings.EqualFold(n, r.Name) }):
			c.Status, c.Held, c.Evidence = CheckHeld, r.Name, from+"; "+unconfirmed
			return c
		}
	}
	if app && len(roles) > 0 {
		ids := make([]string, len(roles))
		for i, r := range roles {
			ids[i] = r.TemplateID
		}
		c.Status = CheckUnknown
		c.Evidence = fmt.Sprintf("%s name no Global Administrator, and role definitions %s carry no name (the reference facts give no template id for SharePoint Administrator); %s", from, strings.Join(ids, ", "), unconfirmed)
		return c
	}
	c.Status = CheckMissing
	if len(roles) == 0 {
		c.Evidence = from + ": none; " + unconfirmed
	} else {
		held := make([]string, len(roles))
		for i, r := range roles {
			held[i] = r.Name
		}
		c.Evidence = from + ": " + strings.Join(held, ", ") + "; " + unconfirmed
	}
	who := "the user teamslink signs in as"
	if app {
		who = "the service principal of the app registration"
		if id := tt.Tenant.Auth.ClientID; id != "" {
			who += " " + id
		}
	}
	c.Fix = "In the Microsoft Entra admin center, Roles & admins → SharePoint Administrator (the lesser of the two) → Add assignments → " + who + ". Until then the scan's tenant.sharePoint section is an error and TL-SP-005 cannot be assessed."
	return c
}

// applicationRoles reads an application's directory roles: its service
// principal by the configured client id, then that principal's role
// assignments, as the Graph collector does.
func applicationRoles(ctx context.Context, gc *odata.Client, clientID string) ([]directoryRole, error) {
	if clientID == "" {
		return nil, errors.New("the configured identity has no client id to find its service principal by")
	}
	var sp struct {
		ID string `json:"id"`
	}
	if _, err := gc.Get(ctx, fmt.Sprintf("servicePrincipals(appId='%s')?$select=id", clientID), &sp); err != nil {
		return nil, fmt.Errorf("find the service principal of %s: %w", clientID, err)
	}
	if sp.ID == "" {
		return nil, fmt.Errorf("the service principal of %s has no id", clientID)
	}
	var roles []directoryRole
	_, err := gc.Pages(ctx, fmt.Sprintf("roleManagement/directory/roleAssignments?$filter=principalId eq '%s'", sp.ID), 0, func(raw json.RawMessage) error {
		var a struct {
			RoleDefinitionID string `json:"roleDefinitionId"`
		}
		if err := json.Unmarshal(raw, &a); err != nil {
			return err
		}
		roles = append(roles, directoryRole{TemplateID: strings.ToLower(a.RoleDefinitionID)})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read the role assignments: %w", err)
	}
	return roles, nil
}

// pagedRoles reads a collection of directory roles.
func pagedRoles(ctx context.Context, gc *odata.Client, path string) ([]directoryRole, error) {
	var roles []directoryRole
	_, err := gc.Pages(ctx, path, 0, func(raw json.RawMessage) error {
		var r directoryRole
		if err := json.Unmarshal(raw, &r); err != nil {
			return err
		}
		roles = append(roles, r)
		return nil
	})
	return roles, err
}
