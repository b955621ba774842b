package teamslink.custom.byhand

# METADATA
# title: Teams allows the Dynamics 365 app
# description: No API shows the Microsoft 365 admin switch; check it by hand.
# custom:
#   id: X-BYHAND-001
#   severity: medium
#   experience: [basic, enhanced]
#   scope: tenant
#   remediation: In the Microsoft 365 admin center, check that external apps are allowed in Microsoft Teams.
#   automated_fix:
#     action: none-really
#     description: A fix a manual check must never carry.
tenant_results contains {
	"id": "X-BYHAND-001",
	"status": "manual",
	"message": "check by hand that Teams allows external apps",
	"evidence": {"where": "Microsoft 365 admin center"},
}
