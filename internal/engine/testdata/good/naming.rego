package teamslink.custom.naming

# METADATA
# title: Environment URLs follow the company naming convention
# description: Every environment's host starts with the tenant's short name.
# custom:
#   id: X-NAMING-001
#   severity: low
#   experience: [basic, enhanced]
#   scope: environment
#   remediation: Rename the environment in the Power Platform admin center.
results contains result if {
	startswith(input.environment.url, "https://contoso")
	result := {"id": "X-NAMING-001", "status": "pass", "message": "the URL follows the convention", "evidence": {"url": input.environment.url}}
}

results contains result if {
	not startswith(input.environment.url, "https://contoso")
	result := {"id": "X-NAMING-001", "status": "warn", "message": "the URL does not start with https://contoso", "evidence": {"url": input.environment.url}}
}
