// Package config reads tenants.yaml: the tenants teamslink scans, how it
// authenticates to each, the endpoints it uses and the Dataverse
// environments to assess. Decoding is strict (an unknown key is an error),
// defaults are applied next, and Validate then reports every problem with
// the key path and the line it is on, for example
//
//	tenants.yaml:14: tenants[0].environments[1].url: must be https
//
// A tenant may also ask for its environments to be discovered (discover:
// source, types, states, include, exclude) instead of, or beside, listing
// them; see Discover.
//
// The file never holds a secret value, only where to find one: the name of
// an environment variable or the path of a file.
//
// Top-level keys reserved for later versions — schedule and fleet — are
// rejected today with "not supported yet", so a file written
// for a newer teamslink fails loudly instead of being half-read.
package config

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/parser"

	"github.com/teamslink/teamslink/internal/cloud"
	"github.com/teamslink/teamslink/internal/finding"
	"github.com/teamslink/teamslink/internal/yamlguard"
)

// limits bound what decoding a tenants.yaml may cost (docs/configuration.md
// names them): 1 MiB, collections nested 32 deep, 500 keys in a mapping,
// 16 documents, 250 000 nodes and 1 MiB of text with aliases expanded, no
// tags, 10 seconds. A fleet of thousands of tenants fits in far less.
var limits = yamlguard.Default

// Config is a whole tenants.yaml.
type Config struct {
	// Defaults fill what a tenant or environment leaves out.
	Defaults Defaults `yaml:"defaults"`
	// Tenants are scanned in order.
	Tenants []Tenant `yaml:"tenants"`
	// Waivers accept findings until a date; see Waiver.
	Waivers []Waiver `yaml:"waivers"`

	src *source // where the config came from; nil when built in code
}

// Defaults are values inherited by every tenant and environment that does
// not set its own.
type Defaults struct {
	// Cloud of tenants that name none; "public" when empty.
	Cloud cloud.Name `yaml:"cloud"`
	// Experience of environments that name none; empty lets the command
	// line decide.
	Experience finding.Experience `yaml:"experience"`
	// Profile of environments that name none; "preflight" when empty.
	Profile Profile `yaml:"profile"`
	// Tables are the target tables of environments that list none.
	Tables []string `yaml:"tables"`
}

// Tenant is one Microsoft Entra tenant and its Dataverse environments.
type Tenant struct {
	// ID is the tenant id, a GUID. Verified domain names (contoso.com) are
	// not accepted: the GUID is what Graph and snapshots report, so it is
	// the only spelling that compares reliably.
	ID string `yaml:"id"`
	// Name is a label for reports; optional.
	Name string `yaml:"name"`
	// Cloud is one of public, gcc, gcchigh, dod, china.
	Cloud     cloud.Name `yaml:"cloud"`
	Auth      Auth       `yaml:"auth"`
	Endpoints Endpoints  `yaml:"endpoints"`
	// SharePointAdminURL is the SharePoint Online admin site,
	// https://<tenant>-admin.sharepoint.com in the public cloud; optional.
	// Without it the tenant's SharePoint setting cannot be read.
	SharePointAdminURL string        `yaml:"sharePointAdminUrl"`
	Environments       []Environment `yaml:"environments"`
	// Discover, when set, lists the tenant's environments through a
	// discovery service and scans those it matches, beside any listed
	// under Environments (a listed one keeps its own settings).
	Discover *Discover `yaml:"discover"`
}

// Method is how teamslink obtains tokens for a tenant.
type Method string

// The authentication methods, each backed by an azidentity credential.
const (
	MethodClientSecret      Method = "client-secret"      // app registration + secret (env var or file)
	MethodClientCertificate Method = "client-certificate" // app registration + certificate file
	MethodWorkloadIdentity  Method = "workload-identity"  // federated token file (Kubernetes, CI)
	MethodManagedIdentity   Method = "managed-identity"   // Azure managed identity of the host
	MethodAzureCLI          Method = "azure-cli"          // the account `az login` signed in
	MethodDeviceCode        Method = "device-code"        // a person signs in with a code
)

// Methods lists the authentication methods in the order docs show them.
var Methods = []Method{
	MethodClientSecret, MethodClientCertificate, MethodWorkloadIdentity,
	MethodManagedIdentity, MethodAzureCLI, MethodDeviceCode,
}

