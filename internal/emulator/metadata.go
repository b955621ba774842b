package emulator

import (
	"fmt"
	"net/http"
	"regexp"
	"strings"

	"github.com/teamslink/teamslink/internal/emulator/query"
)

const metadataType = "Microsoft.Dynamics.CRM.EntityMetadata"

var logicalKeyRE = regexp.MustCompile(`^LogicalName='([^']*)'$`)

// entityDefinitions serves EntityDefinitions (facts §3): the collection with
// $select and $filter (no paging), one definition by MetadataId or
// LogicalName, and PUT of a full definition.
func (s *Server) entityDefinitions(w http.ResponseWriter, d *dvReq, segs []segment) {
	first := segs[0]
	if len(segs) > 1 {
		dvError(w, http.StatusNotFound, codeNoSegment, fmt.Sprintf("Resource not found for the segment '%s': the emulator serves only the EntityMetadata properties of EntityDefinitions.", segs[1].name))
		return
	}
	if !first.hasKey {
		if d.r.Method != http.MethodGet {
			dvMethodOrSegment(w, d.r, "EntityDefinitions")
			return
		}
		s.listEntityDefinitions(w, d)
		return
	}
	var def *entityDef
	if m := logicalKeyRE.FindStringSubmatch(first.key); m != nil {
		def = d.env.entityByName(m[1])
	} else if id, ok := parseKey(first.key, "MetadataId"); ok {
		def = d.env.entityByID(id)
	} else {
		dvError(w, http.StatusBadRequest, codeQuery, fmt.Sprintf("Bad Request - Error in query syntax: '%s' is neither a MetadataId nor LogicalName='<name>'.", first.key))
		return
	}
	if def == nil {
		dvError(w, http.StatusNotFound, codeNoRecord, fmt.Sprintf("Could not find an entity with key %s in metadata cache.", first.key))
		return
	}
	switch d.r.Method {
	case http.MethodGet:
		opts, err := parseQueryOptions(d.r.URL.RawQuery)
		if err == nil {
			err = opts.check("$select")
		}
		if err != nil {
			dvError(w, http.StatusBadRequest, codeQuery, err.Error())
			return
		}
		sel, err := metadataSelect(opts)
		if err != nil {
			dvError(w, http.StatusBadRequest, codeQuery, err.Error())
			return
		}
		out := obj{{"@odata.context", d.contextURL(metadataContext(sel) + "/$entity")}}
		writeJSON(w, http.StatusOK, dvJSON, append(out, projectMetadata(def, sel)...))
	case http.MethodPut:
		s.putEntityDefinition(w, d, def)
	default:
		dvMethodOrSegment(w, d.r, "EntityDefinitions("+first.key+")")
	}
}

func metadataSelect(opts queryOptions) ([]string, error) {
	v, ok := opts["$select"]
	if !ok {
		return nil, nil
	}
	names, err := query.ParseSelect(v)
	if err != nil {
		return nil, &optionError{filterError(err, metadataType)}
	}
	for _, n := range names {
		if !isMetadataProp(n) {
			return nil, &optionError{fmt.Sprintf("Could not find a property named '%s' on type '%s'.", n, metadataType)}
		}
	}
	return names, nil
}

func metadataContext(sel []string) string {
	if sel == nil {
		return "EntityDefinitions"
	}
	return "EntityDefinitions(" + strings.Join(sel, ",") + ")"
}

func (s *Server) listEntityDefinitions(w http.ResponseWriter, d *dvReq) {
	opts, err := parseQueryOptions(d.r.URL.RawQuery)
	if err == nil {
		err = opts.check("$select", "$filter")
	}
	if err != nil {
		dvError(w, http.StatusBadRequest, codeQuery, err.Error())
		return
	}
	sel, err := metadataSelect(opts)
	if err != nil {
		dvError(w, http.StatusBadRequest, codeQuery, err.Error())
		return
	}
	var filter *query.Filter
	if v, ok := opts["$filter"]; ok {
		// Metadata filters take primitive and enum properties and
		// managed properties through /Value, no functions (facts §3).
		if filter, err = query.ParseFilter(v, metadataResolver, query.FilterOptions{}); err != nil {
			dvError(w, http.StatusBadRequest, codeQuery, filterError(err, metadataType))
			return
		}
	}
	values := []obj{}
	for _, def := range d.env.entities {
		if filter != nil && !filter.Match(metadataGetter(def)) {
			continue
		}
		values = append(values, projectMetadata(def, sel))
	}
	// No paging for metadata: everything in one response (facts §3).
	writeJSON(w, http.StatusOK, dvJSON, obj{
		{"@odata.context", d.contextURL(metadataContext(sel))},
		{"value", values},
	})
}

func metadataGetter(def *entityDef) query.Getter {
	return func(name string) any {
		switch name {
		case "MetadataId":
			return def.MetadataID
		case "LogicalName":
			return def.LogicalName
		case "SchemaName":
			return def.SchemaName
		case "EntitySetName":
			return def.EntitySetName
		case "ObjectTypeCode":
			if def.ObjectTypeCode == nil {
				return nil
			}
			return *def.ObjectTypeCode
		case "IsCustomEntity":
			return def.IsCustomEntity
		case "IsManaged":
			return def.IsManaged
		case "IsActivity":
			return def.IsActivity
		case "IsCustomizable/Value":
			return def.customizable
		case "IsDocumentManagementEnabled":
			return def.IsDocumentManagementEnabled
		case "IsMSTeamsIntegrationEnabled":
			return def.IsMSTeamsIntegrationEnabled
		case "IsOneNoteIntegrationEnabled":
			return def.IsOneNoteIntegrationEnabled
		}
		return nil
	}
}

