package metrics_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/teamslink/teamslink/internal/metrics"
	"github.com/teamslink/teamslink/internal/odata"
)

// staticCredential hands out one token that lasts an hour past fixedNow.
type staticCredential struct{}

func (staticCredential) GetToken(context.Context, policy.TokenRequestOptions) (azcore.AccessToken, error) {
	return azcore.AccessToken{Token: "test-token", ExpiresOn: fixedNow.Add(time.Hour)}, nil
}

// TestHooksCountODataRequests sends requests through a real odata client
// against a server mounted under the Dataverse prefix: a 429 then a 200,
// and a 404.
func TestHooksCountODataRequests(t *testing.T) {
	t.Parallel()
	var calls atomic.Int32
	mux := http.NewServeMux()
	mux.HandleFunc("/api/data/v9.2/accounts", func(w http.ResponseWriter, _ *http.Request) {
		if calls.Add(1) == 1 {
			w.Header().Set("Retry-After", "2")
			w.WriteHeader(http.StatusTooManyRequests)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"value":[]}`))
	})
	mux.HandleFunc("/api/data/v9.2/missing", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusNotFound)
		_, _ = w.Write([]byte(`{"error":{"code":"0x80060888","message":"Resource not found"}}`))
	})
	srv := httptest.NewTLSServer(mux)
	t.Cleanup(srv.Close)

	reg := prometheus.NewPedanticRegistry()
	m := metrics.New(reg, testBuild)
	base, _ := url.Parse(srv.URL + "/api/data/v9.2/")
	c, err := odata.New(base, staticCredential{}, odata.Options{
		Scopes: []string{"https://org.crm.dynamics.com/.default"}, HTTPClient: srv.Client(), Flavor: odata.Dataverse,
		Now: func() time.Time { return fixedNow }, Hooks: m.Hooks(metrics.APIDataverse),
		Sleep: func(ctx context.Context, _ time.Duration) error { return ctx.Err() },
	})
	if err != nil {
		t.Fatal(err)
	}
	var out struct{ Value []any }
	if _, err := c.Get(t.Context(), "accounts", &out); err != nil {
		t.Fatalf("accounts: %v", err)
	}
	var apiErr *odata.APIError
	if _, err := c.Get(t.Context(), "missing", &out); !errors.As(err, &apiErr) {
		t.Fatalf("missing: %v, want an *odata.APIError", err)
	}

	mfs := gather(t, reg)
	got := slices.Concat(
		samples(mfs, "teamslink_api_requests_total", nil),
		samples(mfs, "teamslink_api_retries_total", nil),
		samples(mfs, "teamslink_api_throttled_requests_total", nil),
		samples(mfs, "teamslink_api_retry_after_seconds_total", nil),
	)
	want := []string{
		`teamslink_api_requests_total{api="dataverse",code="200"} 1`,
		`teamslink_api_requests_total{api="dataverse",code="404"} 1`,
		`teamslink_api_requests_total{api="dataverse",code="429"} 1`,
		`teamslink_api_retries_total{api="dataverse",reason="throttled"} 1`,
		`teamslink_api_throttled_requests_total{api="dataverse"} 1`,
		`teamslink_api_retry_after_seconds_total{api="dataverse"} 2`,
	}
	if !slices.Equal(got, want) {
		t.Errorf("series\n got %q\nwant %q", got, want)
	}
}

// TestHooksBoundLabels: an unknown api or reason and an odd status stay
// within bounded values.
func TestHooksBoundLabels(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewRegistry()
	m := metrics.New(reg, testBuild)
	h := m.Hooks("https://contoso.crm.dynamics.com")
	h.OnResponse(999, 0)
	h.OnResponse(42, 0)
	h.OnRetry("something new", 0)
	h.OnThrottle(503, 0)
	mfs := gather(t, reg)
	got := slices.Concat(samples(mfs, "teamslink_api_requests_total", nil), samples(mfs, "teamslink_api_retries_total", nil),
		samples(mfs, "teamslink_api_retry_after_seconds_total", nil))
	want := []string{
		`teamslink_api_requests_total{api="other",code="other"} 2`,
		`teamslink_api_retries_total{api="other",reason="other"} 1`,
		`teamslink_api_retry_after_seconds_total{api="other"} 0`,
	}
	if !slices.Equal(got, want) {
		t.Errorf("series\n got %q\nwant %q", got, want)
	}
}

// TestRoundTripper counts a plain HTTP client's answers and throttling.
func TestRoundTripper(t *testing.T) {
	t.Parallel()
	date := fixedNow.Format(http.TimeFormat)
	tests := []struct {
		name       string
		status     int
		header     map[string]string
		wantCode   string
		throttled  float64
		retryAfter float64
	}{
		{name: "ok", status: 200, wantCode: "200"},
		{name: "seconds", status: 429, header: map[string]string{"Retry-After": "3"}, wantCode: "429", throttled: 1, retryAfter: 3},
		{name: "fraction", status: 429, header: map[string]string{"Retry-After": "1.5"}, wantCode: "429", throttled: 1, retryAfter: 1.5},
		{name: "date", status: 503, header: map[string]string{"Date": date, "Retry-After": fixedNow.Add(10 * time.Second).Format(http.TimeFormat)}, wantCode: "503", throttled: 1, retryAfter: 10},
		{name: "date without Date", status: 503, header: map[string]string{"Retry-After": fixedNow.Format(http.TimeFormat)}, wantCode: "503", throttled: 1},
		{name: "garbage", status: 429, header: map[string]string{"Retry-After": "soon"}, wantCode: "429", throttled: 1},
		{name: "huge", status: 429, header: map[string]string{"Retry-After": "1e308"}, wantCode: "429", throttled: 1, retryAfter: 86400},
		{name: "refused", status: 401, wantCode: "401"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				for k, v := range tt.header {
					w.Header().Set(k, v)
				}
				w.WriteHeader(tt.status)
			}))
			t.Cleanup(srv.Close)
			reg := prometheus.NewRegistry()
			m := metrics.New(reg, testBuild)
			c := &http.Client{Transport: m.RoundTripper(metrics.APILogin, srv.Client().Transport)}
			req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, srv.URL+"/common/discovery/instance", nil)
			resp, err := c.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			mfs := gather(t, reg)
			if got, want := samples(mfs, "teamslink_api_requests_total", nil), []string{`teamslink_api_requests_total{api="login",code="` + tt.wantCode + `"} 1`}; !slices.Equal(got, want) {
				t.Errorf("requests %q, want %q", got, want)
			}
			if got := sum(mfs, "teamslink_api_throttled_requests_total"); got != tt.throttled {
				t.Errorf("throttled %v, want %v", got, tt.throttled)
			}
			if got := sum(mfs, "teamslink_api_retry_after_seconds_total"); got != tt.retryAfter {
				t.Errorf("retry after %v, want %v", got, tt.retryAfter)
			}
		})
	}
}

// TestRoundTripperNoAnswer: a request that got no answer is not counted.
func TestRoundTripperNoAnswer(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.NotFoundHandler())
	addr := srv.URL
	srv.Close()
	reg := prometheus.NewRegistry()
	m := metrics.New(reg, testBuild)
	c := &http.Client{Transport: m.RoundTripper(metrics.APIDiscovery, nil)}
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, addr, nil)
	if resp, err := c.Do(req); err == nil {
		resp.Body.Close()
		t.Fatal("a closed server answered")
	}
	if got := samples(gather(t, reg), "teamslink_api_requests_total", nil); len(got) != 0 {
		t.Errorf("counted %q", got)
	}
}

// sum adds the values of every series of a family.
func sum(mfs []*dto.MetricFamily, name string) float64 {
	total := 0.0
	if mf := family(mfs, name); mf != nil {
		for _, m := range mf.GetMetric() {
			total += value(m)
		}
	}
	return total
}
