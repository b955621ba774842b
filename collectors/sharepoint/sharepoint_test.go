package sharepoint

import (
	"strings"
	"testing"

	"github.com/teamslink/teamslink/internal/cloud"
)

func TestParsePolicy(t *testing.T) {
	t.Parallel()
	tests := []struct {
		body, name, raw, err string
	}{
		{`{"ConditionalAccessPolicy":0}`, "AllowFullAccess", "0", ""},
		{`{"ConditionalAccessPolicy":1,"SharingCapability":2}`, "AllowLimitedAccess", "1", ""},
		{`{"d":{"ConditionalAccessPolicy":2}}`, "BlockAccess", "2", ""},
		{`{"ConditionalAccessPolicy":"AuthenticationContext"}`, "AuthenticationContext", "AuthenticationContext", ""},
		{`{"ConditionalAccessPolicy":"blockaccess"}`, "BlockAccess", "blockaccess", ""},
		{`{"ConditionalAccessPolicy":"1"}`, "AllowLimitedAccess", "1", ""},
		{`{"ConditionalAccessPolicy":7}`, "", "7", "unknown ConditionalAccessPolicy value 7"},
		{`{"ConditionalAccessPolicy":"ProtectionLevel"}`, "", "ProtectionLevel", `unknown ConditionalAccessPolicy "ProtectionLevel"`},
		{`{"ConditionalAccessPolicy":true}`, "", "", "ConditionalAccessPolicy is true, want an integer or a name"},
		{`{"SharingCapability":2}`, "", "", "lacks ConditionalAccessPolicy"},
		{`{"ConditionalAccessPolicy":null}`, "", "", "lacks ConditionalAccessPolicy"},
		{`{"d":{"ConditionalAccessPolicy":null}}`, "", "", "lacks ConditionalAccessPolicy"},
		{`{"d":{}}`, "", "", "lacks ConditionalAccessPolicy"},
		{`<html>`, "", "", "decode tenant properties"},
	}
	for _, tt := range tests {
		t.Run(tt.body, func(t *testing.T) {
			t.Parallel()
			name, raw, err := parsePolicy([]byte(tt.body))
			if name != tt.name || raw != tt.raw {
				t.Errorf("parsePolicy = %q, %q; want %q, %q", name, raw, tt.name, tt.raw)
			}
			if (err == nil) != (tt.err == "") || (err != nil && !strings.Contains(err.Error(), tt.err)) {
				t.Errorf("error = %v, want %q", err, tt.err)
			}
		})
	}
}

func TestAdminURLFromRoot(t *testing.T) {
	t.Parallel()
	public, err := cloud.For(cloud.Public)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, webURL, hostname, admin, err string
	}{
		{"host name", "https://contoso.sharepoint.com", "contoso.sharepoint.com", "https://contoso-admin.sharepoint.com", ""},
		{"web URL only", "https://fabrikam.sharepoint.com/", "", "https://fabrikam-admin.sharepoint.com", ""},
		{"upper case", "", "Contoso.SharePoint.com", "https://contoso-admin.sharepoint.com", ""},
		{"vanity host", "https://intranet.contoso.com", "intranet.contoso.com", "", `"intranet.contoso.com" is not <tenant>.sharepoint.com`},
		{"sub-domain", "", "a.b.sharepoint.com", "", "is not <tenant>.sharepoint.com"},
		{"odd characters", "", "x:1#.sharepoint.com", "", "is not <tenant>.sharepoint.com"},
		{"nothing", "", "", "", "neither siteCollection.hostname nor a web URL"},
		{"relative web URL", "/sites/root", "", "", "neither siteCollection.hostname nor a web URL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			admin, err := adminURLFromRoot(tt.webURL, tt.hostname, public)
			if admin != tt.admin || (err == nil) != (tt.err == "") || (err != nil && !strings.Contains(err.Error(), tt.err)) {
				t.Fatalf("adminURLFromRoot = %q, %v; want %q, %q", admin, err, tt.admin, tt.err)
			}
		})
	}
}
