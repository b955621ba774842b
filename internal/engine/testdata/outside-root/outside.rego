package mycompany.checks

# METADATA
# title: Wrong package
# custom:
#   id: X-OUT-001
#   severity: low
#   experience: [basic]
#   scope: environment
results contains {"id": "X-OUT-001", "status": "pass", "message": "ok"}
