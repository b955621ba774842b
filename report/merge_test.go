package report

import (
	"bytes"
	"cmp"
	"errors"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/teamslink/teamslink/internal/finding"
)

// The waiver notices of the fleet fixture, as each shard of one scan of its
// tenants.yaml reports them.
var (
	expiredSP005 = finding.WaiverNotice{Problem: finding.WaiverExpired, Rule: "TL-SP-005", Tenant: contosoID, Reason: "Web-only access accepted for the pilot",
		Owner: "sec@contoso.example", Expires: "2026-10-31", Source: "tenants.yaml:44", Message: "waiver of TL-SP-005 expired on 2026-10-31: the findings it covered count again; fix them, or renew the waiver with a new expiry"}
	unmatchedENT001 = finding.WaiverNotice{Problem: finding.WaiverUnmatched, Rule: "TL-ENT-001", Environment: "https://contoso-old.crm.dynamics.com", Table: "new_project",
		Reason: "Retired table", Owner: "crm@contoso.example", Source: "tenants.yaml:50",
		Message: "waiver of TL-ENT-001 matched no finding that needs one: check its rule, tenant, environment and table, or remove it if the problem is fixed"}
	// unmatchedROLE002 is the waiver the blocked fixture's TL-ROLE-002 finding
	// carries: it matched in Fabrikam's shard, not in Contoso's.
	unmatchedROLE002 = finding.WaiverNotice{Problem: finding.WaiverUnmatched, Rule: "TL-ROLE-002", Reason: "A Global Administrator enables Enhanced in the change window",
		Owner: "it-ops@fabrikam.example", Expires: "2026-12-31", Source: "tenants.yaml:31", Message: "waiver of TL-ROLE-002 matched no finding that needs one"}
)

func withNotices(n finding.WaiverNotice, findings int) finding.WaiverNotice {
	n.Findings = findings
	return n
}

// shards splits the fleet fixture by tenant, as scan --shard would, in
// the order given.
func shards() (contoso, fabrikam *finding.Report) {
	envs := declared(readyEnv(), blockedEnv(), unknownEnv(), basicEnv(), enabledEnv(), brokenEnv())
	contoso = newReport(envs[0], envs[3], envs[4], envs[5])
	contoso.GeneratedAt, contoso.SnapshotAt = fixedNow.Add(-time.Minute), fixedSnapshot
	contoso.Waivers = []finding.WaiverNotice{withNotices(expiredSP005, 1), unmatchedENT001, unmatchedROLE002}
	fabrikam = newReport(envs[2], envs[1])
	fabrikam.GeneratedAt, fabrikam.SnapshotAt = fixedNow, fixedSnapshot.Add(10*time.Minute)
	fabrikam.Waivers = []finding.WaiverNotice{unmatchedENT001, expiredSP005}
	return contoso, fabrikam
}

// sortedFleet is the fleet fixture as Merge orders it.
func sortedFleet() *finding.Report {
	r := fleetReport()
	sortEnvironments(r.Environments)
	return r
}

func sortEnvironments(envs []finding.Environment) {
	slices.SortStableFunc(envs, func(a, b finding.Environment) int {
		return cmp.Or(strings.Compare(a.Tenant, b.Tenant), strings.Compare(a.URL, b.URL))
	})
}

