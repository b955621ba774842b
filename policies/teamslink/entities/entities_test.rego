package teamslink.entities_test

import data.teamslink.entities
import data.teamslink.test as fx

# Table indexes in the base input's environment.entities.tables.
_account := "/environment/entities/tables/0"

_contact := "/environment/entities/tables/1"

_project := "/environment/entities/tables/2"

_with_tables(tables) := [fx.replace("/options/tables", tables)]

# TL-ENT-001

test_ent_001_pass_every_target_table if {
	every table in ["account", "contact", "new_project"] {
		fx.expect_table(entities.results, "TL-ENT-001", table, "pass") with input as fx.base_input
	}
}

test_ent_001_fail_document_management_disabled if {
	inp := fx.patched([fx.replace(sprintf("%s/isDocumentManagementEnabled", [_contact]), false)])
	fx.expect_table(entities.results, "TL-ENT-001", "contact", "fail") with input as inp
	fx.expect_table(entities.results, "TL-ENT-001", "account", "pass") with input as inp
	r := fx.one_table(entities.results, "TL-ENT-001", "contact") with input as inp
	r.evidence.table.metadataId == "608861bc-50a4-4c5f-a02c-21fe1943e2cf"
}

test_ent_001_fail_table_does_not_exist if {
	inp := fx.patched([fx.replace(_project, {
		"logicalName": "new_project",
		"exists": false,
		"isCustomEntity": false,
		"isDocumentManagementEnabled": false,
		"isMSTeamsIntegrationEnabled": false,
	})])
	fx.expect_table(entities.results, "TL-ENT-001", "new_project", "fail") with input as inp
	r := fx.one_table(entities.results, "TL-ENT-001", "new_project") with input as inp
	contains(r.message, "does not exist")
}

test_ent_001_error_table_not_collected if {
	inp := fx.patched(_with_tables(["account", "lead"]))
	fx.expect_table_section_error(entities.results, "TL-ENT-001", "lead", "environment.entities") with input as inp
	fx.expect_table(entities.results, "TL-ENT-001", "account", "pass") with input as inp
}

test_ent_001_error_section_errored if {
	inp := fx.patched(fx.section_error("/environment/entities"))
	every table in ["account", "contact", "new_project"] {
		fx.expect_table_section_error(entities.results, "TL-ENT-001", table, "environment.entities") with input as inp
	}
}

test_ent_001_error_section_missing if {
	inp := fx.patched([fx.remove("/environment/entities")])
	fx.expect_table_section_error(entities.results, "TL-ENT-001", "account", "environment.entities") with input as inp
}

test_ent_001_no_results_without_tables if {
	inp := fx.patched(_with_tables([]))
	count(entities.results) == 0 with input as inp
}

test_ent_001_one_result_per_table_even_when_duplicated if {
	inp := fx.patched(_with_tables(["contact", "contact"]))
	fx.expect_table(entities.results, "TL-ENT-001", "contact", "pass") with input as inp
}

# TL-ENT-002

test_ent_002_skip_out_of_box_tables if {
	every table in ["account", "contact"] {
		fx.expect_table(entities.results, "TL-ENT-002", table, "skip") with input as fx.base_input
	}
	r := fx.one_table(entities.results, "TL-ENT-002", "account") with input as fx.base_input
	contains(r.message, "enabled with the feature")
	r.evidence.outOfBox.logicalNameInferred == false
}

test_ent_002_skip_out_of_box_inferred_name if {
	inp := fx.patched(_with_tables(["incident"]))
	fx.expect_table(entities.results, "TL-ENT-002", "incident", "skip") with input as inp
	r := fx.one_table(entities.results, "TL-ENT-002", "incident") with input as inp
	r.evidence.outOfBox.displayName == "Case"
	r.evidence.outOfBox.logicalNameInferred == true
}

test_ent_002_pass_custom_table_enabled if {
	fx.expect_table(entities.results, "TL-ENT-002", "new_project", "pass") with input as fx.base_input
}

