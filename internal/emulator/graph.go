package emulator

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/teamslink/teamslink/internal/emulator/query"
)

const graphJSON = "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8"

// graphError writes Graph's error body with innerError.
func (s *Server) graphError(w http.ResponseWriter, rc *reqCtx, status int, code, msg string) {
	rid := w.Header().Get("request-id")
	if rid == "" {
		rid = newGUID()
		w.Header().Set("request-id", rid)
	}
	crid := w.Header().Get("client-request-id")
	if crid == "" {
		crid = rid
		w.Header().Set("client-request-id", crid)
	}
	writeJSON(w, status, "application/json", obj{{"error", obj{
		{"code", code},
		{"message", msg},
		{"innerError", obj{
			{"date", s.opts.Clock().UTC().Format("2006-01-02T15:04:05")},
			{"request-id", rid},
			{"client-request-id", crid},
		}},
	}}})
}

// graphReq is one Graph request being served.
type graphReq struct {
	rc   *reqCtx
	r    *http.Request
	ts   *tenantState
	root string // https://graph.microsoft.com/v1.0/
}

// serveGraph serves the Microsoft Graph v1.0 subset of facts §9.
func (s *Server) serveGraph(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	rid := newGUID()
	w.Header().Set("request-id", rid)
	crid := r.Header.Get("client-request-id")
	if crid == "" {
		crid = rid
	}
	w.Header().Set("client-request-id", crid)
	path, ok := strings.CutPrefix(r.URL.Path, "/v1.0/")
	if !ok {
		version, _, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
		s.graphError(w, rc, http.StatusBadRequest, "BadRequest", fmt.Sprintf("Invalid version: '%s'. The emulator serves v1.0 only.", version))
		return
	}
	g := &graphReq{rc: rc, r: r, root: "https://" + rc.host + "/v1.0/"}
	if path == "$batch" {
		if r.Method != http.MethodPost {
			s.graphError(w, rc, http.StatusMethodNotAllowed, "Request_BadRequest", "$batch accepts POST only.")
			return
		}
		if rc.inner {
			s.graphError(w, rc, http.StatusBadRequest, "BadRequest", "Batch requests cannot be nested.")
			return
		}
		s.graphBatch(w, r, g)
		return
	}
	s.lock(rc)
	defer s.unlock(rc)
	if !s.authenticate(w, r, rc, "https://"+rc.host) {
		return
	}
	g.ts = rc.tok.tenant
	if r.Method != http.MethodGet {
		s.graphError(w, rc, http.StatusMethodNotAllowed, "Request_BadRequest", fmt.Sprintf("The emulator serves Graph reads only; %s is not supported.", r.Method))
		return
	}
	s.routeGraph(w, g, path)
}

var (
	appIDKeyRE    = regexp.MustCompile(`^servicePrincipals\(appId='([^']*)'\)$`)
	directoryRole = "microsoft.graph.directoryRole"
)

