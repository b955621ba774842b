package ci

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
)

// shellCommands splits a shell script into its simple commands, each the
// list of its words with quotes removed and expansions ($VAR, ${VAR}, $(…),
// `…`) kept as written. Leading variable assignments and keywords (if, then,
// !, exec, …) are dropped, and so are redirections with their targets. It
// knows enough sh for the scripts of the CI examples, not all of it: no
// here-documents, no aliases.
func shellCommands(script string) ([][]string, error) {
	toks, err := shellTokens(script)
	if err != nil {
		return nil, err
	}
	var (
		cmds [][]string
		cmd  []string
	)
	end := func() {
		cmd = trimCommandPrefix(cmd)
		if len(cmd) > 0 {
			cmds = append(cmds, cmd)
		}
		cmd = nil
	}
	for i := 0; i < len(toks); i++ {
		switch t := toks[i]; {
		case t.op == "redirect":
			if i+1 < len(toks) && toks[i+1].op == "" {
				i++ // the redirection's target is not an argument
			}
		case t.op != "":
			end()
		default:
			cmd = append(cmd, t.word)
		}
	}
	end()
	return cmds, nil
}

// shellKeywords may open a simple command without being its name.
var shellKeywords = []string{"!", "{", "}", "if", "then", "else", "elif", "fi", "do", "done", "while", "until", "exec", "time"}

func trimCommandPrefix(cmd []string) []string {
	for len(cmd) > 0 && (isAssignment(cmd[0]) || slices.Contains(shellKeywords, cmd[0])) {
		cmd = cmd[1:]
	}
	return cmd
}

