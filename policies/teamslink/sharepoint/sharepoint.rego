# METADATA
# title: SharePoint prerequisites
# description: |
#   Teams integration is built on SharePoint integration. While server-based
#   SharePoint integration is not configured, OneDrive must be off and there
#   must be no active SharePoint sites and no absolute-URL document locations
#   (error 800503ca otherwise); document management must not be on SharePoint
#   on-premises; and the SharePoint Online unmanaged-device policy decides
#   whether users can reach the channel file library.
package teamslink.sharepoint

import data.teamslink.facts
import data.teamslink.lib

results contains sp_001

results contains sp_002

results contains sp_003

results contains sp_004

# The unmanaged-device policy is tenant-wide: the engine evaluates this rule
# once per tenant.
tenant_results contains sp_005

# Each rule first tries the branches that decide it, guarded by what they need
# (SharePoint integration known not to be configured; a usable section: status
# ok, and for the organization an object record), and only then the branches
# that explain why it does not apply or cannot be decided. Section checks are
# plain input references; {true: a, false: b}[condition] chooses between two
# values without a function call.

# _not_configured is the phrase the messages use for the situation the rules check.
_not_configured := "server-based SharePoint integration is not configured"

# _integration_problem is the problem of the first section the derivation of
# "SharePoint integration configured" cannot read; undefined when it could be
# decided.
_integration_problem := p if {
	not lib.sharepoint_integration
	p := lib.sharepoint_integration_problems[0]
}

# METADATA
# title: OneDrive disabled while SharePoint integration is not configured
# description: |
#   If server-based SharePoint integration is not configured, OneDrive
#   integration (organization.isonedriveenabled) must be disabled; otherwise
#   enabling Teams integration fails with error 800503ca. Whether SharePoint
#   integration is configured is derived (see the evidence) or set by config.
# custom:
#   id: TL-SP-001
#   severity: critical
#   error_code: "800503ca"
#   experience: [basic, enhanced]
#   scope: environment
#   docs: https://learn.microsoft.com/dynamics365/sales/teams-integration/enable-record-linking
#   remediation: |
#     Disable OneDrive integration for the environment (Settings > Document
#     management > Enable OneDrive for Business: off), or configure server-based
#     SharePoint integration first.
#   automated_fix:
#     action: disable-onedrive
#     description: >-
#       Set organization.isonedriveenabled to false (PATCH of the organization
#       row, ETag-checked, journalled for rollback).
#   assumptions:
#     - >-
#       NOT CONFIRMED: no documented column says whether SharePoint
#       integration is configured; it is derived from sharepointdeploymenttype
#       and the active default sharepointsite unless config overrides it.
sp_001 := {
	"id": "TL-SP-001",
	"status": "fail",
	"message": sprintf("OneDrive integration is enabled while %s (error 800503ca)", [_not_configured]),
	"evidence": {
		"isonedriveenabled": true,
		"organizationid": object.get(record, "organizationid", null),
		"sharePointIntegration": integration,
	},
} if {
	integration := lib.sharepoint_integration
	integration.configured == false
	input.environment.organization.status == "ok"
	record := input.environment.organization.record
	record.isonedriveenabled == true
} else := {
	"id": "TL-SP-001",
	"status": "pass",
	"message": "OneDrive integration is disabled while server-based SharePoint integration is not configured",
	"evidence": {
		"isonedriveenabled": false,
		"organizationid": object.get(record, "organizationid", null),
		"sharePointIntegration": integration,
	},
} if {
	integration := lib.sharepoint_integration
	integration.configured == false
	input.environment.organization.status == "ok"
	record := input.environment.organization.record
	record.isonedriveenabled == false
} else := {
	"id": "TL-SP-001",
	"status": "skip",
	"message": "server-based SharePoint integration is configured, so this prerequisite does not apply",
	"evidence": {"sharePointIntegration": integration},
} if {
	integration := lib.sharepoint_integration
	integration.configured == true
} else := r if {
	p := _integration_problem
	r := lib.problem_result("TL-SP-001", p)
} else := r if {
	p := lib.section_problems["environment.organization"]
	r := lib.problem_result("TL-SP-001", p)
} else := lib.undecided("TL-SP-001")

