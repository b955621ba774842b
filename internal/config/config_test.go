package config

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/teamslink/teamslink/internal/cloud"
	"github.com/teamslink/teamslink/internal/finding"
	"github.com/teamslink/teamslink/internal/yamlguard"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// TestLoadInvalid holds one testdata/invalid-*.yaml per rule and the exact
// message it must produce, file and line included.
func TestLoadInvalid(t *testing.T) {
	t.Parallel()
	tests := []struct {
		file string
		want string // after "testdata/<file>"
	}{
		// Decoding.
		{"invalid-syntax.yaml", ":2: sequence end token ']' not found"},
		{"invalid-empty.yaml", ": empty config: expected a tenants list"},
		{"invalid-multiple-documents.yaml", ":9: more than one YAML document; tenants.yaml holds exactly one"},
		{"invalid-unknown-key.yaml", ":9: tenants[0].environments[0].tabels: unknown key (valid: url, name, tables, experience, sharePointIntegrationConfigured, profile)"},
		{"invalid-reserved-key.yaml", ":1: schedule: not supported yet: reserved for a later version of teamslink"},
		{"invalid-inline-secret.yaml", ":6: tenants[0].auth.clientSecret: unknown key: tenants.yaml never holds a secret value; name an environment variable (secretEnv, certificatePasswordEnv) or a file (secretFile, certificateFile) instead"},
		{"invalid-type.yaml", ":9: tenants[0].environments[0].tables: must be a list, not a string"},
		{"invalid-type-mapping.yaml", ":3: tenants[0].auth: must be a mapping, not a string"},
		{"invalid-type-bool.yaml", ":7: tenants[0].environments[0].sharePointIntegrationConfigured: must be true or false, not a string"},
		{"invalid-duplicate-key.yaml", `:9: mapping key "url" already defined at [8:9]`},
		// Defaults.
		{"invalid-defaults-cloud.yaml", `:2: defaults.cloud: unknown cloud "usgov" (valid: public, gcc, gcchigh, dod, china)`},
		// Tenants.
		{"invalid-no-tenants.yaml", ":3: tenants: at least one tenant is required"},
		{"invalid-tenant-id-missing.yaml", ":2: tenants[0].id: required: the tenant id (a GUID)"},
		{"invalid-tenant-id-domain.yaml", ":2: tenants[0].id: must be the tenant id, a GUID (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx); domain names are not accepted"},
		{"invalid-tenant-id-duplicate.yaml", ":9: tenants[1].id: duplicates tenants[0].id"},
		{"invalid-cloud.yaml", `:3: tenants[0].cloud: unknown cloud "azure" (valid: public, gcc, gcchigh, dod, china)`},
		{"invalid-sharepoint-admin-url.yaml", ":3: tenants[0].sharePointAdminUrl: must be the SharePoint admin site, https://<tenant>-admin.sharepoint.com (for another host, an emulator, set endpoints.connectTo)"},
		{"invalid-no-environments.yaml", ":7: tenants[0].environments: at least one environment is required, or discover: to list them"},
		// Auth.
		{"invalid-auth-method-missing.yaml", ":3: tenants[0].auth.method: required (one of: client-secret, client-certificate, workload-identity, managed-identity, azure-cli, device-code)"},
		{"invalid-auth-method-unknown.yaml", `:4: tenants[0].auth.method: unknown method "password" (valid: client-secret, client-certificate, workload-identity, managed-identity, azure-cli, device-code)`},
		{"invalid-client-id-missing.yaml", ":3: tenants[0].auth.clientId: required by method client-secret: the application (client) id"},
		{"invalid-client-id-not-guid.yaml", ":5: tenants[0].auth.clientId: must be the application (client) id, a GUID"},
		{"invalid-client-secret-none.yaml", ":3: tenants[0].auth: method client-secret needs secretEnv (an environment variable name) or secretFile (a file name)"},
		{"invalid-client-secret-both.yaml", ":7: tenants[0].auth.secretFile: set secretEnv or secretFile, not both"},
		{"invalid-secret-env-name.yaml", ":6: tenants[0].auth.secretEnv: must be the name of an environment variable (letters, digits and _), not the secret itself"},
		{"invalid-secret-file-client-secret.yaml", ":6: tenants[0].auth.secretFile: must be the name of a file holding the client secret, not the secret itself: it has the form of an Entra client secret"},
		{"invalid-secret-file-tilde.yaml", ":6: tenants[0].auth.secretFile: must be the name of a file holding the client secret, not the secret itself: it has a ~ inside a name, as Entra client secrets do"},
		{"invalid-secret-file-characters.yaml", `:6: tenants[0].auth.secretFile: must be the name of a file holding the client secret, not the secret itself: it has a character no file name needs (" * < > ? |)`},
		{"invalid-secret-file-base64.yaml", ":6: tenants[0].auth.secretFile: must be the name of a file holding the client secret, not the secret itself: it ends in =, as base64 does"},
		{"invalid-secret-file-control.yaml", ":6: tenants[0].auth.secretFile: must be the name of a file holding the client secret, not the secret itself: it has a control character"},
		{"invalid-certificate-file-missing.yaml", ":3: tenants[0].auth.certificateFile: required by method client-certificate: a PEM or PKCS#12 file with the certificate and its private key"},
		{"invalid-workload-identity-client-id.yaml", ":3: tenants[0].auth.clientId: required by method workload-identity: the application (client) id"},
		{"invalid-managed-identity-client-id.yaml", ":5: tenants[0].auth.clientId: not used by method managed-identity; a user-assigned identity goes in managedIdentityClientId"},
		{"invalid-managed-identity-id.yaml", ":5: tenants[0].auth.managedIdentityClientId: must be the client id of a user-assigned managed identity, a GUID"},
		{"invalid-auth-key-not-used.yaml", ":5: tenants[0].auth.tokenFile: not used by method azure-cli"},
		// Endpoints.
		{"invalid-connect-to.yaml", ":4: tenants[0].endpoints.connectTo: must be host:port, e.g. 127.0.0.1:8443"},
		{"invalid-authority-host.yaml", ":4: tenants[0].endpoints.authorityHost: must be https"},
		{"invalid-graph-url.yaml", `:4: tenants[0].endpoints.graph: must be the root URL, with no path (found "/v1.0")`},
		{"invalid-request-timeout.yaml", ":4: tenants[0].endpoints.requestTimeout: must be between 100ms and 10m0s, not 20m0s"},
		// Environments.
		{"invalid-env-url-missing.yaml", ":8: tenants[0].environments[0].url: required: the environment URL, e.g. https://contoso.crm.dynamics.com"},
		{"invalid-env-url-http.yaml", ":8: tenants[0].environments[0].url: must be https"},
		{"invalid-env-url-path.yaml", `:8: tenants[0].environments[0].url: must be the root URL, with no path (found "/main.aspx")`},
		{"invalid-env-url-query.yaml", ":8: tenants[0].environments[0].url: must not have a query"},
		{"invalid-env-url-host.yaml", ":8: tenants[0].environments[0].url: host contoso.example.com is not a Dynamics 365 host of cloud public (<org>.crm*.dynamics.com or <org>.api.crm*.dynamics.com); for another host, an emulator, set endpoints.connectTo"},
		{"invalid-env-url-other-cloud.yaml", ":8: tenants[0].environments[0].url: host agency.crm.microsoftdynamics.us belongs to cloud gcchigh, but the tenant's cloud is public (set cloud: gcchigh)"},
		{"invalid-env-url-port.yaml", ":8: tenants[0].environments[0].url: must not name port 8443: Dynamics 365 listens on 443 (for an emulator, set endpoints.connectTo)"},
		{"invalid-env-url-duplicate.yaml", ":9: tenants[0].environments[1].url: duplicates tenants[0].environments[0].url"},
		{"invalid-experience.yaml", `:9: tenants[0].environments[0].experience: unknown experience "advanced" (valid: basic, enhanced)`},
		{"invalid-profile.yaml", `:9: tenants[0].environments[0].profile: unknown profile "strict" (valid: preflight, enabled)`},
		{"invalid-table-name.yaml", `:9: tenants[0].environments[0].tables[1]: "Opportunity Product" is not a table logical name (lower case letters, digits and _, e.g. account, new_project)`},
		{"invalid-table-duplicate.yaml", ":12: tenants[0].environments[0].tables[2]: account is listed twice"},
		// Discovery.
		{"invalid-discover-source.yaml", `:6: tenants[0].discover.source: unknown source "powerplatform" (valid: bap, gds)`},
		{"invalid-discover-type.yaml", `:6: tenants[0].discover.types[1]: "Prod" is not an environment type (valid: Production, Sandbox, Trial, Developer, Default)`},
		{"invalid-discover-type-duplicate.yaml", ":8: tenants[0].discover.types[1]: sandbox is listed twice"},
		{"invalid-discover-types-gds.yaml", ":6: tenants[0].discover.types: the Global Discovery Service does not say an environment's type; filter by include or exclude patterns, or use source bap"},
		{"invalid-discover-state.yaml", `:6: tenants[0].discover.states[0]: "Ready" is not an environment state (valid: Enabled, Disabled)`},
		{"invalid-discover-pattern.yaml", ":7: tenants[0].discover.exclude[0]: empty pattern: write a URL, host or name, with * for any run of characters and ? for one"},
		{"invalid-discover-unknown-key.yaml", ":7: tenants[0].discover.filter: unknown key (valid: source, types, states, include, exclude)"},
		{"invalid-discover-bap-not-confirmed.yaml", ":6: tenants[0].discover.source: the Power Platform admin API of cloud china is NOT CONFIRMED: set endpoints.bap and endpoints.bapScope to its root URL and token scope, or use source gds"},
		{"invalid-discover-bap-scope-missing.yaml", ":6: tenants[0].endpoints.bapScope: required with endpoints.bap in cloud dod, whose admin API token scope is NOT CONFIRMED"},
		{"invalid-bap-scope.yaml", ":6: tenants[0].endpoints.bapScope: must be a token scope, https://<resource>/.default (the public cloud's is https://service.powerapps.com//.default)"},
		{"invalid-global-discovery-url.yaml", `:6: tenants[0].endpoints.globalDiscovery: must be the root URL, with no path (found "/api/discovery/v2.0")`},
		{"invalid-waiver-discovered-name.yaml", `:8: waivers[0].environment: no environment of this file has the URL or name "Contoso Sales"; for an environment discovery finds, give its URL (its name is not known before discovery)`},
		// Waivers.
		{"invalid-waiver-tenant.yaml", `:10: waivers[0].tenant: no tenant of this file has the id or name "Fabrikam"`},
		{"invalid-waiver-environment.yaml", `:10: waivers[0].environment: no environment of this file has the URL or name "https://contoso-old.crm.dynamics.com"`},
		{"invalid-waiver-expires.yaml", `:12: waivers[0].expires: "31/01/2027" is not a date YYYY-MM-DD`},
		{"invalid-waiver-incomplete.yaml", ":9: waivers[0].reason: required: why the finding is accepted\n" + "testdata/invalid-waiver-incomplete.yaml:9: waivers[0].expires: required: the last day the waiver applies, YYYY-MM-DD, so that it is looked at again"},
		{"invalid-waiver-rule.yaml", `:9: waivers[0].rule: "SP 5" is not a rule id (e.g. TL-SP-005; teamslink rules lists them)`},
	}
	covered := map[string]bool{}
	for _, tt := range tests {
		covered[tt.file] = true
		t.Run(tt.file, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join("testdata", tt.file)
			c, err := Load(path)
			if err == nil {
				t.Fatalf("Load(%s) = %+v, want an error", path, c)
			}
			if got, want := err.Error(), path+tt.want; got != want {
				t.Fatalf("Load(%s) error\n got: %s\nwant: %s", path, got, want)
			}
			var e *Error
			if !errors.As(err, &e) || e.File != path || e.Line == 0 && !strings.HasPrefix(tt.want, ": ") {
				t.Fatalf("error %#v does not locate the problem as *Error with file and line", err)
			}
		})
	}
	files, err := filepath.Glob("testdata/invalid-*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if !covered[filepath.Base(f)] {
			t.Errorf("%s has no expected message in TestLoadInvalid", f)
		}
	}
}

