package emulator

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
)

// credential is a real azidentity ClientSecretCredential whose transport
// dials the emulator, configured only through its documented options.
func credential(t *testing.T, s *Server, tenant, clientID, secret string) *azidentity.ClientSecretCredential {
	t.Helper()
	cred, err := azidentity.NewClientSecretCredential(tenant, clientID, secret, &azidentity.ClientSecretCredentialOptions{
		ClientOptions:            azcore.ClientOptions{Transport: s.Client()},
		DisableInstanceDiscovery: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	return cred
}

func countTokenRequests(s *Server) int {
	n := 0
	for _, r := range s.Requests() {
		if r.TokenRequest {
			n++
		}
	}
	return n
}

func TestAzidentityTokenFlow(t *testing.T) {
	t.Parallel()
	s := startServer(t, Options{}, loadScenario(t, "ready"))
	cred := credential(t, s, readyTenant, demoClient, demoSecret)
	tests := []struct {
		name, scope, probe string
	}{
		{"dataverse", readyEnv + "/.default", readyEnv + "/api/data/v9.2/WhoAmI"},
		{"dataverse api host", "https://contoso-sales.api.crm.dynamics.com/.default", "https://contoso-sales.api.crm.dynamics.com/api/data/v9.2/WhoAmI()"},
		{"graph", "https://graph.microsoft.com/.default", graphRoot + "me"},
		{"sharepoint admin", readyAdmin + "/.default", readyAdmin + "/_api/SPO.Tenant"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tok, err := cred.GetToken(t.Context(), policy.TokenRequestOptions{Scopes: []string{tc.scope}})
			if err != nil {
				t.Fatalf("GetToken: %v", err)
			}
			if until := time.Until(tok.ExpiresOn); until < 50*time.Minute || until > 61*time.Minute {
				t.Errorf("ExpiresOn in %v, want about an hour", until)
			}
			res, body := call(t, s, http.MethodGet, tc.probe, tok.Token, "", "Accept: application/json")
			if res.StatusCode != http.StatusOK {
				t.Fatalf("GET %s: %d %s", tc.probe, res.StatusCode, body)
			}
		})
	}
	// The discovery document and the token endpoint were both used.
	var sawConfig bool
	for _, r := range s.Requests() {
		if strings.HasSuffix(r.Path, "/v2.0/.well-known/openid-configuration") && r.Status == http.StatusOK {
			sawConfig = true
		}
	}
	if !sawConfig || countTokenRequests(s) < 4 {
		t.Errorf("log lacks the discovery document or token requests: %+v", s.Requests())
	}
}

func TestAzidentityWrongSecret(t *testing.T) {
	t.Parallel()
	s := startServer(t, Options{}, loadScenario(t, "ready"))
	cred := credential(t, s, readyTenant, demoClient, "wrong-secret")
	_, err := cred.GetToken(t.Context(), policy.TokenRequestOptions{Scopes: []string{readyEnv + "/.default"}})
	if err == nil {
		t.Fatal("GetToken with a wrong secret succeeded")
	}
	if !strings.Contains(err.Error(), "AADSTS7000215") || !strings.Contains(err.Error(), "invalid_client") {
		t.Errorf("error lacks AADSTS7000215 invalid_client: %v", err)
	}
}

// TestMSALTokenCache pins down how azidentity (MSAL) caches tokens, which
// the expire-token fault depends on: a cached token is reused until it is
// within 5 minutes of expiry, and a request carrying claims bypasses the
// cache. So after a 401 a client gets a NEW token only if the token lifetime
// is under 5 minutes or it passes claims (e.g. from the WWW-Authenticate
// challenge).
func TestMSALTokenCache(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		lifetime  string
		claims    string
		wantFresh bool
	}{
		{"one hour lifetime reuses the cached token", "1h", "", false},
		{"lifetime under five minutes gets a new token", "4m", "", true},
		{"claims bypass the cache", "1h", `{"access_token":{"nbf":{"essential":true,"value":"1700000000"}}}`, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			sc := parseInline(t, "cache", appScenario+"tokenLifetime: "+tc.lifetime+"\n")
			s := startServer(t, Options{}, sc)
			cred := credential(t, s, appTenant, appClient, appSecret)
			opts := policy.TokenRequestOptions{Scopes: []string{appEnv + "/.default"}}
			first, err := cred.GetToken(t.Context(), opts)
			if err != nil {
				t.Fatal(err)
			}
			opts.Claims = tc.claims
			second, err := cred.GetToken(t.Context(), opts)
			if err != nil {
				t.Fatal(err)
			}
			fresh := first.Token != second.Token
			if fresh != tc.wantFresh {
				t.Errorf("second token fresh = %v, want %v (token requests: %d)", fresh, tc.wantFresh, countTokenRequests(s))
			}
			if want := map[bool]int{false: 1, true: 2}[tc.wantFresh]; countTokenRequests(s) != want {
				t.Errorf("token requests = %d, want %d", countTokenRequests(s), want)
			}
		})
	}
}

