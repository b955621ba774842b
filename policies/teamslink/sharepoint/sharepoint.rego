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

results contains sp_005

_org := ["environment.organization"]

_sites := ["environment.sharePointSites"]

_locations := ["environment.documentLocations"]

_record := lib.obj(object.get(input, ["environment", "organization", "record"], null))

# _integration_error is rule id's error result when "SharePoint integration
# configured" cannot be decided.
_integration_error(id) := lib.error_result(id, lib.sharepoint_integration_paths) if {
	not lib.sharepoint_integration
}

# _configured_skip is rule id's skip result when SharePoint integration is configured.
_configured_skip(id) := lib.result(
	id,
	"skip",
	"server-based SharePoint integration is configured, so this prerequisite does not apply",
	{"sharePointIntegration": lib.sharepoint_integration},
) if {
	lib.sharepoint_integration.configured == true
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
sp_001 := r if {
	r := _integration_error("TL-SP-001")
} else := r if {
	r := _configured_skip("TL-SP-001")
} else := r if {
	r := lib.error_result("TL-SP-001", _org)
} else := r if {
	_record.isonedriveenabled == true
	r := lib.result(
		"TL-SP-001",
		"fail",
		"OneDrive integration is enabled while server-based SharePoint integration is not configured (error 800503ca)",
		_onedrive_evidence,
	)
} else := r if {
	_record.isonedriveenabled == false
	r := lib.result(
		"TL-SP-001",
		"pass",
		"OneDrive integration is disabled while server-based SharePoint integration is not configured",
		_onedrive_evidence,
	)
} else := lib.undecided("TL-SP-001")

_not_configured := "server-based SharePoint integration is not configured"

_onedrive_evidence := {
	"isonedriveenabled": object.get(_record, "isonedriveenabled", null),
	"organizationid": object.get(_record, "organizationid", null),
	"sharePointIntegration": lib.sharepoint_integration,
}

_site_section := lib.obj(object.get(input, ["environment", "sharePointSites"], null))

_site_sample := lib.array(object.get(_site_section, "sample", null))

_active_sites := object.get(_site_section, "activeCount", null)

_sites_exceeded := lib.truth(object.get(_site_section, "countLimitExceeded", null))

_site_urls := [lib.str(object.get(site, "absoluteurl", null)) | some site in _site_sample]

_sites_present if _active_sites > 0

_sites_present if _sites_exceeded

_sites_present if count(_site_sample) > 0

# _examples renders up to five sampled URLs for a message.
_examples(urls) := "" if {
	count(urls) == 0
} else := sprintf(" (e.g. %s)", [concat(", ", array.slice(urls, 0, 5))])

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
sp_002 := r if {
	r := _integration_error("TL-SP-002")
} else := r if {
	r := _configured_skip("TL-SP-002")
} else := r if {
	r := lib.error_result("TL-SP-002", _sites)
} else := r if {
	is_number(_active_sites)
	_sites_present
	shown := lib.count_text(_active_sites, _sites_exceeded)
	r := lib.result(
		"TL-SP-002",
		"fail",
		sprintf(
			"%s active SharePoint site record(s) exist while %s (error 800503ca)%s",
			[shown, _not_configured, _examples(_site_urls)],
		),
		{
			"activeCount": _active_sites,
			"countLimitExceeded": _sites_exceeded,
			"count": shown,
			"sample": _site_sample,
			"sharePointIntegration": lib.sharepoint_integration,
		},
	)
} else := r if {
	_active_sites == 0
	r := lib.result(
		"TL-SP-002",
		"pass",
		"there are no active SharePoint site records while server-based SharePoint integration is not configured",
		{
			"activeCount": 0,
			"countLimitExceeded": false,
			"count": "0",
			"sample": [],
			"sharePointIntegration": lib.sharepoint_integration,
		},
	)
} else := lib.undecided("TL-SP-002")

_location_section := lib.obj(object.get(input, ["environment", "documentLocations"], null))

_location_sample := lib.array(object.get(_location_section, "sample", null))

_absolute_locations := object.get(_location_section, "absoluteUrlCount", null)

_locations_exceeded := lib.truth(object.get(_location_section, "countLimitExceeded", null))

_location_urls := [lib.str(object.get(loc, "absoluteurl", null)) | some loc in _location_sample]

_locations_present if _absolute_locations > 0

_locations_present if _locations_exceeded

_locations_present if count(_location_sample) > 0

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
sp_003 := r if {
	r := _integration_error("TL-SP-003")
} else := r if {
	r := _configured_skip("TL-SP-003")
} else := r if {
	r := lib.error_result("TL-SP-003", _locations)
} else := r if {
	is_number(_absolute_locations)
	_locations_present
	shown := lib.count_text(_absolute_locations, _locations_exceeded)
	r := lib.result(
		"TL-SP-003",
		"fail",
		sprintf(
			"%s document location(s) with an absolute URL exist while %s (error 800503ca)%s",
			[shown, _not_configured, _examples(_location_urls)],
		),
		{
			"absoluteUrlCount": _absolute_locations,
			"countLimitExceeded": _locations_exceeded,
			"count": shown,
			"sample": _location_sample,
			"sharePointIntegration": lib.sharepoint_integration,
		},
	)
} else := r if {
	_absolute_locations == 0
	r := lib.result(
		"TL-SP-003",
		"pass",
		"there are no document locations with an absolute URL while server-based SharePoint integration is not configured",
		{
			"absoluteUrlCount": 0,
			"countLimitExceeded": false,
			"count": "0",
			"sample": [],
			"sharePointIntegration": lib.sharepoint_integration,
		},
	)
} else := lib.undecided("TL-SP-003")

_deployment_type := object.get(_record, "sharepointdeploymenttype", null)

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
sp_004 := r if {
	r := lib.error_result("TL-SP-004", _org)
} else := r if {
	_deployment_type == facts.sharepoint_deployment_on_premises
	r := lib.result(
		"TL-SP-004",
		"fail",
		concat(" ", [
			"document management is integrated with SharePoint on-premises (sharepointdeploymenttype 1);",
			"Teams integration needs SharePoint Online",
		]),
		{"sharepointdeploymenttype": _deployment_type, "meaning": "On-Premises"},
	)
} else := r if {
	_deployment_type == facts.sharepoint_deployment_online
	r := lib.result(
		"TL-SP-004",
		"pass",
		"document management uses SharePoint Online (sharepointdeploymenttype 0)",
		{"sharepointdeploymenttype": _deployment_type, "meaning": "Online"},
	)
} else := r if {
	_deployment_type == null
	r := lib.result(
		"TL-SP-004",
		"pass",
		concat(" ", [
			"no SharePoint deployment type is set (sharepointdeploymenttype null),",
			"so document management is not on SharePoint on-premises",
		]),
		{"sharepointdeploymenttype": null, "meaning": "not set"},
	)
} else := lib.result(
	"TL-SP-004",
	"error",
	sprintf("cannot assess: environment.organization has the unknown sharepointdeploymenttype %v", [_deployment_type]),
	{
		"section": "environment.organization",
		"sectionStatus": "ok",
		"error": sprintf("unknown sharepointdeploymenttype %v (known: 0 Online, 1 On-Premises)", [_deployment_type]),
		"httpStatus": null,
	},
)

_spo := lib.obj(object.get(input, ["tenant", "sharePoint"], null))

_policy := object.get(_spo, "conditionalAccessPolicy", null)

_spo_evidence := {
	"adminUrl": object.get(_spo, "adminUrl", null),
	"conditionalAccessPolicy": _policy,
	"conditionalAccessPolicyRaw": object.get(_spo, "conditionalAccessPolicyRaw", null),
}

_policy_messages := {
	"AllowFullAccess": concat(" ", [
		"SharePoint Online allows full access from unmanaged devices",
		"(desktop apps, mobile apps and the web)",
	]),
	"AllowLimitedAccess": concat(" ", [
		"SharePoint Online allows only limited, web-only access from unmanaged devices:",
		"the same restriction applies to the connected channel file library",
	]),
	"BlockAccess": concat(" ", [
		"SharePoint Online blocks access from unmanaged devices: server-to-server calls",
		"from the customer engagement app to SharePoint Online get 401 Unauthorized",
	]),
	"AuthenticationContext": concat(" ", [
		"SharePoint Online unmanaged-device access is governed by an authentication context:",
		"teamslink cannot tell whether the channel file library is restricted",
	]),
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
#   scope: environment
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
sp_005 := r if {
	r := lib.error_result("TL-SP-005", ["tenant.sharePoint"])
} else := r if {
	status := facts.conditional_access_policies[_policy].status
	r := lib.result("TL-SP-005", status, _policy_messages[_policy], _spo_evidence)
} else := lib.result(
	"TL-SP-005",
	"error",
	sprintf(
		"cannot assess: tenant.sharePoint.conditionalAccessPolicy has the unknown value %v (raw %v)",
		[_policy, _spo_evidence.conditionalAccessPolicyRaw],
	),
	{
		"section": "tenant.sharePoint",
		"sectionStatus": "ok",
		"error": sprintf("unknown ConditionalAccessPolicy %v", [_policy]),
		"httpStatus": null,
		"adminUrl": _spo_evidence.adminUrl,
		"conditionalAccessPolicyRaw": _spo_evidence.conditionalAccessPolicyRaw,
	},
)
