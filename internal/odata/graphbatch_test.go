package odata

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

type graphItemSeen struct {
	ID      string            `json:"id"`
	Method  string            `json:"method"`
	URL     string            `json:"url"`
	Headers map[string]string `json:"headers"`
	Body    json.RawMessage   `json:"body"`
}

// graphServer answers Graph JSON $batch requests with answers computed by
// answer, and records every batch it got.
type graphServer struct {
	t       *testing.T
	answer  func(round int, item graphItemSeen) map[string]any
	reverse bool
	mu      sync.Mutex
	batches [][]graphItemSeen
}

func (s *graphServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.URL.Path != graphPrefix+"$batch" || r.Header.Get("Content-Type") != "application/json" {
		s.t.Errorf("unexpected %s %s (%s)", r.Method, r.URL.Path, r.Header.Get("Content-Type"))
	}
	var in struct {
		Requests []graphItemSeen `json:"requests"`
	}
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		s.t.Errorf("decode batch: %v", err)
	}
	s.mu.Lock()
	s.batches = append(s.batches, in.Requests)
	round := len(s.batches)
	s.mu.Unlock()
	if len(in.Requests) > MaxGraphBatchRequests {
		s.t.Errorf("batch of %d requests, above %d", len(in.Requests), MaxGraphBatchRequests)
	}
	var out []map[string]any
	for _, item := range in.Requests {
		a := s.answer(round, item)
		a["id"] = item.ID
		out = append(out, a)
	}
	if s.reverse {
		slices.Reverse(out)
	}
	body, _ := json.Marshal(map[string]any{"responses": out})
	writeJSON(w, 200, string(body))
}

func (s *graphServer) seen() [][]graphItemSeen {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.batches)
}

func echoAnswer(_ int, item graphItemSeen) map[string]any {
	return map[string]any{"status": 200, "headers": map[string]string{"Content-Type": "application/json"},
		"body": map[string]string{"url": item.URL, "method": item.Method}}
}

func graphEnv(t *testing.T, s *graphServer, mods ...func(*setupConfig)) *env {
	t.Helper()
	return setup(t, s.ServeHTTP, append([]func(*setupConfig){withFlavor(Graph, graphPrefix)}, mods...)...)
}

func decodeEcho(t *testing.T, r GraphResponse) string {
	t.Helper()
	var v struct{ URL string }
	if err := r.DecodeJSON(&v); err != nil {
		t.Fatalf("answer %s: %v", r.ID, err)
	}
	return v.URL
}

func TestGraphBatchMatchesOutOfOrderAnswers(t *testing.T) {
	t.Parallel()
	s := &graphServer{t: t, answer: echoAnswer, reverse: true}
	e := graphEnv(t, s)
	reqs := []GraphRequest{
		{URL: "/subscribedSkus"},
		{URL: "servicePrincipals(appId='a8adde6c-aeb4-4fd6-9d8f-c2dfdecac60a')?$select=id,appId,displayName"},
		{URL: "/oauth2PermissionGrants?$filter=clientId eq 'sp-1' and consentType eq 'AllPrincipals'"},
	}
	got, err := e.client.GraphBatch(t.Context(), reqs)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"/subscribedSkus",
		"/servicePrincipals(appId='a8adde6c-aeb4-4fd6-9d8f-c2dfdecac60a')?$select=id,appId,displayName",
		"/oauth2PermissionGrants?$filter=clientId%20eq%20'sp-1'%20and%20consentType%20eq%20'AllPrincipals'",
	}
	for i, r := range got {
		if r.ID != strconv.Itoa(i+1) || decodeEcho(t, r) != want[i] {
			t.Errorf("answer %d = id %s url %s, want id %d url %s", i, r.ID, decodeEcho(t, r), i+1, want[i])
		}
	}
	batches := s.seen()
	if len(batches) != 1 || batches[0][0].Method != "GET" {
		t.Fatalf("batches = %+v", batches)
	}
}

