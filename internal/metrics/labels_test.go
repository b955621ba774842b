package metrics_test

import (
	"slices"
	"testing"

	"github.com/teamslink/teamslink/internal/metrics"
)

func TestEnvironmentLabel(t *testing.T) {
	t.Parallel()
	tests := []struct{ url, want string }{
		{"https://contoso.crm.dynamics.com", "contoso"},
		{"https://Contoso-Dev.crm4.dynamics.com/", "contoso-dev"},
		{"https://contoso.crm.dynamics.com:443/api/data/v9.2/", "contoso"},
		{"contoso.crm.microsoftdynamics.us", "contoso"},
		{"https://127.0.0.1:8443", "127.0.0.1"},
		{"https://[::1]:8443", "::1"},
		{"https://", "unknown"},
		{"", "unknown"},
		{"%zz", "unknown"},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			t.Parallel()
			if got := metrics.EnvironmentLabel(tt.url); got != tt.want {
				t.Errorf("EnvironmentLabel(%q) = %q, want %q", tt.url, got, tt.want)
			}
		})
	}
}

func TestEnvironmentLabels(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		urls []string
		want []string
	}{
		{"distinct", []string{"https://a.crm.dynamics.com", "https://b.crm4.dynamics.com"}, []string{"a", "b"}},
		{"first labels collide", []string{"https://a.crm.dynamics.com", "https://a.crm4.dynamics.com", "https://b.crm.dynamics.com"},
			[]string{"a.crm.dynamics.com", "a.crm4.dynamics.com", "b"}},
		{"same host twice", []string{"https://a.crm.dynamics.com", "https://A.crm.dynamics.com/"}, []string{"a.crm.dynamics.com", "a.crm.dynamics.com~2"}},
		{"no host twice", []string{"", "https://"}, []string{"unknown", "unknown~2"}},
		{"none", nil, []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := metrics.EnvironmentLabels(tt.urls); !slices.Equal(got, tt.want) {
				t.Errorf("EnvironmentLabels(%q) = %q, want %q", tt.urls, got, tt.want)
			}
		})
	}
}
