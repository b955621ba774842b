package ci

import (
	"errors"
	"fmt"
	"io"
	"maps"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/teamslink/teamslink/internal/cli"
	"github.com/teamslink/teamslink/internal/finding"
	"github.com/teamslink/teamslink/report"
)

// commandLine is one teamslink command line found in a file: its arguments
// after "teamslink".
type commandLine struct {
	file string
	args []string
	// strict: the positional arguments are checked too. Command lines of
	// scripts and code blocks are whole; an inline code span in prose may
	// leave arguments out.
	strict bool
}

func (c commandLine) String() string {
	return c.file + ": teamslink " + strings.Join(c.args, " ")
}

// teamslinkCommands returns the teamslink command lines of a shell script.
func teamslinkCommands(file, script string, strict bool) ([]commandLine, error) {
	cmds, err := shellCommands(script)
	if err != nil {
		return nil, fmt.Errorf("%s: read script: %w", file, err)
	}
	var out []commandLine
	for _, c := range cmds {
		if c[0] == "teamslink" {
			out = append(out, commandLine{file: file, args: c[1:], strict: strict})
		}
	}
	return out, nil
}

// fixedNow is the clock handed to the command tree, which never runs here.
func fixedNow() time.Time { return time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC) }

// checkCommand parses c against the real command tree without running it:
// the subcommand exists and runs, every flag exists and is neither hidden
// nor deprecated (a hidden flag is one teamslink does not offer yet), the
// positional arguments fit, every --format name is a registered report
// format and --fail-on a known threshold.
func checkCommand(c commandLine) error {
	root := cli.NewRootCommand(cli.Deps{
		Stdin:   strings.NewReader(""),
		Stdout:  io.Discard,
		Stderr:  io.Discard,
		Version: "test",
		Now:     fixedNow,
	})
	cmd, rest, err := root.Find(c.args)
	if err != nil {
		return fmt.Errorf("find the command: %w", err)
	}
	if cmd == root {
		return errors.New("no subcommand")
	}
	if !cmd.Runnable() {
		var subs []string
		for _, s := range cmd.Commands() {
			subs = append(subs, s.Name())
		}
		return fmt.Errorf("%q does not run by itself (subcommands: %s)", cmd.CommandPath(), strings.Join(subs, ", "))
	}
	if cmd.Deprecated != "" {
		return fmt.Errorf("%q is deprecated: %s", cmd.CommandPath(), cmd.Deprecated)
	}
	cmd.InitDefaultHelpFlag()
	if err := cmd.ParseFlags(rest); err != nil {
		return fmt.Errorf("%s: %w", cmd.CommandPath(), err)
	}
	flags := cmd.Flags()
	for _, name := range flagNames(rest) {
		f := flags.Lookup(name)
		if len(name) == 1 {
			f = flags.ShorthandLookup(name)
		}
		switch {
		case f == nil:
			return fmt.Errorf("%s: unknown flag %q", cmd.CommandPath(), name)
		case f.Hidden:
			return fmt.Errorf("%s: flag --%s is hidden: this teamslink does not offer it yet", cmd.CommandPath(), f.Name)
		case f.Deprecated != "":
			return fmt.Errorf("%s: flag --%s is deprecated: %s", cmd.CommandPath(), f.Name, f.Deprecated)
		}
	}
	if c.strict {
		if err := cmd.ValidateArgs(flags.Args()); err != nil {
			return fmt.Errorf("%s: %w", cmd.CommandPath(), err)
		}
	}
	if f := flags.Lookup("format"); f != nil && f.Changed {
		for _, name := range slices.Sorted(maps.Keys(outputs(f.Value.String()))) {
			if !slices.Contains(report.Formats(), name) {
				return fmt.Errorf("%s: --format %s: not a report format (valid: %s)", cmd.CommandPath(), name, strings.Join(report.Formats(), ", "))
			}
		}
	}
	if f := flags.Lookup("fail-on"); f != nil && f.Changed && !strings.Contains(f.Value.String(), "$") {
		if _, err := finding.ParseFailOn(f.Value.String()); err != nil {
			return fmt.Errorf("%s: %w", cmd.CommandPath(), err)
		}
	}
	return nil
}

// flagNames returns the names of the flags in args, long or short, up to "--".
func flagNames(args []string) []string {
	var names []string
	for _, a := range args {
		switch {
		case a == "--":
			return names
		case strings.HasPrefix(a, "--"):
			name, _, _ := strings.Cut(a[2:], "=")
			names = append(names, name)
		case strings.HasPrefix(a, "-") && len(a) > 1:
			name, _, _ := strings.Cut(a[1:], "=")
			for _, r := range name {
				names = append(names, string(r))
			}
		}
	}
	return names
}

// outputs reads a --format value ("table,json=out.json") into format →
// file ("" for standard output).
func outputs(format string) map[string]string {
	out := map[string]string{}
	for _, part := range strings.Split(format, ",") {
		name, path, _ := strings.Cut(strings.TrimSpace(part), "=")
		if name = strings.TrimSpace(name); name != "" {
			out[name] = strings.TrimSpace(path)
		}
	}
	return out
}

// flagValue returns the value of the long flag name in args, as written.
func flagValue(args []string, name string) (string, bool) {
	for i, a := range args {
		if a == "--"+name && i+1 < len(args) {
			return args[i+1], true
		}
		if v, ok := strings.CutPrefix(a, "--"+name+"="); ok {
			return v, true
		}
	}
	return "", false
}

// ghExpression is a GitHub Actions expression, ${{ … }}, which the runner
// replaces before the shell sees the script.
var ghExpression = regexp.MustCompile(`\$\{\{.*?\}\}`)