func (s *Server) routeGraph(w http.ResponseWriter, g *graphReq, path string) {
	segs := strings.Split(strings.TrimSuffix(path, "/"), "/")
	rc := g.rc
	notFound := func() {
		s.graphError(w, rc, http.StatusBadRequest, "BadRequest", fmt.Sprintf("Resource not found for the segment '%s'.", path))
	}
	switch segs[0] {
	case "subscribedSkus":
		if len(segs) != 1 {
			notFound()
			return
		}
		s.subscribedSkus(w, g)
		return
	case "organization":
		if len(segs) != 1 {
			notFound()
			return
		}
		s.graphList(w, g, "organization", "organization", []obj{s.organizationObject(g.ts)}, nil, false)
		return
	case "sites":
		if len(segs) == 2 && segs[1] == "root" {
			s.rootSite(w, g)
			return
		}
		notFound()
		return
	case "groupSettings":
		if len(segs) != 1 {
			notFound()
			return
		}
		s.graphList(w, g, "groupSettings", "groupSetting", groupSettingObjects(g.ts), nil, false)
		return
	case "oauth2PermissionGrants":
		if len(segs) != 1 {
			notFound()
			return
		}
		s.graphList(w, g, "oauth2PermissionGrants", "oAuth2PermissionGrant", grantObjects(g.ts.grants), grantFilterProps, true)
		return
	case "me":
		if !rc.tok.appOnly {
			s.userRoutes(w, g, segs[1:], path)
			return
		}
		s.graphError(w, rc, http.StatusBadRequest, "BadRequest", "/me request is only valid with delegated authentication flow.")
		return
	case "users":
		if len(segs) < 2 {
			notFound()
			return
		}
		caller := g.ts.caller
		if g.ts.sc.Caller.Type != "user" || (!strings.EqualFold(segs[1], caller.ObjectID) && !strings.EqualFold(segs[1], caller.UserPrincipalName)) {
			s.graphError(w, rc, http.StatusNotFound, "Request_ResourceNotFound", fmt.Sprintf("Resource '%s' does not exist or one of its queried reference-property objects are not present.", segs[1]))
			return
		}
		s.userRoutes(w, g, segs[2:], path)
		return
	case "roleManagement":
		if len(segs) == 3 && segs[1] == "directory" && segs[2] == "roleAssignments" {
			s.roleAssignments(w, g)
			return
		}
		notFound()
		return
	}
	// servicePrincipals, servicePrincipals/{id}, servicePrincipals(appId='…'), and their navigations.
	var sp *ServicePrincipal
	var navs []string
	switch {
	case segs[0] == "servicePrincipals" && len(segs) == 1:
		s.graphList(w, g, "servicePrincipals", "servicePrincipal", spObjects(g.ts.sps), spFilterProps, true)
		return
	case segs[0] == "servicePrincipals":
		if !isGUID(segs[1]) {
			s.graphError(w, rc, http.StatusBadRequest, "Request_BadRequest", fmt.Sprintf("Invalid object identifier '%s'.", segs[1]))
			return
		}
		sp = findSP(g.ts, func(p ServicePrincipal) bool { return strings.EqualFold(p.ID, segs[1]) })
		if sp == nil {
			s.graphError(w, rc, http.StatusNotFound, "Request_ResourceNotFound", fmt.Sprintf("Resource '%s' does not exist or one of its queried reference-property objects are not present.", segs[1]))
			return
		}
		navs = segs[2:]
	case appIDKeyRE.MatchString(segs[0]):
		appID := appIDKeyRE.FindStringSubmatch(segs[0])[1]
		sp = findSP(g.ts, func(p ServicePrincipal) bool { return strings.EqualFold(p.AppID, appID) })
		if sp == nil {
			s.graphError(w, rc, http.StatusNotFound, "Request_ResourceNotFound", fmt.Sprintf("Resource '%s' does not exist or one of its queried reference-property objects are not present.", appID))
			return
		}
		navs = segs[1:]
	default:
		notFound()
		return
	}
	switch {
	case len(navs) == 0:
		s.graphEntity(w, g, "servicePrincipals/$entity", "servicePrincipal", spObject(*sp))
	case navs[0] == "memberOf" || navs[0] == "transitiveMemberOf":
		var roles []DirectoryRole
		if strings.EqualFold(sp.ID, g.ts.caller.ObjectID) {
			roles = g.ts.caller.DirectoryRoles
		}
		s.memberOf(w, g, roles, navs[1:], path)
	case len(navs) == 1 && navs[0] == "oauth2PermissionGrants":
		var mine []PermissionGrant
		for _, gr := range g.ts.grants {
			if strings.EqualFold(gr.ClientID, sp.ID) {
				mine = append(mine, gr)
			}
		}
		s.graphList(w, g, "oauth2PermissionGrants", "oAuth2PermissionGrant", grantObjects(mine), grantFilterProps, true)
	case len(navs) == 1 && navs[0] == "appRoleAssignments":
		s.graphList(w, g, "servicePrincipals('"+sp.ID+"')/appRoleAssignments", "appRoleAssignment", []obj{}, nil, true)
	default:
		notFound()
	}
}