func TestGraphBatchSplitsAbove20(t *testing.T) {
	t.Parallel()
	s := &graphServer{t: t, answer: echoAnswer, reverse: true}
	e := graphEnv(t, s)
	reqs := make([]GraphRequest, 45)
	for i := range reqs {
		reqs[i] = GraphRequest{URL: fmt.Sprintf("/users/u-%d", i)}
	}
	got, err := e.client.GraphBatch(t.Context(), reqs)
	if err != nil {
		t.Fatal(err)
	}
	var sizes []int
	for _, b := range s.seen() {
		sizes = append(sizes, len(b))
	}
	if !slices.Equal(sizes, []int{20, 20, 5}) {
		t.Errorf("batch sizes = %v, want [20 20 5]", sizes)
	}
	for i, r := range got {
		if u := decodeEcho(t, r); u != fmt.Sprintf("/users/u-%d", i) || r.ID != strconv.Itoa(i+1) {
			t.Errorf("answer %d = %s (id %s)", i, u, r.ID)
		}
	}
}

func TestGraphBatchInnerThrottling(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name          string
		retryAfter    map[string]string // url -> Retry-After for its 429s
		throttleTimes int               // how many rounds a throttled url stays throttled
		opts          func(*Options)
		wantRounds    [][]string // ids per outer batch
		wantWaits     []time.Duration
		wantThrottled []int // request indices whose final answer is 429
		wantAttempts  int   // the batches that carried a wantThrottled request
	}{
		{
			name:          "only throttled requests resent after the longest Retry-After",
			retryAfter:    map[string]string{"/b": "1.5", "/d": "3"},
			throttleTimes: 1,
			wantRounds:    [][]string{{"1", "2", "3", "4"}, {"2", "4"}},
			wantWaits:     []time.Duration{3 * time.Second},
		},
		{
			name:          "throttled until the retry count runs out",
			retryAfter:    map[string]string{"/c": "1"},
			throttleTimes: 99,
			opts:          func(o *Options) { o.MaxRetries = 2 },
			wantRounds:    [][]string{{"1", "2", "3", "4"}, {"3"}, {"3"}},
			wantWaits:     []time.Duration{time.Second, time.Second},
			wantThrottled: []int{2},
			wantAttempts:  3,
		},
		{
			name:          "Retry-After beyond the budget stops at once",
			retryAfter:    map[string]string{"/a": "100"},
			throttleTimes: 99,
			wantRounds:    [][]string{{"1", "2", "3", "4"}},
			wantThrottled: []int{0},
			wantAttempts:  1,
		},
		{
			name:          "no Retry-After uses backoff",
			retryAfter:    map[string]string{"/a": ""},
			throttleTimes: 1,
			wantRounds:    [][]string{{"1", "2", "3", "4"}, {"1"}},
			wantWaits:     []time.Duration{time.Second},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var mu sync.Mutex
			throttled := map[string]int{}
			s := &graphServer{t: t, reverse: true, answer: func(round int, item graphItemSeen) map[string]any {
				ra, ok := tt.retryAfter[item.URL]
				mu.Lock()
				defer mu.Unlock()
				if ok && throttled[item.URL] < tt.throttleTimes {
					throttled[item.URL]++
					h := map[string]string{"Content-Type": "application/json"}
					if ra != "" {
						h["Retry-After"] = ra
					}
					return map[string]any{"status": 429, "headers": h,
						"body": map[string]any{"error": map[string]string{"code": "TooManyRequests", "message": "Too many requests"}}}
				}
				return echoAnswer(round, item)
			}}
			e := graphEnv(t, s, withOptions(func(o *Options) {
				if tt.opts != nil {
					tt.opts(o)
				}
			}))
			reqs := []GraphRequest{{URL: "/a"}, {URL: "/b"}, {URL: "/c"}, {URL: "/d"}}
			got, err := e.client.GraphBatch(t.Context(), reqs)
			if err != nil {
				t.Fatal(err)
			}
			var rounds [][]string
			for _, b := range s.seen() {
				var ids []string
				for _, item := range b {
					ids = append(ids, item.ID)
				}
				rounds = append(rounds, ids)
			}
			if !slices.EqualFunc(rounds, tt.wantRounds, slices.Equal) {
				t.Errorf("rounds = %v, want %v", rounds, tt.wantRounds)
			}
			if waits := e.rec.sleeps(); !slices.Equal(waits, tt.wantWaits) {
				t.Errorf("waits = %v, want %v", waits, tt.wantWaits)
			}
			for i, r := range got {
				if slices.Contains(tt.wantThrottled, i) {
					var te *ThrottledError
					var api *APIError
					err := r.Err()
					if r.Status != 429 || !errors.As(err, &te) || !errors.As(err, &api) || api.Code != "TooManyRequests" {
						t.Errorf("answer %d: status %d err %v, want a ThrottledError", i, r.Status, err)
					} else if te.Attempts != tt.wantAttempts {
						t.Errorf("answer %d: %d attempt(s) counted, want %d", i, te.Attempts, tt.wantAttempts)
					}
					continue
				}
				if u := decodeEcho(t, r); u != reqs[i].URL {
					t.Errorf("answer %d = %s, want %s", i, u, reqs[i].URL)
				}
			}
			if n := e.rec.count("retry batch_throttled"); n != len(tt.wantWaits) {
				t.Errorf("batch_throttled retries = %d, want %d", n, len(tt.wantWaits))
			}
			answered429 := 0
			mu.Lock()
			for _, n := range throttled {
				answered429 += n
			}
			mu.Unlock()
			if n := e.rec.count("throttle 429"); n != answered429 {
				t.Errorf("OnThrottle called %d times for %d inner 429 answers", n, answered429)
			}
		})
	}
}

