package emulator

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// The two services that list a tenant's environments (fleet facts §1): the
// Power Platform admin API (BAP) and the Dataverse Global Discovery Service
// (GDS). Both are shared hosts, like Graph: the bearer token says whose
// tenant a request is for.
const (
	bapHost = "api.bap.microsoft.com"
	// bapPath is the documented list call; 2020-10-01 its only documented
	// api-version.
	bapPath       = "/providers/Microsoft.BusinessAppPlatform/scopes/admin/environments"
	bapAPIVersion = "2020-10-01"
	// bapResource is the audience of a token asked for with the legacy scope
	// https://service.powerapps.com//.default (CONFIRMED); bapHost itself is
	// accepted too, the audience some third-party code asks for (INFERENCE).
	bapResource = "https://service.powerapps.com"
	gdsRoot     = "/api/discovery/v2.0/"
)

// gdsHosts are the Global Discovery Service hosts of the clouds (fleet
// facts §1a).
var gdsHosts = map[string]string{
	"public":  "globaldisco.crm.dynamics.com",
	"gcc":     "globaldisco.crm9.dynamics.com",
	"gcchigh": "globaldisco.crm.microsoftdynamics.us",
	"dod":     "globaldisco.crm.appsplatform.us",
	"china":   "globaldisco.crm.dynamics.cn",
}

func isBAPHost(h string) bool { return h == bapHost }

func isGDSHost(h string) bool {
	for _, g := range gdsHosts {
		if h == g {
			return true
		}
	}
	return false
}

// Discovery is how the tenant's environments are listed by the Power
// Platform admin API and the Global Discovery Service.
type Discovery struct {
	// Environments are listed in this order. When empty, every environment
	// of the scenario is listed: an enabled Production environment named
	// after its organization. When set, only these are listed; an entry
	// whose url is an environment of the scenario describes it, any other
	// is listed without being served (a disabled or deleted environment,
	// or one without a Dataverse database when url is empty, which only
	// the admin API lists).
	Environments []DiscoveredEnvironment `yaml:"environments"`
	// PageSize, when above 0, splits both lists into pages of this many,
	// linked by nextLink (admin API) and @odata.nextLink (discovery
	// service). Microsoft documents no paging for the admin API (NOT
	// CONFIRMED); the emulator pages so that a client that follows a next
	// link is tested.
	PageSize int `yaml:"pageSize"`
	// AccessDenied makes both services answer 403, as the admin API does
	// for a service principal not registered as a management app.
	AccessDenied bool `yaml:"accessDenied"`
}

// DiscoveredEnvironment is one environment as the discovery services
// describe it.
type DiscoveredEnvironment struct {
	// URL is https://<org>.<region>.dynamics.com; empty for an environment
	// without a Dataverse database.
	URL string `yaml:"url"`
	// ID is the environment id (a GUID); derived when empty.
	ID string `yaml:"id"`
	// Name is the display name; default the organization's name, or the
	// URL's first label.
	Name string `yaml:"name"`
	// SKU is the admin API's environmentSku (default Production).
	SKU string `yaml:"sku"`
	// Default marks the tenant's default environment (isDefault).
	Default bool `yaml:"default"`
	// State is Enabled (default) or Disabled: the admin API's
	// states.runtime.id, and the discovery service's State 0 or 1.
	State string `yaml:"state"`
	// Location is the admin API's location (default unitedstates); Region
	// the discovery service's Region (default NA).
	Location string `yaml:"location"`
	Region   string `yaml:"region"`
}

const maxDiscoveryPageSize = 1000

func (d *Discovery) validate(v *validator) {
	if d.PageSize < 0 || d.PageSize > maxDiscoveryPageSize {
		v.add("discovery.pageSize", "must be between 0 (one page) and %d", maxDiscoveryPageSize)
	}
	seen := map[string]bool{}
	for i, e := range d.Environments {
		p := fmt.Sprintf("discovery.environments[%d]", i)
		if e.URL != "" {
			host, err := originHost(e.URL)
			switch {
			case err != nil:
				v.add(p+".url", "%v", err)
			case seen[host]:
				v.add(p+".url", "%s is listed twice", host)
			}
			seen[host] = true
		}
		v.guid(p+".id", e.ID, false)
		switch e.State {
		case "", "Enabled", "Disabled":
		default:
			v.add(p+".state", "must be Enabled or Disabled, not %q", e.State)
		}
		if e.SKU != "" && strings.ContainsAny(e.SKU, " \t\n") {
			v.add(p+".sku", "%q is not a SKU name (e.g. Production, Sandbox, Trial, Developer)", e.SKU)
		}
	}
}

