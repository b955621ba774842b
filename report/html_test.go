package report

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"math"
	"regexp"
	"slices"
	"strings"
	"testing"

	"golang.org/x/net/html"

	"github.com/teamslink/teamslink/internal/finding"
)

// parseHTML parses a rendered page as a browser would.
func parseHTML(t *testing.T, page []byte) *html.Node {
	t.Helper()
	doc, err := html.Parse(bytes.NewReader(page))
	if err != nil {
		t.Fatalf("parse the page: %v", err)
	}
	return doc
}

// elements returns every element named tag under n, in document order.
func elements(n *html.Node, tag string) []*html.Node {
	var out []*html.Node
	for d := range n.Descendants() {
		if d.Type == html.ElementNode && d.Data == tag {
			out = append(out, d)
		}
	}
	return out
}

func attr(n *html.Node, key string) (string, bool) {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val, true
		}
	}
	return "", false
}

// text is the text content of n.
func text(n *html.Node) string {
	var b strings.Builder
	for d := range n.Descendants() {
		if d.Type == html.TextNode {
			b.WriteString(d.Data)
		}
	}
	return b.String()
}

func hasClass(n *html.Node, class string) bool {
	v, _ := attr(n, "class")
	return slices.Contains(strings.Fields(v), class)
}

// csp returns the page's Content-Security-Policy, as directive → sources.
func csp(t *testing.T, doc *html.Node) map[string][]string {
	t.Helper()
	var policies []string
	for _, m := range elements(doc, "meta") {
		if v, _ := attr(m, "http-equiv"); strings.EqualFold(v, "Content-Security-Policy") {
			content, _ := attr(m, "content")
			policies = append(policies, content)
		}
	}
	if len(policies) != 1 {
		t.Fatalf("the page has %d Content-Security-Policy meta tags; want 1", len(policies))
	}
	out := map[string][]string{}
	for _, d := range strings.Split(policies[0], ";") {
		f := strings.Fields(d)
		if len(f) > 0 {
			out[f[0]] = f[1:]
		}
	}
	return out
}

func TestHTMLContentSecurityPolicy(t *testing.T) {
	t.Parallel()
	for _, fx := range fixtures() {
		t.Run(fx.name, func(t *testing.T) {
			t.Parallel()
			doc := parseHTML(t, render(t, "html", fx.report, fixedOptions(false)))
			policy := csp(t, doc)
			if got := policy["default-src"]; !slices.Equal(got, []string{"'none'"}) {
				t.Errorf("default-src = %v; want 'none'", got)
			}
			for _, block := range []struct{ tag, directive string }{{"style", "style-src"}, {"script", "script-src"}} {
				els := elements(doc, block.tag)
				if len(els) != 1 {
					t.Fatalf("the page has %d <%s> elements; want exactly 1", len(els), block.tag)
				}
				if _, ok := attr(els[0], "src"); ok {
					t.Errorf("<%s> loads a file", block.tag)
				}
				sum := sha256.Sum256([]byte(text(els[0])))
				want := "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
				if got := policy[block.directive]; !slices.Equal(got, []string{want}) {
					t.Errorf("%s = %v; want only the hash of the inline <%s>, %s", block.directive, got, block.tag, want)
				}
			}
			for directive, sources := range policy {
				for _, s := range sources {
					if s == "'unsafe-inline'" || s == "'unsafe-eval'" || s == "*" || strings.HasPrefix(s, "http") {
						t.Errorf("%s allows %s", directive, s)
					}
				}
			}
		})
	}
}

// TestHTMLLoadsNothing checks the markup for anything a browser would fetch:
// an element with a src, a stylesheet link, a style attribute (the policy
// would refuse it), a url() or @import in the stylesheet.
func TestHTMLLoadsNothing(t *testing.T) {
	t.Parallel()
	page := render(t, "html", fleetReport(), fixedOptions(false))
	doc := parseHTML(t, page)
	for d := range doc.Descendants() {
		if d.Type != html.ElementNode {
			continue
		}
		for _, a := range d.Attr {
			switch {
			case a.Key == "src" || a.Key == "srcset" || a.Key == "poster" || a.Key == "style":
				t.Errorf("<%s %s=%q>: the page must load nothing and use no style attributes", d.Data, a.Key, a.Val)
			case a.Key == "href" && d.Data != "a" && !strings.HasPrefix(a.Val, "data:"):
				t.Errorf("<%s href=%q> would be fetched", d.Data, a.Val)
			}
		}
	}
	style := text(elements(doc, "style")[0])
	for _, bad := range []string{"url(", "@import", "@font-face"} {
		if strings.Contains(style, bad) {
			t.Errorf("the stylesheet has %s", bad)
		}
	}
	for _, bad := range []string{"fetch(", "XMLHttpRequest", "import(", "src =", ".src=", "eval("} {
		if strings.Contains(htmlScript, bad) {
			t.Errorf("the script has %s", bad)
		}
	}
	// Mind the weight: the page is the report, not a framework.
	if n := len(htmlStyle) + len(htmlScript); n > 24<<10 {
		t.Errorf("the inline style and script weigh %d bytes; keep them under 24 KiB", n)
	}
}

