# METADATA
# title: Microsoft facts
# description: |
#   Identifiers, enumerations and lists the teamslink policies rely on, each
#   taken from the project's Microsoft facts reference (section numbers in the
#   comments). Facts that the reference marks INFERENCE or NOT CONFIRMED are
#   named as such here and listed in the assumptions of every rule using them.
package teamslink.facts

# Microsoft Teams service plan TEAMS1 (facts §9, CONFIRMED).
teams_service_plan_id := "57ff2da0-773e-42df-b2af-ffb7a2317929"

# Service plans of Dynamics 365 customer engagement apps, by servicePlanId
# (facts §9, Entra licensing service-plan reference, CONFIRMED ids).
# team_members marks the Team Members plan: the Basic collaboration page
# accepts it for using record linking, not among the licences for the feature.
ce_service_plans := {
	"2da8e897-7791-486b-b08f-cc63c8129df7": {
		"name": "DYN365_ENTERPRISE_SALES",
		"team_members": false,
		"inferred": false,
	},
	"88d83950-ff78-4e85-aa66-abfc787f8090": {
		"name": "DYN365_SALES_PRO",
		"team_members": false,
		"inferred": false,
	},
	"99340b49-fb81-4b1e-976b-8f2ae8e9394f": {
		"name": "DYN365_ENTERPRISE_CUSTOMER_SERVICE",
		"team_members": false,
		"inferred": false,
	},
	"6929f657-b31b-4947-b4ce-5066c3214f54": {
		"name": "DYN365_CUSTOMER_SERVICE_PRO",
		"team_members": false,
		"inferred": false,
	},
	"8c66ef8a-177f-4c0d-853c-d4f219331d09": {
		"name": "DYN365_ENTERPRISE_FIELD_SERVICE",
		"team_members": false,
		"inferred": false,
	},
	"d56f3deb-50d8-465a-bedb-f079817ccac1": {
		"name": "DYN365_ENTERPRISE_P1",
		"team_members": false,
		"inferred": false,
	},
	"6a54b05e-4fab-40e7-9828-428db3b336fa": {
		"name": "DYN365_ENTERPRISE_TEAM_MEMBERS",
		"team_members": true,
		"inferred": false,
	},
	# INFERENCE: Marketing and Project Operations count as customer engagement apps.
	"a3a4fa10-5092-401a-af30-0462a95a7ac8": {
		"name": "DYN365_MARKETING_APP",
		"team_members": false,
		"inferred": true,
	},
	"69f07c66-bee4-4222-b051-195095efee5b": {
		"name": "D365_ProjectOperations",
		"team_members": false,
		"inferred": true,
	},
}

# Dynamics 365 customer engagement SKUs, by skuId (facts §9, CONFIRMED ids).
ce_skus := {
	"1e1a282c-9c54-43a2-9310-98ef728faace": {"name": "DYN365_ENTERPRISE_SALES", "team_members": false},
	"2edaa1dc-966d-4475-93d6-8ee8dfd96877": {"name": "DYN365_SALES_PREMIUM", "team_members": false},
	"be9f9771-1c64-4618-9907-244325141096": {"name": "D365_SALES_PRO", "team_members": false},
	"749742bf-0d37-4158-a120-33567104deeb": {"name": "DYN365_ENTERPRISE_CUSTOMER_SERVICE", "team_members": false},
	"1439b6e2-5d59-4873-8c59-d60e2a196e92": {"name": "DYN365_CUSTOMER_SERVICE_PRO", "team_members": false},
	"c7d15985-e746-4f01-b113-20b575898250": {"name": "DYN365_ENTERPRISE_FIELD_SERVICE", "team_members": false},
	"ea126fc5-a19e-42e2-a731-da9d437bffcf": {"name": "DYN365_ENTERPRISE_PLAN1", "team_members": false},
	"8edc2cf8-6438-4fa9-b6e3-aa1660c640cc": {"name": "DYN365_ENTERPRISE_SALES_CUSTOMERSERVICE", "team_members": false},
	"8e7a3d30-d97d-43ab-837c-d7701cef83dc": {"name": "DYN365_ENTERPRISE_TEAM_MEMBERS", "team_members": true},
	"6c75fb1b-61f2-42d0-b1b8-6492ca9ae159": {"name": "Dynamics_365_Multi_app_", "team_members": false},
	"4b32a493-9a67-4649-8eb9-9fc5a5f75c12": {"name": "D365_MARKETING_USER", "team_members": false},
}