// Auth says how to authenticate to a tenant. Only references to secrets
// appear here: SecretEnv and CertificatePasswordEnv name environment
// variables, SecretFile, CertificateFile and TokenFile name files.
type Auth struct {
	Method Method `yaml:"method"`
	// ClientID is the application (client) id of the app registration.
	ClientID string `yaml:"clientId"`
	// SecretEnv names the environment variable holding the client secret.
	SecretEnv string `yaml:"secretEnv"`
	// SecretFile is a file holding the client secret (surrounding white
	// space is trimmed).
	SecretFile string `yaml:"secretFile"`
	// CertificateFile holds the certificate and its private key, PEM or PKCS#12.
	CertificateFile string `yaml:"certificateFile"`
	// CertificatePasswordEnv names the environment variable holding the
	// PKCS#12 password, if any.
	CertificatePasswordEnv string `yaml:"certificatePasswordEnv"`
	// TokenFile is the federated token file of workload identity; when empty
	// the AZURE_FEDERATED_TOKEN_FILE environment variable names it.
	TokenFile string `yaml:"tokenFile"`
	// ManagedIdentityClientID selects a user-assigned managed identity;
	// empty means the system-assigned one.
	ManagedIdentityClientID string `yaml:"managedIdentityClientId"`
}

// Endpoints override where a tenant's HTTPS traffic goes: for the local
// emulator, a proxy-less test rig, or a cloud the built-in table lacks.
type Endpoints struct {
	// ConnectTo is a host:port that every HTTPS connection of this tenant to
	// port 443 dials instead of the real host, like curl --connect-to. TLS
	// still verifies the real host name.
	ConnectTo string `yaml:"connectTo"`
	// CAFile is a PEM file of extra root certificates, added to the system pool.
	CAFile string `yaml:"caFile"`
	// AuthorityHost replaces the cloud's Entra ID login endpoint.
	AuthorityHost string `yaml:"authorityHost"`
	// Graph replaces the cloud's Microsoft Graph root.
	Graph string `yaml:"graph"`
	// RequestTimeout is the deadline of each attempt of a Dataverse, Graph
	// or SharePoint request, reading the body included (a Go duration such
	// as 45s); 0 keeps the client's default of 30s. Token requests are not
	// bound by it.
	RequestTimeout time.Duration `yaml:"requestTimeout"`
	// BAP replaces the cloud's Power Platform admin API root, which is
	// NOT CONFIRMED for every cloud but public; BAPScope its token scope.
	BAP      string `yaml:"bap"`
	BAPScope string `yaml:"bapScope"`
	// GlobalDiscovery replaces the cloud's Global Discovery Service root.
	GlobalDiscovery string `yaml:"globalDiscovery"`
}

// Overridden reports whether the tenant's traffic is pointed somewhere other
// than the cloud's own endpoints. Then any https environment host is
// accepted, and azidentity's instance discovery is turned off.
func (e Endpoints) Overridden() bool {
	return e.ConnectTo != "" || e.AuthorityHost != "" || e.Graph != ""
}

// Profile says what an environment is expected to look like.
type Profile string

// The profiles. The policies read them: under preflight the "collaboration
// enabled" rules (TL-ENV-001/002) are informational, under enabled they are
// required.
const (
	// ProfilePreflight: the experience is about to be enabled; check that
	// it can be.
	ProfilePreflight Profile = "preflight"
	// ProfileEnabled: the experience is expected to be on already and to stay
	// working; check that it is.
	ProfileEnabled Profile = "enabled"
)

// Profiles lists the valid profiles.
var Profiles = []Profile{ProfilePreflight, ProfileEnabled}

// Environment is one Dataverse environment of a tenant.
type Environment struct {
	// URL is the environment's root, https://<org>.crm[N].dynamics.com.
	URL string `yaml:"url"`
	// Name is a label for reports; optional.
	Name string `yaml:"name"`
	// Tables are the logical names of the tables to pin in Teams.
	Tables []string `yaml:"tables"`
	// Experience is basic or enhanced; empty lets the command line decide.
	Experience finding.Experience `yaml:"experience"`
	// SharePointIntegrationConfigured replaces the derived answer to "is
	// server-based SharePoint integration configured?", which no documented
	// column states; nil keeps the derivation.
	SharePointIntegrationConfigured *bool `yaml:"sharePointIntegrationConfigured"`
	// Profile is preflight or enabled.
	Profile Profile `yaml:"profile"`
}

// AuthorityHost is the Entra ID login endpoint the tenant uses: the
// override, or its cloud's. It is "" only for an unknown cloud.
func (t Tenant) AuthorityHost() string {
	if t.Endpoints.AuthorityHost != "" {
		return t.Endpoints.AuthorityHost
	}
	c, err := cloud.For(t.Cloud)
	if err != nil {
		return ""
	}
	return c.AuthorityHost
}

// GraphURL is the Microsoft Graph root the tenant uses, without a trailing
// slash: the override, or its cloud's. It is "" only for an unknown cloud.
func (t Tenant) GraphURL() string {
	if t.Endpoints.Graph != "" {
		return strings.TrimSuffix(t.Endpoints.Graph, "/")
	}
	c, err := cloud.For(t.Cloud)
	if err != nil {
		return ""
	}
	return c.GraphURL
}

