package query

import (
	"errors"
	"strings"
	"testing"
	"time"
)

var testSchema = map[string]Type{
	"statecode":                   Int,
	"name":                        String,
	"absoluteurl":                 String,
	"isdefault":                   Bool,
	"servicetype":                 Int,
	"_parentsiteorlocation_value": GUID,
	"createdon":                   DateTime,
	"IsCustomizable/Value":        Bool,
	"LogicalName":                 String,
	"score":                       Float,
}

func resolve(name string) (Type, bool) {
	t, ok := testSchema[name]
	return t, ok
}

var dataverseFuncs = FilterOptions{Functions: []string{"startswith", "endswith", "contains"}}

func TestParseFilterMatches(t *testing.T) {
	t.Parallel()
	row := map[string]any{
		"statecode":                   int64(0),
		"name":                        "Sales Site",
		"absoluteurl":                 "https://contoso.sharepoint.com/sites/sales",
		"isdefault":                   true,
		"servicetype":                 0,
		"_parentsiteorlocation_value": nil,
		"createdon":                   time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC),
		"IsCustomizable/Value":        true,
		"LogicalName":                 "new_project",
		"score":                       2.5,
	}
	get := func(name string) any { return row[name] }
	tests := []struct {
		name   string
		filter string
		want   bool
	}{
		{"int eq", "statecode eq 0", true},
		{"int ne", "statecode ne 0", false},
		{"bool literal", "isdefault eq true", true},
		{"bare bool property", "isdefault", true},
		{"not bare bool", "not isdefault", false},
		{"null eq", "_parentsiteorlocation_value eq null", true},
		{"null ne", "absoluteurl ne null", true},
		{"null ne on null", "_parentsiteorlocation_value ne null", false},
		{"guid literal against null", "_parentsiteorlocation_value eq 5e8a2c4f-7d1b-4e93-a6c0-2f9b8d3e1a57", false},
		{"string case-insensitive", "name eq 'sales site'", true},
		{"escaped quote", "name eq 'O''Brien'", false},
		{"and/or precedence", "statecode eq 1 or statecode eq 0 and isdefault eq true", true},
		{"parentheses", "(statecode eq 1 or statecode eq 0) and isdefault eq false", false},
		{"gt lt", "servicetype ge 0 and servicetype lt 3", true},
		{"gt with null", "_parentsiteorlocation_value gt null", false},
		{"startswith", "startswith(name,'sales')", true},
		{"endswith", "endswith(absoluteurl,'/SALES')", true},
		{"contains", "contains(absoluteurl,'sharepoint')", true},
		{"function eq true", "startswith(name,'x') eq false", true},
		{"datetime", "createdon gt 2024-01-01T00:00:00Z", true},
		{"date only", "createdon lt 2024-01-01", false},
		{"managed property path", "IsCustomizable/Value eq true", true},
		{"or chain", "LogicalName eq 'account' or LogicalName eq 'contact' or LogicalName eq 'new_project'", true},
		{"float", "score gt 2", true},
		{"negative int", "statecode gt -1", true},
		{"not parenthesised", "not (statecode eq 1)", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f, err := ParseFilter(tc.filter, resolve, dataverseFuncs)
			if err != nil {
				t.Fatalf("ParseFilter(%q): %v", tc.filter, err)
			}
			if got := f.Match(get); got != tc.want {
				t.Errorf("Match(%q) = %v, want %v", tc.filter, got, tc.want)
			}
		})
	}
}

func TestParseFilterErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		filter  string
		target  any
		message string
	}{
		{"unknown property", "foo eq 1", new(*UnknownPropertyError), "'foo'"},
		{"type mismatch", "isdefault eq 'yes'", new(*TypeError), "'Edm.Boolean' and 'Edm.String' for operator kind 'Equal'"},
		{"quoted guid", "_parentsiteorlocation_value eq '5e8a2c4f-7d1b-4e93-a6c0-2f9b8d3e1a57'", new(*TypeError), "Edm.Guid"},
		{"dangling operator", "statecode eq", new(*SyntaxError), "position 12"},
		{"unterminated string", "name eq 'abc", new(*SyntaxError), "unterminated"},
		{"missing paren", "(statecode eq 0", new(*SyntaxError), "')' expected"},
		{"trailing token", "statecode eq 0 0", new(*SyntaxError), "unexpected"},
		{"non-bool alone", "statecode", new(*SyntaxError), "comparison operator expected"},
		{"unknown function", "substringof('a',name)", new(*UnsupportedError), "substringof"},
		{"lambda", "roles/any(r:r/name eq 'x')", new(*UnsupportedError), "lambda"},
		{"in operator", "statecode in (0,1)", new(*UnsupportedError), "'in'"},
		{"bad function args", "startswith(statecode,'a')", new(*FunctionArgError), "startswith"},
		{"bad character", "statecode eq 0 & 1", new(*SyntaxError), "unexpected character"},
		{"empty", "", new(*SyntaxError), "operand expected"},
		{"deep nesting", strings.Repeat("(", 200) + "isdefault" + strings.Repeat(")", 200), new(*SyntaxError), "nested too deeply"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := ParseFilter(tc.filter, resolve, dataverseFuncs)
			if err == nil {
				t.Fatalf("ParseFilter(%q) succeeded, want error", tc.filter)
			}
			if !errors.As(err, tc.target) {
				t.Errorf("ParseFilter(%q) error %T (%v), want %T", tc.filter, err, err, tc.target)
			}
			if !strings.Contains(err.Error(), tc.message) {
				t.Errorf("error %q does not mention %q", err.Error(), tc.message)
			}
		})
	}
}

func TestParseOrderBy(t *testing.T) {
	t.Parallel()
	got, err := ParseOrderBy("isdefault desc, name", resolve)
	if err != nil {
		t.Fatal(err)
	}
	want := []OrderItem{{Name: "isdefault", Desc: true}, {Name: "name"}}
	if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] {
		t.Errorf("ParseOrderBy = %+v, want %+v", got, want)
	}
	for _, bad := range []string{"nope", "name sideways", "", "name,"} {
		if _, err := ParseOrderBy(bad, resolve); err == nil {
			t.Errorf("ParseOrderBy(%q) succeeded, want error", bad)
		}
	}
}

func TestParseSelect(t *testing.T) {
	t.Parallel()
	got, err := ParseSelect("name, roleid,_roletemplateid_value")
	if err != nil || strings.Join(got, "|") != "name|roleid|_roletemplateid_value" {
		t.Errorf("ParseSelect = %v, %v", got, err)
	}
	for _, bad := range []string{"", "a,,b", "a b", "1abc"} {
		if _, err := ParseSelect(bad); err == nil {
			t.Errorf("ParseSelect(%q) succeeded, want error", bad)
		}
	}
}

func TestParseExpand(t *testing.T) {
	t.Parallel()
	got, err := ParseExpand("teamroles_association($select=name,roleid,_roletemplateid_value;$filter=name ne 'a;b'),other")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Name != "teamroles_association" || got[1].Name != "other" {
		t.Fatalf("ParseExpand = %+v", got)
	}
	if got[0].Options["$select"] != "name,roleid,_roletemplateid_value" || got[0].Options["$filter"] != "name ne 'a;b'" {
		t.Errorf("options = %+v", got[0].Options)
	}
	for _, bad := range []string{"a(", "a($select=x", "a)(", "a(select=x)", "a($select=x;$select=y)"} {
		if _, err := ParseExpand(bad); err == nil {
			t.Errorf("ParseExpand(%q) succeeded, want error", bad)
		}
	}
}

