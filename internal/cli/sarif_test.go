package cli_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// repoRoot is the repository root seen from this package, given as
// --sarif-root so the tests do not depend on a .git directory.
var repoRoot = filepath.Join("..", "..")

var (
	sarifSchemaOnce sync.Once
	sarifSchema     *jsonschema.Schema
	sarifSchemaErr  error
)

// validateSARIF checks b against the official SARIF 2.1.0 schema (the copy
// the report package tests with) and GitHub's upload rules that a file
// from the CLI can break: a uri relative to the root and a region on every
// result, a fingerprint, a message, one category.
func validateSARIF(t *testing.T, b []byte) sarifFile {
	t.Helper()
	sarifSchemaOnce.Do(func() {
		c := jsonschema.NewCompiler()
		c.AssertFormat()
		sarifSchema, sarifSchemaErr = c.Compile(filepath.Join(repoRoot, "report", "testdata", "sarif-schema-2.1.0.json"))
	})
	if sarifSchemaErr != nil {
		t.Fatalf("compile the SARIF schema: %v", sarifSchemaErr)
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("parse SARIF: %v", err)
	}
	if err := sarifSchema.Validate(inst); err != nil {
		t.Fatalf("SARIF does not match the schema: %v", err)
	}
	var f sarifFile
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatal(err)
	}
	if len(f.Runs) != 1 {
		t.Fatalf("%d runs; want 1", len(f.Runs))
	}
	run := f.Runs[0]
	if id := run.AutomationDetails.ID; !strings.HasSuffix(id, "/") || strings.Count(id, "/") != 1 || len(id) < 2 {
		t.Errorf("automationDetails.id %q; want category/", id)
	}
	for _, res := range run.Results {
		loc := res.Locations[0].PhysicalLocation
		if res.Message.Text == "" || loc.ArtifactLocation.URI == "" || strings.HasPrefix(loc.ArtifactLocation.URI, "..") ||
			strings.HasPrefix(loc.ArtifactLocation.URI, "/") || loc.Region.StartLine < 1 || res.PartialFingerprints["primaryLocationLineHash"] == "" {
			t.Errorf("result %s: message %q, location %s:%d, fingerprint %q", res.RuleID, res.Message.Text,
				loc.ArtifactLocation.URI, loc.Region.StartLine, res.PartialFingerprints["primaryLocationLineHash"])
		}
	}
	return f
}

type sarifFile struct {
	Runs []struct {
		AutomationDetails struct {
			ID string `json:"id"`
		} `json:"automationDetails"`
		Results []struct {
			RuleID  string `json:"ruleId"`
			Message struct {
				Text string `json:"text"`
			} `json:"message"`
			Locations []struct {
				PhysicalLocation struct {
					ArtifactLocation struct {
						URI string `json:"uri"`
					} `json:"artifactLocation"`
					Region struct {
						StartLine int `json:"startLine"`
					} `json:"region"`
				} `json:"physicalLocation"`
			} `json:"locations"`
			PartialFingerprints map[string]string `json:"partialFingerprints"`
		} `json:"results"`
		Properties map[string]any `json:"properties"`
	} `json:"runs"`
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestEvalSARIFSamples writes the SARIF of every sample snapshot: each
// validates and points at the snapshot. Two samples are written twice, and
// the two files are identical (the report tests do that for every fixture).
func TestEvalSARIFSamples(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob(snapshotPath("*"))
	if err != nil || len(files) == 0 {
		t.Fatalf("samples: %v", err)
	}
	for _, file := range files {
		name := strings.TrimSuffix(filepath.Base(file), ".json")
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			runs := 1
			if name == "sp-800503ca-all" || name == "sections-errored" {
				runs = 2
			}
			var outs [][]byte
			for i := range runs {
				out := filepath.Join(dir, name+string(rune('a'+i))+".sarif")
				code, _, errOut := run(t, "eval", file, "--format", "sarif="+out, "--sarif-root", repoRoot)
				if code != 0 && code != 1 && code != 3 {
					t.Fatalf("exit %d: %s", code, errOut)
				}
				outs = append(outs, readFile(t, out))
			}
			if runs == 2 && !bytes.Equal(outs[0], outs[1]) {
				t.Error("two runs wrote different SARIF")
			}
			f := validateSARIF(t, outs[0])
			for _, res := range f.Runs[0].Results {
				if got := res.Locations[0].PhysicalLocation.ArtifactLocation.URI; got != "testdata/snapshots/"+name+".json" {
					t.Errorf("result %s points at %s; want the snapshot", res.RuleID, got)
				}
			}
			if name == "sp-active-sites" && len(f.Runs[0].Results) == 0 {
				t.Error("sp-active-sites fails TL-SP-002, but the SARIF has no result")
			}
		})
	}
}

