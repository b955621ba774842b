package emulator

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

func dvURL(env, rest string) string { return env + "/api/data/v9.2/" + rest }

func TestDataverseReads(t *testing.T) {
	t.Parallel()
	s := startServer(t, Options{}, loadScenario(t, "ready"), loadScenario(t, "sp-800503ca-all"), loadScenario(t, "not-sysadmin"), loadScenario(t, "role-missing-privileges"))
	ready := getToken(t, s, readyTenant, demoClient, demoSecret, readyEnv+"/.default")
	fab := getToken(t, s, "10a86877-5713-50b1-82c1-b12f5ba6a7e6", demoClient, demoSecret, "https://fabrikam.crm4.dynamics.com/.default")
	rele := getToken(t, s, "af4a9cb3-74e3-5499-91e1-cc86cd818489", demoClient, demoSecret, "https://relecloud.crm.dynamics.com/.default")
	const fabEnv, releEnv = "https://fabrikam.crm4.dynamics.com", "https://relecloud.crm.dynamics.com"
	const gdiEnv = "https://graphicdesign.crm.dynamics.com"
	gdi := getToken(t, s, "43466ec2-e9c8-4be2-9133-73b5347c5b24", demoClient, demoSecret, gdiEnv+"/.default")
	// The seeded privilege ids (derivedGUID("privilege", name)).
	createSite, deleteLocation := derivedGUID("privilege", "prvCreateSharePointSite"), derivedGUID("privilege", "prvDeleteSharePointDocumentLocation")
	tests := []struct {
		name, url, token string
		headers          []string
		status           int
		contains         []string // substrings of the body
		absent           []string
	}{
		{"WhoAmI", dvURL(readyEnv, "WhoAmI"), ready, nil, 200, []string{
			`"@odata.context":"https://contoso-sales.crm.dynamics.com/api/data/v9.2/$metadata#Microsoft.Dynamics.CRM.WhoAmIResponse"`,
			`"BusinessUnitId":"e2b7c9d4-6a1f-4e8b-93c5-0d7f2a4b6e81"`, `"UserId":"5e8a2c4f-7d1b-4e93-a6c0-2f9b8d3e1a57"`, `"OrganizationId":"9d3e5f7a-1b2c-4d6e-8f0a-3c5e7a9b1d24"`}, nil},
		{"WhoAmI()", dvURL(readyEnv, "WhoAmI()"), ready, nil, 200, []string{`"UserId":"5e8a2c4f-7d1b-4e93-a6c0-2f9b8d3e1a57"`}, nil},
		{"organization select", dvURL(readyEnv, "organizations?$select=organizationid,sharepointdeploymenttype,isonedriveenabled"), ready, nil, 200, []string{
			`"@odata.context":"https://contoso-sales.crm.dynamics.com/api/data/v9.2/$metadata#organizations(organizationid,sharepointdeploymenttype,isonedriveenabled)"`,
			`{"@odata.etag":"W/\"48213377\"","organizationid":"9d3e5f7a-1b2c-4d6e-8f0a-3c5e7a9b1d24","sharepointdeploymenttype":null,"isonedriveenabled":false}`}, []string{"ismsteamsenabled"}},
		{"active sites only", dvURL(fabEnv, "sharepointsites?$select=sharepointsiteid,name,isdefault,statecode&$filter=statecode eq 0&$orderby=isdefault desc&$count=true"), fab, nil, 200, []string{
			`"@odata.count":2`, `"name":"Sales Documents","isdefault":true`}, nil},
		{"order by name", dvURL(fabEnv, "sharepointsites?$select=name&$orderby=name desc"), fab, nil, 200, []string{`"name":"Sales Documents","sharepointsiteid":"0a17db94-98fc-54f2-893a-9879a1a2e0d2"},{"@odata.etag":"W/\"5102332\"","name":"Legacy CRM"`}, nil},
		{"absolute locations", dvURL(fabEnv, "sharepointdocumentlocations?$select=sharepointdocumentlocationid,absoluteurl,_parentsiteorlocation_value&$filter=absoluteurl ne null and servicetype ne 3&$count=true"), fab, nil, 200, []string{
			`"@odata.count":3`, `"absoluteurl":"https://fabrikam.sharepoint.com/sites/crm/account/city-power-&-light_909F917E0F1C"`, `"_parentsiteorlocation_value":null`}, nil},
		{"relative location excluded", dvURL(readyEnv, "sharepointdocumentlocations?$filter=absoluteurl ne null&$count=true"), ready, nil, 200, []string{`"@odata.count":0`, `"value":[]`}, nil},
		{"startswith", dvURL(fabEnv, "sharepointsites?$select=name&$filter=startswith(name,'legacy')"), fab, nil, 200, []string{`"name":"Legacy CRM"`}, []string{"Sales Documents"}},
		{"formatted values", dvURL(fabEnv, "sharepointsites?$select=name,servicetype,isdefault&$top=1"), fab, []string{`Prefer: odata.include-annotations="OData.Community.Display.V1.FormattedValue"`}, 200, []string{
			`"servicetype@OData.Community.Display.V1.FormattedValue":"SharePoint","servicetype":0`, `"isdefault@OData.Community.Display.V1.FormattedValue":"Yes"`}, nil},
		{"single record", dvURL(fabEnv, "sharepointsites(0acd1272-f3a7-5a6b-b87a-eb708bfe52ee)?$select=name"), fab, nil, 200, []string{
			`$metadata#sharepointsites(name)/$entity"`, `"name":"Legacy CRM","sharepointsiteid":"0acd1272-f3a7-5a6b-b87a-eb708bfe52ee"`}, nil},
		{"single column", dvURL(fabEnv, "organizations(c1deb1c6-76f3-5af9-a17f-2fea08ce6c38)/isonedriveenabled"), fab, nil, 200, []string{`"value":true`}, nil},
		{"missing record", dvURL(fabEnv, "sharepointsites(00000000-0000-4000-8000-000000000000)"), fab, nil, 404, []string{`"code":"0x80040217"`, "sharepointsite With Id = 00000000-0000-4000-8000-000000000000 Does Not Exist"}, nil},
		{"direct roles", dvURL(releEnv, "systemusers(d2eb6e56-f536-553c-8c04-e6aac646497c)/systemuserroles_association?$select=name,roleid,_roletemplateid_value"), rele, nil, 200, []string{
			`"name":"Salesperson","roleid":"e4dcc450-e9f5-56d0-aded-67d2c1967d6f","_roletemplateid_value":null`}, []string{"System Customizer"}},
		{"team roles by expand", dvURL(releEnv, "systemusers(d2eb6e56-f536-553c-8c04-e6aac646497c)/teammembership_association?$select=teamid,name&$expand=teamroles_association($select=name,roleid,_roletemplateid_value)"), rele, nil, 200, []string{
			`"teamid":"a0c27e49-37ba-5cbc-bcf8-330f3ba87cbf","name":"Sales Customizers","teamroles_association":[{"@odata.etag":`,
			`"name":"System Customizer","roleid":"16dc501e-a6f8-5486-952a-c27188d7837d","_roletemplateid_value":"119f245c-3cc8-4b62-b31c-d1a046ced15d"`}, nil},
		{"roles collection", dvURL(releEnv, "roles?$select=name&$filter=_roletemplateid_value eq 119f245c-3cc8-4b62-b31c-d1a046ced15d"), rele, nil, 200, []string{`"name":"System Customizer"`}, []string{"Salesperson"}},
		{"privileges by name", dvURL(gdiEnv, "privileges?$select=privilegeid,name&$filter=name eq 'prvCreateSharePointSite' or name eq 'prvDeleteSharePointDocumentLocation' or name eq 'prvNoSuchThing'"), gdi, nil, 200, []string{
			`"privilegeid":"` + createSite + `","name":"prvCreateSharePointSite"`, `"name":"prvDeleteSharePointDocumentLocation"`}, []string{"prvNoSuchThing", "prvReadSharePointSite"}},
		{"enabled users counted", dvURL(gdiEnv, "systemusers?$select=systemuserid&$filter=isdisabled eq false&$count=true"), gdi, nil, 200, []string{`"@odata.count":4`}, []string{"da183009-0cca-4f95-9d6a-a2a010e6ba59"}},
		{"user roles intersect", dvURL(gdiEnv, "systemuserrolescollection?$select=systemuserid,roleid"), gdi, nil, 200, []string{
			`$metadata#systemuserrolescollection(systemuserid,roleid)"`,
			`"systemuserid":"c16dcca9-ce88-40c1-b996-613d25449373","roleid":"5379d732-e1c0-48b3-959a-c2db8542fb9d"`,
			`"systemuserid":"da183009-0cca-4f95-9d6a-a2a010e6ba59","roleid":"f9c2d1fe-fe39-4c19-b470-22f2a07636bd"`}, nil},
		{"team roles intersect", dvURL(gdiEnv, "teamrolescollection?$select=teamid,roleid"), gdi, nil, 200, []string{`"teamid":"c0e5833d-0806-4b6f-a294-c2b0aefbdf84","roleid":"605d7d68-c2d3-4677-84c0-913887d46bcb"`}, nil},
		{"team memberships filtered", dvURL(gdiEnv, "teammemberships?$select=systemuserid,teamid&$filter=teamid eq c0e5833d-0806-4b6f-a294-c2b0aefbdf84"), gdi, nil, 200, []string{
			`"systemuserid":"754df985-33a7-4ce1-a410-29233ca2d22f","teamid":"c0e5833d-0806-4b6f-a294-c2b0aefbdf84"`}, []string{"9652ed28-24d4-4e06-9e53-e7bf2f0f75ad"}},
		{"role privileges listed", dvURL(gdiEnv, "roleprivilegescollection?$select=roleid,privilegeid,privilegedepthmask&$filter=(roleid eq 5379d732-e1c0-48b3-959a-c2db8542fb9d or roleid eq 605d7d68-c2d3-4677-84c0-913887d46bcb) and (privilegeid eq "+createSite+" or privilegeid eq "+deleteLocation+")"), gdi, nil, 200, []string{
			`"roleid":"5379d732-e1c0-48b3-959a-c2db8542fb9d","privilegeid":"` + createSite + `","privilegedepthmask":8`,
			`"roleid":"605d7d68-c2d3-4677-84c0-913887d46bcb","privilegeid":"` + deleteLocation + `"`},
			[]string{`"roleid":"5379d732-e1c0-48b3-959a-c2db8542fb9d","privilegeid":"` + deleteLocation, `"roleid":"605d7d68-c2d3-4677-84c0-913887d46bcb","privilegeid":"` + createSite}},
		{"role without a list holds every privilege", dvURL(gdiEnv, "roles(56532f60-f161-4144-9a3c-3cc175d64b17)/roleprivileges_association/$count"), gdi, nil, 200, []string{"12"}, nil},
		{"role with an empty list holds none", dvURL(gdiEnv, "roleprivilegescollection?$select=privilegeid&$filter=roleid eq f9c2d1fe-fe39-4c19-b470-22f2a07636bd"), gdi, nil, 200, []string{`"value":[]`}, nil},
		{"intersect entity is read-only", dvURL(gdiEnv, "systemuserrolescollection(c16dcca9-ce88-40c1-b996-613d25449373)"), gdi, nil, 405, []string{"collection read only"}, nil},
		{"entity definitions", dvURL(readyEnv, "EntityDefinitions?$select=LogicalName,MetadataId,IsCustomEntity,IsDocumentManagementEnabled,IsMSTeamsIntegrationEnabled&$filter=LogicalName eq 'account' or LogicalName eq 'contact' or LogicalName eq 'new_project'"), ready, nil, 200, []string{
			`$metadata#EntityDefinitions(LogicalName,MetadataId,IsCustomEntity,IsDocumentManagementEnabled,IsMSTeamsIntegrationEnabled)"`,
			`{"LogicalName":"new_project","MetadataId":"c41e9a7b-3d52-4f08-9e6a-1b7d2c8f5a93","IsCustomEntity":true,"IsDocumentManagementEnabled":true,"IsMSTeamsIntegrationEnabled":true}`}, []string{"opportunity"}},
		{"entity definitions by flag", dvURL(readyEnv, "EntityDefinitions?$select=LogicalName&$filter=IsDocumentManagementEnabled eq false"), ready, nil, 200, []string{`"LogicalName":"incident"`}, []string{`"account"`}},
		{"managed property filter", dvURL(readyEnv, "EntityDefinitions?$select=LogicalName&$filter=IsCustomizable/Value eq true and LogicalName eq 'lead'"), ready, nil, 200, []string{`"LogicalName":"lead"`}, nil},
		{"entity definition by name", dvURL(readyEnv, "EntityDefinitions(LogicalName='account')?$select=LogicalName,DisplayName,IsCustomizable"), ready, nil, 200, []string{
			`"DisplayName":{"LocalizedLabels":[{"Label":"Account","LanguageCode":1033}]`, `"IsCustomizable":{"Value":true,"CanBeChanged":true,"ManagedPropertyLogicalName":"iscustomizable"}`, `"MetadataId":"70816501-edb9-4740-a16c-6a5efbc05d84"`}, nil},
		{"entity definition by id", dvURL(readyEnv, "EntityDefinitions(608861bc-50a4-4c5f-a02c-21fe1943e2cf)?$select=LogicalName"), ready, nil, 200, []string{`"LogicalName":"contact"`}, nil},
		{"entity definition missing", dvURL(readyEnv, "EntityDefinitions(LogicalName='nope')"), ready, nil, 404, []string{`"code":"0x80040217"`}, nil},
		{"sdk message present", dvURL(readyEnv, "sdkmessages?$select=name&$filter=name eq 'msdyn_SetTeamsDocumentStatus'"), ready, nil, 200, []string{`"name":"msdyn_SetTeamsDocumentStatus"`}, nil},
		{"unknown select column", dvURL(readyEnv, "sharepointsites?$select=foo"), ready, nil, 400, []string{
			`{"error":{"code":"0x80060888","message":"Could not find a property named 'foo' on type 'Microsoft.Dynamics.CRM.sharepointsite'."}}`}, nil},
		{"unknown filter column", dvURL(readyEnv, "sharepointsites?$filter=colour eq 'red'"), ready, nil, 400, []string{`"0x80060888"`, "Could not find a property named 'colour'"}, nil},
		{"filter syntax", dvURL(readyEnv, "sharepointsites?$filter=statecode eq"), ready, nil, 400, []string{`"0x80060888"`, "Syntax error at position 12 in 'statecode eq'."}, nil},
		{"filter type mismatch", dvURL(readyEnv, "sharepointsites?$filter=isdefault eq 'yes'"), ready, nil, 400, []string{"incompatible types", "'Edm.Boolean' and 'Edm.String'"}, nil},
		{"skip unsupported", dvURL(readyEnv, "sharepointsites?$skip=10"), ready, nil, 400, []string{`"0x80060888"`, "The query parameter $skip is not supported"}, nil},
		{"apply unsupported", dvURL(readyEnv, "sharepointsites?$apply=aggregate($count as n)"), ready, nil, 400, []string{"$apply is not supported"}, nil},
		{"search unsupported", dvURL(readyEnv, "sharepointsites?$search=x"), ready, nil, 400, []string{"$search is not supported"}, nil},
		{"unknown option", dvURL(readyEnv, "sharepointsites?$xyz=1"), ready, nil, 400, []string{"$xyz is not supported"}, nil},
		{"repeated option", dvURL(readyEnv, "sharepointsites?$top=1&$top=2"), ready, nil, 400, []string{"specified more than once"}, nil},
		{"metadata top unsupported", dvURL(readyEnv, "EntityDefinitions?$top=1"), ready, nil, 400, []string{"$top is not supported"}, nil},
		{"unknown entity set", dvURL(readyEnv, "accounts"), ready, nil, 404, []string{`"0x8006088a"`, "Resource not found for the segment 'accounts'."}, nil},
		{"custom options ignored", dvURL(readyEnv, "organizations?$select=name&foo=bar"), ready, nil, 200, []string{`"name":"Contoso Sales"`}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			res, body := call(t, s, http.MethodGet, tc.url, tc.token, "", append([]string{"Accept: application/json", "OData-Version: 4.0", "OData-MaxVersion: 4.0", "If-None-Match: null"}, tc.headers...)...)
			if res.StatusCode != tc.status {
				t.Fatalf("status = %d, want %d: %s", res.StatusCode, tc.status, body)
			}
			if res.Header.Get("OData-Version") != "4.0" {
				t.Errorf("OData-Version = %q", res.Header.Get("OData-Version"))
			}
			for _, c := range tc.contains {
				if !strings.Contains(string(body), c) {
					t.Errorf("body lacks %s\nbody: %s", c, truncate(string(body), 1500))
				}
			}
			for _, a := range tc.absent {
				if strings.Contains(string(body), a) {
					t.Errorf("body has %s", a)
				}
			}
		})
	}
}

