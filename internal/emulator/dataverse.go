package emulator

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"

	"github.com/teamslink/teamslink/internal/emulator/query"
)

// Dataverse error codes. Facts §7 gives the error shape, 0x80072322 and
// 0x80044331; the brief gives 0x80060888. The others are emulator choices
// listed in docs/emulator.md.
const (
	codeQuery       = "0x80060888" // bad query option, unknown property, malformed request
	codeNoSegment   = "0x8006088a" // resource not found for the segment
	codeNoRecord    = "0x80040217" // record does not exist
	codeConcurrency = "0x80060882" // If-Match ETag mismatch (412)
	codeThrottled   = "0x80072322" // service protection: number of requests
	codeAuth        = "0x80072561" // 401: missing, invalid, expired or foreign token
	codeNotMember   = "0x80072560" // 403: caller has no systemuser in the environment
	codePrivilege   = "0x80040220" // 403: caller lacks System Administrator for a write
	codeValidation  = "0x80044331" // a value outside the valid range
	codePayload     = "0x80048d19" // request body does not parse or has wrong types
	codeUnexpected  = "0x80040216" // injected server errors
	codeDuplicate   = "0x80040237" // create with an id that exists
)

const dvJSON = "application/json; odata.metadata=minimal"

// dvError writes the Dataverse error body {"error":{"code","message"}}.
func dvError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("OData-Version", "4.0")
	writeJSON(w, status, dvJSON, obj{{"error", obj{{"code", code}, {"message", msg}}}})
}

var apiPathRE = regexp.MustCompile(`^/api/data/(v9\.[0-2])/(.*)$`)

// dvReq is one Web API request being served.
type dvReq struct {
	rc      *reqCtx
	r       *http.Request
	env     *envState
	version string // v9.2
	base    string // https://host/api/data/v9.2/
	prefer  query.Prefer
	user    row
}

func (d *dvReq) contextURL(fragment string) string {
	return d.base + "$metadata#" + fragment
}

// serveDataverse serves the Web API subset of facts §1–§4, §7 and §8.
func (s *Server) serveDataverse(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	w.Header().Set("OData-Version", "4.0")
	m := apiPathRE.FindStringSubmatch(r.URL.Path)
	if m == nil {
		dvError(w, http.StatusNotFound, codeNoSegment, fmt.Sprintf("Resource not found for the segment '%s'. The Web API lives under /api/data/v9.2/.", strings.TrimPrefix(r.URL.Path, "/")))
		return
	}
	d := &dvReq{rc: rc, r: r, env: rc.env, version: m[1], base: "https://" + rc.host + "/api/data/" + m[1] + "/", prefer: query.ParsePrefer(r.Header.Values("Prefer"))}
	rest := m[2]
	if rest == "$batch" {
		if r.Method != http.MethodPost {
			dvError(w, http.StatusMethodNotAllowed, codeQuery, "$batch accepts POST only.")
			return
		}
		if rc.inner {
			dvError(w, http.StatusBadRequest, codeQuery, "Batch requests cannot be nested.")
			return
		}
		s.dvBatch(w, r, d)
		return
	}
	s.lock(rc)
	defer s.unlock(rc)
	if !s.authenticate(w, r, rc, audiencesOf(rc.env)...) {
		return
	}
	user, ok := rc.env.callerUser(rc.tok)
	if !ok {
		dvError(w, http.StatusForbidden, codeNotMember, fmt.Sprintf("The user is not a member of the organization. No enabled systemuser in %s has azureactivedirectoryobjectid %s or applicationid %s.", rc.env.url, rc.tok.objectID, rc.tok.clientID))
		return
	}
	d.user = user
	s.routeDataverse(w, d, rest)
}

func audiencesOf(env *envState) []string {
	out := make([]string, len(env.hosts))
	for i, h := range env.hosts {
		out[i] = "https://" + h
	}
	return out
}

// segment is one path segment: name, optional key in parentheses.
type segment struct {
	name   string
	key    string
	hasKey bool
}

var segmentRE = regexp.MustCompile(`^([A-Za-z_$][A-Za-z0-9_.$]*)(\((.*)\))?$`)

func parseSegments(rest string) ([]segment, bool) {
	var out []segment
	for _, p := range strings.Split(strings.TrimSuffix(rest, "/"), "/") {
		m := segmentRE.FindStringSubmatch(p)
		if m == nil {
			return nil, false
		}
		out = append(out, segment{name: m[1], key: m[3], hasKey: m[2] != ""})
	}
	return out, true
}

