package auth

import (
	"crypto/tls"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"

	"github.com/teamslink/teamslink/internal/cloud"
	"github.com/teamslink/teamslink/internal/config"
)

// fakeEntra is a minimal Entra ID token service: the OpenID configuration
// MSAL reads before its first token request, and the token endpoint. It
// records what it was sent.
type fakeEntra struct {
	mu       sync.Mutex
	paths    []string
	form     map[string]string
	sniNames []string
}

func (f *fakeEntra) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	f.paths = append(f.paths, r.Method+" "+r.URL.Path)
	f.sniNames = append(f.sniNames, r.TLS.ServerName)
	f.mu.Unlock()
	issuer := "https://" + r.Host + "/" + testTenantID + "/v2.0"
	switch r.URL.Path {
	case "/" + testTenantID + "/v2.0/.well-known/openid-configuration":
		json.NewEncoder(w).Encode(map[string]string{
			"issuer":                 issuer,
			"authorization_endpoint": "https://" + r.Host + "/" + testTenantID + "/oauth2/v2.0/authorize",
			"token_endpoint":         "https://" + r.Host + "/" + testTenantID + "/oauth2/v2.0/token",
		})
	case "/" + testTenantID + "/oauth2/v2.0/token":
		if err := r.ParseForm(); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		f.mu.Lock()
		f.form = map[string]string{}
		for k := range r.PostForm {
			f.form[k] = r.PostForm.Get(k)
		}
		f.mu.Unlock()
		json.NewEncoder(w).Encode(map[string]any{
			"token_type":   "Bearer",
			"access_token": "fake-access-token",
			"expires_in":   3600,
		})
	default:
		http.NotFound(w, r)
	}
}

// TestTokenRoundTrip gets a real token through azidentity from a fake
// Entra ID reached by connectTo: it proves the credential uses the tenant's
// authority, the tenant's HTTP client (roots, SNI, connect-to), the secret
// or certificate from where the config names it, and no instance discovery.
func TestTokenRoundTrip(t *testing.T) {
	t.Parallel()
	const login = "login.microsoftonline.com"
	ca := newTestCA(t)
	certFile := writeFile(t, "client.pem", clientCertificatePEM(t))
	caFile := ca.file(t)

	tests := []struct {
		name  string
		auth  config.Auth
		check func(t *testing.T, form map[string]string)
	}{
		{
			name: "client secret",
			auth: config.Auth{Method: config.MethodClientSecret, ClientID: testClientID, SecretEnv: "SECRET"},
			check: func(t *testing.T, form map[string]string) {
				if form["client_secret"] != testSecret || form["grant_type"] != "client_credentials" {
					t.Errorf("token request form = %v, want the secret from SECRET, trimmed", form)
				}
			},
		},
		{
			name: "client certificate",
			auth: config.Auth{Method: config.MethodClientCertificate, ClientID: testClientID, CertificateFile: certFile},
			check: func(t *testing.T, form map[string]string) {
				if form["client_assertion_type"] != "urn:ietf:params:oauth:client-assertion-type:jwt-bearer" || strings.Count(form["client_assertion"], ".") != 2 {
					t.Errorf("token request form = %v, want a signed client assertion", form)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			entra := &fakeEntra{}
			srv := httptest.NewUnstartedServer(entra)
			srv.TLS = &tls.Config{Certificates: []tls.Certificate{ca.leaf(t, login)}}
			srv.StartTLS()
			t.Cleanup(srv.Close)

			tenant := config.Tenant{
				ID: testTenantID, Cloud: cloud.Public, Auth: tt.auth,
				Endpoints: config.Endpoints{ConnectTo: srv.Listener.Addr().String(), CAFile: caFile},
			}
			client, err := HTTPClient(tenant.Endpoints)
			if err != nil {
				t.Fatal(err)
			}
			cred, err := NewCredential(tenant, Options{
				HTTPClient: client,
				LookupEnv:  envMap(map[string]string{"SECRET": testSecret + "\n"}),
			})
			if err != nil {
				t.Fatal(err)
			}
			scope := DataverseScope("https://contoso.crm.dynamics.com")
			tok, err := cred.GetToken(t.Context(), policy.TokenRequestOptions{Scopes: []string{scope}})
			if err != nil {
				t.Fatalf("GetToken: %v", err)
			}
			if tok.Token != "fake-access-token" {
				t.Fatalf("token = %q", tok.Token)
			}

			entra.mu.Lock()
			defer entra.mu.Unlock()
			if entra.form["client_id"] != testClientID || entra.form["scope"] == "" || !strings.Contains(entra.form["scope"], scope) {
				t.Errorf("token request form = %v, want client %s and scope %s", entra.form, testClientID, scope)
			}
			tt.check(t, entra.form)
			for _, p := range entra.paths {
				if strings.Contains(p, "discovery/instance") {
					t.Errorf("instance discovery was requested (%s) although connectTo is set", p)
				}
			}
			for _, sni := range entra.sniNames {
				if sni != login {
					t.Errorf("TLS server name %q, want %q", sni, login)
				}
			}
		})
	}
}
