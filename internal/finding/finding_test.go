package finding

import (
	"slices"
	"testing"
)

func f(rule string, st Status, xs ...Experience) Finding {
	if len(xs) == 0 {
		xs = Experiences
	}
	return Finding{Key: Key{Tenant: "t", Environment: "https://e.crm.dynamics.com", Rule: rule}, Status: st, Experiences: xs}
}

func TestDecide(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		x         Experience
		findings  []Finding
		readiness Readiness
		blocking  []string
		unknown   []string
		on        Switch // "" is off
	}{
		{"all pass", ExperienceBasic, []Finding{f("A", StatusPass), f("B", StatusSkip)}, Ready, nil, nil, ""},
		{"warn is still ready", ExperienceBasic, []Finding{f("A", StatusWarn)}, Ready, nil, nil, ""},
		{"waived never blocks", ExperienceBasic, []Finding{f("A", StatusWaived)}, Ready, nil, nil, ""},
		{"manual never blocks", ExperienceBasic, []Finding{f("A", StatusManual), f("B", StatusPass)}, Ready, nil, nil, ""},
		{"fail blocks", ExperienceBasic, []Finding{f("A", StatusFail), f("B", StatusPass)}, Blocked, []string{"A"}, nil, ""},
		{"error is unknown", ExperienceBasic, []Finding{f("A", StatusError), f("B", StatusPass)}, Unknown, nil, []string{"A"}, ""},
		{"a known blocker wins over unknown", ExperienceBasic, []Finding{f("A", StatusError), f("B", StatusFail)}, Blocked, []string{"B"}, []string{"A"}, ""},
		{"enhanced-only failure does not block basic", ExperienceBasic, []Finding{f("A", StatusFail, ExperienceEnhanced)}, Ready, nil, nil, ""},
		{"enhanced-only failure blocks enhanced", ExperienceEnhanced, []Finding{f("A", StatusFail, ExperienceEnhanced)}, Blocked, []string{"A"}, nil, ""},
		{"table rules are named with their table", ExperienceBasic, []Finding{{Key: Key{Rule: "T", Table: "account"}, Status: StatusFail, Experiences: Experiences}}, Blocked, []string{"T(account)"}, nil, ""},
		{"on and all pass is enabled", ExperienceEnhanced, []Finding{f("A", StatusPass), f("B", StatusWarn), f("C", StatusManual)}, Enabled, nil, nil, SwitchOn},
		{"on with a failure is broken", ExperienceEnhanced, []Finding{f("A", StatusFail), f("B", StatusPass)}, Broken, []string{"A"}, nil, SwitchOn},
		{"on with a failure and an error is broken", ExperienceEnhanced, []Finding{f("A", StatusFail), f("B", StatusError)}, Broken, []string{"A"}, []string{"B"}, SwitchOn},
		{"on with an error is unknown", ExperienceEnhanced, []Finding{f("A", StatusError), f("B", StatusPass)}, Unknown, nil, []string{"A"}, SwitchOn},
		{"on with an enhanced-only failure leaves basic enabled", ExperienceBasic, []Finding{f("A", StatusFail, ExperienceEnhanced)}, Enabled, nil, nil, SwitchOn},
		{"an unread toggle is unknown even with a failure", ExperienceBasic, []Finding{f("A", StatusFail), f("T", StatusError)}, Unknown, []string{"A"}, []string{"T"}, SwitchUnknown},
		{"an unread toggle is unknown when all else passes", ExperienceBasic, []Finding{f("A", StatusPass)}, Unknown, nil, nil, SwitchUnknown},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			on := tt.on
			if on == "" {
				on = SwitchOff
			}
			v := Decide(tt.x, on, tt.findings)
			if v.Readiness != tt.readiness || !slices.Equal(v.Blocking, tt.blocking) || !slices.Equal(v.Unknown, tt.unknown) {
				t.Errorf("Decide = %+v, want %s blocking %v unknown %v", v, tt.readiness, tt.blocking, tt.unknown)
			}
			if wantOn := on == SwitchOn; (on == SwitchUnknown) != (v.TurnedOn == nil) || (v.TurnedOn != nil && *v.TurnedOn != wantOn) {
				t.Errorf("TurnedOn = %v for switch %s", v.TurnedOn, on)
			}
		})
	}
}

