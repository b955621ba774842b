package teamslink.custom.missing

# METADATA
# title: Yields nothing
# custom:
#   id: X-MISSING-001
#   severity: low
#   experience: [basic, enhanced]
#   scope: environment
results contains r if {
	false
	r := {"id": "X-MISSING-001", "status": "pass", "message": "never"}
}
