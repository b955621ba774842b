package odata

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

func TestNewValidatesOptions(t *testing.T) {
	t.Parallel()
	good, _ := url.Parse("https://org.crm.dynamics.com/api/data/v9.2/")
	cred := &fakeCredential{tokens: []string{"t"}}
	base := Options{Scopes: []string{testScope}, Flavor: Dataverse, Now: time.Now}
	tests := []struct {
		name    string
		base    string
		noCred  bool
		mod     func(*Options)
		wantErr string
	}{
		{name: "http base", base: "http://org.crm.dynamics.com/api/data/v9.2/", wantErr: "base"},
		{name: "relative base", base: "/api/data/v9.2/", wantErr: "base"},
		{name: "userinfo in base", base: "https://u:p@org.crm.dynamics.com/api/", wantErr: "credentials"},
		{name: "query in base", base: "https://org.crm.dynamics.com/api/?x=1", wantErr: "query"},
		{name: "no credential", noCred: true, wantErr: "cred"},
		{name: "no scopes", mod: func(o *Options) { o.Scopes = nil }, wantErr: "Scopes"},
		{name: "empty scope", mod: func(o *Options) { o.Scopes = []string{""} }, wantErr: "Scopes[0]"},
		{name: "no flavor", mod: func(o *Options) { o.Flavor = 0 }, wantErr: "Flavor"},
		{name: "page size above 5000", mod: func(o *Options) { o.MaxPageSize = 5001 }, wantErr: "MaxPageSize"},
		{name: "negative page size", mod: func(o *Options) { o.MaxPageSize = -1 }, wantErr: "MaxPageSize"},
		{name: "negative retry wait", mod: func(o *Options) { o.MaxRetryWait = -time.Second }, wantErr: "MaxRetryWait"},
		{name: "negative timeout", mod: func(o *Options) { o.RequestTimeout = -time.Second }, wantErr: "RequestTimeout"},
		{name: "negative size limit", mod: func(o *Options) { o.MaxResponseBytes = -1 }, wantErr: "MaxResponseBytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			u := good
			if tt.base != "" {
				var err error
				if u, err = url.Parse(tt.base); err != nil {
					t.Fatal(err)
				}
			}
			o := base
			if tt.mod != nil {
				tt.mod(&o)
			}
			var c *fakeCredential
			if !tt.noCred {
				c = cred
			}
			var err error
			if c == nil {
				_, err = New(u, nil, o)
			} else {
				_, err = New(u, c, o)
			}
			if !errors.Is(err, ErrInvalidOptions) || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("New() error = %v, want ErrInvalidOptions mentioning %q", err, tt.wantErr)
			}
		})
	}

	t.Run("defaults", func(t *testing.T) {
		t.Parallel()
		noSlash, _ := url.Parse("https://org.crm.dynamics.com/api/data/v9.2")
		c, err := New(noSlash, cred, base)
		if err != nil {
			t.Fatal(err)
		}
		if got := c.BaseURL().String(); got != "https://org.crm.dynamics.com/api/data/v9.2/" {
			t.Errorf("base = %s, want a trailing slash added", got)
		}
		o := c.opts
		if o.MaxRetries != DefaultMaxRetries || o.MaxRetryWait != DefaultMaxRetryWait || o.RequestTimeout != DefaultRequestTimeout ||
			o.MaxResponseBytes != DefaultMaxResponseBytes || o.MaxPageSize != DefaultMaxPageSize {
			t.Errorf("defaults not applied: %+v", o)
		}
	})
}

