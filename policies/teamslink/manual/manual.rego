# METADATA
# title: Manual checks
# description: |
#   Prerequisites and causes of errors on the Teams integration
#   troubleshooting page that no API shows: each rule returns status manual
#   with the steps to check by hand. A manual finding is never a pass and
#   never a failure. The rules read nothing from the snapshot, so an
#   unreadable section never turns them into errors.
package teamslink.manual

# The Teams app setting and the sign-in policies are tenant-wide: the engine
# evaluates these once per tenant.
tenant_results contains man_001

tenant_results contains man_002

results contains man_003

# METADATA
# title: "Manual: external apps are allowed in Microsoft Teams"
# description: |
#   Users find the Dynamics 365 app in the Teams app store only when the
#   tenant allows external (third-party) apps in Teams; the troubleshooting
#   page blames a missing app on the Microsoft 365 admin switch "Allow
#   external apps in Microsoft Teams". Microsoft Graph has no API for that
#   switch or for app permission policies, so this is checked by hand.
# custom:
#   id: TL-MAN-001
#   severity: medium
#   error_code: "I can't find the Dynamics 365 app in the Microsoft Teams app store."
#   experience: [basic, enhanced]
#   scope: tenant
#   docs: https://learn.microsoft.com/dynamics365/teams-integration/teams-troubleshoot
#   remediation: |
#     As a Microsoft 365 administrator: 1. In the Microsoft 365 admin center
#     open Services & add-ins > Microsoft Teams and check that "Allow external
#     apps in Microsoft Teams" is on. 2. Check that the Teams app permission
#     policies (or, in tenants where app-centric management replaced them, the
#     app's availability) let the users who pin records use the Dynamics 365
#     app. 3. As such a user, search the Teams app store for Dynamics 365.
#   assumptions:
#     - >-
#       NOT CONFIRMED: no Graph API shows the switch or app permission
#       policies; teamsAppSettings (allowUserRequestsForAppAccess,
#       isUserPersonalScopeResourceSpecificConsentEnabled) is not it
#       (INFERENCE, fleet facts §2d).
#     - >-
#       The switch's name and place come from the 2020 troubleshooting page;
#       the admin center may have moved it since.
man_001 := {
	"id": "TL-MAN-001",
	"status": "manual",
	"message": concat(" ", [
		"check by hand: no API shows whether external apps are allowed in Microsoft Teams;",
		`in the Microsoft 365 admin center (Services & add-ins > Microsoft Teams) "Allow external apps in Microsoft Teams" must be on,`,
		"and the Teams app permission policies must let users use the Dynamics 365 app",
	]),
	"evidence": {
		"check": "Microsoft Teams allows external apps, the Dynamics 365 app among them",
		"why": "without it users cannot find the Dynamics 365 app in the Microsoft Teams app store",
		"steps": [
			`Microsoft 365 admin center > Services & add-ins > Microsoft Teams: "Allow external apps in Microsoft Teams" is on`,
			"the Teams app permission policies (or the app's availability under app-centric management) allow the Dynamics 365 app for the users who pin records",
			"as such a user, the Teams app store finds Dynamics 365",
		],
	},
}

# METADATA
# title: "Manual: Dynamics 365 and Microsoft Teams ask for the same multifactor authentication"
# description: |
#   If Dynamics 365 enforces two-factor (multifactor) authentication and
#   Microsoft Teams does not, the Dynamics 365 app in Teams cannot connect and
#   its environment list stays empty. Which Conditional Access policies apply
#   to which cloud app is not read by teamslink, so this is checked by hand.
# custom:
#   id: TL-MAN-002
#   severity: medium
#   explains:
#     - "the Dynamics 365 app in Teams can't connect and the environment list isn't populated"
#   experience: [basic, enhanced]
#   scope: tenant
#   docs: https://learn.microsoft.com/dynamics365/teams-integration/teams-troubleshoot
#   remediation: |
#     As an Entra administrator: 1. Review the Conditional Access policies,
#     and any other multifactor authentication setting, that apply to
#     Dynamics 365 (Dataverse) and to Microsoft Teams. 2. Make them ask for
#     multifactor authentication alike: for Teams whenever for Dynamics 365.
#     3. As a user who pins records, open the Dynamics 365 app in Teams: the
#     environment list must fill.
#   assumptions:
#     - >-
#       The troubleshooting page gives the cause (two-factor authentication
#       enforced for Dynamics 365 but not for Teams) and the symptom, but no
#       error text; explain finds the rule by the symptom. The steps are the
#       general shape of the check, not a documented procedure.
man_002 := {
	"id": "TL-MAN-002",
	"status": "manual",
	"message": concat(" ", [
		"check by hand: multifactor authentication must be asked for alike by Dynamics 365 and Microsoft Teams;",
		"compare the Conditional Access policies that target each, or the Dynamics 365 app in Teams cannot connect and lists no environment",
	]),
	"evidence": {
		"check": "the sign-in policies ask for multifactor authentication for Microsoft Teams whenever they do for Dynamics 365",
		"why": "if Dynamics 365 enforces two-factor authentication and Teams does not, the Dynamics 365 Teams app cannot connect and the environment list is not populated",
		"steps": [
			"list the Conditional Access policies and other multifactor authentication settings that apply to Dynamics 365 (Dataverse)",
			"each also applies to Microsoft Teams",
			"in Teams, as a user who pins records, the Dynamics 365 app lists the environments",
		],
	},
}

# METADATA
# title: "Manual: the environment's version supports Teams integration"
# description: |
#   The Dynamics 365 app in Teams refuses environments that are not up to
#   date ("Sorry, the environment you selected isn't up-to-date or isn't
#   supported"). Microsoft documents no minimum version, so teamslink cannot
#   compare one; check the version and pending updates by hand.
# custom:
#   id: TL-MAN-003
#   severity: low
#   error_code: "Sorry, the environment you selected isn't up-to-date or isn't supported. Please select another environment."
#   explains:
#     - "Sorry! Your Dynamics 365 environment isn't the latest version and isn't supported for this feature"
#   experience: [basic, enhanced]
#   scope: environment
#   docs: https://learn.microsoft.com/dynamics365/teams-integration/teams-troubleshoot
#   remediation: |
#     1. Read the environment's version: the Power Platform admin center shows
#     it, and the Web API function RetrieveVersion returns it. 2. Apply the
#     updates pending for the environment and its Dynamics 365 apps. 3. Open
#     the Dynamics 365 app in Teams again and select the environment.
#   assumptions:
#     - >-
#       NOT CONFIRMED: no minimum version for Teams integration was found;
#       the version can be read (RetrieveVersion, or the discovery services'
#       Version), but there is nothing documented to compare it with.
man_003 := {
	"id": "TL-MAN-003",
	"status": "manual",
	"message": concat(" ", [
		"check by hand: Microsoft documents no minimum version for Teams integration;",
		"read the environment's version and apply pending updates,",
		"or the Dynamics 365 app in Teams may call the environment not up to date",
	]),
	"evidence": {
		"check": "the environment is up to date for the Dynamics 365 app in Teams",
		"why": "an environment that is not up to date is refused: the environment you selected isn't up-to-date or isn't supported",
		"environment": object.get(input, ["environment", "url"], null),
		"steps": [
			"read the environment's version (Power Platform admin center, or the Web API function RetrieveVersion)",
			"apply the updates pending for the environment and its Dynamics 365 apps",
			"in Teams, open the Dynamics 365 app again and select the environment",
		],
	},
}
