package main

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var commitTime = time.Date(2026, 12, 2, 15, 30, 0, 0, time.UTC)

// TestArchivesReproducible: an archive depends only on names, modes,
// contents and the commit's time — not on the order files are given in,
// the files' own times or the packer's umask.
func TestArchivesReproducible(t *testing.T) {
	t.Parallel()
	files := []entry{
		{name: "d/teamslink", mode: 0o755, data: []byte("binary")},
		{name: "d/README.md", mode: 0o644, data: []byte("# readme\n")},
	}
	reversed := []entry{files[1], files[0]}
	tests := []struct {
		name string
		pack func([]entry) ([]byte, error)
	}{
		{"tar.gz", func(f []entry) ([]byte, error) { return tarGz("d", f, commitTime) }},
		{"zip", func(f []entry) ([]byte, error) { return zipArchive(f, commitTime) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			a, err := tt.pack(files)
			if err != nil {
				t.Fatal(err)
			}
			b, err := tt.pack(reversed)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(a, b) {
				t.Fatal("two packs of the same files differ")
			}
		})
	}
}

// TestTarGzContents: the entries are sorted, root-owned, with the commit's
// time and fixed modes, and the gzip header has no name or time.
func TestTarGzContents(t *testing.T) {
	t.Parallel()
	data, err := tarGz("d", []entry{{name: "d/teamslink", mode: 0o755, data: []byte("bin")}, {name: "d/README.md", mode: 0o644, data: []byte("r")}}, commitTime)
	if err != nil {
		t.Fatal(err)
	}
	gz, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	if gz.Name != "" || !gz.ModTime.IsZero() {
		t.Errorf("gzip header records name %q, time %v", gz.Name, gz.ModTime)
	}
	tr := tar.NewReader(gz)
	var got []string
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if !h.ModTime.Equal(commitTime) || h.Uid != 0 || h.Gid != 0 || h.Uname != "root" {
			t.Errorf("%s: time %v, owner %d/%d %s", h.Name, h.ModTime, h.Uid, h.Gid, h.Uname)
		}
		got = append(got, h.Name+" "+os.FileMode(h.Mode).String())
	}
	want := "d/ -rwxr-xr-x,d/README.md -rw-r--r--,d/teamslink -rwxr-xr-x"
	if strings.Join(got, ",") != want {
		t.Errorf("entries %q, want %q", strings.Join(got, ","), want)
	}
}

func TestZipContents(t *testing.T) {
	t.Parallel()
	data, err := zipArchive([]entry{{name: "d/teamslink.exe", mode: 0o755, data: []byte("bin")}}, commitTime)
	if err != nil {
		t.Fatal(err)
	}
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	if len(zr.File) != 1 || zr.File[0].Name != "d/teamslink.exe" || !zr.File[0].Modified.Equal(commitTime) || zr.File[0].Mode() != 0o755 {
		t.Errorf("zip entries %+v", zr.File)
	}
}

func TestNamesAndFlags(t *testing.T) {
	t.Parallel()
	tests := []struct{ got, want string }{
		{Name("v1.2.0", "linux", "amd64"), "teamslink_1.2.0_linux_amd64"},
		{Name("0.0.0-dev", "windows", "arm64"), "teamslink_0.0.0-dev_windows_arm64"},
		{LDFlags("v1.2.0", "abc", "2026-12-02T15:30:00Z"), "-s -w -buildid= -X main.version=v1.2.0 -X main.commit=abc -X main.date=2026-12-02T15:30:00Z"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("got %q, want %q", tt.got, tt.want)
		}
	}
	if len(DefaultPlatforms) != 6 {
		t.Errorf("platforms %v, want linux, darwin and windows on amd64 and arm64", DefaultPlatforms)
	}
}

// TestChecksums: sha256sum's format, sorted, the checksums file itself and
// directories left out.
func TestChecksums(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for name, data := range map[string]string{"b.zip": "b", "a.tar.gz": "a", ChecksumsFile: "old"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Mkdir(filepath.Join(dir, "teamslink_1_linux_amd64"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := writeChecksums(dir); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(filepath.Join(dir, ChecksumsFile))
	if err != nil {
		t.Fatal(err)
	}
	sum := func(s string) string { h := sha256.Sum256([]byte(s)); return hex.EncodeToString(h[:]) }
	want := sum("a") + "  a.tar.gz\n" + sum("b") + "  b.zip\n"
	if string(got) != want {
		t.Errorf("checksums:\n%s\nwant:\n%s", got, want)
	}
}

// TestBuildReproducible builds a small program the way a release build
// does, twice, from copies of its source in two different directories,
// and wants the same bytes: -trimpath, no build id and no VCS stamp leave
// nothing of the machine or the checkout in the binary. (make
// release-verify does the same for teamslink itself with an empty build
// cache.)
func TestBuildReproducible(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("no go command")
	}
	src, err := os.ReadFile("testdata/hello/main.go")
	if err != nil {
		t.Fatal(err)
	}
	build := func() []byte {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module example.com/hello\n\ngo 1.26\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "main.go"), src, 0o644); err != nil {
			t.Fatal(err)
		}
		exe := filepath.Join(dir, "hello")
		cmd := exec.CommandContext(t.Context(), "go", "build", "-trimpath", "-buildvcs=false",
			"-ldflags", LDFlags("v1.2.0", "abc", "2026-12-02T15:30:00Z"), "-o", exe, ".")
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH=amd64", "GOFLAGS=", "GOTOOLCHAIN=local")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("go build: %v\n%s", err, out)
		}
		data, err := os.ReadFile(exe)
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(data, []byte(dir)) {
			t.Errorf("the binary holds its build directory %s", dir)
		}
		return data
	}
	a, b := build(), build()
	if sha256.Sum256(a) != sha256.Sum256(b) {
		t.Fatal("two builds of one source differ")
	}
}
