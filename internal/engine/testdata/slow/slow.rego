package teamslink.custom.slow

# METADATA
# title: Takes far too long
# custom:
#   id: X-SLOW-001
#   severity: low
#   experience: [basic, enhanced]
#   scope: environment
results contains r if {
	n := count([x | some x in numbers.range(1, 100000000); x % 7 == 0])
	r := {"id": "X-SLOW-001", "status": "pass", "message": sprintf("%d", [n]), "evidence": {"count": n}}
}
