# METADATA
# title: Shared helpers
# description: |
#   Result constructors and input helpers every teamslink family package uses:
#   reading snapshot sections by path, turning an unreadable section into an
#   error result, the Enhanced-only skip, and defensive accessors that never
#   raise on an unexpected shape.
package teamslink.lib

import data.teamslink.facts

# How the policies are written for speed. The engine evaluates every rule for
# every environment (tenant_results once per tenant), and OPA's evaluator pays
# for each rule it evaluates, each reference to a rule (cached or not), each
# function call and each else branch it tries, far more than for an expression
# on local variables or a plain reference into the input. So the family
# packages:
#   - try first the branches that decide a rule, guarded by what they need
#     (input.<section>.status == "ok", the experience asked for), and only then
#     the branches that explain why it does not apply or cannot be assessed
#     (lib.section_problems, lib.experience_problem, ...). Where a rule's
#     branches are mutually exclusive, the common case comes first;
#   - work out facts shared by several rules once, as complete rules (cached
#     per evaluation), and read each input value once, into local variables;
#   - build results and evidence as object literals in the branch that is
#     taken, without helper calls on the common path;
#   - choose between two values with {true: a, false: b}[condition].
# These helpers keep their behaviour for user policies that import them.

# result builds one result object as the engine expects it.
result(id, status, message, evidence) := {
	"id": id,
	"status": status,
	"message": message,
	"evidence": evidence,
}

# table_result builds one result object for a per-table rule.
table_result(id, table, status, message, evidence) := object.union(
	result(id, status, message, evidence),
	{"table": table},
)

# section returns the snapshot section at a dotted path such as
# "environment.documentLocations", or null when the input has none.
section(path) := object.get(input, split(path, "."), null)

# required_objects names, per section, a member that must be an object for the
# section to be usable even when its status is ok. (unusable_sections checks
# each of them with a rule of its own.)
required_objects := {"environment.organization": "record"}

# section_paths are the snapshot sections the rules read. Their problems are
# worked out once per evaluation (a complete rule is cached; a function is not).
section_paths := {
	"tenant.licenses",
	"tenant.consent",
	"tenant.caller",
	"tenant.sharePoint",
	"tenant.groupSettings",
	"environment.organization",
	"environment.sharePointSites",
	"environment.documentLocations",
	"environment.entities",
	"environment.caller",
	"environment.rolePrivileges",
}

# tenant_unusable_sections are the tenant sections of section_paths that
# cannot be used: missing, not an object, or status other than ok. One rule per
# section reads its status by a plain reference (cheap, and undefined for a
# missing section or one that is not an object). It reads nothing but
# input.tenant, so rules evaluated once per tenant (tenant_results) may use it.
tenant_unusable_sections contains "tenant.licenses" if not input.tenant.licenses.status == "ok"

tenant_unusable_sections contains "tenant.consent" if not input.tenant.consent.status == "ok"

tenant_unusable_sections contains "tenant.caller" if not input.tenant.caller.status == "ok"

tenant_unusable_sections contains "tenant.sharePoint" if not input.tenant.sharePoint.status == "ok"

tenant_unusable_sections contains "tenant.groupSettings" if not input.tenant.groupSettings.status == "ok"

# unusable_sections are the sections of section_paths that cannot be used:
# those of tenant_unusable_sections, and the environment sections that are
# missing, not an object, with a status other than ok, or with a required
# member that is not an object. find_problem then runs for these sections only.
unusable_sections contains path if some path in tenant_unusable_sections

unusable_sections contains "environment.organization" if not input.environment.organization.status == "ok"

unusable_sections contains "environment.sharePointSites" if not input.environment.sharePointSites.status == "ok"

unusable_sections contains "environment.documentLocations" if not input.environment.documentLocations.status == "ok"

unusable_sections contains "environment.entities" if not input.environment.entities.status == "ok"