test_ent_002_warn_custom_table_not_enabled_preflight if {
	inp := fx.patched([fx.replace(sprintf("%s/isMSTeamsIntegrationEnabled", [_project]), false)])
	fx.expect_table(entities.results, "TL-ENT-002", "new_project", "warn") with input as inp
	r := fx.one_table(entities.results, "TL-ENT-002", "new_project") with input as inp
	contains(r.message, "does not stop the feature being turned on")
	contains(r.message, "call msdyn_SetTeamsDocumentStatus for it after enabling")
	not contains(r.message, "could not be read")
	r.evidence.teamsIntegration.ismsteamsenabled == false
}

test_ent_002_fail_custom_table_not_enabled_profile_enabled if {
	inp := fx.patched([
		fx.replace(sprintf("%s/isMSTeamsIntegrationEnabled", [_project]), false),
		fx.replace("/options/profile", "enabled"),
	])
	fx.expect_table(entities.results, "TL-ENT-002", "new_project", "fail") with input as inp
	r := fx.one_table(entities.results, "TL-ENT-002", "new_project") with input as inp
	contains(r.message, "profile enabled requires Teams integration on")
}

test_ent_002_fail_custom_table_not_enabled_feature_on if {
	every column in ["ismsteamsenabled", "ismsteamscollaborationenabled"] {
		inp := fx.patched([
			fx.replace(sprintf("%s/isMSTeamsIntegrationEnabled", [_project]), false),
			fx.replace(sprintf("/environment/organization/record/%s", [column]), true),
		])
		fx.expect_table(entities.results, "TL-ENT-002", "new_project", "fail") with input as inp
		r := fx.one_table(entities.results, "TL-ENT-002", "new_project") with input as inp
		contains(r.message, "Teams integration is on in this environment")
	}
}

test_ent_002_warn_when_organization_unreadable_preflight if {
	inp := fx.patched(array.concat(
		[fx.replace(sprintf("%s/isMSTeamsIntegrationEnabled", [_project]), false)],
		fx.section_error("/environment/organization"),
	))
	fx.expect_table(entities.results, "TL-ENT-002", "new_project", "warn") with input as inp
	r := fx.one_table(entities.results, "TL-ENT-002", "new_project") with input as inp
	contains(r.message, "could not be read from environment.organization")
	r.evidence.teamsIntegration.ismsteamsenabled == null
}

test_ent_002_error_invalid_profile if {
	inp := fx.patched([
		fx.replace(sprintf("%s/isMSTeamsIntegrationEnabled", [_project]), false),
		fx.replace("/options/profile", "strict"),
	])
	fx.expect_table_section_error(entities.results, "TL-ENT-002", "new_project", "options.profile") with input as inp
}

test_ent_002_skip_table_does_not_exist if {
	inp := fx.patched([fx.replace(sprintf("%s/exists", [_project]), false)])
	fx.expect_table(entities.results, "TL-ENT-002", "new_project", "skip") with input as inp
	r := fx.one_table(entities.results, "TL-ENT-002", "new_project") with input as inp
	contains(r.message, "see TL-ENT-001")
}

test_ent_002_error_table_not_collected if {
	inp := fx.patched(_with_tables(["new_invoice"]))
	fx.expect_table_section_error(entities.results, "TL-ENT-002", "new_invoice", "environment.entities") with input as inp
}

test_ent_002_error_section_errored if {
	inp := fx.patched(fx.section_error("/environment/entities"))
	fx.expect_table_section_error(entities.results, "TL-ENT-002", "new_project", "environment.entities") with input as inp
	fx.expect_table(entities.results, "TL-ENT-002", "account", "skip") with input as inp
}

test_ent_002_error_section_missing if {
	inp := fx.patched([fx.remove("/environment/entities")])
	fx.expect_table_section_error(entities.results, "TL-ENT-002", "new_project", "environment.entities") with input as inp
}
