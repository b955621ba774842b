package teamslink.roles

import data.teamslink.facts
import data.teamslink.lib

results contains role_003

# _pin reads the environment.rolePrivileges section once, when the rule
# needs it (the section is then usable): the privileges found by name, the
# required ones not found, the held roles and those lacking a privilege that
# was found (a privilege not found is never counted as lacking), most users
# first as the collector ordered them.
_pin := {
	"notFound": [name | some name in facts.pin_privileges; not name in found],
	"roles": roles,
	"lacking": [{
		"roleId": object.get(role, "roleId", null),
		"name": object.get(role, "name", null),
		"roleTemplateId": object.get(role, "roleTemplateId", null),
		"userCount": object.get(role, "userCount", null),
		"missing": missing,
	} |
		some role in roles
		held := {name | some name in lib.array(object.get(role, "privileges", null))}
		missing := [name | some name in checked; not name in held]
		count(missing) > 0
	],
	"truncated": lib.array(object.get(section, "truncated", null)),
	"enabledUsers": {
		true: lib.count_text(users, exceeded),
		false: users,
	}[exceeded],
} if {
	section := input.environment.rolePrivileges
	privileges := section.privileges
	is_array(privileges)
	roles := section.roles
	is_array(roles)
	found := {p.name | some p in privileges; is_string(p.name)}
	checked := [name | some name in facts.pin_privileges; name in found]
	users := object.get(section, "enabledUserCount", null)
	exceeded := object.get(section, "enabledUserCountLimitExceeded", null) == true
}

# _lacking_text lists up to ten lacking roles for a message:
# "Salesperson (2 users; lacks prvAppendToSharePointSite)".
_lacking_text(lacking) := concat("", [
	concat(", ", [sprintf("%v (%s; lacks %s)", [r.name, lib.counted(r.userCount, false, "user", "users"), concat(", ", r.missing)]) |
		some r in array.slice(lacking, 0, 10)
	]),
	{true: sprintf(" and %s", [lib.counted(count(lacking) - 10, false, "more role", "more roles")]), false: ""}[count(lacking) > 10],
])

