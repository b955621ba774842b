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

// arg is a global ARG: one declared before the first FROM, which FROM
// lines may use.
type arg struct {
	value string
	set   bool // it has a non-empty default
}

// globalArgs reads the ARGs declared before the first FROM.
func globalArgs(ins []instruction) map[string]arg {
	out := map[string]arg{}
	for _, in := range ins {
		if in.cmd == "FROM" {
			break
		}
		if in.cmd == "ARG" {
			name, value, _ := strings.Cut(in.args, "=")
			value = strings.Trim(value, `"`)
			out[name] = arg{value: value, set: value != ""}
		}
	}
	return out
}

var (
	argRef = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)`)
	digest = regexp.MustCompile(`^sha256:[0-9a-f]{64}$`)
)

// expand replaces the global ARGs in s by their defaults.
func expand(s string, args map[string]arg) string {
	return argRef.ReplaceAllStringFunc(s, func(m string) string {
		sub := argRef.FindStringSubmatch(m)
		return args[sub[1]+sub[2]].value
	})
}

// pinProblems says what is wrong with a base image reference as the FROM
// line writes it, its global ARGs expanded: it must name a version tag
// (not latest: DL3006, DL3007) and a digest, given in the line, as an
// ARG's default, or as `@${ARG}` of an ARG without a default — which the
// build cannot do without (--build-arg), so it never runs unpinned.
func pinProblems(ref string, args map[string]arg) []string {
	var problems []string
	required := "" // an ARG without a default that stands for the digest
	expanded := argRef.ReplaceAllStringFunc(ref, func(m string) string {
		sub := argRef.FindStringSubmatch(m)
		name := sub[1] + sub[2]
		a, ok := args[name]
		switch {
		case !ok:
			problems = append(problems, fmt.Sprintf("image %s uses %s, which no ARG before the first FROM declares", ref, m))
		case !a.set && strings.HasSuffix(ref, "@"+m):
			required = name
			return "sha256:" + strings.Repeat("0", 64)
		case !a.set:
			problems = append(problems, fmt.Sprintf("image %s: ARG %s has no default, so the reference cannot be checked for a pin", ref, name))
		}
		return a.value
	})
	if len(problems) > 0 {
		return problems
	}
	name, dig, pinned := strings.Cut(expanded, "@")
	ref0 := ref
	if ref != expanded {
		ref0 = ref + " (" + expanded + ")"
	}
	if required != "" {
		ref0 = ref + " (digest from --build-arg " + required + ")"
	}
	_, tag, ok := strings.Cut(name[strings.LastIndex(name, "/")+1:], ":")
	switch {
	case !ok:
		problems = append(problems, fmt.Sprintf("image %s has no tag: name the version the digest is of (DL3006)", ref0))
	case tag == "latest":
		problems = append(problems, fmt.Sprintf("image %s uses latest: name a version (DL3007)", ref0))
	}
	switch {
	case !pinned:
		problems = append(problems, fmt.Sprintf("image %s is not pinned by digest: add @sha256:… or @${ARG} (docs/release.md)", ref0))
	case !digest.MatchString(dig):
		problems = append(problems, fmt.Sprintf("image %s: digest %q is not sha256: and 64 hex digits", ref0, dig))
	}
	return problems
}

// lintDockerfile applies hadolint's rules that matter for this image
// (DL3006/DL3007 base images pinned, here by version tag and digest, DL3002 last USER not root, DL3020 COPY
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
	args := globalArgs(ins)
	names := map[string]bool{}
	for _, s := range st {
		switch {
		case s.image == "":
			add(s.from, "no image")
		case s.image == "scratch" || names[strings.ToLower(s.image)]:
		default:
			for _, p := range pinProblems(s.image, args) {
				add(s.from, "%s", p)
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
	if img := expand(final.image, args); img != "scratch" && !strings.Contains(img, "distroless/static") {
		add(final.from, "final image %s: want distroless static or scratch (no shell)", img)
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
	const goDigest = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	good := func(build, final string) string {
		return "ARG RUNTIME_DIGEST\n" +
			"FROM golang:1.26.8@" + goDigest + " AS build\n" + build +
			"RUN CGO_ENABLED=0 go build -trimpath -o /out/teamslink ./cmd/teamslink\n" +
			"FROM gcr.io/distroless/static-debian12:nonroot@${RUNTIME_DIGEST}\n" +
			`LABEL org.opencontainers.image.title=t org.opencontainers.image.description=d \` + "\n" +
			`  org.opencontainers.image.source=s org.opencontainers.image.version=v org.opencontainers.image.revision=r org.opencontainers.image.created=c` + "\n" +
			"COPY --from=build /out/teamslink /teamslink\n" + final
	}
	const tail = "USER 65532:65532\nENTRYPOINT [\"/teamslink\"]\n"
	tests := []struct {
		name, src, want string // want "" means no problem
	}{
		{"good", good("", tail), ""},
		{"single stage", "FROM gcr.io/distroless/static-debian12:nonroot\n" + tail, "multi-stage"},
		{"latest", strings.Replace(good("", tail), "golang:1.26.8", "golang:latest", 1), "DL3007"},
		{"no tag", strings.Replace(good("", tail), "golang:1.26.8", "golang", 1), "DL3006"},
		{"digest without a tag", strings.Replace(good("", tail), "golang:1.26.8@", "golang@", 1), "DL3006"},
		{"registry port is not a tag", strings.Replace(good("", tail), "golang:1.26.8", "registry.example.com:5000/golang", 1), "DL3006"},
		{"tag only", strings.Replace(good("", tail), "@"+goDigest, "", 1), "golang:1.26.8 is not pinned by digest"},
		{"final tag only", strings.Replace(good("", tail), "@${RUNTIME_DIGEST}", "", 1), "static-debian12:nonroot is not pinned by digest"},
		{"short digest", strings.Replace(good("", tail), goDigest, "sha256:0123", 1), "not sha256: and 64 hex digits"},
		{"images from ARGs", "ARG GO_IMAGE=golang:1.26.8@" + goDigest + "\nARG RUNTIME_IMAGE=gcr.io/distroless/static-debian12:nonroot\n" +
			strings.Replace(strings.Replace(good("", tail), "golang:1.26.8@"+goDigest, "${GO_IMAGE}", 1), "gcr.io/distroless/static-debian12:nonroot@", "${RUNTIME_IMAGE}@", 1), ""},
		{"an ARG image unpinned", "ARG GO_IMAGE=golang:1.26.8\n" + strings.Replace(good("", tail), "golang:1.26.8@"+goDigest, "$GO_IMAGE", 1), "$GO_IMAGE (golang:1.26.8) is not pinned by digest"},
		{"a digest ARG set empty", strings.Replace(good("", tail), "ARG RUNTIME_DIGEST\n", "ARG RUNTIME_DIGEST=sha256:00\n", 1), "not sha256: and 64 hex digits"},
		{"an undeclared ARG", strings.Replace(good("", tail), "ARG RUNTIME_DIGEST\n", "", 1), "which no ARG before the first FROM declares"},
		{"an image ARG without a default", "ARG GO_IMAGE\n" + strings.Replace(good("", tail), "golang:1.26.8@"+goDigest, "${GO_IMAGE}", 1), "ARG GO_IMAGE has no default"},
		{"an ARG declared after FROM is not global", strings.Replace(good("", tail), "ARG RUNTIME_DIGEST\n", "", 1) + "ARG RUNTIME_DIGEST\n", "which no ARG before the first FROM declares"},
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
		{"final stage from an ARG with a shell", "ARG RUNTIME_IMAGE=debian:12.8\n" + strings.Replace(good("", tail), "gcr.io/distroless/static-debian12:nonroot@", "${RUNTIME_IMAGE}@", 1), "no shell"},
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
