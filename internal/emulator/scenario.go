package emulator

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"

	"github.com/teamslink/teamslink/internal/yamlguard"
)

// scenarioLimits bound what decoding a scenario file may cost
// (docs/emulator.md names them): 1 MiB, collections nested 32 deep, 500
// keys in a mapping, 16 documents, 250 000 nodes and 1 MiB of text with
// aliases expanded, no tags, 10 seconds. Rows in bulk come from generate,
// not from the file.
var scenarioLimits = yamlguard.Default

// Scenario is one tenant's state as the emulator serves it: its clients,
// the caller every token acts as, Graph objects, the SharePoint admin
// setting, its Dataverse environments, and the faults to inject.
// docs/emulator.md documents the YAML format.
type Scenario struct {
	// Name is the scenario's name (the file name without extension).
	Name        string `yaml:"-"`
	Description string `yaml:"description"`
	Tenant      Tenant `yaml:"tenant"`
	// TokenLifetime is a Go duration (default 1h): the expires_in of every
	// access token the tenant issues.
	TokenLifetime          string             `yaml:"tokenLifetime"`
	Clients                []Client           `yaml:"clients"`
	Caller                 Caller             `yaml:"caller"`
	SubscribedSKUs         []SKU              `yaml:"subscribedSkus"`
	ServicePrincipals      []ServicePrincipal `yaml:"servicePrincipals"`
	OAuth2PermissionGrants []PermissionGrant  `yaml:"oauth2PermissionGrants"`
	RoleAssignments        []RoleAssignment   `yaml:"roleAssignments"`
	// GroupSettings are the tenant-wide directory settings objects Graph
	// serves at /groupSettings (none by default, as in a new tenant).
	GroupSettings []GroupSetting `yaml:"groupSettings"`
	SharePoint    *SharePoint    `yaml:"sharePoint"`
	Environments  []Environment  `yaml:"environments"`
	// Discovery is how the Power Platform admin API and the Global
	// Discovery Service list the environments; nil lists every
	// environment as an enabled Production one.
	Discovery *Discovery `yaml:"discovery"`
	Faults    []Fault    `yaml:"faults"`
}

// Tenant identifies the Entra tenant.
type Tenant struct {
	ID   string `yaml:"id"`
	Name string `yaml:"name"`
	// Cloud is public (default), gcc, gcchigh, dod or china; it picks the
	// login and Graph hosts (facts §11).
	Cloud string `yaml:"cloud"`
	// Domains are extra names the tenant answers to in authority URLs
	// (e.g. contoso.onmicrosoft.com).
	Domains []string `yaml:"domains"`
}

// Client is an app registration that may get tokens with client credentials.
type Client struct {
	ClientID    string `yaml:"clientId"`
	DisplayName string `yaml:"displayName"`
	// Exactly one of Secret and SecretEnv (the name of an environment
	// variable holding the secret) is set.
	Secret    string `yaml:"secret"`
	SecretEnv string `yaml:"secretEnv"`
	// GraphPermissions are the Microsoft Graph permissions granted to the
	// client (with admin consent): the roles claim of its app-only Graph
	// tokens, the scp claim of its delegated ones. Unset grants what every
	// read of a scan needs (the emulator's own list, in auth.go); an empty
	// list grants none.
	GraphPermissions *[]string `yaml:"graphPermissions"`
}

// Caller is who every token issued in the tenant acts as.
type Caller struct {
	// Type is "app" (an application: app-only tokens, the normal case for
	// client credentials) or "user" (the emulator issues delegated tokens
	// for this user, so /me works).
	Type              string          `yaml:"type"`
	ObjectID          string          `yaml:"objectId"`
	UserPrincipalName string          `yaml:"userPrincipalName"`
	DisplayName       string          `yaml:"displayName"`
	DirectoryRoles    []DirectoryRole `yaml:"directoryRoles"`
}

// DirectoryRole is an activated Entra directory role the caller holds.
type DirectoryRole struct {
	// ID is the role's object id in the tenant; derived when empty.
	ID             string `yaml:"id"`
	RoleTemplateID string `yaml:"roleTemplateId"`
	DisplayName    string `yaml:"displayName"`
}

// SKU is one subscribedSku.
type SKU struct {
	SKUID            string        `yaml:"skuId"`
	SKUPartNumber    string        `yaml:"skuPartNumber"`
	CapabilityStatus string        `yaml:"capabilityStatus"`
	AppliesTo        string        `yaml:"appliesTo"`
	ConsumedUnits    int           `yaml:"consumedUnits"`
	PrepaidUnits     *Units        `yaml:"prepaidUnits"`
	ServicePlans     []ServicePlan `yaml:"servicePlans"`
}

// Units are a SKU's prepaid units.
type Units struct {
	Enabled   int `yaml:"enabled"`
	Suspended int `yaml:"suspended"`
	Warning   int `yaml:"warning"`
	LockedOut int `yaml:"lockedOut"`
}

// ServicePlan is one service plan in a SKU.
type ServicePlan struct {
	ServicePlanID      string `yaml:"servicePlanId"`
	ServicePlanName    string `yaml:"servicePlanName"`
	ProvisioningStatus string `yaml:"provisioningStatus"`
	AppliesTo          string `yaml:"appliesTo"`
}

