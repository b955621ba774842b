// Package redact replaces what names a customer in a snapshot or a report —
// tenant and environment names, domains, URLs, user principal names, e-mail
// addresses, display names, record names, record ids and ETags — with stable
// keyed hashes, so that a redacted snapshot can be sent to support, still
// evaluates to the same verdicts, and two snapshots of one tenant redacted
// with one key stay comparable.
//
// A token is a typed prefix and the first 8 hex digits of
// HMAC-SHA256(key, kind + "\x00" + value): "host-1a2b3c4d.crm.dynamics.com"
// keeps the Microsoft service suffix, "user-1a2b3c4d@redacted.invalid" an
// e-mail shape. The key holder maps a token back by recomputing the HMAC of
// a candidate value (Token). Hosts and e-mail addresses are hashed in lower
// case; names as written.
package redact

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"regexp"
	"sort"
	"strings"
)

// EnvKey is the environment variable that holds the key when no key file
// is given.
const EnvKey = "TEAMSLINK_REDACT_KEY"

// MinKeyLen is the shortest key accepted, in bytes.
const MinKeyLen = 16

// ErrNoKey is returned when neither a key file nor EnvKey gives a key.
// There is no default key: a fixed key would let anyone reverse tokens by
// hashing guesses.
var ErrNoKey = errors.New("redaction needs a key: give --redact-key-file FILE or set " + EnvKey + " (at least 16 bytes)")

// LoadKey reads the key from path or, when path is empty, from the
// environment variable EnvKey through lookup (os.LookupEnv when nil).
// Surrounding white space is trimmed.
func LoadKey(path string, lookup func(string) (string, bool)) ([]byte, error) {
	var key string
	switch {
	case path != "":
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("read redaction key: %w", err)
		}
		key = strings.TrimSpace(string(data))
	default:
		if lookup == nil {
			lookup = os.LookupEnv
		}
		v, ok := lookup(EnvKey)
		if !ok || strings.TrimSpace(v) == "" {
			return nil, ErrNoKey
		}
		key = strings.TrimSpace(v)
	}
	if len(key) < MinKeyLen {
		return nil, fmt.Errorf("redaction key: %d bytes, want at least %d", len(key), MinKeyLen)
	}
	return []byte(key), nil
}

// Redactor replaces customer strings with keyed tokens. It learns the
// strings it replaced in structured fields, and replaces them again
// wherever free text (messages, errors, request lines, evidence) repeats
// them. A Redactor is not safe for concurrent use.
type Redactor struct {
	key []byte
	// dict maps an original string to its replacement, for free text.
	dict     map[string]string
	replacer *strings.Replacer
}

// New returns a Redactor keyed by key.
func New(key []byte) (*Redactor, error) {
	if len(key) < MinKeyLen {
		return nil, fmt.Errorf("redaction key: %d bytes, want at least %d", len(key), MinKeyLen)
	}
	return &Redactor{key: append([]byte(nil), key...), dict: map[string]string{}}, nil
}

// Token is kind + "-" + the first 8 hex digits of HMAC-SHA256(key, kind +
// "\x00" + value): the key holder recomputes it for a candidate value to
// map a token back.
func (r *Redactor) Token(kind, value string) string {
	return kind + "-" + r.hash(kind, value)[:8]
}

func (r *Redactor) hash(kind, value string) string {
	m := hmac.New(sha256.New, r.key)
	m.Write([]byte(kind))
	m.Write([]byte{0})
	m.Write([]byte(value))
	return hex.EncodeToString(m.Sum(nil))
}

var tokenRE = regexp.MustCompile(`^[a-z]+-[0-9a-f]{8}$`)

func (r *Redactor) learn(orig, repl string) {
	if orig == "" || orig == repl {
		return
	}
	if _, ok := r.dict[orig]; !ok {
		r.dict[orig] = repl
		r.replacer = nil
	}
}

// Name redacts a display or record name of the given kind (tenant, env,
// site, location, role, ...).
func (r *Redactor) Name(kind, s string) string {
	if s == "" || tokenRE.MatchString(s) {
		return s
	}
	out := r.Token(kind, s)
	r.learn(s, out)
	return out
}

