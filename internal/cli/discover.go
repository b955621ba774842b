package cli

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"

	"github.com/teamslink/teamslink/internal/auth"
	"github.com/teamslink/teamslink/internal/config"
	"github.com/teamslink/teamslink/internal/discovery"
	"github.com/teamslink/teamslink/internal/odata"
	"github.com/teamslink/teamslink/internal/snapshot"
)

// This file turns a config into the targets of a run when tenants ask for
// their environments to be discovered: the fleet pipeline (issue 9,
// deliverable 1) is to move it out of internal/cli as it is.

// discoveryConcurrency bounds how many tenants are discovered at once.
const discoveryConcurrency = 8

// maxDiscoveryResponse bounds one page of a discovery answer: the admin API
// sends a tenant's environments in one page of a few KiB each, and a
// tenant can have thousands.
const maxDiscoveryResponse = 64 << 20

// tenantSession is one tenant's HTTP client and observed credential,
// shared by its discovery and its collectors, so that a person signs in
// once and a credential that cannot sign in is said once.
type tenantSession struct {
	tenant config.Tenant
	http   *http.Client
	cred   *auth.Observed
}

// newTenantSession builds the tenant's HTTP client and credential.
func newTenantSession(t config.Tenant, deps Deps) (*tenantSession, error) {
	httpClient, err := auth.HTTPClient(t.Endpoints)
	if err != nil {
		return nil, fmt.Errorf("tenant %s: %w", t.ID, err)
	}
	built, err := auth.NewCredential(t, auth.Options{
		HTTPClient: httpClient,
		LookupEnv:  deps.LookupEnv,
		DeviceCodePrompt: func(_ context.Context, message string) error {
			_, err := fmt.Fprintln(deps.Stderr, message)
			return err
		},
	})
	if err != nil {
		return nil, err
	}
	return &tenantSession{tenant: t, http: httpClient, cred: auth.Observe(built)}, nil
}

// client returns an odata client of the session for the service root base.
func (s *tenantSession) client(deps Deps, base string, flavor odata.Flavor, scope string, maxResponse int64) (*odata.Client, error) {
	u, err := url.Parse(base)
	if err != nil {
		return nil, err
	}
	return odata.New(u, s.cred, odata.Options{
		Scopes:           []string{scope},
		HTTPClient:       s.http,
		Flavor:           flavor,
		UserAgent:        "teamslink/" + deps.Version,
		Now:              deps.Now,
		RequestTimeout:   s.tenant.Endpoints.RequestTimeout,
		MaxResponseBytes: maxResponse,
	})
}

// tenantTargets is one tenant of a run: the environments to scan (those
// listed, then those discovered) or, when its discovery failed, why.
type tenantTargets struct {
	// tenant is the config's tenant with the discovered environments
	// appended to Environments.
	tenant  config.Tenant
	session *tenantSession
	// listed is how many environments tenants.yaml lists; those after
	// them in tenant.Environments were discovered.
	listed int
	// result is what discovery found; nil for a tenant that does not
	// discover, or whose discovery failed.
	result *discovery.Result
	// failure is set when discovery failed, or found nothing to scan for a
	// tenant that lists nothing either: the tenant is then not scanned.
	failure *snapshot.SignIn
}

// discoverFleet builds each tenant's session and, for the tenants that ask
// for it, discovers their environments, at most discoveryConcurrency
// tenants at once. A credential that cannot be built is a usage error, as
// for collection; a discovery that fails is recorded on the tenant.
func discoverFleet(ctx context.Context, cfg *config.Config, deps Deps) ([]*tenantTargets, error) {
	out := make([]*tenantTargets, len(cfg.Tenants))
	for i, t := range cfg.Tenants {
		s, err := newTenantSession(t, deps)
		if err != nil {
			return nil, &UsageError{Err: err}
		}
		out[i] = &tenantTargets{tenant: t, session: s, listed: len(t.Environments)}
	}
	slots := make(chan struct{}, discoveryConcurrency)
	var wg sync.WaitGroup
	for _, tt := range out {
		if tt.tenant.Discover == nil {
			continue
		}
		wg.Go(func() {
			slots <- struct{}{}
			defer func() { <-slots }()
			tt.discover(ctx, cfg.Defaults, deps)
		})
	}
	wg.Wait()
	if err := interruption(ctx); err != nil {
		return nil, fmt.Errorf("discover environments: %w", err)
	}
	return out, nil
}

// discover lists the tenant's environments and appends those to scan, or
// records why none can be.
func (tt *tenantTargets) discover(ctx context.Context, defaults config.Defaults, deps Deps) {
	t := tt.tenant
	lister, err := tt.lister(deps)
	var res *discovery.Result
	if err == nil {
		res, err = discovery.Discover(ctx, lister, discoveryFilter(t))
	}
	if err == nil && len(t.Environments) == 0 {
		// Nothing listed and nothing matched: an empty fleet must not
		// look clean.
		err = res.NoMatch()
	}
	if err != nil {
		tt.failure = tt.discoveryFailure(err)
		return
	}
	tt.result = res
	for i, d := range res.Found {
		if !d.Scan {
			continue
		}
		if listedIn(t.Environments, d.URL) {
			res.Found[i].Scan, res.Found[i].Reason = false, "listed in tenants.yaml, scanned with its settings there"
			continue
		}
		profile := defaults.Profile
		if profile == "" {
			profile = config.ProfilePreflight
		}
		tt.tenant.Environments = append(tt.tenant.Environments, config.Environment{
			URL: d.URL, Name: d.Name, Experience: defaults.Experience, Profile: profile,
			Tables: append([]string(nil), defaults.Tables...),
		})
	}
}

