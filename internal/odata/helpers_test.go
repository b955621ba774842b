package odata

import (
	"context"
	"flag"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
)

// update rewrites the golden files: go test ./internal/odata/ -update
var update = flag.Bool("update", false, "rewrite testdata/*.golden")

const (
	dataversePrefix = "/api/data/v9.2/"
	graphPrefix     = "/v1.0/"
	testScope       = "https://org.crm.dynamics.com/.default"
)

// fakeCredential hands out tokens from a list (the last one repeats) and
// counts GetToken calls.
type fakeCredential struct {
	mu     sync.Mutex
	tokens []string
	ttl    time.Duration
	err    error
	// failFrom, when set, makes calls from that number on fail with err.
	failFrom int
	calls    int
	scopes   [][]string
	claims   []string // the Claims of each call
	cae      []bool   // EnableCAE of each call
}

func (f *fakeCredential) GetToken(_ context.Context, opts policy.TokenRequestOptions) (azcore.AccessToken, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	f.scopes = append(f.scopes, opts.Scopes)
	f.claims = append(f.claims, opts.Claims)
	f.cae = append(f.cae, opts.EnableCAE)
	if f.err != nil && (f.failFrom == 0 || f.calls >= f.failFrom) {
		return azcore.AccessToken{}, f.err
	}
	tok := f.tokens[min(f.calls-1, len(f.tokens)-1)]
	ttl := f.ttl
	if ttl == 0 {
		ttl = time.Hour
	}
	return azcore.AccessToken{Token: tok, ExpiresOn: time.Now().Add(ttl)}, nil
}

func (f *fakeCredential) callCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls
}

// recorder captures every Sleep and hook call.
type recorder struct {
	mu     sync.Mutex
	waits  []time.Duration
	events []string
}

func (r *recorder) sleep(ctx context.Context, d time.Duration) error {
	r.mu.Lock()
	r.waits = append(r.waits, d)
	r.mu.Unlock()
	return ctx.Err()
}

func (r *recorder) add(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, fmt.Sprintf(format, args...))
}

func (r *recorder) hooks() Hooks {
	return Hooks{
		OnRequest:  func(method, host string) { r.add("request %s %s", method, host) },
		OnRetry:    func(reason string, wait time.Duration) { r.add("retry %s %v", reason, wait) },
		OnThrottle: func(status int, retryAfter time.Duration) { r.add("throttle %d %v", status, retryAfter) },
		OnResponse: func(status int, _ time.Duration) { r.add("response %d", status) },
	}
}

func (r *recorder) sleeps() []time.Duration {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]time.Duration(nil), r.waits...)
}

func (r *recorder) allEvents() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.events...)
}

func (r *recorder) count(prefix string) int {
	n := 0
	for _, e := range r.allEvents() {
		if strings.HasPrefix(e, prefix) {
			n++
		}
	}
	return n
}

// env is a client wired to a TLS test server that serves only under prefix:
// any request outside it fails the test, so a stray absolute URL is loud.
type env struct {
	client *Client
	server *httptest.Server
	cred   *fakeCredential
	rec    *recorder
}

type setupConfig struct {
	flavor  Flavor
	prefix  string
	cred    *fakeCredential
	options func(*Options)
}

func setup(t *testing.T, handler http.HandlerFunc, mods ...func(*setupConfig)) *env {
	t.Helper()
	cfg := setupConfig{flavor: Dataverse, prefix: dataversePrefix}
	for _, m := range mods {
		m(&cfg)
	}
	if cfg.cred == nil {
		cfg.cred = &fakeCredential{tokens: []string{"tok-1", "tok-2", "tok-3"}}
	}
	mux := http.NewServeMux()
	mux.Handle(cfg.prefix, handler)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("request outside %s: %s %s", cfg.prefix, r.Method, r.URL)
		http.Error(w, "outside the service root", http.StatusTeapot)
	})
	srv := httptest.NewTLSServer(mux)
	t.Cleanup(srv.Close)

	base, err := url.Parse(srv.URL + cfg.prefix)
	if err != nil {
		t.Fatal(err)
	}
	rec := &recorder{}
	opts := Options{
		Scopes:     []string{testScope},
		Now:        time.Now,
		HTTPClient: srv.Client(),
		Flavor:     cfg.flavor,
		UserAgent:  "teamslink-test",
		Sleep:      rec.sleep,
		Hooks:      rec.hooks(),
	}
	if cfg.options != nil {
		cfg.options(&opts)
	}
	c, err := New(base, cfg.cred, opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	c.jitter = func(d time.Duration) time.Duration { return d }
	return &env{client: c, server: srv, cred: cfg.cred, rec: rec}
}

func withFlavor(f Flavor, prefix string) func(*setupConfig) {
	return func(c *setupConfig) { c.flavor, c.prefix = f, prefix }
}

func withOptions(f func(*Options)) func(*setupConfig) {
	return func(c *setupConfig) { c.options = f }
}

func withCredential(cred *fakeCredential) func(*setupConfig) {
	return func(c *setupConfig) { c.cred = cred }
}

// writeJSON answers with a JSON body.
func writeJSON(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/json; odata.metadata=minimal")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(body))
}

// odataErr renders the OData error body.
func odataErr(code, message string) string {
	return fmt.Sprintf(`{"error":{"code":%q,"message":%q}}`, code, message)
}

// golden compares got with testdata/name, rewriting it under -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden (run with -update to create it): %v", err)
	}
	if string(want) != string(got) {
		t.Errorf("%s differs from the output (run with -update after checking):\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

// counter counts requests to a handler.
type counter struct {
	mu sync.Mutex
	n  int
}

func (c *counter) inc() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.n++
	return c.n
}

func (c *counter) get() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n
}

func mustParse(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}
