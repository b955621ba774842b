# METADATA
# title: Licensing prerequisites
# description: |
#   The tenant must hold a Dynamics 365 customer engagement app licence and a
#   Microsoft Teams licence (TEAMS1 service plan), read from Microsoft Graph
#   subscribedSkus (snapshot section tenant.licenses).
package teamslink.licensing

import data.teamslink.facts
import data.teamslink.lib

# The licences are tenant-wide: the engine evaluates these rules once per tenant.
tenant_results contains lic_001

tenant_results contains lic_002

# _skus are the tenant's subscribed SKUs; read only once the tenant.licenses
# section is usable (an object with status ok).
_skus := {true: skus, false: []}[is_array(skus)] if {
	skus := object.get(input.tenant.licenses, "skus", null)
}

# _sku_fields are the evidence fields naming a SKU.
_sku_fields(sku) := {
	"skuId": object.get(sku, "skuId", null),
	"skuPartNumber": object.get(sku, "skuPartNumber", null),
	"capabilityStatus": object.get(sku, "capabilityStatus", null),
}

# _sku_summary names every SKU, for the evidence of a failed rule.
# _none_of_skus and _none_of_skus_contains open the failure messages, in the
# singular or plural the number of subscribed SKUs calls for.
_none_of_skus := "the tenant has no subscribed SKU, so none is" if {
	count(_skus) == 0
} else := "the tenant's 1 subscribed SKU is not" if {
	count(_skus) == 1
} else := sprintf("none of the tenant's %d subscribed SKUs is", [count(_skus)])

_none_of_skus_contains := "the tenant has no subscribed SKU, so none contains" if {
	count(_skus) == 0
} else := "the tenant's 1 subscribed SKU does not contain" if {
	count(_skus) == 1
} else := sprintf("none of the tenant's %d subscribed SKUs contains", [count(_skus)])

_sku_summary := [_sku_fields(sku) | some sku in _skus]

# _licences reads the tenant's SKUs once per evaluation: the customer
# engagement matches and the Teams service plans. The rules read it only once
# the tenant.licenses section is usable. It is written for speed: facts are
# bound to local variables outside the loops, every service plan is read once,
# evidence fields are read only for matches, and {true: a, false: b}[condition]
# chooses between two values.
_licences := {
	"matches": ((plan_matches | sku_matches) | gov_matches),
	"teams": teams_plans,
} if {
	skus := _skus
	ce_skus := facts.ce_skus
	gov_part_numbers := facts.ce_gov_sku_part_numbers

	# kinds maps the (lower-case) id of every service plan the rules look for
	# to its customer engagement plan facts, or to "teams" for TEAMS1.
	kinds := object.union(facts.ce_service_plans, {facts.teams_service_plan_id: "teams"})

	# hits are the service plans the rules look for, with their SKU and kind
	# (servicePlanIds compare case-insensitively).
	hits := [[sku, plan, kind] |
		some sku in skus
		plans := object.get(sku, "servicePlans", null)
		some plan in {true: plans, false: []}[is_array(plans)]
		plan_id := object.get(plan, "servicePlanId", null)
		is_string(plan_id)
		kind := kinds[lower(plan_id)]
	]

	# SKUs carrying a customer engagement app, matched by service plan id ...
	plan_matches := {{
		"skuId": object.get(sku, "skuId", null),
		"skuPartNumber": object.get(sku, "skuPartNumber", null),
		"capabilityStatus": capability,
		"servicePlanId": object.get(plan, "servicePlanId", null),
		"servicePlanName": object.get(plan, "servicePlanName", null),
		"provisioningStatus": provisioning,
		"matchedBy": "servicePlanId",
		"teamMembers": info.team_members,
		"inferred": info.inferred,
		"usable": [capability, provisioning == "Disabled"] == ["Enabled", false],
	} |
		some [sku, plan, info] in hits
		is_object(info)
		capability := object.get(sku, "capabilityStatus", null)
		provisioning := object.get(plan, "provisioningStatus", null)
	}

	# ... by SKU id: usable unless every customer engagement plan it lists is disabled ...
	sku_matches := {{
		"skuId": sku_id,
		"skuPartNumber": object.get(sku, "skuPartNumber", null),
		"capabilityStatus": capability,
		"matchedBy": "skuId",
		"teamMembers": info.team_members,
		"inferred": false,
		"usable": [capability, all_disabled] == ["Enabled", false],
	} |
		some sku in skus
		sku_id := object.get(sku, "skuId", null)
		is_string(sku_id)
		info := ce_skus[lower(sku_id)]
		capability := object.get(sku, "capabilityStatus", null)
		disabled := [d |
			some [hit_sku, plan, kind] in hits
			is_object(kind)
			hit_sku == sku
			d := object.get(plan, "provisioningStatus", "") == "Disabled"
		]
		all_disabled := [count(disabled) > 0, false in disabled] == [true, false]
	}

	# ... or by government SKU part number.
	gov_matches := {{
		"skuId": object.get(sku, "skuId", null),
		"skuPartNumber": part_number,
		"capabilityStatus": capability,
		"matchedBy": "skuPartNumber",
		"teamMembers": false,
		"inferred": false,
		"usable": capability == "Enabled",
	} |
		some sku in skus
		part_number := object.get(sku, "skuPartNumber", null)
		part_number in gov_part_numbers
		capability := object.get(sku, "capabilityStatus", null)
	}

	# The TEAMS1 service plans, usable in an enabled SKU unless disabled.
	teams_plans := {{
		"skuId": object.get(sku, "skuId", null),
		"skuPartNumber": object.get(sku, "skuPartNumber", null),
		"capabilityStatus": capability,
		"servicePlanId": object.get(plan, "servicePlanId", null),
		"servicePlanName": object.get(plan, "servicePlanName", null),
		"provisioningStatus": provisioning,
		"usable": [capability, provisioning == "Disabled"] == ["Enabled", false],
	} |
		some [sku, plan, "teams"] in hits
		capability := object.get(sku, "capabilityStatus", null)
		provisioning := object.get(plan, "provisioningStatus", null)
	}
}

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
#   scope: tenant
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
lic_001 := {
	"id": "TL-LIC-001",
	"status": "pass",
	"message": sprintf("the tenant holds a Dynamics 365 customer engagement app licence: %s", [description]),
	"evidence": {"matched": m, "matches": licences.matches},
} if {
	input.tenant.licenses.status == "ok"
	licences := _licences
	m := [x | some x in licences.matches; x.usable == true; x.teamMembers == false][0]

	# _describe(m), without the cost of a call on the common path
	description := {
		true: sprintf("%v (SKU %v, service plan %v)", [m.skuPartNumber, m.skuId, object.get(m, "servicePlanName", null)]),
		false: sprintf("%v (SKU %v, matched by %v)", [m.skuPartNumber, m.skuId, m.matchedBy]),
	}[m.matchedBy == "servicePlanId"]
} else := {
	"id": "TL-LIC-001",
	"status": "warn",
	"message": sprintf("the only Dynamics 365 licence found is Team Members (%s): %s", [
		_describe(m),
		"it is accepted for using record linking, but the prerequisites list a full customer engagement app licence",
	]),
	"evidence": {"matched": m, "matches": licences.matches},
} if {
	input.tenant.licenses.status == "ok"
	licences := _licences
	m := [x | some x in licences.matches; x.usable == true; x.teamMembers == true][0]
} else := {
	"id": "TL-LIC-001",
	"status": "fail",
	"message": sprintf(
		"the tenant's Dynamics 365 customer engagement licence is not usable: %s has capabilityStatus %v and plan status %v",
		[_describe(m), m.capabilityStatus, object.get(m, "provisioningStatus", "n/a")],
	),
	"evidence": {"matches": licences.matches, "skus": _sku_summary},
} if {
	input.tenant.licenses.status == "ok"
	licences := _licences
	m := [x | some x in licences.matches; x.usable == false][0]
} else := {
	"id": "TL-LIC-001",
	"status": "fail",
	"message": sprintf("%s a Dynamics 365 customer engagement app licence", [_none_of_skus]),
	"evidence": {"matches": [], "skus": _sku_summary},
} if {
	input.tenant.licenses.status == "ok"
} else := r if {
	p := lib.tenant_section_problems["tenant.licenses"]
	r := lib.problem_result("TL-LIC-001", p)
}

