package emulator

import (
	"crypto/sha1"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/teamslink/teamslink/internal/emulator/query"
)

// column is one Dataverse column as the Web API names it.
type column struct {
	name     string
	typ      query.Type
	readOnly bool             // not writable through PATCH/POST
	choices  map[int64]string // valid option values and labels (choice columns)
	def      any              // value when a scenario row leaves it out
}

// entityType describes one Dataverse table the emulator serves.
type entityType struct {
	set     string // entity set name, e.g. sharepointsites
	logical string // logical name, e.g. sharepointsite
	key     string // primary key column
	columns []column
	index   map[string]*column
	navs    map[string]string // collection-valued navigation property → target set
	// binds maps single-valued navigation properties a write may set with
	// "<name>@odata.bind" to the lookup column they fill and the entity set
	// the bound URL must name ("" = any set).
	binds map[string]bind
	// derived, when set, makes the set a read-only intersect entity whose
	// rows are made from the environment's navigation links at each read.
	derived func(env *envState) []row
}

type bind struct{ column, set string }

func (et *entityType) column(name string) (*column, bool) {
	c, ok := et.index[name]
	return c, ok
}

// typeName is the OData type name error messages use.
func (et *entityType) typeName() string { return "Microsoft.Dynamics.CRM." + et.logical }

func (et *entityType) resolver() query.Resolver {
	return func(name string) (query.Type, bool) {
		c, ok := et.index[name]
		if !ok {
			return 0, false
		}
		return c.typ, true
	}
}

var (
	stateChoices  = map[int64]string{0: "Active", 1: "Inactive"}
	statusChoices = map[int64]string{1: "Active", 2: "Inactive"}
	// servicetype: facts §2 (global choice sharepointsite_servicetype).
	serviceTypeChoices = map[int64]string{0: "SharePoint", 1: "OneDrive", 2: "Shared with me", 3: "MS Teams"}
)

func boolCol(name string) column { return column{name: name, typ: query.Bool, def: false} }

func newEntityType(set, logical, key string, navs map[string]string, cols ...column) *entityType {
	common := []column{
		{name: "versionnumber", typ: query.Int, readOnly: true},
		{name: "createdon", typ: query.DateTime, readOnly: true},
		{name: "modifiedon", typ: query.DateTime, readOnly: true},
	}
	all := append([]column{{name: key, typ: query.GUID, readOnly: true}}, cols...)
	all = append(all, common...)
	et := &entityType{set: set, logical: logical, key: key, columns: all, index: map[string]*column{}, navs: navs}
	for i := range et.columns {
		et.index[et.columns[i].name] = &et.columns[i]
	}
	return et
}

