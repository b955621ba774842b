# METADATA
# title: Environment settings
# description: |
#   Whether record linking is turned on in the environment: the Basic
#   collaboration toggle and the Enhanced collaboration toggle, read from the
#   organization row. Informational under the preflight profile (they are what
#   the admin turns on next), required under the enabled profile.
package teamslink.environment

import data.teamslink.lib

results contains env_001

results contains env_002

_org := ["environment.organization"]

_record := lib.obj(object.get(input, ["environment", "organization", "record"], null))

_enforced if input.options.profile == "enabled"

_evidence(column) := {
	"column": column,
	"value": object.get(_record, column, null),
	"organizationid": object.get(_record, "organizationid", null),
	"profile": object.get(input, ["options", "profile"], null),
}

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
env_001 := r if {
	r := lib.profile_error("TL-ENV-001")
} else := r if {
	r := lib.error_result("TL-ENV-001", _org)
} else := r if {
	_record.ismsteamsenabled == true
	r := lib.result(
		"TL-ENV-001",
		"pass",
		"Basic Teams collaboration (record linking) is turned on in the environment",
		_evidence("ismsteamsenabled"),
	)
} else := r if {
	_record.ismsteamsenabled == false
	_enforced
	r := lib.result(
		"TL-ENV-001",
		"fail",
		"Basic Teams collaboration (record linking) is not turned on in the environment, and the enabled profile requires it",
		_evidence("ismsteamsenabled"),
	)
} else := r if {
	_record.ismsteamsenabled == false
	r := lib.result(
		"TL-ENV-001",
		"skip",
		"Basic Teams collaboration is not turned on yet; informational under the preflight profile",
		_evidence("ismsteamsenabled"),
	)
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
env_002 := r if {
	r := lib.experience_error("TL-ENV-002")
} else := r if {
	lib.basic_experience
	r := lib.enhanced_only_skip("TL-ENV-002")
} else := r if {
	r := lib.profile_error("TL-ENV-002")
} else := r if {
	r := lib.error_result("TL-ENV-002", _org)
} else := r if {
	_record.ismsteamscollaborationenabled == true
	r := lib.result(
		"TL-ENV-002",
		"pass",
		"Enhanced Teams collaboration is turned on in the environment",
		_evidence("ismsteamscollaborationenabled"),
	)
} else := r if {
	_record.ismsteamscollaborationenabled == false
	_enforced
	r := lib.result(
		"TL-ENV-002",
		"fail",
		"Enhanced Teams collaboration is not turned on in the environment, and the enabled profile requires it",
		_evidence("ismsteamscollaborationenabled"),
	)
} else := r if {
	_record.ismsteamscollaborationenabled == false
	r := lib.result(
		"TL-ENV-002",
		"skip",
		"Enhanced Teams collaboration is not turned on yet; informational under the preflight profile",
		_evidence("ismsteamscollaborationenabled"),
	)
} else := lib.undecided("TL-ENV-002")