func TestGraphBatchShape(t *testing.T) {
	t.Parallel()
	s := &graphServer{t: t, answer: func(_ int, item graphItemSeen) map[string]any {
		if item.URL == "/missing" {
			return map[string]any{"status": 404, "body": map[string]any{"error": map[string]any{
				"code": "Request_ResourceNotFound", "message": "Resource 'missing' does not exist", "innerError": map[string]string{"request-id": "r"}}}}
		}
		return echoAnswer(0, item)
	}}
	e := graphEnv(t, s)
	got, err := e.client.GraphBatch(t.Context(), []GraphRequest{
		{Method: "patch", URL: "/groups/g-1", Body: json.RawMessage(`{"displayName":"x"}`), Header: map[string]string{"If-Match": "W/\"1\"", "Authorization": "Bearer smuggled"}},
		{URL: "/missing"},
	})
	if err != nil {
		t.Fatal(err)
	}
	item := s.seen()[0][0]
	if item.Method != "PATCH" || item.Headers["Content-Type"] != "application/json" || item.Headers["If-Match"] != `W/"1"` || string(item.Body) != `{"displayName":"x"}` {
		t.Errorf("inner request = %+v", item)
	}
	if _, ok := item.Headers["Authorization"]; ok {
		t.Error("an inner Authorization header was forwarded")
	}
	var api *APIError
	if err := got[1].Err(); !errors.As(err, &api) || api.Status != 404 || api.Code != "Request_ResourceNotFound" || !strings.HasSuffix(api.URL, "/v1.0/missing") {
		t.Errorf("Err() = %#v", err)
	}
	if got[0].Err() != nil {
		t.Errorf("answer 1 Err() = %v", got[0].Err())
	}
}

func TestGraphBatchRejects(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		reqs []GraphRequest
		raw  string
		want string
	}{
		{name: "invalid JSON body", reqs: []GraphRequest{{Method: "POST", URL: "/x", Body: json.RawMessage(`{`)}}, want: "not valid JSON"},
		{name: "foreign host", reqs: []GraphRequest{{URL: "https://evil.example/v1.0/me"}}, want: "not on the client's host"},
		{name: "bad header", reqs: []GraphRequest{{URL: "/me", Header: map[string]string{"X": "a\nb"}}}, want: "invalid header"},
		{name: "unknown id", reqs: []GraphRequest{{URL: "/me"}}, raw: `{"responses":[{"id":"7","status":200,"body":{}}]}`, want: `unknown id "7"`},
		{name: "missing answer", reqs: []GraphRequest{{URL: "/me"}, {URL: "/you"}}, raw: `{"responses":[{"id":"1","status":200,"body":{}}]}`, want: "no answer for id(s) 2"},
		{name: "duplicate id", reqs: []GraphRequest{{URL: "/me"}}, raw: `{"responses":[{"id":"1","status":200},{"id":"1","status":200}]}`, want: "two answers"},
		{name: "no responses array", reqs: []GraphRequest{{URL: "/me"}}, raw: `{"value":[]}`, want: `"responses"`},
		{name: "malformed", reqs: []GraphRequest{{URL: "/me"}}, raw: `{"responses":[`, want: "decode response of POST"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := setup(t, func(w http.ResponseWriter, _ *http.Request) {
				if tt.raw == "" {
					t.Error("nothing should be sent")
				}
				writeJSON(w, 200, tt.raw)
			}, withFlavor(Graph, graphPrefix))
			_, err := e.client.GraphBatch(t.Context(), tt.reqs)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want one containing %q", err, tt.want)
			}
		})
	}
}
