package emulator

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"
)

// Options configure a Server.
type Options struct {
	// Scenarios are the tenants to serve; at least one.
	Scenarios []*Scenario
	// Addr is the listen address; default 127.0.0.1:0 (a free port).
	Addr string
	// CAFile is where the CA certificate is written as PEM; empty means a
	// file in a temporary directory removed by Close.
	CAFile string
	// Clock is the time source for token lifetimes and the request log;
	// required. azidentity checks token expiry against the wall clock, so a
	// server azidentity signs in to needs a clock that follows it.
	Clock func() time.Time
	// Logf, when set, gets one line per request served.
	Logf func(format string, args ...any)
	// Seed seeds the order of Graph $batch responses; 0 means 1.
	Seed uint64
	// MaxLog bounds the request log (oldest entries go first); default 10000.
	MaxLog int
}

// Server is the emulator. Create it with New, then Start it.
type Server struct {
	opts   Options
	maxLog int

	// mu guards which tenants are served (the slices and maps below, which
	// only New and ResetState write): requests hold it for reading, so
	// they never wait on each other for it. Each tenant's own state has
	// its own lock (tenantState.mu); see Server.lock.
	mu        sync.RWMutex
	tenants   []*tenantState
	byName    map[string]*tenantState // tenant id or domain → tenant
	envByHost map[string]*envState
	spoByHost map[string]*tenantState

	// tokMu guards the issued tokens and their revocation.
	tokMu  sync.Mutex
	tokens map[[32]byte]*tokenInfo

	rngMu sync.Mutex
	rng   *mrand.Rand

	hsMu       sync.Mutex
	handshakes map[string]int // full TLS handshakes by SNI host

	logMu sync.Mutex
	log   []LoggedRequest

	certs   *certs
	signKey *ecdsa.PrivateKey
	keyID   string
	hosts   []string
	caFile  string
	tempDir string

	// lockHook, set by tests only, runs with a tenant's lock held.
	lockHook func(tenant string)

	lifeMu sync.Mutex
	ln     net.Listener
	srv    *http.Server
	done   chan struct{}
}

// New validates the scenarios, builds the in-memory state, and makes the
// CA and server certificate (written to Options.CAFile). It does not listen.
func New(opts Options) (*Server, error) {
	if len(opts.Scenarios) == 0 {
		return nil, errors.New("emulator: no scenarios")
	}
	if opts.Addr == "" {
		opts.Addr = "127.0.0.1:0"
	}
	if opts.Clock == nil {
		return nil, errors.New("emulator: no clock (Options.Clock)")
	}
	if opts.Seed == 0 {
		opts.Seed = 1
	}
	s := &Server{opts: opts, maxLog: opts.MaxLog, tokens: map[[32]byte]*tokenInfo{}, handshakes: map[string]int{}}
	if s.maxLog <= 0 {
		s.maxLog = 10000
	}
	s.rng = mrand.New(mrand.NewPCG(opts.Seed, opts.Seed^0x9e3779b97f4a7c15))
	if err := s.buildState(); err != nil {
		return nil, err
	}
	hostSet := map[string]bool{}
	for _, h := range fixedHosts {
		hostSet[h] = true
	}
	for h := range s.envByHost {
		hostSet[h] = true
	}
	for h := range s.spoByHost {
		hostSet[h] = true
	}
	s.hosts = sortedKeys(hostSet)
	c, err := newCerts(fixedHosts, s.hosts)
	if err != nil {
		return nil, fmt.Errorf("emulator: %w", err)
	}
	s.certs = c
	if s.signKey, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader); err != nil {
		return nil, fmt.Errorf("emulator: generate token signing key: %w", err)
	}
	s.keyID = newGUID()
	s.caFile = opts.CAFile
	if s.caFile == "" {
		dir, err := os.MkdirTemp("", "teamslink-emulator-")
		if err != nil {
			return nil, fmt.Errorf("emulator: CA directory: %w", err)
		}
		s.tempDir = dir
		s.caFile = filepath.Join(dir, "ca.pem")
	}
	if err := os.WriteFile(s.caFile, c.caPEM, 0o644); err != nil {
		s.removeTemp()
		return nil, fmt.Errorf("emulator: write CA file: %w", err)
	}
	return s, nil
}

