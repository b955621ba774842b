package metrics

import (
	"net"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"
)

// The values of the api label: the services teamslink calls.
const (
	APIDataverse  = "dataverse"  // the Dataverse Web API of an environment
	APIGraph      = "graph"      // Microsoft Graph
	APISharePoint = "sharepoint" // the SharePoint Online admin endpoint
	APILogin      = "login"      // the Entra ID token endpoint
	APIDiscovery  = "discovery"  // the Power Platform admin API or the Global Discovery Service
	// APIOther stands for any name not above, so that a caller's typo cannot
	// grow the label's values.
	APIOther = "other"
)

// apis are the valid api label values.
var apis = []string{APIDataverse, APIGraph, APISharePoint, APILogin, APIDiscovery}

// apiLabel maps a caller's api name to a bounded label value.
func apiLabel(api string) string {
	for _, a := range apis {
		if api == a {
			return a
		}
	}
	return APIOther
}

// codeLabel is an HTTP status as a label value: the three digits of a valid
// status, "other" for anything else, so the label stays bounded.
func codeLabel(code int) string {
	if code < 100 || code > 599 {
		return "other"
	}
	return strconv.Itoa(code)
}

// unknownEnvironment labels an environment whose URL has no host.
const unknownEnvironment = "unknown"

// EnvironmentLabel is the environment label of the environment at rawURL:
// the first label of its host, lowercased ("contoso-dev" for
// https://contoso-dev.crm4.dynamics.com/). It is short, stable across runs
// and renames of the environment's display name, never a URL, and unique in
// practice within a tenant; EnvironmentLabels settles the rare collision.
// An IP address is kept whole.
// The configured or discovered name is not used: display names change and
// repeat, and a label that changes splits a series' history.
func EnvironmentLabel(rawURL string) string {
	host := hostOf(rawURL)
	if host == "" {
		return unknownEnvironment
	}
	if net.ParseIP(host) != nil {
		return host
	}
	first, _, _ := strings.Cut(host, ".")
	return first
}

// EnvironmentLabels returns the environment labels of the URLs of one
// tenant's environments, in order: EnvironmentLabel of each, except that
// environments whose first host label collides (contoso.crm and
// contoso.crm4) get their whole host, and any that still collide (the same
// host twice) a "~2", "~3"... suffix, so that no two share a label.
func EnvironmentLabels(urls []string) []string {
	labels := make([]string, len(urls))
	count := map[string]int{}
	for i, u := range urls {
		labels[i] = EnvironmentLabel(u)
		count[labels[i]]++
	}
	for i, u := range urls {
		if count[labels[i]] > 1 {
			if h := hostOf(u); h != "" {
				labels[i] = h
			}
		}
	}
	seen := map[string]int{}
	for i, l := range labels {
		seen[l]++
		if n := seen[l]; n > 1 {
			labels[i] = l + "~" + strconv.Itoa(n)
		}
	}
	return labels
}

// hostOf is the lowercased host of rawURL without its port; rawURL may also
// be a bare host. It is "" when there is none.
func hostOf(rawURL string) string {
	s := strings.TrimSpace(rawURL)
	if !strings.Contains(s, "://") {
		s = "https://" + s
	}
	u, err := url.Parse(s)
	if err != nil {
		return ""
	}
	host := u.Hostname()
	if h, _, err := net.SplitHostPort(u.Host); err == nil {
		host = h
	}
	return labelValue(strings.ToLower(strings.Trim(host, ".")))
}

// labelValue makes s a valid label value: valid UTF-8.
func labelValue(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	return strings.ToValidUTF8(s, "\uFFFD")
}
