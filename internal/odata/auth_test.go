package odata

import (
	"encoding/base64"
	"errors"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestUnauthorizedRefreshesOnce(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		tokens     []string
		rejected   []string // tokens the server answers 401 to
		rejectN    int      // the first N requests get 401 whatever their token
		wantHits   int
		wantCalls  int
		wantErr    bool
		wantTokens []string // Authorization tokens the server saw, in order
	}{
		{
			name: "401 then refreshed token succeeds", tokens: []string{"tok-1", "tok-2"}, rejected: []string{"tok-1"},
			wantHits: 2, wantCalls: 2, wantTokens: []string{"tok-1", "tok-2"},
		},
		{
			name: "credential returns the same cached token: request still repeated once", tokens: []string{"same"}, rejectN: 1,
			wantHits: 2, wantCalls: 2, wantTokens: []string{"same", "same"},
		},
		{
			name: "401 twice is an AuthError", tokens: []string{"tok-1", "tok-2"}, rejected: []string{"tok-1", "tok-2"},
			wantHits: 2, wantCalls: 2, wantErr: true, wantTokens: []string{"tok-1", "tok-2"},
		},
		{
			name: "401 twice with the same token", tokens: []string{"same"}, rejected: []string{"same"},
			wantHits: 2, wantCalls: 2, wantErr: true, wantTokens: []string{"same", "same"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var mu sync.Mutex
			var seen []string
			cred := &fakeCredential{tokens: tt.tokens}
			e := setup(t, func(w http.ResponseWriter, r *http.Request) {
				tok := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
				mu.Lock()
				seen = append(seen, tok)
				n := len(seen)
				mu.Unlock()
				if n <= tt.rejectN || slices.Contains(tt.rejected, tok) {
					writeJSON(w, http.StatusUnauthorized, odataErr("", "ExpiredAuthTicket"))
					return
				}
				writeJSON(w, http.StatusOK, `{}`)
			}, withCredential(cred))
			_, err := e.client.GetRaw(t.Context(), "WhoAmI")
			if tt.wantErr {
				var ae *AuthError
				var api *APIError
				if !errors.As(err, &ae) || !ae.Refreshed || !errors.Is(err, ErrUnauthorized) || !errors.As(err, &api) || api.Status != 401 {
					t.Fatalf("err = %v, want *AuthError after a refresh wrapping the 401", err)
				}
				if !strings.Contains(err.Error(), "ExpiredAuthTicket") {
					t.Errorf("Error() = %q lacks the service message", err.Error())
				}
			} else if err != nil {
				t.Fatalf("GetRaw: %v", err)
			}
			if !slices.Equal(seen, tt.wantTokens) {
				t.Errorf("server saw tokens %q, want %q", seen, tt.wantTokens)
			}
			if got := cred.callCount(); got != tt.wantCalls {
				t.Errorf("GetToken calls = %d, want %d", got, tt.wantCalls)
			}
			if tt.wantHits == 2 && e.rec.count("retry unauthorized") != 1 {
				t.Errorf("events = %q, want one unauthorized retry", e.rec.allEvents())
			}
			if len(e.rec.sleeps()) != 0 {
				t.Errorf("waits = %v, want none for a token refresh", e.rec.sleeps())
			}
		})
	}
}