// TestLoadValid decodes every testdata/valid-*.yaml and compares the result,
// defaults applied and relative paths resolved, with its golden JSON.
// Refresh with: go test ./internal/config -update
func TestLoadValid(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob("testdata/valid-*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no valid configs: %v", err)
	}
	for _, path := range files {
		t.Run(filepath.Base(path), func(t *testing.T) {
			t.Parallel()
			c, err := Load(path)
			if err != nil {
				t.Fatalf("Load(%s): %v", path, err)
			}
			got, err := json.MarshalIndent(c, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, '\n')
			golden := strings.TrimSuffix(path, ".yaml") + ".golden.json"
			if *update {
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("%s differs from %s (run with -update after checking):\n%s", path, golden, got)
			}
		})
	}
}

func TestDefaults(t *testing.T) {
	t.Parallel()
	c, err := Load("testdata/valid-fleet.yaml")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		got  any
		want any
	}{
		{"cloud defaults to public", c.Tenants[0].Cloud, cloud.Public},
		{"explicit cloud kept", c.Tenants[2].Cloud, cloud.GCCHigh},
		{"experience inherited", c.Tenants[0].Environments[0].Experience, finding.ExperienceBasic},
		{"experience overridden", c.Tenants[0].Environments[1].Experience, finding.ExperienceEnhanced},
		{"profile inherited", c.Tenants[1].Environments[0].Profile, ProfileEnabled},
		{"profile overridden", c.Tenants[0].Environments[1].Profile, ProfilePreflight},
		{"tables inherited", strings.Join(c.Tenants[0].Environments[0].Tables, ","), "account,contact,opportunity"},
		{"tables overridden", strings.Join(c.Tenants[0].Environments[1].Tables, ","), "account,new_project"},
		{"empty tables list kept empty", len(c.Tenants[2].Environments[0].Tables), 0},
		{"relative secret file resolved", c.Tenants[0].Auth.SecretFile, filepath.Join("testdata", "secrets", "contoso-client-secret")},
		{"absolute certificate file kept", c.Tenants[1].Auth.CertificateFile, "/etc/teamslink/fabrikam.pem"},
		{"override pointer kept", *c.Tenants[0].Environments[1].SharePointIntegrationConfigured, true},
		{"no override is nil", c.Tenants[0].Environments[0].SharePointIntegrationConfigured == nil, true},
		{"graph of gcc high", c.Tenants[2].GraphURL(), "https://graph.microsoft.us"},
		{"authority of gcc high", c.Tenants[2].AuthorityHost(), "https://login.microsoftonline.us/"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if tt.got != tt.want {
				t.Fatalf("got %v, want %v", tt.got, tt.want)
			}
		})
	}
	// Defaults apply once: a second pass changes nothing.
	before, _ := json.Marshal(c)
	c.ApplyDefaults()
	after, _ := json.Marshal(c)
	if !bytes.Equal(before, after) {
		t.Fatalf("ApplyDefaults is not idempotent:\n%s\n%s", before, after)
	}
}