func TestDefaultHeaders(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		flavor  Flavor
		prefix  string
		want    map[string]string
		absent  []string
		request *Request
	}{
		{
			name: "dataverse GET", flavor: Dataverse, prefix: dataversePrefix,
			request: &Request{Method: http.MethodGet, Path: "WhoAmI"},
			want: map[string]string{
				"Accept": "application/json", "OData-MaxVersion": "4.0", "OData-Version": "4.0",
				"If-None-Match": "null", "Authorization": "Bearer tok-1", "User-Agent": "teamslink-test",
			},
			absent: []string{"Content-Type", "Prefer"},
		},
		{
			name: "graph GET", flavor: Graph, prefix: graphPrefix,
			request: &Request{Method: http.MethodGet, Path: "subscribedSkus"},
			want:    map[string]string{"Accept": "application/json", "Authorization": "Bearer tok-1"},
			absent:  []string{"OData-MaxVersion", "OData-Version", "If-None-Match"},
		},
		{
			name: "dataverse PATCH with If-Match overrides and body", flavor: Dataverse, prefix: dataversePrefix,
			request: &Request{
				Method: http.MethodPatch, Path: "sharepointsites(1)",
				Header: http.Header{"If-Match": {`W/"123"`}, "Authorization": {"Bearer smuggled"}, "Prefer": {"return=representation"}},
				Body:   []byte(`{"statecode":1}`),
			},
			want: map[string]string{
				"If-Match": `W/"123"`, "Content-Type": "application/json", "Prefer": "return=representation",
				"Authorization": "Bearer tok-1", "OData-Version": "4.0",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var got http.Header
			var gotBody string
			e := setup(t, func(w http.ResponseWriter, r *http.Request) {
				got = r.Header.Clone()
				b, _ := io.ReadAll(r.Body)
				gotBody = string(b)
				writeJSON(w, http.StatusOK, `{}`)
			}, withFlavor(tt.flavor, tt.prefix))
			if _, err := e.client.Do(t.Context(), tt.request); err != nil {
				t.Fatal(err)
			}
			for k, v := range tt.want {
				if got.Get(k) != v {
					t.Errorf("header %s = %q, want %q", k, got.Get(k), v)
				}
			}
			for _, k := range tt.absent {
				if v := got.Get(k); v != "" {
					t.Errorf("header %s = %q, want none", k, v)
				}
			}
			if len(got.Values("Authorization")) != 1 {
				t.Errorf("Authorization values = %q, want exactly one", got.Values("Authorization"))
			}
			if gotBody != string(tt.request.Body) {
				t.Errorf("body = %q, want %q", gotBody, tt.request.Body)
			}
			if calls := e.cred.callCount(); calls != 1 {
				t.Errorf("GetToken calls = %d, want 1", calls)
			}
		})
	}
}

func TestResolve(t *testing.T) {
	t.Parallel()
	var gotURI string
	e := setup(t, func(w http.ResponseWriter, r *http.Request) {
		gotURI = r.RequestURI
		writeJSON(w, http.StatusOK, `{}`)
	})
	host := strings.TrimPrefix(e.server.URL, "https://")
	tests := []struct {
		name    string
		path    string
		wantURI string
		wantErr error
		errText string
	}{
		{name: "plain", path: "accounts", wantURI: "/api/data/v9.2/accounts"},
		{name: "leading slash stays under base", path: "/WhoAmI", wantURI: "/api/data/v9.2/WhoAmI"},
		{
			name: "query with spaces and quotes", path: "sharepointsites?$select=name&$filter=statecode eq 0 and name eq 'a b'",
			wantURI: "/api/data/v9.2/sharepointsites?$select=name&$filter=statecode%20eq%200%20and%20name%20eq%20'a%20b'",
		},
		{
			name: "key in parentheses", path: "EntityDefinitions(LogicalName='account')?$select=LogicalName",
			wantURI: "/api/data/v9.2/EntityDefinitions(LogicalName='account')?$select=LogicalName",
		},
		{name: "existing escapes kept", path: "accounts?$filter=name%20eq%20'x'", wantURI: "/api/data/v9.2/accounts?$filter=name%20eq%20'x'"},
		{name: "absolute on same host", path: e.server.URL + "/api/data/v9.2/accounts?$skiptoken=abc", wantURI: "/api/data/v9.2/accounts?$skiptoken=abc"},
		{name: "absolute with userinfo is stripped", path: "https://user:pw@" + host + "/api/data/v9.2/accounts", wantURI: "/api/data/v9.2/accounts"},
		{name: "absolute on other host", path: "https://evil.example/api/data/v9.2/accounts", wantErr: ErrForeignHost},
		{name: "absolute with other scheme", path: "http://" + host + "/api/data/v9.2/accounts", wantErr: ErrForeignHost},
		{name: "dot-dot leaves base", path: "../../../other", errText: "leaves the base path"},
		{name: "line break in path", path: "acc\r\nounts", errText: "may not appear"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u, err := e.client.resolve(tt.path)
			switch {
			case tt.wantErr != nil:
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("resolve(%q) error = %v, want %v", tt.path, err, tt.wantErr)
				}
				return
			case tt.errText != "":
				if err == nil || !strings.Contains(err.Error(), tt.errText) {
					t.Fatalf("resolve(%q) error = %v, want one containing %q", tt.path, err, tt.errText)
				}
				return
			case err != nil:
				t.Fatalf("resolve(%q): %v", tt.path, err)
			}
			if u.RequestURI() != tt.wantURI {
				t.Errorf("resolve(%q) = %s, want %s", tt.path, u.RequestURI(), tt.wantURI)
			}
			if _, err := e.client.GetRaw(t.Context(), tt.path); err != nil {
				t.Fatal(err)
			}
			if gotURI != tt.wantURI {
				t.Errorf("server saw %s, want %s", gotURI, tt.wantURI)
			}
		})
	}
}