func (s *Server) routeDataverse(w http.ResponseWriter, d *dvReq, rest string) {
	r := d.r
	segs, ok := parseSegments(rest)
	if !ok || len(segs) == 0 || rest == "" {
		dvError(w, http.StatusNotFound, codeNoSegment, fmt.Sprintf("Resource not found for the segment '%s'.", rest))
		return
	}
	first := segs[0]
	switch first.name {
	case "WhoAmI":
		if len(segs) != 1 || (first.hasKey && first.key != "") {
			dvError(w, http.StatusNotFound, codeNoSegment, fmt.Sprintf("Resource not found for the segment '%s'.", rest))
			return
		}
		if r.Method != http.MethodGet {
			dvError(w, http.StatusMethodNotAllowed, codeQuery, "WhoAmI is a function; use GET.")
			return
		}
		s.whoAmI(w, d)
		return
	case "msdyn_SetTeamsDocumentStatus":
		if !d.env.actionInstalled {
			dvError(w, http.StatusNotFound, codeNoSegment, "Resource not found for the segment 'msdyn_SetTeamsDocumentStatus'.")
			return
		}
		if r.Method != http.MethodPost || len(segs) != 1 || first.hasKey {
			dvError(w, http.StatusMethodNotAllowed, codeQuery, "msdyn_SetTeamsDocumentStatus is an action; use POST.")
			return
		}
		s.setTeamsDocumentStatus(w, d)
		return
	case "PublishXml", "PublishAllXml":
		if r.Method != http.MethodPost || len(segs) != 1 {
			dvError(w, http.StatusMethodNotAllowed, codeQuery, first.name+" is an action; use POST.")
			return
		}
		if !s.requireAdmin(w, d, "prvPublishCustomizations") {
			return
		}
		// Metadata writes apply at once in the emulator; publishing is a no-op.
		w.WriteHeader(http.StatusNoContent)
		return
	case "EntityDefinitions":
		s.entityDefinitions(w, d, segs)
		return
	case "$metadata":
		dvError(w, http.StatusNotFound, codeNoSegment, "Resource not found for the segment '$metadata': the emulator does not serve CSDL metadata.")
		return
	}
	et, ok := entityTypes[first.name]
	if !ok {
		dvError(w, http.StatusNotFound, codeNoSegment, fmt.Sprintf("Resource not found for the segment '%s'.", first.name))
		return
	}
	if et.derived != nil {
		// An intersect entity: GET RetrieveMultiple only (fleet facts §2b).
		if first.hasKey || len(segs) != 1 || r.Method != http.MethodGet {
			dvError(w, http.StatusMethodNotAllowed, codeQuery, fmt.Sprintf("The emulator serves %s as a collection read only (GET %s).", et.set, et.set))
			return
		}
		s.dvCollection(w, d, et, seqSource(et.derived(d.env)), et.set)
		return
	}
	tbl := d.env.tables[et.set]
	if !first.hasKey {
		switch {
		case len(segs) == 1 && r.Method == http.MethodGet:
			s.dvCollection(w, d, et, tbl.applyTo, et.set)
		case len(segs) == 1 && r.Method == http.MethodPost:
			s.dvCreate(w, d, et)
		case len(segs) == 2 && segs[1].name == "$count" && !segs[1].hasKey && r.Method == http.MethodGet:
			s.dvCount(w, d, et, tbl.applyTo)
		default:
			dvMethodOrSegment(w, r, rest)
		}
		return
	}
	id, ok := parseKey(first.key, et.key)
	if !ok {
		dvError(w, http.StatusBadRequest, codeQuery, fmt.Sprintf("Bad Request - Error in query syntax: the key '%s' of %s is not a GUID (alternate keys are not emulated).", first.key, et.set))
		return
	}
	rec, exists := tbl.get(id, r.Method != http.MethodGet)
	if !exists {
		dvError(w, http.StatusNotFound, codeNoRecord, fmt.Sprintf("%s With Id = %s Does Not Exist", et.logical, id))
		return
	}
	if len(segs) == 1 {
		switch r.Method {
		case http.MethodGet:
			s.dvSingle(w, d, et, rec)
		case http.MethodPatch:
			s.dvUpdate(w, d, et, rec)
		case http.MethodDelete:
			s.dvDelete(w, d, et, rec)
		default:
			dvMethodOrSegment(w, r, rest)
		}
		return
	}
	nav := segs[1]
	if target, isNav := et.navs[nav.name]; isNav && !nav.hasKey && r.Method == http.MethodGet {
		tt := entityTypes[target]
		var rows []row
		for _, tid := range d.env.links[linkKey{et.set, id, nav.name}] {
			if tr, ok := d.env.tables[target].get(tid, false); ok {
				rows = append(rows, tr)
			}
		}
		switch {
		case len(segs) == 2:
			s.dvCollection(w, d, tt, seqSource(rows), tt.set)
		case len(segs) == 3 && segs[2].name == "$count":
			s.dvCount(w, d, tt, seqSource(rows))
		default:
			dvMethodOrSegment(w, r, rest)
		}
		return
	}
	if c, isCol := et.column(nav.name); isCol && len(segs) == 2 && r.Method == http.MethodGet {
		writeJSON(w, http.StatusOK, dvJSON, obj{
			{"@odata.context", d.contextURL(fmt.Sprintf("%s(%s)/%s", et.set, id, c.name))},
			{"value", rec[c.name]},
		})
		return
	}
	dvMethodOrSegment(w, r, rest)
}

