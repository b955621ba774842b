package scan

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/teamslink/teamslink/internal/auth"
	"github.com/teamslink/teamslink/internal/config"
	"github.com/teamslink/teamslink/internal/discovery"
	"github.com/teamslink/teamslink/internal/metrics"
	"github.com/teamslink/teamslink/internal/odata"
	"github.com/teamslink/teamslink/internal/snapshot"
)

// maxDiscoveryResponse bounds one page of a discovery answer: the admin API
// sends a tenant's environments in one page of a few KiB each, and a
// tenant can have thousands.
const maxDiscoveryResponse = 64 << 20

// Target is one tenant of a run: the environments to scan (those listed,
// then those discovered) or, when its discovery failed, why.
type Target struct {
	// Tenant is the config's tenant with the discovered environments
	// appended to Environments.
	Tenant config.Tenant
	// Listed is how many environments tenants.yaml lists; those after
	// them in Tenant.Environments were discovered.
	Listed int
	// Discovery is what discovery found; nil for a tenant that does not
	// discover, or whose discovery failed.
	Discovery *discovery.Result
	// Failure is set when discovery failed, or found nothing to scan for a
	// tenant that lists nothing either: the tenant is then not collected.
	Failure *snapshot.SignIn

	session *session
}

// Discover selects the tenants of cfg that opts name and shard, builds
// each one's session and, for those that ask for it, discovers their
// environments, at most opts.Concurrency tenants at once. A credential that
// cannot be built is a *ConfigError; a discovery that fails is recorded on
// its target, and the others go on.
func Discover(ctx context.Context, cfg *config.Config, opts Options) ([]*Target, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	tenants, err := Select(cfg, opts.Tenants, opts.Shard)
	if err != nil {
		return nil, err
	}
	defer opts.withTransports()()
	return discoverTenants(ctx, cfg.Defaults, tenants, &opts)
}

func discoverTenants(ctx context.Context, defaults config.Defaults, tenants []config.Tenant, opts *Options) ([]*Target, error) {
	out := make([]*Target, len(tenants))
	for i, t := range tenants {
		s, err := newSession(t, opts)
		if err != nil {
			return nil, &ConfigError{Err: err}
		}
		out[i] = &Target{Tenant: t, session: s, Listed: len(t.Environments)}
	}
	slots := make(chan struct{}, opts.concurrency())
	var wg sync.WaitGroup
	for _, tt := range out {
		if tt.Tenant.Discover == nil {
			continue
		}
		wg.Go(func() {
			slots <- struct{}{}
			defer func() { <-slots }()
			tt.discover(ctx, defaults)
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
func (tt *Target) discover(ctx context.Context, defaults config.Defaults) {
	t := tt.Tenant
	lister, err := tt.lister()
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
		tt.Failure = tt.discoveryFailure(err)
		return
	}
	tt.Discovery = res
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
		tt.Tenant.Environments = append(tt.Tenant.Environments, config.Environment{
			URL: d.URL, Name: d.Name, Experience: defaults.Experience, Profile: profile,
			Tables: append([]string(nil), defaults.Tables...),
		})
	}
}

// lister is the tenant's discovery source, through its session.
func (tt *Target) lister() (discovery.Lister, error) {
	t := tt.Tenant
	switch t.Discover.Source {
	case config.SourceBAP:
		root, scope := t.AdminAPI()
		if root == "" || scope == "" {
			return nil, &discovery.Error{Source: discovery.SourceBAP, Err: fmt.Errorf("the Power Platform admin API of cloud %s is NOT CONFIRMED: set endpoints.bap and endpoints.bapScope", t.Cloud)}
		}
		// Plain JSON: the admin API is not an OData service.
		c, err := tt.session.client(metrics.APIDiscovery, root+"/", odata.Graph, scope, maxDiscoveryResponse)
		if err != nil {
			return nil, &discovery.Error{Source: discovery.SourceBAP, Err: err}
		}
		return discovery.NewBAP(c), nil
	case config.SourceGDS:
		root := t.GlobalDiscoveryURL()
		// The audience is the service's URL (fleet facts §1a); .default,
		// rather than the sample's //user_impersonation, is the form every
		// azidentity credential takes (an INFERENCE, as for Dataverse).
		c, err := tt.session.client(metrics.APIDiscovery, root+discovery.GDSRoot, odata.Dataverse, root+"/.default", maxDiscoveryResponse)
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
func (tt *Target) discoveryFailure(err error) *snapshot.SignIn {
	a := tt.Tenant.Auth
	s := &snapshot.SignIn{Method: string(a.Method), ClientID: a.ClientID}
	if reason := auth.SignInReason(tt.session.cred.Failure()); reason != "" {
		s.Error = reason
		return s
	}
	s.Error = odata.BoundText(err.Error())
	s.Discovery = string(tt.Tenant.Discover.Source)
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
func failedTenant(tt *Target, opts *Options) snapshot.Tenant {
	t := tt.Tenant
	const why = "not read: the tenant's environments could not be discovered, so none of it was scanned"
	skipped := func(source string) snapshot.Section {
		return snapshot.Section{Status: snapshot.StatusSkipped, Error: why, Source: source, CollectedAt: opts.Now().UTC()}
	}
	graph := strings.TrimSuffix(t.GraphURL(), "/") + "/v1.0/"
	return snapshot.Tenant{
		ID: t.ID, Name: t.Name, Cloud: string(t.Cloud),
		Licenses:   snapshot.Licenses{Section: skipped(graph + "subscribedSkus"), SKUs: []snapshot.SKU{}},
		Consent:    snapshot.Consent{Section: skipped(graph + "servicePrincipals"), Grants: []snapshot.PermissionGrant{}},
		Caller:     snapshot.Principal{Section: skipped(graph + "me"), DirectoryRoles: []snapshot.DirectoryRole{}},
		SharePoint: snapshot.SharePoint{Section: skipped(t.SharePointAdminURL)},
		SignIn:     tt.Failure,
	}
}

// withFailedTenants puts the tenants whose discovery failed into snap,
// every tenant in the order of the targets.
func withFailedTenants(snap *snapshot.Snapshot, targets []*Target, opts *Options) {
	collected := map[string]snapshot.Tenant{}
	for _, t := range snap.Tenants {
		collected[t.ID] = t
	}
	tenants := make([]snapshot.Tenant, 0, len(targets))
	for _, tt := range targets {
		if tt.Failure != nil {
			tenants = append(tenants, failedTenant(tt, opts))
		} else if t, ok := collected[tt.Tenant.ID]; ok {
			tenants = append(tenants, t)
		}
	}
	snap.Tenants = tenants
}
