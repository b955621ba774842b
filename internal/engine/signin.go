package engine

import (
	"fmt"

	"github.com/teamslink/teamslink/internal/finding"
	"github.com/teamslink/teamslink/internal/snapshot"
)

// Where the report sends an admin whose sign-in failed.
const (
	docsAuthentication = "docs/configuration.md#authentication-methods"
	docsPermissions    = "docs/configuration.md#permissions-the-identity-needs"
	docsDiscovery      = "docs/configuration.md#environment-discovery"
)

// signInError is the report's one statement of a tenant's failed sign-in,
// with the fix for its auth method; nil when the snapshot records none.
func signInError(t *snapshot.Tenant) *finding.SignInError {
	s := t.SignIn
	if s == nil {
		return nil
	}
	e := &finding.SignInError{
		Tenant: t.ID, TenantName: t.Name, Method: s.Method, ClientID: s.ClientID,
		Error: s.Error, HTTPStatus: s.HTTPStatus, Docs: docsAuthentication,
	}
	if s.Discovery != "" {
		e.Discovery = s.Discovery
		e.Fix, e.Docs = discoveryFix(s.Discovery, s.ClientID), docsDiscovery
		return e
	}
	if s.HTTPStatus != 0 {
		e.Fix = fmt.Sprintf("The credential got tokens, but every request of the tenant was refused (HTTP %d): "+
			"give the identity the permissions and roles its requests need, make it a user of each environment, "+
			"and check that the tenant id and cloud in tenants.yaml are this tenant's.", s.HTTPStatus)
		e.Docs = docsPermissions
		return e
	}
	e.Fix = methodFix(s.Method, t.ID)
	return e
}

// discoveryFix says what to do for a tenant whose environments could not
// be discovered through source (bap or gds), or of which none matched.
func discoveryFix(source, clientID string) string {
	const filters = " If environments were listed but none matched, widen the tenant's discover filters: teamslink environments --config shows what was found and why each was left out."
	if source == "gds" {
		return "The Global Discovery Service lists only the environments the signed-in user is an enabled member of: sign in as such a user (azure-cli or device-code), check that the tenant id and cloud in tenants.yaml are this tenant's, or use discover source bap with a service principal registered as a Power Platform management app." + filters
	}
	app := "<client id>"
	if clientID != "" {
		app = clientID
	}
	return "Let the identity list the tenant's environments: a tenant administrator registers the application as a Power Platform management app (New-PowerAppManagementApp -ApplicationId " + app +
		", or PUT {bap}/providers/Microsoft.BusinessAppPlatform/adminApplications/" + app + "?api-version=2020-10-01), or sign in as a Power Platform administrator; check that the tenant id and cloud in tenants.yaml are this tenant's." + filters
}

// methodFix says what to check for a credential of method that issued no token.
func methodFix(method, tenant string) string {
	const elsewhere = " Or sign in another way: --auth and --client-id on the command line, or the tenant's auth keys in tenants.yaml (method, clientId, secretEnv or secretFile, certificateFile, tokenFile)."
	switch method {
	case "azure-cli":
		return "Sign the Azure CLI in to the tenant: az login --tenant " + tenant + " (for a sovereign cloud, az cloud set first)." + elsewhere
	case "client-secret":
		return "Check the client secret: the variable or file the tenant's auth.secretEnv or auth.secretFile names (--client-secret-env on the command line) must hold the secret's value, not its id, and the secret must not have expired; auth.clientId (--client-id) must be the app registration's application id in this tenant."
	case "client-certificate":
		return "Check auth.certificateFile: it must hold the certificate registered on the app auth.clientId, with its private key (a PKCS#12 password in the variable auth.certificatePasswordEnv names), and the certificate must not have expired."
	case "workload-identity":
		return "Check the federated credential of the app auth.clientId: it must trust the issuer and subject of the token in auth.tokenFile (or $AZURE_FEDERATED_TOKEN_FILE), and the file must hold a current token."
	case "managed-identity":
		return "Run teamslink on an Azure host with a managed identity that belongs to this tenant; for a user-assigned identity set auth.managedIdentityClientId to its client id." + elsewhere
	case "device-code":
		return "Complete the device-code sign-in in time, with an account of this tenant; auth.clientId must be a public-client app allowed in the tenant." + elsewhere
	}
	return "Check the tenant's auth keys in tenants.yaml (method, clientId, secretEnv or secretFile, certificateFile, tokenFile), or --auth and --client-id on the command line."
}

// pointToSignIn makes an error finding of a tenant whose sign-in failed
// point to the report's one statement of it instead of repeating the
// credential's error: in its message, its access advice and its evidence
// (a copy without the error text: the evidence of a tenant finding is
// shared by the tenant's environments and never changed).
func pointToSignIn(f *finding.Finding, s *finding.SignInError) {
	ev := make(map[string]any, len(f.Evidence))
	for k, v := range f.Evidence {
		if k != "error" {
			ev[k] = v
		}
	}
	ev["signIn"] = "failed"
	f.Evidence = ev
	name := s.Tenant
	if s.TenantName != "" {
		name = s.TenantName + " (" + s.Tenant + ")"
	}
	a := f.Access
	a.SignIn = true
	a.Advice = "Fix the sign-in first: the tenant's sign-in error says why, once, with the fix. Then this request needs " + a.Permission + "."
	f.Message = "cannot assess: section " + a.Section + " was not read, because the sign-in to tenant " + name + " failed"
}