func dvMethodOrSegment(w http.ResponseWriter, r *http.Request, rest string) {
	if r.Method != http.MethodGet {
		dvError(w, http.StatusMethodNotAllowed, codeQuery, fmt.Sprintf("The emulator does not support %s on '%s'.", r.Method, rest))
		return
	}
	dvError(w, http.StatusNotFound, codeNoSegment, fmt.Sprintf("Resource not found for the segment '%s'.", rest))
}

// parseKey accepts (guid) and (keycolumn=guid).
func parseKey(key, keyCol string) (string, bool) {
	if k, v, ok := strings.Cut(key, "="); ok {
		if strings.TrimSpace(k) != keyCol {
			return "", false
		}
		key = v
	}
	key = strings.TrimSpace(key)
	if !isGUID(key) {
		return "", false
	}
	return strings.ToLower(key), true
}

func (s *Server) whoAmI(w http.ResponseWriter, d *dvReq) {
	if err := mustNoOptions(d.r); err != nil {
		dvError(w, http.StatusBadRequest, codeQuery, err.Error())
		return
	}
	bu, _ := d.user["_businessunitid_value"].(string)
	if bu == "" {
		bu = derivedGUID(d.env.url, "businessunit")
	}
	writeJSON(w, http.StatusOK, dvJSON, obj{
		{"@odata.context", d.contextURL("Microsoft.Dynamics.CRM.WhoAmIResponse")},
		{"BusinessUnitId", bu},
		{"UserId", d.user["systemuserid"]},
		{"OrganizationId", d.env.orgID},
	})
}

func mustNoOptions(r *http.Request) error {
	q, err := parseQueryOptions(r.URL.RawQuery)
	if err != nil {
		return err
	}
	return q.check()
}

// dvQuery is a validated set of query options for one entity type.
type dvQuery struct {
	et     *entityType
	sel    []string
	filter *query.Filter
	order  []query.OrderItem
	top    int // 0 = none
	count  bool
	expand []dvExpand
}

type dvExpand struct {
	nav string
	q   *dvQuery
}

var dataverseFuncs = query.FilterOptions{Functions: []string{"startswith", "endswith", "contains"}}

// filterError turns a query package error into the Dataverse message.
func filterError(err error, et string) string {
	var up *query.UnknownPropertyError
	var se *query.SyntaxError
	switch {
	case errors.As(err, &up):
		return fmt.Sprintf("Could not find a property named '%s' on type '%s'.", up.Name, et)
	case errors.As(err, &se):
		return fmt.Sprintf("Syntax error at position %d in '%s'.", se.Pos, se.Src)
	}
	return err.Error()
}