func findSP(ts *tenantState, pred func(ServicePrincipal) bool) *ServicePrincipal {
	for i := range ts.sps {
		if pred(ts.sps[i]) {
			return &ts.sps[i]
		}
	}
	return nil
}

func (s *Server) userRoutes(w http.ResponseWriter, g *graphReq, navs []string, path string) {
	caller := g.ts.caller
	switch {
	case len(navs) == 0:
		s.graphEntity(w, g, "users/$entity", "user", obj{
			{"id", caller.ObjectID},
			{"displayName", caller.DisplayName},
			{"userPrincipalName", caller.UserPrincipalName},
			{"mail", caller.UserPrincipalName},
		})
	case navs[0] == "memberOf" || navs[0] == "transitiveMemberOf":
		s.memberOf(w, g, caller.DirectoryRoles, navs[1:], path)
	default:
		s.graphError(w, g.rc, http.StatusBadRequest, "BadRequest", fmt.Sprintf("Resource not found for the segment '%s'.", path))
	}
}

// memberOf lists directory roles, optionally cast to microsoft.graph.directoryRole.
func (s *Server) memberOf(w http.ResponseWriter, g *graphReq, roles []DirectoryRole, cast []string, path string) {
	if len(cast) > 1 || (len(cast) == 1 && cast[0] != directoryRole) {
		s.graphError(w, g.rc, http.StatusBadRequest, "BadRequest", fmt.Sprintf("Resource not found for the segment '%s'.", path))
		return
	}
	items := make([]obj, 0, len(roles))
	for _, r := range roles {
		o := obj{}
		if len(cast) == 0 {
			o = append(o, kv{"@odata.type", "#microsoft.graph.directoryRole"})
		}
		items = append(items, append(o,
			kv{"id", r.ID}, kv{"deletedDateTime", nil}, kv{"description", r.DisplayName + " (emulated)"},
			kv{"displayName", r.DisplayName}, kv{"roleTemplateId", r.RoleTemplateID}))
	}
	ctx, typ := "directoryObjects", "directoryObject"
	if len(cast) == 1 {
		ctx, typ = "directoryRoles", "directoryRole"
	}
	s.graphList(w, g, ctx, typ, items, map[string]query.Type{"id": query.String, "displayName": query.String, "roleTemplateId": query.String}, true)
}

var (
	spFilterProps = map[string]query.Type{
		"id": query.String, "appId": query.String, "displayName": query.String,
		"servicePrincipalType": query.String, "accountEnabled": query.Bool, "appOwnerOrganizationId": query.String,
	}
	grantFilterProps = map[string]query.Type{
		"id": query.String, "clientId": query.String, "consentType": query.String, "principalId": query.String, "resourceId": query.String,
	}
	assignmentFilterProps = map[string]query.Type{
		"id": query.String, "principalId": query.String, "roleDefinitionId": query.String, "directoryScopeId": query.String,
	}
)

func spObject(sp ServicePrincipal) obj {
	typ := sp.ServicePrincipalType
	if typ == "" {
		typ = "Application"
	}
	enabled := true
	if sp.AccountEnabled != nil {
		enabled = *sp.AccountEnabled
	}
	var owner any
	if sp.AppOwnerOrganizationID != "" {
		owner = strings.ToLower(sp.AppOwnerOrganizationID)
	}
	return obj{
		{"id", strings.ToLower(sp.ID)},
		{"accountEnabled", enabled},
		{"appDisplayName", sp.DisplayName},
		{"appId", strings.ToLower(sp.AppID)},
		{"appOwnerOrganizationId", owner},
		{"displayName", sp.DisplayName},
		{"servicePrincipalNames", []string{strings.ToLower(sp.AppID)}},
		{"servicePrincipalType", typ},
	}
}

func spObjects(sps []ServicePrincipal) []obj {
	out := make([]obj, len(sps))
	for i, sp := range sps {
		out[i] = spObject(sp)
	}
	return out
}

