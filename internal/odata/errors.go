package odata

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"regexp"
	"strconv"
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

// maxMessageLen bounds the code and the message kept from an error body.
const maxMessageLen = 512

// MaxErrorText is the most bytes BoundText keeps, and so the longest Error()
// text of this package's typed errors.
const MaxErrorText = 1024

// BoundText returns s unchanged when it is at most MaxErrorText bytes long.
// A longer s keeps its beginning and its end, cut on rune boundaries, around
// a "… (N bytes elided) …" marker, and the result is at most MaxErrorText
// bytes. Callers that store or print an error's text (a snapshot section's
// error, a log line) pass err.Error() through it, since an error of another
// package can carry a whole response body.
//
// Bounding a text that wraps an already bounded one (an error wrapped with a
// step, then bounded again) counts the bytes the inner marker stood for, so N
// is always the number of bytes of the original text left out.
func BoundText(s string) string {
	if len(s) <= MaxErrorText {
		return s
	}
	markers := elidedPattern.FindAllStringSubmatchIndex(s, -1)
	most := len(s) // an upper bound of N, for the marker's length
	for _, m := range markers {
		n, _ := strconv.Atoi(s[m[2]:m[3]])
		most = addCapped(most, n)
	}
	room := MaxErrorText - len(elidedMarker(most))
	head := runeCut(s, room*3/4)
	tail := len(s) - (room - head)
	for i := 0; i < utf8.UTFMax && tail < len(s) && !utf8.RuneStart(s[tail]); i++ {
		tail++
	}
	// Never cut through an earlier marker; count the ones left out.
	for _, m := range markers {
		if m[0] < head && head < m[1] {
			head = m[0]
		}
		if m[0] < tail && tail < m[1] {
			tail = m[1]
		}
	}
	elided := tail - head
	for _, m := range markers {
		if m[0] >= head && m[1] <= tail {
			n, _ := strconv.Atoi(s[m[2]:m[3]])
			elided = addCapped(elided-(m[1]-m[0]), n)
		}
	}
	return s[:head] + elidedMarker(elided) + s[tail:]
}

// boundedError bounds the text of another package's error and keeps it for
// errors.Is and errors.As.
type boundedError struct{ err error }

func (e boundedError) Error() string { return BoundText(e.err.Error()) }
func (e boundedError) Unwrap() error { return e.err }

// elidedPattern matches the marker elidedMarker writes.
var elidedPattern = regexp.MustCompile(` … \(([0-9]{1,19}) bytes elided\) … `)

// addCapped adds two counts of bytes, which markers written by hand could
// make overflow, stopping at the largest int.
func addCapped(a, b int) int {
	if a > math.MaxInt-b {
		return math.MaxInt
	}
	return a + b
}

func elidedMarker(n int) string {
	return fmt.Sprintf(" … (%d bytes elided) … ", n)
}

// runeCut returns the largest index at most n that does not split a rune of s
// (of a valid UTF-8 s; invalid bytes are cut anywhere).
func runeCut(s string, n int) int {
	if n >= len(s) {
		return len(s)
	}
	for i := 0; i < utf8.UTFMax && n > 0 && !utf8.RuneStart(s[n]); i++ {
		n--
	}
	return n
}

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

// Error formats the method, URL, status, code and message, bounded by
// BoundText.
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
	return BoundText(b.String())
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

// Error describes the throttling and the last answer, bounded by BoundText.
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
	return BoundText(b.String())
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

// Error describes the failure, bounded by BoundText: a credential's error
// can carry the whole answer of the token endpoint.
func (e *AuthError) Error() string {
	prefix := strings.TrimSpace(e.Method + " " + e.URL)
	if prefix != "" {
		prefix += ": "
	}
	if e.Refreshed {
		return BoundText(fmt.Sprintf("%sunauthorized after a token refresh: %v", prefix, e.Err))
	}
	return BoundText(fmt.Sprintf("%sauthenticate: %v", prefix, e.Err))
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

// Error names the request whose response could not be decoded, bounded by
// BoundText.
func (e *DecodeError) Error() string {
	return BoundText(fmt.Sprintf("decode response of %s: %v", strings.TrimSpace(e.Method+" "+e.URL), e.Err))
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
// the given secrets (and anything that looks like a bearer token) before
// truncating, so that a cut cannot leave part of a token unredacted.
func newAPIError(status int, body []byte, method, shownURL string, secrets ...string) *APIError {
	e := &APIError{Status: status, Method: method, URL: shownURL}
	var oe odataError
	if err := json.Unmarshal(body, &oe); err == nil && oe.Error != nil {
		e.Code = truncate(redactText(oe.Error.Code, secrets))
		e.Message = truncate(redactText(oe.Error.Message, secrets))
		return e
	}
	text := strings.TrimSpace(string(body))
	if text != "" && utf8.ValidString(text) {
		e.Message = truncate(redactText(strings.Join(strings.Fields(text), " "), secrets))
	}
	return e
}

// redactText redacts s and keeps it valid UTF-8: a secret that matched half
// of a rune would leave the other half.
func redactText(s string, secrets []string) string {
	return strings.ToValidUTF8(redact(s, secrets...), "\uFFFD")
}

func truncate(s string) string {
	if len(s) <= maxMessageLen {
		return s
	}
	return s[:runeCut(s, maxMessageLen)] + "…"
}
