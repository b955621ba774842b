package redact_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/teamslink/teamslink/internal/engine"
	"github.com/teamslink/teamslink/internal/finding"
	"github.com/teamslink/teamslink/internal/redact"
	"github.com/teamslink/teamslink/internal/snapshot"
	"github.com/teamslink/teamslink/report"
)

var testKey = []byte("0123456789abcdef-test-key")

func fixedNow() time.Time { return time.Date(2026, 11, 2, 10, 0, 0, 0, time.UTC) }

func samples(t *testing.T) []string {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join("..", "..", "testdata", "snapshots", "*.json"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no sample snapshots: %v", err)
	}
	return paths
}

func newRedactor(t *testing.T) *redact.Redactor {
	t.Helper()
	r, err := redact.New(testKey)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// outcome is what must survive redaction: per environment, in order, the
// readiness of each experience and each finding's rule, table and status.
func outcome(rep *finding.Report) []string {
	var out []string
	for _, e := range rep.Environments {
		for _, v := range e.Verdicts {
			out = append(out, string(v.Experience)+"="+string(v.Readiness))
		}
		for _, f := range e.Findings {
			out = append(out, f.Rule+"/"+f.Table+"="+string(f.Status))
		}
	}
	for _, s := range rep.SignInErrors {
		out = append(out, "signin="+s.Method)
	}
	return out
}

// sensitive lists every string of a redactable kind in s: tenant ids and
// names, environment URLs, hosts and names, user principal names, site and
// document location names and URLs, record ids.
func sensitive(s *snapshot.Snapshot) []string {
	var out []string
	add := func(v ...string) {
		for _, x := range v {
			if x != "" {
				out = append(out, x)
			}
		}
	}
	host := func(raw string) {
		if i := strings.Index(raw, "://"); i >= 0 {
			h := raw[i+3:]
			if j := strings.IndexAny(h, "/?#"); j >= 0 {
				h = h[:j]
			}
			add(raw, h)
			// The customer label of the host, e.g. "fabrikam" of fabrikam.sharepoint.com.
			label, rest, _ := strings.Cut(h, ".")
			if strings.HasSuffix(rest, "sharepoint.com") || strings.HasSuffix(rest, "dynamics.com") {
				add(strings.TrimSuffix(strings.TrimSuffix(label, "-admin"), "-my"))
			}
		}
	}
	for _, t := range s.Tenants {
		add(t.ID, t.Name, t.Caller.UserPrincipalName, t.Caller.ObjectID)
		host(t.SharePoint.AdminURL)
		if sp := t.Consent.ServicePrincipal; sp != nil {
			add(sp.ID)
		}
	}
	for _, e := range s.Environments {
		add(e.ID, e.Name, e.Caller.UserID)
		host(e.URL)
		if r := e.Organization.Record; r != nil {
			add(r.OrganizationID)
		}
		sites := e.SharePointSites.Sample
		if d := e.SharePointSites.DefaultSite; d != nil {
			sites = append(sites, *d)
		}
		for _, site := range sites {
			add(site.ID, site.Name)
			host(site.AbsoluteURL)
		}
		for _, l := range e.DocumentLocations.Sample {
			add(l.ID, l.Name)
			host(l.AbsoluteURL)
		}
	}
	return out
}

func writeSnapshot(t *testing.T, s *snapshot.Snapshot) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := snapshot.Write(&buf, s); err != nil {
		t.Fatalf("write redacted snapshot: %v", err)
	}
	return buf.Bytes()
}

// renderAll renders rep in every report format.
func renderAll(t *testing.T, rep *finding.Report) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	for _, format := range report.Formats() {
		var buf bytes.Buffer
		w, err := report.New(format, &buf, report.Options{Now: fixedNow, SARIF: report.SARIFOptions{Anchor: "snapshot.json"}})
		if err != nil {
			t.Fatal(err)
		}
		if err := w.Write(t.Context(), rep); err != nil {
			t.Fatalf("render %s: %v", format, err)
		}
		out[format] = buf.Bytes()
	}
	return out
}