unusable_sections contains "environment.caller" if not input.environment.caller.status == "ok"

unusable_sections contains "environment.rolePrivileges" if not input.environment.rolePrivileges.status == "ok"

unusable_sections contains "environment.organization" if not _record_is_object

# _record_is_object holds when the organization section's record is an object
# (a rule, so that "not" also covers a missing record).
_record_is_object if is_object(input.environment.organization.record)

# section_problems maps each unusable section of section_paths to its problem.
section_problems := {path: find_problem(path) | some path in unusable_sections}

# tenant_section_problems maps each unusable tenant section to its problem,
# reading nothing but input.tenant (for tenant_results).
tenant_section_problems := {path: section_problem(path, object.get(tenant, name, null)) |
	tenant := _tenant
	some path in tenant_unusable_sections
	name := substring(path, count("tenant."), -1)
}

# _tenant is input.tenant, or {} when it is not an object.
_tenant := t if {
	t := input.tenant
	is_object(t)
} else := {}

# problem describes why the section at path cannot be used, in the evidence
# shape of an error result. It is undefined when the section is usable.
problem(path) := section_problems[path] if {
	path in section_paths
} else := find_problem(path) if {
	not path in section_paths
}

# find_problem computes problem for one path.
find_problem(path) := section_problem(path, section(path))

# section_problem describes why s, the section at path, cannot be used;
# undefined when it can.
section_problem(path, s) := {
	"section": path,
	"sectionStatus": "missing",
	"error": "section missing from input",
	"httpStatus": null,
} if {
	not is_object(s)
} else := {
	"section": path,
	"sectionStatus": status,
	"error": object.get(s, "error", ""),
	"httpStatus": object.get(s, "httpStatus", null),
} if {
	status := object.get(s, "status", "missing")
	status != "ok"
} else := {
	"section": path,
	"sectionStatus": "ok",
	"error": sprintf("section status is ok but its %s is not an object", [member]),
	"httpStatus": object.get(s, "httpStatus", null),
} if {
	member := required_objects[path]
	not is_object(object.get(s, member, null))
}

# usable holds when every section in paths can be used.
usable(paths) if {
	every path in paths {
		not problem(path)
	}
}

# problem_message is the human sentence for a section problem p.
problem_message(p) := sprintf("cannot assess: section %s is missing from the input", [p.section]) if {
	p.sectionStatus == "missing"
} else := sprintf("cannot assess: section %s is incomplete: %s", [p.section, p.error]) if {
	p.sectionStatus == "ok"
} else := sprintf("cannot assess: section %s was not read (status %s, HTTP %v): %s", [
	p.section, p.sectionStatus, p.httpStatus, p.error,
]) if {
	is_number(p.httpStatus)
	p.httpStatus != 0
} else := sprintf("cannot assess: section %s was not read (status %s): %s", [p.section, p.sectionStatus, p.error])

# problem_result is rule id's error result for the section problem p.
problem_result(id, p) := result(id, "error", problem_message(p), p)

# error_result is rule id's error result for the first section in paths that
# cannot be used; undefined when all of them can.
error_result(id, paths) := problem_result(id, p) if {
	problems := [q | some path in paths; q := problem(path)]
	p := problems[0]
}

# tenant_error_result is error_result for the tenant sections in paths, reading
# only input.tenant (for tenant_results).
tenant_error_result(id, paths) := problem_result(id, p) if {
	problems := [q | some path in paths; q := tenant_section_problems[path]]
	p := problems[0]
}

# table_problem_result is problem_result for a per-table rule.
table_problem_result(id, table, p) := object.union(problem_result(id, p), {"table": table})

# table_error_result is error_result for a per-table rule.
table_error_result(id, table, paths) := object.union(error_result(id, paths), {"table": table})

