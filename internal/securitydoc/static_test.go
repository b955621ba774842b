package securitydoc

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// excluded are the directories whose code is not teamslink's: the cloud
// emulator is a test double that serves TLS with its own CA.
var excluded = []string{"internal/emulator"}

// sourceFile is one parsed non-test Go file of the repository.
type sourceFile struct {
	dir  string // relative to the repository root, slash-separated
	name string
	fset *token.FileSet
	file *ast.File
}

// sources parses every non-test .go file of the repository outside the
// excluded directories (and testdata, hidden directories).
func sources(t *testing.T) []sourceFile {
	t.Helper()
	var out []sourceFile
	err := filepath.WalkDir(repoRoot, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(repoRoot, path)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			if rel != "." && (strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata" || slices.Contains(excluded, rel)) {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(rel, ".go") || strings.HasSuffix(rel, "_test.go") {
			return nil
		}
		fset := token.NewFileSet()
		f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		out = append(out, sourceFile{dir: filepath.ToSlash(filepath.Dir(rel)), name: rel, fset: fset, file: f})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(out) < 100 {
		t.Fatalf("found only %d Go files under %s", len(out), repoRoot)
	}
	return out
}

// insecureTLS returns where f turns TLS certificate verification off:
// InsecureSkipVerify set, in a literal or by assignment, to anything but
// the constant false.
func insecureTLS(fset *token.FileSet, f *ast.File) []string {
	var out []string
	isFalse := func(e ast.Expr) bool {
		id, ok := e.(*ast.Ident)
		return ok && id.Name == "false"
	}
	ast.Inspect(f, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.KeyValueExpr:
			if k, ok := n.Key.(*ast.Ident); ok && k.Name == "InsecureSkipVerify" && !isFalse(n.Value) {
				out = append(out, fset.Position(n.Pos()).String())
			}
		case *ast.AssignStmt:
			for i, lhs := range n.Lhs {
				if sel, ok := lhs.(*ast.SelectorExpr); ok && sel.Sel.Name == "InsecureSkipVerify" {
					if len(n.Rhs) != len(n.Lhs) || !isFalse(n.Rhs[i]) {
						out = append(out, fset.Position(n.Pos()).String())
					}
				}
			}
		}
		return true
	})
	return out
}

// TestNoDisabledTLSVerification fails when any of teamslink's own code
// (every non-test Go file outside internal/emulator) sets
// InsecureSkipVerify to anything but false.
func TestNoDisabledTLSVerification(t *testing.T) {
	t.Parallel()
	for _, s := range sources(t) {
		for _, at := range insecureTLS(s.fset, s.file) {
			t.Errorf("%s: InsecureSkipVerify is set: teamslink never turns certificate verification off (docs/security.md)", at)
		}
	}
}

// networkUse is one way a file makes outbound connections: an HTTP client
// or transport built, the default ones used, or a dial.
type networkUse struct {
	what string // e.g. "http.Client", "http.DefaultTransport", "net.Dial"
	at   string
}

// outbound lists what in the net, net/http and crypto/tls packages makes
// or holds outbound connections, by import path and name.
var outbound = map[string][]string{
	"net/http":   {"Client", "Transport", "DefaultClient", "DefaultTransport", "Get", "Head", "Post", "PostForm"},
	"net":        {"Dialer", "Dial", "DialTimeout", "DialTCP", "DialUDP", "DialIP", "DialUnix"},
	"crypto/tls": {"Dial", "DialWithDialer", "Dialer"},
}

