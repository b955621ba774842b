package emulator

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/teamslink/teamslink/internal/yamlguard"
)

func TestScenarioFilesLoad(t *testing.T) {
	t.Parallel()
	all, err := LoadScenarios(scenarioDir)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) < 16 {
		t.Errorf("loaded %d scenarios, want at least 16", len(all))
	}
	for _, sc := range all {
		t.Run(sc.Name, func(t *testing.T) {
			t.Parallel()
			if sc.Description == "" {
				t.Error("scenario has no description")
			}
			if _, err := New(Options{Clock: time.Now, Scenarios: []*Scenario{sc}, CAFile: filepath.Join(t.TempDir(), "ca.pem")}); err != nil {
				t.Errorf("New: %v", err)
			}
		})
	}
	// The demo loads them all into one server.
	s, err := New(Options{Clock: time.Now, Scenarios: all, CAFile: filepath.Join(t.TempDir(), "ca.pem")})
	if err != nil {
		t.Fatalf("New with every scenario: %v", err)
	}
	if got := len(s.Tenants()); got != len(all) {
		t.Errorf("Tenants() = %d, want %d", got, len(all))
	}
	hosts := strings.Join(s.Hosts(), " ")
	for _, want := range []string{"login.microsoftonline.com", "graph.microsoft.us", "contoso-sales.crm.dynamics.com", "contoso-sales.api.crm.dynamics.com", "contoso-admin.sharepoint.com", "fabrikam-dev.crm4.dynamics.com"} {
		if !strings.Contains(hosts, want) {
			t.Errorf("Hosts() lacks %s", want)
		}
	}
}