func TestDataversePaging(t *testing.T) {
	t.Parallel()
	s := startServer(t, Options{}, loadScenario(t, "sp-absolute-locations"))
	const env = "https://wingtip.crm.dynamics.com"
	tok := getToken(t, s, "e522ed56-ea9b-52c8-839a-7ed442bfbcbd", demoClient, demoSecret, env+"/.default")
	first := dvURL(env, "sharepointdocumentlocations?$select=sharepointdocumentlocationid,name&$filter=absoluteurl ne null and servicetype ne 3&$count=true")

	t.Run("count cap and annotations", func(t *testing.T) {
		res, body := call(t, s, http.MethodGet, first, tok, "", `Prefer: odata.include-annotations="Microsoft.Dynamics.CRM.totalrecordcount,Microsoft.Dynamics.CRM.totalrecordcountlimitexceeded",odata.maxpagesize=5`)
		if res.StatusCode != http.StatusOK {
			t.Fatalf("%d %s", res.StatusCode, body)
		}
		m := decode(t, body)
		if m["@odata.count"] != float64(5000) || m["@Microsoft.Dynamics.CRM.totalrecordcount"] != float64(5000) || m["@Microsoft.Dynamics.CRM.totalrecordcountlimitexceeded"] != true {
			t.Errorf("count annotations = %v / %v / %v", m["@odata.count"], m["@Microsoft.Dynamics.CRM.totalrecordcount"], m["@Microsoft.Dynamics.CRM.totalrecordcountlimitexceeded"])
		}
		if got := len(m["value"].([]any)); got != 5 {
			t.Errorf("page size = %d, want 5", got)
		}
		first := m["value"].([]any)[0].(map[string]any)
		if first["sharepointdocumentlocationid"] != "501e504c-770f-55c0-b02f-01d2e6fbe83b" || first["@odata.etag"] != `W/"7740121"` {
			t.Errorf("first row = %v", first)
		}
		if pa := res.Header.Get("Preference-Applied"); !strings.Contains(pa, "odata.maxpagesize=5") || !strings.Contains(pa, "odata.include-annotations") {
			t.Errorf("Preference-Applied = %q", pa)
		}
	})
	t.Run("without count the total is -1", func(t *testing.T) {
		_, body := call(t, s, http.MethodGet, dvURL(env, "sharepointdocumentlocations?$select=name&$top=2"), tok, "", `Prefer: odata.include-annotations="*"`)
		m := decode(t, body)
		if m["@Microsoft.Dynamics.CRM.totalrecordcount"] != float64(-1) || m["@Microsoft.Dynamics.CRM.totalrecordcountlimitexceeded"] != false {
			t.Errorf("annotations = %v / %v", m["@Microsoft.Dynamics.CRM.totalrecordcount"], m["@Microsoft.Dynamics.CRM.totalrecordcountlimitexceeded"])
		}
		if _, ok := m["@odata.nextLink"]; ok || len(m["value"].([]any)) != 2 {
			t.Errorf("$top=2 gave %d rows, nextLink %v", len(m["value"].([]any)), m["@odata.nextLink"])
		}
	})
	t.Run("$count segment", func(t *testing.T) {
		res, body := call(t, s, http.MethodGet, dvURL(env, "sharepointdocumentlocations/$count"), tok, "")
		if res.StatusCode != 200 || string(body) != "5000" || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/plain") {
			t.Errorf("$count = %d %q %q", res.StatusCode, body, res.Header.Get("Content-Type"))
		}
		_, body = call(t, s, http.MethodGet, dvURL(env, "sharepointdocumentlocations/$count?$filter=startswith(name,'Documents on Customer')"), tok, "")
		if string(body) != "5" {
			t.Errorf("filtered $count = %q, want 5", body)
		}
	})
	t.Run("follow nextLink to the end", func(t *testing.T) {
		next := first
		seen := map[string]bool{}
		pages := 0
		for next != "" {
			res, body := call(t, s, http.MethodGet, next, tok, "", "Prefer: odata.maxpagesize=1000")
			if res.StatusCode != http.StatusOK {
				t.Fatalf("page %d: %d %s", pages, res.StatusCode, body)
			}
			m := decode(t, body)
			for _, v := range m["value"].([]any) {
				id := v.(map[string]any)["sharepointdocumentlocationid"].(string)
				if seen[id] {
					t.Fatalf("row %s seen twice", id)
				}
				seen[id] = true
			}
			next, _ = m["@odata.nextLink"].(string)
			if next != "" && !strings.HasPrefix(next, env+"/api/data/v9.2/sharepointdocumentlocations?") {
				t.Fatalf("nextLink %s", next)
			}
			pages++
		}
		if len(seen) != 5200 || pages != 6 {
			t.Errorf("rows = %d in %d pages, want 5200 in 6", len(seen), pages)
		}
	})
	t.Run("default page is 5000", func(t *testing.T) {
		_, body := call(t, s, http.MethodGet, dvURL(env, "sharepointdocumentlocations?$select=name"), tok, "")
		m := decode(t, body)
		if len(m["value"].([]any)) != 5000 || m["@odata.nextLink"] == nil {
			t.Errorf("default page: %d rows, nextLink %v", len(m["value"].([]any)), m["@odata.nextLink"])
		}
	})
	t.Run("tampered skiptoken", func(t *testing.T) {
		_, body := call(t, s, http.MethodGet, first, tok, "", "Prefer: odata.maxpagesize=10")
		next := decode(t, body)["@odata.nextLink"].(string)
		changed := strings.Replace(next, "servicetype%20ne%203", "servicetype%20ne%202", 1)
		if changed == next {
			changed = strings.Replace(next, "servicetype+ne+3", "servicetype+ne+2", 1)
		}
		if changed == next {
			u, _ := url.Parse(next)
			q := u.Query()
			q.Set("$filter", "absoluteurl ne null")
			u.RawQuery = q.Encode()
			changed = u.String()
		}
		res, body := call(t, s, http.MethodGet, changed, tok, "", "Prefer: odata.maxpagesize=10")
		if res.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), "$skiptoken") {
			t.Errorf("changed query with old skiptoken: %d %s", res.StatusCode, body)
		}
	})
}

