package scan

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"

	"github.com/teamslink/teamslink/collectors/dataverse"
	"github.com/teamslink/teamslink/internal/auth"
	"github.com/teamslink/teamslink/internal/config"
	"github.com/teamslink/teamslink/internal/metrics"
	"github.com/teamslink/teamslink/internal/odata"
	"github.com/teamslink/teamslink/internal/permissions"
)

// The states of a preflight check.
const (
	CheckHeld    = "held"
	CheckMissing = "missing"
	CheckUnknown = "unknown" // the preflight could not tell
)

// Check is one permission or role the scan needs, and whether the
// identity holds it.
type Check struct {
	Service permissions.Service `json:"service"`
	// Need is what satisfies it: "A or B".
	Need string `json:"need"`
	// Kind is "application permission", "delegated permission",
	// "environment user", "security role", "discovery" or "directory role".
	Kind   string `json:"kind"`
	Status string `json:"status"`
	// Held is the one of Need the identity holds.
	Held string `json:"held,omitempty"`
	// Requests are the table's rows that need it.
	Requests []string `json:"requests"`
	// Evidence says where the answer comes from.
	Evidence string `json:"evidence"`
	// Fix says how to grant it, for a check that is not held.
	Fix string `json:"fix,omitempty"`
}

// PreflightEnvironment is the checks of one environment.
type PreflightEnvironment struct {
	URL    string  `json:"url"`
	Name   string  `json:"name,omitempty"`
	Checks []Check `json:"checks"`
}

// PreflightTenant is the checks of one tenant.
type PreflightTenant struct {
	ID   string `json:"id"`
	Name string `json:"name,omitempty"`
	// Caller is "application" or "person", from the Graph token's claims.
	Caller       string                 `json:"caller,omitempty"`
	SignInError  string                 `json:"signInError,omitempty"`
	Checks       []Check                `json:"checks"`
	Environments []PreflightEnvironment `json:"environments"`
}

// Counts returns how many checks of the tenant and its environments are
// missing and unknown (a failed sign-in counts as unknown).
func (p PreflightTenant) Counts() (missing, unknown int) {
	count := func(cs []Check) {
		for _, c := range cs {
			switch c.Status {
			case CheckMissing:
				missing++
			case CheckUnknown:
				unknown++
			}
		}
	}
	count(p.Checks)
	for _, e := range p.Environments {
		count(e.Checks)
	}
	if p.SignInError != "" {
		unknown++
	}
	return missing, unknown
}

// Preflight signs in as each selected tenant's configured identity (the
// session a scan uses, discovery included) and reports which of the
// permissions the table in internal/permissions asks of it for a scan it
// holds: the Graph permissions from the roles (application) or scp
// (delegated) claim of its Graph token, the directory role the SharePoint
// admin request needs from the caller's directory roles, and per
// environment whether it is a user (WhoAmI) with the System Administrator
// role. The token's payload is read without checking its signature: it is
// teamslink's own token, just received from the tenant's authority over
// TLS, read only to learn what it claims; the services still validate it.
//
// Tenants are checked concurrently under the scan's bounds: at most
// opts.Concurrency units of work at once across the fleet (a tenant's
// Graph checks, each environment), at most opts.PerTenant within one
// tenant. The result is in the order of the targets, whatever finished
// first.
func Preflight(ctx context.Context, cfg *config.Config, opts Options) ([]PreflightTenant, error) {
	targets, err := Discover(ctx, cfg, opts)
	if err != nil {
		return nil, err
	}
	out := make([]PreflightTenant, len(targets))
	fleet := make(chan struct{}, opts.concurrency())
	var wg sync.WaitGroup
	for i, tt := range targets {
		wg.Go(func() {
			out[i] = preflightTenant(ctx, tt, fleet, opts.perTenant())
		})
	}
	wg.Wait()
	if err := interruption(ctx); err != nil {
		return nil, fmt.Errorf("preflight: %w", err)
	}
	return out, nil
}

// acquire takes a slot of each bound, in order, or gives up when ctx ends;
// the release function gives them back.
func acquire(ctx context.Context, bounds ...chan struct{}) (release func(), ok bool) {
	taken := 0
	release = func() {
		for _, b := range bounds[:taken] {
			<-b
		}
	}
	for _, b := range bounds {
		select {
		case b <- struct{}{}:
			taken++
		case <-ctx.Done():
			release()
			return func() {}, false
		}
	}
	return release, true
}