func TestParseScenarioErrors(t *testing.T) {
	t.Parallel()
	base := func(extra string) string {
		return `tenant: {id: 11111111-2222-4333-8444-555555555555}
clients: [{clientId: 0c0c0c0c-1111-4222-8333-444444444444, secret: s}]
caller: {type: app, objectId: 0d0d0d0d-1111-4222-8333-444444444444}
` + extra
	}
	env := func(rows string) string {
		return base(`environments:
  - url: https://x.crm.dynamics.com
    organization: {organizationid: 0e0e0e0e-1111-4222-8333-444444444444}
` + rows)
	}
	tests := []struct {
		name string
		yaml string
		want string // substring of the error
		line int    // 0: not checked
	}{
		{"unknown top-level key", base("bogus: 1\n"), `unknown field "bogus"`, 4},
		{"unknown nested key", base("sharePoint: {adminUrl: https://a-admin.sharepoint.com, colour: red}\n"), `unknown field "colour"`, 4},
		{"bad tenant id", strings.Replace(base(""), "11111111-2222-4333-8444-555555555555", "not-a-guid", 1), `tenant.id: "not-a-guid" is not a GUID`, 1},
		{"no clients", strings.Replace(base(""), "clients: [{clientId: 0c0c0c0c-1111-4222-8333-444444444444, secret: s}]", "clients: []", 1), "at least one client", 2},
		{"secret and secretEnv", strings.Replace(base(""), "secret: s", "secret: s, secretEnv: X", 1), "not both", 2},
		{"secretEnv unset", strings.Replace(base(""), "secret: s", "secretEnv: TEAMSLINK_EMULATOR_TEST_UNSET_VARIABLE", 1), "environment variable TEAMSLINK_EMULATOR_TEST_UNSET_VARIABLE is not set", 2},
		{"bad caller type", strings.Replace(base(""), "type: app", "type: robot", 1), `caller.type: must be app or user`, 3},
		{"user without upn", strings.Replace(base(""), "type: app", "type: user", 1), "userPrincipalName", 3},
		{"bad cloud", strings.Replace(base(""), "555555555555}", "555555555555, cloud: mars}", 1), `unknown cloud "mars"`, 1},
		{"bad token lifetime", base("tokenLifetime: forever\n"), "tokenLifetime", 4},
		{"http environment", strings.Replace(env(""), "https://x.crm", "http://x.crm", 1), "must use https", 5},
		{"environment with path", strings.Replace(env(""), "x.crm.dynamics.com", "x.crm.dynamics.com/api", 1), "bare origin", 5},
		{"missing organizationid", strings.Replace(env(""), "organizationid: 0e0e0e0e-1111-4222-8333-444444444444", "name: x", 1), "organization.organizationid: required", 6},
		{"unknown column", env("    sharepointsites:\n      - {sharepointsiteid: 0a0a0a0a-1111-4222-8333-444444444444, colour: blue}\n"), `unknown column "colour" on sharepointsite`, 8},
		{"wrong column type", env("    sharepointsites:\n      - sharepointsiteid: 0a0a0a0a-1111-4222-8333-444444444444\n        isdefault: yes please\n"), "column isdefault wants true or false", 9},
		{"choice out of range", env("    sharepointsites:\n      - sharepointsiteid: 0a0a0a0a-1111-4222-8333-444444444444\n        servicetype: 9\n"), "outside the valid range. Accepted Values: 0,1,2,3", 9},
		{"duplicate row id", env("    roles:\n      - {roleid: 0a0a0a0a-1111-4222-8333-444444444444}\n      - {roleid: 0a0a0a0a-1111-4222-8333-444444444444}\n"), "duplicate id", 9},
		{"dangling navigation id", env("    systemusers:\n      - systemuserid: 0a0a0a0a-1111-4222-8333-444444444444\n        systemuserroles_association: [0b0b0b0b-1111-4222-8333-444444444444]\n"), "is not the id of a row in roles", 9},
		{"generated row with key", env("    generate:\n      - set: sharepointdocumentlocations\n        count: 3\n        row: {sharepointdocumentlocationid: 0a0a0a0a-1111-4222-8333-444444444444}\n"), "leave sharepointdocumentlocationid out", 10},
		{"generate wrong set", env("    generate:\n      - {set: roles, count: 3}\n"), "must be sharepointsites or sharepointdocumentlocations", 8},
		{"bad fault kind", base("faults:\n  - {kind: explode}\n"), `unknown fault kind "explode"`, 5},
		{"bad fault regexp", base("faults:\n  - {kind: reset, match: {path: \"(\"}}\n"), "bad regular expression", 5},
		{"latency without delay", base("faults:\n  - {kind: latency}\n"), "needs a delay", 5},
		{"status out of range", base("faults:\n  - {kind: status, status: 200}\n"), "must be an HTTP error status", 5},
		{"retryAfter on status", base("faults:\n  - {kind: status, retryAfter: \"1\"}\n"), "only throttle faults take retryAfter", 5},
		{"negative skip", base("faults:\n  - {kind: reset, skip: -1}\n"), "faults[0].skip: must be 0", 5},
		{"bad retryAfter", base("faults:\n  - {kind: throttle, retryAfter: never}\n"), `"never" is neither seconds, an HTTP date nor none`, 5},
		{"omit-field without field", base("faults:\n  - {kind: omit-field}\n"), "omit-field needs field: the JSON member", 5},
		{"field on status", base("faults:\n  - {kind: status, field: name}\n"), "only omit-field and null-field faults take a field", 5},
		{"contentType on malformed", base("faults:\n  - {kind: malformed, contentType: text/html}\n"), "only content-type faults take a contentType", 5},
		{"bad contentType", base("faults:\n  - {kind: content-type, contentType: \"text/\"}\n"), "is not a media type", 5},
		{"tls with a path", base("faults:\n  - kind: tls\n    match: {host: graph.microsoft.com, path: WhoAmI}\n"), "faults[0].match: a tls fault matches by host only (match.host); method, path and scope do not apply", 6},
		{"tls without host", base("faults:\n  - {kind: tls, times: 1}\n"), "a tls fault needs match.host", 5},
		{"wrong-audience with scope", base("faults:\n  - kind: wrong-audience\n    match: {scope: inner}\n"), "a wrong-audience fault matches by host only", 6},
		{"bad grant consent type", base("oauth2PermissionGrants:\n  - {id: g, clientId: 0a0a0a0a-1111-4222-8333-444444444444, resourceId: 0a0a0a0a-1111-4222-8333-444444444444, consentType: Everyone}\n"), "must be AllPrincipals or Principal", 5},
		{"bad conditional access policy", base("sharePoint: {adminUrl: https://a-admin.sharepoint.com, conditionalAccessPolicy: Maybe}\n"), `"Maybe" is not one of`, 4},
		{"group setting without template", base("groupSettings:\n  - {displayName: Group.Unified}\n"), "groupSettings[0].templateId: required (a GUID)", 5},
		{"group setting twice", base("groupSettings:\n  - {displayName: Group.Unified, templateId: 62375ab9-6b52-47ed-826b-58e47e0e304b}\n  - {displayName: Group.Unified, templateId: 62375AB9-6B52-47ED-826B-58E47E0E304B}\n"), "one settings object per template", 6},
		{"group setting value without name", base("groupSettings:\n  - displayName: Group.Unified\n    templateId: 62375ab9-6b52-47ed-826b-58e47e0e304b\n    values: [{value: x}]\n"), "groupSettings[0].values[0].name: required", 0},
		{"yaml syntax", "tenant: {id: [\n", "", 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := ParseScenario([]byte(tc.yaml), tc.name)
			if err == nil {
				t.Fatal("ParseScenario succeeded, want error")
			}
			var se *ScenarioError
			if !errors.As(err, &se) {
				t.Fatalf("error %T is not *ScenarioError: %v", err, err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q lacks %q", err, tc.want)
			}
			if !strings.Contains(err.Error(), `scenario "`+tc.name+`"`) {
				t.Errorf("error %q does not name the scenario", err)
			}
			if tc.line > 0 {
				found := false
				for _, p := range se.Problems {
					if p.Line == tc.line {
						found = true
					}
				}
				if !found {
					t.Errorf("no problem on line %d: %+v", tc.line, se.Problems)
				}
			}
		})
	}
}

