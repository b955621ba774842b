# METADATA
# title: Role prerequisites
# description: |
#   Who enables record linking: a System Administrator of the environment
#   (Dataverse security role, snapshot section environment.caller) and, for
#   the Enhanced experience, a tenant (Global) administrator in Microsoft
#   Entra ID (snapshot section tenant.caller).
package teamslink.roles

import data.teamslink.facts
import data.teamslink.lib

results contains role_001

# The caller's directory roles are tenant-wide: the engine evaluates this rule
# once per tenant.
tenant_results contains role_002

# Each rule first tries the branches that decide it, guarded by what they need
# (a usable section: an object with status ok; the Enhanced experience), and
# only then the branches that explain why it cannot be decided. Section and
# experience checks are plain input references, which are cheap.

# _caller_roles are the caller's Dataverse security roles; read only once the
# environment.caller section is usable.
_caller_roles := {true: roles, false: []}[is_array(roles)] if {
	roles := object.get(input.environment.caller, "roles", null)
}

_role_summary(role) := {
	"roleId": object.get(role, "roleId", null),
	"name": object.get(role, "name", null),
	"roleTemplateId": object.get(role, "roleTemplateId", null),
	"via": object.get(role, "via", null),
	"teamId": object.get(role, "teamId", null),
}

# _sysadmin are the caller's copies of the System Administrator role, matched
# on the role template id case-insensitively (the fact is lower-case).
_sysadmin := [{
	# _role_summary(role), written out to save a call per role
	"roleId": object.get(role, "roleId", null),
	"name": object.get(role, "name", null),
	"roleTemplateId": id,
	"via": object.get(role, "via", null),
	"teamId": object.get(role, "teamId", null),
} |
	some role in {true: roles, false: []}[is_array(roles)]
	id := object.get(role, "roleTemplateId", null)
	is_string(id)
	lower(id) == template
] if {
	roles := object.get(input.environment.caller, "roles", null)
	template := facts.system_administrator_role_template_id
}

# METADATA
# title: Caller is System Administrator in the environment
# description: |
#   Turning on record linking needs the System Administrator security role in
#   the environment, held directly or through a team. Roles are matched on
#   their role template id (627090ff-40a3-4053-8790-584edc5be201), since role
#   records are copied per business unit and their names are localised.
# custom:
#   id: TL-ROLE-001
#   severity: high
#   experience: [basic, enhanced]
#   scope: environment
#   docs: https://learn.microsoft.com/dynamics365/sales/teams-integration/enable-record-linking
#   remediation: |
#     Run teamslink, and enable record linking, as a user who holds the System
#     Administrator security role in this environment (assign it in the Power
#     Platform admin center under the environment's users), or scan with that user.
role_001 := {
	"id": "TL-ROLE-001",
	"status": "pass",
	"message": "the caller holds the System Administrator security role directly",
	"evidence": {"via": "user", "role": role, "matches": matches},
} if {
	input.environment.caller.status == "ok"
	matches := _sysadmin
	role := [r | some r in matches; r.via == "user"][0]
} else := {
	"id": "TL-ROLE-001",
	"status": "pass",
	"message": sprintf("the caller holds the System Administrator security role through team %v", [role.teamId]),
	"evidence": {"via": "team", "role": role, "matches": matches},
} if {
	input.environment.caller.status == "ok"
	matches := _sysadmin
	role := [r | some r in matches; r.via != "user"][0]
} else := {
	"id": "TL-ROLE-001",
	"status": "fail",
	"message": sprintf(
		"the caller holds none of the System Administrator security role's copies (%s checked)",
		[lib.counted(count(roles), false, "role", "roles")],
	),
	"evidence": {
		"userId": object.get(input.environment.caller, "userId", null),
		"roleTemplateId": facts.system_administrator_role_template_id,
		"roles": [_role_summary(role) | some role in roles],
	},
} if {
	input.environment.caller.status == "ok"
	roles := _caller_roles
} else := r if {
	p := lib.section_problems["environment.caller"]
	r := lib.problem_result("TL-ROLE-001", p)
}

# _directory_roles are the caller's Entra directory roles; read only once the
# tenant.caller section is usable.
_directory_roles := {true: roles, false: []}[is_array(roles)] if {
	roles := object.get(input.tenant.caller, "directoryRoles", null)
}