// TestSameVerdicts evaluates every sample snapshot and its redacted copy
// (written and read back, so it is a valid snapshot) and gets the same
// states and finding statuses; and no redactable string of the input is
// in the redacted snapshot or in any format of the redacted report.
func TestSameVerdicts(t *testing.T) {
	t.Parallel()
	eng, err := engine.New(t.Context(), engine.Config{})
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range samples(t) {
		t.Run(filepath.Base(path), func(t *testing.T) {
			t.Parallel()
			orig, err := snapshot.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			r := newRedactor(t)
			red, err := r.Snapshot(orig)
			if err != nil {
				t.Fatal(err)
			}
			data := writeSnapshot(t, red)
			back, err := snapshot.Read(bytes.NewReader(data))
			if err != nil {
				t.Fatalf("read redacted snapshot back: %v", err)
			}
			opts := engine.Options{Now: fixedNow, ToolVersion: "test"}
			want, err := eng.Evaluate(t.Context(), orig, opts)
			if err != nil {
				t.Fatal(err)
			}
			got, err := eng.Evaluate(t.Context(), back, opts)
			if err != nil {
				t.Fatal(err)
			}
			if w, g := outcome(want), outcome(got); strings.Join(w, "\n") != strings.Join(g, "\n") {
				t.Errorf("redacted snapshot evaluates differently:\n got %v\nwant %v", g, w)
			}
			// The report of the original, redacted with the same Redactor,
			// is what scan --redact writes.
			redRep, err := r.Report(want)
			if err != nil {
				t.Fatal(err)
			}
			if w, g := outcome(want), outcome(redRep); strings.Join(w, "\n") != strings.Join(g, "\n") {
				t.Errorf("redacted report changed outcomes:\n got %v\nwant %v", g, w)
			}
			outputs := renderAll(t, redRep)
			outputs["snapshot"] = data
			// The report of the redacted snapshot, redacted on its own (as
			// report render --redact would), too.
			again, err := newRedactor(t).Report(got)
			if err != nil {
				t.Fatal(err)
			}
			for f, b := range renderAll(t, again) {
				outputs["re-"+f] = b
			}
			for _, s := range sensitive(orig) {
				for name, b := range outputs {
					if bytes.Contains(b, []byte(s)) {
						t.Errorf("%s output contains %q", name, s)
					}
				}
			}
		})
	}
}

// TestReportAlone redacts a report with no snapshot learned first: what
// report render --redact does with a saved report.
func TestReportAlone(t *testing.T) {
	t.Parallel()
	eng, err := engine.New(t.Context(), engine.Config{})
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range samples(t) {
		t.Run(filepath.Base(path), func(t *testing.T) {
			t.Parallel()
			orig, err := snapshot.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			rep, err := eng.Evaluate(t.Context(), orig, engine.Options{Now: fixedNow})
			if err != nil {
				t.Fatal(err)
			}
			// Through JSON, as a saved report is read.
			var buf bytes.Buffer
			w, _ := report.New("json", &buf, report.Options{Now: fixedNow})
			if err := w.Write(t.Context(), rep); err != nil {
				t.Fatal(err)
			}
			saved, err := report.Read(&buf, "report.json")
			if err != nil {
				t.Fatal(err)
			}
			red, err := newRedactor(t).Report(saved)
			if err != nil {
				t.Fatal(err)
			}
			for name, b := range renderAll(t, red) {
				for _, s := range sensitive(orig) {
					if bytes.Contains(b, []byte(s)) {
						t.Errorf("%s output contains %q", name, s)
					}
				}
			}
		})
	}
}

// TestDeterministic: the same input and key give the same bytes; another
// key gives other tokens; the input is not changed.
func TestDeterministic(t *testing.T) {
	t.Parallel()
	path := samples(t)[0]
	orig, err := snapshot.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	before, _ := json.Marshal(orig)
	run := func(key []byte) []byte {
		r, err := redact.New(key)
		if err != nil {
			t.Fatal(err)
		}
		s, err := r.Snapshot(orig)
		if err != nil {
			t.Fatal(err)
		}
		return writeSnapshot(t, s)
	}
	a, b := run(testKey), run(testKey)
	if !bytes.Equal(a, b) {
		t.Error("two redactions with one key differ")
	}
	if c := run([]byte("another-key-of-16-bytes")); bytes.Equal(a, c) {
		t.Error("two keys give the same redaction")
	}
	if after, _ := json.Marshal(orig); !bytes.Equal(before, after) {
		t.Error("Snapshot changed its input")
	}
}