func TestParsePrefer(t *testing.T) {
	t.Parallel()
	p := ParsePrefer([]string{`odata.include-annotations="Microsoft.Dynamics.CRM.totalrecordcount,Microsoft.Dynamics.CRM.totalrecordcountlimitexceeded", odata.maxpagesize=2`, "odata.continue-on-error"})
	if p["odata.maxpagesize"] != "2" {
		t.Errorf("maxpagesize = %q", p["odata.maxpagesize"])
	}
	if _, ok := p["odata.continue-on-error"]; !ok {
		t.Error("continue-on-error missing")
	}
	m := AnnotationMatcher(p["odata.include-annotations"])
	if !m("Microsoft.Dynamics.CRM.totalrecordcount") || m("OData.Community.Display.V1.FormattedValue") {
		t.Error("annotation matcher wrong for explicit list")
	}
	all := AnnotationMatcher("*,-Microsoft.Dynamics.CRM.*")
	if !all("OData.Community.Display.V1.FormattedValue") || all("Microsoft.Dynamics.CRM.totalrecordcount") {
		t.Error("annotation matcher wrong for wildcard with exclusion")
	}
}

// FuzzParseFilter checks the $filter parser never panics and that whatever
// it accepts can be evaluated. Run with:
//
//	go test ./internal/emulator/query -run '^$' -fuzz FuzzParseFilter -fuzztime 30s
func FuzzParseFilter(f *testing.F) {
	for _, seed := range []string{
		"statecode eq 0",
		"absoluteurl ne null and servicetype ne 3",
		"LogicalName eq 'account' or LogicalName eq 'contact'",
		"startswith(name,'Dyn''amics')",
		"not (isdefault eq true) and createdon gt 2024-01-01T00:00:00Z",
		"_parentsiteorlocation_value eq 5e8a2c4f-7d1b-4e93-a6c0-2f9b8d3e1a57",
		"((((",
		"'",
	} {
		f.Add(seed)
	}
	row := map[string]any{"statecode": 0, "name": "x", "isdefault": false}
	f.Fuzz(func(t *testing.T, src string) {
		flt, err := ParseFilter(src, resolve, dataverseFuncs)
		if err != nil {
			return
		}
		flt.Match(func(name string) any { return row[name] })
	})
}

// FuzzParseExpand checks the $expand parser never panics. Run with:
//
//	go test ./internal/emulator/query -run '^$' -fuzz FuzzParseExpand -fuzztime 30s
func FuzzParseExpand(f *testing.F) {
	f.Add("teamroles_association($select=name,roleid;$filter=name ne 'a')")
	f.Add("a(b(c))")
	f.Fuzz(func(t *testing.T, src string) {
		_, _ = ParseExpand(src)
	})
}

func TestNullTestsOnly(t *testing.T) {
	t.Parallel()
	tests := []struct {
		filter, name string
		want         bool
	}{
		{"absoluteurl ne null and servicetype ne 3", "absoluteurl", true},
		{"null eq absoluteurl", "absoluteurl", true},
		{"not (absoluteurl eq null) or statecode eq 0", "absoluteurl", true},
		{"absoluteurl ne null and servicetype ne 3", "servicetype", false},
		{"absoluteurl ne null", "name", true},
		{"absoluteurl eq 'x'", "absoluteurl", false},
		{"absoluteurl ne null and contains(absoluteurl,'5')", "absoluteurl", false},
		{"startswith(name,'a')", "name", false},
		{"isdefault", "isdefault", false},
	}
	for _, tc := range tests {
		t.Run(tc.filter+"/"+tc.name, func(t *testing.T) {
			t.Parallel()
			f, err := ParseFilter(tc.filter, resolve, dataverseFuncs)
			if err != nil {
				t.Fatal(err)
			}
			if got := f.NullTestsOnly(tc.name); got != tc.want {
				t.Errorf("NullTestsOnly(%s) = %v, want %v", tc.name, got, tc.want)
			}
		})
	}
}
