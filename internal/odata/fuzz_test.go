package odata

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// FuzzParseBatchResponse feeds arbitrary Content-Type headers and bodies to
// the Dataverse $batch response parser, which reads untrusted input. It must
// never panic, and whatever it accepts must be well formed: at least one
// answer, each with a status from 100 to 599 and a usable Err.
//
// The seeds run with the normal tests. To fuzz, from the repository root:
//
//	go test ./internal/odata/ -run='^$' -fuzz=FuzzParseBatchResponse -fuzztime=1m
//
// New failing inputs are written to testdata/fuzz/FuzzParseBatchResponse;
// keep them as regression seeds once fixed.
func FuzzParseBatchResponse(f *testing.F) {
	fixture, err := os.ReadFile("testdata/batch-response-changeset.txt")
	if err != nil {
		f.Fatal(err)
	}
	ct := "multipart/mixed; boundary=" + fixtureBoundary
	f.Add(ct, fixture)
	f.Add(ct, bytes.ReplaceAll(fixture, []byte("\r\n"), []byte("\n")))
	f.Add("multipart/mixed; boundary=b", []byte("--b\r\nContent-Type: application/http\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n\r\n--b--\r\n"))
	f.Add("multipart/mixed; boundary=b", []byte("--b\r\nContent-Type: application/http\r\n\r\nHTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n\r\n--b--\r\n"))
	f.Add("multipart/mixed; boundary=b", []byte("--b\r\nContent-Type: multipart/mixed; boundary=c\r\n\r\n--c\r\nContent-Type: application/http\r\nContent-ID: 1\r\n\r\nHTTP/1.1 400 Bad Request\r\n\r\n{\"error\":{\"code\":\"0x1\",\"message\":\"m\"}}\r\n--c--\r\n--b--\r\n"))
	f.Add(`multipart/mixed; boundary="quoted b"`, []byte("--quoted b\r\nContent-Type: application/http\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}\r\n--quoted b--"))
	f.Add("application/json", []byte(`{"error":{"code":"","message":"x"}}`))
	f.Add("multipart/mixed; boundary=b", []byte("--b\r\nContent-Type: application/http\r\n\r\nHTTP/0.0 000\r\n\r\n\r\n--b--\r\n"))

	f.Fuzz(func(t *testing.T, contentType string, body []byte) {
		got, err := parseBatchResponse(contentType, body)
		if err != nil {
			if got != nil {
				t.Fatalf("answers %v returned with error %v", got, err)
			}
			return
		}
		if len(got) == 0 {
			t.Fatal("no answers and no error")
		}
		for i, r := range got {
			if r.Status < 100 || r.Status > 599 {
				t.Fatalf("answer %d has status %d", i, r.Status)
			}
			if r.Header == nil {
				t.Fatalf("answer %d has nil headers", i)
			}
			err := r.Err()
			if ok := r.Status >= 200 && r.Status < 300; ok != (err == nil) {
				t.Fatalf("answer %d: status %d but Err() = %v", i, r.Status, err)
			}
			if err != nil && err.Error() == "" {
				t.Fatalf("answer %d: empty error text", i)
			}
			_ = http.StatusText(r.Status)
		}
	})
}

// FuzzClaimsChallenge feeds arbitrary WWW-Authenticate values, untrusted
// input, to the challenge parser: it must never panic, and any claims it
// returns are JSON.
//
//	go test ./internal/odata/ -run='^$' -fuzz=FuzzClaimsChallenge -fuzztime=1m
func FuzzClaimsChallenge(f *testing.F) {
	f.Add(`Bearer realm="", authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize", error="insufficient_claims", claims="eyJhY2Nlc3NfdG9rZW4iOnt9fQ=="`)
	f.Add(`Bearer error="insufficient_claims", claims="eyJhY2Nlc3NfdG9rZW4iOnt9fQ"`)
	f.Add(`NTLM TlRMTVNTUAACAAAADAAMADAAAAA==, Bearer error = "insufficient_claims" , claims = "e30="`)
	f.Add(`Bearer error_description="claims=\"e30=\"", error="invalid_token"`)
	f.Add(`Bearer realm="\"unterminated`)
	f.Add(`=,=,"",Bearer==`)
	f.Fuzz(func(t *testing.T, header string) {
		if claims := claimsChallenge([]string{header}); claims != "" && !json.Valid([]byte(claims)) {
			t.Fatalf("claims %q from %q are not JSON", claims, header)
		}
	})
}

