package remediate_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/teamslink/teamslink/internal/remediate"
)

func samplePlan(t *testing.T) *remediate.Plan {
	t.Helper()
	p := &remediate.Plan{SchemaVersion: remediate.PlanVersion, CreatedAt: fixedNow, Tool: "teamslink test", Source: "test",
		Environments: []remediate.EnvironmentPlan{{Tenant: "t", URL: salesURL, Actions: []remediate.Action{{
			ID: "1", Kind: remediate.KindUpdate, Rule: "TL-SP-001", Fix: remediate.FixDisableOneDrive, Tenant: "t", Environment: salesURL,
			Target: remediate.Target{Set: "organizations", ID: "c1deb1c6-76f3-5af9-a17f-2fea08ce6c38"},
			Seen:   map[string]any{"isonedriveenabled": true}, Write: map[string]any{"isonedriveenabled": false},
		}}, WhatIf: []remediate.WhatIf{}}}}
	if err := p.Seal(); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestPlanRoundTripAndTamper(t *testing.T) {
	p := samplePlan(t)
	var b bytes.Buffer
	if err := remediate.WritePlan(&b, p); err != nil {
		t.Fatal(err)
	}
	back, err := remediate.ReadPlan(bytes.NewReader(b.Bytes()), "plan.json")
	if err != nil {
		t.Fatalf("read back: %v", err)
	}
	if back.Hash != p.Hash {
		t.Errorf("hash %s after a round trip, want %s", back.Hash, p.Hash)
	}
	tests := []struct{ name, from, to, want string }{
		{"value changed", `"isonedriveenabled": false`, `"isonedriveenabled": true`, "does not match its content"},
		{"record changed", `c1deb1c6-76f3`, `d1deb1c6-76f3`, "does not match its content"},
		{"other contract", remediate.PlanVersion, "teamslink.plan/v9", "/schemaVersion: value must be 'teamslink.plan/v1'"},
		{"unknown field", `"source": "test",`, `"source": "test", "extra": 1,`, "additional properties 'extra' not allowed"},
		{"action id", `"id": "1"`, `"id": "one"`, "/environments/0/actions/0/id"},
		{"not JSON", `{`, `[`, "not a teamslink plan"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bad := strings.Replace(b.String(), tt.from, tt.to, 1)
			_, err := remediate.ReadPlan(strings.NewReader(bad), "plan.json")
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.HasPrefix(err.Error(), "plan.json") {
				t.Errorf("ReadPlan: %v, want an error naming plan.json and %q", err, tt.want)
			}
		})
	}
}

func TestJournal(t *testing.T) {
	clock := func() time.Time { return fixedNow }
	dir := t.TempDir()
	path := filepath.Join(dir, "plan.journal")
	j, err := remediate.CreateJournal(path, samplePlan(t), clock)
	if err != nil {
		t.Fatal(err)
	}
	if err := j.Append(remediate.Entry{Op: remediate.OpBackup, Action: "1", Backup: map[string]any{"isonedriveenabled": true}}); err != nil {
		t.Fatal(err)
	}
	_ = j.Close()
	if st, _ := os.Stat(path); st.Mode().Perm() != 0o600 {
		t.Errorf("journal mode %v, want 0600: it holds record backups", st.Mode().Perm())
	}
	if _, err := remediate.CreateJournal(path, samplePlan(t), clock); err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Errorf("a second journal on the same path: %v, want a refusal", err)
	}

	t.Run("torn last line is dropped", func(t *testing.T) {
		f, _ := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
		_, _ = f.WriteString(`{"seq":3,"op":"do`)
		_ = f.Close()
		j, err := remediate.OpenJournal(path, clock)
		if err != nil {
			t.Fatal(err)
		}
		if n := len(j.Entries()); n != 2 {
			t.Errorf("%d entries, want 2", n)
		}
		if err := j.Append(remediate.Entry{Op: remediate.OpDone, Action: "1"}); err != nil {
			t.Fatal(err)
		}
		_ = j.Close()
		j, err = remediate.OpenJournal(path, clock)
		if err != nil {
			t.Fatalf("after appending past a torn line: %v", err)
		}
		if e := j.Entries(); len(e) != 3 || e[2].Op != remediate.OpDone {
			t.Errorf("entries %+v", e)
		}
		_ = j.Close()
	})

	for _, tt := range []struct{ name, content, want string }{
		{"malformed line", `{"seq":1,"op":"start"}` + "\nnot json\n", "line 2"},
		{"gap", "", "entry 3 where 2 was expected"},
		{"no plan", `{"seq":1,"op":"backup","action":"1"}` + "\n", "does not start with the plan"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p := filepath.Join(dir, strings.ReplaceAll(tt.name, " ", "-"))
			content := tt.content
			if tt.name == "gap" {
				raw, _ := os.ReadFile(path)
				lines := strings.SplitAfter(string(raw), "\n")
				content = lines[0] + lines[2]
			}
			if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := remediate.OpenJournal(p, clock)
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), p) {
				t.Errorf("OpenJournal: %v, want an error naming the file and %q", err, tt.want)
			}
		})
	}
}
