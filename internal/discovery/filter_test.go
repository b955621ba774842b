package discovery

import (
	"errors"
	"strings"
	"testing"
)

var sample = []Environment{
	{URL: "https://contoso.crm.dynamics.com", Name: "Contoso Sales", Type: TypeProduction, State: StateEnabled},
	{URL: "https://contoso-dev.crm.dynamics.com", Name: "Contoso Dev", Type: TypeDeveloper, State: StateEnabled},
	{URL: "https://contoso-old.crm.dynamics.com", Name: "Contoso Old", Type: TypeSandbox, State: StateDisabled},
	{URL: "https://orgdefault.crm.dynamics.com", Name: "Contoso (default)", Type: TypeProduction, Default: true, State: StateEnabled},
	{Name: "Teams only", Type: TypeProduction, State: StateEnabled},
	{URL: "https://contoso-test.crm4.dynamics.com/", Name: "Contoso Test", Type: TypeSandbox, State: StateEnabled},
}

func TestDecide(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		filter Filter
		want   []string // per sample environment: "" scanned, else the reason
	}{
		{
			name:   "no filter",
			filter: Filter{},
			want:   []string{"", "", "", "", "with no Dataverse database", ""},
		},
		{
			name:   "enabled only",
			filter: Filter{States: []string{"enabled"}},
			want:   []string{"", "", "in state Disabled (states: enabled)", "", "with no Dataverse database", ""},
		},
		{
			name:   "types, default by flag",
			filter: Filter{Types: []string{TypeSandbox, TypeDefault}},
			want: []string{
				"of type Production (types: Sandbox, Default)", "of type Developer (types: Sandbox, Default)",
				"", "", "with no Dataverse database", "",
			},
		},
		{
			name:   "include by host glob, exclude by name",
			filter: Filter{Include: []string{"contoso-*.crm*.dynamics.com"}, Exclude: []string{"*test*"}},
			want: []string{
				"matching no include pattern", "", "", "matching no include pattern", "with no Dataverse database",
				"matching exclude pattern *test*",
			},
		},
		{
			name:   "include by URL and by name, any case",
			filter: Filter{Include: []string{"https://CONTOSO.crm.dynamics.com", "contoso ?ev"}},
			want: []string{
				"", "", "matching no include pattern", "matching no include pattern", "with no Dataverse database",
				"matching no include pattern",
			},
		},
		{
			name:   "unknown host refused",
			filter: Filter{KnownHost: func(h string) bool { return strings.HasSuffix(h, ".crm.dynamics.com") }},
			want: []string{
				"", "", "", "", "with no Dataverse database",
				"on a host that is not a Dynamics 365 host of the tenant's cloud",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := tt.filter.Decide(sample)
			if len(got) != len(sample) {
				t.Fatalf("%d decisions for %d environments", len(got), len(sample))
			}
			for i, d := range got {
				if d.Reason != tt.want[i] || d.Scan != (tt.want[i] == "") {
					t.Errorf("%s: scan %v reason %q; want %q", sample[i].Name, d.Scan, d.Reason, tt.want[i])
				}
			}
		})
	}
}

func TestDecideRefusesOddURLsAndDuplicates(t *testing.T) {
	t.Parallel()
	envs := []Environment{
		{URL: "http://plain.crm.dynamics.com", State: StateEnabled},
		{URL: "https://path.crm.dynamics.com/main.aspx", State: StateEnabled},
		{URL: "https://user@userinfo.crm.dynamics.com", State: StateEnabled},
		{URL: "https://twice.crm.dynamics.com", State: StateEnabled},
		{URL: "https://TWICE.crm.dynamics.com/", State: StateEnabled},
		{URL: "https://nostate.crm.dynamics.com"},
	}
	got := Filter{States: []string{StateEnabled}}.Decide(envs)
	want := []string{
		"with a URL that is not an https root URL", "with a URL that is not an https root URL", "with a URL that is not an https root URL",
		"", "listed twice by the service", "in state unknown (states: Enabled)",
	}
	for i, d := range got {
		if d.Reason != want[i] {
			t.Errorf("%s: reason %q, want %q", envs[i].URL, d.Reason, want[i])
		}
	}
}

func TestGlob(t *testing.T) {
	t.Parallel()
	tests := []struct {
		pattern, s string
		want       bool
	}{
		{"*", "anything at all", true},
		{"contoso-*", "Contoso-Sales", true},
		{"contoso-*", "xcontoso-sales", false},
		{"https://*.crm4.dynamics.com", "https://fabrikam.crm4.dynamics.com", true},
		{"*.crm4.dynamics.com", "fabrikam.crm4xdynamics.com", false},
		{"dev?", "dev1", true},
		{"dev?", "dev12", false},
		{"a+b(c)[d]", "a+b(c)[d]", true},
		{"", "", true},
		{"", "x", false},
	}
	for _, tt := range tests {
		t.Run(tt.pattern+"/"+tt.s, func(t *testing.T) {
			t.Parallel()
			if got := Glob(tt.pattern).MatchString(tt.s); got != tt.want {
				t.Fatalf("Glob(%q).MatchString(%q) = %v, want %v", tt.pattern, tt.s, got, tt.want)
			}
		})
	}
}

func TestNoMatch(t *testing.T) {
	t.Parallel()
	r := &Result{Source: SourceBAP, Found: Filter{Types: []string{TypeTrial}, States: []string{StateEnabled}}.Decide(sample)}
	err := r.NoMatch()
	if !errors.Is(err, ErrNoMatch) {
		t.Fatalf("NoMatch() = %v, want ErrNoMatch", err)
	}
	want := "discover environments through the Power Platform admin API: no environment to scan: 6 found, none matched the filters " +
		"(2 of type Production (types: Trial); 1 of type Developer (types: Trial); 2 of type Sandbox (types: Trial); 1 with no Dataverse database)"
	if err.Error() != want {
		t.Fatalf("NoMatch() =\n%s\nwant\n%s", err, want)
	}
	ok := &Result{Source: SourceBAP, Found: Filter{}.Decide(sample)}
	if err := ok.NoMatch(); err != nil {
		t.Fatalf("NoMatch() with matches = %v", err)
	}
}
