package emulator

import (
	"context"
	"crypto/tls"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// faultScenario is appScenario with one fault appended.
func faultScenario(t *testing.T, fault string) *Scenario {
	t.Helper()
	return parseInline(t, "faulty", appScenario+"faults:\n"+fault)
}

func TestFaultKinds(t *testing.T) {
	t.Parallel()
	whoAmI := dvURL(appEnv, "WhoAmI")
	tests := []struct {
		name  string
		fault string
		check func(t *testing.T, s *Server, tok string)
	}{
		{"latency", "  - {kind: latency, delay: 300ms, match: {path: WhoAmI}}\n", func(t *testing.T, s *Server, tok string) {
			start := time.Now()
			res, _ := call(t, s, http.MethodGet, whoAmI, tok, "")
			if took := time.Since(start); res.StatusCode != http.StatusOK || took < 300*time.Millisecond {
				t.Errorf("status %d after %v, want 200 after at least 300ms", res.StatusCode, took)
			}
		}},
		{"throttle dataverse", "  - {kind: throttle, retryAfter: \"3\", times: 1, match: {host: crm.dynamics.com}}\n", func(t *testing.T, s *Server, tok string) {
			res, body := call(t, s, http.MethodGet, whoAmI, tok, "")
			if code, msg := errorCode(t, body); res.StatusCode != http.StatusTooManyRequests || res.Header.Get("Retry-After") != "3" || code != "0x80072322" || !strings.Contains(msg, "6000") {
				t.Errorf("throttled: %d Retry-After=%q %s", res.StatusCode, res.Header.Get("Retry-After"), body)
			}
			if res, _ = call(t, s, http.MethodGet, whoAmI, tok, ""); res.StatusCode != http.StatusOK {
				t.Errorf("after times: 1 the fault still fires: %d", res.StatusCode)
			}
		}},
		{"throttle graph with HTTP date", "  - {kind: throttle, retryAfter: \"Wed, 21 Oct 2026 07:28:00 GMT\", match: {host: graph.microsoft.com}}\n", func(t *testing.T, s *Server, _ string) {
			gt := getToken(t, s, appTenant, appClient, appSecret, "https://graph.microsoft.com/.default")
			res, body := call(t, s, http.MethodGet, graphRoot+"subscribedSkus", gt, "")
			if code, _ := errorCode(t, body); res.StatusCode != http.StatusTooManyRequests || code != "TooManyRequests" || res.Header.Get("Retry-After") != "Wed, 21 Oct 2026 07:28:00 GMT" {
				t.Errorf("graph throttled: %d %q %s", res.StatusCode, res.Header.Get("Retry-After"), body)
			}
		}},
		{"status", "  - {kind: status, status: 503, match: {method: GET, path: \"/organizations\"}}\n", func(t *testing.T, s *Server, tok string) {
			res, body := call(t, s, http.MethodGet, dvURL(appEnv, "organizations"), tok, "")
			if code, _ := errorCode(t, body); res.StatusCode != http.StatusServiceUnavailable || code != codeUnexpected {
				t.Errorf("status fault: %d %s", res.StatusCode, body)
			}
			if res, _ = call(t, s, http.MethodGet, whoAmI, tok, ""); res.StatusCode != http.StatusOK {
				t.Errorf("unmatched path hit the fault: %d", res.StatusCode)
			}
		}},
		{"reset", "  - {kind: reset, match: {path: WhoAmI}}\n", func(t *testing.T, s *Server, tok string) {
			req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, whoAmI, nil)
			req.Header.Set("Authorization", "Bearer "+tok)
			res, err := s.Client().Do(req)
			if err == nil {
				res.Body.Close()
				t.Fatalf("reset: got a response %d", res.StatusCode)
			}
			if entry := lastRequest(s); entry.Status != 0 || entry.Fault != "reset" {
				t.Errorf("log entry %+v, want status 0 and fault reset", entry)
			}
		}},
		{"malformed", "  - {kind: malformed, match: {path: WhoAmI}}\n", func(t *testing.T, s *Server, tok string) {
			res, body := call(t, s, http.MethodGet, whoAmI, tok, "")
			if res.StatusCode != http.StatusOK || json.Valid(body) || len(body) == 0 {
				t.Errorf("malformed: %d valid=%v %q", res.StatusCode, json.Valid(body), body)
			}
		}},
		{"oversize", "  - {kind: oversize, size: 3MiB, match: {path: WhoAmI}}\n", func(t *testing.T, s *Server, tok string) {
			req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, whoAmI, nil)
			req.Header.Set("Authorization", "Bearer "+tok)
			res, err := s.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			if n, _ := strconv.Atoi(res.Header.Get("Content-Length")); n != 3<<20 {
				t.Errorf("Content-Length = %d, want %d", n, 3<<20)
			}
			// A careful client reads at most its limit and stops.
			got, err := io.ReadAll(io.LimitReader(res.Body, 1<<20))
			if err != nil || len(got) != 1<<20 {
				t.Errorf("limited read: %d bytes, %v", len(got), err)
			}
		}},
		{"expire-token", "  - {kind: expire-token, times: 1, match: {host: apptest.crm.dynamics.com}}\n", func(t *testing.T, s *Server, tok string) {
			res, body := call(t, s, http.MethodGet, whoAmI, tok, "")
			if res.StatusCode != http.StatusUnauthorized || !strings.Contains(res.Header.Get("WWW-Authenticate"), `error="invalid_token", error_description="The access token has expired"`) {
				t.Fatalf("expired: %d %q %s", res.StatusCode, res.Header.Get("WWW-Authenticate"), body)
			}
			if res, _ = call(t, s, http.MethodGet, whoAmI, tok, ""); res.StatusCode != http.StatusUnauthorized {
				t.Errorf("the expired token works again: %d", res.StatusCode)
			}
			fresh := getToken(t, s, appTenant, appClient, appSecret, appEnv+"/.default")
			if res, _ = call(t, s, http.MethodGet, whoAmI, fresh, ""); res.StatusCode != http.StatusOK {
				t.Errorf("a new token is refused: %d", res.StatusCode)
			}
		}},
		{"skip lets the first matches through", "  - {kind: status, status: 500, skip: 2, times: 1, match: {path: WhoAmI}}\n", func(t *testing.T, s *Server, tok string) {
			var got []int
			for range 4 {
				res, _ := call(t, s, http.MethodGet, whoAmI, tok, "")
				got = append(got, res.StatusCode)
			}
			if want := []int{200, 200, 500, 200}; !slices.Equal(got, want) {
				t.Errorf("statuses %v, want %v", got, want)
			}
		}},
		{"outer scope skips batch parts", "  - {kind: status, status: 500, match: {path: organizations, scope: outer}}\n", func(t *testing.T, s *Server, tok string) {
			body, ct := buildBatch(batchPart{method: "GET", url: "organizations?$select=name"})
			res, out := call(t, s, http.MethodPost, dvURL(appEnv, "$batch"), tok, body, "Content-Type: "+ct)
			if parts := parseBatchResponse(t, res, out); parts[0].status != http.StatusOK {
				t.Errorf("inner request hit an outer-scope fault: %d", parts[0].status)
			}
			if res, _ := call(t, s, http.MethodGet, dvURL(appEnv, "organizations"), tok, ""); res.StatusCode != http.StatusInternalServerError {
				t.Errorf("outer request: %d, want 500", res.StatusCode)
			}
		}},
		{"inner scope", "  - {kind: status, status: 503, match: {path: organizations, scope: inner}}\n", func(t *testing.T, s *Server, tok string) {
			body, ct := buildBatch(batchPart{method: "GET", url: "organizations?$select=name"}, batchPart{method: "GET", url: "WhoAmI"})
			res, out := call(t, s, http.MethodPost, dvURL(appEnv, "$batch"), tok, body, "Content-Type: "+ct, "Prefer: odata.continue-on-error")
			parts := parseBatchResponse(t, res, out)
			if len(parts) != 2 || parts[0].status != http.StatusServiceUnavailable || parts[1].status != http.StatusOK {
				t.Errorf("inner fault: %+v", parts)
			}
			if res, _ := call(t, s, http.MethodGet, dvURL(appEnv, "organizations"), tok, ""); res.StatusCode != http.StatusOK {
				t.Errorf("outer request hit an inner-scope fault: %d", res.StatusCode)
			}
		}},
		{"reset inside a batch aborts it", "  - {kind: reset, match: {path: WhoAmI, scope: inner}}\n", func(t *testing.T, s *Server, tok string) {
			body, ct := buildBatch(batchPart{method: "GET", url: "organizations"}, batchPart{method: "GET", url: "WhoAmI"})
			req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, dvURL(appEnv, "$batch"), strings.NewReader(body))
			req.Header.Set("Authorization", "Bearer "+tok)
			req.Header.Set("Content-Type", ct)
			res, err := s.Client().Do(req)
			if err == nil {
				res.Body.Close()
				t.Fatalf("batch with a reset part answered %d", res.StatusCode)
			}
			entry := lastRequest(s)
			if entry.Status != 0 || len(entry.Children) != 2 || entry.Children[1].Fault != "reset" || entry.Children[0].Status != http.StatusOK {
				t.Errorf("log entry %+v", entry)
			}
		}},
		{"throttle without Retry-After", "  - {kind: throttle, retryAfter: none, times: 1, match: {path: WhoAmI}}\n", func(t *testing.T, s *Server, tok string) {
			res, body := call(t, s, http.MethodGet, whoAmI, tok, "")
			if _, has := res.Header["Retry-After"]; res.StatusCode != http.StatusTooManyRequests || has {
				t.Errorf("throttled: %d Retry-After %q, want 429 without the header; %s", res.StatusCode, res.Header.Values("Retry-After"), body)
			}
		}},
		{"omit-field in Dataverse rows", "  - {kind: omit-field, field: name, match: {path: /organizations}}\n", func(t *testing.T, s *Server, tok string) {
			res, body := call(t, s, http.MethodGet, dvURL(appEnv, "organizations?$select=name,isonedriveenabled"), tok, "")
			checkJSONBody(t, res, body)
			if got := string(body); strings.Contains(got, `"name"`) || !strings.Contains(got, `"isonedriveenabled":true`) || !strings.HasPrefix(got, `{"@odata.context":`) {
				t.Errorf("body %s, want the rows without name, other members in place", got)
			}
		}},
		{"omit-field in a function response", "  - {kind: omit-field, field: UserId, match: {path: WhoAmI}}\n", func(t *testing.T, s *Server, tok string) {
			res, body := call(t, s, http.MethodGet, whoAmI, tok, "")
			checkJSONBody(t, res, body)
			if m := decode(t, body); m["UserId"] != nil || m["BusinessUnitId"] == nil {
				t.Errorf("WhoAmI %s, want no UserId and the rest", body)
			}
		}},
		{"omit-field value drops the collection", "  - {kind: omit-field, field: value, match: {path: /organizations}}\n", func(t *testing.T, s *Server, tok string) {
			res, body := call(t, s, http.MethodGet, dvURL(appEnv, "organizations"), tok, "")
			checkJSONBody(t, res, body)
			if m := decode(t, body); m["@odata.context"] == nil || m["value"] != nil {
				t.Errorf("body %s, want @odata.context without value", body)
			}
		}},
		{"omit-field at any depth in Graph", "  - {kind: omit-field, field: servicePlanName, match: {host: graph.microsoft.com}}\n", func(t *testing.T, s *Server, _ string) {
			gt := getToken(t, s, appTenant, appClient, appSecret, "https://graph.microsoft.com/.default")
			res, body := call(t, s, http.MethodGet, graphRoot+"subscribedSkus", gt, "")
			checkJSONBody(t, res, body)
			if strings.Contains(string(body), "servicePlanName") {
				t.Errorf("body still names servicePlanName: %s", body)
			}
		}},
		{"omit-field on the SharePoint tenant", "  - {kind: omit-field, field: ConditionalAccessPolicy, match: {host: apptest-admin.sharepoint.com}}\n", func(t *testing.T, s *Server, _ string) {
			st := getToken(t, s, appTenant, appClient, appSecret, "https://apptest-admin.sharepoint.com/.default")
			res, body := call(t, s, http.MethodGet, "https://apptest-admin.sharepoint.com/_api/SPO.Tenant", st, "", "Accept: application/json;odata=verbose")
			checkJSONBody(t, res, body)
			if got := string(body); strings.Contains(got, "ConditionalAccessPolicy") || !strings.Contains(got, `"__metadata"`) {
				t.Errorf("body %s, want the tenant object without the policy", got)
			}
		}},
		{"null-field", "  - {kind: null-field, field: isonedriveenabled, match: {path: /organizations}}\n", func(t *testing.T, s *Server, tok string) {
			res, body := call(t, s, http.MethodGet, dvURL(appEnv, "organizations?$select=name,isonedriveenabled"), tok, "")
			checkJSONBody(t, res, body)
			if got := string(body); !strings.Contains(got, `"isonedriveenabled":null`) || !strings.Contains(got, `"name":"App Test"`) {
				t.Errorf("body %s, want isonedriveenabled null and the name kept", got)
			}
		}},
		{"omit-field inside a Dataverse batch", "  - {kind: omit-field, field: UserId, match: {path: WhoAmI, scope: inner}}\n", func(t *testing.T, s *Server, tok string) {
			body, ct := buildBatch(batchPart{method: "GET", url: "organizations?$select=name"}, batchPart{method: "GET", url: "WhoAmI"})
			res, out := call(t, s, http.MethodPost, dvURL(appEnv, "$batch"), tok, body, "Content-Type: "+ct)
			parts := parseBatchResponse(t, res, out)
			if len(parts) != 2 || parts[1].status != http.StatusOK || !json.Valid([]byte(parts[1].body)) ||
				strings.Contains(parts[1].body, "UserId") || !strings.Contains(parts[1].body, "BusinessUnitId") || !strings.Contains(parts[0].body, `"name"`) {
				t.Errorf("parts %+v, want WhoAmI without UserId and organizations whole", parts)
			}
		}},
		{"null-field inside a Graph batch", "  - {kind: null-field, field: value, match: {path: subscribedSkus, scope: inner}}\n", func(t *testing.T, s *Server, _ string) {
			gt := getToken(t, s, appTenant, appClient, appSecret, "https://graph.microsoft.com/.default")
			res, raw := call(t, s, http.MethodPost, graphRoot+"$batch", gt, graphBatchBody(
				`{"id":"skus","method":"GET","url":"/subscribedSkus"}`, `{"id":"org","method":"GET","url":"/organization"}`))
			checkJSONBody(t, res, raw)
			var out graphBatchResponse
			if err := json.Unmarshal(raw, &out); err != nil {
				t.Fatal(err)
			}
			for _, r := range out.Responses {
				var body map[string]json.RawMessage
				if err := json.Unmarshal(r.Body, &body); err != nil {
					t.Fatalf("%s: body %s: %v", r.ID, r.Body, err)
				}
				if null := string(body["value"]) == "null"; null != (r.ID == "skus") {
					t.Errorf("%s: value %s", r.ID, body["value"])
				}
			}
		}},
		{"content-type text/html", "  - {kind: content-type, contentType: text/html, match: {path: WhoAmI}}\n", func(t *testing.T, s *Server, tok string) {
			res, body := call(t, s, http.MethodGet, whoAmI, tok, "")
			if res.StatusCode != http.StatusOK || res.Header.Get("Content-Type") != "text/html" || !strings.HasPrefix(string(body), "<!DOCTYPE html>") || res.ContentLength != int64(len(body)) {
				t.Errorf("%d %q %d bytes (Content-Length %d): %.60s", res.StatusCode, res.Header.Get("Content-Type"), len(body), res.ContentLength, body)
			}
		}},
		{"content-type other than HTML keeps the body", "  - {kind: content-type, contentType: text/plain, match: {path: WhoAmI}}\n", func(t *testing.T, s *Server, tok string) {
			res, body := call(t, s, http.MethodGet, whoAmI, tok, "")
			if m := decode(t, body); res.Header.Get("Content-Type") != "text/plain" || m["UserId"] == nil {
				t.Errorf("%q %s", res.Header.Get("Content-Type"), body)
			}
		}},
		{"truncate over HTTP/2", "  - {kind: truncate, match: {path: /organizations}}\n", func(t *testing.T, s *Server, tok string) {
			checkTruncated(t, s, s.Client(), dvURL(appEnv, "organizations"), tok)
		}},
		{"truncate over HTTP/1.1", "  - {kind: truncate, match: {path: /organizations}}\n", func(t *testing.T, s *Server, tok string) {
			checkTruncated(t, s, http1Client(s), dvURL(appEnv, "organizations"), tok)
		}},
		{"truncate inside a batch cuts the batch", "  - {kind: truncate, times: 1, match: {path: WhoAmI, scope: inner}}\n", func(t *testing.T, s *Server, tok string) {
			body, ct := buildBatch(batchPart{method: "GET", url: "organizations"}, batchPart{method: "GET", url: "WhoAmI"})
			req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, dvURL(appEnv, "$batch"), strings.NewReader(body))
			req.Header.Set("Authorization", "Bearer "+tok)
			req.Header.Set("Content-Type", ct)
			res, err := s.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			got, err := io.ReadAll(res.Body)
			if err == nil || res.ContentLength <= int64(len(got)) {
				t.Errorf("read %d of %d bytes, err %v: want the batch cut short", len(got), res.ContentLength, err)
			}
			if res, out := call(t, s, http.MethodPost, dvURL(appEnv, "$batch"), tok, body, "Content-Type: "+ct); len(parseBatchResponse(t, res, out)) != 2 {
				t.Error("after times: 1 the batch is still cut")
			}
		}},
		{"wrong-audience", "  - {kind: wrong-audience, match: {host: apptest.crm.dynamics.com}}\n", func(t *testing.T, s *Server, tok string) {
			if aud := tokenAudience(t, tok); aud != "https://graph.windows.net" {
				t.Errorf("aud = %q, want another resource", aud)
			}
			res, body := call(t, s, http.MethodGet, whoAmI, tok, "")
			if code, msg := errorCode(t, body); res.StatusCode != http.StatusUnauthorized || code != codeAuth || !strings.Contains(msg, "audience") ||
				!strings.Contains(res.Header.Get("WWW-Authenticate"), `error="invalid_token", error_description="The token audience is invalid"`) {
				t.Errorf("%d %q %s", res.StatusCode, res.Header.Get("WWW-Authenticate"), body)
			}
			// Tokens for other hosts are not touched.
			gt := getToken(t, s, appTenant, appClient, appSecret, "https://graph.microsoft.com/.default")
			if res, _ := call(t, s, http.MethodGet, graphRoot+"organization", gt, ""); res.StatusCode != http.StatusOK {
				t.Errorf("Graph with its own token: %d", res.StatusCode)
			}
			if entry := findLogged(s, func(r LoggedRequest) bool { return r.TokenRequest && r.Fault != "" }); entry.Fault != "wrong-audience" {
				t.Errorf("no token request logged with the fault, found %+v", entry)
			}
		}},
		{"wrong-audience on Graph", "  - {kind: wrong-audience, times: 1, match: {host: graph.microsoft.com}}\n", func(t *testing.T, s *Server, _ string) {
			gt := getToken(t, s, appTenant, appClient, appSecret, "https://graph.microsoft.com/.default")
			res, body := call(t, s, http.MethodGet, graphRoot+"organization", gt, "")
			if code, msg := errorCode(t, body); res.StatusCode != http.StatusUnauthorized || code != "InvalidAuthenticationToken" || msg != "Access token validation failure. Invalid audience." {
				t.Errorf("%d %s", res.StatusCode, body)
			}
			gt = getToken(t, s, appTenant, appClient, appSecret, "https://graph.microsoft.com/.default")
			if res, _ := call(t, s, http.MethodGet, graphRoot+"organization", gt, ""); res.StatusCode != http.StatusOK {
				t.Errorf("after times: 1 a new token is still refused: %d", res.StatusCode)
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := startServer(t, Options{}, faultScenario(t, tc.fault))
			tok := getToken(t, s, appTenant, appClient, appSecret, appEnv+"/.default")
			tc.check(t, s, tok)
		})
	}
}

