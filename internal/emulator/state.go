package emulator

import (
	"fmt"
	"os"
	"sort"
	"strings"
	"sync"
	"time"
)

// Well-known ids (facts §8, §9).
const (
	graphAppID                = "00000003-0000-0000-c000-000000000000"
	systemAdminRoleTemplateID = "627090ff-40a3-4053-8790-584edc5be201"
	globalAdminRoleTemplateID = "62e90394-69f5-4237-9190-012177145e10"
)

// tenantState is one scenario's live state.
type tenantState struct {
	// mu guards the tenant's mutable state and its environments'.
	mu            sync.Mutex
	sc            *Scenario
	id            string
	cloud         cloud
	names         map[string]bool     // tenant id and domains, lower case
	secrets       map[string]string   // client id → secret
	graphPerms    map[string][]string // client id → granted Graph permissions (nil: the default set)
	tokenLifetime time.Duration
	caller        Caller
	skus          []SKU
	sps           []ServicePrincipal
	grants        []PermissionGrant
	assignments   []RoleAssignment
	spo           *spoState
	envs          []*envState
	discovery     *discoveryState
	faults        []*faultState
}

type spoState struct {
	host         string
	policy       int
	policyName   string
	encoding     string
	allowEditing *bool
	accessDenied bool
}

// envState is one Dataverse environment's live state.
type envState struct {
	tenant          *tenantState
	url             string // https://host, lower case
	hosts           []string
	orgID           string
	tables          map[string]*table
	links           map[linkKey][]string
	entities        []*entityDef
	actionInstalled bool
	version         int64
}

type linkKey struct{ set, id, nav string }

type table struct {
	et   *entityType
	rows []row // the scenario's rows
	gens []*genSet
	tail []row // rows created at run time, after the generated ones
	byID map[string]row
}

func newTable(et *entityType) *table { return &table{et: et, byID: map[string]row{}} }

func (t *table) add(r row) {
	if len(t.gens) > 0 {
		t.tail = append(t.tail, r)
	} else {
		t.rows = append(t.rows, r)
	}
	t.byID[r[t.et.key].(string)] = r
}

// get finds a row by id. A generated row found for a write is kept (in its
// set's overrides and byID) so that changes made to it stick.
func (t *table) get(id string, write bool) (row, bool) {
	if r, ok := t.byID[id]; ok {
		return r, true
	}
	for _, g := range t.gens {
		if n := g.find(id); n > 0 {
			r := g.row(n)
			if write {
				if g.over == nil {
					g.over = map[int]row{}
				}
				g.over[n] = r
				t.byID[id] = r
			}
			return r, true
		}
	}
	return nil, false
}

func (t *table) remove(id string) {
	delete(t.byID, id)
	for _, list := range []*[]row{&t.rows, &t.tail} {
		for i, r := range *list {
			if r[t.et.key] == id {
				*list = append((*list)[:i:i], (*list)[i+1:]...)
				return
			}
		}
	}
	for _, g := range t.gens {
		if n := g.find(id); n > 0 {
			delete(g.over, n)
			if g.gone == nil {
				g.gone = map[int]bool{}
			}
			g.gone[n] = true
			return
		}
	}
}

// size is the number of rows, generated ones included.
func (t *table) size() int {
	n := len(t.rows) + len(t.tail)
	for _, g := range t.gens {
		n += g.count - len(g.gone)
	}
	return n
}

// clone copies the table's mutable state (generated rows stay virtual).
func (t *table) clone() *table {
	c := newTable(t.et)
	for _, r := range t.rows {
		cp := copyRow(r)
		c.rows = append(c.rows, cp)
		c.byID[cp[t.et.key].(string)] = cp
	}
	for _, g := range t.gens {
		cg := g.clone()
		c.gens = append(c.gens, cg)
		for _, r := range cg.over {
			c.byID[r[t.et.key].(string)] = r
		}
	}
	for _, r := range t.tail {
		cp := copyRow(r)
		c.tail = append(c.tail, cp)
		c.byID[cp[t.et.key].(string)] = cp
	}
	return c
}

// entityDef is one table's mutable metadata.
type entityDef struct {
	EntityDefinition
	customizable bool
}