func TestMergeShards(t *testing.T) {
	t.Parallel()
	contoso, fabrikam := shards()
	tests := []struct {
		name   string
		inputs func() []*finding.Report
		want   func() *finding.Report
	}{
		{name: "two shards", inputs: func() []*finding.Report { c, f := shards(); return []*finding.Report{c, f} }, want: sortedFleet},
		{name: "the other order", inputs: func() []*finding.Report { c, f := shards(); return []*finding.Report{f, c} }, want: sortedFleet},
		{name: "one report", inputs: func() []*finding.Report { return []*finding.Report{fleetReport()} }, want: sortedFleet},
		{name: "with an empty shard", inputs: func() []*finding.Report {
			c, f := shards()
			empty := newReport()
			empty.GeneratedAt, empty.SnapshotAt = c.GeneratedAt, c.SnapshotAt
			return []*finding.Report{c, empty, f}
		}, want: sortedFleet},
		{name: "sign-in errors", inputs: func() []*finding.Report {
			c, _ := shards()
			return []*finding.Report{signInReport(), c}
		}, want: func() *finding.Report {
			c, _ := shards()
			s := signInReport()
			envs := append(slices.Clone(c.Environments), s.Environments...)
			sortEnvironments(envs)
			r := newReport(envs...)
			r.GeneratedAt, r.SnapshotAt = fixedNow, fixedSnapshot
			r.SignInErrors = s.SignInErrors
			r.Waivers = []finding.WaiverNotice{unmatchedROLE002, withNotices(expiredSP005, 1), unmatchedENT001}
			return r
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			inputs := tt.inputs()
			before := make([][]byte, len(inputs))
			for i, r := range inputs {
				before[i] = render(t, "json", r, fixedOptions(false))
			}
			got, err := Merge(inputs...)
			if err != nil {
				t.Fatalf("Merge: %v", err)
			}
			g, w := render(t, "json", got, fixedOptions(false)), render(t, "json", tt.want(), fixedOptions(false))
			if !bytes.Equal(g, w) {
				t.Errorf("merged report differs:\n%s", firstDifference(string(w), string(g)))
			}
			for i, r := range inputs {
				if after := render(t, "json", r, fixedOptions(false)); !bytes.Equal(before[i], after) {
					t.Errorf("Merge modified input %d", i)
				}
			}
		})
	}
	// Times: the oldest data and the latest run.
	got, err := Merge(contoso, fabrikam)
	if err != nil {
		t.Fatal(err)
	}
	if !got.SnapshotAt.Equal(contoso.SnapshotAt) || !got.GeneratedAt.Equal(fabrikam.GeneratedAt) {
		t.Errorf("snapshotAt %v, generatedAt %v; want the earliest snapshot %v and the latest run %v", got.SnapshotAt, got.GeneratedAt, contoso.SnapshotAt, fabrikam.GeneratedAt)
	}
	got.Environments[0].Findings[0].Status = finding.StatusFail
	if readyEnv().Findings[0].Status == finding.StatusFail || contoso.Environments[0].Findings[0].Status == finding.StatusFail {
		t.Error("the merged report shares its findings list with an input")
	}
}

// firstDifference shows the first line where got differs from want.
func firstDifference(want, got string) string {
	wl, gl := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := range max(len(wl), len(gl)) {
		var w, g string
		if i < len(wl) {
			w = wl[i]
		}
		if i < len(gl) {
			g = gl[i]
		}
		if w != g {
			return "line " + strconv.Itoa(i+1) + ":\n  want: " + w + "\n  got:  " + g
		}
	}
	return "(equal)"
}

func TestMergeWaivers(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		a, b []finding.WaiverNotice
		want []finding.WaiverNotice
	}{
		{name: "unmatched everywhere is said once", a: []finding.WaiverNotice{unmatchedENT001}, b: []finding.WaiverNotice{unmatchedENT001},
			want: []finding.WaiverNotice{unmatchedENT001}},
		{name: "unmatched in one shard, applied in the other", a: []finding.WaiverNotice{unmatchedROLE002}, b: nil, want: nil},
		{name: "expired: the findings add up", a: []finding.WaiverNotice{withNotices(expiredSP005, 2)}, b: []finding.WaiverNotice{withNotices(expiredSP005, 3)},
			want: []finding.WaiverNotice{withNotices(expiredSP005, 5)}},
		{name: "in the order declared", a: []finding.WaiverNotice{unmatchedENT001}, b: []finding.WaiverNotice{expiredSP005, unmatchedENT001},
			want: []finding.WaiverNotice{expiredSP005, unmatchedENT001}},
		{name: "a waiver only one shard declares", a: nil, b: []finding.WaiverNotice{unmatchedENT001}, want: []finding.WaiverNotice{unmatchedENT001}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			a := newReport(readyEnv()) // Contoso, no waived finding
			a.Waivers = tt.a
			b := newReport(blockedEnv()) // Fabrikam, TL-ROLE-002 waived
			b.Waivers = tt.b
			got, err := Merge(a, b)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got.Waivers, tt.want) {
				t.Errorf("waivers = %+v\nwant %+v", got.Waivers, tt.want)
			}
		})
	}
}

