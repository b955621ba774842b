package emulator

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
)

const (
	fabrikamTenant = "10a86877-5713-50b1-82c1-b12f5ba6a7e6"
	bapList        = "https://api.bap.microsoft.com/providers/Microsoft.BusinessAppPlatform/scopes/admin/environments?api-version=2020-10-01"
	gdsInstances   = "https://globaldisco.crm.dynamics.com/api/discovery/v2.0/Instances"
	bapScope       = "https://service.powerapps.com//.default"
	gdsScope       = "https://globaldisco.crm.dynamics.com/.default"
)

// listAll follows nextLink (or @odata.nextLink) from first and returns every
// item and the number of pages.
func listAll(t *testing.T, s *Server, first, token, linkKey string) ([]map[string]any, int) {
	t.Helper()
	var items []map[string]any
	pages := 0
	for u := first; u != ""; pages++ {
		res, body := call(t, s, http.MethodGet, u, token, "")
		if res.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %d %s", u, res.StatusCode, body)
		}
		var page map[string]json.RawMessage
		if err := json.Unmarshal(body, &page); err != nil {
			t.Fatal(err)
		}
		var value []map[string]any
		if err := json.Unmarshal(page["value"], &value); err != nil {
			t.Fatalf("value of %s: %v", body, err)
		}
		items = append(items, value...)
		u = ""
		if raw, ok := page[linkKey]; ok {
			if err := json.Unmarshal(raw, &u); err != nil {
				t.Fatal(err)
			}
		}
		if pages > 10 {
			t.Fatal("more than 10 pages")
		}
	}
	return items, pages
}

func TestBAPListsEnvironments(t *testing.T) {
	t.Parallel()
	s := startServer(t, Options{}, loadScenario(t, "ready"), loadScenario(t, "sp-800503ca-all"))
	t.Run("default list", func(t *testing.T) {
		t.Parallel()
		tok := getToken(t, s, readyTenant, demoClient, demoSecret, bapScope)
		items, pages := listAll(t, s, bapList, tok, "nextLink")
		if len(items) != 1 || pages != 1 {
			t.Fatalf("%d items in %d pages, want the one environment in one", len(items), pages)
		}
		props := items[0]["properties"].(map[string]any)
		linked := props["linkedEnvironmentMetadata"].(map[string]any)
		states := props["states"].(map[string]any)
		if props["environmentSku"] != "Production" || linked["instanceUrl"] != readyEnv+"/" ||
			states["runtime"].(map[string]any)["id"] != "Enabled" || props["displayName"] == "" {
			t.Fatalf("environment %v", items[0])
		}
		if id, _ := items[0]["id"].(string); id != "/providers/Microsoft.BusinessAppPlatform/scopes/admin/environments/"+items[0]["name"].(string) {
			t.Fatalf("id %q does not end in the name %v", id, items[0]["name"])
		}
	})
	t.Run("paged scenario list", func(t *testing.T) {
		t.Parallel()
		tok := getToken(t, s, fabrikamTenant, demoClient, demoSecret, bapScope)
		items, pages := listAll(t, s, bapList, tok, "nextLink")
		if len(items) != 4 || pages != 2 {
			t.Fatalf("%d items in %d pages, want 4 in 2", len(items), pages)
		}
		var got []string
		for _, it := range items {
			p := it["properties"].(map[string]any)
			url := "-"
			if l, ok := p["linkedEnvironmentMetadata"].(map[string]any); ok {
				url = l["instanceUrl"].(string)
			}
			got = append(got, p["displayName"].(string)+" "+p["environmentSku"].(string)+" "+
				p["states"].(map[string]any)["runtime"].(map[string]any)["id"].(string)+" "+url)
		}
		want := "Fabrikam Sales Production Enabled https://fabrikam.crm4.dynamics.com/|" +
			"Fabrikam Dev Developer Enabled https://fabrikam-dev.crm4.dynamics.com/|" +
			"Fabrikam Archive Sandbox Disabled https://fabrikam-archive.crm4.dynamics.com/|" +
			"Fabrikam Flows Production Enabled -"
		if strings.Join(got, "|") != want {
			t.Fatalf("got\n%s\nwant\n%s", strings.Join(got, "|"), want)
		}
	})
}

func TestBAPRefusals(t *testing.T) {
	t.Parallel()
	denied := loadScenario(t, "ready")
	denied.Discovery = &Discovery{AccessDenied: true}
	s := startServer(t, Options{}, denied)
	bap := getToken(t, s, readyTenant, demoClient, demoSecret, bapScope)
	graph := getToken(t, s, readyTenant, demoClient, demoSecret, "https://graph.microsoft.com/.default")
	base := strings.TrimSuffix(bapList, "?api-version=2020-10-01")
	tests := []struct {
		name, url, token string
		status           int
		code             string
	}{
		{"not registered as a management app", bapList, bap, 403, "Forbidden"},
		{"no api-version", base, bap, 400, "MissingApiVersionParameter"},
		{"undocumented api-version", base + "?api-version=2024-05-01", bap, 400, "InvalidApiVersionParameter"},
		{"graph token", bapList, graph, 401, "InvalidAuthenticationToken"},
		{"no token", bapList, "", 401, "InvalidAuthenticationToken"},
		{"other path", "https://api.bap.microsoft.com/providers/Microsoft.BusinessAppPlatform/environments?api-version=2020-10-01", bap, 404, "NotFound"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			res, body := call(t, s, http.MethodGet, tt.url, tt.token, "")
			if res.StatusCode != tt.status {
				t.Fatalf("status %d, want %d: %s", res.StatusCode, tt.status, body)
			}
			if code, _ := errorCode(t, body); code != tt.code {
				t.Fatalf("code %q, want %q: %s", code, tt.code, body)
			}
		})
	}
}