// groupSettingObjects are the tenant's settings objects as Graph v1.0
// returns them (facts §2a): values as name/value strings.
func groupSettingObjects(ts *tenantState) []obj {
	out := make([]obj, len(ts.sc.GroupSettings))
	for i, gs := range ts.sc.GroupSettings {
		id := strings.ToLower(gs.ID)
		if id == "" {
			id = derivedGUID(ts.id, "groupSetting", strings.ToLower(gs.TemplateID))
		}
		values := make([]obj, len(gs.Values))
		for j, v := range gs.Values {
			values[j] = obj{{"name", v.Name}, {"value", v.Value}}
		}
		out[i] = obj{
			{"id", id},
			{"displayName", gs.DisplayName},
			{"templateId", strings.ToLower(gs.TemplateID)},
			{"values", values},
		}
	}
	return out
}

func grantObjects(grants []PermissionGrant) []obj {
	out := make([]obj, len(grants))
	for i, g := range grants {
		var principal any
		if g.PrincipalID != nil {
			principal = strings.ToLower(*g.PrincipalID)
		}
		out[i] = obj{
			{"clientId", strings.ToLower(g.ClientID)},
			{"consentType", g.ConsentType},
			{"id", g.ID},
			{"principalId", principal},
			{"resourceId", strings.ToLower(g.ResourceID)},
			{"scope", g.Scope},
		}
	}
	return out
}

// rootSite serves the tenant's root SharePoint site, on the host of its
// admin site without "-admin" (a tenant without SharePoint in its scenario
// has none).
func (s *Server) rootSite(w http.ResponseWriter, g *graphReq) {
	if g.ts.spo == nil {
		s.graphError(w, g.rc, http.StatusNotFound, "itemNotFound", "Requested site could not be found")
		return
	}
	host := strings.Replace(g.ts.spo.host, "-admin.", ".", 1)
	s.graphEntity(w, g, "sites/$entity", "site", obj{
		{"id", host + "," + g.ts.id + "," + g.ts.id},
		{"name", ""},
		{"displayName", "Communication site"},
		{"webUrl", "https://" + host},
		{"root", obj{}},
		{"siteCollection", obj{{"hostname", host}}},
	})
}

func (s *Server) organizationObject(ts *tenantState) obj {
	domains := make([]obj, 0, len(ts.sc.Tenant.Domains))
	for i, d := range ts.sc.Tenant.Domains {
		domains = append(domains, obj{{"name", d}, {"isDefault", i == 0}, {"isInitial", strings.HasSuffix(d, ".onmicrosoft.com")}})
	}
	return obj{{"id", ts.id}, {"displayName", ts.sc.Tenant.Name}, {"verifiedDomains", domains}}
}