func TestDataverseWrites(t *testing.T) {
	t.Parallel()
	s := startServer(t, Options{}, loadScenario(t, "sp-800503ca-all"), loadScenario(t, "not-sysadmin"), loadScenario(t, "custom-table-no-docmgmt"))
	const env = "https://fabrikam.crm4.dynamics.com"
	tok := getToken(t, s, "10a86877-5713-50b1-82c1-b12f5ba6a7e6", demoClient, demoSecret, env+"/.default")
	const org = "c1deb1c6-76f3-5af9-a17f-2fea08ce6c38"

	t.Run("PATCH organization with If-Match", func(t *testing.T) {
		res, body := call(t, s, http.MethodPatch, dvURL(env, "organizations("+org+")"), tok, `{"isonedriveenabled":false}`, `If-Match: W/"1"`)
		if res.StatusCode != http.StatusPreconditionFailed {
			t.Fatalf("stale ETag: %d %s", res.StatusCode, body)
		}
		if code, _ := errorCode(t, body); code != codeConcurrency {
			t.Errorf("code = %s", code)
		}
		res, body = call(t, s, http.MethodPatch, dvURL(env, "organizations("+org+")"), tok, `{"isonedriveenabled":false}`, `If-Match: W/"48213377"`)
		if res.StatusCode != http.StatusNoContent || res.Header.Get("OData-EntityId") != env+"/api/data/v9.2/organizations("+org+")" {
			t.Fatalf("PATCH: %d %s %s", res.StatusCode, res.Header.Get("OData-EntityId"), body)
		}
		_, body = call(t, s, http.MethodGet, dvURL(env, "organizations("+org+")?$select=isonedriveenabled"), tok, "")
		m := decode(t, body)
		if m["isonedriveenabled"] != false || m["@odata.etag"] == `W/"48213377"` {
			t.Errorf("after PATCH: %s", body)
		}
		res, _ = call(t, s, http.MethodPatch, dvURL(env, "organizations("+org+")"), tok, `{"isonedriveenabled":true}`, `If-Match: W/"48213377"`)
		if res.StatusCode != http.StatusPreconditionFailed {
			t.Errorf("old ETag after a write: %d, want 412", res.StatusCode)
		}
	})
	t.Run("PATCH validation", func(t *testing.T) {
		cases := []struct{ body, code, msg string }{
			{`{"colour":"red"}`, codeQuery, "Invalid property 'colour' was found in entity 'Microsoft.Dynamics.CRM.organization'."},
			{`{"isonedriveenabled":"no"}`, codePayload, "Edm.Boolean"},
			{`{"sharepointdeploymenttype":5}`, codeValidation, "outside the valid range. Accepted Values: 0,1"},
			{`{"organizationid":"00000000-0000-4000-8000-000000000000"}`, codePayload, "cannot be written"},
			{`not json`, codePayload, "not valid JSON"},
		}
		for _, c := range cases {
			res, body := call(t, s, http.MethodPatch, dvURL(env, "organizations("+org+")"), tok, c.body)
			code, msg := errorCode(t, body)
			if res.StatusCode != http.StatusBadRequest || code != c.code || !strings.Contains(msg, c.msg) {
				t.Errorf("PATCH %s: %d %s %q", c.body, res.StatusCode, code, msg)
			}
		}
	})
	t.Run("deactivate a site with representation", func(t *testing.T) {
		const site = "0acd1272-f3a7-5a6b-b87a-eb708bfe52ee"
		res, body := call(t, s, http.MethodPatch, dvURL(env, "sharepointsites("+site+")?$select=statecode,statuscode"), tok, `{"statecode":1}`, "Prefer: return=representation")
		if res.StatusCode != http.StatusOK {
			t.Fatalf("%d %s", res.StatusCode, body)
		}
		m := decode(t, body)
		if m["statecode"] != float64(1) || m["statuscode"] != float64(2) || res.Header.Get("Preference-Applied") != "return=representation" {
			t.Errorf("representation = %s", body)
		}
		res, body = call(t, s, http.MethodPatch, dvURL(env, "sharepointsites("+site+")"), tok, `{"statecode":0,"statuscode":2}`)
		if res.StatusCode != http.StatusBadRequest {
			t.Errorf("inconsistent state/status: %d %s", res.StatusCode, body)
		}
	})
	t.Run("delete and re-create a location", func(t *testing.T) {
		const loc = "105ab58a-c8dc-59ef-9863-8add3d518aa5"
		_, body := call(t, s, http.MethodGet, dvURL(env, "sharepointdocumentlocations("+loc+")"), tok, "")
		before := decode(t, body)
		res, body := call(t, s, http.MethodDelete, dvURL(env, "sharepointdocumentlocations("+loc+")"), tok, "", `If-Match: W/"1"`)
		if res.StatusCode != http.StatusPreconditionFailed {
			t.Fatalf("stale delete: %d %s", res.StatusCode, body)
		}
		res, _ = call(t, s, http.MethodDelete, dvURL(env, "sharepointdocumentlocations("+loc+")"), tok, "", `If-Match: W/"7740121"`)
		if res.StatusCode != http.StatusNoContent {
			t.Fatalf("delete: %d", res.StatusCode)
		}
		if res, _ = call(t, s, http.MethodGet, dvURL(env, "sharepointdocumentlocations("+loc+")"), tok, ""); res.StatusCode != http.StatusNotFound {
			t.Errorf("GET after delete: %d", res.StatusCode)
		}
		create := fmt.Sprintf(`{"sharepointdocumentlocationid":"%s","name":%q,"absoluteurl":%q,"regardingobjectid_account@odata.bind":"/accounts(%s)","servicetype":0,"locationtype":0}`,
			loc, before["name"], before["absoluteurl"], before["_regardingobjectid_value"])
		res, body = call(t, s, http.MethodPost, dvURL(env, "sharepointdocumentlocations"), tok, create)
		if res.StatusCode != http.StatusNoContent {
			t.Fatalf("re-create: %d %s", res.StatusCode, body)
		}
		_, body = call(t, s, http.MethodGet, dvURL(env, "sharepointdocumentlocations("+loc+")?$select=name,_regardingobjectid_value"), tok, "")
		if after := decode(t, body); after["name"] != before["name"] || after["_regardingobjectid_value"] != before["_regardingobjectid_value"] {
			t.Errorf("re-created row = %s", body)
		}
		res, body = call(t, s, http.MethodPost, dvURL(env, "sharepointdocumentlocations"), tok, create)
		if code, _ := errorCode(t, body); res.StatusCode != http.StatusPreconditionFailed || code != codeDuplicate {
			t.Errorf("duplicate create: %d %s", res.StatusCode, body)
		}
		res, body = call(t, s, http.MethodPost, dvURL(env, "sharepointdocumentlocations"), tok, `{"name":"x","parentsiteorlocation_sharepointsite@odata.bind":"/sharepointsites(00000000-0000-4000-8000-000000000000)"}`)
		if res.StatusCode != http.StatusNotFound {
			t.Errorf("bind to a missing site: %d %s", res.StatusCode, body)
		}
		res, _ = call(t, s, http.MethodDelete, dvURL(env, "sharepointsites(0a17db94-98fc-54f2-893a-9879a1a2e0d2)"), tok, "")
		if res.StatusCode != http.StatusMethodNotAllowed {
			t.Errorf("DELETE site: %d, want 405", res.StatusCode)
		}
	})
	t.Run("writes need System Administrator", func(t *testing.T) {
		const rele = "https://relecloud.crm.dynamics.com"
		rt := getToken(t, s, "af4a9cb3-74e3-5499-91e1-cc86cd818489", demoClient, demoSecret, rele+"/.default")
		_, body := call(t, s, http.MethodGet, dvURL(rele, "organizations?$select=organizationid"), rt, "")
		id := decode(t, body)["value"].([]any)[0].(map[string]any)["organizationid"].(string)
		res, body := call(t, s, http.MethodPatch, dvURL(rele, "organizations("+id+")"), rt, `{"isonedriveenabled":false}`)
		if code, _ := errorCode(t, body); res.StatusCode != http.StatusForbidden || code != codePrivilege {
			t.Errorf("PATCH as non-admin: %d %s", res.StatusCode, body)
		}
	})
	t.Run("PUT entity definition is a full replace", func(t *testing.T) {
		const coho = "https://cohowinery.crm.dynamics.com"
		ct := getToken(t, s, "946be772-65a8-5d98-8d20-6628e5c5e8bc", demoClient, demoSecret, coho+"/.default")
		_, body := call(t, s, http.MethodGet, dvURL(coho, "EntityDefinitions(LogicalName='new_project')"), ct, "")
		def := decode(t, body)
		if def["IsDocumentManagementEnabled"] != false {
			t.Fatalf("precondition: %s", body)
		}
		id := def["MetadataId"].(string)
		// Partial body without MergeLabels: the label is lost, other flags fall back.
		res, body := call(t, s, http.MethodPut, dvURL(coho, "EntityDefinitions("+id+")"), ct, `{"@odata.type":"Microsoft.Dynamics.CRM.EntityMetadata","LogicalName":"new_project","IsDocumentManagementEnabled":true}`)
		if res.StatusCode != http.StatusNoContent {
			t.Fatalf("PUT: %d %s", res.StatusCode, body)
		}
		_, body = call(t, s, http.MethodGet, dvURL(coho, "EntityDefinitions("+id+")?$select=IsDocumentManagementEnabled,DisplayName"), ct, "")
		if !strings.Contains(string(body), `"IsDocumentManagementEnabled":true`) || !strings.Contains(string(body), `"LocalizedLabels":[]`) {
			t.Errorf("after partial PUT: %s", body)
		}
		// With MSCRM.MergeLabels the label survives a body without DisplayName.
		res, _ = call(t, s, http.MethodPut, dvURL(coho, "EntityDefinitions(LogicalName='account')"), ct, `{"LogicalName":"account","IsDocumentManagementEnabled":true}`, "MSCRM.MergeLabels: true")
		if res.StatusCode != http.StatusNoContent {
			t.Fatalf("PUT account: %d", res.StatusCode)
		}
		_, body = call(t, s, http.MethodGet, dvURL(coho, "EntityDefinitions(LogicalName='account')?$select=DisplayName"), ct, "")
		if !strings.Contains(string(body), `"Label":"Account"`) {
			t.Errorf("MergeLabels lost the label: %s", body)
		}
		res, body = call(t, s, http.MethodPut, dvURL(coho, "EntityDefinitions("+id+")"), ct, `{"LogicalName":"account"}`)
		if res.StatusCode != http.StatusBadRequest {
			t.Errorf("rename via PUT: %d %s", res.StatusCode, body)
		}
		res, body = call(t, s, http.MethodPatch, dvURL(coho, "EntityDefinitions("+id+")"), ct, `{"IsDocumentManagementEnabled":true}`)
		if res.StatusCode != http.StatusMethodNotAllowed {
			t.Errorf("PATCH on metadata: %d %s", res.StatusCode, body)
		}
		if res, _ = call(t, s, http.MethodPost, dvURL(coho, "PublishAllXml"), ct, `{}`); res.StatusCode != http.StatusNoContent {
			t.Errorf("PublishAllXml: %d", res.StatusCode)
		}
	})
	t.Run("msdyn_SetTeamsDocumentStatus", func(t *testing.T) {
		res, body := call(t, s, http.MethodPost, dvURL(env, "msdyn_SetTeamsDocumentStatus"), tok, `{"Enable":true,"LogicalEntityNames":"[\"account\", \"nope\"]"}`)
		if res.StatusCode != http.StatusOK {
			t.Fatalf("%d %s", res.StatusCode, body)
		}
		want := `"PassedLogicalEntityNames":"[account]","FailedLogicalEntityNames":"[nope]","OperationResult":false}`
		if !strings.Contains(string(body), want) || !strings.Contains(string(body), "msdyn_SetTeamsDocumentStatusResponse") {
			t.Errorf("response %s lacks %s", body, want)
		}
		_, body = call(t, s, http.MethodGet, dvURL(env, "EntityDefinitions(LogicalName='account')?$select=IsMSTeamsIntegrationEnabled"), tok, "")
		if !strings.Contains(string(body), `"IsMSTeamsIntegrationEnabled":true`) {
			t.Errorf("flag not set: %s", body)
		}
		res, body = call(t, s, http.MethodPost, dvURL(env, "msdyn_SetTeamsDocumentStatus"), tok, `{"Enable":true,"LogicalEntityNames":["account"]}`)
		if res.StatusCode != http.StatusBadRequest {
			t.Errorf("array instead of string: %d %s", res.StatusCode, body)
		}
	})
}