// fuzzClient is a client on a Graph or Dataverse base that never sends a
// request: the fuzz targets below only call its parsers.
func fuzzClient(f *testing.F, flavor Flavor, base string) *Client {
	f.Helper()
	u, err := url.Parse(base)
	if err != nil {
		f.Fatal(err)
	}
	c, err := New(u, &fakeCredential{tokens: []string{"tok"}}, Options{Scopes: []string{testScope}, Flavor: flavor, Now: time.Now})
	if err != nil {
		f.Fatal(err)
	}
	return c
}

// FuzzGraphBatchResponse feeds arbitrary bodies, as the answer to a Graph
// JSON $batch of three requests with ids "1" to "3", to the code that matches
// the answers back to the requests. It must never panic; it either returns a
// *DecodeError and stores nothing, or stores exactly one answer per request,
// under the request's id, with a status from 100 to 599 and an Err that
// agrees with the status.
//
//	go test ./internal/odata -run '^$' -fuzz '^FuzzGraphBatchResponse$' -fuzztime 30s
func FuzzGraphBatchResponse(f *testing.F) {
	f.Add([]byte(`{"responses":[{"id":"1","status":200,"headers":{"Content-Type":"application/json"},"body":{"value":[]}},` +
		`{"id":"3","status":429,"headers":{"Retry-After":"2.128"},"body":{"error":{"code":"TooManyRequests","message":"slow down"}}},` +
		`{"id":"2","status":404,"body":{"error":{"code":"Request_ResourceNotFound","message":"gone","innerError":{"date":"x"}}}}]}`))
	f.Add([]byte(`{"responses":[{"id":"1","status":424},{"id":"2","status":204},{"id":"3","status":503,"headers":{"retry-after":"Wed, 21 Oct 2015 07:28:00 GMT"}}]}`))
	f.Add([]byte(`{"responses":[{"id":"1","status":200},{"id":"1","status":200},{"id":"2","status":200}]}`))
	f.Add([]byte(`{"responses":[{"id":"1","status":0},{"id":"2","status":1000},{"id":"3","status":-1}]}`))
	f.Add([]byte(`{"responses":null}`))
	f.Add([]byte(`{"responses":[{"id":"4","status":200}]}`))
	f.Add([]byte(`{"value":[]}`))
	f.Add([]byte(`[`))

	c := fuzzClient(f, Graph, "https://graph.microsoft.com/v1.0/")
	f.Fuzz(func(t *testing.T, body []byte) {
		items := []graphBatchItem{{ID: "1", Method: "GET", URL: "/me"}, {ID: "2", Method: "GET", URL: "/subscribedSkus"}, {ID: "3", Method: "PATCH", URL: "/groups/g"}}
		chunk := []int{0, 1, 2}
		byID := map[string]int{"1": 0, "2": 1, "3": 2}
		out := make([]GraphResponse, len(items))
		resp := &Response{Status: 200, Body: body, RequestURL: "https://graph.microsoft.com/v1.0/$batch", method: "POST"}
		err := c.readGraphAnswers(resp, items, chunk, out, byID)
		if err != nil {
			var de *DecodeError
			if !errors.As(err, &de) {
				t.Fatalf("error %v is not a *DecodeError", err)
			}
			if len(err.Error()) > MaxErrorText {
				t.Fatalf("error text of %d bytes", len(err.Error()))
			}
			return
		}
		for i, r := range out {
			if r.ID != items[i].ID {
				t.Fatalf("answer %d has id %q, want %q", i, r.ID, items[i].ID)
			}
			if r.Status < 100 || r.Status > 599 {
				t.Fatalf("answer %d has status %d", i, r.Status)
			}
			err := r.Err()
			if ok := r.Status >= 200 && r.Status < 300; ok != (err == nil) {
				t.Fatalf("answer %d: status %d but Err() = %v", i, r.Status, err)
			}
			if err != nil && (err.Error() == "" || len(err.Error()) > MaxErrorText) {
				t.Fatalf("answer %d: error text of %d bytes", i, len(err.Error()))
			}
			if r.retryAfter < 0 || r.retryAfter > maxRetryAfter || (!r.hasRetry && r.retryAfter != 0) {
				t.Fatalf("answer %d: Retry-After %v (given %v)", i, r.retryAfter, r.hasRetry)
			}
		}
	})
}