// tokenClaims are the claims of an access token the preflight reads.
type tokenClaims struct {
	Roles []string `json:"roles"`
	Scp   string   `json:"scp"`
	Idtyp string   `json:"idtyp"`
}

// decodeClaims reads the payload of a JWT, unverified (see Preflight).
func decodeClaims(token string) (tokenClaims, error) {
	var c tokenClaims
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return c, errors.New("the access token is not a JWT")
	}
	payload, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		return c, fmt.Errorf("decode the token payload: %w", err)
	}
	if err := json.Unmarshal(payload, &c); err != nil {
		return c, fmt.Errorf("decode the token claims: %w", err)
	}
	return c, nil
}

func preflightTenant(ctx context.Context, tt *Target, fleet chan struct{}, perTenant int) PreflightTenant {
	t := tt.Tenant
	p := PreflightTenant{ID: t.ID, Name: t.Name, Checks: []Check{}, Environments: []PreflightEnvironment{}}
	tenant := make(chan struct{}, perTenant)
	release, ok := acquire(ctx, tenant, fleet)
	if !ok {
		p.SignInError = "not checked: " + context.Cause(ctx).Error()
		return p
	}
	signedIn := preflightGraph(ctx, tt, &p)
	release()
	if !signedIn {
		return p
	}

	// The Dataverse clients are made first, one after another (a session
	// records its scopes); the checks then run concurrently.
	clients := make([]*odata.Client, len(t.Environments))
	errs := make([]error, len(t.Environments))
	for i, e := range t.Environments {
		envURL := strings.TrimSuffix(e.URL, "/")
		clients[i], errs[i] = tt.session.client(metrics.APIDataverse, envURL+"/api/data/v9.2/", odata.Dataverse, auth.DataverseScope(envURL), 0)
	}
	p.Environments = make([]PreflightEnvironment, len(t.Environments))
	var wg sync.WaitGroup
	for i, e := range t.Environments {
		wg.Go(func() {
			release, ok := acquire(ctx, tenant, fleet)
			if !ok {
				p.Environments[i] = PreflightEnvironment{URL: strings.TrimSuffix(e.URL, "/"), Name: e.Name, Checks: []Check{{
					Service: permissions.Dataverse, Need: "a user of the environment", Kind: "environment user", Status: CheckUnknown,
					Requests: []string{"dataverse.whoAmI"}, Evidence: "not checked: " + context.Cause(ctx).Error()}}}
				return
			}
			defer release()
			p.Environments[i] = preflightEnvironment(ctx, clients[i], errs[i], e)
		})
	}
	wg.Wait()
	return p
}

// preflightGraph signs in for Microsoft Graph and adds the tenant's checks
// to p: the Graph permissions, discovery, and the SharePoint admin role.
// It reports whether the sign-in worked.
func preflightGraph(ctx context.Context, tt *Target, p *PreflightTenant) bool {
	t := tt.Tenant
	graphURL := strings.TrimSuffix(t.GraphURL(), "/")
	tok, err := tt.session.cred.GetToken(ctx, policy.TokenRequestOptions{Scopes: []string{auth.GraphScope(graphURL)}})
	if err != nil {
		p.SignInError = auth.SignInReason(err)
		return false
	}
	claims, err := decodeClaims(tok.Token)
	if err != nil {
		p.Checks = append(p.Checks, Check{Service: permissions.Graph, Need: "the Graph token's claims", Kind: "token", Status: CheckUnknown, Requests: []string{"login.token"}, Evidence: err.Error()})
	} else {
		p.Checks = append(p.Checks, graphChecks(t, claims, p)...)
	}

	if tt.Tenant.Discover != nil {
		c := Check{Service: permissions.Service(tt.Tenant.Discover.Source), Kind: "discovery"}
		for _, r := range permissions.ForMode(permissions.ModeScan) {
			if r.Service == c.Service {
				c.Need, c.Requests = permissionsGrants(r.Role), []string{r.ID}
			}
		}
		switch {
		case tt.Failure != nil && tt.Failure.Discovery == "":
			// The credential issued no token: said once, as the sign-in error.
			c.Status, c.Evidence = CheckUnknown, tt.Failure.Error
		case tt.Failure != nil:
			c.Status, c.Evidence = CheckMissing, tt.Failure.Error
			c.Fix = "For bap, register the application as a Power Platform management app (New-PowerAppManagementApp -ApplicationId, or PUT adminApplications/{clientId}), as a tenant admin; for gds, sign in as a user who is an enabled member of the environments. See docs/permissions.md."
		default:
			c.Status, c.Evidence = CheckHeld, fmt.Sprintf("the discovery listed %d environments", len(tt.Tenant.Environments)-tt.Listed)
		}
		p.Checks = append(p.Checks, c)
	}
	if err == nil {
		p.Checks = append(p.Checks, sharePointCheck(ctx, tt, graphURL, p.Caller == "application"))
	}
	return true
}

