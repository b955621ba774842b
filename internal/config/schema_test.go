package config

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/goccy/go-yaml"
	"github.com/invopop/jsonschema"
	schemav6 "github.com/santhosh-tekuri/jsonschema/v6"
	k8syaml "sigs.k8s.io/yaml"

	"github.com/teamslink/teamslink/internal/cloud"
	"github.com/teamslink/teamslink/internal/finding"
)

// The committed copies of the schema: the embedded one and the one docs
// link to. Both are rewritten by go test ./internal/config -update.
var schemaFiles = []string{"schema/tenants.schema.json", "../../docs/tenants.schema.json"}

// generateSchema reflects the JSON Schema of tenants.yaml from Config: key
// names from the yaml tags, descriptions from the doc comments of this
// package's source, enumerations from the lists the validator uses. It is
// draft-07 and has no references, the dialect yaml-language-server reads.
func generateSchema() ([]byte, error) {
	r := &jsonschema.Reflector{
		FieldNameTag:               "yaml",
		DoNotReference:             true,
		RequiredFromJSONSchemaTags: true, // no tags: the required keys are set below
		Mapper:                     schemaType,
	}
	if err := r.AddGoComments("github.com/teamslink/teamslink/internal/config", "."); err != nil {
		return nil, fmt.Errorf("read doc comments: %w", err)
	}
	s := r.Reflect(&Config{})
	s.Version = "http://json-schema.org/draft-07/schema#"
	s.ID = jsonschema.ID(SchemaURL)
	s.Title = "teamslink tenants.yaml"
	s.Description = "The tenants teamslink scans, how it signs in to each and the Dataverse environments to assess. " +
		"teamslink config check validates a file fully; this schema lets an editor check keys, types and values as they are typed."

	tenant := schemaAt(s, "tenants").Items
	env := schemaAt(tenant, "environments").Items
	waiver := schemaAt(s, "waivers").Items
	s.Required = []string{"tenants"}
	schemaAt(s, "tenants").MinItems = ptr(uint64(1))
	tenant.Required = []string{"id", "auth"}
	schemaAt(tenant, "auth").Required = []string{"method"}
	env.Required = []string{"url"}
	waiver.Required = []string{"rule", "reason", "owner", "expires"}
	discover := schemaAt(tenant, "discover")
	foldEnum(schemaAt(discover, "types").Items, EnvironmentTypes)
	foldEnum(schemaAt(discover, "states").Items, EnvironmentStates)

	out, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encode schema: %w", err)
	}
	return append(out, '\n'), nil
}

// schemaType gives the named string types of the config their enumeration
// and a duration its Go spelling.
func schemaType(t reflect.Type) *jsonschema.Schema {
	enum := func(desc string, values ...string) *jsonschema.Schema {
		s := &jsonschema.Schema{Type: "string", Description: desc}
		for _, v := range values {
			s.Enum = append(s.Enum, v)
		}
		return s
	}
	switch t {
	case reflect.TypeFor[time.Duration]():
		return &jsonschema.Schema{Type: "string", Pattern: `^(0|([0-9]+(\.[0-9]*)?|\.[0-9]+)(ns|us|µs|ms|s|m|h))+$`}
	case reflect.TypeFor[cloud.Name]():
		return enum("", strs(cloud.Names())...)
	case reflect.TypeFor[finding.Experience]():
		return enum("", strs(finding.Experiences)...)
	case reflect.TypeFor[Method]():
		return enum("", strs(Methods)...)
	case reflect.TypeFor[Profile]():
		return enum("", strs(Profiles)...)
	case reflect.TypeFor[DiscoverySource]():
		return enum("", strs(DiscoverySources)...)
	}
	return nil
}

// foldEnum makes s accept values case-insensitively, as the validator
// does, while still offering the canonical spellings for completion.
func foldEnum(s *jsonschema.Schema, values []string) {
	var alts []string
	for _, v := range values {
		var b strings.Builder
		for _, r := range v {
			lo, up := strings.ToLower(string(r)), strings.ToUpper(string(r))
			if lo == up {
				b.WriteString(regexp.QuoteMeta(lo))
				continue
			}
			b.WriteString("[" + up + lo + "]")
		}
		alts = append(alts, b.String())
	}
	canonical := &jsonschema.Schema{}
	for _, v := range values {
		canonical.Enum = append(canonical.Enum, v)
	}
	s.AnyOf = []*jsonschema.Schema{canonical, {Pattern: "^(" + strings.Join(alts, "|") + ")$"}}
}

// schemaAt is the schema of property key of s; it panics on a key the
// types lack, so a renamed field fails the test loudly.
func schemaAt(s *jsonschema.Schema, key string) *jsonschema.Schema {
	p, ok := s.Properties.Get(key)
	if !ok {
		panic("schema has no property " + key)
	}
	return p
}

func strs[S ~string](xs []S) []string {
	out := make([]string, len(xs))
	for i, x := range xs {
		out[i] = string(x)
	}
	return out
}

func ptr[T any](v T) *T { return &v }

