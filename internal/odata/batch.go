package odata

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// BatchRequest is one request inside a Dataverse $batch.
type BatchRequest struct {
	// Method must be GET in this version: GETs travel outside change sets,
	// and change sets (atomic groups of writes) are not built yet.
	Method string
	// Path is relative to the client's base URL (or an absolute URL on its
	// host), exactly as for Get.
	Path string
	// Header holds the inner request's headers, e.g. Prefer; Accept defaults
	// to application/json.
	Header http.Header
	// Body must be empty for GET.
	Body []byte
}

// BatchResponse is the answer to one request of a $batch, in request order.
type BatchResponse struct {
	Status int
	Header http.Header
	Body   []byte
	// ContentID is the part's Content-ID (set for change-set members).
	ContentID string

	method     string
	url        string
	apiErr     *APIError     // built by Batch with the client's secrets redacted
	retryAfter time.Duration // parsed when the answer arrived
	hasRetry   bool
	attempts   int // how many batches carried the request
}

// Err returns nil for a 2xx answer, a *ThrottledError (wrapping the
// *APIError, and counting the batches that carried the request) for a 429 or
// 503 that was still failing when the retry budget ran out, and the
// *APIError parsed from the body otherwise.
func (r BatchResponse) Err() error {
	if r.Status >= 200 && r.Status < 300 {
		return nil
	}
	apiErr := r.apiErr
	if apiErr == nil {
		apiErr = newAPIError(r.Status, r.Body, r.method, r.url)
	}
	if isThrottleStatus(r.Status) {
		return &ThrottledError{Status: r.Status, RetryAfter: r.retryAfter, Method: r.method, URL: r.url, Attempts: r.attempts, Err: apiErr}
	}
	return apiErr
}

// DecodeJSON decodes the body into out after checking Err.
func (r BatchResponse) DecodeJSON(out any) error {
	if err := r.Err(); err != nil {
		return err
	}
	if err := json.Unmarshal(r.Body, out); err != nil {
		return &DecodeError{Method: r.method, URL: r.url, Err: err}
	}
	return nil
}

// batchPart is one element of a $batch body. A single operation is the only
// kind built today; a change set (a nested multipart/mixed of writes with
// Content-IDs, applied atomically) is the other kind the format allows and
// would be added as a second implementation. The response parser already
// flattens change-set answers.
type batchPart interface {
	// writePart writes the part's MIME headers, blank line and content.
	writePart(b *bytes.Buffer)
	// size is the number of requests (and so of answers) the part holds.
	size() int
}

// batchOperation is one request prepared for a $batch body.
type batchOperation struct {
	method    string
	target    *url.URL
	header    http.Header
	body      []byte
	contentID string
}

func (op *batchOperation) size() int { return 1 }

func (op *batchOperation) writePart(b *bytes.Buffer) {
	b.WriteString("Content-Type: application/http\r\n")
	b.WriteString("Content-Transfer-Encoding: binary\r\n")
	if op.contentID != "" {
		b.WriteString("Content-ID: " + op.contentID + "\r\n")
	}
	b.WriteString("\r\n")
	b.WriteString(op.method + " " + op.target.RequestURI() + " HTTP/1.1\r\n")
	h := http.Header{"Accept": {"application/json"}}
	if len(op.body) > 0 {
		h.Set("Content-Type", "application/json")
	}
	for k, vs := range op.header {
		h[http.CanonicalHeaderKey(k)] = vs
	}
	keys := make([]string, 0, len(h))
	for k := range h {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		for _, v := range h[k] {
			b.WriteString(k + ": " + v + "\r\n")
		}
	}
	b.WriteString("\r\n")
	b.Write(op.body)
}

// writeBatchBody renders the multipart/mixed body of a $batch.
func writeBatchBody(boundary string, parts []batchPart) []byte {
	var b bytes.Buffer
	for _, p := range parts {
		b.WriteString("--" + boundary + "\r\n")
		p.writePart(&b)
		b.WriteString("\r\n")
	}
	b.WriteString("--" + boundary + "--\r\n")
	return b.Bytes()
}

