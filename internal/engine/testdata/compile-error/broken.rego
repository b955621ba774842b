package teamslink.custom.broken

# METADATA
# title: Does not compile
# custom:
#   id: X-BROKEN-001
#   severity: low
#   experience: [basic]
#   scope: environment
results contains r if {
	r := {"id": "X-BROKEN-001", "status": "pass", "message": http.send({"method": "GET", "url": "https://example.invalid"}).body}
}
