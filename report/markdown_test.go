package report

import (
	"bytes"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/teamslink/teamslink/internal/finding"
)

// checkMarkdownStructure fails the test when md has an unbalanced
// <details>, an unclosed code fence, or a table row whose cells do not
// match its table's head.
func checkMarkdownStructure(t *testing.T, md string) {
	t.Helper()
	if open, closed := strings.Count(outsideCode(md), "<details>"), strings.Count(outsideCode(md), "</details>"); open != closed {
		t.Errorf("%d <details> but %d </details>", open, closed)
	}
	fence := ""
	cols := -1
	for i, line := range strings.Split(md, "\n") {
		if fence != "" {
			if strings.TrimRight(line, "`") == "" && len(line) >= len(fence) {
				fence = ""
			}
			continue
		}
		if strings.HasPrefix(line, "```") {
			fence = line[:len(line)-len(strings.TrimLeft(line, "`"))]
			continue
		}
		if !strings.HasPrefix(line, "|") {
			cols = -1
			continue
		}
		n := unescapedPipes(line)
		if cols < 0 {
			cols = n
		} else if n != cols {
			t.Errorf("line %d has %d cell separators; its table has %d: %s", i+1, n, cols, line)
		}
	}
	if fence != "" {
		t.Errorf("code fence %s is never closed", fence)
	}
}

// outsideCode is md without the content of its fenced code blocks, which
// Markdown shows as it is.
func outsideCode(md string) string {
	var out []string
	fence := ""
	for _, line := range strings.Split(md, "\n") {
		switch {
		case fence != "":
			if strings.TrimRight(line, "`") == "" && len(line) >= len(fence) {
				fence = ""
				out = append(out, line)
			}
		case strings.HasPrefix(line, "```"):
			fence = line[:len(line)-len(strings.TrimLeft(line, "`"))]
			out = append(out, line)
		default:
			out = append(out, line)
		}
	}
	return strings.Join(out, "\n")
}

// unescapedPipes counts the | of a table row that separate cells.
func unescapedPipes(line string) int {
	n := 0
	for i := 0; i < len(line); i++ {
		switch line[i] {
		case '\\':
			i++
		case '|':
			n++
		}
	}
	return n
}

func TestMarkdownStructure(t *testing.T) {
	t.Parallel()
	for _, fx := range fixtures() {
		t.Run(fx.name, func(t *testing.T) {
			t.Parallel()
			md := string(render(t, "markdown", fx.report, fixedOptions(false)))
			checkMarkdownStructure(t, md)
			if strings.Contains(md, "truncated") {
				t.Errorf("a small report is truncated")
			}
		})
	}
}

// bigFleet is n copies of env, each its own environment.
func bigFleet(n int, env func() finding.Environment) *finding.Report {
	envs := make([]finding.Environment, n)
	for i := range envs {
		e := env()
		e.URL = fmt.Sprintf("https://org%05d.crm4.dynamics.com", i)
		e.Name = fmt.Sprintf("Org %d", i)
		envs[i] = e
	}
	return newReport(envs...)
}

func TestMarkdownTruncates(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		report *finding.Report
		// leftOut must appear in the note.
		leftOut string
	}{
		// Every environment blocked: the sections do not all fit.
		{"blocked fleet", bigFleet(400, blockedEnv), "sections on environments that need attention"},
		// So many environments that even the matrix does not fit.
		{"huge matrix", bigFleet(9000, func() finding.Environment {
			e := readyEnv()
			e.Findings = e.Findings[:1]
			return e
		}), "rows of the readiness matrix"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			md := string(render(t, "markdown", tt.report, fixedOptions(false)))
			if len(md) > markdownLimit {
				t.Errorf("output is %d bytes; the limit is %d", len(md), markdownLimit)
			}
			if len(md) < markdownLimit/2 {
				t.Errorf("output is only %d bytes: truncated far below the limit %d", len(md), markdownLimit)
			}
			checkMarkdownStructure(t, md)
			note := regexp.MustCompile(`(?m)^> \*\*This report is truncated\*\* .*Left out: (.*)\. The json and html formats of the same report have everything\.\n\z`)
			m := note.FindStringSubmatch(md)
			if m == nil {
				t.Fatalf("output does not end with the truncation note:\n%s", md[max(0, len(md)-600):])
			}
			if !strings.Contains(m[1], tt.leftOut) {
				t.Errorf("note says left out %q; want it to name %q", m[1], tt.leftOut)
			}
			if !strings.HasPrefix(md, "## teamslink report\n") || !strings.Contains(md, "### Readiness\n") {
				t.Errorf("truncated output lost its head or matrix")
			}
		})
	}
}

