package odata

import (
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
)

// resolve turns a path relative to the base URL (a leading "/" is ignored:
// paths never leave the base), or an absolute URL on the base's scheme and
// host, into the URL to request.
func (c *Client) resolve(ref string) (*url.URL, error) {
	if isAbsoluteURL(ref) {
		return c.sameHost(ref)
	}
	u, err := parseRelative(c.base, strings.TrimLeft(ref, "/"))
	if err != nil {
		return nil, err
	}
	if !strings.HasPrefix(u.EscapedPath(), c.base.EscapedPath()) {
		return nil, fmt.Errorf("path %s leaves the base path %s", shownRef(ref), c.base.EscapedPath())
	}
	return u, nil
}

// resolveNext resolves an @odata.nextLink: absolute links must stay on the
// base's host, relative ones are resolved against the current request URL.
func (c *Client) resolveNext(current *url.URL, link string) (*url.URL, error) {
	if isAbsoluteURL(link) {
		return c.sameHost(link)
	}
	if strings.HasPrefix(link, "//") {
		return nil, fmt.Errorf("next link %s: %w", shownRef(link), ErrForeignHost)
	}
	return parseRelative(current, link)
}

// sameHost parses an absolute URL and refuses it unless its scheme and host
// (with the default port made explicit) equal the base's.
func (c *Client) sameHost(raw string) (*url.URL, error) {
	path, query, _ := strings.Cut(raw, "?")
	u, err := url.Parse(path)
	if err != nil {
		return nil, fmt.Errorf("parse URL %s: %w", shownRef(raw), urlErrorCause(err))
	}
	u.RawQuery = escapeQuery(query)
	u.User = nil
	u.Fragment, u.RawFragment = "", "" // never sent; and a page is the same page without it
	if !strings.EqualFold(u.Scheme, c.base.Scheme) || hostPort(u) != hostPort(c.base) {
		return nil, fmt.Errorf("%s (expected %s://%s): %w", BoundText(c.showURL(u)), c.base.Scheme, c.base.Host, ErrForeignHost)
	}
	return u, nil
}

// parseRelative resolves ref against against. The query is kept verbatim
// except that bytes which may not appear in a query are percent-encoded, so
// "$filter=name eq 'x'" can be written as is.
func parseRelative(against *url.URL, ref string) (*url.URL, error) {
	path, query, hasQuery := strings.Cut(ref, "?")
	if strings.ContainsAny(path, "#\x00\r\n") {
		return nil, fmt.Errorf("path %s contains a character that may not appear in a URL path", shownRef(ref))
	}
	rel, err := url.Parse("./" + path)
	if err != nil {
		return nil, fmt.Errorf("parse path %s: %w", shownRef(ref), urlErrorCause(err))
	}
	u := against.ResolveReference(rel)
	u.RawQuery = ""
	if hasQuery {
		u.RawQuery = escapeQuery(query)
	}
	u.Fragment, u.RawFragment = "", ""
	return u, nil
}

// shownRef quotes a path or link, which may come from a server, for an error
// text: anything shaped like a credential redacted, the length bounded.
func shownRef(s string) string {
	q := strconv.Quote(BoundText(redact(s)))
	if len(q) > MaxErrorText {
		// Escapes made it longer (up to four bytes for one); the marker
		// then also counts the escaped bytes it leaves out.
		q = BoundText(q)
	}
	return q
}

// urlErrorCause drops the *url.Error wrapper, which repeats the whole URL,
// and keeps its cause, whose text is bounded too (an invalid port is quoted
// whole).
func urlErrorCause(err error) error {
	var uerr *url.Error
	if errors.As(err, &uerr) {
		err = uerr.Err
	}
	return boundedError{err}
}

func isAbsoluteURL(s string) bool {
	scheme, _, ok := strings.Cut(s, "://")
	if !ok || scheme == "" {
		return false
	}
	for _, r := range scheme {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '+' || r == '-' || r == '.') {
			return false
		}
	}
	return true
}

func hostPort(u *url.URL) string {
	host, port := strings.ToLower(u.Hostname()), u.Port()
	if port == "" {
		switch strings.ToLower(u.Scheme) {
		case "https":
			port = "443"
		case "http":
			port = "80"
		}
	}
	return host + ":" + port
}

// escapeQuery percent-encodes the bytes of a query that RFC 3986 does not
// allow there (spaces, quotes, control characters, '#', non-ASCII) and keeps
// everything else, including existing %XX escapes, unchanged.
func escapeQuery(q string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(q); i++ {
		ch := q[i]
		switch {
		case ch == '%' && i+2 < len(q) && isHex(q[i+1]) && isHex(q[i+2]):
			b.WriteByte(ch)
		case queryByteAllowed(ch):
			b.WriteByte(ch)
		default:
			b.WriteByte('%')
			b.WriteByte(hex[ch>>4])
			b.WriteByte(hex[ch&15])
		}
	}
	return b.String()
}

func queryByteAllowed(ch byte) bool {
	switch {
	case ch >= 'a' && ch <= 'z', ch >= 'A' && ch <= 'Z', ch >= '0' && ch <= '9':
		return true
	}
	return strings.IndexByte("-._~!$&'()*+,;=:@/?", ch) >= 0
}

func isHex(ch byte) bool {
	return ch >= '0' && ch <= '9' || ch >= 'a' && ch <= 'f' || ch >= 'A' && ch <= 'F'
}
