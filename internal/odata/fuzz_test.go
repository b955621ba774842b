package odata

import (
	"bytes"
	"encoding/json"
	"net/http"
	"os"
	"testing"
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
