// Package sharepoint reads the SharePoint Online tenant setting that limits
// access from unmanaged devices (ConditionalAccessPolicy), from the
// SharePoint admin endpoint /_api/SPO.Tenant.
package sharepoint

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/teamslink/teamslink/collectors"
	"github.com/teamslink/teamslink/internal/odata"
	"github.com/teamslink/teamslink/internal/snapshot"
)

// policyNames maps SPOConditionalAccessPolicyType values to their names (facts §10).
var policyNames = []string{"AllowFullAccess", "AllowLimitedAccess", "BlockAccess", "AuthenticationContext"}

// TenantRecord is the tenant properties document and the field the policy
// reads from it (facts §10); Records lists it for the missing-field test.
var TenantRecord = collectors.Record{Name: "SPO.Tenant", Section: "tenant.sharePoint", Request: `_api/SPO\.Tenant`, Fields: []collectors.Field{
	{Name: "ConditionalAccessPolicy", Kind: collectors.IntOrStr},
}}

// Records are every row kind this collector reads.
var Records = []collectors.Record{TenantRecord}

// tenantPath is the admin endpoint's tenant resource, relative to the admin site.
const tenantPath = "_api/SPO.Tenant"

// Collector reads one tenant's SharePoint setting through a client whose
// base URL is the tenant's admin site (https://<tenant>-admin.sharepoint.com/).
type Collector struct {
	client *odata.Client
	now    func() time.Time
}

// New returns a collector for the admin site client speaks to; now is the
// clock, required.
func New(client *odata.Client, now func() time.Time) *Collector {
	if now == nil {
		panic("sharepoint: New needs a clock")
	}
	return &Collector{client: client, now: now}
}

// CollectTenant fills t's sharePoint section.
func (c *Collector) CollectTenant(ctx context.Context, t *snapshot.Tenant) {
	source := "GET " + c.client.BaseURL().String() + tenantPath
	t.SharePoint.AdminURL = strings.TrimSuffix(c.client.BaseURL().String(), "/")
	resp, err := c.client.Do(ctx, &odata.Request{
		Method: http.MethodGet,
		Path:   tenantPath,
		Header: http.Header{"Accept": {"application/json;odata=nometadata"}},
	})
	if err == nil {
		var name, raw string
		name, raw, err = parsePolicy(resp.Body)
		if err == nil {
			t.SharePoint.Section = collectors.OK(source, resp.Status, c.now())
			t.SharePoint.ConditionalAccessPolicy, t.SharePoint.ConditionalAccessPolicyRaw = name, raw
			return
		}
		err = fmt.Errorf("GET %s: %w", tenantPath, err)
	}
	t.SharePoint.Section = collectors.Failed(source, err, c.now())
}

// parsePolicy reads ConditionalAccessPolicy from the tenant document, plain
// or wrapped in "d" (odata=verbose), as a number or a name (facts §10: which
// one depends on the OData format, INFERENCE).
func parsePolicy(body []byte) (name, raw string, err error) {
	var doc map[string]json.RawMessage
	if err := json.Unmarshal(body, &doc); err != nil {
		return "", "", fmt.Errorf("decode tenant properties: %w", err)
	}
	props := json.RawMessage(body)
	if d, ok := doc["d"]; ok {
		doc, props = nil, d
		if err := json.Unmarshal(d, &doc); err != nil {
			return "", "", fmt.Errorf("decode tenant properties: %w", err)
		}
	}
	// Absent or null is missing, never 0 (full access).
	if err := TenantRecord.Require(props); err != nil {
		return "", "", err
	}
	v := doc["ConditionalAccessPolicy"]
	var n int
	if err := json.Unmarshal(v, &n); err == nil {
		if n < 0 || n >= len(policyNames) {
			return "", strconv.Itoa(n), fmt.Errorf("unknown ConditionalAccessPolicy value %d", n)
		}
		return policyNames[n], strconv.Itoa(n), nil
	}
	var s string
	if err := json.Unmarshal(v, &s); err != nil {
		return "", "", fmt.Errorf("ConditionalAccessPolicy is neither a number nor a name: %s", v)
	}
	for n, p := range policyNames {
		// A name in any ASCII case, or the value's digit. The same length
		// keeps EqualFold to ASCII: the Kelvin sign and the long s fold to k
		// and s but are longer.
		if len(s) == len(p) && strings.EqualFold(p, s) || s == strconv.Itoa(n) {
			return p, s, nil
		}
	}
	return "", s, fmt.Errorf("unknown ConditionalAccessPolicy %q", s)
}