// ServicePrincipal is an enterprise application in the tenant.
type ServicePrincipal struct {
	ID                     string `yaml:"id"`
	AppID                  string `yaml:"appId"`
	DisplayName            string `yaml:"displayName"`
	ServicePrincipalType   string `yaml:"servicePrincipalType"`
	AppOwnerOrganizationID string `yaml:"appOwnerOrganizationId"`
	AccountEnabled         *bool  `yaml:"accountEnabled"`
}

// PermissionGrant is one oauth2PermissionGrant.
type PermissionGrant struct {
	ID          string  `yaml:"id"`
	ClientID    string  `yaml:"clientId"`
	ConsentType string  `yaml:"consentType"`
	PrincipalID *string `yaml:"principalId"`
	ResourceID  string  `yaml:"resourceId"`
	Scope       string  `yaml:"scope"`
}

// RoleAssignment is a unifiedRoleAssignment beyond the caller's own roles
// (those are derived from Caller.DirectoryRoles).
type RoleAssignment struct {
	ID               string `yaml:"id"`
	PrincipalID      string `yaml:"principalId"`
	RoleDefinitionID string `yaml:"roleDefinitionId"`
	DirectoryScopeID string `yaml:"directoryScopeId"`
}

// GroupSetting is one directory settings object created from a template,
// e.g. Group.Unified (templateId 62375ab9-6b52-47ed-826b-58e47e0e304b).
type GroupSetting struct {
	// ID is the object id; derived when empty.
	ID          string `yaml:"id"`
	DisplayName string `yaml:"displayName"`
	TemplateID  string `yaml:"templateId"`
	// Values are served in order; every value is a string.
	Values []SettingValue `yaml:"values"`
}

// SettingValue is one name and value of a settings object.
type SettingValue struct {
	Name  string `yaml:"name"`
	Value string `yaml:"value"`
}

// SharePoint is the SharePoint Online admin endpoint of the tenant.
type SharePoint struct {
	// AdminURL is https://<tenant>-admin.sharepoint.com.
	AdminURL string `yaml:"adminUrl"`
	// ConditionalAccessPolicy is a name (AllowFullAccess, AllowLimitedAccess,
	// BlockAccess, AuthenticationContext) or its number 0–3 (facts §10).
	ConditionalAccessPolicy string `yaml:"conditionalAccessPolicy"`
	// Encoding is how /_api/SPO.Tenant returns it: number (default) or name.
	Encoding     string `yaml:"encoding"`
	AllowEditing *bool  `yaml:"allowEditing"`
	// AccessDenied makes the endpoint answer 403, as for a caller who is
	// not a SharePoint or Global administrator.
	AccessDenied bool `yaml:"accessDenied"`
}

// Row is one Dataverse record in a scenario: Web API property names
// (logical names, _<lookup>_value) to values, plus, for systemusers and
// teams, navigation properties listing related record ids.
type Row map[string]any

// Environment is one Dataverse environment.
type Environment struct {
	// URL is https://<org>.<region>.dynamics.com; its host (and the
	// <org>.api.<region> variant) serve the Web API.
	URL string `yaml:"url"`
	// TeamsDocumentStatusAction says whether the msdyn_SetTeamsDocumentStatus
	// action is installed (default true).
	TeamsDocumentStatusAction *bool `yaml:"teamsDocumentStatusAction"`
	Organization              Row   `yaml:"organization"`
	SharePointSites           []Row `yaml:"sharepointsites"`
	DocumentLocations         []Row `yaml:"sharepointdocumentlocations"`
	// SeedPrivileges (default true) seeds the SharePoint site and document
	// location privileges (pinPrivileges); false leaves only Privileges.
	SeedPrivileges *bool `yaml:"seedPrivileges"`
	// Privileges are added to the seeded ones; a role row
	// may list privileges it holds, by id or name, under
	// roleprivileges_association, and holds every privilege when it lists none.
	Privileges        []Row              `yaml:"privileges"`
	Roles             []Row              `yaml:"roles"`
	Teams             []Row              `yaml:"teams"`
	SystemUsers       []Row              `yaml:"systemusers"`
	EntityDefinitions []EntityDefinition `yaml:"entityDefinitions"`
	Generate          []Generator        `yaml:"generate"`
}

// seededPrivileges are the privileges the environment is seeded with.
func (env *Environment) seededPrivileges() []string {
	if env.SeedPrivileges != nil && !*env.SeedPrivileges {
		return nil
	}
	return pinPrivileges
}

// EntityDefinition is one table's metadata (EntityMetadata properties).
type EntityDefinition struct {
	LogicalName                 string `yaml:"LogicalName"`
	MetadataID                  string `yaml:"MetadataId"`
	SchemaName                  string `yaml:"SchemaName"`
	EntitySetName               string `yaml:"EntitySetName"`
	ObjectTypeCode              *int   `yaml:"ObjectTypeCode"`
	DisplayName                 string `yaml:"DisplayName"`
	IsCustomEntity              bool   `yaml:"IsCustomEntity"`
	IsManaged                   bool   `yaml:"IsManaged"`
	IsActivity                  bool   `yaml:"IsActivity"`
	IsCustomizable              *bool  `yaml:"IsCustomizable"`
	IsDocumentManagementEnabled bool   `yaml:"IsDocumentManagementEnabled"`
	IsMSTeamsIntegrationEnabled bool   `yaml:"IsMSTeamsIntegrationEnabled"`
	IsOneNoteIntegrationEnabled bool   `yaml:"IsOneNoteIntegrationEnabled"`
}