func lastRequest(s *Server) LoggedRequest {
	reqs := s.Requests()
	if len(reqs) == 0 {
		return LoggedRequest{}
	}
	return reqs[len(reqs)-1]
}

func TestFaultsScopedToTheirTenant(t *testing.T) {
	t.Parallel()
	faulty := faultScenario(t, "  - {kind: status, status: 503, match: {host: graph.microsoft.com}}\n")
	s := startServer(t, Options{}, faulty, loadScenario(t, "ready"))
	readyGraph := getToken(t, s, readyTenant, demoClient, demoSecret, "https://graph.microsoft.com/.default")
	appGraph := getToken(t, s, appTenant, appClient, appSecret, "https://graph.microsoft.com/.default")
	if res, _ := call(t, s, http.MethodGet, graphRoot+"subscribedSkus", readyGraph, ""); res.StatusCode != http.StatusOK {
		t.Errorf("other tenant hit the fault: %d", res.StatusCode)
	}
	if res, _ := call(t, s, http.MethodGet, graphRoot+"subscribedSkus", appGraph, ""); res.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("own tenant: %d, want 503", res.StatusCode)
	}
}

func TestSectionsErroredScenario(t *testing.T) {
	t.Parallel()
	s := startServer(t, Options{}, loadScenario(t, "sections-errored"))
	const tenant = "ea09deea-e0bd-56d1-8ab7-c9e81cecd131"
	sales, claims := "https://humongous.crm.dynamics.com", "https://humongous-claims.crm.dynamics.com"
	gt := getToken(t, s, tenant, demoClient, demoSecret, "https://graph.microsoft.com/.default")
	res, body := call(t, s, http.MethodGet, graphRoot+"servicePrincipals(appId='a8adde6c-aeb4-4fd6-9d8f-c2dfdecac60a')", gt, "")
	if code, msg := errorCode(t, body); res.StatusCode != http.StatusForbidden || code != "Authorization_RequestDenied" || msg != "Insufficient privileges to complete the operation." {
		t.Errorf("servicePrincipals: %d %s", res.StatusCode, body)
	}
	for _, env := range []string{sales, claims} {
		tok := getToken(t, s, tenant, demoClient, demoSecret, env+"/.default")
		body, ct := buildBatch(
			batchPart{method: "GET", url: "organizations?$select=organizationid"},
			batchPart{method: "GET", url: "sharepointdocumentlocations?$select=name&$filter=absoluteurl%20ne%20null&$count=true"},
		)
		res, out := call(t, s, http.MethodPost, dvURL(env, "$batch"), tok, body, "Content-Type: "+ct, "Prefer: odata.continue-on-error")
		parts := parseBatchResponse(t, res, out)
		want := http.StatusOK
		if env == sales {
			want = http.StatusInternalServerError
		}
		if len(parts) != 2 || parts[0].status != http.StatusOK || parts[1].status != want {
			t.Errorf("%s: %+v, want document locations %d", env, parts, want)
		}
	}
}