// TestHTMLEscapesReportData renders a report whose every text is hostile:
// nothing of it may become markup, a script, an attribute or a link.
func TestHTMLEscapesReportData(t *testing.T) {
	t.Parallel()
	const (
		tag  = `<script>alert(1)</script>`
		attr = `" onmouseover="alert(2)`
		end  = `</table></section><img src=x onerror=alert(3)>`
	)
	e := blockedEnv()
	e.TenantName = tag
	e.Name = attr + end
	e.URL = "https://evil.example/" + tag
	e.Tenant = `tenant" data-x="1`
	e.Findings[1].Message = end + "\x1b[31m" + "\u202e"
	e.Findings[1].Title = tag
	e.Findings[1].Rule = `TL-X" onclick="alert(4)`
	e.Findings[1].Docs = "javascript:alert(5)"
	e.Findings[1].Remediation = "</style><style>body{display:none}</style>"
	e.Findings[1].Evidence["sample"] = []any{map[string]any{"name": tag, "absoluteurl": "javascript:alert(6)"}}
	r := newReport(e)
	r.SignInErrors = []finding.SignInError{{Tenant: e.Tenant, TenantName: tag, Method: "client-secret", Error: end, Fix: tag, Docs: "javascript:alert(7)"}}
	r.Waivers = []finding.WaiverNotice{{Problem: finding.WaiverUnmatched, Rule: tag, Reason: end, Owner: attr, Message: tag}}
	page := render(t, "html", r, fixedOptions(false))
	out := string(page)

	doc := parseHTML(t, page)
	if n := len(elements(doc, "script")); n != 1 {
		t.Errorf("the page has %d <script> elements; want only its own", n)
	}
	if n := len(elements(doc, "style")); n != 1 {
		t.Errorf("the page has %d <style> elements; want only its own", n)
	}
	if n := len(elements(doc, "img")); n != 0 {
		t.Errorf("the page has %d <img> elements; want none", n)
	}
	for d := range doc.Descendants() {
		if d.Type != html.ElementNode {
			continue
		}
		for _, a := range d.Attr {
			if strings.HasPrefix(a.Key, "on") {
				t.Errorf("<%s> has the event handler %s=%q", d.Data, a.Key, a.Val)
			}
			if a.Key == "href" && strings.HasPrefix(strings.ToLower(a.Val), "javascript:") {
				t.Errorf("<%s href=%q>", d.Data, a.Val)
			}
			if a.Key == "data-x" {
				t.Errorf("report data made the attribute data-x")
			}
		}
	}
	for _, want := range []string{"&lt;script&gt;alert(1)&lt;/script&gt;", "javascript:alert(5)"} {
		if !strings.Contains(out, want) {
			t.Errorf("the page lacks the escaped text %q", want)
		}
	}
	for _, bad := range []string{"\x1b", "\u202e"} {
		if strings.Contains(out, bad) {
			t.Errorf("the page carries %q from the report", bad)
		}
	}
}

