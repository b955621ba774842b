package odata

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestParseRetryAfter(t *testing.T) {
	t.Parallel()
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		in     string
		want   time.Duration
		wantOK bool
	}{
		{in: "1", want: time.Second, wantOK: true},
		{in: "1.5", want: 1500 * time.Millisecond, wantOK: true},
		{in: "2.128", want: 2128 * time.Millisecond, wantOK: true},
		{in: " 0 ", want: 0, wantOK: true},
		{in: ".5", want: 500 * time.Millisecond, wantOK: true},
		{in: "Sat, 01 Mar 2025 12:00:04 GMT", want: 4 * time.Second, wantOK: true},
		{in: "Sat, 01 Mar 2025 11:00:00 GMT", want: 0, wantOK: true},
		{in: "99999999999", want: maxRetryAfter, wantOK: true},
		{in: "1" + strings.Repeat("0", 400), want: maxRetryAfter, wantOK: true},
		{in: "0." + strings.Repeat("0", 400) + "1", want: 0, wantOK: true},
		{in: ""},
		{in: "-1"},
		{in: "1e3"},
		{in: "NaN"},
		{in: "1.2.3"},
		{in: "soon"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			got, ok := parseRetryAfter(tt.in, now)
			if got != tt.want || ok != tt.wantOK {
				t.Errorf("parseRetryAfter(%q) = %v, %v; want %v, %v", tt.in, got, ok, tt.want, tt.wantOK)
			}
		})
	}
}

// step is one scripted server answer; hijack closes the connection without
// answering.
type step struct {
	status     int
	retryAfter string
	body       string
	hijack     bool
}

func scripted(t *testing.T, steps []step, hits *counter) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		n := hits.inc()
		s := steps[min(n-1, len(steps)-1)]
		if s.hijack {
			hj, ok := w.(http.Hijacker)
			if !ok {
				t.Error("server cannot hijack")
				return
			}
			conn, _, err := hj.Hijack()
			if err == nil {
				_ = conn.Close()
			}
			return
		}
		if s.retryAfter != "" {
			w.Header().Set("Retry-After", s.retryAfter)
		}
		body := s.body
		if body == "" && s.status >= 400 {
			body = odataErr("0x80072322", "Number of requests exceeded the limit of 6000 over time window of 300 seconds.")
		}
		if body == "" {
			body = `{"ok":true}`
		}
		writeJSON(w, s.status, body)
	}
}

