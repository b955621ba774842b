package engine_test

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/teamslink/teamslink/internal/engine"
	"github.com/teamslink/teamslink/internal/finding"
)

// TestWaivers evaluates the 800503ca sample with waivers: one that covers a
// failing rule until a day after the clock, one whose last day has passed,
// one for a table the environment does not have, and one for an error.
func TestWaivers(t *testing.T) {
	eng := builtin(t)
	snap := readSnapshot(t, "sp-active-sites")
	env := snap.Environments[0]
	day := func(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

	tests := []struct {
		name        string
		waiver      finding.WaiverRule
		wantStatus  finding.Status // of TL-SP-002 on the environment
		wantProblem finding.WaiverProblem
		wantState   finding.Readiness // basic
	}{
		{name: "applies through its last day",
			waiver:     finding.WaiverRule{Rule: "TL-SP-002", Tenant: env.TenantID, Environment: env.URL, Reason: "r", Owner: "o", Expires: day(2026, 11, 2), Source: "tenants.yaml:9"},
			wantStatus: finding.StatusWaived, wantState: finding.Ready},
		{name: "expired the day before",
			waiver:     finding.WaiverRule{Rule: "TL-SP-002", Reason: "r", Owner: "o", Expires: day(2026, 11, 1), Source: "tenants.yaml:9"},
			wantStatus: finding.StatusFail, wantProblem: finding.WaiverExpired, wantState: finding.Blocked},
		{name: "another table matches nothing",
			waiver:     finding.WaiverRule{Rule: "TL-SP-002", Table: "account", Reason: "r", Owner: "o", Expires: day(2027, 1, 1)},
			wantStatus: finding.StatusFail, wantProblem: finding.WaiverUnmatched, wantState: finding.Blocked},
		{name: "another tenant matches nothing",
			waiver:     finding.WaiverRule{Rule: "TL-SP-002", Tenant: "00000000-0000-0000-0000-000000000000", Reason: "r", Owner: "o", Expires: day(2027, 1, 1)},
			wantStatus: finding.StatusFail, wantProblem: finding.WaiverUnmatched, wantState: finding.Blocked},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rep, err := eng.Evaluate(context.Background(), snap, engine.Options{Now: testNow, Waivers: []finding.WaiverRule{tt.waiver}})
			if err != nil {
				t.Fatal(err)
			}
			e := rep.Environments[0]
			f := findRule(e.Findings, "TL-SP-002")
			if f == nil || f.Status != tt.wantStatus {
				t.Fatalf("TL-SP-002 = %+v, want status %s", f, tt.wantStatus)
			}
			if tt.wantStatus == finding.StatusWaived {
				w := f.Waiver
				if w == nil || w.Reason != "r" || w.Owner != "o" || w.Expires != "2026-11-02" || w.Source != "tenants.yaml:9" || w.Was != finding.StatusFail {
					t.Errorf("waiver carried = %+v", w)
				}
				if f.Remediation == "" {
					t.Error("a waived finding keeps the rule's remediation")
				}
				if rep.Summary[finding.StatusWaived] != 1 {
					t.Errorf("summary = %v, want one waived", rep.Summary)
				}
			}
			if got := e.Verdict(finding.ExperienceBasic).Readiness; got != tt.wantState {
				t.Errorf("basic readiness = %s, want %s (blocking %v)", got, tt.wantState, e.Verdict(finding.ExperienceBasic).Blocking)
			}
			switch {
			case tt.wantProblem == "" && len(rep.Waivers) != 0:
				t.Errorf("notices = %+v, want none", rep.Waivers)
			case tt.wantProblem != "" && (len(rep.Waivers) != 1 || rep.Waivers[0].Problem != tt.wantProblem || rep.Waivers[0].Message == ""):
				t.Errorf("notices = %+v, want one %s", rep.Waivers, tt.wantProblem)
			}
		})
	}
}

