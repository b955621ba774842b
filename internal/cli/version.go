package cli

import (
	"encoding/json"
	"fmt"
	"regexp"
	"runtime"
	"runtime/debug"
	"time"

	"github.com/spf13/cobra"
)

// BuildInfo says which build of teamslink runs: what `teamslink version
// --json` prints. An empty Commit or Date means the build does not know.
type BuildInfo struct {
	// Version is the release (v1.2.0), a module pseudo-version, or "dev".
	Version string `json:"version"`
	// Commit is the git commit the binary was built from.
	Commit string `json:"commit"`
	// Date is the commit's time, RFC 3339 in UTC — never the time of the
	// build, so that two builds of one commit are byte for byte the same.
	Date string `json:"date"`
	// Go is the Go toolchain that built it (go1.26.8).
	Go string `json:"go"`
	// OS and Arch are the platform it was built for.
	OS   string `json:"os"`
	Arch string `json:"arch"`
}

// pseudoVersion matches the tail of a module pseudo-version
// (v0.0.0-20261202153000-0123456789ab): the commit's UTC time and its
// 12-character hash.
var pseudoVersion = regexp.MustCompile(`(?:^|[.-])(\d{14})-([0-9a-f]{12})$`)

// ResolveBuild is the BuildInfo of the running binary. version, commit and
// date are what the linker stamped (-X main.version=… by make build and
// make release); what is left unstamped comes from the build information Go
// embeds (read, normally debug.ReadBuildInfo): the module version of a `go
// install …@version`, whose pseudo-version also names the commit and its
// time, or the vcs.revision and vcs.time of a build inside a checkout.
func ResolveBuild(version, commit, date string, read func() (*debug.BuildInfo, bool)) BuildInfo {
	b := BuildInfo{Version: version, Commit: commit, Date: date, Go: runtime.Version(), OS: runtime.GOOS, Arch: runtime.GOARCH}
	info, ok := read()
	if !ok || info == nil {
		if b.Version == "" {
			b.Version = "dev"
		}
		return b
	}
	if info.GoVersion != "" {
		b.Go = info.GoVersion
	}
	if v := info.Main.Version; (b.Version == "" || b.Version == "dev") && v != "" && v != "(devel)" {
		b.Version = v
	}
	if m := pseudoVersion.FindStringSubmatch(info.Main.Version); m != nil {
		if t, err := time.Parse("20060102150405", m[1]); err == nil && b.Date == "" {
			b.Date = t.UTC().Format(time.RFC3339)
		}
		if b.Commit == "" {
			b.Commit = m[2]
		}
	}
	for _, s := range info.Settings {
		switch {
		case s.Key == "vcs.revision" && b.Commit == "":
			b.Commit = s.Value
		case s.Key == "vcs.time" && b.Date == "":
			b.Date = s.Value
		}
	}
	if b.Version == "" {
		b.Version = "dev"
	}
	return b
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

With --json: {"version", "commit", "date", "go", "os", "arch"}, where date is the commit's
time (RFC 3339, UTC); commit and date are empty when the build does not know them.

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
