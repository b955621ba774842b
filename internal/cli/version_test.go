package cli_test

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
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
	vcs := []debug.BuildSetting{{Key: "vcs", Value: "git"}, {Key: "vcs.revision", Value: "0123456789abcdef0123456789abcdef01234567"}, {Key: "vcs.time", Value: "2026-11-30T10:00:00.5Z"}, {Key: "vcs.modified", Value: "false"}}
	dirty := append(vcs[:3:3], debug.BuildSetting{Key: "vcs.modified", Value: "true"})
	const rev = "0123456789abcdef0123456789abcdef01234567"
	unknown := cli.Unknown
	tests := []struct {
		name                  string
		version, commit, date string
		read                  func() (*debug.BuildInfo, bool)
		want                  cli.BuildInfo
	}{
		{
			name: "stamped by make release", version: "v1.2.0", commit: "abc", date: "2026-12-01T00:00:00Z", read: info("(devel)", dirty...),
			want: cli.BuildInfo{Version: "v1.2.0", Commit: "abc", Date: "2026-12-01T00:00:00Z", Go: "go1.99.0"},
		},
		{
			name: "stamped from a dirty tree", version: "v1.2.0-dirty", commit: "abc", date: "2026-12-01T00:00:00Z", read: info("(devel)"),
			want: cli.BuildInfo{Version: "v1.2.0-dirty", Commit: "abc", Date: "2026-12-01T00:00:00Z", Modified: true, Go: "go1.99.0"},
		},
		{
			name: "go install of a release", read: info("v1.2.0"),
			want: cli.BuildInfo{Version: "v1.2.0", Commit: unknown, Date: unknown, Go: "go1.99.0"},
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
			name: "go build in a checkout, before Go 1.24", read: info("(devel)", vcs...),
			want: cli.BuildInfo{Version: "dev", Commit: rev, Date: "2026-11-30T10:00:00Z", Go: "go1.99.0"},
		},
		{
			name: "go build in a checkout names the version from the tags", read: info("v1.2.1-0.20261130100000-0123456789ab", vcs...),
			want: cli.BuildInfo{Version: "v1.2.1-0.20261130100000-0123456789ab", Commit: rev, Date: "2026-11-30T10:00:00Z", Go: "go1.99.0"},
		},
		{
			name: "go build in a modified checkout", read: info("v0.0.0-20261130100000-0123456789ab+dirty", dirty...),
			want: cli.BuildInfo{Version: "v0.0.0-20261130100000-0123456789ab+dirty", Commit: rev, Date: "2026-11-30T10:00:00Z", Modified: true, Go: "go1.99.0"},
		},
		{
			name: "a dirty pseudo-version alone still names its commit", read: info("v0.0.0-20261130100000-0123456789ab+dirty"),
			want: cli.BuildInfo{Version: "v0.0.0-20261130100000-0123456789ab+dirty", Commit: "0123456789ab", Date: "2026-11-30T10:00:00Z", Modified: true, Go: "go1.99.0"},
		},
		{
			name: "an incompatible module's dirty version", read: info("v2.0.0+incompatible.dirty"),
			want: cli.BuildInfo{Version: "v2.0.0+incompatible.dirty", Commit: unknown, Date: unknown, Modified: true, Go: "go1.99.0"},
		},
		{
			name: "make build stamps the version only", version: "v1.2.0-3-gabc", read: info("(devel)", dirty...),
			want: cli.BuildInfo{Version: "v1.2.0-3-gabc", Commit: rev, Date: "2026-11-30T10:00:00Z", Modified: true, Go: "go1.99.0"},
		},
		{
			name: "go run or -buildvcs=false", read: info("(devel)"),
			want: cli.BuildInfo{Version: "dev", Commit: unknown, Date: unknown, Go: "go1.99.0"},
		},
		{
			name: "no build information", read: func() (*debug.BuildInfo, bool) { return nil, false },
			want: cli.BuildInfo{Version: "dev", Commit: unknown, Date: unknown, Go: runtime.Version()},
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
		{"json", []string{"version", "--json"}, `{"version":"v1.2.0","commit":"0123456789ab","date":"2026-12-02T15:30:00Z","modified":false,"go":"go1.99.0","os":"linux","arch":"arm64"}`},
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

// TestResolveBuildOfRealBuilds builds a small program the way a user builds
// teamslink without stamps — go build in a git checkout: untagged, tagged,
// past a tag, modified; with -buildvcs=false; go run — and resolves the
// build information the Go toolchain really embedded. (teamslink's own
// checkout cannot stand in: Go stamps no VCS information in a git worktree,
// whose .git is a file.)
func TestResolveBuildOfRealBuilds(t *testing.T) {
	if testing.Short() {
		t.Skip("builds programs with the go command")
	}
	goCmd, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command")
	}
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("no git command")
	}
	t.Parallel()
	dir := t.TempDir()
	// Go keeps what it learns of a local repository's revisions in the
	// module cache, so the test has its own.
	modCache := t.TempDir()
	env := append(os.Environ(), "GOFLAGS=-buildvcs=auto", "GOWORK=off", "GOPROXY=off", "GOTOOLCHAIN=local", "GOCACHE="+t.TempDir(), "GOMODCACHE="+modCache,
		"GIT_CONFIG_GLOBAL="+os.DevNull, "GIT_CONFIG_NOSYSTEM=1",
		"GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.invalid", "GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.invalid")
	sh := func(date string, name string, args ...string) string {
		t.Helper()
		cmd := exec.CommandContext(t.Context(), name, args...)
		cmd.Dir, cmd.Env = dir, env
		if date != "" {
			cmd.Env = append(env[:len(env):len(env)], "GIT_AUTHOR_DATE="+date, "GIT_COMMITTER_DATE="+date)
		}
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	write := func(name, text string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() { // the module cache is read-only for RemoveAll
		cmd := exec.Command(goCmd, "clean", "-modcache")
		cmd.Env = env
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("go clean -modcache: %v\n%s", err, out)
		}
	})
	write("go.mod", "module example.com/tlversion\n\ngo 1.22\n")
	write("main.go", "package main\n\nimport (\n\t\"fmt\"\n\t\"runtime/debug\"\n)\n\nfunc main() {\n\tinfo, _ := debug.ReadBuildInfo()\n\tfmt.Print(info)\n}\n")
	// build runs the program built by args and resolves what it embedded.
	build := func(args ...string) cli.BuildInfo {
		t.Helper()
		var out string
		if len(args) > 0 && args[0] == "run" {
			out = sh("", goCmd, args...)
		} else {
			exe := filepath.Join(t.TempDir(), "prog")
			sh("", goCmd, append(append([]string{"build", "-o", exe}, args...), ".")...)
			out = sh("", exe)
		}
		info, err := debug.ParseBuildInfo(out)
		if err != nil {
			t.Fatalf("parse build information: %v\n%s", err, out)
		}
		return cli.ResolveBuild("", "", "", func() (*debug.BuildInfo, bool) { return info, true })
	}
	const first, second, third = "2026-11-30T10:00:00Z", "2026-12-01T08:15:30Z", "2026-12-01T09:00:00Z"
	check := func(name string, got cli.BuildInfo, version, commit, date string, modified bool) {
		t.Helper()
		if got.Version != version || got.Commit != commit || got.Date != date || got.Modified != modified || got.Go == "" {
			t.Errorf("%s: got %+v, want version %q, commit %q, date %q, modified %v", name, got, version, commit, date, modified)
		}
	}
	commit := func(date, msg string) string {
		t.Helper()
		sh("", "git", "add", ".")
		sh(date, "git", "commit", "-q", "-m", msg)
		return strings.TrimSpace(sh("", "git", "rev-parse", "HEAD"))
	}
	// Go remembers a revision's version the first time it looks, so each
	// commit is tagged before its first build.
	sh("", "git", "init", "-q")
	rev1 := commit(first, "first")
	check("untagged", build(), "v0.0.0-20261130100000-"+rev1[:12], rev1, first, false)
	check("-buildvcs=false", build("-buildvcs=false"), "dev", cli.Unknown, cli.Unknown, false)
	check("go run", build("run", "."), "dev", cli.Unknown, cli.Unknown, false)

	write("CHANGES", "v1.2.0\n")
	rev2 := commit(second, "second")
	sh("", "git", "tag", "v1.2.0")
	check("tagged", build(), "v1.2.0", rev2, second, false)
	write("CHANGES", "v1.2.0\nunreleased\n")
	check("modified", build(), "v1.2.0+dirty", rev2, second, true)

	rev3 := commit(third, "third")
	check("past a tag", build(), "v1.2.1-0.20261201090000-"+rev3[:12], rev3, third, false)
}