// buildState (re)creates every tenant's state from the scenarios.
func (s *Server) buildState() error {
	s.tenants = nil
	s.byName = map[string]*tenantState{}
	s.envByHost = map[string]*envState{}
	s.spoByHost = map[string]*tenantState{}
	fixed := map[string]bool{}
	for _, h := range fixedHosts {
		fixed[h] = true
	}
	for _, sc := range s.opts.Scenarios {
		if sc == nil {
			return errors.New("emulator: nil scenario")
		}
		if err := sc.Validate(); err != nil {
			return fmt.Errorf("emulator: %w", err)
		}
		ts, err := buildTenant(sc)
		if err != nil {
			return fmt.Errorf("emulator: scenario %q: %w", sc.Name, err)
		}
		for name := range ts.names {
			if other, dup := s.byName[name]; dup {
				return fmt.Errorf("emulator: scenarios %q and %q both use tenant name %s", other.sc.Name, sc.Name, name)
			}
			s.byName[name] = ts
		}
		for _, env := range ts.envs {
			for _, h := range env.hosts {
				if fixed[h] {
					return fmt.Errorf("emulator: scenario %q: environment host %s is reserved", sc.Name, h)
				}
				if other, dup := s.envByHost[h]; dup {
					return fmt.Errorf("emulator: scenarios %q and %q both serve %s", other.tenant.sc.Name, sc.Name, h)
				}
				s.envByHost[h] = env
			}
		}
		if ts.spo != nil {
			if other, dup := s.spoByHost[ts.spo.host]; dup {
				return fmt.Errorf("emulator: scenarios %q and %q both serve %s", other.sc.Name, sc.Name, ts.spo.host)
			}
			if _, clash := s.envByHost[ts.spo.host]; clash || fixed[ts.spo.host] {
				return fmt.Errorf("emulator: scenario %q: SharePoint host %s is already served", sc.Name, ts.spo.host)
			}
			s.spoByHost[ts.spo.host] = ts
		}
		s.tenants = append(s.tenants, ts)
	}
	return nil
}

// ResetState restores every tenant to its scenario: rows, metadata and fault
// counters. Issued tokens stay valid; the request log is kept.
func (s *Server) ResetState() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.buildState(); err != nil {
		return err
	}
	s.tokMu.Lock()
	defer s.tokMu.Unlock()
	for _, tok := range s.tokens {
		tok.tenant = s.byName[tok.tenant.id]
	}
	return nil
}

// Start listens on Options.Addr and serves HTTPS until Close.
func (s *Server) Start() error {
	s.lifeMu.Lock()
	defer s.lifeMu.Unlock()
	if s.ln != nil {
		return errors.New("emulator: already started")
	}
	ln, err := net.Listen("tcp", s.opts.Addr)
	if err != nil {
		return fmt.Errorf("emulator: listen: %w", err)
	}
	s.ln = ln
	s.srv = &http.Server{
		Handler:           s,
		ReadHeaderTimeout: 10 * time.Second,
		TLSConfig: &tls.Config{
			GetCertificate:     s.getCertificate,
			MinVersion:         tls.VersionTLS12,
			GetConfigForClient: s.tlsFaultConfig,
		},
		ErrorLog: log.New(logfWriter{s.opts.Logf}, "emulator: ", 0),
	}
	s.done = make(chan struct{})
	go func() {
		defer close(s.done)
		if err := s.srv.ServeTLS(ln, "", ""); err != nil && !errors.Is(err, http.ErrServerClosed) && s.opts.Logf != nil {
			s.opts.Logf("emulator: serve: %v", err)
		}
	}()
	return nil
}

// logfWriter sends the HTTP server's own messages (TLS handshake errors
// and the like) to Options.Logf, or nowhere.
type logfWriter struct{ logf func(string, ...any) }

func (w logfWriter) Write(p []byte) (int, error) {
	if w.logf != nil {
		w.logf("%s", strings.TrimRight(string(p), "\n"))
	}
	return len(p), nil
}

// Close stops the server and removes a temporary CA file.
func (s *Server) Close() error {
	s.lifeMu.Lock()
	defer s.lifeMu.Unlock()
	var err error
	if s.srv != nil {
		err = s.srv.Close()
		<-s.done
		s.srv = nil
	}
	s.removeTemp()
	if err != nil {
		return fmt.Errorf("emulator: close: %w", err)
	}
	return nil
}

func (s *Server) removeTemp() {
	if s.tempDir != "" {
		_ = os.RemoveAll(s.tempDir)
		s.tempDir = ""
	}
}

// Addr is the address the server listens on (host:port), or "" before Start.
func (s *Server) Addr() string {
	s.lifeMu.Lock()
	defer s.lifeMu.Unlock()
	if s.ln == nil {
		return ""
	}
	return s.ln.Addr().String()
}

// CAFile is the path of the CA certificate (PEM).
func (s *Server) CAFile() string { return s.caFile }

// CAPEM returns the CA certificate as PEM.
func (s *Server) CAPEM() []byte { return append([]byte(nil), s.certs.caPEM...) }

// CertPool returns a pool holding the emulator's CA.
func (s *Server) CertPool() *x509.CertPool { return s.certs.pool.Clone() }

// Hosts lists every host name the server answers for, sorted.
func (s *Server) Hosts() []string { return append([]string(nil), s.hosts...) }

