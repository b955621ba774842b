package teamslink.lib

import data.teamslink.facts

# sharepoint_integration_paths are the sections the derivation of "SharePoint
# integration configured" reads when no config override is set.
sharepoint_integration_paths := ["environment.organization", "environment.sharePointSites"]

sharepoint_integration_assumption := concat(" ", [
	"NOT CONFIRMED: no documented column says whether server-based SharePoint integration is configured;",
	"teamslink derives it from sharepointdeploymenttype and the active default sharepointsite",
	"(service type SharePoint, validation status Valid), and config can override it per environment.",
])

# sharepoint_override is the per-environment config override, when set.
sharepoint_override := v if {
	v := input.environment.overrides.sharePointIntegrationConfigured
	is_boolean(v)
}

# sharepoint_integration answers "is server-based SharePoint integration
# configured?" as {"configured", "source", "reasoning", ...}. It is undefined
# when there is no override and a section the derivation reads is unusable:
# rules depending on it then report that section as an error.
sharepoint_integration := {
	"configured": v,
	"source": "config override",
	"reasoning": sprintf("from config override: environment overrides.sharePointIntegrationConfigured is %v", [v]),
} if {
	v := sharepoint_override
} else := derived if {
	usable(sharepoint_integration_paths)
	derived := _derived_sharepoint_integration
}

_derived_sharepoint_integration := {
	"configured": configured,
	"source": "derived",
	"signals": {
		"sharepointdeploymenttype": deployment_type,
		"defaultSite": _default_site_summary(site),
	},
	"checks": checks,
	"reasoning": reasoning,
	"assumption": sharepoint_integration_assumption,
} if {
	deployment_type := object.get(input.environment.organization.record, "sharepointdeploymenttype", null)
	site := obj(object.get(input.environment.sharePointSites, "defaultSite", null))
	checks := {
		"deploymentTypeSet": deployment_type != null,
		"defaultSitePresent": count(site) > 0,
		"defaultSiteIsSharePoint": object.get(site, "servicetype", null) == facts.site_service_type_sharepoint,
		"defaultSiteActive": object.get(site, "statecode", null) == facts.site_state_active,
		"defaultSiteValidated": object.get(site, "validationstatus", null) == facts.site_validation_valid,
	}
	failed := [_check_text[name] |
		some name in _check_order
		checks[name] == false
		_relevant(name, checks)
	]
	configured := count(failed) == 0
	reasoning := _reasoning(configured, failed)
}

# _check_order is the order the reasoning names failed checks in.
_check_order := [
	"deploymentTypeSet",
	"defaultSitePresent",
	"defaultSiteIsSharePoint",
	"defaultSiteActive",
	"defaultSiteValidated",
]

# _relevant leaves out the default site's properties when there is no default site.
_relevant(name, checks) if {
	not startswith(name, "defaultSite")
} else if {
	name == "defaultSitePresent"
} else if {
	checks.defaultSitePresent == true
}

_check_text := {
	"deploymentTypeSet": "organization.sharepointdeploymenttype is null",
	"defaultSitePresent": "there is no active default sharepointsite",
	"defaultSiteIsSharePoint": "the default site's servicetype is not 0 (SharePoint)",
	"defaultSiteActive": "the default site's statecode is not 0 (Active)",
	"defaultSiteValidated": "the default site's validationstatus is not 4 (Valid)",
}

_reasoning(true, _) := concat(" ", [
	"derived: configured, because organization.sharepointdeploymenttype is set and the active",
	"default sharepointsite is a SharePoint site that validated",
])

_reasoning(false, failed) := sprintf("derived: not configured, because %s", [concat("; ", failed)])

_default_site_summary(site) := null if {
	count(site) == 0
} else := {
	"sharepointsiteid": object.get(site, "sharepointsiteid", null),
	"name": object.get(site, "name", null),
	"absoluteurl": object.get(site, "absoluteurl", null),
	"servicetype": object.get(site, "servicetype", null),
	"statecode": object.get(site, "statecode", null),
	"validationstatus": object.get(site, "validationstatus", null),
}
