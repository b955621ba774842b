package odata

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// GraphRequest is one request inside a Microsoft Graph JSON $batch.
type GraphRequest struct {
	// Method is the HTTP method; empty means GET.
	Method string
	// URL is relative to the client's base URL (e.g. "/subscribedSkus" for a
	// base of .../v1.0/), or an absolute URL on its host.
	URL string
	// Header holds the inner request's headers. A request with a Body gets
	// Content-Type: application/json unless it sets one.
	Header map[string]string
	// Body is the JSON body, if any.
	Body json.RawMessage
}

// GraphResponse is the answer to one GraphRequest, in request order.
type GraphResponse struct {
	// ID is the id the request was sent with ("1", "2", … in request order).
	ID     string
	Status int
	Header map[string]string
	Body   json.RawMessage

	method     string
	url        string
	retryAfter time.Duration // parsed when the answer arrived
	hasRetry   bool
	apiErr     *APIError // built with the client's secrets redacted
	attempts   int       // how many batches carried the request
}

// Err returns nil for a 2xx answer, a *ThrottledError (wrapping the
// *APIError, and counting the batches that carried the request) for a 429
// that was still throttled when the retry budget ran out, and the *APIError
// parsed from the body otherwise.
func (r GraphResponse) Err() error {
	if r.Status >= 200 && r.Status < 300 {
		return nil
	}
	apiErr := r.apiErr
	if apiErr == nil {
		apiErr = newAPIError(r.Status, r.Body, r.method, r.url)
	}
	if r.Status == http.StatusTooManyRequests {
		return &ThrottledError{Status: r.Status, RetryAfter: r.retryAfter, Method: r.method, URL: r.url, Attempts: r.attempts, Err: apiErr}
	}
	return apiErr
}

// DecodeJSON decodes the body into out after checking Err.
func (r GraphResponse) DecodeJSON(out any) error {
	if err := r.Err(); err != nil {
		return err
	}
	if err := json.Unmarshal(r.Body, out); err != nil {
		return &DecodeError{Method: r.method, URL: r.url, Err: err}
	}
	return nil
}

type graphBatchItem struct {
	ID      string            `json:"id"`
	Method  string            `json:"method"`
	URL     string            `json:"url"`
	Headers map[string]string `json:"headers,omitempty"`
	Body    json.RawMessage   `json:"body,omitempty"`
}

type graphBatchAnswer struct {
	ID      string            `json:"id"`
	Status  int               `json:"status"`
	Headers map[string]string `json:"headers"`
	Body    json.RawMessage   `json:"body"`
}

