# METADATA
# title: Table prerequisites
# description: |
#   Per target table (input.options.tables): SharePoint document management
#   must be enabled, and tables outside the out-of-box Teams set must have
#   Teams document status enabled through msdyn_SetTeamsDocumentStatus
#   (snapshot section environment.entities, EntityDefinitions metadata).
package teamslink.entities

import data.teamslink.facts
import data.teamslink.lib

results contains ent_001(table) if {
	some table in _target_tables
}

results contains ent_002(table) if {
	some table in _target_tables
}

_target_tables := {true: tables, false: []}[is_array(tables)] if {
	tables := object.get(input, ["options", "tables"], null)
}

# Each rule first tries the branches that decide it, guarded by what they need
# (a usable environment.entities section: an object with status ok, read by a
# plain input reference), and only then the branches that explain why it
# cannot be decided.

# _collected are the tables environment.entities holds; read only once the
# section is usable.
_collected := {true: tables, false: []}[is_array(tables)] if {
	tables := object.get(input.environment.entities, "tables", null)
}

# _metadata maps each target table to its collected metadata; a table the
# collector did not return has none. Table names are unique in a snapshot
# (the reader rejects duplicates), so one pass over the collected tables
# builds the map.
_metadata := {name: t |
	some t in collected
	name := object.get(t, "logicalName", null)
	name in targets
} if {
	collected_value := object.get(input.environment.entities, "tables", null)
	collected := {true: collected_value, false: []}[is_array(collected_value)]
	targets := {t | some t in _target_tables}
}

_not_collected(id, table) := {
	"id": id,
	"table": table,
	"status": "error",
	"message": sprintf("cannot assess: table %s was not collected into environment.entities", [table]),
	"evidence": {
		"section": "environment.entities",
		"sectionStatus": "ok",
		"error": sprintf("no entry for table %s in environment.entities.tables", [table]),
		"httpStatus": null,
		"collectedTables": [object.get(t, "logicalName", null) | some t in _collected],
	},
}

# METADATA
# title: Document management enabled on every target table
# description: |
#   SharePoint document management (EntityMetadata.IsDocumentManagementEnabled)
#   must be enabled for every table whose records are pinned in Teams;
#   otherwise the tab shows "This record isn't connected to Dynamics 365.
#   Repin the tab and try again."
# custom:
#   id: TL-ENT-001
#   severity: high
#   error_code: "This record isn't connected to Dynamics 365. Repin the tab and try again."
#   experience: [basic, enhanced]
#   scope: table
#   docs: https://learn.microsoft.com/dynamics365/sales/teams-integration/enable-record-linking
#   remediation: |
#     Enable document management for the table (Settings > Document management >
#     Document management settings, tick the table), or set
#     IsDocumentManagementEnabled on its definition and publish. Check the
#     table's logical name if it does not exist.
#   automated_fix:
#     action: enable-document-management
#     description: >-
#       PUT the table's EntityDefinition with IsDocumentManagementEnabled true
#       (MSCRM.MergeLabels true), then PublishXml; the previous definition is
#       journalled for rollback.
ent_001(table) := {
	"id": "TL-ENT-001",
	"table": table,
	"status": "pass",
	"message": sprintf("document management is enabled for table %s", [table]),
	"evidence": {"table": m},
} if {
	input.environment.entities.status == "ok"
	m := _metadata[table]
	m.exists == true
	m.isDocumentManagementEnabled == true
} else := {
	"id": "TL-ENT-001",
	"table": table,
	"status": "fail",
	"message": sprintf("document management is not enabled for table %s", [table]),
	"evidence": {"table": m},
} if {
	input.environment.entities.status == "ok"
	m := _metadata[table]
	m.exists == true
	object.get(m, "isDocumentManagementEnabled", null) == false
} else := {
	"id": "TL-ENT-001",
	"table": table,
	"status": "fail",
	"message": sprintf("table %s does not exist in the environment", [table]),
	"evidence": {"table": m},
} if {
	input.environment.entities.status == "ok"
	m := _metadata[table]
	object.get(m, "exists", null) == false
} else := r if {
	input.environment.entities.status == "ok"
	not _metadata[table]
	r := _not_collected("TL-ENT-001", table)
} else := r if {
	p := lib.section_problems["environment.entities"]
	r := lib.table_problem_result("TL-ENT-001", table, p)
} else := lib.table_undecided("TL-ENT-001", table)