// discoveredEnv is one entry of the lists, with everything derived.
type discoveredEnv struct {
	url, host, id, orgID, name, uniqueName string
	sku, state, location, region, version  string
	isDefault                              bool
}

type discoveryState struct {
	envs         []discoveredEnv
	pageSize     int
	accessDenied bool
}

// buildDiscovery derives the tenant's environment lists.
func buildDiscovery(ts *tenantState) *discoveryState {
	d := &discoveryState{}
	var entries []DiscoveredEnvironment
	if sd := ts.sc.Discovery; sd != nil {
		d.pageSize, d.accessDenied = sd.PageSize, sd.AccessDenied
		entries = sd.Environments
	}
	if len(entries) == 0 {
		for _, env := range ts.envs {
			entries = append(entries, DiscoveredEnvironment{URL: env.url})
		}
	}
	served := map[string]*envState{}
	for _, env := range ts.envs {
		served[env.hosts[0]] = env
	}
	for _, e := range entries {
		de := discoveredEnv{
			id: strings.ToLower(e.ID), name: e.Name, sku: e.SKU, isDefault: e.Default, state: e.State,
			location: e.Location, region: e.Region, version: "9.2.24104.00190",
		}
		if e.URL != "" {
			de.host, _ = originHost(e.URL)
			de.url = "https://" + de.host
			de.uniqueName, _, _ = strings.Cut(de.host, ".")
			de.orgID = derivedGUID(ts.id, "organization", de.host)
			if env := served[de.host]; env != nil {
				de.orgID = env.orgID
				if n, ok := env.tables["organizations"].rows[0]["name"].(string); ok && de.name == "" {
					de.name = n
				}
			}
		}
		if de.id == "" {
			de.id = derivedGUID(ts.id, "environment", de.url, e.Name)
		}
		if de.name == "" {
			de.name = de.uniqueName
		}
		if de.name == "" {
			de.name = "Environment " + de.id[:8]
		}
		if de.sku == "" {
			de.sku = "Production"
		}
		if de.state == "" {
			de.state = "Enabled"
		}
		if de.location == "" {
			de.location = "unitedstates"
		}
		if de.region == "" {
			de.region = "NA"
		}
		d.envs = append(d.envs, de)
	}
	return d
}

// discoveryPage cuts items into the page a $skiptoken asks for and returns
// the next link, or "" on the last page.
func (s *Server) discoveryPage(r *http.Request, rc *reqCtx, n int, pageSize int) (from, to int, next string, err error) {
	to = n
	hash := pageHash(r.URL.Path, r.URL.RawQuery)
	if tok := r.URL.Query().Get("$skiptoken"); tok != "" {
		if from, err = decodeSkipToken(tok, hash); err != nil {
			return 0, 0, "", err
		}
	}
	from = min(from, n)
	if pageSize > 0 && from+pageSize < n {
		to = from + pageSize
		next = nextLink(r, rc.host, encodeSkipToken(to, hash, to/pageSize+1))
	}
	return from, to, next, nil
}

// bapError writes the admin API's error body, {"error":{"code","message"}}
// (the Azure Resource Manager shape; its use by the admin API is an
// INFERENCE).
func bapError(w http.ResponseWriter, status int, code, msg string) {
	writeJSON(w, status, "application/json; charset=utf-8", obj{{"error", obj{{"code", code}, {"message", msg}}}})
}

// serveBAP serves the admin API's list call.
func (s *Server) serveBAP(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	s.lock(rc)
	defer s.unlock(rc)
	if !s.authenticate(w, r, rc, bapResource, "https://"+bapHost) {
		return
	}
	ts := rc.tok.tenant
	switch {
	case r.URL.Path != bapPath:
		bapError(w, http.StatusNotFound, "NotFound", fmt.Sprintf("The emulator serves GET %s only, not %s.", bapPath, r.URL.Path))
		return
	case r.Method != http.MethodGet:
		bapError(w, http.StatusMethodNotAllowed, "MethodNotAllowed", fmt.Sprintf("The emulator lists environments only; %s is not supported.", r.Method))
		return
	}
	switch v := r.URL.Query().Get("api-version"); v {
	case bapAPIVersion:
	case "":
		bapError(w, http.StatusBadRequest, "MissingApiVersionParameter", "The api-version query parameter (?api-version=) is required for all requests.")
		return
	default:
		bapError(w, http.StatusBadRequest, "InvalidApiVersionParameter", fmt.Sprintf("The api-version '%s' is invalid. The emulator supports '%s', the documented version.", v, bapAPIVersion))
		return
	}
	d := ts.discovery
	if d.accessDenied {
		who := ts.caller.ObjectID
		bapError(w, http.StatusForbidden, "Forbidden", fmt.Sprintf("The caller with object id '%s' does not have permission to perform action 'Microsoft.BusinessAppPlatform/scopes/admin/environments/read' in tenant '%s'. A service principal must be registered as a Power Platform management app.", who, ts.id))
		return
	}
	from, to, next, err := s.discoveryPage(r, rc, len(d.envs), d.pageSize)
	if err != nil {
		bapError(w, http.StatusBadRequest, "InvalidSkipToken", err.Error())
		return
	}
	items := make([]obj, 0, to-from)
	for _, e := range d.envs[from:to] {
		items = append(items, bapEnvironment(ts, e))
	}
	body := obj{{"value", items}}
	if next != "" {
		body = append(body, kv{"nextLink", next})
	}
	writeJSON(w, http.StatusOK, "application/json; charset=utf-8", body)
}

