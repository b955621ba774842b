package emulator

import (
	"bytes"
	"encoding/json"
	"mime"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"
)

// faultState is a fault with its firing counter.
type faultState struct {
	f     *Fault
	re    *regexp.Regexp
	delay time.Duration
	size  int64

	mu      sync.Mutex
	skipped int
	fired   int
}

const defaultOversize = 32 << 20

func newFaultState(f *Fault) *faultState {
	fs := &faultState{f: f, size: defaultOversize}
	if f.Match.Path != "" {
		fs.re = regexp.MustCompile(f.Match.Path) // validated
	}
	if f.Delay != "" {
		fs.delay, _ = time.ParseDuration(f.Delay)
	}
	if f.Size != "" {
		fs.size, _ = parseSize(f.Size)
	}
	return fs
}

func (fs *faultState) name() string {
	if fs.f.Name != "" {
		return fs.f.Name
	}
	return fs.f.Kind
}

// matches reports whether the fault selects this request.
func (fs *faultState) matches(r *http.Request, rc *reqCtx) bool {
	m := fs.f.Match
	switch m.Scope {
	case "outer":
		if rc.inner {
			return false
		}
	case "inner":
		if !rc.inner {
			return false
		}
	}
	if !fs.matchesHost(rc.host) {
		return false
	}
	if m.Method != "" && !methodMatches(m.Method, r.Method) {
		return false
	}
	if fs.re != nil {
		target := r.URL.Path
		if r.URL.RawQuery != "" {
			q, err := url.PathUnescape(r.URL.RawQuery)
			if err != nil {
				q = r.URL.RawQuery
			}
			target += "?" + q
		}
		if !fs.re.MatchString(target) {
			return false
		}
	}
	return true
}

// methodMatches reports whether method is one of the comma-separated
// methods of want; "WRITE" stands for POST, PATCH, PUT and DELETE.
func methodMatches(want, method string) bool {
	for _, m := range strings.Split(want, ",") {
		m = strings.TrimSpace(m)
		if m == method || (m == "WRITE" && method != http.MethodGet && method != http.MethodHead) {
			return true
		}
	}
	return false
}

// matchesHost reports whether host is the fault's match.host or ends with
// "."+match.host; an empty match.host matches every host.
func (fs *faultState) matchesHost(host string) bool {
	h := strings.ToLower(fs.f.Match.Host)
	return h == "" || host == h || strings.HasSuffix(host, "."+h)
}

// take counts one matching request and reports whether the fault fires on
// it: not on the first Skip, then Times times (always when Times is 0).
func (fs *faultState) take() bool {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	if fs.skipped < fs.f.Skip {
		fs.skipped++
		return false
	}
	if fs.f.Times > 0 && fs.fired >= fs.f.Times {
		return false
	}
	fs.fired++
	return true
}

// applyFaults injects the faults matching r. done is true when a fault
// answered the request; posts are the faults that rewrite the response the
// service writes, in order.
func (s *Server) applyFaults(w http.ResponseWriter, r *http.Request, rc *reqCtx, faults []*faultState) (posts []*faultState, done bool) {
	for _, fs := range faults {
		switch fs.f.Kind {
		case FaultTLS, FaultWrongAudience:
			continue // applied at the handshake and the token endpoint
		}
		if !fs.matches(r, rc) || !fs.take() {
			continue
		}
		rc.entry.addFault(fs.name())
		switch fs.f.Kind {
		case FaultLatency:
			t := time.NewTimer(fs.delay)
			select {
			case <-t.C:
			case <-r.Context().Done():
				t.Stop()
				return nil, true
			}
		case FaultExpireToken:
			s.lock(rc)
			if tok := s.peekToken(r); tok != nil {
				s.tokMu.Lock()
				if !tok.revoked {
					tok.revoked, tok.revokeAt = true, s.opts.Clock()
				}
				s.tokMu.Unlock()
			}
			s.unlock(rc)
		case FaultThrottle:
			ra := fs.f.RetryAfter
			switch ra {
			case "":
				ra = "1"
			case retryAfterNone:
				ra = ""
			}
			s.writeThrottle(w, rc, ra)
			return nil, true
		case FaultStatus:
			status := fs.f.Status
			if status == 0 {
				status = http.StatusServiceUnavailable
			}
			s.writeStatusFault(w, rc, status)
			return nil, true
		case FaultReset:
			// Aborts the connection (HTTP/1.1) or the stream (HTTP/2); a
			// reset inside a $batch takes the whole batch down with it.
			panic(http.ErrAbortHandler)
		case FaultTruncate:
			// The connection carries the body, so cutting it short cuts
			// the outermost response: inside a $batch, the whole batch.
			rc.root().cut = true
		case FaultMalformed, FaultOversize, FaultOmitField, FaultNullField, FaultContentType, FaultDropResponse:
			posts = append(posts, fs)
		}
	}
	return posts, false
}