// DialContext connects to the emulator whatever address is asked for, so a
// client keeps the real host names (like curl --connect-to).
func (s *Server) DialContext(ctx context.Context, network, _ string) (net.Conn, error) {
	addr := s.Addr()
	if addr == "" {
		return nil, errors.New("emulator: not started")
	}
	var d net.Dialer
	return d.DialContext(ctx, network, addr)
}

// Client returns an HTTP client that dials every host to the emulator and
// trusts its CA.
func (s *Server) Client() *http.Client {
	return &http.Client{Transport: &http.Transport{
		DialContext:         s.DialContext,
		TLSClientConfig:     &tls.Config{RootCAs: s.CertPool(), MinVersion: tls.VersionTLS12},
		ForceAttemptHTTP2:   true,
		MaxIdleConnsPerHost: 8,
		IdleConnTimeout:     30 * time.Second,
	}}
}

// Describe prints the endpoints the server serves: for each tenant its
// authority, Graph and SharePoint hosts, environments and client ids
// (never secrets).
func (s *Server) Describe() string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var b strings.Builder
	addr := s.Addr()
	if addr == "" {
		addr = "(not started)"
	}
	fmt.Fprintf(&b, "teamslink emulator (a test double, not the Microsoft services)\n")
	fmt.Fprintf(&b, "  listening  %s\n  CA file    %s\n", addr, s.caFile)
	fmt.Fprintf(&b, "  connect    curl --connect-to ::%s --cacert %s https://<host>/...\n", addr, s.caFile)
	for _, ts := range s.tenants {
		fmt.Fprintf(&b, "\nscenario %s: tenant %s", ts.sc.Name, ts.id)
		if ts.sc.Tenant.Name != "" {
			fmt.Fprintf(&b, " (%s)", ts.sc.Tenant.Name)
		}
		fmt.Fprintf(&b, ", cloud %s\n", ts.cloud.name)
		fmt.Fprintf(&b, "  authority  https://%s/%s\n", ts.cloud.loginHost, ts.id)
		fmt.Fprintf(&b, "  graph      https://%s/v1.0\n", ts.cloud.graphHost)
		if ts.spo != nil {
			fmt.Fprintf(&b, "  sharepoint https://%s/_api/SPO.Tenant\n", ts.spo.host)
		}
		for _, env := range ts.envs {
			fmt.Fprintf(&b, "  dataverse  %s/api/data/v9.2/\n", env.url)
		}
		fmt.Fprintf(&b, "  discovery  %s\n", discoveryURLs(ts))
		ids := sortedKeys(ts.secrets)
		fmt.Fprintf(&b, "  clients    %s\n", strings.Join(ids, ", "))
		who := ts.caller.ObjectID
		if ts.caller.UserPrincipalName != "" {
			who = ts.caller.UserPrincipalName
		}
		fmt.Fprintf(&b, "  caller     %s %s\n", ts.sc.Caller.Type, who)
		if n := len(ts.faults); n > 0 {
			kinds := make([]string, n)
			for i, f := range ts.faults {
				kinds[i] = f.name()
			}
			fmt.Fprintf(&b, "  faults     %s\n", strings.Join(kinds, ", "))
		}
	}
	return b.String()
}

// service is which emulated service a host belongs to.
type service int

const (
	svcUnknown service = iota
	svcLogin
	svcGraph
	svcDataverse
	svcSharePoint
	svcBAP
	svcGDS
)

func hostOnly(hostport string) string {
	h := hostport
	if host, _, err := net.SplitHostPort(hostport); err == nil {
		h = host
	}
	return strings.ToLower(strings.TrimSuffix(h, "."))
}

func isLoginHost(h string) bool {
	return h == "login.microsoftonline.com" || h == "login.microsoftonline.us" || h == "login.chinacloudapi.cn"
}

func isGraphHost(h string) bool {
	return h == "graph.microsoft.com" || h == "graph.microsoft.us" || h == "dod-graph.microsoft.us" || h == "microsoftgraph.chinacloudapi.cn"
}

// reqCtx carries per-request facts through the handlers.
type reqCtx struct {
	entry  *LoggedRequest
	inner  bool         // inside a $batch
	locked bool         // the state lock is already held (inside a Dataverse change set)
	held   *tenantState // whose lock lock took; nil for none
	svc    service
	host   string
	tenant *tenantState
	env    *envState
	tok    *tokenInfo
	// spoVerbose is true when a SharePoint request asked for odata=verbose.
	spoVerbose bool
	// outer is the $batch request an inner request is part of; nil for an
	// outer request.
	outer *reqCtx
	// cut is set on an outer request whose body a truncate fault cuts short.
	cut bool
}

// root is the request on the connection: rc itself, or its $batch.
func (rc *reqCtx) root() *reqCtx {
	if rc.outer != nil {
		return rc.outer
	}
	return rc
}

