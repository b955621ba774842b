package report

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// browserNames are the programs the browser test looks for, in order.
var browserNames = []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"}

// browserTimeout bounds the whole browser test: generous, since two CPUs
// shared by several test processes make Chromium slow to start.
const browserTimeout = 90 * time.Second

// findBrowser returns the path of a Chromium. Without one the test fails,
// never skips: the Makefile installs it.
func findBrowser(t *testing.T) string {
	t.Helper()
	for _, name := range browserNames {
		if path, err := exec.LookPath(name); err == nil {
			return path
		}
	}
	t.Fatalf("no Chromium found (looked for %s): the html report is tested in a real browser; run `make test-deps` to install it",
		strings.Join(browserNames, ", "))
	return ""
}

// newBrowser starts a headless Chromium for the test and stops it when the
// test ends. Each context made from the returned one is a tab of it.
func newBrowser(t *testing.T) context.Context {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(findBrowser(t)),
		chromedp.DisableGPU,
		chromedp.WindowSize(1280, 1000),
	)
	if os.Geteuid() == 0 {
		// Chromium refuses to run as root with its sandbox (containers, CI).
		opts = append(opts, chromedp.NoSandbox)
	}
	ctx, cancelTimeout := context.WithTimeout(t.Context(), browserTimeout)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	browser, cancelBrowser := chromedp.NewContext(allocCtx)
	t.Cleanup(func() {
		// Cancel closes the browser and waits until its process is gone and
		// its temporary profile removed.
		if err := chromedp.Cancel(browser); err != nil && ctx.Err() == nil {
			t.Errorf("close Chromium: %v", err)
		}
		cancelBrowser()
		cancelAlloc()
		cancelTimeout()
	})
	// Start the browser now, so a missing library fails here, clearly.
	if err := chromedp.Do(browser); err != nil {
		t.Fatalf("start Chromium: %v", err)
	}
	return browser
}

// visit is what a tab saw while it showed one page.
type visit struct {
	ctx context.Context // the tab

	mu       sync.Mutex
	requests []string // every request the page made, by URL
	problems []string // console errors and warnings, exceptions, log entries
}

func (v *visit) requested() []string {
	v.mu.Lock()
	defer v.mu.Unlock()
	return append([]string(nil), v.requests...)
}

func (v *visit) complaints() []string {
	v.mu.Lock()
	defer v.mu.Unlock()
	return append([]string(nil), v.problems...)
}

// violationRecorder runs before the page's own script, outside its policy,
// and keeps every Content-Security-Policy violation the page reports.
const violationRecorder = `window.__violations = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__violations.push(e.effectiveDirective + " blocked " + (e.blockedURI || "inline") + " at line " + e.lineNumber);
}, true);`

// open shows pageURL in a new tab of browser, recording its requests and
// complaints from before the navigation; noScript turns the page's
// scripts off, as a reader's browser may.
func open(t *testing.T, browser context.Context, pageURL string, noScript bool) *visit {
	t.Helper()
	ctx, cancel := chromedp.NewContext(browser)
	t.Cleanup(cancel)
	v := &visit{ctx: ctx}
	err := chromedp.Listen(ctx, func(ev any) {
		v.mu.Lock()
		defer v.mu.Unlock()
		switch e := ev.(type) {
		case *network.EventRequestWillBeSent:
			v.requests = append(v.requests, e.Request.URL)
		case *runtime.EventConsoleAPICalled:
			switch e.Type {
			case runtime.ConsoleAPICalledTypeError, runtime.ConsoleAPICalledTypeWarning, runtime.ConsoleAPICalledTypeAssert:
				var args []string
				for _, a := range e.Args {
					args = append(args, strings.Trim(string(a.Value), `"`)+a.Description)
				}
				v.problems = append(v.problems, "console."+string(e.Type)+": "+strings.Join(args, " "))
			}
		case *runtime.EventExceptionThrown:
			v.problems = append(v.problems, "exception: "+e.ExceptionDetails.Text)
		case *log.EventEntryAdded:
			if e.Entry.Level == log.EntryLevelError || e.Entry.Level == log.EntryLevelWarning {
				v.problems = append(v.problems, "log "+string(e.Entry.Source)+" "+string(e.Entry.Level)+": "+e.Entry.Text)
			}
		}
	})
	if err != nil {
		t.Fatalf("listen to the tab: %v", err)
	}
	if noScript {
		if _, err := chromedp.Call(ctx, emulation.SetScriptExecutionDisabled,
			emulation.SetScriptExecutionDisabledParams{Value: true}); err != nil {
			t.Fatalf("turn scripts off: %v", err)
		}
	}
	if _, err := chromedp.Call(ctx, page.AddScriptToEvaluateOnNewDocument,
		page.AddScriptToEvaluateOnNewDocumentParams{Source: violationRecorder}); err != nil {
		t.Fatalf("add the violation recorder: %v", err)
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(pageURL)); err != nil {
		t.Fatalf("open %s: %v", pageURL, err)
	}
	return v
}