func label(text string) obj {
	if text == "" {
		return obj{{"LocalizedLabels", []obj{}}, {"UserLocalizedLabel", nil}}
	}
	l := obj{{"Label", text}, {"LanguageCode", 1033}}
	return obj{{"LocalizedLabels", []obj{l}}, {"UserLocalizedLabel", l}}
}

func metadataValue(def *entityDef, name string) any {
	switch name {
	case "DisplayName":
		return label(def.DisplayName)
	case "IsCustomizable":
		return obj{{"Value", def.customizable}, {"CanBeChanged", true}, {"ManagedPropertyLogicalName", "iscustomizable"}}
	}
	return metadataGetter(def)(name)
}

// projectMetadata renders a definition; MetadataId is always included.
func projectMetadata(def *entityDef, sel []string) obj {
	names := sel
	if names == nil {
		names = make([]string, len(metadataProps))
		for i, p := range metadataProps {
			names[i] = p.name
		}
	}
	o := obj{}
	for _, n := range names {
		o = append(o, kv{n, metadataValue(def, n)})
	}
	if !contains(names, "MetadataId") {
		o = append(o, kv{"MetadataId", def.MetadataID})
	}
	return o
}

// putEntityDefinition updates a definition from a full body: like
// UpdateEntityRequest, settable properties missing from the body fall back
// to their defaults, and labels are lost unless MSCRM.MergeLabels is true
// (facts §3).
func (s *Server) putEntityDefinition(w http.ResponseWriter, d *dvReq, def *entityDef) {
	if !s.requireAdmin(w, d, "prvWriteEntity") {
		return
	}
	body, err := decodeJSONBody(d.r)
	if err != nil {
		dvError(w, http.StatusBadRequest, codePayload, err.Error())
		return
	}
	for k := range body {
		if !strings.HasPrefix(k, "@") && !isMetadataProp(k) {
			dvError(w, http.StatusBadRequest, codeQuery, fmt.Sprintf("Invalid property '%s' was found in entity '%s'.", k, metadataType))
			return
		}
	}
	if v, ok := body["LogicalName"]; ok {
		if name, _ := v.(string); !strings.EqualFold(name, def.LogicalName) {
			dvError(w, http.StatusBadRequest, codeValidation, fmt.Sprintf("The LogicalName of a table cannot be changed (was %s).", def.LogicalName))
			return
		}
	}
	if v, ok := body["MetadataId"]; ok {
		if id, _ := v.(string); !strings.EqualFold(id, def.MetadataID) {
			dvError(w, http.StatusBadRequest, codeValidation, "The MetadataId in the body does not match the definition being updated.")
			return
		}
	}
	if !def.customizable {
		// INFERENCE (facts §3): an update fails when IsCustomizable.Value is false.
		dvError(w, http.StatusBadRequest, codeValidation, fmt.Sprintf("The table %s is not customizable (IsCustomizable.Value is false).", def.LogicalName))
		return
	}
	flags := map[string]*bool{
		"IsDocumentManagementEnabled": &def.IsDocumentManagementEnabled,
		"IsMSTeamsIntegrationEnabled": &def.IsMSTeamsIntegrationEnabled,
		"IsOneNoteIntegrationEnabled": &def.IsOneNoteIntegrationEnabled,
	}
	next := map[string]bool{}
	for name := range flags {
		v, present := body[name]
		if !present || v == nil {
			next[name] = false
			continue
		}
		b, ok := v.(bool)
		if !ok {
			dvError(w, http.StatusBadRequest, codePayload, fmt.Sprintf("Cannot convert the value of '%s' to the expected type 'Edm.Boolean'.", name))
			return
		}
		next[name] = b
	}
	displayName := def.DisplayName
	if v, present := body["DisplayName"]; present {
		text, ok := labelText(v)
		if !ok {
			dvError(w, http.StatusBadRequest, codePayload, "DisplayName must be a Label: {\"LocalizedLabels\":[{\"Label\":\"…\",\"LanguageCode\":1033}]}.")
			return
		}
		displayName = text
	} else if !strings.EqualFold(d.r.Header.Get("MSCRM.MergeLabels"), "true") {
		displayName = ""
	}
	for name, p := range flags {
		*p = next[name]
	}
	def.DisplayName = displayName
	w.WriteHeader(http.StatusNoContent)
}

// labelText reads the text of a Label body (null clears it).
func labelText(v any) (string, bool) {
	if v == nil {
		return "", true
	}
	m, ok := v.(map[string]any)
	if !ok {
		return "", false
	}
	if list, ok := m["LocalizedLabels"].([]any); ok && len(list) > 0 {
		if l, ok := list[0].(map[string]any); ok {
			if s, ok := l["Label"].(string); ok {
				return s, true
			}
		}
	}
	if l, ok := m["UserLocalizedLabel"].(map[string]any); ok {
		if s, ok := l["Label"].(string); ok {
			return s, true
		}
	}
	if list, ok := m["LocalizedLabels"].([]any); ok && len(list) == 0 {
		return "", true
	}
	return "", false
}