# METADATA
# title: No active SharePoint sites while SharePoint integration is not configured
# description: |
#   If server-based SharePoint integration is not configured, there must be no
#   active sharepointsite records (deactivated ones are fine); otherwise
#   enabling Teams integration fails with error 800503ca.
# custom:
#   id: TL-SP-002
#   severity: critical
#   error_code: "800503ca"
#   experience: [basic, enhanced]
#   scope: environment
#   docs: https://learn.microsoft.com/dynamics365/sales/teams-integration/enable-record-linking
#   remediation: |
#     Deactivate every active SharePoint site record (Settings > Document
#     management > SharePoint Sites > Deactivate), or configure server-based
#     SharePoint integration first.
#   automated_fix:
#     action: deactivate-sites
#     description: >-
#       Set statecode 1 / statuscode 2 on each active sharepointsite (PATCH,
#       ETag-checked, journalled for rollback).
#   assumptions:
#     - >-
#       NOT CONFIRMED: no documented column says whether SharePoint
#       integration is configured; it is derived from sharepointdeploymenttype
#       and the active default sharepointsite unless config overrides it.
sp_002 := {
	"id": "TL-SP-002",
	"status": "pass",
	"message": "there are no active SharePoint site records while server-based SharePoint integration is not configured",
	"evidence": {
		"activeCount": 0,
		"countLimitExceeded": false,
		"sample": [],
		"sharePointIntegration": integration,
	},
} if {
	integration := lib.sharepoint_integration
	integration.configured == false

	# The pass comes first, as the common case: a zero count, not capped,
	# and an empty sample is exactly when the failing branch below does not
	# apply.
	section := input.environment.sharePointSites
	section.status == "ok"
	section.activeCount == 0
	object.get(section, "countLimitExceeded", null) != true
	sample := object.get(section, "sample", null)
	count({true: sample, false: []}[is_array(sample)]) == 0
} else := {
	"id": "TL-SP-002",
	"status": "fail",
	"message": sprintf(
		"%s %s while %s (error 800503ca)%s",
		[
			lib.counted(active, exceeded, "active SharePoint site record", "active SharePoint site records"),
			{true: "exists", false: "exist"}[shown == "1"], _not_configured, examples,
		],
	),
	"evidence": {
		# a capped count only as shown, "5000+"
		"activeCount": {true: shown, false: active}[exceeded],
		"countLimitExceeded": exceeded,
		"sample": sample,
		"sharePointIntegration": integration,
	},
} if {
	integration := lib.sharepoint_integration
	integration.configured == false
	sites := input.environment.sharePointSites
	sites.status == "ok"
	active := sites.activeCount
	is_number(active)
	exceeded := object.get(sites, "countLimitExceeded", null) == true
	sample_value := object.get(sites, "sample", null)
	sample := {true: sample_value, false: []}[is_array(sample_value)]
	true in [active > 0, exceeded, count(sample) > 0]

	# the count as shown, "5000+" when Dataverse capped it, and up to five
	# sampled URLs (every sampled record is read: one that is not an object is
	# an evaluation error)
	shown := sprintf("%v%s", [active, {true: "+", false: ""}[exceeded]])
	urls := [{true: url, false: ""}[is_string(url)] |
		some site in sample
		url := object.get(site, "absoluteurl", null)
	]
	examples := {true: "", false: sprintf(" (e.g. %s)", [concat(", ", array.slice(urls, 0, 5))])}[count(urls) == 0]
} else := {
	"id": "TL-SP-002",
	"status": "skip",
	"message": "server-based SharePoint integration is configured, so this prerequisite does not apply",
	"evidence": {"sharePointIntegration": integration},
} if {
	integration := lib.sharepoint_integration
	integration.configured == true
} else := r if {
	p := _integration_problem
	r := lib.problem_result("TL-SP-002", p)
} else := r if {
	p := lib.section_problems["environment.sharePointSites"]
	r := lib.problem_result("TL-SP-002", p)
} else := lib.undecided("TL-SP-002")

