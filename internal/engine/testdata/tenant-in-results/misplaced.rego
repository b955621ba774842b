package teamslink.custom.misplaced

# METADATA
# title: A tenant rule whose result is in results
# description: "Breaks the contract: the package defines tenant_results, but this result is in results."
# custom:
#   id: X-MISPLACED-001
#   severity: low
#   experience: [basic, enhanced]
#   scope: tenant
#   remediation: None.
results contains {"id": "X-MISPLACED-001", "status": "pass", "message": "fine", "evidence": {}}

tenant_results contains {"id": "X-MISPLACED-001", "status": "pass", "message": "fine", "evidence": {}} if {
	input.tenant.id == "nobody"
}
