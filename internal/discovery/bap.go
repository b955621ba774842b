package discovery

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/teamslink/teamslink/internal/odata"
)

// BAPPath is the list call of the Power Platform admin API, relative to its
// root (fleet facts §1b; 2020-10-01 is the only documented api-version).
const BAPPath = "providers/Microsoft.BusinessAppPlatform/scopes/admin/environments?api-version=2020-10-01"

// MaxPages bounds how many pages one listing reads: a next link that never
// ends is an error, not an endless loop.
const MaxPages = 1000

// BAP lists a tenant's environments through the Power Platform admin API.
type BAP struct {
	client *odata.Client
}

// NewBAP returns a lister that sends BAPPath through c, whose base URL is
// the admin API root (https://api.bap.microsoft.com/ in the public cloud)
// and whose token scope is the admin API's (cloud.Cloud.AdminAPIScope).
func NewBAP(c *odata.Client) *BAP { return &BAP{client: c} }

// Source is SourceBAP.
func (b *BAP) Source() Source { return SourceBAP }

// bapPage is one answer of the list call. BAP paging is not documented
// (fleet facts §1b, NOT CONFIRMED): nextLink, or @odata.nextLink, is
// followed when present.
type bapPage struct {
	Value         *[]json.RawMessage `json:"value"`
	NextLink      string             `json:"nextLink"`
	ODataNextLink string             `json:"@odata.nextLink"`
}

// bapEnvironment is the part of an environment the list call returns that
// teamslink reads (Microsoft's example in list-environments.md).
type bapEnvironment struct {
	Name       *string `json:"name"`
	Location   string  `json:"location"`
	Properties *struct {
		DisplayName    string `json:"displayName"`
		AzureRegion    string `json:"azureRegion"`
		EnvironmentSku string `json:"environmentSku"`
		IsDefault      bool   `json:"isDefault"`
		States         *struct {
			Runtime *struct {
				ID string `json:"id"`
			} `json:"runtime"`
		} `json:"states"`
		Linked *struct {
			ResourceID   string `json:"resourceId"`
			FriendlyName string `json:"friendlyName"`
			UniqueName   string `json:"uniqueName"`
			Version      string `json:"version"`
			InstanceURL  string `json:"instanceUrl"`
		} `json:"linkedEnvironmentMetadata"`
	} `json:"properties"`
}

// List reads every page of the list call. An answer without a value array,
// or an environment without its name or properties, is an error: what
// cannot be read is never dropped in silence.
func (b *BAP) List(ctx context.Context) ([]Environment, error) {
	var out []Environment
	path := BAPPath
	seen := map[string]bool{}
	for page := 1; ; page++ {
		if page > MaxPages {
			return nil, fmt.Errorf("list environments: more than %d pages", MaxPages)
		}
		var pg bapPage
		resp, err := b.client.Get(ctx, path, &pg)
		if err != nil {
			return nil, fmt.Errorf("list environments, page %d: %w", page, err)
		}
		if pg.Value == nil {
			return nil, &odata.DecodeError{Method: "GET", URL: resp.RequestURL, Err: errors.New(`the response has no "value" array`)}
		}
		for i, raw := range *pg.Value {
			e, err := decodeBAP(raw)
			if err != nil {
				return nil, &odata.DecodeError{Method: "GET", URL: resp.RequestURL, Err: fmt.Errorf("value[%d]: %w", i, err)}
			}
			out = append(out, e)
		}
		next := pg.NextLink
		if next == "" {
			next = pg.ODataNextLink
		}
		if next == "" {
			return out, nil
		}
		if seen[next] || next == path {
			return nil, &odata.DecodeError{Method: "GET", URL: resp.RequestURL, Err: errors.New("the next link points at a page already read")}
		}
		seen[next] = true
		path = next
	}
}

func decodeBAP(raw json.RawMessage) (Environment, error) {
	var be bapEnvironment
	if err := json.Unmarshal(raw, &be); err != nil {
		return Environment{}, err
	}
	switch {
	case be.Name == nil:
		return Environment{}, errors.New(`no "name" (the environment id)`)
	case be.Properties == nil:
		return Environment{}, errors.New(`no "properties"`)
	}
	p := be.Properties
	e := Environment{
		ID:      *be.Name,
		Name:    p.DisplayName,
		Type:    p.EnvironmentSku,
		Default: p.IsDefault,
		Region:  be.Location,
	}
	if e.Region == "" {
		e.Region = p.AzureRegion
	}
	if p.States != nil && p.States.Runtime != nil {
		e.State = p.States.Runtime.ID
	}
	if l := p.Linked; l != nil {
		e.URL = strings.TrimSuffix(strings.TrimSpace(l.InstanceURL), "/")
		e.OrganizationID = l.ResourceID
		e.UniqueName = l.UniqueName
		e.Version = l.Version
		if e.Name == "" {
			e.Name = l.FriendlyName
		}
	}
	return e, nil
}