// eval evaluates a JavaScript expression in the visited page.
func eval[T any](t *testing.T, v *visit, expr string) T {
	t.Helper()
	got, err := chromedp.Run(v.ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		t.Fatalf("evaluate %s: %v", expr, err)
	}
	return got
}

// cellSeen is a matrix cell as a person sees it.
type cellSeen struct {
	Text       string `json:"text"`
	Background string `json:"background"`
	Color      string `json:"color"`
}

// matrixCell finds the matrix row whose header shows envName, the way a
// person reads the table, and returns its cell for the experience.
func matrixCell(t *testing.T, v *visit, envName, experience string) cellSeen {
	t.Helper()
	return eval[cellSeen](t, v, fmt.Sprintf(`(() => {
  const row = Array.from(document.querySelectorAll("table.matrix tr.env"))
    .find(r => r.querySelector("th").innerText.split("\n")[0].trim() === %q);
  const headers = Array.from(document.querySelectorAll("table.matrix thead th")).map(th => th.innerText.trim());
  const cell = row.children[headers.indexOf(%q)];
  const cs = getComputedStyle(cell);
  return {text: cell.innerText.trim(), background: cs.backgroundColor, color: cs.color};
})()`, envName, experience))
}

// shown reports how the element a selector finds is displayed: its
// computed display and visibility, and whether the browser renders it at
// all (checkVisibility: false inside a display:none ancestor or a closed
// details element).
func shown(t *testing.T, v *visit, selector string) string {
	t.Helper()
	return eval[string](t, v, fmt.Sprintf(`(() => {
  const el = document.querySelector(%q);
  if (!el) return "absent";
  const cs = getComputedStyle(el);
  const seen = el.checkVisibility({visibilityProperty: true, opacityProperty: true});
  return cs.display + "/" + cs.visibility + "/" + (seen ? "seen" : "unseen");
})()`, selector))
}

func isShown(s string) bool {
	return !strings.HasPrefix(s, "none/") && strings.Contains(s, "/visible/") && strings.HasSuffix(s, "/seen")
}

// media emulates a CSS media type ("print"), or stops ("").
func media(typ string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
		_, err := chromedp.Call(ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{Media: typ})
		return err
	})
}

// rgb is a palette colour as getComputedStyle writes it.
func rgb(t *testing.T, hex string) string {
	t.Helper()
	r, g, b, err := parseHex(hex)
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("rgb(%d, %d, %d)", r, g, b)
}

func parseHex(hex string) (r, g, b uint8, err error) {
	h := strings.TrimPrefix(hex, "#")
	if len(h) != 6 {
		return 0, 0, 0, fmt.Errorf("colour %q is not #rrggbb", hex)
	}
	v, err := strconv.ParseUint(h, 16, 32)
	if err != nil {
		return 0, 0, 0, fmt.Errorf("colour %q: %w", hex, err)
	}
	return uint8(v >> 16), uint8(v >> 8), uint8(v), nil
}

func swatchOf(t *testing.T, name string) swatch {
	t.Helper()
	for _, s := range htmlPalette {
		if s.name == name {
			return s
		}
	}
	t.Fatalf("no swatch %q in htmlPalette", name)
	return swatch{}
}

// artifactDir is where the browser test keeps its screenshot:
// $TEAMSLINK_TEST_ARTIFACTS, else bin/test-artifacts at the module root.
func artifactDir(t *testing.T) string {
	t.Helper()
	if dir := os.Getenv("TEAMSLINK_TEST_ARTIFACTS"); dir != "" {
		return dir
	}
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return filepath.Join(dir, "bin", "test-artifacts")
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test's directory")
		}
		dir = parent
	}
}

