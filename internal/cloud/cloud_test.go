package cloud

import (
	"strings"
	"testing"
)

func TestForHost(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		host string
		want Name // "" for no cloud
	}{
		{name: "north america", host: "contoso.crm.dynamics.com", want: Public},
		{name: "europe", host: "contoso.crm4.dynamics.com", want: Public},
		{name: "two digit region", host: "contoso.crm11.dynamics.com", want: Public},
		{name: "unlisted region number", host: "contoso.crm21.dynamics.com", want: Public},
		{name: "web api host", host: "contoso.api.crm4.dynamics.com", want: Public},
		{name: "upper case", host: "Contoso.CRM.Dynamics.com", want: Public},
		{name: "gcc", host: "agency.crm9.dynamics.com", want: GCC},
		{name: "gcc web api host", host: "agency.api.crm9.dynamics.com", want: GCC},
		{name: "gcc high", host: "agency.crm.microsoftdynamics.us", want: GCCHigh},
		{name: "gcc high web api host", host: "agency.api.crm.microsoftdynamics.us", want: GCCHigh},
		{name: "dod", host: "agency.crm.appsplatform.us", want: DoD},
		{name: "china", host: "contoso.crm.dynamics.cn", want: China},
		{name: "bare zone", host: "crm.dynamics.com"},
		{name: "two labels before zone", host: "a.b.crm.dynamics.com"},
		{name: "letters in region", host: "contoso.crmx.dynamics.com"},
		{name: "lookalike domain", host: "contoso.crm.dynamics.com.example.org"},
		{name: "legacy germany is not supported", host: "contoso.crm.microsoftdynamics.de"},
		{name: "label starting with hyphen", host: "-contoso.crm.dynamics.com"},
		{name: "loopback", host: "127.0.0.1"},
		{name: "empty", host: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, ok := ForHost(tt.host)
			if tt.want == "" {
				if ok {
					t.Fatalf("ForHost(%q) = %s, want no cloud", tt.host, c.Name)
				}
				return
			}
			if !ok || c.Name != tt.want {
				t.Fatalf("ForHost(%q) = %q, %v; want %q", tt.host, c.Name, ok, tt.want)
			}
		})
	}
}

func TestKnownDataverseHost(t *testing.T) {
	t.Parallel()
	tests := []struct {
		cloud Name
		host  string
		want  bool
	}{
		{Public, "contoso.crm.dynamics.com", true},
		{Public, "contoso.crm9.dynamics.com", true}, // any region number, GCC's too
		{Public, "contoso.crm.microsoftdynamics.us", false},
		{GCC, "agency.crm9.dynamics.com", true},
		{GCC, "agency.crm.dynamics.com", false},
		{GCC, "agency.crm19.dynamics.com", false},
		{GCCHigh, "agency.crm.microsoftdynamics.us", true},
		{GCCHigh, "agency.crm.appsplatform.us", false},
		{DoD, "agency.api.crm.appsplatform.us", true},
		{DoD, "agency.crm.microsoftdynamics.us", false},
		{China, "contoso.crm.dynamics.cn", true},
		{China, "contoso.crm.dynamics.com", false},
		{"mars", "contoso.crm.dynamics.com", false},
	}
	for _, tt := range tests {
		t.Run(string(tt.cloud)+"/"+tt.host, func(t *testing.T) {
			t.Parallel()
			if got := KnownDataverseHost(tt.cloud, tt.host); got != tt.want {
				t.Fatalf("KnownDataverseHost(%s, %q) = %v, want %v", tt.cloud, tt.host, got, tt.want)
			}
		})
	}
}

