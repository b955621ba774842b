package teamslink.custom.unknown

# METADATA
# title: Declared rule
# custom:
#   id: X-KNOWN-001
#   severity: low
#   experience: [basic]
#   scope: environment
results contains {"id": "X-KNOWN-001", "status": "pass", "message": "ok", "evidence": {"known": true}}

results contains {"id": "X-NOT-DECLARED", "status": "fail", "message": "who am I"}