// Generator adds Count rows to a large table from a template row whose
// string values may contain {n} (1-based row number).
type Generator struct {
	Set   string `yaml:"set"`
	Count int    `yaml:"count"`
	Row   Row    `yaml:"row"`
}

// Fault is an injected failure.
type Fault struct {
	// Name labels the fault in the request log (default: its kind).
	Name  string     `yaml:"name"`
	Match FaultMatch `yaml:"match"`
	// Kind is latency, throttle, status, reset, drop-response, malformed,
	// truncate, oversize, omit-field, null-field, content-type,
	// expire-token, wrong-audience or tls.
	Kind string `yaml:"kind"`
	// Times is how often the fault fires; 0 means every matching request.
	Times int `yaml:"times"`
	// Skip lets the first Skip matching requests (handshakes, token
	// requests) through before the fault fires, to reach a later one such
	// as a follow-up $batch on the same path.
	Skip int `yaml:"skip"`
	// Delay is a Go duration (latency).
	Delay string `yaml:"delay"`
	// RetryAfter is the Retry-After value (throttle): seconds, possibly
	// fractional, or an HTTP date; "none" sends no Retry-After. Default "1".
	RetryAfter string `yaml:"retryAfter"`
	// Status is the HTTP status (status; default 503).
	Status int `yaml:"status"`
	// Size is the body size (oversize), e.g. 32MiB (the default).
	Size string `yaml:"size"`
	// Field is the JSON member removed (omit-field) or set to null
	// (null-field) wherever it is a key of an object in the body.
	Field string `yaml:"field"`
	// ContentType replaces the response's Content-Type (content-type;
	// default text/html, which also replaces the body with an HTML page).
	ContentType string `yaml:"contentType"`
}

// FaultMatch selects the requests a fault applies to; empty fields match all.
type FaultMatch struct {
	// Host matches the request host or any suffix of it after a dot.
	Host string `yaml:"host"`
	// Method is one method or several separated by commas; WRITE stands
	// for POST, PATCH, PUT and DELETE.
	Method string `yaml:"method"`
	// Path is a Go regular expression searched in the unescaped path and query.
	Path string `yaml:"path"`
	// Scope is any (default), outer (not inside a $batch) or inner (only
	// requests inside a $batch).
	Scope string `yaml:"scope"`
}

// Fault kinds.
const (
	FaultLatency     = "latency"
	FaultThrottle    = "throttle"
	FaultStatus      = "status"
	FaultReset       = "reset"
	FaultMalformed   = "malformed"
	FaultTruncate    = "truncate"
	FaultOversize    = "oversize"
	FaultOmitField   = "omit-field"
	FaultNullField   = "null-field"
	FaultContentType = "content-type"
	FaultExpireToken = "expire-token"
	// FaultDropResponse lets the service handle the request (a write is
	// made) and then aborts the connection before any answer: the client
	// cannot tell whether it happened.
	FaultDropResponse = "drop-response"
	// FaultWrongAudience and FaultTLS act before a request reaches a
	// service: on the token issued for a host, on the TLS handshake with
	// a host. They match by host only.
	FaultWrongAudience = "wrong-audience"
	FaultTLS           = "tls"
)

var faultKinds = []string{
	FaultLatency, FaultThrottle, FaultStatus, FaultReset, FaultDropResponse, FaultMalformed, FaultTruncate, FaultOversize,
	FaultOmitField, FaultNullField, FaultContentType, FaultExpireToken, FaultWrongAudience, FaultTLS,
}

// retryAfterNone is the throttle fault's retryAfter that sends no Retry-After.
const retryAfterNone = "none"

// Problem is one thing wrong with a scenario.
type Problem struct {
	Path    string // YAML path, e.g. environments[0].url
	Line    int    // 0 when unknown
	Message string
}

func (p Problem) String() string {
	var b strings.Builder
	if p.Line > 0 {
		fmt.Fprintf(&b, "line %d: ", p.Line)
	}
	if p.Path != "" {
		b.WriteString(p.Path + ": ")
	}
	b.WriteString(p.Message)
	return b.String()
}

// ScenarioError lists everything wrong with a scenario.
type ScenarioError struct {
	Scenario string
	// File is the scenario file, when it was loaded from one; the error
	// then reads file:line: path: message, one problem a line.
	File     string
	Problems []Problem
	// Err is the cause when the scenario was refused before decoding (a
	// *yamlguard.Error: too large, too deep, an alias bomb, a tag, a
	// decoder failure); nil for a decode or validation problem.
	Err error
}

func (e *ScenarioError) Error() string {
	lines := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		if e.File == "" {
			lines[i] = p.String()
			continue
		}
		var b strings.Builder
		b.WriteString(e.File)
		if p.Line > 0 {
			fmt.Fprintf(&b, ":%d", p.Line)
		}
		b.WriteString(": ")
		if p.Path != "" {
			b.WriteString(p.Path + ": ")
		}
		b.WriteString(p.Message)
		lines[i] = b.String()
	}
	if e.File != "" {
		return strings.Join(lines, "\n")
	}
	return fmt.Sprintf("scenario %q: %s", e.Scenario, strings.Join(lines, "; "))
}

// Unwrap returns Err, so errors.Is(err, yamlguard.ErrTooDeep) works.
func (e *ScenarioError) Unwrap() error { return e.Err }