// bapEnvironment is one environment in the shape of Microsoft's example
// (list-environments.md), without capacity and add-ons.
func bapEnvironment(ts *tenantState, e discoveredEnv) obj {
	created := "2024-03-04T09:30:00.0000000Z"
	creator := obj{{"id", ts.caller.ObjectID}, {"displayName", ts.caller.DisplayName}, {"type", "User"}, {"tenantId", ts.id}}
	if ts.sc.Caller.Type == "app" {
		creator = obj{{"id", ts.caller.ObjectID}, {"displayName", "ServicePrincipal"}, {"type", "ServicePrincipal"}, {"tenantId", ts.id}}
	}
	props := obj{
		{"azureRegion", "westus"},
		{"displayName", e.name},
		{"description", ""},
		{"createdTime", created},
		{"createdBy", creator},
		{"lastModifiedTime", created},
		{"provisioningState", "Succeeded"},
		{"creationType", "User"},
		{"environmentSku", e.sku},
		{"isDefault", e.isDefault},
		{"clientUris", obj{
			{"admin", "https://admin.powerplatform.microsoft.com/environments/" + e.id + "/hub"},
			{"maker", "https://make.powerapps.com/environments/" + e.id + "/home"},
		}},
		{"runtimeEndpoints", obj{
			{"microsoft.BusinessAppPlatform", "https://" + e.location + ".api.bap.microsoft.com"},
			{"microsoft.PowerApps", "https://" + e.location + ".api.powerapps.com"},
		}},
	}
	if e.url == "" {
		props = append(props, kv{"databaseType", "None"})
	} else {
		apiURL := e.url
		if h := apiHost(e.host); h != "" {
			apiURL = "https://" + h
		}
		props = append(props, kv{"databaseType", "CommonDataService"}, kv{"linkedEnvironmentMetadata", obj{
			{"resourceId", e.orgID},
			{"friendlyName", e.name},
			{"uniqueName", e.uniqueName},
			{"domainName", e.uniqueName},
			{"version", e.version},
			{"instanceUrl", e.url + "/"},
			{"instanceApiUrl", apiURL},
			{"baseLanguage", 1033},
			{"instanceState", "Ready"},
			{"createdTime", created},
			{"platformSku", "Standard"},
		}})
	}
	props = append(props,
		kv{"states", obj{{"management", obj{{"id", "Ready"}}}, {"runtime", obj{{"id", e.state}}}}},
		kv{"updateCadence", obj{{"id", "Frequent"}}},
	)
	return obj{
		{"id", "/providers/Microsoft.BusinessAppPlatform/scopes/admin/environments/" + e.id},
		{"type", "Microsoft.BusinessAppPlatform/scopes/environments"},
		{"location", e.location},
		{"name", e.id},
		{"properties", props},
	}
}

// gdsProperties are the Instance properties in the order of fleet facts §1a.
var gdsProperties = []string{
	"ApiUrl", "DatacenterId", "DatacenterName", "EnvironmentId", "FriendlyName", "Id", "IsUserSysAdmin",
	"LastUpdated", "OrganizationType", "Purpose", "Region", "SchemaType", "State", "StatusMessage",
	"TenantId", "TrialExpirationDate", "UniqueName", "UrlName", "Version", "Url",
}

