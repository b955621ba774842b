package sharepoint

import (
	"strings"
	"testing"
)

func TestParsePolicy(t *testing.T) {
	t.Parallel()
	tests := []struct {
		body, name, raw, err string
	}{
		{`{"ConditionalAccessPolicy":0}`, "AllowFullAccess", "0", ""},
		{`{"ConditionalAccessPolicy":1,"SharingCapability":2}`, "AllowLimitedAccess", "1", ""},
		{`{"d":{"ConditionalAccessPolicy":2}}`, "BlockAccess", "2", ""},
		{`{"ConditionalAccessPolicy":"AuthenticationContext"}`, "AuthenticationContext", "AuthenticationContext", ""},
		{`{"ConditionalAccessPolicy":"blockaccess"}`, "BlockAccess", "blockaccess", ""},
		{`{"ConditionalAccessPolicy":"1"}`, "AllowLimitedAccess", "1", ""},
		{`{"ConditionalAccessPolicy":7}`, "", "7", "unknown ConditionalAccessPolicy value 7"},
		{`{"ConditionalAccessPolicy":"ProtectionLevel"}`, "", "ProtectionLevel", `unknown ConditionalAccessPolicy "ProtectionLevel"`},
		{`{"ConditionalAccessPolicy":true}`, "", "", "neither a number nor a name"},
		{`{"SharingCapability":2}`, "", "", "no ConditionalAccessPolicy"},
		{`<html>`, "", "", "decode tenant properties"},
	}
	for _, tt := range tests {
		t.Run(tt.body, func(t *testing.T) {
			t.Parallel()
			name, raw, err := parsePolicy([]byte(tt.body))
			if name != tt.name || raw != tt.raw {
				t.Errorf("parsePolicy = %q, %q; want %q, %q", name, raw, tt.name, tt.raw)
			}
			if (err == nil) != (tt.err == "") || (err != nil && !strings.Contains(err.Error(), tt.err)) {
				t.Errorf("error = %v, want %q", err, tt.err)
			}
		})
	}
}