// buildTenant turns a validated scenario into live state.
func buildTenant(sc *Scenario) (*tenantState, error) {
	cl, _ := cloudByName(sc.Tenant.Cloud)
	ts := &tenantState{
		sc:            sc,
		id:            strings.ToLower(sc.Tenant.ID),
		cloud:         cl,
		names:         map[string]bool{strings.ToLower(sc.Tenant.ID): true},
		secrets:       map[string]string{},
		tokenLifetime: time.Hour,
		caller:        sc.Caller,
		skus:          append([]SKU(nil), sc.SubscribedSKUs...),
		grants:        append([]PermissionGrant(nil), sc.OAuth2PermissionGrants...),
	}
	for _, d := range sc.Tenant.Domains {
		ts.names[strings.ToLower(d)] = true
	}
	if sc.TokenLifetime != "" {
		ts.tokenLifetime, _ = time.ParseDuration(sc.TokenLifetime)
	}
	for _, c := range sc.Clients {
		secret := c.Secret
		if c.SecretEnv != "" {
			secret = os.Getenv(c.SecretEnv)
		}
		ts.secrets[strings.ToLower(c.ClientID)] = secret
		if c.GraphPermissions != nil {
			if ts.graphPerms == nil {
				ts.graphPerms = map[string][]string{}
			}
			ts.graphPerms[strings.ToLower(c.ClientID)] = append([]string{}, *c.GraphPermissions...)
		}
	}
	ts.caller.ObjectID = strings.ToLower(ts.caller.ObjectID)
	ts.caller.DirectoryRoles = nil
	for _, r := range sc.Caller.DirectoryRoles {
		r.RoleTemplateID = strings.ToLower(r.RoleTemplateID)
		if r.ID == "" {
			r.ID = derivedGUID(ts.id, "directoryRole", r.RoleTemplateID)
		}
		ts.caller.DirectoryRoles = append(ts.caller.DirectoryRoles, r)
		ts.assignments = append(ts.assignments, RoleAssignment{
			ID:               derivedGUID(ts.id, "roleAssignment", ts.caller.ObjectID, r.RoleTemplateID),
			PrincipalID:      ts.caller.ObjectID,
			RoleDefinitionID: r.RoleTemplateID,
			DirectoryScopeID: "/",
		})
	}
	for _, a := range sc.RoleAssignments {
		if a.ID == "" {
			a.ID = derivedGUID(ts.id, "roleAssignment", a.PrincipalID, a.RoleDefinitionID)
		}
		if a.DirectoryScopeID == "" {
			a.DirectoryScopeID = "/"
		}
		ts.assignments = append(ts.assignments, a)
	}
	ts.sps = append(ts.sps, sc.ServicePrincipals...)
	hasGraph, hasCaller := false, false
	for _, sp := range ts.sps {
		hasGraph = hasGraph || strings.EqualFold(sp.AppID, graphAppID)
		hasCaller = hasCaller || strings.EqualFold(sp.ID, ts.caller.ObjectID)
	}
	if !hasGraph {
		ts.sps = append(ts.sps, ServicePrincipal{
			ID: derivedGUID(ts.id, "servicePrincipal", graphAppID), AppID: graphAppID, DisplayName: "Microsoft Graph",
			AppOwnerOrganizationID: "f8cdef31-a31e-4b4a-93e4-5f571e91255a",
		})
	}
	if sc.Caller.Type == "app" && !hasCaller {
		name := sc.Caller.DisplayName
		if name == "" {
			name = sc.Clients[0].DisplayName
		}
		if name == "" {
			name = "teamslink"
		}
		ts.sps = append(ts.sps, ServicePrincipal{ID: ts.caller.ObjectID, AppID: strings.ToLower(sc.Clients[0].ClientID), DisplayName: name, AppOwnerOrganizationID: ts.id})
	}
	if s := sc.SharePoint; s != nil {
		host, _ := originHost(s.AdminURL)
		n, name, _ := parseCAPolicy(s.ConditionalAccessPolicy)
		enc := s.Encoding
		if enc == "" {
			enc = "number"
		}
		ts.spo = &spoState{host: host, policy: n, policyName: name, encoding: enc, allowEditing: s.AllowEditing, accessDenied: s.AccessDenied}
	}
	for i := range sc.Environments {
		env, err := buildEnv(ts, &sc.Environments[i])
		if err != nil {
			return nil, fmt.Errorf("environment %s: %w", sc.Environments[i].URL, err)
		}
		ts.envs = append(ts.envs, env)
	}
	ts.discovery = buildDiscovery(ts)
	for i := range sc.Faults {
		ts.faults = append(ts.faults, newFaultState(&sc.Faults[i]))
	}
	return ts, nil
}

// apiHost returns the <org>.api.<region> variant of a Dataverse host, or "".
func apiHost(host string) string {
	org, rest, ok := strings.Cut(host, ".")
	if !ok || !strings.HasPrefix(rest, "crm") || strings.Count(rest, ".") < 2 {
		return ""
	}
	return org + ".api." + rest
}

