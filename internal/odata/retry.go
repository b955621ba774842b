package odata

import (
	"errors"
	"math"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"
)

const (
	backoffBase = 1 * time.Second
	backoffMax  = 30 * time.Second
	// maxRetryAfter caps a parsed Retry-After so that absurd values cannot
	// overflow; anything this long exceeds every sensible budget anyway.
	maxRetryAfter = 24 * time.Hour
)

// budget is the retry allowance of one call: a number of retries and a total
// wait, shared by every request the call makes (a Graph $batch's outer retries
// and its inner-429 rounds draw on the same budget).
type budget struct {
	maxRetries int
	maxWait    time.Duration
	retries    int
	waited     time.Duration
	jitter     func(time.Duration) time.Duration
}

func (c *Client) newBudget() *budget {
	return &budget{maxRetries: c.opts.MaxRetries, maxWait: c.opts.MaxRetryWait, jitter: c.jitter}
}

// plan returns the wait before the next retry, or false when the budget does
// not allow another one. A server-given Retry-After is honoured exactly and,
// when it is longer than the remaining budget, ends the retries; a computed
// backoff is shortened to what remains.
func (b *budget) plan(retryAfter time.Duration, hasRetryAfter bool) (time.Duration, bool) {
	if b.retries >= b.maxRetries {
		return 0, false
	}
	remaining := b.maxWait - b.waited
	var wait time.Duration
	if hasRetryAfter {
		if retryAfter > remaining {
			return 0, false
		}
		wait = retryAfter
	} else {
		wait = min(b.jitter(backoff(b.retries)), max(remaining, 0))
	}
	b.retries++
	b.waited += wait
	return wait, true
}

// backoff is the exponential delay before retry n (0-based), before jitter.
func backoff(n int) time.Duration {
	if n >= 5 {
		return backoffMax
	}
	return min(backoffBase<<n, backoffMax)
}

// equalJitter keeps half of d and randomises the other half, so that clients
// throttled together do not retry together.
func equalJitter(d time.Duration) time.Duration {
	if d <= 1 {
		return d
	}
	half := d / 2
	return half + rand.N(d-half+1)
}

// parseRetryAfter reads a Retry-After value: a decimal number of seconds
// (fractional values such as "2.128" occur) or an HTTP date, which is turned
// into a wait relative to now (a past date means no wait).
func parseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if isDecimal(v) {
		secs, err := strconv.ParseFloat(v, 64)
		if (err != nil && !errors.Is(err, strconv.ErrRange)) || math.IsNaN(secs) || secs < 0 {
			return 0, false
		}
		// Too many digits for a float64 is +Inf with ErrRange: a long wait
		// still, not none.
		if secs >= maxRetryAfter.Seconds() {
			return maxRetryAfter, true
		}
		return time.Duration(secs * float64(time.Second)), true
	}
	t, err := http.ParseTime(v)
	if err != nil {
		return 0, false
	}
	d := t.Sub(now)
	if d < 0 {
		d = 0
	}
	return min(d, maxRetryAfter), true
}

// isDecimal accepts digits with at most one decimal point ("1", "1.5", ".5").
func isDecimal(s string) bool {
	digits, dots := 0, 0
	for i := 0; i < len(s); i++ {
		switch {
		case s[i] >= '0' && s[i] <= '9':
			digits++
		case s[i] == '.':
			dots++
		default:
			return false
		}
	}
	return digits > 0 && dots <= 1
}

// retryReason classifies a status that may be retried. ok is false for a
// status that is final. idempotentOnly statuses (502, 504) may have reached
// the service, so they are repeated only for requests that are safe to send
// twice; 429 and 503 mean the request was not processed.
func retryReason(status int) (reason string, idempotentOnly, ok bool) {
	switch status {
	case http.StatusTooManyRequests:
		return ReasonThrottled, false, true
	case http.StatusServiceUnavailable:
		return ReasonUnavailable, false, true
	case http.StatusBadGateway:
		return ReasonBadGateway, true, true
	case http.StatusGatewayTimeout:
		return ReasonGatewayTimeout, true, true
	}
	return "", false, false
}

// isThrottleStatus reports the statuses that produce a *ThrottledError when
// the budget runs out.
func isThrottleStatus(status int) bool {
	return status == http.StatusTooManyRequests || status == http.StatusServiceUnavailable
}
