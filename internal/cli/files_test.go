package cli

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/teamslink/teamslink/internal/emulator"
)

// fleetConfig starts the emulator with the named scenarios, each changed by
// mutate first, and writes a tenants.yaml that scans them through it.
func fleetConfig(t *testing.T, mutate func(*emulator.Scenario), names ...string) (*emulator.Server, string, Deps) {
	t.Helper()
	var scenarios []*emulator.Scenario
	srv, _, deps := faultyFleet(t, func(s *emulator.Scenario) {
		if mutate != nil {
			mutate(s)
		}
		scenarios = append(scenarios, s)
	}, names...)
	var b bytes.Buffer
	if err := writeEmulatorConfig(&b, scenarios, srv.Addr(), srv.CAFile()); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "tenants.yaml")
	if err := os.WriteFile(path, b.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	return srv, path, deps
}

// runMain runs teamslink in-process with deps and returns its exit code and
// output.
func runMain(t *testing.T, deps Deps, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	deps.Stdin, deps.Stdout, deps.Stderr = strings.NewReader(""), &out, &errOut
	code = Main(args, deps)
	return code, out.String(), errOut.String()
}

// TestOutputSitesKeepWhatIsAtThePath runs every command that writes a file
// at a symbolic link to a 0600 file, at the null device and at a directory:
// the link stays a link and its target gets the output with its mode kept,
// the device stays a device, and a directory is refused as a usage error.
func TestOutputSitesKeepWhatIsAtThePath(t *testing.T) {
	t.Parallel()
	_, configPath, deps := fleetConfig(t, nil, "ready")
	ready := filepath.Join(repoRoot, "testdata", "snapshots", "ready.json")
	sites := []struct {
		name string
		args func(path string) []string
	}{
		{"eval --output", func(p string) []string { return []string{"eval", ready, "--format", "json", "--output", p} }},
		{"eval --format json=FILE", func(p string) []string { return []string{"eval", ready, "--format", "table,json=" + p} }},
		{"collect -o", func(p string) []string { return []string{"collect", "--config", configPath, "-o", p} }},
		{"scan --snapshot-out", func(p string) []string {
			return []string{"scan", "--config", configPath, "--format", "json", "--snapshot-out", p}
		}},
		{"scan --format table=FILE", func(p string) []string {
			return []string{"scan", "--config", configPath, "--format", "table=" + p}
		}},
		{"remediate plan -o", func(p string) []string { return []string{"remediate", "plan", "--snapshot", ready, "-o", p} }},
	}
	kinds := []struct {
		name  string
		setup func(t *testing.T, dir string) string
		want  int
		check func(t *testing.T, dir, path, stderr string)
	}{
		{
			name: "symlink to a 0600 file",
			setup: func(t *testing.T, dir string) string {
				if err := os.WriteFile(filepath.Join(dir, "real.json"), []byte("previous"), 0o600); err != nil {
					t.Fatal(err)
				}
				if err := os.Symlink("real.json", filepath.Join(dir, "out.json")); err != nil {
					t.Skipf("no symbolic links here: %v", err)
				}
				return filepath.Join(dir, "out.json")
			},
			check: func(t *testing.T, dir, path, _ string) {
				if got, err := os.Readlink(path); err != nil || got != "real.json" {
					t.Errorf("%s is no longer a link to real.json: %q %v", path, got, err)
				}
				real := filepath.Join(dir, "real.json")
				fi, err := os.Lstat(real)
				if err != nil {
					t.Fatal(err)
				}
				if !fi.Mode().IsRegular() || fi.Mode().Perm() != 0o600 {
					t.Errorf("%s has mode %v, want a regular file with 0600", real, fi.Mode())
				}
				if b, _ := os.ReadFile(real); len(b) == 0 || string(b) == "previous" {
					t.Errorf("%s was not written: %.40q", real, b)
				}
			},
		},
		{
			name: "null device",
			setup: func(t *testing.T, _ string) string {
				if fi, err := os.Stat(os.DevNull); err != nil || fi.Mode()&fs.ModeCharDevice == 0 {
					t.Skipf("%s is not a character device here: %v", os.DevNull, err)
				}
				return os.DevNull
			},
			check: func(t *testing.T, _, path, _ string) {
				if fi, err := os.Stat(path); err != nil || fi.Mode()&fs.ModeCharDevice == 0 {
					t.Errorf("%s is no longer a character device: %v", path, err)
				}
			},
		},
		{
			name: "directory",
			setup: func(t *testing.T, dir string) string {
				path := filepath.Join(dir, "out.json")
				if err := os.Mkdir(path, 0o755); err != nil {
					t.Fatal(err)
				}
				return path
			},
			want: 2,
			check: func(t *testing.T, _, path, stderr string) {
				if !strings.Contains(stderr, "is a directory") {
					t.Errorf("stderr %q does not say the path is a directory", stderr)
				}
				entries, err := os.ReadDir(path)
				if err != nil || len(entries) != 0 {
					t.Errorf("%s is no longer an empty directory: %v %v", path, entries, err)
				}
			},
		},
	}
	for _, site := range sites {
		for _, kind := range kinds {
			t.Run(site.name+"/"+kind.name, func(t *testing.T) {
				t.Parallel()
				dir := t.TempDir()
				path := kind.setup(t, dir)
				code, _, stderr := runMain(t, deps, site.args(path)...)
				if code != kind.want {
					t.Errorf("exit code %d, want %d; stderr: %s", code, kind.want, stderr)
				}
				kind.check(t, dir, path, stderr)
				entries, _ := os.ReadDir(dir)
				for _, e := range entries {
					if strings.Contains(e.Name(), ".tmp-") {
						t.Errorf("temporary file %s left behind", e.Name())
					}
				}
			})
		}
	}
}