func buildEnv(ts *tenantState, e *Environment) (*envState, error) {
	host, _ := originHost(e.URL)
	env := &envState{
		tenant:          ts,
		url:             "https://" + host,
		hosts:           []string{host},
		tables:          map[string]*table{},
		links:           map[linkKey][]string{},
		actionInstalled: e.TeamsDocumentStatusAction == nil || *e.TeamsDocumentStatusAction,
	}
	if h := apiHost(host); h != "" {
		env.hosts = append(env.hosts, h)
	}
	for _, et := range entityTypes {
		env.tables[et.set] = newTable(et)
	}
	var pending []row
	add := func(et *entityType, raw Row) error {
		r := row{}
		for _, c := range et.columns {
			r[c.name] = c.def
		}
		for k, v := range raw {
			if _, isNav := et.navs[k]; isNav {
				items, _ := v.([]any)
				for _, it := range items {
					s, _ := it.(string)
					env.addLink(et.set, strings.ToLower(raw[et.key].(string)), k, strings.ToLower(s))
				}
				continue
			}
			c, _ := et.column(k)
			cv, err := convertValue(c, v)
			if err != nil {
				return err
			}
			r[k] = cv
		}
		env.tables[et.set].add(r)
		pending = append(pending, r)
		return nil
	}
	if err := add(organizationType, e.Organization); err != nil {
		return nil, err
	}
	env.orgID = env.tables["organizations"].rows[0]["organizationid"].(string)
	for _, name := range e.seededPrivileges() {
		// A fixed version, so seeding renumbers no scenario row.
		if err := add(privilegeType, Row{"privilegeid": seededPrivilege(name), "name": name, "versionnumber": 1}); err != nil {
			return nil, err
		}
	}
	privilegeByName := map[string]string{}
	for _, r := range e.Privileges {
		if err := add(privilegeType, r); err != nil {
			return nil, err
		}
	}
	for _, r := range env.tables["privileges"].rows {
		privilegeByName[r["name"].(string)] = r["privilegeid"].(string)
	}
	for _, set := range []struct {
		et   *entityType
		rows []Row
	}{{siteType, e.SharePointSites}, {locationType, e.DocumentLocations}, {roleType, e.Roles}, {teamType, e.Teams}, {userType, e.SystemUsers}} {
		for _, r := range set.rows {
			if set.et == roleType {
				r = withPrivilegeIDs(r, privilegeByName)
			}
			if err := add(set.et, r); err != nil {
				return nil, err
			}
		}
	}
	// A role that lists no privileges holds every one, at Global depth.
	for i, r := range env.tables["roles"].rows {
		if _, listed := e.Roles[i]["roleprivileges_association"]; listed {
			continue
		}
		for _, p := range env.tables["privileges"].rows {
			env.addLink("roles", r["roleid"].(string), "roleprivileges_association", p["privilegeid"].(string))
		}
	}
	var gens []*genSet
	for gi, g := range e.Generate {
		et := entityTypes[g.Set]
		gs, err := newGenSet(env, et, gi, g)
		if err != nil {
			return nil, err
		}
		env.tables[g.Set].gens = append(env.tables[g.Set].gens, gs)
		gens = append(gens, gs)
	}
	// Team membership is one relationship seen from both sides.
	for k, targets := range env.links {
		if k.set == "systemusers" && k.nav == "teammembership_association" {
			for _, team := range targets {
				env.addLink("teams", team, "teammembership_association", k.id)
			}
		}
	}
	// Versions: keep the scenario's versionnumber, number the rest upwards.
	env.version = 1000000
	for _, r := range pending {
		if v, ok := r["versionnumber"].(int64); ok && v > env.version {
			env.version = v
		}
	}
	for _, g := range gens {
		if v, ok := g.consts["versionnumber"].(int64); ok && v > env.version {
			env.version = v
		}
	}
	for _, r := range pending {
		if r["versionnumber"] == nil {
			r["versionnumber"] = env.nextVersion()
		}
	}
	// Generated rows come after the scenario's, numbered in order.
	for _, g := range gens {
		if g.consts["versionnumber"] == nil {
			delete(g.consts, "versionnumber")
			g.version = env.version + 1
			env.version += int64(g.count)
		}
	}
	// sdkmessages: the messages the emulator serves, so a client can check
	// whether the Teams action is installed (facts §4).
	msgs := []string{"WhoAmI", "PublishXml", "PublishAllXml"}
	if env.actionInstalled {
		msgs = append(msgs, "msdyn_SetTeamsDocumentStatus")
	}
	for _, m := range msgs {
		env.tables["sdkmessages"].add(row{"sdkmessageid": derivedGUID("sdkmessage", m), "name": m, "versionnumber": env.nextVersion(), "createdon": nil, "modifiedon": nil})
	}
	for _, d := range e.EntityDefinitions {
		def := &entityDef{EntityDefinition: d, customizable: d.IsCustomizable == nil || *d.IsCustomizable}
		def.MetadataID = strings.ToLower(def.MetadataID)
		if def.SchemaName == "" {
			def.SchemaName = d.LogicalName
		}
		if def.EntitySetName == "" {
			def.EntitySetName = d.LogicalName + "s"
		}
		env.entities = append(env.entities, def)
	}
	return env, nil
}

