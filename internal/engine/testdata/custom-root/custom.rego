package teamslink.custom

# METADATA
# title: Takes the user namespace itself
# description: "Breaks the contract: user packages go under teamslink.custom, not in it."
# custom:
#   id: X-CUSTOM-001
#   severity: low
#   experience: [basic, enhanced]
#   scope: environment
#   remediation: None.
results contains {"id": "X-CUSTOM-001", "status": "pass", "message": "in the namespace", "evidence": {"custom": true}}
