package odata

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

func TestAPIErrorIs(t *testing.T) {
	t.Parallel()
	sentinels := []error{ErrUnauthorized, ErrForbidden, ErrNotFound, ErrPreconditionFailed, ErrThrottled}
	tests := []struct {
		status int
		want   error
	}{
		{401, ErrUnauthorized}, {403, ErrForbidden}, {404, ErrNotFound}, {412, ErrPreconditionFailed}, {429, ErrThrottled}, {500, nil},
	}
	for _, tt := range tests {
		err := error(&APIError{Status: tt.status})
		for _, s := range sentinels {
			if got := errors.Is(err, s); got != (s == tt.want) {
				t.Errorf("errors.Is(%d, %v) = %v", tt.status, s, got)
			}
		}
	}
}

func TestNewAPIError(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("é", 400)
	tests := []struct {
		name     string
		status   int
		body     string
		wantCode string
		wantMsg  string
		wantText string
	}{
		{name: "dataverse shape", status: 400, body: odataErr("0x80044331", "A validation error occurred."), wantCode: "0x80044331", wantMsg: "A validation error occurred."},
		{name: "empty code", status: 403, body: odataErr("", "PrivilegeDenied"), wantMsg: "PrivilegeDenied", wantText: "403 Forbidden: PrivilegeDenied"},
		{name: "plain text squeezed", status: 502, body: "  bad\n\tgateway  ", wantMsg: "bad gateway"},
		{name: "binary body dropped", status: 500, body: "\xff\xfe\x00", wantMsg: ""},
		{name: "empty body", status: 599, body: "", wantText: "status 599"},
		{name: "long message truncated on a rune boundary", status: 400, body: odataErr("", long)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newAPIError(tt.status, []byte(tt.body), "GET", "https://h/x")
			if e.Code != tt.wantCode {
				t.Errorf("Code = %q, want %q", e.Code, tt.wantCode)
			}
			if tt.name == "long message truncated on a rune boundary" {
				if len(e.Message) > maxMessageLen+len("…") || !utf8.ValidString(e.Message) || !strings.HasSuffix(e.Message, "…") {
					t.Errorf("Message = %d bytes, valid UTF-8 %v", len(e.Message), utf8.ValidString(e.Message))
				}
				return
			}
			if e.Message != tt.wantMsg {
				t.Errorf("Message = %q, want %q", e.Message, tt.wantMsg)
			}
			if tt.wantText != "" && !strings.Contains(e.Error(), tt.wantText) {
				t.Errorf("Error() = %q, want it to contain %q", e.Error(), tt.wantText)
			}
		})
	}
}

func TestErrorWrapping(t *testing.T) {
	t.Parallel()
	syntax := json.Unmarshal([]byte("{"), &struct{}{})
	de := error(&DecodeError{Method: "GET", URL: "https://h/x", Err: syntax})
	var se *json.SyntaxError
	if !errors.As(de, &se) || !strings.Contains(de.Error(), "GET https://h/x") {
		t.Errorf("DecodeError = %v does not unwrap to the syntax error", de)
	}
	api := &APIError{Status: 429, Code: "c", Message: "m"}
	te := error(&ThrottledError{Status: 429, RetryAfter: time.Second, Attempts: 2, Err: api})
	if !errors.Is(te, ErrThrottled) || !errors.Is(te, api) || te.Error() != "throttled with 429 Too Many Requests after 2 attempt(s); the service asks to retry after 1s (c: m)" {
		t.Errorf("ThrottledError = %q", te.Error())
	}
	ae := error(&AuthError{Err: errors.New("no credential")})
	if !errors.Is(ae, ErrUnauthorized) || ae.Error() != "authenticate: no credential" {
		t.Errorf("AuthError = %q", ae.Error())
	}
	if Dataverse.String() != "dataverse" || Graph.String() != "graph" || Flavor(9).String() != "Flavor(9)" {
		t.Error("Flavor.String")
	}
}

