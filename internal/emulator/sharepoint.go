package emulator

import (
	"fmt"
	"html"
	"net/http"
	"strconv"
	"strings"
)

// spoError writes a SharePoint REST error: {"odata.error":…} in the JSON
// light formats, {"error":…} with odata=verbose.
func spoError(w http.ResponseWriter, verbose bool, status int, code, msg string) {
	body := obj{{"code", code}, {"message", obj{{"lang", "en-US"}, {"value", msg}}}}
	if verbose {
		writeJSON(w, status, "application/json;odata=verbose;charset=utf-8", obj{{"error", body}})
		return
	}
	writeJSON(w, status, "application/json;odata=nometadata;charset=utf-8", obj{{"odata.error", body}})
}

// serveSharePoint serves GET /_api/SPO.Tenant on the admin host (facts §10):
// the tenant's ConditionalAccessPolicy as a number or a name, in the
// verbose (wrapped in "d"), nometadata or minimalmetadata JSON formats, or
// Atom XML when the client does not ask for JSON (SharePoint's default).
func (s *Server) serveSharePoint(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	s.lock(rc)
	defer s.unlock(rc)
	if !s.authenticate(w, r, rc, "https://"+rc.host) {
		return
	}
	if !strings.EqualFold(strings.TrimSuffix(r.URL.Path, "/"), "/_api/SPO.Tenant") {
		spoError(w, rc.spoVerbose, http.StatusNotFound, "-1, Microsoft.SharePoint.Client.InvalidClientQueryException",
			fmt.Sprintf("The emulator serves /_api/SPO.Tenant only, not %s.", r.URL.Path))
		return
	}
	if r.Method != http.MethodGet {
		spoError(w, rc.spoVerbose, http.StatusMethodNotAllowed, "-1, Microsoft.SharePoint.Client.InvalidClientQueryException", "The emulator serves GET only.")
		return
	}
	spo := rc.tenant.spo
	if spo.accessDenied {
		spoError(w, rc.spoVerbose, http.StatusForbidden, "-2147024891, System.UnauthorizedAccessException", "Access denied. You do not have permission to perform this action or access this resource.")
		return
	}
	var policy any = spo.policy
	if spo.encoding == "name" {
		policy = spo.policyName
	}
	props := obj{{"ConditionalAccessPolicy", policy}}
	if spo.allowEditing != nil {
		props = append(props, kv{"AllowEditing", *spo.allowEditing})
	}
	accept := strings.ToLower(r.Header.Get("Accept"))
	const typeName = "Microsoft.Online.SharePoint.TenantAdministration.Tenant"
	switch {
	case strings.Contains(accept, "odata=verbose"):
		d := append(obj{{"__metadata", obj{
			{"id", "https://" + rc.host + "/_api/SPO.Tenant"},
			{"uri", "https://" + rc.host + "/_api/SPO.Tenant"},
			{"type", typeName},
		}}}, props...)
		writeJSON(w, http.StatusOK, "application/json;odata=verbose;charset=utf-8", obj{{"d", d}})
	case strings.Contains(accept, "odata=nometadata"):
		writeJSON(w, http.StatusOK, "application/json;odata=nometadata;charset=utf-8", props)
	case strings.Contains(accept, "application/json"):
		out := obj{
			{"odata.metadata", "https://" + rc.host + "/_api/$metadata#SP.ApiData.Tenants/@Element"},
			{"odata.type", typeName},
		}
		writeJSON(w, http.StatusOK, "application/json;odata=minimalmetadata;charset=utf-8", append(out, props...))
	default:
		s.spoAtom(w, rc, props, typeName)
	}
}

func (s *Server) spoAtom(w http.ResponseWriter, rc *reqCtx, props obj, typeName string) {
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="utf-8"?>`)
	fmt.Fprintf(&b, `<entry xml:base="https://%s/_api/" xmlns="http://www.w3.org/2005/Atom" xmlns:d="http://schemas.microsoft.com/ado/2007/08/dataservices" xmlns:m="http://schemas.microsoft.com/ado/2007/08/dataservices/metadata">`, rc.host)
	fmt.Fprintf(&b, `<category term="%s" scheme="http://schemas.microsoft.com/ado/2007/08/dataservices/scheme" /><content type="application/xml"><m:properties>`, typeName)
	for _, p := range props {
		switch v := p.v.(type) {
		case int:
			fmt.Fprintf(&b, `<d:%s m:type="Edm.Int32">%d</d:%s>`, p.k, v, p.k)
		case bool:
			fmt.Fprintf(&b, `<d:%s m:type="Edm.Boolean">%s</d:%s>`, p.k, strconv.FormatBool(v), p.k)
		default:
			fmt.Fprintf(&b, `<d:%s>%s</d:%s>`, p.k, html.EscapeString(fmt.Sprint(v)), p.k)
		}
	}
	b.WriteString(`</m:properties></content></entry>`)
	w.Header().Set("Content-Type", "application/atom+xml;type=entry;charset=utf-8")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write([]byte(b.String()))
}
