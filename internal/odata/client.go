package odata

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
)

// Client sends authenticated requests to one service root (a Dataverse
// environment's /api/data/v9.2/ or Graph's /v1.0/). It is safe for concurrent
// use.
type Client struct {
	base   *url.URL
	opts   Options
	http   *http.Client
	tokens *tokenCache

	// Seams for tests: the clock (Retry-After dates, token expiry), the
	// backoff jitter and the $batch boundary id.
	now    func() time.Time
	jitter func(time.Duration) time.Duration
	newID  func() string
}

// Request is a request for Do.
type Request struct {
	// Method is the HTTP method, e.g. PATCH.
	Method string
	// Path is relative to the client's base URL, or an absolute URL on the
	// base's host.
	Path string
	// Header is added to (and overrides) the default headers, e.g. If-Match
	// or Prefer: return=representation. An Authorization header is ignored:
	// the client sets its own.
	Header http.Header
	// Body is sent as is; Content-Type defaults to application/json when a
	// body is given.
	Body []byte
	// Idempotent asserts that sending the request twice is harmless (for
	// example a $batch of GETs), which allows retries after connection
	// errors, 502 and 504. GET, HEAD and OPTIONS are always idempotent.
	Idempotent bool
}

// Response is a completed HTTP exchange. It is returned, with an error, for
// non-2xx answers too.
type Response struct {
	Status int
	Header http.Header
	// Body is the whole response body (at most Options.MaxResponseBytes).
	Body []byte
	// RequestURL is the URL of the last attempt, with userinfo and secrets
	// removed.
	RequestURL string
	// Duration is the wall time of the call, retries and waits included.
	Duration time.Duration
	// Attempts is how many times the request was sent.
	Attempts int

	method string
}

// DecodeJSON decodes the body into out; a malformed body is a *DecodeError
// naming the request.
func (r *Response) DecodeJSON(out any) error {
	if err := json.Unmarshal(r.Body, out); err != nil {
		return &DecodeError{Method: r.method, URL: r.RequestURL, Err: err}
	}
	return nil
}

// New returns a client for the service root base (for Dataverse
// https://org.crm.dynamics.com/api/data/v9.2/; a missing trailing slash is
// added). base must be https and carry no userinfo.
func New(base *url.URL, cred azcore.TokenCredential, opts Options) (*Client, error) {
	if base == nil {
		return nil, optionError("base", "no base URL")
	}
	if !strings.EqualFold(base.Scheme, "https") || base.Host == "" {
		return nil, optionError("base", fmt.Sprintf("%s is not an absolute https URL", redactURL(base)))
	}
	if base.User != nil {
		return nil, optionError("base", "the URL must not carry credentials")
	}
	if base.RawQuery != "" || base.Fragment != "" {
		return nil, optionError("base", fmt.Sprintf("%s must not have a query or fragment", redactURL(base)))
	}
	if cred == nil {
		return nil, optionError("cred", "no token credential")
	}
	o, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	o.Scopes = append([]string(nil), o.Scopes...)

	b := *base
	if !strings.HasSuffix(b.Path, "/") {
		b.Path += "/"
		if b.RawPath != "" {
			b.RawPath += "/"
		}
	}

	hc := &http.Client{}
	if o.HTTPClient != nil {
		copied := *o.HTTPClient
		hc = &copied
	}
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

	c := &Client{
		base:   &b,
		opts:   o,
		http:   hc,
		now:    o.Now,
		jitter: equalJitter,
		newID:  newUUID,
	}
	c.tokens = &tokenCache{cred: cred, scopes: o.Scopes, now: func() time.Time { return c.now() }}
	return c, nil
}

// BaseURL returns a copy of the service root the client resolves paths against.
func (c *Client) BaseURL() *url.URL {
	u := *c.base
	return &u
}

// Get sends a GET for path and decodes a 2xx JSON answer into out (skipped
// when out is nil or the body is empty).
func (c *Client) Get(ctx context.Context, path string, out any) (*Response, error) {
	resp, err := c.GetRaw(ctx, path)
	if err != nil {
		return resp, err
	}
	if out != nil && len(bytes.TrimSpace(resp.Body)) > 0 {
		if err := resp.DecodeJSON(out); err != nil {
			return resp, err
		}
	}
	return resp, nil
}

// GetRaw sends a GET for path and returns the answer with its raw body, for
// non-JSON answers such as the text/plain of /$count.
func (c *Client) GetRaw(ctx context.Context, path string) (*Response, error) {
	return c.Do(ctx, &Request{Method: http.MethodGet, Path: path})
}

