package teamslink.roles_test

import data.teamslink.roles
import data.teamslink.test as fx

_team_sysadmin := {
	"roleId": "b2d4f6a8-3c5e-4a7b-9d1f-0e2c4a6b8d13",
	"name": "System Administrator",
	"roleTemplateId": "627090ff-40a3-4053-8790-584edc5be201",
	"via": "team",
	"teamId": "c3e5a7b9-4d6f-4b8c-8e2a-1f3d5b7c9e24",
}

_salesperson := {
	"roleId": "d4f6b8c0-5e7a-4c9d-9f3b-2a4e6c8d0f35",
	"name": "Salesperson",
	"roleTemplateId": "c2f4a6b8-0d1e-4f3a-8b5c-7d9e1f3a5b46",
	"via": "user",
}

test_role_001_pass_direct_assignment if {
	fx.expect(roles.results, "TL-ROLE-001", "pass") with input as fx.base_input
	r := fx.one(roles.results, "TL-ROLE-001") with input as fx.base_input
	r.evidence.via == "user"
}

test_role_001_pass_through_team if {
	inp := fx.patched([fx.replace("/environment/caller/roles", [_salesperson, _team_sysadmin])])
	fx.expect(roles.results, "TL-ROLE-001", "pass") with input as inp
	r := fx.one(roles.results, "TL-ROLE-001") with input as inp
	r.evidence.via == "team"
	r.evidence.role.teamId == _team_sysadmin.teamId
	contains(r.message, _team_sysadmin.teamId)
}

test_role_001_pass_upper_case_template_id if {
	inp := fx.patched([fx.replace("/environment/caller/roles/0/roleTemplateId", "627090FF-40A3-4053-8790-584EDC5BE201")])
	fx.expect(roles.results, "TL-ROLE-001", "pass") with input as inp
}

test_role_001_fail_other_roles_only if {
	inp := fx.patched([fx.replace("/environment/caller/roles", [_salesperson])])
	fx.expect(roles.results, "TL-ROLE-001", "fail") with input as inp
	r := fx.one(roles.results, "TL-ROLE-001") with input as inp
	r.evidence.roles[0].name == "Salesperson"
	endswith(r.message, "(1 role checked)")
}

test_role_001_fail_localised_name_without_template if {
	inp := fx.patched([fx.remove("/environment/caller/roles/0/roleTemplateId")])
	fx.expect(roles.results, "TL-ROLE-001", "fail") with input as inp
}

test_role_001_fail_roles_null if {
	inp := fx.patched([fx.replace("/environment/caller/roles", null)])
	fx.expect(roles.results, "TL-ROLE-001", "fail") with input as inp
}

test_role_001_error_section_errored if {
	inp := fx.patched(fx.section_error("/environment/caller"))
	fx.expect_section_error(roles.results, "TL-ROLE-001", "environment.caller") with input as inp
}

test_role_001_error_section_missing if {
	inp := fx.patched([fx.remove("/environment/caller")])
	fx.expect_section_error(roles.results, "TL-ROLE-001", "environment.caller") with input as inp
}

test_role_002_pass_global_administrator if {
	fx.expect(roles.tenant_results, "TL-ROLE-002", "pass") with input as fx.base_input
}

test_role_002_fail_not_global_administrator if {
	inp := fx.patched([fx.replace("/tenant/caller/directoryRoles", [{
		"roleTemplateId": "69091246-20e8-4a56-aa4d-066075b2a7a8",
		"displayName": "Teams Administrator",
	}])])
	fx.expect(roles.tenant_results, "TL-ROLE-002", "fail") with input as inp
	r := fx.one(roles.tenant_results, "TL-ROLE-002") with input as inp
	r.evidence.directoryRoles[0].displayName == "Teams Administrator"
	contains(r.message, "the caller is a Teams Administrator, which is not enough: enabling needs tenant admin permission")
}

test_role_002_fail_other_role_does_not_mention_teams if {
	inp := fx.patched([fx.replace("/tenant/caller/directoryRoles", [{
		"roleTemplateId": "f28a1f50-f6e7-4571-818b-6a12f2af6b6c",
		"displayName": "SharePoint Administrator",
	}])])
	r := fx.one(roles.tenant_results, "TL-ROLE-002") with input as inp
	r.status == "fail"
	not contains(r.message, "Teams Administrator")
}

test_role_002_fail_no_directory_roles if {
	inp := fx.patched([fx.replace("/tenant/caller/directoryRoles", null)])
	fx.expect(roles.tenant_results, "TL-ROLE-002", "fail") with input as inp
}

test_role_002_skip_basic_experience if {
	inp := fx.patched([fx.replace("/options/experience", "basic")])
	fx.expect(roles.tenant_results, "TL-ROLE-002", "skip") with input as inp
}

test_role_002_skip_basic_even_when_section_errored if {
	inp := fx.patched(array.concat([fx.replace("/options/experience", "basic")], fx.section_error("/tenant/caller")))
	fx.expect(roles.tenant_results, "TL-ROLE-002", "skip") with input as inp
}

test_role_002_skip_service_principal if {
	inp := fx.patched([
		fx.replace("/tenant/caller/type", "servicePrincipal"),
		fx.replace("/tenant/caller/directoryRoles", []),
	])
	fx.expect(roles.tenant_results, "TL-ROLE-002", "skip") with input as inp
	r := fx.one(roles.tenant_results, "TL-ROLE-002") with input as inp
	contains(r.message, "must be a Global Administrator")
}

test_role_002_error_section_errored if {
	inp := fx.patched(fx.section_error("/tenant/caller"))
	fx.expect_section_error(roles.tenant_results, "TL-ROLE-002", "tenant.caller") with input as inp
}

test_role_002_error_section_missing if {
	inp := fx.patched([fx.remove("/tenant/caller")])
	fx.expect_section_error(roles.tenant_results, "TL-ROLE-002", "tenant.caller") with input as inp
}

test_role_002_error_invalid_experience if {
	inp := fx.patched([fx.replace("/options/experience", "Enhanced")])
	fx.expect_section_error(roles.tenant_results, "TL-ROLE-002", "options.experience") with input as inp
}
