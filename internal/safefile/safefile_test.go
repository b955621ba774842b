package safefile_test

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"

	"github.com/teamslink/teamslink/internal/safefile"
)

const newContent = "new content\n"

// write puts content at path through a File and commits it.
func write(t *testing.T, path, content string) error {
	t.Helper()
	f, err := safefile.Create(path)
	if err != nil {
		return err
	}
	defer f.Abort()
	if _, err := f.Write([]byte(content)); err != nil {
		return err
	}
	return f.Commit(t.Context())
}

func mustWriteFile(t *testing.T, path, content string, perm fs.FileMode) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), perm); err != nil {
		t.Fatal(err)
	}
	// WriteFile's mode is subject to the umask; the tests want it exactly.
	if err := os.Chmod(path, perm); err != nil {
		t.Fatal(err)
	}
}

func wantContent(t *testing.T, path, want string) {
	t.Helper()
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != want {
		t.Errorf("%s holds %q, want %q", path, got, want)
	}
}

func wantPerm(t *testing.T, path string, want fs.FileMode) {
	t.Helper()
	if runtime.GOOS == "windows" {
		return // only the read-only bit exists there
	}
	fi, err := os.Lstat(path)
	if err != nil {
		t.Fatal(err)
	}
	if !fi.Mode().IsRegular() || fi.Mode().Perm() != want {
		t.Errorf("%s has mode %v, want a regular file with %v", path, fi.Mode(), want)
	}
}

// noTemps checks that no temporary file is left in dir.
func noTemps(t *testing.T, dir string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if strings.Contains(e.Name(), ".tmp-") {
			t.Errorf("temporary file %s left in %s", e.Name(), dir)
		}
	}
}

// umask is the process's umask, found the portable way: by creating a file.
func umask(t *testing.T) fs.FileMode {
	t.Helper()
	name := filepath.Join(t.TempDir(), "probe")
	f, err := os.OpenFile(name, os.O_CREATE|os.O_WRONLY, 0o777)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	return 0o777 &^ fi.Mode().Perm()
}

// TestCreate writes over every kind of thing a path can name and checks
// that the thing is still what it was, with the new content in it.
func TestCreate(t *testing.T) {
	t.Parallel()
	newPerm := 0o644 &^ umask(t)
	tests := []struct {
		name string
		// setup makes what is at the path and returns the path to write.
		setup func(t *testing.T, dir string) string
		// check runs after the write succeeded.
		check func(t *testing.T, dir, path string)
	}{
		{
			name:  "new file gets 0644 less the umask",
			setup: func(_ *testing.T, dir string) string { return filepath.Join(dir, "out.json") },
			check: func(t *testing.T, _, path string) {
				wantContent(t, path, newContent)
				wantPerm(t, path, newPerm)
			},
		},
		{
			name: "regular file keeps 0600",
			setup: func(t *testing.T, dir string) string {
				path := filepath.Join(dir, "out.json")
				mustWriteFile(t, path, "old", 0o600)
				return path
			},
			check: func(t *testing.T, _, path string) {
				wantContent(t, path, newContent)
				wantPerm(t, path, 0o600)
			},
		},
		{
			name: "read-only file keeps 0444",
			setup: func(t *testing.T, dir string) string {
				path := filepath.Join(dir, "out.json")
				mustWriteFile(t, path, "old", 0o444)
				return path
			},
			check: func(t *testing.T, _, path string) {
				wantContent(t, path, newContent)
				wantPerm(t, path, 0o444)
			},
		},
		{
			name: "symlink stays a link and its target is updated",
			setup: func(t *testing.T, dir string) string {
				if err := os.Mkdir(filepath.Join(dir, "real"), 0o755); err != nil {
					t.Fatal(err)
				}
				mustWriteFile(t, filepath.Join(dir, "real", "target.json"), "old", 0o600)
				// link -> hop -> real/target.json, both relative.
				symlink(t, "hop", filepath.Join(dir, "out.json"))
				symlink(t, filepath.Join("real", "target.json"), filepath.Join(dir, "hop"))
				return filepath.Join(dir, "out.json")
			},
			check: func(t *testing.T, dir, path string) {
				wantLink(t, path, "hop")
				wantLink(t, filepath.Join(dir, "hop"), filepath.Join("real", "target.json"))
				wantContent(t, filepath.Join(dir, "real", "target.json"), newContent)
				wantPerm(t, filepath.Join(dir, "real", "target.json"), 0o600)
				noTemps(t, filepath.Join(dir, "real"))
			},
		},
		{
			name: "dangling symlink stays a link and its target is created",
			setup: func(t *testing.T, dir string) string {
				symlink(t, "target.json", filepath.Join(dir, "out.json"))
				return filepath.Join(dir, "out.json")
			},
			check: func(t *testing.T, dir, path string) {
				wantLink(t, path, "target.json")
				wantContent(t, filepath.Join(dir, "target.json"), newContent)
				wantPerm(t, filepath.Join(dir, "target.json"), newPerm)
			},
		},
		{
			name: "null device stays a device",
			setup: func(t *testing.T, _ string) string {
				if fi, err := os.Stat(os.DevNull); err != nil || fi.Mode()&fs.ModeCharDevice == 0 {
					t.Skipf("%s is not a character device here: %v", os.DevNull, err)
				}
				return os.DevNull
			},
			check: func(t *testing.T, _, path string) {
				fi, err := os.Stat(path)
				if err != nil {
					t.Fatal(err)
				}
				if fi.Mode()&fs.ModeCharDevice == 0 {
					t.Errorf("%s is now %v, want a character device", path, fi.Mode())
				}
				noTemps(t, filepath.Dir(path))
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			path := tt.setup(t, dir)
			if err := write(t, path, newContent); err != nil {
				t.Fatalf("write %s: %v", path, err)
			}
			tt.check(t, dir, path)
			noTemps(t, dir)
		})
	}
}

