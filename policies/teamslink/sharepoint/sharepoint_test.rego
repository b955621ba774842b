package teamslink.sharepoint_test

import data.teamslink.sharepoint
import data.teamslink.test as fx

_site := {
	"@odata.etag": "W/\"1234567\"",
	"sharepointsiteid": "e1d2c3b4-a5f6-4789-8abc-def012345678",
	"name": "Default Site",
	"absoluteurl": "https://contoso.sharepoint.com/sites/crm",
	"relativeurl": "",
	"isdefault": true,
	"servicetype": 0,
	"statecode": 0,
	"validationstatus": 4,
}

_other_site := object.union(_site, {
	"sharepointsiteid": "f2e3d4c5-b6a7-4890-9bcd-ef0123456789",
	"name": "Old Site",
	"absoluteurl": "https://contoso.sharepoint.com/sites/old",
	"isdefault": false,
	"validationstatus": 1,
})

_location := {
	"@odata.etag": "W/\"7654321\"",
	"sharepointdocumentlocationid": "a9b8c7d6-e5f4-4321-8fed-cba987654321",
	"name": "Documents on Old Site",
	"absoluteurl": "https://contoso.sharepoint.com/sites/old/account",
	"relativeurl": null,
	"_parentsiteorlocation_value": null,
	"_regardingobjectid_value": null,
	"servicetype": 0,
	"locationtype": 0,
	"statecode": 0,
}

# _configured patches the base input into an environment with server-based
# SharePoint integration configured (deployment type Online, a valid default site).
_configured := [
	fx.replace("/environment/organization/record/sharepointdeploymenttype", 0),
	fx.replace("/environment/sharePointSites/activeCount", 1),
	fx.replace("/environment/sharePointSites/defaultSite", _site),
	fx.replace("/environment/sharePointSites/sample", [_site]),
]

_override(v) := [fx.add("/environment/overrides", {"sharePointIntegrationConfigured": v})]

_active_sites(n, exceeded) := [
	fx.replace("/environment/sharePointSites/activeCount", n),
	fx.replace("/environment/sharePointSites/countLimitExceeded", exceeded),
	fx.replace("/environment/sharePointSites/sample", [_other_site]),
]

_absolute_locations(n, exceeded) := [
	fx.replace("/environment/documentLocations/absoluteUrlCount", n),
	fx.replace("/environment/documentLocations/countLimitExceeded", exceeded),
	fx.replace("/environment/documentLocations/sample", [_location]),
]

# TL-SP-001

test_sp_001_pass_onedrive_disabled if {
	fx.expect(sharepoint.results, "TL-SP-001", "pass") with input as fx.base_input
	r := fx.one(sharepoint.results, "TL-SP-001") with input as fx.base_input
	r.evidence.sharePointIntegration.source == "derived"
	r.evidence.sharePointIntegration.configured == false
	contains(r.evidence.sharePointIntegration.reasoning, "sharepointdeploymenttype is null")
}

test_sp_001_fail_onedrive_enabled if {
	inp := fx.patched([fx.replace("/environment/organization/record/isonedriveenabled", true)])
	fx.expect(sharepoint.results, "TL-SP-001", "fail") with input as inp
	r := fx.one(sharepoint.results, "TL-SP-001") with input as inp
	contains(r.message, "800503ca")
}

test_sp_001_fail_override_not_configured if {
	inp := fx.patched(array.concat(
		array.concat(_configured, _override(false)),
		[fx.replace("/environment/organization/record/isonedriveenabled", true)],
	))
	fx.expect(sharepoint.results, "TL-SP-001", "fail") with input as inp
	r := fx.one(sharepoint.results, "TL-SP-001") with input as inp
	r.evidence.sharePointIntegration.source == "config override"
}

test_sp_001_skip_integration_configured if {
	inp := fx.patched(array.concat(_configured, [fx.replace("/environment/organization/record/isonedriveenabled", true)]))
	fx.expect(sharepoint.results, "TL-SP-001", "skip") with input as inp
	r := fx.one(sharepoint.results, "TL-SP-001") with input as inp
	r.evidence.sharePointIntegration.configured == true
	r.evidence.sharePointIntegration.signals.defaultSite.sharepointsiteid == _site.sharepointsiteid
}

