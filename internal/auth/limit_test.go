package auth

import (
	"crypto/tls"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"

	"github.com/teamslink/teamslink/internal/cloud"
	"github.com/teamslink/teamslink/internal/config"
	"github.com/teamslink/teamslink/internal/odata"
)

func TestLimitBodies(t *testing.T) {
	t.Parallel()
	const limit = 64
	tests := []struct {
		name    string
		size    int
		tooLong bool
	}{
		{name: "empty", size: 0},
		{name: "one byte under the limit", size: limit - 1},
		{name: "exactly the limit", size: limit},
		{name: "one byte over the limit", size: limit + 1, tooLong: true},
		{name: "far over the limit", size: 100 * limit, tooLong: true},
	}
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n, _ := strconv.Atoi(r.URL.Query().Get("n"))
		io.WriteString(w, strings.Repeat("x", n))
	}))
	t.Cleanup(srv.Close)
	client := limitBodies(srv.Client(), limit)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			resp, err := client.Get(srv.URL + "/secret/path?n=" + strconv.Itoa(tt.size) + "&code=abc")
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			data, err := io.ReadAll(resp.Body)
			if !tt.tooLong {
				if err != nil || len(data) != tt.size {
					t.Fatalf("read %d bytes, %v; want all %d", len(data), err, tt.size)
				}
				return
			}
			var tooLarge *responseTooLargeError
			if !errors.As(err, &tooLarge) || len(data) != limit {
				t.Fatalf("read %d bytes, %v; want %d and a *responseTooLargeError", len(data), err, limit)
			}
			host := strings.TrimPrefix(srv.URL, "https://")
			if tooLarge.Host != host || !strings.Contains(err.Error(), host) || strings.Contains(err.Error(), "secret") || strings.Contains(err.Error(), "code") {
				t.Errorf("error %q should name the host %s and nothing of the path or query", err, host)
			}
			if _, err := resp.Body.Read(make([]byte, 8)); !errors.As(err, &tooLarge) {
				t.Errorf("a read after the failure = %v, want the same error", err)
			}
		})
	}
	if limitBodies(&http.Client{}, limit).Transport.(*limitedTransport).next != http.DefaultTransport {
		t.Error("a client without a transport should be limited over http.DefaultTransport")
	}
}

// hugeEntra is fakeEntra with one path answering an endless JSON document,
// generated as it is written (never held in memory), announced as 1 GiB.
type hugeEntra struct {
	fakeEntra
	path string

	mu      sync.Mutex
	hits    int
	written int64
}

func (h *hugeEntra) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != h.path {
		h.fakeEntra.ServeHTTP(w, r)
		return
	}
	h.mu.Lock()
	h.hits++
	h.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(1<<30))
	chunk := []byte(strings.Repeat("a", 32<<10))
	n, err := io.WriteString(w, `{"token_type":"Bearer","expires_in":3600,"access_token":"`)
	for total := int64(n); err == nil && total < 1<<30; total += int64(n) {
		n, err = w.Write(chunk)
		h.mu.Lock()
		h.written += int64(n)
		h.mu.Unlock()
	}
}