// LoadScenario is LoadScenarioContext without a context.
func LoadScenario(path string) (*Scenario, error) {
	return LoadScenarioContext(context.Background(), path)
}

// LoadScenarioContext reads and validates a scenario file; its
// *ScenarioError names the file. It returns early, with an error that
// wraps ctx.Err(), when ctx is done.
func LoadScenarioContext(ctx context.Context, path string) (*Scenario, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("load scenario: %w", err)
	}
	defer f.Close()
	// One byte past the limit is enough for ParseScenarioContext to refuse it.
	data, err := io.ReadAll(io.LimitReader(f, int64(scenarioLimits.MaxBytes)+1))
	if err != nil {
		return nil, fmt.Errorf("load scenario %s: %w", path, err)
	}
	name := strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
	sc, err := ParseScenarioContext(ctx, data, name)
	var se *ScenarioError
	switch {
	case errors.As(err, &se):
		se.File = path
		return nil, se
	case err != nil:
		return nil, fmt.Errorf("load scenario %s: %w", path, err)
	}
	return sc, nil
}

// LoadScenarios is LoadScenariosContext without a context.
func LoadScenarios(dir string) ([]*Scenario, error) {
	return LoadScenariosContext(context.Background(), dir)
}

// LoadScenariosContext loads every *.yaml and *.yml file in dir, sorted by
// name. It returns early, with an error that wraps ctx.Err(), when ctx is
// done.
func LoadScenariosContext(ctx context.Context, dir string) ([]*Scenario, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("load scenarios %s: %w", dir, err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("load scenarios: %w", err)
	}
	var out []*Scenario
	for _, e := range entries {
		ext := filepath.Ext(e.Name())
		if e.IsDir() || (ext != ".yaml" && ext != ".yml") {
			continue
		}
		sc, err := LoadScenarioContext(ctx, filepath.Join(dir, e.Name()))
		if err != nil {
			return nil, err
		}
		out = append(out, sc)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("load scenarios: no *.yaml files in %s", dir)
	}
	return out, nil
}

var yamlPosRE = regexp.MustCompile(`^\[(\d+):(\d+)\]\s*(.*)$`)

// ParseScenario is ParseScenarioContext without a context.
func ParseScenario(data []byte, name string) (*Scenario, error) {
	return ParseScenarioContext(context.Background(), data, name)
}

// ParseScenarioContext decodes a scenario strictly (unknown keys are
// errors) and validates it. name labels errors and becomes Scenario.Name.
// A document past the limits above, or one go-yaml fails on, is refused as
// *ScenarioError before anything is decoded; when ctx is done first, the
// error wraps ctx.Err().
func ParseScenarioContext(ctx context.Context, data []byte, name string) (*Scenario, error) {
	var sc *Scenario
	err := scenarioLimits.Decode(ctx, data, func() error {
		var err error
		sc, err = parseScenario(data, name)
		return err
	})
	var ge *yamlguard.Error
	switch {
	case errors.As(err, &ge):
		return nil, &ScenarioError{Scenario: name, Problems: []Problem{{Line: ge.Line, Message: ge.Message}}, Err: ge}
	case ctx.Err() != nil && errors.Is(err, ctx.Err()):
		return nil, fmt.Errorf("scenario %q: %w", name, err)
	case err != nil:
		return nil, err
	}
	return sc, nil
}

// parseScenario is ParseScenarioContext once the document is known to be
// safe to decode.
func parseScenario(data []byte, name string) (*Scenario, error) {
	var sc Scenario
	if err := decodeStrict(data, &sc); err != nil {
		msg := yaml.FormatError(err, false, false)
		first, _, _ := strings.Cut(msg, "\n")
		p := Problem{Message: strings.TrimSpace(first)}
		if m := yamlPosRE.FindStringSubmatch(p.Message); m != nil {
			p.Line, _ = strconv.Atoi(m[1])
			p.Message = m[3]
		}
		return nil, &ScenarioError{Scenario: name, Problems: []Problem{p}}
	}
	sc.Name = name
	if err := sc.Validate(); err != nil {
		var se *ScenarioError
		if errors.As(err, &se) {
			if file, perr := parseAST(data); perr == nil {
				for i := range se.Problems {
					se.Problems[i].Line = lineOf(file, se.Problems[i].Path)
				}
				sort.SliceStable(se.Problems, func(i, j int) bool { return se.Problems[i].Line < se.Problems[j].Line })
			}
		}
		return nil, err
	}
	return &sc, nil
}

// decodeStrict decodes YAML with unknown keys as errors. A panic in the
// YAML library is recovered by yamlguard's Run, which calls this.
func decodeStrict(data []byte, v any) error {
	return yaml.UnmarshalWithOptions(data, v, yaml.Strict())
}

// parseAST parses YAML for line lookups, guarding against parser panics.
func parseAST(data []byte) (file *ast.File, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("parser failure: %v", r)
		}
	}()
	return parser.ParseBytes(data, 0)
}

// lineOf finds the line of a YAML path such as environments[0].url, trying
// shorter prefixes when the exact node is absent (a missing key).
func lineOf(file *ast.File, path string) (line int) {
	defer func() {
		if recover() != nil {
			line = 0
		}
	}()
	for p := path; p != ""; {
		yp, err := yaml.PathString("$." + p)
		if err == nil {
			if n, err := yp.FilterFile(file); err == nil && n != nil {
				return n.GetToken().Position.Line
			}
		}
		i := strings.LastIndexAny(p, ".[")
		if i <= 0 {
			break
		}
		p = p[:i]
	}
	return 0
}