test_sp_001_skip_override_configured_without_reading_sections if {
	inp := fx.patched(array.concat(_override(true), fx.section_error("/environment/organization")))
	fx.expect(sharepoint.results, "TL-SP-001", "skip") with input as inp
	r := fx.one(sharepoint.results, "TL-SP-001") with input as inp
	r.evidence.sharePointIntegration.source == "config override"
}

test_sp_001_error_organization_errored if {
	inp := fx.patched(fx.section_error("/environment/organization"))
	fx.expect_section_error(sharepoint.results, "TL-SP-001", "environment.organization") with input as inp
}

test_sp_001_error_organization_missing if {
	inp := fx.patched([fx.remove("/environment/organization")])
	fx.expect_section_error(sharepoint.results, "TL-SP-001", "environment.organization") with input as inp
}

test_sp_001_error_organization_record_null if {
	inp := fx.patched([fx.replace("/environment/organization/record", null)])
	fx.expect_section_error(sharepoint.results, "TL-SP-001", "environment.organization") with input as inp
	r := fx.one(sharepoint.results, "TL-SP-001") with input as inp
	r.evidence.sectionStatus == "ok"
}

test_sp_001_error_sites_errored_for_derivation if {
	inp := fx.patched(fx.section_error("/environment/sharePointSites"))
	fx.expect_section_error(sharepoint.results, "TL-SP-001", "environment.sharePointSites") with input as inp
}

# TL-SP-002

test_sp_002_pass_no_active_sites if {
	fx.expect(sharepoint.results, "TL-SP-002", "pass") with input as fx.base_input
}

test_sp_002_fail_active_site if {
	inp := fx.patched(_active_sites(1, false))
	fx.expect(sharepoint.results, "TL-SP-002", "fail") with input as inp
	r := fx.one(sharepoint.results, "TL-SP-002") with input as inp
	r.evidence.sample[0].sharepointsiteid == _other_site.sharepointsiteid
	contains(r.message, _other_site.absoluteurl)
	startswith(r.message, "1 active SharePoint site record exists while ")
	r.evidence.activeCount == 1
}

test_sp_002_fail_count_limit_exceeded if {
	inp := fx.patched(_active_sites(5000, true))
	fx.expect(sharepoint.results, "TL-SP-002", "fail") with input as inp
	r := fx.one(sharepoint.results, "TL-SP-002") with input as inp
	startswith(r.message, "5000+ active SharePoint site records exist while ")
	not contains(r.message, "5000 ")
	r.evidence.activeCount == "5000+"
}

test_sp_002_fail_default_site_not_validated if {
	inp := fx.patched(array.concat(
		_configured,
		[fx.replace("/environment/sharePointSites/defaultSite/validationstatus", 3)],
	))
	fx.expect(sharepoint.results, "TL-SP-002", "fail") with input as inp
	r := fx.one(sharepoint.results, "TL-SP-002") with input as inp
	contains(r.evidence.sharePointIntegration.reasoning, "validationstatus is not 4")
}

test_sp_002_skip_integration_configured if {
	inp := fx.patched(_configured)
	fx.expect(sharepoint.results, "TL-SP-002", "skip") with input as inp
}

test_sp_002_skip_override_configured if {
	inp := fx.patched(array.concat(_override(true), _active_sites(3, false)))
	fx.expect(sharepoint.results, "TL-SP-002", "skip") with input as inp
}

test_sp_002_error_sites_errored if {
	inp := fx.patched(fx.section_error("/environment/sharePointSites"))
	fx.expect_section_error(sharepoint.results, "TL-SP-002", "environment.sharePointSites") with input as inp
}

test_sp_002_error_sites_errored_with_override if {
	inp := fx.patched(array.concat(_override(false), fx.section_error("/environment/sharePointSites")))
	fx.expect_section_error(sharepoint.results, "TL-SP-002", "environment.sharePointSites") with input as inp
}

test_sp_002_error_sites_missing if {
	inp := fx.patched([fx.remove("/environment/sharePointSites")])
	fx.expect_section_error(sharepoint.results, "TL-SP-002", "environment.sharePointSites") with input as inp
}

# TL-SP-003

test_sp_003_pass_no_absolute_locations if {
	fx.expect(sharepoint.results, "TL-SP-003", "pass") with input as fx.base_input
}

