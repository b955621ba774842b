package scan

import (
	"fmt"
	"net/http"
	"net/url"

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
	cred   *auth.Observed
	opts   *Options
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
	built, err := auth.NewCredential(t, auth.Options{
		HTTPClient:       credClient,
		LookupEnv:        opts.LookupEnv,
		DeviceCodePrompt: opts.DeviceCodePrompt,
	})
	if err != nil {
		return nil, err
	}
	return &session{tenant: t, http: httpClient, cred: auth.Observe(built), opts: opts}, nil
}

// client returns an odata client of the session for the service root base,
// its requests counted under api when the run has metrics.
func (s *session) client(api, base string, flavor odata.Flavor, scope string, maxResponse int64) (*odata.Client, error) {
	u, err := url.Parse(base)
	if err != nil {
		return nil, err
	}
	var hooks odata.Hooks
	if s.opts.Metrics != nil {
		hooks = s.opts.Metrics.Hooks(api)
	}
	return odata.New(u, s.cred, odata.Options{
		Scopes:           []string{scope},
		HTTPClient:       s.http,
		Flavor:           flavor,
		UserAgent:        "teamslink/" + s.opts.Version,
		Now:              s.opts.Now,
		RequestTimeout:   s.tenant.Endpoints.RequestTimeout,
		MaxResponseBytes: maxResponse,
		Hooks:            hooks,
	})
}