// TestEvalSARIFWithConfig: with --config, results point at the line of
// tenants.yaml that declares the environment, and the waived finding is
// listed in the run's properties, not a result.
func TestEvalSARIFWithConfig(t *testing.T) {
	t.Parallel()
	cfg := writeConfig(t, waiverConfig)
	dir := filepath.Dir(cfg)
	out := filepath.Join(t.TempDir(), "teamslink.sarif")
	code, _, errOut := run(t, "eval", snapshotPath("sp-active-sites"), "--config", cfg,
		"--format", "table,sarif="+out, "--sarif-root", dir, "--sarif-category", "nightly")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	f := validateSARIF(t, readFile(t, out))
	r := f.Runs[0]
	if r.AutomationDetails.ID != "nightly/" {
		t.Errorf("automationDetails.id %q; want nightly/", r.AutomationDetails.ID)
	}
	for _, res := range r.Results {
		if res.RuleID == "TL-SP-002" {
			t.Errorf("the waived TL-SP-002 is a result")
		}
		loc := res.Locations[0].PhysicalLocation
		if loc.ArtifactLocation.URI != "tenants.yaml" || loc.Region.StartLine != 6 {
			t.Errorf("result %s points at %s:%d; want tenants.yaml:6", res.RuleID, loc.ArtifactLocation.URI, loc.Region.StartLine)
		}
	}
	waived, _ := r.Properties["waived"].([]any)
	if len(waived) != 1 || waived[0].(map[string]any)["owner"] != "crm-admins@tailspin.example" {
		t.Errorf("run properties waived = %v; want TL-SP-002 with its owner", r.Properties["waived"])
	}

	// The config outside --sarif-root: refused, naming both, nothing written.
	other := filepath.Join(t.TempDir(), "other.sarif")
	code, _, errOut = run(t, "eval", snapshotPath("sp-active-sites"), "--config", cfg,
		"--format", "sarif="+other, "--sarif-root", t.TempDir())
	if code != 2 || !strings.Contains(errOut, "not inside the repository root") || !strings.Contains(errOut, cfg) {
		t.Errorf("config outside the root: exit %d, stderr %q; want 2 naming the file", code, errOut)
	}
	if _, err := os.Stat(other); !os.IsNotExist(err) {
		t.Errorf("a refused SARIF file was written: %v", err)
	}
}

// TestEvalSARIFSplit writes one file per tenant, each with its own
// category, and nothing at the path given.
func TestEvalSARIFSplit(t *testing.T) {
	t.Parallel()
	samples := map[string]string{
		"sp-active-sites": "bd9bccd7-843b-5d31-9600-58e608597598",
		"consent-missing": "79037090-f81e-5136-973f-4442e36edd83",
		"ready":           "3f2b8c1e-6d4a-4b7e-9a15-2c8d0e7f4a61",
	}
	dir := t.TempDir()
	out := filepath.Join(dir, "out.sarif")
	args := []string{"eval"}
	for name := range samples {
		args = append(args, snapshotPath(name))
	}
	args = append(args, "--format", "json="+filepath.Join(dir, "report.json")+",sarif="+out, "--sarif-split", "tenant", "--sarif-root", repoRoot)
	if code, _, errOut := run(t, args...); code != 1 {
		t.Fatalf("exit %d, want 1: %s", code, errOut)
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("%s written under --sarif-split: %v", out, err)
	}
	written, _ := filepath.Glob(filepath.Join(dir, "out.*.sarif"))
	if len(written) != len(samples) {
		t.Fatalf("wrote %v; want one file per tenant", written)
	}
	for name, tenant := range samples {
		f := validateSARIF(t, readFile(t, filepath.Join(dir, "out."+tenant+".sarif")))
		if got, want := f.Runs[0].AutomationDetails.ID, "teamslink-"+tenant+"/"; got != want {
			t.Errorf("%s: automationDetails.id %q; want %q", name, got, want)
		}
		for _, res := range f.Runs[0].Results {
			// eval anchors every result at its first snapshot.
			if got, want := res.Locations[0].PhysicalLocation.ArtifactLocation.URI, "testdata/snapshots/"+filepath.Base(args[1]); got != want {
				t.Errorf("%s: result %s points at %s; want %s", name, res.RuleID, got, want)
			}
		}
		if name == "ready" && len(f.Runs[0].Results) != 0 {
			t.Errorf("the ready tenant's file has %d results", len(f.Runs[0].Results))
		}
		if name == "sp-active-sites" && len(f.Runs[0].Results) == 0 {
			t.Error("the sp-active-sites tenant's file has no result")
		}
	}
}

func TestSARIFSplitRefused(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"to standard output", []string{"--format", "sarif", "--sarif-split", "tenant"}, "not standard output"},
		{"no sarif report", []string{"--format", "json=" + filepath.Join(dir, "r.json"), "--sarif-split", "tenant"}, "no sarif report to split"},
		{"unknown split", []string{"--format", "sarif=" + filepath.Join(dir, "r.sarif"), "--sarif-split", "environment"}, `unknown value "environment" (valid: tenant)`},
		{"category with a slash", []string{"--format", "sarif=" + filepath.Join(dir, "r.sarif"), "--sarif-category", "a/b"}, "without \"/\""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			code, out, errOut := run(t, append([]string{"eval", snapshotPath("ready")}, tt.args...)...)
			if code != 2 || !strings.Contains(errOut, tt.want) {
				t.Errorf("exit %d, stderr %q; want 2 and %q", code, errOut, tt.want)
			}
			if out != "" {
				t.Errorf("stdout %q; want nothing", out)
			}
		})
	}
}

// TestSARIFFlagsShown: the flags are documented in --help.
func TestSARIFFlagsShown(t *testing.T) {
	t.Parallel()
	for _, cmd := range []string{"eval", "scan"} {
		_, out, _ := run(t, cmd, "--help")
		for _, flag := range []string{"--sarif-root", "--sarif-anchor", "--sarif-category", "--sarif-split"} {
			if !strings.Contains(out, flag) {
				t.Errorf("%s --help lacks %s", cmd, flag)
			}
		}
	}
}