func TestMergeRefuses(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		inputs func() []*finding.Report
		names  []string
		want   string
	}{
		{name: "nothing", inputs: func() []*finding.Report { return nil }, want: "merge reports: no report to merge"},
		{name: "nil", inputs: func() []*finding.Report { return []*finding.Report{newReport(readyEnv()), nil} }, want: "merge reports: report 2 is nil"},
		{name: "overlapping tenants", names: []string{"a.json", "b.json", "c.json"},
			inputs: func() []*finding.Report {
				return []*finding.Report{newReport(blockedEnv()), newReport(readyEnv()), newReport(unknownEnv())}
			},
			want: "merge reports: a.json and c.json both hold tenant " + fabrikamID + ": the shards of one fleet scan hold disjoint tenants"},
		{name: "tenant ids in another case", inputs: func() []*finding.Report {
			e := blockedEnv()
			e.Tenant = strings.ToUpper(e.Tenant)
			return []*finding.Report{newReport(unknownEnv()), newReport(e)}
		}, want: "report 1 and report 2 both hold tenant " + strings.ToUpper(fabrikamID)},
		{name: "a tenant that could not sign in", inputs: func() []*finding.Report {
			return []*finding.Report{newReport(unknownEnv()), signInReport()}
		}, want: "report 1 and report 2 both hold tenant " + fabrikamID},
		{name: "one environment under two tenants", inputs: func() []*finding.Report {
			e := readyEnv()
			e.URL = blockedEnv().URL + "/"
			return []*finding.Report{newReport(blockedEnv()), newReport(e)}
		}, want: "report 1 and report 2 both hold environment https://fabrikam.crm4.dynamics.com/ (tenants " + fabrikamID + " and " + contosoID + ")"},
		{name: "profiles", inputs: func() []*finding.Report {
			r := newReport(readyEnv())
			r.Profile = "enabled"
			return []*finding.Report{newReport(blockedEnv()), r}
		}, want: `report 1 and report 2 were evaluated under different profiles ("preflight" and "enabled")`},
		{name: "builds", inputs: func() []*finding.Report {
			r := newReport(readyEnv())
			r.Tool.Version = "0.2.0"
			return []*finding.Report{newReport(blockedEnv()), r}
		}, want: "report 1 and report 2 were made by different builds (teamslink 0.1.0 and teamslink 0.2.0): scan every shard with one build"},
		{name: "contract versions", inputs: func() []*finding.Report {
			r := newReport(readyEnv())
			r.SchemaVersion = "teamslink.report/v2"
			return []*finding.Report{newReport(blockedEnv()), r}
		}, want: "report 1 and report 2 were written to different contracts (teamslink.report/v3 and teamslink.report/v2)"},
		{name: "an unreadable version", inputs: func() []*finding.Report {
			r := newReport(readyEnv())
			r.SchemaVersion = "teamslink.report/v9"
			return []*finding.Report{newReport(blockedEnv()), r}
		}, want: `merge reports: report 2 has schemaVersion "teamslink.report/v9", which this teamslink does not read`},
		{name: "a rule defined twice", names: []string{"a.json", "b.json"}, inputs: func() []*finding.Report {
			r := newReport(readyEnv())
			for i := range r.Rules {
				if r.Rules[i].ID == "TL-CONSENT-001" {
					r.Rules[i].Severity = finding.SeverityLow
				}
			}
			return []*finding.Report{newReport(blockedEnv()), r}
		}, want: "merge reports: a.json and b.json define rule TL-CONSENT-001 differently (its severity): they were evaluated with different policies"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := Merge(tt.inputs()...)
			if err == nil {
				t.Fatalf("Merge accepted them: %d environments", len(got.Environments))
			}
			var me *MergeError
			if errors.As(err, &me) {
				me.Inputs = tt.names
			} else if tt.name != "nothing" {
				t.Errorf("error %T is not a *MergeError", err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q\nwant it to hold %q", err, tt.want)
			}
		})
	}
}

// TestMergeRulesUnion: rules the inputs agree on are carried once, sorted,
// the union of both catalogues.
func TestMergeRulesUnion(t *testing.T) {
	t.Parallel()
	a, b := newReport(blockedEnv()), newReport(enabledEnv())
	got, err := Merge(a, b)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, r := range got.Rules {
		ids = append(ids, r.ID)
	}
	want := []string{"TL-CONSENT-001", "TL-ENT-001", "TL-ENV-002", "TL-LIC-001", "TL-MAN-001", "TL-ROLE-002", "TL-SP-002", "TL-SP-003", "TL-SP-005"}
	if !slices.Equal(ids, want) {
		t.Errorf("rules %v; want %v", ids, want)
	}
}
