# METADATA
# title: Group prerequisites
# description: |
#   The tenant's Microsoft 365 group settings (snapshot section
#   tenant.groupSettings, Graph groupSettings): an Entra group naming policy
#   makes creating a team or channel from the Collaborate button fail.
package teamslink.groups

import data.teamslink.facts
import data.teamslink.lib

# Group settings are tenant-wide: the engine evaluates this rule once per
# tenant.
tenant_results contains grp_001

# _naming lists, for each Group.Unified settings object (matched on its
# template id, case-insensitively), the naming values it sets, trimmed; a
# value the object does not carry counts as empty (facts §2a: an empty value
# means no naming policy). Read only once the section is usable and its
# settings are a list.
_naming := [{
	"setting": {
		"id": object.get(setting, "id", null),
		"displayName": object.get(setting, "displayName", null),
		"templateId": template,
	},
	"prefixSuffix": prefix,
	"blockedWords": words,
	"enforced": true in [prefix != "", count(words) > 0],
} |
	some setting in input.tenant.groupSettings.settings
	template := lower(lib.str(object.get(setting, "templateId", null)))
	template == facts.group_unified_template_id
	values := lib.array(object.get(setting, "values", null))
	prefix := _value(values, facts.group_naming_values.prefixSuffix)
	words := [w |
		some part in split(_value(values, facts.group_naming_values.blockedWords), ",")
		w := trim_space(part)
		w != ""
	]
]

# _value is the trimmed value named name among values (names compare
# case-insensitively), or "" when none is.
_value(values, name) := v if {
	found := [trim_space(lib.str(object.get(x, "value", null))) |
		some x in values
		lower(lib.str(object.get(x, "name", null))) == lower(name)
	]
	v := found[0]
} else := ""

# _shown quotes a naming policy for a message: the prefix/suffix requirement
# and up to ten blocked words.
_shown(p) := concat("; ", [part |
	some part in [
		{true: sprintf("prefix/suffix naming requirement %q", [p.prefixSuffix]), false: ""}[p.prefixSuffix != ""],
		{
			true: sprintf("custom blocked words %s%s", [
				concat(", ", [sprintf("%q", [w]) | some w in array.slice(p.blockedWords, 0, 10)]),
				{true: sprintf(" and %d more", [count(p.blockedWords) - 10]), false: ""}[count(p.blockedWords) > 10],
			]),
			false: "",
		}[count(p.blockedWords) > 0],
	]
	part != ""
])

# METADATA
# title: No Entra group naming policy that makes team creation fail
# description: |
#   Creating a team or channel from the Collaborate button fails when the
#   tenant's Entra group naming policy (the Group.Unified settings object,
#   template 62375ab9-6b52-47ed-826b-58e47e0e304b) sets a prefix/suffix
#   naming requirement (PrefixSuffixNamingRequirement) or custom blocked words
#   (CustomBlockedWordsList): the error reads "The property is missing a
#   required prefix/suffix per your organization's Group naming requirements"
#   or "The displayName can't contain the blocked word". Record linking can
#   be turned on; users then cannot create teams or channels from Dynamics 365.
# custom:
#   id: TL-GRP-001
#   severity: medium
#   error_code: "Error while creating a team or channel. The property is missing a required prefix/suffix per your organization's Group naming requirements"
#   explains:
#     - "The displayName can't contain the blocked word 'blocked' as per company policy"
#   experience: [basic, enhanced]
#   scope: tenant
#   docs: https://learn.microsoft.com/dynamics365/teams-integration/teams-troubleshoot
#   remediation: |
#     Remove the prefix/suffix naming requirement and the custom blocked words
#     from the Entra group naming policy (Microsoft Entra admin center > Groups
#     > Naming policy, or the Group.Unified directory setting), as the
#     troubleshooting page advises; reading the setting needs
#     Directory.Read.All.
#   assumptions:
#     - >-
#       INFERENCE: a tenant without a Group.Unified settings object, or one
#       whose PrefixSuffixNamingRequirement and CustomBlockedWordsList are
#       empty, has no naming policy (fleet facts §2a).
#     - >-
#       Only the tenant-wide settings (GET /groupSettings) are read; settings
#       of single groups (GET /groups/{id}/settings) are not.
grp_001 := {
	"id": "TL-GRP-001",
	"status": "pass",
	"message": sprintf(
		"no Entra group naming policy (prefix/suffix requirement or custom blocked words) is set: %s",
		[
			{
				true: "the tenant has no Group.Unified settings object",
				false: "its Group.Unified settings leave both empty",
			}[count(naming) == 0],
		],
	),
	"evidence": {
		"templateId": facts.group_unified_template_id,
		"settingsCount": count(input.tenant.groupSettings.settings),
		"groupUnified": naming,
	},
} if {
	# The pass comes first, as the common case.
	input.tenant.groupSettings.status == "ok"
	is_array(input.tenant.groupSettings.settings)
	naming := _naming
	not true in [p.enforced | some p in naming]
} else := {
	"id": "TL-GRP-001",
	"status": "warn",
	"message": sprintf(
		"the tenant's Entra group naming policy makes creating a team or channel from the Collaborate button fail: %s",
		[_shown(p)],
	),
	"evidence": {
		"setting": p.setting,
		"prefixSuffixNamingRequirement": {true: p.prefixSuffix, false: null}[p.prefixSuffix != ""],
		"customBlockedWords": array.slice(p.blockedWords, 0, 50),
		"customBlockedWordCount": count(p.blockedWords),
	},
} if {
	input.tenant.groupSettings.status == "ok"
	is_array(input.tenant.groupSettings.settings)
	enforced := [q | some q in _naming; q.enforced]
	p := enforced[0]
} else := r if {
	p := lib.tenant_section_problems["tenant.groupSettings"]
	r := lib.problem_result("TL-GRP-001", p)
} else := lib.undecided("TL-GRP-001")
