package main

import (
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// instruction is one Dockerfile instruction, continuation lines joined.
type instruction struct {
	line int    // where it starts
	cmd  string // upper case: FROM, RUN, …
	args string // the rest, trimmed
}

// parseDockerfile splits a Dockerfile into instructions: comments and
// blank lines dropped, lines ending in a backslash joined to the next (a
// comment line inside a continuation is dropped, as BuildKit does).
func parseDockerfile(src string) []instruction {
	var (
		out  []instruction
		cur  strings.Builder
		from int
	)
	for i, raw := range strings.Split(src, "\n") {
		line := strings.TrimSpace(raw)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if cur.Len() == 0 {
			from = i + 1
		}
		if strings.HasSuffix(line, `\`) {
			cur.WriteString(strings.TrimSuffix(line, `\`) + " ")
			continue
		}
		cur.WriteString(line)
		cmd, args, _ := strings.Cut(cur.String(), " ")
		out = append(out, instruction{line: from, cmd: strings.ToUpper(cmd), args: strings.TrimSpace(args)})
		cur.Reset()
	}
	return out
}

// stage is one FROM and what follows it.
type stage struct {
	image, name string
	from        instruction
	body        []instruction
}

func stages(ins []instruction) []stage {
	var out []stage
	for _, in := range ins {
		if in.cmd == "FROM" {
			var words []string
			for _, w := range strings.Fields(in.args) {
				if !strings.HasPrefix(w, "--") { // --platform=…
					words = append(words, w)
				}
			}
			s := stage{from: in}
			if len(words) > 0 {
				s.image = words[0]
			}
			if len(words) == 3 && strings.EqualFold(words[1], "AS") {
				s.name = words[2]
			}
			out = append(out, s)
			continue
		}
		if len(out) > 0 {
			out[len(out)-1].body = append(out[len(out)-1].body, in)
		}
	}
	return out
}

// lintDockerfile applies hadolint's rules that matter for this image
// (DL3006/DL3007 pinned base images, DL3002 last USER not root, DL3020 COPY
// rather than ADD, DL3015 --no-install-recommends, DL3025 exec-form
// ENTRYPOINT) and the image's own contract: multi-stage, a static binary
// (CGO off), a final stage without a shell (distroless static or scratch,
// no RUN), ENTRYPOINT ["/teamslink"] and the OCI labels. It returns one
// line per problem.
func lintDockerfile(src string) []string {
	var problems []string
	add := func(in instruction, format string, a ...any) {
		problems = append(problems, fmt.Sprintf("line %d: %s: %s", in.line, in.cmd, fmt.Sprintf(format, a...)))
	}
	ins := parseDockerfile(src)
	st := stages(ins)
	if len(st) < 2 {
		return []string{"want a multi-stage build: a builder and a final stage"}
	}
	names := map[string]bool{}
	for _, s := range st {
		switch {
		case s.image == "":
			add(s.from, "no image")
		case s.image == "scratch" || names[strings.ToLower(s.image)]:
		case strings.Contains(s.image, "$"):
			add(s.from, "image %s is not a literal: it cannot be checked for a pin", s.image)
		case strings.Contains(s.image, "@sha256:"):
		default:
			ref := s.image[strings.LastIndex(s.image, "/")+1:]
			_, tag, ok := strings.Cut(ref, ":")
			switch {
			case !ok:
				add(s.from, "image %s has no tag: pin a version or a digest (DL3006)", s.image)
			case tag == "latest":
				add(s.from, "image %s uses latest: pin a version or a digest (DL3007)", s.image)
			}
		}
		if s.name != "" {
			names[strings.ToLower(s.name)] = true
		}
		for _, in := range s.body {
			switch in.cmd {
			case "ADD":
				if regexp.MustCompile(`(?i)\bhttps?://`).MatchString(in.args) {
					add(in, "fetches a URL: download in a RUN step with a checksum, or COPY (DL3020)")
				} else {
					add(in, "use COPY for files and folders (DL3020)")
				}
			case "RUN":
				for _, seg := range regexp.MustCompile(`&&|;|\|\|`).Split(in.args, -1) {
					if regexp.MustCompile(`\bapt-get\s+(\S+\s+)*install\b`).MatchString(seg) && !strings.Contains(seg, "--no-install-recommends") {
						add(in, "apt-get install without --no-install-recommends (DL3015)")
					}
				}
			}
		}
	}
	final := st[len(st)-1]
	builder := st[:len(st)-1]
	if final.image != "scratch" && !strings.Contains(final.image, "distroless/static") {
		add(final.from, "final image %s: want distroless static or scratch (no shell)", final.image)
	}
	var user, entry, labels []instruction
	for _, in := range final.body {
		switch in.cmd {
		case "RUN":
			add(in, "the final stage has no shell to run it")
		case "USER":
			user = append(user, in)
		case "ENTRYPOINT":
			entry = append(entry, in)
		case "LABEL":
			labels = append(labels, in)
		}
	}
	if len(user) == 0 {
		add(final.from, "the final stage sets no USER: it would run as root (DL3002)")
	} else {
		last := user[len(user)-1]
		uid, gid, _ := strings.Cut(last.args, ":")
		if n, err := strconv.Atoi(uid); err != nil || n == 0 {
			add(last, "user %q: want a numeric non-root uid, so runAsNonRoot can verify it (DL3002)", last.args)
		}
		if gid != "" {
			if n, err := strconv.Atoi(gid); err != nil || n == 0 {
				add(last, "group %q: want a numeric non-root gid", gid)
			}
		}
	}
	if len(entry) == 0 {
		add(final.from, "the final stage has no ENTRYPOINT")
	} else {
		last := entry[len(entry)-1]
		var argv []string
		if err := json.Unmarshal([]byte(last.args), &argv); err != nil {
			add(last, "not the exec (JSON) form: %s (DL3025)", last.args)
		} else if len(argv) != 1 || argv[0] != "/teamslink" {
			add(last, "%q: want [\"/teamslink\"]", argv)
		}
	}
	all := ""
	for _, in := range labels {
		all += " " + in.args
	}
	for _, key := range []string{"title", "description", "source", "version", "revision", "created"} {
		if !strings.Contains(all, "org.opencontainers.image."+key+"=") {
			add(final.from, "no org.opencontainers.image.%s label", key)
		}
	}
	static := false
	for _, s := range builder {
		for _, in := range s.body {
			if in.cmd == "RUN" && strings.Contains(in.args, "go build") && strings.Contains(in.args, "CGO_ENABLED=0") && strings.Contains(in.args, "-trimpath") {
				static = true
			}
		}
	}
	if !static {
		problems = append(problems, "no builder step runs go build with CGO_ENABLED=0 and -trimpath: the binary would not be static and reproducible")
	}
	copied := false
	for _, in := range final.body {
		if in.cmd == "COPY" && strings.Contains(in.args, "--from=") && strings.HasSuffix(in.args, " /teamslink") {
			copied = true
		}
	}
	if !copied {
		add(final.from, "the final stage copies no /teamslink from the builder")
	}
	return problems
}