func TestScenarioSecretEnv(t *testing.T) {
	t.Setenv("TEAMSLINK_EMULATOR_TEST_SECRET", "from-the-environment")
	sc := parseInline(t, "secret-env", strings.Replace(appScenario, "secret: app-secret-value", "secretEnv: TEAMSLINK_EMULATOR_TEST_SECRET", 1))
	s := startServer(t, Options{}, sc)
	getToken(t, s, appTenant, appClient, "from-the-environment", appEnv+"/.default")
}

func TestNewRejectsConflicts(t *testing.T) {
	t.Parallel()
	a := parseInline(t, "a", appScenario)
	b := parseInline(t, "b", appScenario)
	if _, err := New(Options{Clock: time.Now, Scenarios: []*Scenario{a, b}}); err == nil || !strings.Contains(err.Error(), "both use tenant name") {
		t.Errorf("same tenant twice: err = %v", err)
	}
	c := parseInline(t, "c", strings.NewReplacer("11111111-2222-4333-8444-555555555555", "21111111-2222-4333-8444-555555555555", "apptest.onmicrosoft.com", "other.onmicrosoft.com", "apptest-admin", "other-admin").Replace(appScenario))
	if _, err := New(Options{Clock: time.Now, Scenarios: []*Scenario{a, c}}); err == nil || !strings.Contains(err.Error(), "both serve apptest.crm.dynamics.com") {
		t.Errorf("same environment host twice: err = %v", err)
	}
	if _, err := New(Options{}); err == nil {
		t.Error("New without scenarios succeeded")
	}
}

func TestLoadScenarioMissingFile(t *testing.T) {
	t.Parallel()
	_, err := LoadScenario(filepath.Join(t.TempDir(), "nope.yaml"))
	if !errors.Is(err, os.ErrNotExist) {
		t.Errorf("err = %v, want not exist", err)
	}
}

// hostileScenario is a scenario built to hurt a YAML decoder, and the
// problem ParseScenario must report for it.
type hostileScenario struct {
	name    string
	doc     []byte
	line    int
	message string
	kind    error
}