func (s *Server) subscribedSkus(w http.ResponseWriter, g *graphReq) {
	opts, err := parseQueryOptions(g.r.URL.RawQuery)
	if err == nil {
		// subscribedSkus supports $select only (facts §9).
		for _, name := range sortedKeys(opts) {
			if name != "$select" {
				err = &optionError{fmt.Sprintf("The query parameter '%s' is not supported on subscribedSkus; only $select is.", name)}
				break
			}
		}
	}
	if err != nil {
		s.graphError(w, g.rc, http.StatusBadRequest, "Request_UnsupportedQuery", err.Error())
		return
	}
	items := make([]obj, len(g.ts.skus))
	for i, sku := range g.ts.skus {
		status := sku.CapabilityStatus
		if status == "" {
			status = "Enabled"
		}
		applies := sku.AppliesTo
		if applies == "" {
			applies = "User"
		}
		units := Units{Enabled: max(sku.ConsumedUnits, 25)}
		if sku.PrepaidUnits != nil {
			units = *sku.PrepaidUnits
		}
		plans := make([]obj, len(sku.ServicePlans))
		for j, p := range sku.ServicePlans {
			prov := p.ProvisioningStatus
			if prov == "" {
				prov = "Success"
			}
			pa := p.AppliesTo
			if pa == "" {
				pa = "User"
			}
			plans[j] = obj{{"servicePlanId", strings.ToLower(p.ServicePlanID)}, {"servicePlanName", p.ServicePlanName}, {"provisioningStatus", prov}, {"appliesTo", pa}}
		}
		items[i] = obj{
			{"accountName", g.ts.sc.Tenant.Name},
			{"appliesTo", applies},
			{"capabilityStatus", status},
			{"consumedUnits", sku.ConsumedUnits},
			{"id", g.ts.id + "_" + strings.ToLower(sku.SKUID)},
			{"skuId", strings.ToLower(sku.SKUID)},
			{"skuPartNumber", sku.SKUPartNumber},
			{"subscriptionIds", []string{derivedGUID(g.ts.id, "subscription", sku.SKUID)}},
			{"prepaidUnits", obj{{"enabled", units.Enabled}, {"suspended", units.Suspended}, {"warning", units.Warning}, {"lockedOut", units.LockedOut}}},
			{"servicePlans", plans},
		}
	}
	s.graphList(w, g, "subscribedSkus", "subscribedSku", items, nil, false)
}

func (s *Server) roleAssignments(w http.ResponseWriter, g *graphReq) {
	items := make([]obj, len(g.ts.assignments))
	for i, a := range g.ts.assignments {
		items[i] = obj{
			{"id", a.ID},
			{"directoryScopeId", a.DirectoryScopeID},
			{"principalId", strings.ToLower(a.PrincipalID)},
			{"roleDefinitionId", strings.ToLower(a.RoleDefinitionID)},
		}
	}
	s.graphList(w, g, "roleManagement/directory/roleAssignments", "unifiedRoleAssignment", items, assignmentFilterProps, true)
}

// principalObject resolves a role assignment's principal for $expand=principal.
func principalObject(ts *tenantState, id string) any {
	if strings.EqualFold(id, ts.caller.ObjectID) && ts.sc.Caller.Type == "user" {
		return obj{{"@odata.type", "#microsoft.graph.user"}, {"id", ts.caller.ObjectID}, {"displayName", ts.caller.DisplayName}, {"userPrincipalName", ts.caller.UserPrincipalName}}
	}
	if sp := findSP(ts, func(p ServicePrincipal) bool { return strings.EqualFold(p.ID, id) }); sp != nil {
		return append(obj{{"@odata.type", "#microsoft.graph.servicePrincipal"}}, spObject(*sp)...)
	}
	return nil
}

// graphEntity serves one object with $select.
func (s *Server) graphEntity(w http.ResponseWriter, g *graphReq, context, typeName string, o obj) {
	opts, err := parseQueryOptions(g.r.URL.RawQuery)
	if err == nil {
		err = opts.check("$select")
	}
	if err != nil {
		s.graphError(w, g.rc, http.StatusBadRequest, "Request_UnsupportedQuery", err.Error())
		return
	}
	sel, err := graphSelect(opts, typeName, o)
	if err != nil {
		s.graphError(w, g.rc, http.StatusBadRequest, "BadRequest", err.Error())
		return
	}
	out := obj{{"@odata.context", g.root + "$metadata#" + context}}
	writeJSON(w, http.StatusOK, graphJSON, append(out, pick(o, sel)...))
}

func graphSelect(opts queryOptions, typeName string, sample obj) ([]string, error) {
	v, ok := opts["$select"]
	if !ok {
		return nil, nil
	}
	names, err := query.ParseSelect(v)
	if err != nil {
		return nil, &optionError{err.Error()}
	}
	if sample != nil {
		for _, n := range names {
			if _, ok := sample.get(n); !ok {
				return nil, &optionError{fmt.Sprintf("Could not find a property named '%s' on type 'microsoft.graph.%s'.", n, typeName)}
			}
		}
	}
	return names, nil
}