// writeThrottle answers 429 with Retry-After in the service's error shape.
// An empty retryAfter sends none.
func (s *Server) writeThrottle(w http.ResponseWriter, rc *reqCtx, retryAfter string) {
	if retryAfter != "" {
		w.Header().Set("Retry-After", retryAfter)
	}
	switch rc.svc {
	case svcDataverse:
		// Service protection limit, facts §7.
		dvError(w, http.StatusTooManyRequests, codeThrottled, "Number of requests exceeded the limit of 6000 over time window of 300 seconds.")
	case svcGraph:
		s.graphError(w, rc, http.StatusTooManyRequests, "TooManyRequests", "Too many requests. Please retry after the time in the Retry-After header.")
	case svcSharePoint:
		spoError(w, rc.spoVerbose, http.StatusTooManyRequests, "TooManyRequests", "The request has been throttled. Retry after the time in the Retry-After header.")
	default:
		s.aadError(w, rc, http.StatusTooManyRequests, "temporarily_unavailable", "AADSTS90022", "The request has been throttled (emulated). Retry after the time in the Retry-After header.")
	}
}

// writeStatusFault answers an injected HTTP error in the service's shape.
func (s *Server) writeStatusFault(w http.ResponseWriter, rc *reqCtx, status int) {
	msg := http.StatusText(status) + "."
	switch status {
	case http.StatusInternalServerError:
		msg = "An unexpected error occurred."
	case http.StatusServiceUnavailable:
		msg = "The service is temporarily unavailable."
	case http.StatusForbidden:
		msg = "Insufficient privileges to complete the operation."
	}
	switch rc.svc {
	case svcDataverse:
		code := codeUnexpected
		if status == http.StatusForbidden {
			code = codePrivilege
		}
		dvError(w, status, code, msg)
	case svcGraph:
		code := "UnknownError"
		switch status {
		case http.StatusForbidden:
			code = "Authorization_RequestDenied"
		case http.StatusNotFound:
			code = "Request_ResourceNotFound"
		case http.StatusInternalServerError:
			code = "generalException"
		case http.StatusServiceUnavailable, http.StatusBadGateway:
			code = "serviceNotAvailable"
		case http.StatusGatewayTimeout:
			code = "timeout"
		}
		s.graphError(w, rc, status, code, msg)
	case svcSharePoint:
		spoError(w, rc.spoVerbose, status, strconv.Itoa(status)+", Microsoft.SharePoint.SPException", msg)
	default:
		code := "server_error"
		if status == http.StatusServiceUnavailable {
			code = "temporarily_unavailable"
		}
		s.aadError(w, rc, status, code, "AADSTS90033", msg)
	}
}

