package odata

import (
	"context"
	"encoding/json"
	"errors"
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
