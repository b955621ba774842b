# METADATA
# title: Licensing prerequisites
# description: |
#   The tenant must hold a Dynamics 365 customer engagement app licence and a
#   Microsoft Teams licence (TEAMS1 service plan), read from Microsoft Graph
#   subscribedSkus (snapshot section tenant.licenses).
package teamslink.licensing

import data.teamslink.facts
import data.teamslink.lib

results contains lic_001

results contains lic_002

_licenses := ["tenant.licenses"]

_skus := lib.array(object.get(input, ["tenant", "licenses", "skus"], null))

# _sku_usable is true for a SKU the tenant can use.
_sku_usable(sku) if {
	object.get(sku, "capabilityStatus", "") == "Enabled"
} else := false

# _plan_usable is true for a service plan in a usable SKU that is not switched off.
_plan_usable(sku, plan) if {
	_sku_usable(sku)
	object.get(plan, "provisioningStatus", "") != "Disabled"
} else := false

# _sku_fields are the evidence fields naming a SKU.
_sku_fields(sku) := {
	"skuId": object.get(sku, "skuId", null),
	"skuPartNumber": object.get(sku, "skuPartNumber", null),
	"capabilityStatus": object.get(sku, "capabilityStatus", null),
}

# _plan_fields are the evidence fields naming a service plan.
_plan_fields(plan) := {
	"servicePlanId": object.get(plan, "servicePlanId", null),
	"servicePlanName": object.get(plan, "servicePlanName", null),
	"provisioningStatus": object.get(plan, "provisioningStatus", null),
}

_plans(sku) := lib.array(object.get(sku, "servicePlans", null))

# _ce_matches are the tenant's SKUs that carry a customer engagement app,
# matched by service plan id, by SKU id or by government SKU part number.
_ce_matches contains object.union_n([
	_sku_fields(sku),
	_plan_fields(plan),
	{
		"matchedBy": "servicePlanId",
		"teamMembers": info.team_members,
		"inferred": info.inferred,
		"usable": _plan_usable(sku, plan),
	},
]) if {
	some sku in _skus
	some plan in _plans(sku)
	info := facts.ce_service_plans[lib.lower_str(object.get(plan, "servicePlanId", null))]
}

# _sku_id_usable is true for a usable SKU unless every customer engagement
# service plan it lists is disabled.
_sku_id_usable(sku) if {
	_sku_usable(sku)
	ce_plans := [plan |
		some plan in _plans(sku)
		facts.ce_service_plans[lib.lower_str(object.get(plan, "servicePlanId", null))]
	]
	disabled := [plan | some plan in ce_plans; object.get(plan, "provisioningStatus", "") == "Disabled"]
	not _all_disabled(ce_plans, disabled)
} else := false

_all_disabled(plans, disabled) if {
	count(plans) > 0
	count(plans) == count(disabled)
}

_ce_matches contains object.union(_sku_fields(sku), {
	"matchedBy": "skuId",
	"teamMembers": info.team_members,
	"inferred": false,
	"usable": _sku_id_usable(sku),
}) if {
	some sku in _skus
	info := facts.ce_skus[lib.lower_str(object.get(sku, "skuId", null))]
}

_ce_matches contains object.union(_sku_fields(sku), {
	"matchedBy": "skuPartNumber",
	"teamMembers": false,
	"inferred": false,
	"usable": _sku_usable(sku),
}) if {
	some sku in _skus
	object.get(sku, "skuPartNumber", null) in facts.ce_gov_sku_part_numbers
}

_usable_full := [m | some m in _ce_matches; m.usable; not m.teamMembers]

_usable_team_members := [m | some m in _ce_matches; m.usable; m.teamMembers]

_unusable_ce := [m | some m in _ce_matches; not m.usable]

_sku_summary := [_sku_fields(sku) | some sku in _skus]

_describe(m) := sprintf("%v (SKU %v, service plan %v)", [m.skuPartNumber, m.skuId, m.servicePlanName]) if {
	m.matchedBy == "servicePlanId"
} else := sprintf("%v (SKU %v, matched by %v)", [m.skuPartNumber, m.skuId, m.matchedBy])