// TestEndpoints pins the table to facts §11.
func TestEndpoints(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      Name
		authority string
		graph     string
	}{
		{Public, "https://login.microsoftonline.com/", "https://graph.microsoft.com"},
		{GCC, "https://login.microsoftonline.com/", "https://graph.microsoft.com"},
		{GCCHigh, "https://login.microsoftonline.us/", "https://graph.microsoft.us"},
		{DoD, "https://login.microsoftonline.us/", "https://dod-graph.microsoft.us"},
		{China, "https://login.chinacloudapi.cn/", "https://microsoftgraph.chinacloudapi.cn"},
	}
	for _, tt := range tests {
		t.Run(string(tt.name), func(t *testing.T) {
			t.Parallel()
			c, err := For(tt.name)
			if err != nil {
				t.Fatal(err)
			}
			if c.AuthorityHost != tt.authority || c.GraphURL != tt.graph {
				t.Fatalf("%s: authority %q graph %q; want %q %q", tt.name, c.AuthorityHost, c.GraphURL, tt.authority, tt.graph)
			}
		})
	}
	if len(Names()) != len(tests) {
		t.Fatalf("table has %d clouds, test pins %d", len(Names()), len(tests))
	}
}

// TestDiscoveryEndpoints pins the discovery services to fleet facts §1: the
// Global Discovery Service of every cloud, the Power Platform admin API of
// the public cloud only (NOT CONFIRMED elsewhere).
func TestDiscoveryEndpoints(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       Name
		gds        string
		admin      string
		adminScope string
	}{
		{Public, "https://globaldisco.crm.dynamics.com", "https://api.bap.microsoft.com", "https://service.powerapps.com//.default"},
		{GCC, "https://globaldisco.crm9.dynamics.com", "", ""},
		{GCCHigh, "https://globaldisco.crm.microsoftdynamics.us", "", ""},
		{DoD, "https://globaldisco.crm.appsplatform.us", "", ""},
		{China, "https://globaldisco.crm.dynamics.cn", "", ""},
	}
	for _, tt := range tests {
		t.Run(string(tt.name), func(t *testing.T) {
			t.Parallel()
			c, err := For(tt.name)
			if err != nil {
				t.Fatal(err)
			}
			if c.GlobalDiscoveryURL != tt.gds || c.AdminAPIURL != tt.admin || c.AdminAPIScope != tt.adminScope {
				t.Fatalf("%s: gds %q admin %q scope %q; want %q %q %q", tt.name, c.GlobalDiscoveryURL, c.AdminAPIURL, c.AdminAPIScope, tt.gds, tt.admin, tt.adminScope)
			}
		})
	}
}

func TestForUnknown(t *testing.T) {
	t.Parallel()
	_, err := For("azure")
	if err == nil || !strings.Contains(err.Error(), `unknown cloud "azure" (valid: public, gcc, gcchigh, dod, china)`) {
		t.Fatalf("For(azure) error = %v", err)
	}
}

func TestKnownSharePointAdminHost(t *testing.T) {
	t.Parallel()
	public, _ := For(Public)
	china, _ := For(China)
	tests := []struct {
		name  string
		cloud Cloud
		host  string
		want  bool
	}{
		{"admin host", public, "contoso-admin.sharepoint.com", true},
		{"upper case", public, "Contoso-Admin.SharePoint.com", true},
		{"root site instead of admin", public, "contoso.sharepoint.com", false},
		{"nested label", public, "a.contoso-admin.sharepoint.com", false},
		{"unconfirmed cloud accepts any host", china, "contoso-admin.sharepoint.cn", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := tt.cloud.KnownSharePointAdminHost(tt.host); got != tt.want {
				t.Fatalf("KnownSharePointAdminHost(%q) = %v, want %v", tt.host, got, tt.want)
			}
		})
	}
}

func TestDataverseHostForms(t *testing.T) {
	t.Parallel()
	c, _ := For(GCCHigh)
	want := "<org>.crm.microsoftdynamics.us or <org>.api.crm.microsoftdynamics.us"
	if got := c.DataverseHostForms(); got != want {
		t.Fatalf("DataverseHostForms() = %q, want %q", got, want)
	}
}