func TestTokenEndpointThrottled(t *testing.T) {
	t.Parallel()
	s := startServer(t, Options{}, faultScenario(t, "  - {kind: throttle, retryAfter: \"1\", times: 1, match: {host: login.microsoftonline.com, path: /token$}}\n"))
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {appClient}, "client_secret": {appSecret}, "scope": {appEnv + "/.default"}}
	res, body := postForm(t, s, "https://login.microsoftonline.com/"+appTenant+"/oauth2/v2.0/token", form)
	if m := decode(t, body); res.StatusCode != http.StatusTooManyRequests || m["error"] != "temporarily_unavailable" || res.Header.Get("Retry-After") != "1" {
		t.Errorf("throttled token request: %d %s", res.StatusCode, body)
	}
	if res, body = postForm(t, s, "https://login.microsoftonline.com/"+appTenant+"/oauth2/v2.0/token", form); res.StatusCode != http.StatusOK {
		t.Errorf("second token request: %d %s", res.StatusCode, body)
	}
}

func TestRequestCancelledDuringLatency(t *testing.T) {
	t.Parallel()
	s := startServer(t, Options{}, faultScenario(t, "  - {kind: latency, delay: 5m, match: {path: WhoAmI}}\n"))
	tok := getToken(t, s, appTenant, appClient, appSecret, appEnv+"/.default")
	ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, dvURL(appEnv, "WhoAmI"), nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	start := time.Now()
	res, err := s.Client().Do(req)
	if err == nil {
		res.Body.Close()
		t.Fatalf("request answered %d during a 5m latency", res.StatusCode)
	}
	if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > 2*time.Second {
		t.Errorf("err = %v after %v", err, time.Since(start))
	}
}