// TestDiscoverDefaults: the source follows the auth method, states default
// to Enabled, the endpoints come from the cloud or the overrides, and a
// discovered environment is declared by its tenant's discover block.
func TestDiscoverDefaults(t *testing.T) {
	t.Parallel()
	c, err := Load("testdata/valid-discovery.yaml")
	if err != nil {
		t.Fatal(err)
	}
	contoso, fabrikam, litware := c.Tenants[0], c.Tenants[1], c.Tenants[2]
	bap, bapScope := contoso.AdminAPI()
	litwareBAP, litwareScope := litware.AdminAPI()
	declared := c.DeclaredAt(contoso.ID, "https://contoso-sales.crm.dynamics.com")
	listed := c.DeclaredAt(fabrikam.ID, "https://fabrikam.crm4.dynamics.com")
	var rule finding.WaiverRule
	if rules := c.WaiverRules(); len(rules) == 1 {
		rule = rules[0]
	}
	tests := []struct {
		name      string
		got, want any
	}{
		{"application defaults to bap", contoso.Discover.Source, SourceBAP},
		{"azure-cli defaults to gds", fabrikam.Discover.Source, SourceGDS},
		{"states default to Enabled", strings.Join(contoso.Discover.States, ","), "Enabled"},
		{"states kept", strings.Join(fabrikam.Discover.States, ","), "Enabled,Disabled"},
		{"public admin API", bap, "https://api.bap.microsoft.com"},
		{"public admin API scope", bapScope, "https://service.powerapps.com//.default"},
		{"overridden admin API", litwareBAP, "https://admin-api.example.us"},
		{"overridden admin API scope", litwareScope, "https://admin-api.example.us/.default"},
		{"public discovery service", contoso.GlobalDiscoveryURL(), "https://globaldisco.crm.dynamics.com"},
		{"gcc high discovery service", litware.GlobalDiscoveryURL(), "https://globaldisco.crm.microsoftdynamics.us"},
		{"known host", contoso.AcceptsEnvironmentHost("contoso-sales.crm.dynamics.com"), true},
		{"host of another cloud", contoso.AcceptsEnvironmentHost("agency.crm.microsoftdynamics.us"), false},
		{"discovered environment declared by discover", declared != nil && declared.Line == 14, true},
		{"listed environment declared by its url", listed != nil && listed.Line == 25, true},
		{"waiver keeps a discovered URL", rule.Environment, "https://contoso-sales.crm.dynamics.com"},
		{"no environments listed", len(contoso.Environments), 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if tt.got != tt.want {
				t.Fatalf("got %v, want %v", tt.got, tt.want)
			}
		})
	}
	if got := DefaultSource(MethodDeviceCode); got != SourceGDS {
		t.Errorf("DefaultSource(device-code) = %s", got)
	}
	if got := DefaultSource(MethodWorkloadIdentity); got != SourceBAP {
		t.Errorf("DefaultSource(workload-identity) = %s", got)
	}
}