// The tables, with the columns facts §1, §2 and §8 document.
var (
	organizationType = newEntityType("organizations", "organization", "organizationid", nil,
		column{name: "name", typ: query.String},
		column{name: "sharepointdeploymenttype", typ: query.Int, choices: map[int64]string{0: "Online", 1: "On-Premises"}},
		boolCol("isonedriveenabled"),
		boolCol("ismsteamsenabled"),
		boolCol("ismsteamscollaborationenabled"),
		boolCol("ismsteamsusersyncenabled"),
		boolCol("ismsteamssettingchangedbyuser"),
		boolCol("ismodeldrivenappsinmsteamsenabled"),
		boolCol("isautoinstallappford365inteamsenabled"),
		boolCol("iscollaborationexperienceenabled"),
		boolCol("teamschatdatasync"),
		boolCol("isfolderautocreatedonsp"),
		boolCol("isexternalfilestorageenabled"),
		boolCol("isofficegraphenabled"),
		boolCol("isnotificationford365inteamsenabled"),
	)
	siteType = newEntityType("sharepointsites", "sharepointsite", "sharepointsiteid", nil,
		column{name: "name", typ: query.String},
		column{name: "absoluteurl", typ: query.String},
		column{name: "relativeurl", typ: query.String},
		column{name: "_parentsite_value", typ: query.GUID, readOnly: true},
		boolCol("isdefault"),
		boolCol("isgridpresent"),
		boolCol("ispowerbisite"),
		column{name: "folderstructureentity", typ: query.String},
		column{name: "servicetype", typ: query.Int, choices: serviceTypeChoices, def: int64(0)},
		column{name: "statecode", typ: query.Int, choices: stateChoices, def: int64(0)},
		column{name: "statuscode", typ: query.Int, choices: statusChoices, def: int64(1)},
		column{name: "validationstatus", typ: query.Int, choices: map[int64]string{1: "Not Validated", 2: "In Progress", 3: "Invalid", 4: "Valid", 5: "Could not validate"}},
		column{name: "validationstatuserrorcode", typ: query.Int, choices: map[int64]string{1: "Not validated", 2: "Valid", 3: "Not valid", 4: "URL schemes differ", 5: "Could not be accessed", 6: "Authentication failure", 7: "Invalid certificates"}},
		column{name: "lastvalidated", typ: query.DateTime},
		column{name: "sitecollectionid", typ: query.GUID, readOnly: true},
	)
	locationType = withBinds(newEntityType("sharepointdocumentlocations", "sharepointdocumentlocation", "sharepointdocumentlocationid", nil,
		column{name: "name", typ: query.String},
		column{name: "absoluteurl", typ: query.String},
		column{name: "relativeurl", typ: query.String},
		column{name: "_parentsiteorlocation_value", typ: query.GUID, readOnly: true},
		column{name: "_regardingobjectid_value", typ: query.GUID, readOnly: true},
		column{name: "locationtype", typ: query.Int, choices: map[int64]string{0: "General", 1: "Dedicated for OneNote Integration"}, def: int64(0)},
		column{name: "servicetype", typ: query.Int, choices: serviceTypeChoices, def: int64(0)},
		column{name: "statecode", typ: query.Int, choices: stateChoices, def: int64(0)},
		column{name: "statuscode", typ: query.Int, choices: statusChoices, def: int64(1)},
		column{name: "sitecollectionid", typ: query.GUID, readOnly: true},
	), map[string]bind{
		"parentsiteorlocation_sharepointsite":             {"_parentsiteorlocation_value", "sharepointsites"},
		"parentsiteorlocation_sharepointdocumentlocation": {"_parentsiteorlocation_value", "sharepointdocumentlocations"},
		"regardingobjectid":                               {"_regardingobjectid_value", ""},
	})
	roleType = newEntityType("roles", "role", "roleid",
		map[string]string{"roleprivileges_association": "privileges"},
		column{name: "name", typ: query.String},
		column{name: "_roletemplateid_value", typ: query.GUID, readOnly: true},
		column{name: "_businessunitid_value", typ: query.GUID, readOnly: true},
	)
	teamType = newEntityType("teams", "team", "teamid",
		map[string]string{"teamroles_association": "roles", "teammembership_association": "systemusers"},
		column{name: "name", typ: query.String},
		column{name: "teamtype", typ: query.Int, def: int64(0)},
		column{name: "azureactivedirectoryobjectid", typ: query.GUID},
		column{name: "_businessunitid_value", typ: query.GUID, readOnly: true},
	)
	userType = newEntityType("systemusers", "systemuser", "systemuserid",
		map[string]string{"systemuserroles_association": "roles", "teammembership_association": "teams"},
		column{name: "fullname", typ: query.String},
		column{name: "domainname", typ: query.String},
		column{name: "azureactivedirectoryobjectid", typ: query.GUID},
		column{name: "applicationid", typ: query.GUID},
		column{name: "_businessunitid_value", typ: query.GUID, readOnly: true},
		boolCol("isdisabled"),
	)
	sdkMessageType = newEntityType("sdkmessages", "sdkmessage", "sdkmessageid", nil,
		column{name: "name", typ: query.String},
	)
	// privilegeType holds privileges by name (fleet facts §2b); buildEnv
	// seeds the SharePoint site and document location privileges.
	privilegeType = newEntityType("privileges", "privilege", "privilegeid", nil,
		column{name: "name", typ: query.String},
	)
	// The intersect entities of the many-to-many relationships (fleet facts
	// §2b: GET RetrieveMultiple only), made from the navigation links.
	userRoleType = derivedType(newEntityType("systemuserrolescollection", "systemuserroles", "systemuserroleid", nil,
		column{name: "systemuserid", typ: query.GUID, readOnly: true},
		column{name: "roleid", typ: query.GUID, readOnly: true},
	), func(env *envState) []row {
		return env.intersect("systemusers", "systemuserroles_association", "systemuserroleid", "systemuserid", "roleid", nil)
	})
	teamRoleType = derivedType(newEntityType("teamrolescollection", "teamroles", "teamroleid", nil,
		column{name: "teamid", typ: query.GUID, readOnly: true},
		column{name: "roleid", typ: query.GUID, readOnly: true},
	), func(env *envState) []row {
		return env.intersect("teams", "teamroles_association", "teamroleid", "teamid", "roleid", nil)
	})
	teamMembershipType = derivedType(newEntityType("teammemberships", "teammembership", "teammembershipid", nil,
		column{name: "systemuserid", typ: query.GUID, readOnly: true},
		column{name: "teamid", typ: query.GUID, readOnly: true},
	), func(env *envState) []row {
		return env.intersect("systemusers", "teammembership_association", "teammembershipid", "systemuserid", "teamid", nil)
	})
	rolePrivilegeType = derivedType(newEntityType("roleprivilegescollection", "roleprivileges", "roleprivilegeid", nil,
		column{name: "roleid", typ: query.GUID, readOnly: true},
		column{name: "privilegeid", typ: query.GUID, readOnly: true},
		// 1 Basic, 2 Local, 4 Deep, 8 Global (fleet facts §2b); the
		// emulator grants every privilege at Global depth.
		column{name: "privilegedepthmask", typ: query.Int, readOnly: true},
	), func(env *envState) []row {
		return env.intersect("roles", "roleprivileges_association", "roleprivilegeid", "roleid", "privilegeid", row{"privilegedepthmask": int64(8)})
	})
)

