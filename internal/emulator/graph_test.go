package emulator

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

func TestGraphReads(t *testing.T) {
	t.Parallel()
	s := startServer(t, Options{}, loadScenario(t, "ready"), loadScenario(t, "consent-missing-scope"), parseInline(t, "app", appScenario))
	user := getToken(t, s, readyTenant, demoClient, demoSecret, "https://graph.microsoft.com/.default")
	lamna := getToken(t, s, "3a934a7b-9bf4-5d6a-acf4-fdb644cd2a7b", demoClient, demoSecret, "https://graph.microsoft.com/.default")
	app := getToken(t, s, appTenant, appClient, appSecret, "https://graph.microsoft.com/.default")
	esc := url.PathEscape
	tests := []struct {
		name, path, token string
		headers           []string
		status            int
		contains          []string
		absent            []string
	}{
		{"subscribedSkus select", "subscribedSkus?$select=skuId,skuPartNumber,capabilityStatus,servicePlans", user, nil, 200, []string{
			`"@odata.context":"https://graph.microsoft.com/v1.0/$metadata#subscribedSkus"`,
			`{"capabilityStatus":"Enabled","skuId":"05e9a617-0261-4cee-bb44-138d3ef5d965","skuPartNumber":"SPE_E3","servicePlans":[{"servicePlanId":"57ff2da0-773e-42df-b2af-ffb7a2317929","servicePlanName":"TEAMS1","provisioningStatus":"Success","appliesTo":"User"}`}, []string{"consumedUnits"}},
		{"subscribedSkus all properties", "subscribedSkus", user, nil, 200, []string{`"prepaidUnits":{"enabled":25`, `"id":"3f2b8c1e-6d4a-4b7e-9a15-2c8d0e7f4a61_1e1a282c-9c54-43a2-9310-98ef728faace"`}, nil},
		{"subscribedSkus filter refused", "subscribedSkus?$filter=" + esc("skuPartNumber eq 'SPE_E3'"), user, nil, 400, []string{`"code":"Request_UnsupportedQuery"`, "only $select"}, nil},
		{"subscribedSkus bad select", "subscribedSkus?$select=colour", user, nil, 400, []string{"Could not find a property named 'colour' on type 'microsoft.graph.subscribedSku'."}, nil},
		{"service principal by appId", "servicePrincipals(appId='a8adde6c-aeb4-4fd6-9d8f-c2dfdecac60a')", user, nil, 200, []string{
			`$metadata#servicePrincipals/$entity"`, `"id":"b7d1e0a4-2f6c-4e19-8c3a-5e9f1d2b7a40"`, `"displayName":"Dynamics 365 Microsoft Teams Collaboration Integration"`}, nil},
		{"service principal by appId select", "servicePrincipals(appId='a8adde6c-aeb4-4fd6-9d8f-c2dfdecac60a')?$select=id,appId", user, nil, 200, []string{`"id":"b7d1e0a4-2f6c-4e19-8c3a-5e9f1d2b7a40","appId":"a8adde6c-aeb4-4fd6-9d8f-c2dfdecac60a"}`}, nil},
		{"service principal missing", "servicePrincipals(appId='99999999-1111-4222-8333-444444444444')", user, nil, 404, []string{`"code":"Request_ResourceNotFound"`, `"innerError":{"date":`}, nil},
		{"service principal by id", "servicePrincipals/6c2f9e11-8b3d-4a7f-b5e2-0d4c8a9f3e17", user, nil, 200, []string{`"appId":"00000003-0000-0000-c000-000000000000"`}, nil},
		{"service principal bad id", "servicePrincipals/nope", user, nil, 400, []string{"Invalid object identifier 'nope'"}, nil},
		{"startswith displayName", "servicePrincipals?$filter=" + esc("startswith(displayName,'Dynamics 365 Microsoft Teams')") + "&$select=id,appId,displayName", user, nil, 200, []string{
			`"value":[{"id":"b7d1e0a4-2f6c-4e19-8c3a-5e9f1d2b7a40","appId":"a8adde6c-aeb4-4fd6-9d8f-c2dfdecac60a","displayName":"Dynamics 365 Microsoft Teams Collaboration Integration"}]`}, []string{"Microsoft Graph"}},
		{"appId eq", "servicePrincipals?$filter=" + esc("appId eq '00000003-0000-0000-c000-000000000000'"), user, nil, 200, []string{`"id":"6c2f9e11-8b3d-4a7f-b5e2-0d4c8a9f3e17"`}, []string{"b7d1e0a4"}},
		{"filter on unfilterable property", "servicePrincipals?$filter=" + esc("colour eq 'red'"), user, nil, 400, []string{`"Request_UnsupportedQuery"`, "property 'colour' of resource 'ServicePrincipal'"}, nil},
		{"grants of a client", "oauth2PermissionGrants?$filter=" + esc("clientId eq 'b7d1e0a4-2f6c-4e19-8c3a-5e9f1d2b7a40'"), user, nil, 200, []string{
			`{"clientId":"b7d1e0a4-2f6c-4e19-8c3a-5e9f1d2b7a40","consentType":"AllPrincipals","id":"pNHRt2wvGU6MOl6fHSt6QBGe4mw9i39KteINTIqfPhc","principalId":null,"resourceId":"6c2f9e11-8b3d-4a7f-b5e2-0d4c8a9f3e17","scope":"User.Read.All Group.ReadWrite.All"}`}, nil},
		{"admin grants only", "oauth2PermissionGrants?$filter=" + esc("clientId eq 'cc8c5dca-75ef-5e9c-a83c-15811b7723d4' and consentType eq 'AllPrincipals'"), lamna, nil, 200, []string{`"scope":"User.Read.All Chat.ReadWrite.All Directory.Read.All"`}, []string{`"Principal"`}},
		{"grants through the service principal", "servicePrincipals/cc8c5dca-75ef-5e9c-a83c-15811b7723d4/oauth2PermissionGrants", lamna, nil, 200, []string{`"consentType":"Principal"`, `"consentType":"AllPrincipals"`}, nil},
		{"me", "me?$select=id,userPrincipalName", user, nil, 200, []string{`$metadata#users/$entity"`, `"id":"0a7c3e52-91d8-4f6b-a2e4-7b5d9c1f8e36","userPrincipalName":"admin@contoso.onmicrosoft.com"}`}, nil},
		{"my directory roles", "me/memberOf/microsoft.graph.directoryRole", user, nil, 200, []string{
			`$metadata#directoryRoles"`, `"displayName":"Global Administrator","roleTemplateId":"62e90394-69f5-4237-9190-012177145e10"`}, []string{"@odata.type"}},
		{"my memberOf", "me/memberOf", user, nil, 200, []string{`"@odata.type":"#microsoft.graph.directoryRole"`}, nil},
		{"me with an app token", "me", app, nil, 400, []string{`"code":"BadRequest"`, "/me request is only valid with delegated authentication flow."}, nil},
		{"app roles through its service principal", "servicePrincipals(appId='" + appClient + "')/memberOf/microsoft.graph.directoryRole", app, nil, 200, []string{`"roleTemplateId":"62e90394-69f5-4237-9190-012177145e10"`}, nil},
		{"role assignments", "roleManagement/directory/roleAssignments?$filter=" + esc("roleDefinitionId eq '62e90394-69f5-4237-9190-012177145e10'") + "&$expand=principal", user, nil, 200, []string{
			`"principalId":"0a7c3e52-91d8-4f6b-a2e4-7b5d9c1f8e36","roleDefinitionId":"62e90394-69f5-4237-9190-012177145e10","principal":{"@odata.type":"#microsoft.graph.user"`}, nil},
		{"role assignments of someone else", "roleManagement/directory/roleAssignments?$filter=" + esc("principalId eq '99999999-1111-4222-8333-444444444444'"), user, nil, 200, []string{`"value":[]`}, nil},
		{"count needs ConsistencyLevel", "servicePrincipals?$count=true", user, nil, 400, []string{"ConsistencyLevel"}, nil},
		{"count with ConsistencyLevel", "servicePrincipals?$count=true", user, []string{"ConsistencyLevel: eventual"}, 200, []string{`"@odata.count":2`}, nil},
		{"unknown segment", "groups", user, nil, 400, []string{"Resource not found for the segment 'groups'."}, nil},
		{"organization", "organization", user, nil, 200, []string{`"displayName":"Contoso"`, `"name":"contoso.onmicrosoft.com"`}, nil},
		{"root site", "sites/root", user, nil, 200, []string{`$metadata#sites/$entity"`, `"webUrl":"https://contoso.sharepoint.com"`, `"siteCollection":{"hostname":"contoso.sharepoint.com"}`}, nil},
		{"root site select", "sites/root?$select=webUrl", user, nil, 200, []string{`"webUrl":"https://contoso.sharepoint.com"}`}, []string{"siteCollection"}},
		{"root site with an app token", "sites/root?$select=siteCollection", app, nil, 200, []string{`"siteCollection":{"hostname":"apptest.sharepoint.com"}`}, nil},
		{"other sites", "sites/contoso.sharepoint.com", user, nil, 400, []string{"Resource not found for the segment"}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			res, body := call(t, s, http.MethodGet, graphRoot+tc.path, tc.token, "", tc.headers...)
			if res.StatusCode != tc.status {
				t.Fatalf("status = %d, want %d: %s", res.StatusCode, tc.status, body)
			}
			if res.Header.Get("request-id") == "" {
				t.Error("no request-id header")
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

func TestGraphOtherVersions(t *testing.T) {
	t.Parallel()
	s := startServer(t, Options{}, loadScenario(t, "ready"))
	tok := getToken(t, s, readyTenant, demoClient, demoSecret, "https://graph.microsoft.com/.default")
	res, body := call(t, s, http.MethodGet, "https://graph.microsoft.com/beta/me", tok, "")
	if code, msg := errorCode(t, body); res.StatusCode != http.StatusBadRequest || code != "BadRequest" || !strings.Contains(msg, "Invalid version") {
		t.Errorf("beta: %d %s", res.StatusCode, body)
	}
}

func TestGraphPaging(t *testing.T) {
	t.Parallel()
	s := startServer(t, Options{}, loadScenario(t, "ready"))
	tok := getToken(t, s, readyTenant, demoClient, demoSecret, "https://graph.microsoft.com/.default")
	next := graphRoot + "servicePrincipals?$select=id&$top=1"
	var ids []string
	for next != "" {
		res, body := call(t, s, http.MethodGet, next, tok, "")
		if res.StatusCode != http.StatusOK {
			t.Fatalf("%d %s", res.StatusCode, body)
		}
		m := decode(t, body)
		for _, v := range m["value"].([]any) {
			ids = append(ids, v.(map[string]any)["id"].(string))
		}
		next, _ = m["@odata.nextLink"].(string)
	}
	if len(ids) != 2 {
		t.Errorf("paged through %v, want 2 service principals", ids)
	}
}

type graphBatchResponse struct {
	Responses []struct {
		ID      string            `json:"id"`
		Status  int               `json:"status"`
		Headers map[string]string `json:"headers"`
		Body    json.RawMessage   `json:"body"`
	} `json:"responses"`
}

func graphBatchBody(reqs ...string) string {
	return `{"requests":[` + strings.Join(reqs, ",") + `]}`
}

func TestGraphBatch(t *testing.T) {
	t.Parallel()
	sc := parseInline(t, "throttled", appScenario+`
faults:
  - name: inner-429
    match: {host: graph.microsoft.com, path: "subscribedSkus", scope: inner}
    kind: throttle
    retryAfter: "2.128"
    times: 1
`)
	s := startServer(t, Options{Seed: 7}, sc)
	tok := getToken(t, s, appTenant, appClient, appSecret, "https://graph.microsoft.com/.default")
	batch := func(body string) (*http.Response, graphBatchResponse, []byte) {
		res, raw := call(t, s, http.MethodPost, graphRoot+"$batch", tok, body)
		var out graphBatchResponse
		if res.StatusCode == http.StatusOK {
			if err := json.Unmarshal(raw, &out); err != nil {
				t.Fatalf("batch response %s: %v", raw, err)
			}
		}
		return res, out, raw
	}

	t.Run("shuffled, each throttled on its own, dependsOn", func(t *testing.T) {
		reqs := []string{
			`{"id":"skus","method":"GET","url":"/subscribedSkus?$select=skuId"}`,
			`{"id":"sp","method":"GET","url":"/servicePrincipals(appId='` + appClient + `')"}`,
			`{"id":"roles","method":"GET","url":"/servicePrincipals(appId='` + appClient + `')/memberOf/microsoft.graph.directoryRole","dependsOn":["sp"]}`,
			`{"id":"missing","method":"GET","url":"/servicePrincipals(appId='99999999-1111-4222-8333-444444444444')"}`,
			`{"id":"after-missing","method":"GET","url":"/me","dependsOn":["missing"]}`,
		}
		for i := 0; i < 7; i++ {
			reqs = append(reqs, fmt.Sprintf(`{"id":"grants-%d","method":"GET","url":"oauth2PermissionGrants"}`, i))
		}
		res, out, raw := batch(graphBatchBody(reqs...))
		if res.StatusCode != http.StatusOK {
			t.Fatalf("batch: %d %s", res.StatusCode, raw)
		}
		byID := map[string]int{}
		var order []string
		for i, r := range out.Responses {
			byID[r.ID] = i
			order = append(order, r.ID)
		}
		if len(byID) != len(reqs) {
			t.Fatalf("%d responses for %d requests", len(byID), len(reqs))
		}
		inOrder := true
		for i := 1; i < len(order); i++ {
			if byID[order[i]] < byID[order[i-1]] {
				inOrder = false
			}
		}
		if strings.Join(order[:5], ",") == "skus,sp,roles,missing,after-missing" && inOrder {
			t.Errorf("responses came back in request order: %v", order)
		}
		get := func(id string) (int, map[string]string, string) {
			r := out.Responses[byID[id]]
			return r.Status, r.Headers, string(r.Body)
		}
		if st, h, _ := get("skus"); st != http.StatusTooManyRequests || h["Retry-After"] != "2.128" {
			t.Errorf("skus: %d %v, want 429 with Retry-After 2.128", st, h)
		}
		if st, _, body := get("roles"); st != http.StatusOK || !strings.Contains(body, "Global Administrator") {
			t.Errorf("roles: %d %s", st, body)
		}
		if st, _, _ := get("missing"); st != http.StatusNotFound {
			t.Errorf("missing: %d", st)
		}
		if st, _, body := get("after-missing"); st != http.StatusFailedDependency || !strings.Contains(body, "FailedDependency") {
			t.Errorf("after-missing: %d %s", st, body)
		}
		// The same seed gives the same order on a fresh server.
		s2 := startServer(t, Options{Seed: 7}, parseInline(t, "again", appScenario))
		tok2 := getToken(t, s2, appTenant, appClient, appSecret, "https://graph.microsoft.com/.default")
		_, raw2 := call(t, s2, http.MethodPost, graphRoot+"$batch", tok2, graphBatchBody(reqs...))
		var out2 graphBatchResponse
		if err := json.Unmarshal(raw2, &out2); err != nil {
			t.Fatal(err)
		}
		for i := range out2.Responses {
			if out2.Responses[i].ID != order[i] {
				t.Fatalf("seeded order differs: %v vs %s", order, raw2)
			}
		}
	})
	t.Run("throttle fired once", func(t *testing.T) {
		_, out, _ := batch(graphBatchBody(`{"id":"1","method":"GET","url":"/subscribedSkus"}`))
		if out.Responses[0].Status != http.StatusOK {
			t.Errorf("second skus request: %d", out.Responses[0].Status)
		}
	})
	t.Run("invalid batches", func(t *testing.T) {
		many := make([]string, 21)
		for i := range many {
			many[i] = fmt.Sprintf(`{"id":"%d","method":"GET","url":"/me"}`, i)
		}
		cases := []struct{ name, body, want string }{
			{"more than 20", graphBatchBody(many...), "the limit is 20"},
			{"empty", graphBatchBody(), "empty"},
			{"duplicate id", graphBatchBody(`{"id":"1","method":"GET","url":"/me"}`, `{"id":"1","method":"GET","url":"/me"}`), "duplicate request id"},
			{"unknown dependency", graphBatchBody(`{"id":"1","method":"GET","url":"/me","dependsOn":["2"]}`), "depends on '2'"},
			{"not json", "nope", "Invalid batch payload"},
			{"unknown field", `{"requests":[],"extra":1}`, "Invalid batch payload"},
		}
		for _, c := range cases {
			res, _, raw := batch(c.body)
			if code, msg := errorCode(t, raw); res.StatusCode != http.StatusBadRequest || code != "BadRequest" || !strings.Contains(msg, c.want) {
				t.Errorf("%s: %d %s", c.name, res.StatusCode, raw)
			}
		}
	})
	t.Run("absolute inner url", func(t *testing.T) {
		_, out, _ := batch(graphBatchBody(`{"id":"1","method":"GET","url":"https://graph.microsoft.com/v1.0/me"}`))
		if out.Responses[0].Status != http.StatusBadRequest {
			t.Errorf("absolute url: %d", out.Responses[0].Status)
		}
	})
}
