// Package cloud names the Microsoft clouds teamslink can scan and the
// endpoints each one uses: the Entra ID authority, Microsoft Graph, the DNS
// zones that hold Dataverse environments and, where it is confirmed, the
// SharePoint Online admin host. It is a plain table with no I/O, shared by
// internal/config (which validates environment hosts against it) and
// internal/auth (which turns it into azidentity options).
//
// The endpoints come from the facts file (§7 environment URL patterns, §11
// sovereign clouds). Two parts are assumptions and are marked so below:
// mapping a Dataverse host to a cloud is an INFERENCE, and the SharePoint
// admin hosts of the sovereign clouds are NOT CONFIRMED.
package cloud

import (
	"fmt"
	"regexp"
	"strings"
)

// Name identifies a cloud in tenants.yaml and in snapshots.
type Name string

// The clouds teamslink knows.
const (
	Public  Name = "public"  // Microsoft Azure / Microsoft 365 worldwide
	GCC     Name = "gcc"     // Microsoft 365 Government Community Cloud (worldwide endpoints)
	GCCHigh Name = "gcchigh" // US Government L4 (GCC High)
	DoD     Name = "dod"     // US Government L5 (DoD)
	China   Name = "china"   // Microsoft Cloud China operated by 21Vianet
)

// Cloud is the set of endpoints of one Microsoft cloud.
type Cloud struct {
	Name        Name
	Description string
	// AuthorityHost is the Entra ID login endpoint, with a trailing slash,
	// in the form azidentity's cloud.Configuration.ActiveDirectoryAuthorityHost takes.
	AuthorityHost string
	// GraphURL is the Microsoft Graph root, without a trailing slash.
	GraphURL string
	// DataverseZones are the DNS zones that hold the cloud's environments.
	// An environment host is <org>.<zone> or <org>.api.<zone>; a "*" in a
	// zone stands for the region number, zero or more digits (crm, crm4, crm11).
	DataverseZones []string
	// SharePointAdminSuffix is the host suffix of the tenant's SharePoint
	// Online admin site (<tenant>-admin.sharepoint.com), or "" where it is
	// NOT CONFIRMED for this cloud and any https host is accepted.
	SharePointAdminSuffix string
	// GlobalDiscoveryURL is the root of the cloud's Dataverse Global
	// Discovery Service, without a trailing slash; its Instances list the
	// environments of the signed-in user (fleet facts §1a, CONFIRMED for
	// all five clouds).
	GlobalDiscoveryURL string
	// AdminAPIURL is the root of the Power Platform admin API (BAP),
	// without a trailing slash, which lists every environment of the tenant
	// to a service principal registered as a management app; "" where it is
	// NOT CONFIRMED for this cloud (every cloud but public, fleet facts
	// §1b), so that discovery through it needs an endpoint override there.
	AdminAPIURL string
	// AdminAPIScope is the token scope of AdminAPIURL, "" with it.
	AdminAPIScope string

	hostPattern *regexp.Regexp
}

// all is the table, in the order clouds are listed to users.
var all = []Cloud{
	{
		Name:                  Public,
		Description:           "Microsoft Azure and Microsoft 365 worldwide",
		AuthorityHost:         "https://login.microsoftonline.com/",
		GraphURL:              "https://graph.microsoft.com",
		DataverseZones:        []string{"crm*.dynamics.com"},
		SharePointAdminSuffix: "-admin.sharepoint.com",
		GlobalDiscoveryURL:    "https://globaldisco.crm.dynamics.com",
		AdminAPIURL:           "https://api.bap.microsoft.com",
		// The legacy scope, CONFIRMED for the client-credentials flow; the
		// double slash is Microsoft's spelling (fleet facts §1b).
		AdminAPIScope: "https://service.powerapps.com//.default",
	},
	{
		// GCC keeps the worldwide Entra ID and Graph endpoints (facts §11);
		// its Dataverse environments live under crm9 (facts §7).
		// SharePoint and the Power Platform admin API: NOT CONFIRMED for
		// GCC in the facts files.
		Name:               GCC,
		Description:        "Microsoft 365 GCC (worldwide endpoints, Dataverse crm9)",
		AuthorityHost:      "https://login.microsoftonline.com/",
		GraphURL:           "https://graph.microsoft.com",
		DataverseZones:     []string{"crm9.dynamics.com"},
		GlobalDiscoveryURL: "https://globaldisco.crm9.dynamics.com",
	},
	{
		// SharePoint admin host (e.g. *.sharepoint.us) and Power Platform
		// admin API: NOT CONFIRMED.
		Name:               GCCHigh,
		Description:        "US Government L4 (GCC High)",
		AuthorityHost:      "https://login.microsoftonline.us/",
		GraphURL:           "https://graph.microsoft.us",
		DataverseZones:     []string{"crm.microsoftdynamics.us"},
		GlobalDiscoveryURL: "https://globaldisco.crm.microsoftdynamics.us",
	},
	{
		// SharePoint admin host and Power Platform admin API: NOT CONFIRMED.
		Name:               DoD,
		Description:        "US Government L5 (DoD)",
		AuthorityHost:      "https://login.microsoftonline.us/",
		GraphURL:           "https://dod-graph.microsoft.us",
		DataverseZones:     []string{"crm.appsplatform.us"},
		GlobalDiscoveryURL: "https://globaldisco.crm.appsplatform.us",
	},
	{
		// SharePoint admin host (e.g. *.sharepoint.cn) and Power Platform
		// admin API: NOT CONFIRMED.
		Name:               China,
		Description:        "Microsoft Cloud China operated by 21Vianet",
		AuthorityHost:      "https://login.chinacloudapi.cn/",
		GraphURL:           "https://microsoftgraph.chinacloudapi.cn",
		DataverseZones:     []string{"crm.dynamics.cn"},
		GlobalDiscoveryURL: "https://globaldisco.crm.dynamics.cn",
	},
}

