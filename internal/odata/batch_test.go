package odata

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

const fixtureBoundary = "batchresponse_5d7a4ab8-4f33-4b0d-bd4b-5c2f3c7e0a11"

func TestParseBatchResponseWithChangeSet(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile("testdata/batch-response-changeset.txt")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		body []byte
	}{
		{name: "CRLF", body: raw},
		{name: "bare LF", body: bytes.ReplaceAll(raw, []byte("\r\n"), []byte("\n"))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := parseBatchResponse("multipart/mixed; boundary="+fixtureBoundary, tt.body)
			if err != nil {
				t.Fatalf("parse: %v", err)
			}
			var statuses []int
			for _, r := range got {
				statuses = append(statuses, r.Status)
			}
			if want := []int{200, 404, 204, 204, 200}; !slices.Equal(statuses, want) {
				t.Fatalf("statuses = %v, want %v (change set flattened in place)", statuses, want)
			}
			var who struct{ UserId string }
			if err := got[0].DecodeJSON(&who); err != nil || who.UserId != "8d4a4bd2-61a3-ea11-a812-000d3a5a1a65" {
				t.Errorf("WhoAmI = %+v, %v", who, err)
			}
			if got[0].Header.Get("OData-Version") != "4.0" {
				t.Errorf("inner headers lost: %v", got[0].Header)
			}
			var api *APIError
			if err := got[1].Err(); !errors.As(err, &api) || api.Status != 404 || api.Code != "0x80060888" || !errors.Is(err, ErrNotFound) {
				t.Errorf("failed inner Err() = %v, want 404 APIError 0x80060888", err)
			}
			if got[2].ContentID != "1" || got[3].ContentID != "2" || got[2].Err() != nil {
				t.Errorf("change set members = %+v / %+v", got[2], got[3])
			}
			if !strings.Contains(got[2].Header.Get("OData-EntityId"), "tasks(") || len(got[2].Body) != 0 {
				t.Errorf("change set member 1 = headers %v body %q", got[2].Header, got[2].Body)
			}
			var sites struct {
				Value []struct {
					ID        string `json:"sharepointsiteid"`
					Statecode int    `json:"statecode"`
				} `json:"value"`
			}
			if err := got[4].DecodeJSON(&sites); err != nil || len(sites.Value) != 1 || sites.Value[0].Statecode != 0 {
				t.Errorf("sites = %+v, %v", sites, err)
			}
		})
	}
}

func TestParseBatchResponseRejects(t *testing.T) {
	t.Parallel()
	part := func(boundary, inner string) string {
		return "--" + boundary + "\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n\r\n" + inner + "\r\n"
	}
	tests := []struct {
		name, contentType, body, want string
	}{
		{name: "not multipart", contentType: "application/json", body: `{}`, want: "not multipart/mixed"},
		{name: "no boundary", contentType: "multipart/mixed", body: "", want: "no boundary"},
		{name: "bad media type", contentType: "multipart/mixed; boundary", body: "", want: "Content-Type"},
		{name: "garbage body", contentType: "multipart/mixed; boundary=b", body: "nothing here", want: "part 1"},
		{name: "unexpected part type", contentType: "multipart/mixed; boundary=b", body: "--b\r\nContent-Type: text/plain\r\n\r\nhi\r\n--b--\r\n", want: "unexpected Content-Type"},
		{name: "bad status line", contentType: "multipart/mixed; boundary=b", body: part("b", "HTTP/1.1 abc OK\r\n\r\n") + "--b--\r\n", want: "inner response"},
		{name: "status 000 of HTTP/0.0", contentType: "multipart/mixed; boundary=b", body: part("b", "HTTP/1.1 200 OK\r\n\r\n{}") + part("b", "HTTP/0.0 000\r\n\r\n") + "--b--\r\n", want: "part 2: inner response: status line protocol \"HTTP/0.0\""},
		{name: "status 000", contentType: "multipart/mixed; boundary=b", body: part("b", "HTTP/1.1 000 Zero\r\n\r\n") + "--b--\r\n", want: "part 1: inner response: status 000"},
		{name: "status 600", contentType: "multipart/mixed; boundary=b", body: part("b", "HTTP/1.1 600 Odd\r\n\r\n") + "--b--\r\n", want: "part 1: inner response: status 600"},
		{name: "HTTP/2 status line", contentType: "multipart/mixed; boundary=b", body: part("b", "HTTP/2.0 200 OK\r\n\r\n") + "--b--\r\n", want: "part 1: inner response: status line protocol"},
		{name: "short body for Content-Length", contentType: "multipart/mixed; boundary=b", body: part("b", "HTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\n{}") + "--b--\r\n", want: "body"},
		{
			name: "change set inside a change set", contentType: "multipart/mixed; boundary=b",
			body: "--b\r\nContent-Type: multipart/mixed; boundary=c\r\n\r\n--c\r\nContent-Type: multipart/mixed; boundary=d\r\n\r\n--d--\r\n--c--\r\n--b--\r\n",
			want: "unexpected Content-Type",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := parseBatchResponse(tt.contentType, []byte(tt.body))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want one containing %q", err, tt.want)
			}
		})
	}
}

