package teamslink.sharepoint

# METADATA
# title: Joins a built-in package
# description: "Breaks the contract: the package is the built-in teamslink.sharepoint."
# custom:
#   id: X-JOIN-001
#   severity: low
#   experience: [basic, enhanced]
#   scope: environment
#   remediation: None.
results contains {"id": "X-JOIN-001", "status": "pass", "message": "joined", "evidence": {"joined": true}}
