package securitydoc

import (
	"bytes"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/teamslink/teamslink/internal/cli"
	"github.com/teamslink/teamslink/internal/permissions"
	"github.com/teamslink/teamslink/internal/serve"
)

// envelopes are the scan-mode requests that are POSTs without writing:
// the sign-in, and the $batch envelopes whose parts are the table's GETs
// (internal/permissions TestTableCoversTheCollectors matches every part of
// every batch a scan sends against the table).
var envelopes = []string{"login.token", "graph.batch", "dataverse.batch"}

// TestScanModeOnlyReads holds "no writes without a plan" at the table:
// every request that scan, collect, serve and permissions check make is a
// GET (or a POST above), and no Microsoft Graph permission they ask for
// grants writing. Together with TestTableCoversTheCollectors — every
// request of a scan over the emulator matches a scan row — this says a
// scan cannot change a tenant.
func TestScanModeOnlyReads(t *testing.T) {
	t.Parallel()
	rows := 0
	for _, r := range permissions.ForMode(permissions.ModeScan) {
		rows++
		if r.Method != "GET" && !(r.Method == "POST" && slices.Contains(envelopes, r.ID)) {
			t.Errorf("scan row %s is %s %s: a scan only reads", r.ID, r.Method, r.Path)
		}
		for _, g := range slices.Concat(r.Application, r.Delegated) {
			if !readOnly(g.Name) {
				t.Errorf("scan row %s asks for the Graph permission %s, which is not read-only", r.ID, g.Name)
			}
		}
	}
	if rows < 20 {
		t.Fatalf("only %d scan rows", rows)
	}
	for _, r := range permissions.ForMode(permissions.ModeRemediate) {
		if r.In(permissions.ModeScan) && r.Method != "GET" && !slices.Contains(envelopes, r.ID) {
			t.Errorf("write %s is in scan mode too", r.ID)
		}
	}
}

// readOnly tells a read-only Graph permission by its segments:
// Organization.Read.All, RoleManagement.Read.Directory, User.Read — not
// Group.ReadWrite.All, Sites.FullControl.All or Sites.Manage.All.
func readOnly(name string) bool {
	segs := strings.Split(name, ".")
	return len(segs) >= 2 && segs[1] == "Read"
}

// TestServeListensOnLoopbackByDefault: serve's endpoints are reachable
// from other machines only when --web.listen-address says so.
func TestServeListensOnLoopbackByDefault(t *testing.T) {
	t.Parallel()
	check := func(what, addr string) {
		host, _, err := net.SplitHostPort(addr)
		if err != nil {
			t.Fatalf("%s %q: %v", what, addr, err)
		}
		if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
			t.Errorf("%s is %q, which is not a loopback address", what, addr)
		}
	}
	check("serve.DefaultListenAddress", serve.DefaultListenAddress)
	var out bytes.Buffer
	root := cli.NewRootCommand(cli.Deps{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &out, Version: "test", Now: func() time.Time { return time.Time{} }})
	cmd, _, err := root.Find([]string{"serve"})
	if err != nil || cmd.Name() != "serve" {
		t.Fatalf("no serve command: %v", err)
	}
	f := cmd.Flags().Lookup("web.listen-address")
	if f == nil {
		t.Fatal("serve has no --web.listen-address")
	}
	defaults := strings.Split(strings.Trim(f.DefValue, "[]"), ",")
	if len(defaults) == 0 || defaults[0] == "" {
		t.Fatalf("--web.listen-address default %q", f.DefValue)
	}
	for _, d := range defaults {
		check("the --web.listen-address default", d)
	}
}