func isAssignment(w string) bool {
	name, _, ok := strings.Cut(w, "=")
	if !ok || name == "" {
		return false
	}
	for i, r := range name {
		if r != '_' && !(r >= 'a' && r <= 'z') && !(r >= 'A' && r <= 'Z') && !(i > 0 && r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}

// shellToken is a word or an operator ("redirect" for <, >, 2>&1 and the
// like; ";" for a newline too).
type shellToken struct {
	op   string
	word string
}

var errUnterminated = errors.New("unterminated quote or expansion")

func shellTokens(s string) ([]shellToken, error) {
	var toks []shellToken
	r := []rune(s)
	for i := 0; i < len(r); {
		c := r[i]
		switch {
		case c == ' ' || c == '\t' || c == '\r':
			i++
		case c == '\\' && i+1 < len(r) && r[i+1] == '\n':
			i += 2 // a continued line
		case c == '#':
			for i < len(r) && r[i] != '\n' {
				i++
			}
		case c == '\n' || c == ';':
			toks = append(toks, shellToken{op: ";"})
			i++
		case c == '&' || c == '|':
			op := string(c)
			if i+1 < len(r) && r[i+1] == c {
				op += op
			}
			toks = append(toks, shellToken{op: op})
			i += len(op)
		case c == '(' || c == ')':
			toks = append(toks, shellToken{op: string(c)})
			i++
		case isRedirect(r, i):
			for i < len(r) && r[i] >= '0' && r[i] <= '9' {
				i++
			}
			for i < len(r) && (r[i] == '<' || r[i] == '>' || r[i] == '&') {
				i++
			}
			toks = append(toks, shellToken{op: "redirect"})
		default:
			w, next, err := shellWord(r, i)
			if err != nil {
				return nil, err
			}
			toks = append(toks, shellToken{word: w})
			i = next
		}
	}
	return toks, nil
}

// isRedirect reports whether a redirection starts at r[i]: < or >, or
// digits right before one (2>).
func isRedirect(r []rune, i int) bool {
	for i < len(r) && r[i] >= '0' && r[i] <= '9' {
		i++
	}
	return i < len(r) && (r[i] == '<' || r[i] == '>')
}

// shellWord reads the word that starts at r[i] and returns it unquoted,
// with the index after it.
func shellWord(r []rune, i int) (string, int, error) {
	var b strings.Builder
	for i < len(r) {
		c := r[i]
		switch {
		case strings.ContainsRune(" \t\r\n;&|()<>", c):
			return b.String(), i, nil
		case c == '\'':
			j := index(r, i+1, '\'')
			if j < 0 {
				return "", 0, errUnterminated
			}
			b.WriteString(string(r[i+1 : j]))
			i = j + 1
		case c == '"':
			i++
			for {
				if i >= len(r) {
					return "", 0, errUnterminated
				}
				if r[i] == '"' {
					i++
					break
				}
				if r[i] == '\\' && i+1 < len(r) && strings.ContainsRune("\"\\$`\n", r[i+1]) {
					if r[i+1] != '\n' {
						b.WriteRune(r[i+1])
					}
					i += 2
					continue
				}
				if r[i] == '$' && i+1 < len(r) && (r[i+1] == '(' || r[i+1] == '{') {
					j, err := expansionEnd(r, i)
					if err != nil {
						return "", 0, err
					}
					b.WriteString(string(r[i:j]))
					i = j
					continue
				}
				b.WriteRune(r[i])
				i++
			}
		case c == '\\':
			if i+1 < len(r) && r[i+1] != '\n' {
				b.WriteRune(r[i+1])
			}
			i += 2
		case c == '$' && i+1 < len(r) && (r[i+1] == '(' || r[i+1] == '{'):
			j, err := expansionEnd(r, i)
			if err != nil {
				return "", 0, err
			}
			b.WriteString(string(r[i:j]))
			i = j
		case c == '`':
			j := index(r, i+1, '`')
			if j < 0 {
				return "", 0, errUnterminated
			}
			b.WriteString(string(r[i : j+1]))
			i = j + 1
		default:
			b.WriteRune(c)
			i++
		}
	}
	return b.String(), i, nil
}

// expansionEnd returns the index after the $(…) or ${…} that starts at
// r[i], counting nested brackets of the same kind.
func expansionEnd(r []rune, i int) (int, error) {
	open, closing := r[i+1], ')'
	if open == '{' {
		closing = '}'
	}
	depth := 0
	for j := i + 1; j < len(r); j++ {
		switch r[j] {
		case open:
			depth++
		case closing:
			if depth--; depth == 0 {
				return j + 1, nil
			}
		}
	}
	return 0, errUnterminated
}

func index(r []rune, from int, c rune) int {
	for j := from; j < len(r); j++ {
		if r[j] == c {
			return j
		}
	}
	return -1
}

// TestShellCommands pins the little shell reader the command-line test
// relies on: if it lost words, that test would check less than it says.
func TestShellCommands(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		script string
		want   [][]string
	}{
		{"one command", "teamslink scan --config tenants.yaml", [][]string{{"teamslink", "scan", "--config", "tenants.yaml"}}},
		{"continued lines", "teamslink scan \\\n  --config tenants.yaml \\\n  --fail-on warn", [][]string{{"teamslink", "scan", "--config", "tenants.yaml", "--fail-on", "warn"}}},
		{"quotes", `teamslink scan --sarif-category "${SARIF_CATEGORY}" --format 'table,json=a b.json'`, [][]string{{"teamslink", "scan", "--sarif-category", "${SARIF_CATEGORY}", "--format", "table,json=a b.json"}}},
		{"quotes inside a word", `teamslink scan --format table,junit="${dir}/x.xml"`, [][]string{{"teamslink", "scan", "--format", "table,junit=${dir}/x.xml"}}},
		{"operators", "status=0\nteamslink scan || status=$?; echo done && exit 1", [][]string{{"teamslink", "scan"}, {"echo", "done"}, {"exit", "1"}}},
		{"assignments and keywords", "if FOO=1 teamslink config check tenants.yaml; then echo ok; fi", [][]string{{"teamslink", "config", "check", "tenants.yaml"}, {"echo", "ok"}}},
		{"redirections", "cat summary.md >> \"$GITHUB_STEP_SUMMARY\"\nteamslink rules 2>&1 > rules.txt --format json", [][]string{{"cat", "summary.md"}, {"teamslink", "rules", "--format", "json"}}},
		{"comments", "# teamslink scan --nothing\nteamslink version # teamslink scan", [][]string{{"teamslink", "version"}}},
		{"command substitution", `export F="$(mktemp)"` + "\n" + `teamslink scan --config "$(Agent.TempDirectory)/t.yaml"`, [][]string{{"export", "F=$(mktemp)"}, {"teamslink", "scan", "--config", "$(Agent.TempDirectory)/t.yaml"}}},
		{"pipeline", "curl -s URL \\\n  | jq -r .value > token", [][]string{{"curl", "-s", "URL"}, {"jq", "-r", ".value"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := shellCommands(tt.script)
			if err != nil {
				t.Fatal(err)
			}
			if fmt.Sprintf("%q", got) != fmt.Sprintf("%q", tt.want) {
				t.Errorf("shellCommands:\n got  %q\n want %q", got, tt.want)
			}
		})
	}
}

// TestShellCommandsUnterminated refuses a script it cannot read rather than
// reading part of it.
func TestShellCommandsUnterminated(t *testing.T) {
	t.Parallel()
	for _, script := range []string{`teamslink scan "--config`, "teamslink scan '--config", "echo $(date", "echo `date"} {
		if _, err := shellCommands(script); !errors.Is(err, errUnterminated) {
			t.Errorf("shellCommands(%q) = %v, want errUnterminated", script, err)
		}
	}
}
