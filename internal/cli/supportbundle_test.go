package cli_test

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// readBundle returns the archive's entries in order, with their contents.
func readBundle(t *testing.T, path string) (names []string, files map[string]string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	gz, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(gz)
	files = map[string]string{}
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, hdr.Name)
		files[hdr.Name] = string(b)
	}
	return names, files
}

// demoConfigStrings are the ids, names, URLs and hosts of the demo config.
func demoConfigStrings(t *testing.T, path string) []string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	re := regexp.MustCompile(`(?m)^\s*-?\s*(id|name|url|clientId|sharePointAdminUrl):\s*"?([^"\n]+)"?\s*$`)
	for _, m := range re.FindAllStringSubmatch(string(data), -1) {
		v := strings.TrimSpace(m[2])
		out = append(out, v)
		if i := strings.Index(v, "://"); i >= 0 {
			host := v[i+3:]
			out = append(out, host, strings.TrimSuffix(strings.Split(host, ".")[0], "-admin"))
		}
	}
	if len(out) < 10 {
		t.Fatalf("found only %d strings in %s", len(out), path)
	}
	return out
}

func TestSupportBundle(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	key := keyFile(t, "a-redaction-key-for-tests")
	logFile := filepath.Join(dir, "teamslink.log")
	if err := os.WriteFile(logFile, []byte("teamslink: GET https://fabrikam.crm4.dynamics.com/api/data/v9.2/organizations: 503 for admin@fabrikam.onmicrosoft.com\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join("..", "..", "testdata", "demo", "tenants.yaml")
	out := filepath.Join(dir, "bundle.tar.gz")
	code, _, stderr := runEnv(t, nil, "support-bundle", "--snapshot", snapshotPath("sp-800503ca-all"), "--config", cfg,
		"--redact-key-file", key, "--log", logFile, "-o", out)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	names, files := readBundle(t, out)
	if want := "snapshot.json report.json version.json tenants.yaml errors.txt"; strings.Join(names, " ") != want {
		t.Errorf("entries %v, want %s", names, want)
	}
	var version map[string]any
	if err := json.Unmarshal([]byte(files["version.json"]), &version); err != nil || version["version"] == nil {
		t.Errorf("version.json = %q (%v)", files["version.json"], err)
	}
	if !strings.Contains(files["tenants.yaml"], "secretEnv: TEAMSLINK_EMULATOR_SECRET") {
		t.Errorf("tenants.yaml lost the secret's variable name:\n%s", files["tenants.yaml"])
	}
	if strings.Contains(files["tenants.yaml"], "emulator-ca.pem") {
		t.Error("tenants.yaml keeps a CA file path")
	}
	if !strings.Contains(files["errors.txt"], "last lines of the log") || !strings.Contains(files["errors.txt"], "503") {
		t.Errorf("errors.txt lacks the log tail:\n%s", files["errors.txt"])
	}
	forbidden := append(demoConfigStrings(t, cfg), demoStrings...)
	for name, body := range files {
		for _, s := range forbidden {
			if strings.Contains(body, s) {
				t.Errorf("%s contains %q", name, s)
			}
		}
	}
	// The same inputs and key give the same archive.
	again := filepath.Join(dir, "again.tar.gz")
	if code, _, stderr := runEnv(t, nil, "support-bundle", "--snapshot", snapshotPath("sp-800503ca-all"), "--config", cfg,
		"--redact-key-file", key, "--log", logFile, "-o", again); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	a, _ := os.ReadFile(out)
	b, _ := os.ReadFile(again)
	if !bytes.Equal(a, b) {
		t.Error("two bundles of one input differ")
	}
}

func TestSupportBundleUsage(t *testing.T) {
	t.Parallel()
	key := keyFile(t, "a-redaction-key-for-tests")
	out := filepath.Join(t.TempDir(), "b.tar.gz")
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no key", []string{"support-bundle", "--snapshot", snapshotPath("ready"), "-o", out}, "needs a key"},
		{"no input", []string{"support-bundle", "--redact-key-file", key, "-o", out}, "--snapshot"},
		{"bad snapshot", []string{"support-bundle", "--redact-key-file", key, "--snapshot", filepath.Join(t.TempDir(), "absent.json"), "-o", out}, "absent.json"},
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
	if _, err := os.Stat(out); err == nil {
		t.Error("a failed support-bundle wrote its archive")
	}
}
