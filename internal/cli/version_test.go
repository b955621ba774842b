package cli_test

import (
	"bytes"
	"encoding/json"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/teamslink/teamslink/internal/cli"
)

func TestResolveBuild(t *testing.T) {
	t.Parallel()
	info := func(version string, settings ...debug.BuildSetting) func() (*debug.BuildInfo, bool) {
		return func() (*debug.BuildInfo, bool) {
			return &debug.BuildInfo{GoVersion: "go1.99.0", Main: debug.Module{Path: "github.com/teamslink/teamslink", Version: version}, Settings: settings}, true
		}
	}
	vcs := []debug.BuildSetting{{Key: "vcs.revision", Value: "0123456789abcdef0123456789abcdef01234567"}, {Key: "vcs.time", Value: "2026-11-30T10:00:00Z"}}
	tests := []struct {
		name                  string
		version, commit, date string
		read                  func() (*debug.BuildInfo, bool)
		want                  cli.BuildInfo
	}{
		{
			name: "stamped by make release", version: "v1.2.0", commit: "abc", date: "2026-12-01T00:00:00Z", read: info("(devel)", vcs...),
			want: cli.BuildInfo{Version: "v1.2.0", Commit: "abc", Date: "2026-12-01T00:00:00Z", Go: "go1.99.0"},
		},
		{
			name: "go install of a release", read: info("v1.2.0"),
			want: cli.BuildInfo{Version: "v1.2.0", Go: "go1.99.0"},
		},
		{
			name: "go install of a commit", read: info("v0.0.0-20261202153000-0123456789ab"),
			want: cli.BuildInfo{Version: "v0.0.0-20261202153000-0123456789ab", Commit: "0123456789ab", Date: "2026-12-02T15:30:00Z", Go: "go1.99.0"},
		},
		{
			name: "pseudo-version after a tag", read: info("v1.2.1-0.20261202153000-0123456789ab"),
			want: cli.BuildInfo{Version: "v1.2.1-0.20261202153000-0123456789ab", Commit: "0123456789ab", Date: "2026-12-02T15:30:00Z", Go: "go1.99.0"},
		},
		{
			name: "go build in a checkout", read: info("(devel)", vcs...),
			want: cli.BuildInfo{Version: "dev", Commit: "0123456789abcdef0123456789abcdef01234567", Date: "2026-11-30T10:00:00Z", Go: "go1.99.0"},
		},
		{
			name: "make build stamps the version only", version: "v1.2.0-3-gabc", read: info("(devel)", vcs...),
			want: cli.BuildInfo{Version: "v1.2.0-3-gabc", Commit: "0123456789abcdef0123456789abcdef01234567", Date: "2026-11-30T10:00:00Z", Go: "go1.99.0"},
		},
		{
			name: "no build information", read: func() (*debug.BuildInfo, bool) { return nil, false },
			want: cli.BuildInfo{Version: "dev", Go: runtime.Version()},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.want.OS, tt.want.Arch = runtime.GOOS, runtime.GOARCH
			if got := cli.ResolveBuild(tt.version, tt.commit, tt.date, tt.read); got != tt.want {
				t.Errorf("ResolveBuild = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestVersionJSON(t *testing.T) {
	t.Parallel()
	build := cli.BuildInfo{Version: "v1.2.0", Commit: "0123456789ab", Date: "2026-12-02T15:30:00Z", Go: "go1.99.0", OS: "linux", Arch: "arm64"}
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"plain keeps its shape", []string{"version"}, "teamslink v1.2.0 (go1.99.0, linux/arm64)\n"},
		{"json", []string{"version", "--json"}, `{"version":"v1.2.0","commit":"0123456789ab","date":"2026-12-02T15:30:00Z","go":"go1.99.0","os":"linux","arch":"arm64"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var out, errOut bytes.Buffer
			code := cli.Main(tt.args, cli.Deps{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errOut, Version: build.Version, Build: build, Now: fixedNow})
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errOut.String())
			}
			got := out.String()
			if strings.HasPrefix(tt.want, "{") {
				var b bytes.Buffer
				if err := json.Compact(&b, out.Bytes()); err != nil {
					t.Fatal(err)
				}
				got = b.String()
			}
			if got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}