// rewrite writes the response captured in buf to w, damaged by the post
// faults in order: omit-field, null-field and content-type change it,
// malformed cuts the body in half, oversize replaces it. The
// Content-Length always matches what is sent (truncate, which breaks that
// promise, works on the connection instead: see cutWriter).
func rewrite(w http.ResponseWriter, buf *bufferedWriter, posts []*faultState) {
	header := buf.header.Clone()
	status := buf.code()
	body := buf.body.Bytes()
	var oversize int64
	for _, fs := range posts {
		switch fs.f.Kind {
		case FaultMalformed:
			bad := []byte(`{"error":`)
			if len(body) > 1 {
				// A JSON object or array cut short never parses.
				bad = body[:len(body)/2]
			}
			body = bad
			if header.Get("Content-Type") == "" {
				header.Set("Content-Type", "application/json")
			}
		case FaultOmitField, FaultNullField:
			if edited, ok := editJSON(body, fs.f.Field, fs.f.Kind == FaultNullField); ok {
				body = edited
			}
		case FaultContentType:
			ct := fs.contentType()
			header.Set("Content-Type", ct)
			if mt, _, _ := mime.ParseMediaType(ct); mt == "text/html" {
				// What a proxy or captive portal answers in the service's place.
				body = []byte(proxyPage)
			}
		case FaultOversize:
			oversize = fs.size
		}
	}
	for k, vs := range header {
		w.Header()[k] = vs
	}
	if oversize > 0 {
		writeOversize(w, status, oversize)
		return
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// proxyPage is the body of a content-type fault to text/html.
const proxyPage = `<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>Access to this site is restricted</title></head>
<body><h1>Access to this site is restricted</h1>
<p>Your organization's web proxy answered in place of the service (emulated content-type fault).</p></body></html>
`

func (fs *faultState) contentType() string {
	if fs.f.ContentType == "" {
		return "text/html; charset=utf-8"
	}
	return fs.f.ContentType
}

// writeOversize sends a valid JSON body of size bytes.
func writeOversize(w http.ResponseWriter, status int, size int64) {
	head := []byte(`{"@odata.context":"emulated-oversize-body","value":[{"padding":"`)
	tail := []byte(`"}]}`)
	pad := max(size-int64(len(head)+len(tail)), 0)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.FormatInt(int64(len(head)+len(tail))+pad, 10))
	w.WriteHeader(status)
	if _, err := w.Write(head); err != nil {
		return
	}
	chunk := []byte(strings.Repeat("x", 32<<10))
	for pad > 0 {
		n := min(pad, int64(len(chunk)))
		if _, err := w.Write(chunk[:n]); err != nil {
			return
		}
		pad -= n
	}
	_, _ = w.Write(tail)
}

// editJSON removes the member field from every object in the JSON document
// data, or sets it to null, keeping the order of everything else. ok is
// false when data is not JSON.
func editJSON(data []byte, field string, toNull bool) (out []byte, ok bool) {
	if !json.Valid(data) {
		return nil, false
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var b bytes.Buffer
	if err := editValue(dec, &b, field, toNull); err != nil {
		return nil, false
	}
	return b.Bytes(), true
}

func editValue(dec *json.Decoder, b *bytes.Buffer, field string, toNull bool) error {
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	d, isDelim := tok.(json.Delim)
	if !isDelim {
		v, err := marshal(tok)
		if err != nil {
			return err
		}
		b.Write(v)
		return nil
	}
	open, closing := byte(d), byte('}')
	if d == '[' {
		closing = ']'
	}
	b.WriteByte(open)
	first := true
	for dec.More() {
		if d == '{' {
			kt, err := dec.Token()
			if err != nil {
				return err
			}
			key, _ := kt.(string)
			if key == field {
				var skipped json.RawMessage
				if err := dec.Decode(&skipped); err != nil {
					return err
				}
				if !toNull {
					continue
				}
			}
			if !first {
				b.WriteByte(',')
			}
			first = false
			k, err := marshal(key)
			if err != nil {
				return err
			}
			b.Write(k)
			b.WriteByte(':')
			if key == field {
				b.WriteString("null")
				continue
			}
		} else {
			if !first {
				b.WriteByte(',')
			}
			first = false
		}
		if err := editValue(dec, b, field, toNull); err != nil {
			return err
		}
	}
	if _, err := dec.Token(); err != nil { // the closing delimiter
		return err
	}
	b.WriteByte(closing)
	return nil
}

// cutWriter carries an outer response. Once a truncate fault has fired on
// the request (or on one inside its $batch), it sends the headers and half
// the body the Content-Length promises, then aborts the connection (HTTP/1.1)
// or stream (HTTP/2), so the client reads a body that ends early.
type cutWriter struct {
	http.ResponseWriter
	rc      *reqCtx
	limit   int64 // bytes to send; -1 until the first write
	written int64
}

func newCutWriter(w http.ResponseWriter, rc *reqCtx) *cutWriter {
	return &cutWriter{ResponseWriter: w, rc: rc, limit: -1}
}

func (c *cutWriter) Write(p []byte) (int, error) {
	if !c.rc.cut {
		return c.ResponseWriter.Write(p)
	}
	if c.limit < 0 {
		c.limit = int64(len(p)) / 2
		if n, err := strconv.ParseInt(c.Header().Get("Content-Length"), 10, 64); err == nil && n > 0 {
			c.limit = n / 2
		}
	}
	if room := c.limit - c.written; room > int64(len(p)) {
		n, err := c.ResponseWriter.Write(p)
		c.written += int64(n)
		return n, err
	} else if room > 0 {
		n, _ := c.ResponseWriter.Write(p[:room])
		c.written += int64(n)
	}
	c.Flush()
	panic(http.ErrAbortHandler)
}

func (c *cutWriter) Flush() {
	if f, ok := c.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}
