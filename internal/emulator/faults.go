package emulator

import (
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

	mu    sync.Mutex
	fired int
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
	if m.Host != "" {
		h := strings.ToLower(m.Host)
		if rc.host != h && !strings.HasSuffix(rc.host, "."+h) {
			return false
		}
	}
	if m.Method != "" && m.Method != r.Method {
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

// take counts one firing and reports whether the fault may still fire.
func (fs *faultState) take() bool {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	if fs.f.Times > 0 && fs.fired >= fs.f.Times {
		return false
	}
	fs.fired++
	return true
}

// postFault rewrites a response after the handler wrote it.
type postFault struct {
	kind string
	size int64
}

// applyFaults injects the faults matching r. done is true when a fault
// answered the request; post is set when the response must be rewritten.
func (s *Server) applyFaults(w http.ResponseWriter, r *http.Request, rc *reqCtx, faults []*faultState) (post *postFault, done bool) {
	for _, fs := range faults {
		if !fs.matches(r, rc) || !fs.take() {
			continue
		}
		if rc.entry.Fault != "" {
			rc.entry.Fault += ","
		}
		rc.entry.Fault += fs.name()
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
			if tok := s.peekToken(r); tok != nil && !tok.revoked {
				tok.revoked, tok.revokeAt = true, s.opts.Clock()
			}
			s.unlock(rc)
		case FaultThrottle:
			ra := fs.f.RetryAfter
			if ra == "" {
				ra = "1"
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
		case FaultMalformed, FaultOversize:
			post = &postFault{kind: fs.f.Kind, size: fs.size}
		}
	}
	return post, false
}

// writeThrottle answers 429 with Retry-After in the service's error shape.
func (s *Server) writeThrottle(w http.ResponseWriter, rc *reqCtx, retryAfter string) {
	w.Header().Set("Retry-After", retryAfter)
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

// rewrite writes buf to w damaged as the fault says.
func (p *postFault) rewrite(w http.ResponseWriter, buf *bufferedWriter, rc *reqCtx) {
	for k, vs := range buf.header {
		w.Header()[k] = vs
	}
	switch p.kind {
	case FaultMalformed:
		body := buf.body.Bytes()
		bad := []byte(`{"error":`)
		if len(body) > 1 {
			// A JSON object or array cut short never parses.
			bad = body[:len(body)/2]
		}
		if w.Header().Get("Content-Type") == "" {
			w.Header().Set("Content-Type", "application/json")
		}
		w.Header().Set("Content-Length", strconv.Itoa(len(bad)))
		w.WriteHeader(buf.code())
		_, _ = w.Write(bad)
	case FaultOversize:
		head := []byte(`{"@odata.context":"emulated-oversize-body","value":[{"padding":"`)
		tail := []byte(`"}]}`)
		pad := p.size - int64(len(head)+len(tail))
		if pad < 0 {
			pad = 0
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Length", strconv.FormatInt(int64(len(head)+len(tail))+pad, 10))
		w.WriteHeader(buf.code())
		if _, err := w.Write(head); err != nil {
			return
		}
		chunk := []byte(strings.Repeat("x", 32<<10))
		for pad > 0 {
			n := int64(len(chunk))
			if pad < n {
				n = pad
			}
			if _, err := w.Write(chunk[:n]); err != nil {
				return
			}
			pad -= n
		}
		_, _ = w.Write(tail)
	}
}