// TestDockerfile lints the repository's Dockerfile: it must pass every rule.
func TestDockerfile(t *testing.T) {
	t.Parallel()
	src, err := os.ReadFile("../../Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range lintDockerfile(string(src)) {
		t.Error("Dockerfile " + p)
	}
	ignore, err := os.ReadFile("../../.dockerignore")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{".git", "/dist/", "/bin/"} {
		if !strings.Contains("\n"+string(ignore), "\n"+want+"\n") {
			t.Errorf(".dockerignore does not leave out %s", want)
		}
	}
}

// TestDockerfileLint proves the linter catches what it is for.
func TestDockerfileLint(t *testing.T) {
	t.Parallel()
	good := func(build, final string) string {
		return "FROM golang:1.26.8 AS build\n" + build +
			"RUN CGO_ENABLED=0 go build -trimpath -o /out/teamslink ./cmd/teamslink\n" +
			"FROM gcr.io/distroless/static-debian12:nonroot\n" +
			`LABEL org.opencontainers.image.title=t org.opencontainers.image.description=d \` + "\n" +
			`  org.opencontainers.image.source=s org.opencontainers.image.version=v org.opencontainers.image.revision=r org.opencontainers.image.created=c` + "\n" +
			"COPY --from=build /out/teamslink /teamslink\n" + final
	}
	const tail = "USER 65532:65532\nENTRYPOINT [\"/teamslink\"]\n"
	tests := []struct {
		name, src, want string // want "" means no problem
	}{
		{"good", good("", tail), ""},
		{"digest pin", strings.Replace(good("", tail), "golang:1.26.8", "golang@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", 1), ""},
		{"single stage", "FROM gcr.io/distroless/static-debian12:nonroot\n" + tail, "multi-stage"},
		{"latest", strings.Replace(good("", tail), "golang:1.26.8", "golang:latest", 1), "DL3007"},
		{"no tag", strings.Replace(good("", tail), "golang:1.26.8", "golang", 1), "DL3006"},
		{"registry port is not a tag", strings.Replace(good("", tail), "golang:1.26.8", "registry.example.com:5000/golang", 1), "DL3006"},
		{"add url", good("ADD https://example.com/tool.tgz /opt/\n", tail), "fetches a URL"},
		{"add file", good("ADD . /src\n", tail), "use COPY"},
		{"apt without no-install-recommends", good("RUN apt-get update && apt-get install -y git\n", tail), "DL3015"},
		{"apt with no-install-recommends", good("RUN apt-get update && \\\n  apt-get install -y --no-install-recommends git\n", tail), ""},
		{"no user", good("", "ENTRYPOINT [\"/teamslink\"]\n"), "DL3002"},
		{"root user last", good("", "USER 65532\nUSER root\nENTRYPOINT [\"/teamslink\"]\n"), "numeric non-root"},
		{"named user", good("", "USER nonroot\nENTRYPOINT [\"/teamslink\"]\n"), "numeric non-root"},
		{"uid 0", good("", "USER 0:0\nENTRYPOINT [\"/teamslink\"]\n"), "numeric non-root"},
		{"shell form entrypoint", good("", "USER 65532\nENTRYPOINT /teamslink\n"), "DL3025"},
		{"other entrypoint", good("", "USER 65532\nENTRYPOINT [\"/bin/sh\", \"-c\", \"/teamslink\"]\n"), "want [\"/teamslink\"]"},
		{"run in final stage", good("", "RUN mkdir /data\n"+tail), "no shell"},
		{"final stage with a shell", strings.Replace(good("", tail), "gcr.io/distroless/static-debian12:nonroot", "debian:12.8", 1), "no shell"},
		{"cgo", strings.Replace(good("", tail), "CGO_ENABLED=0 ", "", 1), "CGO_ENABLED=0"},
		{"labels missing", strings.Replace(good("", tail), "org.opencontainers.image.revision=r ", "", 1), "image.revision label"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := strings.Join(lintDockerfile(tt.src), "\n")
			switch {
			case tt.want == "" && got != "":
				t.Errorf("problems in a good Dockerfile:\n%s", got)
			case tt.want != "" && !strings.Contains(got, tt.want):
				t.Errorf("want a problem with %q, got:\n%s", tt.want, got)
			}
		})
	}
}
