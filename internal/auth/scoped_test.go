package auth

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"

	"github.com/teamslink/teamslink/internal/config"
)

// countingCred answers every scope, or fails with err, counting calls.
type countingCred struct {
	calls atomic.Int32
	err   error
}

func (c *countingCred) GetToken(_ context.Context, o policy.TokenRequestOptions) (azcore.AccessToken, error) {
	c.calls.Add(1)
	if c.err != nil {
		return azcore.AccessToken{}, c.err
	}
	return azcore.AccessToken{Token: o.Scopes[0]}, nil
}

func TestScoped(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		err  error
	}{
		{"issues", nil},
		{"fails", errors.New("invalid_client")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var mu sync.Mutex
			var built []*countingCred
			build := func() (azcore.TokenCredential, error) {
				mu.Lock()
				defer mu.Unlock()
				c := &countingCred{err: tc.err}
				built = append(built, c)
				return c, nil
			}
			first, _ := build()
			s := NewScoped(first, build)
			scopes := []string{"a/.default", "b/.default", "c/.default"}
			s.Prefetch(t.Context(), scopes, make(chan struct{}, 2))
			if len(built) != len(scopes) {
				t.Fatalf("%d credentials built, want one per scope (%d)", len(built), len(scopes))
			}
			for _, sc := range scopes {
				tok, err := s.GetToken(t.Context(), policy.TokenRequestOptions{Scopes: []string{sc}, EnableCAE: true})
				if !errors.Is(err, tc.err) || (err == nil && tok.Token != sc) {
					t.Errorf("GetToken(%s) = %q, %v", sc, tok.Token, err)
				}
			}
			for i, c := range built {
				if n := c.calls.Load(); n != 1 {
					t.Errorf("credential %d asked %d times, want once: the prefetched answer is used", i, n)
				}
			}
		})
	}
}

func TestPerScope(t *testing.T) {
	t.Parallel()
	for m, want := range map[config.Method]bool{
		config.MethodClientSecret: true, config.MethodManagedIdentity: true,
		config.MethodDeviceCode: false, config.MethodAzureCLI: false,
	} {
		if got := PerScope(m); got != want {
			t.Errorf("PerScope(%s) = %v, want %v", m, got, want)
		}
	}
}
