package odata

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
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
// capable of continuous access evaluation, so Graph answers a revoked one
// with a claims challenge that challenge can satisfy. The caller holds t.mu.
func (t *tokenCache) fetch(ctx context.Context, claims string) (string, error) {
	opts := policy.TokenRequestOptions{Scopes: slices.Clone(t.scopes), Claims: claims, EnableCAE: true}
	tok, err := t.cred.GetToken(ctx, opts)
	if err != nil && unreadAnswer(err) && ctx.Err() == nil {
		// The identity platform's answer could not be read (cut short): the
		// credential does not retry that, and asking once more is harmless.
		tok, err = t.cred.GetToken(ctx, opts)
	}
	if err != nil {
		return "", fmt.Errorf("get token for %s: %w", strings.Join(t.scopes, " "), err)
	}
	if tok.Token == "" {
		return "", fmt.Errorf("get token for %s: %w", strings.Join(t.scopes, " "), errors.New("the credential returned an empty token"))
	}
	t.tok, t.valid = tok, true
	return tok.Token, nil
}

// unreadAnswer reports whether a credential failed on an answer whose body
// could not be read (cut short), as opposed to a refusal or an outage, which
// its own retry policy has already dealt with. azidentity keeps no cause for
// it, only azcore's wording: should that change, the token request simply
// fails as before, never passes.
func unreadAnswer(err error) bool {
	var failed *azidentity.AuthenticationFailedError
	return errors.As(err, &failed) && failed.RawResponse == nil && strings.Contains(err.Error(), "body download policy")
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

// claimsChallenge returns the decoded claims of the first Bearer challenge
// with error="insufficient_claims" among WWW-Authenticate values, such as
// Bearer realm="", error="insufficient_claims", claims="eyJhY2Nlc3N…"
// (continuous access evaluation); "" when there is none, or its claims are
// not base64 of JSON.
func claimsChallenge(values []string) string {
	for _, v := range values {
		for _, c := range parseChallenges(v) {
			if !strings.EqualFold(c.scheme, "Bearer") || c.params["error"] != "insufficient_claims" || c.params["claims"] == "" {
				continue
			}
			for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
				if b, err := enc.DecodeString(c.params["claims"]); err == nil && json.Valid(b) {
					return string(b)
				}
			}
		}
	}
	return ""
}

// challenge is one authentication challenge of a WWW-Authenticate value.
type challenge struct {
	scheme string
	params map[string]string // lower-case names
}

// parseChallenges splits a WWW-Authenticate value into its challenges
// (RFC 9110 §11.6.1): a scheme, then name=value or name="quoted value"
// parameters separated by commas; a token not followed by "=" starts the
// next challenge.
func parseChallenges(v string) []challenge {
	var out []challenge
	var cur *challenge
	s := v
	for {
		s = strings.TrimLeft(s, " \t,")
		if s == "" {
			break
		}
		end := strings.IndexAny(s, " \t=,")
		if end < 0 {
			end = len(s)
		}
		tok := s[:end]
		s = strings.TrimLeft(s[end:], " \t")
		if cur == nil || !strings.HasPrefix(s, "=") || tok == "" {
			if tok == "" { // a stray "=": skip it
				s = strings.TrimPrefix(s, "=")
				continue
			}
			out = append(out, challenge{scheme: tok, params: map[string]string{}})
			cur = &out[len(out)-1]
			continue
		}
		s = strings.TrimLeft(s[1:], " \t")
		var value string
		if strings.HasPrefix(s, `"`) {
			var b strings.Builder
			i := 1
			for ; i < len(s) && s[i] != '"'; i++ {
				if s[i] == '\\' && i+1 < len(s) {
					i++
				}
				b.WriteByte(s[i])
			}
			value, s = b.String(), s[min(i+1, len(s)):]
		} else {
			end := strings.IndexAny(s, " \t,")
			if end < 0 {
				end = len(s)
			}
			value, s = s[:end], s[end:]
		}
		cur.params[strings.ToLower(tok)] = value
	}
	return out
}