// TestSchemaUpToDate fails when a committed schema differs from what the
// config types generate. Refresh with: go test ./internal/config -update
func TestSchemaUpToDate(t *testing.T) {
	t.Parallel()
	want, err := generateSchema()
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range schemaFiles {
		if *update {
			if err := os.WriteFile(path, want, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		got, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (run go test ./internal/config -update)", err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s is stale: run go test ./internal/config -update", path)
		}
	}
	if !*update && !bytes.Equal(Schema(), want) {
		t.Errorf("the embedded schema is stale: run go test ./internal/config -update")
	}
}

// compileSchema compiles the embedded schema with an independent validator.
func compileSchema(t *testing.T) *schemav6.Schema {
	t.Helper()
	doc, err := schemav6.UnmarshalJSON(bytes.NewReader(Schema()))
	if err != nil {
		t.Fatal(err)
	}
	c := schemav6.NewCompiler()
	if err := c.AddResource(SchemaURL, doc); err != nil {
		t.Fatal(err)
	}
	s, err := c.Compile(SchemaURL)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// validateYAML checks one YAML document against the schema.
func validateYAML(s *schemav6.Schema, data []byte) error {
	js, err := yaml.YAMLToJSON(data)
	if err != nil {
		return fmt.Errorf("convert to json: %w", err)
	}
	v, err := schemav6.UnmarshalJSON(bytes.NewReader(js))
	if err != nil {
		return fmt.Errorf("decode json: %w", err)
	}
	return s.Validate(v)
}

// exampleConfigs are every config the repository ships as valid: the
// loader's valid-*.yaml, the demo fleet, the CI example, the deploy/
// ConfigMap and the full examples of docs/configuration.md.
func exampleConfigs(t *testing.T) map[string][]byte {
	t.Helper()
	files, err := filepath.Glob("testdata/valid-*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	files = append(files, "../../testdata/demo/tenants.yaml", "../../docs/ci/tenants.yaml")
	out := map[string][]byte{}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		out[f] = data
	}
	cm, err := os.ReadFile("../../deploy/kubernetes/base/configmap.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var m struct {
		Data map[string]string `json:"data"`
	}
	if err := k8syaml.Unmarshal(cm, &m); err != nil {
		t.Fatal(err)
	}
	if m.Data["tenants.yaml"] == "" {
		t.Fatal("deploy ConfigMap has no tenants.yaml")
	}
	out["deploy ConfigMap"] = []byte(m.Data["tenants.yaml"])
	doc, err := os.ReadFile("../../docs/configuration.md")
	if err != nil {
		t.Fatal(err)
	}
	for i, b := range regexp.MustCompile("(?s)```yaml\n(.*?)```").FindAllSubmatch(doc, -1) {
		if regexp.MustCompile(`(?m)^tenants:`).Match(b[1]) {
			out[fmt.Sprintf("docs/configuration.md example %d", i)] = b[1]
		}
	}
	return out
}

// TestSchemaAcceptsExamples validates every shipped config against the
// schema, after checking the loader accepts it, so the schema is never
// stricter than teamslink.
func TestSchemaAcceptsExamples(t *testing.T) {
	t.Parallel()
	s := compileSchema(t)
	configs := exampleConfigs(t)
	names := slices.Sorted(func(yield func(string) bool) {
		for k := range configs {
			if !yield(k) {
				return
			}
		}
	})
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if err := validateYAML(s, configs[name]); err != nil {
				t.Errorf("schema refuses %s:\n%v", name, err)
			}
		})
	}
}

// TestSchemaRefusesInvalid checks the invalid configs whose fault the
// schema can express (an unknown key, a wrong type, a value outside an
// enumeration, a missing required key) are refused by it too.
func TestSchemaRefusesInvalid(t *testing.T) {
	t.Parallel()
	s := compileSchema(t)
	tests := []struct {
		file string
		want string // a fragment of the validator's message
	}{
		{"invalid-unknown-key.yaml", "additional properties 'tabels'"},
		{"invalid-discover-unknown-key.yaml", "additional properties"},
		{"invalid-reserved-key.yaml", "additional properties"},
		{"invalid-type.yaml", "want array"},
		{"invalid-type-bool.yaml", "want boolean"},
		{"invalid-type-mapping.yaml", "want"},
		{"invalid-cloud.yaml", "value must be one of"},
		{"invalid-defaults-cloud.yaml", "value must be one of"},
		{"invalid-experience.yaml", "value must be one of"},
		{"invalid-profile.yaml", "value must be one of"},
		{"invalid-auth-method-unknown.yaml", "value must be one of"},
		{"invalid-auth-method-missing.yaml", "missing property 'method'"},
		{"invalid-discover-source.yaml", "value must be one of"},
		{"invalid-discover-type.yaml", "'anyOf' failed"},
		{"invalid-discover-state.yaml", "'anyOf' failed"},
		{"invalid-env-url-missing.yaml", "missing property 'url'"},
		{"invalid-tenant-id-missing.yaml", "missing property 'id'"},
		{"invalid-no-tenants.yaml", ""},
		{"invalid-waiver-incomplete.yaml", "missing propert"},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			t.Parallel()
			data, err := os.ReadFile(filepath.Join("testdata", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := Parse(data, tt.file); err == nil {
				t.Fatalf("the loader accepts %s; it is no longer an invalid example", tt.file)
			}
			err = validateYAML(s, data)
			if err == nil {
				t.Fatalf("schema accepts %s", tt.file)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("schema refuses %s with\n%v\nwant a message containing %q", tt.file, err, tt.want)
			}
		})
	}
}
