package teamslink.test

# catalogue is every rule id with its scope, as annotated in the policies.
catalogue := {
	"TL-LIC-001": "tenant",
	"TL-LIC-002": "tenant",
	"TL-ROLE-001": "environment",
	"TL-ROLE-002": "tenant",
	"TL-ROLE-003": "environment",
	"TL-CONSENT-001": "tenant",
	"TL-SP-001": "environment",
	"TL-SP-002": "environment",
	"TL-SP-003": "environment",
	"TL-SP-004": "environment",
	"TL-SP-005": "tenant",
	"TL-ENT-001": "table",
	"TL-ENT-002": "table",
	"TL-ENV-001": "environment",
	"TL-ENV-002": "environment",
	"TL-GRP-001": "tenant",
	"TL-MAN-001": "tenant",
	"TL-MAN-002": "tenant",
	"TL-MAN-003": "environment",
}

# all_results are the results and tenant_results of every family package on
# the current input.
all_results := [r |
	some results in [
		data.teamslink.licensing.tenant_results,
		data.teamslink.roles.tenant_results,
		data.teamslink.roles.results,
		data.teamslink.consent.tenant_results,
		data.teamslink.sharepoint.tenant_results,
		data.teamslink.sharepoint.results,
		data.teamslink.entities.results,
		data.teamslink.environment.results,
		data.teamslink.groups.tenant_results,
		data.teamslink.manual.tenant_results,
		data.teamslink.manual.results,
	]
	some r in results
]

# targets are the (id, table) pairs a complete evaluation must cover.
targets(tables) := {[id, ""] | some id, scope in catalogue; scope in {"environment", "tenant"}} | {[id, table] |
	some id, scope in catalogue
	scope == "table"
	some table in tables
}

# result_targets are the (id, table) pairs results cover, with duplicates.
result_targets(results) := [[r.id, object.get(r, "table", "")] | some r in results]

covers_exactly(results, tables) if {
	got := result_targets(results)
	count(got) == count({t | some t in got}) # no target twice
	{t | some t in got} == targets(tables) # every target, nothing else
}

test_base_input_one_result_per_rule_per_target if {
	results := all_results with input as base_input
	print("results:", count(results))
	covers_exactly(results, base_input.options.tables)
}

test_basic_experience_one_result_per_rule_per_target if {
	inp := patched([
		replace("/options/experience", "basic"),
		replace("/options/tables", ["lead", "new_project", "msdyn_nothing"]),
	])
	results := all_results with input as inp
	covers_exactly(results, ["lead", "new_project", "msdyn_nothing"])
}

test_every_section_errored_yields_no_pass if {
	ops := [op |
		some path in [
			"/tenant/licenses", "/tenant/consent", "/tenant/caller", "/tenant/sharePoint", "/tenant/groupSettings",
			"/environment/organization", "/environment/sharePointSites", "/environment/documentLocations",
			"/environment/entities", "/environment/caller", "/environment/rolePrivileges",
		]
		some op in section_error(path)
	]
	inp := patched(ops)
	results := all_results with input as inp
	covers_exactly(results, base_input.options.tables)
	every r in results {
		r.status in {"error", "skip", "manual"}
	}
}

test_expect_rejects_zero_results if {
	not expect([], "TL-SP-001", "pass")
}

test_expect_rejects_two_results if {
	two := [
		{"id": "TL-SP-001", "status": "pass", "message": "a", "evidence": {}},
		{"id": "TL-SP-001", "status": "fail", "message": "b", "evidence": {}},
	]
	not expect(two, "TL-SP-001", "pass")
	not expect(two, "TL-SP-001", "fail")
}

test_expect_rejects_other_status if {
	not expect([{"id": "TL-SP-001", "status": "fail", "message": "a", "evidence": {}}], "TL-SP-001", "pass")
}

test_expect_table_rejects_other_table if {
	results := [{"id": "TL-ENT-001", "table": "account", "status": "pass", "message": "a", "evidence": {}}]
	expect_table(results, "TL-ENT-001", "account", "pass")
	not expect_table(results, "TL-ENT-001", "contact", "pass")
	not expect(results, "TL-ENT-001", "pass")
}

test_enhanced_only_rules_skip_basic_as_lib_does if {
	inp := patched([replace("/options/experience", "basic")])
	every id in ["TL-ROLE-002", "TL-CONSENT-001", "TL-ENV-002"] {
		one(all_results, id) == data.teamslink.lib.enhanced_only_skip(id) with input as inp
	}
}
