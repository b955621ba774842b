package cli_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/teamslink/teamslink/internal/cli"
)

// runEnv runs teamslink with env as its whole environment.
func runEnv(t *testing.T, env map[string]string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = cli.Main(args, cli.Deps{
		Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errOut, Version: "test", Now: fixedNow,
		LookupEnv: func(name string) (string, bool) { v, ok := env[name]; return v, ok },
	})
	return code, out.String(), errOut.String()
}

func keyFile(t *testing.T, key string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "redact.key")
	if err := os.WriteFile(path, []byte(key+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// demoStrings are strings of the sample snapshot that --redact must remove.
var demoStrings = []string{"fabrikam", "Fabrikam", "admin@", "Sales Documents", "10a86877-5713-50b1-82c1-b12f5ba6a7e6"}

func TestRedactOutputs(t *testing.T) {
	t.Parallel()
	key := keyFile(t, "a-redaction-key-for-tests")
	snap := snapshotPath("sp-800503ca-all")
	dir := t.TempDir()
	saved := filepath.Join(dir, "report.json")
	if code, _, stderr := run(t, "eval", snap, "--format", "json", "-o", saved); code != 1 {
		t.Fatalf("eval: exit %d: %s", code, stderr)
	}
	tests := []struct {
		name     string
		env      map[string]string
		args     []string
		wantCode int
	}{
		{"eval json", nil, []string{"eval", snap, "--redact", "--redact-key-file", key, "--format", "json"}, 1},
		{"eval table", nil, []string{"eval", snap, "--redact", "--redact-key-file", key, "--format", "markdown"}, 1},
		{"eval key from env", map[string]string{"TEAMSLINK_REDACT_KEY": "a-redaction-key-for-tests"}, []string{"eval", snap, "--redact", "--format", "sarif"}, 1},
		{"render", nil, []string{"report", "render", saved, "--redact", "--redact-key-file", key, "--format", "junit"}, 0},
		{"merge", nil, []string{"report", "merge", saved, "--redact", "--redact-key-file", key}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			code, stdout, stderr := runEnv(t, tt.env, tt.args...)
			if code != tt.wantCode {
				t.Fatalf("exit %d, want %d: %s", code, tt.wantCode, stderr)
			}
			for _, s := range demoStrings {
				if strings.Contains(stdout, s) {
					t.Errorf("output contains %q", s)
				}
			}
			if !strings.Contains(stdout, ".crm4.dynamics.com") {
				t.Errorf("output lost the service suffix of the environment URL")
			}
		})
	}
	// One key, two runs: the same bytes.
	args := []string{"eval", snap, "--redact", "--redact-key-file", key, "--format", "json"}
	_, a, _ := runEnv(t, nil, args...)
	_, b, _ := runEnv(t, nil, args...)
	if a != b {
		t.Error("two redacted runs with one key differ")
	}
}

func TestRedactKeyErrors(t *testing.T) {
	t.Parallel()
	snap := snapshotPath("ready")
	short := keyFile(t, "short")
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no key", []string{"eval", snap, "--redact"}, "needs a key"},
		{"short key", []string{"eval", snap, "--redact", "--redact-key-file", short}, "at least 16"},
		{"missing file", []string{"eval", snap, "--redact", "--redact-key-file", filepath.Join(t.TempDir(), "absent")}, "--redact-key-file"},
		{"key without redact", []string{"eval", snap, "--redact-key-file", short}, "needs --redact"},
		{"collect no key", []string{"collect", "--tenant", "3f2b8c1e-6d4a-4b7e-9a15-2c8d0e7f4a61", "--env", "https://contoso.crm.dynamics.com", "--redact"}, "needs a key"},
		{"scan no key", []string{"scan", "--tenant", "3f2b8c1e-6d4a-4b7e-9a15-2c8d0e7f4a61", "--env", "https://contoso.crm.dynamics.com", "--redact"}, "needs a key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			code, _, stderr := runEnv(t, nil, tt.args...)
			if code != 2 || !strings.Contains(stderr, tt.want) {
				t.Errorf("exit %d, stderr %q; want 2 and %q", code, stderr, tt.want)
			}
		})
	}
}
