package teamslink.custom.whole

# METADATA
# title: A tenant rule that reads the whole input
# description: "Breaks the contract: the whole input could reach the environment."
# custom:
#   id: X-WHOLE-001
#   severity: low
#   experience: [basic, enhanced]
#   scope: tenant
#   remediation: None.
tenant_results contains whole

whole := {"id": "X-WHOLE-001", "status": "pass", "message": "fine", "evidence": {}} if {
	object.get(input, ["environment", "url"], "") == ""
} else := {"id": "X-WHOLE-001", "status": "fail", "message": "has a URL", "evidence": {}}