// Validate checks the scenario and fills nothing in; New calls it for
// scenarios built in code.
func (sc *Scenario) Validate() error {
	v := &validator{}
	sc.validate(v)
	if len(v.problems) > 0 {
		return &ScenarioError{Scenario: sc.Name, Problems: v.problems}
	}
	return nil
}

type validator struct{ problems []Problem }

func (v *validator) add(path, format string, args ...any) {
	v.problems = append(v.problems, Problem{Path: path, Message: fmt.Sprintf(format, args...)})
}

func (v *validator) guid(path, value string, required bool) {
	switch {
	case value == "" && required:
		v.add(path, "required (a GUID)")
	case value != "" && !isGUID(value):
		v.add(path, "%q is not a GUID", value)
	}
}

func (v *validator) required(path, value string) {
	if strings.TrimSpace(value) == "" {
		v.add(path, "required")
	}
}

func (sc *Scenario) validate(v *validator) {
	v.guid("tenant.id", sc.Tenant.ID, true)
	if _, ok := cloudByName(sc.Tenant.Cloud); !ok {
		v.add("tenant.cloud", "unknown cloud %q (valid: %s)", sc.Tenant.Cloud, strings.Join(cloudNames, ", "))
	}
	for i, d := range sc.Tenant.Domains {
		if !validHost(d) {
			v.add(fmt.Sprintf("tenant.domains[%d]", i), "%q is not a domain name", d)
		}
	}
	if sc.TokenLifetime != "" {
		if d, err := time.ParseDuration(sc.TokenLifetime); err != nil || d < time.Second || d > 24*time.Hour {
			v.add("tokenLifetime", "%q is not a duration between 1s and 24h", sc.TokenLifetime)
		}
	}
	if len(sc.Clients) == 0 {
		v.add("clients", "at least one client is required")
	}
	seenClient := map[string]bool{}
	for i, c := range sc.Clients {
		p := fmt.Sprintf("clients[%d]", i)
		v.guid(p+".clientId", c.ClientID, true)
		if seenClient[strings.ToLower(c.ClientID)] {
			v.add(p+".clientId", "duplicate client %s", c.ClientID)
		}
		seenClient[strings.ToLower(c.ClientID)] = true
		switch {
		case c.Secret != "" && c.SecretEnv != "":
			v.add(p, "set secret or secretEnv, not both")
		case c.Secret == "" && c.SecretEnv == "":
			v.add(p, "secret or secretEnv is required")
		case c.SecretEnv != "" && os.Getenv(c.SecretEnv) == "":
			v.add(p+".secretEnv", "environment variable %s is not set", c.SecretEnv)
		}
	}
	switch sc.Caller.Type {
	case "app", "user":
	default:
		v.add("caller.type", "must be app or user, not %q", sc.Caller.Type)
	}
	v.guid("caller.objectId", sc.Caller.ObjectID, true)
	if sc.Caller.Type == "user" && !strings.Contains(sc.Caller.UserPrincipalName, "@") {
		v.add("caller.userPrincipalName", "a user caller needs a userPrincipalName (name@domain)")
	}
	for i, r := range sc.Caller.DirectoryRoles {
		p := fmt.Sprintf("caller.directoryRoles[%d]", i)
		v.guid(p+".id", r.ID, false)
		v.guid(p+".roleTemplateId", r.RoleTemplateID, true)
		v.required(p+".displayName", r.DisplayName)
	}
	for i, s := range sc.SubscribedSKUs {
		p := fmt.Sprintf("subscribedSkus[%d]", i)
		v.guid(p+".skuId", s.SKUID, true)
		v.required(p+".skuPartNumber", s.SKUPartNumber)
		for j, sp := range s.ServicePlans {
			q := fmt.Sprintf("%s.servicePlans[%d]", p, j)
			v.guid(q+".servicePlanId", sp.ServicePlanID, true)
			v.required(q+".servicePlanName", sp.ServicePlanName)
		}
	}
	seenSP := map[string]bool{}
	for i, s := range sc.ServicePrincipals {
		p := fmt.Sprintf("servicePrincipals[%d]", i)
		v.guid(p+".id", s.ID, true)
		v.guid(p+".appId", s.AppID, true)
		v.required(p+".displayName", s.DisplayName)
		v.guid(p+".appOwnerOrganizationId", s.AppOwnerOrganizationID, false)
		if seenSP[strings.ToLower(s.ID)] {
			v.add(p+".id", "duplicate service principal %s", s.ID)
		}
		seenSP[strings.ToLower(s.ID)] = true
	}
	for i, g := range sc.OAuth2PermissionGrants {
		p := fmt.Sprintf("oauth2PermissionGrants[%d]", i)
		v.required(p+".id", g.ID)
		v.guid(p+".clientId", g.ClientID, true)
		v.guid(p+".resourceId", g.ResourceID, true)
		switch g.ConsentType {
		case "AllPrincipals":
			if g.PrincipalID != nil {
				v.add(p+".principalId", "must be null for consentType AllPrincipals")
			}
		case "Principal":
			if g.PrincipalID == nil {
				v.add(p+".principalId", "required for consentType Principal")
			} else {
				v.guid(p+".principalId", *g.PrincipalID, true)
			}
		default:
			v.add(p+".consentType", "must be AllPrincipals or Principal, not %q", g.ConsentType)
		}
	}
	for i, a := range sc.RoleAssignments {
		p := fmt.Sprintf("roleAssignments[%d]", i)
		v.guid(p+".principalId", a.PrincipalID, true)
		v.guid(p+".roleDefinitionId", a.RoleDefinitionID, true)
	}
	seenTemplate := map[string]bool{}
	for i, gs := range sc.GroupSettings {
		p := fmt.Sprintf("groupSettings[%d]", i)
		v.guid(p+".id", gs.ID, false)
		v.guid(p+".templateId", gs.TemplateID, true)
		v.required(p+".displayName", gs.DisplayName)
		if seenTemplate[strings.ToLower(gs.TemplateID)] {
			v.add(p+".templateId", "a tenant has one settings object per template; %s appears twice", gs.TemplateID)
		}
		seenTemplate[strings.ToLower(gs.TemplateID)] = true
		for j, val := range gs.Values {
			v.required(fmt.Sprintf("%s.values[%d].name", p, j), val.Name)
		}
	}
	if s := sc.SharePoint; s != nil {
		if host, err := originHost(s.AdminURL); err != nil {
			v.add("sharePoint.adminUrl", "%v", err)
		} else if !strings.Contains(host, "-admin.") {
			v.add("sharePoint.adminUrl", "%q is not a SharePoint admin host (<tenant>-admin.sharepoint.com)", host)
		}
		if _, _, ok := parseCAPolicy(s.ConditionalAccessPolicy); !ok {
			v.add("sharePoint.conditionalAccessPolicy", "%q is not one of %s or 0–3", s.ConditionalAccessPolicy, strings.Join(caPolicyNames, ", "))
		}
		switch s.Encoding {
		case "", "number", "name":
		default:
			v.add("sharePoint.encoding", "must be number or name, not %q", s.Encoding)
		}
	}
	seenHost := map[string]bool{}
	for i := range sc.Environments {
		sc.Environments[i].validate(v, fmt.Sprintf("environments[%d]", i), seenHost)
	}
	if sc.Discovery != nil {
		sc.Discovery.validate(v)
	}
	for i, f := range sc.Faults {
		f.validate(v, fmt.Sprintf("faults[%d]", i))
	}
}