// FuzzRetryAfter feeds arbitrary Retry-After values, which the service
// controls, to the parser. It must never panic; a value it accepts is a
// wait from 0 to maxRetryAfter, and a refused one is no wait at all.
//
//	go test ./internal/odata -run '^$' -fuzz '^FuzzRetryAfter$' -fuzztime 30s
func FuzzRetryAfter(f *testing.F) {
	for _, v := range []string{"1", "2.128", ".5", " 0 ", "120", "99999999999", "1" + strings.Repeat("0", 400),
		"Sat, 01 Mar 2025 12:00:04 GMT", "Sunday, 06-Nov-94 08:49:37 GMT", "Sun Nov  6 08:49:37 1994",
		"Fri, 31 Dec 9999 23:59:59 GMT", "Mon, 01 Jan 0001 00:00:00 GMT", "", "-1", "1e3", "NaN", "Inf", "0x10", "1.2.3", "١"} {
		f.Add(v)
	}
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, v string) {
		d, ok := parseRetryAfter(v, now)
		if !ok && d != 0 {
			t.Fatalf("refused %q but returned %v", v, d)
		}
		if d < 0 || d > maxRetryAfter {
			t.Fatalf("%q gave %v, outside [0, %v]", v, d, maxRetryAfter)
		}
		s := strings.TrimSpace(v)
		if ok && isDecimal(s) {
			if whole, _, _ := strings.Cut(s, "."); len(strings.TrimLeft(whole, "0")) <= 4 {
				secs, _ := strconv.ParseFloat(s, 64)
				if want := time.Duration(secs * float64(time.Second)); d != want {
					t.Fatalf("%q gave %v, want %v", v, d, want)
				}
			}
		}
	})
}

// FuzzResolveNextLink feeds arbitrary @odata.nextLink values, which the
// service controls, to their resolution against the current page of a
// client. It must never panic, and a link it accepts must, once rendered and
// parsed again (as net/http does), still name the client's scheme and host,
// carry no userinfo, and never be a network-path reference: the bearer token
// goes wherever it points.
//
//	go test ./internal/odata -run '^$' -fuzz '^FuzzResolveNextLink$' -fuzztime 30s
func FuzzResolveNextLink(f *testing.F) {
	for _, link := range []string{
		"https://org.crm.dynamics.com/api/data/v9.2/accounts?$select=name&$skiptoken=%3Ccookie%20pagenumber=%222%22%20/%3E",
		"https://ORG.crm.dynamics.com:443/api/data/v9.2/accounts?$skiptoken=x",
		"accounts?$skiptoken=2", "../v9.1/accounts", "/api/data/v9.2/accounts", "?$skiptoken=3",
		"//evil.example/api/data/v9.2/accounts", "https://evil.example/", "https://org.crm.dynamics.com@evil.example/",
		"https://user:pw@org.crm.dynamics.com/api/data/v9.2/x", "http://org.crm.dynamics.com/api/data/v9.2/x",
		"https://org.crm.dynamics.com:8443/x", "https://org.crm.dynamics.com\\@evil.example/", "https:/\\evil.example/",
		"https://org.crm.dynamics.com/x#frag", "https://[::1]:443/", "HTTPS://org.crm.dynamics.com/x?a=b c", "\x00", "%zz",
	} {
		f.Add(link)
	}
	c := fuzzClient(f, Dataverse, "https://org.crm.dynamics.com/api/data/v9.2/")
	current, err := c.resolve("accounts?$select=name")
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, link string) {
		next, err := c.resolveNext(current, link)
		if err != nil {
			if len(err.Error()) > 3*MaxErrorText {
				t.Fatalf("error text of %d bytes", len(err.Error()))
			}
			return
		}
		again, err := url.Parse(next.String())
		if err != nil {
			t.Fatalf("%q resolved to %q, which does not parse: %v", link, next, err)
		}
		if again.Scheme != "https" || hostPort(again) != "org.crm.dynamics.com:443" || again.User != nil {
			t.Fatalf("%q resolved to %q, which leaves the client's host", link, next)
		}
		if again.Fragment != "" {
			t.Fatalf("%q resolved to %q, which keeps a fragment", link, next)
		}
		if _, err := http.NewRequest(http.MethodGet, next.String(), nil); err != nil {
			t.Fatalf("%q resolved to %q, which net/http refuses: %v", link, next, err)
		}
	})
}

