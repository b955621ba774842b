package odata

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"
)

// Flavor selects the API dialect a Client speaks: its default headers and the
// service-specific conventions (such as the Dataverse $count cap) it applies.
type Flavor int

const (
	// Dataverse is the Dataverse (Dynamics 365) Web API.
	Dataverse Flavor = iota + 1
	// Graph is Microsoft Graph.
	Graph
)

// String names the flavour.
func (f Flavor) String() string {
	switch f {
	case Dataverse:
		return "dataverse"
	case Graph:
		return "graph"
	default:
		return fmt.Sprintf("Flavor(%d)", int(f))
	}
}

// Defaults and service limits.
const (
	DefaultMaxRetries       = 4
	DefaultMaxRetryWait     = 60 * time.Second
	DefaultRequestTimeout   = 30 * time.Second
	DefaultMaxResponseBytes = 16 << 20
	DefaultMaxPageSize      = 500

	// MaxPageSizeLimit is the largest odata.maxpagesize Dataverse accepts.
	MaxPageSizeLimit = 5000
	// MaxBatchRequests is the most requests one Dataverse $batch may carry.
	MaxBatchRequests = 1000
	// MaxGraphBatchRequests is the most requests one Graph JSON $batch may
	// carry; GraphBatch splits longer lists.
	MaxGraphBatchRequests = 20
	// DataverseCountCap is the largest @odata.count Dataverse returns for a
	// standard table.
	DataverseCountCap = 5000
)

// Retry reasons passed to Hooks.OnRetry. The set is fixed so that it can be
// used as a metric label.
const (
	ReasonThrottled      = "throttled"       // 429
	ReasonUnavailable    = "unavailable"     // 503
	ReasonBadGateway     = "bad_gateway"     // 502
	ReasonGatewayTimeout = "gateway_timeout" // 504
	ReasonConnection     = "connection"      // transport error or attempt deadline
	ReasonUnauthorized   = "unauthorized"    // 401: token refreshed, request repeated once
	ReasonBatchThrottled = "batch_throttled" // $batch inner 429s (and Dataverse 503s) sent again
)

// Hooks are optional callbacks for metrics and logging. None of their
// arguments ever carries a token, a secret or a full URL. They are called
// synchronously from the goroutine making the request and must be safe for
// concurrent use when the Client is shared.
type Hooks struct {
	// OnRequest is called before every attempt.
	OnRequest func(method, host string)
	// OnRetry is called before a request is repeated, with one of the Reason*
	// constants and the time the client will wait first.
	OnRetry func(reason string, wait time.Duration)
	// OnThrottle is called for every 429 or 503 answer (including the inner
	// 429s of a Graph $batch and the inner 429s and 503s of a Dataverse
	// $batch), with the Retry-After it carried or 0.
	OnThrottle func(status int, retryAfter time.Duration)
	// OnResponse is called after every attempt that got an HTTP answer.
	OnResponse func(status int, dur time.Duration)
}

// Options configure a Client. The zero value of each numeric field selects its
// default.
type Options struct {
	// Scopes are the token scopes, e.g. "https://org.crm.dynamics.com/.default".
	// Required.
	Scopes []string
	// HTTPClient sends the requests. Callers pass one that trusts the
	// emulator's CA in tests. Its redirect policy is replaced: the client never
	// follows redirects (a 3xx is an *APIError), so the token cannot be
	// forwarded. Nil uses a client with the default transport.
	HTTPClient *http.Client
	// Flavor is Dataverse or Graph. Required.
	Flavor Flavor
	// Now is the clock for Retry-After dates, token expiry and durations.
	// Required; token expiry comes from the identity platform's wall clock,
	// so it must follow that.
	Now func() time.Time
	// UserAgent is sent as User-Agent when set.
	UserAgent string
	// MaxRetries bounds how often one request is repeated after a retryable
	// answer. 0 selects DefaultMaxRetries; a negative value disables retries.
	// The single repeat after a 401 is not counted.
	MaxRetries int
	// MaxRetryWait bounds the total time one call waits between retries.
	// 0 selects DefaultMaxRetryWait.
	MaxRetryWait time.Duration
	// RequestTimeout is the deadline of each attempt, including reading the
	// body. 0 selects DefaultRequestTimeout.
	RequestTimeout time.Duration
	// MaxResponseBytes limits every response body. 0 selects
	// DefaultMaxResponseBytes.
	MaxResponseBytes int64
	// MaxPageSize is the odata.maxpagesize Pages asks for, at most
	// MaxPageSizeLimit. 0 selects DefaultMaxPageSize.
	MaxPageSize int
	// Hooks receive metrics events.
	Hooks Hooks
	// Sleep waits between retries; tests inject one that records the waits.
	// It must return early with ctx.Err() when ctx is done. Nil uses a timer.
	Sleep func(ctx context.Context, d time.Duration) error
}

// ErrInvalidOptions is wrapped by every error New returns for a bad argument.
var ErrInvalidOptions = errors.New("invalid odata client options")

func (o Options) withDefaults() (Options, error) {
	if len(o.Scopes) == 0 {
		return o, optionError("Scopes", "at least one token scope is required")
	}
	for i, s := range o.Scopes {
		if s == "" {
			return o, optionError(fmt.Sprintf("Scopes[%d]", i), "empty scope")
		}
	}
	if o.Now == nil {
		return o, optionError("Now", "no clock")
	}
	if o.Flavor != Dataverse && o.Flavor != Graph {
		return o, optionError("Flavor", fmt.Sprintf("%v is neither Dataverse nor Graph", o.Flavor))
	}
	switch {
	case o.MaxRetries == 0:
		o.MaxRetries = DefaultMaxRetries
	case o.MaxRetries < 0:
		o.MaxRetries = 0
	}
	switch {
	case o.MaxRetryWait == 0:
		o.MaxRetryWait = DefaultMaxRetryWait
	case o.MaxRetryWait < 0:
		return o, optionError("MaxRetryWait", fmt.Sprintf("%v is negative", o.MaxRetryWait))
	}
	switch {
	case o.RequestTimeout == 0:
		o.RequestTimeout = DefaultRequestTimeout
	case o.RequestTimeout < 0:
		return o, optionError("RequestTimeout", fmt.Sprintf("%v is negative", o.RequestTimeout))
	}
	switch {
	case o.MaxResponseBytes == 0:
		o.MaxResponseBytes = DefaultMaxResponseBytes
	case o.MaxResponseBytes < 0:
		return o, optionError("MaxResponseBytes", fmt.Sprintf("%d is negative", o.MaxResponseBytes))
	}
	switch {
	case o.MaxPageSize == 0:
		o.MaxPageSize = DefaultMaxPageSize
	case o.MaxPageSize < 0:
		return o, optionError("MaxPageSize", fmt.Sprintf("%d is negative", o.MaxPageSize))
	case o.MaxPageSize > MaxPageSizeLimit:
		return o, optionError("MaxPageSize", fmt.Sprintf("%d is above the Dataverse limit of %d", o.MaxPageSize, MaxPageSizeLimit))
	}
	if o.Sleep == nil {
		o.Sleep = sleep
	}
	return o, nil
}

func optionError(field, problem string) error {
	return fmt.Errorf("%w: %s: %s", ErrInvalidOptions, field, problem)
}

// sleep waits for d or until ctx is done.
func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
