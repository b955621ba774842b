package emulator

import (
	"net/http"
	"strings"
	"testing"
)

func TestSharePointTenant(t *testing.T) {
	t.Parallel()
	s := startServer(t, Options{}, loadScenario(t, "spo-limited"), loadScenario(t, "spo-blocked"), parseInline(t, "denied",
		strings.Replace(appScenario, `encoding: number}`, `encoding: number, accessDenied: true}`, 1)))
	const limited, blocked = "https://adatum-admin.sharepoint.com", "https://woodgrove-admin.sharepoint.com"
	lt := getToken(t, s, "81b9f372-350a-507e-bf48-594caf519bc5", demoClient, demoSecret, limited+"/.default")
	bt := getToken(t, s, "6a40d815-479c-54cd-b19c-c65568e81d2d", demoClient, demoSecret, blocked+"/.default")
	dt := getToken(t, s, appTenant, appClient, appSecret, "https://apptest-admin.sharepoint.com/.default")
	tests := []struct {
		name, url, token, accept string
		status                   int
		want                     string
		contentType              string
	}{
		{"number, nometadata", limited + "/_api/SPO.Tenant", lt, "application/json;odata=nometadata", 200, `{"ConditionalAccessPolicy":1}`, "odata=nometadata"},
		{"number, verbose", limited + "/_api/SPO.Tenant", lt, "application/json;odata=verbose", 200, `{"d":{"__metadata":{"id":"https://adatum-admin.sharepoint.com/_api/SPO.Tenant","uri":"https://adatum-admin.sharepoint.com/_api/SPO.Tenant","type":"Microsoft.Online.SharePoint.TenantAdministration.Tenant"},"ConditionalAccessPolicy":1}}`, "odata=verbose"},
		{"number, minimal", limited + "/_api/SPO.Tenant", lt, "application/json", 200, `"odata.type":"Microsoft.Online.SharePoint.TenantAdministration.Tenant","ConditionalAccessPolicy":1}`, "minimalmetadata"},
		{"name, nometadata", blocked + "/_api/SPO.Tenant", bt, "application/json;odata=nometadata", 200, `{"ConditionalAccessPolicy":"BlockAccess"}`, "odata=nometadata"},
		{"name, verbose", blocked + "/_api/SPO.Tenant", bt, "application/json;odata=verbose", 200, `"ConditionalAccessPolicy":"BlockAccess"}}`, "odata=verbose"},
		{"atom by default", limited + "/_api/SPO.Tenant", lt, "", 200, `<d:ConditionalAccessPolicy m:type="Edm.Int32">1</d:ConditionalAccessPolicy>`, "application/atom+xml"},
		{"other path", limited + "/_api/web", lt, "application/json;odata=nometadata", 404, `"odata.error"`, "application/json"},
		{"access denied", "https://apptest-admin.sharepoint.com/_api/SPO.Tenant", dt, "application/json;odata=verbose", 403, `{"error":{"code":"-2147024891, System.UnauthorizedAccessException"`, "odata=verbose"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var hdr []string
			if tc.accept != "" {
				hdr = append(hdr, "Accept: "+tc.accept)
			}
			res, body := call(t, s, http.MethodGet, tc.url, tc.token, "", hdr...)
			if res.StatusCode != tc.status {
				t.Fatalf("status = %d, want %d: %s", res.StatusCode, tc.status, body)
			}
			if !strings.Contains(string(body), tc.want) {
				t.Errorf("body %s lacks %s", body, tc.want)
			}
			if !strings.Contains(res.Header.Get("Content-Type"), tc.contentType) {
				t.Errorf("Content-Type %q lacks %q", res.Header.Get("Content-Type"), tc.contentType)
			}
		})
	}
}
