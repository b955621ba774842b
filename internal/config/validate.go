package config

import (
	"fmt"
	"net"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/teamslink/teamslink/internal/cloud"
	"github.com/teamslink/teamslink/internal/finding"
)

var (
	guidPattern    = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)
	envVarPattern  = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	logicalPattern = regexp.MustCompile(`^[a-z_][a-z0-9_]*$`)
	// entraSecretPattern is the form of the client secrets Entra ID has
	// generated since 2021: three characters, a digit, "Q~", then 31 to 34
	// more.
	entraSecretPattern = regexp.MustCompile(`(^|[^A-Za-z0-9_~.-])[A-Za-z0-9_~.-]{3}[0-9]Q~[A-Za-z0-9_~.-]{31,34}($|[^A-Za-z0-9_~.-])`)
)

// validator collects problems with their lines.
type validator struct {
	src  *source
	errs Errors
}

func (v *validator) add(path, format string, args ...any) {
	e := &Error{Path: path, Message: fmt.Sprintf(format, args...)}
	if v.src != nil {
		e.File = v.src.name
		e.Line = v.src.line(path)
	}
	v.errs = append(v.errs, e)
}

// Validate checks the config after defaults are applied and returns every
// problem as Errors (nil when there is none), in file order when the config
// was read from a file. It reads no files and no
// environment: file names and variable names are checked for form only;
// internal/auth reports a missing file or variable when it builds the
// credential.
func (c *Config) Validate() error {
	v := &validator{src: c.src}
	v.defaults(c.Defaults)
	if len(v.errs) > 0 {
		// Tenants inherit these values; report them once, here.
		return v.errs
	}
	if len(c.Tenants) == 0 {
		v.add("tenants", "at least one tenant is required")
	}
	tenantIDs := map[string]string{}
	envURLs := map[string]string{}
	for i, t := range c.Tenants {
		p := fmt.Sprintf("tenants[%d]", i)
		v.tenant(p, t)
		if id := strings.ToLower(t.ID); id != "" {
			if first, dup := tenantIDs[id]; dup {
				v.add(p+".id", "duplicates %s.id", first)
			} else {
				tenantIDs[id] = p
			}
		}
		for j, e := range t.Environments {
			ep := fmt.Sprintf("%s.environments[%d]", p, j)
			key := envKey(e.URL)
			if key == "" {
				continue
			}
			if first, dup := envURLs[key]; dup {
				v.add(ep+".url", "duplicates %s.url", first)
			} else {
				envURLs[key] = ep
			}
		}
	}
	if len(v.errs) == 0 {
		// Waivers name tenants and environments: check them against a
		// valid list.
		v.waivers(c)
	}
	if len(v.errs) == 0 {
		return nil
	}
	if v.src != nil {
		// Checks run key by key and tenant by tenant; report in file order.
		slices.SortStableFunc(v.errs, func(a, b *Error) int { return a.Line - b.Line })
	}
	return v.errs
}

func (v *validator) defaults(d Defaults) {
	if d.Cloud != "" {
		if _, err := cloud.For(d.Cloud); err != nil {
			v.add("defaults.cloud", "%v", err)
		}
	}
	if d.Experience != "" {
		v.experience("defaults.experience", d.Experience)
	}
	if d.Profile != "" {
		v.profile("defaults.profile", d.Profile)
	}
	v.tables("defaults.tables", d.Tables)
}

func (v *validator) tenant(p string, t Tenant) {
	switch {
	case t.ID == "":
		v.add(p+".id", "required: the tenant id (a GUID)")
	case !guidPattern.MatchString(t.ID):
		v.add(p+".id", "must be the tenant id, a GUID (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx); domain names are not accepted")
	}
	c, err := cloud.For(t.Cloud)
	cloudOK := err == nil
	switch {
	case t.Cloud == "":
		v.add(p+".cloud", "required (valid: %s)", cloud.NameList())
	case !cloudOK:
		v.add(p+".cloud", "%v", err)
	}
	v.auth(p+".auth", t.Auth)
	v.endpoints(p+".endpoints", t.Endpoints)
	override := t.Endpoints.Overridden()
	if t.SharePointAdminURL != "" {
		if u, ok := v.rootURL(p+".sharePointAdminUrl", t.SharePointAdminURL); ok && cloudOK && !override &&
			!c.KnownSharePointAdminHost(u.Hostname()) {
			v.add(p+".sharePointAdminUrl", "must be the SharePoint admin site, https://<tenant>%s (for another host, an emulator, set endpoints.connectTo)", c.SharePointAdminSuffix)
		}
	}
	if len(t.Environments) == 0 && t.Discover == nil {
		v.add(p+".environments", "at least one environment is required, or discover: to list them")
	}
	v.discover(p, t, c, cloudOK)
	for j, e := range t.Environments {
		v.environment(fmt.Sprintf("%s.environments[%d]", p, j), e, c, cloudOK, override)
	}
}

