// Package auth turns a tenant of tenants.yaml into what talks to Microsoft
// Entra ID: an azidentity credential for the tenant's method and cloud
// (credential.go), the HTTP client every request of the tenant goes through,
// with extra roots and the emulator's connect-to (transport.go), the
// azcore cloud configuration (clouds.go) and the token scopes of Dataverse,
// Graph and SharePoint (scopes.go). The credential reads each answer of its
// own traffic (token, OpenID configuration, managed identity) only up to
// MaxCredentialResponseBytes.
//
// Secrets are read here, from the environment variable or file the config
// names, and never appear in an error: messages name the variable or file.
package auth

import (
	"fmt"

	"github.com/teamslink/teamslink/internal/config"
	"github.com/teamslink/teamslink/internal/odata"
)

// Error is a credential that could not be built for a tenant: a missing
// secret variable, an unreadable file, a certificate without a key. It is a
// configuration problem, not a service failure.
type Error struct {
	TenantID string
	Method   config.Method
	Err      error
}

// Error names the tenant and method, bounded by odata.BoundText.
func (e *Error) Error() string {
	return odata.BoundText(fmt.Sprintf("tenant %s: %s credential: %v", e.TenantID, e.Method, e.Err))
}

func (e *Error) Unwrap() error { return e.Err }
