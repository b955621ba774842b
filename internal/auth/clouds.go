package auth

import (
	"fmt"

	azcloud "github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"

	"github.com/teamslink/teamslink/internal/cloud"
	"github.com/teamslink/teamslink/internal/config"
)

// CloudConfiguration is the azcore cloud configuration for the tenant: its
// cloud's Entra ID authority (internal/cloud, facts §11), or the
// endpoints.authorityHost override. The authority is always set explicitly,
// so azidentity never falls back to AZURE_AUTHORITY_HOST: every tenant of a
// fleet gets the authority its own config names.
func CloudConfiguration(t config.Tenant) (azcloud.Configuration, error) {
	host := t.AuthorityHost()
	if host == "" {
		_, err := cloud.For(t.Cloud)
		return azcloud.Configuration{}, fmt.Errorf("authority of tenant %s: %w", t.ID, err)
	}
	return azcloud.Configuration{ActiveDirectoryAuthorityHost: host}, nil
}

// disableInstanceDiscovery is true when the tenant's login endpoint is not
// the cloud's own: instance discovery would ask the real Entra ID about a
// host it does not know (the emulator), so it is skipped. azidentity then
// trusts the configured authority as it is.
func disableInstanceDiscovery(t config.Tenant) bool {
	return t.Endpoints.AuthorityHost != "" || t.Endpoints.ConnectTo != ""
}
