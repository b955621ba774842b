package teamslink.custom.handcheck

# METADATA
# title: A check no API shows
# custom:
#   id: X-HAND-001
#   severity: low
#   experience: [basic, enhanced]
#   scope: environment
results contains {
	"id": "X-HAND-001",
	"status": "manual",
	"message": "check by hand: open the admin center and look",
	"evidence": {"steps": ["open the admin center", "look"]},
}
