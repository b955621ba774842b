package policies_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/open-policy-agent/opa/v1/ast"

	"github.com/teamslink/teamslink/policies"
)

var update = flag.Bool("update", false, "rewrite capabilities.json from this OPA version's capabilities")

// banned reports whether a builtin reaches the network or the process
// environment, and so must not be available to policies.
func banned(name string) bool {
	return name == "http.send" || name == "opa.runtime" || strings.HasPrefix(name, "net.")
}

// generateCapabilities renders this OPA version's capabilities minus the
// banned builtins, with allow_net empty (no host may be contacted, e.g. for
// remote JSON Schema references).
func generateCapabilities() ([]byte, error) {
	c := ast.CapabilitiesForThisVersion()
	kept := c.Builtins[:0]
	for _, b := range c.Builtins {
		if !banned(b.Name) {
			kept = append(kept, b)
		}
	}
	c.Builtins = kept

	// AllowNet is omitempty: an empty list would vanish and mean "any host".
	raw, err := json.Marshal(c)
	if err != nil {
		return nil, fmt.Errorf("marshal capabilities: %w", err)
	}
	var doc map[string]any
	if err := json.Unmarshal(raw, &doc); err != nil {
		return nil, fmt.Errorf("unmarshal capabilities: %w", err)
	}
	doc["allow_net"] = []string{}

	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return nil, fmt.Errorf("encode capabilities: %w", err)
	}
	return buf.Bytes(), nil
}

func loadCapabilities(t *testing.T) *ast.Capabilities {
	t.Helper()
	caps, err := ast.LoadCapabilitiesJSON(bytes.NewReader(policies.Capabilities))
	if err != nil {
		t.Fatalf("load capabilities.json: %v", err)
	}
	return caps
}

// TestCapabilitiesUpToDate keeps capabilities.json equal to what this OPA
// version generates; run with -update after an OPA upgrade.
func TestCapabilitiesUpToDate(t *testing.T) {
	want, err := generateCapabilities()
	if err != nil {
		t.Fatal(err)
	}
	if *update {
		if err := os.WriteFile("capabilities.json", want, 0o644); err != nil {
			t.Fatalf("write capabilities.json: %v", err)
		}
		return
	}
	if !bytes.Equal(policies.Capabilities, want) {
		t.Fatal("capabilities.json is stale for this OPA version; run: go test ./policies -run TestCapabilitiesUpToDate -update")
	}
}

func TestCapabilitiesHaveNoNetworkBuiltins(t *testing.T) {
	t.Parallel()
	caps := loadCapabilities(t)

	for _, b := range caps.Builtins {
		if banned(b.Name) {
			t.Errorf("capabilities.json allows banned builtin %s", b.Name)
		}
	}
	if caps.AllowNet == nil || len(caps.AllowNet) != 0 {
		t.Errorf("allow_net = %v, want an empty list (no host)", caps.AllowNet)
	}

	tests := []struct {
		name    string
		builtin string
		want    bool
	}{
		{name: "http.send removed", builtin: "http.send", want: false},
		{name: "net.lookup_ip_addr removed", builtin: "net.lookup_ip_addr", want: false},
		{name: "net.cidr_contains removed", builtin: "net.cidr_contains", want: false},
		{name: "opa.runtime removed", builtin: "opa.runtime", want: false},
		{name: "sprintf kept", builtin: "sprintf", want: true},
		{name: "json.patch kept", builtin: "json.patch", want: true},
		{name: "rego.parse_module kept", builtin: "rego.parse_module", want: true},
		{name: "rego.metadata.rule kept", builtin: "rego.metadata.rule", want: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := caps.ContainsBuiltin(tt.builtin); got != tt.want {
				t.Errorf("ContainsBuiltin(%q) = %v, want %v", tt.builtin, got, tt.want)
			}
		})
	}
}

// TestCapabilitiesRejectBannedBuiltins proves a policy calling a banned
// builtin does not compile against capabilities.json.
func TestCapabilitiesRejectBannedBuiltins(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		body string
	}{
		{name: "http.send", body: `x := http.send({"method": "GET", "url": "https://example.com"})`},
		{name: "net.lookup_ip_addr", body: `x := net.lookup_ip_addr("example.com")`},
		{name: "opa.runtime", body: `x := opa.runtime().env`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			src := "package teamslink.custom.banned\n\nallow if {\n\t" + tt.body + "\n\tx\n}\n"
			mod, err := ast.ParseModuleWithOpts("banned.rego", src, ast.ParserOptions{RegoVersion: ast.RegoV1})
			if err != nil {
				t.Fatalf("parse: %v", err)
			}
			c := ast.NewCompiler().WithCapabilities(loadCapabilities(t)).WithStrict(true)
			c.Compile(map[string]*ast.Module{"banned.rego": mod})
			if !c.Failed() {
				t.Fatalf("policy calling %s compiled against capabilities.json", tt.name)
			}
			if !strings.Contains(c.Errors.Error(), "undefined function") {
				t.Errorf("error = %v, want an undefined function error", c.Errors)
			}
		})
	}
}
