package emulator

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
)

func TestRequestLog(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var lines []string
	clock := &fixedClock{now: time.Date(2026, 11, 2, 9, 15, 0, 0, time.UTC)}
	s := startServer(t, Options{Clock: clock.Now, Logf: func(format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		lines = append(lines, fmt.Sprintf(format, args...))
	}}, loadScenario(t, "ready"))

	cred := credential(t, s, readyTenant, demoClient, demoSecret)
	at, err := cred.GetToken(t.Context(), policy.TokenRequestOptions{Scopes: []string{readyEnv + "/.default"}})
	if err != nil {
		t.Fatal(err)
	}
	tok := at.Token
	call(t, s, http.MethodGet, dvURL(readyEnv, "WhoAmI"), tok, "")
	body, ct := buildBatch(batchPart{method: "GET", url: "organizations?$select=name"}, batchPart{method: "GET", url: "sharepointsites?$select=foo"})
	call(t, s, http.MethodPost, dvURL(readyEnv, "$batch"), tok, body, "Content-Type: "+ct, "Prefer: odata.continue-on-error")
	// A client that wrongly puts secrets in a query string.
	postForm(t, s, "https://login.microsoftonline.com/"+readyTenant+"/oauth2/v2.0/token?client_secret="+url.QueryEscape(demoSecret)+"&x=1", url.Values{
		"grant_type": {"client_credentials"}, "client_id": {demoClient}, "client_secret": {demoSecret}, "scope": {readyEnv + "/.default"},
	})
	call(t, s, http.MethodGet, "https://graph.microsoft.com/v1.0/me", "not-a-token", "")

	reqs := s.Requests()
	var token, whoami, batch, anonymous *LoggedRequest
	for i := range reqs {
		r := &reqs[i]
		switch {
		case r.TokenRequest && token == nil:
			token = r
		case strings.HasSuffix(r.Path, "/WhoAmI"):
			whoami = r
		case strings.HasSuffix(r.Path, "/$batch"):
			batch = r
		case r.Host == "graph.microsoft.com":
			anonymous = r
		}
	}
	if token == nil || token.Method != http.MethodPost || token.Status != http.StatusOK || token.Host != "login.microsoftonline.com" || token.Tenant != readyTenant {
		t.Errorf("token entry = %+v", token)
	}
	if whoami == nil || whoami.Status != http.StatusOK || whoami.Tenant != readyTenant || whoami.Path != "/api/data/v9.2/WhoAmI" || !whoami.Time.Equal(clock.Now()) {
		t.Errorf("WhoAmI entry = %+v", whoami)
	}
	if batch == nil || batch.Status != http.StatusOK || len(batch.Children) != 2 ||
		batch.Children[0].Path != "/api/data/v9.2/organizations?$select=name" || batch.Children[0].Status != http.StatusOK ||
		batch.Children[1].Status != http.StatusBadRequest || batch.Children[0].Host != "contoso-sales.crm.dynamics.com" {
		t.Errorf("batch entry = %+v", batch)
	}
	if anonymous == nil || anonymous.Status != http.StatusUnauthorized || anonymous.Tenant != "" {
		t.Errorf("unauthenticated Graph entry = %+v", anonymous)
	}

	// Nothing secret reaches the log or the log lines.
	raw, err := json.Marshal(reqs)
	if err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	all := string(raw) + strings.Join(lines, "\n")
	mu.Unlock()
	for _, secret := range []string{demoSecret, url.QueryEscape(demoSecret), tok, tok[:40], "Bearer", "not-a-token"} {
		if strings.Contains(all, secret) {
			t.Errorf("log contains %q", truncate(secret, 20))
		}
	}
	if !strings.Contains(all, "client_secret=REDACTED&x=1") {
		t.Errorf("query secret not redacted in %s", truncate(all, 2000))
	}
	if n := countRequestLines(lines); n != len(reqs) {
		t.Errorf("%d request log lines for %d requests", n, len(reqs))
	}

	s.ResetLog()
	if n := len(s.Requests()); n != 0 {
		t.Errorf("after ResetLog: %d entries", n)
	}
}

