package teamslink.licensing_test

import data.teamslink.licensing
import data.teamslink.test as fx

_sales_plan := "/tenant/licenses/skus/0/servicePlans/0"

_teams_plan := "/tenant/licenses/skus/1/servicePlans/0"

test_lic_001_pass_sales_enterprise if {
	fx.expect(licensing.tenant_results, "TL-LIC-001", "pass") with input as fx.base_input
	r := fx.one(licensing.tenant_results, "TL-LIC-001") with input as fx.base_input
	r.evidence.matched.servicePlanName == "DYN365_ENTERPRISE_SALES"
	r.evidence.matched.matchedBy == "servicePlanId"
}

test_lic_001_pass_by_sku_id if {
	inp := fx.patched([fx.replace("/tenant/licenses/skus/0/servicePlans", [])])
	fx.expect(licensing.tenant_results, "TL-LIC-001", "pass") with input as inp
	r := fx.one(licensing.tenant_results, "TL-LIC-001") with input as inp
	r.evidence.matched.matchedBy == "skuId"
}

test_lic_001_pass_ids_compared_case_insensitively if {
	inp := fx.patched([
		fx.replace("/tenant/licenses/skus/0/skuId", "00000000-0000-0000-0000-000000000000"),
		fx.replace(sprintf("%s/servicePlanId", [_sales_plan]), "2DA8E897-7791-486B-B08F-CC63C8129DF7"),
	])
	fx.expect(licensing.tenant_results, "TL-LIC-001", "pass") with input as inp
}

test_lic_001_pass_government_sku_by_part_number if {
	inp := fx.patched([fx.replace("/tenant/licenses/skus/0", {
		"skuId": "00000000-0000-0000-0000-000000000001",
		"skuPartNumber": "DYN365_ENTERPRISE_SALES_GOV",
		"capabilityStatus": "Enabled",
		"servicePlans": [],
	})])
	fx.expect(licensing.tenant_results, "TL-LIC-001", "pass") with input as inp
	r := fx.one(licensing.tenant_results, "TL-LIC-001") with input as inp
	r.evidence.matched.matchedBy == "skuPartNumber"
}

test_lic_001_warn_team_members_only if {
	inp := fx.patched([fx.replace("/tenant/licenses/skus/0", {
		"skuId": "8e7a3d30-d97d-43ab-837c-d7701cef83dc",
		"skuPartNumber": "DYN365_ENTERPRISE_TEAM_MEMBERS",
		"capabilityStatus": "Enabled",
		"servicePlans": [{
			"servicePlanId": "6a54b05e-4fab-40e7-9828-428db3b336fa",
			"servicePlanName": "DYN365_ENTERPRISE_TEAM_MEMBERS",
			"provisioningStatus": "Success",
		}],
	})])
	fx.expect(licensing.tenant_results, "TL-LIC-001", "warn") with input as inp
}

test_lic_001_fail_no_customer_engagement_sku if {
	inp := fx.patched([fx.remove("/tenant/licenses/skus/0")])
	fx.expect(licensing.tenant_results, "TL-LIC-001", "fail") with input as inp
	r := fx.one(licensing.tenant_results, "TL-LIC-001") with input as inp
	r.evidence.skus == [{
		"skuId": "05e9a617-0261-4cee-bb44-138d3ef5d965",
		"skuPartNumber": "SPE_E3",
		"capabilityStatus": "Enabled",
	}]
}

test_lic_001_fail_message_singular_and_none if {
	one := fx.patched([fx.remove("/tenant/licenses/skus/0")])
	r1 := fx.one(licensing.tenant_results, "TL-LIC-001") with input as one
	r1.message == "the tenant's 1 subscribed SKU is not a Dynamics 365 customer engagement app licence"
	none := fx.patched([fx.replace("/tenant/licenses/skus", [])])
	r0 := fx.one(licensing.tenant_results, "TL-LIC-001") with input as none
	r0.message == "the tenant has no subscribed SKU, so none is a Dynamics 365 customer engagement app licence"
	r2 := fx.one(licensing.tenant_results, "TL-LIC-002") with input as none
	r2.message == "the tenant has no subscribed SKU, so none contains the Microsoft Teams service plan TEAMS1"
}

test_lic_001_fail_suspended_sku if {
	inp := fx.patched([fx.replace("/tenant/licenses/skus/0/capabilityStatus", "Suspended")])
	fx.expect(licensing.tenant_results, "TL-LIC-001", "fail") with input as inp
	r := fx.one(licensing.tenant_results, "TL-LIC-001") with input as inp
	contains(r.message, "Suspended")
}

