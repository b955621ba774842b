package cli

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"unicode"

	"github.com/spf13/cobra"

	"github.com/teamslink/teamslink/internal/engine"
)

func newExplainCommand(_ Deps) *cobra.Command {
	var policyDirs []string
	cmd := &cobra.Command{
		Use:   "explain RULE-ID | ERROR",
		Short: "Explain a rule, or which rules lie behind an error code or message",
		Long: `Explain one rule of the catalogue, or find the rules behind an error you saw while
enabling the feature: an error code such as 800503ca, or words from an error message.

Paste the message as you saw it, whole or in part: case, punctuation, curly quotes and
contractions ("isn't", "is not") do not matter, and a message with your own names in it (a
blocked word, a property) still finds its rule. Manual checks (TL-MAN-*) are found the same way;
for the few messages on the troubleshooting page that no rule checks, explain says what the page
gives as their cause.

Examples:
  teamslink explain TL-SP-002
  teamslink explain 800503ca
  teamslink explain "admin has not consented"
  teamslink explain "User does not have permissions to create SharePoint Site"
  teamslink explain "isn't connected to Dynamics 365"
  teamslink explain "required prefix/suffix"`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			eng, err := engine.New(cmd.Context(), engine.Config{PolicyDirs: policyDirs})
			if err != nil {
				return err
			}
			query := strings.TrimSpace(args[0])
			w := cmd.OutOrStdout()
			if r, ok := eng.Rule(query); ok {
				return explainRule(w, r)
			}
			matches := rulesExplaining(eng.Rules(), query)
			if len(matches) == 0 {
				if m, ok := uncheckedMessage(query); ok {
					return explainUnchecked(w, query, m)
				}
				return usageErrorf("no rule id or error matches %q; \"teamslink rules\" lists them", query)
			}
			noun := "rules explain"
			if len(matches) == 1 {
				noun = "rule explains"
			}
			if _, err := fmt.Fprintf(w, "%d %s %q:\n\n", len(matches), noun, query); err != nil {
				return err
			}
			for i, r := range matches {
				if i > 0 {
					if _, err := fmt.Fprintln(w); err != nil {
						return err
					}
				}
				if err := explainRule(w, r); err != nil {
					return err
				}
			}
			return nil
		},
	}
	cmd.Flags().StringArrayVar(&policyDirs, "policy-dir", nil, "extra Rego policies `DIR` to include")
	return cmd
}

// rulesExplaining returns the rules behind a pasted error code or message:
// those whose error_code or explains texts match it (matchesMessage).
func rulesExplaining(rules []engine.Rule, query string) []engine.Rule {
	q := foldMessage(query)
	if len(q) < 3 {
		return nil
	}
	var out []engine.Rule
	for _, r := range rules {
		if textsMatch(q, ruleTexts(r), false) {
			out = append(out, r)
		}
	}
	if len(out) > 0 {
		return out
	}
	// No text holds the query, nor the query a text: fall back to the
	// words, for a message with the user's own names in it.
	for _, r := range rules {
		if textsMatch(q, ruleTexts(r), true) {
			out = append(out, r)
		}
	}
	return out
}

// ruleTexts are the error texts a rule explains.
func ruleTexts(r engine.Rule) []string {
	texts := slices.Clone(r.Explains)
	if r.ErrorCode != "" {
		texts = append([]string{r.ErrorCode}, texts...)
	}
	return texts
}

// textsMatch reports whether the folded query q matches one of texts: as a
// part of it (a partial paste), holding it whole (a paste with more around
// it), or, with byWords, sharing most of its words.
func textsMatch(q string, texts []string, byWords bool) bool {
	for _, t := range texts {
		ft := foldMessage(t)
		switch {
		case ft == "":
		case byWords:
			if wordsMatch(q, ft) {
				return true
			}
		case strings.Contains(ft, q), len(ft) >= 6 && strings.Contains(q, ft):
			return true
		}
	}
	return false
}

// wordsMatch holds when at least three words are shared and they make four
// in five of the query's words (the user's own names inside, as in "The
// displayName can't contain the blocked word 'Payroll'" against the
// documented "… the blocked word 'blocked' …") or of the text's (a paste
// with more around it, a URL for the page's "[URL]").
func wordsMatch(q, text string) bool {
	qw, tw := contentWords(q), contentWords(text)
	hit := 0
	for w := range qw {
		if tw[w] {
			hit++
		}
	}
	return hit >= 3 && (hit*5 >= len(qw)*4 || hit*5 >= len(tw)*4)
}

// contentWords are the distinct words of a folded message, short and
// common ones aside.
func contentWords(s string) map[string]bool {
	out := map[string]bool{}
	for _, w := range strings.Fields(s) {
		if len(w) >= 3 && !stopWords[w] {
			out[w] = true
		}
	}
	return out
}

var stopWords = map[string]bool{"the": true, "and": true, "for": true, "you": true, "your": true, "this": true, "that": true, "per": true, "not": true, "can": true}

