// Package ci checks the CI examples of docs/ci: the GitHub Actions workflow
// passes actionlint, the Azure Pipelines and GitLab files parse and have the
// shape their CI reads (PublishTestResults@2 with JUnit,
// artifacts:reports:junit), the example tenants.yaml loads, and every
// teamslink command line in them and in the README parses against the real
// command tree. It holds only tests.
package ci

import (
	"bytes"
	"os"
	"os/exec"
	"path"
	"slices"
	"strings"
	"testing"

	"github.com/goccy/go-yaml"
	"github.com/rhysd/actionlint"

	"github.com/teamslink/teamslink/internal/config"
)

// The files of docs/ci.
const (
	githubFile = "github-actions.yml"
	azureFile  = "azure-pipelines.yml"
	gitlabFile = "gitlab-ci.yml"
	readmeFile = "README.md"
	configFile = "tenants.yaml"
)

// tokenAudience is the audience Microsoft Entra ID expects in a federated
// token.
const tokenAudience = "api://AzureADTokenExchange"

func readFile(t *testing.T, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// tool returns name when the executable is on PATH, else "" (which turns
// actionlint's integration with it off).
func tool(name string) string {
	if _, err := exec.LookPath(name); err != nil {
		return ""
	}
	return name
}

// TestGitHubWorkflowLints runs actionlint on the workflow: syntax, action
// inputs, expressions, permissions, runner labels, and shellcheck and
// pyflakes on the scripts when those are installed.
func TestGitHubWorkflowLints(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	linter, err := actionlint.NewLinter(&out, &actionlint.LinterOptions{
		Shellcheck: tool("shellcheck"),
		Pyflakes:   tool("pyflakes"),
		Color:      actionlint.ColorOptionKindNever,
		Oneline:    true,
	})
	if err != nil {
		t.Fatal(err)
	}
	errs, err := linter.Lint(githubFile, readFile(t, githubFile), nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range errs {
		t.Errorf("actionlint: %v", e)
	}
}

// parseWorkflow returns the workflow as actionlint reads it.
func parseWorkflow(t *testing.T) *actionlint.Workflow {
	t.Helper()
	w, errs := actionlint.Parse(readFile(t, githubFile))
	for _, e := range errs {
		t.Errorf("parse %s: %v", githubFile, e)
	}
	if w == nil {
		t.FailNow()
	}
	return w
}

// githubScripts returns the run: scripts of every step of the workflow.
func githubScripts(t *testing.T) []string {
	t.Helper()
	var scripts []string
	for _, job := range parseWorkflow(t).Jobs {
		for _, s := range job.Steps {
			if run, ok := s.Exec.(*actionlint.ExecRun); ok && run.Run != nil {
				scripts = append(scripts, run.Run.Value)
			}
		}
	}
	return scripts
}

func str(s *actionlint.String) string {
	if s == nil {
		return ""
	}
	return s.Value
}

// envValue returns the value of the variable name in env, case-insensitively.
func envValue(env *actionlint.Env, name string) (string, bool) {
	if env == nil {
		return "", false
	}
	for _, v := range env.Vars {
		if strings.EqualFold(str(v.Name), name) {
			return str(v.Value), true
		}
	}
	return "", false
}

func permission(p *actionlint.Permissions, scope string) string {
	if p == nil {
		return ""
	}
	for _, s := range p.Scopes {
		if str(s.Name) == scope {
			return str(s.Value)
		}
	}
	return ""
}

// runsAfterFailure reports whether a step's if: lets it run after a failed
// step: always() or !cancelled().
func runsAfterFailure(cond string) bool {
	c := strings.ReplaceAll(cond, " ", "")
	return strings.Contains(c, "always()") || strings.Contains(c, "!cancelled()")
}

// TestGitHubWorkflowShape checks what the workflow promises: a schedule and
// a manual trigger; an OIDC token and no secret; one scan that writes the
// reports the later steps hand on; SARIF to code scanning with the scan's
// category; the summary and the artifacts kept whether or not the scan
// passed.
func TestGitHubWorkflowShape(t *testing.T) {
	t.Parallel()
	w := parseWorkflow(t)
	src := string(readFile(t, githubFile))
	if strings.Contains(src, "secrets.") {
		t.Errorf("%s uses a secret; workload identity federation needs none", githubFile)
	}

	var schedule, dispatch bool
	for _, e := range w.On {
		switch e := e.(type) {
		case *actionlint.ScheduledEvent:
			schedule = len(e.Schedules) > 0
		case *actionlint.WorkflowDispatchEvent:
			dispatch = true
		}
	}
	if !schedule || !dispatch {
		t.Errorf("on: schedule %v, workflow_dispatch %v; want both", schedule, dispatch)
	}
	if w.Permissions == nil || w.Permissions.All != nil || len(w.Permissions.Scopes) != 0 {
		t.Errorf("top-level permissions should grant nothing (permissions: {}); the job asks for what it needs")
	}
	version, ok := envValue(w.Env, "TEAMSLINK_VERSION")
	if !ok || version == "" {
		t.Errorf("env: no TEAMSLINK_VERSION to install")
	}
	category, _ := envValue(w.Env, "SARIF_CATEGORY")

	if len(w.Jobs) != 1 {
		t.Fatalf("%d jobs, want 1", len(w.Jobs))
	}
	for _, job := range w.Jobs {
		for scope, want := range map[string]string{"id-token": "write", "security-events": "write", "contents": "read"} {
			if got := permission(job.Permissions, scope); got != want {
				t.Errorf("job permissions: %s: %q, want %q", scope, got, want)
			}
		}

		scanAt := -1
		var reports map[string]string
		var scan commandLine
		for i, s := range job.Steps {
			run, ok := s.Exec.(*actionlint.ExecRun)
			if !ok || !strings.Contains(str(run.Run), "teamslink scan") {
				continue
			}
			scanAt = i
			scan, reports = scanCommand(t, githubFile, []string{str(run.Run)})
			script := str(run.Run)
			for _, want := range []string{"ACTIONS_ID_TOKEN_REQUEST_URL", "ACTIONS_ID_TOKEN_REQUEST_TOKEN", "api%3A%2F%2FAzureADTokenExchange", "AZURE_FEDERATED_TOKEN_FILE"} {
				if !strings.Contains(script, want) {
					t.Errorf("scan step: the script does not mention %s", want)
				}
			}
			if v, ok := envValue(s.Env, "AZURE_FEDERATED_TOKEN_FILE"); !ok || v == "" {
				t.Errorf("scan step: env AZURE_FEDERATED_TOKEN_FILE not set")
			}
			if s.ContinueOnError != nil {
				t.Errorf("scan step: continue-on-error would hide the scan's exit code")
			}
			if got, _ := flagValue(scan.args, "sarif-category"); got != "${SARIF_CATEGORY}" && got != "$SARIF_CATEGORY" {
				t.Errorf("%v: --sarif-category %q, want the SARIF_CATEGORY of env", scan, got)
			}
		}
		if scanAt < 0 {
			t.Fatal("no step runs teamslink scan")
		}
		for _, f := range []string{"table", "sarif", "junit", "markdown", "html", "json"} {
			if _, ok := reports[f]; !ok {
				t.Errorf("%v: no %s report", scan, f)
			}
		}

		var sarif, summary, artifact bool
		for _, s := range job.Steps[scanAt+1:] {
			if !runsAfterFailure(str(s.If)) {
				t.Errorf("step %q runs only when the scan passed; it needs if: ${{ !cancelled() }} or always()", str(s.Name))
			}
			switch e := s.Exec.(type) {
			case *actionlint.ExecRun:
				if strings.Contains(str(e.Run), "GITHUB_STEP_SUMMARY") && strings.Contains(str(e.Run), reports["markdown"]) {
					summary = true
				}
			case *actionlint.ExecAction:
				uses := str(e.Uses)
				input := func(name string) string {
					if in := e.Inputs[name]; in != nil {
						return str(in.Value)
					}
					return ""
				}
				switch {
				case strings.HasPrefix(uses, "github/codeql-action/upload-sarif@"):
					sarif = true
					if got := input("sarif_file"); got != reports["sarif"] {
						t.Errorf("upload-sarif: sarif_file %q, want %q (the scan's sarif report)", got, reports["sarif"])
					}
					if got := input("category"); got != "${{ env.SARIF_CATEGORY }}" || category == "" {
						t.Errorf("upload-sarif: category %q, want ${{ env.SARIF_CATEGORY }}, set in env", got)
					}
				case strings.HasPrefix(uses, "actions/upload-artifact@"):
					artifact = true
					paths := strings.Fields(input("path"))
					for _, f := range []string{"html", "json"} {
						if !slices.Contains(paths, reports[f]) {
							t.Errorf("upload-artifact: path does not keep the %s report %s", f, reports[f])
						}
					}
				}
			}
		}
		if !sarif || !summary || !artifact {
			t.Errorf("after the scan: upload-sarif %v, step summary %v, upload-artifact %v; want all", sarif, summary, artifact)
		}
	}
}

// decodeYAML decodes a YAML file into plain maps and slices.
func decodeYAML(t *testing.T, name string) map[string]any {
	t.Helper()
	var v map[string]any
	if err := yaml.Unmarshal(readFile(t, name), &v); err != nil {
		t.Fatalf("parse %s: %v", name, err)
	}
	return v
}

// scriptKeys are the keys whose values are shell scripts: Azure Pipelines'
// script, bash and inlineScript (AzureCLI@2), GitLab's script lists.
var scriptKeys = []string{"script", "bash", "inlineScript", "before_script", "after_script"}

// yamlScripts returns every shell script in v: the string (or list of
// strings, one command each) under a script key, at any depth.
func yamlScripts(v any) []string {
	var out []string
	switch v := v.(type) {
	case map[string]any:
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			if !slices.Contains(scriptKeys, k) {
				out = append(out, yamlScripts(v[k])...)
				continue
			}
			switch s := v[k].(type) {
			case string:
				out = append(out, s)
			case []any:
				var lines []string
				for _, l := range s {
					if l, ok := l.(string); ok {
						lines = append(lines, l)
					}
				}
				out = append(out, strings.Join(lines, "\n"))
			}
		}
	case []any:
		for _, e := range v {
			out = append(out, yamlScripts(e)...)
		}
	}
	return out
}

func mapAt(v any, keys ...string) map[string]any {
	for _, k := range keys {
		m, _ := v.(map[string]any)
		v = m[k]
	}
	m, _ := v.(map[string]any)
	return m
}

// TestAzurePipelinesShape checks what Azure Pipelines reads: a schedule and
// no other trigger; the scan inside AzureCLI@2 with the connection's OIDC
// token; PublishTestResults@2 reading the scan's JUnit report as JUnit,
// failing on failed tests, whatever the scan's outcome.
func TestAzurePipelinesShape(t *testing.T) {
	t.Parallel()
	p := decodeYAML(t, azureFile)
	schedules, _ := p["schedules"].([]any)
	if len(schedules) == 0 || mapAt(schedules[0])["cron"] == nil {
		t.Errorf("no schedules[].cron")
	}
	if p["trigger"] != "none" || p["pr"] != "none" {
		t.Errorf("trigger %v, pr %v; want none: the scan runs on its schedule", p["trigger"], p["pr"])
	}
	steps, _ := p["steps"].([]any)
	_, reports := scanCommand(t, azureFile, yamlScripts(p))
	junit := reports["junit"]
	if junit == "" {
		t.Fatal("the scan writes no junit report to a file")
	}

	scanAt, published := -1, false
	for i, s := range steps {
		step := mapAt(s)
		inputs := mapAt(step, "inputs")
		switch step["task"] {
		case "AzureCLI@2":
			script, _ := inputs["inlineScript"].(string)
			if !strings.Contains(script, "teamslink scan") {
				continue
			}
			scanAt = i
			if inputs["addSpnToEnvironment"] != true {
				t.Errorf("AzureCLI@2: addSpnToEnvironment must be true to give the script $idToken")
			}
			if !strings.Contains(script, "idToken") || !strings.Contains(script, "AZURE_FEDERATED_TOKEN_FILE") {
				t.Errorf("AzureCLI@2: the script does not write $idToken to $AZURE_FEDERATED_TOKEN_FILE")
			}
		case "PublishTestResults@2":
			published = true
			if inputs["testResultsFormat"] != "JUnit" {
				t.Errorf("PublishTestResults@2: testResultsFormat %v, want JUnit", inputs["testResultsFormat"])
			}
			if inputs["testResultsFiles"] != junit {
				t.Errorf("PublishTestResults@2: testResultsFiles %v, want %s (the scan's junit report)", inputs["testResultsFiles"], junit)
			}
			if inputs["failTaskOnFailedTests"] != true {
				t.Errorf("PublishTestResults@2: failTaskOnFailedTests %v, want true", inputs["failTaskOnFailedTests"])
			}
		}
		if scanAt >= 0 && i > scanAt && step["condition"] != "always()" {
			t.Errorf("step %v after the scan: condition %v, want always()", step["displayName"], step["condition"])
		}
	}
	if scanAt < 0 || !published {
		t.Errorf("scan in AzureCLI@2 %v, PublishTestResults@2 %v; want both", scanAt >= 0, published)
	}
}

// TestGitLabShape checks what GitLab reads: a job run by schedules, with an
// ID token for Entra ID's audience, and artifacts kept always, the scan's
// JUnit report under artifacts:reports:junit.
func TestGitLabShape(t *testing.T) {
	t.Parallel()
	doc := decodeYAML(t, gitlabFile)
	job := mapAt(doc, "teamslink")
	if job == nil {
		t.Fatal("no job teamslink")
	}
	_, reports := scanCommand(t, gitlabFile, yamlScripts(job))

	var bySchedule bool
	rules, _ := job["rules"].([]any)
	for _, r := range rules {
		if cond, _ := mapAt(r)["if"].(string); strings.Contains(cond, `$CI_PIPELINE_SOURCE == "schedule"`) {
			bySchedule = true
		}
	}
	if !bySchedule {
		t.Errorf("rules: no rule runs the job on a schedule")
	}

	var tokenVar string
	for name, tok := range mapAt(job, "id_tokens") {
		if mapAt(tok)["aud"] == tokenAudience {
			tokenVar = name
		}
	}
	script := strings.Join(yamlScripts(job), "\n")
	if tokenVar == "" || !strings.Contains(script, tokenVar) || !strings.Contains(script, "AZURE_FEDERATED_TOKEN_FILE") {
		t.Errorf("id_tokens: want a token with aud %s written to $AZURE_FEDERATED_TOKEN_FILE (found %q)", tokenAudience, tokenVar)
	}

	artifacts := mapAt(job, "artifacts")
	if artifacts["when"] != "always" {
		t.Errorf("artifacts:when %v, want always: the reports matter most when the scan fails", artifacts["when"])
	}
	var junit []string
	switch v := mapAt(artifacts, "reports")["junit"].(type) {
	case string:
		junit = []string{v}
	case []any:
		for _, p := range v {
			if p, ok := p.(string); ok {
				junit = append(junit, p)
			}
		}
	}
	if reports["junit"] == "" || !slices.Contains(junit, reports["junit"]) {
		t.Errorf("artifacts:reports:junit %q, want the scan's junit report %q", junit, reports["junit"])
	}
	if !strings.HasSuffix(reports["junit"], ".xml") {
		t.Errorf("junit report %q: GitLab reads only files ending in .xml", reports["junit"])
	}
	paths, _ := artifacts["paths"].([]any)
	for _, f := range []string{"html", "json"} {
		if !slices.Contains(paths, any(reports[f])) {
			t.Errorf("artifacts:paths %v does not keep the %s report %q", paths, f, reports[f])
		}
	}
}

// TestExampleConfig loads the example tenants.yaml with the real loader:
// valid, and every tenant signs in with workload identity from the file the
// CI job names in $AZURE_FEDERATED_TOKEN_FILE.
func TestExampleConfig(t *testing.T) {
	t.Parallel()
	cfg, err := config.LoadContext(t.Context(), configFile)
	if err != nil {
		t.Fatal(err)
	}
	for _, tenant := range cfg.Tenants {
		if tenant.Auth.Method != config.MethodWorkloadIdentity || tenant.Auth.TokenFile != "" {
			t.Errorf("tenant %s: auth %s with tokenFile %q; want workload-identity reading $AZURE_FEDERATED_TOKEN_FILE", tenant.ID, tenant.Auth.Method, tenant.Auth.TokenFile)
		}
	}
}

// TestNoMachinePaths keeps the examples portable: no absolute path of the
// machine that wrote them.
func TestNoMachinePaths(t *testing.T) {
	t.Parallel()
	for _, name := range []string{githubFile, azureFile, gitlabFile, readmeFile, configFile} {
		text := string(readFile(t, name))
		for _, p := range []string{"/tmp/", "/work/", "/home/", "/root/"} {
			if strings.Contains(text, p) {
				t.Errorf("%s mentions %s; use the CI's own temporary directory", path.Base(name), p)
			}
		}
	}
}
