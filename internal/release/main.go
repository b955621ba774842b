// Command release builds the release artifacts of teamslink reproducibly:
// one static binary per platform, stamped with the version, the commit and
// the commit's time, packed into a tar.gz (a zip for Windows) with the
// README and any LICENSE or NOTICE file, a CycloneDX SBOM per binary
// made by the command -sbom names, and a checksums file of SHA-256 sums. Everything written depends only on the source tree and the flags —
// file times in the archives are the commit's time, owners are root, modes
// are fixed and entries sorted — so two runs over one commit give the same
// bytes. make release runs it (with the SBOMs in between); see
// docs/release.md.
//
//	go run ./internal/release -version v1.2.0 -commit $(git rev-parse HEAD) -date 2026-12-02T15:30:00Z \
//		-sbom 'go run github.com/CycloneDX/cyclonedx-gomod/cmd/cyclonedx-gomod@v1.10.0 bin -json -noserial -notimestamp -std' build
//	go run ./internal/release checksums
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"time"
)

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("release", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o Options
	var platforms string
	fs.StringVar(&o.Out, "out", "dist", "directory the artifacts are written to")
	fs.StringVar(&o.Version, "version", "", "version stamped into the binaries (required for build)")
	fs.StringVar(&o.Commit, "commit", "", "commit stamped into the binaries (required for build)")
	fs.StringVar(&o.Date, "date", "", "the commit's time, RFC 3339, stamped and used as the archives' file times (required for build)")
	fs.StringVar(&platforms, "platforms", strings.Join(DefaultPlatforms, ","), "comma-separated GOOS/GOARCH list")
	fs.StringVar(&o.Package, "package", "./cmd/teamslink", "the main package to build")
	var sbom string
	fs.StringVar(&sbom, "sbom", "", "command that writes a binary's SBOM; -version, -output and the binary are appended")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: release [flags] build|checksums")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return 2
	}
	o.Platforms = strings.Split(platforms, ",")
	o.SBOM = strings.Fields(sbom)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	var err error
	switch fs.Arg(0) {
	case "build":
		err = build(ctx, o, stdout)
	case "checksums":
		err = writeChecksums(o.Out)
	default:
		fs.Usage()
		return 2
	}
	if err != nil {
		fmt.Fprintln(stderr, "release:", err)
		return 1
	}
	return 0
}

// build checks the flags, builds every platform and packs its archive.
func build(ctx context.Context, o Options, stdout io.Writer) error {
	if o.Version == "" || o.Commit == "" || o.Date == "" {
		return errors.New("build needs -version, -commit and -date")
	}
	t, err := time.Parse(time.RFC3339, o.Date)
	if err != nil {
		return fmt.Errorf("parse -date: %w", err)
	}
	o.time = t.UTC()
	names, err := Build(ctx, o)
	for _, n := range names {
		fmt.Fprintln(stdout, n)
	}
	return err
}