// GraphBatch sends reqs as Graph JSON $batch requests of at most
// MaxGraphBatchRequests each (longer lists are split) and returns one answer
// per request in request order; answers are matched back by id whatever
// order the service returns them in. Inner 429s are sent again, only those
// requests, in a new batch after the longest inner Retry-After, drawing on
// the same retry budget as the outer requests; when the budget runs out the
// 429 answers are returned as they are and their Err is a *ThrottledError.
// A failed inner request is not an error of GraphBatch: its Err says what
// failed.
func (c *Client) GraphBatch(ctx context.Context, reqs []GraphRequest) ([]GraphResponse, error) {
	if len(reqs) == 0 {
		return nil, nil
	}
	items, err := c.prepareGraphBatch(reqs)
	if err != nil {
		return nil, err
	}
	out := make([]GraphResponse, len(reqs))
	b := c.newBudget()
	pending := make([]int, len(reqs))
	for i := range pending {
		pending[i] = i
	}
	challenged := false
	for {
		var throttled, refused []int
		var maxWait time.Duration
		hasWait := false
		claims := ""
		for start := 0; start < len(pending); start += MaxGraphBatchRequests {
			chunk := pending[start:min(start+MaxGraphBatchRequests, len(pending))]
			if err := c.graphRound(ctx, items, chunk, out, b); err != nil {
				return nil, err
			}
			for _, i := range chunk {
				if out[i].Status == http.StatusUnauthorized && !challenged {
					// A claims challenge on an inner answer (continuous
					// access evaluation revoked the token mid-batch): the
					// request is re-sent once with a token for the claims.
					if cl := claimsChallenge([]string{headerValue(out[i].Header, "WWW-Authenticate")}); cl != "" {
						refused, claims = append(refused, i), cl
					}
				}
				if out[i].Status != http.StatusTooManyRequests {
					continue
				}
				throttled = append(throttled, i)
				if out[i].hasRetry {
					hasWait = true
					maxWait = max(maxWait, out[i].retryAfter)
				}
				if h := c.opts.Hooks.OnThrottle; h != nil {
					h(http.StatusTooManyRequests, out[i].retryAfter)
				}
			}
		}
		if len(refused) > 0 {
			challenged = true
			if _, err := c.tokens.challenge(ctx, c.tokens.current(), claims); err == nil {
				if h := c.opts.Hooks.OnRetry; h != nil {
					h(ReasonUnauthorized, 0)
				}
				if len(throttled) == 0 {
					pending = refused
					continue
				}
				// The throttled ones wait their Retry-After; the refused
				// ones go with them.
				throttled = slices.Concat(throttled, refused)
				slices.Sort(throttled)
			}
		}
		if len(throttled) == 0 {
			return out, nil
		}
		wait, ok := b.plan(maxWait, hasWait)
		if !ok {
			return out, nil
		}
		if h := c.opts.Hooks.OnRetry; h != nil {
			h(ReasonBatchThrottled, wait)
		}
		if err := c.opts.Sleep(ctx, wait); err != nil {
			return nil, fmt.Errorf("graph batch: wait to retry %d throttled request(s): %w", len(throttled), err)
		}
		pending = throttled
	}
}

// prepareGraphBatch validates reqs and renders their batch items, with ids
// "1".."n" in request order.
func (c *Client) prepareGraphBatch(reqs []GraphRequest) ([]graphBatchItem, error) {
	items := make([]graphBatchItem, len(reqs))
	basePath := c.base.EscapedPath()
	for i, r := range reqs {
		method := strings.ToUpper(strings.TrimSpace(r.Method))
		if method == "" {
			method = http.MethodGet
		}
		if !validToken(method) {
			return nil, fmt.Errorf("graph batch request %d: invalid method %q", i, r.Method)
		}
		u, err := c.resolve(r.URL)
		if err != nil {
			return nil, fmt.Errorf("graph batch request %d: %w", i, err)
		}
		if !strings.HasPrefix(u.EscapedPath(), basePath) {
			return nil, fmt.Errorf("graph batch request %d: %s is outside the service root %s", i, c.showURL(u), basePath)
		}
		rel := "/" + strings.TrimPrefix(u.EscapedPath(), basePath)
		if u.RawQuery != "" {
			rel += "?" + u.RawQuery
		}
		var headers map[string]string
		for k, v := range r.Header {
			if !validToken(k) || strings.ContainsAny(v, "\r\n\x00") {
				return nil, fmt.Errorf("graph batch request %d: invalid header %q", i, k)
			}
			if strings.EqualFold(k, "Authorization") {
				continue
			}
			if headers == nil {
				headers = make(map[string]string, len(r.Header)+1)
			}
			headers[k] = v
		}
		if len(r.Body) > 0 {
			if !json.Valid(r.Body) {
				return nil, fmt.Errorf("graph batch request %d: body is not valid JSON", i)
			}
			if headerValue(headers, "Content-Type") == "" {
				if headers == nil {
					headers = map[string]string{}
				}
				headers["Content-Type"] = "application/json"
			}
		}
		items[i] = graphBatchItem{
			ID:      strconv.Itoa(i + 1),
			Method:  method,
			URL:     rel,
			Headers: headers,
			Body:    r.Body,
		}
	}
	return items, nil
}