func TestTokenEndpointErrors(t *testing.T) {
	t.Parallel()
	s := startServer(t, Options{}, loadScenario(t, "ready"))
	good := url.Values{"grant_type": {"client_credentials"}, "client_id": {demoClient}, "client_secret": {demoSecret}, "scope": {readyEnv + "/.default"}}
	with := func(k, v string) url.Values {
		out := url.Values{}
		for key, vals := range good {
			out[key] = append([]string(nil), vals...)
		}
		if v == "" {
			out.Del(k)
		} else {
			out.Set(k, v)
		}
		return out
	}
	tokenURL := "https://login.microsoftonline.com/" + readyTenant + "/oauth2/v2.0/token"
	tests := []struct {
		name       string
		url        string
		form       url.Values
		status     int
		error, sts string
	}{
		{"ok by tenant id", tokenURL, good, http.StatusOK, "", ""},
		{"ok by domain", "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token", good, http.StatusOK, "", ""},
		{"wrong secret", tokenURL, with("client_secret", "nope"), http.StatusUnauthorized, "invalid_client", "AADSTS7000215"},
		{"missing secret", tokenURL, with("client_secret", ""), http.StatusUnauthorized, "invalid_client", "AADSTS7000216"},
		{"unknown client", tokenURL, with("client_id", "99999999-1111-4222-8333-444444444444"), http.StatusBadRequest, "unauthorized_client", "AADSTS700016"},
		{"unknown tenant", "https://login.microsoftonline.com/99999999-1111-4222-8333-444444444444/oauth2/v2.0/token", good, http.StatusBadRequest, "invalid_tenant", "AADSTS90002"},
		{"wrong cloud", "https://login.microsoftonline.us/" + readyTenant + "/oauth2/v2.0/token", good, http.StatusBadRequest, "invalid_tenant", "AADSTS90002"},
		{"scope without .default", tokenURL, with("scope", readyEnv+"/user_impersonation"), http.StatusBadRequest, "invalid_scope", "AADSTS1002012"},
		{"resource of another tenant", tokenURL, with("scope", "https://fabrikam.crm4.dynamics.com/.default"), http.StatusBadRequest, "invalid_resource", "AADSTS500011"},
		{"unsupported grant", tokenURL, with("grant_type", "password"), http.StatusBadRequest, "unsupported_grant_type", "AADSTS70003"},
		{"graph by app id", tokenURL, with("scope", "00000003-0000-0000-c000-000000000000/.default"), http.StatusOK, "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, body := postForm(t, s, tc.url, tc.form)
			if res.StatusCode != tc.status {
				t.Fatalf("status = %d, want %d: %s", res.StatusCode, tc.status, body)
			}
			m := decode(t, body)
			if tc.status == http.StatusOK {
				for _, k := range []string{"token_type", "expires_in", "ext_expires_in", "access_token"} {
					if _, ok := m[k]; !ok {
						t.Errorf("token response lacks %s: %s", k, body)
					}
				}
				if m["token_type"] != "Bearer" || m["expires_in"] != float64(3600) {
					t.Errorf("token_type/expires_in = %v/%v", m["token_type"], m["expires_in"])
				}
				return
			}
			if m["error"] != tc.error || !strings.HasPrefix(m["error_description"].(string), tc.sts+":") {
				t.Errorf("error = %v / %v, want %s / %s…", m["error"], m["error_description"], tc.error, tc.sts)
			}
			if strings.Contains(string(body), demoSecret) {
				t.Error("error body echoes the client secret")
			}
		})
	}
}

func TestOpenIDConfigurationAndDiscovery(t *testing.T) {
	t.Parallel()
	s := startServer(t, Options{}, loadScenario(t, "ready"))
	res, body := call(t, s, http.MethodGet, "https://login.microsoftonline.com/contoso.onmicrosoft.com/v2.0/.well-known/openid-configuration", "", "")
	if res.StatusCode != http.StatusOK {
		t.Fatalf("openid-configuration: %d %s", res.StatusCode, body)
	}
	m := decode(t, body)
	if m["issuer"] != "https://login.microsoftonline.com/"+readyTenant+"/v2.0" || m["token_endpoint"] != "https://login.microsoftonline.com/"+readyTenant+"/oauth2/v2.0/token" {
		t.Errorf("issuer/token_endpoint = %v / %v", m["issuer"], m["token_endpoint"])
	}
	res, body = call(t, s, http.MethodGet, "https://login.microsoftonline.com/common/discovery/instance?api-version=1.1&authorization_endpoint=https://login.microsoftonline.com/"+readyTenant+"/oauth2/v2.0/authorize", "", "")
	if res.StatusCode != http.StatusOK || !strings.Contains(string(body), `"tenant_discovery_endpoint":"https://login.microsoftonline.com/`+readyTenant+`/v2.0/.well-known/openid-configuration"`) {
		t.Errorf("instance discovery: %d %s", res.StatusCode, body)
	}
	res, body = call(t, s, http.MethodGet, "https://login.microsoftonline.com/"+readyTenant+"/discovery/v2.0/keys", "", "")
	if res.StatusCode != http.StatusOK || !strings.Contains(string(body), `"kty":"EC"`) {
		t.Errorf("keys: %d %s", res.StatusCode, body)
	}
}