// authFields says which auth keys are set, for "not used by" messages.
func authFields(a Auth) map[string]bool {
	return map[string]bool{
		"clientId":                a.ClientID != "",
		"secretEnv":               a.SecretEnv != "",
		"secretFile":              a.SecretFile != "",
		"certificateFile":         a.CertificateFile != "",
		"certificatePasswordEnv":  a.CertificatePasswordEnv != "",
		"tokenFile":               a.TokenFile != "",
		"managedIdentityClientId": a.ManagedIdentityClientID != "",
	}
}

// authAllowed lists, per method, the auth keys it reads.
var authAllowed = map[Method][]string{
	MethodClientSecret:      {"clientId", "secretEnv", "secretFile"},
	MethodClientCertificate: {"clientId", "certificateFile", "certificatePasswordEnv"},
	MethodWorkloadIdentity:  {"clientId", "tokenFile"},
	MethodManagedIdentity:   {"managedIdentityClientId"},
	MethodAzureCLI:          {},
	MethodDeviceCode:        {"clientId"},
}

// authKeyOrder is the order the "not used" check reports keys in.
var authKeyOrder = []string{"clientId", "secretEnv", "secretFile", "certificateFile", "certificatePasswordEnv", "tokenFile", "managedIdentityClientId"}

func (v *validator) auth(p string, a Auth) {
	allowed, known := authAllowed[a.Method]
	switch {
	case a.Method == "":
		v.add(p+".method", "required (one of: %s)", methodList())
		return
	case !known:
		v.add(p+".method", "unknown method %q (valid: %s)", a.Method, methodList())
		return
	}
	set := authFields(a)
	for _, k := range authKeyOrder {
		if set[k] && !slices.Contains(allowed, k) {
			hint := ""
			if a.Method == MethodManagedIdentity && k == "clientId" {
				hint = "; a user-assigned identity goes in managedIdentityClientId"
			}
			v.add(p+"."+k, "not used by method %s%s", a.Method, hint)
		}
	}
	needClientID := a.Method == MethodClientSecret || a.Method == MethodClientCertificate || a.Method == MethodWorkloadIdentity
	switch {
	case a.ClientID == "" && needClientID:
		v.add(p+".clientId", "required by method %s: the application (client) id", a.Method)
	case a.ClientID != "" && slices.Contains(allowed, "clientId") && !guidPattern.MatchString(a.ClientID):
		v.add(p+".clientId", "must be the application (client) id, a GUID")
	}
	switch a.Method {
	case MethodClientSecret:
		switch {
		case a.SecretEnv == "" && a.SecretFile == "":
			v.add(p, "method client-secret needs secretEnv (an environment variable name) or secretFile (a file name)")
		case a.SecretEnv != "" && a.SecretFile != "":
			v.add(p+".secretFile", "set secretEnv or secretFile, not both")
		}
		v.envName(p+".secretEnv", a.SecretEnv)
		v.secretFileName(p+".secretFile", a.SecretFile)
	case MethodClientCertificate:
		if a.CertificateFile == "" {
			v.add(p+".certificateFile", "required by method client-certificate: a PEM or PKCS#12 file with the certificate and its private key")
		}
		v.envName(p+".certificatePasswordEnv", a.CertificatePasswordEnv)
	case MethodManagedIdentity:
		if a.ManagedIdentityClientID != "" && !guidPattern.MatchString(a.ManagedIdentityClientID) {
			v.add(p+".managedIdentityClientId", "must be the client id of a user-assigned managed identity, a GUID")
		}
	}
}

// envName checks that name is an environment variable name. The value is
// not repeated: a secret pasted here must not end up in a log.
func (v *validator) envName(p, name string) {
	if name != "" && !envVarPattern.MatchString(name) {
		v.add(p, "must be the name of an environment variable (letters, digits and _), not the secret itself")
	}
}

// secretFileName checks that name reads as the name of a file rather than
// a client secret pasted in its place, and says why not without repeating
// the value.
func (v *validator) secretFileName(p, name string) {
	if why := secretShape(name); why != "" {
		v.add(p, "must be the name of a file holding the client secret, not the secret itself: %s", why)
	}
}

// secretShape says what makes s look like a secret rather than a file
// name, or "" when nothing does. A file name may hold almost anything, so
// only what secrets have and the names of secret files have not counts:
// the form of an Entra client secret; a control character; a ~ inside a
// name (Entra client secrets have "Q~"), unless it is the ~1 of a Windows
// short name; one of the characters Windows forbids in names and
// generated secrets use; a trailing = of base64 padding.
func secretShape(s string) string {
	switch {
	case s == "":
		return ""
	case entraSecretPattern.MatchString(s):
		return "it has the form of an Entra client secret"
	case strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f }):
		return "it has a control character"
	case innerTilde(s):
		return "it has a ~ inside a name, as Entra client secrets do"
	case strings.ContainsAny(s, `"*<>?|`):
		return `it has a character no file name needs (" * < > ? |)`
	case strings.HasSuffix(s, "="):
		return "it ends in =, as base64 does"
	}
	return ""
}