func TestRequestLogIsBounded(t *testing.T) {
	t.Parallel()
	s := startServer(t, Options{MaxLog: 3}, parseInline(t, "app", appScenario))
	for i := 0; i < 5; i++ {
		call(t, s, http.MethodGet, fmt.Sprintf("%s?i=%d", dvURL(appEnv, "WhoAmI"), i), "", "")
	}
	reqs := s.Requests()
	if len(reqs) != 3 || !strings.HasSuffix(reqs[2].Path, "i=4") {
		t.Errorf("log = %+v", reqs)
	}
}

func TestCertificateAndClient(t *testing.T) {
	t.Parallel()
	caFile := t.TempDir() + "/ca.pem"
	s := startServer(t, Options{CAFile: caFile}, loadScenario(t, "ready"), loadScenario(t, "sp-onpremises"))
	if s.CAFile() != caFile {
		t.Errorf("CAFile() = %s", s.CAFile())
	}
	pemBytes, err := os.ReadFile(caFile)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pemBytes) {
		t.Fatal("CA file holds no certificate")
	}
	// A client built only from the CA file and a dialer, as SSL_CERT_FILE users would.
	for _, host := range append(s.Hosts(), "localhost") {
		conn, err := tls.DialWithDialer(&netDialer, "tcp", s.Addr(), &tls.Config{RootCAs: pool, ServerName: host})
		if err != nil {
			t.Errorf("TLS to %s: %v", host, err)
			continue
		}
		conn.Close()
	}
	if _, err := tls.DialWithDialer(&netDialer, "tcp", s.Addr(), &tls.Config{RootCAs: pool, ServerName: "evil.example.com"}); err == nil {
		t.Error("certificate is valid for a host it should not cover")
	}
	desc := s.Describe()
	for _, want := range []string{s.Addr(), caFile, "https://login.microsoftonline.com/" + readyTenant, "https://litware.crm3.dynamics.com/api/data/v9.2/", "https://litware-admin.sharepoint.com/_api/SPO.Tenant", demoClient, "user admin@contoso.onmicrosoft.com", "test double"} {
		if !strings.Contains(desc, want) {
			t.Errorf("Describe() lacks %q:\n%s", want, desc)
		}
	}
	if strings.Contains(desc, demoSecret) {
		t.Error("Describe() prints a secret")
	}
}

var netDialer = net.Dialer{Timeout: 5 * time.Second}

func TestTemporaryCAFileRemoved(t *testing.T) {
	t.Parallel()
	s, err := New(Options{Clock: time.Now, Scenarios: []*Scenario{parseInline(t, "app", appScenario)}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(s.CAFile()); err != nil {
		t.Fatalf("CA file: %v", err)
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	if err := s.Start(); err == nil {
		t.Error("second Start succeeded")
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(s.CAFile()); !os.IsNotExist(err) {
		t.Errorf("temporary CA file left behind: %v", err)
	}
}

func TestResetState(t *testing.T) {
	t.Parallel()
	s := startServer(t, Options{}, parseInline(t, "app", appScenario))
	tok := getToken(t, s, appTenant, appClient, appSecret, appEnv+"/.default")
	const org = "0e0e0e0e-1111-4222-8333-444444444444"
	if res, body := call(t, s, http.MethodPatch, dvURL(appEnv, "organizations("+org+")"), tok, `{"isonedriveenabled":false}`); res.StatusCode != http.StatusNoContent {
		t.Fatalf("PATCH: %d %s", res.StatusCode, body)
	}
	if err := s.ResetState(); err != nil {
		t.Fatal(err)
	}
	_, body := call(t, s, http.MethodGet, dvURL(appEnv, "organizations("+org+")?$select=isonedriveenabled"), tok, "")
	if !strings.Contains(string(body), `"isonedriveenabled":true`) {
		t.Errorf("after ResetState: %s", body)
	}
}

func TestUnknownHost(t *testing.T) {
	t.Parallel()
	// The certificate does not cover unknown hosts, so ask by IP with a Host header.
	s := startServer(t, Options{}, parseInline(t, "app", appScenario))
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, "https://localhost/", nil)
	req.Host = "unknown.example.com"
	res, body := do(t, s, req)
	if res.StatusCode != http.StatusMisdirectedRequest || !strings.Contains(string(body), "no scenario serves host") {
		t.Errorf("unknown host: %d %s", res.StatusCode, body)
	}
}

// countRequestLines counts Logf lines about requests (not server errors).
func countRequestLines(lines []string) int {
	n := 0
	for _, l := range lines {
		if strings.Contains(l, " https://") && strings.Contains(l, " -> ") {
			n++
		}
	}
	return n
}