func TestEndpointOverrides(t *testing.T) {
	t.Parallel()
	c, err := Parse([]byte(`
tenants:
  - id: 00000000-0000-4000-8000-000000000001
    auth: {method: azure-cli}
    endpoints:
      authorityHost: https://127.0.0.1:8443
      graph: https://127.0.0.1:8443/
    environments:
      - url: https://127.0.0.1:8443
`), "emulator.yaml")
	if err != nil {
		t.Fatal(err)
	}
	tn := c.Tenants[0]
	if got := tn.AuthorityHost(); got != "https://127.0.0.1:8443/" {
		t.Errorf("AuthorityHost() = %q", got)
	}
	if got := tn.GraphURL(); got != "https://127.0.0.1:8443" {
		t.Errorf("GraphURL() = %q", got)
	}
	if !tn.Endpoints.Overridden() {
		t.Error("Overridden() = false with authorityHost and graph set")
	}
}

// TestEveryProblemReported checks Validate keeps going after the first
// problem, in file order, each with its own line.
func TestEveryProblemReported(t *testing.T) {
	t.Parallel()
	_, err := Parse([]byte(`tenants:
  - id: not-a-guid
    auth:
      method: client-secret
      clientId: 6e1a4c8b-2f3d-4e5a-9b7c-1d2e3f4a5b6c
      secretEnv: CONTOSO_CLIENT_SECRET
    environments:
      - url: http://contoso.crm.dynamics.com
        experience: advanced
`), "tenants.yaml")
	var errs Errors
	if !errors.As(err, &errs) {
		t.Fatalf("error %v is not Errors", err)
	}
	want := []string{
		"tenants.yaml:2: tenants[0].id: must be the tenant id, a GUID (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx); domain names are not accepted",
		"tenants.yaml:8: tenants[0].environments[0].url: must be https",
		`tenants.yaml:9: tenants[0].environments[0].experience: unknown experience "advanced" (valid: basic, enhanced)`,
	}
	if got := err.Error(); got != strings.Join(want, "\n") {
		t.Fatalf("got:\n%s\nwant:\n%s", got, strings.Join(want, "\n"))
	}
	var one *Error
	if !errors.As(err, &one) || one.Line != 2 {
		t.Fatalf("errors.As(*Error) = %v", one)
	}
}