// Do sends req with auth, default headers and retries. A non-2xx answer
// returns the Response together with an *APIError (or *ThrottledError,
// *AuthError).
func (c *Client) Do(ctx context.Context, req *Request) (*Response, error) {
	if req == nil {
		return nil, errors.New("odata: nil request")
	}
	method := strings.ToUpper(strings.TrimSpace(req.Method))
	if method == "" {
		method = http.MethodGet
	}
	if !validToken(method) {
		return nil, fmt.Errorf("odata: invalid method %q", req.Method)
	}
	if err := checkHeader(req.Header); err != nil {
		return nil, fmt.Errorf("%s %s: %w", method, req.Path, err)
	}
	u, err := c.resolve(req.Path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", method, err)
	}
	return c.send(ctx, method, u, req.Header, req.Body, req.Idempotent || isIdempotent(method), c.newBudget())
}

func isIdempotent(method string) bool {
	return method == http.MethodGet || method == http.MethodHead || method == http.MethodOptions
}

// send runs the attempt/retry loop for one request.
func (c *Client) send(ctx context.Context, method string, u *url.URL, header http.Header, body []byte, idempotent bool, b *budget) (*Response, error) {
	shown := c.showURL(u)
	start := c.now()
	attempts := 0
	refreshed := false
	for {
		token, err := c.tokens.get(ctx)
		if err != nil {
			if ctxErr := ctx.Err(); ctxErr != nil {
				return nil, fmt.Errorf("%s %s: %w", method, shown, ctxErr)
			}
			return nil, &AuthError{Method: method, URL: shown, Err: credentialError(err, c.tokens.current())}
		}
		attempts++
		resp, err := c.attempt(ctx, method, u, header, body, token)
		if resp != nil {
			resp.Duration = c.now().Sub(start)
			resp.Attempts = attempts
		}

		var (
			reason        string
			retryAfter    time.Duration
			hasRetryAfter bool
			lastErr       error
			status        int
		)
		switch {
		case err != nil:
			if ctxErr := ctx.Err(); ctxErr != nil {
				return nil, fmt.Errorf("%s %s: %w", method, shown, ctxErr)
			}
			if errors.Is(err, ErrResponseTooLarge) || !idempotent {
				return nil, err
			}
			reason, lastErr = ReasonConnection, err
		case resp.Status == http.StatusUnauthorized:
			apiErr := newAPIError(resp.Status, resp.Body, method, shown, token)
			if refreshed {
				return resp, &AuthError{Method: method, URL: shown, Refreshed: true, Err: apiErr}
			}
			refreshed = true
			if claims := claimsChallenge(resp.Header.Values("WWW-Authenticate")); claims != "" {
				// A claims challenge (continuous access evaluation): a token
				// that satisfies it, from the credential rather than its cache.
				if _, err := c.tokens.challenge(ctx, token, claims); err != nil {
					if ctxErr := ctx.Err(); ctxErr != nil {
						return nil, fmt.Errorf("%s %s: %w", method, shown, ctxErr)
					}
					return resp, &AuthError{Method: method, URL: shown, Err: credentialError(err, token)}
				}
			} else {
				c.tokens.invalidate(token)
			}
			if h := c.opts.Hooks.OnRetry; h != nil {
				h(ReasonUnauthorized, 0)
			}
			continue
		case resp.Status >= 200 && resp.Status < 300:
			return resp, nil
		default:
			status = resp.Status
			apiErr := newAPIError(resp.Status, resp.Body, method, shown, token)
			r, idempotentOnly, retryable := retryReason(resp.Status)
			if !retryable || (idempotentOnly && !idempotent) {
				return resp, apiErr
			}
			retryAfter, hasRetryAfter = parseRetryAfter(resp.Header.Get("Retry-After"), c.now())
			if isThrottleStatus(resp.Status) {
				if h := c.opts.Hooks.OnThrottle; h != nil {
					h(resp.Status, retryAfter)
				}
			}
			reason, lastErr = r, apiErr
		}

		wait, ok := b.plan(retryAfter, hasRetryAfter)
		if !ok {
			if isThrottleStatus(status) {
				return resp, &ThrottledError{Status: status, RetryAfter: retryAfter, Method: method, URL: shown, Attempts: attempts, Err: lastErr}
			}
			return resp, fmt.Errorf("gave up after %d attempt(s): %w", attempts, lastErr)
		}
		if h := c.opts.Hooks.OnRetry; h != nil {
			h(reason, wait)
		}
		if err := c.opts.Sleep(ctx, wait); err != nil {
			return nil, fmt.Errorf("%s %s: wait to retry: %w", method, shown, err)
		}
	}
}