func pick(o obj, sel []string) obj {
	if sel == nil {
		return o
	}
	out := obj{}
	for _, p := range o {
		if strings.HasPrefix(p.k, "@") || contains(sel, p.k) {
			out = append(out, p)
		}
	}
	return out
}

// graphPage is Graph's default page size for directory collections.
const graphPage = 100

// graphList serves a collection with $select, $filter (on filterable
// properties), $top paging with @odata.nextLink, and $count when
// ConsistencyLevel: eventual is sent. directory selects the directory
// object rules (paging, $count).
func (s *Server) graphList(w http.ResponseWriter, g *graphReq, context, typeName string, items []obj, filterable map[string]query.Type, directory bool) {
	rc := g.rc
	opts, err := parseQueryOptions(g.r.URL.RawQuery)
	allowed := []string{"$select"}
	if filterable != nil {
		allowed = append(allowed, "$filter")
	}
	if directory {
		allowed = append(allowed, "$top", "$skiptoken", "$count")
	}
	if context == "roleManagement/directory/roleAssignments" {
		allowed = append(allowed, "$expand")
	}
	if err == nil {
		err = opts.check(allowed...)
	}
	if err != nil {
		s.graphError(w, rc, http.StatusBadRequest, "Request_UnsupportedQuery", err.Error())
		return
	}
	var sample obj
	if len(items) > 0 {
		sample = items[0]
	}
	sel, err := graphSelect(opts, typeName, sample)
	if err != nil {
		s.graphError(w, rc, http.StatusBadRequest, "BadRequest", err.Error())
		return
	}
	if v, ok := opts["$filter"]; ok {
		f, err := query.ParseFilter(v, func(name string) (query.Type, bool) {
			t, ok := filterable[name]
			return t, ok
		}, query.FilterOptions{Functions: []string{"startswith"}})
		if err != nil {
			var up *query.UnknownPropertyError
			msg := "Invalid filter clause: " + err.Error()
			if errors.As(err, &up) {
				msg = fmt.Sprintf("Unsupported or invalid query filter clause specified for property '%s' of resource '%s'.", up.Name, upperFirst(typeName))
			}
			s.graphError(w, rc, http.StatusBadRequest, "Request_UnsupportedQuery", msg)
			return
		}
		var kept []obj
		for _, it := range items {
			o := it
			if f.Match(func(name string) any { v, _ := o.get(name); return v }) {
				kept = append(kept, it)
			}
		}
		items = kept
	}
	if v, ok := opts["$expand"]; ok {
		if strings.TrimSpace(v) != "principal" {
			s.graphError(w, rc, http.StatusBadRequest, "Request_UnsupportedQuery", fmt.Sprintf("The emulator supports $expand=principal only, not '%s'.", v))
			return
		}
		expanded := make([]obj, len(items))
		for i, it := range items {
			pid, _ := it.get("principalId")
			id, _ := pid.(string)
			expanded[i] = append(append(obj{}, it...), kv{"principal", principalObject(g.ts, id)})
		}
		items = expanded
		sel = appendIfMissing(sel, "principal")
	}
	total := len(items)
	pageSize := graphPage
	if v, ok := opts["$top"]; ok {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 999 {
			s.graphError(w, rc, http.StatusBadRequest, "Request_BadRequest", fmt.Sprintf("Invalid page size specified: '%s'. Must be between 1 and 999 inclusive.", v))
			return
		}
		pageSize = n
	}
	if !directory {
		pageSize = max(total, 1)
	}
	hash := pageHash(g.r.URL.Path, g.r.URL.RawQuery)
	offset := 0
	if tok, ok := opts["$skiptoken"]; ok {
		raw, err := base64.RawURLEncoding.DecodeString(tok)
		if err == nil {
			offset, err = decodeSkipToken(string(raw), hash)
		}
		if err != nil {
			s.graphError(w, rc, http.StatusBadRequest, "Request_BadRequest", "The $skiptoken is not valid for this request. Follow @odata.nextLink without changing it.")
			return
		}
	}
	out := obj{{"@odata.context", g.root + "$metadata#" + context}}
	if v, ok := opts["$count"]; ok {
		if !strings.EqualFold(g.r.Header.Get("ConsistencyLevel"), "eventual") {
			s.graphError(w, rc, http.StatusBadRequest, "Request_BadRequest", "$count is only supported with the ConsistencyLevel: eventual header.")
			return
		}
		if v == "true" {
			out = append(out, kv{"@odata.count", total})
		}
	}
	offset = min(offset, total)
	end := min(offset+pageSize, total)
	values := make([]obj, 0, end-offset)
	for _, it := range items[offset:end] {
		values = append(values, pick(it, sel))
	}
	if end < total {
		tok := base64.RawURLEncoding.EncodeToString([]byte(encodeSkipToken(end, hash, end/pageSize+1)))
		out = append(out, kv{"@odata.nextLink", nextLink(g.r, g.rc.host, tok)})
	}
	out = append(out, kv{"value", values})
	writeJSON(w, http.StatusOK, graphJSON, out)
}

