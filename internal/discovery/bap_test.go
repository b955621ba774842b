package discovery

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"

	"github.com/teamslink/teamslink/internal/odata"
)

type staticToken struct{}

func (staticToken) GetToken(context.Context, policy.TokenRequestOptions) (azcore.AccessToken, error) {
	return azcore.AccessToken{Token: "test-token", ExpiresOn: time.Now().Add(time.Hour)}, nil
}

// bapServer answers the list call under /prefix/ with the pages given, the
// first for BAPPath and each later one for the path its key names.
func bapServer(t *testing.T, pages map[string]string) *BAP {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("/prefix/", func(w http.ResponseWriter, r *http.Request) {
		key := strings.TrimPrefix(r.URL.RequestURI(), "/prefix/")
		body, ok := pages[key]
		if !ok {
			http.Error(w, "no page "+key, http.StatusNotFound)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(body))
	})
	srv := httptest.NewTLSServer(mux)
	t.Cleanup(srv.Close)
	base, _ := url.Parse(srv.URL + "/prefix/")
	c, err := odata.New(base, staticToken{}, odata.Options{Now: time.Now, Scopes: []string{"s/.default"}, HTTPClient: srv.Client(), Flavor: odata.Graph, MaxRetries: -1})
	if err != nil {
		t.Fatal(err)
	}
	return NewBAP(c)
}

const bapItem = `{"name":"e1","location":"europe","properties":{"displayName":"One","environmentSku":"Sandbox","states":{"runtime":{"id":"Enabled"}},"linkedEnvironmentMetadata":{"instanceUrl":"https://one.crm4.dynamics.com/","resourceId":"o1","uniqueName":"one","version":"9.2"}}}`

func TestBAPList(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		pages map[string]string
		want  string // summary, or the error text it must contain
		err   error  // errors.Is target, if any
	}{
		{
			name:  "one page",
			pages: map[string]string{BAPPath: `{"value":[` + bapItem + `]}`},
			want:  "e1 One Sandbox Enabled europe https://one.crm4.dynamics.com o1 one 9.2",
		},
		{
			name: "odata next link, relative",
			pages: map[string]string{
				BAPPath:   `{"value":[` + bapItem + `],"@odata.nextLink":"page2"}`,
				"page2":   `{"value":[{"name":"e2","properties":{"azureRegion":"westus"}}]}`,
				"unused/": `{}`,
			},
			want: "e1 One Sandbox Enabled europe https://one.crm4.dynamics.com o1 one 9.2\ne2    westus    ",
		},
		{
			name:  "next link to another host",
			pages: map[string]string{BAPPath: `{"value":[],"nextLink":"https://elsewhere.example/steal"}`},
			want:  "page 2",
			err:   odata.ErrForeignHost,
		},
		{
			name:  "next link loop",
			pages: map[string]string{BAPPath: `{"value":[],"nextLink":"again"}`, "again": `{"value":[],"nextLink":"again"}`},
			want:  "the next link points at a page already read",
		},
		{
			name:  "no value",
			pages: map[string]string{BAPPath: `{"values":[]}`},
			want:  `the response has no "value" array`,
		},
		{
			name:  "no properties",
			pages: map[string]string{BAPPath: `{"value":[{"name":"e1"}]}`},
			want:  `value[0]: no "properties"`,
		},
		{
			name:  "not JSON",
			pages: map[string]string{BAPPath: `<html>`},
			want:  "decode response of GET",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			envs, err := bapServer(t, tt.pages).List(t.Context())
			if err != nil {
				if !strings.Contains(err.Error(), tt.want) || (tt.err != nil && !errors.Is(err, tt.err)) {
					t.Fatalf("List error %v, want %q (%v)", err, tt.want, tt.err)
				}
				return
			}
			var lines []string
			for _, e := range envs {
				lines = append(lines, strings.Join([]string{e.ID, e.Name, e.Type, e.State, e.Region, e.URL, e.OrganizationID, e.UniqueName, e.Version}, " "))
			}
			if got := strings.Join(lines, "\n"); got != tt.want {
				t.Fatalf("List =\n%q\nwant\n%q", got, tt.want)
			}
		})
	}
}