// batchServer answers a $batch with one application/http part per inner
// request line it finds, failing the inner requests whose path contains
// "missing". It records each outer request.
type batchServer struct {
	t        *testing.T
	mu       sync.Mutex
	bodies   []string
	headers  []http.Header
	throttle int // answer the first N outer requests with 429
}

func (s *batchServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || !strings.HasSuffix(r.URL.Path, "/$batch") {
		s.t.Errorf("unexpected %s %s", r.Method, r.URL.Path)
	}
	body, _ := io.ReadAll(r.Body)
	s.mu.Lock()
	s.bodies = append(s.bodies, string(body))
	s.headers = append(s.headers, r.Header.Clone())
	n := len(s.bodies)
	s.mu.Unlock()
	if n <= s.throttle {
		w.Header().Set("Retry-After", "2")
		writeJSON(w, http.StatusTooManyRequests, odataErr("0x80072326", "Number of concurrent requests exceeded the limit of 52."))
		return
	}
	var out strings.Builder
	for _, line := range strings.Split(string(body), "\r\n") {
		if !strings.HasPrefix(line, "GET ") {
			continue
		}
		out.WriteString("--" + fixtureBoundary + "\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n\r\n")
		if strings.Contains(line, "missing") {
			out.WriteString("HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\n\r\n" + odataErr("0x80060888", "Resource not found") + "\r\n")
			continue
		}
		path := strings.TrimSuffix(strings.TrimPrefix(line, "GET "), " HTTP/1.1")
		out.WriteString("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n" + fmt.Sprintf(`{"path":%q}`, path) + "\r\n")
	}
	out.WriteString("--" + fixtureBoundary + "--\r\n")
	w.Header().Set("Content-Type", "multipart/mixed; boundary="+fixtureBoundary)
	_, _ = io.WriteString(w, out.String())
}

func goldenBatchRequests() []BatchRequest {
	return []BatchRequest{
		{Method: http.MethodGet, Path: "WhoAmI"},
		{Path: "sharepointsites?$select=sharepointsiteid,statecode&$filter=statecode eq 0",
			Header: http.Header{"Prefer": {`odata.include-annotations="*"`, "odata.maxpagesize=50"}}},
		{Method: "get", Path: "msdyn_missing?$top=1"},
	}
}