func appendIfMissing(list []string, s string) []string {
	if list == nil || contains(list, s) {
		return list
	}
	return append(list, s)
}

func upperFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// maxGraphBatch is Graph's JSON batch limit (facts §9).
const maxGraphBatch = 20

type graphBatchRequest struct {
	ID        string            `json:"id"`
	Method    string            `json:"method"`
	URL       string            `json:"url"`
	Headers   map[string]string `json:"headers"`
	Body      json.RawMessage   `json:"body"`
	DependsOn []string          `json:"dependsOn"`
}

// graphBatch serves JSON batching (facts §9): at most 20 requests, each
// throttled on its own, dependsOn failures answered 424, responses in a
// shuffled (seeded) order, outer status 200.
func (s *Server) graphBatch(w http.ResponseWriter, r *http.Request, g *graphReq) {
	rc := g.rc
	s.lock(rc)
	ok := s.authenticate(w, r, rc, "https://"+rc.host)
	s.unlock(rc)
	if !ok {
		return
	}
	var body struct {
		Requests []graphBatchRequest `json:"requests"`
	}
	dec := json.NewDecoder(io.LimitReader(r.Body, 4<<20))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&body); err != nil {
		s.graphError(w, rc, http.StatusBadRequest, "BadRequest", "Invalid batch payload format: "+err.Error())
		return
	}
	if len(body.Requests) == 0 {
		s.graphError(w, rc, http.StatusBadRequest, "BadRequest", "Invalid batch payload format: the requests array is empty.")
		return
	}
	if len(body.Requests) > maxGraphBatch {
		s.graphError(w, rc, http.StatusBadRequest, "BadRequest", fmt.Sprintf("Invalid batch payload: the batch has %d requests; the limit is %d.", len(body.Requests), maxGraphBatch))
		return
	}
	seen := map[string]bool{}
	for i, br := range body.Requests {
		switch {
		case br.ID == "":
			s.graphError(w, rc, http.StatusBadRequest, "BadRequest", fmt.Sprintf("Invalid batch payload: request %d has no id.", i+1))
			return
		case seen[br.ID]:
			s.graphError(w, rc, http.StatusBadRequest, "BadRequest", fmt.Sprintf("Invalid batch payload: duplicate request id '%s'.", br.ID))
			return
		case br.Method == "" || br.URL == "":
			s.graphError(w, rc, http.StatusBadRequest, "BadRequest", fmt.Sprintf("Invalid batch payload: request '%s' needs a method and a url.", br.ID))
			return
		case len(br.Body) > 0 && string(br.Body) != "null" && headerValue(br.Headers, "Content-Type") == "":
			s.graphError(w, rc, http.StatusBadRequest, "BadRequest", fmt.Sprintf("Invalid batch payload: request '%s' has a body but no Content-Type header.", br.ID))
			return
		}
		for _, dep := range br.DependsOn {
			if !seen[dep] {
				s.graphError(w, rc, http.StatusBadRequest, "BadRequest", fmt.Sprintf("Invalid batch payload: request '%s' depends on '%s', which does not come before it.", br.ID, dep))
				return
			}
		}
		seen[br.ID] = true
	}
	status := map[string]int{}
	responses := make([]obj, 0, len(body.Requests))
	for _, br := range body.Requests {
		failedDep := ""
		for _, dep := range br.DependsOn {
			if status[dep] >= 400 {
				failedDep = dep
			}
		}
		var resp obj
		if failedDep != "" {
			status[br.ID] = http.StatusFailedDependency
			resp = obj{{"id", br.ID}, {"status", http.StatusFailedDependency}, {"headers", map[string]string{"Content-Type": "application/json"}},
				{"body", obj{{"error", obj{{"code", "FailedDependency"}, {"message", fmt.Sprintf("The request depends on '%s', which failed.", failedDep)}}}}}}
		} else {
			resp = s.runGraphInner(rc, r, br)
			st, _ := resp.get("status")
			status[br.ID], _ = st.(int)
		}
		responses = append(responses, resp)
	}
	s.shuffle(len(responses), func(i, j int) { responses[i], responses[j] = responses[j], responses[i] })
	writeJSON(w, http.StatusOK, "application/json", obj{{"responses", responses}})
}