// permissionsGrants renders the grants of a row as "A or B".
func permissionsGrants(gs []permissions.Grant) string {
	return strings.Join(permissions.Names(gs), " or ")
}

// graphChecks compares the token's claims with the Graph permissions the
// table asks for a scan of t, one check per set of alternatives.
func graphChecks(t config.Tenant, claims tokenClaims, p *PreflightTenant) []Check {
	app := claims.Idtyp == "app" || (claims.Roles != nil && claims.Scp == "")
	held, claim, kind := claims.Roles, "roles", "application permission"
	p.Caller = "application"
	if !app {
		held, claim, kind = strings.Fields(claims.Scp), "scp", "delegated permission"
		p.Caller = "person"
	}
	var out []Check
	for _, r := range permissions.ForMode(permissions.ModeScan) {
		if r.Service != permissions.Graph {
			continue
		}
		gs := r.Application
		if !app {
			gs = r.Delegated
		}
		switch {
		case len(gs) == 0:
			continue
		case r.ID == "graph.rootSite" && t.SharePointAdminURL != "":
			continue // the admin site is configured
		case (r.ID == "graph.roleAssignments" || r.ID == "graph.callerServicePrincipal") && !app:
			continue // a person's roles come from /me/memberOf
		}
		need := permissionsGrants(gs)
		k := slices.IndexFunc(out, func(c Check) bool { return c.Need == need })
		if k >= 0 {
			out[k].Requests = append(out[k].Requests, r.ID)
			continue
		}
		c := Check{Service: permissions.Graph, Need: need, Kind: kind, Requests: []string{r.ID}, Evidence: "the Graph token's " + claim + " claim"}
		for _, g := range gs {
			if slices.ContainsFunc(held, func(h string) bool { return strings.EqualFold(h, g.Name) }) {
				c.Held = g.Name
				break
			}
		}
		if c.Held != "" {
			c.Status = CheckHeld
		} else {
			c.Status = CheckMissing
			c.Fix = graphFix(t, gs[0].Name, app)
		}
		out = append(out, c)
	}
	return out
}

// graphFix says how to grant a Graph permission.
func graphFix(t config.Tenant, name string, app bool) string {
	who := "the app registration"
	if t.Auth.ClientID != "" {
		who += " " + t.Auth.ClientID
	}
	if app {
		return "In the Entra admin center, App registrations → " + who + " → API permissions → Add a permission → Microsoft Graph → Application permissions → " + name + ", then Grant admin consent for the tenant."
	}
	return "Grant " + who + " the Microsoft Graph delegated permission " + name + " (API permissions → Add a permission → Microsoft Graph → Delegated permissions) and consent to it, then sign in again."
}

