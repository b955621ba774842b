package emulator

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
)

// TestScenariosMirrorSnapshots replays the request recorded in each section
// of every sample snapshot (testdata/snapshots) against the emulator loaded
// with the scenario of the same name, and checks the answer carries the
// snapshot's values: the scenarios and the snapshots describe the same
// tenants. Sections recorded as errors must fail with the same HTTP status.
func TestScenariosMirrorSnapshots(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob("../../testdata/snapshots/*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no snapshots: %v", err)
	}
	all, err := LoadScenarios(scenarioDir)
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]*Scenario{}
	for _, sc := range all {
		byName[sc.Name] = sc
	}
	s := startServer(t, Options{}, all...)
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".json")
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if byName[name] == nil {
				t.Fatalf("no scenario %s.yaml for snapshot %s", name, f)
			}
			raw, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			var snap map[string]any
			if err := json.Unmarshal(raw, &snap); err != nil {
				t.Fatal(err)
			}
			for _, tn := range snap["tenants"].([]any) {
				checkTenant(t, s, tn.(map[string]any))
			}
			for _, en := range snap["environments"].([]any) {
				checkEnvironment(t, s, en.(map[string]any))
			}
		})
	}
}

type replay struct {
	t      *testing.T
	s      *Server
	tenant string
	tokens map[string]string
}

// get replays a section's source ("GET https://…") and returns status and body.
func (r *replay) get(source string, headers ...string) (int, []byte) {
	r.t.Helper()
	method, raw, ok := strings.Cut(source, " ")
	if !ok || method != http.MethodGet {
		r.t.Fatalf("unexpected source %q", source)
	}
	base, query, _ := strings.Cut(raw, "?")
	var parts []string
	if query != "" {
		for _, p := range strings.Split(query, "&") {
			k, v, _ := strings.Cut(p, "=")
			parts = append(parts, k+"="+url.QueryEscape(v))
		}
	}
	u := base
	if len(parts) > 0 {
		u += "?" + strings.Join(parts, "&")
	}
	parsed, err := url.Parse(u)
	if err != nil {
		r.t.Fatal(err)
	}
	resource := "https://" + parsed.Host
	if r.tokens[resource] == "" {
		r.tokens[resource] = getToken(r.t, r.s, r.tenant, demoClient, demoSecret, resource+"/.default")
	}
	res, body := call(r.t, r.s, http.MethodGet, u, r.tokens[resource], "", headers...)
	return res.StatusCode, body
}

// section checks the status of a replayed section and reports whether it
// was read (so its data can be compared).
func (r *replay) section(name string, sec map[string]any, headers ...string) ([]byte, bool) {
	r.t.Helper()
	status, body := r.get(sec["source"].(string), headers...)
	if sec["status"] != "ok" {
		if want := int(sec["httpStatus"].(float64)); status != want {
			r.t.Errorf("%s: replay answered %d, snapshot recorded error %v", name, status, want)
		}
		return nil, false
	}
	if status != http.StatusOK {
		r.t.Fatalf("%s: replay answered %d: %s", name, status, body)
	}
	return body, true
}