// orgLabel is one DNS label: the environment's unique name.
const orgLabel = `[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?`

var labelPattern = regexp.MustCompile(`^` + orgLabel + `$`)

func init() {
	for i := range all {
		zones := make([]string, len(all[i].DataverseZones))
		for j, z := range all[i].DataverseZones {
			zones[j] = strings.ReplaceAll(regexp.QuoteMeta(z), `\*`, `[0-9]*`)
		}
		all[i].hostPattern = regexp.MustCompile(`^` + orgLabel + `\.(?:api\.)?(?:` + strings.Join(zones, "|") + `)$`)
	}
}

// All returns every cloud, public first.
func All() []Cloud {
	return append([]Cloud(nil), all...)
}

// Names returns the name of every cloud, public first.
func Names() []Name {
	names := make([]Name, len(all))
	for i, c := range all {
		names[i] = c.Name
	}
	return names
}

// NameList is the valid names for messages: "public, gcc, gcchigh, dod, china".
func NameList() string {
	s := make([]string, len(all))
	for i, c := range all {
		s[i] = string(c.Name)
	}
	return strings.Join(s, ", ")
}

// For returns the cloud with the given name.
func For(name Name) (Cloud, error) {
	for _, c := range all {
		if c.Name == name {
			return c, nil
		}
	}
	return Cloud{}, fmt.Errorf("unknown cloud %q (valid: %s)", name, NameList())
}

// KnownDataverseHost reports whether host (a host name without port, any
// case) is an environment host of this cloud: <org>.<zone> or
// <org>.api.<zone> for one of its DataverseZones.
func (c Cloud) KnownDataverseHost(host string) bool {
	if c.hostPattern == nil {
		return false
	}
	return c.hostPattern.MatchString(strings.ToLower(host))
}

// KnownDataverseHost reports whether host is an environment host of the named cloud.
func KnownDataverseHost(name Name, host string) bool {
	c, err := For(name)
	return err == nil && c.KnownDataverseHost(host)
}

// ForHost returns the cloud whose Dataverse zones hold host.
//
// INFERENCE (facts §11): the Dataverse host decides the login authority and
// Graph host; crm9.dynamics.com is taken as GCC, every other
// crm*.dynamics.com as public. Since GCC uses the worldwide endpoints, the
// two answers authenticate the same way.
func ForHost(host string) (Cloud, bool) {
	// Clouds with a literal zone first, so crm9 is GCC rather than public.
	for _, wildcard := range []bool{false, true} {
		for _, c := range all {
			if hasWildcard(c) == wildcard && c.KnownDataverseHost(host) {
				return c, true
			}
		}
	}
	return Cloud{}, false
}

func hasWildcard(c Cloud) bool {
	for _, z := range c.DataverseZones {
		if strings.Contains(z, "*") {
			return true
		}
	}
	return false
}

// DataverseHostForms describes the cloud's environment hosts for messages,
// e.g. "<org>.crm*.dynamics.com or <org>.api.crm*.dynamics.com".
func (c Cloud) DataverseHostForms() string {
	var forms []string
	for _, z := range c.DataverseZones {
		forms = append(forms, "<org>."+z, "<org>.api."+z)
	}
	return strings.Join(forms, " or ")
}

// KnownSharePointAdminHost reports whether host is a SharePoint Online admin
// host of this cloud. Where the admin host is NOT CONFIRMED for the cloud
// (SharePointAdminSuffix empty) every host is accepted.
func (c Cloud) KnownSharePointAdminHost(host string) bool {
	if c.SharePointAdminSuffix == "" {
		return true
	}
	host = strings.ToLower(host)
	tenant, ok := strings.CutSuffix(host, c.SharePointAdminSuffix)
	return ok && labelPattern.MatchString(tenant)
}
