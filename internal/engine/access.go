package engine

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/teamslink/teamslink/internal/finding"
	"github.com/teamslink/teamslink/internal/permissions"
	"github.com/teamslink/teamslink/internal/snapshot"
)

// permissionFor returns what the request source of the section at path
// needs, from the one permissions table (internal/permissions, the source
// of docs/permissions.md), or "" for a section the table does not know.
func permissionFor(path, source string) string {
	return permissions.Needs(path, source)
}

// sectionAt returns the section at a snapshot path such as
// "environment.documentLocations", or nil for one the snapshot has not.
func sectionAt(t *snapshot.Tenant, e *snapshot.Environment, path string) *snapshot.Section {
	switch path {
	case "tenant.licenses":
		return &t.Licenses.Section
	case "tenant.consent":
		return &t.Consent.Section
	case "tenant.caller":
		return &t.Caller.Section
	case "tenant.sharePoint":
		return &t.SharePoint.Section
	case "tenant.groupSettings":
		if t.GroupSettings != nil {
			return &t.GroupSettings.Section
		}
	case "environment.organization":
		return &e.Organization.Section
	case "environment.sharePointSites":
		return &e.SharePointSites.Section
	case "environment.documentLocations":
		return &e.DocumentLocations.Section
	case "environment.entities":
		return &e.Entities.Section
	case "environment.caller":
		return &e.Caller.Section
	case "environment.rolePrivileges":
		if e.RolePrivileges != nil {
			return &e.RolePrivileges.Section
		}
	}
	return nil
}

// adviseAll fits the advice of the environment's findings to their status:
// fail, warn and waived keep the rule's remediation and fix; manual keeps
// the remediation (the steps to check by hand) without the fix; pass and
// skip carry neither; error carries neither and, when it names the snapshot
// section it could not read, the Access that says how to read it; when the
// tenant's sign-in failed (signIn), that access points to the sign-in error.
func adviseAll(findings []finding.Finding, t *snapshot.Tenant, e *snapshot.Environment, signIn *finding.SignInError) {
	for i := range findings {
		f := &findings[i]
		switch f.Status {
		case finding.StatusFail, finding.StatusWarn, finding.StatusWaived:
			continue
		case finding.StatusManual:
			f.Fix = nil
			continue
		}
		f.Remediation, f.Fix = "", nil
		if f.Status != finding.StatusError || f.Internal {
			continue
		}
		path, _ := f.Evidence["section"].(string)
		if !strings.HasPrefix(path, "tenant.") && !strings.HasPrefix(path, "environment.") {
			continue // an invalid option or an unexpected input: nothing to read
		}
		f.Access = access(path, sectionAt(t, e, path))
		if signIn != nil {
			pointToSignIn(f, signIn)
		}
	}
}

// access builds the advice for the section at path, which sec holds (nil
// when the snapshot has no such section).
func access(path string, sec *snapshot.Section) *finding.Access {
	a := &finding.Access{Section: path}
	if sec != nil {
		a.Source, a.HTTPStatus = sec.Source, sec.HTTPStatus
	}
	a.Permission = permissionFor(path, a.Source)
	needs := a.Permission
	if needs == "" {
		needs = "a permission teamslink's table does not list for section " + path
	}
	dataverse := strings.HasPrefix(path, "environment.")
	switch {
	case sec == nil:
		a.Advice = "The snapshot has no section " + path + ": collect it again with this teamslink. Its requests need " + needs + "."
	case sec.Status == snapshot.StatusSkipped:
		a.Advice = "The section was not read on purpose (" + strings.TrimSuffix(sec.Error, ".") + "). Reading it needs " + needs + "."
	case len(sec.Missing) > 0:
		a.Advice = "The service answered without " + strings.Join(sec.Missing, ", ") + ", which the rules read and never assume: check that the request still returns them. It needs " + needs + "."
	case sec.Status == snapshot.StatusOK:
		a.Advice = "The service answered, but not with the data the rules read (see the message). The request needs " + needs + "."
	case sec.HTTPStatus == http.StatusUnauthorized:
		who := "belong to this tenant"
		if dataverse {
			who = "belong to this tenant and be a user of the environment"
		}
		a.Advice = "The service did not accept the token (HTTP 401): the identity teamslink signs in as must " + who + "; sign in again and scan. The request needs " + needs + "."
	case sec.HTTPStatus == http.StatusForbidden:
		a.Advice = "The identity teamslink signs in as may not read this (HTTP 403): grant it " + needs + ", then scan again."
	case sec.HTTPStatus == http.StatusTooManyRequests || sec.HTTPStatus == http.StatusServiceUnavailable:
		a.Advice = fmt.Sprintf("The service kept throttling or was unavailable (HTTP %d) beyond teamslink's retries: scan again later. The request needs %s.", sec.HTTPStatus, needs)
	case sec.HTTPStatus == http.StatusNotFound:
		a.Advice = "The service answered HTTP 404 (not found): check the URLs in tenants.yaml (the environment URL, sharePointAdminUrl). The request needs " + needs + "."
	case sec.HTTPStatus >= 500:
		a.Advice = fmt.Sprintf("The service failed (HTTP %d): scan again later; its error is in the message. The request needs %s.", sec.HTTPStatus, needs)
	case sec.HTTPStatus >= 400:
		a.Advice = fmt.Sprintf("The service refused the request (HTTP %d); its error is in the message. The request needs %s.", sec.HTTPStatus, needs)
	default:
		a.Advice = "The request got no usable answer (a network error, a timeout, or an answer teamslink could not read; the message says which): check the connection and scan again. The request needs " + needs + "."
	}
	return a
}