// parseDVQuery validates options against et. collection says whether the
// target is a collection (which takes $filter, $orderby, $top, $count).
func parseDVQuery(opts queryOptions, et *entityType, collection bool, nested bool) (*dvQuery, error) {
	allowed := []string{"$select", "$expand"}
	if collection {
		allowed = append(allowed, "$filter", "$orderby", "$top")
		if !nested {
			allowed = append(allowed, "$count", "$skiptoken")
		}
	}
	if err := opts.check(allowed...); err != nil {
		return nil, err
	}
	q := &dvQuery{et: et}
	if v, ok := opts["$select"]; ok {
		names, err := query.ParseSelect(v)
		if err != nil {
			return nil, &optionError{filterError(err, et.typeName())}
		}
		for _, n := range names {
			if _, ok := et.column(n); !ok {
				return nil, &optionError{fmt.Sprintf("Could not find a property named '%s' on type '%s'.", n, et.typeName())}
			}
		}
		q.sel = names
	}
	if v, ok := opts["$filter"]; ok {
		f, err := query.ParseFilter(v, et.resolver(), dataverseFuncs)
		if err != nil {
			return nil, &optionError{filterError(err, et.typeName())}
		}
		q.filter = f
	}
	if v, ok := opts["$orderby"]; ok {
		order, err := query.ParseOrderBy(v, et.resolver())
		if err != nil {
			return nil, &optionError{filterError(err, et.typeName())}
		}
		q.order = order
	}
	if v, ok := opts["$top"]; ok {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return nil, &optionError{fmt.Sprintf("Invalid value '%s' for $top query option found. The $top query option requires a non-negative integer value.", v)}
		}
		q.top = n
	}
	if v, ok := opts["$count"]; ok {
		switch v {
		case "true":
			q.count = true
		case "false":
		default:
			return nil, &optionError{fmt.Sprintf("'%s' is not a valid count option.", v)}
		}
	}
	if v, ok := opts["$expand"]; ok {
		items, err := query.ParseExpand(v)
		if err != nil {
			return nil, &optionError{filterError(err, et.typeName())}
		}
		for _, it := range items {
			target, ok := et.navs[it.Name]
			if !ok {
				return nil, &optionError{fmt.Sprintf("Could not find a property named '%s' on type '%s'.", it.Name, et.typeName())}
			}
			sub, err := parseDVQuery(queryOptions(it.Options), entityTypes[target], true, true)
			if err != nil {
				return nil, err
			}
			q.expand = append(q.expand, dvExpand{nav: it.Name, q: sub})
		}
	}
	return q, nil
}

// apply filters and orders rows.
func (q *dvQuery) apply(rows []row) []row {
	out := make([]row, 0, len(rows))
	for _, r := range rows {
		if q.filter == nil || q.filter.Match(getter(r)) {
			out = append(out, r)
		}
	}
	sortRows(out, q.order)
	return out
}

func getter(r row) query.Getter { return func(name string) any { return r[name] } }

// project renders one row as the Web API does: @odata.etag, the selected
// columns (all when no $select), formatted values when asked, expansions.
func (d *dvReq) project(q *dvQuery, r row) obj {
	o := obj{{"@odata.etag", etag(r)}}
	annotations := query.AnnotationMatcher(d.prefer["odata.include-annotations"])
	formatted := annotations("OData.Community.Display.V1.FormattedValue")
	lookups := annotations(lookupAnnotation)
	cols := q.sel
	if cols == nil {
		cols = make([]string, len(q.et.columns))
		for i, c := range q.et.columns {
			cols[i] = c.name
		}
	}
	for _, name := range cols {
		c, _ := q.et.column(name)
		v := r[name]
		if formatted && v != nil {
			if label, ok := formattedValue(c, v); ok {
				o = append(o, kv{name + "@OData.Community.Display.V1.FormattedValue", label})
			}
		}
		if lookups && v != nil {
			if table := d.env.lookupTable(name, r); table != "" {
				o = append(o, kv{name + "@" + lookupAnnotation, table})
			}
		}
		o = append(o, kv{name, v})
	}
	id, _ := r[q.et.key].(string)
	if q.sel != nil && !contains(q.sel, q.et.key) {
		// Dataverse always returns the primary key.
		o = append(o, kv{q.et.key, id})
	}
	for _, ex := range q.expand {
		target := entityTypes[q.et.navs[ex.nav]]
		var related []row
		for _, tid := range d.env.links[linkKey{q.et.set, id, ex.nav}] {
			if tr, ok := d.env.tables[target.set].get(tid, false); ok {
				related = append(related, tr)
			}
		}
		related = ex.q.apply(related)
		if ex.q.top > 0 && len(related) > ex.q.top {
			related = related[:ex.q.top]
		}
		items := make([]obj, len(related))
		for i, tr := range related {
			items[i] = d.project(ex.q, tr)
		}
		o = append(o, kv{ex.nav, items})
	}
	return o
}

// lookupAnnotation names a lookup's table (Prefer:
// odata.include-annotations="Microsoft.Dynamics.CRM.lookuplogicalname").
const lookupAnnotation = "Microsoft.Dynamics.CRM.lookuplogicalname"

