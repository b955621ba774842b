package cli

import (
	"encoding/json"
	"fmt"
	"regexp"
	"runtime"
	"runtime/debug"
	"strings"
	"time"

	"github.com/spf13/cobra"
)

// BuildInfo says which build of teamslink runs: what `teamslink version
// --json` prints. Commit and Date are Unknown when no stamp and no build
// information says them.
type BuildInfo struct {
	// Version is the release (v1.2.0), a module pseudo-version, or "dev".
	Version string `json:"version"`
	// Commit is the git commit the binary was built from.
	Commit string `json:"commit"`
	// Date is the commit's time, RFC 3339 in UTC — never the time of the
	// build, so that two builds of one commit are byte for byte the same.
	Date string `json:"date"`
	// Modified says the checkout it was built from had uncommitted changes
	// (vcs.modified, or a version ending in -dirty or +dirty), so the
	// commit alone does not make the same binary.
	Modified bool `json:"modified"`
	// Go is the Go toolchain that built it (go1.26.8).
	Go string `json:"go"`
	// OS and Arch are the platform it was built for.
	OS   string `json:"os"`
	Arch string `json:"arch"`
}

// Unknown is the Commit or Date of a build that says nothing about it: a
// `go run`, a build with -buildvcs=false and no stamps, or a `go install`
// of a tagged release (a module zip has no VCS information).
const Unknown = "unknown"

// pseudoVersion matches the tail of a module pseudo-version
// (v0.0.0-20261202153000-0123456789ab), without build metadata such as
// +dirty: the commit's UTC time and its 12-character hash.
var pseudoVersion = regexp.MustCompile(`(?:^|[.-])(\d{14})-([0-9a-f]{12})$`)

// ResolveBuild is the BuildInfo of the running binary. version, commit and
// date are what the linker stamped (-X main.version=… by make build and
// make release); what is left unstamped comes from the build information Go
// embeds (read, normally debug.ReadBuildInfo): the vcs.revision, vcs.time and
// vcs.modified of a `go build` inside a checkout, and the module version —
// of a `go install …@version`, or the one `go build` derives from the
// checkout's tags — whose pseudo-version also names the commit and its time.
// What none of them says is Unknown; a version nothing names is "dev".
func ResolveBuild(version, commit, date string, read func() (*debug.BuildInfo, bool)) BuildInfo {
	b := BuildInfo{Version: version, Commit: commit, Date: date, Go: runtime.Version(), OS: runtime.GOOS, Arch: runtime.GOARCH}
	if info, ok := read(); ok && info != nil {
		fromBuildInfo(&b, info)
	}
	if b.Version == "" {
		b.Version = "dev"
	}
	if strings.HasSuffix(b.Version, "-dirty") || strings.HasSuffix(b.Version, "+dirty") || strings.HasSuffix(b.Version, ".dirty") {
		b.Modified = true
	}
	if b.Commit == "" {
		b.Commit = Unknown
	}
	if b.Date == "" {
		b.Date = Unknown
	}
	return b
}

// fromBuildInfo fills what b leaves empty from Go's build information: the
// VCS settings first (a full revision), then the module version.
func fromBuildInfo(b *BuildInfo, info *debug.BuildInfo) {
	if info.GoVersion != "" {
		b.Go = info.GoVersion
	}
	stamped := b.Commit != ""
	for _, s := range info.Settings {
		switch {
		case s.Key == "vcs.revision" && b.Commit == "":
			b.Commit = s.Value
		case s.Key == "vcs.time" && b.Date == "":
			if t, err := time.Parse(time.RFC3339Nano, s.Value); err == nil {
				b.Date = t.UTC().Format(time.RFC3339)
			}
		case s.Key == "vcs.modified" && !stamped:
			// A stamped commit was described by its stamper (make release
			// builds with -buildvcs=false and says -dirty in the version).
			b.Modified = s.Value == "true"
		}
	}
	v := info.Main.Version
	if (b.Version == "" || b.Version == "dev") && v != "" && v != "(devel)" {
		b.Version = v
	}
	core, _, _ := strings.Cut(v, "+") // +dirty, +incompatible
	if m := pseudoVersion.FindStringSubmatch(core); m != nil {
		if t, err := time.Parse("20060102150405", m[1]); err == nil && b.Date == "" {
			b.Date = t.UTC().Format(time.RFC3339)
		}
		if b.Commit == "" {
			b.Commit = m[2]
		}
	}
}

// build is deps.Build with what a caller left empty (tests, an embedding
// program) taken from deps.Version and the running toolchain.
func (d Deps) build() BuildInfo {
	b := d.Build
	if b.Version == "" {
		b.Version = d.Version
	}
	if b.Go == "" {
		b.Go, b.OS, b.Arch = runtime.Version(), runtime.GOOS, runtime.GOARCH
	}
	return b
}

func newVersionCommand(deps Deps) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "version",
		Short: "Print the version of teamslink",
		Long: `Print the version of teamslink, the Go toolchain and the platform.

With --json: {"version", "commit", "date", "modified", "go", "os", "arch"}, where date is
the commit's time (RFC 3339, UTC) and modified says the checkout had uncommitted changes.
A build without stamps (go build, go install, go run) takes them from the build
information Go embeds; what it does not say is "unknown".

  teamslink version --json`,
		Args:         exactArgs(0),
		SilenceUsage: true,
		RunE: func(cmd *cobra.Command, _ []string) error {
			b := deps.build()
			if asJSON {
				out, err := json.MarshalIndent(b, "", "  ")
				if err != nil {
					return fmt.Errorf("encode version: %w", err)
				}
				_, err = fmt.Fprintf(cmd.OutOrStdout(), "%s\n", out)
				return err
			}
			_, err := fmt.Fprintf(cmd.OutOrStdout(), "teamslink %s (%s, %s/%s)\n", b.Version, b.Go, b.OS, b.Arch)
			return err
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the build information as JSON")
	return cmd
}
