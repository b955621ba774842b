# METADATA
# title: Consent prerequisites
# description: |
#   The Enhanced experience needs tenant-wide admin consent for the enterprise
#   app "Dynamics 365 Microsoft Teams Collaboration Integration": an
#   AllPrincipals oauth2PermissionGrant to Microsoft Graph carrying
#   Group.ReadWrite.All and User.Read.All (snapshot section tenant.consent).
package teamslink.consent

import data.teamslink.facts
import data.teamslink.lib

# Consent is tenant-wide: the engine evaluates this rule once per tenant.
tenant_results contains consent_001

# _consent reads the tenant.consent section once, when the rule needs it (the
# section is then usable: an object with status ok). Ids compare
# case-insensitively; {true: a, false: b}[condition] chooses between two
# values without a function call.
_consent := {
	"servicePrincipal": sp,
	"evidence": {
		"servicePrincipal": sp,
		"matchedBy": object.get(sp_object, "matchedBy", null),
		"graphServicePrincipalId": graph_value,
	},
	"clientGrants": client_grants,
	"adminGrants": admin_grants,
	"missingScopes": missing,
} if {
	consent := input.tenant.consent
	sp := object.get(consent, "servicePrincipal", null)
	sp_object := {true: sp, false: {}}[is_object(sp)]
	sp_id_value := object.get(sp_object, "id", null)
	sp_id := lower({true: sp_id_value, false: ""}[is_string(sp_id_value)])
	graph_value := object.get(consent, "graphServicePrincipalId", null)
	graph_id := lower({true: graph_value, false: ""}[is_string(graph_value)])
	grants_value := object.get(consent, "grants", null)

	# the grants made to the collaboration app (read only when there is one)
	client_grants := [g |
		is_object(sp)
		some g in {true: grants_value, false: []}[is_array(grants_value)]
		client_id := object.get(g, "clientId", null)
		is_string(client_id)
		client_id != ""
		lower(client_id) == sp_id
	]

	# its admin-consent (AllPrincipals) grants to Microsoft Graph, or to any
	# resource when the snapshot does not name Graph's service principal
	all_principals := [g | some g in client_grants; object.get(g, "consentType", null) == "AllPrincipals"]
	to_graph := [g |
		some g in all_principals
		resource_id := object.get(g, "resourceId", null)
		is_string(resource_id)
		resource_id != ""
		lower(resource_id) == graph_id
	]
	admin_grants := {true: all_principals, false: to_graph}[graph_id == ""]

	# the scopes they grant, split on whitespace and lower-cased
	granted := {lower(s) |
		some g in admin_grants
		scope := object.get(g, "scope", null)
		some s in regex.split(`\s+`, {true: scope, false: ""}[is_string(scope)])
		s != ""
	}
	missing := [s | some s in facts.required_consent_scopes; not lower(s) in granted]
}