func TestWaiverNeverCoversAnError(t *testing.T) {
	eng := builtin(t)
	snap := readSnapshot(t, "sections-errored")
	rep, err := eng.Evaluate(context.Background(), snap, engine.Options{Now: testNow, Waivers: []finding.WaiverRule{
		{Rule: "TL-SP-003", Reason: "r", Owner: "o", Expires: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)},
	}})
	if err != nil {
		t.Fatal(err)
	}
	f := findRule(rep.Environments[0].Findings, "TL-SP-003")
	if f == nil || f.Status != finding.StatusError || f.Waiver != nil {
		t.Fatalf("TL-SP-003 = %+v, want an error no waiver covers", f)
	}
	if len(rep.Waivers) != 1 || rep.Waivers[0].Problem != finding.WaiverUnmatched {
		t.Errorf("a waiver that could only cover an error matched nothing: %+v", rep.Waivers)
	}
}

func TestWaiverOfUnknownRuleRefused(t *testing.T) {
	eng := builtin(t)
	_, err := eng.Evaluate(context.Background(), readSnapshot(t, "ready"), engine.Options{Now: testNow, Waivers: []finding.WaiverRule{
		{Rule: "TL-SP-999", Reason: "r", Owner: "o", Source: "tenants.yaml:12"},
	}})
	var unknown *engine.UnknownWaiverRuleError
	if !errors.As(err, &unknown) || err.Error() != `tenants.yaml:12: waiver: no rule "TL-SP-999" in the catalogue (teamslink rules lists them)` {
		t.Fatalf("err = %v, want an UnknownWaiverRuleError naming the rule and line", err)
	}
}

// TestBuiltinRuleIDsAreTheCatalogue holds the list waivers are checked
// against before the policies compile to the compiled catalogue.
func TestBuiltinRuleIDsAreTheCatalogue(t *testing.T) {
	t.Parallel()
	var ids []string
	for _, r := range builtin(t).Rules() {
		if r.Builtin {
			ids = append(ids, r.ID)
		}
	}
	if !slices.Equal(ids, engine.BuiltinRuleIDs) {
		t.Errorf("engine.BuiltinRuleIDs = %v, the compiled catalogue has %v: add the new rule's id to the list", engine.BuiltinRuleIDs, ids)
	}
}

// TestPendingChecksWaiversWhileCompiling: a waiver of an unknown rule is
// refused before the built-in policies are compiled; with user policies,
// Start compiles first, so that their mistakes and their rule ids are
// known before a scan sends anything.
func TestPendingChecksWaiversWhileCompiling(t *testing.T) {
	t.Parallel()
	unknown := []finding.WaiverRule{{Rule: "TL-ENT-099", Source: "tenants.yaml:18"}}
	user := []finding.WaiverRule{{Rule: "x-naming-001"}}
	tests := []struct {
		name       string
		dirs       []string
		startErr   string // Start's error, when it must fail
		okWaivers  []finding.WaiverRule
		badWaivers []finding.WaiverRule
	}{
		{name: "built-in", okWaivers: []finding.WaiverRule{{Rule: " tl-sp-005 "}}, badWaivers: user},
		{name: "user policies", dirs: []string{filepath.Join("testdata", "good")}, okWaivers: user, badWaivers: unknown},
		{name: "broken user policies", dirs: []string{filepath.Join("testdata", "compile-error")}, startErr: "policy error"},
		{name: "missing user policies", dirs: []string{filepath.Join("testdata", "nope")}, startErr: "policy directory"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p, err := engine.Start(t.Context(), engine.Config{PolicyDirs: tt.dirs})
			if tt.startErr != "" {
				var perr *engine.PolicyError
				if !errors.As(err, &perr) || !strings.Contains(err.Error(), tt.startErr) {
					t.Fatalf("Start: %v, want a PolicyError containing %q", err, tt.startErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if err := p.CheckWaivers(tt.okWaivers); err != nil {
				t.Errorf("CheckWaivers(%v): %v", tt.okWaivers, err)
			}
			var uerr *engine.UnknownWaiverRuleError
			if err := p.CheckWaivers(append(slices.Clone(tt.okWaivers), tt.badWaivers...)); !errors.As(err, &uerr) || uerr.Rule != tt.badWaivers[0].Rule {
				t.Errorf("CheckWaivers of %v: %v, want an UnknownWaiverRuleError for it", tt.badWaivers, err)
			}
			eng, err := p.Wait(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			if _, ok := eng.Rule("TL-SP-005"); !ok {
				t.Error("the compiled engine lacks TL-SP-005")
			}
		})
	}
}
