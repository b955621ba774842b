# METADATA
# title: Shared helpers
# description: |
#   Result constructors and input helpers every teamslink family package uses:
#   reading snapshot sections by path, turning an unreadable section into an
#   error result, the Enhanced-only skip, and defensive accessors that never
#   raise on an unexpected shape.
package teamslink.lib

import data.teamslink.facts

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
# section to be usable even when its status is ok.
required_objects := {"environment.organization": "record"}

# section_paths are the snapshot sections the rules read. Their problems are
# worked out once per evaluation (a complete rule is cached; a function is not).
section_paths := {
	"tenant.licenses",
	"tenant.consent",
	"tenant.caller",
	"tenant.sharePoint",
	"environment.organization",
	"environment.sharePointSites",
	"environment.documentLocations",
	"environment.entities",
	"environment.caller",
}

# section_problems maps each unusable section of section_paths to its problem.
section_problems := {path: p |
	some path in section_paths
	p := find_problem(path)
}

# problem describes why the section at path cannot be used, in the evidence
# shape of an error result. It is undefined when the section is usable.
problem(path) := section_problems[path] if {
	path in section_paths
} else := find_problem(path) if {
	not path in section_paths
}

# find_problem computes problem for one path.
find_problem(path) := {
	"section": path,
	"sectionStatus": "missing",
	"error": "section missing from input",
	"httpStatus": null,
} if {
	not is_object(section(path))
} else := {
	"section": path,
	"sectionStatus": status,
	"error": object.get(s, "error", ""),
	"httpStatus": object.get(s, "httpStatus", null),
} if {
	s := section(path)
	status := object.get(s, "status", "missing")
	status != "ok"
} else := {
	"section": path,
	"sectionStatus": "ok",
	"error": sprintf("section status is ok but its %s is not an object", [member]),
	"httpStatus": object.get(s, "httpStatus", null),
} if {
	member := required_objects[path]
	s := section(path)
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

# error_result is rule id's error result for the first section in paths that
# cannot be used; undefined when all of them can.
error_result(id, paths) := result(id, "error", problem_message(p), p) if {
	problems := [q | some path in paths; q := problem(path)]
	p := problems[0]
}

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

# option_problem describes an input.options member whose value is not one of
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
	value := object.get(input, ["options", name], null)
	not value in valid
}

# option_error is rule id's error result for an invalid option; undefined when
# the option is valid.
option_error(id, name, valid) := result(
	id,
	"error",
	sprintf("cannot assess: %s is %v; valid values: %s", [p.option, p.value, concat(", ", p.valid)]),
	p,
) if {
	p := option_problem(name, valid)
}

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
experience_error(id) := option_error(id, "experience", facts.experiences)

# profile_error is the error result when options.profile is invalid.
profile_error(id) := option_error(id, "profile", facts.profiles)

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

# truth is true when x is true and false for anything else (including undefined
# members read through object.get).
truth(x) if {
	x == true
} else := false