# Government-cloud customer engagement SKUs, by skuPartNumber: the facts
# reference names them but does not give their full skuIds (facts §9).
ce_gov_sku_part_numbers := {
	"DYN365_ENTERPRISE_SALES_GOV",
	"D365_ENTERPRISE_SALES_GOV",
	"DYN365_ENTERPRISE_CUSTOMER_SERVICE_GOV",
	"D365_SALES_PRO_GOV",
	"D365_ENTERPRISE_FIELD_SERVICE_GOV",
	"D365_ENTERPRISE_PROJECT_SERVICE_AUTOMATION_GOV",
	"DYN365_ENTERPRISE_PROJECT_SERVICE_AUTOMATION_GOV",
}

# Dataverse System Administrator security role template id (facts §8, CONFIRMED).
system_administrator_role_template_id := "627090ff-40a3-4053-8790-584edc5be201"

# Entra Global Administrator role template id (facts §9, CONFIRMED).
global_administrator_role_template_id := "62e90394-69f5-4237-9190-012177145e10"

# Entra Teams Administrator role template id. INFERENCE: the facts reference
# does not give it; this is the id Entra's built-in roles list for Teams
# Administrator. The FAQ says Teams admin privileges are not enough (facts §0).
teams_administrator_role_template_id := "69091246-20e8-4a56-aa4d-066075b2a7a8"

# The privileges pinning a record needs (fleet facts §2b): Create, Read,
# Write, Append, AppendTo and Delete on SharePoint Site and Document Location
# (CONFIRMED), named prv<Verb><SchemaName> (INFERENCE; resolved by name at run
# time, and a name the environment does not know is reported). Written out,
# not built: every environment's evaluation reads it.
pin_privileges := [
	"prvCreateSharePointSite", "prvReadSharePointSite", "prvWriteSharePointSite",
	"prvAppendSharePointSite", "prvAppendToSharePointSite", "prvDeleteSharePointSite",
	"prvCreateSharePointDocumentLocation", "prvReadSharePointDocumentLocation", "prvWriteSharePointDocumentLocation",
	"prvAppendSharePointDocumentLocation", "prvAppendToSharePointDocumentLocation", "prvDeleteSharePointDocumentLocation",
]

# The error users see without them (facts §6, CONFIRMED).
pin_privileges_error := "User does not have permissions to create SharePoint Site or Document Location"

# Entra group settings (fleet facts §2a, CONFIRMED): the template of the
# tenant-wide Group.Unified settings object, and the values that make team
# or channel creation from the Collaborate button fail when set.
group_unified_template_id := "62375ab9-6b52-47ed-826b-58e47e0e304b"

group_naming_values := {
	"prefixSuffix": "PrefixSuffixNamingRequirement",
	"blockedWords": "CustomBlockedWordsList",
}

# The collaboration enterprise app. The display name is CONFIRMED (facts §0);
# the appId is NOT CONFIRMED officially, community-sourced (facts §9).
collaboration_app := {
	"displayName": "Dynamics 365 Microsoft Teams Collaboration Integration",
	"appId": "a8adde6c-aeb4-4fd6-9d8f-c2dfdecac60a",
}

# Delegated scopes the collaboration app must hold by admin consent (facts §0).
required_consent_scopes := ["Group.ReadWrite.All", "User.Read.All"]

# organization.sharepointdeploymenttype options (facts §1).
sharepoint_deployment_online := 0

sharepoint_deployment_on_premises := 1

# sharepointsite choices (facts §2): the columns of a default site that is an
# active SharePoint site that validated, in one object so that a rule reads
# them with one reference.
valid_default_site := {"servicetype": 0, "statecode": 0, "validationstatus": 4}