// prepareBatch validates reqs and turns them into body parts.
func (c *Client) prepareBatch(reqs []BatchRequest) ([]batchPart, error) {
	if len(reqs) > MaxBatchRequests {
		return nil, fmt.Errorf("batch of %d requests: %w (at most %d)", len(reqs), ErrBatchTooLarge, MaxBatchRequests)
	}
	parts := make([]batchPart, 0, len(reqs))
	for i, r := range reqs {
		method := strings.ToUpper(strings.TrimSpace(r.Method))
		if method == "" {
			method = http.MethodGet
		}
		if method != http.MethodGet {
			return nil, fmt.Errorf("batch request %d: method %q: only GET is supported outside change sets", i, r.Method)
		}
		if len(r.Body) > 0 {
			return nil, fmt.Errorf("batch request %d: a GET must not have a body", i)
		}
		if err := checkHeader(r.Header); err != nil {
			return nil, fmt.Errorf("batch request %d: %w", i, err)
		}
		u, err := c.resolve(r.Path)
		if err != nil {
			return nil, fmt.Errorf("batch request %d: %w", i, err)
		}
		parts = append(parts, &batchOperation{method: method, target: u, header: r.Header})
	}
	return parts, nil
}

// Batch sends reqs as one Dataverse multipart $batch with
// Prefer: odata.continue-on-error and returns one answer per request, in
// request order (change-set answers flattened). A failed inner request is not
// an error of Batch: its BatchResponse.Err says what failed. The outer
// request is retried like any other (429 after Retry-After, and connection
// errors, since a batch of GETs is safe to repeat). Inner 429 and 503
// answers are sent again, only those requests, in a new $batch after the
// longest inner Retry-After (or a backoff when none is given), drawing on the
// same retry budget as the outer requests; their answers are merged back in
// request order, and when the budget runs out the failing answers are
// returned as they are, with a *ThrottledError as their Err. More than
// MaxBatchRequests requests is ErrBatchTooLarge.
func (c *Client) Batch(ctx context.Context, reqs []BatchRequest) ([]BatchResponse, error) {
	if len(reqs) == 0 {
		return nil, nil
	}
	parts, err := c.prepareBatch(reqs)
	if err != nil {
		return nil, err
	}
	// first[i] is the index in out of part i's first answer.
	first := make([]int, len(parts))
	total := 0
	for i, p := range parts {
		first[i] = total
		total += p.size()
	}
	out := make([]BatchResponse, total)
	b := c.newBudget()
	pending := make([]int, len(parts))
	for i := range pending {
		pending[i] = i
	}
	for {
		if err := c.batchRound(ctx, parts, first, pending, out, b); err != nil {
			return nil, err
		}
		var again []int
		var maxWait time.Duration
		hasWait := false
		for _, p := range pending {
			throttled := false
			for i := first[p]; i < first[p]+parts[p].size(); i++ {
				if !isThrottleStatus(out[i].Status) {
					continue
				}
				throttled = true
				if out[i].hasRetry {
					hasWait = true
					maxWait = max(maxWait, out[i].retryAfter)
				}
				if h := c.opts.Hooks.OnThrottle; h != nil {
					h(out[i].Status, out[i].retryAfter)
				}
			}
			if throttled {
				again = append(again, p)
			}
		}
		if len(again) == 0 {
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
			return nil, fmt.Errorf("batch: wait to retry %d throttled request(s): %w", len(again), err)
		}
		pending = again
	}
}

// batchRound sends the parts at indices pending as one $batch and stores
// their answers in out, from first[p] on for part p.
func (c *Client) batchRound(ctx context.Context, parts []batchPart, first, pending []int, out []BatchResponse, b *budget) error {
	send := make([]batchPart, len(pending))
	want := 0
	for n, p := range pending {
		send[n] = parts[p]
		want += parts[p].size()
	}
	boundary := "batch_" + c.newID()
	body := writeBatchBody(boundary, send)
	u, err := c.resolve("$batch")
	if err != nil {
		return fmt.Errorf("batch: %w", err)
	}
	header := http.Header{
		"Content-Type": {"multipart/mixed; boundary=" + boundary},
		"Prefer":       {"odata.continue-on-error"},
	}
	resp, err := c.send(ctx, http.MethodPost, u, header, body, true, b)
	if err != nil {
		return fmt.Errorf("batch of %d requests: %w", want, err)
	}
	answers, err := parseBatchResponse(resp.Header.Get("Content-Type"), resp.Body)
	if err != nil {
		return &DecodeError{Method: http.MethodPost, URL: resp.RequestURL, Err: err}
	}
	if len(answers) != want {
		return &DecodeError{Method: http.MethodPost, URL: resp.RequestURL,
			Err: fmt.Errorf("%d answers for %d requests", len(answers), want)}
	}
	token := c.tokens.current()
	k := 0
	for _, p := range pending {
		for i := first[p]; i < first[p]+parts[p].size(); i++ {
			a := answers[k]
			k++
			if op, ok := parts[p].(*batchOperation); ok {
				a.method, a.url = op.method, c.showURL(op.target)
			}
			a.attempts = out[i].attempts + 1
			if a.Status < 200 || a.Status >= 300 {
				a.apiErr = newAPIError(a.Status, a.Body, a.method, a.url, token)
			}
			if isThrottleStatus(a.Status) {
				a.retryAfter, a.hasRetry = parseRetryAfter(a.Header.Get("Retry-After"), c.now())
			}
			out[i] = a
		}
	}
	return nil
}

