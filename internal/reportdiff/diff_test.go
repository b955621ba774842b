package reportdiff

import (
	"slices"
	"testing"

	"github.com/teamslink/teamslink/internal/finding"
)

func TestReadinessChange(t *testing.T) {
	t.Parallel()
	tests := []struct {
		old, new finding.Readiness
		want     Change
	}{
		{finding.Ready, finding.Blocked, Regressed},
		{finding.Enabled, finding.Broken, Regressed},
		{finding.Blocked, finding.Broken, Regressed},
		{finding.Ready, finding.Broken, Regressed},
		{finding.Unknown, finding.Blocked, Regressed},
		{finding.Unknown, finding.Broken, Regressed},
		{finding.Ready, finding.Unknown, Regressed},
		{finding.Enabled, finding.Unknown, Regressed},
		// Losing sight is never a fix, whatever the state was.
		{finding.Blocked, finding.Unknown, Regressed},
		{finding.Broken, finding.Unknown, Regressed},
		{finding.Blocked, finding.Ready, Fixed},
		{finding.Broken, finding.Enabled, Fixed},
		{finding.Broken, finding.Blocked, Fixed},
		{finding.Broken, finding.Ready, Fixed},
		{finding.Unknown, finding.Ready, Fixed},
		{finding.Unknown, finding.Enabled, Fixed},
		{finding.Ready, finding.Enabled, Changed},
		{finding.Enabled, finding.Ready, Changed},
		{finding.NotAssessed, finding.Ready, Changed},
		{finding.Blocked, finding.NotAssessed, Changed},
		{finding.NotAssessed, finding.Unknown, Regressed},
		{"MAYBE", finding.Ready, Changed},
		{finding.Ready, finding.Ready, Unchanged},
		{finding.Broken, finding.Broken, Unchanged},
		{finding.NotAssessed, finding.NotAssessed, Unchanged},
	}
	for _, tt := range tests {
		t.Run(string(tt.old)+"→"+string(tt.new), func(t *testing.T) {
			t.Parallel()
			if got := readinessChange(tt.old, tt.new); got != tt.want {
				t.Errorf("readinessChange(%s, %s) = %s; want %s", tt.old, tt.new, got, tt.want)
			}
		})
	}
}

// TestNeverAFalseFix: over every pair of states, a move is fixed only to a
// better known state, and a move to UNKNOWN, BLOCKED or BROKEN is never fixed
// unless it leaves a worse one.
func TestNeverAFalseFix(t *testing.T) {
	t.Parallel()
	for _, o := range finding.Readinesses {
		for _, n := range finding.Readinesses {
			c := readinessChange(o, n)
			if c == Fixed && (n == finding.Unknown || readinessRank(n) <= readinessRank(o)) {
				t.Errorf("%s → %s is fixed", o, n)
			}
			if (c == Unchanged) != (o == n) {
				t.Errorf("%s → %s is %s", o, n, c)
			}
		}
	}
	for _, o := range finding.Statuses {
		for _, n := range finding.Statuses {
			c := statusChange(o, n)
			if c == Fixed && (n == finding.StatusError || n == finding.StatusFail || n == finding.StatusWaived) {
				t.Errorf("%s → %s is fixed", o, n)
			}
			if n == finding.StatusError && o != n && c != Regressed {
				t.Errorf("%s → error is %s; want regressed", o, c)
			}
			if (c == Unchanged) != (o == n) {
				t.Errorf("%s → %s is %s", o, n, c)
			}
		}
	}
}

func TestStatusChange(t *testing.T) {
	t.Parallel()
	tests := []struct {
		old, new finding.Status
		want     Change
	}{
		{finding.StatusPass, finding.StatusFail, Regressed},
		{finding.StatusPass, finding.StatusWarn, Regressed},
		{finding.StatusWarn, finding.StatusFail, Regressed},
		{finding.StatusWaived, finding.StatusFail, Regressed}, // the waiver expired
		{finding.StatusSkip, finding.StatusFail, Regressed},
		{finding.StatusPass, finding.StatusError, Regressed},
		{finding.StatusFail, finding.StatusError, Regressed},
		{finding.StatusError, finding.StatusFail, Regressed},
		{finding.StatusFail, finding.StatusPass, Fixed},
		{finding.StatusFail, finding.StatusWarn, Fixed},
		{finding.StatusFail, finding.StatusSkip, Fixed},
		{finding.StatusError, finding.StatusPass, Fixed},
		{finding.StatusWarn, finding.StatusPass, Fixed},
		{finding.StatusFail, finding.StatusWaived, Changed}, // accepted, not fixed
		{finding.StatusWarn, finding.StatusWaived, Changed},
		{finding.StatusPass, finding.StatusSkip, Changed},
		{finding.StatusManual, finding.StatusPass, Changed},
		{finding.StatusWaived, finding.StatusPass, Changed},
		{"odd", finding.StatusPass, Changed},
		{finding.StatusFail, finding.StatusFail, Unchanged},
	}
	for _, tt := range tests {
		t.Run(string(tt.old)+"→"+string(tt.new), func(t *testing.T) {
			t.Parallel()
			if got := statusChange(tt.old, tt.new); got != tt.want {
				t.Errorf("statusChange(%s, %s) = %s; want %s", tt.old, tt.new, got, tt.want)
			}
		})
	}
}