// pinPrivileges are the privileges every environment is seeded with: Create,
// Read, Write, Append, AppendTo and Delete on SharePoint Site and Document
// Location, named prv<Verb><SchemaName> (fleet facts §2b, INFERENCE).
var pinPrivileges = func() []string {
	var out []string
	for _, table := range []string{"SharePointSite", "SharePointDocumentLocation"} {
		for _, verb := range []string{"Create", "Read", "Write", "Append", "AppendTo", "Delete"} {
			out = append(out, "prv"+verb+table)
		}
	}
	return out
}()

// seededPrivilege is the id of a seeded privilege, the same in every
// environment.
func seededPrivilege(name string) string { return derivedGUID("privilege", name) }

func seededPrivilegeID(id string) bool {
	for _, name := range pinPrivileges {
		if strings.EqualFold(id, seededPrivilege(name)) {
			return true
		}
	}
	return false
}

// withPrivilegeIDs returns a role row whose roleprivileges_association names
// privileges by id, resolving names.
func withPrivilegeIDs(r Row, byName map[string]string) Row {
	list, ok := r["roleprivileges_association"].([]any)
	if !ok {
		return r
	}
	out := Row{}
	for k, v := range r {
		out[k] = v
	}
	ids := make([]any, len(list))
	for i, it := range list {
		ids[i] = it
		if s, _ := it.(string); byName[s] != "" {
			ids[i] = byName[s]
		}
	}
	out["roleprivileges_association"] = ids
	return out
}

// intersect makes the rows of an intersect entity from the links of nav on
// set: key derived from both ids, from the row's id, to the linked id.
func (env *envState) intersect(set, nav, key, from, to string, extra row) []row {
	tbl := env.tables[set]
	target := env.tables[tbl.et.navs[nav]]
	var out []row
	for _, r := range tbl.rows {
		id := r[tbl.et.key].(string)
		for _, t := range env.links[linkKey{set, id, nav}] {
			if _, ok := target.byID[t]; !ok {
				continue
			}
			ir := row{key: derivedGUID(set, nav, id, t), from: id, to: t, "versionnumber": int64(1), "createdon": nil, "modifiedon": nil}
			for k, v := range extra {
				ir[k] = v
			}
			out = append(out, ir)
		}
	}
	return out
}

func (env *envState) addLink(set, id, nav, target string) {
	k := linkKey{set, id, nav}
	for _, t := range env.links[k] {
		if t == target {
			return
		}
	}
	env.links[k] = append(env.links[k], target)
}

func (env *envState) nextVersion() int64 {
	env.version++
	return env.version
}

// callerUser finds the systemuser the tenant's caller maps to: a user by
// Entra object id, an application user by application id.
func (env *envState) callerUser(tok *tokenInfo) (row, bool) {
	for _, u := range env.tables["systemusers"].rows {
		if u["isdisabled"] == true {
			continue
		}
		if oid, _ := u["azureactivedirectoryobjectid"].(string); oid != "" && oid == tok.objectID {
			return u, true
		}
		if app, _ := u["applicationid"].(string); tok.appOnly && app != "" && app == tok.clientID {
			return u, true
		}
	}
	return nil, false
}

// holdsRole reports whether a systemuser holds a role with the given
// template id, directly or through a team.
func (env *envState) holdsRole(userID, templateID string) bool {
	roles := env.tables["roles"]
	check := func(roleIDs []string) bool {
		for _, id := range roleIDs {
			if r, ok := roles.byID[id]; ok && r["_roletemplateid_value"] == templateID {
				return true
			}
		}
		return false
	}
	if check(env.links[linkKey{"systemusers", userID, "systemuserroles_association"}]) {
		return true
	}
	for _, team := range env.links[linkKey{"systemusers", userID, "teammembership_association"}] {
		if check(env.links[linkKey{"teams", team, "teamroles_association"}]) {
			return true
		}
	}
	return false
}

func (env *envState) entityByName(logical string) *entityDef {
	for _, d := range env.entities {
		if strings.EqualFold(d.LogicalName, logical) {
			return d
		}
	}
	return nil
}

func (env *envState) entityByID(id string) *entityDef {
	for _, d := range env.entities {
		if d.MetadataID == strings.ToLower(id) {
			return d
		}
	}
	return nil
}

// sortedKeys returns a map's keys in order.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
