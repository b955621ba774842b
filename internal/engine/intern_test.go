package engine_test

import (
	"testing"
	"unsafe"

	"github.com/teamslink/teamslink/internal/engine"
)

// TestEvidenceStringsShared holds that what the policies repeat across
// environments is held once: the manual check's text, a key of every
// evidence, a message, each read from two environments' findings.
func TestEvidenceStringsShared(t *testing.T) {
	rep, err := builtin(t).Evaluate(t.Context(), readSnapshot(t, "sections-errored"), engine.Options{Now: testNow})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Environments) != 2 {
		t.Fatalf("%d environments, want 2", len(rep.Environments))
	}
	byRule := func(env int, rule string) map[string]any {
		for _, f := range rep.Environments[env].Findings {
			if f.Rule == rule && f.Table == "" {
				return map[string]any{"message": f.Message, "evidence": f.Evidence}
			}
		}
		t.Fatalf("environment %d: no finding of %s", env, rule)
		return nil
	}
	a, b := byRule(0, "TL-MAN-003"), byRule(1, "TL-MAN-003")
	pairs := []struct {
		what string
		a, b string
	}{
		{"message", a["message"].(string), b["message"].(string)},
		{"evidence.check", a["evidence"].(map[string]any)["check"].(string), b["evidence"].(map[string]any)["check"].(string)},
	}
	for _, p := range pairs {
		if p.a != p.b {
			t.Fatalf("%s differs between the environments: %q, %q", p.what, p.a, p.b)
		}
		if unsafe.StringData(p.a) != unsafe.StringData(p.b) {
			t.Errorf("%s: two copies of %q", p.what, p.a)
		}
	}
	stepsA, stepsB := a["evidence"].(map[string]any)["steps"].([]any), b["evidence"].(map[string]any)["steps"].([]any)
	if len(stepsA) == 0 || &stepsA[0] != &stepsB[0] {
		t.Errorf("evidence.steps: two copies of %v", stepsA)
	}
}