// TestMarkdownCutsAtBlocks cuts one report at many limits: every cut is
// under its limit, structurally whole, and says it was cut.
func TestMarkdownCutsAtBlocks(t *testing.T) {
	t.Parallel()
	r := fleetReport()
	r.SignInErrors = signInReport().SignInErrors
	full := render(t, "markdown", r, fixedOptions(false))
	for limit := markdownNoteReserve + 1000; limit < len(full)+markdownNoteReserve; limit += 1500 {
		t.Run(fmt.Sprint(limit), func(t *testing.T) {
			t.Parallel()
			var buf bytes.Buffer
			mw := &markdownWriter{w: &buf, clock: fixedOptions(false).Now, limit: limit}
			if err := mw.Write(t.Context(), r); err != nil {
				t.Fatal(err)
			}
			md := buf.String()
			if len(md) > limit {
				t.Errorf("output is %d bytes; the limit is %d", len(md), limit)
			}
			checkMarkdownStructure(t, md)
			truncated := strings.Contains(md, "This report is truncated")
			if truncated == (md == string(full)) {
				t.Errorf("truncated = %v, but the output is %d of %d bytes", truncated, len(md), len(full))
			}
			if truncated && !bytes.HasPrefix(full, []byte(md[:strings.LastIndex(md, "\n> [!WARNING]")])) {
				t.Errorf("a cut output is not a prefix of the whole one")
			}
		})
	}
}

func TestMarkdownEscapesHostileStrings(t *testing.T) {
	t.Parallel()
	const hostile = "Evil</details><script>alert(1)</script> | **bold** [x](javascript:alert(1)) `code` @everyone #1 $x$ <!-- &lt;"
	e := blockedEnv()
	e.TenantName = hostile
	e.Name = hostile + "\n# heading\n- item"
	e.Findings[1].Message = "sites\n\n</details>\n\n# injected " + hostile
	e.Findings[1].Evidence["sample"] = []any{map[string]any{"name": "```\n</details>", "absoluteurl": "https://x.invalid/" + hostile}}
	e.Findings[1].Evidence["key```"] = "````"
	e.Findings[1].Docs = "javascript:alert(1)"
	r := newReport(e, readyEnv())
	r.Environments[1].Name = hostile // folded into a <details> summary
	r.SignInErrors = []finding.SignInError{{Tenant: fabrikamID, TenantName: hostile, Method: "client-secret", Error: hostile, Fix: hostile, Docs: "https://x.invalid/a>b"}}
	whole := string(render(t, "markdown", r, fixedOptions(false)))
	checkMarkdownStructure(t, whole)
	if !strings.Contains(whole, "absoluteurl=https://x.invalid/Evil</details><script>") {
		t.Errorf("the evidence is not shown as it is, in a code block")
	}
	md := outsideCode(whole)
	// Raw HTML, anywhere: a <summary> is HTML, so it must be HTML-escaped.
	for _, bad := range []string{"<script", "</script", "<!--", "@everyone", "<https://x.invalid/a>b>"} {
		if strings.Contains(md, bad) {
			t.Errorf("output contains %q from the report's data", bad)
		}
	}
	// Markdown, outside the HTML of a <summary> (where Markdown is not
	// parsed): every inline marker escaped.
	markup := regexp.MustCompile(`(^|[^\\])(\*\*bold|\]\(javascript|\$x|` + "`code" + `)`)
	for _, line := range strings.Split(md, "\n") {
		if strings.HasPrefix(line, "<details><summary>") {
			continue
		}
		if m := markup.FindString(line); m != "" {
			t.Errorf("unescaped Markdown %q from the report's data in: %s", m, line)
		}
		if strings.Contains(line, "javascript:alert(1)") && strings.Contains(line, "**Docs:**") && !strings.HasSuffix(line, "**Docs:** javascript:alert(1)") {
			t.Errorf("a javascript: docs link is not plain text: %s", line)
		}
	}
	for _, line := range strings.Split(md, "\n") {
		if strings.HasPrefix(line, "# ") || strings.HasPrefix(line, "- item") {
			t.Errorf("a newline in the data started a block: %q", line)
		}
	}
	// The hostile tenant's matrix row keeps its six cells.
	for _, line := range strings.Split(md, "\n") {
		if strings.HasPrefix(line, "| Evil") && strings.Contains(line, "BLOCKED") {
			if n := unescapedPipes(line); n != 7 {
				t.Errorf("matrix row has %d cell separators; want 7: %s", n, line)
			}
		}
	}
	if !strings.Contains(whole, "````text\n") {
		t.Errorf("evidence with a backtick fence was not fenced by a longer one")
	}
	if !strings.Contains(md, "<details><summary>🟢 READY: Evil&lt;/details&gt;&lt;script&gt;") {
		t.Errorf("the summary of a folded environment is not HTML-escaped:\n%s", md)
	}
}

