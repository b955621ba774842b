package auth

import (
	"context"
	"encoding/json"
	"errors"
	"regexp"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
)

// Observed is a credential that remembers whether it ever issued a token,
// and the first error it gave, so that a scan can say once that a tenant's
// sign-in failed rather than once per request. It is safe for concurrent use.
type Observed struct {
	cred azcore.TokenCredential

	mu     sync.Mutex
	issued bool
	first  error
}

// Observe wraps cred.
func Observe(cred azcore.TokenCredential) *Observed { return &Observed{cred: cred} }

// GetToken asks the wrapped credential for a token and notes the outcome. An
// error while ctx is ending (an interrupted scan) is not the credential's and
// is not noted.
func (o *Observed) GetToken(ctx context.Context, opts policy.TokenRequestOptions) (azcore.AccessToken, error) {
	o.mu.Lock()
	cred := o.cred
	o.mu.Unlock()
	if cred == nil {
		return azcore.AccessToken{}, errReleased
	}
	tok, err := cred.GetToken(ctx, opts)
	o.mu.Lock()
	defer o.mu.Unlock()
	switch {
	case err == nil && tok.Token != "":
		o.issued = true
	case err != nil && o.first == nil && ctx.Err() == nil:
		o.first = err
	}
	return tok, err
}

// errReleased is what a released credential answers.
var errReleased = errors.New("auth: the credential was released when its tenant's scan ended")

// Release lets the wrapped credential go (its token caches, its per-scope
// clients) once nothing will ask it for a token again, as a tenant's scan
// ends; what Failure reports is kept. Asked again, it answers an error.
func (o *Observed) Release() {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.cred = nil
}

// Failure returns the first error of a credential that never issued a
// token; nil when it issued one, or was never asked.
func (o *Observed) Failure() error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.issued {
		return nil
	}
	return o.first
}

// maxReasonText bounds SignInReason: one line in a report.
const maxReasonText = 600

// errorDescription finds the OAuth error_description in a credential's
// error, which azidentity copies from the token endpoint's JSON answer.
var errorDescription = regexp.MustCompile(`"error_description":\s*("(?:[^"\\]|\\.)*")`)

// SignInReason condenses a credential's error to one bounded line for a
// report: azidentity's answer spans lines (the credential's sentence, the
// token request, a RESPONSE line, the JSON body, a troubleshooting link);
// the reason keeps the sentence, the response status and the Entra error
// description without the trace id, correlation id and timestamp that
// differ on every attempt. An error of another shape keeps its non-empty
// lines, joined.
func SignInReason(err error) string {
	if err == nil {
		return ""
	}
	text := err.Error()
	var lines []string
	response := ""
	for _, l := range strings.Split(text, "\n") {
		l = strings.TrimSpace(l)
		switch {
		case l == "" || strings.Trim(l, "-") == "":
		case strings.HasPrefix(l, "RESPONSE "):
			// "RESPONSE 401: 401 Unauthorized" reads "HTTP 401 Unauthorized".
			response = strings.TrimPrefix(l, "RESPONSE ")
			if code, text, ok := strings.Cut(response, ": "); ok && strings.HasPrefix(text, code) {
				response = "HTTP " + text
			}
		default:
			lines = append(lines, l)
		}
	}
	if m := errorDescription.FindStringSubmatch(text); m != nil && len(lines) > 0 {
		var desc string
		if json.Unmarshal([]byte(m[1]), &desc) == nil {
			if i := strings.Index(desc, " Trace ID:"); i >= 0 {
				desc = desc[:i]
			}
			reason := strings.TrimSuffix(lines[0], ".")
			if response != "" {
				reason += " (" + response + ")"
			}
			return bound(reason + ": " + strings.TrimSpace(desc))
		}
	}
	if response != "" {
		lines = append(lines, "("+response+")")
	}
	return bound(strings.Join(lines, " "))
}

// bound cuts s to maxReasonText bytes on a rune boundary, marking the cut.
func bound(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) <= maxReasonText {
		return s
	}
	cut := maxReasonText - len("…")
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}