# _global_admin are the caller's Global Administrator roles, matched on the
# role template id case-insensitively (the fact is lower-case).
_global_admin := [role |
	some role in _directory_roles
	id := object.get(role, "roleTemplateId", null)
	is_string(id)
	lower(id) == template
] if {
	template := facts.global_administrator_role_template_id
}

# _teams_admin holds when the caller holds the Teams Administrator directory
# role (matched on its role template id), which the FAQ says is not enough.
default _teams_admin := false

_teams_admin if {
	some role in _directory_roles
	lower(lib.str(object.get(role, "roleTemplateId", null))) == facts.teams_administrator_role_template_id
}

_caller_summary := {
	"objectId": object.get(caller, "objectId", null),
	"userPrincipalName": object.get(caller, "userPrincipalName", null),
	"type": object.get(caller, "type", null),
} if {
	caller := input.tenant.caller
}

# METADATA
# title: "Enhanced: caller is a tenant (Global) administrator"
# description: |
#   Turning on the Enhanced collaboration experience needs Microsoft 365
#   tenant-admin permissions and an admin-consent dialog; Teams administrator
#   is not enough. The caller must hold the Global Administrator directory role
#   (role template 62e90394-69f5-4237-9190-012177145e10). When teamslink runs as
#   a service principal it cannot stand in for the person who enables it.
# custom:
#   id: TL-ROLE-002
#   severity: high
#   experience: [enhanced]
#   scope: tenant
#   docs: https://learn.microsoft.com/dynamics365/sales/teams-integration/link-records-to-teams-faq
#   remediation: |
#     Have a Global Administrator of the Microsoft 365 tenant turn on the
#     Enhanced experience and accept the consent dialog, or activate the Global
#     Administrator role for the enabling user (PIM-eligible roles must be active).
#   assumptions:
#     - "INFERENCE: PIM-eligible roles that are not activated are not listed among the caller's directory roles."
#     - >-
#       INFERENCE: the Teams Administrator role template id is
#       69091246-20e8-4a56-aa4d-066075b2a7a8 (not in the facts reference);
#       it only adds to the message that Teams admin privileges are not enough.
role_002 := {
	# lib.enhanced_only_skip("TL-ROLE-002"), written out so the result is constant
	"id": "TL-ROLE-002",
	"status": "skip",
	"message": "applies to the Enhanced collaboration experience only; the Basic experience was asked for",
	"evidence": {"experience": "basic"},
} if {
	# First, as the cheapest check: "basic" is a valid experience, so none of
	# the error branches below could apply.
	input.options.experience == "basic"
} else := {
	"id": "TL-ROLE-002",
	"status": "skip",
	"message": concat(" ", [
		"teamslink ran as a service principal;",
		"the person enabling the Enhanced experience must be a Global Administrator",
	]),
	"evidence": {"caller": caller},
} if {
	input.options.experience == "enhanced"
	input.tenant.caller.status == "ok"
	caller := _caller_summary
	caller.type == "servicePrincipal"
} else := {
	"id": "TL-ROLE-002",
	"status": "pass",
	"message": sprintf("the caller %v holds the Global Administrator directory role", [caller.userPrincipalName]),
	"evidence": {"caller": caller, "role": role},
} if {
	input.options.experience == "enhanced"
	input.tenant.caller.status == "ok"
	caller := _caller_summary
	role := _global_admin[0]
} else := {
	"id": "TL-ROLE-002",
	"status": "fail",
	"message": sprintf(
		"the caller %v does not hold the Global Administrator directory role needed to enable the Enhanced experience%s",
		[caller.userPrincipalName, {
			true: "; the caller is a Teams Administrator, which is not enough: enabling needs tenant admin permission, not Teams admin privileges",
			false: "",
		}[_teams_admin]],
	),
	"evidence": {
		"caller": caller,
		"roleTemplateId": facts.global_administrator_role_template_id,
		"directoryRoles": _directory_roles,
	},
} if {
	input.options.experience == "enhanced"
	input.tenant.caller.status == "ok"
	caller := _caller_summary
} else := r if {
	p := lib.experience_problem
	r := lib.option_result("TL-ROLE-002", p)
} else := r if {
	p := lib.tenant_section_problems["tenant.caller"]
	r := lib.problem_result("TL-ROLE-002", p)
}
