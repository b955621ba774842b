package odata

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
)

// tokenRefreshMargin is how long before ExpiresOn a cached token is replaced.
const tokenRefreshMargin = 2 * time.Minute

// tokenCache holds the current bearer token of one Client. It is safe for
// concurrent use; concurrent callers that find no valid token wait for one
// GetToken call instead of each making their own.
type tokenCache struct {
	cred   azcore.TokenCredential
	scopes []string
	now    func() time.Time

	mu    sync.Mutex
	tok   azcore.AccessToken
	valid bool
}

// get returns a token that is not about to expire, asking the credential for
// one when the cache has none.
func (t *tokenCache) get(ctx context.Context) (string, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.valid && t.now().Before(t.refreshAt()) {
		return t.tok.Token, nil
	}
	t.valid = false
	return t.fetch(ctx, "")
}

// challenge replaces the cached token with one that satisfies a claims
// challenge from the service, unless another request has already replaced
// the refused token. The credential bypasses its own cache for claims.
func (t *tokenCache) challenge(ctx context.Context, refused, claims string) (string, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.valid && t.tok.Token != refused && t.now().Before(t.refreshAt()) {
		return t.tok.Token, nil
	}
	t.valid = false
	return t.fetch(ctx, claims)
}

// fetch asks the credential for a token and caches it. Tokens are requested
// capable of continuous access evaluation, so Graph and SharePoint answer a
// revoked one with a claims challenge that challenge can satisfy. The caller
// holds t.mu.
func (t *tokenCache) fetch(ctx context.Context, claims string) (string, error) {
	tok, err := t.cred.GetToken(ctx, policy.TokenRequestOptions{Scopes: slices.Clone(t.scopes), Claims: claims, EnableCAE: true})
	if err != nil {
		return "", fmt.Errorf("get token for %s: %w", strings.Join(t.scopes, " "), err)
	}
	if tok.Token == "" {
		return "", fmt.Errorf("get token for %s: %w", strings.Join(t.scopes, " "), errors.New("the credential returned an empty token"))
	}
	t.tok, t.valid = tok, true
	return tok.Token, nil
}

// refreshAt is when the cached token stops being used: the credential's
// RefreshOn hint when it is earlier, else tokenRefreshMargin before expiry.
func (t *tokenCache) refreshAt() time.Time {
	at := t.tok.ExpiresOn.Add(-tokenRefreshMargin)
	if !t.tok.RefreshOn.IsZero() && t.tok.RefreshOn.Before(at) {
		at = t.tok.RefreshOn
	}
	return at
}

// invalidate drops token from the cache after the service refused it, unless
// another request has already replaced it.
func (t *tokenCache) invalidate(token string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.valid && t.tok.Token == token {
		t.valid = false
	}
}

// current returns the cached token (valid or not) for redaction.
func (t *tokenCache) current() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.tok.Token
}

// claimsChallenge returns the decoded claims of a WWW-Authenticate challenge
// such as Bearer realm="", error="insufficient_claims", claims="eyJhY2Nlc3N…",
// or "" when there are none (or they are not valid base64).
func claimsChallenge(header string) string {
	m := claimsParam.FindStringSubmatch(header)
	if m == nil {
		return ""
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(m[1]); err == nil && json.Valid(b) {
			return string(b)
		}
	}
	return ""
}

var claimsParam = regexp.MustCompile(`(?i)\bclaims="([^"]+)"`)
