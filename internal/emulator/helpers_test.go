package emulator

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

const (
	scenarioDir = "../../testdata/scenarios"
	demoClient  = "5d2f8a61-3c4e-4b7a-9e1d-8f6a2c4b7e93"
	demoSecret  = "emulator-demo-secret-not-real"

	readyTenant = "3f2b8c1e-6d4a-4b7e-9a15-2c8d0e7f4a61"
	readyEnv    = "https://contoso-sales.crm.dynamics.com"
	readyAdmin  = "https://contoso-admin.sharepoint.com"
	graphRoot   = "https://graph.microsoft.com/v1.0/"
)

// loadScenario reads a scenario from testdata/scenarios.
func loadScenario(t *testing.T, name string) *Scenario {
	t.Helper()
	sc, err := LoadScenario(filepath.Join(scenarioDir, name+".yaml"))
	if err != nil {
		t.Fatalf("load scenario %s: %v", name, err)
	}
	return sc
}

// parseInline parses a scenario written in a test.
func parseInline(t *testing.T, name, yamlText string) *Scenario {
	t.Helper()
	sc, err := ParseScenario([]byte(yamlText), name)
	if err != nil {
		t.Fatalf("parse scenario %s: %v", name, err)
	}
	return sc
}

// startServer starts an emulator for the scenarios and closes it at cleanup.
func startServer(t *testing.T, opts Options, scenarios ...*Scenario) *Server {
	t.Helper()
	opts.Scenarios = scenarios
	if opts.Clock == nil {
		opts.Clock = time.Now
	}
	s, err := New(opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	if err := s.Start(); err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

// getToken gets a client-credentials token for scope straight from the token endpoint.
func getToken(t testing.TB, s *Server, tenant, clientID, secret, scope string) string {
	t.Helper()
	res, body := postForm(t, s, "https://login.microsoftonline.com/"+tenant+"/oauth2/v2.0/token", url.Values{
		"grant_type": {"client_credentials"}, "client_id": {clientID}, "client_secret": {secret}, "scope": {scope},
	})
	if res.StatusCode != http.StatusOK {
		t.Fatalf("token: %d %s", res.StatusCode, body)
	}
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.Unmarshal(body, &tok); err != nil || tok.AccessToken == "" {
		t.Fatalf("token response %s: %v", body, err)
	}
	return tok.AccessToken
}

func postForm(t testing.TB, s *Server, u string, form url.Values) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, u, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return do(t, s, req)
}

func do(t testing.TB, s *Server, req *http.Request) (*http.Response, []byte) {
	t.Helper()
	res, err := s.Client().Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(io.LimitReader(res.Body, 8<<20))
	if err != nil {
		t.Fatalf("read %s: %v", req.URL, err)
	}
	return res, body
}

// call sends a request with a bearer token and optional headers ("Name: value").
func call(t *testing.T, s *Server, method, u, token string, body string, headers ...string) (*http.Response, []byte) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(t.Context(), method, u, rd)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for _, h := range headers {
		k, v, _ := strings.Cut(h, ":")
		req.Header.Add(strings.TrimSpace(k), strings.TrimSpace(v))
	}
	if body != "" && req.Header.Get("Content-Type") == "" {
		req.Header.Set("Content-Type", "application/json")
	}
	return do(t, s, req)
}

// decode unmarshals a JSON body into a generic map.
func decode(t *testing.T, body []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatalf("decode %q: %v", truncate(string(body), 300), err)
	}
	return m
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

// errorCode returns error.code of an OData / Graph error body.
func errorCode(t *testing.T, body []byte) (code, message string) {
	t.Helper()
	m := decode(t, body)
	e, ok := m["error"].(map[string]any)
	if !ok {
		t.Fatalf("no error object in %s", body)
	}
	code, _ = e["code"].(string)
	message, _ = e["message"].(string)
	return code, message
}

// fixedClock is a settable clock for token-expiry tests.
type fixedClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fixedClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fixedClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// appScenario is a small tenant whose caller is an application.
const appScenario = `
tenant: {id: 11111111-2222-4333-8444-555555555555, name: Apptest, domains: [apptest.onmicrosoft.com]}
clients:
  - {clientId: 0c0c0c0c-1111-4222-8333-444444444444, secret: app-secret-value, displayName: "Scanner App"}
caller:
  type: app
  objectId: 0d0d0d0d-1111-4222-8333-444444444444
  directoryRoles:
    - {roleTemplateId: 62e90394-69f5-4237-9190-012177145e10, displayName: Global Administrator}
sharePoint: {adminUrl: "https://apptest-admin.sharepoint.com", conditionalAccessPolicy: "2", encoding: number}
environments:
  - url: https://apptest.crm.dynamics.com
    organization: {organizationid: 0e0e0e0e-1111-4222-8333-444444444444, name: "App Test", isonedriveenabled: true}
    roles:
      - {roleid: 0f0f0f0f-1111-4222-8333-444444444444, name: System Administrator, _roletemplateid_value: 627090ff-40a3-4053-8790-584edc5be201}
    systemusers:
      - systemuserid: 0a0a0a0a-1111-4222-8333-444444444444
        fullname: "# teamslink"
        applicationid: 0c0c0c0c-1111-4222-8333-444444444444
        systemuserroles_association: [0f0f0f0f-1111-4222-8333-444444444444]
`

const (
	appTenant = "11111111-2222-4333-8444-555555555555"
	appClient = "0c0c0c0c-1111-4222-8333-444444444444"
	appSecret = "app-secret-value"
	appEnv    = "https://apptest.crm.dynamics.com"
)
