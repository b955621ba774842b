package teamslink.custom.leak

# METADATA
# title: A tenant rule that looks at an environment
# description: "Breaks the contract: tenant rules may read only input.tenant and input.options."
# custom:
#   id: X-LEAK-001
#   severity: low
#   experience: [basic, enhanced]
#   scope: tenant
#   remediation: None.
tenant_results contains leak

leak := {"id": "X-LEAK-001", "status": "pass", "message": "fine", "evidence": {}} if {
	not _on_premises
} else := {"id": "X-LEAK-001", "status": "fail", "message": "on premises", "evidence": {}}

_on_premises if input.environment.organization.record.sharepointdeploymenttype == 1
