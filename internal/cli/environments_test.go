package cli

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/teamslink/teamslink/internal/emulator"
)

const (
	fabrikamID = "10a86877-5713-50b1-82c1-b12f5ba6a7e6"
	contosoID  = "3f2b8c1e-6d4a-4b7e-9a15-2c8d0e7f4a61"
)

// discoveryFleet starts the emulator with the Fabrikam scenario (four
// environments to discover, two served) and the ready one (Contoso), each
// changed by its mutate, and writes a tenants.yaml of the two tenants whose
// blocks are given (the auth and endpoints are added).
func discoveryFleet(t *testing.T, mutate func(*emulator.Scenario), fabrikam, contoso string) (string, Deps) {
	t.Helper()
	srv, _, deps := faultyFleet(t, mutate, "sp-800503ca-all", "ready")
	common := `
    auth: {method: client-secret, clientId: 5d2f8a61-3c4e-4b7a-9e1d-8f6a2c4b7e93, secretEnv: ` + demoSecretEnv + `}
    endpoints: {connectTo: "` + srv.Addr() + `", caFile: "` + srv.CAFile() + `"}
`
	doc := "tenants:\n  - id: " + fabrikamID + "\n    name: Fabrikam" + common + fabrikam +
		"  - id: " + contosoID + "\n    name: Contoso" + common + contoso
	path := filepath.Join(t.TempDir(), "tenants.yaml")
	if err := os.WriteFile(path, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	return path, deps
}

// environmentsJSON is the part of environments --format json a test reads.
type environmentsJSON struct {
	SchemaVersion string `json:"schemaVersion"`
	Tenants       []struct {
		ID, Source string
		Failure    *struct {
			Kind, Error string
			HTTPStatus  int
		}
		Environments []struct {
			URL, Name, Type, State, Origin, Reason string
			Scan                                   bool
		}
	}
}

func TestEnvironmentsCommand(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name              string
		mutate            func(*emulator.Scenario)
		fabrikam, contoso string
		code              int
		// want is one line per environment: tenant origin url scan/reason.
		want    []string
		failure string // Contoso's failure kind and status, e.g. "discovery 403"
	}{
		{
			name:     "discovered and listed",
			fabrikam: "    discover: {}\n    environments:\n      - url: https://fabrikam-dev.crm4.dynamics.com\n",
			contoso:  "    discover: {source: gds}\n",
			want: []string{
				"Fabrikam listed https://fabrikam-dev.crm4.dynamics.com yes",
				"Fabrikam discovered https://fabrikam.crm4.dynamics.com yes",
				"Fabrikam discovered https://fabrikam-dev.crm4.dynamics.com listed in tenants.yaml, scanned with its settings there",
				"Fabrikam discovered https://fabrikam-archive.crm4.dynamics.com in state Disabled (states: Enabled)",
				"Fabrikam discovered  with no Dataverse database",
				"Contoso discovered https://contoso-sales.crm.dynamics.com yes",
			},
		},
		{
			name:     "types and patterns; a tenant that lists only",
			fabrikam: "    discover: {types: [Developer, Sandbox], states: [Enabled, Disabled], exclude: [\"*archive*\"]}\n",
			contoso:  "    environments:\n      - url: https://contoso-sales.crm.dynamics.com\n",
			want: []string{
				"Fabrikam discovered https://fabrikam.crm4.dynamics.com of type Production (types: Developer, Sandbox)",
				"Fabrikam discovered https://fabrikam-dev.crm4.dynamics.com yes",
				"Fabrikam discovered https://fabrikam-archive.crm4.dynamics.com matching exclude pattern *archive*",
				"Fabrikam discovered  with no Dataverse database",
				"Contoso listed https://contoso-sales.crm.dynamics.com yes",
			},
		},
		{
			name: "403: an error for that tenant only",
			mutate: func(sc *emulator.Scenario) {
				if sc.Tenant.ID == contosoID {
					sc.Discovery = &emulator.Discovery{AccessDenied: true}
				}
			},
			fabrikam: "    discover: {types: [Default]}\n",
			contoso:  "    discover: {}\n",
			code:     3,
			want: []string{
				"Fabrikam discovered https://fabrikam.crm4.dynamics.com yes",
				"Fabrikam discovered https://fabrikam-dev.crm4.dynamics.com of type Developer (types: Default)",
				"Fabrikam discovered https://fabrikam-archive.crm4.dynamics.com of type Sandbox (types: Default)",
				"Fabrikam discovered  with no Dataverse database",
			},
			failure: "discovery 403",
		},
		{
			name:     "nothing matched and nothing listed",
			fabrikam: "    discover: {types: [Trial]}\n    environments:\n      - url: https://fabrikam.crm4.dynamics.com\n",
			contoso:  "    discover: {include: [\"https://nothing-*\"]}\n",
			code:     3,
			want: []string{
				"Fabrikam listed https://fabrikam.crm4.dynamics.com yes",
				"Fabrikam discovered https://fabrikam.crm4.dynamics.com of type Production (types: Trial)",
				"Fabrikam discovered https://fabrikam-dev.crm4.dynamics.com of type Developer (types: Trial)",
				"Fabrikam discovered https://fabrikam-archive.crm4.dynamics.com of type Sandbox (types: Trial)",
				"Fabrikam discovered  with no Dataverse database",
			},
			failure: "discovery 0",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			path, deps := discoveryFleet(t, tt.mutate, tt.fabrikam, tt.contoso)
			var out, errOut bytes.Buffer
			deps.Stdout, deps.Stderr = &out, &errOut
			if code := Main([]string{"environments", "--config", path, "--format", "json"}, deps); code != tt.code {
				t.Fatalf("exit code %d, want %d; stderr %s", code, tt.code, errOut.String())
			}
			var doc environmentsJSON
			if err := json.Unmarshal(out.Bytes(), &doc); err != nil {
				t.Fatalf("%v: %s", err, out.String())
			}
			if doc.SchemaVersion != EnvironmentsSchemaVersion || len(doc.Tenants) != 2 {
				t.Fatalf("document %s", out.String())
			}
			var got []string
			failure := ""
			for i, tn := range doc.Tenants {
				name := []string{"Fabrikam", "Contoso"}[i]
				for _, e := range tn.Environments {
					scan := e.Reason
					if e.Scan {
						scan = "yes"
					}
					got = append(got, strings.Join([]string{name, e.Origin, e.URL, scan}, " "))
				}
				if f := tn.Failure; f != nil {
					if name != "Contoso" {
						t.Errorf("%s failed: %+v", name, f)
					}
					failure = f.Kind + " " + itoa(f.HTTPStatus)
				}
			}
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("environments\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
			if failure != tt.failure {
				t.Errorf("Contoso's failure %q, want %q", failure, tt.failure)
			}
			if tt.code != 0 && !strings.Contains(errOut.String(), "could not be discovered") {
				t.Errorf("stderr %q does not say discovery failed", errOut.String())
			}

			// The table says the same.
			out.Reset()
			if code := Main([]string{"environments", "--config", path}, deps); code != tt.code {
				t.Fatalf("table: exit code %d, want %d", code, tt.code)
			}
			for _, w := range []string{"TENANT", "ORIGIN", "Fabrikam"} {
				if !strings.Contains(out.String(), w) {
					t.Errorf("table lacks %q:\n%s", w, out.String())
				}
			}
			if tt.failure != "" && !strings.Contains(out.String(), "(not scanned: discovery failed)") {
				t.Errorf("table does not say Contoso was not scanned:\n%s", out.String())
			}
		})
	}
}