// serveGDS serves the Global Discovery Service's Instances.
func (s *Server) serveGDS(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	w.Header().Set("OData-Version", "4.0")
	s.lock(rc)
	defer s.unlock(rc)
	if !s.authenticate(w, r, rc, "https://"+rc.host) {
		return
	}
	ts := rc.tok.tenant
	rest, ok := strings.CutPrefix(r.URL.Path, gdsRoot)
	switch {
	case !ok:
		dvError(w, http.StatusNotFound, codeNoSegment, fmt.Sprintf("The emulator serves the discovery service under %s only.", gdsRoot))
		return
	case r.Method != http.MethodGet:
		dvError(w, http.StatusMethodNotAllowed, codeQuery, fmt.Sprintf("The discovery service is read-only; %s is not supported.", r.Method))
		return
	case rest != "Instances":
		dvError(w, http.StatusNotFound, codeNoSegment, fmt.Sprintf("Resource not found for the segment '%s'. The emulator serves Instances (no key lookups).", rest))
		return
	case rc.tok.appOnly:
		// Microsoft documents the service for a signed-in user only;
		// whether it answers app-only tokens is NOT CONFIRMED (fleet facts
		// §1a). The emulator refuses them, the stricter reading.
		dvError(w, http.StatusForbidden, codeNotMember, "The Global Discovery Service lists the environments of a signed-in user; the emulator refuses app-only tokens (NOT CONFIRMED for the real service).")
		return
	}
	opts, err := parseQueryOptions(r.URL.RawQuery)
	if err == nil {
		err = opts.check("$select", "$skiptoken")
	}
	if err != nil {
		dvError(w, http.StatusBadRequest, codeQuery, err.Error())
		return
	}
	sel := gdsProperties
	if v, has := opts["$select"]; has {
		sel = nil
		for _, name := range strings.Split(v, ",") {
			name = strings.TrimSpace(name)
			if !contains(gdsProperties, name) {
				dvError(w, http.StatusBadRequest, codeQuery, fmt.Sprintf("Could not find a property named '%s' on type 'Microsoft.Xrm.Sdk.Discovery.Instance'.", name))
				return
			}
			sel = append(sel, name)
		}
	}
	d := ts.discovery
	if d.accessDenied {
		dvError(w, http.StatusForbidden, codeNotMember, fmt.Sprintf("The user %s is not allowed to list the instances of tenant %s.", ts.caller.UserPrincipalName, ts.id))
		return
	}
	var listed []discoveredEnv
	for _, e := range d.envs {
		if e.url != "" { // an environment without a database has no instance
			listed = append(listed, e)
		}
	}
	from, to, next, err := s.discoveryPage(r, rc, len(listed), d.pageSize)
	if err != nil {
		dvError(w, http.StatusBadRequest, codeQuery, err.Error())
		return
	}
	items := make([]obj, 0, to-from)
	for _, e := range listed[from:to] {
		items = append(items, pick(gdsInstance(ts, e), sel))
	}
	body := obj{{"@odata.context", "https://" + rc.host + gdsRoot + "$metadata#Instances"}, {"value", items}}
	if next != "" {
		body = append(body, kv{"@odata.nextLink", next})
	}
	writeJSON(w, http.StatusOK, dvJSON, body)
}

func gdsInstance(ts *tenantState, e discoveredEnv) obj {
	apiURL := e.url
	if h := apiHost(e.host); h != "" {
		apiURL = "https://" + h
	}
	state := 0
	if e.state == "Disabled" {
		state = 1
	}
	return obj{
		{"ApiUrl", apiURL},
		{"DatacenterId", derivedGUID("datacenter", e.region)},
		{"DatacenterName", nil},
		{"EnvironmentId", e.id},
		{"FriendlyName", e.name},
		{"Id", e.orgID},
		{"IsUserSysAdmin", true},
		{"LastUpdated", "2024-03-04T09:30:00Z"},
		{"OrganizationType", 0},
		{"Purpose", ""},
		{"Region", e.region},
		{"SchemaType", "Standard"},
		{"State", state},
		{"StatusMessage", 5},
		{"TenantId", ts.id},
		{"TrialExpirationDate", nil},
		{"UniqueName", e.uniqueName},
		{"UrlName", e.uniqueName},
		{"Version", e.version},
		{"Url", e.url},
	}
}

// discoveryAudiences are the token audiences of the tenant's discovery
// services.
func discoveryAudiences(ts *tenantState) []string {
	return []string{bapResource, "https://" + bapHost, "https://" + gdsHosts[ts.cloud.name]}
}

// discoveryURLs describes the discovery endpoints for Describe.
func discoveryURLs(ts *tenantState) string {
	q := url.Values{"api-version": {bapAPIVersion}}
	return "https://" + bapHost + bapPath + "?" + q.Encode() + ", https://" + gdsHosts[ts.cloud.name] + gdsRoot + "Instances" +
		" (" + strconv.Itoa(len(ts.discovery.envs)) + " listed)"
}