// TestHugeCredentialResponse proves that a token service answering 1 GiB
// (the token itself, or the OpenID configuration MSAL reads first) makes
// GetToken fail quickly with an error naming the host, after reading about
// MaxCredentialResponseBytes, once (azcore does not retry it), with the
// process's allocations bounded. It does not run in parallel so that the
// allocation count is its own.
func TestHugeCredentialResponse(t *testing.T) {
	const login = "login.microsoftonline.com"
	ca := newTestCA(t)
	caFile := ca.file(t)
	tests := []struct {
		name string
		path string
	}{
		{name: "token response", path: "/" + testTenantID + "/oauth2/v2.0/token"},
		{name: "OpenID configuration", path: "/" + testTenantID + "/v2.0/.well-known/openid-configuration"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			entra := &hugeEntra{path: tt.path}
			srv := httptest.NewUnstartedServer(entra)
			srv.TLS = &tls.Config{Certificates: []tls.Certificate{ca.leaf(t, login)}}
			srv.StartTLS()
			t.Cleanup(srv.Close)
			tenant := config.Tenant{
				ID: testTenantID, Cloud: cloud.Public,
				Auth:      config.Auth{Method: config.MethodClientSecret, ClientID: testClientID, SecretEnv: "SECRET"},
				Endpoints: config.Endpoints{ConnectTo: srv.Listener.Addr().String(), CAFile: caFile},
			}
			// No HTTPClient: the credential builds the tenant's own.
			cred, err := NewCredential(tenant, Options{LookupEnv: envMap(map[string]string{"SECRET": testSecret})})
			if err != nil {
				t.Fatal(err)
			}

			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			start := time.Now()
			_, err = cred.GetToken(t.Context(), policy.TokenRequestOptions{Scopes: []string{DataverseScope("https://contoso.crm.dynamics.com")}})
			elapsed := time.Since(start)
			runtime.ReadMemStats(&after)

			if err == nil {
				t.Fatal("GetToken succeeded on a 1 GiB answer")
			}
			if want := "the response from " + login + " is larger than 1024 KiB"; !strings.Contains(err.Error(), want) {
				t.Errorf("err = %.500q, want it to contain %q", err, want)
			}
			if strings.Contains(err.Error(), testSecret) {
				t.Error("the error carries the client secret")
			}
			if elapsed > 10*time.Second {
				t.Errorf("GetToken took %v", elapsed)
			}
			if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 64<<20 {
				t.Errorf("GetToken allocated %d MiB for a 1 MiB limit", alloc>>20)
			}
			entra.mu.Lock()
			defer entra.mu.Unlock()
			if entra.hits != 1 {
				t.Errorf("the huge answer was requested %d times, want once (no retry)", entra.hits)
			}
			if entra.written > 64<<20 {
				t.Errorf("the server wrote %d MiB before the client hung up", entra.written>>20)
			}
		})
	}
}

// TestServiceFabricKeepsTheBareTransport proves that managed identity on
// Service Fabric, whose MSAL source refuses any transport but the client's
// own *http.Transport, still builds; everything else is size-limited. It
// sets process environment variables, so it does not run in parallel.
func TestServiceFabricKeepsTheBareTransport(t *testing.T) {
	t.Setenv("IDENTITY_ENDPOINT", "https://localhost:2377/metadata/identity/oauth2/token")
	t.Setenv("IDENTITY_HEADER", "header")
	t.Setenv("IDENTITY_SERVER_THUMBPRINT", "0123456789abcdef0123456789abcdef01234567")
	client, err := HTTPClient(config.Endpoints{})
	if err != nil {
		t.Fatal(err)
	}
	tenant := tenantWith(config.Auth{Method: config.MethodManagedIdentity})
	if _, err := NewCredential(tenant, Options{HTTPClient: client}); err != nil {
		t.Fatalf("managed identity on Service Fabric: %v", err)
	}

	lookup := envMap(map[string]string{"IDENTITY_ENDPOINT": "e", "IDENTITY_HEADER": "h"})
	if serviceFabric(lookup) {
		t.Error("App Service (no thumbprint) taken for Service Fabric")
	}
}

func TestErrorTextIsBounded(t *testing.T) {
	t.Parallel()
	err := error(&Error{TenantID: testTenantID, Method: config.MethodClientCertificate, Err: errors.New(strings.Repeat("bad certificate ", 1<<17))})
	if text := err.Error(); len(text) > odata.MaxErrorText || !strings.HasPrefix(text, "tenant "+testTenantID) || !strings.Contains(text, "bytes elided") {
		t.Errorf("Error() is %d bytes: %.200q", len(text), text)
	}
}
