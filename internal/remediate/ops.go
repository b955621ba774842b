package remediate

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/teamslink/teamslink/internal/odata"
)

// lookupAnnotation asks Dataverse which table a lookup points at, which a
// deleted location's parent and regarding links need to be recreated.
const lookupAnnotation = "Microsoft.Dynamics.CRM.lookuplogicalname"

// setTeamsDocumentStatus is the unbound action of facts §4.
const setTeamsDocumentStatus = "msdyn_SetTeamsDocumentStatus"

// observed is a record as read before or after a write.
type observed struct {
	exists bool
	etag   string
	// values are the action's columns (those of Seen).
	values map[string]any
	// record is the whole row or definition, for the journal's backup.
	record map[string]any
}

// dv is one environment's Web API.
type dv struct{ c *odata.Client }

func (d dv) get(ctx context.Context, path string, header http.Header) (map[string]any, error) {
	resp, err := d.c.Do(ctx, &odata.Request{Method: http.MethodGet, Path: path, Header: header})
	if err != nil {
		return nil, err
	}
	var out map[string]any
	if err := resp.DecodeJSON(&out); err != nil {
		return nil, err
	}
	return out, nil
}

func (d dv) send(ctx context.Context, method, path string, header http.Header, body any) (*odata.Response, error) {
	var b []byte
	if body != nil {
		var err error
		if b, err = json.Marshal(body); err != nil {
			return nil, err
		}
	}
	return d.c.Do(ctx, &odata.Request{Method: method, Path: path, Header: header, Body: b})
}

func rowPath(t Target) string { return fmt.Sprintf("%s(%s)", t.Set, t.ID) }

func definitionPath(logicalName string) string {
	return fmt.Sprintf("EntityDefinitions(LogicalName='%s')", logicalName)
}

// read returns the record of a as it is now; a record that does not exist
// is not an error (exists false).
func (d dv) read(ctx context.Context, a Action) (observed, error) {
	cols := sortedKeys(a.Seen)
	var path string
	var header http.Header
	switch a.Kind {
	case KindUpdate:
		path = rowPath(a.Target) + "?$select=" + strings.Join(cols, ",")
	case KindDelete:
		// The whole row, lookups with their tables: the backup that undo
		// recreates it from.
		path = rowPath(a.Target)
		header = http.Header{"Prefer": {`odata.include-annotations="` + lookupAnnotation + `"`}}
	case KindEntityDefinition, KindTeamsDocumentStatus:
		path = definitionPath(a.Target.LogicalName) + "?$select=LogicalName," + strings.Join(cols, ",")
	}
	rec, err := d.get(ctx, path, header)
	if errors.Is(err, odata.ErrNotFound) {
		return observed{}, nil
	}
	if err != nil {
		return observed{}, err
	}
	o := observed{exists: true, record: rec, values: map[string]any{}}
	o.etag, _ = rec["@odata.etag"].(string)
	for _, c := range cols {
		if v, ok := rec[c]; ok {
			o.values[c] = normalize(v)
		}
	}
	return o, nil
}

// ifMatch is the header that makes a write fail with 412 when the record
// changed after it was read.
func ifMatch(etag string) http.Header {
	h := http.Header{}
	if etag != "" {
		h.Set("If-Match", etag)
	}
	return h
}

// write makes the record of a hold values (Write to apply, Seen to undo):
// o is the record as just read.
func (d dv) write(ctx context.Context, a Action, o observed, values map[string]any) error {
	switch a.Kind {
	case KindUpdate:
		_, err := d.send(ctx, http.MethodPatch, rowPath(a.Target), ifMatch(o.etag), values)
		return err
	case KindEntityDefinition:
		return d.putDefinition(ctx, a.Target.LogicalName, values)
	case KindTeamsDocumentStatus:
		enable, _ := values["IsMSTeamsIntegrationEnabled"].(bool)
		return d.teamsDocumentStatus(ctx, a.Target.LogicalName, enable)
	}
	return fmt.Errorf("%s is not a write", a.Kind)
}

// remove deletes the row of a delete action.
func (d dv) remove(ctx context.Context, a Action, o observed) error {
	_, err := d.send(ctx, http.MethodDelete, rowPath(a.Target), ifMatch(o.etag), nil)
	return err
}

// putDefinition reads a table's full definition and PUTs it back with the
// flags set, keeping labels (MSCRM.MergeLabels: true), then publishes the
// table: PATCH is not supported on definitions (facts §3).
func (d dv) putDefinition(ctx context.Context, logicalName string, flags map[string]any) error {
	def, err := d.get(ctx, definitionPath(logicalName), nil)
	if err != nil {
		return fmt.Errorf("read the definition of %s: %w", logicalName, err)
	}
	for k := range def {
		if strings.HasPrefix(k, "@") {
			delete(def, k)
		}
	}
	for k, v := range flags {
		def[k] = v
	}
	if _, err := d.send(ctx, http.MethodPut, definitionPath(logicalName), http.Header{"MSCRM.MergeLabels": {"true"}}, def); err != nil {
		return err
	}
	xml := "<importexportxml><entities><entity>" + logicalName + "</entity></entities></importexportxml>"
	if _, err := d.send(ctx, http.MethodPost, "PublishXml", nil, map[string]string{"ParameterXml": xml}); err != nil {
		return fmt.Errorf("publish %s: %w", logicalName, err)
	}
	return nil
}