// TestRevokedCAEToken: a token asked for with the CAE client capability and
// revoked by expire-token gets a claims challenge from Graph and SharePoint,
// naming the revocation time; Dataverse, which does not do CAE, answers as
// for any expired token.
func TestRevokedCAEToken(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, host, scope, url, challenge string
	}{
		{"graph", "graph.microsoft.com", "https://graph.microsoft.com/.default", "https://graph.microsoft.com/v1.0/organization", `error="insufficient_claims", claims="`},
		{"sharepoint", "apptest-admin.sharepoint.com", "https://apptest-admin.sharepoint.com/.default", "https://apptest-admin.sharepoint.com/_api/SPO.Tenant", `error="insufficient_claims", claims="`},
		{"dataverse", "apptest.crm.dynamics.com", appEnv + "/.default", dvURL(appEnv, "WhoAmI"), `error="invalid_token", error_description="The access token has expired"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := startServer(t, Options{}, parseInline(t, "app", appScenario+"faults:\n  - {kind: expire-token, times: 1, match: {host: "+tt.host+"}}\n"))
			res, body := postForm(t, s, "https://login.microsoftonline.com/"+appTenant+"/oauth2/v2.0/token", url.Values{
				"grant_type": {"client_credentials"}, "client_id": {appClient}, "client_secret": {appSecret}, "scope": {tt.scope},
				"claims": {`{"access_token":{"xms_cc":{"values":["CP1"]}}}`},
			})
			var tok struct {
				AccessToken string `json:"access_token"`
			}
			if res.StatusCode != http.StatusOK || json.Unmarshal(body, &tok) != nil {
				t.Fatalf("token: %d %s", res.StatusCode, body)
			}
			var challenges []string
			for range 2 { // the faulted request, then a later use of the token
				res, body := call(t, s, http.MethodGet, tt.url, tok.AccessToken, "")
				if res.StatusCode != http.StatusUnauthorized {
					t.Fatalf("status %d %s, want 401", res.StatusCode, body)
				}
				challenges = append(challenges, res.Header.Get("WWW-Authenticate"))
			}
			if !strings.Contains(challenges[0], tt.challenge) || challenges[0] != challenges[1] {
				t.Fatalf("challenges %q, want two alike containing %q", challenges, tt.challenge)
			}
			if tt.name == "graph" {
				_, encoded, _ := strings.Cut(challenges[0], `claims="`)
				encoded, _, _ = strings.Cut(encoded, `"`)
				claims, err := base64.StdEncoding.DecodeString(encoded)
				if err != nil || !strings.HasPrefix(string(claims), `{"access_token":{"nbf":{"essential":true,"value":"`) {
					t.Errorf("claims %q (%v), want an nbf claim", claims, err)
				}
			}
		})
	}
}