# METADATA
# title: No absolute-URL document locations while SharePoint integration is not configured
# description: |
#   If server-based SharePoint integration is not configured, there must be no
#   sharepointdocumentlocation records created with an absolute URL; otherwise
#   enabling Teams integration fails with error 800503ca. The docs say to
#   delete them.
# custom:
#   id: TL-SP-003
#   severity: critical
#   error_code: "800503ca"
#   experience: [basic, enhanced]
#   scope: environment
#   docs: https://learn.microsoft.com/dynamics365/sales/teams-integration/enable-record-linking
#   remediation: |
#     Delete the document location records that hold an absolute URL (Settings >
#     Document management > Document Locations), after exporting them, or
#     configure server-based SharePoint integration first.
#   automated_fix:
#     action: delete-document-locations
#     description: >-
#       Delete each absolute-URL sharepointdocumentlocation after writing its
#       full record to the journal as a backup (needs --allow-delete; rollback
#       re-creates them).
#   assumptions:
#     - >-
#       NOT CONFIRMED: no documented column says whether SharePoint
#       integration is configured; it is derived from sharepointdeploymenttype
#       and the active default sharepointsite unless config overrides it.
#     - >-
#       INFERENCE: a document location was created with an absolute URL when
#       its absoluteurl is non-empty (the collector counts rows with
#       absoluteurl ne null, excluding MS Teams service type 3).
sp_003 := {
	"id": "TL-SP-003",
	"status": "pass",
	"message": sprintf("there are no document locations with an absolute URL while %s", [_not_configured]),
	"evidence": {
		"absoluteUrlCount": 0,
		"countLimitExceeded": false,
		"sample": [],
		"sharePointIntegration": integration,
	},
} if {
	integration := lib.sharepoint_integration
	integration.configured == false

	# The pass comes first, as the common case: a zero count, not capped,
	# and an empty sample is exactly when the failing branch below does not
	# apply.
	section := input.environment.documentLocations
	section.status == "ok"
	section.absoluteUrlCount == 0
	object.get(section, "countLimitExceeded", null) != true
	sample := object.get(section, "sample", null)
	count({true: sample, false: []}[is_array(sample)]) == 0
} else := {
	"id": "TL-SP-003",
	"status": "fail",
	"message": sprintf(
		"%s with an absolute URL %s while %s (error 800503ca)%s",
		[
			lib.counted(absolute, exceeded, "document location", "document locations"),
			{true: "exists", false: "exist"}[shown == "1"], _not_configured, examples,
		],
	),
	"evidence": {
		# a capped count only as shown, "5000+"
		"absoluteUrlCount": {true: shown, false: absolute}[exceeded],
		"countLimitExceeded": exceeded,
		"sample": sample,
		"sharePointIntegration": integration,
	},
} if {
	integration := lib.sharepoint_integration
	integration.configured == false
	locations := input.environment.documentLocations
	locations.status == "ok"
	absolute := locations.absoluteUrlCount
	is_number(absolute)
	exceeded := object.get(locations, "countLimitExceeded", null) == true
	sample_value := object.get(locations, "sample", null)
	sample := {true: sample_value, false: []}[is_array(sample_value)]
	true in [absolute > 0, exceeded, count(sample) > 0]

	# the count as shown, "5000+" when Dataverse capped it, and up to five
	# sampled URLs (every sampled record is read: one that is not an object is
	# an evaluation error)
	shown := sprintf("%v%s", [absolute, {true: "+", false: ""}[exceeded]])
	urls := [{true: url, false: ""}[is_string(url)] |
		some location in sample
		url := object.get(location, "absoluteurl", null)
	]
	examples := {true: "", false: sprintf(" (e.g. %s)", [concat(", ", array.slice(urls, 0, 5))])}[count(urls) == 0]
} else := {
	"id": "TL-SP-003",
	"status": "skip",
	"message": "server-based SharePoint integration is configured, so this prerequisite does not apply",
	"evidence": {"sharePointIntegration": integration},
} if {
	integration := lib.sharepoint_integration
	integration.configured == true
} else := r if {
	p := _integration_problem
	r := lib.problem_result("TL-SP-003", p)
} else := r if {
	p := lib.section_problems["environment.documentLocations"]
	r := lib.problem_result("TL-SP-003", p)
} else := lib.undecided("TL-SP-003")