// attempt sends the request once and reads the whole body within the
// attempt's deadline. An error means no usable HTTP answer arrived.
func (c *Client) attempt(ctx context.Context, method string, u *url.URL, header http.Header, body []byte, token string) (*Response, error) {
	shown := c.showURL(u)
	actx, cancel := context.WithTimeout(ctx, c.opts.RequestTimeout)
	defer cancel()

	var rdr io.Reader
	if body != nil {
		rdr = bytes.NewReader(body)
	}
	hreq, err := http.NewRequestWithContext(actx, method, u.String(), rdr)
	if err != nil {
		return nil, fmt.Errorf("%s %s: build request: %w", method, shown, err)
	}
	c.setHeaders(hreq.Header, header, body != nil)
	hreq.Header.Set("Authorization", "Bearer "+token)

	if h := c.opts.Hooks.OnRequest; h != nil {
		h(method, u.Host)
	}
	started := c.now()
	hresp, err := c.http.Do(hreq)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", method, shown, transportCause(err, token))
	}
	defer hresp.Body.Close()

	data, tooLarge, err := readLimited(hresp.Body, c.opts.MaxResponseBytes)
	if h := c.opts.Hooks.OnResponse; h != nil {
		h(hresp.StatusCode, c.now().Sub(started))
	}
	if err != nil {
		return nil, fmt.Errorf("%s %s: read response: %w", method, shown, transportCause(err, token))
	}
	ok := hresp.StatusCode >= 200 && hresp.StatusCode < 300
	if tooLarge && ok {
		return nil, fmt.Errorf("%s %s: %w (limit %d bytes)", method, shown, ErrResponseTooLarge, c.opts.MaxResponseBytes)
	}
	return &Response{
		Status:     hresp.StatusCode,
		Header:     hresp.Header,
		Body:       data,
		RequestURL: shown,
		method:     method,
	}, nil
}

// setHeaders writes the flavour's defaults, then the caller's headers.
func (c *Client) setHeaders(h, extra http.Header, hasBody bool) {
	h.Set("Accept", "application/json")
	if c.opts.Flavor == Dataverse {
		h.Set("OData-MaxVersion", "4.0")
		h.Set("OData-Version", "4.0")
		h.Set("If-None-Match", "null")
	}
	if c.opts.UserAgent != "" {
		h.Set("User-Agent", c.opts.UserAgent)
	}
	if hasBody {
		h.Set("Content-Type", "application/json")
	}
	for k, vs := range extra {
		if strings.EqualFold(k, "Authorization") {
			continue
		}
		h[http.CanonicalHeaderKey(k)] = append([]string(nil), vs...)
	}
}

// readLimited reads at most limit bytes; tooLarge reports that more followed.
func readLimited(r io.Reader, limit int64) (data []byte, tooLarge bool, err error) {
	data, err = io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, false, err
	}
	if int64(len(data)) > limit {
		return data[:limit], true, nil
	}
	return data, false, nil
}

// transportCause strips the URL that *url.Error repeats (the caller names the
// redacted one) and any token from a transport error, keeping the chain for
// errors.Is (timeouts, connection resets).
func transportCause(err error, token string) error {
	var uerr *url.Error
	if errors.As(err, &uerr) {
		err = uerr.Err
	}
	if msg := redact(err.Error(), token); msg != err.Error() {
		return errors.New(msg)
	}
	return err
}

// credentialError keeps the text of a credential's error, which can carry a
// whole token-endpoint answer, redacted and then bounded: it is the only copy
// kept, so neither a token nor megabytes of it outlive the call.
func credentialError(err error, token string) error {
	return errors.New(BoundText(redact(err.Error(), token)))
}

// checkHeader refuses header names or values that would break the request
// framing (or a $batch part).
func checkHeader(h http.Header) error {
	for k, vs := range h {
		if !validToken(k) {
			return fmt.Errorf("invalid header name %q", k)
		}
		for _, v := range vs {
			if strings.ContainsAny(v, "\r\n\x00") {
				return fmt.Errorf("header %s: value contains a line break or NUL", k)
			}
		}
	}
	return nil
}

// validToken reports whether s is an RFC 9110 token (method or header name).
func validToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		ch := s[i]
		switch {
		case ch >= 'a' && ch <= 'z', ch >= 'A' && ch <= 'Z', ch >= '0' && ch <= '9':
		case strings.IndexByte("!#$%&'*+-.^_`|~", ch) >= 0:
		default:
			return false
		}
	}
	return true
}

// newUUID returns a random (version 4) UUID for $batch boundaries.
func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (it panics instead).
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