func TestTokens(t *testing.T) {
	t.Parallel()
	r := newRedactor(t)
	tok := r.Token("host", "contoso")
	tests := []struct {
		name, in, want string
		fn             func(string) string
	}{
		{"dataverse host", "contoso.crm4.dynamics.com", tok + ".crm4.dynamics.com", r.Host},
		{"dataverse api host", "contoso.api.crm.dynamics.com", tok + ".api.crm.dynamics.com", r.Host},
		{"sharepoint admin", "contoso-admin.sharepoint.com", tok + "-admin.sharepoint.com", r.Host},
		{"sharepoint", "Contoso.sharepoint.com", tok + ".sharepoint.com", r.Host},
		{"graph kept", "graph.microsoft.com", "graph.microsoft.com", r.Host},
		{"loopback kept", "127.0.0.1:8443", "127.0.0.1:8443", r.Host},
		{"unknown host", "sp.contoso.local", r.Token("host", "sp.contoso.local") + ".invalid", r.Host},
		{"idempotent", tok + ".crm.dynamics.com", tok + ".crm.dynamics.com", r.Host},
		{"upn", "Admin@Contoso.onmicrosoft.com", r.Token("user", "admin@contoso.onmicrosoft.com") + "@redacted.invalid", r.Email},
		{"site url", "https://contoso.sharepoint.com/sites/sales", "https://" + tok + ".sharepoint.com/sites/" + r.Token("path", "sales"), r.URL},
		{"sharepoint api url", "https://contoso-admin.sharepoint.com/_api/SPO.Tenant", "https://" + tok + "-admin.sharepoint.com/_api/SPO.Tenant", r.URL},
		{"api url", "https://contoso.crm.dynamics.com/api/data/v9.2/organizations?$select=a", "https://" + tok + ".crm.dynamics.com/api/data/v9.2/organizations?$select=a", r.URL},
		{"text", "GET https://contoso.crm.dynamics.com/api/data/v9.2/x failed for bob@contoso.com.", "GET https://" + tok + ".crm.dynamics.com/api/data/v9.2/x failed for " + r.Token("user", "bob@contoso.com") + "@redacted.invalid.", r.Text},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := tt.fn(tt.in); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestLoadKey(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	good := filepath.Join(dir, "key")
	short := filepath.Join(dir, "short")
	if err := os.WriteFile(good, []byte("0123456789abcdef0123\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(short, []byte("short\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := func(v string, ok bool) func(string) (string, bool) {
		return func(name string) (string, bool) {
			if name != redact.EnvKey {
				return "", false
			}
			return v, ok
		}
	}
	tests := []struct {
		name    string
		path    string
		lookup  func(string) (string, bool)
		want    string
		wantErr bool
		noKey   bool
	}{
		{name: "file", path: good, lookup: env("", false), want: "0123456789abcdef0123"},
		{name: "file wins over env", path: good, lookup: env("environment-key-0000", true), want: "0123456789abcdef0123"},
		{name: "env", lookup: env("environment-key-0000", true), want: "environment-key-0000"},
		{name: "missing", lookup: env("", false), wantErr: true, noKey: true},
		{name: "empty env", lookup: env("  ", true), wantErr: true, noKey: true},
		{name: "short file", path: short, lookup: env("", false), wantErr: true},
		{name: "short env", lookup: env("short", true), wantErr: true},
		{name: "no file", path: filepath.Join(dir, "absent"), lookup: env("", false), wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			key, err := redact.LoadKey(tt.path, tt.lookup)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, want error %v", err, tt.wantErr)
			}
			if tt.noKey != errors.Is(err, redact.ErrNoKey) {
				t.Errorf("err = %v, ErrNoKey %v", err, tt.noKey)
			}
			if string(key) != tt.want {
				t.Errorf("key = %q, want %q", key, tt.want)
			}
		})
	}
	if _, err := redact.New([]byte("short")); err == nil {
		t.Error("New accepted a short key")
	}
}