// networkUses finds the uses of outbound in f, through whatever names the
// file imports those packages under.
func networkUses(fset *token.FileSet, f *ast.File) []networkUse {
	names := map[string]string{} // local name → import path
	for _, imp := range f.Imports {
		path, err := strconv.Unquote(imp.Path.Value)
		if err != nil || outbound[path] == nil {
			continue
		}
		name := path[strings.LastIndex(path, "/")+1:]
		if imp.Name != nil {
			name = imp.Name.Name
		}
		names[name] = path
	}
	var out []networkUse
	// match names the outbound thing sel is, if any.
	match := func(e ast.Expr) (string, bool) {
		sel, ok := e.(*ast.SelectorExpr)
		if !ok {
			return "", false
		}
		x, ok := sel.X.(*ast.Ident)
		if !ok {
			return "", false
		}
		path, ok := names[x.Name]
		if !ok || !slices.Contains(outbound[path], sel.Sel.Name) {
			return "", false
		}
		return path[strings.LastIndex(path, "/")+1:] + "." + sel.Sel.Name, true
	}
	record := func(what string, at token.Pos) {
		out = append(out, networkUse{what: what, at: fset.Position(at).String()})
	}
	ast.Inspect(f, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.CompositeLit: // a value of a type made: http.Client{…}
			if what, ok := match(n.Type); ok {
				record(what, n.Pos())
			}
		case *ast.CallExpr: // new(http.Transport)
			if id, ok := n.Fun.(*ast.Ident); ok && id.Name == "new" && len(n.Args) == 1 {
				if what, ok := match(n.Args[0]); ok {
					record(what, n.Pos())
				}
			}
		case *ast.SelectorExpr: // a function or a default value; a type named is not a use
			if what, ok := match(n); ok && !isType(what) {
				record(what, n.Pos())
			}
		}
		return true
	})
	return out
}

// isType tells the outbound names that are types.
func isType(what string) bool {
	return slices.Contains([]string{"http.Client", "http.Transport", "net.Dialer", "tls.Dialer"}, what)
}

// allowedNetwork are the packages meant to open outbound connections, and
// what each may use. internal/auth builds the one transport every request
// to Microsoft goes through (TLS 1.2+, verified, the configured CA file
// and connect-to); the others wrap a client they are given and fall back
// to the standard library's default only when given none; internal/scan
// pushes to the --push-gateway URL.
var allowedNetwork = map[string][]string{
	"internal/auth":    {"http.Client", "http.Transport", "net.Dialer", "http.DefaultTransport"},
	"internal/odata":   {"http.Client"},
	"internal/metrics": {"http.DefaultTransport"},
	"internal/scan":    {"http.Client"},
}

// TestOnlyTransportPackagesMakeClients holds "no network but the
// configured endpoints, no telemetry" at the source: no package but those
// of allowedNetwork builds an HTTP client or transport, uses the default
// ones, or dials, and those only what they are allowed.
func TestOnlyTransportPackagesMakeClients(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for _, s := range sources(t) {
		for _, u := range networkUses(s.fset, s.file) {
			seen[s.dir+" "+u.what] = true
			if !slices.Contains(allowedNetwork[s.dir], u.what) {
				t.Errorf("%s: %s in %s, which is not a package meant to open connections (docs/security.md, internal/securitydoc allowedNetwork)", u.at, u.what, s.dir)
			}
		}
	}
	// An allowance nothing uses any more is dropped, so the list stays the
	// truth.
	for dir, whats := range allowedNetwork {
		for _, w := range whats {
			if !seen[dir+" "+w] {
				t.Errorf("allowedNetwork lets %s use %s, which it no longer does: remove it", dir, w)
			}
		}
	}
}

