package cli

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/teamslink/teamslink/internal/config"
	"github.com/teamslink/teamslink/internal/emulator"
	"github.com/teamslink/teamslink/internal/snapshot"
)

var repoRoot = filepath.Join("..", "..")

// demoFleet starts the emulator with every sample scenario and returns the
// demo config pointed at it, and deps that answer the demo secret.
func demoFleet(t *testing.T, scenarioNames ...string) (*emulator.Server, *config.Config, Deps) {
	t.Helper()
	return faultyFleet(t, nil, scenarioNames...)
}

// faultyFleet is demoFleet with every chosen scenario changed by mutate first.
func faultyFleet(t *testing.T, mutate func(*emulator.Scenario), scenarioNames ...string) (*emulator.Server, *config.Config, Deps) {
	t.Helper()
	var scenarios []*emulator.Scenario
	all, err := emulator.LoadScenarios(filepath.Join(repoRoot, "testdata", "scenarios"))
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range all {
		if len(scenarioNames) == 0 || slices.Contains(scenarioNames, s.Name) {
			if mutate != nil {
				mutate(s)
			}
			scenarios = append(scenarios, s)
		}
	}
	secret, err := sharedSecret(scenarios)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := emulator.New(emulator.Options{Scenarios: scenarios, CAFile: filepath.Join(t.TempDir(), "ca.pem"), Clock: time.Now})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	cfg, err := config.Load(filepath.Join(repoRoot, "testdata", "demo", "tenants.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]bool{}
	for _, s := range scenarios {
		ids[s.Tenant.ID] = true
	}
	var tenants []config.Tenant
	for _, tn := range cfg.Tenants {
		if ids[tn.ID] {
			tn.Endpoints.ConnectTo, tn.Endpoints.CAFile = srv.Addr(), srv.CAFile()
			tenants = append(tenants, tn)
		}
	}
	cfg.Tenants = tenants
	var log bytes.Buffer
	deps := Deps{
		Stdout: &log, Stderr: &log, Version: "test",
		Now: func() time.Time { return time.Date(2026, 11, 2, 9, 15, 0, 0, time.UTC) },
		LookupEnv: func(name string) (string, bool) {
			return secret, name == demoSecretEnv
		},
	}
	return srv, cfg, deps
}

var collectedAtRE = regexp.MustCompile(`"collectedAt": "[^"]*"`)

// normalized renders a snapshot with every timestamp and the tool blanked.
func normalized(t *testing.T, s *snapshot.Snapshot) string {
	t.Helper()
	c := *s
	c.Tool = ""
	var b bytes.Buffer
	if err := snapshot.Write(&b, &c); err != nil {
		t.Fatal(err)
	}
	return collectedAtRE.ReplaceAllString(b.String(), `"collectedAt": "-"`)
}

// TestCollectMatchesSampleSnapshots is the one-truth test: collecting each
// scenario through the emulator gives its sample snapshot, timestamps aside.
func TestCollectMatchesSampleSnapshots(t *testing.T) {
	t.Parallel()
	_, cfg, deps := demoFleet(t)
	got, err := collectSnapshot(t.Context(), cfg, deps, nil)
	if err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(repoRoot, "testdata", "snapshots", "*.json"))
	if len(files) != len(cfg.Tenants) {
		t.Fatalf("%d sample snapshots for %d demo tenants", len(files), len(cfg.Tenants))
	}
	for _, file := range files {
		want, err := snapshot.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		name := strings.TrimSuffix(filepath.Base(file), ".json")
		t.Run(name, func(t *testing.T) {
			part := &snapshot.Snapshot{SchemaVersion: want.SchemaVersion, CollectedAt: want.CollectedAt}
			for _, tn := range got.Tenants {
				if tn.ID == want.Tenants[0].ID {
					part.Tenants = append(part.Tenants, tn)
				}
			}
			for _, e := range got.Environments {
				if e.TenantID == want.Tenants[0].ID {
					part.Environments = append(part.Environments, e)
				}
			}
			if f := flag.Lookup("update"); f != nil && f.Value.String() == "true" {
				var buf bytes.Buffer
				if err := snapshot.Write(&buf, part); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(file, buf.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			if g, w := normalized(t, part), normalized(t, want); g != w {
				t.Errorf("collected snapshot differs from %s:\n%s", file, lineDiff(w, g))
			}
		})
	}
}

// lineDiff shows the lines that differ, want first.
func lineDiff(want, got string) string {
	wl, gl := strings.Split(want, "\n"), strings.Split(got, "\n")
	var b strings.Builder
	for i := 0; i < max(len(wl), len(gl)); i++ {
		var w, g string
		if i < len(wl) {
			w = wl[i]
		}
		if i < len(gl) {
			g = gl[i]
		}
		if w != g {
			b.WriteString("  line " + itoa(i+1) + "\n    want: " + w + "\n    got:  " + g + "\n")
			if b.Len() > 4000 {
				b.WriteString("  …\n")
				break
			}
		}
	}
	return b.String()
}

func itoa(i int) string { b, _ := json.Marshal(i); return string(b) }