func TestBatch(t *testing.T) {
	t.Parallel()
	s := &batchServer{t: t}
	e := setup(t, s.ServeHTTP)
	e.client.newID = func() string { return "00000000-0000-4000-8000-000000000001" }

	got, err := e.client.Batch(t.Context(), goldenBatchRequests())
	if err != nil {
		t.Fatalf("Batch: %v", err)
	}
	if len(got) != 3 {
		t.Fatalf("got %d answers, want 3", len(got))
	}
	var first struct{ Path string }
	if err := got[0].DecodeJSON(&first); err != nil || first.Path != "/api/data/v9.2/WhoAmI" {
		t.Errorf("answer 1 = %+v, %v", first, err)
	}
	var second struct{ Path string }
	if err := got[1].DecodeJSON(&second); err != nil ||
		second.Path != "/api/data/v9.2/sharepointsites?$select=sharepointsiteid,statecode&$filter=statecode%20eq%200" {
		t.Errorf("answer 2 = %+v, %v", second, err)
	}
	var api *APIError
	if err := got[2].Err(); !errors.As(err, &api) || api.Status != 404 || api.Method != "GET" || !strings.HasSuffix(api.URL, "/api/data/v9.2/msdyn_missing?$top=1") {
		t.Errorf("answer 3 Err() = %#v, want a 404 APIError naming the inner request", err)
	}
	if err := got[2].DecodeJSON(&second); !errors.Is(err, ErrNotFound) {
		t.Errorf("DecodeJSON on a failed answer = %v, want its APIError", err)
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	h := s.headers[0]
	if ct := h.Get("Content-Type"); ct != "multipart/mixed; boundary=batch_00000000-0000-4000-8000-000000000001" {
		t.Errorf("Content-Type = %q", ct)
	}
	if p := h.Get("Prefer"); p != "odata.continue-on-error" {
		t.Errorf("Prefer = %q, want odata.continue-on-error", p)
	}
	if h.Get("OData-Version") != "4.0" || h.Get("Authorization") != "Bearer tok-1" {
		t.Errorf("outer headers = %v", h)
	}
	golden(t, "batch-request.golden", []byte(s.bodies[0]))
}

func TestBatchOuterThrottleIsRetried(t *testing.T) {
	t.Parallel()
	s := &batchServer{t: t, throttle: 1}
	e := setup(t, s.ServeHTTP)
	got, err := e.client.Batch(t.Context(), goldenBatchRequests()[:2])
	if err != nil {
		t.Fatalf("Batch: %v", err)
	}
	if len(got) != 2 || got[0].Err() != nil || got[1].Err() != nil {
		t.Fatalf("answers = %+v", got)
	}
	if waits := e.rec.sleeps(); !slices.Equal(waits, []time.Duration{2 * time.Second}) {
		t.Errorf("waits = %v, want [2s]", waits)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.bodies) != 2 || s.bodies[0] != s.bodies[1] {
		t.Errorf("the retry must resend the same body; got %d bodies", len(s.bodies))
	}
}

func TestBatchRejects(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		reqs    []BatchRequest
		handler http.HandlerFunc
		wantErr error
		want    string
	}{
		{name: "above 1000 requests", reqs: make([]BatchRequest, MaxBatchRequests+1), wantErr: ErrBatchTooLarge},
		{name: "POST outside a change set", reqs: []BatchRequest{{Method: "POST", Path: "accounts", Body: []byte(`{}`)}}, want: "only GET"},
		{name: "GET with body", reqs: []BatchRequest{{Path: "accounts", Body: []byte(`{}`)}}, want: "must not have a body"},
		{name: "header injection", reqs: []BatchRequest{{Path: "accounts", Header: http.Header{"Prefer": {"x\r\nGET /evil HTTP/1.1"}}}}, want: "line break"},
		{name: "foreign host", reqs: []BatchRequest{{Path: "https://evil.example/api/data/v9.2/accounts"}}, wantErr: ErrForeignHost},
		{
			name: "fewer answers than requests",
			reqs: []BatchRequest{{Path: "a"}, {Path: "b"}},
			handler: func(w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Content-Type", "multipart/mixed; boundary=x")
				_, _ = io.WriteString(w, "--x\r\nContent-Type: application/http\r\n\r\nHTTP/1.1 200 OK\r\n\r\n{}\r\n--x--\r\n")
			},
			want: "1 answers for 2 requests",
		},
		{
			name: "JSON instead of multipart",
			reqs: []BatchRequest{{Path: "a"}},
			handler: func(w http.ResponseWriter, _ *http.Request) {
				writeJSON(w, 200, `{}`)
			},
			want: "not multipart/mixed",
		},
		{
			name: "outer error",
			reqs: []BatchRequest{{Path: "a"}},
			handler: func(w http.ResponseWriter, _ *http.Request) {
				writeJSON(w, 400, odataErr("0x8006088a", "The batch request must have a Content-Type header"))
			},
			want: "0x8006088a",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			hits := &counter{}
			e := setup(t, func(w http.ResponseWriter, r *http.Request) {
				hits.inc()
				if tt.handler == nil {
					t.Errorf("nothing should be sent, got %s %s", r.Method, r.URL)
					return
				}
				tt.handler(w, r)
			})
			for i := range tt.reqs {
				if tt.reqs[i].Path == "" {
					tt.reqs[i].Path = "accounts"
				}
			}
			_, err := e.client.Batch(t.Context(), tt.reqs)
			if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)) {
				t.Fatalf("err = %v, want one containing %q", err, tt.want)
			}
			if tt.handler == nil && hits.get() != 0 {
				t.Errorf("server hits = %d, want 0", hits.get())
			}
		})
	}

	t.Run("empty batch sends nothing", func(t *testing.T) {
		t.Parallel()
		e := setup(t, func(_ http.ResponseWriter, r *http.Request) { t.Errorf("unexpected %s", r.URL) })
		got, err := e.client.Batch(t.Context(), nil)
		if err != nil || got != nil {
			t.Fatalf("Batch(nil) = %v, %v", got, err)
		}
	})
}