// TestValidateInCode covers a Config built without a file, as
// `scan --tenant --env` does: messages name the key but no file or line.
func TestValidateInCode(t *testing.T) {
	t.Parallel()
	c := &Config{Tenants: []Tenant{{
		ID:           "3f1c2a9e-5b7d-4c2e-9a61-8d0e4b7f2c15",
		Auth:         Auth{Method: MethodAzureCLI},
		Environments: []Environment{{URL: "https://contoso.crm4.dynamics.com/"}},
	}}}
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "tenants[0].cloud: required (valid: public, gcc, gcchigh, dod, china)") {
		t.Fatalf("Validate before ApplyDefaults = %v, want the empty cloud named", err)
	}
	c.ApplyDefaults()
	if err := c.Validate(); err != nil {
		t.Fatalf("Validate after ApplyDefaults: %v", err)
	}
	c.Tenants[0].Environments[0].URL = "https://contoso.example.org"
	err := c.Validate()
	if err == nil || !strings.HasPrefix(err.Error(), "tenants[0].environments[0].url: host contoso.example.org is not a Dynamics 365 host") {
		t.Fatalf("Validate = %v", err)
	}
}

// secretValues are shaped like the secrets people paste where a reference
// belongs: a made-up value with ~, an Entra client secret, an older
// generated one with punctuation, base64.
var secretValues = []string{
	"Xy7~q.Secret-Value",
	"aZ38Q~hT5rW_k2Lm9Np-Qx7Vb1Yc4Ds6Fg0Jh.eK",
	"K9?mB@x[Zq]7=Lw*T2vR+pN-eY8sD_u",
	"c2VjcmV0LXZhbHVlLXRoYXQtaXMtbG9uZw==",
}