# METADATA
# title: "Enhanced: admin consent for the collaboration app"
# description: |
#   Enabling the Enhanced experience creates the enterprise app "Dynamics 365
#   Microsoft Teams Collaboration Integration" and needs a tenant admin to
#   consent for the whole organisation: an oauth2PermissionGrant with
#   consentType AllPrincipals from the app to Microsoft Graph whose scopes
#   include Group.ReadWrite.All and User.Read.All (other scopes may be present,
#   e.g. from Teams chat integration). Without it, pinning fails with "The admin
#   has not consented to use user sync feature, you can add them manually."
# custom:
#   id: TL-CONSENT-001
#   severity: high
#   error_code: "The admin has not consented to use user sync feature, you can add them manually."
#   experience: [enhanced]
#   scope: tenant
#   docs: https://learn.microsoft.com/dynamics365/sales/teams-integration/link-records-to-teams-faq
#   remediation: |
#     Have a Global Administrator grant admin consent for the organisation: turn
#     on the Enhanced experience again and tick "Consent on behalf of
#     organization". If a per-user consent is in the way, delete the enterprise
#     app "Dynamics 365 Microsoft Teams Collaboration Integration" in Entra ID,
#     wait about five minutes, and enable Enhanced again with the box ticked.
#   automated_fix:
#     action: admin-consent-url
#     description: >-
#       Print the tenant's admin-consent URL for the collaboration app for a
#       Global Administrator to open; teamslink never consents by itself.
#   assumptions:
#     - >-
#       NOT CONFIRMED: the collaboration app's appId
#       a8adde6c-aeb4-4fd6-9d8f-c2dfdecac60a is community-sourced, not
#       documented by Microsoft; the collector falls back to the display name.
#     - >-
#       NOT CONFIRMED: the app's delegated grants target Microsoft Graph's
#       service principal (the scope names are Graph scopes).
consent_001 := {
	# lib.enhanced_only_skip("TL-CONSENT-001"), written out so the result is constant
	"id": "TL-CONSENT-001",
	"status": "skip",
	"message": "applies to the Enhanced collaboration experience only; the Basic experience was asked for",
	"evidence": {"experience": "basic"},
} if {
	# First, as the cheapest check: "basic" is a valid experience, so none of
	# the error branches below could apply.
	input.options.experience == "basic"
} else := {
	"id": "TL-CONSENT-001",
	"status": "pass",
	"message": sprintf(
		"the collaboration app has admin consent (AllPrincipals) for %s",
		[concat(" and ", facts.required_consent_scopes)],
	),
	"evidence": object.union(c.evidence, {"grant": grant, "grants": c.adminGrants, "missingScopes": []}),
} if {
	# The pass comes before the failures, as the common case: its conditions
	# exclude every failing branch below, which keep their order.
	input.options.experience == "enhanced"
	input.tenant.consent.status == "ok"
	c := _consent
	count(c.missingScopes) == 0
	grant := c.adminGrants[0]
} else := {
	"id": "TL-CONSENT-001",
	"status": "fail",
	"message": sprintf(
		"the enterprise app %q was not found in the tenant (looked up by appId %s, then by display name): %s",
		[
			facts.collaboration_app.displayName,
			facts.collaboration_app.appId,
			"the Enhanced experience has not been consented",
		],
	),
	"evidence": object.union(c.evidence, {
		"lookedUpAppId": facts.collaboration_app.appId,
		"lookedUpDisplayName": facts.collaboration_app.displayName,
	}),
} if {
	input.options.experience == "enhanced"
	input.tenant.consent.status == "ok"
	c := _consent
	not is_object(c.servicePrincipal)
} else := {
	"id": "TL-CONSENT-001",
	"status": "fail",
	"message": sprintf(
		"the collaboration app has only per-user consent (%s) and no admin consent (AllPrincipals)",
		[lib.counted(count(per_user), false, "Principal grant", "Principal grants")],
	),
	"evidence": object.union(c.evidence, {"grants": c.clientGrants, "missingScopes": c.missingScopes}),
} if {
	input.options.experience == "enhanced"
	input.tenant.consent.status == "ok"
	c := _consent
	count(c.adminGrants) == 0
	per_user := [g | some g in c.clientGrants; object.get(g, "consentType", null) == "Principal"]
	count(per_user) > 0
} else := {
	"id": "TL-CONSENT-001",
	"status": "fail",
	"message": "the collaboration app has no admin-consent (AllPrincipals) permission grant to Microsoft Graph",
	"evidence": object.union(c.evidence, {"grants": c.clientGrants, "missingScopes": c.missingScopes}),
} if {
	input.options.experience == "enhanced"
	input.tenant.consent.status == "ok"
	c := _consent
	count(c.adminGrants) == 0
} else := {
	"id": "TL-CONSENT-001",
	"status": "fail",
	"message": sprintf(
		"the collaboration app's admin consent lacks the delegated %s %s",
		[{true: "scope", false: "scopes"}[count(c.missingScopes) == 1], concat(", ", c.missingScopes)],
	),
	"evidence": object.union(c.evidence, {"grants": c.adminGrants, "missingScopes": c.missingScopes}),
} if {
	input.options.experience == "enhanced"
	input.tenant.consent.status == "ok"
	c := _consent
	count(c.missingScopes) > 0
} else := r if {
	p := lib.experience_problem
	r := lib.option_result("TL-CONSENT-001", p)
} else := r if {
	p := lib.tenant_section_problems["tenant.consent"]
	r := lib.problem_result("TL-CONSENT-001", p)
} else := lib.undecided("TL-CONSENT-001")
