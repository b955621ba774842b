# METADATA
# title: Test fixtures
# description: |
#   The compliant base input every Rego unit test patches with json.patch
#   (it mirrors testdata/snapshots/ready.json; a Go test keeps the two equal),
#   and the assertion helpers the tests share.
package teamslink.test

# base_input is one compliant environment: tenant and environment from the
# ready snapshot, options {experience: enhanced, profile: preflight,
# tables: [account, contact, new_project]}.
base_input := {
	"tenant": {
		"id": "3f2b8c1e-6d4a-4b7e-9a15-2c8d0e7f4a61",
		"name": "Contoso",
		"cloud": "public",
		"licenses": {
			"status": "ok",
			"httpStatus": 200,
			"source": "GET https://graph.microsoft.com/v1.0/subscribedSkus?$select=skuId,skuPartNumber,capabilityStatus,servicePlans",
			"collectedAt": "2026-11-02T09:15:00Z",
			"skus": [
				{
					"skuId": "1e1a282c-9c54-43a2-9310-98ef728faace",
					"skuPartNumber": "DYN365_ENTERPRISE_SALES",
					"capabilityStatus": "Enabled",
					"servicePlans": [
						{
							"servicePlanId": "2da8e897-7791-486b-b08f-cc63c8129df7",
							"servicePlanName": "DYN365_ENTERPRISE_SALES",
							"provisioningStatus": "Success",
						},
					],
				},
				{
					"skuId": "05e9a617-0261-4cee-bb44-138d3ef5d965",
					"skuPartNumber": "SPE_E3",
					"capabilityStatus": "Enabled",
					"servicePlans": [
						{
							"servicePlanId": "57ff2da0-773e-42df-b2af-ffb7a2317929",
							"servicePlanName": "TEAMS1",
							"provisioningStatus": "Success",
						},
						{
							"servicePlanId": "5dbe027f-2339-4123-9542-606e4d348a72",
							"servicePlanName": "SHAREPOINTENTERPRISE",
							"provisioningStatus": "Success",
						},
					],
				},
			],
		},
		"consent": {
			"status": "ok",
			"httpStatus": 200,
			"source": "GET https://graph.microsoft.com/v1.0/servicePrincipals(appId='a8adde6c-aeb4-4fd6-9d8f-c2dfdecac60a')?$select=id,appId,displayName",
			"collectedAt": "2026-11-02T09:15:00Z",
			"servicePrincipal": {
				"id": "b7d1e0a4-2f6c-4e19-8c3a-5e9f1d2b7a40",
				"appId": "a8adde6c-aeb4-4fd6-9d8f-c2dfdecac60a",
				"displayName": "Dynamics 365 Microsoft Teams Collaboration Integration",
				"matchedBy": "appId",
			},
			"graphServicePrincipalId": "6c2f9e11-8b3d-4a7f-b5e2-0d4c8a9f3e17",
			"grants": [
				{
					"id": "pNHRt2wvGU6MOl6fHSt6QBGe4mw9i39KteINTIqfPhc",
					"clientId": "b7d1e0a4-2f6c-4e19-8c3a-5e9f1d2b7a40",
					"consentType": "AllPrincipals",
					"principalId": null,
					"resourceId": "6c2f9e11-8b3d-4a7f-b5e2-0d4c8a9f3e17",
					"scope": "User.Read.All Group.ReadWrite.All",
				},
			],
		},
		"caller": {
			"status": "ok",
			"httpStatus": 200,
			"source": "GET https://graph.microsoft.com/v1.0/me/memberOf/microsoft.graph.directoryRole?$select=roleTemplateId,displayName",
			"collectedAt": "2026-11-02T09:15:00Z",
			"objectId": "0a7c3e52-91d8-4f6b-a2e4-7b5d9c1f8e36",
			"userPrincipalName": "admin@contoso.onmicrosoft.com",
			"type": "user",
			"directoryRoles": [
				{
					"roleTemplateId": "62e90394-69f5-4237-9190-012177145e10",
					"displayName": "Global Administrator",
				},
			],
		},
		"sharePoint": {
			"status": "ok",
			"httpStatus": 200,
			"source": "GET https://contoso-admin.sharepoint.com/_api/SPO.Tenant",
			"collectedAt": "2026-11-02T09:15:00Z",
			"adminUrl": "https://contoso-admin.sharepoint.com",
			"conditionalAccessPolicy": "AllowFullAccess",
			"conditionalAccessPolicyRaw": "0",
		},
		"groupSettings": {
			"status": "ok",
			"httpStatus": 200,
			"source": "GET https://graph.microsoft.com/v1.0/groupSettings",
			"collectedAt": "2026-11-02T09:15:00Z",
			"settings": [],
		},
	},
	"environment": {
		"tenantId": "3f2b8c1e-6d4a-4b7e-9a15-2c8d0e7f4a61",
		"url": "https://contoso-sales.crm.dynamics.com",
		"id": "9d3e5f7a-1b2c-4d6e-8f0a-3c5e7a9b1d24",
		"name": "Contoso Sales",
		"experience": "enhanced",
		"targetTables": [
			"account",
			"contact",
			"new_project",
		],
		"organization": {
			"status": "ok",
			"httpStatus": 200,
			"source": "GET https://contoso-sales.crm.dynamics.com/api/data/v9.2/organizations?$select=organizationid,sharepointdeploymenttype,isonedriveenabled,ismsteamsenabled,ismsteamscollaborationenabled,ismsteamsusersyncenabled,ismsteamssettingchangedbyuser,isfolderautocreatedonsp",
			"collectedAt": "2026-11-02T09:15:00Z",
			"record": {
				"@odata.etag": "W/\"48213377\"",
				"organizationid": "9d3e5f7a-1b2c-4d6e-8f0a-3c5e7a9b1d24",
				"sharepointdeploymenttype": null,
				"isonedriveenabled": false,
				"ismsteamsenabled": false,
				"ismsteamscollaborationenabled": false,
				"ismsteamsusersyncenabled": false,
				"ismsteamssettingchangedbyuser": false,
				"isfolderautocreatedonsp": false,
			},
		},
		"sharePointSites": {
			"status": "ok",
			"httpStatus": 200,
			"source": "GET https://contoso-sales.crm.dynamics.com/api/data/v9.2/sharepointsites?$select=sharepointsiteid,name,absoluteurl,relativeurl,isdefault,servicetype,statecode,validationstatus&$filter=statecode eq 0&$orderby=isdefault desc&$count=true",
			"collectedAt": "2026-11-02T09:15:00Z",
			"activeCount": 0,
			"countLimitExceeded": false,
			"defaultSite": null,
			"sample": [],
		},
		"documentLocations": {
			"status": "ok",
			"httpStatus": 200,
			"source": "GET https://contoso-sales.crm.dynamics.com/api/data/v9.2/sharepointdocumentlocations?$select=sharepointdocumentlocationid,name,absoluteurl,relativeurl,_parentsiteorlocation_value,_regardingobjectid_value,servicetype,locationtype,statecode&$filter=absoluteurl ne null and servicetype ne 3&$count=true",
			"collectedAt": "2026-11-02T09:15:00Z",
			"absoluteUrlCount": 0,
			"countLimitExceeded": false,
			"sample": [],
		},
		"entities": {
			"status": "ok",
			"httpStatus": 200,
			"source": "GET https://contoso-sales.crm.dynamics.com/api/data/v9.2/EntityDefinitions?$select=LogicalName,MetadataId,IsCustomEntity,IsDocumentManagementEnabled,IsMSTeamsIntegrationEnabled&$filter=LogicalName eq 'account' or LogicalName eq 'contact' or LogicalName eq 'new_project'",
			"collectedAt": "2026-11-02T09:15:00Z",
			"tables": [
				{
					"logicalName": "account",
					"exists": true,
					"metadataId": "70816501-edb9-4740-a16c-6a5efbc05d84",
					"isCustomEntity": false,
					"isDocumentManagementEnabled": true,
					"isMSTeamsIntegrationEnabled": false,
				},
				{
					"logicalName": "contact",
					"exists": true,
					"metadataId": "608861bc-50a4-4c5f-a02c-21fe1943e2cf",
					"isCustomEntity": false,
					"isDocumentManagementEnabled": true,
					"isMSTeamsIntegrationEnabled": false,
				},
				{
					"logicalName": "new_project",
					"exists": true,
					"metadataId": "c41e9a7b-3d52-4f08-9e6a-1b7d2c8f5a93",
					"isCustomEntity": true,
					"isDocumentManagementEnabled": true,
					"isMSTeamsIntegrationEnabled": true,
				},
			],
		},
		"caller": {
			"status": "ok",
			"httpStatus": 200,
			"source": "GET https://contoso-sales.crm.dynamics.com/api/data/v9.2/systemusers(5e8a2c4f-7d1b-4e93-a6c0-2f9b8d3e1a57)/systemuserroles_association?$select=name,roleid,_roletemplateid_value",
			"collectedAt": "2026-11-02T09:15:00Z",
			"userId": "5e8a2c4f-7d1b-4e93-a6c0-2f9b8d3e1a57",
			"businessUnitId": "e2b7c9d4-6a1f-4e8b-93c5-0d7f2a4b6e81",
			"roles": [
				{
					"roleId": "a1c3e5f7-2b4d-4f6a-8c0e-9d1b3f5a7c92",
					"name": "System Administrator",
					"roleTemplateId": "627090ff-40a3-4053-8790-584edc5be201",
					"via": "user",
				},
			],
		},
		"rolePrivileges": {
			"status": "ok",
			"httpStatus": 200,
			"source": "GET https://contoso-sales.crm.dynamics.com/api/data/v9.2/privileges?$select=privilegeid,name&$filter=name eq 'prvCreateSharePointSite' or name eq 'prvReadSharePointSite' or name eq 'prvWriteSharePointSite' or name eq 'prvAppendSharePointSite' or name eq 'prvAppendToSharePointSite' or name eq 'prvDeleteSharePointSite' or name eq 'prvCreateSharePointDocumentLocation' or name eq 'prvReadSharePointDocumentLocation' or name eq 'prvWriteSharePointDocumentLocation' or name eq 'prvAppendSharePointDocumentLocation' or name eq 'prvAppendToSharePointDocumentLocation' or name eq 'prvDeleteSharePointDocumentLocation'",
			"collectedAt": "2026-11-02T09:15:00Z",
			"privileges": [
				{
					"privilegeId": "5317562c-a9c8-5f51-8950-bba971cfb99c",
					"name": "prvCreateSharePointSite",
				},
				{
					"privilegeId": "9de15cc7-c73a-5632-929e-66956acaeb6a",
					"name": "prvReadSharePointSite",
				},
				{
					"privilegeId": "ff3c00cf-8e8b-539c-ada3-d7a9dbc58e11",
					"name": "prvWriteSharePointSite",
				},
				{
					"privilegeId": "e0043ec5-e6cf-56ca-9112-cb81162ffd7f",
					"name": "prvAppendSharePointSite",
				},
				{
					"privilegeId": "795916ae-0a6a-5ef7-86ec-59a1bf79b263",
					"name": "prvAppendToSharePointSite",
				},
				{
					"privilegeId": "ad1f88e3-f15b-5e91-8ef4-156ad556aee0",
					"name": "prvDeleteSharePointSite",
				},
				{
					"privilegeId": "662881cd-3042-5cb7-978c-f4722006fad4",
					"name": "prvCreateSharePointDocumentLocation",
				},
				{
					"privilegeId": "d41b3093-d949-5def-8eed-a1802de95c0e",
					"name": "prvReadSharePointDocumentLocation",
				},
				{
					"privilegeId": "350621ee-d6a4-55a1-b3c0-b4cb2aa25e0e",
					"name": "prvWriteSharePointDocumentLocation",
				},
				{
					"privilegeId": "051ee565-0995-5cf9-a641-58c9f69599d5",
					"name": "prvAppendSharePointDocumentLocation",
				},
				{
					"privilegeId": "a85fe8ab-2232-5a9f-b4a1-cfc83ea87f16",
					"name": "prvAppendToSharePointDocumentLocation",
				},
				{
					"privilegeId": "fb1b2d7f-356c-5555-bb09-9eb47941e045",
					"name": "prvDeleteSharePointDocumentLocation",
				},
			],
			"enabledUserCount": 1,
			"enabledUserCountLimitExceeded": false,
			"roles": [
				{
					"roleId": "a1c3e5f7-2b4d-4f6a-8c0e-9d1b3f5a7c92",
					"name": "System Administrator",
					"roleTemplateId": "627090ff-40a3-4053-8790-584edc5be201",
					"userCount": 1,
					"privileges": [
						"prvCreateSharePointSite",
						"prvReadSharePointSite",
						"prvWriteSharePointSite",
						"prvAppendSharePointSite",
						"prvAppendToSharePointSite",
						"prvDeleteSharePointSite",
						"prvCreateSharePointDocumentLocation",
						"prvReadSharePointDocumentLocation",
						"prvWriteSharePointDocumentLocation",
						"prvAppendSharePointDocumentLocation",
						"prvAppendToSharePointDocumentLocation",
						"prvDeleteSharePointDocumentLocation",
					],
				},
			],
			"truncated": [],
		},
	},
	"options": {
		"experience": "enhanced",
		"profile": "preflight",
		"tables": [
			"account",
			"contact",
			"new_project",
		],
	},
}

