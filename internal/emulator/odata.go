package emulator

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/teamslink/teamslink/internal/emulator/query"
)

// queryOptions are a request's system query options ($-prefixed, by
// lower-case name) with values unescaped.
type queryOptions map[string]string

// optionError is a malformed or unsupported query string.
type optionError struct{ msg string }

func (e *optionError) Error() string { return e.msg }

// parseQueryOptions reads the $-options of a raw query string. Custom
// options (no $) are ignored, as OData allows; a repeated option is an error.
func parseQueryOptions(rawQuery string) (queryOptions, error) {
	out := queryOptions{}
	if rawQuery == "" {
		return out, nil
	}
	for _, part := range strings.Split(rawQuery, "&") {
		if part == "" {
			continue
		}
		k, v, _ := strings.Cut(part, "=")
		name, err := url.QueryUnescape(k)
		if err != nil {
			return nil, &optionError{fmt.Sprintf("The query string is malformed near '%s'.", k)}
		}
		if !strings.HasPrefix(name, "$") {
			continue
		}
		val, err := url.QueryUnescape(v)
		if err != nil {
			return nil, &optionError{fmt.Sprintf("The value of query option '%s' is not correctly escaped.", name)}
		}
		lname := strings.ToLower(name)
		if _, dup := out[lname]; dup {
			return nil, &optionError{fmt.Sprintf("Query option '%s' was specified more than once, but it must be specified at most once.", name)}
		}
		out[lname] = val
	}
	return out, nil
}

// check rejects options outside allowed with the Dataverse wording.
func (q queryOptions) check(allowed ...string) error {
	for _, name := range sortedKeys(q) {
		ok := false
		for _, a := range allowed {
			if name == a {
				ok = true
			}
		}
		if !ok {
			return &optionError{fmt.Sprintf("The query parameter %s is not supported", name)}
		}
	}
	return nil
}

var pagingCookieRE = regexp.MustCompile(`pagingcookie="([^"]+)"`)

// pageHash ties a skiptoken to the request that produced it: the path and
// every query option except $skiptoken.
func pageHash(path string, rawQuery string) string {
	var parts []string
	for _, p := range strings.Split(rawQuery, "&") {
		k, _, _ := strings.Cut(p, "=")
		if name, err := url.QueryUnescape(k); err == nil && strings.EqualFold(name, "$skiptoken") {
			continue
		}
		if p != "" {
			parts = append(parts, p)
		}
	}
	sort.Strings(parts)
	h := sha256.Sum256([]byte(path + "?" + strings.Join(parts, "&")))
	return hex.EncodeToString(h[:6])
}

// encodeSkipToken makes an opaque Dataverse-looking skiptoken value.
func encodeSkipToken(offset int, hash string, page int) string {
	inner := base64.RawURLEncoding.EncodeToString([]byte("o=" + strconv.Itoa(offset) + "&h=" + hash))
	return fmt.Sprintf(`<cookie pagenumber="%d" pagingcookie="%s" istracking="False" />`, page, inner)
}

// decodeSkipToken returns the offset a skiptoken stands for.
func decodeSkipToken(tok, hash string) (int, error) {
	bad := &optionError{"The $skiptoken is not valid for this request. Follow @odata.nextLink without changing it."}
	m := pagingCookieRE.FindStringSubmatch(tok)
	if m == nil {
		return 0, bad
	}
	raw, err := base64.RawURLEncoding.DecodeString(m[1])
	if err != nil {
		return 0, bad
	}
	vals, err := url.ParseQuery(string(raw))
	if err != nil || vals.Get("h") != hash {
		return 0, bad
	}
	off, err := strconv.Atoi(vals.Get("o"))
	if err != nil || off < 0 {
		return 0, bad
	}
	return off, nil
}

// nextLink rebuilds the request URL with a new $skiptoken, keeping every
// other option as the client sent it.
func nextLink(r *http.Request, host, token string) string {
	var parts []string
	for _, p := range strings.Split(r.URL.RawQuery, "&") {
		k, _, _ := strings.Cut(p, "=")
		if name, err := url.QueryUnescape(k); err == nil && strings.EqualFold(name, "$skiptoken") {
			continue
		}
		if p != "" {
			parts = append(parts, p)
		}
	}
	parts = append(parts, "$skiptoken="+url.QueryEscape(token))
	return "https://" + host + r.URL.EscapedPath() + "?" + strings.Join(parts, "&")
}

// sortRows orders rows by $orderby keys; nulls sort first ascending.
func sortRows(rows []row, order []query.OrderItem) {
	if len(order) == 0 {
		return
	}
	sort.SliceStable(rows, func(i, j int) bool { return rowLess(rows[i], rows[j], order) })
}

// rowLess orders two rows by $orderby: null first, ties in place.
func rowLess(x, y row, order []query.OrderItem) bool {
	for _, o := range order {
		a, b := x[o.Name], y[o.Name]
		var c int
		switch {
		case a == nil && b == nil:
			c = 0
		case a == nil:
			c = -1
		case b == nil:
			c = 1
		default:
			c, _ = query.Compare(a, b)
		}
		if o.Desc {
			c = -c
		}
		if c != 0 {
			return c < 0
		}
	}
	return false
}

// decodeJSONBody reads a JSON object body (at most 4 MiB) keeping numbers exact.
func decodeJSONBody(r *http.Request) (map[string]any, error) {
	if r.Body == nil {
		return nil, fmt.Errorf("the request body is empty")
	}
	dec := json.NewDecoder(http.MaxBytesReader(nil, r.Body, 4<<20))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("the request body is not valid JSON: %w", err)
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("the request body must be a JSON object")
	}
	return m, nil
}

// jsonScalar converts json.Number into int64 or float64.
func jsonScalar(v any) any {
	if n, ok := v.(json.Number); ok {
		if i, err := n.Int64(); err == nil {
			return i
		}
		if f, err := n.Float64(); err == nil {
			return f
		}
	}
	return v
}
