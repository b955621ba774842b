package remediate_test

import (
	"bytes"
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/teamslink/teamslink/internal/emulator"
	"github.com/teamslink/teamslink/internal/engine"
	"github.com/teamslink/teamslink/internal/finding"
	"github.com/teamslink/teamslink/internal/remediate"
)

// findingStatus is the status of rule (on table, if given) in the first
// environment of rep.
func findingStatus(rep *finding.Report, rule, table string) finding.Status {
	for _, f := range rep.Environments[0].Findings {
		if f.Rule == rule && f.Table == table {
			return f.Status
		}
	}
	return ""
}

// TestEachFix applies, verifies and undoes every automated fix on its own,
// against the sample scenario where its rule fails: after apply the rule
// holds on a rescan, after rollback the rescan equals the first one.
func TestEachFix(t *testing.T) {
	tests := []struct {
		fix, rule, table, scenario string
		tables                     []string
		mutate                     func(*emulator.Scenario)
		enable                     []finding.Experience
		actions                    int
	}{
		{fix: remediate.FixDisableOneDrive, rule: "TL-SP-001", scenario: "sp-onedrive", actions: 1},
		{fix: remediate.FixDeactivateSites, rule: "TL-SP-002", scenario: "sp-active-sites"},
		{fix: remediate.FixDeleteDocumentLocations, rule: "TL-SP-003", scenario: "sp-800503ca-all", actions: 3},
		{fix: remediate.FixDeleteDocumentLocations + " (inactive, with a parent site)", rule: "TL-SP-003", scenario: "sp-800503ca-all", actions: 3,
			mutate: func(s *emulator.Scenario) {
				l := s.Environments[0].DocumentLocations
				l[0]["statecode"], l[0]["statuscode"] = 1, 2
				l[1]["_parentsiteorlocation_value"] = s.Environments[0].SharePointSites[1]["sharepointsiteid"]
			}},
		{fix: remediate.FixEnableDocumentManagement, rule: "TL-ENT-001", table: "new_project", scenario: "custom-table-no-docmgmt", tables: []string{"new_project"}, actions: 1},
		{fix: remediate.FixSetTeamsDocumentStatus, rule: "TL-ENT-002", table: "new_project", scenario: "custom-table-no-docmgmt", tables: []string{"new_project"}, actions: 1},
		{fix: remediate.FixEnableBasic, rule: "TL-ENV-001", scenario: "ready", tables: []string{"account"}, enable: []finding.Experience{finding.ExperienceBasic}, actions: 1},
		{fix: remediate.FixEnableEnhanced, rule: "TL-ENV-002", scenario: "ready", tables: []string{"account"}, enable: []finding.Experience{finding.ExperienceEnhanced}, actions: 1},
	}
	for _, tt := range tests {
		t.Run(tt.fix, func(t *testing.T) {
			f := start(t, tt.mutate, tt.scenario)
			if tt.tables != nil {
				for i := range f.cfg.Tenants[0].Environments {
					f.cfg.Tenants[0].Environments[i].Tables = tt.tables
				}
			}
			first := f.scan(t)
			url := first.Report.Environments[0].URL
			p := f.plan(t, first, func(o *remediate.PlanOptions) {
				o.Only, o.Environments, o.Enable = []string{tt.rule}, []string{url}, tt.enable
			})
			fixName, _, _ := strings.Cut(tt.fix, " ")
			n := 0
			for _, a := range p.Actions() {
				if a.Fix != fixName || a.Rule != tt.rule {
					t.Errorf("action %s is %s for %s, want %s for %s", a.ID, a.Fix, a.Rule, fixName, tt.rule)
				}
				n++
			}
			if n == 0 || (tt.actions > 0 && n != tt.actions) {
				t.Fatalf("%d actions, want %d", n, tt.actions)
			}
			var out bytes.Buffer
			j := newJournal(t, p)
			if err := f.runner(&out).Apply(context.Background(), j); err != nil {
				t.Fatalf("apply: %v\n%s", err, out.String())
			}
			if got := findingStatus(f.scan(t).Report, tt.rule, tt.table); got != finding.StatusPass {
				t.Errorf("after apply %s is %s, want pass", tt.rule, got)
			}
			if err := f.runner(&out).Rollback(context.Background(), reopen(t, j)); err != nil {
				t.Fatalf("rollback: %v\n%s", err, out.String())
			}
			if a, b := normalizedSnapshot(t, first.Snapshot), normalizedSnapshot(t, f.scan(t).Snapshot); a != b {
				t.Errorf("after rollback:\n%s", firstDiff(a, b))
			}
			// A second rollback finds everything restored and writes nothing.
			before := writes(f.srv, ".")
			if err := f.runner(&out).Rollback(context.Background(), reopen(t, j)); err != nil {
				t.Fatalf("second rollback: %v", err)
			}
			if n := writes(f.srv, ".") - before; n != 0 {
				t.Errorf("the second rollback wrote %d times", n)
			}
		})
	}
}