// graphRound sends the requests at indices chunk as one $batch and stores
// each answer at its request's index in out.
func (c *Client) graphRound(ctx context.Context, items []graphBatchItem, chunk []int, out []GraphResponse, b *budget) error {
	batch := struct {
		Requests []graphBatchItem `json:"requests"`
	}{Requests: make([]graphBatchItem, len(chunk))}
	byID := make(map[string]int, len(chunk))
	idempotent := true
	for n, i := range chunk {
		batch.Requests[n] = items[i]
		byID[items[i].ID] = i
		if items[i].Method != http.MethodGet {
			idempotent = false
		}
	}
	body, err := json.Marshal(batch)
	if err != nil {
		return fmt.Errorf("graph batch: encode: %w", err)
	}
	u, err := c.resolve("$batch")
	if err != nil {
		return fmt.Errorf("graph batch: %w", err)
	}
	resp, err := c.send(ctx, http.MethodPost, u, http.Header{"Content-Type": {"application/json"}}, body, idempotent, b)
	if err != nil {
		return fmt.Errorf("graph batch of %d requests: %w", len(chunk), err)
	}
	return c.readGraphAnswers(resp, items, chunk, out, byID)
}

// readGraphAnswers decodes the answer to the $batch of the requests at
// indices chunk (byID maps their ids to those indices), which the service
// controls: exactly one answer per id, each with a status from 100 to 599,
// stored at its request's index in out.
func (c *Client) readGraphAnswers(resp *Response, items []graphBatchItem, chunk []int, out []GraphResponse, byID map[string]int) error {
	var answer struct {
		Responses *[]graphBatchAnswer `json:"responses"`
	}
	if err := resp.DecodeJSON(&answer); err != nil {
		return err
	}
	if answer.Responses == nil {
		return &DecodeError{Method: http.MethodPost, URL: resp.RequestURL, Err: errors.New(`the response has no "responses" array`)}
	}
	seen := make(map[string]bool, len(chunk))
	for _, a := range *answer.Responses {
		i, ok := byID[a.ID]
		if !ok {
			return &DecodeError{Method: http.MethodPost, URL: resp.RequestURL, Err: fmt.Errorf("answer with unknown id %q", a.ID)}
		}
		if seen[a.ID] {
			return &DecodeError{Method: http.MethodPost, URL: resp.RequestURL, Err: fmt.Errorf("two answers with id %q", a.ID)}
		}
		if a.Status < 100 || a.Status > 599 {
			return &DecodeError{Method: http.MethodPost, URL: resp.RequestURL, Err: fmt.Errorf("answer %q has status %d", a.ID, a.Status)}
		}
		seen[a.ID] = true
		ra, hasRA := parseRetryAfter(headerValue(a.Headers, "Retry-After"), c.now())
		out[i] = GraphResponse{
			ID:         a.ID,
			Status:     a.Status,
			Header:     a.Headers,
			Body:       a.Body,
			method:     items[i].Method,
			url:        redact(redactURL(c.base)+strings.TrimPrefix(items[i].URL, "/"), c.tokens.current()),
			retryAfter: ra,
			hasRetry:   hasRA,
			attempts:   out[i].attempts + 1,
		}
		if a.Status < 200 || a.Status >= 300 {
			out[i].apiErr = newAPIError(a.Status, a.Body, out[i].method, out[i].url, c.tokens.current())
		}
	}
	if len(seen) != len(chunk) {
		var missing []string
		for _, i := range chunk {
			if !seen[items[i].ID] {
				missing = append(missing, items[i].ID)
			}
		}
		return &DecodeError{Method: http.MethodPost, URL: resp.RequestURL, Err: fmt.Errorf("no answer for id(s) %s", strings.Join(missing, ", "))}
	}
	return nil
}

// headerValue looks a header up case-insensitively in a JSON header map.
func headerValue(h map[string]string, name string) string {
	for k, v := range h {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	return ""
}
