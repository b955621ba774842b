package odata

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// pagedHandler serves 3 pages of 2 rows each for "sharepointsites": every
// page links to the next with an absolute nextLink carrying a skip token the
// handler checks it gets back unchanged; it records each request's Prefer.
type pagedHandler struct {
	t      *testing.T
	base   func() string
	mu     sync.Mutex
	prefer []string
	uris   []string
}

func (h *pagedHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.mu.Lock()
	h.prefer = append(h.prefer, r.Header.Get("Prefer"))
	h.uris = append(h.uris, r.RequestURI)
	h.mu.Unlock()
	page := 1
	if tok := r.URL.Query().Get("$skiptoken"); tok != "" {
		// A token with characters that must survive unchanged.
		n, err := strconv.Atoi(strings.TrimPrefix(tok, "<cookie pagenumber=\""))
		if err != nil {
			h.t.Errorf("bad skip token %q", tok)
		}
		page = n
	}
	rows := make([]string, 0, 2)
	for i := range 2 {
		id := (page-1)*2 + i + 1
		rows = append(rows, fmt.Sprintf(`{"@odata.etag":"W/\"%d\"","sharepointsiteid":"site-%d"}`, id, id))
	}
	next := ""
	if page < 3 {
		link := h.base() + "sharepointsites?$select=sharepointsiteid&$skiptoken=%3Ccookie%20pagenumber=%22" + strconv.Itoa(page+1)
		next = fmt.Sprintf(`,"@odata.nextLink":%q`, link)
	}
	writeJSON(w, 200, `{"@odata.context":"x","value":[`+strings.Join(rows, ",")+`]`+next+`}`)
}

func TestPages(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name          string
		maxItems      int
		wantIDs       int
		wantRequests  int
		wantTruncated bool
	}{
		{name: "all pages", maxItems: 0, wantIDs: 6, wantRequests: 3},
		{name: "cut inside page 2", maxItems: 3, wantIDs: 3, wantRequests: 2, wantTruncated: true},
		{name: "cut at a page end with more pages", maxItems: 4, wantIDs: 4, wantRequests: 2, wantTruncated: true},
		{name: "cut exactly at the last item", maxItems: 6, wantIDs: 6, wantRequests: 3},
		{name: "limit above the total", maxItems: 50, wantIDs: 6, wantRequests: 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var e *env
			h := &pagedHandler{t: t, base: func() string { return e.server.URL + dataversePrefix }}
			e = setup(t, h.ServeHTTP, withOptions(func(o *Options) { o.MaxPageSize = 2 }))
			var ids []string
			truncated, err := e.client.Pages(t.Context(), "sharepointsites?$select=sharepointsiteid", tt.maxItems, func(raw json.RawMessage) error {
				var row struct {
					ID string `json:"sharepointsiteid"`
				}
				if err := json.Unmarshal(raw, &row); err != nil {
					return err
				}
				ids = append(ids, row.ID)
				return nil
			})
			if err != nil {
				t.Fatalf("Pages: %v", err)
			}
			if truncated != tt.wantTruncated {
				t.Errorf("truncated = %v, want %v", truncated, tt.wantTruncated)
			}
			if len(ids) != tt.wantIDs {
				t.Fatalf("got %d items %v, want %d", len(ids), ids, tt.wantIDs)
			}
			for i, id := range ids {
				if id != fmt.Sprintf("site-%d", i+1) {
					t.Errorf("item %d = %s, want items in order", i, id)
				}
			}
			h.mu.Lock()
			defer h.mu.Unlock()
			if len(h.prefer) != tt.wantRequests {
				t.Errorf("requests = %d, want %d", len(h.prefer), tt.wantRequests)
			}
			for i, p := range h.prefer {
				if p != "odata.maxpagesize=2" {
					t.Errorf("request %d Prefer = %q, want odata.maxpagesize=2", i+1, p)
				}
			}
			if len(h.uris) > 1 && h.uris[1] != dataversePrefix+"sharepointsites?$select=sharepointsiteid&$skiptoken=%3Ccookie%20pagenumber=%222" {
				t.Errorf("next link not followed unchanged: %s", h.uris[1])
			}
		})
	}
}