func TestMarkdownText(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"plain text", "plain text"},
		{"a_b*c", `a\_b\*c`},
		{"<b>&", "&lt;b&gt;&amp;"},
		{"x | y", `x \| y`},
		{"1. one", `1\. one`},
		{"- dash", `\- dash`},
		{"two\nlines", "two lines"},
		{"@team mail@x.example", "@\u2060team mail@x.example"},
		{"#12 a#b", "\\#\u206012 a\\#b"},
		{"ctl\x1b[0m", "ctl\uFFFD\\[0m"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			if got := mdText(tt.in); got != tt.want {
				t.Errorf("mdText(%q) = %q; want %q", tt.in, got, tt.want)
			}
		})
	}
}

// TestMarkdownErrorNeverPasses checks that a finding that could not be
// assessed is shown as an error wherever it appears, and that an
// environment that is UNKNOWN, BLOCKED or BROKEN is never shown as ready.
func TestMarkdownErrorNeverPasses(t *testing.T) {
	t.Parallel()
	for _, fx := range []struct {
		name   string
		report *finding.Report
	}{{"unknown", newReport(unknownEnv())}, {"signin", signInReport()}} {
		t.Run(fx.name, func(t *testing.T) {
			t.Parallel()
			md := string(render(t, "markdown", fx.report, fixedOptions(false)))
			e := fx.report.Environments[0]
			for _, f := range e.Findings {
				if f.Status != finding.StatusError {
					continue
				}
				seen := 0
				for _, line := range strings.Split(md, "\n") {
					item := strings.HasPrefix(line, "- ") && strings.Contains(line, "**"+f.Rule+"**")
					// A row of a findings table: status, severity, rule, table, message.
					row := strings.HasPrefix(line, "| ") && unescapedPipes(line) == 6 && strings.Contains(line, " | "+f.Rule+"<br>")
					if !item && !row {
						continue
					}
					seen++
					if !strings.Contains(line, "❓ ERROR") || strings.Contains(line, "PASS") || strings.Contains(line, "✅") {
						t.Errorf("error finding %s is not shown as an error: %s", f.Key, line)
					}
				}
				if seen < 2 {
					t.Errorf("error finding %s appears %d times; want it in the attention list and the findings table", f.Key, seen)
				}
			}
			for _, line := range strings.Split(md, "\n") {
				if strings.Contains(line, e.URL) && strings.HasPrefix(line, "| ") {
					if !strings.Contains(line, "❓ UNKNOWN") || strings.Contains(line, "READY") || strings.Contains(line, "ENABLED") {
						t.Errorf("UNKNOWN environment's matrix row: %s", line)
					}
				}
			}
		})
	}
	for _, s := range finding.Statuses {
		if got := statusText(s); s != finding.StatusPass && (strings.Contains(got, "PASS") || strings.Contains(got, "✅")) {
			t.Errorf("status %s is shown as %q", s, got)
		}
	}
	for _, st := range []finding.Readiness{finding.Unknown, finding.Blocked, finding.Broken, "SOMETHING_NEW"} {
		if got := readinessText(st); strings.ContainsAny(got, "✅🟢") || strings.Contains(got, "READY") || strings.Contains(got, "ENABLED") {
			t.Errorf("readiness %s is shown as %q", st, got)
		}
	}
	if got := statusText("bogus"); strings.Contains(got, "PASS") {
		t.Errorf("an unknown status is shown as %q", got)
	}
}
