package emulator

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"
)

// batchPart is one inner request of a test batch.
type batchPart struct {
	method, url, body string
	headers           []string
}

// buildBatch writes a multipart/mixed batch as facts §7 shows it. A nil
// part list entry inside changeSets opens a change set.
func buildBatch(items ...any) (string, string) {
	const boundary = "batch_7d2f4c1e"
	var b strings.Builder
	writeReq := func(boundary string, p batchPart, id int) {
		fmt.Fprintf(&b, "--%s\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n", boundary)
		if id > 0 {
			fmt.Fprintf(&b, "Content-ID: %d\r\n", id)
		}
		fmt.Fprintf(&b, "\r\n%s %s HTTP/1.1\r\nAccept: application/json\r\n", p.method, p.url)
		for _, h := range p.headers {
			b.WriteString(h + "\r\n")
		}
		if p.body != "" {
			b.WriteString("Content-Type: application/json\r\n\r\n" + p.body + "\r\n")
		} else {
			b.WriteString("\r\n")
		}
	}
	for i, it := range items {
		switch v := it.(type) {
		case batchPart:
			writeReq(boundary, v, 0)
		case []batchPart:
			cs := fmt.Sprintf("changeset_%d", i)
			fmt.Fprintf(&b, "--%s\r\nContent-Type: multipart/mixed; boundary=%s\r\n\r\n", boundary, cs)
			for j, p := range v {
				writeReq(cs, p, j+1)
			}
			fmt.Fprintf(&b, "--%s--\r\n", cs)
		}
	}
	fmt.Fprintf(&b, "--%s--\r\n", boundary)
	return b.String(), `multipart/mixed; boundary="` + boundary + `"`
}

// batchResult is one parsed response part.
type batchResult struct {
	status    int
	body      string
	changeSet []batchResult
}

func parseBatchResponse(t *testing.T, res *http.Response, body []byte) []batchResult {
	t.Helper()
	mt, params, err := mime.ParseMediaType(res.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/mixed" || !strings.HasPrefix(params["boundary"], "batchresponse_") {
		t.Fatalf("batch Content-Type %q", res.Header.Get("Content-Type"))
	}
	return readParts(t, bytes.NewReader(body), params["boundary"])
}

func readParts(t *testing.T, r io.Reader, boundary string) []batchResult {
	t.Helper()
	var out []batchResult
	mr := multipart.NewReader(r, boundary)
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatalf("response part: %v", err)
		}
		mt, params, _ := mime.ParseMediaType(p.Header.Get("Content-Type"))
		if mt == "multipart/mixed" {
			out = append(out, batchResult{changeSet: readParts(t, p, params["boundary"])})
			continue
		}
		raw, _ := io.ReadAll(p)
		resp, err := http.ReadResponse(bufioReader(raw), nil)
		if err != nil {
			t.Fatalf("inner response %q: %v", raw, err)
		}
		b, _ := io.ReadAll(resp.Body)
		out = append(out, batchResult{status: resp.StatusCode, body: string(b)})
	}
}