# METADATA
# title: Roles of enabled users grant the SharePoint privileges pinning needs
# description: |
#   Pinning a record to a Teams channel creates SharePoint Site and Document
#   Location records as the user, who needs Create, Read, Write, Append,
#   AppendTo and Delete on both tables (Core Records tab of the security
#   role). The rule lists the security roles enabled users hold, directly or
#   through a team, that lack any of them, with the number of users holding
#   each; users with only these roles see "User does not have permissions to
#   create SharePoint Site or Document Location". It never stops the feature
#   being turned on.
# custom:
#   id: TL-ROLE-003
#   severity: medium
#   error_code: "User does not have permissions to create SharePoint Site or Document Location. This record is not connected to Dynamics 365."
#   experience: [basic, enhanced]
#   scope: environment
#   docs: https://learn.microsoft.com/dynamics365/teams-integration/teams-troubleshoot
#   remediation: |
#     In the Power Platform admin center, open each listed security role and on
#     the Core Records tab grant Create, Read, Write, Append, Append To and
#     Delete on SharePoint Site and Document Location, or give its users a role
#     that has them. Reading the roles needs read access to security roles,
#     users, teams and privileges (System Administrator has it).
#   assumptions:
#     - >-
#       INFERENCE: the privileges are named prv{Create,Read,Write,Append,AppendTo,Delete}SharePointSite
#       and prv{…}SharePointDocumentLocation (prv + verb + table SchemaName);
#       they are looked up by name, and a name the environment does not know
#       is reported and not checked.
#     - >-
#       INFERENCE: the roles enabled users hold are read from the intersect
#       entities systemuserrolescollection, teamrolescollection and
#       teammemberships, joined with systemusers whose isdisabled is false;
#       Microsoft documents no recipe for it.
#     - >-
#       A privilege held at any depth counts as granted. Counts are per role:
#       a user who also holds another role that grants the privileges is not
#       affected.
#     - >-
#       Each role and membership read is one page of at most 5,000 rows, at
#       most 200 roles and 100 role-holding teams are checked; past that the
#       rule cannot pass and says which read was partial.
role_003 := {
	"id": "TL-ROLE-003",
	"status": "pass",
	"message": sprintf(
		"every role enabled users hold (%s) grants Create, Read, Write, Append, AppendTo and Delete on SharePoint Site and Document Location",
		[lib.counted(count(p.roles), false, "role", "roles")],
	),
	"evidence": {
		"rolesChecked": count(p.roles),
		"enabledUserCount": p.enabledUsers,
		"required": facts.pin_privileges,
	},
} if {
	# The pass comes first, as the common case.
	input.environment.rolePrivileges.status == "ok"
	p := _pin
	count(p.lacking) == 0
	count(p.notFound) == 0
	count(p.truncated) == 0
} else := {
	"id": "TL-ROLE-003",
	"status": "warn",
	"message": concat("", [
		sprintf("%s held by enabled users %s SharePoint privileges pinning needs: %s; users with only these roles will see '%s'", [
			lib.counted(count(p.lacking), false, "role", "roles"),
			{true: "lacks", false: "lack"}[count(p.lacking) == 1],
			_lacking_text(p.lacking),
			facts.pin_privileges_error,
		]),
		{true: sprintf(" (a partial read of %s: counts are lower bounds and other roles may lack them too)", [concat(", ", p.truncated)]), false: ""}[count(p.truncated) > 0],
		{true: sprintf(" (not found by name, so not checked: %s)", [concat(", ", p.notFound)]), false: ""}[count(p.notFound) > 0],
	]),
	"evidence": {
		"roles": array.slice(p.lacking, 0, 50),
		"rolesLacking": count(p.lacking),
		"rolesChecked": count(p.roles),
		"enabledUserCount": p.enabledUsers,
		"required": facts.pin_privileges,
		"notFound": p.notFound,
		"truncated": p.truncated,
	},
} if {
	input.environment.rolePrivileges.status == "ok"
	p := _pin
	count(p.lacking) > 0
} else := {
	"id": "TL-ROLE-003",
	"status": "error",
	"message": sprintf(
		"cannot assess: %s not found by name in this environment (%s); the names are an inference (prv + verb + table) and may differ",
		[lib.counted(count(p.notFound), false, "privilege was", "privileges were"), concat(", ", p.notFound)],
	),
	"evidence": {
		"section": "environment.rolePrivileges",
		"sectionStatus": "ok",
		"error": sprintf("privileges not found by name: %s", [concat(", ", p.notFound)]),
		"httpStatus": null,
		"notFound": p.notFound,
		"rolesChecked": count(p.roles),
	},
} if {
	input.environment.rolePrivileges.status == "ok"
	p := _pin
	count(p.notFound) > 0
} else := {
	"id": "TL-ROLE-003",
	"status": "error",
	"message": sprintf(
		"cannot assess: the roles of enabled users were read only in part (%s had more rows than one read returns); the %s read grant every privilege, but others may not",
		[concat(", ", p.truncated), lib.counted(count(p.roles), false, "role", "roles")],
	),
	"evidence": {
		"section": "environment.rolePrivileges",
		"sectionStatus": "ok",
		"error": sprintf("partial read: %s", [concat(", ", p.truncated)]),
		"httpStatus": null,
		"truncated": p.truncated,
		"rolesChecked": count(p.roles),
		"enabledUserCount": p.enabledUsers,
	},
} if {
	input.environment.rolePrivileges.status == "ok"
	p := _pin
	count(p.truncated) > 0
} else := r if {
	p := lib.section_problems["environment.rolePrivileges"]
	r := lib.problem_result("TL-ROLE-003", p)
} else := lib.undecided("TL-ROLE-003")
