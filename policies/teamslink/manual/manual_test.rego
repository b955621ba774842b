package teamslink.manual_test

import data.teamslink.manual
import data.teamslink.test as fx

# _every_section_errored marks every snapshot section of the base input as
# not read: a manual check reads none, so it stays manual.
_every_section_errored := fx.patched([op |
	some path in [
		"/tenant/licenses", "/tenant/consent", "/tenant/caller", "/tenant/sharePoint", "/tenant/groupSettings",
		"/environment/organization", "/environment/sharePointSites", "/environment/documentLocations",
		"/environment/entities", "/environment/caller", "/environment/rolePrivileges",
	]
	some op in fx.section_error(path)
])

_basic := fx.patched([fx.replace("/options/experience", "basic")])

test_man_001_manual_with_steps if {
	fx.expect(manual.tenant_results, "TL-MAN-001", "manual") with input as fx.base_input
	r := fx.one(manual.tenant_results, "TL-MAN-001") with input as fx.base_input
	startswith(r.message, "check by hand: ")
	contains(r.message, `"Allow external apps in Microsoft Teams"`)
	count(r.evidence.steps) == 3
}

test_man_001_manual_even_when_every_section_errored if {
	fx.expect(manual.tenant_results, "TL-MAN-001", "manual") with input as _every_section_errored
}

test_man_001_manual_under_basic if {
	fx.expect(manual.tenant_results, "TL-MAN-001", "manual") with input as _basic
}

test_man_001_manual_on_empty_input if {
	fx.expect(manual.tenant_results, "TL-MAN-001", "manual") with input as {}
}

test_man_002_manual_with_steps if {
	fx.expect(manual.tenant_results, "TL-MAN-002", "manual") with input as fx.base_input
	r := fx.one(manual.tenant_results, "TL-MAN-002") with input as fx.base_input
	contains(r.message, "multifactor authentication")
	contains(r.evidence.why, "environment list is not populated")
}

test_man_002_manual_even_when_every_section_errored if {
	fx.expect(manual.tenant_results, "TL-MAN-002", "manual") with input as _every_section_errored
}

test_man_002_manual_under_basic if {
	fx.expect(manual.tenant_results, "TL-MAN-002", "manual") with input as _basic
}

test_man_002_manual_on_empty_input if {
	fx.expect(manual.tenant_results, "TL-MAN-002", "manual") with input as {}
}

test_man_003_manual_names_the_environment if {
	fx.expect(manual.results, "TL-MAN-003", "manual") with input as fx.base_input
	r := fx.one(manual.results, "TL-MAN-003") with input as fx.base_input
	r.evidence.environment == "https://contoso-sales.crm.dynamics.com"
	contains(r.message, "no minimum version")
}

test_man_003_manual_even_when_every_section_errored if {
	fx.expect(manual.results, "TL-MAN-003", "manual") with input as _every_section_errored
}

test_man_003_manual_under_basic if {
	fx.expect(manual.results, "TL-MAN-003", "manual") with input as _basic
}

test_man_003_manual_on_empty_input if {
	fx.expect(manual.results, "TL-MAN-003", "manual") with input as {}
	r := fx.one(manual.results, "TL-MAN-003") with input as {}
	r.evidence.environment == null
}
