package teamslink.lib_test

import data.teamslink.lib
import data.teamslink.test as fx

test_problem_undefined_for_usable_section if {
	not lib.problem("environment.organization") with input as fx.base_input
	lib.usable(["tenant.licenses", "environment.entities"]) with input as fx.base_input
}

test_problem_names_errored_section if {
	inp := fx.patched(fx.section_error("/environment/documentLocations"))
	p := lib.problem("environment.documentLocations") with input as inp
	p == {
		"section": "environment.documentLocations",
		"sectionStatus": "error",
		"error": "Principal user is missing a privilege",
		"httpStatus": 403,
	}
}

test_problem_section_without_status if {
	inp := fx.patched([fx.remove("/environment/entities/status")])
	p := lib.problem("environment.entities") with input as inp
	p.sectionStatus == "missing"
}

test_error_result_names_first_unusable_section if {
	inp := fx.patched(array.concat(
		fx.section_error("/environment/sharePointSites"),
		[fx.remove("/environment/organization")],
	))
	r := lib.error_result("X-1", ["environment.organization", "environment.sharePointSites"]) with input as inp
	r.status == "error"
	r.evidence.section == "environment.organization"
	r.message == "cannot assess: section environment.organization is missing from the input"
}

test_error_result_message_carries_http_status if {
	inp := fx.patched(fx.section_error("/tenant/consent"))
	r := lib.error_result("X-1", ["tenant.consent"]) with input as inp
	r.message == concat(" ", [
		"cannot assess: section tenant.consent was not read (status error, HTTP 403):",
		"Principal user is missing a privilege",
	])
}

test_sharepoint_integration_derived_not_configured if {
	s := lib.sharepoint_integration with input as fx.base_input
	s.configured == false
	s.source == "derived"
	s.reasoning == concat(" ", [
		"derived: not configured, because organization.sharepointdeploymenttype is null;",
		"there is no active default sharepointsite",
	])
}

test_sharepoint_integration_derived_configured if {
	inp := fx.patched([
		fx.replace("/environment/organization/record/sharepointdeploymenttype", 0),
		fx.replace("/environment/sharePointSites/defaultSite", {
			"sharepointsiteid": "e1d2c3b4-a5f6-4789-8abc-def012345678",
			"name": "Default Site",
			"absoluteurl": "https://contoso.sharepoint.com/sites/crm",
			"isdefault": true,
			"servicetype": 0,
			"statecode": 0,
			"validationstatus": 4,
		}),
	])
	s := lib.sharepoint_integration with input as inp
	s.configured == true
	startswith(s.reasoning, "derived: configured, because")
}

test_sharepoint_integration_onedrive_default_site_is_not_sharepoint if {
	inp := fx.patched([
		fx.replace("/environment/organization/record/sharepointdeploymenttype", 0),
		fx.replace("/environment/sharePointSites/defaultSite", {
			"sharepointsiteid": "e1d2c3b4-a5f6-4789-8abc-def012345678",
			"servicetype": 1,
			"statecode": 0,
			"validationstatus": 4,
		}),
	])
	s := lib.sharepoint_integration with input as inp
	s.configured == false
	s.reasoning == "derived: not configured, because the default site's servicetype is not 0 (SharePoint)"
}

test_sharepoint_integration_override_wins if {
	inp := fx.patched(array.concat(
		[fx.add("/environment/overrides", {"sharePointIntegrationConfigured": true})],
		fx.section_error("/environment/organization"),
	))
	s := lib.sharepoint_integration with input as inp
	s.configured == true
	s.source == "config override"
}

test_sharepoint_integration_undefined_on_unread_data if {
	inp := fx.patched(fx.section_error("/environment/sharePointSites"))
	not lib.sharepoint_integration with input as inp
}

test_counted_singular_and_plural if {
	lib.counted(1, false, "role", "roles") == "1 role"
	lib.counted(0, false, "role", "roles") == "0 roles"
	lib.counted(2, false, "role", "roles") == "2 roles"
	lib.counted(5000, true, "role", "roles") == "5000+ roles"
}

test_count_text if {
	lib.count_text(5000, true) == "5000+"
	lib.count_text(12, false) == "12"
}

test_same_id_is_case_insensitive_and_rejects_empty if {
	lib.same_id("ABC-1", "abc-1")
	not lib.same_id("", "")
	not lib.same_id(null, null)
}

test_unusable_sections_empty_on_compliant_input if {
	count(lib.unusable_sections) == 0 with input as fx.base_input
	lib.section_problems == {} with input as fx.base_input
}

test_unusable_sections_cover_every_section_path if {
	ops := [op | some path in lib.section_paths; some op in fx.section_error(concat("/", ["", replace(path, ".", "/")]))]
	inp := fx.patched(ops)
	lib.unusable_sections == lib.section_paths with input as inp
	every path in lib.section_paths {
		lib.section_problems[path] == lib.find_problem(path) with input as inp
	}
}

