package teamslink.environment_test

import data.teamslink.environment
import data.teamslink.test as fx

_record := "/environment/organization/record"

_enabled_profile := fx.replace("/options/profile", "enabled")

_basic_on := fx.replace(sprintf("%s/ismsteamsenabled", [_record]), true)

_enhanced_on := fx.replace(sprintf("%s/ismsteamscollaborationenabled", [_record]), true)

# TL-ENV-001

test_env_001_skip_not_enabled_under_preflight if {
	fx.expect(environment.results, "TL-ENV-001", "skip") with input as fx.base_input
	r := fx.one(environment.results, "TL-ENV-001") with input as fx.base_input
	contains(r.message, "not turned on yet; informational under the preflight profile")
}

test_env_001_pass_enabled if {
	inp := fx.patched([_basic_on])
	fx.expect(environment.results, "TL-ENV-001", "pass") with input as inp
}

test_env_001_pass_enabled_under_basic_experience if {
	inp := fx.patched([_basic_on, fx.replace("/options/experience", "basic")])
	fx.expect(environment.results, "TL-ENV-001", "pass") with input as inp
}

test_env_001_fail_not_enabled_under_enabled_profile if {
	inp := fx.patched([_enabled_profile])
	fx.expect(environment.results, "TL-ENV-001", "fail") with input as inp
}

test_env_001_error_organization_errored if {
	inp := fx.patched(fx.section_error("/environment/organization"))
	fx.expect_section_error(environment.results, "TL-ENV-001", "environment.organization") with input as inp
}

test_env_001_error_organization_missing if {
	inp := fx.patched([fx.remove("/environment/organization")])
	fx.expect_section_error(environment.results, "TL-ENV-001", "environment.organization") with input as inp
}

test_env_001_error_invalid_profile if {
	inp := fx.patched([fx.replace("/options/profile", "strict")])
	fx.expect_section_error(environment.results, "TL-ENV-001", "options.profile") with input as inp
}

# TL-ENV-002

test_env_002_skip_not_enabled_under_preflight if {
	fx.expect(environment.results, "TL-ENV-002", "skip") with input as fx.base_input
}

test_env_002_pass_enabled if {
	inp := fx.patched([_enhanced_on, _enabled_profile])
	fx.expect(environment.results, "TL-ENV-002", "pass") with input as inp
}

test_env_002_fail_not_enabled_under_enabled_profile if {
	inp := fx.patched([_basic_on, _enabled_profile])
	fx.expect(environment.results, "TL-ENV-002", "fail") with input as inp
	fx.expect(environment.results, "TL-ENV-001", "pass") with input as inp
}

test_env_002_skip_basic_experience if {
	inp := fx.patched(array.concat(
		[fx.replace("/options/experience", "basic"), _enabled_profile],
		fx.section_error("/environment/organization"),
	))
	fx.expect(environment.results, "TL-ENV-002", "skip") with input as inp
}

test_env_002_error_organization_errored if {
	inp := fx.patched(fx.section_error("/environment/organization"))
	fx.expect_section_error(environment.results, "TL-ENV-002", "environment.organization") with input as inp
}

test_env_002_error_organization_missing if {
	inp := fx.patched([fx.remove("/environment/organization")])
	fx.expect_section_error(environment.results, "TL-ENV-002", "environment.organization") with input as inp
}