// innerServer answers each $batch with one part per inner GET, the raw HTTP
// answer that answer computes from the round (1-based, counting the batches
// answered with a multipart body) and the inner request's path. It records
// the paths of each round.
type innerServer struct {
	t        *testing.T
	outer429 int // answer the first N outer requests with 429 and Retry-After: 1
	answer   func(round int, path string) string

	mu     sync.Mutex
	outer  int
	rounds [][]string
}

func (s *innerServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.URL.Path != dataversePrefix+"$batch" {
		s.t.Errorf("unexpected %s %s", r.Method, r.URL.Path)
	}
	body, _ := io.ReadAll(r.Body)
	s.mu.Lock()
	s.outer++
	if s.outer <= s.outer429 {
		s.mu.Unlock()
		w.Header().Set("Retry-After", "1")
		writeJSON(w, http.StatusTooManyRequests, odataErr("0x80072322", "Number of requests exceeded the limit of 6000 over time window of 300 seconds."))
		return
	}
	var paths []string
	for _, line := range strings.Split(string(body), "\r\n") {
		if strings.HasPrefix(line, "GET ") {
			paths = append(paths, strings.TrimSuffix(strings.TrimPrefix(line, "GET "+dataversePrefix), " HTTP/1.1"))
		}
	}
	s.rounds = append(s.rounds, paths)
	round := len(s.rounds)
	s.mu.Unlock()

	var out strings.Builder
	for _, p := range paths {
		out.WriteString("--" + fixtureBoundary + "\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n\r\n")
		out.WriteString(s.answer(round, p) + "\r\n")
	}
	out.WriteString("--" + fixtureBoundary + "--\r\n")
	w.Header().Set("Content-Type", "multipart/mixed; boundary="+fixtureBoundary)
	_, _ = io.WriteString(w, out.String())
}

func (s *innerServer) seen() [][]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.rounds)
}

func innerOK(path string) string {
	return "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n" + fmt.Sprintf(`{"path":%q}`, path)
}

func innerFail(status int, retryAfter string) string {
	h := "HTTP/1.1 " + strconv.Itoa(status) + " " + http.StatusText(status) + "\r\nContent-Type: application/json\r\n"
	if retryAfter != "" {
		h += "Retry-After: " + retryAfter + "\r\n"
	}
	return h + "\r\n" + odataErr("0x80072326", "Number of concurrent requests exceeded the limit of 52.")
}

// TestBatchInnerThrottleIsRetried proves that inner 429s are sent again, only
// those requests, in a new $batch after the longest inner Retry-After, and
// that the answers come back in request order.
func TestBatchInnerThrottleIsRetried(t *testing.T) {
	t.Parallel()
	s := &innerServer{t: t, answer: func(round int, path string) string {
		switch {
		case path == "WhoAmI":
			return innerOK(path)
		case path == "accounts?$top=1" && round == 1:
			return innerFail(http.StatusTooManyRequests, "3")
		case path == "contacts?$top=1" && round == 1:
			return innerFail(http.StatusTooManyRequests, "1.5")
		case strings.HasPrefix(path, "msdyn_missing"):
			return "HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\n\r\n" + odataErr("0x80060888", "Resource not found")
		}
		return innerOK(path)
	}}
	e := setup(t, s.ServeHTTP)
	ids := 0
	e.client.newID = func() string { ids++; return fmt.Sprintf("id-%d", ids) }

	got, err := e.client.Batch(t.Context(), []BatchRequest{
		{Path: "WhoAmI"}, {Path: "accounts?$top=1"}, {Path: "msdyn_missing?$top=1"}, {Path: "contacts?$top=1"},
	})
	if err != nil {
		t.Fatalf("Batch: %v", err)
	}
	if rounds := s.seen(); !slices.EqualFunc(rounds, [][]string{
		{"WhoAmI", "accounts?$top=1", "msdyn_missing?$top=1", "contacts?$top=1"},
		{"accounts?$top=1", "contacts?$top=1"},
	}, slices.Equal) {
		t.Fatalf("batches sent = %q, want the throttled requests alone in the second", rounds)
	}
	for i, want := range []string{"WhoAmI", "accounts?$top=1", "", "contacts?$top=1"} {
		if want == "" {
			if err := got[i].Err(); !errors.Is(err, ErrNotFound) {
				t.Errorf("answer %d: Err() = %v, want the 404 kept", i, err)
			}
			continue
		}
		var body struct{ Path string }
		if err := got[i].DecodeJSON(&body); err != nil || body.Path != want {
			t.Errorf("answer %d = %+v, %v; want %s", i, body, err, want)
		}
	}
	if waits := e.rec.sleeps(); !slices.Equal(waits, []time.Duration{3 * time.Second}) {
		t.Errorf("waits = %v, want the longest inner Retry-After [3s]", waits)
	}
	if n := e.rec.count("throttle 429"); n != 2 {
		t.Errorf("OnThrottle called %d times, want once per throttled answer (2)", n)
	}
	if n := e.rec.count("retry batch_throttled 3s"); n != 1 {
		t.Errorf("events = %v, want one batch_throttled retry", e.rec.allEvents())
	}
	if ids != 2 {
		t.Errorf("%d boundaries drawn, want a new one for the second batch", ids)
	}
}

