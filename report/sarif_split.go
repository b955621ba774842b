package report

import (
	"slices"
	"strings"

	"github.com/teamslink/teamslink/internal/finding"
)

// SplitByTenant returns one report per tenant of r, in the order the
// tenants first appear (environments, then sign-in errors), for a fleet
// whose SARIF would exceed GitHub's limits in one file. Each share keeps
// r's tool, times, profile and catalogue; holds the tenant's environments
// and sign-in errors, and the waiver notices that name the tenant or name
// none; and counts its own summary. A report with no tenant gives none; r
// itself is not modified.
func SplitByTenant(r *finding.Report) []*finding.Report {
	if r == nil {
		return nil
	}
	var out []*finding.Report
	for _, tenant := range reportTenants(r) {
		share := *r
		share.Environments = nil
		for _, e := range r.Environments {
			if strings.EqualFold(e.Tenant, tenant) {
				share.Environments = append(share.Environments, e)
			}
		}
		share.SignInErrors = nil
		for _, s := range r.SignInErrors {
			if strings.EqualFold(s.Tenant, tenant) {
				share.SignInErrors = append(share.SignInErrors, s)
			}
		}
		share.Waivers = nil
		for _, n := range r.Waivers {
			if n.Tenant == "" || strings.EqualFold(n.Tenant, tenant) {
				share.Waivers = append(share.Waivers, n)
			}
		}
		share.Rules = slices.Clone(r.Rules)
		share.Summary = share.Summarize()
		out = append(out, &share)
	}
	return out
}

// SARIFTenantCategory is the code scanning category of one tenant's file
// of a split report: the category, a dash and the tenant id, lowercased
// (teamslink-3f2b8c1e-…). Each tenant's file then replaces only that
// tenant's earlier results when uploaded.
func SARIFTenantCategory(category, tenantID string) string {
	category = strings.TrimRight(strings.TrimSpace(category), "/")
	if category == "" {
		category = DefaultSARIFCategory
	}
	return category + "-" + strings.ToLower(strings.TrimSpace(tenantID))
}

// ReportTenant is the tenant id of a report that holds one tenant, as each
// share of SplitByTenant does, lowercased; "" when it holds none or several.
func ReportTenant(r *finding.Report) string {
	if r == nil {
		return ""
	}
	if ids := reportTenants(r); len(ids) == 1 {
		return ids[0]
	}
	return ""
}