test_lic_001_fail_service_plan_disabled if {
	inp := fx.patched([fx.replace(sprintf("%s/provisioningStatus", [_sales_plan]), "Disabled")])
	fx.expect(licensing.tenant_results, "TL-LIC-001", "fail") with input as inp
}

test_lic_001_fail_skus_null if {
	inp := fx.patched([fx.replace("/tenant/licenses/skus", null)])
	fx.expect(licensing.tenant_results, "TL-LIC-001", "fail") with input as inp
}

test_lic_001_error_section_errored if {
	inp := fx.patched(fx.section_error("/tenant/licenses"))
	fx.expect_section_error(licensing.tenant_results, "TL-LIC-001", "tenant.licenses") with input as inp
	r := fx.one(licensing.tenant_results, "TL-LIC-001") with input as inp
	r.evidence.httpStatus == 403
	r.evidence.sectionStatus == "error"
}

test_lic_001_error_section_missing if {
	inp := fx.patched([fx.remove("/tenant/licenses")])
	fx.expect_section_error(licensing.tenant_results, "TL-LIC-001", "tenant.licenses") with input as inp
}

test_lic_002_pass_teams_plan if {
	fx.expect(licensing.tenant_results, "TL-LIC-002", "pass") with input as fx.base_input
	r := fx.one(licensing.tenant_results, "TL-LIC-002") with input as fx.base_input
	r.evidence.matched.skuPartNumber == "SPE_E3"
}

test_lic_002_pass_upper_case_plan_id if {
	inp := fx.patched([fx.replace(sprintf("%s/servicePlanId", [_teams_plan]), "57FF2DA0-773E-42DF-B2AF-FFB7A2317929")])
	fx.expect(licensing.tenant_results, "TL-LIC-002", "pass") with input as inp
}

test_lic_002_fail_no_teams_plan if {
	inp := fx.patched([fx.remove(_teams_plan)])
	fx.expect(licensing.tenant_results, "TL-LIC-002", "fail") with input as inp
	r := fx.one(licensing.tenant_results, "TL-LIC-002") with input as inp
	r.message == "none of the tenant's 2 subscribed SKUs contains the Microsoft Teams service plan TEAMS1"
}

test_lic_002_fail_teams_plan_disabled if {
	inp := fx.patched([fx.replace(sprintf("%s/provisioningStatus", [_teams_plan]), "Disabled")])
	fx.expect(licensing.tenant_results, "TL-LIC-002", "fail") with input as inp
	r := fx.one(licensing.tenant_results, "TL-LIC-002") with input as inp
	contains(r.message, "Disabled")
}

test_lic_002_fail_sku_locked_out if {
	inp := fx.patched([fx.replace("/tenant/licenses/skus/1/capabilityStatus", "LockedOut")])
	fx.expect(licensing.tenant_results, "TL-LIC-002", "fail") with input as inp
}

test_lic_002_error_section_errored if {
	inp := fx.patched(fx.section_error("/tenant/licenses"))
	fx.expect_section_error(licensing.tenant_results, "TL-LIC-002", "tenant.licenses") with input as inp
}

test_lic_002_error_section_missing if {
	inp := fx.patched([fx.remove("/tenant/licenses")])
	fx.expect_section_error(licensing.tenant_results, "TL-LIC-002", "tenant.licenses") with input as inp
}

test_lic_002_error_section_skipped if {
	inp := fx.patched([fx.replace("/tenant/licenses/status", "skipped")])
	fx.expect_section_error(licensing.tenant_results, "TL-LIC-002", "tenant.licenses") with input as inp
}

test_lic_001_pass_message_names_the_plan if {
	r := fx.one(licensing.tenant_results, "TL-LIC-001") with input as fx.base_input
	r.message == concat(" ", [
		"the tenant holds a Dynamics 365 customer engagement app licence:",
		"DYN365_ENTERPRISE_SALES (SKU 1e1a282c-9c54-43a2-9310-98ef728faace, service plan DYN365_ENTERPRISE_SALES)",
	])
	count(r.evidence.matches) == 2
}

test_lic_001_pass_message_names_the_sku_when_matched_by_id if {
	inp := fx.patched([fx.replace("/tenant/licenses/skus/0/servicePlans", [])])
	r := fx.one(licensing.tenant_results, "TL-LIC-001") with input as inp
	r.message == concat(" ", [
		"the tenant holds a Dynamics 365 customer engagement app licence:",
		"DYN365_ENTERPRISE_SALES (SKU 1e1a282c-9c54-43a2-9310-98ef728faace, matched by skuId)",
	])
}
