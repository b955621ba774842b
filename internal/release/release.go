package main

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// DefaultPlatforms are the GOOS/GOARCH pairs a release is built for.
var DefaultPlatforms = []string{
	"linux/amd64", "linux/arm64",
	"darwin/amd64", "darwin/arm64",
	"windows/amd64", "windows/arm64",
}

// ChecksumsFile is the name of the SHA-256 sums file in the output
// directory, in the format sha256sum -c reads.
const ChecksumsFile = "checksums.txt"

// extraFiles are packed beside the binary when the source tree has them.
var extraFiles = []string{"README.md", "LICENSE", "LICENSE.md", "LICENSE.txt", "NOTICE", "NOTICE.md"}

// Options say what to build and where.
type Options struct {
	Out       string   // output directory
	Version   string   // stamped as main.version
	Commit    string   // stamped as main.commit
	Date      string   // stamped as main.date, RFC 3339
	Platforms []string // GOOS/GOARCH pairs
	Package   string   // main package, ./cmd/teamslink
	Root      string   // source tree root (README, LICENSE); "" is the working directory
	// SBOM is the command that writes the SBOM of a binary, run with
	// -version, -output <name>.cdx.json and the binary's path appended;
	// none is made when it is empty.
	SBOM []string

	time time.Time // Date parsed: the file time of every archive entry
}

// Name is the base name of the artifacts of one platform:
// teamslink_1.2.0_linux_amd64 (a leading v is dropped, as release
// archives usually spell it).
func Name(version, goos, goarch string) string {
	return fmt.Sprintf("teamslink_%s_%s_%s", strings.TrimPrefix(version, "v"), goos, goarch)
}

// LDFlags are the linker flags of a release build: no symbol table or
// DWARF (-s -w), no build id (so it depends only on the inputs), and the
// three stamps cli.ResolveBuild reads.
func LDFlags(version, commit, date string) string {
	return fmt.Sprintf("-s -w -buildid= -X main.version=%s -X main.commit=%s -X main.date=%s", version, commit, date)
}

// Build builds and packs every platform of o and returns the archive
// names, in o.Platforms order.
func Build(ctx context.Context, o Options) ([]string, error) {
	if err := os.MkdirAll(o.Out, 0o755); err != nil {
		return nil, fmt.Errorf("create %s: %w", o.Out, err)
	}
	var names []string
	for _, p := range o.Platforms {
		goos, goarch, ok := strings.Cut(p, "/")
		if !ok {
			return names, fmt.Errorf("platform %q: want GOOS/GOARCH", p)
		}
		bin, err := buildBinary(ctx, o, goos, goarch)
		if err != nil {
			return names, err
		}
		name, err := pack(o, goos, goarch, bin)
		if err != nil {
			return names, err
		}
		names = append(names, name)
		if len(o.SBOM) > 0 {
			sbom, err := writeSBOM(ctx, o, goos, goarch)
			if err != nil {
				return names, err
			}
			names = append(names, sbom)
		}
	}
	return names, nil
}

// buildBinary runs go build for one platform into the output directory.
// CGO is off (a static binary that runs on any libc and in a distroless
// image); -trimpath drops the machine's paths; VCS stamping is off because
// the version, commit and date are stamped explicitly (it would otherwise
// also record whether the tree was modified, which varies between builds).
func buildBinary(ctx context.Context, o Options, goos, goarch string) ([]byte, error) {
	exe := binaryPath(o, goos, goarch)
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-buildvcs=false",
		"-ldflags", LDFlags(o.Version, o.Commit, o.Date), "-o", exe, o.Package)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS="+goos, "GOARCH="+goarch, "GOFLAGS=-mod=readonly")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("build %s/%s: %w", goos, goarch, err)
	}
	data, err := os.ReadFile(exe)
	if err != nil {
		return nil, fmt.Errorf("read %s/%s binary: %w", goos, goarch, err)
	}
	return data, nil
}

// writeSBOM runs o.SBOM over the binary of one platform and returns the
// SBOM's name. It runs in the caller's environment, not the target's: the
// tool is built for this machine.
func writeSBOM(ctx context.Context, o Options, goos, goarch string) (string, error) {
	name := Name(o.Version, goos, goarch) + ".cdx.json"
	args := append(slices.Clone(o.SBOM[1:]), "-version", o.Version, "-output", filepath.Join(o.Out, name), binaryPath(o, goos, goarch))
	cmd := exec.CommandContext(ctx, o.SBOM[0], args...)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("sbom %s/%s: %w", goos, goarch, err)
	}
	return name, nil
}

