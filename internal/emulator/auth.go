package emulator

import (
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// tokenInfo is what the server remembers about an access token it issued.
// Tokens are ES256-signed JWTs, but the server trusts only this record.
type tokenInfo struct {
	tenant   *tenantState
	clientID string
	audience string // resource origin, e.g. https://graph.microsoft.com
	expires  time.Time
	revoked  bool      // an expire-token fault fired on it
	revokeAt time.Time // when
	cae      bool      // the client declared continuous access evaluation (xms_cc cp1)
	appOnly  bool
	objectID string
	upn      string
	// graphPerms are the Graph permissions of the client, claimed in
	// tokens for Graph (roles when app-only, scp when delegated).
	graphPerms []string
}

func tokenKey(token string) [32]byte { return sha256.Sum256([]byte(token)) }

func bearer(r *http.Request) (string, bool) {
	h := r.Header.Get("Authorization")
	scheme, tok, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(tok) == "" {
		return "", false
	}
	return strings.TrimSpace(tok), true
}

// peekToken returns the record of the request's bearer token, valid or not.
// The caller holds s.mu (for reading, at least).
func (s *Server) peekToken(r *http.Request) *tokenInfo {
	tok, ok := bearer(r)
	if !ok {
		return nil
	}
	s.tokMu.Lock()
	defer s.tokMu.Unlock()
	return s.tokens[tokenKey(tok)]
}

// authFailure says why a bearer token was refused.
type authFailure struct {
	missing, expired bool
	audience         bool // a valid token for another resource
	reason           string
	// claims, for a revoked token of a client capable of continuous access
	// evaluation, is the claims challenge Graph and SharePoint send instead.
	claims string
}

// checkToken validates the bearer token for one of the audiences. The caller
// holds s.mu (for reading, at least).
func (s *Server) checkToken(r *http.Request, audiences ...string) (*tokenInfo, *authFailure) {
	raw, ok := bearer(r)
	if !ok {
		return nil, &authFailure{missing: true, reason: "no bearer token in the Authorization header"}
	}
	s.tokMu.Lock()
	defer s.tokMu.Unlock()
	tok := s.tokens[tokenKey(raw)]
	if tok == nil {
		return nil, &authFailure{reason: "the token was not issued by this emulator"}
	}
	if tok.revoked && tok.cae {
		// A token issued before the revocation no longer satisfies the resource.
		claims := fmt.Sprintf(`{"access_token":{"nbf":{"essential":true,"value":"%d"}}}`, tok.revokeAt.Unix())
		return nil, &authFailure{expired: true, reason: "the access token has expired", claims: claims}
	}
	if tok.revoked || !s.opts.Clock().Before(tok.expires) {
		return nil, &authFailure{expired: true, reason: "the access token has expired"}
	}
	for _, a := range audiences {
		if tok.audience == a {
			return tok, nil
		}
	}
	return nil, &authFailure{audience: true, reason: fmt.Sprintf("the token audience %s is not %s", tok.audience, strings.Join(audiences, " or "))}
}

// normalizeResource turns a scope's resource part into the audience form.
func normalizeResource(res string) string {
	return strings.TrimRight(strings.ToLower(res), "/")
}

// resources lists the audiences a tenant issues tokens for.
func (ts *tenantState) resources() map[string]bool {
	out := map[string]bool{"https://" + ts.cloud.graphHost: true}
	for _, env := range ts.envs {
		for _, h := range env.hosts {
			out["https://"+h] = true
		}
	}
	if ts.spo != nil {
		out["https://"+ts.spo.host] = true
	}
	for _, a := range discoveryAudiences(ts) {
		out[a] = true
	}
	return out
}

// serveLogin is the Entra ID authority: OpenID configuration, token
// endpoint, signing keys and instance discovery.
func (s *Server) serveLogin(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	segs := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	switch {
	case len(segs) == 3 && segs[1] == "discovery" && segs[2] == "instance" && r.Method == http.MethodGet:
		s.instanceDiscovery(w, r, rc)
		return
	case len(segs) < 2:
		s.aadError(w, rc, http.StatusNotFound, "invalid_request", "AADSTS90011", "The emulator does not serve "+r.URL.Path+".")
		return
	}
	if rc.tenant == nil {
		s.aadError(w, rc, http.StatusBadRequest, "invalid_tenant", "AADSTS90002",
			fmt.Sprintf("Tenant '%s' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.", segs[0]))
		return
	}
	rest := strings.Join(segs[1:], "/")
	switch {
	case (rest == "v2.0/.well-known/openid-configuration" || rest == ".well-known/openid-configuration") && r.Method == http.MethodGet:
		s.openIDConfiguration(w, rc)
	case rest == "oauth2/v2.0/token" && r.Method == http.MethodPost:
		s.token(w, r, rc)
	case rest == "discovery/v2.0/keys" && r.Method == http.MethodGet:
		s.keys(w)
	default:
		s.aadError(w, rc, http.StatusNotFound, "invalid_request", "AADSTS90011", "The emulator does not serve "+r.Method+" "+r.URL.Path+".")
	}
}

func (s *Server) openIDConfiguration(w http.ResponseWriter, rc *reqCtx) {
	base := "https://" + rc.host + "/" + rc.tenant.id
	writeJSON(w, http.StatusOK, "application/json; charset=utf-8", obj{
		{"token_endpoint", base + "/oauth2/v2.0/token"},
		{"token_endpoint_auth_methods_supported", []string{"client_secret_post", "private_key_jwt", "client_secret_basic"}},
		{"jwks_uri", base + "/discovery/v2.0/keys"},
		{"response_modes_supported", []string{"query", "fragment", "form_post"}},
		{"subject_types_supported", []string{"pairwise"}},
		{"id_token_signing_alg_values_supported", []string{"ES256"}},
		{"response_types_supported", []string{"code", "id_token", "code id_token", "id_token token"}},
		{"scopes_supported", []string{"openid", "profile", "email", "offline_access"}},
		{"issuer", base + "/v2.0"},
		{"request_uri_parameter_supported", false},
		{"userinfo_endpoint", "https://" + rc.tenant.cloud.graphHost + "/oidc/userinfo"},
		{"authorization_endpoint", base + "/oauth2/v2.0/authorize"},
		{"device_authorization_endpoint", base + "/oauth2/v2.0/devicecode"},
		{"end_session_endpoint", base + "/oauth2/v2.0/logout"},
		{"tenant_region_scope", "NA"},
		{"cloud_instance_name", strings.TrimPrefix(rc.host, "login.")},
		{"msgraph_host", rc.tenant.cloud.graphHost},
	})
}

func (s *Server) instanceDiscovery(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	tenant := "common"
	if ae := r.URL.Query().Get("authorization_endpoint"); ae != "" {
		if parts := strings.Split(ae, "/"); len(parts) > 3 {
			tenant = parts[3]
		}
	}
	writeJSON(w, http.StatusOK, "application/json; charset=utf-8", obj{
		{"tenant_discovery_endpoint", "https://" + rc.host + "/" + tenant + "/v2.0/.well-known/openid-configuration"},
		{"api-version", "1.1"},
		{"metadata", []obj{{
			{"preferred_network", rc.host},
			{"preferred_cache", rc.host},
			{"aliases", []string{rc.host}},
		}}},
	})
}

func (s *Server) keys(w http.ResponseWriter) {
	// The uncompressed point is 0x04 || X || Y, 32 bytes each for P-256.
	point, err := s.signKey.PublicKey.Bytes()
	if err != nil || len(point) != 65 {
		http.Error(w, "signing key unavailable", http.StatusInternalServerError)
		return
	}
	enc := base64.RawURLEncoding.EncodeToString
	writeJSON(w, http.StatusOK, "application/json; charset=utf-8", obj{{"keys", []obj{{
		{"kty", "EC"}, {"use", "sig"}, {"kid", s.keyID}, {"alg", "ES256"}, {"crv", "P-256"},
		{"x", enc(point[1:33])}, {"y", enc(point[33:])},
	}}}})
}

// token serves the client_credentials grant (facts: the token endpoint
// answers token_type, expires_in, ext_expires_in and access_token).
func (s *Server) token(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	r.Body = http.MaxBytesReader(w, r.Body, 1<<20)
	if err := r.ParseForm(); err != nil {
		s.aadError(w, rc, http.StatusBadRequest, "invalid_request", "AADSTS900144", "The request body must be application/x-www-form-urlencoded: "+err.Error())
		return
	}
	form := r.PostForm
	grant := form.Get("grant_type")
	if grant == "" {
		s.aadError(w, rc, http.StatusBadRequest, "invalid_request", "AADSTS900144", "The request body must contain the following parameter: 'grant_type'.")
		return
	}
	if grant != "client_credentials" {
		s.aadError(w, rc, http.StatusBadRequest, "unsupported_grant_type", "AADSTS70003",
			fmt.Sprintf("The app requested an unsupported grant type '%s'. The emulator supports client_credentials only.", grant))
		return
	}
	clientID, secret := form.Get("client_id"), form.Get("client_secret")
	if u, p, ok := r.BasicAuth(); ok {
		clientID, secret = u, p
	}
	if clientID == "" {
		s.aadError(w, rc, http.StatusBadRequest, "invalid_request", "AADSTS900144", "The request body must contain the following parameter: 'client_id'.")
		return
	}
	s.lock(rc)
	defer s.unlock(rc)
	ts := rc.tenant
	want, known := ts.secrets[strings.ToLower(clientID)]
	switch {
	case !known:
		s.aadError(w, rc, http.StatusBadRequest, "unauthorized_client", "AADSTS700016",
			fmt.Sprintf("Application with identifier '%s' was not found in the directory '%s'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant.", clientID, ts.id))
		return
	case form.Get("client_assertion") != "":
		s.aadError(w, rc, http.StatusUnauthorized, "invalid_client", "AADSTS700027",
			"Client assertion is not supported by the emulator; use a client secret.")
		return
	case secret == "":
		s.aadError(w, rc, http.StatusUnauthorized, "invalid_client", "AADSTS7000216",
			"'client_assertion', 'client_secret' or 'request' is required for the 'client_credentials' grant type.")
		return
	case subtle.ConstantTimeCompare([]byte(secret), []byte(want)) != 1:
		s.aadError(w, rc, http.StatusUnauthorized, "invalid_client", "AADSTS7000215",
			fmt.Sprintf("Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '%s'.", clientID))
		return
	}
	var resource string
	for _, sc := range strings.Fields(form.Get("scope")) {
		switch sc {
		case "openid", "profile", "offline_access", "email":
			continue
		}
		res, ok := strings.CutSuffix(sc, "/.default")
		if !ok {
			s.aadError(w, rc, http.StatusBadRequest, "invalid_scope", "AADSTS1002012",
				fmt.Sprintf("The provided value for scope %s is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).", sc))
			return
		}
		if resource != "" {
			s.aadError(w, rc, http.StatusBadRequest, "invalid_scope", "AADSTS70011",
				"The provided request must include at most one resource's /.default scope.")
			return
		}
		resource = normalizeResource(res)
		if resource == graphAppID {
			resource = "https://" + ts.cloud.graphHost
		}
	}
	if resource == "" {
		s.aadError(w, rc, http.StatusBadRequest, "invalid_request", "AADSTS900144", "The request body must contain the following parameter: 'scope'.")
		return
	}
	if !ts.resources()[resource] {
		s.aadError(w, rc, http.StatusBadRequest, "invalid_resource", "AADSTS500011",
			fmt.Sprintf("The resource principal named %s was not found in the tenant named %s. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You might have sent your authentication request to the wrong tenant.", resource, ts.id))
		return
	}
	audience := resource
	if fs := wrongAudienceFault(ts, resource); fs != nil {
		audience = wrongAudience
		rc.entry.addFault(fs.name())
	}
	now := s.opts.Clock()
	info := &tokenInfo{
		tenant:   ts,
		clientID: strings.ToLower(clientID),
		audience: audience,
		expires:  now.Add(ts.tokenLifetime),
		cae:      capableOfCAE(form.Get("claims")),
		appOnly:  ts.sc.Caller.Type == "app",
		objectID: ts.caller.ObjectID,
		upn:      ts.caller.UserPrincipalName,
	}
	if audience == "https://"+ts.cloud.graphHost {
		info.graphPerms = ts.grantedGraph(info.clientID, info.appOnly)
	}
	access, err := s.signToken(info, now)
	if err != nil {
		s.aadError(w, rc, http.StatusInternalServerError, "server_error", "AADSTS90033", "sign token: "+err.Error())
		return
	}
	s.tokMu.Lock()
	s.pruneTokens(now)
	s.tokens[tokenKey(access)] = info
	s.tokMu.Unlock()
	secs := int(ts.tokenLifetime / time.Second)
	w.Header().Set("Cache-Control", "no-store, no-cache")
	w.Header().Set("Pragma", "no-cache")
	writeJSON(w, http.StatusOK, "application/json; charset=utf-8", obj{
		{"token_type", "Bearer"},
		{"expires_in", secs},
		{"ext_expires_in", secs},
		{"access_token", access},
	})
}

// wrongAudience is the audience of a token a wrong-audience fault spoils:
// another resource altogether (the retired Azure AD Graph), which no
// emulated service accepts.
const wrongAudience = "https://graph.windows.net"

// wrongAudienceFault returns the tenant's wrong-audience fault that matches
// the host of resource (an https origin) and fires now, or nil.
func wrongAudienceFault(ts *tenantState, resource string) *faultState {
	host := strings.TrimPrefix(resource, "https://")
	for _, fs := range ts.faults {
		if fs.f.Kind == FaultWrongAudience && fs.matchesHost(host) && fs.take() {
			return fs
		}
	}
	return nil
}

// capableOfCAE reports whether a token request's claims parameter declares
// the client capability cp1 (continuous access evaluation), as MSAL sends it:
// {"access_token":{"xms_cc":{"values":["cp1"]}}}.
func capableOfCAE(claims string) bool {
	var c struct {
		AccessToken struct {
			XMSCC struct {
				Values []string `json:"values"`
			} `json:"xms_cc"`
		} `json:"access_token"`
	}
	if json.Unmarshal([]byte(claims), &c) != nil {
		return false
	}
	return slices.ContainsFunc(c.AccessToken.XMSCC.Values, func(v string) bool { return strings.EqualFold(v, "cp1") })
}

// pruneTokens forgets tokens that expired over an hour ago, so a long-running
// emulator (the demo, serve mode tests) does not grow without bound. The
// caller holds s.tokMu.
func (s *Server) pruneTokens(now time.Time) {
	if len(s.tokens) < 1024 {
		return
	}
	for k, t := range s.tokens {
		if now.Sub(t.expires) > time.Hour {
			delete(s.tokens, k)
		}
	}
}

// signToken makes an ES256 JWT with v1-style Entra claims.
func (s *Server) signToken(t *tokenInfo, now time.Time) (string, error) {
	idtyp := "app"
	if !t.appOnly {
		idtyp = "user"
	}
	claims := obj{
		{"aud", t.audience},
		{"iss", "https://sts.windows.net/" + t.tenant.id + "/"},
		{"iat", now.Unix()},
		{"nbf", now.Unix()},
		{"exp", t.expires.Unix()},
		{"appid", t.clientID},
		{"appidacr", "1"},
		{"idtyp", idtyp},
		{"oid", t.objectID},
		{"sub", t.objectID},
		{"tid", t.tenant.id},
		{"uti", newGUID()},
		{"ver", "1.0"},
	}
	switch {
	case !t.appOnly && t.graphPerms != nil:
		claims = append(claims, kv{"upn", t.upn}, kv{"scp", strings.Join(t.graphPerms, " ")})
	case !t.appOnly:
		claims = append(claims, kv{"upn", t.upn}, kv{"scp", "user_impersonation"})
	case len(t.graphPerms) > 0:
		claims = append(claims, kv{"roles", t.graphPerms})
	}
	header, err := json.Marshal(map[string]string{"alg": "ES256", "typ": "JWT", "kid": s.keyID})
	if err != nil {
		return "", err
	}
	payload, err := marshal(claims)
	if err != nil {
		return "", err
	}
	signing := base64.RawURLEncoding.EncodeToString(header) + "." + base64.RawURLEncoding.EncodeToString(payload)
	digest := sha256.Sum256([]byte(signing))
	rr, ss, err := ecdsa.Sign(rand.Reader, s.signKey, digest[:])
	if err != nil {
		return "", err
	}
	sig := make([]byte, 64)
	rr.FillBytes(sig[:32])
	ss.FillBytes(sig[32:])
	return signing + "." + base64.RawURLEncoding.EncodeToString(sig), nil
}

// Graph permissions a client holds when its scenario names none: enough
// for every read of a scan, as an application (roles) or as a person
// (scp). They are the emulator's own lists, written from the facts, not
// taken from teamslink's permissions table, so that a test comparing the
// two can disagree.
var (
	defaultAppGraph       = []string{"Organization.Read.All", "Application.Read.All", "Directory.Read.All", "RoleManagement.Read.Directory", "Sites.Read.All"}
	defaultDelegatedGraph = []string{"Organization.Read.All", "Application.Read.All", "User.Read", "Directory.Read.All", "RoleManagement.Read.Directory", "Sites.Read.All"}
)

// grantedGraph returns the Graph permissions of a client: those its
// scenario grants, else the defaults for an application or a person.
func (ts *tenantState) grantedGraph(clientID string, appOnly bool) []string {
	if p, ok := ts.graphPerms[clientID]; ok {
		return p
	}
	if appOnly {
		return slices.Clone(defaultAppGraph)
	}
	return slices.Clone(defaultDelegatedGraph)
}

// aadError writes an Entra-style OAuth error.
func (s *Server) aadError(w http.ResponseWriter, rc *reqCtx, status int, code, aadsts, msg string) {
	trace, corr := newGUID(), newGUID()
	ts := s.opts.Clock().UTC().Format("2006-01-02 15:04:05Z")
	n, _ := strconv.Atoi(strings.TrimPrefix(aadsts, "AADSTS"))
	writeJSON(w, status, "application/json; charset=utf-8", obj{
		{"error", code},
		{"error_description", aadsts + ": " + msg + " Trace ID: " + trace + " Correlation ID: " + corr + " Timestamp: " + ts},
		{"error_codes", []int{n}},
		{"timestamp", ts},
		{"trace_id", trace},
		{"correlation_id", corr},
		{"error_uri", "https://" + rc.host + "/error?code=" + strconv.Itoa(n)},
	})
}

// authenticate checks the request's token for the service and writes the
// service's 401 when it fails. The caller holds s.mu (via lock).
func (s *Server) authenticate(w http.ResponseWriter, r *http.Request, rc *reqCtx, audiences ...string) bool {
	tok, fail := s.checkToken(r, audiences...)
	if fail == nil && rc.svc == svcDataverse && tok.tenant != rc.env.tenant {
		fail = &authFailure{reason: "the token was issued by another tenant"}
	}
	if fail == nil {
		rc.tok = tok
		return true
	}
	challengeErr := ""
	caeChallenge := fail.claims != "" && rc.svc != svcDataverse
	switch {
	case caeChallenge:
		challengeErr = fmt.Sprintf(`, error="insufficient_claims", claims="%s"`, base64.StdEncoding.EncodeToString([]byte(fail.claims)))
	case !fail.missing:
		desc := "The access token is invalid"
		switch {
		case fail.expired:
			desc = "The access token has expired"
		case fail.audience:
			desc = "The token audience is invalid"
		}
		challengeErr = fmt.Sprintf(`, error="invalid_token", error_description="%s"`, desc)
	}
	loginHost := "login.microsoftonline.com"
	tenant := "common"
	if rc.tenant != nil {
		loginHost, tenant = rc.tenant.cloud.loginHost, rc.tenant.id
	}
	switch rc.svc {
	case svcDataverse:
		w.Header().Set("WWW-Authenticate", fmt.Sprintf("Bearer authorization_uri=https://%s/%s/oauth2/authorize, resource_id=%s/%s", loginHost, tenant, rc.env.url, challengeErr))
		dvError(w, http.StatusUnauthorized, codeAuth, "Authentication failed: "+fail.reason+".")
	case svcGraph:
		w.Header().Set("WWW-Authenticate", fmt.Sprintf(`Bearer realm="", authorization_uri="https://%s/common/oauth2/authorize", client_id="%s"%s`, loginHost, graphAppID, challengeErr))
		msg := "Access token validation failure: " + fail.reason + "."
		switch {
		case caeChallenge:
			msg = "Continuous access evaluation resulted in challenge with result: InteractionRequired and code: TokenIssuedBeforeRevocationTimestamp"
		case fail.missing:
			msg = "Access token is empty."
		case fail.expired:
			msg = "Lifetime validation failed, the token is expired."
		case fail.audience:
			msg = "Access token validation failure. Invalid audience."
		}
		s.graphError(w, rc, http.StatusUnauthorized, "InvalidAuthenticationToken", msg)
	case svcBAP:
		w.Header().Set("WWW-Authenticate", fmt.Sprintf(`Bearer authorization_uri="https://%s/common/oauth2/authorize"%s`, loginHost, challengeErr))
		bapError(w, http.StatusUnauthorized, "InvalidAuthenticationToken", "Authentication failed: "+fail.reason+".")
	case svcGDS:
		w.Header().Set("WWW-Authenticate", fmt.Sprintf("Bearer authorization_uri=https://%s/%s/oauth2/authorize, resource_id=https://%s/%s", loginHost, tenant, rc.host, challengeErr))
		dvError(w, http.StatusUnauthorized, codeAuth, "Authentication failed: "+fail.reason+".")
	case svcSharePoint:
		w.Header().Set("WWW-Authenticate", fmt.Sprintf(`Bearer realm="%s",client_id="00000003-0000-0ff1-ce00-000000000000",authorization_uri="https://%s/common/oauth2/authorize"%s`, tenant, loginHost, challengeErr))
		spoError(w, rc.spoVerbose, http.StatusUnauthorized, "-2147024891, System.UnauthorizedAccessException", "Access denied: "+fail.reason+".")
	}
	return false
}
