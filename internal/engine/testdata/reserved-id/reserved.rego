package teamslink.custom.reserved

# METADATA
# title: Steals a built-in id prefix
# custom:
#   id: TL-MINE-001
#   severity: low
#   experience: [basic]
#   scope: environment
results contains {"id": "TL-MINE-001", "status": "pass", "message": "ok"}
