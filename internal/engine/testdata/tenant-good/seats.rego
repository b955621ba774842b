package teamslink.custom.seats

import data.teamslink.lib

# METADATA
# title: The tenant has at least one enabled SKU
# description: "A tenant rule: evaluated once per tenant, reported on each environment."
# custom:
#   id: X-SEATS-001
#   severity: low
#   experience: [basic, enhanced]
#   scope: tenant
#   remediation: Buy a subscription.
tenant_results contains seats

seats := r if {
	r := lib.tenant_error_result("X-SEATS-001", ["tenant.licenses"])
} else := lib.result("X-SEATS-001", "pass", "the tenant has an enabled SKU", {"tenant": input.tenant.id, "experience": input.options.experience}) if {
	some sku in input.tenant.licenses.skus
	sku.capabilityStatus == "Enabled"
} else := lib.result("X-SEATS-001", "fail", "the tenant has no enabled SKU", {"tenant": input.tenant.id, "experience": input.options.experience})