func TestDataverseCallerNotMember(t *testing.T) {
	t.Parallel()
	sc := parseInline(t, "stranger", strings.Replace(appScenario, "applicationid: 0c0c0c0c-1111-4222-8333-444444444444", "applicationid: 0b0b0b0b-1111-4222-8333-444444444444", 1))
	s := startServer(t, Options{}, sc)
	tok := getToken(t, s, appTenant, appClient, appSecret, appEnv+"/.default")
	res, body := call(t, s, http.MethodGet, dvURL(appEnv, "WhoAmI"), tok, "")
	if code, msg := errorCode(t, body); res.StatusCode != http.StatusForbidden || code != codeNotMember || !strings.Contains(msg, "not a member of the organization") {
		t.Errorf("WhoAmI as a stranger: %d %s", res.StatusCode, body)
	}
}

func TestDataverseActionNotInstalled(t *testing.T) {
	t.Parallel()
	sc := parseInline(t, "noaction", strings.Replace(appScenario, "  - url: https://apptest.crm.dynamics.com\n", "  - url: https://apptest.crm.dynamics.com\n    teamsDocumentStatusAction: false\n", 1))
	s := startServer(t, Options{}, sc)
	tok := getToken(t, s, appTenant, appClient, appSecret, appEnv+"/.default")
	res, body := call(t, s, http.MethodPost, dvURL(appEnv, "msdyn_SetTeamsDocumentStatus"), tok, `{"Enable":true,"LogicalEntityNames":"[]"}`)
	if code, _ := errorCode(t, body); res.StatusCode != http.StatusNotFound || code != codeNoSegment {
		t.Errorf("action missing: %d %s", res.StatusCode, body)
	}
	_, body = call(t, s, http.MethodGet, dvURL(appEnv, "sdkmessages?$filter=name eq 'msdyn_SetTeamsDocumentStatus'&$count=true"), tok, "")
	if !strings.Contains(string(body), `"@odata.count":0`) {
		t.Errorf("sdkmessages lists a missing action: %s", body)
	}
}
