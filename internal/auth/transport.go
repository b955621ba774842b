package auth

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"os"
	"sync"
	"time"

	"github.com/teamslink/teamslink/internal/config"
)

// Transport limits. Every request also carries its own deadline from the
// caller's context (internal/odata); these bound what a context cannot see.
const (
	dialTimeout           = 30 * time.Second
	tlsHandshakeTimeout   = 10 * time.Second
	responseHeaderTimeout = 2 * time.Minute // a large Dataverse $batch takes a while to start answering
	idleConnTimeout       = 90 * time.Second
	clientTimeout         = 5 * time.Minute // backstop for one request, body included
	maxIdleConnsPerHost   = 16              // well under Dataverse's 52 concurrent requests per user
	maxCAFileSize         = 4 << 20

	// MaxCredentialResponseBytes bounds every response body of a
	// credential's own traffic (OpenID Connect metadata, instance discovery,
	// token and managed identity answers), which are a few KiB. The API
	// bodies are bounded by internal/odata instead.
	MaxCredentialResponseBytes = 1 << 20
)

// responseTooLargeError is the reading of a response body that went past
// the limit. It names the host, never the path or query. azidentity keeps
// only its text, so it is not exported.
type responseTooLargeError struct {
	Host  string
	Limit int64
}

func (e *responseTooLargeError) Error() string {
	return fmt.Sprintf("the response from %s is larger than %d KiB", e.Host, e.Limit>>10)
}

// NonRetriable tells azcore's retry policy (which looks for this method) not
// to send the request again: the answer would be as large.
func (*responseTooLargeError) NonRetriable() {}

// HTTPClient returns the client for every HTTPS request of one tenant: token
// requests, Dataverse, Graph and SharePoint. It speaks TLS 1.2 or later and
// HTTP/2, trusts the system roots plus the PEM certificates of
// ep.CAFile, and honours HTTPS_PROXY/NO_PROXY.
//
// When ep.ConnectTo is set, every connection to port 443, whatever its host,
// dials ConnectTo instead (like curl --connect-to) and no proxy is used. TLS
// still sends the real host name as SNI and verifies the server's
// certificate against it, so the emulator must present a certificate for
// each real host, signed by a root in CAFile. Connections to other ports go
// where their URL says.
//
// Each call builds a new transport; a fleet shares them through Transports.
func HTTPClient(ep config.Endpoints) (*http.Client, error) {
	return newHTTPClient(ep, maxIdleConnsPerHost)
}

// systemRoots is the system certificate pool, loaded once per process:
// x509.SystemCertPool returns a new copy on every call, and a fleet must
// not hold one per tenant. It is only read; a CA file extends a clone.
var systemRoots = sync.OnceValues(x509.SystemCertPool)

func newHTTPClient(ep config.Endpoints, idlePerHost int) (*http.Client, error) {
	roots, err := systemRoots()
	if err != nil {
		return nil, fmt.Errorf("load system root certificates: %w", err)
	}
	if ep.CAFile != "" {
		roots = roots.Clone()
		if err := appendCAFile(roots, ep.CAFile); err != nil {
			return nil, err
		}
	}
	dialer := &net.Dialer{Timeout: dialTimeout, KeepAlive: 30 * time.Second}
	tr := &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           dialer.DialContext,
		ForceAttemptHTTP2:     true, // a custom TLS config and dialer turn HTTP/2 off unless asked for
		TLSClientConfig:       &tls.Config{MinVersion: tls.VersionTLS12, RootCAs: roots},
		TLSHandshakeTimeout:   tlsHandshakeTimeout,
		ResponseHeaderTimeout: responseHeaderTimeout,
		ExpectContinueTimeout: time.Second,
		IdleConnTimeout:       idleConnTimeout,
		MaxIdleConns:          100,
		MaxIdleConnsPerHost:   idlePerHost,
	}
	if target := ep.ConnectTo; target != "" {
		if _, _, err := net.SplitHostPort(target); err != nil {
			return nil, fmt.Errorf("endpoints.connectTo %q: %w", target, err)
		}
		tr.Proxy = nil
		tr.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
			if _, port, err := net.SplitHostPort(addr); err == nil && port == "443" {
				addr = target
			}
			return dialer.DialContext(ctx, network, addr)
		}
	}
	return &http.Client{Transport: tr, Timeout: clientTimeout}, nil
}

// Transports shares HTTP clients across the tenants of a run: one
// transport, so one pool of connections, per distinct endpoints setting
// (connect-to and CA file; the proxy comes from the process's environment).
// Tenants with the same setting reuse each other's connections to the
// hosts they share (login, Graph); credentials stay per tenant, in each
// request's Authorization header. It is safe for concurrent use.
type Transports struct {
	idlePerHost int
	mu          sync.Mutex
	clients     map[transportKey]*http.Client
}

type transportKey struct{ connectTo, caFile string }

// NewTransports returns an empty set whose transports keep at most
// idlePerHost idle connections per host (the run's concurrency; 0 or less
// means the default of HTTPClient).
func NewTransports(idlePerHost int) *Transports {
	if idlePerHost <= 0 {
		idlePerHost = maxIdleConnsPerHost
	}
	return &Transports{idlePerHost: idlePerHost, clients: map[transportKey]*http.Client{}}
}