# METADATA
# title: Document management uses SharePoint Online, not on-premises
# description: |
#   Teams integration cannot be enabled while the environment's document
#   management is integrated with SharePoint on-premises
#   (organization.sharepointdeploymenttype = 1); it must move to SharePoint Online.
# custom:
#   id: TL-SP-004
#   severity: critical
#   error_code: >-
#     You cannot enable Microsoft Teams integration since the environment is
#     integrated with SharePoint on-premises
#   experience: [basic, enhanced]
#   scope: environment
#   docs: https://learn.microsoft.com/dynamics365/teams-integration/teams-troubleshoot
#   remediation: |
#     Move document management from SharePoint on-premises to SharePoint Online
#     (Settings > Document management > Enable server-based SharePoint
#     integration, choose Online), then enable Teams integration.
sp_004 := {
	"id": "TL-SP-004",
	"status": "pass",
	"message": concat(" ", [
		"no SharePoint deployment type is set (sharepointdeploymenttype null),",
		"so document management is not on SharePoint on-premises",
	]),
	"evidence": {"sharepointdeploymenttype": null, "meaning": "not set"},
} if {
	input.environment.organization.status == "ok"
	record := input.environment.organization.record
	is_object(record)
	object.get(record, "sharepointdeploymenttype", null) == null
} else := {
	"id": "TL-SP-004",
	"status": "pass",
	"message": "document management uses SharePoint Online (sharepointdeploymenttype 0)",
	"evidence": {"sharepointdeploymenttype": deployment_type, "meaning": "Online"},
} if {
	input.environment.organization.status == "ok"
	record := input.environment.organization.record
	is_object(record)
	deployment_type := object.get(record, "sharepointdeploymenttype", null)
	deployment_type == facts.sharepoint_deployment_online
} else := {
	"id": "TL-SP-004",
	"status": "fail",
	"message": concat(" ", [
		"document management is integrated with SharePoint on-premises (sharepointdeploymenttype 1);",
		"Teams integration needs SharePoint Online",
	]),
	"evidence": {"sharepointdeploymenttype": deployment_type, "meaning": "On-Premises"},
} if {
	input.environment.organization.status == "ok"
	record := input.environment.organization.record
	is_object(record)
	deployment_type := object.get(record, "sharepointdeploymenttype", null)
	deployment_type == facts.sharepoint_deployment_on_premises
} else := {
	"id": "TL-SP-004",
	"status": "error",
	"message": sprintf(
		"cannot assess: environment.organization has the unknown sharepointdeploymenttype %v",
		[deployment_type],
	),
	"evidence": {
		"section": "environment.organization",
		"sectionStatus": "ok",
		"error": sprintf("unknown sharepointdeploymenttype %v (known: 0 Online, 1 On-Premises)", [deployment_type]),
		"httpStatus": null,
	},
} if {
	input.environment.organization.status == "ok"
	record := input.environment.organization.record
	is_object(record)
	deployment_type := object.get(record, "sharepointdeploymenttype", null)
} else := r if {
	p := lib.section_problems["environment.organization"]
	r := lib.problem_result("TL-SP-004", p)
}

