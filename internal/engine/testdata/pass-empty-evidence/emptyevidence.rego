package teamslink.custom.emptyevidence

# METADATA
# title: Passes with empty evidence
# description: "Breaks the contract: an empty evidence object shows nothing."
# custom:
#   id: X-EMPTYEV-001
#   severity: low
#   experience: [basic, enhanced]
#   scope: environment
#   remediation: None.
results contains {"id": "X-EMPTYEV-001", "status": "pass", "message": "trust me", "evidence": {}}