// ID redacts a record or object id: a GUID becomes a keyed GUID, anything
// else a token. The same id always gives the same replacement, so ids that
// refer to each other (a grant's clientId and the service principal's id)
// still do.
func (r *Redactor) ID(s string) string {
	if s == "" {
		return s
	}
	if v, ok := r.dict[s]; ok {
		return v
	}
	h := r.hash("id", strings.ToLower(s))
	var out string
	if guidRE.MatchString(s) {
		out = h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
	} else {
		out = "id-" + h[:8]
	}
	r.learn(s, out)
	if u := strings.ToUpper(s); u != s {
		r.learn(u, out)
	}
	return out
}

// ETag is the value every ETag becomes: the remediator must not act on a
// redacted snapshot.
const ETag = `W/"redacted"`

var guidRE = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// Email redacts a user principal name or e-mail address.
func (r *Redactor) Email(s string) string {
	if s == "" || strings.HasSuffix(s, "@redacted.invalid") {
		return s
	}
	out := r.Token("user", strings.ToLower(s)) + "@redacted.invalid"
	r.learn(s, out)
	if l := strings.ToLower(s); l != s {
		r.learn(l, out)
	}
	return out
}

// Microsoft's own service hosts: nothing in them names a customer.
var serviceHosts = []string{
	"microsoft.com", "microsoftonline.com", "microsoftonline.us", "microsoft.us",
	"windows.net", "azure.com", "chinacloudapi.cn", "partner.microsoftonline.cn",
	"microsoftonline.cn", "office.com", "office365.com", "live.com",
}

// Suffixes whose leading labels name the customer; the suffix is kept so
// rules that look at the cloud still work.
var customerSuffixes = []string{
	"sharepoint.com", "sharepoint.us", "sharepoint.cn", "sharepoint-mil.us", "dps.mil",
	"onmicrosoft.com", "onmicrosoft.us", "partner.onmschina.cn",
	"dynamics.com", "microsoftdynamics.us", "appsplatform.us", "dynamics.cn",
}

var dataverseLabelRE = regexp.MustCompile(`^(crm\d*|api)$`)

// Host redacts a host name (a port is kept): the labels that name the
// customer become one token, the Microsoft service suffix stays,
// "contoso-admin.sharepoint.com" becomes "host-1a2b3c4d-admin.sharepoint.com"
// (the token of "contoso", as in "contoso.sharepoint.com"). Microsoft's
// service hosts and loopback stay as they are; any other host becomes
// "host-….invalid".
func (r *Redactor) Host(h string) string {
	if h == "" {
		return h
	}
	host, port := h, ""
	if hh, pp, err := net.SplitHostPort(h); err == nil {
		host, port = hh, ":"+pp
	}
	out := r.host(strings.ToLower(host)) + port
	r.learn(h, out)
	r.learn(host, strings.TrimSuffix(out, port))
	return out
}

func (r *Redactor) host(host string) string {
	if host == "localhost" || strings.HasSuffix(host, ".invalid") {
		return host
	}
	if ip := net.ParseIP(strings.Trim(host, "[]")); ip != nil {
		if ip.IsLoopback() {
			return host
		}
		return r.Token("host", host) + ".invalid"
	}
	for _, s := range serviceHosts {
		if host == s || strings.HasSuffix(host, "."+s) {
			return host
		}
	}
	labels := strings.Split(host, ".")
	best := -1
	for _, s := range customerSuffixes {
		if strings.HasSuffix(host, "."+s) {
			n := len(labels) - len(strings.Split(s, "."))
			if best < 0 || n < best {
				best = n
			}
		}
	}
	if best < 0 {
		return r.Token("host", host) + ".invalid"
	}
	// Keep Dataverse's crmN and api labels with the suffix.
	for best > 0 && dataverseLabelRE.MatchString(labels[best-1]) {
		best--
	}
	if best == 0 {
		return host
	}
	prefix := strings.Join(labels[:best], ".")
	if best == 1 && (prefix == "globaldisco" || prefix == "admin") {
		return host
	}
	tag := ""
	for _, t := range []string{"-admin", "-my"} {
		if best == 1 && strings.HasSuffix(prefix, t) && len(prefix) > len(t) {
			prefix, tag = strings.TrimSuffix(prefix, t), t
		}
	}
	if tokenRE.MatchString(prefix) {
		return host
	}
	return r.Token("host", prefix) + tag + "." + strings.Join(labels[best:], ".")
}

// Path segments of customer hosts that name no customer.
var keptSegments = map[string]bool{
	"sites": true, "teams": true, "personal": true, "api": true, "data": true,
}

var versionSegRE = regexp.MustCompile(`^v\d+(\.\d+)?$`)

