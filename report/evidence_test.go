package report

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
)

func TestEvidenceLines(t *testing.T) {
	t.Parallel()
	records := func(n int) []any {
		out := make([]any, n)
		for i := range out {
			out[i] = map[string]any{
				"sharepointsiteid": fmt.Sprintf("id-%d", i+1),
				"absoluteurl":      fmt.Sprintf("https://x.sharepoint.com/sites/s%d", i+1),
				"statecode":        0,
			}
		}
		return out
	}
	many := map[string]any{}
	for i := range 20 {
		many[fmt.Sprintf("k%02d", i)] = i
	}
	tests := []struct {
		name string
		ev   map[string]any
		want []string
	}{
		{name: "none", ev: nil, want: nil},
		{name: "scalars sorted", ev: map[string]any{
			"section": "environment.sharePointSites", "httpStatus": 503, "error": "Service\n  Unavailable", "ok": false, "x": nil, "empty": "",
		}, want: []string{
			`empty: ""`, "error: Service Unavailable", "httpStatus: 503", "ok: false", "section: environment.sharePointSites", "x: null",
		}},
		{name: "numbers keep their form", ev: map[string]any{"big": int64(1) << 53, "ratio": 0.25, "n": json.Number("12")},
			want: []string{"big: 9007199254740992", "n: 12", "ratio: 0.25"}},
		{name: "nested objects flatten", ev: map[string]any{
			"integration": map[string]any{"configured": false, "reasoning": map[string]any{"deploymentType": nil, "site": map[string]any{"id": "s1", "servicetype": 0}}},
			"empty":       map[string]any{},
		}, want: []string{
			"empty: {}", "integration.configured: false", "integration.reasoning.deploymentType: null", "integration.reasoning.site: id=s1",
		}},
		{name: "scalar list bounded", ev: map[string]any{"scopes": []any{"a", "b", "c", "d", "e", "f", "g"}, "none": []any{}},
			want: []string{"none: none", "scopes: a, b, c, d, e … and 2 more"}},
		{name: "typed Go lists", ev: map[string]any{"missingScopes": []string{"User.Read.All"}},
			want: []string{"missingScopes: User.Read.All"}},
		{name: "record identified by name and id", ev: map[string]any{"roles": []any{
			map[string]any{"name": "System Administrator", "roleid": "r1", "roletemplateid": "t1", "isinherited": false},
		}}, want: []string{"roles: 1 record", "  - name=System Administrator roleid=r1"}},
		{name: "records within bound", ev: map[string]any{"sample": records(2)}, want: []string{
			"sample: 2 records",
			"  - absoluteurl=https://x.sharepoint.com/sites/s1 sharepointsiteid=id-1",
			"  - absoluteurl=https://x.sharepoint.com/sites/s2 sharepointsiteid=id-2",
		}},
		{name: "one record", ev: map[string]any{"sample": records(1)}, want: []string{
			"sample: 1 record",
			"  - absoluteurl=https://x.sharepoint.com/sites/s1 sharepointsiteid=id-1",
		}},
		{name: "records beyond bound", ev: map[string]any{"sample": records(8)}, want: []string{
			"sample: 8 records",
			"  - absoluteurl=https://x.sharepoint.com/sites/s1 sharepointsiteid=id-1",
			"  - absoluteurl=https://x.sharepoint.com/sites/s2 sharepointsiteid=id-2",
			"  - absoluteurl=https://x.sharepoint.com/sites/s3 sharepointsiteid=id-3",
			"  - absoluteurl=https://x.sharepoint.com/sites/s4 sharepointsiteid=id-4",
			"  - absoluteurl=https://x.sharepoint.com/sites/s5 sharepointsiteid=id-5",
			"  … and 3 more",
		}},
		{name: "record without identifying fields", ev: map[string]any{"grants": []any{
			map[string]any{"consentType": "Principal", "scope": "User.Read", "nested": map[string]any{"a": 1}},
			map[string]any{"nested": map[string]any{"a": 1}},
		}}, want: []string{
			"grants: 2 records", "  - consentType=Principal scope=User.Read", "  - {1 fields}",
		}},
		{name: "mixed list", ev: map[string]any{"mixed": []any{"a", map[string]any{"id": "b"}, []any{1, 2}}}, want: []string{
			"mixed: 3 items", "  - a", "  - id=b", "  - [2 items]",
		}},
		{name: "long value truncated", ev: map[string]any{"error": strings.Repeat("x", maxValueRunes+100)}, want: []string{
			"error: " + strings.Repeat("x", maxValueRunes-1) + "…",
		}},
		{name: "line cap", ev: many, want: func() []string {
			var out []string
			for i := range maxEvidenceLines - 1 {
				out = append(out, fmt.Sprintf("k%02d: %d", i, i))
			}
			return append(out, "… and 5 more lines (the json format has the full evidence)")
		}()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := evidenceLines(tt.ev)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("evidenceLines =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}

func TestEvidenceLinesRejectsNonJSON(t *testing.T) {
	t.Parallel()
	if _, err := evidenceLines(map[string]any{"ch": make(chan int)}); err == nil {
		t.Fatal("evidence holding a channel rendered without error")
	}
}