# METADATA
# title: Microsoft Teams licence
# description: |
#   Record linking needs a Microsoft Teams licence: the TEAMS1 service plan
#   (57ff2da0-773e-42df-b2af-ffb7a2317929) in an enabled SKU, not disabled.
# custom:
#   id: TL-LIC-002
#   severity: high
#   experience: [basic, enhanced]
#   scope: tenant
#   docs: https://learn.microsoft.com/dynamics365/sales/teams-integration/enable-record-linking
#   remediation: |
#     Assign a Microsoft 365 or Office 365 subscription that includes Microsoft
#     Teams (service plan TEAMS1), or re-enable the TEAMS1 plan in the SKU that has it.
lic_002 := {
	"id": "TL-LIC-002",
	"status": "pass",
	"message": sprintf(
		"the tenant holds a Microsoft Teams licence: service plan TEAMS1 in %v (SKU %v)",
		[p.skuPartNumber, p.skuId],
	),
	"evidence": {"matched": p, "matches": licences.teams},
} if {
	input.tenant.licenses.status == "ok"
	licences := _licences
	p := [q | some q in licences.teams; q.usable == true][0]
} else := {
	"id": "TL-LIC-002",
	"status": "fail",
	"message": sprintf(
		"the Microsoft Teams service plan TEAMS1 is not usable: in %v the SKU is %v and the plan is %v",
		[p.skuPartNumber, p.capabilityStatus, p.provisioningStatus],
	),
	"evidence": {"matches": licences.teams, "skus": _sku_summary},
} if {
	input.tenant.licenses.status == "ok"
	licences := _licences
	p := [q | some q in licences.teams][0]
} else := {
	"id": "TL-LIC-002",
	"status": "fail",
	"message": sprintf("%s the Microsoft Teams service plan TEAMS1", [_none_of_skus_contains]),
	"evidence": {"matches": [], "skus": _sku_summary},
} if {
	input.tenant.licenses.status == "ok"
} else := r if {
	p := lib.tenant_section_problems["tenant.licenses"]
	r := lib.problem_result("TL-LIC-002", p)
}
