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
	}{
		{"all pass", ExperienceBasic, []Finding{f("A", StatusPass), f("B", StatusSkip)}, Ready, nil, nil},
		{"warn is still ready", ExperienceBasic, []Finding{f("A", StatusWarn)}, Ready, nil, nil},
		{"waived never blocks", ExperienceBasic, []Finding{f("A", StatusWaived)}, Ready, nil, nil},
		{"manual never blocks nor is unknown", ExperienceBasic, []Finding{f("A", StatusManual), f("B", StatusPass)}, Ready, nil, nil},
		{"fail blocks", ExperienceBasic, []Finding{f("A", StatusFail), f("B", StatusPass)}, Blocked, []string{"A"}, nil},
		{"error is unknown", ExperienceBasic, []Finding{f("A", StatusError), f("B", StatusPass)}, Unknown, nil, []string{"A"}},
		{"a known blocker wins over unknown", ExperienceBasic, []Finding{f("A", StatusError), f("B", StatusFail)}, Blocked, []string{"B"}, []string{"A"}},
		{"enhanced-only failure does not block basic", ExperienceBasic, []Finding{f("A", StatusFail, ExperienceEnhanced)}, Ready, nil, nil},
		{"enhanced-only failure blocks enhanced", ExperienceEnhanced, []Finding{f("A", StatusFail, ExperienceEnhanced)}, Blocked, []string{"A"}, nil},
		{"table rules are named with their table", ExperienceBasic, []Finding{{Key: Key{Rule: "T", Table: "account"}, Status: StatusFail, Experiences: Experiences}}, Blocked, []string{"T(account)"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			v := Decide(tt.x, tt.findings)
			if v.Readiness != tt.readiness || !slices.Equal(v.Blocking, tt.blocking) || !slices.Equal(v.Unknown, tt.unknown) {
				t.Errorf("Decide = %+v, want %s blocking %v unknown %v", v, tt.readiness, tt.blocking, tt.unknown)
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
		{"manual is never a failure", []Finding{f("A", StatusManual)}, FailOnWarn, ExitClean},
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