// envOf returns the diff's environment with url.
func envOf(t *testing.T, d Diff, url string) Environment {
	t.Helper()
	for _, e := range d.Environments {
		if e.URL == url {
			return e
		}
	}
	t.Fatalf("no environment %s in the diff", url)
	return Environment{}
}

func moves(e Environment) []string {
	var out []string
	for _, r := range e.Readiness {
		out = append(out, string(r.Experience)+":"+string(r.Old)+"→"+string(r.New)+"="+string(r.Change))
	}
	for _, f := range e.Findings {
		out = append(out, f.Rule+"("+f.Table+"):"+string(f.Old)+"→"+string(f.New)+"="+string(f.Change))
	}
	return out
}

func TestCompareFleet(t *testing.T) {
	t.Parallel()
	old, new := fleetPair()
	d := Compare(old, new)
	tests := []struct {
		url    string
		change Change
		moves  []string
		same   int
	}{
		{url: tailwindURL, change: Regressed, same: 1, moves: []string{
			"basic:ENABLED→BROKEN=regressed", "enhanced:ENABLED→BROKEN=regressed",
			"TL-CONSENT-001():pass→fail=regressed", "TL-SP-001():pass→fail=regressed",
		}},
		{url: salesURL + "/", change: Regressed, same: 1, moves: []string{
			"basic:READY→READY=unchanged", "enhanced:READY→BLOCKED=regressed",
			"TL-CONSENT-001():pass→fail=regressed", "TL-ENT-001(contact):→pass=new",
		}},
		{url: "https://contoso-dev.crm.dynamics.com", change: New, moves: []string{"basic:→READY=new", "TL-ROLE-001():→pass=new"}},
		{url: oldURL, change: Gone, moves: []string{"basic:BLOCKED→=gone", "TL-ROLE-001():fail→=gone"}},
		{url: fabProdURL, change: Fixed, moves: []string{
			"basic:BLOCKED→READY=fixed", "enhanced:BLOCKED→READY=fixed",
			"TL-SP-002():fail→pass=fixed", "TL-SP-005():warn→waived=changed",
		}},
		{url: fabTestURL, change: Regressed, moves: []string{
			"basic:READY→UNKNOWN=regressed", "enhanced:READY→UNKNOWN=regressed", "TL-LIC-001():pass→error=regressed",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			t.Parallel()
			e := envOf(t, d, tt.url)
			if e.Change != tt.change {
				t.Errorf("change %s; want %s", e.Change, tt.change)
			}
			if got := moves(e); !slices.Equal(got, tt.moves) {
				t.Errorf("moves\n  %q\nwant\n  %q", got, tt.moves)
			}
			if e.Unchanged != tt.same {
				t.Errorf("%d unchanged findings; want %d", e.Unchanged, tt.same)
			}
		})
	}
	var urls []string
	for _, e := range d.Environments {
		urls = append(urls, e.URL)
	}
	if want := []string{"https://contoso-dev.crm.dynamics.com", oldURL, salesURL + "/", tailwindURL, fabTestURL, fabProdURL}; !slices.Equal(urls, want) {
		t.Errorf("environments in the order %q; want by tenant, then URL: %q", urls, want)
	}
	want := Summary{
		Environments: Counts{Regressed: 3, Fixed: 1, New: 1, Gone: 1},
		Readiness:    Counts{Regressed: 5, Fixed: 2, New: 1, Gone: 1, Unchanged: 1},
		// TL-CONSENT-001 moved on two environments of one tenant: once.
		Findings:   Counts{Regressed: 3, Fixed: 1, Changed: 1, New: 2, Gone: 1, Unchanged: 2},
		Regression: true,
	}
	if d.Summary != want {
		t.Errorf("summary %+v\nwant    %+v", d.Summary, want)
	}
	if !d.HasRegression() {
		t.Error("HasRegression is false")
	}
	if d.Old.GeneratedAt != oldAt || d.New.GeneratedAt != newAt || d.Old.Environments != 5 || d.New.Environments != 5 {
		t.Errorf("sides %+v, %+v", d.Old, d.New)
	}
}