func TestDefaultSleep(t *testing.T) {
	t.Parallel()
	if err := sleep(t.Context(), time.Millisecond); err != nil {
		t.Fatalf("sleep: %v", err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	start := time.Now()
	if err := sleep(ctx, time.Hour); !errors.Is(err, context.Canceled) || time.Since(start) > time.Second {
		t.Fatalf("sleep on a cancelled context = %v after %v", err, time.Since(start))
	}
	if err := sleep(ctx, 0); !errors.Is(err, context.Canceled) {
		t.Fatalf("zero sleep on a cancelled context = %v", err)
	}
}

func TestBoundText(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   string
	}{
		{name: "empty", in: ""},
		{name: "at the limit", in: strings.Repeat("a", MaxErrorText)},
		{name: "one byte over", in: strings.Repeat("a", MaxErrorText+1)},
		{name: "2 MiB of ASCII", in: strings.Repeat("x", 2<<20)},
		{name: "two-byte runes", in: strings.Repeat("é", MaxErrorText)},
		{name: "four-byte runes", in: strings.Repeat("🦀", MaxErrorText)},
		{name: "mixed widths", in: strings.Repeat("a€🦀é", 700)},
		{name: "invalid UTF-8", in: strings.Repeat("\x80\xbf\xff", 1000)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := BoundText(tt.in)
			if len(tt.in) <= MaxErrorText {
				if got != tt.in {
					t.Fatalf("a text within the limit changed: %q", got)
				}
				return
			}
			if len(got) > MaxErrorText {
				t.Fatalf("len = %d, above %d", len(got), MaxErrorText)
			}
			if utf8.ValidString(tt.in) && !utf8.ValidString(got) {
				t.Fatalf("a rune was split: %q", got)
			}
			head, rest, ok := strings.Cut(got, " … (")
			if !ok {
				t.Fatalf("no elision marker in %q", got)
			}
			var elided int
			var tail string
			if _, err := fmt.Sscanf(rest, "%d bytes elided) … ", &elided); err != nil {
				t.Fatalf("marker %q: %v", rest, err)
			}
			_, tail, _ = strings.Cut(rest, "elided) … ")
			if len(head)+elided+len(tail) != len(tt.in) || !strings.HasPrefix(tt.in, head) || !strings.HasSuffix(tt.in, tail) {
				t.Fatalf("head %d + elided %d + tail %d bytes do not rebuild the %d-byte input", len(head), elided, len(tail), len(tt.in))
			}
			if len(head) < len(tail) || len(tail) == 0 {
				t.Errorf("head %d bytes, tail %d bytes: want most of the beginning and some of the end", len(head), len(tail))
			}
		})
	}
}

func TestBoundTextNested(t *testing.T) {
	t.Parallel()
	inner := strings.Repeat("i", 5000)
	once := BoundText(inner)
	tests := []struct {
		name   string
		in     string
		elided int
	}{
		{name: "a short step around a bounded text", in: "collect organization: " + once, elided: 5000 - (MaxErrorText - len(elidedMarker(5000))) + len("collect organization: ")},
		{name: "bounded three times", in: "a: " + BoundText("b: "+BoundText("c: "+once)), elided: 5000 - (MaxErrorText - len(elidedMarker(5000))) + len("a: b: c: ")},
		{name: "two bounded texts side by side", in: once + " and " + once, elided: 2*5000 + len(" and ") - (MaxErrorText - len(elidedMarker(10005)))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := BoundText(tt.in)
			if len(got) > MaxErrorText {
				t.Fatalf("len = %d, above %d", len(got), MaxErrorText)
			}
			m := elidedPattern.FindAllStringSubmatch(got, -1)
			if len(m) != 1 {
				t.Fatalf("want exactly one marker, got %d in %q", len(m), got)
			}
			if m[0][1] != fmt.Sprint(tt.elided) {
				t.Errorf("marker says %s bytes elided, want %d", m[0][1], tt.elided)
			}
		})
	}
}

