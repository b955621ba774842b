package auth

import (
	"context"
	"strings"
	"sync"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"

	"github.com/teamslink/teamslink/internal/config"
)

// Scoped is a credential that keeps one underlying credential per scope
// set, so that a tenant's tokens (Graph, SharePoint, each Dataverse
// environment) are requested concurrently: azidentity holds a lock across
// each token request of one credential. Prefetch asks for a run's tokens
// before its collectors take their slots. It is safe for concurrent use.
type Scoped struct {
	build func() (azcore.TokenCredential, error)

	mu     sync.Mutex
	spare  azcore.TokenCredential // built, not yet given a scope
	scopes map[string]*scopedCred
}

type scopedCred struct {
	once sync.Once
	cred azcore.TokenCredential
	err  error

	mu      sync.Mutex
	pending *prefetched // the answer Prefetch got, for the next GetToken
}

type prefetched struct {
	tok azcore.AccessToken
	err error
}

// PerScope reports whether a tenant's auth method gets one credential per
// scope: those whose sign-in is a request of their own. A person's device
// code (one sign-in for every scope) and the Azure CLI keep one.
func PerScope(m config.Method) bool {
	switch m {
	case config.MethodClientSecret, config.MethodClientCertificate, config.MethodWorkloadIdentity, config.MethodManagedIdentity:
		return true
	}
	return false
}

// NewScoped returns a Scoped whose credentials build makes; first is one
// already built (so that a configuration error was said before any
// request), used for the first scope asked for.
func NewScoped(first azcore.TokenCredential, build func() (azcore.TokenCredential, error)) *Scoped {
	return &Scoped{build: build, spare: first, scopes: map[string]*scopedCred{}}
}

func (s *Scoped) credFor(scopes []string) *scopedCred {
	key := strings.Join(scopes, " ")
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.scopes[key]
	if !ok {
		c = &scopedCred{}
		if s.spare != nil {
			c.cred, s.spare = s.spare, nil
		}
		s.scopes[key] = c
	}
	return c
}

// GetToken asks the credential of opts.Scopes. The first call after a
// Prefetch of those scopes asking for the same kind of token (capable of
// continuous access evaluation, no claims) returns what the prefetch got,
// so that a credential that cannot sign in is not asked twice for it.
func (s *Scoped) GetToken(ctx context.Context, opts policy.TokenRequestOptions) (azcore.AccessToken, error) {
	c := s.credFor(opts.Scopes)
	if opts.EnableCAE && opts.Claims == "" {
		c.mu.Lock()
		p := c.pending
		c.pending = nil
		c.mu.Unlock()
		if p != nil {
			return p.tok, p.err
		}
	}
	return s.get(ctx, c, opts)
}

// get asks c's credential, building it on first use.
func (s *Scoped) get(ctx context.Context, c *scopedCred, opts policy.TokenRequestOptions) (azcore.AccessToken, error) {
	c.once.Do(func() {
		if c.cred == nil {
			c.cred, c.err = s.build()
		}
	})
	if c.err != nil {
		return azcore.AccessToken{}, c.err
	}
	return c.cred.GetToken(ctx, opts)
}

// Prefetch asks for a token of each scope concurrently and waits for them
// all, capable of continuous access evaluation as internal/odata asks; each answer, token or error, is kept for the next GetToken of its
// scope. A scope prefetched before is asked again (its credential's cache
// answers while the token is fresh).
//
// Each request holds a place in slots, when not nil, while it runs: a run
// bounds its token requests in flight across tenants with one channel.
func (s *Scoped) Prefetch(ctx context.Context, scopes []string, slots chan struct{}) {
	var wg sync.WaitGroup
	for _, scope := range scopes {
		c := s.credFor([]string{scope})
		wg.Go(func() {
			if slots != nil {
				slots <- struct{}{}
				defer func() { <-slots }()
			}
			tok, err := s.get(ctx, c, policy.TokenRequestOptions{Scopes: []string{scope}, EnableCAE: true})
			if ctx.Err() != nil {
				return // interrupted: nothing to keep
			}
			c.mu.Lock()
			c.pending = &prefetched{tok: tok, err: err}
			c.mu.Unlock()
		})
	}
	wg.Wait()
}
