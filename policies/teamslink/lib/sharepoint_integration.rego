package teamslink.lib

import data.teamslink.facts

# sharepoint_integration_paths are the sections the derivation of "SharePoint
# integration configured" reads when no config override is set.
sharepoint_integration_paths := ["environment.organization", "environment.sharePointSites"]

# sharepoint_integration_problems are the problems of the sections in
# sharepoint_integration_paths that cannot be used, in that order.
sharepoint_integration_problems := [p |
	some path in sharepoint_integration_paths
	p := section_problems[path]
]

# sharepoint_integration answers "is server-based SharePoint integration
# configured?" as {"configured", "source", "reasoning", ...}. It is undefined
# when there is no override and a section the derivation reads is unusable:
# rules depending on it then report that section as an error.
#
# It is worked out once per evaluation and read by several rules, so it is
# written for speed: one body per answer, plain references into the input,
# {true: a, false: b}[condition] to choose between two values, and literals
# rather than references to other rules (each costs a rule evaluation). The
# reasoning names every failed check, so the checks themselves are not repeated.
sharepoint_integration := {
	"configured": v,
	"source": "config override",
	"reasoning": sprintf("from config override: environment overrides.sharePointIntegrationConfigured is %v", [v]),
} if {
	v := input.environment.overrides.sharePointIntegrationConfigured
	is_boolean(v)
} else := {
	"configured": configured,
	"source": "derived",
	"signals": {
		"sharepointdeploymenttype": deployment_type,
		"defaultSite": {
			true: object.filter(site, [
				"sharepointsiteid", "name", "absoluteurl",
				"servicetype", "statecode", "validationstatus",
			]),
			false: null,
		}[present],
	},
	"reasoning": {
		true: "derived: configured, because organization.sharepointdeploymenttype is set and the active default sharepointsite is a SharePoint site that validated",
		false: sprintf("derived: not configured, because %s", [concat("; ", failed)]),
	}[configured],
	"assumption": "NOT CONFIRMED: no documented column says whether server-based SharePoint integration is configured; teamslink derives it from sharepointdeploymenttype and the active default sharepointsite (service type SharePoint, validation status Valid), and config can override it per environment.",
} if {
	# Both sections are usable: status ok, and the organization record an object.
	input.environment.organization.status == "ok"
	record := input.environment.organization.record
	is_object(record)
	sites := input.environment.sharePointSites
	sites.status == "ok"

	deployment_type := object.get(record, "sharepointdeploymenttype", null)
	site_value := object.get(sites, "defaultSite", null)
	site := {true: site_value, false: {}}[is_object(site_value)]

	# The failed checks, in this order. Without a default site, its
	# properties are left out: they are checked on a valid site instead.
	present := count(site) > 0
	valid := facts.valid_default_site
	probe := {true: site, false: valid}[present]
	failed := [text |
		some text in [
			{true: "", false: "organization.sharepointdeploymenttype is null"}[deployment_type != null],
			{true: "", false: "there is no active default sharepointsite"}[present],
			{true: "", false: "the default site's servicetype is not 0 (SharePoint)"}[object.get(probe, "servicetype", null) == valid.servicetype],
			{true: "", false: "the default site's statecode is not 0 (Active)"}[object.get(probe, "statecode", null) == valid.statecode],
			{true: "", false: "the default site's validationstatus is not 4 (Valid)"}[object.get(probe, "validationstatus", null) == valid.validationstatus],
		]
		text != ""
	]
	configured := count(failed) == 0
}