// TestHTMLInChromium opens the fleet report in headless Chromium, from a
// file and served over loopback HTTP, and checks what a person sees: the
// state word and colour of a BLOCKED cell, that a state filter hides a
// row that does not match, what a printed page shows, that the page asked
// for nothing but itself and logged no error or policy violation. With
// scripts off, it shows everything and no filters. It keeps a screenshot
// of the matrix.
func TestHTMLInChromium(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	file := filepath.Join(dir, "fleet.html")
	if err := os.WriteFile(file, render(t, "html", fleetReport(), fixedOptions(false)), 0o644); err != nil {
		t.Fatal(err)
	}

	// The server answers the report under a path prefix; anything else it
	// is asked for is a request the page should not have made.
	var hitsMu sync.Mutex
	var hits []string
	mux := http.NewServeMux()
	mux.HandleFunc("/reports/fleet.html", func(w http.ResponseWriter, r *http.Request) {
		http.ServeFile(w, r, file)
	})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hitsMu.Lock()
		hits = append(hits, r.URL.Path)
		hitsMu.Unlock()
		mux.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)

	browser := newBrowser(t)
	fileURL := (&url.URL{Scheme: "file", Path: filepath.ToSlash(file)}).String()
	tests := []struct {
		name       string
		url        string
		noScript   bool
		screenshot bool
	}{
		{name: "file", url: fileURL, screenshot: true},
		{name: "served", url: srv.URL + "/reports/fleet.html"},
		{name: "no script", url: fileURL, noScript: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			v := open(t, browser, tt.url, tt.noScript)
			ran := eval[string](t, v, `document.documentElement.getAttribute("data-filters") || "not run"`)
			switch {
			case tt.noScript:
				if ran != "not run" {
					t.Fatalf("scripts are off, yet the page's script ran")
				}
				checkWithoutScript(t, v)
			case ran != "ready":
				t.Fatalf("the page's script did not run (data-filters = %q): %v", ran, v.complaints())
			}
			checkMatrixCells(t, v)
			if !tt.noScript {
				checkFilters(t, v)
			}
			if tt.screenshot {
				screenshotMatrix(t, v)
			}
			checkQuiet(t, v, tt.url)
			if tt.name == "served" {
				hitsMu.Lock()
				got := append([]string(nil), hits...)
				hitsMu.Unlock()
				if len(got) != 1 || got[0] != "/reports/fleet.html" {
					t.Errorf("the server was asked for %v; want only /reports/fleet.html", got)
				}
			}
		})
	}
}

// The fleet report's matrix rows and sections the checks look at.
const (
	readyRow     = `table.matrix tr.env[data-env="env-1"]` // Contoso Sales, READY
	blockedRow   = `table.matrix tr.env[data-env="env-5"]` // Fabrikam Production, BLOCKED
	readySection = `section.environment#env-1`
	passingRow   = `section#env-5 tr.finding.status-pass`
	failingRow   = `section#env-5 tr.finding.status-fail`
	foldedPass   = `section#env-1 details.evidence:not([open]) pre` // a pass's evidence
)

// checkMatrixCells checks the state word and colours of matrix cells.
func checkMatrixCells(t *testing.T, v *visit) {
	t.Helper()
	// A BLOCKED environment: the word, and the colour of the palette.
	blocked := swatchOf(t, "state-blocked")
	cell := matrixCell(t, v, "Fabrikam Production", "Basic")
	if cell.Text != "BLOCKED" {
		t.Errorf("Fabrikam Production's Basic cell reads %q; want BLOCKED", cell.Text)
	}
	if want := rgb(t, blocked.bg); cell.Background != want {
		t.Errorf("BLOCKED cell background = %s; want %s (%s)", cell.Background, want, blocked.bg)
	}
	if want := rgb(t, blocked.fg); cell.Color != want {
		t.Errorf("BLOCKED cell text colour = %s; want %s (%s)", cell.Color, want, blocked.fg)
	}
	// Never a false pass: an environment that could not be read
	// shows UNKNOWN, in no colour that a passing cell has.
	unknown := matrixCell(t, v, "https://fabrikam-test.crm4.dynamics.com", "Basic")
	if unknown.Text != "UNKNOWN" {
		t.Errorf("the unreadable environment's Basic cell reads %q; want UNKNOWN", unknown.Text)
	}
	for _, good := range []string{"state-enabled", "state-ready", "status-pass"} {
		if unknown.Background == rgb(t, swatchOf(t, good).bg) {
			t.Errorf("the UNKNOWN cell has the background of %s (%s)", good, unknown.Background)
		}
	}
}

// checkWithoutScript checks the page with scripts off: no filters that
// could not work, and every environment shown.
func checkWithoutScript(t *testing.T, v *visit) {
	t.Helper()
	if s := shown(t, v, "#filters"); isShown(s) {
		t.Errorf("with scripts off, the filters are shown (%s)", s)
	}
	for _, sel := range []string{readyRow, blockedRow, readySection, passingRow} {
		if s := shown(t, v, sel); !isShown(s) {
			t.Errorf("with scripts off, %s is hidden (%s)", sel, s)
		}
	}
}