func derivedType(et *entityType, rows func(env *envState) []row) *entityType {
	et.derived = rows
	return et
}

func withBinds(et *entityType, b map[string]bind) *entityType {
	et.binds = b
	return et
}

// bindFor returns the bind for a "<name>@odata.bind" key; regardingobjectid
// binds are named regardingobjectid_<table>.
func (et *entityType) bindFor(name string) (bind, bool) {
	if b, ok := et.binds[name]; ok {
		return b, true
	}
	if strings.HasPrefix(name, "regardingobjectid_") {
		b, ok := et.binds["regardingobjectid"]
		return b, ok
	}
	return bind{}, false
}

// entityTypes are the entity sets served, by set name.
var entityTypes = map[string]*entityType{}

func init() {
	for _, et := range []*entityType{organizationType, siteType, locationType, roleType, teamType, userType, sdkMessageType,
		privilegeType, userRoleType, teamRoleType, teamMembershipType, rolePrivilegeType} {
		entityTypes[et.set] = et
	}
}

// row is one Dataverse record: column → nil, string, bool, int64 or time.Time.
// Navigation collections are kept apart, in envState.links.
type row map[string]any

// convertValue turns a decoded YAML or JSON value into the column's Go
// representation. Empty strings become nil, as Dataverse stores them.
func convertValue(c *column, v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	switch c.typ {
	case query.String:
		s, ok := v.(string)
		if !ok {
			return nil, fmt.Errorf("column %s wants a string, got %s", c.name, kindOf(v))
		}
		if s == "" {
			return nil, nil
		}
		return s, nil
	case query.GUID:
		s, ok := v.(string)
		if !ok || !isGUID(s) {
			return nil, fmt.Errorf("column %s wants a GUID, got %s", c.name, describeValue(v))
		}
		return strings.ToLower(s), nil
	case query.Bool:
		b, ok := v.(bool)
		if !ok {
			return nil, fmt.Errorf("column %s wants true or false, got %s", c.name, describeValue(v))
		}
		return b, nil
	case query.Int:
		n, ok := toInt64(v)
		if !ok {
			return nil, fmt.Errorf("column %s wants a whole number, got %s", c.name, describeValue(v))
		}
		if c.choices != nil {
			if _, valid := c.choices[n]; !valid {
				return nil, fmt.Errorf("value %d of column %s is outside the valid range. Accepted Values: %s", n, c.name, choiceList(c.choices))
			}
		}
		return n, nil
	case query.DateTime:
		switch t := v.(type) {
		case time.Time:
			return t.UTC(), nil
		case string:
			parsed, err := time.Parse(time.RFC3339, t)
			if err != nil {
				return nil, fmt.Errorf("column %s wants an RFC 3339 date/time, got %q", c.name, t)
			}
			return parsed.UTC(), nil
		}
		return nil, fmt.Errorf("column %s wants an RFC 3339 date/time, got %s", c.name, kindOf(v))
	}
	return nil, fmt.Errorf("column %s has an unsupported type", c.name)
}