func (env *Environment) validate(v *validator, p string, seenHost map[string]bool) {
	host, err := originHost(env.URL)
	if err != nil {
		v.add(p+".url", "%v", err)
	} else {
		if seenHost[host] {
			v.add(p+".url", "duplicate environment host %s", host)
		}
		seenHost[host] = true
	}
	if env.Organization == nil {
		v.add(p+".organization", "required (the organization row, with organizationid)")
	} else {
		checkRow(v, p+".organization", organizationType, env.Organization, nil)
	}
	ids := map[string]map[string]bool{}
	collect := func(et *entityType, rows []Row, name string) {
		ids[et.set] = map[string]bool{}
		for i, r := range rows {
			rp := fmt.Sprintf("%s.%s[%d]", p, name, i)
			checkRow(v, rp, et, r, nil)
			if id, ok := r[et.key].(string); ok && isGUID(id) {
				id = strings.ToLower(id)
				if ids[et.set][id] {
					v.add(rp+"."+et.key, "duplicate id %s", id)
				}
				ids[et.set][id] = true
			}
		}
	}
	collect(privilegeType, env.Privileges, "privileges")
	privilegeNames := map[string]bool{}
	for _, name := range env.seededPrivileges() {
		privilegeNames[name] = true
	}
	for i, r := range env.Privileges {
		name, _ := r["name"].(string)
		rp := fmt.Sprintf("%s.privileges[%d].name", p, i)
		switch {
		case name == "":
			v.add(rp, "required (the privilege name, e.g. prvReadAccount)")
		case privilegeNames[name]:
			v.add(rp, "duplicate privilege %s (the SharePoint site and document location privileges are seeded)", name)
		}
		privilegeNames[name] = true
		if id, ok := r["privilegeid"].(string); ok && seededPrivilegeID(id) {
			v.add(fmt.Sprintf("%s.privileges[%d].privilegeid", p, i), "%s is the id of a seeded privilege", id)
		}
	}
	collect(siteType, env.SharePointSites, "sharepointsites")
	collect(locationType, env.DocumentLocations, "sharepointdocumentlocations")
	collect(roleType, env.Roles, "roles")
	collect(teamType, env.Teams, "teams")
	collect(userType, env.SystemUsers, "systemusers")
	// Navigation lists must name rows that exist.
	for _, sets := range []struct {
		et   *entityType
		rows []Row
		name string
	}{{roleType, env.Roles, "roles"}, {teamType, env.Teams, "teams"}, {userType, env.SystemUsers, "systemusers"}} {
		for i, r := range sets.rows {
			for nav, target := range sets.et.navs {
				list, ok := r[nav]
				if !ok {
					continue
				}
				rp := fmt.Sprintf("%s.%s[%d].%s", p, sets.name, i, nav)
				items, ok := list.([]any)
				if !ok {
					v.add(rp, "must be a list of %s ids", target)
					continue
				}
				for j, it := range items {
					s, ok := it.(string)
					if target == "privileges" && ok && (privilegeNames[s] || (seededPrivilegeID(s) && len(env.seededPrivileges()) > 0)) {
						continue // a privilege by name, or a seeded one by id
					}
					if !ok || !ids[target][strings.ToLower(s)] {
						v.add(fmt.Sprintf("%s[%d]", rp, j), "%v is not the id of a row in %s", it, target)
					}
				}
			}
		}
	}
	seenLogical := map[string]bool{}
	for i, d := range env.EntityDefinitions {
		dp := fmt.Sprintf("%s.entityDefinitions[%d]", p, i)
		v.required(dp+".LogicalName", d.LogicalName)
		v.guid(dp+".MetadataId", d.MetadataID, true)
		if seenLogical[d.LogicalName] {
			v.add(dp+".LogicalName", "duplicate table %s", d.LogicalName)
		}
		seenLogical[d.LogicalName] = true
	}
	total := 0
	for i, g := range env.Generate {
		gp := fmt.Sprintf("%s.generate[%d]", p, i)
		et, ok := entityTypes[g.Set]
		if !ok || (et != siteType && et != locationType) {
			v.add(gp+".set", "must be sharepointsites or sharepointdocumentlocations, not %q", g.Set)
			continue
		}
		if g.Count < 1 || g.Count > maxGenerated {
			v.add(gp+".count", "must be between 1 and %d", maxGenerated)
		}
		total += g.Count
		if _, has := g.Row[et.key]; has {
			v.add(gp+".row."+et.key, "generated rows get derived ids; leave %s out", et.key)
		}
		checkRow(v, gp+".row", et, g.Row, map[string]bool{et.key: true})
	}
	if total > maxGenerated {
		v.add(p+".generate", "at most %d generated rows per environment", maxGenerated)
	}
}

