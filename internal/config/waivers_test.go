package config

import (
	"reflect"
	"testing"
	"time"

	"github.com/teamslink/teamslink/internal/finding"
)

func TestWaiverRulesResolveNamesAndLines(t *testing.T) {
	c, err := Load("testdata/valid-fleet.yaml")
	if err != nil {
		t.Fatal(err)
	}
	got := c.WaiverRules()
	want := []finding.WaiverRule{
		{Rule: "TL-SP-005", Tenant: "3f1c2a9e-5b7d-4c2e-9a61-8d0e4b7f2c15",
			Reason: "Web-only access from unmanaged devices is accepted for the pilot", Owner: "security@contoso.example",
			Expires: time.Date(2027, 3, 31, 0, 0, 0, 0, time.UTC), Source: "testdata/valid-fleet.yaml:47"},
		{Rule: "TL-ENT-001", Tenant: "3f1c2a9e-5b7d-4c2e-9a61-8d0e4b7f2c15",
			Environment: "https://contoso-test.api.crm4.dynamics.com", Table: "new_project",
			Reason: "new_project is retired at the end of the quarter", Owner: "crm-team@contoso.example",
			Expires: time.Date(2027, 1, 15, 0, 0, 0, 0, time.UTC), Source: "testdata/valid-fleet.yaml:52"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("WaiverRules()\n got: %+v\nwant: %+v", got, want)
	}
}

func TestDeclaredAt(t *testing.T) {
	c, err := Load("testdata/valid-fleet.yaml")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		tenant, url string
		want        *finding.SourceLine
	}{
		{"3f1c2a9e-5b7d-4c2e-9a61-8d0e4b7f2c15", "https://contoso.crm4.dynamics.com", &finding.SourceLine{File: "testdata/valid-fleet.yaml", Line: 16}},
		{"3F1C2A9E-5B7D-4C2E-9A61-8D0E4B7F2C15", "https://contoso-test.crm4.dynamics.com", &finding.SourceLine{File: "testdata/valid-fleet.yaml", Line: 18}},
		{"8b2d6f40-1c3e-4a5b-8d7f-2e9a0c1b3d4e", "https://fabrikam.crm11.dynamics.com", &finding.SourceLine{File: "testdata/valid-fleet.yaml", Line: 33}},
		{"8b2d6f40-1c3e-4a5b-8d7f-2e9a0c1b3d4e", "https://contoso.crm4.dynamics.com", nil}, // another tenant's
		{"3f1c2a9e-5b7d-4c2e-9a61-8d0e4b7f2c15", "https://unknown.crm4.dynamics.com", nil},
	}
	for _, tt := range tests {
		if got := c.DeclaredAt(tt.tenant, tt.url); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("DeclaredAt(%s, %s) = %+v, want %+v", tt.tenant, tt.url, got, tt.want)
		}
	}
	if got := (&Config{Tenants: c.Tenants}).DeclaredAt(tests[0].tenant, tests[0].url); got != nil {
		t.Errorf("a config built in code declares nothing, got %+v", got)
	}
}
