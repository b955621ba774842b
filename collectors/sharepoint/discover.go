package sharepoint

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/teamslink/teamslink/collectors"
	"github.com/teamslink/teamslink/internal/odata"
	"github.com/teamslink/teamslink/internal/snapshot"
)

// rootSitePath asks Microsoft Graph for the tenant's root SharePoint site
// (GET /sites/root, permission Sites.Read.All).
const rootSitePath = "sites/root?$select=webUrl,siteCollection"

// AdminURL finds the tenant's SharePoint admin site from its root site in
// Microsoft Graph: https://contoso.sharepoint.com gives
// https://contoso-admin.sharepoint.com. adminSuffix is the cloud's admin
// host suffix ("-admin.sharepoint.com"); the root host must end in the same
// suffix without "-admin" (INFERENCE: the admin site is named after the root
// site's host; config's sharePointAdminUrl overrides it). source is the
// request made.
func AdminURL(ctx context.Context, graph *odata.Client, adminSuffix string) (admin, source string, err error) {
	source = "GET " + graph.BaseURL().String() + rootSitePath
	if adminSuffix == "" {
		return "", source, errors.New("the SharePoint admin host of this cloud is not known")
	}
	var site struct {
		WebURL         string `json:"webUrl"`
		SiteCollection struct {
			Hostname string `json:"hostname"`
		} `json:"siteCollection"`
	}
	if _, err := graph.Get(ctx, rootSitePath, &site); err != nil {
		return "", source, err
	}
	host := strings.ToLower(site.SiteCollection.Hostname)
	if host == "" {
		u, err := url.Parse(site.WebURL)
		if err != nil || u.Host == "" {
			return "", source, fmt.Errorf("the root site has neither siteCollection.hostname nor a webUrl (%q)", site.WebURL)
		}
		host = strings.ToLower(u.Hostname())
	}
	rootSuffix := strings.Replace(adminSuffix, "-admin", "", 1)
	tenant, ok := strings.CutSuffix(host, rootSuffix)
	if !ok || tenant == "" || strings.Contains(tenant, ".") {
		return "", source, fmt.Errorf("the root site's host %q is not <tenant>%s", host, rootSuffix)
	}
	return "https://" + tenant + adminSuffix, source, nil
}

// Discovering collects the SharePoint setting of a tenant whose admin site
// is not configured: it finds the admin site with AdminURL, then reads it
// with a client NewClient makes for that site.
type Discovering struct {
	Graph       *odata.Client
	AdminSuffix string
	NewClient   func(adminURL string) (*odata.Client, error)
	Now         func() time.Time
}

// CollectTenant fills t's sharePoint section, or records why the admin site
// could not be found.
func (d Discovering) CollectTenant(ctx context.Context, t *snapshot.Tenant) {
	now := d.Now
	if now == nil {
		now = time.Now
	}
	admin, source, err := AdminURL(ctx, d.Graph, d.AdminSuffix)
	if err == nil {
		var client *odata.Client
		if client, err = d.NewClient(admin); err == nil {
			New(client, now).CollectTenant(ctx, t)
			return
		}
	}
	err = fmt.Errorf("find the SharePoint admin site from the root site: %w (grant Sites.Read.All, or set sharePointAdminUrl)", err)
	t.SharePoint.Section = collectors.Failed(source, err, now())
}