// Load is LoadContext without a context.
func Load(path string) (*Config, error) {
	return LoadContext(context.Background(), path)
}

// LoadContext reads, decodes and validates the config file at path.
// Relative file names in it (secretFile, certificateFile, tokenFile,
// caFile) are taken relative to the directory of path. It returns early,
// with an error that wraps ctx.Err(), when ctx is done.
func LoadContext(ctx context.Context, path string) (*Config, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	defer f.Close()
	// One byte past the limit is enough for ParseContext to refuse it.
	data, err := io.ReadAll(io.LimitReader(f, int64(limits.MaxBytes)+1))
	if err != nil {
		return nil, fmt.Errorf("read config %s: %w", path, err)
	}
	c, err := ParseContext(ctx, data, path)
	if err != nil {
		return nil, err
	}
	c.resolvePaths(filepath.Dir(path))
	return c, nil
}

// Parse is ParseContext without a context.
func Parse(data []byte, name string) (*Config, error) {
	return ParseContext(context.Background(), data, name)
}

// ParseContext decodes and validates a config document; name is used in
// messages. Relative file names are left as they are (relative to the
// working directory). A decode problem is returned as *Error, validation
// problems as Errors. A document past the limits above, or one go-yaml
// fails on, is refused as *Error before anything is decoded; when ctx is
// done first, the error wraps ctx.Err().
func ParseContext(ctx context.Context, data []byte, name string) (*Config, error) {
	var c *Config
	err := limits.Decode(ctx, data, func() error {
		var err error
		c, err = parse(data, name)
		return err
	})
	var ge *yamlguard.Error
	switch {
	case errors.As(err, &ge):
		return nil, &Error{File: name, Line: ge.Line, Message: ge.Message, Err: ge}
	case ctx.Err() != nil && errors.Is(err, ctx.Err()):
		return nil, fmt.Errorf("decode %s: %w", name, err)
	case err != nil:
		return nil, err
	}
	return c, nil
}

// parse is ParseContext once the document is known to be safe to decode.
func parse(data []byte, name string) (*Config, error) {
	file, err := parser.ParseBytes(data, 0)
	if err != nil {
		return nil, decodeError(name, nil, err)
	}
	src := newSource(name, file)
	if len(file.Docs) > 1 {
		return nil, &Error{File: name, Line: src.docLine(1), Message: "more than one YAML document; tenants.yaml holds exactly one"}
	}
	if len(file.Docs) == 0 || file.Docs[0].Body == nil {
		return nil, &Error{File: name, Message: "empty config: expected a tenants list"}
	}
	var c Config
	dec := yaml.NewDecoder(bytes.NewReader(data), yaml.Strict())
	if err := dec.Decode(&c); err != nil {
		return nil, decodeError(name, src, err)
	}
	c.src = src
	c.ApplyDefaults()
	if err := c.Validate(); err != nil {
		return nil, err
	}
	src.settle()
	return &c, nil
}

// ApplyDefaults fills what tenants and environments leave out from
// Defaults and the built-in defaults (cloud public, profile preflight), and
// drops a trailing slash from URLs. It is idempotent; Parse calls it before
// Validate.
func (c *Config) ApplyDefaults() {
	for i := range c.Tenants {
		t := &c.Tenants[i]
		if t.Cloud == "" {
			t.Cloud = c.Defaults.Cloud
		}
		if t.Cloud == "" {
			t.Cloud = cloud.Public
		}
		t.SharePointAdminURL = strings.TrimSuffix(t.SharePointAdminURL, "/")
		t.Endpoints.Graph = strings.TrimSuffix(t.Endpoints.Graph, "/")
		if h := t.Endpoints.AuthorityHost; h != "" && !strings.HasSuffix(h, "/") {
			t.Endpoints.AuthorityHost = h + "/"
		}
		t.applyDiscoverDefaults()
		for j := range t.Environments {
			e := &t.Environments[j]
			e.URL = strings.TrimSuffix(e.URL, "/")
			if e.Experience == "" {
				e.Experience = c.Defaults.Experience
			}
			if e.Profile == "" {
				e.Profile = c.Defaults.Profile
			}
			if e.Profile == "" {
				e.Profile = ProfilePreflight
			}
			if e.Tables == nil && c.Defaults.Tables != nil {
				e.Tables = append([]string(nil), c.Defaults.Tables...)
			}
		}
	}
}

// resolvePaths makes relative file names relative to dir.
func (c *Config) resolvePaths(dir string) {
	abs := func(p *string) {
		if *p != "" && !filepath.IsAbs(*p) {
			*p = filepath.Join(dir, *p)
		}
	}
	for i := range c.Tenants {
		a := &c.Tenants[i].Auth
		abs(&a.SecretFile)
		abs(&a.CertificateFile)
		abs(&a.TokenFile)
		abs(&c.Tenants[i].Endpoints.CAFile)
	}
}
