package cli

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/teamslink/teamslink/internal/emulator"
)

// TestReliabilityDoc fails when docs/reliability.md is not what the fault
// matrix renders; go test ./internal/cli -run TestReliabilityDoc -update
// rewrites it.
func TestReliabilityDoc(t *testing.T) {
	t.Parallel()
	path := filepath.Join(repoRoot, "docs", "reliability.md")
	got := renderReliability()
	if f := flag.Lookup("update"); f != nil && f.Value.String() == "true" {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./internal/cli -run TestReliabilityDoc -update)", err)
	}
	if string(want) != got {
		t.Errorf("docs/reliability.md is stale: run go test ./internal/cli -run TestReliabilityDoc -update\n%s", lineDiff(string(want), got))
	}
}

// renderReliability writes docs/reliability.md from the matrix's tables.
func renderReliability() string {
	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	p("# Reliability: what a scan does when a request fails\n\n")
	p("Generated from the fault matrix (`internal/cli/faultmatrix_test.go`) by\n")
	p("`go test ./internal/cli -run TestReliabilityDoc -update`; do not edit by hand.\n\n")
	p("`TestFaultMatrix` scans the `ready` tenant of the emulator (see [emulator.md](emulator.md)) once\n")
	p("per cell below, with one fault injected into one of the requests the collectors make, beside a\n")
	p("fault-free tenant (`spo-limited`) in the same fleet, and checks the cell's outcome. %d cells:\n", len(matrixCells()))
	p("%d requests × %d faults, less those that do not apply.\n\n", len(matrixCalls), len(matrixFaults))

	p("## Outcomes\n\n")
	p("| outcome | what is checked |\n|---|---|\n")
	p("| recovered | the client retried: every section is `ok` and the report is the fault-free one |\n")
	p("| unaffected | the answer is not used: the report is the fault-free one |\n")
	p("| fallback | the data was found another way: every section is `ok`, every finding has its fault-free status |\n")
	p("| section error | exactly the sections named are `error`, each with its reason; every rule reading one of them reports `error` naming it, every other rule its fault-free status; the run exits 3 |\n\n")
	p("In every cell the fault fired, and the fault-free tenant's findings are those of a fault-free run.\n")
	p("Over the whole matrix no rule passes on data that was not read: no finding whose rule reads a\n")
	p("section that is `error`, or that the cell expects to be, has status `pass`.\n\n")

	p("## How the faults are injected\n\n")
	p("Each fault is an emulator fault (`faults:` in a scenario) on the request's match, named `matrix`.\n")
	p("\"Once\" faults fire on the first matching request only (`times: 1`), the others on every one.\n")
	p("In the latency cells every attempt of a Dataverse, Graph or SharePoint request of the faulted tenant has a\n")
	p("deadline of %v (`endpoints.requestTimeout`) and the fault waits %s; the fault-free tenant and the other\n", matrixRequestTimeout, matrixDelay)
	p("cells keep the default deadline, 30 s.\n\n")
	p("| fault | emulator fault |\n|---|---|\n")
	for _, f := range matrixFaults {
		p("| %s | %s |\n", f.name, faultYAML(f.fault))
	}
	p("\nLeft out, as they repeat another cell:\n\n")
	p("- inside a `$batch`, the faults that damage the whole `$batch` when they persist (latency, reset,\n")
	p("  truncation, oversize): they are the `$batch`'s rows; and 429 without Retry-After that persists, which\n")
	p("  differs from the row with Retry-After only in the wait;\n")
	p("- on the login host, the oversize body: azidentity reads a token response whole, whatever its size, so\n")
	p("  a body too large is, to it, the malformed row;\n")
	p("- %s\n", loginRetryNote)
	p("- TLS and token-audience faults act on a host, so they have one row per host: the first request to it.\n")
	p("  A handshake names no tenant, so for the TLS rows of the login and Graph hosts the fault-free tenant\n")
	p("  is moved to another cloud (GCC High); expired tokens are not issued on the login host.\n\n")

	p("## Which rules read which sections\n\n")
	p("From `policies/teamslink/*/*.rego`; a rule reports `error` when a section it reads is not `ok`.\n\n")
	p("| rule | sections |\n|---|---|\n")
	var rules []string
	for r := range ruleSections {
		rules = append(rules, r)
	}
	slices.Sort(rules)
	for _, r := range rules {
		rule, table, _ := strings.Cut(r, "/")
		secs := "`" + strings.Join(ruleSections[r], "`, `") + "`"
		if len(ruleSections[r]) == 0 {
			secs = "none"
		}
		if table != "" {
			rule = fmt.Sprintf("%s for %s (out-of-box Teams table)", rule, table)
		}
		p("| %s | %s |\n", rule, secs)
	}

	p("\n## Requests\n")
	cells := matrixCells()
	for _, c := range matrixCalls {
		p("\n### %s\n\n", c.name)
		caller := "a signed-in user"
		if c.caller == "app" {
			caller = "an application (the scenario's caller made an app)"
		}
		p("%s; caller %s. Fault match: %s.\n\n", classText(c.class), caller, matchText(c.match, c.skip))
		p("| outcome | faults | what the user sees |\n|---|---|---|\n")
		type group struct {
			o      outcome
			faults []string
		}
		var groups []*group
		for _, cell := range cells {
			if cell.call.name != c.name {
				continue
			}
			var g *group
			for _, x := range groups {
				if x.o.kind == cell.expect.kind && slices.Equal(x.o.sections, cell.expect.sections) && x.o.how == cell.expect.how {
					g = x
				}
			}
			if g == nil {
				g = &group{o: cell.expect}
				groups = append(groups, g)
			}
			g.faults = append(g.faults, cell.fault.name)
		}
		for _, g := range groups {
			p("| %s | %s | %s |\n", outcomeName(g.o), strings.Join(g.faults, "; "), userSees(g.o))
		}
	}
	return b.String()
}