# METADATA
# title: Teams document status enabled on tables outside the out-of-box set
# description: |
#   Turning on Teams integration enables collaboration only for a fixed set of
#   system tables. Other system tables and custom tables need the unbound
#   action msdyn_SetTeamsDocumentStatus; until then users can pin the record
#   but the channel's file library does not appear in the app. Read from
#   EntityMetadata.IsMSTeamsIntegrationEnabled.
# custom:
#   id: TL-ENT-002
#   severity: medium
#   experience: [basic, enhanced]
#   scope: table
#   docs: https://learn.microsoft.com/dynamics365/customerengagement/on-premises/developer/integration-dev/teams-integration-using-code
#   remediation: |
#     Call the Web API action msdyn_SetTeamsDocumentStatus with Enable true and
#     LogicalEntityNames set to the table's logical name, after Teams
#     integration is turned on. Before that it does not stop the feature being
#     turned on (a warn under profile preflight); once the feature is on, or
#     under profile enabled, the table does not work with Teams (a fail).
#   automated_fix:
#     action: set-teams-document-status
#     description: >-
#       POST msdyn_SetTeamsDocumentStatus with Enable true and
#       LogicalEntityNames the table's logical name (a JSON array serialised as
#       a string), then re-read IsMSTeamsIntegrationEnabled; rollback calls it
#       with Enable false.
#   assumptions:
#     - >-
#       INFERENCE: EntityMetadata.IsMSTeamsIntegrationEnabled is the per-table
#       flag msdyn_SetTeamsDocumentStatus switches.
#     - >-
#       INFERENCE: Teams integration is on when organization.ismsteamsenabled
#       (Basic toggle) or ismsteamscollaborationenabled (Enhanced toggle) is
#       true; no public doc maps the toggles to columns.
#     - >-
#       INFERENCE: the logical names of the out-of-box tables the docs list by
#       display name are inferred: Agreement (msdyn_agreement), Case (incident),
#       Expense (msdyn_expense), Fulfillment Preference
#       (msdyn_fulfillmentpreference), Inventory Adjustment
#       (msdyn_inventoryadjustment), Inventory Transfer (msdyn_inventorytransfer),
#       Knowledge Article (knowledgearticle), Order (salesorder), Project
#       (msdyn_project), Purchase Order (msdyn_purchaseorder), Purchase Order
#       Receipt (msdyn_purchaseorderreceipt), Resource Request
#       (msdyn_resourcerequest), RMA (msdyn_rma), RMA Receipt (msdyn_rmareceipt),
#       RTV (msdyn_rtv), Sales Literature (salesliterature), Work Order
#       (msdyn_workorder).
ent_002(table) := {
	"id": "TL-ENT-002",
	"table": table,
	"status": "skip",
	"message": sprintf(
		"table %s is in the out-of-box Teams set (%s): it is enabled with the feature",
		[table, info.displayName],
	),
	"evidence": {"outOfBox": object.union(info, {"logicalName": table})},
} if {
	info := facts.out_of_box_tables[table]
} else := {
	"id": "TL-ENT-002",
	"table": table,
	"status": "pass",
	"message": sprintf("Teams document status is enabled for table %s", [table]),
	"evidence": {"table": m},
} if {
	input.environment.entities.status == "ok"
	m := _metadata[table]
	m.exists == true
	m.isMSTeamsIntegrationEnabled == true
} else := {
	"id": "TL-ENT-002",
	"table": table,
	"status": "fail",
	"message": sprintf(
		"Teams document status is not enabled for table %s, which is outside the out-of-box set, and %s: %s",
		[
			table, on.why,
			"users can pin its records but the channel file library does not appear; call msdyn_SetTeamsDocumentStatus for it",
		],
	),
	"evidence": {"table": m, "profile": input.options.profile, "teamsIntegration": on},
} if {
	input.environment.entities.status == "ok"
	m := _metadata[table]
	m.exists == true
	object.get(m, "isMSTeamsIntegrationEnabled", null) == false
	on := _teams_on_or_required
} else := {
	"id": "TL-ENT-002",
	"table": table,
	"status": "warn",
	"message": sprintf(
		"Teams document status is not enabled for table %s, which is outside the out-of-box set: %s%s",
		[
			table,
			concat(" ", [
				"this does not stop the feature being turned on, but once it is on the table's records show no channel file library;",
				"call msdyn_SetTeamsDocumentStatus for it after enabling",
			]),
			{true: "", false: " (whether Teams integration is on already could not be read from environment.organization)"}[_organization_readable],
		],
	),
	"evidence": {"table": m, "profile": "preflight", "teamsIntegration": _teams_state},
} if {
	input.environment.entities.status == "ok"
	m := _metadata[table]
	m.exists == true
	object.get(m, "isMSTeamsIntegrationEnabled", null) == false
	input.options.profile == "preflight"
} else := {
	"id": "TL-ENT-002",
	"table": table,
	"status": "skip",
	"message": sprintf("table %s does not exist; see TL-ENT-001", [table]),
	"evidence": {"table": m},
} if {
	input.environment.entities.status == "ok"
	m := _metadata[table]
	object.get(m, "exists", null) == false
} else := r if {
	input.environment.entities.status == "ok"
	not _metadata[table]
	r := _not_collected("TL-ENT-002", table)
} else := r if {
	p := lib.section_problems["environment.entities"]
	r := lib.table_problem_result("TL-ENT-002", table, p)
} else := r if {
	p := lib.profile_problem
	r := object.union(lib.option_result("TL-ENT-002", p), {"table": table})
} else := lib.table_undecided("TL-ENT-002", table)

default _organization_readable := false

_organization_readable if lib.usable(["environment.organization"])

# _teams_state says whether Teams integration is on in the environment, from
# the organization toggles; null values when the section cannot be read.
_teams_state := {
	"ismsteamsenabled": object.get(record, "ismsteamsenabled", null),
	"ismsteamscollaborationenabled": object.get(record, "ismsteamscollaborationenabled", null),
} if {
	input.environment.organization.status == "ok"
	record := input.environment.organization.record
	is_object(record)
} else := {"ismsteamsenabled": null, "ismsteamscollaborationenabled": null}

# _teams_on_or_required holds, with the reason, when a table without Teams
# document status is a failure: the profile requires the feature on, or
# the organization says it is on.
_teams_on_or_required := object.union(_teams_state, {"why": "profile enabled requires Teams integration on"}) if {
	input.options.profile == "enabled"
} else := object.union(state, {"why": "Teams integration is on in this environment"}) if {
	state := _teams_state
	true in [state.ismsteamsenabled == true, state.ismsteamscollaborationenabled == true]
}