// maxGenerated bounds an environment's generated rows; they cost no memory
// (genSet), so the bound only keeps counts in range.
const maxGenerated = 10000000

// checkRow validates a scenario row against its table; optional names
// columns that may be absent (the key of generated rows).
func checkRow(v *validator, p string, et *entityType, r Row, optional map[string]bool) {
	if _, ok := r[et.key]; !ok && !optional[et.key] {
		v.add(p+"."+et.key, "required (a GUID)")
	}
	for _, k := range sortedKeys(r) {
		val := r[k]
		if _, isNav := et.navs[k]; isNav {
			continue
		}
		c, ok := et.column(k)
		if !ok {
			v.add(p+"."+k, "unknown column %q on %s (known: %s)", k, et.logical, columnNames(et))
			continue
		}
		if _, err := convertValue(c, val); err != nil {
			v.add(p+"."+k, "%v", err)
		}
	}
}

func columnNames(et *entityType) string {
	names := make([]string, 0, len(et.columns)+len(et.navs))
	for _, c := range et.columns {
		names = append(names, c.name)
	}
	for n := range et.navs {
		names = append(names, n)
	}
	return strings.Join(names, ", ")
}

func (f Fault) validate(v *validator, p string) {
	kindOK := false
	for _, k := range faultKinds {
		if f.Kind == k {
			kindOK = true
		}
	}
	if !kindOK {
		v.add(p+".kind", "unknown fault kind %q (valid: %s)", f.Kind, strings.Join(faultKinds, ", "))
	}
	if f.Times < 0 {
		v.add(p+".times", "must be 0 (always) or more")
	}
	if f.Skip < 0 {
		v.add(p+".skip", "must be 0 (fire from the first match) or more")
	}
	if f.Match.Path != "" {
		if _, err := regexp.Compile(f.Match.Path); err != nil {
			v.add(p+".match.path", "bad regular expression: %v", err)
		}
	}
	if m := f.Match.Method; m != "" && strings.ToUpper(m) != m {
		v.add(p+".match.method", "write the method in upper case, e.g. GET")
	}
	switch f.Match.Scope {
	case "", "any", "outer", "inner":
	default:
		v.add(p+".match.scope", "must be any, outer or inner, not %q", f.Match.Scope)
	}
	if f.Kind != FaultLatency && f.Delay != "" {
		v.add(p+".delay", "only latency faults take a delay")
	}
	if f.Kind != FaultThrottle && f.RetryAfter != "" {
		v.add(p+".retryAfter", "only throttle faults take retryAfter")
	}
	if f.Kind != FaultStatus && f.Status != 0 {
		v.add(p+".status", "only status faults take a status")
	}
	if f.Kind != FaultOversize && f.Size != "" {
		v.add(p+".size", "only oversize faults take a size")
	}
	if f.Kind != FaultOmitField && f.Kind != FaultNullField && f.Field != "" {
		v.add(p+".field", "only omit-field and null-field faults take a field")
	}
	if f.Kind != FaultContentType && f.ContentType != "" {
		v.add(p+".contentType", "only content-type faults take a contentType")
	}
	switch f.Kind {
	case FaultLatency:
		d, err := time.ParseDuration(f.Delay)
		if err != nil || d <= 0 || d > 5*time.Minute {
			v.add(p+".delay", "a latency fault needs a delay between 0s and 5m (Go duration), got %q", f.Delay)
		}
	case FaultThrottle:
		if f.RetryAfter != "" && f.RetryAfter != retryAfterNone && !validRetryAfter(f.RetryAfter) {
			v.add(p+".retryAfter", "%q is neither seconds, an HTTP date nor none", f.RetryAfter)
		}
	case FaultStatus:
		if f.Status != 0 && (f.Status < 400 || f.Status > 599) {
			v.add(p+".status", "must be an HTTP error status (400–599), got %d", f.Status)
		}
	case FaultOversize:
		if f.Size != "" {
			if n, err := parseSize(f.Size); err != nil || n < 1024 || n > 1<<30 {
				v.add(p+".size", "%q is not a size between 1KiB and 1GiB", f.Size)
			}
		}
	case FaultOmitField, FaultNullField:
		if strings.TrimSpace(f.Field) == "" {
			v.add(p+".field", "%s needs field: the JSON member to remove or set to null", f.Kind)
		}
	case FaultContentType:
		if f.ContentType != "" {
			if _, _, err := mime.ParseMediaType(f.ContentType); err != nil {
				v.add(p+".contentType", "%q is not a media type: %v", f.ContentType, err)
			}
		}
	case FaultTLS, FaultWrongAudience:
		// Neither sees an HTTP request: the handshake names only the host,
		// and the token is bound to the host it is for.
		if f.Match.Method != "" || f.Match.Path != "" || (f.Match.Scope != "" && f.Match.Scope != "any") {
			v.add(p+".match", "a %s fault matches by host only (match.host); method, path and scope do not apply", f.Kind)
		}
		if f.Kind == FaultTLS && f.Match.Host == "" {
			v.add(p+".match.host", "a tls fault needs match.host (the host whose handshake fails)")
		}
	}
}

