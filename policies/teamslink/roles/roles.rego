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

results contains role_002

_roles := lib.array(object.get(input, ["environment", "caller", "roles"], null))

_role_summary(role) := {
	"roleId": object.get(role, "roleId", null),
	"name": object.get(role, "name", null),
	"roleTemplateId": object.get(role, "roleTemplateId", null),
	"via": object.get(role, "via", null),
	"teamId": object.get(role, "teamId", null),
}

_sysadmin := [_role_summary(role) |
	some role in _roles
	lib.same_id(object.get(role, "roleTemplateId", null), facts.system_administrator_role_template_id)
]

_direct := [role | some role in _sysadmin; role.via == "user"]

_via_team := [role | some role in _sysadmin; role.via != "user"]

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
role_001 := r if {
	r := lib.error_result("TL-ROLE-001", ["environment.caller"])
} else := r if {
	count(_direct) > 0
	r := lib.result(
		"TL-ROLE-001",
		"pass",
		"the caller holds the System Administrator security role directly",
		{"via": "user", "role": _direct[0], "matches": _sysadmin},
	)
} else := r if {
	count(_via_team) > 0
	role := _via_team[0]
	r := lib.result(
		"TL-ROLE-001",
		"pass",
		sprintf("the caller holds the System Administrator security role through team %v", [role.teamId]),
		{"via": "team", "role": role, "matches": _sysadmin},
	)
} else := lib.result(
	"TL-ROLE-001",
	"fail",
	sprintf(
		"the caller holds none of the System Administrator security role's copies (%d roles checked)",
		[count(_roles)],
	),
	{
		"userId": object.get(input, ["environment", "caller", "userId"], null),
		"roleTemplateId": facts.system_administrator_role_template_id,
		"roles": [_role_summary(role) | some role in _roles],
	},
)

_tenant_caller := lib.obj(object.get(input, ["tenant", "caller"], null))

_directory_roles := lib.array(object.get(_tenant_caller, "directoryRoles", null))

_global_admin := [role |
	some role in _directory_roles
	lib.same_id(object.get(role, "roleTemplateId", null), facts.global_administrator_role_template_id)
]

_caller_summary := {
	"objectId": object.get(_tenant_caller, "objectId", null),
	"userPrincipalName": object.get(_tenant_caller, "userPrincipalName", null),
	"type": object.get(_tenant_caller, "type", null),
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
#   scope: environment
#   docs: https://learn.microsoft.com/dynamics365/sales/teams-integration/link-records-to-teams-faq
#   remediation: |
#     Have a Global Administrator of the Microsoft 365 tenant turn on the
#     Enhanced experience and accept the consent dialog, or activate the Global
#     Administrator role for the enabling user (PIM-eligible roles must be active).
#   assumptions:
#     - "INFERENCE: PIM-eligible roles that are not activated are not listed among the caller's directory roles."
role_002 := r if {
	r := lib.experience_error("TL-ROLE-002")
} else := r if {
	lib.basic_experience
	r := lib.enhanced_only_skip("TL-ROLE-002")
} else := r if {
	r := lib.error_result("TL-ROLE-002", ["tenant.caller"])
} else := r if {
	_caller_summary.type == "servicePrincipal"
	r := lib.result(
		"TL-ROLE-002",
		"skip",
		"teamslink ran as a service principal; the person enabling the Enhanced experience must be a Global Administrator",
		{"caller": _caller_summary},
	)
} else := r if {
	count(_global_admin) > 0
	r := lib.result(
		"TL-ROLE-002",
		"pass",
		sprintf("the caller %v holds the Global Administrator directory role", [_caller_summary.userPrincipalName]),
		{"caller": _caller_summary, "role": _global_admin[0]},
	)
} else := lib.result(
	"TL-ROLE-002",
	"fail",
	sprintf(
		"the caller %v does not hold the Global Administrator directory role needed to enable the Enhanced experience",
		[_caller_summary.userPrincipalName],
	),
	{
		"caller": _caller_summary,
		"roleTemplateId": facts.global_administrator_role_template_id,
		"directoryRoles": _directory_roles,
	},
)