// lister is the tenant's discovery source, through its session.
func (tt *tenantTargets) lister(deps Deps) (discovery.Lister, error) {
	t := tt.tenant
	switch t.Discover.Source {
	case config.SourceBAP:
		root, scope := t.AdminAPI()
		if root == "" || scope == "" {
			return nil, &discovery.Error{Source: discovery.SourceBAP, Err: fmt.Errorf("the Power Platform admin API of cloud %s is NOT CONFIRMED: set endpoints.bap and endpoints.bapScope", t.Cloud)}
		}
		// Plain JSON: the admin API is not an OData service.
		c, err := tt.session.client(deps, root+"/", odata.Graph, scope, maxDiscoveryResponse)
		if err != nil {
			return nil, &discovery.Error{Source: discovery.SourceBAP, Err: err}
		}
		return discovery.NewBAP(c), nil
	case config.SourceGDS:
		root := t.GlobalDiscoveryURL()
		// The audience is the service's URL (fleet facts §1a); .default,
		// rather than the sample's //user_impersonation, is the form every
		// azidentity credential takes (an INFERENCE, as for Dataverse).
		c, err := tt.session.client(deps, root+discovery.GDSRoot, odata.Dataverse, root+"/.default", maxDiscoveryResponse)
		if err != nil {
			return nil, &discovery.Error{Source: discovery.SourceGDS, Err: err}
		}
		return discovery.NewGDS(c), nil
	}
	return nil, fmt.Errorf("tenant %s: unknown discovery source %q", t.ID, t.Discover.Source)
}

func discoveryFilter(t config.Tenant) discovery.Filter {
	d := t.Discover
	return discovery.Filter{
		Types: d.Types, States: d.States, Include: d.Include, Exclude: d.Exclude,
		KnownHost: t.AcceptsEnvironmentHost,
	}
}

// listedIn reports whether the environment at u is listed in envs.
func listedIn(envs []config.Environment, u string) bool {
	for _, e := range envs {
		if config.SameEnvironment(e.URL, u) {
			return true
		}
	}
	return false
}

// discoveryFailure is what the snapshot records for a tenant whose
// discovery failed: a sign-in failure when its credential issued no token,
// else the discovery's own error with the service's HTTP status.
func (tt *tenantTargets) discoveryFailure(err error) *snapshot.SignIn {
	a := tt.tenant.Auth
	s := &snapshot.SignIn{Method: string(a.Method), ClientID: a.ClientID}
	if reason := auth.SignInReason(tt.session.cred.Failure()); reason != "" {
		s.Error = reason
		return s
	}
	s.Error = odata.BoundText(err.Error())
	s.Discovery = string(tt.tenant.Discover.Source)
	var (
		api       *odata.APIError
		throttled *odata.ThrottledError
	)
	switch {
	case errors.As(err, &throttled):
		s.HTTPStatus = throttled.Status
	case errors.As(err, &api):
		s.HTTPStatus = api.Status
	}
	return s
}

// failedTenant is the snapshot of a tenant that was not scanned because its
// discovery failed: every section skipped, saying why, and the failure.
func failedTenant(tt *tenantTargets, deps Deps) snapshot.Tenant {
	t := tt.tenant
	const why = "not read: the tenant's environments could not be discovered, so none of it was scanned"
	skipped := func(source string) snapshot.Section {
		return snapshot.Section{Status: snapshot.StatusSkipped, Error: why, Source: source, CollectedAt: deps.now().UTC()}
	}
	graph := strings.TrimSuffix(t.GraphURL(), "/") + "/v1.0/"
	return snapshot.Tenant{
		ID: t.ID, Name: t.Name, Cloud: string(t.Cloud),
		Licenses:   snapshot.Licenses{Section: skipped(graph + "subscribedSkus"), SKUs: []snapshot.SKU{}},
		Consent:    snapshot.Consent{Section: skipped(graph + "servicePrincipals"), Grants: []snapshot.PermissionGrant{}},
		Caller:     snapshot.Principal{Section: skipped(graph + "me"), DirectoryRoles: []snapshot.DirectoryRole{}},
		SharePoint: snapshot.SharePoint{Section: skipped(t.SharePointAdminURL)},
		SignIn:     tt.failure,
	}
}

// withFailedTenants puts the tenants whose discovery failed into snap,
// every tenant in the order of the config.
func withFailedTenants(snap *snapshot.Snapshot, fleet []*tenantTargets, deps Deps) {
	collected := map[string]snapshot.Tenant{}
	for _, t := range snap.Tenants {
		collected[t.ID] = t
	}
	tenants := make([]snapshot.Tenant, 0, len(fleet))
	for _, tt := range fleet {
		if tt.failure != nil {
			tenants = append(tenants, failedTenant(tt, deps))
		} else if t, ok := collected[tt.tenant.ID]; ok {
			tenants = append(tenants, t)
		}
	}
	snap.Tenants = tenants
}
