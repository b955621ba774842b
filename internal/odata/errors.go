package odata

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"
)

// Sentinel errors, matched with errors.Is. An *APIError matches the sentinel
// of its status; a *ThrottledError matches ErrThrottled; an *AuthError
// matches ErrUnauthorized.
var (
	ErrUnauthorized       = errors.New("unauthorized")        // 401
	ErrForbidden          = errors.New("forbidden")           // 403
	ErrNotFound           = errors.New("not found")           // 404
	ErrPreconditionFailed = errors.New("precondition failed") // 412, e.g. an If-Match ETag mismatch
	ErrThrottled          = errors.New("throttled")           // 429, or 429/503 after the retry budget

	// ErrResponseTooLarge reports a response body above Options.MaxResponseBytes.
	ErrResponseTooLarge = errors.New("response body too large")
	// ErrForeignHost reports a URL (usually an @odata.nextLink) on another
	// host or scheme than the client's base URL; the token is never sent there.
	ErrForeignHost = errors.New("URL is not on the client's host")
	// ErrBatchTooLarge reports a Dataverse $batch above MaxBatchRequests.
	ErrBatchTooLarge = errors.New("too many requests in one batch")
)

// maxMessageLen bounds the error text kept from a body that is not the OData
// error shape.
const maxMessageLen = 512

// APIError is a non-2xx answer from the service, with the OData error code and
// message when the body had the {"error":{"code","message"}} shape. Dataverse
// and Graph both use that shape (Graph nests an innerError, which is ignored).
// Message and Code have secrets redacted; URL has no userinfo.
type APIError struct {
	Status  int
	Code    string
	Message string
	Method  string
	URL     string
}

// Error formats the method, URL, status, code and message.
func (e *APIError) Error() string {
	var b strings.Builder
	if e.Method != "" || e.URL != "" {
		b.WriteString(strings.TrimSpace(e.Method + " " + e.URL))
		b.WriteString(": ")
	}
	b.WriteString(statusText(e.Status))
	if e.Code != "" {
		b.WriteString(": ")
		b.WriteString(e.Code)
	}
	if e.Message != "" {
		b.WriteString(": ")
		b.WriteString(e.Message)
	}
	return b.String()
}

// Is matches the sentinel of the error's status.
func (e *APIError) Is(target error) bool {
	switch target {
	case ErrUnauthorized:
		return e.Status == http.StatusUnauthorized
	case ErrForbidden:
		return e.Status == http.StatusForbidden
	case ErrNotFound:
		return e.Status == http.StatusNotFound
	case ErrPreconditionFailed:
		return e.Status == http.StatusPreconditionFailed
	case ErrThrottled:
		return e.Status == http.StatusTooManyRequests
	}
	return false
}

// ThrottledError reports that the service kept throttling (429) or being
// unavailable (503) until the retry budget ran out, or asked, through
// Retry-After, for a longer wait than the budget had left.
type ThrottledError struct {
	Status int
	// RetryAfter is the wait the last answer asked for; 0 when it gave none.
	RetryAfter time.Duration
	Method     string
	URL        string
	// Attempts is how many times the request was sent.
	Attempts int
	// Err is the last answer as an *APIError.
	Err error
}

// Error describes the throttling and the last answer.
func (e *ThrottledError) Error() string {
	var b strings.Builder
	if e.Method != "" || e.URL != "" {
		b.WriteString(strings.TrimSpace(e.Method + " " + e.URL))
		b.WriteString(": ")
	}
	fmt.Fprintf(&b, "throttled with %s", statusText(e.Status))
	if e.Attempts > 0 {
		fmt.Fprintf(&b, " after %d attempt(s)", e.Attempts)
	}
	if e.RetryAfter > 0 {
		fmt.Fprintf(&b, "; the service asks to retry after %v", e.RetryAfter)
	}
	if e.Err != nil {
		var api *APIError
		if errors.As(e.Err, &api) {
			var detail []string
			for _, s := range []string{api.Code, api.Message} {
				if s != "" {
					detail = append(detail, s)
				}
			}
			if len(detail) > 0 {
				b.WriteString(" (" + strings.Join(detail, ": ") + ")")
			}
		}
	}
	return b.String()
}

// Unwrap returns the last answer.
func (e *ThrottledError) Unwrap() error { return e.Err }

// Is matches ErrThrottled.
func (e *ThrottledError) Is(target error) bool { return target == ErrThrottled }

// AuthError reports that no token could be obtained, or that the service
// refused the request with 401 again after the token was refreshed.
type AuthError struct {
	Method string
	URL    string
	// Refreshed is true when the token had been refreshed and the request
	// repeated before the final 401.
	Refreshed bool
	// Err is the credential's error, or the final 401 as an *APIError.
	Err error
}

// Error describes the failure.
func (e *AuthError) Error() string {
	prefix := strings.TrimSpace(e.Method + " " + e.URL)
	if prefix != "" {
		prefix += ": "
	}
	if e.Refreshed {
		return fmt.Sprintf("%sunauthorized after a token refresh: %v", prefix, e.Err)
	}
	return fmt.Sprintf("%sauthenticate: %v", prefix, e.Err)
}

// Unwrap returns the underlying error.
func (e *AuthError) Unwrap() error { return e.Err }

// Is matches ErrUnauthorized.
func (e *AuthError) Is(target error) bool { return target == ErrUnauthorized }

// DecodeError reports a response body that is not the JSON (or multipart)
// document the call expected.
type DecodeError struct {
	Method string
	URL    string
	Err    error
}

// Error names the request whose response could not be decoded.
func (e *DecodeError) Error() string {
	return fmt.Sprintf("decode response of %s: %v", strings.TrimSpace(e.Method+" "+e.URL), e.Err)
}

// Unwrap returns the parse error.
func (e *DecodeError) Unwrap() error { return e.Err }

func statusText(status int) string {
	if t := http.StatusText(status); t != "" {
		return fmt.Sprintf("%d %s", status, t)
	}
	return fmt.Sprintf("status %d", status)
}

// odataError is the error body shared by Dataverse and Graph.
type odataError struct {
	Error *struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

// newAPIError builds the error for a non-2xx answer from its body, redacting
// the given secrets (and anything that looks like a bearer token).
func newAPIError(status int, body []byte, method, shownURL string, secrets ...string) *APIError {
	e := &APIError{Status: status, Method: method, URL: shownURL}
	var oe odataError
	if err := json.Unmarshal(body, &oe); err == nil && oe.Error != nil {
		e.Code = redact(truncate(oe.Error.Code), secrets...)
		e.Message = redact(truncate(oe.Error.Message), secrets...)
		return e
	}
	text := strings.TrimSpace(string(body))
	if text != "" && utf8.ValidString(text) {
		e.Message = redact(truncate(strings.Join(strings.Fields(text), " ")), secrets...)
	}
	return e
}

func truncate(s string) string {
	if len(s) <= maxMessageLen {
		return s
	}
	cut := maxMessageLen
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}