// TestHTMLNeverAFalsePass checks that what could not be assessed never
// looks like a pass: an error finding has the error class, an unknown
// status or readiness looks like an error or UNKNOWN, and no colour of a
// state or status that is not good is a colour of one that is.
func TestHTMLNeverAFalsePass(t *testing.T) {
	t.Parallel()
	t.Run("findings", func(t *testing.T) {
		t.Parallel()
		e := unknownEnv()
		odd := e.Findings[0]
		odd.Status, odd.Rule = "maybe", "TL-ODD-001"
		e.Findings = append(e.Findings, odd)
		r := newReport(e)
		byRule := map[string]finding.Status{}
		for _, f := range e.Findings {
			byRule[f.Rule+"/"+f.Table] = f.Status
		}
		doc := parseHTML(t, render(t, "html", r, fixedOptions(false)))
		rows := 0
		for _, tr := range elements(doc, "tr") {
			if !hasClass(tr, "finding") {
				continue
			}
			rows++
			badge := elements(tr, "span")[0]
			isError := strings.EqualFold(text(badge), "error")
			isOdd := strings.EqualFold(text(badge), "maybe")
			for _, n := range []*html.Node{tr, badge} {
				if hasClass(n, "status-pass") && (isError || isOdd) {
					t.Errorf("a %s finding has the pass class", text(badge))
				}
				if (isError || isOdd) && !hasClass(n, "status-error") {
					t.Errorf("a %s finding lacks the error class: %v", text(badge), n.Attr)
				}
			}
		}
		if rows != len(e.Findings) {
			t.Errorf("%d finding rows; want %d", rows, len(e.Findings))
		}
	})
	t.Run("readiness", func(t *testing.T) {
		t.Parallel()
		for _, tt := range []struct {
			readiness finding.Readiness
			want      string
		}{
			{finding.Unknown, "state-unknown"},
			{finding.Readiness("PROBABLY_FINE"), "state-unknown"},
			{finding.Blocked, "state-blocked"},
			{finding.Broken, "state-broken"},
			{finding.Ready, "state-ready"},
			{finding.Enabled, "state-enabled"},
			{finding.NotAssessed, "state-not-assessed"},
		} {
			if got := state(finding.ExperienceBasic, tt.readiness).Class; got != tt.want {
				t.Errorf("state(%s).Class = %s; want %s", tt.readiness, got, tt.want)
			}
		}
	})
	t.Run("unknown cells", func(t *testing.T) {
		t.Parallel()
		for _, fx := range fixtures() {
			doc := parseHTML(t, render(t, "html", fx.report, fixedOptions(false)))
			for _, td := range elements(doc, "td") {
				if !hasClass(td, "state") {
					continue
				}
				word := strings.TrimSpace(text(td))
				good := hasClass(td, "state-enabled") || hasClass(td, "state-ready")
				if good != (word == "ENABLED" || word == "READY") {
					t.Errorf("%s: the cell %q has the classes %v", fx.name, word, td.Attr)
				}
			}
		}
	})
	t.Run("palette", func(t *testing.T) {
		t.Parallel()
		good := map[string]bool{"state-enabled": true, "state-ready": true, "status-pass": true}
		goodColours := map[string]string{}
		for _, s := range htmlPalette {
			if good[s.name] {
				goodColours[strings.ToLower(s.bg)] = s.name
			}
		}
		for _, s := range htmlPalette {
			if good[s.name] || !(strings.HasPrefix(s.name, "state-") || strings.HasPrefix(s.name, "status-")) {
				continue
			}
			if name, ok := goodColours[strings.ToLower(s.bg)]; ok {
				t.Errorf("%s has the background of %s (%s)", s.name, name, s.bg)
			}
		}
	})
}

// relativeLuminance is the WCAG 2 relative luminance of an sRGB colour.
func relativeLuminance(t *testing.T, hex string) float64 {
	t.Helper()
	r, g, b, err := parseHex(hex)
	if err != nil {
		t.Fatal(err)
	}
	lin := func(c uint8) float64 {
		v := float64(c) / 255
		if v <= 0.04045 {
			return v / 12.92
		}
		return math.Pow((v+0.055)/1.055, 2.4)
	}
	return 0.2126*lin(r) + 0.7152*lin(g) + 0.0722*lin(b)
}

// contrastRatio is the WCAG 2 contrast ratio of two colours, 1 to 21.
func contrastRatio(t *testing.T, a, b string) float64 {
	t.Helper()
	la, lb := relativeLuminance(t, a), relativeLuminance(t, b)
	if la < lb {
		la, lb = lb, la
	}
	return (la + 0.05) / (lb + 0.05)
}

func TestHTMLPaletteContrast(t *testing.T) {
	t.Parallel()
	// The formula itself, on the pairs WCAG's examples use.
	for _, tt := range []struct {
		a, b string
		want float64
	}{
		{"#000000", "#ffffff", 21},
		{"#ffffff", "#ffffff", 1},
		{"#767676", "#ffffff", 4.54},
	} {
		if got := contrastRatio(t, tt.a, tt.b); math.Abs(got-tt.want) > 0.01 {
			t.Errorf("contrast(%s, %s) = %.2f; want %.2f", tt.a, tt.b, got, tt.want)
		}
	}
	for _, s := range htmlPalette {
		t.Run(s.name, func(t *testing.T) {
			t.Parallel()
			if got := contrastRatio(t, s.fg, s.bg); got < 4.5 {
				t.Errorf("%s: %s on %s has contrast %.2f:1; WCAG AA needs 4.5:1", s.name, s.fg, s.bg, got)
			}
		})
	}
}