# _policy_messages explain each ConditionalAccessPolicy value, in parts joined
# by a space.
_policy_messages := {
	"AllowFullAccess": [
		"SharePoint Online allows full access from unmanaged devices",
		"(desktop apps, mobile apps and the web)",
	],
	"AllowLimitedAccess": [
		"SharePoint Online allows only limited, web-only access from unmanaged devices:",
		"the same restriction applies to the connected channel file library",
	],
	"BlockAccess": [
		"SharePoint Online blocks access from unmanaged devices: server-to-server calls",
		"from the customer engagement app to SharePoint Online get 401 Unauthorized",
	],
	"AuthenticationContext": [
		"SharePoint Online unmanaged-device access is governed by an authentication context:",
		"teamslink cannot tell whether the channel file library is restricted",
	],
}

# METADATA
# title: SharePoint Online unmanaged-device access allows the channel file library
# description: |
#   A SharePoint Online unmanaged-device policy (allow limited, web-only access,
#   or block) also restricts the connected channel file library. With Block,
#   every server-to-server call from the customer engagement app to SharePoint
#   Online gets 401 Unauthorized. Full access passes, limited access and an
#   authentication context warn, block fails.
# custom:
#   id: TL-SP-005
#   severity: high
#   experience: [basic, enhanced]
#   scope: tenant
#   docs: https://learn.microsoft.com/sharepoint/control-access-from-unmanaged-devices
#   remediation: |
#     In the SharePoint admin center (Policies > Access control > Unmanaged
#     devices) choose "Allow full access from desktop apps, mobile apps, and the
#     web", or Set-SPOTenant -ConditionalAccessPolicy AllowFullAccess, if the
#     organisation's policy allows it.
#   assumptions:
#     - >-
#       NOT CONFIRMED: ConditionalAccessPolicy is read from the SharePoint
#       admin endpoint _api/SPO.Tenant, which has no official REST contract;
#       its values follow SPOConditionalAccessPolicyType (0 AllowFullAccess,
#       1 AllowLimitedAccess, 2 BlockAccess, 3 AuthenticationContext).
#     - >-
#       INFERENCE: without sharePointAdminUrl in config, the admin site is
#       named after the root SharePoint site's host that Graph GET /sites/root
#       gives (contoso.sharepoint.com, contoso-admin.sharepoint.com); the
#       evidence's adminUrl shows which site was read.
sp_005 := {
	"id": "TL-SP-005",
	"status": status,
	"message": concat(" ", _policy_messages[policy]),
	"evidence": {
		"adminUrl": object.get(spo, "adminUrl", null),
		"conditionalAccessPolicy": policy,
		"conditionalAccessPolicyRaw": object.get(spo, "conditionalAccessPolicyRaw", null),
	},
} if {
	spo := input.tenant.sharePoint
	spo.status == "ok"
	policy := object.get(spo, "conditionalAccessPolicy", null)
	status := facts.conditional_access_policies[policy].status
} else := {
	"id": "TL-SP-005",
	"status": "error",
	"message": sprintf(
		"cannot assess: tenant.sharePoint.conditionalAccessPolicy has the unknown value %v (raw %v)",
		[policy, raw],
	),
	"evidence": {
		"section": "tenant.sharePoint",
		"sectionStatus": "ok",
		"error": sprintf("unknown ConditionalAccessPolicy %v", [policy]),
		"httpStatus": null,
		"adminUrl": object.get(spo, "adminUrl", null),
		"conditionalAccessPolicyRaw": raw,
	},
} if {
	spo := input.tenant.sharePoint
	spo.status == "ok"
	policy := object.get(spo, "conditionalAccessPolicy", null)
	raw := object.get(spo, "conditionalAccessPolicyRaw", null)
} else := r if {
	p := lib.tenant_section_problems["tenant.sharePoint"]
	r := lib.problem_result("TL-SP-005", p)
}