// Client returns the shared client for ep's connect-to and CA file,
// building it on first use (an unreadable CA file is an error every time).
// Callers must not change the client; they may copy it.
func (p *Transports) Client(ep config.Endpoints) (*http.Client, error) {
	k := transportKey{connectTo: ep.ConnectTo, caFile: ep.CAFile}
	p.mu.Lock()
	defer p.mu.Unlock()
	if c, ok := p.clients[k]; ok {
		return c, nil
	}
	c, err := newHTTPClient(config.Endpoints{ConnectTo: ep.ConnectTo, CAFile: ep.CAFile}, p.idlePerHost)
	if err != nil {
		return nil, err
	}
	c.Transport = &firstConnGate{next: c.Transport.(*http.Transport), hosts: map[string]chan struct{}{}}
	p.clients[k] = c
	return c, nil
}

// Private returns a client of its own for one tenant's hosts (its
// environments, its SharePoint admin site) with the shared client's
// settings for ep: its connections can be closed as the tenant's scan ends
// (CloseIdleConnections) without closing those of the hosts the tenants
// share, which a fleet would otherwise hold open, one per environment,
// until the run ends.
func (p *Transports) Private(ep config.Endpoints) (*http.Client, error) {
	shared, err := p.Client(ep)
	if err != nil {
		return nil, err
	}
	tr := shared.Transport.(*firstConnGate).next.Clone()
	return &http.Client{Transport: &firstConnGate{next: tr, hosts: map[string]chan struct{}{}}, Timeout: shared.Timeout}, nil
}

// Len is how many distinct transports the set holds.
func (p *Transports) Len() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.clients)
}

// CloseIdleConnections closes every idle connection of every transport of
// the set, as a run ends: they would otherwise live for the idle timeout.
// Connections in use are left alone; the clients stay usable.
func (p *Transports) CloseIdleConnections() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.clients {
		c.CloseIdleConnections()
	}
}

// firstConnGate holds the requests to a host while the first one to it
// connects: net/http dials a connection for every request that finds none
// idle, so the tenants of a fleet starting together would each handshake
// with the login and Graph hosts before the first HTTP/2 connection, which
// all of them could share, is up. Once the first request has its first
// response byte (or has failed), the rest go as they come; a host that speaks only
// HTTP/1.1 still gets as many connections as it has requests.
type firstConnGate struct {
	next  *http.Transport
	mu    sync.Mutex
	hosts map[string]chan struct{} // closed once the host's first request has its first response byte, or ended
}

func (g *firstConnGate) RoundTrip(r *http.Request) (*http.Response, error) {
	key := r.URL.Scheme + "://" + r.URL.Host
	g.mu.Lock()
	ready, seen := g.hosts[key]
	if !seen {
		ready = make(chan struct{})
		g.hosts[key] = ready
	}
	g.mu.Unlock()
	if seen {
		select {
		case <-ready:
		case <-r.Context().Done():
			return nil, r.Context().Err()
		}
		return g.next.RoundTrip(r)
	}
	var once sync.Once
	release := func() { once.Do(func() { close(ready) }) }
	defer release()
	// Not as soon as the connection is handed over: net/http pools an
	// HTTP/2 connection just after, and a request let go in between dials
	// again.
	trace := &httptrace.ClientTrace{GotFirstResponseByte: release}
	return g.next.RoundTrip(r.WithContext(httptrace.WithClientTrace(r.Context(), trace)))
}

// CloseIdleConnections closes the idle connections of the transport.
func (g *firstConnGate) CloseIdleConnections() { g.next.CloseIdleConnections() }

// bareTransport is the *http.Transport under c's, or c's own.
func bareTransport(c *http.Client) http.RoundTripper {
	if g, ok := c.Transport.(*firstConnGate); ok {
		return g.next
	}
	return c.Transport
}

// limitBodies returns a copy of base whose response bodies fail to read past
// limit bytes with a *responseTooLargeError. Closing such a body does not
// drain it, so the connection is dropped rather than reused.
func limitBodies(base *http.Client, limit int64) *http.Client {
	c := *base
	next := base.Transport
	if next == nil {
		next = http.DefaultTransport
	}
	c.Transport = &limitedTransport{next: next, limit: limit}
	return &c
}

type limitedTransport struct {
	next  http.RoundTripper
	limit int64
}

func (t *limitedTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := t.next.RoundTrip(r)
	if err != nil || resp.Body == nil || resp.Body == http.NoBody {
		return resp, err
	}
	resp.Body = &limitedBody{body: resp.Body, left: t.limit, tooLarge: &responseTooLargeError{Host: r.URL.Host, Limit: t.limit}}
	return resp, nil
}

// limitedBody passes at most left bytes through; one more is an error.
type limitedBody struct {
	body     io.ReadCloser
	left     int64
	tooLarge *responseTooLargeError
	failed   bool
}

func (b *limitedBody) Read(p []byte) (int, error) {
	if b.failed {
		return 0, b.tooLarge
	}
	if len(p) == 0 {
		return 0, nil
	}
	if b.left == 0 {
		// The limit is reached: the body is fine if it ends here.
		var one [1]byte
		n, err := b.body.Read(one[:])
		if n > 0 {
			b.failed = true
			return 0, b.tooLarge
		}
		return 0, err
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.body.Read(p)
	b.left -= int64(n)
	return n, err
}

func (b *limitedBody) Close() error { return b.body.Close() }

// appendCAFile adds the PEM certificates of file to roots.
func appendCAFile(roots *x509.CertPool, file string) error {
	info, err := os.Stat(file)
	if err != nil {
		return fmt.Errorf("read CA file: %w", err)
	}
	if info.Size() > maxCAFileSize {
		return fmt.Errorf("read CA file %s: larger than %d MiB", file, maxCAFileSize>>20)
	}
	pem, err := os.ReadFile(file)
	if err != nil {
		return fmt.Errorf("read CA file: %w", err)
	}
	if !roots.AppendCertsFromPEM(pem) {
		return fmt.Errorf("CA file %s: no PEM certificate found", file)
	}
	return nil
}
