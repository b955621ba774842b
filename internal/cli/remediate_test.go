package cli

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/teamslink/teamslink/internal/emulator"
)

// TestMain lets a test run teamslink as a child process (the test binary
// with TEAMSLINK_CLI_CHILD=1), to kill it mid-run.
func TestMain(m *testing.M) {
	if os.Getenv("TEAMSLINK_CLI_CHILD") == "1" {
		os.Exit(Main(os.Args[1:], Deps{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr, Version: "test", Now: time.Now}))
	}
	os.Exit(m.Run())
}

// planFromSample writes the plan of a sample snapshot (no network).
func planFromSample(t *testing.T, deps Deps, name string, extra ...string) string {
	t.Helper()
	plan := filepath.Join(t.TempDir(), "plan.json")
	args := append([]string{"remediate", "plan", "--snapshot", filepath.Join(repoRoot, "testdata", "snapshots", name+".json"), "-o", plan}, extra...)
	if code, out, errOut := runMain(t, deps, args...); code != 0 {
		t.Fatalf("plan: exit %d\n%s%s", code, out, errOut)
	}
	return plan
}

// TestRemediateApplyRefuses checks every refusal that comes before any
// write: none of them creates a journal or sends a request.
func TestRemediateApplyRefuses(t *testing.T) {
	t.Parallel()
	deps := Deps{Version: "test", Now: func() time.Time { return time.Date(2026, 11, 2, 9, 15, 0, 0, time.UTC) }}
	plan := planFromSample(t, deps, "sp-800503ca-all", "--entities", "account,incident")
	config := filepath.Join(repoRoot, "testdata", "demo", "tenants.yaml")
	tampered := filepath.Join(t.TempDir(), "tampered.json")
	raw, _ := os.ReadFile(plan)
	if err := os.WriteFile(tampered, []byte(strings.Replace(string(raw), `"isonedriveenabled": false`, `"isonedriveenabled": true`, 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	later := deps
	later.Now = func() time.Time { return deps.Now().Add(2 * time.Hour) }
	other := filepath.Join(t.TempDir(), "other.yaml")
	if err := os.WriteFile(other, []byte("tenants:\n  - id: 3f2b8c1e-6d4a-4b7e-9a15-2c8d0e7f4a61\n    auth: {method: azure-cli}\n    environments:\n      - url: https://contoso.crm.dynamics.com\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		deps Deps
		args []string
		code int
		want string
	}{
		{"deletes without --allow-delete", deps, []string{"--plan", plan, "--yes"}, 2, "deletes 3 record(s): nothing was written"},
		{"more than --max-changes", deps, []string{"--plan", plan, "--yes", "--allow-delete", "--max-changes", "3"}, 2, "more than --max-changes 3"},
		{"older than --max-age", later, []string{"--plan", plan, "--yes", "--allow-delete"}, 2, "more than --max-age 1h0m0s"},
		{"hash does not match", deps, []string{"--plan", tampered, "--yes", "--allow-delete"}, 2, "does not match its content"},
		{"no config", deps, []string{"--plan", plan, "--yes", "--allow-delete"}, 2, "--config"},
		{"tenant not in the config", deps, []string{"--plan", plan, "--yes", "--allow-delete", "--config", other}, 2, "is not in the config; nothing was written"},
		{"dry run", deps, []string{"--plan", plan, "--allow-delete", "--config", config}, 0, "dry run: nothing was written"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := runMain(t, tt.deps, append([]string{"remediate", "apply"}, tt.args...)...)
			if code != tt.code || !strings.Contains(out+errOut, tt.want) {
				t.Errorf("exit %d, want %d with %q:\n%s%s", code, tt.code, tt.want, out, errOut)
			}
			if _, err := os.Stat(plan + ".journal"); err == nil {
				t.Fatal("a journal was created")
			}
		})
	}
}

// TestRemediatePlanRefusesARedactedSnapshot: its ids and ETags are not the
// tenant's, so nothing can be planned from it.
func TestRemediatePlanRefusesARedactedSnapshot(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile(filepath.Join(repoRoot, "testdata", "snapshots", "sp-onedrive.json"))
	if err != nil {
		t.Fatal(err)
	}
	red := regexp.MustCompile(`"@odata\.etag": "(?:[^"\\]|\\.)*"`).ReplaceAllString(string(raw), `"@odata.etag": "W/\"redacted\""`)
	path := filepath.Join(t.TempDir(), "redacted.json")
	if err := os.WriteFile(path, []byte(red), 0o600); err != nil {
		t.Fatal(err)
	}
	deps := Deps{Version: "test", Now: time.Now}
	code, out, errOut := runMain(t, deps, "remediate", "plan", "--snapshot", path, "-o", filepath.Join(t.TempDir(), "plan.json"))
	if code != 2 || !strings.Contains(errOut, "redacted") {
		t.Errorf("exit %d:\n%s%s", code, out, errOut)
	}
}

// killAfterWrites starts `remediate apply` as a child process against srv,
// every write slowed to 200 ms, and SIGKILLs it once n writes reached the
// emulator. It returns the journal.
func killAfterWrites(t *testing.T, srv *emulator.Server, configPath, plan string, n int) string {
	t.Helper()
	journal := plan + ".journal"
	cmd := exec.Command(os.Args[0], "remediate", "apply", "--plan", plan, "--config", configPath, "--yes", "--allow-delete")
	cmd.Env = append(os.Environ(), "TEAMSLINK_CLI_CHILD=1", demoSecretEnv+"=emulator-demo-secret-not-real")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(60 * time.Second)
	for countWrites(srv) < n {
		if time.Now().After(deadline) {
			_ = cmd.Process.Kill()
			t.Fatalf("the child made %d writes in 60 s", countWrites(srv))
		}
		time.Sleep(5 * time.Millisecond)
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	if _, err := os.Stat(journal); err != nil {
		t.Fatalf("no journal after the kill: %v", err)
	}
	return journal
}

func countWrites(srv *emulator.Server) int {
	n := 0
	for _, r := range srv.Requests() {
		if r.Method != "GET" && r.Host != "" && strings.HasSuffix(r.Host, ".dynamics.com") && !strings.HasSuffix(r.Path, "$batch") {
			n++
		}
	}
	return n
}

// writesPerRecord counts the writes the emulator made to each record path
// (a request the kill cut off before it was served made none).
func writesPerRecord(srv *emulator.Server) map[string]int {
	out := map[string]int{}
	for _, r := range srv.Requests() {
		if r.Method != "GET" && r.Status >= 200 && r.Status < 300 && strings.HasSuffix(r.Host, ".dynamics.com") && !strings.HasSuffix(r.Path, "$batch") {
			out[r.Method+" "+r.Host+r.Path]++
		}
	}
	return out
}

// TestRemediateSurvivesSIGKILL kills `remediate apply` after three writes:
// `apply --resume` then finishes the rest without writing anything twice,
// and, on another run, `rollback` restores every record the killed run
// touched.
func TestRemediateSurvivesSIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("runs teamslink as a child process")
	}
	slowWrites := func(s *emulator.Scenario) {
		s.Faults = append(s.Faults, emulator.Fault{Kind: emulator.FaultLatency, Delay: "200ms", Match: emulator.FaultMatch{Method: "WRITE", Path: `sharepoint|organizations|EntityDefinitions`}})
	}
	plan := func(t *testing.T, configPath string, deps Deps) string {
		t.Helper()
		p := filepath.Join(t.TempDir(), "plan.json")
		if code, out, errOut := runMain(t, deps, "remediate", "plan", "--config", configPath, "--entities", "account,incident", "-o", p); code != 0 {
			t.Fatalf("plan: exit %d\n%s%s", code, out, errOut)
		}
		return p
	}
	t.Run("resume", func(t *testing.T) {
		srv, configPath, deps := fleetConfig(t, slowWrites, "sp-800503ca-all")
		deps.Now = time.Now
		p := plan(t, configPath, deps)
		journal := killAfterWrites(t, srv, configPath, p, 3)
		code, out, errOut := runMain(t, deps, "remediate", "apply", "--resume", journal, "--config", configPath, "--yes", "--allow-delete")
		if code != 0 || !strings.Contains(out, "every action is done and verified") {
			t.Fatalf("resume: exit %d\n%s%s", code, out, errOut)
		}
		for _, want := range []string{"basic    READY", "enhanced READY"} {
			if strings.Count(out, want) != 2 {
				t.Errorf("the rescan does not show both environments %s:\n%s", want, out)
			}
		}
		for rec, n := range writesPerRecord(srv) {
			if n != 1 && !strings.Contains(rec, "PublishXml") {
				t.Errorf("%s written %d times", rec, n)
			}
		}
	})
	t.Run("rollback", func(t *testing.T) {
		srv, configPath, deps := fleetConfig(t, slowWrites, "sp-800503ca-all")
		deps.Now = time.Now
		before := filepath.Join(t.TempDir(), "before.json")
		if code, out, errOut := runMain(t, deps, "collect", "--config", configPath, "--entities", "account,incident", "-o", before); code != 0 {
			t.Fatalf("collect: exit %d\n%s%s", code, out, errOut)
		}
		p := plan(t, configPath, deps)
		journal := killAfterWrites(t, srv, configPath, p, 3)
		code, out, errOut := runMain(t, deps, "remediate", "rollback", "--journal", journal, "--config", configPath, "--yes")
		if code != 0 || !strings.Contains(out, "every completed action is undone and verified") {
			t.Fatalf("rollback: exit %d\n%s%s", code, out, errOut)
		}
		after := filepath.Join(t.TempDir(), "after.json")
		if code, out, errOut := runMain(t, deps, "collect", "--config", configPath, "--entities", "account,incident", "-o", after); code != 0 {
			t.Fatalf("collect: exit %d\n%s%s", code, out, errOut)
		}
		if a, b := stateOf(t, before), stateOf(t, after); a != b {
			t.Errorf("the state after rollback differs from the state before apply:\n%s", lineDiff(a, b))
		}
	})
}

// stateOf reads a snapshot file with what writes change by themselves
// (times, ETags) blanked.
func stateOf(t *testing.T, path string) string {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatal(err)
	}
	s := regexp.MustCompile(`"@odata\.etag": "(?:[^"\\]|\\.)*"`).ReplaceAllString(string(raw), `"@odata.etag": "-"`)
	return regexp.MustCompile(`"collectedAt": "[^"]*"`).ReplaceAllString(s, `"collectedAt": "-"`)
}
