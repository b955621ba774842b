package auth

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
)

// scripted answers GetToken from a list, then repeats the last answer.
type scripted struct {
	mu      sync.Mutex
	answers []error // nil issues a token
}

func (s *scripted) GetToken(context.Context, policy.TokenRequestOptions) (azcore.AccessToken, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	err := s.answers[0]
	if len(s.answers) > 1 {
		s.answers = s.answers[1:]
	}
	if err != nil {
		return azcore.AccessToken{}, err
	}
	return azcore.AccessToken{Token: "tok"}, nil
}

func TestObserved(t *testing.T) {
	t.Parallel()
	denied, later := errors.New("AzureCLICredential: Azure CLI not found on path"), errors.New("second")
	tests := []struct {
		name    string
		answers []error
		calls   int
		want    error
	}{
		{"never asked", []error{nil}, 0, nil},
		{"issued", []error{nil}, 3, nil},
		{"always failing keeps the first error", []error{denied, later}, 3, denied},
		{"failed then issued", []error{denied, nil}, 2, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			o := Observe(&scripted{answers: tt.answers})
			for range tt.calls {
				_, _ = o.GetToken(t.Context(), policy.TokenRequestOptions{Scopes: []string{"x/.default"}})
			}
			if got := o.Failure(); !errors.Is(got, tt.want) || (got == nil) != (tt.want == nil) {
				t.Errorf("Failure() = %v, want %v", got, tt.want)
			}
			// Released as its tenant's scan ends: what it said is kept, and
			// it issues nothing more.
			o.Release()
			if got := o.Failure(); !errors.Is(got, tt.want) || (got == nil) != (tt.want == nil) {
				t.Errorf("after Release, Failure() = %v, want %v", got, tt.want)
			}
			if _, err := o.GetToken(t.Context(), policy.TokenRequestOptions{Scopes: []string{"x/.default"}}); !errors.Is(err, errReleased) {
				t.Errorf("after Release, GetToken: %v, want errReleased", err)
			}
		})
	}
	t.Run("an ending context is not the credential's fault", func(t *testing.T) {
		t.Parallel()
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		o := Observe(&scripted{answers: []error{context.Canceled}})
		_, _ = o.GetToken(ctx, policy.TokenRequestOptions{})
		if err := o.Failure(); err != nil {
			t.Errorf("Failure() = %v after a cancelled request, want nil", err)
		}
	})
}

func TestSignInReason(t *testing.T) {
	t.Parallel()
	azidentityAnswer := "ClientSecretCredential authentication failed. \n" +
		"POST https://login.microsoftonline.com/3f2b8c1e-6d4a-4b7e-9a15-2c8d0e7f4a61/oauth2/v2.0/token\n" +
		"--------------------------------------------------------------------------------\n" +
		"RESPONSE 401: 401 Unauthorized\n" +
		"--------------------------------------------------------------------------------\n" +
		"{\n  \"error\": \"invalid_client\",\n" +
		"  \"error_description\": \"AADSTS7000215: Invalid client secret provided. Trace ID: 1b0e Correlation ID: 77aa Timestamp: 2026-11-02 09:15:00Z\",\n" +
		"  \"error_codes\": [7000215]\n}\n" +
		"--------------------------------------------------------------------------------\n" +
		"To troubleshoot, visit https://aka.ms/azsdk/go/identity/troubleshoot#client-secret"
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"nil", nil, ""},
		{"azidentity answer", errors.New(azidentityAnswer),
			"ClientSecretCredential authentication failed (HTTP 401 Unauthorized): AADSTS7000215: Invalid client secret provided."},
		{"one line", errors.New("AzureCLICredential: Azure CLI not found on path"), "AzureCLICredential: Azure CLI not found on path"},
		{"lines without a description", errors.New("ManagedIdentityCredential: no response\n-----\nRESPONSE 400: 400 Bad Request\n"),
			"ManagedIdentityCredential: no response (HTTP 400 Bad Request)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := SignInReason(tt.err); got != tt.want {
				t.Errorf("SignInReason = %q\nwant            %q", got, tt.want)
			}
		})
	}
	long := SignInReason(errors.New(strings.Repeat("é", 2000)))
	if len(long) > maxReasonText || !strings.HasSuffix(long, "…") || !strings.HasPrefix(long, "é") {
		t.Errorf("a long reason is %d bytes, %q…; want at most %d, cut on a rune and marked", len(long), long[:10], maxReasonText)
	}
}
