package teamslink.groups_test

import data.teamslink.groups
import data.teamslink.test as fx

_unified(values) := {
	"id": "8d1f3b5a-7c9e-4a2b-8d4f-6a8c0e2b4d61",
	"displayName": "Group.Unified",
	"templateId": "62375ab9-6b52-47ed-826b-58e47e0e304b",
	"values": values,
}

_defaults := [
	{"name": "EnableGroupCreation", "value": "true"},
	{"name": "PrefixSuffixNamingRequirement", "value": ""},
	{"name": "CustomBlockedWordsList", "value": ""},
	{"name": "EnableMSStandardBlockedWords", "value": "false"},
]

_with(values) := fx.patched([fx.replace("/tenant/groupSettings/settings", [_unified(values)])])

test_grp_001_pass_no_settings_object if {
	fx.expect(groups.tenant_results, "TL-GRP-001", "pass") with input as fx.base_input
	r := fx.one(groups.tenant_results, "TL-GRP-001") with input as fx.base_input
	contains(r.message, "no Group.Unified settings object")
}

test_grp_001_pass_empty_values if {
	inp := _with(_defaults)
	fx.expect(groups.tenant_results, "TL-GRP-001", "pass") with input as inp
	r := fx.one(groups.tenant_results, "TL-GRP-001") with input as inp
	contains(r.message, "leave both empty")
	r.evidence.groupUnified[0].enforced == false
}

test_grp_001_pass_whitespace_and_commas_only if {
	inp := _with([
		{"name": "PrefixSuffixNamingRequirement", "value": "  "},
		{"name": "CustomBlockedWordsList", "value": " , ,"},
	])
	fx.expect(groups.tenant_results, "TL-GRP-001", "pass") with input as inp
}

test_grp_001_pass_other_template_only if {
	other := object.union(_unified([{"name": "PrefixSuffixNamingRequirement", "value": "GRP_[GroupName]"}]), {
		"displayName": "Group.Unified.Guest",
		"templateId": "08d542b9-071f-4e16-94b0-74abb372e3d9",
	})
	inp := fx.patched([fx.replace("/tenant/groupSettings/settings", [other])])
	fx.expect(groups.tenant_results, "TL-GRP-001", "pass") with input as inp
}

test_grp_001_warn_prefix_suffix if {
	inp := _with(json.patch(_defaults, [fx.replace("/1/value", "GRP_[GroupName]_[Department]")]))
	fx.expect(groups.tenant_results, "TL-GRP-001", "warn") with input as inp
	r := fx.one(groups.tenant_results, "TL-GRP-001") with input as inp
	contains(r.message, `prefix/suffix naming requirement "GRP_[GroupName]_[Department]"`)
	not contains(r.message, "blocked words")
	r.evidence.prefixSuffixNamingRequirement == "GRP_[GroupName]_[Department]"
	r.evidence.customBlockedWordCount == 0
}

test_grp_001_warn_blocked_words if {
	inp := _with(json.patch(_defaults, [fx.replace("/2/value", "Payroll, CEO ,HR")]))
	fx.expect(groups.tenant_results, "TL-GRP-001", "warn") with input as inp
	r := fx.one(groups.tenant_results, "TL-GRP-001") with input as inp
	contains(r.message, `custom blocked words "Payroll", "CEO", "HR"`)
	r.evidence.customBlockedWords == ["Payroll", "CEO", "HR"]
	r.evidence.prefixSuffixNamingRequirement == null
}

test_grp_001_warn_many_blocked_words_are_shortened if {
	words := concat(",", [sprintf("w%d", [i]) | some i in numbers.range(1, 12)])
	inp := _with([{"name": "CustomBlockedWordsList", "value": words}])
	r := fx.one(groups.tenant_results, "TL-GRP-001") with input as inp
	r.status == "warn"
	contains(r.message, `"w10" and 2 more`)
	r.evidence.customBlockedWordCount == 12
}

test_grp_001_warn_template_id_upper_case if {
	setting := object.union(_unified([{"name": "PrefixSuffixNamingRequirement", "value": "[GroupName]_Team"}]), {"templateId": "62375AB9-6B52-47ED-826B-58E47E0E304B"})
	inp := fx.patched([fx.replace("/tenant/groupSettings/settings", [setting])])
	fx.expect(groups.tenant_results, "TL-GRP-001", "warn") with input as inp
}

test_grp_001_error_section_errored if {
	inp := fx.patched(fx.section_error("/tenant/groupSettings"))
	fx.expect_section_error(groups.tenant_results, "TL-GRP-001", "tenant.groupSettings") with input as inp
}

test_grp_001_error_section_missing if {
	inp := fx.patched([fx.remove("/tenant/groupSettings")])
	fx.expect_section_error(groups.tenant_results, "TL-GRP-001", "tenant.groupSettings") with input as inp
}

test_grp_001_error_settings_not_a_list if {
	inp := fx.patched([fx.remove("/tenant/groupSettings/settings")])
	fx.expect(groups.tenant_results, "TL-GRP-001", "error") with input as inp
}

test_grp_001_basic_experience_still_decides if {
	inp := fx.patched([fx.replace("/options/experience", "basic")])
	fx.expect(groups.tenant_results, "TL-GRP-001", "pass") with input as inp
}
