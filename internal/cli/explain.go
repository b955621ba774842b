package cli

import (
	"fmt"
	"io"
	"strings"

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

Examples:
  teamslink explain TL-SP-002
  teamslink explain 800503ca
  teamslink explain "admin has not consented"`,
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
				return usageErrorf("no rule id or error matches %q; \"teamslink rules\" lists them", query)
			}
			if _, err := fmt.Fprintf(w, "%d rule(s) explain %q:\n\n", len(matches), query); err != nil {
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

// rulesExplaining returns the rules whose error code or message contains the
// query, ignoring case and a leading 0x.
func rulesExplaining(rules []engine.Rule, query string) []engine.Rule {
	q := strings.TrimPrefix(strings.ToLower(query), "0x")
	if q == "" {
		return nil
	}
	var out []engine.Rule
	for _, r := range rules {
		if r.ErrorCode != "" && strings.Contains(strings.ToLower(r.ErrorCode), q) {
			out = append(out, r)
		}
	}
	return out
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
	if r.ErrorCode != "" {
		fmt.Fprintf(&b, "  explains:    %s\n", r.ErrorCode)
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
