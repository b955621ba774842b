package sharepoint

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/teamslink/teamslink/collectors"
	"github.com/teamslink/teamslink/internal/cloud"
	"github.com/teamslink/teamslink/internal/odata"
	"github.com/teamslink/teamslink/internal/snapshot"
)

// RootSitePath asks Microsoft Graph for the tenant's root SharePoint site:
// GET /sites/root, least privilege Sites.Read.All, answering webUrl and
// siteCollection.hostname
// (https://learn.microsoft.com/graph/api/site-get). Relative to Graph's
// …/v1.0/, so that it can also travel in a JSON $batch.
const RootSitePath = "sites/root?$select=webUrl,siteCollection"

// rootSite is the part of the root site's answer the admin site comes from.
type rootSite struct {
	WebURL         string `json:"webUrl"`
	SiteCollection struct {
		Hostname string `json:"hostname"`
	} `json:"siteCollection"`
}

// AdminURL finds the tenant's SharePoint admin site from its root site in
// Microsoft Graph: https://contoso.sharepoint.com gives
// https://contoso-admin.sharepoint.com (INFERENCE: the admin site is named
// after the root site's host; config's sharePointAdminUrl overrides it).
// Only clouds whose admin host is known are supported. source is the
// request made.
func AdminURL(ctx context.Context, graph *odata.Client, c cloud.Cloud) (admin, source string, err error) {
	source = rootSource(graph)
	if c.SharePointAdminSuffix == "" {
		return "", source, unknownAdminHost(c)
	}
	var site rootSite
	if _, err := graph.Get(ctx, RootSitePath, &site); err != nil {
		return "", source, err
	}
	admin, err = adminURLFromRoot(site.WebURL, site.SiteCollection.Hostname, c)
	return admin, source, err
}

// rootSource is the root-site request, as a section's source says it.
func rootSource(graph *odata.Client) string {
	return "GET " + graph.BaseURL().String() + RootSitePath
}

func unknownAdminHost(c cloud.Cloud) error {
	return fmt.Errorf("the SharePoint admin host of cloud %s is not known", c.Name)
}

// adminURLFromRoot derives the admin site from the root site's host name, or
// its web URL when Graph gave no host name.
func adminURLFromRoot(webURL, hostname string, c cloud.Cloud) (string, error) {
	if c.SharePointAdminSuffix == "" {
		return "", unknownAdminHost(c)
	}
	host := hostname
	if host == "" {
		u, err := url.Parse(webURL)
		if err != nil || u.Hostname() == "" {
			return "", fmt.Errorf("the root site has neither siteCollection.hostname nor a web URL with a host (%q)", webURL)
		}
		host = u.Hostname()
	}
	// Lower-cased as DNS does, A to Z only: strings.ToLower would turn the
	// Kelvin sign (U+212A) into k and derive an admin host from a root host
	// that is not <tenant>.sharepoint.com.
	host = strings.Map(func(r rune) rune {
		if 'A' <= r && r <= 'Z' {
			return r + 'a' - 'A'
		}
		return r
	}, host)
	rootSuffix := strings.Replace(c.SharePointAdminSuffix, "-admin", "", 1)
	tenant, ok := strings.CutSuffix(host, rootSuffix)
	adminHost := tenant + c.SharePointAdminSuffix
	if !ok || !c.KnownSharePointAdminHost(adminHost) {
		return "", fmt.Errorf("the root site's host %q is not <tenant>%s", host, rootSuffix)
	}
	return "https://" + adminHost, nil
}

// Discovering collects the SharePoint setting of a tenant whose admin site
// is not configured: it finds the admin site from the root site in Graph,
// then reads it with a client NewClient makes for that site. CollectTenant
// asks Graph for the root site itself; FromRoot takes the answer of a
// request another collector sent (RootSitePath inside Graph's $batch).
type Discovering struct {
	Graph     *odata.Client
	Cloud     cloud.Cloud
	NewClient func(adminURL string) (*odata.Client, error)
	Now       func() time.Time
}

// Batchable reports whether the root site is worth asking for: in a cloud
// whose admin host is unknown no answer can name the admin site, and
// CollectTenant records that without a request.
func (d Discovering) Batchable() bool { return d.Cloud.SharePointAdminSuffix != "" }

// CollectTenant fills t's sharePoint section, or records why the admin site
// could not be found.
func (d Discovering) CollectTenant(ctx context.Context, t *snapshot.Tenant) {
	d.mustHaveClock()
	admin, source, err := AdminURL(ctx, d.Graph, d.Cloud)
	d.collect(ctx, t, admin, source, err)
}

// FromRoot fills t's sharePoint section from resp, Graph's answer to
// RootSitePath, or records why the admin site could not be found: resp
// failed, or batchErr, the error of the $batch that carried the request,
// is not nil. It never reads as a pass what was not read.
func (d Discovering) FromRoot(ctx context.Context, t *snapshot.Tenant, resp odata.GraphResponse, batchErr error) {
	d.mustHaveClock()
	source, err := rootSource(d.Graph), batchErr
	var admin string
	if err == nil && !d.Batchable() {
		err = unknownAdminHost(d.Cloud)
	}
	if err == nil {
		var site rootSite
		if err = resp.DecodeJSON(&site); err == nil {
			admin, err = adminURLFromRoot(site.WebURL, site.SiteCollection.Hostname, d.Cloud)
		}
	}
	d.collect(ctx, t, admin, source, err)
}

func (d Discovering) mustHaveClock() {
	if d.Now == nil {
		panic("sharepoint: Discovering needs Now")
	}
}

// collect reads the admin site found (err nil), or records err, found
// through the request source.
func (d Discovering) collect(ctx context.Context, t *snapshot.Tenant, admin, source string, err error) {
	if err == nil {
		var client *odata.Client
		if client, err = d.NewClient(admin); err == nil {
			New(client, d.Now).CollectTenant(ctx, t)
			return
		}
	}
	err = fmt.Errorf("find the SharePoint admin site from the root site: %w (grant Sites.Read.All, or set sharePointAdminUrl)", err)
	t.SharePoint.Section = collectors.Failed(source, err, d.Now())
}