func headerValue(h map[string]string, name string) string {
	for k, v := range h {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	return ""
}

// runGraphInner runs one batch request through the handler.
func (s *Server) runGraphInner(parent *reqCtx, outer *http.Request, br graphBatchRequest) obj {
	target := br.URL
	if strings.HasPrefix(strings.ToLower(target), "https://") || strings.HasPrefix(target, "/v1.0/") || strings.HasPrefix(target, "v1.0/") {
		return obj{{"id", br.ID}, {"status", http.StatusBadRequest}, {"headers", map[string]string{"Content-Type": "application/json"}},
			{"body", obj{{"error", obj{{"code", "BadRequest"}, {"message", "Batch request urls are relative to the version root, e.g. /me, not " + br.URL + "."}}}}}}
	}
	if !strings.HasPrefix(target, "/") {
		target = "/" + target
	}
	var bodyReader io.Reader
	if len(br.Body) > 0 && string(br.Body) != "null" {
		bodyReader = strings.NewReader(string(br.Body))
	}
	req, err := http.NewRequestWithContext(outer.Context(), strings.ToUpper(br.Method), "https://"+parent.host+"/v1.0"+target, bodyReader)
	if err != nil {
		return obj{{"id", br.ID}, {"status", http.StatusBadRequest}, {"headers", map[string]string{"Content-Type": "application/json"}},
			{"body", obj{{"error", obj{{"code", "BadRequest"}, {"message", "Invalid request url: " + err.Error()}}}}}}
	}
	req.Host = parent.host
	for k, v := range br.Headers {
		req.Header.Set(k, v)
	}
	req.Header.Set("Authorization", outer.Header.Get("Authorization"))
	req.RemoteAddr = outer.RemoteAddr
	buf := newBufferedWriter()
	s.runInner(parent, req, buf, false)
	headers := map[string]string{}
	for k, vs := range buf.header {
		if k == "Content-Length" || k == "Request-Id" || k == "Client-Request-Id" {
			continue
		}
		headers[k] = strings.Join(vs, ", ")
	}
	resp := obj{{"id", br.ID}, {"status", buf.code()}, {"headers", headers}}
	raw := buf.body.Bytes()
	switch {
	case len(raw) == 0:
	case strings.Contains(buf.header.Get("Content-Type"), "json") && json.Valid(raw):
		resp = append(resp, kv{"body", json.RawMessage(raw)})
	case utf8.Valid(raw):
		// Text, or JSON damaged by a malformed fault: a JSON string, so the
		// damage stays inside this one response.
		resp = append(resp, kv{"body", string(raw)})
	default:
		resp = append(resp, kv{"body", base64.StdEncoding.EncodeToString(raw)})
	}
	return resp
}