// contractions are spelt out before matching, so "isn't" and "is not" are
// one; "can't" and "cannot" become "can not".
var contractions = strings.NewReplacer(
	"can't", "can not", "cannot", "can not", "won't", "will not", "n't", " not",
)

// quotes folds typographic quotes, apostrophes and dashes to ASCII.
var quotes = strings.NewReplacer("\u2018", "'", "\u2019", "'", "\u201a", "'", "\u201b", "'", "\u02bc", "'", "\u00b4", "'", "`", "'",
	"\u201c", `"`, "\u201d", `"`, "\u201e", `"`, "\u2010", "-", "\u2011", "-", "\u2013", "-", "\u2014", "-", "\u2026", " ")

// foldMessage folds a message for matching: lower case, quotes straight,
// contractions spelt out, a leading 0x dropped from codes, every run of
// other characters than letters and digits one space.
func foldMessage(s string) string {
	s = contractions.Replace(quotes.Replace(strings.ToLower(s)))
	var b strings.Builder
	space := false
	for _, r := range s {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			if space && b.Len() > 0 {
				b.WriteByte(' ')
			}
			space = false
			b.WriteRune(r)
			continue
		}
		space = space || r != '\''
	}
	words := strings.Fields(b.String())
	for i, w := range words {
		if len(w) > 2 && strings.HasPrefix(w, "0x") && isHex(w[2:]) {
			words[i] = w[2:]
		}
	}
	return strings.Join(words, " ")
}

func isHex(s string) bool {
	for _, r := range s {
		if !strings.ContainsRune("0123456789abcdef", r) {
			return false
		}
	}
	return s != ""
}

// unchecked are messages of the troubleshooting page (facts §6) that no
// rule checks, since nothing in the configuration causes them, with the
// cause the page gives.
type unchecked struct {
	text, cause string
}

var uncheckedMessages = []unchecked{
	{"File sharing isn't set up. Go to [URL] to connect a Microsoft Teams channel to this record.",
		"the record is not connected to a Microsoft Teams channel yet: connect it with Collaborate."},
	{"You don't have permissions to view files in this location. Contact your Microsoft Teams owner or SharePoint administrator for access.",
		"the user is not a member of the connected team: ask a team owner to add them."},
	{"Blocked a frame with origin from accessing a cross-origin frame",
		"a known issue: pages that use window.top do not work inside Teams."},
}

const troubleshootingDocs = "https://learn.microsoft.com/dynamics365/teams-integration/teams-troubleshoot"

func uncheckedMessage(query string) (unchecked, bool) {
	q := foldMessage(query)
	if len(q) < 3 {
		return unchecked{}, false
	}
	for _, byWords := range []bool{false, true} {
		for _, m := range uncheckedMessages {
			if textsMatch(q, []string{m.text}, byWords) {
				return m, true
			}
		}
	}
	return unchecked{}, false
}

func explainUnchecked(w io.Writer, query string, m unchecked) error {
	_, err := fmt.Fprintf(w, "No rule checks %q: nothing in the configuration causes it.\n\n  message:  %s\n  cause:    %s\n\n  Docs: %s\n",
		query, m.text, m.cause, troubleshootingDocs)
	return err
}

func explainRule(w io.Writer, r engine.Rule) error {
	var b strings.Builder
	fmt.Fprintf(&b, "%s  %s\n", r.ID, r.Title)
	fmt.Fprintf(&b, "  severity:    %s\n", r.Severity)
	fmt.Fprintf(&b, "  experience:  %s\n", experiences(r))
	appliesTo := "each " + string(r.Scope)
	if r.Scope == engine.ScopeTenant {
		appliesTo = "each tenant (evaluated once, reported on each of its environments)"
	}
	fmt.Fprintf(&b, "  applies to:  %s\n", appliesTo)
	for i, text := range ruleTexts(r) {
		label := "explains:   "
		if i > 0 {
			label = "            "
		}
		fmt.Fprintf(&b, "  %s %s\n", label, text)
	}
	if r.Description != "" {
		fmt.Fprintf(&b, "\n%s\n", indent(strings.TrimSpace(r.Description), "  "))
	}
	if r.Remediation != "" {
		fmt.Fprintf(&b, "\n  What to do:\n%s\n", indent(strings.TrimSpace(r.Remediation), "    "))
	}
	if r.Fix != nil {
		fmt.Fprintf(&b, "\n  Automated fix: %s", r.Fix.Action)
		if r.Fix.Description != "" {
			fmt.Fprintf(&b, " — %s", r.Fix.Description)
		}
		b.WriteString("\n")
	}
	for _, a := range r.Assumptions {
		fmt.Fprintf(&b, "\n  Assumption: %s\n", a)
	}
	if r.Docs != "" {
		fmt.Fprintf(&b, "\n  Docs: %s\n", r.Docs)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func indent(s, prefix string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		if l != "" {
			lines[i] = prefix + l
		}
	}
	return strings.Join(lines, "\n")
}