// checkJSONBody checks a 200 answer whose body is JSON of the length its
// Content-Length says.
func checkJSONBody(t *testing.T, res *http.Response, body []byte) {
	t.Helper()
	if res.StatusCode != http.StatusOK || !json.Valid(body) {
		t.Fatalf("%d, valid JSON %v: %s", res.StatusCode, json.Valid(body), body)
	}
	if n, err := strconv.Atoi(res.Header.Get("Content-Length")); err == nil && n != len(body) {
		t.Errorf("Content-Length %d for a body of %d bytes", n, len(body))
	}
}

// http1Client is the server's client without HTTP/2.
func http1Client(s *Server) *http.Client {
	c := s.Client()
	tr := c.Transport.(*http.Transport)
	tr.ForceAttemptHTTP2 = false
	tr.TLSNextProto = map[string]func(string, *tls.Conn) http.RoundTripper{}
	return c
}

// checkTruncated gets u and checks that the body ends before the
// Content-Length it was promised, with a read error, and that the log
// names the fault.
func checkTruncated(t *testing.T, s *Server, c *http.Client, u, tok string) {
	t.Helper()
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, u, nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	res, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	got, err := io.ReadAll(res.Body)
	if err == nil || res.StatusCode != http.StatusOK || res.ContentLength <= 0 || int64(len(got)) >= res.ContentLength {
		t.Errorf("%s: status %d, read %d of %d bytes, err %v: want a body cut short", res.Proto, res.StatusCode, len(got), res.ContentLength, err)
	}
	if entry := lastRequest(s); entry.Fault != "truncate" {
		t.Errorf("log entry %+v", entry)
	}
}