// FuzzNewAPIError feeds arbitrary error bodies, which the service controls,
// to the OData error parser, with a token the body may contain. It must
// never panic; the code and message are bounded and valid UTF-8, the
// Error() text is at most MaxErrorText bytes, and the token never appears.
//
//	go test ./internal/odata -run '^$' -fuzz '^FuzzNewAPIError$' -fuzztime 30s
func FuzzNewAPIError(f *testing.F) {
	const token = "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.eyJhdWQiOiJodHRwczovL29yZyJ9.c2lnbmF0dXJl"
	f.Add(400, []byte(`{"error":{"code":"0x80044331","message":"A validation error occurred."}}`), token)
	f.Add(404, []byte(`{"error":{"code":"Request_ResourceNotFound","message":"Resource 'x' does not exist","innerError":{"request-id":"r"}}}`), token)
	f.Add(401, []byte(`{"error":{"code":"InvalidAuthenticationToken","message":"Access token has expired: Bearer `+token+`"}}`), token)
	f.Add(502, []byte("<html>Bad gateway "+token+"</html>"), token)
	f.Add(500, []byte(`{"error":{"code":"`+strings.Repeat("é", 600)+`","message":null}}`), "secret-value-1234")
	f.Add(503, []byte("\xff\xfe\x00binary"), "secret-value-1234")
	f.Add(429, []byte(`{"error":"just a string"}`), token)
	f.Add(0, []byte(""), "")
	f.Fuzz(func(t *testing.T, status int, body []byte, secret string) {
		e := newAPIError(status, body, "GET", "https://org.crm.dynamics.com/api/data/v9.2/x", secret)
		for name, s := range map[string]string{"Code": e.Code, "Message": e.Message} {
			if len(s) > maxMessageLen+len("…") {
				t.Fatalf("%s of %d bytes", name, len(s))
			}
			if !utf8.ValidString(s) {
				t.Fatalf("%s %q is not valid UTF-8", name, s)
			}
		}
		text := e.Error()
		if len(text) > MaxErrorText {
			t.Fatalf("Error() of %d bytes", len(text))
		}
		if strings.Contains(text, token) {
			t.Fatalf("Error() %q shows a JWT", text)
		}
		// Only a secret shaped like a token is checked: one with a letter
		// of the replacement could be rebuilt by it, and one with a space
		// or a colon by the separators of Error(); the method and URL are
		// not the service's to choose.
		if !tokenShaped.MatchString(secret) || strings.ContainsAny(secret, redacted) {
			return
		}
		plain := (&APIError{Status: status, Method: e.Method, URL: e.URL}).Error()
		if strings.Contains(e.Code, secret) || strings.Contains(e.Message, secret) ||
			(strings.Contains(text, secret) && !strings.Contains(plain, secret)) {
			t.Fatalf("Error() %q shows the secret %q", text, secret)
		}
	})
}

// tokenShaped matches the characters of a bearer token (a JWT or an opaque
// one), at least eight.
var tokenShaped = regexp.MustCompile(`^[A-Za-z0-9\-._~+/]{8,}=*$`)

// FuzzBoundText feeds arbitrary texts, including ones that already carry
// elision markers, to BoundText. It must never panic; the result is at most
// MaxErrorText bytes, a text within the limit is unchanged, the result starts
// and ends like the text, and valid UTF-8 stays valid.
//
//	go test ./internal/odata -run '^$' -fuzz '^FuzzBoundText$' -fuzztime 30s
func FuzzBoundText(f *testing.F) {
	f.Add("short", 0)
	f.Add("é", 2000)
	f.Add("🦀x", 700)
	f.Add("\x80", 3000)
	f.Add(elidedMarker(123456789), 100)
	f.Add("a"+elidedMarker(999999999999999999), 60)
	f.Fuzz(func(t *testing.T, s string, repeat int) {
		// Repeating makes long texts cheaply; beyond some KiB they tell
		// nothing more and slow the fuzzer down.
		if repeat < 0 || repeat > 1<<10 || len(s)*repeat > 64<<10 {
			return
		}
		s = strings.Repeat(s, max(repeat, 1))
		got := BoundText(s)
		if len(s) <= MaxErrorText {
			if got != s {
				t.Fatalf("a text of %d bytes changed", len(s))
			}
			return
		}
		if len(got) > MaxErrorText {
			t.Fatalf("result of %d bytes", len(got))
		}
		if utf8.ValidString(s) && !utf8.ValidString(got) {
			t.Fatalf("a rune was split")
		}
		// Somewhere the result is a beginning of s, a marker and an end of s
		// (the text itself may hold things that look like markers).
		for i := strings.Index(got, " … ("); i >= 0; {
			if m := markerAtStart.FindStringIndex(got[i:]); m != nil &&
				strings.HasPrefix(s, got[:i]) && strings.HasSuffix(s, got[i+m[1]:]) {
				return
			}
			next := strings.Index(got[i+1:], " … (")
			if next < 0 {
				break
			}
			i += 1 + next
		}
		t.Fatalf("the bounded text %q is not a beginning, a marker and an end of the text", got)
	})
}

var markerAtStart = regexp.MustCompile("^" + elidedPattern.String())
