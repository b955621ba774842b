package metrics

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/teamslink/teamslink/internal/odata"
)

// retryReasons are the odata retry reasons, the values of the reason label.
var retryReasons = []string{
	odata.ReasonThrottled, odata.ReasonUnavailable, odata.ReasonBadGateway, odata.ReasonGatewayTimeout,
	odata.ReasonConnection, odata.ReasonUnauthorized, odata.ReasonBatchThrottled,
}

// reasonLabel keeps the reason label bounded.
func reasonLabel(reason string) string {
	for _, r := range retryReasons {
		if reason == r {
			return r
		}
	}
	return "other"
}

// Hooks returns the odata client hooks that count the client's requests
// under api (APIDataverse, APIGraph, APISharePoint, APIDiscovery; any other
// name counts as APIOther): every answer by status code, every retry by
// reason, every 429 or 503 (inside a $batch too) and the Retry-After it
// asked for. Set it as odata.Options.Hooks. A client counted this way must
// not also send through RoundTripper, or its requests count twice.
func (m *Metrics) Hooks(api string) odata.Hooks {
	api = apiLabel(api)
	throttled := m.throttled.WithLabelValues(api)
	retryAfter := m.retryAfter.WithLabelValues(api)
	return odata.Hooks{
		OnResponse: func(status int, _ time.Duration) {
			m.requests.WithLabelValues(api, codeLabel(status)).Inc()
		},
		OnRetry: func(reason string, _ time.Duration) {
			m.retries.WithLabelValues(api, reasonLabel(reason)).Inc()
		},
		OnThrottle: func(_ int, wait time.Duration) {
			throttled.Inc()
			if wait > 0 {
				retryAfter.Add(wait.Seconds())
			}
		},
	}
}

// RoundTripper wraps next (nil: http.DefaultTransport) to count, under api,
// the requests of an HTTP client that is not an odata client: the token
// requests of a credential (APILogin) or a discovery client's. It counts
// every answer by status code, and a 429 or 503 as throttled with the
// seconds of its Retry-After (a number, or a date relative to the answer's
// Date header). A request that got no answer is not counted.
func (m *Metrics) RoundTripper(api string, next http.RoundTripper) http.RoundTripper {
	if next == nil {
		next = http.DefaultTransport
	}
	return &countingTransport{m: m, api: apiLabel(api), next: next}
}

// countingTransport is the http.RoundTripper of Metrics.RoundTripper.
type countingTransport struct {
	m    *Metrics
	api  string
	next http.RoundTripper
}

// RoundTrip implements http.RoundTripper.
func (t *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := t.next.RoundTrip(r)
	if err != nil {
		return resp, err
	}
	t.m.requests.WithLabelValues(t.api, codeLabel(resp.StatusCode)).Inc()
	if resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable {
		t.m.throttled.WithLabelValues(t.api).Inc()
		if wait := retryAfterOf(resp.Header); wait > 0 {
			t.m.retryAfter.WithLabelValues(t.api).Add(wait.Seconds())
		}
	}
	return resp, nil
}

// maxRetryAfter caps a Retry-After so an absurd value cannot dominate the sum.
const maxRetryAfter = 24 * time.Hour

// retryAfterOf reads the Retry-After of an answer: decimal seconds, or an
// HTTP date taken relative to the answer's own Date header (this package
// reads no clock). 0 when absent or unreadable.
func retryAfterOf(h http.Header) time.Duration {
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0
	}
	if secs, err := strconv.ParseFloat(v, 64); err == nil {
		if secs <= 0 || secs != secs {
			return 0
		}
		return min(time.Duration(min(secs, maxRetryAfter.Seconds())*float64(time.Second)), maxRetryAfter)
	}
	until, err := http.ParseTime(v)
	if err != nil {
		return 0
	}
	date, err := http.ParseTime(h.Get("Date"))
	if err != nil {
		return 0
	}
	return min(max(until.Sub(date), 0), maxRetryAfter)
}
