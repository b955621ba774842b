package report

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/teamslink/teamslink/internal/finding"
)

// sarifSchemaPath is a verbatim copy of the official OASIS SARIF 2.1.0
// schema (errata 01, draft-04), so the tests need nothing outside the module.
var sarifSchemaPath = filepath.Join("testdata", "sarif-schema-2.1.0.json")

var (
	sarifSchemaOnce sync.Once
	sarifSchema     *jsonschema.Schema
	sarifSchemaErr  error
)

// compileSARIFSchema compiles the official schema once, with format
// assertions on (uri, uri-reference, date-time).
func compileSARIFSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	sarifSchemaOnce.Do(func() {
		c := jsonschema.NewCompiler()
		c.AssertFormat()
		sarifSchema, sarifSchemaErr = c.Compile(sarifSchemaPath)
	})
	if sarifSchemaErr != nil {
		t.Fatalf("compile the SARIF schema: %v", sarifSchemaErr)
	}
	return sarifSchema
}

func sarifOptions() Options { return fixedOptions(false) }

// sarifDoc is the part of a SARIF log the GitHub checks read.
type sarifDoc struct {
	Schema  string `json:"$schema"`
	Version string `json:"version"`
	Runs    []struct {
		AutomationDetails *struct {
			ID string `json:"id"`
		} `json:"automationDetails"`
		Tool struct {
			Driver struct {
				Name            string  `json:"name"`
				Version         *string `json:"version"`
				SemanticVersion *string `json:"semanticVersion"`
				Rules           []struct {
					ID               string `json:"id"`
					Name             string `json:"name"`
					ShortDescription struct {
						Text string `json:"text"`
					} `json:"shortDescription"`
					FullDescription struct {
						Text string `json:"text"`
					} `json:"fullDescription"`
					Help struct {
						Text     string `json:"text"`
						Markdown string `json:"markdown"`
					} `json:"help"`
					HelpURI              string `json:"helpUri"`
					DefaultConfiguration struct {
						Level string `json:"level"`
					} `json:"defaultConfiguration"`
					Properties map[string]any `json:"properties"`
				} `json:"rules"`
			} `json:"driver"`
		} `json:"tool"`
		Results []struct {
			RuleID    string `json:"ruleId"`
			RuleIndex int    `json:"ruleIndex"`
			Level     string `json:"level"`
			Message   struct {
				Text string `json:"text"`
			} `json:"message"`
			Locations []struct {
				PhysicalLocation *struct {
					ArtifactLocation *struct {
						URI string `json:"uri"`
					} `json:"artifactLocation"`
					Region *struct {
						StartLine int `json:"startLine"`
					} `json:"region"`
				} `json:"physicalLocation"`
			} `json:"locations"`
			PartialFingerprints map[string]string `json:"partialFingerprints"`
			Suppressions        []any             `json:"suppressions"`
			Properties          map[string]any    `json:"properties"`
		} `json:"results"`
		Properties map[string]any `json:"properties"`
	} `json:"runs"`
}

func decodeSARIF(t *testing.T, b []byte) sarifDoc {
	t.Helper()
	var d sarifDoc
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatalf("decode SARIF: %v", err)
	}
	return d
}

// fingerprints maps each result's rule, tenant, environment and table to
// its primaryLocationLineHash.
func fingerprints(d sarifDoc) map[string]string {
	out := map[string]string{}
	for _, run := range d.Runs {
		for _, res := range run.Results {
			key := fmt.Sprint(res.RuleID, "|", res.Properties["tenant"], "|", res.Properties["environment"], "|", res.Properties["table"])
			out[key] = res.PartialFingerprints["primaryLocationLineHash"]
		}
	}
	return out
}