// binaryPath is where buildBinary writes the binary of one platform.
func binaryPath(o Options, goos, goarch string) string {
	exe := filepath.Join(o.Out, Name(o.Version, goos, goarch), "teamslink")
	if goos == "windows" {
		exe += ".exe"
	}
	return exe
}

// entry is one file of an archive.
type entry struct {
	name string
	mode fs.FileMode
	data []byte
}

// pack writes the archive of one platform and returns its name.
func pack(o Options, goos, goarch string, bin []byte) (string, error) {
	dir := Name(o.Version, goos, goarch)
	exe := "teamslink"
	if goos == "windows" {
		exe += ".exe"
	}
	files := []entry{{name: dir + "/" + exe, mode: 0o755, data: bin}}
	for _, f := range extraFiles {
		data, err := os.ReadFile(filepath.Join(o.Root, f))
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return "", fmt.Errorf("read %s: %w", f, err)
		}
		files = append(files, entry{name: dir + "/" + f, mode: 0o644, data: data})
	}
	var (
		data []byte
		err  error
		name = dir + ".tar.gz"
	)
	if goos == "windows" {
		name = dir + ".zip"
		data, err = zipArchive(files, o.time)
	} else {
		data, err = tarGz(dir, files, o.time)
	}
	if err != nil {
		return "", fmt.Errorf("pack %s: %w", name, err)
	}
	if err := os.WriteFile(filepath.Join(o.Out, name), data, 0o644); err != nil {
		return "", fmt.Errorf("write %s: %w", name, err)
	}
	return name, nil
}

// tarGz packs files under dir/ into a gzipped tar that depends only on
// the names, modes and contents: entries sorted, every time mtime, owner
// root, no gzip name or time.
func tarGz(dir string, files []entry, mtime time.Time) ([]byte, error) {
	files = sorted(files)
	var buf bytes.Buffer
	gz, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if err != nil {
		return nil, err
	}
	tw := tar.NewWriter(gz)
	hdr := func(name string, typ byte, mode fs.FileMode, size int) *tar.Header {
		return &tar.Header{
			Typeflag: typ, Name: name, Mode: int64(mode), Size: int64(size), ModTime: mtime,
			Uname: "root", Gname: "root", Format: tar.FormatPAX,
		}
	}
	if err := tw.WriteHeader(hdr(dir+"/", tar.TypeDir, 0o755, 0)); err != nil {
		return nil, err
	}
	for _, f := range files {
		if err := tw.WriteHeader(hdr(f.name, tar.TypeReg, f.mode, len(f.data))); err != nil {
			return nil, err
		}
		if _, err := tw.Write(f.data); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	if err := gz.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// zipArchive is tarGz for Windows users: a zip with sorted entries, each
// with the same time and mode.
func zipArchive(files []entry, mtime time.Time) ([]byte, error) {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, f := range sorted(files) {
		h := &zip.FileHeader{Name: f.name, Method: zip.Deflate, Modified: mtime}
		h.SetMode(f.mode)
		w, err := zw.CreateHeader(h)
		if err != nil {
			return nil, err
		}
		if _, err := w.Write(f.data); err != nil {
			return nil, err
		}
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func sorted(files []entry) []entry {
	return slices.SortedFunc(slices.Values(files), func(a, b entry) int { return strings.Compare(a.name, b.name) })
}

// writeChecksums writes ChecksumsFile in dir: the SHA-256 of every regular
// file directly in dir (the archives and the SBOMs), sorted by name.
func writeChecksums(dir string) error {
	sums, err := Checksums(dir)
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, ChecksumsFile), []byte(sums), 0o644); err != nil {
		return fmt.Errorf("write checksums: %w", err)
	}
	return nil
}

// Checksums is the text of ChecksumsFile for the files directly in dir.
func Checksums(dir string) (string, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return "", fmt.Errorf("list %s: %w", dir, err)
	}
	var b strings.Builder
	for _, e := range ents { // ReadDir sorts by name
		if !e.Type().IsRegular() || e.Name() == ChecksumsFile {
			continue
		}
		data, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			return "", fmt.Errorf("checksum %s: %w", e.Name(), err)
		}
		sum := sha256.Sum256(data)
		fmt.Fprintf(&b, "%s  %s\n", hex.EncodeToString(sum[:]), e.Name())
	}
	return b.String(), nil
}
