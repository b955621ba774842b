package discovery

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/teamslink/teamslink/internal/odata"
)

// GDSRoot is the service root of the Global Discovery Service below its
// host (fleet facts §1a: always the full /api/discovery/v2.0/ path).
const GDSRoot = "/api/discovery/v2.0/"

// GDSPath is the Instances query, relative to GDSRoot, with the properties
// teamslink reads.
const GDSPath = "Instances?$select=EnvironmentId,FriendlyName,Id,Region,State,UniqueName,Url,Version"

// GDS lists the environments of the signed-in user through the Global
// Discovery Service.
type GDS struct {
	client *odata.Client
}

// NewGDS returns a lister that sends GDSPath through c, whose base URL is
// the service root ({gds}/api/discovery/v2.0/) and whose token scope is
// {gds}/.default.
func NewGDS(c *odata.Client) *GDS { return &GDS{client: c} }

// Source is SourceGDS.
func (g *GDS) Source() Source { return SourceGDS }

// gdsInstance is the part of an Instance teamslink reads (fleet facts §1a;
// GUIDs decoded as strings).
type gdsInstance struct {
	ID            string `json:"Id"`
	EnvironmentID string `json:"EnvironmentId"`
	FriendlyName  string `json:"FriendlyName"`
	UniqueName    string `json:"UniqueName"`
	URL           string `json:"Url"`
	State         *int   `json:"State"`
	Region        string `json:"Region"`
	Version       string `json:"Version"`
}

// List reads every page of Instances (following @odata.nextLink).
func (g *GDS) List(ctx context.Context) ([]Environment, error) {
	var out []Environment
	_, err := g.client.Pages(ctx, GDSPath, 0, func(raw json.RawMessage) error {
		var in gdsInstance
		if err := json.Unmarshal(raw, &in); err != nil {
			return err
		}
		e := Environment{
			URL:            strings.TrimSuffix(strings.TrimSpace(in.URL), "/"),
			Name:           in.FriendlyName,
			ID:             in.EnvironmentID,
			OrganizationID: in.ID,
			UniqueName:     in.UniqueName,
			Region:         in.Region,
			Version:        in.Version,
		}
		if in.State != nil {
			switch *in.State {
			case 0:
				e.State = StateEnabled
			case 1:
				e.State = StateDisabled
			default:
				e.State = fmt.Sprintf("State %d", *in.State)
			}
		}
		out = append(out, e)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list instances: %w", err)
	}
	return out, nil
}