test_sp_003_fail_absolute_location if {
	inp := fx.patched(_absolute_locations(1, false))
	fx.expect(sharepoint.results, "TL-SP-003", "fail") with input as inp
	r := fx.one(sharepoint.results, "TL-SP-003") with input as inp
	r.evidence.sample[0].sharepointdocumentlocationid == _location.sharepointdocumentlocationid
	contains(r.message, _location.absoluteurl)
	startswith(r.message, "1 document location with an absolute URL exists while ")
}

test_sp_003_fail_count_limit_exceeded if {
	inp := fx.patched(_absolute_locations(5000, true))
	r := fx.one(sharepoint.results, "TL-SP-003") with input as inp
	r.status == "fail"
	r.evidence.absoluteUrlCount == "5000+"
}

test_sp_003_skip_integration_configured if {
	inp := fx.patched(array.concat(_configured, _absolute_locations(2, false)))
	fx.expect(sharepoint.results, "TL-SP-003", "skip") with input as inp
}

test_sp_003_skip_override_configured_with_locations_unread if {
	inp := fx.patched(array.concat(_override(true), fx.section_error("/environment/documentLocations")))
	fx.expect(sharepoint.results, "TL-SP-003", "skip") with input as inp
}

test_sp_003_error_locations_errored if {
	inp := fx.patched(fx.section_error("/environment/documentLocations"))
	fx.expect_section_error(sharepoint.results, "TL-SP-003", "environment.documentLocations") with input as inp
	r := fx.one(sharepoint.results, "TL-SP-003") with input as inp
	contains(r.message, "Principal user is missing a privilege")
}

test_sp_003_error_locations_missing if {
	inp := fx.patched([fx.remove("/environment/documentLocations")])
	fx.expect_section_error(sharepoint.results, "TL-SP-003", "environment.documentLocations") with input as inp
}

test_sp_003_error_organization_missing_for_derivation if {
	inp := fx.patched([fx.remove("/environment/organization")])
	fx.expect_section_error(sharepoint.results, "TL-SP-003", "environment.organization") with input as inp
}

# TL-SP-004

test_sp_004_pass_deployment_type_not_set if {
	fx.expect(sharepoint.results, "TL-SP-004", "pass") with input as fx.base_input
}

test_sp_004_pass_sharepoint_online if {
	inp := fx.patched([fx.replace("/environment/organization/record/sharepointdeploymenttype", 0)])
	fx.expect(sharepoint.results, "TL-SP-004", "pass") with input as inp
}

test_sp_004_fail_on_premises if {
	inp := fx.patched([fx.replace("/environment/organization/record/sharepointdeploymenttype", 1)])
	fx.expect(sharepoint.results, "TL-SP-004", "fail") with input as inp
	r := fx.one(sharepoint.results, "TL-SP-004") with input as inp
	r.evidence.meaning == "On-Premises"
}

test_sp_004_error_unknown_deployment_type if {
	inp := fx.patched([fx.replace("/environment/organization/record/sharepointdeploymenttype", 7)])
	fx.expect_section_error(sharepoint.results, "TL-SP-004", "environment.organization") with input as inp
}

test_sp_004_error_organization_errored if {
	inp := fx.patched(fx.section_error("/environment/organization"))
	fx.expect_section_error(sharepoint.results, "TL-SP-004", "environment.organization") with input as inp
}

test_sp_004_error_organization_missing if {
	inp := fx.patched([fx.remove("/environment/organization")])
	fx.expect_section_error(sharepoint.results, "TL-SP-004", "environment.organization") with input as inp
}

# TL-SP-005

test_sp_005_pass_full_access if {
	fx.expect(sharepoint.tenant_results, "TL-SP-005", "pass") with input as fx.base_input
}

test_sp_005_warn_limited_access if {
	inp := fx.patched([
		fx.replace("/tenant/sharePoint/conditionalAccessPolicy", "AllowLimitedAccess"),
		fx.replace("/tenant/sharePoint/conditionalAccessPolicyRaw", "1"),
	])
	fx.expect(sharepoint.tenant_results, "TL-SP-005", "warn") with input as inp
}