func checkTenant(t *testing.T, s *Server, tn map[string]any) {
	r := &replay{t: t, s: s, tenant: tn["id"].(string), tokens: map[string]string{}}
	graph := "GET https://graph.microsoft.com/v1.0/"

	if body, ok := r.section("licenses", tn["licenses"].(map[string]any)); ok {
		var got struct{ Value []map[string]any }
		mustJSON(t, body, &got)
		want := tn["licenses"].(map[string]any)["skus"].([]any)
		if len(got.Value) != len(want) {
			t.Fatalf("licenses: %d SKUs, snapshot has %d", len(got.Value), len(want))
		}
		for i, w := range want {
			compareFields(t, fmt.Sprintf("sku %d", i), got.Value[i], w.(map[string]any), nil)
		}
	}
	consent := tn["consent"].(map[string]any)
	if sp, _ := consent["servicePrincipal"].(map[string]any); consent["status"] == "ok" && sp == nil {
		// No collaboration app: the appId lookup answers 404 and the
		// display-name search finds nothing.
		status, body := r.get(consent["source"].(string))
		if status != http.StatusNotFound && status != http.StatusOK {
			t.Errorf("consent: replay answered %d: %s", status, body)
		}
		if status == http.StatusOK && !strings.Contains(string(body), `"value":[]`) {
			t.Errorf("consent: snapshot has no service principal, replay found %s", body)
		}
		_, body = r.get(graph + "servicePrincipals?$filter=startswith(displayName,'Dynamics 365 Microsoft Teams')&$select=id")
		if !strings.Contains(string(body), `"value":[]`) {
			t.Errorf("consent: display-name search found %s", body)
		}
	} else if body, ok := r.section("consent", consent); ok {
		m := decode(t, body)
		if list, isList := m["value"].([]any); isList && len(list) > 0 {
			m = list[0].(map[string]any)
		}
		compareFields(t, "servicePrincipal", m, sp, map[string]bool{"matchedBy": true})
		_, gb := r.get(graph + "oauth2PermissionGrants?$filter=clientId eq '" + sp["id"].(string) + "'")
		var grants struct{ Value []map[string]any }
		mustJSON(t, gb, &grants)
		want := consent["grants"].([]any)
		if len(grants.Value) != len(want) {
			t.Errorf("grants: %d, snapshot has %d", len(grants.Value), len(want))
		}
		for i := 0; i < len(want) && i < len(grants.Value); i++ {
			compareFields(t, fmt.Sprintf("grant %d", i), grants.Value[i], want[i].(map[string]any), nil)
		}
	}
	if id, _ := consent["graphServicePrincipalId"].(string); id != "" && consent["status"] == "ok" {
		_, gb := r.get(graph + "servicePrincipals(appId='00000003-0000-0000-c000-000000000000')?$select=id")
		if got := decode(t, gb)["id"]; got != id {
			t.Errorf("Graph service principal id = %v, snapshot %s", got, id)
		}
	}
	caller := tn["caller"].(map[string]any)
	if body, ok := r.section("caller", caller); ok {
		var roles struct{ Value []map[string]any }
		mustJSON(t, body, &roles)
		want := caller["directoryRoles"].([]any)
		if len(roles.Value) != len(want) {
			t.Errorf("directory roles: %d, snapshot has %d", len(roles.Value), len(want))
		}
		for i := 0; i < len(want) && i < len(roles.Value); i++ {
			compareFields(t, "directory role", roles.Value[i], want[i].(map[string]any), nil)
		}
		_, me := r.get(graph + "me?$select=id,userPrincipalName")
		m := decode(t, me)
		if m["id"] != caller["objectId"] || m["userPrincipalName"] != caller["userPrincipalName"] {
			t.Errorf("/me = %v, snapshot caller %v / %v", m, caller["objectId"], caller["userPrincipalName"])
		}
	}
	if gs, ok := tn["groupSettings"].(map[string]any); !ok {
		t.Errorf("tenant %s: the snapshot has no groupSettings section", tn["id"])
	} else if body, ok := r.section("groupSettings", gs); ok {
		var got struct{ Value []map[string]any }
		mustJSON(t, body, &got)
		want := gs["settings"].([]any)
		if len(got.Value) != len(want) {
			t.Errorf("group settings: %d, snapshot has %d", len(got.Value), len(want))
		}
		for i := 0; i < len(want) && i < len(got.Value); i++ {
			compareFields(t, fmt.Sprintf("group setting %d", i), got.Value[i], want[i].(map[string]any), nil)
		}
	}
	sp := tn["sharePoint"].(map[string]any)
	if body, ok := r.section("sharePoint", sp, "Accept: application/json;odata=nometadata"); ok {
		got := fmt.Sprint(decode(t, body)["ConditionalAccessPolicy"])
		if got != sp["conditionalAccessPolicyRaw"] {
			t.Errorf("ConditionalAccessPolicy = %s, snapshot raw %v", got, sp["conditionalAccessPolicyRaw"])
		}
	}
}