func TestGetAndDoResults(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		handler   http.HandlerFunc
		opts      func(*Options)
		req       *Request
		check     func(t *testing.T, resp *Response, out map[string]any, err error)
		useDo     bool
		wantTries int
	}{
		{
			name:    "decodes JSON",
			handler: func(w http.ResponseWriter, _ *http.Request) { writeJSON(w, 200, `{"UserId":"u-1"}`) },
			check: func(t *testing.T, resp *Response, out map[string]any, err error) {
				if err != nil || out["UserId"] != "u-1" || resp.Status != 200 || resp.Attempts != 1 {
					t.Fatalf("resp=%+v out=%v err=%v", resp, out, err)
				}
				if !strings.HasSuffix(resp.RequestURL, "/api/data/v9.2/WhoAmI") {
					t.Errorf("RequestURL = %s", resp.RequestURL)
				}
			},
		},
		{
			name:    "malformed JSON is a DecodeError naming the URL",
			handler: func(w http.ResponseWriter, _ *http.Request) { writeJSON(w, 200, `{"UserId":`) },
			check: func(t *testing.T, _ *Response, _ map[string]any, err error) {
				var de *DecodeError
				if !errors.As(err, &de) || !strings.HasSuffix(de.URL, "/api/data/v9.2/WhoAmI") || !strings.Contains(err.Error(), "WhoAmI") {
					t.Fatalf("err = %v, want *DecodeError naming WhoAmI", err)
				}
			},
		},
		{
			name: "oversize body is ErrResponseTooLarge",
			opts: func(o *Options) { o.MaxResponseBytes = 64 },
			handler: func(w http.ResponseWriter, _ *http.Request) {
				writeJSON(w, 200, `{"value":"`+strings.Repeat("x", 100)+`"}`)
			},
			check: func(t *testing.T, _ *Response, _ map[string]any, err error) {
				if !errors.Is(err, ErrResponseTooLarge) || !strings.Contains(err.Error(), "WhoAmI") {
					t.Fatalf("err = %v, want ErrResponseTooLarge naming the URL", err)
				}
			},
		},
		{
			name: "body exactly at the limit is fine",
			opts: func(o *Options) { o.MaxResponseBytes = 16 },
			handler: func(w http.ResponseWriter, _ *http.Request) {
				writeJSON(w, 200, `{"UserId":"123"}`)
			},
			check: func(t *testing.T, _ *Response, out map[string]any, err error) {
				if err != nil || out["UserId"] != "123" {
					t.Fatalf("out=%v err=%v", out, err)
				}
			},
		},
		{
			name: "oversize error body is truncated, not fatal",
			opts: func(o *Options) { o.MaxResponseBytes = 80 },
			handler: func(w http.ResponseWriter, _ *http.Request) {
				writeJSON(w, 400, "plain failure "+strings.Repeat("y", 200))
			},
			check: func(t *testing.T, _ *Response, _ map[string]any, err error) {
				var api *APIError
				if !errors.As(err, &api) || api.Status != 400 || !strings.HasPrefix(api.Message, "plain failure") {
					t.Fatalf("err = %v, want a 400 *APIError", err)
				}
			},
		},
		{
			name: "OData error body becomes APIError",
			handler: func(w http.ResponseWriter, _ *http.Request) {
				writeJSON(w, 404, `{"error":{"code":"0x80040217","message":"account With Id = 1 Does Not Exist","innerError":{"x":1}}}`)
			},
			check: func(t *testing.T, resp *Response, _ map[string]any, err error) {
				var api *APIError
				if !errors.As(err, &api) || api.Status != 404 || api.Code != "0x80040217" || api.Method != "GET" {
					t.Fatalf("err = %#v", err)
				}
				if !errors.Is(err, ErrNotFound) || errors.Is(err, ErrForbidden) {
					t.Errorf("errors.Is mapping wrong for %v", err)
				}
				if resp == nil || resp.Status != 404 {
					t.Errorf("resp = %+v, want the 404 response alongside the error", resp)
				}
				want := "GET " + api.URL + ": 404 Not Found: 0x80040217: account With Id = 1 Does Not Exist"
				if err.Error() != want {
					t.Errorf("Error() = %q, want %q", err.Error(), want)
				}
			},
		},
		{
			name: "redirect is not followed",
			handler: func(w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Location", "https://elsewhere.example/steal")
				w.WriteHeader(http.StatusFound)
			},
			check: func(t *testing.T, _ *Response, _ map[string]any, err error) {
				var api *APIError
				if !errors.As(err, &api) || api.Status != http.StatusFound {
					t.Fatalf("err = %v, want a 302 *APIError", err)
				}
			},
		},
		{
			name:  "PATCH with stale ETag is ErrPreconditionFailed",
			useDo: true,
			req:   &Request{Method: "patch", Path: "organizations(1)", Header: http.Header{"If-Match": {`W/"1"`}}, Body: []byte(`{"isonedriveenabled":false}`)},
			handler: func(w http.ResponseWriter, r *http.Request) {
				if r.Method != http.MethodPatch || r.Header.Get("If-Match") != `W/"1"` {
					writeJSON(w, 400, odataErr("", "unexpected request"))
					return
				}
				writeJSON(w, 412, odataErr("0x80060882", "The version of the existing record doesn't match the RowVersion property provided."))
			},
			check: func(t *testing.T, _ *Response, _ map[string]any, err error) {
				if !errors.Is(err, ErrPreconditionFailed) {
					t.Fatalf("err = %v, want ErrPreconditionFailed", err)
				}
			},
		},
		{
			name:  "DELETE 204 without body",
			useDo: true,
			req:   &Request{Method: http.MethodDelete, Path: "sharepointdocumentlocations(1)"},
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(http.StatusNoContent)
			},
			check: func(t *testing.T, resp *Response, _ map[string]any, err error) {
				if err != nil || resp.Status != 204 || len(resp.Body) != 0 {
					t.Fatalf("resp=%+v err=%v", resp, err)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := setup(t, tt.handler, withOptions(func(o *Options) {
				if tt.opts != nil {
					tt.opts(o)
				}
			}))
			var out map[string]any
			var resp *Response
			var err error
			if tt.useDo {
				resp, err = e.client.Do(t.Context(), tt.req)
			} else {
				resp, err = e.client.Get(t.Context(), "WhoAmI", &out)
			}
			tt.check(t, resp, out, err)
		})
	}
}