// TestCompareBothWays: the reverse of a regression is a fix.
func TestCompareBothWays(t *testing.T) {
	t.Parallel()
	old := rep(oldAt, env(contoso, "", tailwindURL, "", finding.Enabled, finding.Ready, f("TL-SP-001", "", finding.StatusPass, "OneDrive is disabled.")))
	new := rep(newAt, env(contoso, "", tailwindURL, "", finding.Broken, finding.Blocked, f("TL-SP-001", "", finding.StatusFail, "OneDrive is enabled.")))
	forward, backward := Compare(old, new), Compare(new, old)
	if !forward.HasRegression() || forward.Summary.Readiness.Regressed != 2 || forward.Summary.Findings.Regressed != 1 {
		t.Errorf("forward: %+v", forward.Summary)
	}
	if backward.HasRegression() || backward.Summary.Readiness.Fixed != 2 || backward.Summary.Findings.Fixed != 1 {
		t.Errorf("backward: %+v", backward.Summary)
	}
	if same := Compare(old, old); same.HasRegression() || same.Environments[0].Change != Unchanged || same.Summary.Findings.Unchanged != 1 {
		t.Errorf("a report against itself: %+v", same.Summary)
	}
}

func TestCompareMatching(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		old, new *finding.Report
		want     []string // moves of every environment, in order
	}{
		{name: "tenant and URL in another case, trailing slash",
			old:  rep(oldAt, env(contoso, "", tailwindURL, "", finding.Ready, "", f("TL-ENT-001", "account", finding.StatusPass, "ok"))),
			new:  rep(newAt, env("3F2B8C1E-6D4A-4B7E-9A15-2C8D0E7F4A61", "", "https://CONTOSO.crm.dynamics.com/", "", finding.Ready, "", f("TL-ENT-001", "Account", finding.StatusFail, "no"))),
			want: []string{"basic:READY→READY=unchanged", "TL-ENT-001(Account):pass→fail=regressed"}},
		{name: "the same key twice pairs in order",
			old: rep(oldAt, env(contoso, "", tailwindURL, "", finding.Ready, "",
				f("TL-ENT-001", "account", finding.StatusPass, "first"), f("TL-ENT-001", "account", finding.StatusFail, "second"))),
			new: rep(newAt, env(contoso, "", tailwindURL, "", finding.Ready, "",
				f("TL-ENT-001", "account", finding.StatusPass, "first"), f("TL-ENT-001", "account", finding.StatusPass, "second"), f("TL-ENT-001", "account", finding.StatusPass, "third"))),
			want: []string{"basic:READY→READY=unchanged", "TL-ENT-001(account):fail→pass=fixed", "TL-ENT-001(account):→pass=new"}},
		{name: "an experience assessed only now",
			old:  rep(oldAt, env(contoso, "", tailwindURL, "", finding.Ready, "")),
			new:  rep(newAt, env(contoso, "", tailwindURL, "", finding.Ready, finding.Blocked)),
			want: []string{"basic:READY→READY=unchanged", "enhanced:NOT_ASSESSED→BLOCKED=changed"}},
		{name: "nil old", old: nil, new: rep(newAt, env(contoso, "", tailwindURL, "", finding.Broken, "")),
			want: []string{"basic:→BROKEN=new"}},
		{name: "nil new", old: rep(oldAt, env(contoso, "", tailwindURL, "", finding.Broken, "")), new: nil,
			want: []string{"basic:BROKEN→=gone"}},
		{name: "both nil"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			d := Compare(tt.old, tt.new)
			var got []string
			for _, e := range d.Environments {
				got = append(got, moves(e)...)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("moves %q; want %q", got, tt.want)
			}
			if d.HasRegression() != slices.ContainsFunc(got, func(s string) bool { return len(s) > 10 && s[len(s)-10:] == "=regressed" }) {
				t.Errorf("HasRegression %v for %q", d.HasRegression(), got)
			}
		})
	}
}

// TestCompareDoesNotModify: Compare leaves both reports as they were.
func TestCompareDoesNotModify(t *testing.T) {
	t.Parallel()
	old, new := fleetPair()
	o2, n2 := fleetPair()
	Compare(old, new)
	for i := range old.Environments {
		if !slices.EqualFunc(old.Environments[i].Findings, o2.Environments[i].Findings, func(a, b finding.Finding) bool { return a.Status == b.Status && a.Key == b.Key }) {
			t.Errorf("old environment %d changed", i)
		}
	}
	for i := range new.Environments {
		if new.Environments[i].URL != n2.Environments[i].URL {
			t.Errorf("new environments reordered")
		}
	}
}