test_sp_005_fail_block_access if {
	inp := fx.patched([
		fx.replace("/tenant/sharePoint/conditionalAccessPolicy", "BlockAccess"),
		fx.replace("/tenant/sharePoint/conditionalAccessPolicyRaw", "2"),
	])
	fx.expect(sharepoint.tenant_results, "TL-SP-005", "fail") with input as inp
	r := fx.one(sharepoint.tenant_results, "TL-SP-005") with input as inp
	contains(r.message, "401")
}

test_sp_005_warn_authentication_context if {
	inp := fx.patched([fx.replace("/tenant/sharePoint/conditionalAccessPolicy", "AuthenticationContext")])
	fx.expect(sharepoint.tenant_results, "TL-SP-005", "warn") with input as inp
}

test_sp_005_error_unknown_policy if {
	inp := fx.patched([
		fx.replace("/tenant/sharePoint/conditionalAccessPolicy", "ProtectionLevel"),
		fx.replace("/tenant/sharePoint/conditionalAccessPolicyRaw", "4"),
	])
	fx.expect_section_error(sharepoint.tenant_results, "TL-SP-005", "tenant.sharePoint") with input as inp
}

test_sp_005_error_section_errored if {
	inp := fx.patched(fx.section_error("/tenant/sharePoint"))
	fx.expect_section_error(sharepoint.tenant_results, "TL-SP-005", "tenant.sharePoint") with input as inp
}

test_sp_005_error_section_missing if {
	inp := fx.patched([fx.remove("/tenant/sharePoint")])
	fx.expect_section_error(sharepoint.tenant_results, "TL-SP-005", "tenant.sharePoint") with input as inp
}

test_sp_002_fail_message_lists_up_to_five_examples if {
	sites := [object.union(_other_site, {"absoluteurl": sprintf("https://contoso.sharepoint.com/sites/s%d", [i])}) |
		some i in numbers.range(1, 6)
	]
	inp := fx.patched([
		fx.replace("/environment/sharePointSites/activeCount", 6),
		fx.replace("/environment/sharePointSites/sample", sites),
	])
	r := fx.one(sharepoint.results, "TL-SP-002") with input as inp
	r.message == concat("", [
		"6 active SharePoint site records exist while server-based SharePoint integration is not configured ",
		"(error 800503ca) (e.g. https://contoso.sharepoint.com/sites/s1, https://contoso.sharepoint.com/sites/s2, ",
		"https://contoso.sharepoint.com/sites/s3, https://contoso.sharepoint.com/sites/s4, ",
		"https://contoso.sharepoint.com/sites/s5)",
	])
	count(r.evidence.sample) == 6
}

test_sp_002_fail_sample_only_without_count if {
	inp := fx.patched([fx.replace("/environment/sharePointSites/sample", [object.union(_other_site, {"absoluteurl": null})])])
	r := fx.one(sharepoint.results, "TL-SP-002") with input as inp
	r.status == "fail"
	r.message == concat("", [
		"0 active SharePoint site records exist while server-based SharePoint integration is not configured ",
		"(error 800503ca) (e.g. )",
	])
}

test_sp_003_pass_message if {
	r := fx.one(sharepoint.results, "TL-SP-003") with input as fx.base_input
	r.message == "there are no document locations with an absolute URL while server-based SharePoint integration is not configured"
	r.evidence.absoluteUrlCount == 0
}

test_sp_003_fail_count_limit_exceeded_without_sample if {
	inp := fx.patched([
		fx.replace("/environment/documentLocations/absoluteUrlCount", 5000),
		fx.replace("/environment/documentLocations/countLimitExceeded", true),
	])
	r := fx.one(sharepoint.results, "TL-SP-003") with input as inp
	r.message == concat("", [
		"5000+ document locations with an absolute URL exist while ",
		"server-based SharePoint integration is not configured (error 800503ca)",
	])
}

test_sp_001_fail_evidence if {
	inp := fx.patched([fx.replace("/environment/organization/record/isonedriveenabled", true)])
	r := fx.one(sharepoint.results, "TL-SP-001") with input as inp
	r.status == "fail"
	r.evidence.isonedriveenabled == true
	r.evidence.organizationid == "9d3e5f7a-1b2c-4d6e-8f0a-3c5e7a9b1d24"
	r.message == concat(" ", [
		"OneDrive integration is enabled while server-based SharePoint integration",
		"is not configured (error 800503ca)",
	])
}