// lock takes the state lock for a request: the server's tenant table for
// reading, and the lock of the request's tenant (its rows, metadata and
// directory), so requests to different tenants never wait on each other.
// Lock order: s.mu, a tenant's mu, s.tokMu.
func (s *Server) lock(rc *reqCtx) {
	if rc.locked {
		return
	}
	s.mu.RLock()
	rc.held = rc.tenant
	if rc.held != nil {
		rc.held.mu.Lock()
		if s.lockHook != nil {
			s.lockHook(rc.held.id)
		}
	}
}

func (s *Server) unlock(rc *reqCtx) {
	if rc.locked {
		return
	}
	if rc.held != nil {
		rc.held.mu.Unlock()
		rc.held = nil
	}
	s.mu.RUnlock()
}

// ServeHTTP routes a request by host, logs it, and injects faults.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	entry := &LoggedRequest{Time: s.opts.Clock().UTC(), Host: hostOnly(r.Host), Method: r.Method, Path: redactedPath(r.URL)}
	sw := &statusWriter{ResponseWriter: w}
	defer func() {
		entry.Status = sw.status
		s.record(entry)
	}()
	s.dispatch(sw, r, &reqCtx{entry: entry})
}

// dispatch serves one request, outer or inside a $batch.
func (s *Server) dispatch(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	rc.host = hostOnly(r.Host)
	s.lock(rc)
	switch {
	case isLoginHost(rc.host):
		rc.svc = svcLogin
		seg, _, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
		if ts := s.byName[strings.ToLower(seg)]; ts != nil && ts.cloud.loginHost == rc.host {
			rc.tenant = ts
		}
	case isGraphHost(rc.host), isBAPHost(rc.host), isGDSHost(rc.host):
		switch {
		case isGraphHost(rc.host):
			rc.svc = svcGraph
		case isBAPHost(rc.host):
			rc.svc = svcBAP
		default:
			rc.svc = svcGDS
		}
		// Shared hosts: the token says whose tenant the request is for.
		if tok := s.peekToken(r); tok != nil {
			rc.tenant = tok.tenant
		}
	case s.envByHost[rc.host] != nil:
		rc.svc = svcDataverse
		rc.env = s.envByHost[rc.host]
		rc.tenant = rc.env.tenant
	case s.spoByHost[rc.host] != nil:
		rc.svc = svcSharePoint
		rc.tenant = s.spoByHost[rc.host]
		rc.spoVerbose = strings.Contains(strings.ToLower(r.Header.Get("Accept")), "odata=verbose")
	}
	var faults []*faultState
	if rc.tenant != nil {
		rc.entry.Tenant = rc.tenant.id
		faults = rc.tenant.faults
	}
	rc.entry.TokenRequest = rc.svc == svcLogin && strings.HasSuffix(r.URL.Path, "/token")
	s.unlock(rc)

	if rc.svc == svcUnknown {
		http.Error(w, fmt.Sprintf("emulator: no scenario serves host %q (served: %s)", rc.host, strings.Join(s.hosts, ", ")), http.StatusMisdirectedRequest)
		return
	}
	if !rc.inner {
		w = newCutWriter(w, rc)
	}
	posts, done := s.applyFaults(w, r, rc, faults)
	if done {
		return
	}
	if len(posts) > 0 {
		buf := newBufferedWriter()
		s.serveService(buf, r, rc)
		for _, fs := range posts {
			if fs.f.Kind == FaultDropResponse {
				// The service did the work; the client never hears of it.
				panic(http.ErrAbortHandler)
			}
		}
		rewrite(w, buf, posts)
		return
	}
	s.serveService(w, r, rc)
}

func (s *Server) serveService(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	switch rc.svc {
	case svcLogin:
		s.serveLogin(w, r, rc)
	case svcGraph:
		s.serveGraph(w, r, rc)
	case svcDataverse:
		s.serveDataverse(w, r, rc)
	case svcSharePoint:
		s.serveSharePoint(w, r, rc)
	case svcBAP:
		s.serveBAP(w, r, rc)
	case svcGDS:
		s.serveGDS(w, r, rc)
	}
}

// shuffle permutes n items with the server's seeded generator.
func (s *Server) shuffle(n int, swap func(i, j int)) {
	s.rngMu.Lock()
	defer s.rngMu.Unlock()
	s.rng.Shuffle(n, swap)
}

// Tenants lists the tenant ids served, in scenario order.
func (s *Server) Tenants() []string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]string, len(s.tenants))
	for i, t := range s.tenants {
		out[i] = t.id
	}
	return out
}

// EnvironmentURLs lists every Dataverse environment URL served, sorted.
func (s *Server) EnvironmentURLs() []string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var out []string
	for _, t := range s.tenants {
		for _, e := range t.envs {
			out = append(out, e.url)
		}
	}
	sort.Strings(out)
	return out
}