// preflightEnvironment checks that the identity is a user of the
// environment and holds System Administrator, directly or through a team.
func preflightEnvironment(ctx context.Context, dc *odata.Client, err error, e config.Environment) PreflightEnvironment {
	envURL := strings.TrimSuffix(e.URL, "/")
	pe := PreflightEnvironment{URL: envURL, Name: e.Name, Checks: []Check{}}
	user := Check{Service: permissions.Dataverse, Need: "a user of the environment", Kind: "environment user", Requests: []string{"dataverse.whoAmI"}}
	role := Check{Service: permissions.Dataverse, Need: "the System Administrator role", Kind: "security role",
		Requests: []string{"dataverse.organizations", "dataverse.sharepointsites", "dataverse.sharepointdocumentlocations", "dataverse.entityDefinitions", "dataverse.privileges", "dataverse.callerRoles"}}
	fixRole := "In the Power Platform admin center, the environment → Settings → Users + permissions → Application users (or Users for a person) → the identity → Edit security roles → System Administrator."
	if err != nil {
		user.Status, user.Evidence = CheckUnknown, err.Error()
		pe.Checks = append(pe.Checks, user)
		return pe
	}
	var who struct {
		UserID string `json:"UserId"`
	}
	resp, err := dc.Do(ctx, &odata.Request{Method: http.MethodGet, Path: "WhoAmI"})
	if err == nil {
		err = json.Unmarshal(resp.Body, &who)
		if err == nil && who.UserID == "" {
			err = errors.New("WhoAmI answered without a UserId")
		}
	}
	var api *odata.APIError
	switch {
	case errors.As(err, &api) && (api.Status == http.StatusUnauthorized || api.Status == http.StatusForbidden):
		user.Status, user.Evidence = CheckMissing, fmt.Sprintf("WhoAmI answered HTTP %d: %s", api.Status, api.Message)
		user.Fix = "Add the identity to the environment: in the Power Platform admin center, the environment → Settings → Users + permissions → Application users → New app user (for an app registration), with the System Administrator role."
	case err != nil:
		user.Status, user.Evidence = CheckUnknown, "WhoAmI: "+auth.SignInReason(err)
	default:
		user.Status, user.Held, user.Evidence = CheckHeld, "user "+who.UserID, "WhoAmI answered"
	}
	pe.Checks = append(pe.Checks, user)
	if user.Status != CheckHeld {
		role.Status, role.Evidence = CheckUnknown, "not checked: the identity is not known to be a user of the environment"
		pe.Checks = append(pe.Checks, role)
		return pe
	}
	held, via, err := holdsSystemAdministrator(ctx, dc, who.UserID)
	switch {
	case err != nil:
		role.Status, role.Evidence = CheckUnknown, err.Error()
	case held:
		role.Status, role.Held, role.Evidence = CheckHeld, "System Administrator", "held "+via
	default:
		role.Status, role.Evidence, role.Fix = CheckMissing, "neither the user nor its teams hold a role of template "+dataverse.SystemAdministratorTemplateID, fixRole
	}
	pe.Checks = append(pe.Checks, role)
	return pe
}

// holdsSystemAdministrator reads the user's roles, directly and through
// teams, as the Dataverse collector does (facts §8).
func holdsSystemAdministrator(ctx context.Context, dc *odata.Client, userID string) (bool, string, error) {
	type role struct {
		TemplateID *string `json:"_roletemplateid_value"`
	}
	isAdmin := func(rs []role) bool {
		return slices.ContainsFunc(rs, func(r role) bool {
			return r.TemplateID != nil && strings.EqualFold(*r.TemplateID, dataverse.SystemAdministratorTemplateID)
		})
	}
	const cols = "name,roleid,_roletemplateid_value"
	resp, err := dc.Do(ctx, &odata.Request{Method: http.MethodGet, Path: fmt.Sprintf("systemusers(%s)/systemuserroles_association?$select=%s", userID, cols)})
	if err != nil {
		return false, "", fmt.Errorf("read the user's roles: %w", err)
	}
	var direct struct {
		Value []role `json:"value"`
	}
	if err := json.Unmarshal(resp.Body, &direct); err != nil {
		return false, "", fmt.Errorf("read the user's roles: %w", err)
	}
	if isAdmin(direct.Value) {
		return true, "directly", nil
	}
	resp, err = dc.Do(ctx, &odata.Request{Method: http.MethodGet, Path: fmt.Sprintf("systemusers(%s)/teammembership_association?$select=teamid,name&$expand=teamroles_association($select=%s)", userID, cols)})
	if err != nil {
		return false, "", fmt.Errorf("read the user's team roles: %w", err)
	}
	var teams struct {
		Value []struct {
			Roles []role `json:"teamroles_association"`
		} `json:"value"`
	}
	if err := json.Unmarshal(resp.Body, &teams); err != nil {
		return false, "", fmt.Errorf("read the user's team roles: %w", err)
	}
	for _, tm := range teams.Value {
		if isAdmin(tm.Roles) {
			return true, "through a team", nil
		}
	}
	return false, "", nil
}