// TestNetworkChecks proves the two source checks catch what they are for.
func TestNetworkChecks(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, src string
		tls       int
		uses      []string
	}{
		{name: "clean", src: "package p\nimport \"crypto/tls\"\nvar c = &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: false}\n"},
		{name: "literal true", src: "package p\nimport \"crypto/tls\"\nvar c = &tls.Config{InsecureSkipVerify: true}\n", tls: 1},
		{name: "from a variable", src: "package p\nimport \"crypto/tls\"\nvar skip = true\nvar c = tls.Config{InsecureSkipVerify: skip}\n", tls: 1},
		{name: "assigned", src: "package p\nimport \"net/http\"\nfunc f(t *http.Transport) { t.TLSClientConfig.InsecureSkipVerify = true }\n", tls: 1},
		{name: "assigned false", src: "package p\nimport \"net/http\"\nfunc f(t *http.Transport) { t.TLSClientConfig.InsecureSkipVerify = false }\n"},
		{name: "a client", src: "package p\nimport \"net/http\"\nvar c = &http.Client{}\n", uses: []string{"http.Client"}},
		{name: "a renamed import", src: "package p\nimport web \"net/http\"\nfunc f() { web.Get(\"https://example.invalid\") }\n", uses: []string{"http.Get"}},
		{name: "the default client", src: "package p\nimport \"net/http\"\nfunc f(r *http.Request) { http.DefaultClient.Do(r) }\n", uses: []string{"http.DefaultClient"}},
		{name: "a dial", src: "package p\nimport (\"net\"; \"crypto/tls\")\nfunc f() { net.Dial(\"tcp\", \"x:1\"); tls.Dial(\"tcp\", \"x:1\", nil) }\n", uses: []string{"net.Dial", "tls.Dial"}},
		{name: "new", src: "package p\nimport \"net/http\"\nvar tr = new(http.Transport)\n", uses: []string{"http.Transport"}},
		{name: "a type named is not a use", src: "package p\nimport \"net/http\"\ntype o struct{ c *http.Client }\nfunc f(rt http.RoundTripper) bool { _, ok := rt.(*http.Transport); return ok }\n"},
		{name: "a request is not a client", src: "package p\nimport \"net/http\"\nvar r, _ = http.NewRequest(\"GET\", \"/\", nil)\nvar h http.Handler\n"},
		{name: "another package's Client", src: "package p\nimport \"example.com/http\"\nvar c = http.Client{}\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			fset := token.NewFileSet()
			f, err := parser.ParseFile(fset, "p.go", tt.src, 0)
			if err != nil {
				t.Fatal(err)
			}
			if got := insecureTLS(fset, f); len(got) != tt.tls {
				t.Errorf("insecureTLS = %v, want %d", got, tt.tls)
			}
			var got []string
			for _, u := range networkUses(fset, f) {
				got = append(got, u.what)
			}
			if fmt.Sprint(got) != fmt.Sprint(tt.uses) {
				t.Errorf("networkUses = %v, want %v", got, tt.uses)
			}
		})
	}
}

// telemetry are import path prefixes of SDKs that send data somewhere:
// tracing and metrics exporters, error reporting, product analytics.
var telemetry = []string{
	"go.opentelemetry.io/otel/exporters/", "go.opentelemetry.io/otel/sdk", "go.opentelemetry.io/contrib/",
	"github.com/getsentry/", "github.com/DataDog/", "gopkg.in/DataDog/", "github.com/newrelic/",
	"github.com/bugsnag/", "github.com/rollbar/", "github.com/honeycombio/", "github.com/segmentio/analytics-go",
	"gopkg.in/segmentio/analytics-go", "github.com/posthog/", "github.com/mixpanel/", "github.com/rudderlabs/",
	"github.com/Azure/azure-sdk-for-go/sdk/monitor/", "github.com/microsoft/ApplicationInsights-Go",
}

// TestBinaryHasNoTelemetry lists every package linked into the teamslink
// binary and fails on any telemetry SDK: nothing in it could send usage
// or crash data anywhere.
func TestBinaryHasNoTelemetry(t *testing.T) {
	t.Parallel()
	cmd := exec.CommandContext(t.Context(), "go", "list", "-deps", "-f", "{{.ImportPath}}", "./cmd/teamslink")
	cmd.Dir = repoRoot
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list -deps ./cmd/teamslink: %v", err)
	}
	pkgs := strings.Fields(string(out))
	if len(pkgs) < 100 || !slices.Contains(pkgs, "github.com/teamslink/teamslink/internal/auth") {
		t.Fatalf("go list -deps gave %d packages, not the binary's", len(pkgs))
	}
	for _, p := range pkgs {
		for _, prefix := range telemetry {
			if strings.HasPrefix(p, prefix) {
				t.Errorf("the binary links %s, a telemetry SDK", p)
			}
		}
	}
}

func TestMain(m *testing.M) {
	// go list and the walk read the repository; nothing here needs more.
	os.Exit(m.Run())
}
