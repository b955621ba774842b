package odata

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
)

// secretToken is deliberately not JWT-shaped, so only the client's explicit
// redaction of its own token can remove it.
const secretToken = "S3cr3t-T0ken-Value-4f9a2c"

// TestTokenNeverLeaks drives every failure path with a server that echoes the
// bearer token back in messages, bodies, headers and links, and asserts that
// the token appears in no error string and no hook argument.
func TestTokenNeverLeaks(t *testing.T) {
	t.Parallel()
	echo := func(r *http.Request) string { return r.Header.Get("Authorization") }
	raw := func(r *http.Request) string { return strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ") }
	tests := []struct {
		name    string
		flavor  Flavor
		handler func(e *env) http.HandlerFunc
		call    func(t *testing.T, c *Client) []error
	}{
		{
			name: "OData error message echoes the header",
			handler: func(*env) http.HandlerFunc {
				return func(w http.ResponseWriter, r *http.Request) {
					writeJSON(w, 400, odataErr(raw(r), "bad header "+echo(r)+" and raw "+raw(r)))
				}
			},
		},
		{
			name: "plain-text error body echoes the token",
			handler: func(*env) http.HandlerFunc {
				return func(w http.ResponseWriter, r *http.Request) {
					w.WriteHeader(500)
					_, _ = io.WriteString(w, "internal error for token "+raw(r))
				}
			},
		},
		{
			name: "401 twice with the token in the message",
			handler: func(*env) http.HandlerFunc {
				return func(w http.ResponseWriter, r *http.Request) {
					writeJSON(w, 401, odataErr("", "token "+raw(r)+" expired"))
				}
			},
		},
		{
			name: "throttled until the budget runs out",
			handler: func(*env) http.HandlerFunc {
				return func(w http.ResponseWriter, r *http.Request) {
					w.Header().Set("Retry-After", "1000")
					writeJSON(w, 429, odataErr("0x80072322", "slow down "+raw(r)))
				}
			},
		},
		{
			name: "next link to a foreign host carrying the token",
			handler: func(*env) http.HandlerFunc {
				return func(w http.ResponseWriter, r *http.Request) {
					writeJSON(w, 200, fmt.Sprintf(`{"value":[],"@odata.nextLink":"https://evil.example/x?access_token=%s&other=%s"}`, raw(r), raw(r)))
				}
			},
			call: func(t *testing.T, c *Client) []error {
				_, err := c.Pages(t.Context(), "accounts", 0, func(json.RawMessage) error { return nil })
				return []error{err}
			},
		},
		{
			name: "next link on the same host carrying the token, then a 404",
			handler: func(e *env) http.HandlerFunc {
				return func(w http.ResponseWriter, r *http.Request) {
					if r.URL.Query().Get("page") == "" {
						writeJSON(w, 200, fmt.Sprintf(`{"value":[],"@odata.nextLink":"%s%saccounts?page=2&t=%s"}`, e.server.URL, dataversePrefix, raw(r)))
						return
					}
					writeJSON(w, 404, odataErr("", "gone"))
				}
			},
			call: func(t *testing.T, c *Client) []error {
				_, err := c.Pages(t.Context(), "accounts", 0, func(json.RawMessage) error { return nil })
				return []error{err}
			},
		},
		{
			name: "Dataverse batch inner errors echo the token",
			handler: func(*env) http.HandlerFunc {
				return func(w http.ResponseWriter, r *http.Request) {
					w.Header().Set("Content-Type", "multipart/mixed; boundary=b")
					_, _ = io.WriteString(w, "--b\r\nContent-Type: application/http\r\n\r\nHTTP/1.1 403 Forbidden\r\n\r\n"+
						odataErr(raw(r), "denied for "+raw(r))+"\r\n--b--\r\n")
				}
			},
			call: func(t *testing.T, c *Client) []error {
				got, err := c.Batch(t.Context(), []BatchRequest{{Path: "accounts"}})
				if err != nil {
					return []error{err}
				}
				return []error{got[0].Err()}
			},
		},
		{
			name:   "Graph batch inner errors echo the token",
			flavor: Graph,
			handler: func(*env) http.HandlerFunc {
				return func(w http.ResponseWriter, r *http.Request) {
					body, _ := json.Marshal(map[string]any{"responses": []map[string]any{
						{"id": "1", "status": 429, "headers": map[string]string{"Retry-After": "1000"}, "body": map[string]any{"error": map[string]string{"code": raw(r), "message": echo(r)}}},
						{"id": "2", "status": 403, "body": map[string]any{"error": map[string]string{"code": "Authorization_RequestDenied", "message": raw(r)}}},
					}})
					writeJSON(w, 200, string(body))
				}
			},
			call: func(t *testing.T, c *Client) []error {
				got, err := c.GraphBatch(t.Context(), []GraphRequest{{URL: "/a"}, {URL: "/b"}})
				if err != nil {
					return []error{err}
				}
				return []error{got[0].Err(), got[1].Err()}
			},
		},
		{
			name: "connection dropped",
			handler: func(*env) http.HandlerFunc {
				return func(w http.ResponseWriter, _ *http.Request) {
					conn, _, err := w.(http.Hijacker).Hijack()
					if err == nil {
						_ = conn.Close()
					}
				}
			},
			call: func(t *testing.T, c *Client) []error {
				_, err := c.Do(t.Context(), &Request{Method: http.MethodPost, Path: "accounts", Body: []byte(`{}`)})
				return []error{err}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			flavor, prefix := Dataverse, dataversePrefix
			if tt.flavor == Graph {
				flavor, prefix = Graph, graphPrefix
			}
			var e *env
			var once sync.Once
			var h http.HandlerFunc
			e = setup(t, func(w http.ResponseWriter, r *http.Request) {
				once.Do(func() { h = tt.handler(e) })
				h(w, r)
			}, withFlavor(flavor, prefix), withCredential(&fakeCredential{tokens: []string{secretToken}}))
			var errs []error
			if tt.call != nil {
				errs = tt.call(t, e.client)
			} else {
				resp, err := e.client.Get(t.Context(), "accounts?$select=name", nil)
				errs = append(errs, err)
				if resp != nil && strings.Contains(resp.RequestURL, secretToken) {
					t.Errorf("Response.RequestURL leaks the token: %s", resp.RequestURL)
				}
			}
			for _, err := range errs {
				if err == nil {
					t.Fatal("expected an error from this scenario")
				}
				for _, s := range []string{err.Error(), fmt.Sprintf("%+v", err), fmt.Sprintf("%#v", err)} {
					if strings.Contains(s, secretToken) {
						t.Errorf("error leaks the token: %s", s)
					}
				}
			}
			for _, ev := range e.rec.allEvents() {
				if strings.Contains(ev, secretToken) {
					t.Errorf("hook argument leaks the token: %s", ev)
				}
			}
		})
	}
}

func TestRedact(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{in: "Authorization: Bearer abc.def-ghi", want: "Authorization: Bearer REDACTED"},
		{in: "basic dXNlcjpwYXNz", want: "basic REDACTED"},
		{in: "tok eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln end", want: "tok REDACTED end"},
		{in: "nothing secret", want: "nothing secret"},
	}
	for _, tt := range tests {
		if got := redact(tt.in); got != tt.want {
			t.Errorf("redact(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	u := mustParse(t, "https://user:pw@h.example/p?$filter=a%20eq%201&client_secret=s3&access_token=t0k#frag")
	if got := redactURL(u); got != "https://h.example/p?$filter=a%20eq%201&client_secret=REDACTED&access_token=REDACTED" {
		t.Errorf("redactURL = %s", got)
	}
}
