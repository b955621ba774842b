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
	some table in lib.array(object.get(input, ["options", "tables"], null))
}

results contains ent_002(table) if {
	some table in lib.array(object.get(input, ["options", "tables"], null))
}

_entities := ["environment.entities"]

_tables := lib.array(object.get(input, ["environment", "entities", "tables"], null))

# _metadata is the collected metadata of the table, undefined when the
# collector did not return it.
_metadata(table) := tables[0] if {
	tables := [t | some t in _tables; object.get(t, "logicalName", null) == table]
}

_not_collected(id, table) := lib.table_result(
	id,
	table,
	"error",
	sprintf("cannot assess: table %s was not collected into environment.entities", [table]),
	{
		"section": "environment.entities",
		"sectionStatus": "ok",
		"error": sprintf("no entry for table %s in environment.entities.tables", [table]),
		"httpStatus": null,
		"collectedTables": [object.get(t, "logicalName", null) | some t in _tables],
	},
)

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
ent_001(table) := r if {
	r := lib.table_error_result("TL-ENT-001", table, _entities)
} else := r if {
	not _metadata(table)
	r := _not_collected("TL-ENT-001", table)
} else := r if {
	m := _metadata(table)
	object.get(m, "exists", null) == false
	r := lib.table_result(
		"TL-ENT-001",
		table,
		"fail",
		sprintf("table %s does not exist in the environment", [table]),
		{"table": m},
	)
} else := r if {
	m := _metadata(table)
	m.exists == true
	object.get(m, "isDocumentManagementEnabled", null) == false
	r := lib.table_result(
		"TL-ENT-001",
		table,
		"fail",
		sprintf("document management is not enabled for table %s", [table]),
		{"table": m},
	)
} else := r if {
	m := _metadata(table)
	m.exists == true
	m.isDocumentManagementEnabled == true
	r := lib.table_result(
		"TL-ENT-001",
		table,
		"pass",
		sprintf("document management is enabled for table %s", [table]),
		{"table": m},
	)
} else := lib.table_undecided("TL-ENT-001", table)

_out_of_box(table) := object.union(facts.out_of_box_tables[table], {"logicalName": table})

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
#     integration is turned on.
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
ent_002(table) := r if {
	info := _out_of_box(table)
	r := lib.table_result(
		"TL-ENT-002",
		table,
		"skip",
		sprintf("table %s is in the out-of-box Teams set (%s): it is enabled with the feature", [table, info.displayName]),
		{"outOfBox": info},
	)
} else := r if {
	r := lib.table_error_result("TL-ENT-002", table, _entities)
} else := r if {
	not _metadata(table)
	r := _not_collected("TL-ENT-002", table)
} else := r if {
	m := _metadata(table)
	object.get(m, "exists", null) == false
	r := lib.table_result(
		"TL-ENT-002",
		table,
		"skip",
		sprintf("table %s does not exist; see TL-ENT-001", [table]),
		{"table": m},
	)
} else := r if {
	m := _metadata(table)
	m.exists == true
	object.get(m, "isMSTeamsIntegrationEnabled", null) == false
	r := lib.table_result(
		"TL-ENT-002",
		table,
		"fail",
		sprintf(
			"Teams document status is not enabled for table %s, which is outside the out-of-box set: %s",
			[table, "the channel file library will not appear"],
		),
		{"table": m},
	)
} else := r if {
	m := _metadata(table)
	m.exists == true
	m.isMSTeamsIntegrationEnabled == true
	r := lib.table_result(
		"TL-ENT-002",
		table,
		"pass",
		sprintf("Teams document status is enabled for table %s", [table]),
		{"table": m},
	)
} else := lib.table_undecided("TL-ENT-002", table)