// TestSecretsNeverEchoed: a secret pasted where a reference belongs, or
// anywhere in a document refused before decoding, must not appear in the
// message.
func TestSecretsNeverEchoed(t *testing.T) {
	t.Parallel()
	const clientID = "\n      clientId: 6e1a4c8b-2f3d-4e5a-9b7c-1d2e3f4a5b6c"
	tests := []struct {
		name string
		auth string // SECRET stands for the value
	}{
		{"secret in secretEnv", "method: client-secret" + clientID + "\n      secretEnv: SECRET"},
		{"secret in secretFile", "method: client-secret" + clientID + "\n      secretFile: SECRET"},
		{"secret in a quoted secretFile", "method: client-secret" + clientID + "\n      secretFile: 'SECRET'"},
		{"secret in secretFile of another method", "method: azure-cli\n      secretFile: SECRET"},
		{"secret in certificatePasswordEnv", "method: client-certificate" + clientID + "\n      certificateFile: c.pem\n      certificatePasswordEnv: SECRET"},
		{"secret under an unknown key", "method: client-secret" + clientID + "\n      clientSecret: SECRET"},
		{"secret as a wrongly typed value", "method: client-secret" + clientID + "\n      secretEnv: [SECRET]"},
		{"secret read as a tag", "method: client-secret" + clientID + "\n      secretFile: !SECRET"},
		{"secret read as an alias", "method: client-secret" + clientID + "\n      secretFile: *SECRET"},
		{"secret read as an anchor defined twice", "method: client-secret" + clientID + "\n      secretFile: &SECRET a\n      secretEnv: &SECRET b"},
		{"secret read as a recursive anchor", "method: client-secret" + clientID + "\n      secretFile: &SECRET [*SECRET]"},
		{"secret in a document nested too deeply", "method: client-secret" + clientID + "\n      secretFile: " + strings.Repeat("[", 40) + "SECRET" + strings.Repeat("]", 40)},
		{"secret in a document too large", "method: client-secret" + clientID + "\n      secretFile: SECRET" + strings.Repeat(" ", 1<<20)},
	}
	for _, tt := range tests {
		for i, secret := range secretValues {
			t.Run(fmt.Sprintf("%s/%d", tt.name, i), func(t *testing.T) {
				t.Parallel()
				doc := "tenants:\n  - id: 3f1c2a9e-5b7d-4c2e-9a61-8d0e4b7f2c15\n    auth:\n      " + strings.ReplaceAll(tt.auth, "SECRET", secret) +
					"\n    environments:\n      - url: https://contoso.crm.dynamics.com\n"
				_, err := Parse([]byte(doc), "tenants.yaml")
				if err == nil {
					t.Fatal("Parse accepted a secret value")
				}
				if strings.Contains(err.Error(), secret) {
					t.Fatalf("error repeats the secret: %v", err)
				}
			})
		}
	}
}

