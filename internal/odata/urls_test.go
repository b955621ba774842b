package odata

import (
	"strings"
	"testing"
)

func TestResolveNextLink(t *testing.T) {
	t.Parallel()
	c := &Client{base: mustParse(t, "https://org.crm.dynamics.com/api/data/v9.2/"), tokens: &tokenCache{}}
	current := mustParse(t, "https://org.crm.dynamics.com/api/data/v9.2/accounts?$select=name")
	tests := []struct {
		name, link, want, wantErr string
	}{
		{name: "the fragment of an absolute link is dropped", link: "https://org.crm.dynamics.com/api/data/v9.2/accounts?$skiptoken=2#top", want: "https://org.crm.dynamics.com/api/data/v9.2/accounts?$skiptoken=2%23top"},
		{name: "the fragment of a link without a query is dropped", link: "https://org.crm.dynamics.com/api/data/v9.2/accounts#top", want: "https://org.crm.dynamics.com/api/data/v9.2/accounts"},
		{name: "control bytes are quoted within the bound", link: "#" + strings.Repeat("\x87", 4000), wantErr: "bytes elided"},
		{name: "a huge port is bounded", link: "https://org.crm.dynamics.com:" + strings.Repeat("9x", 4000) + "/", wantErr: "bytes elided"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := c.resolveNext(current, tt.link)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || len(err.Error()) > 2*MaxErrorText+100 {
					t.Fatalf("err = %d bytes %.300q, want a bounded one containing %q", len(err.Error()), err, tt.wantErr)
				}
				return
			}
			if err != nil || got.String() != tt.want {
				t.Fatalf("resolveNext = %v, %v; want %s", got, err, tt.want)
			}
		})
	}
}