// lookupTable is the logical name of the table a lookup column of r points
// at: the one a write bound it to, else the table holding the id
// (parentsiteorlocation), else the emulator's assumption for scenario rows
// (a location's regarding record is an account); "" for a column that is
// not a lookup.
func (env *envState) lookupTable(column string, r row) string {
	if t, ok := r[column+"@"+lookupAnnotation].(string); ok {
		return t
	}
	switch column {
	case "_parentsiteorlocation_value":
		id, _ := r[column].(string)
		if _, ok := env.tables["sharepointsites"].get(id, false); ok {
			return "sharepointsite"
		}
		return "sharepointdocumentlocation"
	case "_regardingobjectid_value":
		return "account"
	case "_businessunitid_value":
		return "businessunit"
	case "_roletemplateid_value":
		return "role"
	}
	return ""
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func etag(r row) string {
	v, _ := r["versionnumber"].(int64)
	return `W/"` + strconv.FormatInt(v, 10) + `"`
}

func formattedValue(c *column, v any) (string, bool) {
	switch x := v.(type) {
	case bool:
		if x {
			return "Yes", true
		}
		return "No", true
	case int64:
		if c.choices != nil {
			label, ok := c.choices[x]
			return label, ok
		}
	}
	return "", false
}

func (q *dvQuery) contextFragment(set string) string {
	if q.sel == nil {
		return set
	}
	return set + "(" + strings.Join(q.sel, ",") + ")"
}

// maxPage is the Dataverse page size limit (facts §7).
const maxPage = 5000

// dvCollection serves a collection with $count, paging and annotations.
func (s *Server) dvCollection(w http.ResponseWriter, d *dvReq, et *entityType, source func(*dvQuery) rowSeq, set string) {
	opts, err := parseQueryOptions(d.r.URL.RawQuery)
	if err != nil {
		dvError(w, http.StatusBadRequest, codeQuery, err.Error())
		return
	}
	q, err := parseDVQuery(opts, et, true, false)
	if err != nil {
		dvError(w, http.StatusBadRequest, codeQuery, err.Error())
		return
	}
	rows := source(q)
	total := rows.n
	var applied []string
	pageSize := 0
	if v, ok := d.prefer["odata.maxpagesize"]; ok {
		if n, err := strconv.Atoi(v); err == nil && n > 0 {
			pageSize = min(n, maxPage)
			applied = append(applied, "odata.maxpagesize="+strconv.Itoa(pageSize))
		}
	}
	hash := pageHash(d.r.URL.Path, d.r.URL.RawQuery)
	offset := 0
	if tok, ok := opts["$skiptoken"]; ok {
		if offset, err = decodeSkipToken(tok, hash); err != nil {
			dvError(w, http.StatusBadRequest, codeQuery, err.Error())
			return
		}
	}
	switch {
	case pageSize > 0:
		// $top is ignored when odata.maxpagesize is set (facts §7).
	case q.top > 0:
		rows.n = min(rows.n, q.top)
		pageSize = maxPage
	default:
		pageSize = maxPage
	}
	if offset > rows.n {
		offset = rows.n
	}
	end := min(offset+pageSize, rows.n)
	page := rows.slice(offset, end)
	annotations := query.AnnotationMatcher(d.prefer["odata.include-annotations"])
	if ann := d.prefer["odata.include-annotations"]; ann != "" {
		applied = append(applied, `odata.include-annotations="`+ann+`"`)
	}
	out := obj{{"@odata.context", d.contextURL(q.contextFragment(set))}}
	if q.count {
		out = append(out, kv{"@odata.count", min(total, maxPage)})
	}
	if annotations("Microsoft.Dynamics.CRM.totalrecordcount") {
		n := -1
		if q.count {
			n = min(total, maxPage)
		}
		out = append(out, kv{"@Microsoft.Dynamics.CRM.totalrecordcount", n})
	}
	if annotations("Microsoft.Dynamics.CRM.totalrecordcountlimitexceeded") {
		out = append(out, kv{"@Microsoft.Dynamics.CRM.totalrecordcountlimitexceeded", q.count && total > maxPage})
	}
	values := make([]obj, len(page))
	for i, r := range page {
		values[i] = d.project(q, r)
	}
	out = append(out, kv{"value", values})
	if end < rows.n {
		out = append(out, kv{"@odata.nextLink", nextLink(d.r, d.rc.host, encodeSkipToken(end, hash, end/max(pageSize, 1)+1))})
	}
	if len(applied) > 0 {
		w.Header().Set("Preference-Applied", strings.Join(applied, ","))
	}
	writeJSON(w, http.StatusOK, dvJSON, out)
}

// dvCount serves /<set>/$count as text/plain, capped like $count.
func (s *Server) dvCount(w http.ResponseWriter, d *dvReq, et *entityType, source func(*dvQuery) rowSeq) {
	opts, err := parseQueryOptions(d.r.URL.RawQuery)
	if err == nil {
		err = opts.check("$filter")
	}
	if err != nil {
		dvError(w, http.StatusBadRequest, codeQuery, err.Error())
		return
	}
	q, err := parseDVQuery(opts, et, true, true)
	if err != nil {
		dvError(w, http.StatusBadRequest, codeQuery, err.Error())
		return
	}
	body := strconv.Itoa(min(source(q).n, maxPage))
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write([]byte(body))
}

func (s *Server) dvSingle(w http.ResponseWriter, d *dvReq, et *entityType, rec row) {
	opts, err := parseQueryOptions(d.r.URL.RawQuery)
	if err != nil {
		dvError(w, http.StatusBadRequest, codeQuery, err.Error())
		return
	}
	q, err := parseDVQuery(opts, et, false, false)
	if err != nil {
		dvError(w, http.StatusBadRequest, codeQuery, err.Error())
		return
	}
	tag := etag(rec)
	if inm := d.r.Header.Get("If-None-Match"); inm != "" && inm != "null" && (inm == tag || inm == "*") {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	out := obj{{"@odata.context", d.contextURL(q.contextFragment(et.set) + "/$entity")}}
	out = append(out, d.project(q, rec)...)
	w.Header().Set("ETag", tag)
	writeJSON(w, http.StatusOK, dvJSON, out)
}

// requireAdmin enforces the emulator's write rule: the caller holds System
// Administrator, directly or through a team.
func (s *Server) requireAdmin(w http.ResponseWriter, d *dvReq, privilege string) bool {
	uid, _ := d.user["systemuserid"].(string)
	if d.env.holdsRole(uid, systemAdminRoleTemplateID) {
		return true
	}
	dvError(w, http.StatusForbidden, codePrivilege, fmt.Sprintf("Principal user (Id=%s, type=8) is missing %s privilege. The emulator requires the System Administrator role for every write.", uid, privilege))
	return false
}

var writableSets = map[string]bool{"organizations": true, "sharepointsites": true, "sharepointdocumentlocations": true}

// ifMatch checks the If-Match header against the row's ETag.
func ifMatch(w http.ResponseWriter, r *http.Request, rec row) bool {
	im := r.Header.Get("If-Match")
	if im == "" || im == "*" || im == etag(rec) {
		return true
	}
	dvError(w, http.StatusPreconditionFailed, codeConcurrency, "The version of the existing record doesn't match the RowVersion property provided.")
	return false
}

// applyBody validates a write body against et and returns the column
// changes. isCreate allows the primary key.
func (d *dvReq) applyBody(et *entityType, body map[string]any, isCreate bool) (row, int, string, string) {
	changes := row{}
	for _, k := range sortedKeys(body) {
		v := jsonScalar(body[k])
		if nav, ok := strings.CutSuffix(k, "@odata.bind"); ok {
			b, ok := et.bindFor(nav)
			if !ok {
				return nil, http.StatusBadRequest, codeQuery, fmt.Sprintf("An undeclared property '%s' which only has property annotations in the payload but no property value was found in the payload.", nav)
			}
			ref, ok := v.(string)
			if !ok {
				return nil, http.StatusBadRequest, codePayload, fmt.Sprintf("The value of '%s' must be a string like /sharepointsites(<id>).", k)
			}
			set, id, ok := parseBindRef(ref)
			if !ok || (b.set != "" && set != b.set) {
				return nil, http.StatusBadRequest, codePayload, fmt.Sprintf("'%s' is not a valid reference for %s.", ref, k)
			}
			if b.set != "" {
				if _, exists := d.env.tables[set].get(id, false); !exists {
					return nil, http.StatusNotFound, codeNoRecord, fmt.Sprintf("%s With Id = %s Does Not Exist", entityTypes[set].logical, id)
				}
			}
			changes[b.column] = id
			if b.set != "" {
				changes[b.column+"@"+lookupAnnotation] = entityTypes[set].logical
			} else if _, table, ok := strings.Cut(nav, "_"); ok {
				changes[b.column+"@"+lookupAnnotation] = table // regardingobjectid_<table>
			}
			continue
		}
		if strings.HasPrefix(k, "@") || strings.Contains(k, "@") {
			continue // instance annotations such as @odata.type or @odata.etag
		}
		c, ok := et.column(k)
		if !ok {
			return nil, http.StatusBadRequest, codeQuery, fmt.Sprintf("Invalid property '%s' was found in entity '%s'.", k, et.typeName())
		}
		if c.readOnly && !(isCreate && k == et.key) {
			return nil, http.StatusBadRequest, codePayload, fmt.Sprintf("The property '%s' of '%s' cannot be written.", k, et.typeName())
		}
		cv, err := convertValue(c, v)
		if err != nil {
			if c.choices != nil && strings.Contains(err.Error(), "outside the valid range") {
				n, _ := toInt64(v)
				return nil, http.StatusBadRequest, codeValidation, fmt.Sprintf("A validation error occurred. The value %d of '%s' on record of type '%s' is outside the valid range. Accepted Values: %s", n, k, et.logical, choiceList(c.choices))
			}
			return nil, http.StatusBadRequest, codePayload, fmt.Sprintf("Cannot convert the value of '%s' to the expected type '%s'.", k, c.typ.EdmName())
		}
		changes[k] = cv
	}
	return changes, 0, "", ""
}

var bindRefRE = regexp.MustCompile(`(?:^|/)([a-z_]+)\(([0-9a-fA-F-]{36})\)$`)

func parseBindRef(ref string) (set, id string, ok bool) {
	m := bindRefRE.FindStringSubmatch(ref)
	if m == nil || !isGUID(m[2]) {
		return "", "", false
	}
	if _, known := entityTypes[m[1]]; !known && !strings.HasSuffix(m[1], "s") {
		return "", "", false
	}
	return m[1], strings.ToLower(m[2]), true
}

// fixState keeps statecode and statuscode consistent (facts §2).
func fixState(et *entityType, rec, changes row) (string, bool) {
	if _, ok := et.column("statecode"); !ok {
		return "", true
	}
	state, stateSet := changes["statecode"].(int64)
	status, statusSet := changes["statuscode"].(int64)
	if stateSet && !statusSet {
		changes["statuscode"] = state + 1
		return "", true
	}
	if !stateSet && statusSet {
		state, _ = rec["statecode"].(int64)
	}
	if statusSet && status != state+1 {
		return fmt.Sprintf("A validation error occurred. %d is not a valid status code for state code %d on %s.", status, state, et.logical), false
	}
	return "", true
}

func (s *Server) dvUpdate(w http.ResponseWriter, d *dvReq, et *entityType, rec row) {
	if !writableSets[et.set] {
		dvError(w, http.StatusMethodNotAllowed, codeQuery, fmt.Sprintf("The emulator does not support PATCH on %s.", et.set))
		return
	}
	if !s.requireAdmin(w, d, "prvWrite"+et.logical) {
		return
	}
	if !ifMatch(w, d.r, rec) {
		return
	}
	body, err := decodeJSONBody(d.r)
	if err != nil {
		dvError(w, http.StatusBadRequest, codePayload, err.Error())
		return
	}
	changes, status, code, msg := d.applyBody(et, body, false)
	if status != 0 {
		dvError(w, status, code, msg)
		return
	}
	if id, ok := changes[et.key]; ok && id != rec[et.key] {
		dvError(w, http.StatusBadRequest, codePayload, "The primary key cannot be changed.")
		return
	}
	if msg, ok := fixState(et, rec, changes); !ok {
		dvError(w, http.StatusBadRequest, codeValidation, msg)
		return
	}
	for k, v := range changes {
		rec[k] = v
	}
	rec["versionnumber"] = d.env.nextVersion()
	rec["modifiedon"] = s.opts.Clock().UTC().Truncate(1e9)
	s.writeResult(w, d, et, rec, http.StatusOK)
}

// writeResult answers a write: 204 with OData-EntityId, or the row when
// Prefer: return=representation.
func (s *Server) writeResult(w http.ResponseWriter, d *dvReq, et *entityType, rec row, reprStatus int) {
	w.Header().Set("OData-EntityId", fmt.Sprintf("%s%s(%s)", d.base, et.set, rec[et.key]))
	if d.prefer["return"] == "representation" {
		opts, _ := parseQueryOptions(d.r.URL.RawQuery)
		q, err := parseDVQuery(opts, et, false, false)
		if err != nil {
			q = &dvQuery{et: et}
		}
		w.Header().Set("Preference-Applied", "return=representation")
		w.Header().Set("ETag", etag(rec))
		out := obj{{"@odata.context", d.contextURL(q.contextFragment(et.set) + "/$entity")}}
		writeJSON(w, reprStatus, dvJSON, append(out, d.project(q, rec)...))
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) dvDelete(w http.ResponseWriter, d *dvReq, et *entityType, rec row) {
	if et != locationType {
		dvError(w, http.StatusMethodNotAllowed, codeQuery, fmt.Sprintf("The emulator does not support DELETE on %s.", et.set))
		return
	}
	if !s.requireAdmin(w, d, "prvDelete"+et.logical) {
		return
	}
	if !ifMatch(w, d.r, rec) {
		return
	}
	d.env.tables[et.set].remove(rec[et.key].(string))
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) dvCreate(w http.ResponseWriter, d *dvReq, et *entityType) {
	if et != locationType {
		dvError(w, http.StatusMethodNotAllowed, codeQuery, fmt.Sprintf("The emulator does not support creating %s.", et.set))
		return
	}
	if !s.requireAdmin(w, d, "prvCreate"+et.logical) {
		return
	}
	body, err := decodeJSONBody(d.r)
	if err != nil {
		dvError(w, http.StatusBadRequest, codePayload, err.Error())
		return
	}
	changes, status, code, msg := d.applyBody(et, body, true)
	if status != 0 {
		dvError(w, status, code, msg)
		return
	}
	rec := row{}
	for _, c := range et.columns {
		rec[c.name] = c.def
	}
	if msg, ok := fixState(et, rec, changes); !ok {
		dvError(w, http.StatusBadRequest, codeValidation, msg)
		return
	}
	for k, v := range changes {
		rec[k] = v
	}
	id, _ := rec[et.key].(string)
	if id == "" {
		id = newGUID()
		rec[et.key] = id
	}
	tbl := d.env.tables[et.set]
	if _, dup := tbl.get(id, false); dup {
		dvError(w, http.StatusPreconditionFailed, codeDuplicate, "A record with matching key values already exists.")
		return
	}
	now := s.opts.Clock().UTC().Truncate(1e9)
	rec["versionnumber"] = d.env.nextVersion()
	rec["createdon"], rec["modifiedon"] = now, now
	tbl.add(rec)
	s.writeResult(w, d, et, rec, http.StatusCreated)
}

// setTeamsDocumentStatus serves the unbound action of facts §4.
func (s *Server) setTeamsDocumentStatus(w http.ResponseWriter, d *dvReq) {
	if !s.requireAdmin(w, d, "prvWriteEntity") {
		return
	}
	body, err := decodeJSONBody(d.r)
	if err != nil {
		dvError(w, http.StatusBadRequest, codePayload, err.Error())
		return
	}
	for k := range body {
		if k != "Enable" && k != "LogicalEntityNames" {
			dvError(w, http.StatusBadRequest, codePayload, fmt.Sprintf("The parameter '%s' in the request payload is not a valid parameter for the operation 'msdyn_SetTeamsDocumentStatus'.", k))
			return
		}
	}
	enable, ok := body["Enable"].(bool)
	if !ok {
		dvError(w, http.StatusBadRequest, codePayload, "The parameter 'Enable' (Edm.Boolean) is required.")
		return
	}
	namesRaw, ok := body["LogicalEntityNames"].(string)
	if !ok {
		dvError(w, http.StatusBadRequest, codePayload, "The parameter 'LogicalEntityNames' (Edm.String) is required: a JSON array serialized as a string, e.g. \"[\\\"account\\\"]\".")
		return
	}
	names, err := parseNameList(namesRaw)
	if err != nil {
		dvError(w, http.StatusBadRequest, codePayload, "LogicalEntityNames: "+err.Error())
		return
	}
	var passed, failed []string
	for _, n := range names {
		if def := d.env.entityByName(n); def != nil && def.customizable {
			def.IsMSTeamsIntegrationEnabled = enable
			passed = append(passed, def.LogicalName)
		} else {
			failed = append(failed, n)
		}
	}
	writeJSON(w, http.StatusOK, dvJSON, obj{
		{"@odata.context", d.contextURL("Microsoft.Dynamics.CRM.msdyn_SetTeamsDocumentStatusResponse")},
		{"PassedLogicalEntityNames", "[" + strings.Join(passed, ",") + "]"},
		{"FailedLogicalEntityNames", "[" + strings.Join(failed, ",") + "]"},
		{"OperationResult", len(failed) == 0},
	})
}

// parseNameList reads the JSON array of strings the action takes as a string.
func parseNameList(s string) ([]string, error) {
	var names []string
	if err := json.Unmarshal([]byte(s), &names); err != nil {
		return nil, fmt.Errorf("%q is not a JSON array of strings", s)
	}
	return names, nil
}