// markdownCommands returns the teamslink command lines of a Markdown file:
// those of its shell code blocks (strict) and its inline code spans.
func markdownCommands(file, text string) ([]commandLine, error) {
	var out []commandLine
	fence := regexp.MustCompile("(?ms)^[ \t]*```([a-z]*)[ \t]*\n(.*?)^[ \t]*```[ \t]*$")
	for _, m := range fence.FindAllStringSubmatch(text, -1) {
		switch m[1] {
		case "sh", "bash", "shell", "console", "":
			cmds, err := teamslinkCommands(file, m[2], true)
			if err != nil {
				return nil, err
			}
			out = append(out, cmds...)
		}
	}
	prose := fence.ReplaceAllString(text, "")
	for _, m := range regexp.MustCompile("`(teamslink [^`\n]+)`").FindAllStringSubmatch(prose, -1) {
		cmds, err := teamslinkCommands(file, m[1], false)
		if err != nil {
			return nil, err
		}
		out = append(out, cmds...)
	}
	return out, nil
}

// TestCommandLines parses every teamslink command line of the examples and
// of the README against the real command tree, so that the docs cannot
// drift from the tool: a renamed flag, a format that is not registered or a
// subcommand that does not exist fails here.
func TestCommandLines(t *testing.T) {
	t.Parallel()
	sources := map[string]func(t *testing.T) []commandLine{
		githubFile: func(t *testing.T) []commandLine { return scriptCommands(t, githubFile, githubScripts(t)) },
		azureFile: func(t *testing.T) []commandLine {
			return scriptCommands(t, azureFile, yamlScripts(decodeYAML(t, azureFile)))
		},
		gitlabFile: func(t *testing.T) []commandLine {
			return scriptCommands(t, gitlabFile, yamlScripts(decodeYAML(t, gitlabFile)))
		},
		readmeFile: func(t *testing.T) []commandLine {
			cmds, err := markdownCommands(readmeFile, string(readFile(t, readmeFile)))
			if err != nil {
				t.Fatal(err)
			}
			return cmds
		},
	}
	for file, find := range sources {
		t.Run(file, func(t *testing.T) {
			t.Parallel()
			cmds := find(t)
			if len(cmds) == 0 {
				t.Fatalf("%s: no teamslink command line found", file)
			}
			for _, c := range cmds {
				if err := checkCommand(c); err != nil {
					t.Errorf("%v\n\t%v", c, err)
				}
			}
		})
	}
}

// scriptCommands returns the teamslink command lines of scripts.
func scriptCommands(t *testing.T, file string, scripts []string) []commandLine {
	t.Helper()
	var out []commandLine
	for _, s := range scripts {
		cmds, err := teamslinkCommands(file, ghExpression.ReplaceAllString(s, "EXPRESSION"), true)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, cmds...)
	}
	return out
}

// scanCommand returns the one "teamslink scan" command line of a file's
// scripts and the reports it writes (format → file).
func scanCommand(t *testing.T, file string, scripts []string) (commandLine, map[string]string) {
	t.Helper()
	var scans []commandLine
	for _, c := range scriptCommands(t, file, scripts) {
		if len(c.args) > 0 && c.args[0] == "scan" {
			scans = append(scans, c)
		}
	}
	if len(scans) != 1 {
		t.Fatalf("%s: %d teamslink scan command lines, want 1", file, len(scans))
	}
	scan := scans[0]
	if cfg, _ := flagValue(scan.args, "config"); cfg != configFile {
		t.Errorf("%v: --config %q, want %s", scan, cfg, configFile)
	}
	format, ok := flagValue(scan.args, "format")
	if !ok {
		t.Fatalf("%v: no --format", scan)
	}
	return scan, outputs(format)
}

// TestCommandFinders pins the finders on a small example, so that
// TestCommandLines cannot pass by finding nothing it should have found.
func TestCommandFinders(t *testing.T) {
	t.Parallel()
	md := "Run `teamslink rules` first.\n\n```sh\nteamslink scan --config tenants.yaml \\\n  --format table\n```\n\n```yaml\nrun: teamslink version\n```\n"
	got, err := markdownCommands("x.md", md)
	if err != nil {
		t.Fatal(err)
	}
	want := []commandLine{
		{file: "x.md", args: []string{"scan", "--config", "tenants.yaml", "--format", "table"}, strict: true},
		{file: "x.md", args: []string{"rules"}, strict: false},
	}
	if fmt.Sprint(got) != fmt.Sprint(want) || len(got) != 2 || !got[0].strict || got[1].strict {
		t.Errorf("markdownCommands = %v, want %v", got, want)
	}
}

// TestCheckCommandRefuses shows that checkCommand is strict: each of these
// must fail, with the reason named.
func TestCheckCommandRefuses(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"unknown subcommand", []string{"scna"}, "unknown command"},
		{"no subcommand", []string{}, "no subcommand"},
		{"parent only", []string{"config"}, "does not run by itself"},
		{"unknown flag", []string{"scan", "--confg", "tenants.yaml"}, "unknown flag"},
		{"unknown format", []string{"scan", "--config", "tenants.yaml", "--format", "table,pdf=out.pdf"}, "not a report format"},
		{"unknown threshold", []string{"scan", "--config", "tenants.yaml", "--fail-on", "never"}, "--fail-on"},
		{"missing argument", []string{"config", "check"}, "arg"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := checkCommand(commandLine{file: "test", args: tt.args, strict: true})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("checkCommand(%q) = %v, want an error containing %q", tt.args, err, tt.want)
			}
		})
	}
	if err := checkCommand(commandLine{file: "test", args: []string{"config", "check", "tenants.yaml"}, strict: true}); err != nil {
		t.Errorf("checkCommand(config check tenants.yaml) = %v, want nil", err)
	}
}
