package teamslink.custom.badstatus

# METADATA
# title: Invents a status
# custom:
#   id: X-BAD-001
#   severity: low
#   experience: [basic, enhanced]
#   scope: environment
results contains {"id": "X-BAD-001", "status": "maybe", "message": "not a status"}