// hostileScenarios reproduces each way a scenario file used to hurt the
// emulator through go-yaml: a panic, an alias bomb that took 40 s and more
// than 4 GB, nesting, keys and documents whose cost grows with the square
// of their number, a file past the size limit.
func hostileScenarios() []hostileScenario {
	var bomb strings.Builder
	bomb.WriteString("tenant:\n  id: 11111111-2222-4333-8444-555555555555\n  domains:\n    - &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n")
	for i := 1; i < 9; i++ {
		fmt.Fprintf(&bomb, "    - &a%d [%s]\n", i, strings.TrimSuffix(strings.Repeat(fmt.Sprintf("*a%d, ", i-1), 9), ", "))
	}
	var block strings.Builder
	block.WriteString("environments:\n  - organization:\n")
	for i := range 100 {
		block.WriteString("      " + strings.Repeat("  ", i) + "k:\n")
	}
	var keys strings.Builder
	keys.WriteString("environments:\n  - organization:\n")
	for i := range 5_000 {
		fmt.Fprintf(&keys, "      c%d: v\n", i)
	}
	return []hostileScenario{
		{"tag that panics go-yaml", []byte("clients: !foo bar\n"), 1, "YAML tags (!name, !!type) are not supported in this file", yamlguard.ErrTag},
		{"alias bomb", []byte(bomb.String()), 9, "expanding this alias takes the document past 250000 YAML nodes (an alias bomb?)", yamlguard.ErrTooMany},
		{"recursive alias", []byte("caller: &c {type: app, objectId: *c}\n"), 1, "alias refers to an anchor that contains it (a recursive structure)", yamlguard.ErrAlias},
		{"deep flow nesting", []byte("tenant: " + strings.Repeat("[", 10_000) + strings.Repeat("]", 10_000) + "\n"), 1, "nested more than 32 levels deep", yamlguard.ErrTooDeep},
		{"deep block nesting in a row", []byte(block.String()), 32, "nested more than 32 levels deep", yamlguard.ErrTooDeep},
		{"many columns, whose parse takes the square of their number", []byte(keys.String()), 503, "a mapping of more than 500 keys", yamlguard.ErrTooMany},
		{"many documents, whose parse takes the square of their number", bytes.Repeat([]byte("--- {}\n"), 5_000), 17, "more than 16 YAML documents", yamlguard.ErrTooMany},
		{"oversize", append([]byte("description: x\n"), bytes.Repeat([]byte("#"), 1<<20)...), 0, "larger than 1 MiB, the limit for this file", yamlguard.ErrTooLarge},
	}
}

// TestParseScenarioHostile: each hostile scenario is refused at once with
// its line, and LoadScenario's error names the file as file:line: message.
func TestParseScenarioHostile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for _, tt := range hostileScenarios() {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(dir, strings.ReplaceAll(tt.name, " ", "-")+".yaml")
			if err := os.WriteFile(path, tt.doc, 0o600); err != nil {
				t.Fatal(err)
			}
			var parseErr, loadErr error
			done := make(chan struct{})
			go func() {
				defer close(done)
				_, parseErr = ParseScenario(tt.doc, "hostile")
				_, loadErr = LoadScenario(path)
			}()
			select {
			case <-done:
			case <-time.After(5 * time.Second):
				t.Fatal("still decoding after 5s")
			}
			var se *ScenarioError
			if !errors.As(parseErr, &se) || !errors.Is(parseErr, tt.kind) {
				t.Fatalf("ParseScenario = %v, want a *ScenarioError of kind %v", parseErr, tt.kind)
			}
			if want := (Problem{Line: tt.line, Message: tt.message}); len(se.Problems) != 1 || se.Problems[0] != want {
				t.Fatalf("ParseScenario problems = %+v, want %+v", se.Problems, want)
			}
			want := path + ":" + fmt.Sprint(tt.line) + ": " + tt.message
			if tt.line == 0 {
				want = path + ": " + tt.message
			}
			if loadErr == nil || loadErr.Error() != want {
				t.Fatalf("LoadScenario error\n got: %v\nwant: %s", loadErr, want)
			}
		})
	}
}

// TestLoadScenarioCancelled: a cancelled context (SIGINT, SIGTERM) stops
// loading; the error says so and names the file or directory.
func TestLoadScenarioCancelled(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	file := filepath.Join(scenarioDir, "ready.yaml")
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, names string
		run         func() error
	}{
		{"ParseScenarioContext", "ready", func() error { _, err := ParseScenarioContext(ctx, data, "ready"); return err }},
		{"LoadScenarioContext", file, func() error { _, err := LoadScenarioContext(ctx, file); return err }},
		{"LoadScenariosContext", scenarioDir, func() error { _, err := LoadScenariosContext(ctx, scenarioDir); return err }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := tt.run()
			if !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), tt.names) {
				t.Fatalf("%s = %v, want context.Canceled naming %s", tt.name, err, tt.names)
			}
		})
	}
}
