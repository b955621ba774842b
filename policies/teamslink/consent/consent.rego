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

results contains consent_001

_consent := lib.obj(object.get(input, ["tenant", "consent"], null))

_sp := object.get(_consent, "servicePrincipal", null)

_graph_sp_id := lib.str(object.get(_consent, "graphServicePrincipalId", null))

_grants := lib.array(object.get(_consent, "grants", null))

# _client_grants are the grants made to the collaboration app.
_client_grants := [g |
	some g in _grants
	lib.same_id(object.get(g, "clientId", null), _sp.id)
]

# _to_graph holds for a grant whose resource is Microsoft Graph, or for any
# grant when the snapshot does not name Graph's service principal.
_to_graph(_) if _graph_sp_id == ""

_to_graph(g) if lib.same_id(object.get(g, "resourceId", null), _graph_sp_id)

_admin_grants := [g |
	some g in _client_grants
	object.get(g, "consentType", null) == "AllPrincipals"
	_to_graph(g)
]

_per_user_grants := [g |
	some g in _client_grants
	object.get(g, "consentType", null) == "Principal"
]

# _scopes splits a space-separated scope string, lower-cased.
_scopes(g) := {lower(s) | some s in regex.split(`\s+`, lib.str(object.get(g, "scope", null))); s != ""}

_granted := union({_scopes(g) | some g in _admin_grants})

_missing := [s | some s in facts.required_consent_scopes; not lower(s) in _granted]

_sp_evidence := {
	"servicePrincipal": _sp,
	"matchedBy": object.get(lib.obj(_sp), "matchedBy", null),
	"graphServicePrincipalId": object.get(_consent, "graphServicePrincipalId", null),
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
#   scope: environment
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
consent_001 := r if {
	r := lib.experience_error("TL-CONSENT-001")
} else := r if {
	lib.basic_experience
	r := lib.enhanced_only_skip("TL-CONSENT-001")
} else := r if {
	r := lib.error_result("TL-CONSENT-001", ["tenant.consent"])
} else := r if {
	not is_object(_sp)
	r := lib.result(
		"TL-CONSENT-001",
		"fail",
		sprintf("the enterprise app %q was not found in the tenant (looked up by appId %s, then by display name): %s", [
			facts.collaboration_app.displayName,
			facts.collaboration_app.appId,
			"the Enhanced experience has not been consented",
		]),
		object.union(_sp_evidence, {
			"lookedUpAppId": facts.collaboration_app.appId,
			"lookedUpDisplayName": facts.collaboration_app.displayName,
		}),
	)
} else := r if {
	count(_admin_grants) == 0
	count(_per_user_grants) > 0
	r := lib.result(
		"TL-CONSENT-001",
		"fail",
		sprintf(
			"the collaboration app has only per-user consent (%d Principal grants) and no admin consent (AllPrincipals)",
			[count(_per_user_grants)],
		),
		object.union(_sp_evidence, {"grants": _client_grants, "missingScopes": facts.required_consent_scopes}),
	)
} else := r if {
	count(_admin_grants) == 0
	r := lib.result(
		"TL-CONSENT-001",
		"fail",
		"the collaboration app has no admin-consent (AllPrincipals) permission grant to Microsoft Graph",
		object.union(_sp_evidence, {"grants": _client_grants, "missingScopes": facts.required_consent_scopes}),
	)
} else := r if {
	count(_missing) > 0
	r := lib.result(
		"TL-CONSENT-001",
		"fail",
		sprintf("the collaboration app's admin consent lacks the delegated scope(s) %s", [concat(", ", _missing)]),
		object.union(_sp_evidence, {"grants": _admin_grants, "missingScopes": _missing}),
	)
} else := r if {
	r := lib.result(
		"TL-CONSENT-001",
		"pass",
		sprintf(
			"the collaboration app has admin consent (AllPrincipals) for %s",
			[concat(" and ", facts.required_consent_scopes)],
		),
		object.union(_sp_evidence, {"grant": _admin_grants[0], "grants": _admin_grants, "missingScopes": []}),
	)
} else := lib.undecided("TL-CONSENT-001")
