package auth

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/teamslink/teamslink/internal/config"
)

// fakeHost is a real-looking host name the test server holds a certificate
// for; connectTo is what gets the client there.
const fakeHost = "contoso.crm.dynamics.com"

// newFakeHostServer starts an HTTP/2 TLS server whose certificate, signed
// by a fresh CA, names only fakeHost. It answers with the host, SNI and
// protocol it saw.
func newFakeHostServer(t *testing.T) (*httptest.Server, *testCA) {
	t.Helper()
	ca := newTestCA(t)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, r.Host+" "+r.TLS.ServerName+" "+r.Proto+" "+r.URL.Path)
	}))
	srv.EnableHTTP2 = true
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{ca.leaf(t, fakeHost)}}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv, ca
}

func TestHTTPClientConnectTo(t *testing.T) {
	t.Parallel()
	srv, ca := newFakeHostServer(t)
	caFile := ca.file(t)
	addr := srv.Listener.Addr().String()

	tests := []struct {
		name    string
		ep      config.Endpoints
		url     string
		want    string               // response body
		wantErr func(err error) bool // when the request must fail
	}{
		{
			name: "real host name reaches the server with TLS verified over HTTP/2",
			ep:   config.Endpoints{ConnectTo: addr, CAFile: caFile},
			url:  "https://" + fakeHost + "/x",
			want: fakeHost + " " + fakeHost + " HTTP/2.0 /x",
		},
		{
			name: "without the CA file the server is not trusted",
			ep:   config.Endpoints{ConnectTo: addr},
			url:  "https://" + fakeHost + "/x",
			wantErr: func(err error) bool {
				var unknown x509.UnknownAuthorityError
				return errors.As(err, &unknown)
			},
		},
		{
			name: "a host the certificate does not name fails verification",
			ep:   config.Endpoints{ConnectTo: addr, CAFile: caFile},
			url:  "https://fabrikam.crm.dynamics.com/x",
			wantErr: func(err error) bool {
				var host x509.HostnameError
				return errors.As(err, &host) && host.Host == "fabrikam.crm.dynamics.com"
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			client, err := HTTPClient(tt.ep)
			if err != nil {
				t.Fatal(err)
			}
			req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, tt.url, nil)
			if err != nil {
				t.Fatal(err)
			}
			resp, err := client.Do(req)
			if tt.wantErr != nil {
				if err == nil {
					resp.Body.Close()
					t.Fatalf("GET %s succeeded, want a TLS verification error", tt.url)
				}
				if !tt.wantErr(err) {
					t.Fatalf("GET %s: unexpected error %v", tt.url, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("GET %s: %v", tt.url, err)
			}
			defer resp.Body.Close()
			body, err := io.ReadAll(resp.Body)
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != http.StatusOK || string(body) != tt.want {
				t.Fatalf("GET %s = %d %q, want 200 %q", tt.url, resp.StatusCode, body, tt.want)
			}
		})
	}
}

func TestHTTPClientSettings(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		ep        config.Endpoints
		wantProxy bool
	}{
		{name: "real endpoints use the environment's proxy", ep: config.Endpoints{}, wantProxy: true},
		{name: "connectTo bypasses any proxy", ep: config.Endpoints{ConnectTo: "127.0.0.1:8443"}, wantProxy: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, err := HTTPClient(tt.ep)
			if err != nil {
				t.Fatal(err)
			}
			tr := c.Transport.(*http.Transport)
			if got := tr.Proxy != nil; got != tt.wantProxy {
				t.Errorf("proxy set = %v, want %v", got, tt.wantProxy)
			}
			if tr.TLSClientConfig.MinVersion != tls.VersionTLS12 {
				t.Errorf("MinVersion = %x, want TLS 1.2", tr.TLSClientConfig.MinVersion)
			}
			if !tr.ForceAttemptHTTP2 || tr.MaxIdleConnsPerHost != maxIdleConnsPerHost || tr.TLSHandshakeTimeout == 0 || tr.ResponseHeaderTimeout == 0 || c.Timeout == 0 {
				t.Errorf("transport not tuned: %+v, client timeout %v", tr, c.Timeout)
			}
		})
	}
}

func TestHTTPClientErrors(t *testing.T) {
	t.Parallel()
	missing := t.TempDir() + "/missing-ca.pem"
	notPEM := writeFile(t, "not-a-ca.pem", []byte("this is not a certificate\n"))
	tests := []struct {
		name string
		ep   config.Endpoints
		want []string // substrings of the error
	}{
		{name: "missing CA file", ep: config.Endpoints{CAFile: missing}, want: []string{"read CA file", missing}},
		{name: "CA file without PEM", ep: config.Endpoints{CAFile: notPEM}, want: []string{notPEM, "no PEM certificate found"}},
		{name: "connectTo without port", ep: config.Endpoints{ConnectTo: "localhost"}, want: []string{`endpoints.connectTo "localhost"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := HTTPClient(tt.ep)
			if err == nil {
				t.Fatal("HTTPClient succeeded, want an error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

func TestScopes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		got  string
		want string
	}{
		{"dataverse", DataverseScope("https://contoso.crm.dynamics.com"), "https://contoso.crm.dynamics.com/.default"},
		{"dataverse with trailing slash", DataverseScope("https://contoso.api.crm4.dynamics.com/"), "https://contoso.api.crm4.dynamics.com/.default"},
		{"graph gcc high", GraphScope("https://graph.microsoft.us"), "https://graph.microsoft.us/.default"},
		{"sharepoint admin", SharePointScope("https://contoso-admin.sharepoint.com"), "https://contoso-admin.sharepoint.com/.default"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if tt.got != tt.want {
				t.Fatalf("got %q, want %q", tt.got, tt.want)
			}
		})
	}
}