func TestGDSListsInstances(t *testing.T) {
	t.Parallel()
	s := startServer(t, Options{}, loadScenario(t, "sp-800503ca-all"), parseInline(t, "app", appScenario))
	user := getToken(t, s, fabrikamTenant, demoClient, demoSecret, gdsScope)
	t.Run("paged with select", func(t *testing.T) {
		t.Parallel()
		items, pages := listAll(t, s, gdsInstances+"?$select=FriendlyName,State,Url", user, "@odata.nextLink")
		if pages != 2 {
			t.Fatalf("%d pages, want 2", pages)
		}
		var got []string
		for _, it := range items {
			if len(it) != 3 {
				t.Errorf("instance %v has properties beyond the three selected", it)
			}
			got = append(got, fmt.Sprint(it["FriendlyName"], " ", it["Url"], " ", it["State"]))
		}
		// The environment without a database has no instance.
		want := "Fabrikam Sales https://fabrikam.crm4.dynamics.com 0|Fabrikam Dev https://fabrikam-dev.crm4.dynamics.com 0|Fabrikam Archive https://fabrikam-archive.crm4.dynamics.com 1"
		if strings.Join(got, "|") != want {
			t.Fatalf("got\n%s\nwant\n%s", strings.Join(got, "|"), want)
		}
	})
	t.Run("every property", func(t *testing.T) {
		t.Parallel()
		res, body := call(t, s, http.MethodGet, gdsInstances, user, "")
		if res.StatusCode != http.StatusOK {
			t.Fatalf("%d %s", res.StatusCode, body)
		}
		for _, want := range []string{`"@odata.context":"https://globaldisco.crm.dynamics.com/api/discovery/v2.0/$metadata#Instances"`, `"ApiUrl":"https://fabrikam.api.crm4.dynamics.com"`, `"Region":"EMEA"`, `"TenantId":"10a86877-5713-50b1-82c1-b12f5ba6a7e6"`} {
			if !strings.Contains(string(body), want) {
				t.Errorf("body lacks %s: %s", want, body)
			}
		}
	})
	refusals := []struct {
		name, url string
		token     func() string
		status    int
	}{
		{"unknown property", gdsInstances + "?$select=Colour", func() string { return user }, 400},
		{"filter not served", gdsInstances + "?$filter=State%20eq%200", func() string { return user }, 400},
		{"key lookup not served", "https://globaldisco.crm.dynamics.com/api/discovery/v2.0/Instances(UniqueName='fabrikam')", func() string { return user }, 404},
		{"app-only token", gdsInstances, func() string {
			return getToken(t, s, appTenant, appClient, appSecret, gdsScope)
		}, 403},
		{"Dataverse token", gdsInstances, func() string {
			return getToken(t, s, fabrikamTenant, demoClient, demoSecret, "https://fabrikam.crm4.dynamics.com/.default")
		}, 401},
	}
	for _, tt := range refusals {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			res, body := call(t, s, http.MethodGet, tt.url, tt.token(), "")
			if res.StatusCode != tt.status {
				t.Fatalf("status %d, want %d: %s", res.StatusCode, tt.status, body)
			}
			errorCode(t, body)
		})
	}
}

// TestDiscoveryFault: a status fault on the admin API host applies to the
// tenant whose token the request carries, and to no other.
func TestDiscoveryFault(t *testing.T) {
	t.Parallel()
	faulty := loadScenario(t, "ready")
	faulty.Faults = []Fault{{Kind: FaultStatus, Status: 403, Match: FaultMatch{Host: "api.bap.microsoft.com"}}}
	s := startServer(t, Options{}, faulty, loadScenario(t, "sp-800503ca-all"))
	res, body := call(t, s, http.MethodGet, bapList, getToken(t, s, readyTenant, demoClient, demoSecret, bapScope), "")
	if res.StatusCode != http.StatusForbidden {
		t.Fatalf("faulty tenant: %d %s", res.StatusCode, body)
	}
	res, body = call(t, s, http.MethodGet, bapList, getToken(t, s, fabrikamTenant, demoClient, demoSecret, bapScope), "")
	if res.StatusCode != http.StatusOK {
		t.Fatalf("other tenant: %d %s", res.StatusCode, body)
	}
}

func TestDiscoveryScenarioErrors(t *testing.T) {
	t.Parallel()
	base := `tenant: {id: 11111111-2222-4333-8444-555555555555}
clients: [{clientId: 0c0c0c0c-1111-4222-8333-444444444444, secret: s}]
caller: {type: app, objectId: 0d0d0d0d-1111-4222-8333-444444444444}
`
	tests := []struct{ name, yaml, want string }{
		{"page size", "discovery: {pageSize: -1}\n", "discovery.pageSize: must be between 0 (one page) and 1000"},
		{"state", "discovery: {environments: [{url: https://a.crm.dynamics.com, state: Paused}]}\n", `discovery.environments[0].state: must be Enabled or Disabled, not "Paused"`},
		{"url", "discovery: {environments: [{url: http://a.crm.dynamics.com}]}\n", `discovery.environments[0].url: "http://a.crm.dynamics.com" must use https`},
		{"twice", "discovery: {environments: [{url: https://a.crm.dynamics.com}, {url: https://A.crm.dynamics.com}]}\n", "discovery.environments[1].url: a.crm.dynamics.com is listed twice"},
		{"id", "discovery: {environments: [{id: nope}]}\n", `discovery.environments[0].id: "nope" is not a GUID`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := ParseScenario([]byte(base+tt.yaml), "x")
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("ParseScenario = %v, want %q", err, tt.want)
			}
		})
	}
}
