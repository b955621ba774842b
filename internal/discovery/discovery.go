// Package discovery lists the Dataverse environments of one tenant, so that
// tenants.yaml can say "discover" instead of naming every environment URL.
// Two services can list them (fleet facts §1):
//
//   - the Power Platform admin API (BAP), GET
//     {bap}/providers/Microsoft.BusinessAppPlatform/scopes/admin/environments?api-version=2020-10-01,
//     which lists every environment of the tenant to a service principal
//     registered as a management app (or to an administrator);
//   - the Dataverse Global Discovery Service (GDS), GET
//     {gds}/api/discovery/v2.0/Instances, which lists the environments the
//     signed-in user can use.
//
// A Lister reads one of them through an internal/odata client (tokens,
// retries, deadlines, size limits) and returns every environment it
// describes; Filter then decides which to scan and says why not for the
// rest. A failure to list is an error, never an empty list: an empty fleet
// must not look clean. A service that answers with no environment at all is
// ErrNoEnvironments for the same reason.
//
// # Assumptions
//
// Where the facts say INFERENCE or NOT CONFIRMED, this package makes a
// choice and says so:
//
//   - BAP paging is not documented; a nextLink (or @odata.nextLink) is
//     followed when one appears, on the same host only.
//   - BAP's state is properties.states.runtime.id ("Enabled" in Microsoft's
//     example); an environment without it has state "" and matches no
//     state filter.
//   - GDS does not document what its OrganizationType numbers mean, so a GDS
//     environment has no type, and a type filter matches none of them.
//   - Whether GDS answers an application (app-only) token is NOT CONFIRMED;
//     it is documented for a signed-in user.
package discovery

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// Source names a discovery service in tenants.yaml and in output.
type Source string

// The discovery services.
const (
	// SourceBAP is the Power Platform admin API, for a service principal
	// registered as a management app.
	SourceBAP Source = "bap"
	// SourceGDS is the Dataverse Global Discovery Service, for a signed-in
	// user.
	SourceGDS Source = "gds"
)

// Describe names the service for messages.
func (s Source) Describe() string {
	switch s {
	case SourceBAP:
		return "the Power Platform admin API"
	case SourceGDS:
		return "the Global Discovery Service"
	}
	return "discovery source " + string(s)
}

// The environment states teamslink reports. BAP's runtime state is passed
// on as the service spells it; GDS's State 0 and 1 become these.
const (
	StateEnabled  = "Enabled"
	StateDisabled = "Disabled"
)

// The environment types (BAP environmentSku) a filter may name. Default is
// the tenant's default environment, whatever its SKU.
const (
	TypeProduction = "Production"
	TypeSandbox    = "Sandbox"
	TypeTrial      = "Trial"
	TypeDeveloper  = "Developer"
	TypeDefault    = "Default"
)

// Environment is one environment as a discovery service describes it. A
// field the service did not send is empty; it is never guessed.
type Environment struct {
	// URL is the environment's root, https://<org>.crm[N].dynamics.com,
	// without a trailing slash; "" when it has no Dataverse database.
	URL string `json:"url"`
	// Name is the display name (BAP displayName, GDS FriendlyName).
	Name string `json:"name,omitempty"`
	// ID is the environment id (BAP name, GDS EnvironmentId).
	ID string `json:"id,omitempty"`
	// OrganizationID is the Dataverse organization id (GDS Id; BAP
	// linkedEnvironmentMetadata.resourceId, which facts §1b take to be the
	// same, an INFERENCE).
	OrganizationID string `json:"organizationId,omitempty"`
	// UniqueName is the organization's unique name.
	UniqueName string `json:"uniqueName,omitempty"`
	// Type is the SKU (BAP environmentSku): Production, Sandbox, Trial,
	// Developer, Default, or another the service names; "" when it does not
	// say (always, for GDS).
	Type string `json:"type,omitempty"`
	// Default is true for the tenant's default environment (BAP isDefault).
	Default bool `json:"default,omitempty"`
	// State is Enabled, Disabled or the service's own word; "" when it
	// does not say.
	State string `json:"state,omitempty"`
	// Region is BAP location (e.g. unitedstates) or GDS Region (e.g. NA).
	Region string `json:"region,omitempty"`
	// Version is the Dataverse version, when the service gives it.
	Version string `json:"version,omitempty"`
}

// Host is the host of URL, lower case; "" without one.
func (e Environment) Host() string {
	u, err := url.Parse(e.URL)
	if err != nil {
		return ""
	}
	return strings.ToLower(u.Hostname())
}

// Lister lists a tenant's environments through one service.
type Lister interface {
	// Source says which service it asks.
	Source() Source
	// List returns every environment the service describes, in its order.
	List(ctx context.Context) ([]Environment, error)
}

// ErrNoEnvironments is a service that answered, but with no environment at
// all. Every tenant has a default environment, so this means the identity
// sees none (a service principal not registered as a management app, a
// user with no access, the wrong tenant or cloud): it is reported as a
// failure, never as a tenant with nothing to scan.
var ErrNoEnvironments = errors.New("the service listed no environment")

// Error is a failed discovery of one tenant: which service, and why.
type Error struct {
	Source Source
	Err    error
}

// Error names the service.
func (e *Error) Error() string {
	return fmt.Sprintf("discover environments through %s: %v", e.Source.Describe(), e.Err)
}

// Unwrap returns the cause (an odata error, ErrNoEnvironments, ...).
func (e *Error) Unwrap() error { return e.Err }

// Discover lists the environments through l and decides, with f, which of
// them to scan. An error from the service, or an answer with no
// environment, is an *Error; otherwise the result holds every environment
// listed, matched or not.
func Discover(ctx context.Context, l Lister, f Filter) (*Result, error) {
	envs, err := l.List(ctx)
	if err == nil && len(envs) == 0 {
		err = ErrNoEnvironments
	}
	if err != nil {
		return nil, &Error{Source: l.Source(), Err: err}
	}
	return &Result{Source: l.Source(), Found: f.Decide(envs)}, nil
}

// Result is one tenant's discovery: every environment the service listed,
// each with the filter's decision.
type Result struct {
	Source Source     `json:"source"`
	Found  []Decision `json:"environments"`
}

// Matched returns the environments to scan, in the service's order.
func (r *Result) Matched() []Environment {
	var out []Environment
	for _, d := range r.Found {
		if d.Scan {
			out = append(out, d.Environment)
		}
	}
	return out
}

// NoMatch describes a result in which nothing matched, for the error a
// tenant with nothing else to scan gets: how many environments were found
// and why each group was left out. It is nil when something matched.
func (r *Result) NoMatch() error {
	if len(r.Matched()) > 0 {
		return nil
	}
	counts := map[string]int{}
	var order []string
	for _, d := range r.Found {
		if counts[d.Reason] == 0 {
			order = append(order, d.Reason)
		}
		counts[d.Reason]++
	}
	parts := make([]string, len(order))
	for i, reason := range order {
		parts[i] = fmt.Sprintf("%d %s", counts[reason], reason)
	}
	return &Error{Source: r.Source, Err: fmt.Errorf("%w: %d found, none matched the filters (%s)", ErrNoMatch, len(r.Found), strings.Join(parts, "; "))}
}

// ErrNoMatch is a discovery in which no environment matched the filters.
var ErrNoMatch = errors.New("no environment to scan")