// tokenAudience reads the aud claim of a JWT (unverified).
func tokenAudience(t *testing.T, tok string) string {
	t.Helper()
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %d parts", len(parts))
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var claims struct {
		Aud string `json:"aud"`
	}
	if err := json.Unmarshal(payload, &claims); err != nil {
		t.Fatal(err)
	}
	return claims.Aud
}

// findLogged returns the last logged request for which ok holds.
func findLogged(s *Server, ok func(LoggedRequest) bool) LoggedRequest {
	reqs := s.Requests()
	for i := len(reqs) - 1; i >= 0; i-- {
		if ok(reqs[i]) {
			return reqs[i]
		}
	}
	return LoggedRequest{}
}

// TestTLSFault: the handshake with the matching host presents a
// certificate for another name, so the client refuses it; other hosts are
// served; after times: N handshakes the fault is spent.
func TestTLSFault(t *testing.T) {
	t.Parallel()
	s := startServer(t, Options{}, faultScenario(t, "  - {name: bad-cert, kind: tls, times: 1, match: {host: crm.dynamics.com}}\n"))
	tok := getToken(t, s, appTenant, appClient, appSecret, appEnv+"/.default") // login host: not matched
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, dvURL(appEnv, "WhoAmI"), nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	res, err := s.Client().Do(req)
	var verr *tls.CertificateVerificationError
	if err == nil {
		res.Body.Close()
		t.Fatalf("handshake with a tls fault succeeded: %d", res.StatusCode)
	}
	if !errors.As(err, &verr) || !strings.Contains(err.Error(), "apptest.crm.dynamics.com") || !strings.Contains(err.Error(), tlsFaultHost) {
		t.Errorf("err = %v, want a certificate for another name", err)
	}
	if entry := lastRequest(s); entry.Method != "TLS" || entry.Host != "apptest.crm.dynamics.com" || entry.Fault != "bad-cert" || entry.Tenant != appTenant {
		t.Errorf("log entry %+v", entry)
	}
	if res, _ := call(t, s, http.MethodGet, dvURL(appEnv, "WhoAmI"), tok, ""); res.StatusCode != http.StatusOK {
		t.Errorf("after times: 1: %d", res.StatusCode)
	}
}