// checkFilters chooses filters as a person would and checks what they
// hide, what a printed page shows, and that reset shows everything again.
func checkFilters(t *testing.T, v *visit) {
	t.Helper()
	// Choosing a state filter hides the rows that do not match.
	for _, sel := range []string{readyRow, blockedRow, readySection} {
		if s := shown(t, v, sel); !isShown(s) {
			t.Fatalf("before filtering, %s is not shown (%s)", sel, s)
		}
	}
	if err := chromedp.Do(v.ctx,
		chromedp.SetValue(chromedp.CSS("#filter-state"), "BLOCKED"),
		chromedp.Evaluate[chromedp.Void](`document.getElementById("filter-state").dispatchEvent(new Event("change", {bubbles: true}))`),
	); err != nil {
		t.Fatalf("choose the state filter: %v", err)
	}
	if s := shown(t, v, readyRow); isShown(s) || !strings.HasPrefix(s, "none/") {
		t.Errorf("with the BLOCKED filter, the READY row is still shown (%s)", s)
	}
	if s := shown(t, v, readySection); isShown(s) {
		t.Errorf("with the BLOCKED filter, the READY environment's findings are still shown (%s)", s)
	}
	if s := shown(t, v, blockedRow); !isShown(s) {
		t.Errorf("with the BLOCKED filter, the BLOCKED row is hidden (%s)", s)
	}
	if got, err := chromedp.Run(v.ctx, chromedp.Text(chromedp.CSS("#filter-count"))); err != nil || got != "Showing 1 of 6 environments" {
		t.Errorf("filter count reads %q (%v); want %q", got, err, "Showing 1 of 6 environments")
	}

	// The attention box, clicked as a person would, hides passing findings.
	if err := chromedp.Do(v.ctx, chromedp.Click(chromedp.CSS("#filter-attention"))); err != nil {
		t.Fatalf("click the attention box: %v", err)
	}
	if s := shown(t, v, passingRow); isShown(s) {
		t.Errorf("with only findings that need attention, a passing finding is shown (%s)", s)
	}
	if s := shown(t, v, failingRow); !isShown(s) {
		t.Errorf("with only findings that need attention, a failing finding is hidden (%s)", s)
	}

	// Printed, the page has no filters and shows everything: the rows
	// filtered out on screen, and evidence folded on screen.
	if s := shown(t, v, foldedPass); isShown(s) {
		t.Errorf("on screen, the folded evidence of a pass is shown (%s)", s)
	}
	if err := chromedp.Do(v.ctx, media("print")); err != nil {
		t.Fatalf("emulate print: %v", err)
	}
	if s := shown(t, v, "#filters"); !strings.HasPrefix(s, "none/") {
		t.Errorf("printed, the filters are shown (%s)", s)
	}
	for _, sel := range []string{readyRow, readySection, passingRow, foldedPass} {
		if s := shown(t, v, sel); !isShown(s) {
			t.Errorf("printed, %s is hidden (%s)", sel, s)
		}
	}
	if err := chromedp.Do(v.ctx, media("")); err != nil {
		t.Fatalf("stop emulating print: %v", err)
	}

	// "Show everything" brings every row back.
	if err := chromedp.Do(v.ctx, chromedp.Click(chromedp.CSS(`#filters button[type="reset"]`))); err != nil {
		t.Fatalf("click reset: %v", err)
	}
	if err := chromedp.Do(v.ctx, chromedp.Poll[chromedp.Void](
		`document.getElementById("filter-count").textContent === "All 6 environments"`,
		chromedp.WithPollingTimeout(10*time.Second))); err != nil {
		t.Fatalf("after reset, the filters did not show everything: %v", err)
	}
	for _, sel := range []string{readyRow, readySection, passingRow} {
		if s := shown(t, v, sel); !isShown(s) {
			t.Errorf("after reset, %s is still hidden (%s)", sel, s)
		}
	}
}

// screenshotMatrix keeps a PNG of the readiness matrix as a test artifact.
func screenshotMatrix(t *testing.T, v *visit) {
	t.Helper()
	png, err := chromedp.Run(v.ctx, chromedp.Screenshot(chromedp.CSS("#matrix")))
	if err != nil {
		t.Fatalf("screenshot the matrix: %v", err)
	}
	if !bytes.HasPrefix(png, []byte("\x89PNG")) {
		t.Fatalf("the screenshot is not a PNG")
	}
	out := artifactDir(t)
	if err := os.MkdirAll(out, 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(out, "html-report.png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot of the readiness matrix: %s", path)
}

// checkQuiet checks that the page asked for nothing but itself, and
// complained of nothing.
func checkQuiet(t *testing.T, v *visit, pageURL string) {
	t.Helper()
	for _, u := range v.requested() {
		if u != pageURL {
			t.Errorf("the page made a request for %s; it must load nothing but itself", u)
		}
	}
	if n := len(v.requested()); n != 1 {
		t.Errorf("the tab made %d requests (%v); want exactly the page", n, v.requested())
	}
	if vs := eval[[]string](t, v, `window.__violations`); len(vs) > 0 {
		t.Errorf("Content-Security-Policy violations: %v", vs)
	}
	if c := v.complaints(); len(c) > 0 {
		t.Errorf("console errors or warnings: %v", c)
	}
}