// TestHTMLStylesheetNamesThePalette checks that every colour the
// stylesheet refers to is declared by the palette, and that every state
// and status the page can show has its pair.
func TestHTMLStylesheetNamesThePalette(t *testing.T) {
	t.Parallel()
	declared := map[string]bool{}
	for _, s := range htmlPalette {
		declared["--"+s.name+"-fg"], declared["--"+s.name+"-bg"] = true, true
	}
	for _, m := range regexp.MustCompile(`var\((--[a-z-]+)\)`).FindAllStringSubmatch(htmlStyle, -1) {
		if !declared[m[1]] {
			t.Errorf("the stylesheet uses %s, which the palette does not declare", m[1])
		}
	}
	for _, st := range finding.Statuses {
		if !declared["--status-"+string(st)+"-bg"] {
			t.Errorf("no palette pair for status %s", st)
		}
	}
	for _, r := range finding.Readinesses {
		name := "--" + state(finding.ExperienceBasic, r).Class + "-bg"
		if !declared[name] {
			t.Errorf("no palette pair %s for readiness %s", name, r)
		}
	}
}

// TestHTMLMatrix checks the accessible shape of the readiness matrix: a
// caption, column and row headers, the state word in every state cell, and
// the tenant's rows grouped under it.
func TestHTMLMatrix(t *testing.T) {
	t.Parallel()
	doc := parseHTML(t, render(t, "html", fleetReport(), fixedOptions(false)))
	var matrix *html.Node
	for _, tbl := range elements(doc, "table") {
		if hasClass(tbl, "matrix") {
			matrix = tbl
		}
	}
	if matrix == nil {
		t.Fatal("no readiness matrix")
	}
	if len(elements(matrix, "caption")) != 1 {
		t.Error("the matrix has no caption")
	}
	for _, th := range elements(matrix, "th") {
		if _, ok := attr(th, "scope"); !ok {
			t.Errorf("the header %q has no scope", text(th))
		}
	}
	var tenants, rows []string
	for _, tr := range elements(matrix, "tr") {
		switch {
		case hasClass(tr, "tenant-row"):
			tenants = append(tenants, strings.Fields(text(tr))[0])
		case hasClass(tr, "env"):
			ths := elements(tr, "th")
			if len(ths) != 1 {
				t.Fatalf("a matrix row has %d row headers", len(ths))
			}
			rows = append(rows, strings.TrimSpace(text(elements(ths[0], "a")[0])))
			for _, td := range elements(tr, "td") {
				if !hasClass(td, "state") {
					continue
				}
				if w := strings.TrimSpace(text(td)); !slices.Contains([]string{"ENABLED", "READY", "BLOCKED", "BROKEN", "UNKNOWN", "not assessed"}, w) {
					t.Errorf("a state cell reads %q", w)
				}
			}
		}
	}
	if want := []string{"Contoso", "Fabrikam"}; !slices.Equal(tenants, want) {
		t.Errorf("tenant groups = %v; want %v", tenants, want)
	}
	want := []string{"Contoso Sales", "Contoso Dev", "Contoso Production", "Contoso EMEA", "Fabrikam Production", "https://fabrikam-test.crm4.dynamics.com"}
	if !slices.Equal(rows, want) {
		t.Errorf("matrix rows = %v; want %v", rows, want)
	}
}

// TestHTMLShowsWhatTheTableShows checks that the page carries the parts of
// the report an admin and an auditor read: sign-in errors, waiver notices,
// a waived finding's reason and owner, evidence, remediation, the docs link
// and the header's times.
func TestHTMLShowsWhatTheTableShows(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		report *finding.Report
		want   []string
	}{
		{name: "fleet", report: fleetReport(), want: []string{
			"Waivers that did not apply (2)", "expired", "unmatched", "sec@contoso.example", "tenants.yaml:44",
			"Waived: A Global Administrator enables Enhanced in the change window (owner it-ops@fabrikam.example, until 2026-12-31, tenants.yaml:31); was fail",
			"sample: 7 records", "… and 2 more", "deactivate-sites — Deactivate the active SharePoint site records.",
			`<a href="https://learn.microsoft.com/dynamics365/teams-integration/teams-troubleshoot" rel="noreferrer">`,
			`<time datetime="2026-11-02T09:20:00Z">`, "(2h old)", "teamslink 0.1.0", "declared at tenants.yaml:14",
			"Internal error: the policy broke the engine's contract.",
			"GET https://graph.microsoft.com/v1.0/subscribedSkus → HTTP 403",
		}},
		{name: "signin", report: signInReport(), want: []string{
			"Sign-in failed: nothing of this tenant could be read", "client-secret credential, client id 5d2f8a61-3c4e-4b7a-9e1d-8f6a2c4b7e93",
			"AADSTS7000215", "every rule: sign-in failed", "sign-in failed</span>",
		}},
		{name: "empty", report: newReport(), want: []string{"No environments were assessed.", "0 environments"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			out := string(render(t, "html", tt.report, fixedOptions(false)))
			for _, w := range tt.want {
				if !strings.Contains(out, w) {
					t.Errorf("the page lacks %q", w)
				}
			}
		})
	}
}