# METADATA
# title: Dynamics 365 customer engagement app licence
# description: |
#   Record linking needs Sales Premium, Sales Enterprise, Sales Professional or
#   any Dynamics 365 customer engagement app licence in the tenant: an enabled
#   SKU that carries a customer engagement service plan, or a customer
#   engagement SKU. Team Members alone is accepted for using the feature, not
#   listed among the licences for it, so it warns.
# custom:
#   id: TL-LIC-001
#   severity: high
#   experience: [basic, enhanced]
#   scope: environment
#   docs: https://learn.microsoft.com/dynamics365/sales/teams-integration/enable-record-linking
#   remediation: |
#     Buy or reactivate a Dynamics 365 customer engagement app subscription
#     (Sales, Customer Service, Field Service, or a plan that includes one) in
#     the Microsoft 365 admin center, and make sure its service plan is not disabled.
#   assumptions:
#     - >-
#       INFERENCE: the Marketing (DYN365_MARKETING_APP) and Project Operations
#       (D365_ProjectOperations) service plans count as customer engagement app
#       licences.
#     - "Government-cloud SKUs are matched by skuPartNumber only: the facts reference does not give their full skuIds."
lic_001 := r if {
	r := lib.error_result("TL-LIC-001", _licenses)
} else := r if {
	count(_usable_full) > 0
	m := _usable_full[0]
	r := lib.result(
		"TL-LIC-001",
		"pass",
		sprintf("the tenant holds a Dynamics 365 customer engagement app licence: %s", [_describe(m)]),
		{"matched": m, "matches": _ce_matches},
	)
} else := r if {
	count(_usable_team_members) > 0
	m := _usable_team_members[0]
	r := lib.result(
		"TL-LIC-001",
		"warn",
		sprintf("the only Dynamics 365 licence found is Team Members (%s): %s", [
			_describe(m),
			"it is accepted for using record linking, but the prerequisites list a full customer engagement app licence",
		]),
		{"matched": m, "matches": _ce_matches},
	)
} else := r if {
	count(_unusable_ce) > 0
	m := _unusable_ce[0]
	r := lib.result(
		"TL-LIC-001",
		"fail",
		sprintf(
			"the tenant's Dynamics 365 customer engagement licence is not usable: %s has capabilityStatus %v and plan status %v",
			[_describe(m), m.capabilityStatus, object.get(m, "provisioningStatus", "n/a")],
		),
		{"matches": _ce_matches, "skus": _sku_summary},
	)
} else := lib.result(
	"TL-LIC-001",
	"fail",
	sprintf("none of the tenant's %d subscribed SKUs is a Dynamics 365 customer engagement app licence", [count(_skus)]),
	{"matches": [], "skus": _sku_summary},
)

_teams_plans contains object.union_n([
	_sku_fields(sku),
	_plan_fields(plan),
	{"usable": _plan_usable(sku, plan)},
]) if {
	some sku in _skus
	some plan in _plans(sku)
	lib.same_id(object.get(plan, "servicePlanId", null), facts.teams_service_plan_id)
}

_usable_teams := [p | some p in _teams_plans; p.usable]

# METADATA
# title: Microsoft Teams licence
# description: |
#   Record linking needs a Microsoft Teams licence: the TEAMS1 service plan
#   (57ff2da0-773e-42df-b2af-ffb7a2317929) in an enabled SKU, not disabled.
# custom:
#   id: TL-LIC-002
#   severity: high
#   experience: [basic, enhanced]
#   scope: environment
#   docs: https://learn.microsoft.com/dynamics365/sales/teams-integration/enable-record-linking
#   remediation: |
#     Assign a Microsoft 365 or Office 365 subscription that includes Microsoft
#     Teams (service plan TEAMS1), or re-enable the TEAMS1 plan in the SKU that has it.
lic_002 := r if {
	r := lib.error_result("TL-LIC-002", _licenses)
} else := r if {
	count(_usable_teams) > 0
	p := _usable_teams[0]
	r := lib.result(
		"TL-LIC-002",
		"pass",
		sprintf("the tenant holds a Microsoft Teams licence: service plan TEAMS1 in %v (SKU %v)", [p.skuPartNumber, p.skuId]),
		{"matched": p, "matches": _teams_plans},
	)
} else := r if {
	count(_teams_plans) > 0
	p := [q | some q in _teams_plans][0]
	r := lib.result(
		"TL-LIC-002",
		"fail",
		sprintf(
			"the Microsoft Teams service plan TEAMS1 is not usable: in %v the SKU is %v and the plan is %v",
			[p.skuPartNumber, p.capabilityStatus, p.provisioningStatus],
		),
		{"matches": _teams_plans, "skus": _sku_summary},
	)
} else := lib.result(
	"TL-LIC-002",
	"fail",
	sprintf("none of the tenant's %d subscribed SKUs contains the Microsoft Teams service plan TEAMS1", [count(_skus)]),
	{"matches": [], "skus": _sku_summary},
)
