package teamslink.acme

# METADATA
# title: A new package in the built-in namespace
# description: "Breaks the contract: user packages go under teamslink.custom."
# custom:
#   id: X-ACME-001
#   severity: low
#   experience: [basic, enhanced]
#   scope: environment
#   remediation: None.
results contains {"id": "X-ACME-001", "status": "pass", "message": "beside the built-in families", "evidence": {"acme": true}}