# undecided is the error result a rule returns when its input has a shape the
# policy does not recognise, so that a rule never yields zero results.
undecided(id) := result(
	id,
	"error",
	"cannot assess: the input has an unexpected shape for this rule",
	{
		"section": "input",
		"sectionStatus": "unexpected",
		"error": "no branch of the rule matched the input",
		"httpStatus": null,
	},
)

# table_undecided is undecided for a per-table rule.
table_undecided(id, table) := object.union(undecided(id), {"table": table})

# option_problem describes an input.options member (experience or profile)
# whose value is not one of
# valid, in the evidence shape of an error result (the "section" is the
# option's path); undefined when the value is valid.
option_problem(name, valid) := {
	"section": sprintf("options.%s", [name]),
	"sectionStatus": "invalid",
	"error": sprintf("options.%s is %v; valid values: %s", [name, value, concat(", ", sort(valid))]),
	"httpStatus": null,
	"option": sprintf("options.%s", [name]),
	"value": value,
	"valid": sort(valid),
} if {
	value := object.get(_options, name, null)
	not value in valid
}

# _options are the options option_problem knows, null when missing. Each is
# read by a plain reference to its own key, so that tenant_results, which may
# read only these two, can use the option helpers.
_options := {"experience": _experience_option, "profile": _profile_option}

default _experience_option := null

_experience_option := input.options.experience

default _profile_option := null

_profile_option := input.options.profile

# option_result is rule id's error result for the option problem p.
option_result(id, p) := result(
	id,
	"error",
	sprintf("cannot assess: %s is %v; valid values: %s", [p.option, p.value, concat(", ", p.valid)]),
	p,
)

# option_error is rule id's error result for an invalid option; undefined when
# the option is valid.
option_error(id, name, valid) := option_result(id, p) if {
	p := option_problem(name, valid)
}

# experience_problem is the option problem of options.experience, worked out
# once per evaluation; undefined when the experience is valid.
experience_problem := option_problem("experience", facts.experiences) if not _experience_valid

_experience_valid if input.options.experience in facts.experiences

# profile_problem is the option problem of options.profile, worked out once
# per evaluation; undefined when the profile is valid.
profile_problem := option_problem("profile", facts.profiles) if not _profile_valid

_profile_valid if input.options.profile in facts.profiles

# basic_experience holds when only the Basic experience is asked for.
basic_experience if input.options.experience == "basic"

# enhanced_only_skip is the skip result of an Enhanced-only rule under Basic.
enhanced_only_skip(id) := result(
	id,
	"skip",
	"applies to the Enhanced collaboration experience only; the Basic experience was asked for",
	{"experience": "basic"},
)

# experience_error is the error result when options.experience is invalid.
experience_error(id) := option_result(id, experience_problem)

# profile_error is the error result when options.profile is invalid.
profile_error(id) := option_result(id, profile_problem)

# array returns x when it is an array and [] otherwise (a Go nil slice arrives as null).
array(x) := x if {
	is_array(x)
} else := []

# obj returns x when it is an object and {} otherwise.
obj(x) := x if {
	is_object(x)
} else := {}

# str returns x when it is a string and "" otherwise.
str(x) := x if {
	is_string(x)
} else := ""

# lower_str lower-cases x when it is a string and returns "" otherwise.
lower_str(x) := lower(str(x))

# same_id compares two identifiers (GUIDs) case-insensitively.
same_id(a, b) if {
	lower_str(a) != ""
	lower_str(a) == lower_str(b)
}

# count_text renders a server-side count, "5000+" style when Dataverse capped it.
count_text(n, exceeded) := sprintf("%v+", [n]) if {
	exceeded == true
} else := sprintf("%v", [n])

# counted renders a count with its noun, singular or plural: "1 role",
# "2 roles", and "5000+ roles" when Dataverse capped the count.
counted(n, exceeded, singular, plural) := sprintf("%s %s", [count_text(n, exceeded), singular]) if {
	n == 1
	exceeded != true
} else := sprintf("%s %s", [count_text(n, exceeded), plural])
