package collectors_test

import (
	"encoding/json"
	"errors"
	"slices"
	"testing"

	"github.com/teamslink/teamslink/collectors"
)

var testRecord = collectors.Record{Name: "organization", Fields: []collectors.Field{
	{Name: "organizationid", Kind: collectors.GUID},
	{Name: "sharepointdeploymenttype", Kind: collectors.Int, Nullable: true},
	{Name: "isonedriveenabled", Kind: collectors.Bool},
	{Name: "name", Kind: collectors.String},
	{Name: "policy", Kind: collectors.IntOrStr},
	{Name: "plans", Kind: collectors.Array},
}}

const completeRow = `{"organizationid":"6a0f2b1c-3d4e-4f50-8a61-7b2c3d4e5f60","sharepointdeploymenttype":null,"isonedriveenabled":false,"name":"","policy":"BlockAccess","plans":[]}`

func TestRequire(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		row     string
		missing []string
		err     bool
	}{
		{name: "complete, null where nullable", row: completeRow},
		{name: "absent Boolean", row: `{"organizationid":"6a0f2b1c-3d4e-4f50-8a61-7b2c3d4e5f60","sharepointdeploymenttype":0,"name":"x","policy":1,"plans":[]}`, missing: []string{"isonedriveenabled"}},
		{name: "null Boolean", row: `{"organizationid":"6a0f2b1c-3d4e-4f50-8a61-7b2c3d4e5f60","sharepointdeploymenttype":0,"isonedriveenabled":null,"name":"x","policy":1,"plans":[]}`, missing: []string{"isonedriveenabled"}},
		{name: "absent nullable is still missing", row: `{"organizationid":"6a0f2b1c-3d4e-4f50-8a61-7b2c3d4e5f60","isonedriveenabled":true,"name":"x","policy":1,"plans":[]}`, missing: []string{"sharepointdeploymenttype"}},
		{name: "everything absent", row: `{}`, missing: []string{"organizationid", "sharepointdeploymenttype", "isonedriveenabled", "name", "policy", "plans"}},
		{name: "not a GUID", row: `{"organizationid":"contoso","sharepointdeploymenttype":0,"isonedriveenabled":true,"name":"x","policy":1,"plans":[]}`, err: true},
		{name: "Boolean as a number", row: `{"organizationid":"6a0f2b1c-3d4e-4f50-8a61-7b2c3d4e5f60","sharepointdeploymenttype":0,"isonedriveenabled":0,"name":"x","policy":1,"plans":[]}`, err: true},
		{name: "fractional choice", row: `{"organizationid":"6a0f2b1c-3d4e-4f50-8a61-7b2c3d4e5f60","sharepointdeploymenttype":0.5,"isonedriveenabled":true,"name":"x","policy":1,"plans":[]}`, err: true},
		{name: "not an object", row: `[1]`, err: true},
		{name: "null row", row: `null`, err: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := testRecord.Require(json.RawMessage(tt.row))
			var inc *collectors.IncompleteError
			switch {
			case tt.missing != nil:
				if !errors.As(err, &inc) || !slices.Equal(inc.Missing, tt.missing) {
					t.Fatalf("err = %v, want missing %v", err, tt.missing)
				}
			case tt.err:
				if err == nil || errors.As(err, &inc) {
					t.Fatalf("err = %v, want a type error", err)
				}
			case err != nil:
				t.Fatalf("err = %v, want nil", err)
			}
		})
	}
}

// FuzzRequire feeds the row checker arbitrary rows: it never panics, and a
// row it accepts has every non-nullable field present, not null, and of its
// kind as encoding/json reads it.
//
// Run it with:
//
//	go test ./collectors -run '^$' -fuzz FuzzRequire -fuzztime 30s
func FuzzRequire(f *testing.F) {
	for _, seed := range []string{completeRow, `{}`, `null`, `[]`, `{"organizationid":null}`, `{"isonedriveenabled":"true"}`, `{"policy":1e3}`, `{"plans":{}}`, `{"organizationid":"6A0F2B1C-3D4E-4F50-8A61-7B2C3D4E5F60 "}`} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, row []byte) {
		if testRecord.Require(row) != nil {
			return
		}
		var m map[string]any
		if err := json.Unmarshal(row, &m); err != nil {
			t.Fatalf("accepted a row that is not an object: %v", err)
		}
		for _, fd := range testRecord.Fields {
			v, ok := m[fd.Name]
			if !ok {
				t.Fatalf("accepted a row without %s", fd.Name)
			}
			if v == nil {
				if !fd.Nullable {
					t.Fatalf("accepted null %s", fd.Name)
				}
				continue
			}
			var good bool
			switch fd.Kind {
			case collectors.Bool:
				_, good = v.(bool)
			case collectors.String, collectors.GUID:
				_, good = v.(string)
			case collectors.Int:
				n, isNum := v.(float64)
				good = isNum && n == float64(int64(n))
			case collectors.IntOrStr:
				_, isStr := v.(string)
				n, isNum := v.(float64)
				good = isStr || isNum && n == float64(int64(n))
			case collectors.Array:
				_, good = v.([]any)
			}
			if !good {
				t.Fatalf("accepted %s = %v (%T) as %s", fd.Name, v, v, fd.Kind)
			}
		}
	})
}
