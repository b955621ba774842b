package teamslink.custom.noevidence

# METADATA
# title: Passes without evidence
# description: "Breaks the contract: a pass must show why."
# custom:
#   id: X-NOEV-001
#   severity: low
#   experience: [basic, enhanced]
#   scope: environment
#   remediation: None.
results contains {"id": "X-NOEV-001", "status": "pass", "message": "trust me"}