// HasTeamsDocumentStatusAction reports whether the environment has the
// msdyn_SetTeamsDocumentStatus action (it ships with a Microsoft solution
// that may be missing, facts §4).
func (d dv) hasTeamsDocumentStatusAction(ctx context.Context) (bool, error) {
	resp, err := d.c.Do(ctx, &odata.Request{Path: "sdkmessages?$select=name&$filter=name eq '" + setTeamsDocumentStatus + "'"})
	if err != nil {
		return false, err
	}
	var page struct {
		Value []struct {
			Name string `json:"name"`
		} `json:"value"`
	}
	if err := resp.DecodeJSON(&page); err != nil {
		return false, err
	}
	return len(page.Value) > 0, nil
}

// teamsDocumentStatus calls msdyn_SetTeamsDocumentStatus for one table and
// checks that the table came back among the passed ones.
func (d dv) teamsDocumentStatus(ctx context.Context, logicalName string, enable bool) error {
	ok, err := d.hasTeamsDocumentStatusAction(ctx)
	if err != nil {
		return fmt.Errorf("look up %s: %w", setTeamsDocumentStatus, err)
	}
	if !ok {
		return fmt.Errorf("the environment has no %s action (its solution is not installed)", setTeamsDocumentStatus)
	}
	names, _ := json.Marshal([]string{logicalName})
	resp, err := d.send(ctx, http.MethodPost, setTeamsDocumentStatus, nil, map[string]any{"Enable": enable, "LogicalEntityNames": string(names)})
	if err != nil {
		return err
	}
	var out struct {
		PassedLogicalEntityNames string
		FailedLogicalEntityNames string
		OperationResult          bool
	}
	if err := resp.DecodeJSON(&out); err != nil {
		return err
	}
	passed := strings.Split(strings.Trim(out.PassedLogicalEntityNames, "[]"), ",")
	if !out.OperationResult || !slices.ContainsFunc(passed, func(s string) bool { return strings.EqualFold(strings.Trim(s, ` "`), logicalName) }) {
		return fmt.Errorf("%s did not pass %s (failed: %s)", setTeamsDocumentStatus, logicalName, out.FailedLogicalEntityNames)
	}
	return nil
}

// The columns of a document location that recreating it writes back, with
// its state and its two lookups.
var locationColumns = []string{"name", "absoluteurl", "relativeurl", "description", "locationtype", "servicetype"}

// recreatable checks that a backed-up location can be recreated as it was:
// each lookup it has names its table.
func recreatable(backup map[string]any) error {
	for _, lk := range []string{"parentsiteorlocation", "regardingobjectid"} {
		col := "_" + lk + "_value"
		if v, ok := backup[col]; ok && v != nil {
			if t, _ := backup[col+"@"+lookupAnnotation].(string); t == "" {
				return fmt.Errorf("the service did not say which table %s points at (%s annotation missing), so the link could not be recreated: not deleted", col, lookupAnnotation)
			}
		}
	}
	return nil
}

// recreate creates a deleted location again from its backup, with the same
// id, the same parent and regarding record, and its state.
func (d dv) recreate(ctx context.Context, a Action, backup map[string]any) error {
	body := map[string]any{"sharepointdocumentlocationid": a.Target.ID}
	for _, c := range locationColumns {
		if v, ok := backup[c]; ok && v != nil {
			body[c] = v
		}
	}
	for _, lk := range []string{"parentsiteorlocation", "regardingobjectid"} {
		col := "_" + lk + "_value"
		id, _ := backup[col].(string)
		if id == "" {
			continue
		}
		table, _ := backup[col+"@"+lookupAnnotation].(string)
		set, err := d.entitySet(ctx, table)
		if err != nil {
			return err
		}
		body[lk+"_"+table+"@odata.bind"] = fmt.Sprintf("/%s(%s)", set, id)
	}
	if _, err := d.send(ctx, http.MethodPost, "sharepointdocumentlocations", nil, body); err != nil {
		return err
	}
	// Dataverse creates rows active; an inactive one is set so afterwards.
	if st := normalize(backup["statecode"]); st != nil && st != int64(0) {
		state := map[string]any{"statecode": st, "statuscode": normalize(backup["statuscode"])}
		if _, err := d.send(ctx, http.MethodPatch, rowPath(a.Target), nil, state); err != nil {
			return fmt.Errorf("set the recreated location's state: %w", err)
		}
	}
	return nil
}

// entitySet returns a table's EntitySetName, for an @odata.bind.
func (d dv) entitySet(ctx context.Context, logicalName string) (string, error) {
	switch logicalName {
	case "sharepointsite":
		return "sharepointsites", nil
	case "sharepointdocumentlocation":
		return "sharepointdocumentlocations", nil
	}
	def, err := d.get(ctx, definitionPath(logicalName)+"?$select=EntitySetName", nil)
	if err != nil {
		return "", fmt.Errorf("read the entity set of %s: %w", logicalName, err)
	}
	set, _ := def["EntitySetName"].(string)
	if set == "" {
		return "", fmt.Errorf("the definition of %s has no EntitySetName", logicalName)
	}
	return set, nil
}

// sameRecord compares a recreated location with its backup: the columns
// written back, the state and the lookups.
func sameRecord(backup, now map[string]any) []string {
	want := map[string]any{}
	for _, c := range append(slices.Clone(locationColumns), "statecode", "statuscode", "_parentsiteorlocation_value", "_regardingobjectid_value") {
		if v, ok := backup[c]; ok {
			want[c] = v
		}
	}
	return differences(want, now)
}