func choiceList(m map[int64]string) string {
	var keys []int64
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprint(k)
	}
	return strings.Join(parts, ",")
}

func toInt64(v any) (int64, bool) {
	switch n := v.(type) {
	case int:
		return int64(n), true
	case int64:
		return n, true
	case uint64:
		if n > math.MaxInt64 {
			return 0, false
		}
		return int64(n), true
	case int32:
		return int64(n), true
	case uint32:
		return int64(n), true
	case float64:
		if n != math.Trunc(n) || math.Abs(n) > 1<<53 {
			return 0, false
		}
		return int64(n), true
	}
	return 0, false
}

func kindOf(v any) string {
	switch v.(type) {
	case string:
		return "a string"
	case bool:
		return "a boolean"
	case int, int64, uint64, int32, uint32, float64:
		return "a number"
	case []any:
		return "a list"
	case map[string]any:
		return "a mapping"
	case nil:
		return "null"
	}
	return fmt.Sprintf("%T", v)
}

func describeValue(v any) string {
	switch x := v.(type) {
	case string:
		return fmt.Sprintf("%q", x)
	case nil:
		return "null"
	}
	return fmt.Sprintf("%v (%s)", v, kindOf(v))
}

// isGUID reports whether s is a GUID in 8-4-4-4-12 form.
func isGUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < 36; i++ {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')) {
				return false
			}
		}
	}
	return true
}

// derivedGUID is a stable, name-based GUID (the layout of an RFC 4122
// version-5 UUID) for ids a scenario leaves out.
func derivedGUID(parts ...string) string {
	h := sha1.Sum([]byte(strings.Join(parts, "\x00")))
	h[6] = (h[6] & 0x0f) | 0x50
	h[8] = (h[8] & 0x3f) | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", h[0:4], h[4:6], h[6:8], h[8:10], h[10:16])
}

// metadataProps are the EntityMetadata properties served by EntityDefinitions.
var metadataProps = []struct {
	name string
	typ  query.Type
	// complex properties ($select only; filter through /Value)
	complex bool
}{
	{"MetadataId", query.GUID, false},
	{"LogicalName", query.String, false},
	{"SchemaName", query.String, false},
	{"EntitySetName", query.String, false},
	{"ObjectTypeCode", query.Int, false},
	{"DisplayName", 0, true},
	{"IsCustomEntity", query.Bool, false},
	{"IsManaged", query.Bool, false},
	{"IsActivity", query.Bool, false},
	{"IsCustomizable", 0, true},
	{"IsDocumentManagementEnabled", query.Bool, false},
	{"IsMSTeamsIntegrationEnabled", query.Bool, false},
	{"IsOneNoteIntegrationEnabled", query.Bool, false},
}

func metadataResolver(name string) (query.Type, bool) {
	if name == "IsCustomizable/Value" {
		return query.Bool, true
	}
	for _, p := range metadataProps {
		if p.name == name && !p.complex {
			return p.typ, true
		}
	}
	return 0, false
}

func isMetadataProp(name string) bool {
	for _, p := range metadataProps {
		if p.name == name {
			return true
		}
	}
	return false
}