// TestSecretShape: file names pass, secret-shaped values do not, whatever
// their reason.
func TestSecretShape(t *testing.T) {
	t.Parallel()
	tests := []struct {
		value  string
		secret bool
	}{
		{"secrets/contoso-client-secret", false},
		{"/run/secrets/contoso", false},
		{`C:\PROGRA~1\teamslink\client-secret.txt`, false},
		{"PROGRA~12", false},
		{"~/secrets/contoso", false},
		{"client secret.txt", false},
		{"./s", false},
		{"shards/dt=2024/secret", false},
		{"contoso.client-secret.v2", false},
		{"", false},
		{"aZ38Q~hT5rW_k2Lm9Np-Qx7Vb1Yc4Ds6Fg0Jh.eK", true},
		{"/run/secrets/aZ38Q~hT5rW_k2Lm9Np-Qx7Vb1Yc4Ds6Fg0Jh.eK", true},
		{"Xy7~q.Secret-Value", true},
		{"PROGRA~1x", true},
		{"secret~", true},
		{"K9?mB@x[Zq]7=Lw*T2vR+pN-eY8sD_u", true},
		{"c2VjcmV0LXZhbHVlLXRoYXQtaXMtbG9uZw==", true},
		{"first-line\nsecond-line", true},
		{"tab\tinside", true},
	}
	for _, tt := range tests {
		t.Run(tt.value, func(t *testing.T) {
			t.Parallel()
			if got := secretShape(tt.value); (got != "") != tt.secret {
				t.Fatalf("secretShape(%q) = %q, want secret: %v", tt.value, got, tt.secret)
			}
		})
	}
}

// hostileDoc is a document built to hurt a YAML decoder, and what Parse
// must say about it (after the file name).
type hostileDoc struct {
	name string
	doc  []byte
	want string
	kind error
}

// hostileDocs reproduces each way tenants.yaml used to hurt teamslink
// through go-yaml: a panic, an alias bomb that took a minute and 2 GB,
// nesting, keys and documents whose cost grows with the square of their
// number, a file past the size limit.
func hostileDocs() []hostileDoc {
	var bomb strings.Builder
	bomb.WriteString("defaults:\n  tables:\n    - &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n")
	for i := 1; i < 9; i++ {
		fmt.Fprintf(&bomb, "    - &a%d [%s]\n", i, strings.TrimSuffix(strings.Repeat(fmt.Sprintf("*a%d, ", i-1), 9), ", "))
	}
	bomb.WriteString("tenants: []\n")
	var block strings.Builder
	for i := range 100 {
		block.WriteString(strings.Repeat("  ", i) + "tenants:\n")
	}
	var keys strings.Builder
	for i := range 5_000 {
		fmt.Fprintf(&keys, "k%d: v\n", i)
	}
	return []hostileDoc{
		{"tag that panics go-yaml", []byte("tenants: !foo bar\n"), ":1: YAML tags (!name, !!type) are not supported in this file", yamlguard.ErrTag},
		{"alias bomb", []byte(bomb.String()), ":8: expanding this alias takes the document past 250000 YAML nodes (an alias bomb?)", yamlguard.ErrTooMany},
		{"recursive alias", []byte("tenants: &t [*t]\n"), ":1: alias refers to an anchor that contains it (a recursive structure)", yamlguard.ErrAlias},
		{"deep flow nesting", []byte("tenants: " + strings.Repeat("[", 10_000) + strings.Repeat("]", 10_000) + "\n"), ":1: nested more than 32 levels deep", yamlguard.ErrTooDeep},
		{"deep block nesting", []byte(block.String()), ":33: nested more than 32 levels deep", yamlguard.ErrTooDeep},
		{"many keys, whose parse takes the square of their number", []byte(keys.String()), ":501: a mapping of more than 500 keys", yamlguard.ErrTooMany},
		{"many documents, whose parse takes the square of their number", bytes.Repeat([]byte("--- {}\n"), 5_000), ":17: more than 16 YAML documents", yamlguard.ErrTooMany},
		{"oversize", append([]byte("tenants: []\n"), bytes.Repeat([]byte("#"), 1<<20)...), ": larger than 1 MiB, the limit for this file", yamlguard.ErrTooLarge},
	}
}