// TestClaimsChallenge: a 401 with a claims challenge (continuous access
// evaluation) gets a token requested with those claims, which the
// credential cannot answer from its cache; a plain 401 gets no claims.
func TestClaimsChallenge(t *testing.T) {
	t.Parallel()
	const claims = `{"access_token":{"nbf":{"essential":true,"value":"1764237600"}}}`
	tests := []struct {
		name, challenge, wantClaims string
	}{
		{"graph", `Bearer realm="", authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize", client_id="00000003-0000-0000-c000-000000000000", error="insufficient_claims", claims="` + base64.StdEncoding.EncodeToString([]byte(claims)) + `"`, claims},
		{"unpadded", `Bearer error="insufficient_claims", claims="` + base64.RawStdEncoding.EncodeToString([]byte(claims)) + `"`, claims},
		{"no claims", `Bearer realm="", error="invalid_token", error_description="The access token has expired"`, ""},
		{"claims not base64 JSON", `Bearer error="insufficient_claims", claims="not-json"`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cred := &fakeCredential{tokens: []string{"tok-1", "tok-2"}}
			e := setup(t, func(w http.ResponseWriter, r *http.Request) {
				if r.Header.Get("Authorization") == "Bearer tok-1" {
					w.Header().Set("WWW-Authenticate", tt.challenge)
					writeJSON(w, http.StatusUnauthorized, odataErr("", "revoked"))
					return
				}
				writeJSON(w, http.StatusOK, `{}`)
			}, withCredential(cred))
			if _, err := e.client.GetRaw(t.Context(), "WhoAmI"); err != nil {
				t.Fatalf("GetRaw: %v", err)
			}
			if cred.callCount() != 2 || cred.claims[0] != "" || cred.claims[1] != tt.wantClaims {
				t.Errorf("GetToken claims = %q, want \"\" then %q", cred.claims, tt.wantClaims)
			}
			if !cred.cae[0] || !cred.cae[1] {
				t.Errorf("EnableCAE = %v, want every token capable of continuous access evaluation", cred.cae)
			}
		})
	}
}

func TestParseChallenges(t *testing.T) {
	t.Parallel()
	e30 := base64.StdEncoding.EncodeToString([]byte(`{}`))
	tests := []struct {
		name   string
		values []string
		claims string
	}{
		{"bearer with claims", []string{`Bearer realm="", error="insufficient_claims", claims="` + e30 + `"`}, `{}`},
		{"spaces around =", []string{`Bearer error = "insufficient_claims" , claims = "` + e30 + `"`}, `{}`},
		{"after another scheme in one value", []string{`NTLM TlRMTVNTUAACAAAA, Bearer error="insufficient_claims", claims="` + e30 + `"`}, `{}`},
		{"in a second header", []string{`Negotiate`, `Bearer error="insufficient_claims", claims="` + e30 + `"`}, `{}`},
		{"claims without insufficient_claims", []string{`Bearer error="invalid_token", claims="` + e30 + `"`}, ""},
		{"claims inside a quoted description", []string{`Bearer error="insufficient_claims", error_description="claims=\"` + e30 + `\""`}, ""},
		{"another scheme's claims", []string{`PoP error="insufficient_claims", claims="` + e30 + `"`}, ""},
		{"none", nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := claimsChallenge(tt.values); got != tt.claims {
				t.Errorf("claimsChallenge(%q) = %q, want %q", tt.values, got, tt.claims)
			}
		})
	}
}

// TestClaimsChallengeFailures: a token refused again after the challenge is
// an *AuthError after two attempts; a credential that cannot satisfy the
// challenge is an *AuthError naming it; a challenge for a token another
// request has already replaced does not ask the credential again.
func TestClaimsChallengeFailures(t *testing.T) {
	t.Parallel()
	challenge := `Bearer error="insufficient_claims", claims="` + base64.StdEncoding.EncodeToString([]byte(`{"access_token":{}}`)) + `"`
	refuse := func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("WWW-Authenticate", challenge)
		writeJSON(w, http.StatusUnauthorized, odataErr("", "revoked"))
	}

	t.Run("refused again", func(t *testing.T) {
		t.Parallel()
		cred := &fakeCredential{tokens: []string{"tok-1", "tok-2"}}
		e := setup(t, refuse, withCredential(cred))
		_, err := e.client.GetRaw(t.Context(), "WhoAmI")
		var ae *AuthError
		if !errors.As(err, &ae) || !ae.Refreshed || cred.callCount() != 2 {
			t.Fatalf("err = %v after %d GetToken calls, want *AuthError after a refresh and 2 calls", err, cred.callCount())
		}
	})

	t.Run("credential cannot satisfy it", func(t *testing.T) {
		t.Parallel()
		cred := &fakeCredential{tokens: []string{"tok-1"}, err: errors.New("run az login --claims-challenge"), failFrom: 2}
		e := setup(t, refuse, withCredential(cred))
		_, err := e.client.GetRaw(t.Context(), "WhoAmI")
		var ae *AuthError
		if !errors.As(err, &ae) || !strings.Contains(err.Error(), "--claims-challenge") || strings.Contains(err.Error(), "tok-1") {
			t.Fatalf("err = %v, want *AuthError with the credential's message and no token", err)
		}
	})

	t.Run("token already replaced", func(t *testing.T) {
		t.Parallel()
		cred := &fakeCredential{tokens: []string{"tok-1", "tok-2", "tok-3"}}
		tc := &tokenCache{cred: cred, scopes: []string{testScope}, now: time.Now}
		first, _ := tc.get(t.Context())
		second, err := tc.challenge(t.Context(), first, `{}`)
		if err != nil || second == first {
			t.Fatalf("challenge = %q, %v; want a new token", second, err)
		}
		again, err := tc.challenge(t.Context(), first, `{}`)
		if err != nil || again != second || cred.callCount() != 2 {
			t.Fatalf("second challenge for the old token = %q, %v after %d calls; want %q without a call", again, err, cred.callCount(), second)
		}
	})
}