site_service_type_sharepoint := valid_default_site.servicetype

site_state_active := valid_default_site.statecode

site_validation_valid := valid_default_site.validationstatus

# SharePoint Online ConditionalAccessPolicy values (facts §10, §6).
conditional_access_policies := {
	"AllowFullAccess": {"value": 0, "status": "pass"},
	"AllowLimitedAccess": {"value": 1, "status": "warn"},
	"BlockAccess": {"value": 2, "status": "fail"},
	"AuthenticationContext": {"value": 3, "status": "warn"},
}

# Tables Microsoft Teams collaboration supports out of the box (facts §5). The
# docs list items verbatim (displayName); the list mixes logical and display
# names. logicalNameInferred is false where the item, lower-cased, is itself the
# logical name, and true where the logical name is INFERENCE from a display name.
out_of_box_tables := {
	"account": {"displayName": "Account", "logicalNameInferred": false},
	"msdyn_agreement": {"displayName": "Agreement", "logicalNameInferred": true},
	"annotation": {"displayName": "Annotation", "logicalNameInferred": false},
	"appointment": {"displayName": "Appointment", "logicalNameInferred": false},
	"businessunit": {"displayName": "Businessunit", "logicalNameInferred": false},
	"campaign": {"displayName": "Campaign", "logicalNameInferred": false},
	"incident": {"displayName": "Case", "logicalNameInferred": true},
	"category": {"displayName": "Category", "logicalNameInferred": false},
	"competitor": {"displayName": "Competitor", "logicalNameInferred": false},
	"contact": {"displayName": "Contact", "logicalNameInferred": false},
	"email": {"displayName": "Email", "logicalNameInferred": false},
	"msdyn_expense": {"displayName": "Expense", "logicalNameInferred": true},
	"msdyn_fulfillmentpreference": {"displayName": "Fulfillment Preference", "logicalNameInferred": true},
	"msdyn_inventoryadjustment": {"displayName": "Inventory Adjustment", "logicalNameInferred": true},
	"msdyn_inventorytransfer": {"displayName": "Inventory Transfer", "logicalNameInferred": true},
	"invoice": {"displayName": "Invoice", "logicalNameInferred": false},
	"kbarticle": {"displayName": "Kbarticle", "logicalNameInferred": false},
	"knowledgearticle": {"displayName": "Knowledge Article", "logicalNameInferred": true},
	"lead": {"displayName": "Lead", "logicalNameInferred": false},
	"opportunity": {"displayName": "Opportunity", "logicalNameInferred": false},
	"opportunityproduct": {"displayName": "Opportunity product", "logicalNameInferred": false},
	"salesorder": {"displayName": "Order", "logicalNameInferred": true},
	"product": {"displayName": "Product", "logicalNameInferred": false},
	"msdyn_project": {"displayName": "Project", "logicalNameInferred": true},
	"msdyn_purchaseorder": {"displayName": "Purchase Order", "logicalNameInferred": true},
	"msdyn_purchaseorderreceipt": {"displayName": "Purchase Order Receipt", "logicalNameInferred": true},
	"quote": {"displayName": "Quote", "logicalNameInferred": false},
	"msdyn_resourcerequest": {"displayName": "Resource Request", "logicalNameInferred": true},
	"msdyn_rma": {"displayName": "RMA", "logicalNameInferred": true},
	"msdyn_rmareceipt": {"displayName": "RMA Receipt", "logicalNameInferred": true},
	"msdyn_rtv": {"displayName": "RTV", "logicalNameInferred": true},
	"salesliterature": {"displayName": "Sales Literature", "logicalNameInferred": true},
	"task": {"displayName": "Task", "logicalNameInferred": false},
	"team": {"displayName": "Team", "logicalNameInferred": false},
	"msdyn_workorder": {"displayName": "Work Order", "logicalNameInferred": true},
}

# Valid values of input.options.
experiences := {"basic", "enhanced"}

profiles := {"preflight", "enabled"}
