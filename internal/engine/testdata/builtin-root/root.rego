package teamslink

# METADATA
# title: Uses the root package
# description: "Breaks the contract: teamslink itself is the built-in namespace."
# custom:
#   id: X-ROOT-001
#   severity: low
#   experience: [basic, enhanced]
#   scope: environment
#   remediation: None.
results contains {"id": "X-ROOT-001", "status": "pass", "message": "at the root", "evidence": {"root": true}}