func checkEnvironment(t *testing.T, s *Server, en map[string]any) {
	r := &replay{t: t, s: s, tenant: en["tenantId"].(string), tokens: map[string]string{}}
	env := en["url"].(string)
	org := en["organization"].(map[string]any)
	if body, ok := r.section("organization", org); ok {
		got := decode(t, body)["value"].([]any)
		if len(got) != 1 {
			t.Fatalf("organizations: %d rows", len(got))
		}
		compareFields(t, "organization", got[0].(map[string]any), org["record"].(map[string]any), nil)
	}
	sites := en["sharePointSites"].(map[string]any)
	if body, ok := r.section("sharePointSites", sites); ok {
		m := decode(t, body)
		if m["@odata.count"] != sites["activeCount"] {
			t.Errorf("active sites: %v, snapshot %v", m["@odata.count"], sites["activeCount"])
		}
		compareRows(t, "site", m["value"].([]any), sites["sample"].([]any))
		if def, _ := sites["defaultSite"].(map[string]any); def != nil {
			compareFields(t, "default site", m["value"].([]any)[0].(map[string]any), def, nil)
		}
	}
	locs := en["documentLocations"].(map[string]any)
	if body, ok := r.section("documentLocations", locs, "Prefer: odata.maxpagesize=50,odata.include-annotations=\"*\""); ok {
		m := decode(t, body)
		if m["@odata.count"] != locs["absoluteUrlCount"] || m["@Microsoft.Dynamics.CRM.totalrecordcountlimitexceeded"] != locs["countLimitExceeded"] {
			t.Errorf("absolute locations: %v (exceeded %v), snapshot %v (%v)", m["@odata.count"], m["@Microsoft.Dynamics.CRM.totalrecordcountlimitexceeded"], locs["absoluteUrlCount"], locs["countLimitExceeded"])
		}
		compareRows(t, "location", m["value"].([]any), locs["sample"].([]any))
	}
	ents := en["entities"].(map[string]any)
	if body, ok := r.section("entities", ents); ok {
		got := map[string]map[string]any{}
		for _, v := range decode(t, body)["value"].([]any) {
			row := v.(map[string]any)
			got[row["LogicalName"].(string)] = row
		}
		for _, tv := range ents["tables"].([]any) {
			tb := tv.(map[string]any)
			row, found := got[tb["logicalName"].(string)]
			if found != tb["exists"] {
				t.Errorf("table %s: found %v, snapshot exists %v", tb["logicalName"], found, tb["exists"])
				continue
			}
			if found {
				for snapKey, apiKey := range map[string]string{"metadataId": "MetadataId", "isCustomEntity": "IsCustomEntity", "isDocumentManagementEnabled": "IsDocumentManagementEnabled", "isMSTeamsIntegrationEnabled": "IsMSTeamsIntegrationEnabled"} {
					if row[apiKey] != tb[snapKey] {
						t.Errorf("table %s %s = %v, snapshot %v", tb["logicalName"], apiKey, row[apiKey], tb[snapKey])
					}
				}
			}
		}
	}
	if rp, ok := en["rolePrivileges"].(map[string]any); !ok {
		t.Errorf("environment %s: the snapshot has no rolePrivileges section", env)
	} else {
		checkRolePrivileges(t, r, env, rp)
	}
	caller := en["caller"].(map[string]any)
	if body, ok := r.section("environment caller", caller); ok {
		_, who := r.get("GET " + env + "/api/data/v9.2/WhoAmI")
		w := decode(t, who)
		if w["UserId"] != caller["userId"] || w["BusinessUnitId"] != caller["businessUnitId"] || w["OrganizationId"] != en["id"] {
			t.Errorf("WhoAmI = %v, snapshot %v / %v / %v", w, caller["userId"], caller["businessUnitId"], en["id"])
		}
		var got []string
		for _, v := range decode(t, body)["value"].([]any) {
			row := v.(map[string]any)
			got = append(got, fmt.Sprintf("%v|%v|%v|user|", row["roleid"], row["name"], nullable(row["_roletemplateid_value"])))
		}
		_, teams := r.get("GET " + env + "/api/data/v9.2/systemusers(" + caller["userId"].(string) + ")/teammembership_association?$select=teamid&$expand=teamroles_association($select=name,roleid,_roletemplateid_value)")
		for _, v := range decode(t, teams)["value"].([]any) {
			team := v.(map[string]any)
			for _, rv := range team["teamroles_association"].([]any) {
				row := rv.(map[string]any)
				got = append(got, fmt.Sprintf("%v|%v|%v|team|%v", row["roleid"], row["name"], nullable(row["_roletemplateid_value"]), team["teamid"]))
			}
		}
		var want []string
		for _, rv := range caller["roles"].([]any) {
			role := rv.(map[string]any)
			want = append(want, fmt.Sprintf("%v|%v|%v|%v|%v", role["roleId"], role["name"], nullable(role["roleTemplateId"]), role["via"], nullable(role["teamId"])))
		}
		sort.Strings(got)
		sort.Strings(want)
		if !reflect.DeepEqual(got, want) {
			t.Errorf("caller roles\n got %v\nwant %v", got, want)
		}
	}
}