# patched applies JSON Patch operations to the base input.
patched(ops) := json.patch(base_input, ops)

# replace is a JSON Patch replace operation.
replace(path, value) := {"op": "replace", "path": path, "value": value}

# add is a JSON Patch add operation.
add(path, value) := {"op": "add", "path": path, "value": value}

# remove is a JSON Patch remove operation.
remove(path) := {"op": "remove", "path": path}

# section_error marks the section at path (e.g. "/environment/entities") as
# not read, as a collector does on HTTP 403.
section_error(path) := [
	replace(sprintf("%s/status", [path]), "error"),
	add(sprintf("%s/error", [path]), "Principal user is missing a privilege"),
	replace(sprintf("%s/httpStatus", [path]), 403),
]

# matching are the results for rule id, environment-scoped (no table).
matching(results, id) := [r | some r in results; r.id == id; not "table" in object.keys(r)]

# matching_table are the results for rule id on table.
matching_table(results, id, table) := [r | some r in results; r.id == id; r.table == table]

# one is the single result for rule id; undefined unless there is exactly one.
one(results, id) := only(matching(results, id))

# one_table is the single result for rule id on table.
one_table(results, id, table) := only(matching_table(results, id, table))

only(list) := list[0] if {
	count(list) == 1
}

# expect holds when results hold exactly one result for rule id with status.
# It prints what it found, shown when a test fails.
expect(results, id, status) if {
	found := matching(results, id)
	print("expect", id, status, "found:", found)
	count(found) == 1
	found[0].status == status
}

# expect_table is expect for a per-table rule.
expect_table(results, id, table, status) if {
	found := matching_table(results, id, table)
	print("expect", id, table, status, "found:", found)
	count(found) == 1
	found[0].status == status
}

# expect_section_error holds when the single result for rule id is an error
# naming the section path (e.g. "environment.documentLocations").
expect_section_error(results, id, section) if {
	expect(results, id, "error")
	r := one(results, id)
	r.evidence.section == section
	contains(r.message, section)
}

# expect_table_section_error is expect_section_error for a per-table rule.
expect_table_section_error(results, id, table, section) if {
	expect_table(results, id, table, "error")
	r := one_table(results, id, table)
	r.evidence.section == section
	contains(r.message, section)
}