func TestDoRejectsBadRequests(t *testing.T) {
	t.Parallel()
	e := setup(t, func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("nothing should be sent, got %s %s", r.Method, r.URL)
	})
	tests := []struct {
		name string
		req  *Request
		want string
	}{
		{name: "nil", req: nil, want: "nil request"},
		{name: "bad method", req: &Request{Method: "GE T", Path: "x"}, want: "invalid method"},
		{name: "header injection", req: &Request{Method: "GET", Path: "x", Header: http.Header{"X-A": {"1\r\nX-B: 2"}}}, want: "line break"},
		{name: "foreign host", req: &Request{Method: "GET", Path: "https://evil.example/x"}, want: "not on the client's host"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := e.client.Do(t.Context(), tt.req)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
		})
	}
}

func TestResponseDecodeJSON(t *testing.T) {
	t.Parallel()
	r := &Response{Body: []byte(`[1,2]`), RequestURL: "https://h/x", method: "GET"}
	var v []int
	if err := r.DecodeJSON(&v); err != nil || len(v) != 2 {
		t.Fatalf("v=%v err=%v", v, err)
	}
	var m map[string]json.RawMessage
	var de *DecodeError
	if err := r.DecodeJSON(&m); !errors.As(err, &de) || de.URL != "https://h/x" {
		t.Fatalf("err = %v, want *DecodeError", err)
	}
}
