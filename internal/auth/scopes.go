package auth

import "strings"

// defaultScope is the suffix that asks Entra ID for the permissions
// configured on the app registration (facts §7 "Token scope").
const defaultScope = "/.default"

// DataverseScope is the token scope of an environment: <env-url>/.default.
//
// The facts file CONFIRMS <env-url>/.default for confidential clients
// (client secret, certificate, workload and managed identity) and names
// <env-url>/user_impersonation for public clients; that .default also works
// for the public-client methods (device code, Azure CLI) is an INFERENCE
// from common practice. The Azure CLI credential requires the .default form.
func DataverseScope(envURL string) string { return scope(envURL) }

// GraphScope is the token scope of Microsoft Graph: <graph-root>/.default,
// e.g. https://graph.microsoft.us/.default in GCC High.
func GraphScope(graphURL string) string { return scope(graphURL) }

// SharePointScope is the token scope of the SharePoint Online admin site:
// https://<tenant>-admin.sharepoint.com/.default.
func SharePointScope(adminURL string) string { return scope(adminURL) }

func scope(resource string) string {
	return strings.TrimRight(resource, "/") + defaultScope
}