func TestEnvironmentsUsage(t *testing.T) {
	t.Parallel()
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"environments"}, "--config tenants.yaml"},
		{[]string{"environments", "--config", "x.yaml", "--format", "sarif"}, `unknown --format "sarif" (valid: table, json)`},
		{[]string{"environments", "--config", filepath.Join("testdata", "does-not-exist.yaml")}, "does-not-exist.yaml"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			t.Parallel()
			var out bytes.Buffer
			deps := Deps{Stdout: &out, Stderr: &out, Now: func() time.Time { return time.Date(2026, 11, 2, 9, 15, 0, 0, time.UTC) }}
			if code := Main(tt.args, deps); code != 2 || !strings.Contains(out.String(), tt.want) {
				t.Fatalf("exit %d, output %q; want 2 and %q", code, out.String(), tt.want)
			}
		})
	}
}

// TestScanDiscovers: scan --config scans what discovery finds; a tenant
// whose discovery is refused gets one error, with the fix for the admin
// API, no environment, and the run exits 3; the snapshot says why.
func TestScanDiscovers(t *testing.T) {
	t.Parallel()
	path, deps := discoveryFleet(t, func(sc *emulator.Scenario) {
		if sc.Tenant.ID == contosoID {
			sc.Discovery = &emulator.Discovery{AccessDenied: true}
		}
	}, "    discover: {}\n", "    discover: {}\n")
	dir := t.TempDir()
	var out, errOut bytes.Buffer
	deps.Stdout, deps.Stderr = &out, &errOut
	reportPath, snapPath := filepath.Join(dir, "report.json"), filepath.Join(dir, "snapshot.json")
	code := Main([]string{"scan", "--config", path, "--format", "json=" + reportPath, "--snapshot-out", snapPath}, deps)
	if code != 3 {
		t.Fatalf("exit code %d, want 3; stderr %s", code, errOut.String())
	}
	b, err := os.ReadFile(reportPath)
	if err != nil {
		t.Fatal(err)
	}
	var rep struct {
		SignInErrors []struct {
			Tenant, Method, Error, Fix, Docs, Discovery string
			HTTPStatus                                  int
		} `json:"signInErrors"`
		Environments []struct {
			Tenant, URL string
			DeclaredAt  *struct{ Line int } `json:"declaredAt"`
		}
	}
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatal(err)
	}
	var urls []string
	for _, e := range rep.Environments {
		urls = append(urls, e.URL)
		if e.Tenant != fabrikamID || e.DeclaredAt == nil || e.DeclaredAt.Line != 6 {
			t.Errorf("environment %s of %s declared at %+v; want Fabrikam's, at its discover line 6", e.URL, e.Tenant, e.DeclaredAt)
		}
	}
	if got := strings.Join(urls, " "); got != "https://fabrikam.crm4.dynamics.com https://fabrikam-dev.crm4.dynamics.com" {
		t.Errorf("environments scanned: %s", got)
	}
	if len(rep.SignInErrors) != 1 {
		t.Fatalf("sign-in errors %+v, want Contoso's discovery", rep.SignInErrors)
	}
	s := rep.SignInErrors[0]
	if s.Tenant != contosoID || s.Discovery != "bap" || s.HTTPStatus != 403 || !strings.Contains(s.Error, "Power Platform admin API") ||
		!strings.Contains(s.Fix, "management app") || s.Docs != "docs/configuration.md#environment-discovery" {
		t.Errorf("sign-in error %+v, want Contoso's refused discovery with the management-app fix", s)
	}
	snap, err := os.ReadFile(snapPath)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"discovery": "bap"`, `"status": "skipped"`, "could not be discovered"} {
		if !strings.Contains(string(snap), want) {
			t.Errorf("snapshot lacks %s", want)
		}
	}
}

// TestCollectSaysDiscoveryFailed: collect -o says, once, that a tenant's
// environments could not be discovered, and not that its sign-in failed.
func TestCollectSaysDiscoveryFailed(t *testing.T) {
	t.Parallel()
	path, deps := discoveryFleet(t, func(sc *emulator.Scenario) {
		if sc.Tenant.ID == contosoID {
			sc.Faults = []emulator.Fault{{Kind: emulator.FaultStatus, Status: 403, Match: emulator.FaultMatch{Host: "api.bap.microsoft.com"}}}
		}
	}, "    discover: {types: [Developer]}\n", "    discover: {}\n")
	var out, errOut bytes.Buffer
	deps.Stdout, deps.Stderr = &out, &errOut
	snapPath := filepath.Join(t.TempDir(), "snapshot.json")
	if code := Main([]string{"collect", "--config", path, "-o", snapPath}, deps); code != 0 {
		t.Fatalf("exit code %d; stderr %s", code, errOut.String())
	}
	msg := errOut.String()
	if !strings.Contains(msg, "wrote "+snapPath+": 2 tenant(s), 1 environment(s)") ||
		!strings.Contains(msg, "tenant "+contosoID+": its environments could not be discovered (bap), nothing of it was read: ") ||
		strings.Contains(msg, "sign-in failed") {
		t.Errorf("collect said:\n%s", msg)
	}
}
