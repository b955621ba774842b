package teamslink.custom.duplicate

# METADATA
# title: Yields two results
# custom:
#   id: X-DUP-001
#   severity: low
#   experience: [basic, enhanced]
#   scope: environment
results contains r if {
	some status in ["pass", "fail"]
	r := {"id": "X-DUP-001", "status": status, "message": sprintf("status %s", [status]), "evidence": {"status": status}}
}