func TestRetries(t *testing.T) {
	t.Parallel()
	fixedNow := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name       string
		steps      []step
		method     string
		idempotent bool
		opts       func(*Options)
		wantHits   int
		wantWaits  []time.Duration
		wantEvents []string
		check      func(t *testing.T, resp *Response, err error)
	}{
		{
			name:      "429 with fractional Retry-After then success",
			steps:     []step{{status: 429, retryAfter: "1.5"}, {status: 200}},
			wantHits:  2,
			wantWaits: []time.Duration{1500 * time.Millisecond},
			wantEvents: []string{
				"request GET", "response 429", "throttle 429 1.5s", "retry throttled 1.5s", "request GET", "response 200",
			},
			check: func(t *testing.T, resp *Response, err error) {
				if err != nil || resp.Status != 200 || resp.Attempts != 2 {
					t.Fatalf("resp=%+v err=%v", resp, err)
				}
			},
		},
		{
			name:      "Retry-After as HTTP date",
			steps:     []step{{status: 429, retryAfter: fixedNow.Add(4 * time.Second).Format(http.TimeFormat)}, {status: 200}},
			wantHits:  2,
			wantWaits: []time.Duration{4 * time.Second},
		},
		{
			name:     "Retry-After beyond the budget gives ThrottledError",
			steps:    []step{{status: 429, retryAfter: "120"}},
			wantHits: 1,
			check: func(t *testing.T, resp *Response, err error) {
				var te *ThrottledError
				if !errors.As(err, &te) || te.Status != 429 || te.RetryAfter != 120*time.Second || te.Attempts != 1 {
					t.Fatalf("err = %#v, want *ThrottledError{429, 2m}", err)
				}
				if !errors.Is(err, ErrThrottled) {
					t.Error("ThrottledError does not match ErrThrottled")
				}
				var api *APIError
				if !errors.As(err, &api) || api.Code != "0x80072322" {
					t.Errorf("ThrottledError does not wrap the APIError: %v", err)
				}
				if !strings.Contains(err.Error(), "0x80072322") || !strings.Contains(err.Error(), "2m0s") {
					t.Errorf("Error() = %q lacks code or wait", err.Error())
				}
			},
		},
		{
			name:      "budget spent across retries",
			opts:      func(o *Options) { o.MaxRetryWait = 5 * time.Second },
			steps:     []step{{status: 429, retryAfter: "2"}},
			wantHits:  3,
			wantWaits: []time.Duration{2 * time.Second, 2 * time.Second},
			check: func(t *testing.T, _ *Response, err error) {
				var te *ThrottledError
				if !errors.As(err, &te) || te.Attempts != 3 {
					t.Fatalf("err = %v, want ThrottledError after 3 attempts", err)
				}
			},
		},
		{
			name:      "503 persistent: error after MaxRetries with backoff",
			steps:     []step{{status: 503, body: odataErr("", "Service Unavailable")}},
			wantHits:  5,
			wantWaits: []time.Duration{1 * time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second},
			check: func(t *testing.T, resp *Response, err error) {
				var te *ThrottledError
				if !errors.As(err, &te) || te.Status != 503 || te.Attempts != 5 {
					t.Fatalf("err = %v, want ThrottledError(503) after 5 attempts", err)
				}
				if resp == nil || resp.Status != 503 {
					t.Errorf("resp = %+v, want the last 503", resp)
				}
			},
		},
		{
			name:      "backoff shortened to the remaining budget",
			opts:      func(o *Options) { o.MaxRetryWait = 2500 * time.Millisecond; o.MaxRetries = 3 },
			steps:     []step{{status: 503}},
			wantHits:  4,
			wantWaits: []time.Duration{1 * time.Second, 1500 * time.Millisecond, 0},
			check: func(t *testing.T, _ *Response, err error) {
				var te *ThrottledError
				if !errors.As(err, &te) || te.Attempts != 4 {
					t.Fatalf("err = %v, want ThrottledError after 4 attempts", err)
				}
			},
		},
		{
			name:     "MaxRetries negative disables retries",
			opts:     func(o *Options) { o.MaxRetries = -1 },
			steps:    []step{{status: 429, retryAfter: "1"}},
			wantHits: 1,
			check: func(t *testing.T, _ *Response, err error) {
				if !errors.Is(err, ErrThrottled) {
					t.Fatalf("err = %v", err)
				}
			},
		},
		{
			name:      "502 retried for GET",
			steps:     []step{{status: 502, body: "bad gateway"}, {status: 200}},
			wantHits:  2,
			wantWaits: []time.Duration{time.Second},
		},
		{
			name:     "502 not retried for POST",
			method:   http.MethodPost,
			steps:    []step{{status: 502, body: "bad gateway"}, {status: 200}},
			wantHits: 1,
			check: func(t *testing.T, _ *Response, err error) {
				var api *APIError
				if !errors.As(err, &api) || api.Status != 502 || api.Message != "bad gateway" {
					t.Fatalf("err = %v, want 502 APIError", err)
				}
			},
		},
		{
			name:      "504 persistent for GET gives up with the APIError",
			steps:     []step{{status: 504, body: "timeout"}},
			opts:      func(o *Options) { o.MaxRetries = 2 },
			wantHits:  3,
			wantWaits: []time.Duration{time.Second, 2 * time.Second},
			check: func(t *testing.T, _ *Response, err error) {
				var api *APIError
				var te *ThrottledError
				if !errors.As(err, &api) || api.Status != 504 || errors.As(err, &te) || !strings.Contains(err.Error(), "3 attempt") {
					t.Fatalf("err = %v, want wrapped 504 APIError after 3 attempts", err)
				}
			},
		},
		{
			name:      "429 retried for PATCH (not processed)",
			method:    http.MethodPatch,
			steps:     []step{{status: 429, retryAfter: "1"}, {status: 204, body: " "}},
			wantHits:  2,
			wantWaits: []time.Duration{time.Second},
		},
		{
			name:      "connection error retried for GET",
			steps:     []step{{hijack: true}, {status: 200}},
			wantHits:  2,
			wantWaits: []time.Duration{time.Second},
		},
		{
			name:     "connection error not retried for POST",
			method:   http.MethodPost,
			steps:    []step{{hijack: true}, {status: 200}},
			wantHits: 1,
			check: func(t *testing.T, _ *Response, err error) {
				if err == nil || !strings.Contains(err.Error(), "POST ") {
					t.Fatalf("err = %v, want a transport error naming the request", err)
				}
			},
		},
		{
			name:       "connection error retried for POST marked idempotent",
			method:     http.MethodPost,
			idempotent: true,
			steps:      []step{{hijack: true}, {status: 200}},
			wantHits:   2,
			wantWaits:  []time.Duration{time.Second},
		},
		{
			name:     "final 4xx not retried",
			steps:    []step{{status: 403, body: odataErr("0x80040220", "PrivilegeDenied")}},
			wantHits: 1,
			check: func(t *testing.T, _ *Response, err error) {
				if !errors.Is(err, ErrForbidden) {
					t.Fatalf("err = %v", err)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			hits := &counter{}
			e := setup(t, scripted(t, tt.steps, hits), withOptions(func(o *Options) {
				if tt.opts != nil {
					tt.opts(o)
				}
			}))
			e.client.now = func() time.Time { return fixedNow }
			method := tt.method
			if method == "" {
				method = http.MethodGet
			}
			resp, err := e.client.Do(t.Context(), &Request{Method: method, Path: "accounts", Body: bodyFor(method), Idempotent: tt.idempotent})
			if tt.check != nil {
				tt.check(t, resp, err)
			} else if err != nil {
				t.Fatalf("Do: %v", err)
			}
			if hits.get() != tt.wantHits {
				t.Errorf("server hits = %d, want %d", hits.get(), tt.wantHits)
			}
			if tt.wantWaits != nil || tt.wantHits == 1 {
				if got := e.rec.sleeps(); !slices.Equal(got, tt.wantWaits) {
					t.Errorf("waits = %v, want %v", got, tt.wantWaits)
				}
			}
			if tt.wantEvents != nil {
				host := strings.TrimPrefix(e.server.URL, "https://")
				var want []string
				for _, ev := range tt.wantEvents {
					if strings.HasPrefix(ev, "request ") {
						ev += " " + host
					}
					want = append(want, ev)
				}
				if got := e.rec.allEvents(); !slices.Equal(got, want) {
					t.Errorf("hook events = %q, want %q", got, want)
				}
			}
		})
	}
}

