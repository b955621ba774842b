package scan

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"sync"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"

	"github.com/teamslink/teamslink/internal/auth"
	"github.com/teamslink/teamslink/internal/config"
	"github.com/teamslink/teamslink/internal/metrics"
	"github.com/teamslink/teamslink/internal/odata"
)

// session is one tenant's HTTP client and observed credential, shared by
// its discovery and its collectors, so that a person signs in once and a
// credential that cannot sign in is said once.
type session struct {
	tenant config.Tenant
	http   *http.Client
	// private, when not nil, is the client of the tenant's own hosts (its
	// environments, its SharePoint admin site), closed by release.
	private *http.Client
	cred    *auth.Observed
	opts    *Options
	// scoped is the credential under cred when the tenant's method gets
	// one per scope (else nil); scopes are those of the collectors' clients.
	// mu guards them between a prefetch and the release of an interrupted
	// run.
	mu     sync.Mutex
	scoped *auth.Scoped
	scopes []string
}

// newSession builds the tenant's credential and takes the run's shared HTTP
// client for its endpoints (a new one when the run has none). With
// Options.Metrics the credential's token requests count as login requests.
func newSession(t config.Tenant, opts *Options) (*session, error) {
	var httpClient *http.Client
	var err error
	if opts.transports != nil {
		httpClient, err = opts.transports.Client(t.Endpoints)
	} else {
		httpClient, err = auth.HTTPClient(t.Endpoints)
	}
	if err != nil {
		return nil, fmt.Errorf("tenant %s: %w", t.ID, err)
	}
	credClient := httpClient
	// A managed identity on Service Fabric needs the client's own
	// *http.Transport: its token requests go uncounted.
	if opts.Metrics != nil && t.Auth.Method != config.MethodManagedIdentity {
		c := *httpClient
		c.Transport = opts.Metrics.RoundTripper(metrics.APILogin, httpClient.Transport)
		credClient = &c
	}
	credOpts := auth.Options{
		HTTPClient:       credClient,
		LookupEnv:        opts.LookupEnv,
		DeviceCodePrompt: opts.DeviceCodePrompt,
	}
	built, err := auth.NewCredential(t, credOpts)
	if err != nil {
		return nil, err
	}
	s := &session{tenant: t, http: httpClient, opts: opts}
	if opts.transports != nil {
		if s.private, err = opts.transports.Private(t.Endpoints); err != nil {
			return nil, fmt.Errorf("tenant %s: %w", t.ID, err)
		}
	}
	if auth.PerScope(t.Auth.Method) {
		s.scoped = auth.NewScoped(built, func() (azcore.TokenCredential, error) { return auth.NewCredential(t, credOpts) })
		built = s.scoped
	}
	s.cred = auth.Observe(built)
	return s, nil
}

// prefetch gets the tokens of the collectors' scopes, concurrently, so
// that no collector waits for one while it holds a slot. Without a
// credential per scope it does nothing: the tokens would come one after
// another anyway.
func (s *session) prefetch(ctx context.Context, slots chan struct{}) {
	s.mu.Lock()
	scoped, scopes := s.scoped, slices.Compact(slices.Sorted(slices.Values(s.scopes)))
	s.mu.Unlock()
	if scoped == nil || len(scopes) == 0 {
		return
	}
	scoped.Prefetch(ctx, scopes, slots)
}

// release lets go of what the tenant's scan held once it is over: the
// connections to its own hosts, and its credential (token caches, one
// client per scope); the credential's failure, if any, is kept for the
// snapshot. A fleet then holds the state of the tenants in progress, not of
// every tenant it has scanned.
func (s *session) release() {
	if s.private != nil {
		s.private.CloseIdleConnections()
	}
	s.cred.Release()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.scoped, s.scopes = nil, nil // the per-scope clients and their tokens
}

// client returns an odata client of the session for the service root base,
// its requests counted under api when the run has metrics.
func (s *session) client(api, base string, flavor odata.Flavor, scope string, maxResponse int64) (*odata.Client, error) {
	s.scopes = append(s.scopes, scope)
	u, err := url.Parse(base)
	if err != nil {
		return nil, err
	}
	var hooks odata.Hooks
	if s.opts.Metrics != nil {
		hooks = s.opts.Metrics.Hooks(api)
	}
	httpClient := s.http
	if s.private != nil && (api == metrics.APIDataverse || api == metrics.APISharePoint) {
		httpClient = s.private
	}
	return odata.New(u, s.cred, odata.Options{
		Scopes:           []string{scope},
		HTTPClient:       httpClient,
		Flavor:           flavor,
		UserAgent:        "teamslink/" + s.opts.Version,
		Now:              s.opts.Now,
		RequestTimeout:   s.tenant.Endpoints.RequestTimeout,
		MaxResponseBytes: maxResponse,
		Hooks:            hooks,
	})
}
