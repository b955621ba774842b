package odata

import (
	"net/url"
	"regexp"
	"strings"
)

const redacted = "REDACTED"

// bearerPattern matches an Authorization-style credential; jwtPattern matches
// a JSON Web Token (the form of Entra access tokens) anywhere in a text.
var (
	bearerPattern = regexp.MustCompile(`(?i)\b(bearer|basic)\s+[A-Za-z0-9\-._~+/]+=*`)
	jwtPattern    = regexp.MustCompile(`eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*`)
)

// sensitiveQueryKeys are query parameters whose values are replaced when a URL
// is shown; everything else in the path and query is kept.
var sensitiveQueryKeys = map[string]bool{
	"access_token":          true,
	"client_secret":         true,
	"client_assertion":      true,
	"code":                  true,
	"password":              true,
	"refresh_token":         true,
	"sig":                   true,
	"token":                 true,
	"x-ms-token":            true,
	"authorization":         true,
	"subscription-key":      true,
	"ocp-apim-subscription": true,
}

// redact removes the given secrets and anything shaped like a bearer
// credential or a JWT from s.
func redact(s string, secrets ...string) string {
	for _, secret := range secrets {
		if len(secret) >= 4 {
			s = strings.ReplaceAll(s, secret, redacted)
		}
	}
	s = bearerPattern.ReplaceAllString(s, "$1 "+redacted)
	return jwtPattern.ReplaceAllString(s, redacted)
}

// showURL renders u like redactURL and also removes the client's current
// token, wherever in the URL it appears.
func (c *Client) showURL(u *url.URL) string {
	return redact(redactURL(u), c.tokens.current())
}

// redactURL renders u for errors, responses and logs: scheme, host, path and
// query are kept, userinfo and the fragment are dropped, and the values of
// sensitive query parameters are replaced.
func redactURL(u *url.URL) string {
	if u == nil {
		return ""
	}
	v := *u
	v.User = nil
	v.Fragment = ""
	v.RawFragment = ""
	if v.RawQuery != "" {
		parts := strings.Split(v.RawQuery, "&")
		for i, p := range parts {
			key, _, hasValue := strings.Cut(p, "=")
			if !hasValue {
				continue
			}
			name, err := url.QueryUnescape(key)
			if err != nil {
				name = key
			}
			if sensitiveQueryKeys[strings.ToLower(name)] {
				parts[i] = key + "=" + redacted
			}
		}
		v.RawQuery = strings.Join(parts, "&")
	}
	return redact(v.String())
}
