package auth

import (
	"strings"
	"testing"

	azcloud "github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"

	"github.com/teamslink/teamslink/internal/cloud"
	"github.com/teamslink/teamslink/internal/config"
)

// TestCloudConfiguration checks each cloud's authority against azcore's own
// predefined clouds (facts §11) and the override.
func TestCloudConfiguration(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		tenant    config.Tenant
		want      string
		discovery bool // instance discovery stays on
	}{
		{"public", config.Tenant{Cloud: cloud.Public}, azcloud.AzurePublic.ActiveDirectoryAuthorityHost, true},
		{"gcc keeps the worldwide authority", config.Tenant{Cloud: cloud.GCC}, azcloud.AzurePublic.ActiveDirectoryAuthorityHost, true},
		{"gcc high", config.Tenant{Cloud: cloud.GCCHigh}, azcloud.AzureGovernment.ActiveDirectoryAuthorityHost, true},
		{"dod", config.Tenant{Cloud: cloud.DoD}, azcloud.AzureGovernment.ActiveDirectoryAuthorityHost, true},
		{"china", config.Tenant{Cloud: cloud.China}, azcloud.AzureChina.ActiveDirectoryAuthorityHost, true},
		{
			"authority override",
			config.Tenant{Cloud: cloud.Public, Endpoints: config.Endpoints{AuthorityHost: "https://127.0.0.1:8443/"}},
			"https://127.0.0.1:8443/", false,
		},
		{
			"connectTo keeps the authority but skips discovery",
			config.Tenant{Cloud: cloud.GCCHigh, Endpoints: config.Endpoints{ConnectTo: "127.0.0.1:8443"}},
			azcloud.AzureGovernment.ActiveDirectoryAuthorityHost, false,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := CloudConfiguration(tt.tenant)
			if err != nil {
				t.Fatal(err)
			}
			if got.ActiveDirectoryAuthorityHost != tt.want {
				t.Errorf("authority = %q, want %q", got.ActiveDirectoryAuthorityHost, tt.want)
			}
			if disableInstanceDiscovery(tt.tenant) == tt.discovery {
				t.Errorf("disableInstanceDiscovery = %v, want %v", !tt.discovery, !tt.discovery)
			}
		})
	}
}

func TestCloudConfigurationUnknownCloud(t *testing.T) {
	t.Parallel()
	_, err := CloudConfiguration(config.Tenant{ID: "t1", Cloud: "mars"})
	if err == nil || !strings.Contains(err.Error(), `unknown cloud "mars"`) {
		t.Fatalf("CloudConfiguration(mars) = %v", err)
	}
}