func TestPagesErrors(t *testing.T) {
	t.Parallel()
	foreignHits := &counter{}
	foreign := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		foreignHits.inc()
		writeJSON(w, 200, `{"value":[]}`)
	}))
	t.Cleanup(foreign.Close)

	errStop := errors.New("stop here")
	tests := []struct {
		name  string
		body  func(e *env) string
		fn    func(json.RawMessage) error
		check func(t *testing.T, err error)
	}{
		{
			name: "next link to a foreign host is refused",
			body: func(*env) string {
				return `{"value":[{"a":1}],"@odata.nextLink":"` + foreign.URL + `/api/data/v9.2/sharepointsites?$skiptoken=2"}`
			},
			check: func(t *testing.T, err error) {
				if !errors.Is(err, ErrForeignHost) {
					t.Fatalf("err = %v, want ErrForeignHost", err)
				}
			},
		},
		{
			name: "protocol-relative next link is refused",
			body: func(*env) string { return `{"value":[],"@odata.nextLink":"//evil.example/x"}` },
			check: func(t *testing.T, err error) {
				if !errors.Is(err, ErrForeignHost) {
					t.Fatalf("err = %v, want ErrForeignHost", err)
				}
			},
		},
		{
			name: "next link to the same page is a loop",
			body: func(e *env) string {
				return `{"value":[],"@odata.nextLink":"` + e.server.URL + dataversePrefix + `sharepointsites"}`
			},
			check: func(t *testing.T, err error) {
				var de *DecodeError
				if !errors.As(err, &de) || !strings.Contains(err.Error(), "same page") {
					t.Fatalf("err = %v, want a DecodeError about a loop", err)
				}
			},
		},
		{
			name: "missing value array",
			body: func(*env) string { return `{"error":null}` },
			check: func(t *testing.T, err error) {
				var de *DecodeError
				if !errors.As(err, &de) || !strings.Contains(err.Error(), `"value"`) {
					t.Fatalf("err = %v, want DecodeError about value", err)
				}
			},
		},
		{
			name: "malformed page",
			body: func(*env) string { return `{"value":[{"a":1},` },
			check: func(t *testing.T, err error) {
				var de *DecodeError
				if !errors.As(err, &de) || !strings.Contains(de.URL, "sharepointsites") {
					t.Fatalf("err = %v, want DecodeError naming the URL", err)
				}
			},
		},
		{
			name: "callback error stops and is wrapped",
			body: func(*env) string { return `{"value":[{"a":1},{"a":2}]}` },
			fn:   func(json.RawMessage) error { return errStop },
			check: func(t *testing.T, err error) {
				if !errors.Is(err, errStop) || !strings.Contains(err.Error(), "item 1") {
					t.Fatalf("err = %v, want errStop for item 1", err)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var e *env
			e = setup(t, func(w http.ResponseWriter, _ *http.Request) { writeJSON(w, 200, tt.body(e)) })
			fn := tt.fn
			if fn == nil {
				fn = func(json.RawMessage) error { return nil }
			}
			_, err := e.client.Pages(t.Context(), "sharepointsites", 0, fn)
			tt.check(t, err)
		})
	}
	if foreignHits.get() != 0 {
		t.Errorf("the foreign host got %d request(s)", foreignHits.get())
	}
}

func TestRelativeNextLink(t *testing.T) {
	t.Parallel()
	hits := &counter{}
	e := setup(t, func(w http.ResponseWriter, r *http.Request) {
		if hits.inc() == 1 {
			writeJSON(w, 200, `{"value":[1],"@odata.nextLink":"sharepointsites?$skiptoken=2"}`)
			return
		}
		if r.URL.Query().Get("$skiptoken") != "2" {
			t.Errorf("second request = %s", r.RequestURI)
		}
		writeJSON(w, 200, `{"value":[2]}`)
	})
	n := 0
	if _, err := e.client.Pages(t.Context(), "sharepointsites", 0, func(json.RawMessage) error { n++; return nil }); err != nil {
		t.Fatal(err)
	}
	if n != 2 {
		t.Errorf("items = %d, want 2", n)
	}
}