test_unusable_sections_missing_section if {
	inp := fx.patched([fx.remove("/tenant/caller")])
	lib.unusable_sections == {"tenant.caller"} with input as inp
	lib.problem("tenant.caller").sectionStatus == "missing" with input as inp
}

test_unusable_sections_record_not_an_object if {
	inp := fx.patched([fx.replace("/environment/organization/record", "x")])
	lib.unusable_sections == {"environment.organization"} with input as inp
	lib.problem("environment.organization") == {
		"section": "environment.organization",
		"sectionStatus": "ok",
		"error": "section status is ok but its record is not an object",
		"httpStatus": 200,
	} with input as inp
}

test_unusable_sections_record_missing if {
	inp := fx.patched([fx.remove("/environment/organization/record")])
	lib.unusable_sections == {"environment.organization"} with input as inp
}

test_problem_result_is_error_result if {
	inp := fx.patched(fx.section_error("/tenant/consent"))
	p := lib.section_problems["tenant.consent"] with input as inp
	r := lib.problem_result("X-1", p) with input as inp
	r == lib.error_result("X-1", ["tenant.consent"]) with input as inp
	lib.table_problem_result("X-1", "account", p) == object.union(r, {"table": "account"}) with input as inp
}

test_tenant_section_problems_match_section_problems if {
	ops := [op | some path in ["/tenant/consent", "/tenant/caller"]; some op in fx.section_error(path)]
	inp := fx.patched(array.concat(ops, [fx.remove("/tenant/licenses")]))
	tenant_input := object.remove(inp, ["environment"])
	problems := lib.tenant_section_problems with input as tenant_input
	object.keys(problems) == {"tenant.consent", "tenant.caller", "tenant.licenses"}
	every path, p in problems {
		p == lib.find_problem(path) with input as tenant_input
	}
	problems["tenant.licenses"].sectionStatus == "missing"
	problems["tenant.consent"].sectionStatus == "error"
}

test_tenant_error_result_without_tenant if {
	r := lib.tenant_error_result("X-1", ["tenant.sharePoint"]) with input as {"options": {"experience": "basic"}}
	r.status == "error"
	r.evidence.sectionStatus == "missing"
	not lib.tenant_error_result("X-1", ["tenant.sharePoint"]) with input as fx.base_input
}

test_option_problems_undefined_when_valid if {
	not lib.experience_problem with input as fx.base_input
	not lib.profile_problem with input as fx.base_input
}

test_option_problems_missing_option if {
	inp := fx.patched([fx.remove("/options/experience"), fx.replace("/options/profile", "strict")])
	lib.experience_problem == lib.option_problem("experience", {"basic", "enhanced"}) with input as inp
	lib.experience_problem.value == null with input as inp
	lib.profile_problem.value == "strict" with input as inp
	r := lib.experience_error("X-1") with input as inp
	r.message == "cannot assess: options.experience is null; valid values: basic, enhanced"
}

test_sharepoint_integration_configured_reasoning if {
	inp := fx.patched([
		fx.replace("/environment/organization/record/sharepointdeploymenttype", 0),
		fx.replace("/environment/sharePointSites/defaultSite", {
			"sharepointsiteid": "e1d2c3b4-a5f6-4789-8abc-def012345678",
			"servicetype": 0,
			"statecode": 0,
			"validationstatus": 4,
		}),
	])
	s := lib.sharepoint_integration with input as inp
	s.reasoning == concat(" ", [
		"derived: configured, because organization.sharepointdeploymenttype is set and the active",
		"default sharepointsite is a SharePoint site that validated",
	])
	s.signals.defaultSite == {
		"sharepointsiteid": "e1d2c3b4-a5f6-4789-8abc-def012345678",
		"servicetype": 0,
		"statecode": 0,
		"validationstatus": 4,
	}
	startswith(s.assumption, "NOT CONFIRMED: no documented column says whether server-based SharePoint integration is configured")
}

test_sharepoint_integration_no_default_site_leaves_site_checks_out if {
	s := lib.sharepoint_integration with input as fx.base_input
	s.signals == {"sharepointdeploymenttype": null, "defaultSite": null}
	s.reasoning == concat("", [
		"derived: not configured, because organization.sharepointdeploymenttype is null; ",
		"there is no active default sharepointsite",
	])
}

test_sharepoint_integration_lists_every_failed_site_check if {
	inp := fx.patched([fx.replace("/environment/sharePointSites/defaultSite", {"servicetype": 1, "statecode": 1})])
	s := lib.sharepoint_integration with input as inp
	s.reasoning == concat("", [
		"derived: not configured, because organization.sharepointdeploymenttype is null; ",
		"the default site's servicetype is not 0 (SharePoint); the default site's statecode is not 0 (Active); ",
		"the default site's validationstatus is not 4 (Valid)",
	])
}