func TestAPIRejectsBadTokens(t *testing.T) {
	t.Parallel()
	clock := &fixedClock{now: time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)}
	ready, app := loadScenario(t, "ready"), parseInline(t, "app", appScenario)
	s := startServer(t, Options{Clock: clock.Now}, ready, app)
	dvToken := getToken(t, s, readyTenant, demoClient, demoSecret, readyEnv+"/.default")
	graphToken := getToken(t, s, readyTenant, demoClient, demoSecret, "https://graph.microsoft.com/.default")
	otherTenant := getToken(t, s, appTenant, appClient, appSecret, appEnv+"/.default")
	expiring := getToken(t, s, readyTenant, demoClient, demoSecret, readyAdmin+"/.default")
	tests := []struct {
		name, url, token string
		wantCode         string
		wantChallenge    string
	}{
		{"dataverse without token", readyEnv + "/api/data/v9.2/WhoAmI", "", codeAuth, "authorization_uri=https://login.microsoftonline.com/" + readyTenant},
		{"dataverse with graph token", readyEnv + "/api/data/v9.2/WhoAmI", graphToken, codeAuth, `error="invalid_token"`},
		{"dataverse with garbage", readyEnv + "/api/data/v9.2/WhoAmI", "abc.def.ghi", codeAuth, `error="invalid_token"`},
		{"graph with dataverse token", graphRoot + "me", dvToken, "InvalidAuthenticationToken", `client_id="00000003-0000-0000-c000-000000000000"`},
		{"graph without token", graphRoot + "subscribedSkus", "", "InvalidAuthenticationToken", "authorization_uri"},
		{"sharepoint with dataverse token", readyAdmin + "/_api/SPO.Tenant", dvToken, "-2147024891, System.UnauthorizedAccessException", `realm="`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, body := call(t, s, http.MethodGet, tc.url, tc.token, "", "Accept: application/json;odata=verbose")
			if res.StatusCode != http.StatusUnauthorized {
				t.Fatalf("status = %d, want 401: %s", res.StatusCode, body)
			}
			if code, _ := errorCode(t, body); code != tc.wantCode {
				t.Errorf("code = %q, want %q", code, tc.wantCode)
			}
			if ch := res.Header.Get("WWW-Authenticate"); !strings.Contains(ch, tc.wantChallenge) {
				t.Errorf("WWW-Authenticate %q lacks %q", ch, tc.wantChallenge)
			}
		})
	}
	t.Run("token of another tenant on dataverse", func(t *testing.T) {
		// otherTenant is for apptest; send it to the apptest host — fine — and to contoso — refused.
		res, _ := call(t, s, http.MethodGet, appEnv+"/api/data/v9.2/WhoAmI", otherTenant, "")
		if res.StatusCode != http.StatusOK {
			t.Fatalf("own environment: %d", res.StatusCode)
		}
		res, _ = call(t, s, http.MethodGet, readyEnv+"/api/data/v9.2/WhoAmI", otherTenant, "")
		if res.StatusCode != http.StatusUnauthorized {
			t.Errorf("foreign environment: %d, want 401", res.StatusCode)
		}
	})
	t.Run("expired by the clock", func(t *testing.T) {
		res, _ := call(t, s, http.MethodGet, readyAdmin+"/_api/SPO.Tenant", expiring, "", "Accept: application/json")
		if res.StatusCode != http.StatusOK {
			t.Fatalf("before expiry: %d", res.StatusCode)
		}
		clock.Advance(61 * time.Minute)
		res, body := call(t, s, http.MethodGet, readyAdmin+"/_api/SPO.Tenant", expiring, "", "Accept: application/json")
		if res.StatusCode != http.StatusUnauthorized || !strings.Contains(res.Header.Get("WWW-Authenticate"), "expired") {
			t.Errorf("after expiry: %d %s %s", res.StatusCode, res.Header.Get("WWW-Authenticate"), body)
		}
	})
}

func TestCapableOfCAE(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, claims string
		want         bool
	}{
		{"MSAL's client capability", `{"access_token":{"xms_cc":{"values":["CP1"]}}}`, true},
		{"with a challenge's claims", `{"access_token":{"xms_cc":{"values":["cp1"]},"nbf":{"essential":true,"value":"1764237600"}}}`, true},
		{"another capability", `{"access_token":{"xms_cc":{"values":["cp2"]}}}`, false},
		{"a challenge's claims only", `{"access_token":{"nbf":{"essential":true,"value":"1764237600"}}}`, false},
		{"none", "", false},
		{"not JSON", "{", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := capableOfCAE(tt.claims); got != tt.want {
				t.Errorf("capableOfCAE(%q) = %v, want %v", tt.claims, got, tt.want)
			}
		})
	}
}
