package teamslink.consent_test

import data.teamslink.consent
import data.teamslink.test as fx

_grant := "/tenant/consent/grants/0"

test_consent_001_pass_admin_consent if {
	fx.expect(consent.tenant_results, "TL-CONSENT-001", "pass") with input as fx.base_input
	r := fx.one(consent.tenant_results, "TL-CONSENT-001") with input as fx.base_input
	r.evidence.matchedBy == "appId"
	r.evidence.grant.consentType == "AllPrincipals"
	r.evidence.missingScopes == []
}

test_consent_001_pass_with_other_scopes_in_any_order if {
	inp := fx.patched([fx.replace(
		sprintf("%s/scope", [_grant]),
		"  Chat.ReadWrite.All User.Read.All Directory.Read.All\tGroup.ReadWrite.All Presence.Read.All ",
	)])
	fx.expect(consent.tenant_results, "TL-CONSENT-001", "pass") with input as inp
}

test_consent_001_pass_without_graph_sp_id if {
	inp := fx.patched([
		fx.remove("/tenant/consent/graphServicePrincipalId"),
		fx.replace(sprintf("%s/resourceId", [_grant]), "11111111-2222-3333-4444-555555555555"),
	])
	fx.expect(consent.tenant_results, "TL-CONSENT-001", "pass") with input as inp
}

test_consent_001_pass_matched_by_display_name if {
	inp := fx.patched([fx.replace("/tenant/consent/servicePrincipal/matchedBy", "displayName")])
	r := fx.one(consent.tenant_results, "TL-CONSENT-001") with input as inp
	r.status == "pass"
	r.evidence.matchedBy == "displayName"
}

test_consent_001_fail_app_not_found if {
	inp := fx.patched([
		fx.replace("/tenant/consent/servicePrincipal", null),
		fx.replace("/tenant/consent/grants", []),
	])
	fx.expect(consent.tenant_results, "TL-CONSENT-001", "fail") with input as inp
	r := fx.one(consent.tenant_results, "TL-CONSENT-001") with input as inp
	contains(r.message, "was not found")
}

test_consent_001_fail_only_per_user_consent if {
	inp := fx.patched([
		fx.replace(sprintf("%s/consentType", [_grant]), "Principal"),
		fx.replace(sprintf("%s/principalId", [_grant]), "0a7c3e52-91d8-4f6b-a2e4-7b5d9c1f8e36"),
	])
	fx.expect(consent.tenant_results, "TL-CONSENT-001", "fail") with input as inp
	r := fx.one(consent.tenant_results, "TL-CONSENT-001") with input as inp
	contains(r.message, "per-user consent (1 Principal grant)")
	r.evidence.missingScopes == ["Group.ReadWrite.All", "User.Read.All"]
}

test_consent_001_fail_no_grants if {
	inp := fx.patched([fx.replace("/tenant/consent/grants", null)])
	fx.expect(consent.tenant_results, "TL-CONSENT-001", "fail") with input as inp
	r := fx.one(consent.tenant_results, "TL-CONSENT-001") with input as inp
	contains(r.message, "no admin-consent")
}

test_consent_001_fail_scope_missing if {
	inp := fx.patched([fx.replace(sprintf("%s/scope", [_grant]), "Group.ReadWrite.All Chat.ReadWrite.All")])
	fx.expect(consent.tenant_results, "TL-CONSENT-001", "fail") with input as inp
	r := fx.one(consent.tenant_results, "TL-CONSENT-001") with input as inp
	r.evidence.missingScopes == ["User.Read.All"]
	endswith(r.message, "lacks the delegated scope User.Read.All")
	not contains(r.message, "Group.ReadWrite.All")
}

test_consent_001_fail_missing_scopes_lists_only_the_missing if {
	# Both required scopes granted, but to one user: admin consent lacks
	# both, and the evidence lists exactly those two.
	inp := fx.patched([fx.replace(sprintf("%s/scope", [_grant]), "Chat.ReadWrite.All")])
	r := fx.one(consent.tenant_results, "TL-CONSENT-001") with input as inp
	r.status == "fail"
	endswith(r.message, "lacks the delegated scopes Group.ReadWrite.All, User.Read.All")
	r.evidence.missingScopes == ["Group.ReadWrite.All", "User.Read.All"]
	not "Chat.ReadWrite.All" in r.evidence.missingScopes
}

test_consent_001_fail_grant_to_another_resource if {
	inp := fx.patched([fx.replace(sprintf("%s/resourceId", [_grant]), "11111111-2222-3333-4444-555555555555")])
	fx.expect(consent.tenant_results, "TL-CONSENT-001", "fail") with input as inp
}

test_consent_001_fail_grant_to_another_client if {
	inp := fx.patched([fx.replace(sprintf("%s/clientId", [_grant]), "11111111-2222-3333-4444-555555555555")])
	fx.expect(consent.tenant_results, "TL-CONSENT-001", "fail") with input as inp
}

test_consent_001_skip_basic_experience if {
	inp := fx.patched(array.concat([fx.replace("/options/experience", "basic")], fx.section_error("/tenant/consent")))
	fx.expect(consent.tenant_results, "TL-CONSENT-001", "skip") with input as inp
}

test_consent_001_error_section_errored if {
	inp := fx.patched(fx.section_error("/tenant/consent"))
	fx.expect_section_error(consent.tenant_results, "TL-CONSENT-001", "tenant.consent") with input as inp
}

test_consent_001_error_section_missing if {
	inp := fx.patched([fx.remove("/tenant/consent")])
	fx.expect_section_error(consent.tenant_results, "TL-CONSENT-001", "tenant.consent") with input as inp
}