func outcomeName(o outcome) string {
	switch o.kind {
	case recovered:
		return "recovered"
	case unaffected:
		return "unaffected"
	case fallback:
		return "fallback"
	}
	return "section error"
}

// userSees says what the report and the exit code show for an outcome.
func userSees(o outcome) string {
	switch o.kind {
	case recovered:
		return "nothing: the report is unchanged (" + o.how + ")"
	case unaffected:
		return "nothing: " + o.how
	case fallback:
		return o.how + "; every finding as without the fault"
	}
	var rules []string
	for r, secs := range ruleSections {
		if strings.Contains(r, "/") {
			continue
		}
		for _, s := range secs {
			if slices.Contains(o.sections, s) && !slices.Contains(rules, r) {
				rules = append(rules, r)
			}
		}
	}
	slices.Sort(rules)
	return fmt.Sprintf("%s: `%s` error; %s report error; exit code 3", o.how, strings.Join(o.sections, "`, `"), strings.Join(rules, ", "))
}

func classText(c callClass) string {
	switch c {
	case classLogin:
		return "Entra ID, through azidentity"
	case classOuter:
		return "A request of its own"
	case classInnerDataverse:
		return "Inside a Dataverse multipart `$batch`"
	}
	return "Inside a Graph JSON `$batch`"
}

func matchText(m emulator.FaultMatch, skip int) string {
	parts := []string{"host `" + m.Host + "`"}
	if m.Path != "" {
		parts = append(parts, "path `"+m.Path+"`")
	}
	if m.Scope != "" {
		parts = append(parts, "scope "+m.Scope)
	}
	if skip > 0 {
		parts = append(parts, fmt.Sprintf("skip %d (the first such request passes)", skip))
	}
	return strings.Join(parts, ", ")
}

// faultYAML renders a fault's kind and parameters as a scenario writes them.
func faultYAML(f emulator.Fault) string {
	parts := []string{"kind: " + f.Kind}
	if f.Status != 0 {
		parts = append(parts, fmt.Sprintf("status: %d", f.Status))
	}
	if f.RetryAfter != "" {
		parts = append(parts, fmt.Sprintf("retryAfter: %q", f.RetryAfter))
	}
	if f.Delay != "" {
		parts = append(parts, "delay: "+f.Delay)
	}
	if f.Size != "" {
		parts = append(parts, "size: "+f.Size)
	}
	if f.ContentType != "" {
		parts = append(parts, "contentType: "+f.ContentType)
	}
	if f.Times != 0 {
		parts = append(parts, fmt.Sprintf("times: %d", f.Times))
	}
	return "`{" + strings.Join(parts, ", ") + "}`"
}