// checkGitHubUpload applies GitHub code scanning's upload rules (its SARIF
// support page) to a SARIF file: the required fields present and not
// empty, a location with a repository-relative uri and a region on every
// result, a fingerprint on every result, a category per run and never two
// runs with the same tool and category, at most 20 runs.
func checkGitHubUpload(t *testing.T, b []byte) sarifDoc {
	t.Helper()
	var raw map[string]any
	if err := json.Unmarshal(b, &raw); err != nil {
		t.Fatalf("decode: %v", err)
	}
	for _, key := range []string{"$schema", "version", "runs"} {
		if _, ok := raw[key]; !ok {
			t.Errorf("no %s", key)
		}
	}
	d := decodeSARIF(t, b)
	if d.Schema == "" || d.Version != "2.1.0" {
		t.Errorf("$schema %q, version %q; want a schema and 2.1.0", d.Schema, d.Version)
	}
	if len(d.Runs) == 0 || len(d.Runs) > 20 {
		t.Fatalf("%d runs; want 1 to 20", len(d.Runs))
	}
	categories := map[string]bool{}
	for i, run := range d.Runs {
		if run.Tool.Driver.Name == "" {
			t.Errorf("run %d: empty tool.driver.name", i)
		}
		if run.Tool.Driver.Version != nil && *run.Tool.Driver.Version == "" {
			t.Errorf("run %d: empty tool.driver.version", i)
		}
		if run.AutomationDetails == nil || run.AutomationDetails.ID == "" {
			t.Fatalf("run %d: no automationDetails.id", i)
		}
		id := run.AutomationDetails.ID
		slash := strings.LastIndex(id, "/")
		category := id[:max(slash, 0)]
		if slash != len(id)-1 || category == "" || strings.HasSuffix(category, "/") {
			t.Errorf("run %d: automationDetails.id %q; want one category and a trailing slash", i, id)
		}
		key := run.Tool.Driver.Name + "\x00" + category
		if categories[key] {
			t.Errorf("run %d: a second run of %s with category %q", i, run.Tool.Driver.Name, category)
		}
		categories[key] = true

		rules := map[string]int{}
		for j, rule := range run.Tool.Driver.Rules {
			if rule.ID == "" || rule.Name == "" || rule.ShortDescription.Text == "" || rule.FullDescription.Text == "" ||
				rule.Help.Text == "" || rule.Help.Markdown == "" {
				t.Errorf("rule %d %q: an empty id, name, shortDescription, fullDescription or help", j, rule.ID)
			}
			if n := len([]rune(rule.ShortDescription.Text)); n > 1024 {
				t.Errorf("rule %s: shortDescription of %d characters, over 1024", rule.ID, n)
			}
			if _, dup := rules[rule.ID]; dup {
				t.Errorf("rule %s listed twice", rule.ID)
			}
			rules[rule.ID] = j
			if tags, _ := rule.Properties["tags"].([]any); len(tags) > 20 {
				t.Errorf("rule %s: %d tags, over 20", rule.ID, len(tags))
			}
			if s, ok := rule.Properties["security-severity"]; ok {
				str, isString := s.(string)
				score, err := strconv.ParseFloat(str, 64)
				if !isString || err != nil || score <= 0 || score > 10 {
					t.Errorf("rule %s: security-severity %v; want a string score in (0, 10]", rule.ID, s)
				}
			}
			switch rule.DefaultConfiguration.Level {
			case "error", "warning", "note":
			default:
				t.Errorf("rule %s: default level %q", rule.ID, rule.DefaultConfiguration.Level)
			}
		}
		if len(run.Results) > 25000 {
			t.Errorf("run %d: %d results, over 25,000", i, len(run.Results))
		}
		for j, res := range run.Results {
			where := fmt.Sprintf("run %d result %d (%s)", i, j, res.RuleID)
			idx, ok := rules[res.RuleID]
			if !ok || res.RuleIndex != idx {
				t.Errorf("%s: rule not listed, or ruleIndex %d is not its index %d", where, res.RuleIndex, idx)
			}
			if strings.TrimSpace(res.Message.Text) == "" {
				t.Errorf("%s: empty message.text", where)
			}
			switch res.Level {
			case "error", "warning", "note":
			default:
				t.Errorf("%s: level %q", where, res.Level)
			}
			if len(res.Locations) == 0 || len(res.Locations) > 10 {
				t.Fatalf("%s: %d locations; want 1 to 10", where, len(res.Locations))
			}
			pl := res.Locations[0].PhysicalLocation
			if pl == nil || pl.ArtifactLocation == nil || pl.ArtifactLocation.URI == "" || pl.Region == nil {
				t.Fatalf("%s: no physicalLocation with an artifactLocation.uri and a region", where)
			}
			uri := pl.ArtifactLocation.URI
			if strings.HasPrefix(uri, "/") || strings.Contains(uri, "://") || strings.Contains(uri, `\`) || strings.HasPrefix(uri, "..") {
				t.Errorf("%s: uri %q is not relative to the repository", where, uri)
			}
			if pl.Region.StartLine < 1 {
				t.Errorf("%s: region.startLine %d", where, pl.Region.StartLine)
			}
			if res.PartialFingerprints["primaryLocationLineHash"] == "" {
				t.Errorf("%s: no partialFingerprints.primaryLocationLineHash", where)
			}
		}
	}
	return d
}

// TestSARIFMatchesSchema validates the SARIF of every fixture, as rendered
// now and as its golden file holds it, against the official schema.
func TestSARIFMatchesSchema(t *testing.T) {
	t.Parallel()
	sch := compileSARIFSchema(t)
	for _, fx := range fixtures() {
		t.Run("rendered/"+fx.name, func(t *testing.T) {
			t.Parallel()
			if err := sch.Validate(decodeInstance(t, render(t, "sarif", fx.report, sarifOptions()))); err != nil {
				t.Fatalf("SARIF of fixture %s does not match the schema: %v", fx.name, err)
			}
		})
		if *update {
			continue
		}
		t.Run("golden/"+fx.name, func(t *testing.T) {
			t.Parallel()
			b, err := os.ReadFile(filepath.Join("testdata", fx.name+".sarif.golden"))
			if err != nil {
				t.Fatal(err)
			}
			if err := sch.Validate(decodeInstance(t, b)); err != nil {
				t.Fatalf("the golden SARIF of %s does not match the schema: %v", fx.name, err)
			}
		})
	}
}

// TestSARIFSchemaIsStrict proves the schema check would catch a broken
// document: the copy is the real schema, not a permissive one.
func TestSARIFSchemaIsStrict(t *testing.T) {
	t.Parallel()
	sch := compileSARIFSchema(t)
	base := render(t, "sarif", newReport(blockedEnv()), sarifOptions())
	tests := []struct {
		name   string
		mutate func(d map[string]any)
	}{
		{"wrong version", func(d map[string]any) { d["version"] = "2.2.0" }},
		{"unknown top-level key", func(d map[string]any) { d["extra"] = 1 }},
		{"bad level", func(d map[string]any) { firstSARIFResult(d)["level"] = "fatal" }},
		{"start line zero", func(d map[string]any) {
			loc := firstSARIFResult(d)["locations"].([]any)[0].(map[string]any)
			loc["physicalLocation"].(map[string]any)["region"].(map[string]any)["startLine"] = 0
		}},
		{"message without text", func(d map[string]any) { firstSARIFResult(d)["message"] = map[string]any{} }},
		{"uri not a reference", func(d map[string]any) {
			loc := firstSARIFResult(d)["locations"].([]any)[0].(map[string]any)
			loc["physicalLocation"].(map[string]any)["artifactLocation"].(map[string]any)["uri"] = "a b\\c%zz"
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			doc := decodeInstance(t, base).(map[string]any)
			tt.mutate(doc)
			if err := sch.Validate(doc); err == nil {
				t.Fatal("the schema accepted a broken document")
			}
		})
	}
}

func firstSARIFResult(d map[string]any) map[string]any {
	return d["runs"].([]any)[0].(map[string]any)["results"].([]any)[0].(map[string]any)
}

// TestSARIFGitHubUploadRules checks every fixture's SARIF against GitHub's
// upload rules, twice: the two files are the same byte for byte, so their
// fingerprints are too.
func TestSARIFGitHubUploadRules(t *testing.T) {
	t.Parallel()
	for _, fx := range fixtures() {
		t.Run(fx.name, func(t *testing.T) {
			t.Parallel()
			first := render(t, "sarif", fx.report, sarifOptions())
			d := checkGitHubUpload(t, first)
			second := render(t, "sarif", fx.report, sarifOptions())
			if !bytes.Equal(first, second) {
				t.Fatal("two runs on the same report give different SARIF")
			}
			if got, want := fingerprints(checkGitHubUpload(t, second)), fingerprints(d); !maps.Equal(got, want) {
				t.Errorf("fingerprints differ between two runs:\n%v\n%v", got, want)
			}
			if d.Runs[0].AutomationDetails.ID != "teamslink/" {
				t.Errorf("automationDetails.id %q; want teamslink/", d.Runs[0].AutomationDetails.ID)
			}
		})
	}
}

// TestSARIFResultsNeedAttention: a result for each fail, warn and error
// finding and each failed sign-in, none for pass, skip, manual or waived;
// no error finding and no BLOCKED, BROKEN or UNKNOWN environment goes
// without one (never a false pass).
func TestSARIFResultsNeedAttention(t *testing.T) {
	t.Parallel()
	for _, fx := range fixtures() {
		t.Run(fx.name, func(t *testing.T) {
			t.Parallel()
			d := decodeSARIF(t, render(t, "sarif", fx.report, sarifOptions()))
			got := map[string]string{} // fingerprint → level
			perEnv := map[string]int{}
			signIns := 0
			for _, res := range d.Runs[0].Results {
				got[res.PartialFingerprints["primaryLocationLineHash"]] = res.Level
				if env, _ := res.Properties["environment"].(string); env != "" {
					perEnv[env]++
				}
				if res.RuleID == SARIFSignInRule {
					signIns++
				}
				if len(res.Suppressions) > 0 {
					t.Errorf("result %s is suppressed: GitHub would show it anyway", res.RuleID)
				}
			}
			want := 0
			for _, e := range fx.report.Environments {
				for _, f := range e.Findings {
					level, ok := got[SARIFFingerprint(f.Key)]
					switch f.Status {
					case finding.StatusFail, finding.StatusWarn, finding.StatusError:
						want++
						if !ok {
							t.Errorf("%s (%s): no result", f.Key, f.Status)
						}
						if f.Status == finding.StatusError && level != "error" {
							t.Errorf("%s could not be assessed, but its level is %q", f.Key, level)
						}
					default:
						if ok {
							t.Errorf("%s (%s): a result, for a finding that needs no attention", f.Key, f.Status)
						}
					}
				}
				for _, v := range e.Verdicts {
					switch v.Readiness {
					case finding.Blocked, finding.Broken, finding.Unknown:
						if perEnv[e.URL] == 0 {
							t.Errorf("%s is %s for %s, with no result", e.URL, v.Readiness, v.Experience)
						}
					}
				}
			}
			if signIns != len(fx.report.SignInErrors) {
				t.Errorf("%d sign-in results; want %d", signIns, len(fx.report.SignInErrors))
			}
			if n := len(d.Runs[0].Results); n != want+signIns {
				t.Errorf("%d results; want %d", n, want+signIns)
			}
		})
	}
}

func TestSARIFWaivedAreListedNotResults(t *testing.T) {
	t.Parallel()
	d := decodeSARIF(t, render(t, "sarif", newReport(blockedEnv()), sarifOptions()))
	waived, _ := d.Runs[0].Properties["waived"].([]any)
	if len(waived) != 1 {
		t.Fatalf("run properties waived = %v; want the one waived finding", d.Runs[0].Properties["waived"])
	}
	w := waived[0].(map[string]any)
	if w["rule"] != "TL-ROLE-002" || w["owner"] != "it-ops@fabrikam.example" || w["expires"] != "2026-12-31" || w["reason"] == "" || w["was"] != "fail" {
		t.Errorf("waived = %v", w)
	}
	fleet := decodeSARIF(t, render(t, "sarif", fleetReport(), sarifOptions()))
	if notices, _ := fleet.Runs[0].Properties["waiversNotApplied"].([]any); len(notices) != 2 {
		t.Errorf("waiversNotApplied = %v; want the expired and the unmatched waiver", fleet.Runs[0].Properties["waiversNotApplied"])
	}
}

func TestSARIFSignIn(t *testing.T) {
	t.Parallel()
	d := checkGitHubUpload(t, render(t, "sarif", signInReport(), sarifOptions()))
	var found bool
	for _, res := range d.Runs[0].Results {
		if res.RuleID != SARIFSignInRule {
			continue
		}
		found = true
		for _, want := range []string{"Fabrikam", fabrikamID, "client-secret", "AADSTS7000215", "Check the client secret"} {
			if !strings.Contains(res.Message.Text, want) {
				t.Errorf("sign-in message %q lacks %q", res.Message.Text, want)
			}
		}
		if res.Level != "error" {
			t.Errorf("sign-in level %q; want error", res.Level)
		}
	}
	if !found {
		t.Fatal("no TL-SIGNIN result")
	}
}

// TestSARIFReadinessGuard: a report whose verdict says BLOCKED while no
// finding fails (hand-made, or from a broken writer) still gets a result.
func TestSARIFReadinessGuard(t *testing.T) {
	t.Parallel()
	e := readyEnv()
	e.Verdicts[0].Readiness = finding.Blocked
	d := checkGitHubUpload(t, render(t, "sarif", newReport(e), sarifOptions()))
	if len(d.Runs[0].Results) != 1 || d.Runs[0].Results[0].RuleID != SARIFReadinessRule {
		t.Fatalf("results = %+v; want one %s", d.Runs[0].Results, SARIFReadinessRule)
	}
	if !strings.Contains(d.Runs[0].Results[0].Message.Text, "basic BLOCKED") {
		t.Errorf("message %q does not say what the verdict is", d.Runs[0].Results[0].Message.Text)
	}
}

// TestSARIFFingerprintIgnoresLines: moving the lines that declare the
// environments moves the regions, never the fingerprints.
func TestSARIFFingerprintIgnoresLines(t *testing.T) {
	t.Parallel()
	before := fleetReport()
	after := fleetReport()
	for i := range after.Environments {
		after.Environments[i].DeclaredAt.Line += 17
	}
	a := decodeSARIF(t, render(t, "sarif", before, sarifOptions()))
	b := decodeSARIF(t, render(t, "sarif", after, sarifOptions()))
	if !maps.Equal(fingerprints(a), fingerprints(b)) {
		t.Error("fingerprints changed when only the lines moved")
	}
	for i := range a.Runs[0].Results {
		la := a.Runs[0].Results[i].Locations[0].PhysicalLocation.Region.StartLine
		lb := b.Runs[0].Results[i].Locations[0].PhysicalLocation.Region.StartLine
		if lb != la+17 {
			t.Errorf("result %d: line %d then %d; want it moved by 17", i, la, lb)
		}
	}
	if len(fingerprints(a)) != len(a.Runs[0].Results) {
		t.Errorf("%d distinct fingerprints for %d results", len(fingerprints(a)), len(a.Runs[0].Results))
	}
}

func TestSARIFFingerprint(t *testing.T) {
	t.Parallel()
	k := finding.Key{Tenant: contosoID, Environment: "https://contoso.crm.dynamics.com", Rule: "TL-ENT-001", Table: "account"}
	same := []finding.Key{
		{Tenant: strings.ToUpper(contosoID), Environment: "https://CONTOSO.crm.dynamics.com/", Rule: "tl-ent-001", Table: "Account"},
	}
	for _, o := range same {
		if SARIFFingerprint(o) != SARIFFingerprint(k) {
			t.Errorf("%v and %v differ only in case and a slash, but their fingerprints differ", o, k)
		}
	}
	differ := []finding.Key{
		{Tenant: fabrikamID, Environment: k.Environment, Rule: k.Rule, Table: k.Table},
		{Tenant: k.Tenant, Environment: "https://contoso-dev.crm.dynamics.com", Rule: k.Rule, Table: k.Table},
		{Tenant: k.Tenant, Environment: k.Environment, Rule: "TL-ENT-002", Table: k.Table},
		{Tenant: k.Tenant, Environment: k.Environment, Rule: k.Rule, Table: "contact"},
		{Tenant: k.Tenant, Environment: k.Environment, Rule: k.Rule + "account"},
	}
	for _, o := range differ {
		if SARIFFingerprint(o) == SARIFFingerprint(k) {
			t.Errorf("%v and %v have the same fingerprint", o, k)
		}
	}
}

func TestSARIFLocations(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	declaredIn := func(file string, line int) *finding.Report {
		e := blockedEnv()
		e.DeclaredAt = &finding.SourceLine{File: file, Line: line}
		return newReport(e)
	}
	tests := []struct {
		name     string
		report   *finding.Report
		opts     SARIFOptions
		wantURI  string
		wantLine int
		wantErr  error
		wantMsg  []string
	}{
		{name: "declared line", report: declaredIn("tenants.yaml", 14), opts: SARIFOptions{Root: ".", Anchor: "snapshot.json"},
			wantURI: "tenants.yaml", wantLine: 14},
		{name: "declared line 0 is line 1", report: declaredIn("tenants.yaml", 0), opts: SARIFOptions{Root: "."},
			wantURI: "tenants.yaml", wantLine: 1},
		{name: "anchor", report: newReport(blockedEnv()), opts: SARIFOptions{Root: ".", Anchor: filepath.Join("ci", "snapshot.json")},
			wantURI: "ci/snapshot.json", wantLine: 1},
		{name: "absolute path under the root", report: declaredIn(filepath.Join(root, "deploy", "tenants.yaml"), 3), opts: SARIFOptions{Root: root},
			wantURI: "deploy/tenants.yaml", wantLine: 3},
		{name: "escaped", report: declaredIn(filepath.Join(root, "my config", "tenants 100%.yaml"), 3), opts: SARIFOptions{Root: root},
			wantURI: "my%20config/tenants%20100%25.yaml", wantLine: 3},
		{name: "no root: as given, slashed", report: declaredIn(filepath.Join("deploy", "tenants.yaml"), 5),
			wantURI: "deploy/tenants.yaml", wantLine: 5},
		{name: "no location", report: newReport(blockedEnv()), opts: SARIFOptions{Root: "."},
			wantErr: ErrSARIFNoLocation, wantMsg: []string{fabrikamProd.url, "--sarif-anchor"}},
		{name: "outside the root", report: declaredIn(filepath.Join(root, "..", "elsewhere.yaml"), 2), opts: SARIFOptions{Root: root},
			wantErr: ErrSARIFOutsideRoot, wantMsg: []string{"elsewhere.yaml", root}},
		{name: "the root itself", report: declaredIn(root, 2), opts: SARIFOptions{Root: root},
			wantErr: ErrSARIFOutsideRoot},
		{name: "outside the root, nothing fails", report: func() *finding.Report {
			e := readyEnv()
			e.DeclaredAt = &finding.SourceLine{File: filepath.Join(root, "..", "elsewhere.yaml"), Line: 2}
			return newReport(e)
		}(), opts: SARIFOptions{Root: root}, wantErr: ErrSARIFOutsideRoot},
		{name: "anchor outside the root", report: newReport(readyEnv()), opts: SARIFOptions{Root: root, Anchor: filepath.Join(root, "..", "s.json")},
			wantErr: ErrSARIFOutsideRoot, wantMsg: []string{"s.json"}},
		{name: "sign-in error with no location", report: func() *finding.Report {
			r := signInReport()
			r.Environments = nil
			return r
		}(), opts: SARIFOptions{Root: "."}, wantErr: ErrSARIFNoLocation, wantMsg: []string{"sign-in", fabrikamID}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var buf bytes.Buffer
			w, err := New("sarif", &buf, Options{Now: fixedOptions(false).Now, SARIF: tt.opts})
			if err != nil {
				t.Fatal(err)
			}
			err = w.Write(t.Context(), tt.report)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("Write = %v; want %v", err, tt.wantErr)
				}
				for _, m := range tt.wantMsg {
					if !strings.Contains(err.Error(), m) {
						t.Errorf("error %q does not name %q", err, m)
					}
				}
				if buf.Len() != 0 {
					t.Errorf("wrote %d bytes before failing", buf.Len())
				}
				return
			}
			if err != nil {
				t.Fatalf("Write: %v", err)
			}
			d := checkGitHubUpload(t, buf.Bytes())
			for _, res := range d.Runs[0].Results {
				pl := res.Locations[0].PhysicalLocation
				if pl.ArtifactLocation.URI != tt.wantURI || pl.Region.StartLine != tt.wantLine {
					t.Fatalf("location %s:%d; want %s:%d", pl.ArtifactLocation.URI, pl.Region.StartLine, tt.wantURI, tt.wantLine)
				}
			}
		})
	}
}

// TestSARIFNoLocationNeededWithoutResults: a report with nothing to show
// renders without an anchor.
func TestSARIFNoLocationNeededWithoutResults(t *testing.T) {
	t.Parallel()
	for _, r := range []*finding.Report{newReport(), newReport(readyEnv(), enabledEnv())} {
		var buf bytes.Buffer
		w, err := New("sarif", &buf, Options{Now: fixedOptions(false).Now})
		if err != nil {
			t.Fatal(err)
		}
		if err := w.Write(t.Context(), r); err != nil {
			t.Fatalf("Write: %v", err)
		}
		if d := checkGitHubUpload(t, buf.Bytes()); len(d.Runs[0].Results) != 0 {
			t.Errorf("%d results; want none", len(d.Runs[0].Results))
		}
	}
}

func TestSARIFCategory(t *testing.T) {
	t.Parallel()
	tests := []struct{ category, want string }{
		{"", "teamslink/"},
		{"teamslink", "teamslink/"},
		{"ci-nightly", "ci-nightly/"},
		{"ci/", "ci/"},
		{" ci ", "ci/"},
		{SARIFTenantCategory("teamslink", strings.ToUpper(contosoID)), "teamslink-" + contosoID + "/"},
	}
	for _, tt := range tests {
		t.Run(tt.category, func(t *testing.T) {
			t.Parallel()
			opts := sarifOptions()
			opts.SARIF.Category = tt.category
			d := checkGitHubUpload(t, render(t, "sarif", newReport(blockedEnv()), opts))
			if got := d.Runs[0].AutomationDetails.ID; got != tt.want {
				t.Errorf("automationDetails.id = %q; want %q", got, tt.want)
			}
		})
	}
	if got := SARIFTenantCategory("", "ABC"); got != "teamslink-abc" {
		t.Errorf("SARIFTenantCategory(\"\", ABC) = %q", got)
	}
}

func TestSARIFRules(t *testing.T) {
	t.Parallel()
	d := checkGitHubUpload(t, render(t, "sarif", fleetReport(), sarifOptions()))
	byID := map[string]int{}
	for i, rule := range d.Runs[0].Tool.Driver.Rules {
		byID[rule.ID] = i
	}
	ids := slices.Collect(maps.Keys(byID))
	slices.Sort(ids)
	var order []string
	for _, rule := range d.Runs[0].Tool.Driver.Rules {
		order = append(order, rule.ID)
	}
	if !slices.Equal(order, ids) {
		t.Errorf("rules in order %v; want sorted by id", order)
	}
	for _, id := range []string{SARIFSignInRule, SARIFReadinessRule, "TL-SP-002", "TL-ENV-002"} {
		if _, ok := byID[id]; !ok {
			t.Errorf("rules lack %s", id)
		}
	}
	sp := d.Runs[0].Tool.Driver.Rules[byID["TL-SP-002"]]
	if sp.Properties["security-severity"] != "9.5" || sp.DefaultConfiguration.Level != "error" || sp.HelpURI != docsSP {
		t.Errorf("TL-SP-002: security-severity %v, level %s, helpUri %s", sp.Properties["security-severity"], sp.DefaultConfiguration.Level, sp.HelpURI)
	}
	for _, want := range []string{"Deactivate the SharePoint site records", "deactivate-sites", "800503ca", docsSP} {
		if !strings.Contains(sp.Help.Text, want) || !strings.Contains(sp.Help.Markdown, want) {
			t.Errorf("TL-SP-002 help lacks %q", want)
		}
	}
	if sp.Name != "SharePointIntegrationNotConfiguredNoActiveSharePointSites" {
		t.Errorf("TL-SP-002 name %q", sp.Name)
	}
	if env := d.Runs[0].Tool.Driver.Rules[byID["TL-ENV-002"]]; env.Properties["security-severity"] != nil || env.DefaultConfiguration.Level != "note" {
		t.Errorf("TL-ENV-002 (info): security-severity %v, level %s; want none and note", env.Properties["security-severity"], env.DefaultConfiguration.Level)
	}
	tags, _ := sp.Properties["tags"].([]any)
	if !slices.Contains(tags, any("sharepoint")) || !slices.Contains(tags, any("scope:environment")) {
		t.Errorf("TL-SP-002 tags %v", tags)
	}
}

// TestSARIFRulesWithoutCatalogue: a report that carries no catalogue (of
// schema v2, or a --policy-dir rule) still lists a rule for every result.
func TestSARIFRulesWithoutCatalogue(t *testing.T) {
	t.Parallel()
	r := newReport(blockedEnv(), unknownEnv())
	r.Rules = nil
	d := checkGitHubUpload(t, render(t, "sarif", r, sarifOptions()))
	for _, rule := range d.Runs[0].Tool.Driver.Rules {
		if rule.ID == "TL-SP-002" && (rule.ShortDescription.Text != rules["TL-SP-002"].title || rule.HelpURI != docsSP) {
			t.Errorf("TL-SP-002 made from its findings: %+v", rule)
		}
	}
}

func TestSARIFToolVersion(t *testing.T) {
	t.Parallel()
	tests := []struct{ version, semantic string }{
		{"0.1.0", "0.1.0"},
		{"v1.2.3-rc.1", "1.2.3-rc.1"},
		{"dev", ""},
		{"", ""},
	}
	for _, tt := range tests {
		t.Run(tt.version, func(t *testing.T) {
			t.Parallel()
			r := newReport(blockedEnv())
			r.Tool.Version = tt.version
			driver := checkGitHubUpload(t, render(t, "sarif", r, sarifOptions())).Runs[0].Tool.Driver
			if driver.Name != "teamslink" {
				t.Errorf("driver name %q", driver.Name)
			}
			if got := deref(driver.Version); got != tt.version {
				t.Errorf("version %q; want %q", got, tt.version)
			}
			if got := deref(driver.SemanticVersion); got != tt.semantic {
				t.Errorf("semanticVersion %q; want %q", got, tt.semantic)
			}
		})
	}
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// bigReport is a report of tenants × perTenant findings that fail, each on
// its own table.
func bigReport(tenants, perTenant int) *finding.Report {
	var envs []finding.Environment
	for i := range tenants {
		e := env{tenant: fmt.Sprintf("00000000-0000-4000-8000-%012d", i), url: fmt.Sprintf("https://org%d.crm.dynamics.com", i), exp: finding.ExperienceBasic}
		fs := make([]finding.Finding, perTenant)
		for j := range fs {
			fs[j] = e.finding("TL-ENT-001", fmt.Sprintf("new_t%d", j), finding.StatusFail, "Document management is not enabled.", nil)
		}
		envs = append(envs, e.environment(fs...))
	}
	return newReport(envs...)
}

func TestSARIFLimits(t *testing.T) {
	t.Parallel()
	t.Run("results per run", func(t *testing.T) {
		t.Parallel()
		r := bigReport(2, 12_501)
		err := CheckSARIFLimits(r, sarifOptions().SARIF)
		var le *SARIFLimitError
		if !errors.As(err, &le) || le.Limit != "results per run" || le.Got != 25_002 || le.Max != 25_000 {
			t.Fatalf("CheckSARIFLimits = %v; want results per run, 25002 over 25000", err)
		}
		if !strings.Contains(err.Error(), "--sarif-split tenant") {
			t.Errorf("error %q does not say to split by tenant", err)
		}
		// The writer refuses, and writes nothing.
		var buf bytes.Buffer
		w, _ := New("sarif", &buf, sarifOptions())
		if err := w.Write(t.Context(), r); !errors.As(err, &le) || buf.Len() != 0 {
			t.Errorf("Write = %v after %d bytes; want the limit error and nothing written", err, buf.Len())
		}
	})
	t.Run("advice", func(t *testing.T) {
		t.Parallel()
		lim := githubSARIFLimits
		lim.results = 1
		for _, tt := range []struct {
			report *finding.Report
			split  bool
		}{{fleetReport(), true}, {newReport(blockedEnv()), false}} {
			doc, err := buildSARIF(t.Context(), tt.report, sarifOptions().SARIF)
			if err != nil {
				t.Fatal(err)
			}
			_, err = checkedSARIF(doc, tt.report, lim)
			if err == nil || strings.Contains(err.Error(), "--sarif-split tenant") != tt.split {
				t.Errorf("%d tenants: %v; want the split advice: %v", len(reportTenants(tt.report)), err, tt.split)
			}
		}
	})

	small := func(mod func(*sarifLimits)) sarifLimits {
		l := githubSARIFLimits
		mod(&l)
		return l
	}
	tests := []struct {
		name      string
		limits    sarifLimits
		twoRuns   bool
		wantLimit string
	}{
		{name: "within", limits: githubSARIFLimits},
		{name: "gzip size", limits: small(func(l *sarifLimits) { l.gzipBytes = 2000 }), wantLimit: "bytes gzip-compressed"},
		{name: "rules", limits: small(func(l *sarifLimits) { l.rules = 3 }), wantLimit: "rules per run"},
		{name: "tags", limits: small(func(l *sarifLimits) { l.tags = 2 }), wantLimit: "tags on rule"},
		{name: "results", limits: small(func(l *sarifLimits) { l.results = 2 }), wantLimit: "results per run"},
		{name: "locations", limits: small(func(l *sarifLimits) { l.locations = 0 }), wantLimit: "locations on one result"},
		{name: "runs", limits: small(func(l *sarifLimits) { l.runs = 1 }), twoRuns: true, wantLimit: "runs in one file"},
		{name: "same category twice", limits: githubSARIFLimits, twoRuns: true, wantLimit: "runs with the same tool and category in one file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := newReport(blockedEnv())
			doc, err := buildSARIF(t.Context(), r, sarifOptions().SARIF)
			if err != nil {
				t.Fatal(err)
			}
			if tt.twoRuns {
				doc.AddRun(doc.Runs[0])
			}
			data, err := checkedSARIF(doc, r, tt.limits)
			if tt.wantLimit == "" {
				if err != nil || len(data) == 0 {
					t.Fatalf("checkedSARIF = %d bytes, %v; want the file", len(data), err)
				}
				return
			}
			var le *SARIFLimitError
			if !errors.As(err, &le) || !strings.HasPrefix(le.Limit, tt.wantLimit) || le.Got <= le.Max || data != nil {
				t.Fatalf("checkedSARIF = %v; want %s over its limit", err, tt.wantLimit)
			}
		})
	}
}

func TestSplitByTenant(t *testing.T) {
	t.Parallel()
	r := fleetReport()
	r.SignInErrors = signInReport().SignInErrors // Fabrikam's
	before := render(t, "json", r, sarifOptions())
	shares := SplitByTenant(r)
	if !bytes.Equal(before, render(t, "json", r, sarifOptions())) {
		t.Error("SplitByTenant modified its input")
	}
	if len(shares) != 2 || ReportTenant(shares[0]) != contosoID || ReportTenant(shares[1]) != fabrikamID {
		t.Fatalf("shares of tenants %v; want contoso then fabrikam", func() []string {
			var ids []string
			for _, s := range shares {
				ids = append(ids, ReportTenant(s))
			}
			return ids
		}())
	}
	if ReportTenant(r) != "" {
		t.Error("ReportTenant of a two-tenant report is not empty")
	}
	envs := 0
	whole := fingerprints(decodeSARIF(t, render(t, "sarif", r, sarifOptions())))
	parts := map[string]string{}
	categories := map[string]bool{}
	for _, s := range shares {
		tenant := ReportTenant(s)
		envs += len(s.Environments)
		for _, e := range s.Environments {
			if e.Tenant != tenant {
				t.Errorf("share %s holds an environment of %s", tenant, e.Tenant)
			}
		}
		if got := len(s.SignInErrors); (tenant == fabrikamID) != (got == 1) {
			t.Errorf("share %s: %d sign-in errors", tenant, got)
		}
		for _, n := range s.Waivers {
			if n.Tenant != "" && n.Tenant != tenant {
				t.Errorf("share %s holds the waiver notice of %s", tenant, n.Tenant)
			}
		}
		if len(s.Rules) != len(r.Rules) {
			t.Errorf("share %s: %d rules; want the whole catalogue's %d", tenant, len(s.Rules), len(r.Rules))
		}
		if !maps.Equal(s.Summary, s.Summarize()) {
			t.Errorf("share %s: summary not its own", tenant)
		}
		opts := sarifOptions()
		opts.SARIF.Category = SARIFTenantCategory("teamslink", tenant)
		d := checkGitHubUpload(t, render(t, "sarif", s, opts))
		categories[d.Runs[0].AutomationDetails.ID] = true
		maps.Copy(parts, fingerprints(d))
	}
	if envs != len(r.Environments) {
		t.Errorf("%d environments in the shares; want %d", envs, len(r.Environments))
	}
	if len(categories) != 2 {
		t.Errorf("categories %v; want one per tenant", categories)
	}
	if !maps.Equal(whole, parts) {
		t.Errorf("the shares' results differ from the whole report's:\n%v\n%v", parts, whole)
	}
	if got := SplitByTenant(newReport()); len(got) != 0 {
		t.Errorf("SplitByTenant of an empty report = %d shares", len(got))
	}
}