// URL redacts an absolute URL: the host as Host does; on Microsoft service
// hosts and Dataverse hosts the path (an API) is kept and its query
// redacted as text; elsewhere (SharePoint sites, unknown hosts) every path
// segment that may name the customer becomes a token, and the query and
// fragment are dropped. User information is dropped. A string that does
// not parse as an absolute URL is redacted as text.
func (r *Redactor) URL(s string) string {
	if s == "" {
		return s
	}
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || u.Scheme == "" {
		return r.Token("url", s)
	}
	host := r.Host(u.Host)
	api := isAPIHost(strings.ToLower(u.Hostname()))
	out := u.Scheme + "://" + host
	if api {
		out += r.plainText(u.EscapedPath())
		if u.RawQuery != "" {
			out += "?" + r.plainText(u.RawQuery)
		}
	} else {
		out += r.path(u.EscapedPath())
	}
	r.learn(s, out)
	return out
}

// path redacts a path segment by segment; from a SharePoint API segment
// (_api, _layouts, _vti_bin) on, the path is an API and is kept.
func (r *Redactor) path(p string) string {
	segs := strings.Split(p, "/")
	for i, seg := range segs {
		if strings.HasPrefix(seg, "_") {
			rest := r.plainText(strings.Join(segs[i:], "/"))
			if i == 0 {
				return rest
			}
			return strings.Join(segs[:i], "/") + "/" + rest
		}
		segs[i] = r.segment(seg)
	}
	return strings.Join(segs, "/")
}

func (r *Redactor) segment(seg string) string {
	if seg == "" || keptSegments[strings.ToLower(seg)] || versionSegRE.MatchString(seg) ||
		strings.HasPrefix(seg, "_") || tokenRE.MatchString(seg) {
		return seg
	}
	return r.Token("path", seg)
}

// isAPIHost reports whether host serves an API whose paths name no
// customer: a Microsoft service host or a Dataverse environment.
func isAPIHost(host string) bool {
	for _, s := range serviceHosts {
		if host == s || strings.HasSuffix(host, "."+s) {
			return true
		}
	}
	for _, s := range []string{"dynamics.com", "microsoftdynamics.us", "appsplatform.us", "dynamics.cn"} {
		if strings.HasSuffix(host, "."+s) {
			return true
		}
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

var (
	urlRE   = regexp.MustCompile(`https?://[^\s"'<>()\[\]{},]+`)
	emailRE = regexp.MustCompile(`[A-Za-z0-9._%+'-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}`)
	hostRE  = regexp.MustCompile(`(?i)\b[a-z0-9][a-z0-9-]*(\.[a-z0-9-]+)*\.(sharepoint\.com|sharepoint\.us|sharepoint\.cn|onmicrosoft\.com|onmicrosoft\.us|dynamics\.com|microsoftdynamics\.us|appsplatform\.us|dynamics\.cn)\b`)
)

// Text redacts free text: URLs, e-mail addresses and customer host names
// wherever they appear, and every string this Redactor has replaced in a
// structured field.
func (r *Redactor) Text(s string) string {
	if s == "" {
		return s
	}
	s = urlRE.ReplaceAllStringFunc(s, func(m string) string {
		trail := strings.TrimRight(m, ".;:!?")
		return r.URL(trail) + m[len(trail):]
	})
	return r.plainText(s)
}

// plainText is Text without the URL step (for the parts of a URL).
func (r *Redactor) plainText(s string) string {
	s = emailRE.ReplaceAllStringFunc(s, r.Email)
	s = hostRE.ReplaceAllStringFunc(s, func(m string) string { return r.host(strings.ToLower(m)) })
	return r.dictionary().Replace(s)
}

func (r *Redactor) dictionary() *strings.Replacer {
	if r.replacer != nil {
		return r.replacer
	}
	keys := make([]string, 0, len(r.dict))
	for k := range r.dict {
		if len(k) >= 3 { // a two-letter name would eat words
			keys = append(keys, k)
		}
	}
	sort.Slice(keys, func(i, j int) bool {
		if len(keys[i]) != len(keys[j]) {
			return len(keys[i]) > len(keys[j])
		}
		return keys[i] < keys[j]
	})
	pairs := make([]string, 0, 2*len(keys))
	for _, k := range keys {
		pairs = append(pairs, k, r.dict[k])
	}
	r.replacer = strings.NewReplacer(pairs...)
	return r.replacer
}