// TestHugeErrorTextIsBounded proves that a service or credential error of
// megabytes turns into an error text of at most MaxErrorText bytes, which
// still starts with the request and keeps the end of the message.
func TestHugeErrorTextIsBounded(t *testing.T) {
	t.Parallel()
	huge := strings.Repeat("AADSTS50000 ", 2<<20/12) + "the end"
	tests := []struct {
		name    string
		handler http.HandlerFunc
		cred    *fakeCredential
		call    func(*Client) error
		want    error
		elided  bool // the text carries BoundText's marker (else a truncated message)
	}{
		{
			name:    "OData error message of 2 MiB",
			handler: func(w http.ResponseWriter, _ *http.Request) { writeJSON(w, 400, odataErr("0x1", huge)) },
			call:    func(c *Client) error { _, err := c.Get(t.Context(), "WhoAmI", nil); return err },
		},
		{
			name:    "plain-text error body of 2 MiB",
			handler: func(w http.ResponseWriter, _ *http.Request) { writeJSON(w, 502, huge) },
			call: func(c *Client) error {
				_, err := c.Do(t.Context(), &Request{Method: "POST", Path: "accounts", Body: []byte(`{}`)})
				return err
			},
		},
		{
			name:    "credential error of 2 MiB",
			handler: func(w http.ResponseWriter, _ *http.Request) { t.Error("nothing should be sent without a token") },
			cred:    &fakeCredential{tokens: []string{"tok"}, err: errors.New("ClientSecretCredential: " + huge)},
			call:    func(c *Client) error { _, err := c.Get(t.Context(), "WhoAmI", nil); return err },
			want:    ErrUnauthorized,
			elided:  true,
		},
		{
			name: "next link of 2 MiB to another host",
			handler: func(w http.ResponseWriter, _ *http.Request) {
				writeJSON(w, 200, `{"value":[],"@odata.nextLink":"https://elsewhere.example/`+strings.Repeat("p", 2<<20)+`"}`)
			},
			call: func(c *Client) error {
				_, err := c.Pages(t.Context(), "accounts", 0, func(json.RawMessage) error { return nil })
				return err
			},
			want:   ErrForeignHost,
			elided: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			mods := []func(*setupConfig){}
			if tt.cred != nil {
				mods = append(mods, withCredential(tt.cred))
			}
			e := setup(t, tt.handler, mods...)
			err := tt.call(e.client)
			if err == nil {
				t.Fatal("no error")
			}
			if tt.want != nil && !errors.Is(err, tt.want) {
				t.Errorf("err = %v, want %v", err, tt.want)
			}
			text := err.Error()
			// The wrapping of Get, Pages and Do adds a short step to the
			// bounded text of the typed error.
			if len(text) > MaxErrorText+200 || strings.Contains(text, "bytes elided") != tt.elided {
				t.Fatalf("error text is %d bytes: %.200q…", len(text), text)
			}
			if m := elidedPattern.FindStringSubmatch(text); m != nil {
				if n, _ := strconv.Atoi(m[1]); n < 2<<20-MaxErrorText {
					t.Errorf("the marker counts %d bytes elided of a 2 MiB text", n)
				}
			}
			if !strings.Contains(text, "https://") {
				t.Errorf("the bounded text lost the request: %.300q", text)
			}
		})
	}
}

func TestNewAPIErrorRedactsBeforeTruncating(t *testing.T) {
	t.Parallel()
	token := "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.eyJhdWQiOiJodHRwczovL29yZyJ9.c2lnbmF0dXJl"
	// The token straddles the truncation point, so a cut first would leave
	// its first two segments, which no longer look like a JWT.
	msg := strings.Repeat("x", maxMessageLen-40) + " " + token + " tail"
	for _, body := range []string{odataErr("", msg), msg} {
		e := newAPIError(400, []byte(body), "GET", "https://h/x", token)
		if strings.Contains(e.Message, "eyJ0eXAiOiJKV1Qi") || !strings.Contains(e.Message, redacted) {
			t.Errorf("Message keeps part of the token: %q", e.Message[len(e.Message)-80:])
		}
	}
}

func TestBoundTextHandWrittenMarkers(t *testing.T) {
	t.Parallel()
	// Markers that claim more bytes than an int holds, side by side.
	s := strings.Repeat("x"+elidedMarker(999999999999999999), 100)
	got := BoundText(s)
	m := elidedPattern.FindAllStringSubmatch(got, -1)
	if len(got) > MaxErrorText || len(m) == 0 {
		t.Fatalf("BoundText = %d bytes with %d markers", len(got), len(m))
	}
	capped := false
	for _, mm := range m {
		n, err := strconv.Atoi(mm[1])
		if err != nil || n < 0 {
			t.Errorf("marker count %q", mm[1])
		}
		capped = capped || n == math.MaxInt
	}
	if !capped {
		t.Errorf("no marker counts the overflowing sum as %d: %q", math.MaxInt, got)
	}
}

func TestNewAPIErrorStaysValidUTF8(t *testing.T) {
	t.Parallel()
	// A secret that ends inside a rune of the body (found by FuzzNewAPIError).
	e := newAPIError(500, []byte("000\ue4160"), "GET", "https://h/x", "000\xee")
	if !utf8.ValidString(e.Message) || !strings.HasPrefix(e.Message, redacted) {
		t.Errorf("Message = %q", e.Message)
	}
}