func symlink(t *testing.T, oldname, newname string) {
	t.Helper()
	if err := os.Symlink(oldname, newname); err != nil {
		t.Skipf("no symbolic links here: %v", err)
	}
}

func wantLink(t *testing.T, path, target string) {
	t.Helper()
	got, err := os.Readlink(path)
	if err != nil {
		t.Fatalf("%s is no longer a symbolic link: %v", path, err)
	}
	if got != target {
		t.Errorf("%s points to %s, want %s", path, got, target)
	}
}

func TestCreateRefusesDirectory(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "out")
	if err := os.Mkdir(path, 0o755); err != nil {
		t.Fatal(err)
	}
	err := write(t, path, newContent)
	if !errors.Is(err, syscall.EISDIR) || !strings.Contains(err.Error(), "is a directory") {
		t.Errorf("write to a directory: %v, want an is-a-directory error", err)
	}
	if fi, err := os.Stat(path); err != nil || !fi.IsDir() {
		t.Errorf("%s is no longer a directory: %v", path, err)
	}
	noTemps(t, dir)
}

// TestNothingReplacedUntilCommit stops a write halfway, by Abort (the
// renderer failed) or by a context that ended before Commit (the run was
// interrupted): the old content stays and no temporary file is left.
func TestNothingReplacedUntilCommit(t *testing.T) {
	t.Parallel()
	interrupted := errors.New("interrupted")
	tests := []struct {
		name    string
		finish  func(*safefile.File) error
		wantErr error
	}{
		{"abort after a partial write", func(f *safefile.File) error { return f.Abort() }, nil},
		{"commit after the context ended", func(f *safefile.File) error {
			ctx, cancel := context.WithCancelCause(context.Background())
			cancel(interrupted)
			return f.Commit(ctx)
		}, interrupted},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			path := filepath.Join(dir, "snapshot.json")
			mustWriteFile(t, path, "previous", 0o600)
			f, err := safefile.Create(path)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := f.Write([]byte(strings.Repeat("partial ", 1<<14))); err != nil {
				t.Fatal(err)
			}
			wantContent(t, path, "previous")
			if err := tt.finish(f); !errors.Is(err, tt.wantErr) {
				t.Errorf("finish: %v, want %v", err, tt.wantErr)
			}
			if err := f.Commit(t.Context()); err == nil {
				t.Error("Commit after the file was finished succeeded")
			}
			wantContent(t, path, "previous")
			wantPerm(t, path, 0o600)
			noTemps(t, dir)
		})
	}
}
