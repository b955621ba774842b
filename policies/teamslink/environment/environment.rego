# METADATA
# title: Environment settings
# description: |
#   Whether record linking is turned on in the environment: the Basic
#   collaboration toggle and the Enhanced collaboration toggle, read from the
#   organization row. Informational under the preflight profile (they are what
#   the admin turns on next), required under the enabled profile.
package teamslink.environment

import data.teamslink.facts
import data.teamslink.lib

results contains env_001

results contains env_002

# Each rule first tries the branches that decide it, guarded by what they need
# (a usable organization section: status ok and an object record; a valid
# profile; for TL-ENV-002 the Enhanced experience), and only then the branches
# that explain why it cannot be decided. The checks are plain input references.
# The evidence names the column, the value read, the organization and the
# profile; it is written out in each branch rather than built by a function,
# which would cost a call per evaluation.

# METADATA
# title: Basic collaboration enabled in the environment
# description: |
#   The Basic Teams collaboration experience ("Turn on the linking of Dynamics
#   365 records to Microsoft Teams channels") is on. Under the preflight
#   profile a disabled toggle is informational (skip); under the enabled
#   profile it fails.
# custom:
#   id: TL-ENV-001
#   severity: info
#   experience: [basic, enhanced]
#   scope: environment
#   docs: https://learn.microsoft.com/dynamics365/sales/teams-integration/enable-record-linking
#   remediation: |
#     In the Sales Hub app go to App Settings > General Settings > Chat and
#     collaborate (or Advanced Settings > System Settings > General > Microsoft
#     Teams Integration) and turn on "Turn on the linking of Dynamics 365
#     records to Microsoft Teams channels".
#   automated_fix:
#     action: enable-basic
#     description: >-
#       Set organization.ismsteamsenabled to true (PATCH, ETag-checked,
#       journalled for rollback), once every other Basic prerequisite passes.
#   assumptions:
#     - >-
#       INFERENCE: the Basic toggle writes organization.ismsteamsenabled;
#       no public doc maps the toggle to a column.
env_001 := {
	"id": "TL-ENV-001",
	"status": "skip",
	"message": "Basic Teams collaboration is not turned on yet; informational under the preflight profile",
	"evidence": {
		"column": "ismsteamsenabled",
		"value": false,
		"organizationid": object.get(record, "organizationid", null),
		"profile": input.options.profile,
	},
} if {
	input.environment.organization.status == "ok"
	record := input.environment.organization.record
	record.ismsteamsenabled == false
	input.options.profile == "preflight"
} else := {
	"id": "TL-ENV-001",
	"status": "pass",
	"message": "Basic Teams collaboration (record linking) is turned on in the environment",
	"evidence": {
		"column": "ismsteamsenabled",
		"value": true,
		"organizationid": object.get(record, "organizationid", null),
		"profile": input.options.profile,
	},
} if {
	input.environment.organization.status == "ok"
	record := input.environment.organization.record
	record.ismsteamsenabled == true
	input.options.profile in facts.profiles
} else := {
	"id": "TL-ENV-001",
	"status": "fail",
	"message": concat(" ", [
		"Basic Teams collaboration (record linking) is not turned on in the environment,",
		"and the enabled profile requires it",
	]),
	"evidence": {
		"column": "ismsteamsenabled",
		"value": false,
		"organizationid": object.get(record, "organizationid", null),
		"profile": input.options.profile,
	},
} if {
	input.environment.organization.status == "ok"
	record := input.environment.organization.record
	record.ismsteamsenabled == false
	input.options.profile == "enabled"
} else := r if {
	p := lib.profile_problem
	r := lib.option_result("TL-ENV-001", p)
} else := r if {
	p := lib.section_problems["environment.organization"]
	r := lib.problem_result("TL-ENV-001", p)
} else := lib.undecided("TL-ENV-001")

# METADATA
# title: Enhanced collaboration enabled in the environment
# description: |
#   The Enhanced Teams collaboration experience ("Turn on Enhanced Microsoft
#   Teams Integration") is on. Under the preflight profile a disabled toggle is
#   informational (skip); under the enabled profile it fails. Enable it only
#   after the tenant admin consent (TL-CONSENT-001) is in place.
# custom:
#   id: TL-ENV-002
#   severity: info
#   experience: [enhanced]
#   scope: environment
#   docs: https://learn.microsoft.com/dynamics365/sales/teams-integration/enable-record-linking
#   remediation: |
#     As a Microsoft 365 tenant admin, turn on "Turn on Enhanced Microsoft Teams
#     Integration" in the same settings page and accept the consent dialog with
#     "Consent on behalf of organization" ticked.
#   automated_fix:
#     action: enable-enhanced
#     description: >-
#       Set organization.ismsteamscollaborationenabled to true (PATCH,
#       ETag-checked, journalled), only after TL-CONSENT-001 passes;
#       otherwise teamslink prints the admin-consent URL instead.
#   assumptions:
#     - >-
#       INFERENCE: the Enhanced toggle writes
#       organization.ismsteamscollaborationenabled; no public doc maps the
#       toggle to a column.
env_002 := {
	# lib.enhanced_only_skip("TL-ENV-002"), written out so the result is constant
	"id": "TL-ENV-002",
	"status": "skip",
	"message": "applies to the Enhanced collaboration experience only; the Basic experience was asked for",
	"evidence": {"experience": "basic"},
} if {
	# First, as the cheapest check: "basic" is a valid experience, so none of
	# the error branches below could apply.
	input.options.experience == "basic"
} else := {
	"id": "TL-ENV-002",
	"status": "skip",
	"message": "Enhanced Teams collaboration is not turned on yet; informational under the preflight profile",
	"evidence": {
		"column": "ismsteamscollaborationenabled",
		"value": false,
		"organizationid": object.get(record, "organizationid", null),
		"profile": input.options.profile,
	},
} if {
	input.options.experience == "enhanced"
	input.environment.organization.status == "ok"
	record := input.environment.organization.record
	record.ismsteamscollaborationenabled == false
	input.options.profile == "preflight"
} else := {
	"id": "TL-ENV-002",
	"status": "pass",
	"message": "Enhanced Teams collaboration is turned on in the environment",
	"evidence": {
		"column": "ismsteamscollaborationenabled",
		"value": true,
		"organizationid": object.get(record, "organizationid", null),
		"profile": input.options.profile,
	},
} if {
	input.options.experience == "enhanced"
	input.environment.organization.status == "ok"
	record := input.environment.organization.record
	record.ismsteamscollaborationenabled == true
	input.options.profile in facts.profiles
} else := {
	"id": "TL-ENV-002",
	"status": "fail",
	"message": "Enhanced Teams collaboration is not turned on in the environment, and the enabled profile requires it",
	"evidence": {
		"column": "ismsteamscollaborationenabled",
		"value": false,
		"organizationid": object.get(record, "organizationid", null),
		"profile": input.options.profile,
	},
} if {
	input.options.experience == "enhanced"
	input.environment.organization.status == "ok"
	record := input.environment.organization.record
	record.ismsteamscollaborationenabled == false
	input.options.profile == "enabled"
} else := r if {
	p := lib.experience_problem
	r := lib.option_result("TL-ENV-002", p)
} else := r if {
	p := lib.profile_problem
	r := lib.option_result("TL-ENV-002", p)
} else := r if {
	p := lib.section_problems["environment.organization"]
	r := lib.problem_result("TL-ENV-002", p)
} else := lib.undecided("TL-ENV-002")