func TestTokenCache(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		ttl       time.Duration
		calls     int
		wantCalls int
	}{
		{name: "token reused until shortly before expiry", ttl: time.Hour, calls: 3, wantCalls: 1},
		{name: "token inside the refresh margin is replaced", ttl: time.Minute, calls: 3, wantCalls: 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cred := &fakeCredential{tokens: []string{"tok"}, ttl: tt.ttl}
			e := setup(t, func(w http.ResponseWriter, _ *http.Request) { writeJSON(w, 200, `{}`) }, withCredential(cred))
			for range tt.calls {
				if _, err := e.client.GetRaw(t.Context(), "WhoAmI"); err != nil {
					t.Fatal(err)
				}
			}
			if got := cred.callCount(); got != tt.wantCalls {
				t.Errorf("GetToken calls = %d, want %d", got, tt.wantCalls)
			}
			cred.mu.Lock()
			defer cred.mu.Unlock()
			for _, s := range cred.scopes {
				if !slices.Equal(s, []string{testScope}) {
					t.Errorf("scopes = %q, want [%s]", s, testScope)
				}
			}
		})
	}

	t.Run("concurrent callers share one fetch", func(t *testing.T) {
		t.Parallel()
		cred := &fakeCredential{tokens: []string{"tok"}}
		e := setup(t, func(w http.ResponseWriter, _ *http.Request) { writeJSON(w, 200, `{}`) }, withCredential(cred))
		var wg sync.WaitGroup
		for range 16 {
			wg.Go(func() {
				if _, err := e.client.GetRaw(t.Context(), "WhoAmI"); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		if got := cred.callCount(); got != 1 {
			t.Errorf("GetToken calls = %d, want 1", got)
		}
	})

	t.Run("RefreshOn earlier than expiry is honoured", func(t *testing.T) {
		t.Parallel()
		now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
		tc := &tokenCache{now: func() time.Time { return now }}
		tc.tok.ExpiresOn = now.Add(time.Hour)
		tc.tok.RefreshOn = now.Add(10 * time.Minute)
		if got := tc.refreshAt(); !got.Equal(now.Add(10 * time.Minute)) {
			t.Errorf("refreshAt = %v, want RefreshOn", got)
		}
	})
}

func TestCredentialFailure(t *testing.T) {
	t.Parallel()
	cred := &fakeCredential{err: errors.New("AADSTS7000215: Invalid client secret provided")}
	hits := &counter{}
	e := setup(t, func(w http.ResponseWriter, _ *http.Request) { hits.inc() }, withCredential(cred))
	_, err := e.client.GetRaw(t.Context(), "WhoAmI")
	var ae *AuthError
	if !errors.As(err, &ae) || ae.Refreshed || !strings.Contains(err.Error(), "AADSTS7000215") || !strings.Contains(err.Error(), testScope) {
		t.Fatalf("err = %v, want *AuthError naming the scope and the credential's message", err)
	}
	if hits.get() != 0 {
		t.Errorf("server hits = %d, want none without a token", hits.get())
	}
}