// within fails the test when f takes longer than a few seconds: on a
// document that hurts the decoder, failing slowly is still failing.
func within(t *testing.T, f func()) {
	t.Helper()
	done := make(chan struct{})
	go func() { defer close(done); f() }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("still decoding after 5s")
	}
}

// TestParseHostile: each hostile document is refused at once, with the
// file and line, through the *Error that config check prints (exit 2).
func TestParseHostile(t *testing.T) {
	t.Parallel()
	for _, tt := range hostileDocs() {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var err error
			within(t, func() { _, err = Parse(tt.doc, "hostile.yaml") })
			var e *Error
			if !errors.As(err, &e) || e.File != "hostile.yaml" || !errors.Is(err, tt.kind) {
				t.Fatalf("Parse = %v, want an *Error of kind %v naming the file", err, tt.kind)
			}
			if got, want := err.Error(), "hostile.yaml"+tt.want; got != want {
				t.Fatalf("Parse error\n got: %s\nwant: %s", got, want)
			}
		})
	}
}

func TestLoadOversize(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "tenants.yaml")
	if err := os.WriteFile(path, bytes.Repeat([]byte("# padding\n"), 200_000), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Load(path)
	if !errors.Is(err, yamlguard.ErrTooLarge) || err.Error() != path+": larger than 1 MiB, the limit for this file" {
		t.Fatalf("Load = %v, want the size limit named with the file", err)
	}
}

// TestParseCancelled: a cancelled context (SIGINT, SIGTERM) stops Parse and
// Load; the error says so and names the file.
func TestParseCancelled(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	doc, err := os.ReadFile("testdata/valid-fleet.yaml")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		run  func() (*Config, error)
	}{
		{"ParseContext", func() (*Config, error) { return ParseContext(ctx, doc, "tenants.yaml") }},
		{"LoadContext", func() (*Config, error) { return LoadContext(ctx, "testdata/valid-fleet.yaml") }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, err := tt.run()
			if c != nil || !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), ".yaml") {
				t.Fatalf("%s = %v, %v; want context.Canceled naming the file", tt.name, c, err)
			}
		})
	}
}

func TestLoadMissingFile(t *testing.T) {
	t.Parallel()
	_, err := Load(filepath.Join(t.TempDir(), "tenants.yaml"))
	if err == nil || !errors.Is(err, os.ErrNotExist) || !strings.Contains(err.Error(), "tenants.yaml") {
		t.Fatalf("Load(missing) = %v, want a not-exist error naming the file", err)
	}
}

// FuzzParse feeds arbitrary documents to Parse, seeded with every testdata
// file and every hostile document: it must never panic, and what it accepts
// must validate again.
// Run with: go test ./internal/config -run '^$' -fuzz FuzzParse -fuzztime 30s
func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.yaml")
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	for _, h := range hostileDocs() {
		f.Add(h.doc)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Parse(data, "fuzz.yaml")
		if err != nil {
			if err.Error() == "" {
				t.Fatal("empty error message")
			}
			return
		}
		if err := c.Validate(); err != nil {
			t.Fatalf("accepted config fails Validate: %v", err)
		}
	})
}