// TestPlanReadsBeyondTheSample: 120 absolute-URL locations, 50 in the
// snapshot's sample. Planned live, every one is in the plan and the what-if
// says READY; planned from the snapshot alone, the plan holds the sample and
// says what it left out.
func TestPlanReadsBeyondTheSample(t *testing.T) {
	f := start(t, func(s *emulator.Scenario) {
		s.Environments[0].Generate[0].Count = 115
	}, "sp-absolute-locations")
	f.cfg.Tenants[0].Environments[0].Tables = []string{"account"}
	res := f.scan(t)
	total := res.Snapshot.Environments[0].DocumentLocations.AbsoluteURLCount
	if total != 120 || len(res.Snapshot.Environments[0].DocumentLocations.Sample) >= total {
		t.Fatalf("the scenario has %d locations, %d sampled: want 120, fewer sampled", total, len(res.Snapshot.Environments[0].DocumentLocations.Sample))
	}
	live := f.plan(t, res, func(o *remediate.PlanOptions) { o.Only = []string{"TL-SP-003"} })
	if n := live.Deletes(); n != total {
		t.Errorf("planned live: %d deletes, want %d", n, total)
	}
	if w := live.Environments[0].WhatIf[0]; w.After != string(finding.Ready) {
		t.Errorf("what-if %s → %s (%v), want READY", w.Before, w.After, w.StillBlocking)
	}
	offline := f.plan(t, res, func(o *remediate.PlanOptions) { o.Only = []string{"TL-SP-003"}; o.Live = nil })
	if n := offline.Deletes(); n != len(res.Snapshot.Environments[0].DocumentLocations.Sample) {
		t.Errorf("planned from the snapshot: %d deletes, want the sample's %d", n, len(res.Snapshot.Environments[0].DocumentLocations.Sample))
	}
	e := offline.Environments[0]
	if len(e.Notes) == 0 || !strings.Contains(e.Notes[0], "--config") || e.WhatIf[0].After == string(finding.Ready) {
		t.Errorf("planned from the snapshot: notes %v, what-if %+v; want a note and no READY", e.Notes, e.WhatIf)
	}
	limited := f.plan(t, res, func(o *remediate.PlanOptions) { o.Only = []string{"TL-SP-003"}; o.Limit = 10 })
	if n := limited.Deletes(); n != 10 || len(limited.Environments[0].Notes) == 0 {
		t.Errorf("--limit 10: %d deletes, notes %v", n, limited.Environments[0].Notes)
	}
}

// TestEveryCatalogueFixHasAnAction: each automated_fix of the rule
// catalogue is one remediate knows, and every fix it knows is in the
// catalogue (or is the toggle it makes on --enable).
func TestEveryCatalogueFixHasAnAction(t *testing.T) {
	eng, err := engine.New(t.Context(), engine.Config{})
	if err != nil {
		t.Fatal(err)
	}
	inCatalogue := map[string]bool{}
	for _, r := range eng.Rules() {
		if r.Fix == nil {
			continue
		}
		inCatalogue[r.Fix.Action] = true
		if !slices.Contains(remediate.Fixes, r.Fix.Action) {
			t.Errorf("%s: fix %s has no remediate action", r.ID, r.Fix.Action)
		}
	}
	for _, fix := range remediate.Fixes {
		if !inCatalogue[fix] {
			t.Errorf("remediate knows %s, which no rule offers", fix)
		}
	}
	if remediate.AutoFixable(remediate.FixAdminConsentURL) || !remediate.AutoFixable(remediate.FixDeleteDocumentLocations) {
		t.Error("AutoFixable: consent must be guided, the others automatic")
	}
}

// TestTwoActionsOnOneRecord: OneDrive off and then Basic on both write the
// organization row; the second expects the ETag the first left, not the
// plan's, and the environment ends ENABLED.
func TestTwoActionsOnOneRecord(t *testing.T) {
	f := start(t, nil, "sp-onedrive")
	f.cfg.Tenants[0].Environments[0].Tables = []string{"account"}
	p := f.plan(t, f.scan(t), func(o *remediate.PlanOptions) {
		o.Only = []string{"TL-SP-001", "TL-ENV-001"}
		o.Enable = []finding.Experience{finding.ExperienceBasic}
	})
	if n := len(p.Actions()); n != 2 || p.Actions()[0].Target != p.Actions()[1].Target {
		t.Fatalf("want two actions on the organization row, got %+v", p.Actions())
	}
	var out bytes.Buffer
	if err := f.runner(&out).Apply(context.Background(), newJournal(t, p)); err != nil {
		t.Fatalf("apply: %v\n%s", err, out.String())
	}
	if r := readiness(f.scan(t).Report, p.Environments[0].URL); r[finding.ExperienceBasic] != finding.Enabled {
		t.Errorf("basic is %s after apply, want ENABLED", r[finding.ExperienceBasic])
	}
}