func TestDataverseBatch(t *testing.T) {
	t.Parallel()
	s := startServer(t, Options{}, loadScenario(t, "sp-800503ca-all"))
	const env = "https://fabrikam.crm4.dynamics.com"
	tok := getToken(t, s, "10a86877-5713-50b1-82c1-b12f5ba6a7e6", demoClient, demoSecret, env+"/.default")
	batchURL := dvURL(env, "$batch")
	reads := []any{
		batchPart{method: "GET", url: "/api/data/v9.2/organizations?$select=isonedriveenabled"},
		batchPart{method: "GET", url: env + "/api/data/v9.2/sharepointsites?$select=foo"},
		batchPart{method: "GET", url: "sharepointdocumentlocations?$select=name&$count=true", headers: []string{"Prefer: odata.maxpagesize=2"}},
	}

	t.Run("continue on error", func(t *testing.T) {
		body, ct := buildBatch(reads...)
		res, out := call(t, s, http.MethodPost, batchURL, tok, body, "Content-Type: "+ct, "Prefer: odata.continue-on-error")
		if res.StatusCode != http.StatusOK || res.Header.Get("Preference-Applied") != "odata.continue-on-error" {
			t.Fatalf("%d %q", res.StatusCode, res.Header.Get("Preference-Applied"))
		}
		parts := parseBatchResponse(t, res, out)
		if len(parts) != 3 {
			t.Fatalf("%d parts, want 3", len(parts))
		}
		if parts[0].status != 200 || !strings.Contains(parts[0].body, `"isonedriveenabled":true`) {
			t.Errorf("part 1: %d %s", parts[0].status, parts[0].body)
		}
		if parts[1].status != 400 || !strings.Contains(parts[1].body, `"code":"0x80060888"`) {
			t.Errorf("part 2: %d %s", parts[1].status, parts[1].body)
		}
		if parts[2].status != 200 || !strings.Contains(parts[2].body, `"@odata.count":3`) || !strings.Contains(parts[2].body, `"@odata.nextLink":"https://fabrikam.crm4.dynamics.com/api/data/v9.2/sharepointdocumentlocations?`) {
			t.Errorf("part 3: %d %s", parts[2].status, parts[2].body)
		}
	})
	t.Run("stops at the first failure", func(t *testing.T) {
		body, ct := buildBatch(reads...)
		res, out := call(t, s, http.MethodPost, batchURL, tok, body, "Content-Type: "+ct)
		parts := parseBatchResponse(t, res, out)
		if len(parts) != 2 || parts[1].status != 400 {
			t.Errorf("got %d parts, want 2 ending in the 400", len(parts))
		}
	})
	t.Run("change set is atomic", func(t *testing.T) {
		const org = "c1deb1c6-76f3-5af9-a17f-2fea08ce6c38"
		body, ct := buildBatch([]batchPart{
			{method: "PATCH", url: "organizations(" + org + ")", body: `{"isonedriveenabled":false}`},
			{method: "PATCH", url: "sharepointsites(0a17db94-98fc-54f2-893a-9879a1a2e0d2)", body: `{"servicetype":42}`},
		})
		res, out := call(t, s, http.MethodPost, batchURL, tok, body, "Content-Type: "+ct)
		parts := parseBatchResponse(t, res, out)
		if len(parts) != 1 || parts[0].status != 400 || !strings.Contains(parts[0].body, codeValidation) {
			t.Fatalf("failed change set answered %+v", parts)
		}
		_, got := call(t, s, http.MethodGet, dvURL(env, "organizations("+org+")?$select=isonedriveenabled"), tok, "")
		if !strings.Contains(string(got), `"isonedriveenabled":true`) {
			t.Errorf("first change not rolled back: %s", got)
		}
		body, ct = buildBatch([]batchPart{
			{method: "PATCH", url: "organizations(" + org + ")", body: `{"isonedriveenabled":false}`},
			{method: "PATCH", url: "sharepointsites(0a17db94-98fc-54f2-893a-9879a1a2e0d2)", body: `{"statecode":1}`},
		}, batchPart{method: "GET", url: "sharepointsites?$filter=statecode%20eq%200&$count=true&$select=name"})
		res, out = call(t, s, http.MethodPost, batchURL, tok, body, "Content-Type: "+ct)
		parts = parseBatchResponse(t, res, out)
		if len(parts) != 2 || len(parts[0].changeSet) != 2 || parts[0].changeSet[0].status != 204 || parts[0].changeSet[1].status != 204 {
			t.Fatalf("successful change set answered %+v", parts)
		}
		if !strings.Contains(parts[1].body, `"@odata.count":1`) {
			t.Errorf("read after change set: %s", parts[1].body)
		}
	})
	t.Run("malformed batches", func(t *testing.T) {
		getInChangeSet, ct := buildBatch([]batchPart{{method: "GET", url: "organizations"}})
		many := make([]any, 1001)
		for i := range many {
			many[i] = batchPart{method: "GET", url: "WhoAmI"}
		}
		tooMany, ct2 := buildBatch(many...)
		cases := []struct{ name, body, ct, want string }{
			{"GET in change set", getInChangeSet, ct, "cannot contain GET"},
			{"over 1000", tooMany, ct2, "exceeds the limit of 1000"},
			{"not multipart", "{}", "application/json", "multipart/mixed"},
			{"bad request line", "--b\r\nContent-Type: application/http\r\n\r\nHELLO\r\n--b--\r\n", "multipart/mixed; boundary=b", "bad request line"},
		}
		for _, c := range cases {
			res, body := call(t, s, http.MethodPost, batchURL, tok, c.body, "Content-Type: "+c.ct)
			if res.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), c.want) {
				t.Errorf("%s: %d %s", c.name, res.StatusCode, truncate(string(body), 300))
			}
		}
	})
	t.Run("batch needs a token", func(t *testing.T) {
		body, ct := buildBatch(reads...)
		res, _ := call(t, s, http.MethodPost, batchURL, "", body, "Content-Type: "+ct)
		if res.StatusCode != http.StatusUnauthorized {
			t.Errorf("anonymous batch: %d", res.StatusCode)
		}
	})
}

func bufioReader(b []byte) *bufio.Reader { return bufio.NewReader(bytes.NewReader(b)) }
