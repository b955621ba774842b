package teamslink.custom.noset

# METADATA
# title: A tenant rule in a package without tenant_results
# description: "Breaks the contract."
# custom:
#   id: X-NOSET-001
#   severity: low
#   experience: [basic, enhanced]
#   scope: tenant
#   remediation: None.
results contains {"id": "X-NOSET-001", "status": "pass", "message": "fine", "evidence": {}}