func TestCount(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		flavor     Flavor
		path       string
		body       string
		wantN      int
		wantCapped bool
		wantQuery  string
		wantPrefer string
		wantErr    string
	}{
		{
			name: "small count", flavor: Dataverse, path: "sharepointdocumentlocations?$select=sharepointdocumentlocationid&$filter=absoluteurl ne null",
			body:      `{"@odata.count":42,"@Microsoft.Dynamics.CRM.totalrecordcount":-1,"@Microsoft.Dynamics.CRM.totalrecordcountlimitexceeded":false,"value":[{}]}`,
			wantN:     42,
			wantQuery: "$select=sharepointdocumentlocationid&$filter=absoluteurl%20ne%20null&$count=true",
			wantPrefer: `odata.include-annotations="Microsoft.Dynamics.CRM.totalrecordcount,Microsoft.Dynamics.CRM.totalrecordcountlimitexceeded",` +
				`odata.maxpagesize=1`,
		},
		{
			name: "capped by annotation", flavor: Dataverse, path: "sharepointdocumentlocations",
			body:  `{"@odata.count":5000,"@Microsoft.Dynamics.CRM.totalrecordcount":5000,"@Microsoft.Dynamics.CRM.totalrecordcountlimitexceeded":true,"value":[]}`,
			wantN: 5000, wantCapped: true, wantQuery: "$count=true",
		},
		{
			name: "exactly 5000 by annotation", flavor: Dataverse, path: "sharepointdocumentlocations",
			body:  `{"@odata.count":5000,"@Microsoft.Dynamics.CRM.totalrecordcountlimitexceeded":false,"value":[]}`,
			wantN: 5000, wantCapped: false, wantQuery: "$count=true",
		},
		{
			name: "5000 without annotation assumed capped", flavor: Dataverse, path: "sharepointsites",
			body:  `{"@odata.count":5000,"value":[]}`,
			wantN: 5000, wantCapped: true, wantQuery: "$count=true",
		},
		{
			name: "existing $count kept", flavor: Dataverse, path: "sharepointsites?$count=true&$top=1",
			body:  `{"@odata.count":3,"value":[]}`,
			wantN: 3, wantQuery: "$count=true&$top=1",
		},
		{
			name: "graph count has no cap rule", flavor: Graph, path: "users",
			body:  `{"@odata.count":5000,"value":[]}`,
			wantN: 5000, wantQuery: "$count=true", wantPrefer: "odata.maxpagesize=1",
		},
		{
			name: "no count in answer", flavor: Dataverse, path: "sharepointsites",
			body: `{"value":[]}`, wantErr: "@odata.count",
		},
		{
			name: "negative count", flavor: Dataverse, path: "sharepointsites",
			body: `{"@odata.count":-1,"value":[]}`, wantErr: "negative",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			prefix := dataversePrefix
			if tt.flavor == Graph {
				prefix = graphPrefix
			}
			var gotQuery, gotPrefer string
			e := setup(t, func(w http.ResponseWriter, r *http.Request) {
				gotQuery, gotPrefer = r.URL.RawQuery, r.Header.Get("Prefer")
				writeJSON(w, 200, tt.body)
			}, withFlavor(tt.flavor, prefix))
			n, capped, err := e.client.Count(t.Context(), tt.path)
			if tt.wantErr != "" {
				var de *DecodeError
				if !errors.As(err, &de) || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want DecodeError mentioning %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if n != tt.wantN || capped != tt.wantCapped {
				t.Errorf("Count = %d, %v; want %d, %v", n, capped, tt.wantN, tt.wantCapped)
			}
			if gotQuery != tt.wantQuery {
				t.Errorf("query = %q, want %q", gotQuery, tt.wantQuery)
			}
			if tt.wantPrefer != "" && gotPrefer != tt.wantPrefer {
				t.Errorf("Prefer = %q, want %q", gotPrefer, tt.wantPrefer)
			}
		})
	}
}
