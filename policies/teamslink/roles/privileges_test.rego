package teamslink.roles_test

import data.teamslink.facts
import data.teamslink.roles
import data.teamslink.test as fx

# _held is a held role granting the pinning privileges except those in lacking.
_held(name, users, lacking) := {
	"roleId": sprintf("%s-0000-4000-8000-000000000000", [substring(sprintf("%s00000000", [lower(replace(name, " ", ""))]), 0, 8)]),
	"name": name,
	"userCount": users,
	"privileges": [p | some p in facts.pin_privileges; not p in lacking],
}

_with_roles(list) := fx.patched([fx.replace("/environment/rolePrivileges/roles", list)])

test_role_003_pass_every_held_role_grants_them if {
	fx.expect(roles.results, "TL-ROLE-003", "pass") with input as fx.base_input
	r := fx.one(roles.results, "TL-ROLE-003") with input as fx.base_input
	r.message == "every role enabled users hold (1 role) grants Create, Read, Write, Append, AppendTo and Delete on SharePoint Site and Document Location"
	r.evidence.rolesChecked == 1
}

test_role_003_warn_direct_and_team_roles if {
	inp := _with_roles([
		_held("Field Agent", 3, {"prvCreateSharePointSite"}),
		_held("Salesperson", 1, {"prvAppendToSharePointSite", "prvDeleteSharePointDocumentLocation"}),
		_held("System Administrator", 1, set()),
	])
	fx.expect(roles.results, "TL-ROLE-003", "warn") with input as inp
	r := fx.one(roles.results, "TL-ROLE-003") with input as inp
	contains(r.message, "2 roles held by enabled users lack SharePoint privileges pinning needs: ")
	contains(r.message, "Field Agent (3 users; lacks prvCreateSharePointSite), Salesperson (1 user; lacks prvAppendToSharePointSite, prvDeleteSharePointDocumentLocation)")
	contains(r.message, "users with only these roles will see 'User does not have permissions to create SharePoint Site or Document Location'")
	r.evidence.rolesLacking == 2
	r.evidence.rolesChecked == 3
	[x.name | some x in r.evidence.roles] == ["Field Agent", "Salesperson"]
}

test_role_003_warn_one_role_is_singular if {
	inp := _with_roles([_held("Salesperson", 1, {"prvReadSharePointSite"})])
	r := fx.one(roles.results, "TL-ROLE-003") with input as inp
	r.status == "warn"
	startswith(r.message, "1 role held by enabled users lacks ")
	contains(r.message, "(1 user; ")
}

test_role_003_warn_names_partial_reads_and_unknown_privileges if {
	inp := fx.patched([
		fx.replace("/environment/rolePrivileges/roles", [_held("Salesperson", 7, {"prvReadSharePointSite"})]),
		fx.replace("/environment/rolePrivileges/truncated", ["systemusers"]),
		fx.replace("/environment/rolePrivileges/privileges", [p | some p in fx.base_input.environment.rolePrivileges.privileges; p.name != "prvDeleteSharePointSite"]),
		fx.replace("/environment/rolePrivileges/enabledUserCount", 5000),
		fx.replace("/environment/rolePrivileges/enabledUserCountLimitExceeded", true),
	])
	r := fx.one(roles.results, "TL-ROLE-003") with input as inp
	r.status == "warn"
	contains(r.message, "a partial read of systemusers: counts are lower bounds")
	contains(r.message, "not found by name, so not checked: prvDeleteSharePointSite")
	r.evidence.enabledUserCount == "5000+"
}

test_role_003_privilege_not_found_is_never_lacking if {
	# A role without prvDeleteSharePointSite, which the environment does
	# not know by that name: not a lacking role, and no pass either.
	inp := fx.patched([
		fx.replace("/environment/rolePrivileges/roles", [_held("Salesperson", 2, {"prvDeleteSharePointSite"})]),
		fx.replace("/environment/rolePrivileges/privileges", [p | some p in fx.base_input.environment.rolePrivileges.privileges; p.name != "prvDeleteSharePointSite"]),
	])
	fx.expect(roles.results, "TL-ROLE-003", "error") with input as inp
	r := fx.one(roles.results, "TL-ROLE-003") with input as inp
	contains(r.message, "1 privilege was not found by name in this environment (prvDeleteSharePointSite)")
	r.evidence.section == "environment.rolePrivileges"
	r.evidence.notFound == ["prvDeleteSharePointSite"]
}

test_role_003_error_partial_read_without_lacking_role if {
	inp := fx.patched([fx.replace("/environment/rolePrivileges/truncated", ["systemuserrolescollection", "roles"])])
	fx.expect(roles.results, "TL-ROLE-003", "error") with input as inp
	r := fx.one(roles.results, "TL-ROLE-003") with input as inp
	contains(r.message, "read only in part (systemuserrolescollection, roles had more rows")
}

test_role_003_pass_no_role_held if {
	inp := _with_roles([])
	fx.expect(roles.results, "TL-ROLE-003", "pass") with input as inp
	r := fx.one(roles.results, "TL-ROLE-003") with input as inp
	contains(r.message, "(0 roles)")
}

test_role_003_error_section_errored if {
	inp := fx.patched(fx.section_error("/environment/rolePrivileges"))
	fx.expect_section_error(roles.results, "TL-ROLE-003", "environment.rolePrivileges") with input as inp
}

test_role_003_error_section_missing if {
	inp := fx.patched([fx.remove("/environment/rolePrivileges")])
	fx.expect_section_error(roles.results, "TL-ROLE-003", "environment.rolePrivileges") with input as inp
}

test_role_003_error_roles_not_a_list if {
	inp := fx.patched([fx.replace("/environment/rolePrivileges/roles", null)])
	fx.expect(roles.results, "TL-ROLE-003", "error") with input as inp
}
