package emulator

import (
	"net/url"
	"strconv"
	"strings"
	"time"
)

// LoggedRequest is one request the emulator served. It never holds the
// Authorization header, a token, a client secret or a password.
type LoggedRequest struct {
	Time   time.Time `json:"time"`
	Tenant string    `json:"tenant,omitempty"`
	Host   string    `json:"host"`
	Method string    `json:"method"`
	// Path is the path and query, with secret-bearing query parameters redacted.
	Path   string `json:"path"`
	Status int    `json:"status"` // 0 when the connection was reset
	// TokenRequest is true for the token endpoint.
	TokenRequest bool `json:"tokenRequest,omitempty"`
	// Fault names the fault injected into this request, if any.
	Fault string `json:"fault,omitempty"`
	// Children are the requests inside a $batch, in execution order.
	Children []LoggedRequest `json:"children,omitempty"`
}

// addFault appends a fault's name to the entry's.
func (e *LoggedRequest) addFault(name string) {
	if e.Fault != "" {
		e.Fault += ","
	}
	e.Fault += name
}

// sensitiveParams are query parameters whose values never reach the log.
var sensitiveParams = []string{"client_secret", "client_assertion", "access_token", "refresh_token", "id_token", "code", "password", "assertion", "sig", "token"}

// redactedPath returns path?query with sensitive parameter values replaced.
func redactedPath(u *url.URL) string {
	p := u.EscapedPath()
	if u.RawQuery == "" {
		return p
	}
	parts := strings.Split(u.RawQuery, "&")
	for i, part := range parts {
		k, _, hasValue := strings.Cut(part, "=")
		name, err := url.QueryUnescape(k)
		if err != nil {
			name = k
		}
		for _, s := range sensitiveParams {
			if hasValue && strings.EqualFold(name, s) {
				parts[i] = k + "=REDACTED"
			}
		}
	}
	return p + "?" + strings.Join(parts, "&")
}

func cloneLog(in []LoggedRequest) []LoggedRequest {
	if in == nil {
		return nil
	}
	out := make([]LoggedRequest, len(in))
	for i, r := range in {
		out[i] = r
		out[i].Children = cloneLog(r.Children)
	}
	return out
}

// Requests returns a copy of the request log, oldest first.
func (s *Server) Requests() []LoggedRequest {
	s.logMu.Lock()
	defer s.logMu.Unlock()
	return cloneLog(s.log)
}

// ResetLog empties the request log and zeroes the handshake counts.
func (s *Server) ResetLog() {
	s.logMu.Lock()
	s.log = nil
	s.logMu.Unlock()
	s.hsMu.Lock()
	clear(s.handshakes)
	s.hsMu.Unlock()
}

func (s *Server) record(e *LoggedRequest) {
	s.logMu.Lock()
	s.log = append(s.log, *e)
	if over := len(s.log) - s.maxLog; over > 0 {
		s.log = append([]LoggedRequest(nil), s.log[over:]...)
	}
	s.logMu.Unlock()
	if s.opts.Logf != nil {
		suffix := ""
		if e.Fault != "" {
			suffix = " [fault " + e.Fault + "]"
		}
		if n := len(e.Children); n > 0 {
			suffix += " [" + strconv.Itoa(n) + " inner]"
		}
		s.opts.Logf("emulator: %s https://%s%s -> %d%s", e.Method, e.Host, e.Path, e.Status, suffix)
	}
}