// parseBatchResponse reads a multipart/mixed $batch answer: each part is an
// application/http response, or a multipart/mixed change set of them, which
// is flattened in place.
func parseBatchResponse(contentType string, body []byte) ([]BatchResponse, error) {
	boundary, err := multipartBoundary(contentType)
	if err != nil {
		return nil, fmt.Errorf("batch response: %w", err)
	}
	out, err := parseBatchParts(bytes.NewReader(body), boundary, false)
	if err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("batch response: part 1: no part with boundary %q", boundary)
	}
	return out, nil
}

func multipartBoundary(contentType string) (string, error) {
	mt, params, err := mime.ParseMediaType(contentType)
	if err != nil {
		return "", fmt.Errorf("Content-Type %q: %w", contentType, err)
	}
	if mt != "multipart/mixed" {
		return "", fmt.Errorf("Content-Type %q is not multipart/mixed", contentType)
	}
	if params["boundary"] == "" {
		return "", fmt.Errorf("Content-Type %q has no boundary", contentType)
	}
	return params["boundary"], nil
}

func parseBatchParts(r io.Reader, boundary string, inChangeSet bool) ([]BatchResponse, error) {
	var out []BatchResponse
	mr := multipart.NewReader(r, boundary)
	for n := 1; ; n++ {
		part, err := mr.NextRawPart()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("part %d: %w", n, err)
		}
		ct := part.Header.Get("Content-Type")
		mt, params, err := mime.ParseMediaType(ct)
		if err != nil {
			return nil, fmt.Errorf("part %d: Content-Type %q: %w", n, ct, err)
		}
		switch {
		case mt == "application/http":
			resp, err := readInnerResponse(part)
			if err != nil {
				return nil, fmt.Errorf("part %d: %w", n, err)
			}
			resp.ContentID = part.Header.Get("Content-ID")
			out = append(out, resp)
		case mt == "multipart/mixed" && !inChangeSet:
			if params["boundary"] == "" {
				return nil, fmt.Errorf("part %d: change set without a boundary", n)
			}
			inner, err := parseBatchParts(part, params["boundary"], true)
			if err != nil {
				return nil, fmt.Errorf("part %d (change set): %w", n, err)
			}
			out = append(out, inner...)
		default:
			return nil, fmt.Errorf("part %d: unexpected Content-Type %q", n, ct)
		}
	}
}

// readInnerResponse parses one application/http part: an HTTP/1.x status line
// with a status from 100 to 599, headers and a body that runs to the end of
// the part (or its Content-Length).
func readInnerResponse(r io.Reader) (BatchResponse, error) {
	hr, err := http.ReadResponse(bufio.NewReader(r), nil)
	if err != nil {
		return BatchResponse{}, fmt.Errorf("inner response: %w", err)
	}
	defer hr.Body.Close()
	// http.ReadResponse accepts any HTTP/d.d version and any three digits,
	// so "HTTP/0.0 000" would become status 0.
	if hr.ProtoMajor != 1 {
		return BatchResponse{}, fmt.Errorf("inner response: status line protocol %q is not HTTP/1.x", hr.Proto)
	}
	if hr.StatusCode < 100 || hr.StatusCode > 599 {
		return BatchResponse{}, fmt.Errorf("inner response: status %03d is outside 100-599", hr.StatusCode)
	}
	body, err := io.ReadAll(hr.Body)
	if err != nil {
		return BatchResponse{}, fmt.Errorf("inner response body: %w", err)
	}
	return BatchResponse{Status: hr.StatusCode, Header: hr.Header, Body: body}, nil
}