func TestExitCode(t *testing.T) {
	t.Parallel()
	internal := f("X", StatusError)
	internal.Internal = true
	tests := []struct {
		name     string
		findings []Finding
		failOn   FailOn
		want     int
	}{
		{"clean", []Finding{f("A", StatusPass)}, FailOnFail, ExitClean},
		{"fail", []Finding{f("A", StatusFail)}, FailOnFail, ExitFindings},
		{"warn under fail-on fail", []Finding{f("A", StatusWarn)}, FailOnFail, ExitClean},
		{"warn under fail-on warn", []Finding{f("A", StatusWarn)}, FailOnWarn, ExitFindings},
		{"fail under fail-on error", []Finding{f("A", StatusFail)}, FailOnError, ExitClean},
		{"error always means incomplete", []Finding{f("A", StatusError), f("B", StatusFail)}, FailOnFail, ExitIncomplete},
		{"error under fail-on error", []Finding{f("A", StatusError)}, FailOnError, ExitIncomplete},
		{"internal wins", []Finding{internal, f("A", StatusFail)}, FailOnFail, ExitInternal},
		{"waived and skipped are clean", []Finding{f("A", StatusWaived), f("B", StatusSkip)}, FailOnWarn, ExitClean},
		{"manual is clean under fail-on warn", []Finding{f("A", StatusManual)}, FailOnWarn, ExitClean},
		{"manual is clean under fail-on fail", []Finding{f("A", StatusManual)}, FailOnFail, ExitClean},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := &Report{Environments: []Environment{{Findings: tt.findings}}}
			if got := r.ExitCode(tt.failOn); got != tt.want {
				t.Errorf("ExitCode = %d, want %d", got, tt.want)
			}
		})
	}
}

func TestParsers(t *testing.T) {
	t.Parallel()
	if _, err := ParseStatus("maybe"); err == nil {
		t.Error("ParseStatus accepted maybe")
	}
	if s, err := ParseStatus("manual"); err != nil || s != StatusManual {
		t.Errorf("ParseStatus(manual) = %q, %v", s, err)
	}
	if s, err := ParseStatus(" FAIL "); err != nil || s != StatusFail {
		t.Errorf("ParseStatus(FAIL) = %q, %v", s, err)
	}
	if s, err := ParseStatus("manual"); err != nil || s != StatusManual {
		t.Errorf("ParseStatus(manual) = %q, %v", s, err)
	}
	if _, err := ParseExperience("premium"); err == nil {
		t.Error("ParseExperience accepted premium")
	}
	if _, err := ParseFailOn("never"); err == nil {
		t.Error("ParseFailOn accepted never")
	}
	if !ExperienceEnhanced.Includes(ExperienceBasic) || ExperienceBasic.Includes(ExperienceEnhanced) {
		t.Error("Includes: enhanced includes basic, not the other way")
	}
	if SeverityCritical.Rank() <= SeverityInfo.Rank() || Severity("x").Valid() {
		t.Error("severity ranks")
	}
	k := Key{Tenant: "t", Environment: "e", Rule: "R", Table: "account"}
	if k.String() != "t/e/R/account" {
		t.Errorf("Key.String = %q", k.String())
	}
}