// checkRolePrivileges replays the privileges read and derives, from the
// intersect entities, each held role's enabled holders and privileges.
func checkRolePrivileges(t *testing.T, r *replay, env string, rp map[string]any) {
	body, ok := r.section("rolePrivileges", rp)
	if !ok {
		return
	}
	ids := map[string]string{} // privilege id → name
	for _, v := range decode(t, body)["value"].([]any) {
		row := v.(map[string]any)
		ids[row["privilegeid"].(string)] = row["name"].(string)
	}
	found := map[string]string{}
	for _, v := range rp["privileges"].([]any) {
		p := v.(map[string]any)
		found[p["privilegeId"].(string)] = p["name"].(string)
	}
	if !reflect.DeepEqual(ids, found) {
		t.Errorf("privileges found %v, replay %v", found, ids)
	}
	rows := func(path string) []map[string]any {
		_, b := r.get("GET " + env + "/api/data/v9.2/" + path)
		var out []map[string]any
		for _, v := range decode(t, b)["value"].([]any) {
			out = append(out, v.(map[string]any))
		}
		return out
	}
	enabled := map[any]bool{}
	for _, u := range rows("systemusers?$select=systemuserid&$filter=isdisabled eq false") {
		enabled[u["systemuserid"]] = true
	}
	holders := map[any]map[any]bool{}
	hold := func(role, user any) {
		if !enabled[user] {
			return
		}
		if holders[role] == nil {
			holders[role] = map[any]bool{}
		}
		holders[role][user] = true
	}
	for _, l := range rows("systemuserrolescollection?$select=systemuserid,roleid") {
		hold(l["roleid"], l["systemuserid"])
	}
	members := rows("teammemberships?$select=systemuserid,teamid")
	for _, tr := range rows("teamrolescollection?$select=teamid,roleid") {
		for _, m := range members {
			if m["teamid"] == tr["teamid"] {
				hold(tr["roleid"], m["systemuserid"])
			}
		}
	}
	var want []string
	for role, users := range holders {
		var privs []string
		for _, g := range rows(fmt.Sprintf("roleprivilegescollection?$select=privilegeid&$filter=roleid eq %v", role)) {
			if name := ids[g["privilegeid"].(string)]; name != "" {
				privs = append(privs, name)
			}
		}
		sort.Strings(privs)
		want = append(want, fmt.Sprintf("%v|%d|%v", role, len(users), privs))
	}
	var got []string
	for _, v := range rp["roles"].([]any) {
		role := v.(map[string]any)
		var privs []string
		for _, p := range role["privileges"].([]any) {
			privs = append(privs, p.(string))
		}
		sort.Strings(privs)
		got = append(got, fmt.Sprintf("%v|%v|%v", role["roleId"], role["userCount"], privs))
	}
	sort.Strings(got)
	sort.Strings(want)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("held roles\n got %v\nwant %v", got, want)
	}
}

func nullable(v any) string {
	if v == nil {
		return ""
	}
	return fmt.Sprint(v)
}

func mustJSON(t *testing.T, body []byte, v any) {
	t.Helper()
	if err := json.Unmarshal(body, v); err != nil {
		t.Fatalf("decode %s: %v", truncate(string(body), 300), err)
	}
}

// compareRows compares the first len(want) rows.
func compareRows(t *testing.T, what string, got, want []any) {
	t.Helper()
	if len(got) < len(want) {
		t.Errorf("%s rows: %d, snapshot sample has %d", what, len(got), len(want))
		return
	}
	for i, w := range want {
		compareFields(t, fmt.Sprintf("%s %d", what, i), got[i].(map[string]any), w.(map[string]any), nil)
	}
}

// compareFields checks every snapshot field against the replayed object,
// recursively: the replay may carry more properties than the snapshot kept.
// Dataverse stores empty strings as null, so "" and null are equal.
func compareFields(t *testing.T, what string, got, want map[string]any, skip map[string]bool) {
	t.Helper()
	if got == nil {
		t.Errorf("%s: missing, snapshot has %v", what, want)
		return
	}
	for k, w := range want {
		if skip[k] {
			continue
		}
		if !covers(got[k], w) {
			t.Errorf("%s.%s = %v, snapshot %v", what, k, got[k], w)
		}
	}
}

func covers(got, want any) bool {
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			return false
		}
		for k, v := range w {
			if !covers(g[k], v) {
				return false
			}
		}
		return true
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			return false
		}
		for i := range w {
			if !covers(g[i], w[i]) {
				return false
			}
		}
		return true
	case string:
		if w == "" {
			return got == nil || got == ""
		}
	}
	return reflect.DeepEqual(got, want)
}