func bodyFor(method string) []byte {
	if method == http.MethodGet {
		return nil
	}
	return []byte(`{}`)
}

func TestAttemptTimeoutIsRetriedForGet(t *testing.T) {
	t.Parallel()
	hits := &counter{}
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	e := setup(t, func(w http.ResponseWriter, r *http.Request) {
		if hits.inc() == 1 {
			select {
			case <-r.Context().Done():
			case <-release:
			}
			return
		}
		writeJSON(w, 200, `{}`)
	}, withOptions(func(o *Options) { o.RequestTimeout = time.Second }))
	if _, err := e.client.GetRaw(t.Context(), "accounts"); err != nil {
		t.Fatalf("GetRaw: %v", err)
	}
	// Only the first attempt hangs; on a loaded machine a later TLS handshake
	// can also miss its deadline, so more than one retry is tolerated.
	if hits.get() < 2 || e.rec.count("retry connection") < 1 {
		t.Errorf("hits = %d, events = %q; want a retry after the attempt deadline", hits.get(), e.rec.allEvents())
	}
}

func TestCallerCancellationStopsRetries(t *testing.T) {
	t.Parallel()
	hits := &counter{}
	e := setup(t, scripted(t, []step{{status: 429, retryAfter: "1"}}, hits))
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	e.client.opts.Sleep = func(ctx context.Context, _ time.Duration) error {
		cancel()
		return ctx.Err()
	}
	_, err := e.client.GetRaw(ctx, "accounts")
	if !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "wait to retry") {
		t.Fatalf("err = %v, want the cancellation", err)
	}
	if hits.get() != 1 {
		t.Errorf("hits = %d, want 1", hits.get())
	}
}

func TestBackoffAndJitter(t *testing.T) {
	t.Parallel()
	for n, want := range []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 16 * time.Second, 30 * time.Second, 30 * time.Second} {
		if got := backoff(n); got != want {
			t.Errorf("backoff(%d) = %v, want %v", n, got, want)
		}
	}
	for range 200 {
		d := 8 * time.Second
		if got := equalJitter(d); got < d/2 || got > d {
			t.Fatalf("equalJitter(%v) = %v, outside [d/2, d]", d, got)
		}
	}
}