// TestExitCodeVerdicts: a BROKEN environment is at least as severe as a
// BLOCKED one for --fail-on.
func TestExitCodeVerdicts(t *testing.T) {
	t.Parallel()
	tests := []struct {
		readiness Readiness
		failOn    FailOn
		want      int
	}{
		{Broken, FailOnFail, ExitFindings},
		{Broken, FailOnWarn, ExitFindings},
		{Broken, FailOnError, ExitClean},
		{Blocked, FailOnFail, ExitFindings},
		{Blocked, FailOnError, ExitClean},
		{Enabled, FailOnWarn, ExitClean},
		{Ready, FailOnWarn, ExitClean},
	}
	for _, tt := range tests {
		t.Run(string(tt.readiness)+"/"+string(tt.failOn), func(t *testing.T) {
			t.Parallel()
			// The failing finding is left out on purpose: the verdict alone decides.
			r := &Report{Environments: []Environment{{Verdicts: []Verdict{{Experience: ExperienceEnhanced, Readiness: tt.readiness}}}}}
			if got := r.ExitCode(tt.failOn); got != tt.want {
				t.Errorf("ExitCode = %d, want %d", got, tt.want)
			}
		})
	}
	broken := &Report{Environments: []Environment{{
		Findings: []Finding{f("A", StatusFail)},
		Verdicts: []Verdict{Decide(ExperienceBasic, SwitchOn, []Finding{f("A", StatusFail)})},
	}}}
	if v := broken.Environments[0].Verdicts[0]; v.Readiness != Broken {
		t.Fatalf("verdict %s, want BROKEN", v.Readiness)
	}
	if got := broken.ExitCode(FailOnFail); got != ExitFindings {
		t.Errorf("a BROKEN environment under --fail-on fail exits %d, want 1", got)
	}
}

// TestSummarizeCountsTenantFindingsOnce: a tenant-wide failure shown on both
// environments of a tenant is one fail; an environment failure is one per
// environment; another tenant's same rule is its own problem.
func TestSummarizeCountsTenantFindingsOnce(t *testing.T) {
	t.Parallel()
	at := func(tenant, env, rule string, scope Scope, st Status) Finding {
		return Finding{Key: Key{Tenant: tenant, Environment: env, Rule: rule}, Scope: scope, Status: st, Experiences: Experiences}
	}
	tests := []struct {
		name string
		envs []Environment
		want map[Status]int
	}{
		{"one tenant failure on two environments and one environment failure", []Environment{
			{Tenant: "a", URL: "e1", Findings: []Finding{at("a", "e1", "LIC", ScopeTenant, StatusFail), at("a", "e1", "SP", ScopeEnvironment, StatusPass)}},
			{Tenant: "a", URL: "e2", Findings: []Finding{at("a", "e2", "LIC", ScopeTenant, StatusFail), at("a", "e2", "SP", ScopeEnvironment, StatusFail)}},
		}, map[Status]int{StatusFail: 2, StatusPass: 1}},
		{"two tenants each count their own", []Environment{
			{Tenant: "a", URL: "e1", Findings: []Finding{at("a", "e1", "LIC", ScopeTenant, StatusFail)}},
			{Tenant: "b", URL: "e2", Findings: []Finding{at("b", "e2", "LIC", ScopeTenant, StatusFail)}},
		}, map[Status]int{StatusFail: 2}},
		{"one tenant rule with two results (experiences differ) counts each", []Environment{
			{Tenant: "a", URL: "e1", Findings: []Finding{at("a", "e1", "CONSENT", ScopeTenant, StatusFail)}},
			{Tenant: "a", URL: "e2", Findings: []Finding{at("a", "e2", "CONSENT", ScopeTenant, StatusSkip)}},
			{Tenant: "a", URL: "e3", Findings: []Finding{at("a", "e3", "CONSENT", ScopeTenant, StatusFail)}},
		}, map[Status]int{StatusFail: 1, StatusSkip: 1}},
		{"environment findings count per environment", []Environment{
			{Tenant: "a", URL: "e1", Findings: []Finding{at("a", "e1", "SP", ScopeEnvironment, StatusError)}},
			{Tenant: "a", URL: "e2", Findings: []Finding{at("a", "e2", "SP", ScopeEnvironment, StatusError)}},
		}, map[Status]int{StatusError: 2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := (&Report{Environments: tt.envs}).Summarize()
			for _, st := range Statuses {
				if got[st] != tt.want[st] {
					t.Errorf("%s = %d, want %d (summary %v)", st, got[st], tt.want[st], got)
				}
			}
		})
	}
}