// innerTilde reports a ~ after the first character that is not the ~N of
// a Windows short name (PROGRA~1), which ends the name or the path.
func innerTilde(s string) bool {
	for i := 1; i < len(s); i++ {
		if s[i] != '~' {
			continue
		}
		j := i + 1
		for j < len(s) && s[j] >= '0' && s[j] <= '9' {
			j++
		}
		if j == i+1 || (j < len(s) && !strings.ContainsRune(`./\`, rune(s[j]))) {
			return true
		}
	}
	return false
}

func (v *validator) endpoints(p string, e Endpoints) {
	if e.ConnectTo != "" {
		host, port, err := net.SplitHostPort(e.ConnectTo)
		n, perr := strconv.Atoi(port)
		if err != nil || host == "" || perr != nil || n < 1 || n > 65535 {
			v.add(p+".connectTo", "must be host:port, e.g. 127.0.0.1:8443")
		}
	}
	if e.AuthorityHost != "" {
		v.rootURL(p+".authorityHost", e.AuthorityHost)
	}
	if e.Graph != "" {
		v.rootURL(p+".graph", e.Graph)
	}
	if d := e.RequestTimeout; d != 0 && (d < MinRequestTimeout || d > MaxRequestTimeout) {
		v.add(p+".requestTimeout", "must be between %v and %v, not %v", MinRequestTimeout, MaxRequestTimeout, d)
	}
	v.discoveryEndpoints(p, e)
}

// The bounds of endpoints.requestTimeout.
const (
	MinRequestTimeout = 100 * time.Millisecond
	MaxRequestTimeout = 10 * time.Minute
)

// rootURL checks an https URL with a host and no path, query, fragment or
// user info, and returns it.
func (v *validator) rootURL(p, raw string) (*url.URL, bool) {
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		v.add(p, "not a URL: %v", err)
	case u.Scheme != "https":
		v.add(p, "must be https")
	case u.Host == "" || u.Hostname() == "":
		v.add(p, "must name a host: https://<host>")
	case u.User != nil:
		v.add(p, "must not carry user info")
	case u.Path != "" && u.Path != "/":
		v.add(p, "must be the root URL, with no path (found %q)", u.Path)
	case u.RawQuery != "" || u.ForceQuery:
		v.add(p, "must not have a query")
	case u.Fragment != "":
		v.add(p, "must not have a fragment")
	default:
		return u, true
	}
	return nil, false
}

func (v *validator) environment(p string, e Environment, c cloud.Cloud, cloudOK, override bool) {
	if e.URL == "" {
		v.add(p+".url", "required: the environment URL, e.g. https://contoso.crm.dynamics.com")
	} else if u, ok := v.rootURL(p+".url", e.URL); ok && cloudOK && !override {
		v.dataverseHost(p+".url", u, c)
	}
	v.experience(p+".experience", e.Experience)
	v.profile(p+".profile", e.Profile)
	v.tables(p+".tables", e.Tables)
}

func (v *validator) dataverseHost(p string, u *url.URL, c cloud.Cloud) {
	host := u.Hostname()
	if !c.KnownDataverseHost(host) {
		if other, ok := cloud.ForHost(host); ok && other.Name != c.Name {
			v.add(p, "host %s belongs to cloud %s, but the tenant's cloud is %s (set cloud: %s)", host, other.Name, c.Name, other.Name)
			return
		}
		v.add(p, "host %s is not a Dynamics 365 host of cloud %s (%s); for another host, an emulator, set endpoints.connectTo", host, c.Name, c.DataverseHostForms())
		return
	}
	if port := u.Port(); port != "" && port != "443" {
		v.add(p, "must not name port %s: Dynamics 365 listens on 443 (for an emulator, set endpoints.connectTo)", port)
	}
}

func (v *validator) experience(p string, x finding.Experience) {
	switch x {
	case "", finding.ExperienceBasic, finding.ExperienceEnhanced:
	default:
		v.add(p, "unknown experience %q (valid: basic, enhanced)", x)
	}
}

func (v *validator) profile(p string, x Profile) {
	if x != "" && !slices.Contains(Profiles, x) {
		v.add(p, "unknown profile %q (valid: %s, %s)", x, ProfilePreflight, ProfileEnabled)
	}
}

func (v *validator) tables(p string, tables []string) {
	seen := map[string]bool{}
	for i, t := range tables {
		tp := fmt.Sprintf("%s[%d]", p, i)
		switch {
		case !logicalPattern.MatchString(t):
			v.add(tp, "%q is not a table logical name (lower case letters, digits and _, e.g. account, new_project)", t)
		case seen[t]:
			v.add(tp, "%s is listed twice", t)
		}
		seen[t] = true
	}
}

// envKey is the form two environment URLs are compared in: lower case,
// the Web API host folded onto the environment host, port 443 dropped.
func envKey(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return ""
	}
	host := strings.ToLower(u.Hostname())
	if _, known := cloud.ForHost(host); known {
		// <org>.api.<zone> is the same environment as <org>.<zone>.
		if org, rest, ok := strings.Cut(host, "."); ok {
			host = org + "." + strings.TrimPrefix(rest, "api.")
		}
	}
	if port := u.Port(); port != "" && port != "443" {
		host += ":" + port
	}
	return host
}

func methodList() string {
	s := make([]string, len(Methods))
	for i, m := range Methods {
		s[i] = string(m)
	}
	return strings.Join(s, ", ")
}
