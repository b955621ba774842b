package cli

import (
	"bytes"
	"slices"
	"strings"
	"testing"

	"github.com/teamslink/teamslink/internal/engine"
	"github.com/teamslink/teamslink/internal/finding"
	"github.com/teamslink/teamslink/internal/redact"
	"github.com/teamslink/teamslink/internal/snapshot"
	"github.com/teamslink/teamslink/report"
)

// TestRedactedDemo collects the demo fleet through the emulator, redacts
// the snapshot and its report, and checks that the redacted snapshot
// evaluates to the same states and finding statuses, and that neither it
// nor the report holds any of the demo's domains, URLs or user names.
func TestRedactedDemo(t *testing.T) {
	t.Parallel()
	_, cfg, deps := demoFleet(t)
	snap, err := collectSnapshot(t.Context(), cfg, deps, nil)
	if err != nil {
		t.Fatal(err)
	}
	eng, err := engine.New(t.Context(), engine.Config{})
	if err != nil {
		t.Fatal(err)
	}
	opts := engine.Options{Now: deps.Now}
	want, err := eng.Evaluate(t.Context(), snap, opts)
	if err != nil {
		t.Fatal(err)
	}
	r, err := redact.New([]byte("demo-redaction-key-0123"))
	if err != nil {
		t.Fatal(err)
	}
	red, err := r.Snapshot(snap)
	if err != nil {
		t.Fatal(err)
	}
	redRep, err := r.Report(want)
	if err != nil {
		t.Fatal(err)
	}
	var sb, rb bytes.Buffer
	if err := snapshot.Write(&sb, red); err != nil {
		t.Fatal(err)
	}
	back, err := snapshot.Read(bytes.NewReader(sb.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	got, err := eng.Evaluate(t.Context(), back, opts)
	if err != nil {
		t.Fatal(err)
	}
	if g, w := demoOutcome(got), demoOutcome(want); !slices.Equal(g, w) {
		t.Errorf("redacted demo evaluates differently:\n got %v\nwant %v", g, w)
	}
	w, err := report.New("json", &rb, report.Options{Now: deps.Now})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(t.Context(), redRep); err != nil {
		t.Fatal(err)
	}
	var forbidden []string
	for _, tn := range snap.Tenants {
		forbidden = append(forbidden, tn.ID, tn.Name, tn.Caller.UserPrincipalName, tn.SharePoint.AdminURL)
	}
	for _, e := range snap.Environments {
		host := strings.TrimPrefix(e.URL, "https://")
		label, _, _ := strings.Cut(host, ".")
		forbidden = append(forbidden, e.URL, host, label+".sharepoint.com", e.Name)
		for _, s := range e.SharePointSites.Sample {
			forbidden = append(forbidden, s.AbsoluteURL, s.Name)
		}
		for _, l := range e.DocumentLocations.Sample {
			forbidden = append(forbidden, l.AbsoluteURL, l.Name)
		}
	}
	for _, s := range forbidden {
		if s == "" {
			continue
		}
		if bytes.Contains(sb.Bytes(), []byte(s)) {
			t.Errorf("redacted snapshot contains %q", s)
		}
		if bytes.Contains(rb.Bytes(), []byte(s)) {
			t.Errorf("redacted report contains %q", s)
		}
	}
}

func demoOutcome(rep *finding.Report) []string {
	var out []string
	for _, e := range rep.Environments {
		for _, v := range e.Verdicts {
			out = append(out, string(v.Experience)+"="+string(v.Readiness))
		}
		for _, f := range e.Findings {
			out = append(out, f.Rule+"/"+f.Table+"="+string(f.Status))
		}
	}
	return out
}
