package cli

import (
	"slices"
	"testing"

	"github.com/teamslink/teamslink/internal/engine"
)

// TestExplainMessages maps every error text of the troubleshooting and
// prerequisite pages (facts §0 and §6, fleet facts §2, the seed page),
// whole, in part, or as users paste them (other case, curly quotes,
// contractions spelt out, their own names inside), to the rules and
// manual checks behind it; the messages no rule checks to their cause.
func TestExplainMessages(t *testing.T) {
	t.Parallel()
	eng, err := engine.New(t.Context(), engine.Config{})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		query     string
		rules     []string
		unchecked bool // a troubleshooting message no rule checks
	}{
		{"800503ca", []string{"TL-SP-001", "TL-SP-002", "TL-SP-003"}, false},
		{"0x800503CA", []string{"TL-SP-001", "TL-SP-002", "TL-SP-003"}, false},
		{"Error code 800503ca when enabling Teams integration", []string{"TL-SP-001", "TL-SP-002", "TL-SP-003"}, false},
		{"You cannot enable Microsoft Teams integration since the environment is integrated with SharePoint on-premises", []string{"TL-SP-004"}, false},
		{"integrated with SharePoint on premises", []string{"TL-SP-004"}, false},
		{"The admin has not consented to use user sync feature, you can add them manually.", []string{"TL-CONSENT-001"}, false},
		{"ADMIN HAS NOT CONSENTED", []string{"TL-CONSENT-001"}, false},
		{"User does not have permissions to create SharePoint Site or Document Location. This record is not connected to Dynamics 365.", []string{"TL-ROLE-003"}, false},
		{"User does not have permissions to create SharePoint Site", []string{"TL-ROLE-003"}, false},
		{"user doesn't have permissions to create sharepoint site or document location", []string{"TL-ROLE-003"}, false},
		{"This record isn't connected to Dynamics 365. Repin the tab and try again.", []string{"TL-ENT-001"}, false},
		{"This record isn\u2019t connected to Dynamics 365. Repin the tab and try again", []string{"TL-ENT-001"}, false},
		{"isn't connected to Dynamics 365", []string{"TL-ENT-001", "TL-ROLE-003"}, false},
		{"Error while creating a team or channel. The property is missing a required prefix/suffix per your organization's Group naming requirements", []string{"TL-GRP-001"}, false},
		{"required prefix/suffix", []string{"TL-GRP-001"}, false},
		{"The property 'displayName' is missing a required prefix/suffix per your organization\u2019s Group naming requirements.", []string{"TL-GRP-001"}, false},
		{"The displayName can't contain the blocked word 'blocked' as per company policy", []string{"TL-GRP-001"}, false},
		{"Error while creating a team or channel. The displayName cannot contain the blocked word \u2018Payroll\u2019 as per company policy.", []string{"TL-GRP-001"}, false},
		{"I can't find the Dynamics 365 app in the Microsoft Teams app store.", []string{"TL-MAN-001"}, false},
		{"can\u2019t find the Dynamics 365 app", []string{"TL-MAN-001"}, false},
		{"Sorry, the environment you selected isn't up-to-date or isn't supported. Please select another environment.", []string{"TL-MAN-003"}, false},
		{"Sorry! Your Dynamics 365 environment isn't the latest version and isn't supported for this feature\u2026", []string{"TL-MAN-003"}, false},
		{"isn't up to date or isn't supported", []string{"TL-MAN-003"}, false},
		{"the environment list isn't populated", []string{"TL-MAN-002"}, false},
		{"File sharing isn't set up. Go to https://contoso.crm.dynamics.com to connect a Microsoft Teams channel to this record.", nil, true},
		{"You don\u2019t have permissions to view files in this location.", nil, true},
		{"Blocked a frame with origin from accessing a cross-origin frame", nil, true},
		{"no such error anywhere", nil, false},
		{"it", nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			t.Parallel()
			var got []string
			for _, r := range rulesExplaining(eng.Rules(), tt.query) {
				got = append(got, r.ID)
			}
			if !slices.Equal(got, tt.rules) {
				t.Errorf("rules %v, want %v", got, tt.rules)
			}
			_, unchecked := uncheckedMessage(tt.query)
			if len(got) == 0 && unchecked != tt.unchecked {
				t.Errorf("unchecked message %v, want %v", unchecked, tt.unchecked)
			}
		})
	}
}

func TestFoldMessage(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"This record isn\u2019t connected!":       "this record is not connected",
		"can't / cannot":                          "can not can not",
		"prefix/suffix":                           "prefix suffix",
		"organization's":                          "organizations",
		"0x800503CA":                              "800503ca",
		"\u201cquoted\u201d \u2014 dash\u2026end": "quoted dash end",
	} {
		if got := foldMessage(in); got != want {
			t.Errorf("foldMessage(%q) = %q, want %q", in, got, want)
		}
	}
}