// TestBatchInnerThrottleGivesUp proves that an inner 429 or 503 that keeps
// failing ends with the retry budget (shared with the outer retries) and
// is returned with a *ThrottledError counting the batches that carried it,
// while the other answers are kept.
func TestBatchInnerThrottleGivesUp(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name         string
		status       int
		retryAfter   string
		maxRetries   int
		outer429     int
		wantAttempts int
		wantWaits    []time.Duration
		wantRA       time.Duration
	}{
		{
			name: "503 without Retry-After backs off until the retries run out", status: 503,
			wantAttempts: DefaultMaxRetries + 1, wantWaits: []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second},
		},
		{
			name: "429 with Retry-After", status: 429, retryAfter: "2", maxRetries: 2,
			wantAttempts: 3, wantWaits: []time.Duration{2 * time.Second, 2 * time.Second}, wantRA: 2 * time.Second,
		},
		{
			name: "a Retry-After above the wait budget is not waited for", status: 429, retryAfter: "120",
			wantAttempts: 1, wantWaits: nil, wantRA: 2 * time.Minute,
		},
		{
			name: "the outer retries use up the shared budget", status: 503, retryAfter: "1", maxRetries: 1, outer429: 1,
			wantAttempts: 1, wantWaits: []time.Duration{time.Second}, wantRA: time.Second,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := &innerServer{t: t, outer429: tt.outer429, answer: func(_ int, path string) string {
				if path == "accounts" {
					return innerFail(tt.status, tt.retryAfter)
				}
				return innerOK(path)
			}}
			e := setup(t, s.ServeHTTP, withOptions(func(o *Options) { o.MaxRetries = tt.maxRetries }))
			got, err := e.client.Batch(t.Context(), []BatchRequest{{Path: "WhoAmI"}, {Path: "accounts"}})
			if err != nil {
				t.Fatalf("Batch: %v", err)
			}
			if err := got[0].Err(); err != nil {
				t.Errorf("the answer that succeeded: Err() = %v", err)
			}
			var te *ThrottledError
			var api *APIError
			err = got[1].Err()
			if !errors.As(err, &te) || !errors.Is(err, ErrThrottled) || !errors.As(err, &api) {
				t.Fatalf("Err() = %#v, want a *ThrottledError wrapping the *APIError", err)
			}
			if te.Status != tt.status || te.Attempts != tt.wantAttempts || te.RetryAfter != tt.wantRA || te.Method != "GET" || !strings.HasSuffix(te.URL, dataversePrefix+"accounts") {
				t.Errorf("ThrottledError = %+v, want status %d after %d attempt(s), Retry-After %v", te, tt.status, tt.wantAttempts, tt.wantRA)
			}
			if api.Code != "0x80072326" || !strings.Contains(err.Error(), fmt.Sprintf("after %d attempt(s)", tt.wantAttempts)) {
				t.Errorf("Err() = %q", err)
			}
			if waits := e.rec.sleeps(); !slices.Equal(waits, tt.wantWaits) {
				t.Errorf("waits = %v, want %v", waits, tt.wantWaits)
			}
			rounds := s.seen()
			if len(rounds) != tt.wantAttempts {
				t.Fatalf("%d batches answered, want %d", len(rounds), tt.wantAttempts)
			}
			for _, r := range rounds[1:] {
				if !slices.Equal(r, []string{"accounts"}) {
					t.Errorf("a retry batch carried %q, want only the failing request", r)
				}
			}
		})
	}
}