func validRetryAfter(s string) bool {
	if f, err := strconv.ParseFloat(s, 64); err == nil {
		return f >= 0
	}
	_, err := http1Date(s)
	return err == nil
}

func http1Date(s string) (time.Time, error) {
	return time.Parse(time.RFC1123, s)
}

// parseSize reads sizes such as 1048576, 512KiB, 32MiB, 1GB.
func parseSize(s string) (int64, error) {
	s = strings.TrimSpace(s)
	units := []struct {
		suffix string
		mult   int64
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"KB", 1000}, {"MB", 1000 * 1000}, {"GB", 1000 * 1000 * 1000}, {"B", 1}}
	mult := int64(1)
	for _, u := range units {
		if strings.HasSuffix(s, u.suffix) {
			s, mult = strings.TrimSpace(strings.TrimSuffix(s, u.suffix)), u.mult
			break
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("bad size %q", s)
	}
	return n * mult, nil
}

// originHost checks an https origin URL (no path, no port) and returns its
// lowercase host.
func originHost(raw string) (string, error) {
	if raw == "" {
		return "", errors.New("required (an https:// URL)")
	}
	u, err := url.Parse(raw)
	if err != nil {
		return "", fmt.Errorf("bad URL %q: %w", raw, err)
	}
	if u.Scheme != "https" {
		return "", fmt.Errorf("%q must use https", raw)
	}
	if u.Port() != "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.User != nil {
		return "", fmt.Errorf("%q must be a bare origin (https://host, no port, path or query)", raw)
	}
	host := strings.ToLower(u.Hostname())
	if !validHost(host) {
		return "", fmt.Errorf("%q has no valid host name", raw)
	}
	return host, nil
}

var hostRE = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$`)

func validHost(h string) bool { return hostRE.MatchString(strings.ToLower(h)) }

// SPOConditionalAccessPolicyType values (facts §10).
var caPolicyNames = []string{"AllowFullAccess", "AllowLimitedAccess", "BlockAccess", "AuthenticationContext"}

// parseCAPolicy accepts a name or number; empty means AllowFullAccess.
func parseCAPolicy(s string) (int, string, bool) {
	if s == "" {
		return 0, caPolicyNames[0], true
	}
	if n, err := strconv.Atoi(s); err == nil {
		if n >= 0 && n < len(caPolicyNames) {
			return n, caPolicyNames[n], true
		}
		return 0, "", false
	}
	for i, name := range caPolicyNames {
		if strings.EqualFold(name, s) {
			return i, name, true
		}
	}
	return 0, "", false
}

// cloud is one national cloud's login and Graph hosts (facts §11).
type cloud struct {
	name      string
	loginHost string
	graphHost string
}

var cloudNames = []string{"public", "gcc", "gcchigh", "dod", "china"}

func cloudByName(name string) (cloud, bool) {
	switch name {
	case "", "public":
		return cloud{"public", "login.microsoftonline.com", "graph.microsoft.com"}, true
	case "gcc": // Microsoft 365 GCC keeps the worldwide endpoints
		return cloud{"gcc", "login.microsoftonline.com", "graph.microsoft.com"}, true
	case "gcchigh":
		return cloud{"gcchigh", "login.microsoftonline.us", "graph.microsoft.us"}, true
	case "dod":
		return cloud{"dod", "login.microsoftonline.us", "dod-graph.microsoft.us"}, true
	case "china":
		return cloud{"china", "login.chinacloudapi.cn", "microsoftgraph.chinacloudapi.cn"}, true
	}
	return cloud{}, false
}

// fixedHosts are served whatever the scenarios say.
var fixedHosts = []string{
	"login.microsoftonline.com", "login.microsoftonline.us", "login.chinacloudapi.cn",
	"graph.microsoft.com", "graph.microsoft.us", "dod-graph.microsoft.us", "microsoftgraph.chinacloudapi.cn",
	bapHost,
	"globaldisco.crm.dynamics.com", "globaldisco.crm9.dynamics.com", "globaldisco.crm.microsoftdynamics.us",
	"globaldisco.crm.appsplatform.us", "globaldisco.crm.dynamics.cn",
}
