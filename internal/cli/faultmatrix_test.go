package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/teamslink/teamslink/internal/cloud"
	"github.com/teamslink/teamslink/internal/config"
	"github.com/teamslink/teamslink/internal/emulator"
	"github.com/teamslink/teamslink/internal/engine"
	"github.com/teamslink/teamslink/internal/finding"
	"github.com/teamslink/teamslink/internal/snapshot"
)

// The fault matrix: every request the collectors make, crossed with every
// fault the emulator can inject, each cell with the outcome it must have.
// One table (matrixCalls × matrixFaults, decided by expect) drives both
// TestFaultMatrix and docs/reliability.md (TestReliabilityDoc).
//
// The calls were read off the emulator's request log after a clean scan of
// the ready scenario (srv.Requests(), $batch parts as Children) and match
// collectors/dataverse, collectors/graph and collectors/sharepoint.

// Snapshot sections, as the policies name them in the evidence of an error
// finding ("section").
const (
	secLicenses   = "tenant.licenses"
	secConsent    = "tenant.consent"
	secTCaller    = "tenant.caller"
	secSharePoint = "tenant.sharePoint"
	secOrg        = "environment.organization"
	secSites      = "environment.sharePointSites"
	secLocations  = "environment.documentLocations"
	secEntities   = "environment.entities"
	secECaller    = "environment.caller"
	secGroups     = "tenant.groupSettings"
	secPrivs      = "environment.rolePrivileges"
)

var (
	tenantSections = []string{secLicenses, secConsent, secTCaller, secSharePoint, secGroups}
	envSections    = []string{secOrg, secSites, secLocations, secEntities, secECaller, secPrivs}
	allSections    = slices.Concat(tenantSections, envSections)
)

// ruleSections says which snapshot sections each built-in rule reads, from
// policies/teamslink/*/*.rego: a rule must report error, never pass, when one
// of them could not be read. TL-SP-001–003 read the organization and the
// sites to derive "SharePoint integration configured"
// (lib/sharepoint_integration.rego). A "rule/table" key overrides the rule's
// entry for that table: TL-ENT-002 skips account and contact, tables of the
// out-of-box Teams set (facts.out_of_box_tables), without reading metadata.
var ruleSections = map[string][]string{
	"TL-CONSENT-001":     {secConsent},
	"TL-ENT-001":         {secEntities},
	"TL-ENT-002":         {secEntities},
	"TL-ENT-002/account": nil,
	"TL-ENT-002/contact": nil,
	"TL-ENV-001":         {secOrg},
	"TL-ENV-002":         {secOrg},
	"TL-LIC-001":         {secLicenses},
	"TL-LIC-002":         {secLicenses},
	"TL-ROLE-001":        {secECaller},
	"TL-ROLE-002":        {secTCaller},
	"TL-SP-001":          {secOrg, secSites},
	"TL-SP-002":          {secOrg, secSites},
	"TL-SP-003":          {secOrg, secSites, secLocations},
	"TL-SP-004":          {secOrg},
	"TL-SP-005":          {secSharePoint},
	"TL-GRP-001":         {secGroups},
	"TL-ROLE-003":        {secPrivs},
	// The manual checks read nothing: no API shows what they ask.
	"TL-MAN-001": nil,
	"TL-MAN-002": nil,
	"TL-MAN-003": nil,
}

// The faulted tenant (the ready scenario) and the fault-free one beside it.
const (
	matrixTenant = "3f2b8c1e-6d4a-4b7e-9a15-2c8d0e7f4a61" // ready
	matrixOther  = "81b9f372-350a-507e-bf48-594caf519bc5" // spo-limited
	matrixClient = "5d2f8a61-3c4e-4b7a-9e1d-8f6a2c4b7e93"
	loginHost    = "login.microsoftonline.com"
	graphHost    = "graph.microsoft.com"
	dvHost       = "contoso-sales.crm.dynamics.com"
	spoHost      = "contoso-admin.sharepoint.com"
)

// Timing of the latency cells: every attempt of a Dataverse, Graph or
// SharePoint request of the faulted tenant has matrixRequestTimeout
// (endpoints.requestTimeout) and the fault waits longer. The fault-free
// tenant, and the other cells, keep the default deadline (30 s), so that a
// scan slowed by a busy machine never looks like a fault.
const (
	matrixRequestTimeout = 5 * time.Second
	matrixDelay          = "7s"
)

// callClass is how a call travels, which decides what a fault does to it.
type callClass int

const (
	// classLogin: Entra ID, through azidentity (its own retries, no
	// deadline of teamslink's).
	classLogin callClass = iota
	// classOuter: an HTTP request of its own to Dataverse, Graph or
	// SharePoint, through internal/odata.
	classOuter
	// classInnerDataverse: a request inside a Dataverse multipart $batch.
	classInnerDataverse
	// classInnerGraph: a request inside a Graph JSON $batch.
	classInnerGraph
)

// matrixCall is one request the collectors make when scanning the ready
// tenant.
type matrixCall struct {
	name string
	// caller is the ready tenant's caller in this row: "user" (as in the
	// scenario) or "app" (an application, whose roles come from
	// roleAssignments).
	caller string
	class  callClass
	match  emulator.FaultMatch
	// skip is how many earlier requests share the match (a follow-up $batch).
	skip int
	// hostCall marks the call that stands for its host in the tls and
	// wrong-audience rows, which act on every call to the host.
	hostCall bool
	// cae: the service answers a revoked token with a claims challenge, so
	// the client gets a new token instead of failing.
	cae bool
	// sections are read from the call's answer; none when the answer is
	// not used (the display-name search when the appId lookup finds the app).
	sections []string
	// batch are read from the request the call travels in: its own for an
	// outer call, its $batch for an inner one.
	batch []string
	// token are read with the same access token from this call on, in order:
	// what a token revoked at this call spoils.
	token []string
	// host are read through the call's host (for the hostCall).
	host []string
}

var (
	dvMain = envSections
	// graphMain are read from the first Graph $batch: the ready tenant has
	// no sharePointAdminUrl, so its GET sites/root travels there too.
	graphMain = []string{secLicenses, secConsent, secTCaller, secSharePoint, secGroups}
	graphAll  = []string{secLicenses, secConsent, secTCaller, secSharePoint, secGroups}
)

// matrixCalls are the rows of the matrix.
var matrixCalls = []matrixCall{
	{name: "Entra ID OpenID metadata", caller: "user", class: classLogin, hostCall: true,
		match: emulator.FaultMatch{Host: loginHost, Path: `/\.well-known/openid-configuration$`}, sections: allSections, host: allSections},
	{name: "Entra ID token endpoint", caller: "user", class: classLogin,
		match: emulator.FaultMatch{Host: loginHost, Path: `/oauth2/v2\.0/token$`}, sections: allSections},

	{name: "Dataverse $batch", caller: "user", class: classOuter, hostCall: true,
		match: emulator.FaultMatch{Host: dvHost, Path: `/\$batch$`, Scope: "outer"}, sections: dvMain, token: dvMain, host: envSections},
	{name: "Dataverse WhoAmI", caller: "user", class: classInnerDataverse,
		match: emulator.FaultMatch{Host: dvHost, Path: `/WhoAmI$`, Scope: "inner"}, sections: []string{secECaller}, batch: dvMain, token: dvMain},
	{name: "Dataverse organizations", caller: "user", class: classInnerDataverse,
		match: emulator.FaultMatch{Host: dvHost, Path: `/organizations\?`, Scope: "inner"}, sections: []string{secOrg}, batch: dvMain,
		token: []string{secOrg, secSites, secLocations, secEntities, secECaller, secPrivs}},
	{name: "Dataverse sharepointsites", caller: "user", class: classInnerDataverse,
		match: emulator.FaultMatch{Host: dvHost, Path: `/sharepointsites\?`, Scope: "inner"}, sections: []string{secSites}, batch: dvMain,
		token: []string{secSites, secLocations, secEntities, secECaller, secPrivs}},
	{name: "Dataverse sharepointdocumentlocations ($count=true)", caller: "user", class: classInnerDataverse,
		match: emulator.FaultMatch{Host: dvHost, Path: `/sharepointdocumentlocations\?.*\$count=true`, Scope: "inner"}, sections: []string{secLocations}, batch: dvMain,
		token: []string{secLocations, secEntities, secECaller, secPrivs}},
	{name: "Dataverse EntityDefinitions", caller: "user", class: classInnerDataverse,
		match: emulator.FaultMatch{Host: dvHost, Path: `/EntityDefinitions\?`, Scope: "inner"}, sections: []string{secEntities}, batch: dvMain,
		token: []string{secEntities, secECaller, secPrivs}},
	{name: "Dataverse privileges", caller: "user", class: classInnerDataverse,
		match: emulator.FaultMatch{Host: dvHost, Path: `/privileges\?`, Scope: "inner"}, sections: []string{secPrivs}, batch: dvMain, token: []string{secECaller, secPrivs}},
	{name: "Dataverse systemusers (enabled, $count=true)", caller: "user", class: classInnerDataverse,
		match: emulator.FaultMatch{Host: dvHost, Path: `/systemusers\?`, Scope: "inner"}, sections: []string{secPrivs}, batch: dvMain, token: []string{secECaller, secPrivs}},
	{name: "Dataverse systemuserrolescollection", caller: "user", class: classInnerDataverse,
		match: emulator.FaultMatch{Host: dvHost, Path: `/systemuserrolescollection\?`, Scope: "inner"}, sections: []string{secPrivs}, batch: dvMain, token: []string{secECaller, secPrivs}},
	{name: "Dataverse teamrolescollection", caller: "user", class: classInnerDataverse,
		match: emulator.FaultMatch{Host: dvHost, Path: `/teamrolescollection\?`, Scope: "inner"}, sections: []string{secPrivs}, batch: dvMain, token: []string{secECaller, secPrivs}},
	{name: "Dataverse roles $batch (follow-up)", caller: "user", class: classOuter, skip: 1,
		match: emulator.FaultMatch{Host: dvHost, Path: `/\$batch$`, Scope: "outer"}, sections: []string{secECaller, secPrivs}, token: []string{secECaller, secPrivs}},
	{name: "Dataverse systemuserroles_association", caller: "user", class: classInnerDataverse,
		match: emulator.FaultMatch{Host: dvHost, Path: `/systemuserroles_association\?`, Scope: "inner"}, sections: []string{secECaller}, batch: []string{secECaller, secPrivs}, token: []string{secECaller, secPrivs}},
	{name: "Dataverse teammembership_association", caller: "user", class: classInnerDataverse,
		match: emulator.FaultMatch{Host: dvHost, Path: `/teammembership_association\?`, Scope: "inner"}, sections: []string{secECaller}, batch: []string{secECaller, secPrivs}, token: []string{secECaller, secPrivs}},
	{name: "Dataverse roleprivilegescollection", caller: "user", class: classInnerDataverse,
		match: emulator.FaultMatch{Host: dvHost, Path: `/roleprivilegescollection\?`, Scope: "inner"}, sections: []string{secPrivs}, batch: []string{secECaller, secPrivs}, token: []string{secPrivs}},

	{name: "Graph $batch", caller: "user", class: classOuter, hostCall: true, cae: true,
		match: emulator.FaultMatch{Host: graphHost, Path: `/\$batch$`, Scope: "outer"}, sections: graphMain, host: graphAll},
	{name: "Graph subscribedSkus", caller: "user", class: classInnerGraph, cae: true,
		match: emulator.FaultMatch{Host: graphHost, Path: `/subscribedSkus\?`, Scope: "inner"}, sections: []string{secLicenses}, batch: graphMain, token: graphMain},
	{name: "Graph servicePrincipals by appId (collaboration app)", caller: "user", class: classInnerGraph, cae: true,
		match: emulator.FaultMatch{Host: graphHost, Path: `/servicePrincipals\(appId='a8adde6c-aeb4-4fd6-9d8f-c2dfdecac60a'\)`, Scope: "inner"}, sections: []string{secConsent}, batch: graphMain,
		token: []string{secConsent, secTCaller, secGroups}},
	{name: "Graph servicePrincipals by displayName", caller: "user", class: classInnerGraph, cae: true,
		match: emulator.FaultMatch{Host: graphHost, Path: `/servicePrincipals\?\$filter=startswith\(displayName`, Scope: "inner"}, batch: graphMain,
		token: []string{secConsent, secTCaller, secGroups}},
	{name: "Graph servicePrincipals by appId (Microsoft Graph)", caller: "user", class: classInnerGraph, cae: true,
		match: emulator.FaultMatch{Host: graphHost, Path: `/servicePrincipals\(appId='00000003-0000-0000-c000-000000000000'\)`, Scope: "inner"}, sections: []string{secConsent}, batch: graphMain,
		token: []string{secConsent, secTCaller, secGroups}},
	{name: "Graph me", caller: "user", class: classInnerGraph, cae: true,
		match: emulator.FaultMatch{Host: graphHost, Path: `/me\?`, Scope: "inner"}, sections: []string{secTCaller}, batch: graphMain, token: []string{secTCaller, secGroups}},
	{name: "Graph me/memberOf", caller: "user", class: classInnerGraph, cae: true,
		match: emulator.FaultMatch{Host: graphHost, Path: `/me/memberOf/`, Scope: "inner"}, sections: []string{secTCaller}, batch: graphMain, token: []string{secTCaller, secGroups}},
	{name: "Graph groupSettings", caller: "user", class: classInnerGraph, cae: true,
		match: emulator.FaultMatch{Host: graphHost, Path: `/groupSettings`, Scope: "inner"}, sections: []string{secGroups}, batch: graphMain, token: []string{secGroups}},
	{name: "Graph sites/root", caller: "user", class: classInnerGraph, cae: true,
		match: emulator.FaultMatch{Host: graphHost, Path: `/sites/root\?`, Scope: "inner"}, sections: []string{secSharePoint}, batch: graphMain, token: []string{secSharePoint}},
	{name: "Graph $batch (follow-up)", caller: "user", class: classOuter, skip: 1, cae: true,
		match: emulator.FaultMatch{Host: graphHost, Path: `/\$batch$`, Scope: "outer"}, sections: []string{secConsent}},
	{name: "Graph oauth2PermissionGrants", caller: "user", class: classInnerGraph, cae: true,
		match: emulator.FaultMatch{Host: graphHost, Path: `/oauth2PermissionGrants\?`, Scope: "inner"}, sections: []string{secConsent}, batch: []string{secConsent}, token: []string{secConsent}},
	{name: "SharePoint _api/SPO.Tenant", caller: "user", class: classOuter, hostCall: true, cae: true,
		match: emulator.FaultMatch{Host: spoHost, Path: `/_api/SPO\.Tenant$`}, sections: []string{secSharePoint}, host: []string{secSharePoint}},

	{name: "Graph servicePrincipals by appId (the caller, an application)", caller: "app", class: classInnerGraph, cae: true,
		match: emulator.FaultMatch{Host: graphHost, Path: `/servicePrincipals\(appId='` + matrixClient + `'\)`, Scope: "inner"}, sections: []string{secTCaller}, batch: graphMain, token: []string{secTCaller}},
	{name: "Graph $batch (follow-up, application caller)", caller: "app", class: classOuter, skip: 1, cae: true,
		match: emulator.FaultMatch{Host: graphHost, Path: `/\$batch$`, Scope: "outer"}, sections: []string{secConsent, secTCaller}},
	{name: "Graph roleAssignments (application caller)", caller: "app", class: classInnerGraph, cae: true,
		match: emulator.FaultMatch{Host: graphHost, Path: `/roleManagement/directory/roleAssignments\?`, Scope: "inner"}, sections: []string{secTCaller}, batch: []string{secConsent, secTCaller}, token: []string{secTCaller}},
}

// faultID names a column of the matrix.
type faultID int

const (
	fLatencyOnce faultID = iota
	fLatency
	f429Once
	f429
	f429NoRetryAfterOnce
	f429NoRetryAfter
	f500Once
	f502Once
	f503Once
	f503
	f504Once
	fResetOnce
	fReset
	fTLSOnce
	fTLS
	fTruncateOnce
	fTruncate
	fMalformed
	fOversize
	fContentType
	f401
	f403
	f404
	fExpiredToken
	fWrongAudience
)

// matrixFault is a column: the fault injected on the call's match.
type matrixFault struct {
	id    faultID
	name  string
	fault emulator.Fault
}

func statusFault(status, times int) emulator.Fault {
	return emulator.Fault{Kind: emulator.FaultStatus, Status: status, Times: times}
}

// matrixFaults are the columns. "once" faults fire on the first matching
// request only (times: 1), the others on every one.
var matrixFaults = []matrixFault{
	{fLatencyOnce, "latency past the deadline, once", emulator.Fault{Kind: emulator.FaultLatency, Delay: matrixDelay, Times: 1}},
	{fLatency, "latency past the deadline", emulator.Fault{Kind: emulator.FaultLatency, Delay: matrixDelay}},
	{f429Once, "429 with Retry-After, once", emulator.Fault{Kind: emulator.FaultThrottle, RetryAfter: "0.2", Times: 1}},
	{f429, "429 with Retry-After", emulator.Fault{Kind: emulator.FaultThrottle, RetryAfter: "1"}},
	{f429NoRetryAfterOnce, "429 without Retry-After, once", emulator.Fault{Kind: emulator.FaultThrottle, RetryAfter: "none", Times: 1}},
	{f429NoRetryAfter, "429 without Retry-After", emulator.Fault{Kind: emulator.FaultThrottle, RetryAfter: "none"}},
	{f500Once, "500, once", statusFault(500, 1)},
	{f502Once, "502, once", statusFault(502, 1)},
	{f503Once, "503, once", statusFault(503, 1)},
	{f503, "503", statusFault(503, 0)},
	{f504Once, "504, once", statusFault(504, 1)},
	{fResetOnce, "connection reset, once", emulator.Fault{Kind: emulator.FaultReset, Times: 1}},
	{fReset, "connection reset", emulator.Fault{Kind: emulator.FaultReset}},
	{fTLSOnce, "TLS handshake failure, once", emulator.Fault{Kind: emulator.FaultTLS, Times: 1}},
	{fTLS, "TLS handshake failure", emulator.Fault{Kind: emulator.FaultTLS}},
	{fTruncateOnce, "body truncated, once", emulator.Fault{Kind: emulator.FaultTruncate, Times: 1}},
	{fTruncate, "body truncated", emulator.Fault{Kind: emulator.FaultTruncate}},
	{fMalformed, "malformed body", emulator.Fault{Kind: emulator.FaultMalformed}},
	{fOversize, "oversize body (17 MiB)", emulator.Fault{Kind: emulator.FaultOversize, Size: "17MiB"}},
	{fContentType, "text/html instead of JSON", emulator.Fault{Kind: emulator.FaultContentType, ContentType: "text/html"}},
	{f401, "401", statusFault(401, 0)},
	{f403, "403", statusFault(403, 0)},
	{f404, "404", statusFault(404, 0)},
	{fExpiredToken, "token expired mid-scan", emulator.Fault{Kind: emulator.FaultExpireToken, Times: 1}},
	{fWrongAudience, "token for another audience", emulator.Fault{Kind: emulator.FaultWrongAudience}},
}

// outcomeKind is what a cell must come to.
type outcomeKind int

const (
	// recovered: the client retried; every section is ok and the report is
	// the fault-free one.
	recovered outcomeKind = iota
	// unaffected: the answer is not used; the report is the fault-free one.
	unaffected
	// fallback: the client found the data another way; every section is ok
	// and every finding has its fault-free status.
	fallback
	// sectionError: exactly the listed sections are error, with a reason;
	// the rules reading them report error; the run exits 3.
	sectionError
)

// outcome is a cell's expectation.
type outcome struct {
	kind     outcomeKind
	sections []string // sectionError
	// how says, for the docs, how the client gets there.
	how string
}

func retried(how string) outcome { return outcome{kind: recovered, how: how} }

// failed is sectionError over sections, or unaffected when none reads them.
func failed(sections []string, how string) outcome {
	if len(sections) == 0 {
		return outcome{kind: unaffected, how: "the answer is not used"}
	}
	return outcome{kind: sectionError, sections: sections, how: how}
}

func (c matrixCall) batchSections() []string {
	if c.batch != nil || c.class != classOuter {
		return c.batch
	}
	return c.sections
}

// expect decides the cell of call c and fault f; ok is false where the
// fault cannot reach the call (tls and wrong-audience act on hosts, and
// the login host issues the tokens that expire) or where the cell would
// repeat another (a fault that outlasts every retry of an inner request's
// $batch is the $batch's row).
func expect(c matrixCall, f matrixFault) (outcome, bool) {
	inner := c.class == classInnerDataverse || c.class == classInnerGraph
	login := c.class == classLogin
	switch f.id {
	case fTLSOnce, fTLS, fWrongAudience:
		if !c.hostCall || (f.id == fWrongAudience && login) {
			return outcome{}, false
		}
	case fLatency, fReset, fTruncate, fOversize, f429NoRetryAfter:
		// Inside a $batch these damage the whole $batch (or, throttled
		// without Retry-After, differ from the row with it only in the wait).
		if inner {
			return outcome{}, false
		}
		if f.id == fOversize && login {
			// azidentity reads a token response whole, whatever its size;
			// one too large for JSON is the malformed row.
			return outcome{}, false
		}
	case fExpiredToken:
		if login {
			return outcome{}, false
		}
	}
	if login && persistentRetried(f.id) {
		// azidentity retries these with its own backoff (about 4 s, 8 s,
		// 16 s) before the error of the 401 row; see loginRetryNote.
		return outcome{}, false
	}
	if login {
		switch f.id {
		case fLatencyOnce, fLatency:
			return retried("the token request just takes longer: teamslink sets no deadline on it, the transport's is 2 minutes"), true
		case f429Once, f429NoRetryAfterOnce, f500Once, f502Once, f503Once, f504Once, fResetOnce, fTLSOnce, fTruncateOnce:
			return retried("azidentity retries the token request"), true
		}
		return failed(c.sections, "no token: every section of the tenant"), true
	}
	switch f.id {
	case fLatencyOnce:
		return retried("the attempt runs out of time (endpoints.requestTimeout) and the request is sent again"), true
	case f429Once, f429NoRetryAfterOnce:
		switch c.class {
		case classInnerGraph:
			return retried("the throttled inner request is sent again in a new $batch"), true
		case classInnerDataverse:
			return retried("the inner 429 is retried (inner Dataverse retries: being added to internal/odata)"), true
		}
		return retried("retried after Retry-After, or a backoff without one"), true
	case f429, f429NoRetryAfter:
		if inner {
			return failed(c.sections, "throttled after every retry"), true
		}
		return failed(c.batchSections(), "throttled after every retry"), true
	case f500Once:
		if inner {
			return failed(c.sections, "a 500 is final"), true
		}
		return failed(c.batchSections(), "a 500 is final"), true
	case f502Once, f504Once:
		if inner {
			return failed(c.sections, "inner 502 and 504 answers are not retried"), true
		}
		return retried("a GET, or a $batch of GETs, is safe to repeat, so 502 and 504 are retried"), true
	case f503Once:
		switch c.class {
		case classInnerGraph:
			return failed(c.sections, "Graph inner answers other than 429 are not retried"), true
		case classInnerDataverse:
			return retried("the inner 503 is retried (inner Dataverse retries: being added to internal/odata)"), true
		}
		return retried("retried with a backoff"), true
	case f503:
		if inner {
			return failed(c.sections, "unavailable after every retry"), true
		}
		return failed(c.batchSections(), "unavailable after every retry"), true
	case fLatency, fReset, fTruncate:
		return failed(c.batchSections(), "the request fails on every retry"), true
	case fResetOnce, fTruncateOnce:
		if inner {
			return retried("the connection carries the whole $batch, which is sent again"), true
		}
		return retried("sent again on a new connection"), true
	case fTLSOnce:
		return retried("the next connection's handshake succeeds"), true
	case fTLS:
		return failed(c.host, "no connection to the host"), true
	case fMalformed, fContentType:
		if inner {
			return failed(c.sections, "the answer cannot be decoded"), true
		}
		return failed(c.batchSections(), "the answer cannot be decoded"), true
	case fOversize:
		return failed(c.batchSections(), "the response exceeds the 16 MiB limit"), true
	case f401, f403:
		if inner {
			return failed(c.sections, "refused"), true
		}
		return failed(c.batchSections(), "refused (a 401 after one token refresh)"), true
	case f404:
		if c.name == "Graph servicePrincipals by appId (collaboration app)" {
			return outcome{kind: fallback, how: "not found by appId: found by display name instead"}, true
		}
		if inner {
			return failed(c.sections, "not found"), true
		}
		return failed(c.batchSections(), "not found"), true
	case fExpiredToken:
		if c.cae && (!inner || c.class == classInnerGraph) {
			// Inside a Graph $batch too: the refused parts are sent again.
			return retried("the claims challenge brings a new token"), true
		}
		return failed(c.token, "the token is refused from then on"), true
	case fWrongAudience:
		return failed(c.host, "every request to the host is refused (401)"), true
	}
	panic(fmt.Sprintf("no expectation for %s × %s", c.name, f.name))
}

// persistentRetried are the faults that outlast every retry of a request
// that is retried.
func persistentRetried(id faultID) bool {
	switch id {
	case f429NoRetryAfter, f503, fReset, fTLS, fTruncate:
		return true
	}
	return false
}

// loginRetryNote explains the login rows the matrix leaves out.
const loginRetryNote = "on the login host, the persistent 429 without Retry-After, 503, reset, TLS and truncation " +
	"rows are left out: azidentity retries the token request with its own backoff (about 4 s, 8 s and 16 s) " +
	"and then fails as in the 401 row, so every section of the tenant is error, after about half a minute;"

// matrixCell is one cell of the matrix.
type matrixCell struct {
	call   matrixCall
	fault  matrixFault
	expect outcome
}

func (c matrixCell) name() string { return c.call.name + "/" + c.fault.name }

// sharedHostCell: a tls fault on the login or Graph host fails every
// tenant's handshakes with it (a handshake names no tenant), so the
// fault-free tenant is moved to another cloud for these cells.
func (c matrixCell) sharedHostCell() bool {
	return (c.fault.id == fTLS || c.fault.id == fTLSOnce) && (c.call.match.Host == loginHost || c.call.match.Host == graphHost)
}

// wait estimates how long a cell waits for retries: cells that wait long
// start first, and give their slot up when they start waiting.
func (c matrixCell) wait() time.Duration {
	if c.call.class == classLogin {
		return 5 * time.Second // azidentity's backoff, or the wait for a token that does not come
	}
	switch c.fault.id {
	case fLatency:
		return 40 * time.Second // five deadlines and the backoff between them
	case f429NoRetryAfter, f503, fReset, fTLS, fTruncate:
		return 15 * time.Second // the backoff: about 1 s + 2 s + 4 s + 8 s
	case f429:
		return 4 * time.Second // Retry-After: 1 s, four times
	case fLatencyOnce:
		return 6 * time.Second
	case f429Once, f429NoRetryAfterOnce, f502Once, f503Once, f504Once, fResetOnce, fTLSOnce, fTruncateOnce:
		return time.Second
	}
	return 0
}

// requestTimeout is the endpoints.requestTimeout of the cell's scan.
func (c matrixCell) requestTimeout() time.Duration {
	if c.fault.fault.Kind == emulator.FaultLatency {
		return matrixRequestTimeout
	}
	return 0
}

func (c matrixCell) slow() bool { return c.wait() > 0 }

func matrixCells() []matrixCell {
	var cells []matrixCell
	for _, c := range matrixCalls {
		for _, f := range matrixFaults {
			if o, ok := expect(c, f); ok {
				cells = append(cells, matrixCell{call: c, fault: f, expect: o})
			}
		}
	}
	return cells
}

// matrixRig is what every cell shares: the scenario files, the demo
// config's two tenants, the secret and the engine.
type matrixRig struct {
	// scenarios are parsed once and copied per scan: the emulator only
	// reads them (the race detector would say otherwise).
	scenarios map[string]*emulator.Scenario
	tenants   map[string]config.Tenant
	secret    string
	eng       *engine.Engine
}

func newMatrixRig(t *testing.T) *matrixRig {
	t.Helper()
	rig := &matrixRig{scenarios: map[string]*emulator.Scenario{}, tenants: map[string]config.Tenant{}}
	var parsed []*emulator.Scenario
	for _, name := range []string{"ready", "spo-limited"} {
		data, err := os.ReadFile(filepath.Join(repoRoot, "testdata", "scenarios", name+".yaml"))
		if err != nil {
			t.Fatal(err)
		}
		sc, err := emulator.ParseScenario(data, name)
		if err != nil {
			t.Fatal(err)
		}
		rig.scenarios[name] = sc
		parsed = append(parsed, sc)
	}
	secret, err := sharedSecret(parsed)
	if err != nil {
		t.Fatal(err)
	}
	rig.secret = secret
	cfg, err := config.Load(filepath.Join(repoRoot, "testdata", "demo", "tenants.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, tn := range cfg.Tenants {
		if tn.ID == matrixTenant || tn.ID == matrixOther {
			rig.tenants[tn.ID] = tn
		}
	}
	if len(rig.tenants) != 2 {
		t.Fatalf("the demo config lacks the matrix tenants: %d found", len(rig.tenants))
	}
	// The time limit is for user policies on a quiet machine; here hundreds
	// of scans share two cores under -race.
	if rig.eng, err = engine.New(t.Context(), engine.Config{Timeout: time.Minute}); err != nil {
		t.Fatal(err)
	}
	return rig
}

// variant is the fleet a cell scans: the ready tenant's caller, and
// whether the fault-free tenant is in another cloud.
type variant struct {
	caller     string
	otherCloud bool
}

// scanResult is what one scan of the fleet gave.
type scanResult struct {
	snap     *snapshot.Snapshot
	rep      *finding.Report
	requests []emulator.LoggedRequest
	took     time.Duration
	err      error
}

// scan starts an emulator with the fleet of v, the fault (if any) in the
// ready tenant, collects and evaluates both tenants. It reports errors
// instead of failing a test: it runs outside the test goroutine.
func (rig *matrixRig) scan(ctx context.Context, v variant, fault *emulator.Fault, timeout time.Duration) scanResult {
	start := time.Now()
	res := scanResult{}
	ready, other := *rig.scenarios["ready"], *rig.scenarios["spo-limited"]
	ready.ServicePrincipals, ready.Faults = slices.Clip(ready.ServicePrincipals), slices.Clip(ready.Faults)
	switch v.caller {
	case "app":
		ready.Caller.Type = "app"
	default:
		// Client credentials need the app's service principal in the
		// tenant: a real tenant always has it, so a collector that takes
		// the application for the caller whenever /me fails is seen to.
		ready.ServicePrincipals = append(ready.ServicePrincipals, emulator.ServicePrincipal{
			ID: "c3a1f0e2-7b4d-4e8a-9f61-2d5b8c0e4a17", AppID: matrixClient, DisplayName: "teamslink scanner",
		})
	}
	if v.otherCloud {
		other.Tenant.Cloud = string(cloud.GCCHigh)
	}
	if fault != nil {
		ready.Faults = append(ready.Faults, *fault)
	}
	srv, err := emulator.New(emulator.Options{Scenarios: []*emulator.Scenario{&ready, &other}, Clock: time.Now})
	if err != nil {
		return scanResult{err: err}
	}
	if err := srv.Start(); err != nil {
		return scanResult{err: err}
	}
	defer srv.Close()
	cfg := &config.Config{}
	for _, id := range []string{matrixTenant, matrixOther} {
		tn := rig.tenants[id]
		tn.Endpoints.ConnectTo, tn.Endpoints.CAFile = srv.Addr(), srv.CAFile()
		if id == matrixTenant {
			// Only the faulted tenant gets the short deadline: the
			// fault-free one keeps the default, so a busy machine does
			// not make its findings change.
			tn.Endpoints.RequestTimeout = timeout
		}
		if id == matrixOther && v.otherCloud {
			tn.Cloud = cloud.GCCHigh
		}
		cfg.Tenants = append(cfg.Tenants, tn)
	}
	deps := Deps{
		Stdout: io.Discard, Stderr: io.Discard, Version: "test",
		Now:       func() time.Time { return time.Date(2026, 11, 2, 9, 15, 0, 0, time.UTC) },
		LookupEnv: func(name string) (string, bool) { return rig.secret, name == demoSecretEnv },
	}
	if res.snap, err = collectSnapshot(ctx, cfg, deps, nil); err != nil {
		return scanResult{err: err}
	}
	if res.rep, err = rig.eng.Evaluate(ctx, res.snap, engine.Options{Now: deps.Now}); err != nil {
		return scanResult{err: err}
	}
	res.requests = srv.Requests()
	// A handler that lost its client (a cut or oversize body) may log its
	// request a moment after the client has moved on.
	for wait := 0; fault != nil && countFault(res.requests, fault.Name) == 0 && wait < 100; wait++ {
		time.Sleep(20 * time.Millisecond)
		res.requests = srv.Requests()
	}
	res.took = time.Since(start)
	return res
}

// matrixSlots bounds the scans working at once; matrixBurst is how long a
// cell that waits for retries keeps its slot.
const (
	matrixSlots = 4
	matrixBurst = 500 * time.Millisecond
)

// matrixFaultName labels the injected fault in the request log.
const matrixFaultName = "matrix"

// injected is the fault of a cell, on the call's match.
func (c matrixCell) injected() emulator.Fault {
	f := c.fault.fault
	f.Name = matrixFaultName
	f.Match = c.call.match
	f.Skip = c.call.skip
	if f.Kind == emulator.FaultTLS || f.Kind == emulator.FaultWrongAudience {
		f.Match = emulator.FaultMatch{Host: c.call.match.Host}
		f.Skip = 0
	}
	return f
}

func (c matrixCell) variant() variant {
	return variant{caller: c.call.caller, otherCloud: c.sharedHostCell()}
}

// TestFaultMatrix scans the ready tenant, beside a fault-free one, once per
// cell of the matrix and checks the cell's outcome; then that no cell passed
// a rule on data that was not read. The scans run in a pool of their own
// (most of them wait for retries, which -parallel would serialise); each
// cell's checks are a subtest.
func TestFaultMatrix(t *testing.T) {
	t.Parallel()
	rig := newMatrixRig(t)
	cells := matrixCells()
	order := make([]int, len(cells))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return cells[order[a]].wait() > cells[order[b]].wait() })

	var variants []variant
	for _, c := range cells {
		if !slices.Contains(variants, c.variant()) {
			variants = append(variants, c.variant())
		}
	}
	base := make([]scanResult, len(variants))
	results := make([]scanResult, len(cells))
	// A few scans work at once, so that CPU contention under -race stays
	// well inside the request deadline; a cell that waits for retries gives
	// its slot up once its first burst of work is done.
	var wg sync.WaitGroup
	fast := make(chan struct{}, matrixSlots)
	run := func(out *scanResult, v variant, f *emulator.Fault, timeout time.Duration, slow bool) {
		wg.Go(func() {
			fast <- struct{}{}
			done := make(chan struct{})
			go func() {
				defer close(done)
				*out = rig.scan(t.Context(), v, f, timeout)
			}()
			if slow {
				// Its burst of work is over when it starts waiting.
				select {
				case <-done:
				case <-time.After(matrixBurst):
				}
				<-fast
				<-done
				return
			}
			<-done
			<-fast
		})
	}
	start := time.Now()
	// The fault-free scans every cell is compared with run first, alone.
	for i, v := range variants {
		run(&base[i], v, nil, 0, false)
	}
	wg.Wait()
	for _, i := range order {
		f := cells[i].injected()
		run(&results[i], cells[i].variant(), &f, cells[i].requestTimeout(), cells[i].slow())
	}
	wg.Wait()
	slowest := slices.Clone(order)
	sort.Slice(slowest, func(a, b int) bool { return results[slowest[a]].took > results[slowest[b]].took })
	for _, i := range slowest[:5] {
		t.Logf("slowest: %s %v", cells[i].name(), results[i].took)
	}
	t.Logf("%d cells (%d calls × %d faults, less those that do not apply) in %v", len(cells), len(matrixCalls), len(matrixFaults), time.Since(start))

	baselines := map[variant]scanResult{}
	for i, v := range variants {
		if base[i].err != nil {
			t.Fatalf("fault-free scan %+v: %v", v, base[i].err)
		}
		if e := erroredSections(base[i].snap, matrixTenant); len(e) > 0 {
			t.Fatalf("fault-free scan %+v has errored sections %v", v, e)
		}
		baselines[v] = base[i]
	}
	var passes []string
	for i, c := range cells {
		res := results[i]
		t.Run(c.name(), func(t *testing.T) {
			checkCell(t, c, res, baselines[c.variant()])
		})
		if res.err == nil {
			passes = append(passes, passesOnUnreadData(c, res)...)
		}
	}
	t.Run("no pass on data not read", func(t *testing.T) {
		for _, p := range passes {
			t.Error(p)
		}
	})
}

// erroredSections lists the tenant's sections (and its environment's) with
// status error, as the policies name them.
func erroredSections(snap *snapshot.Snapshot, tenant string) []string {
	st := sectionStatuses(snap, tenant)
	var out []string
	for _, s := range allSections {
		if st[s].Status == snapshot.StatusError {
			out = append(out, s)
		}
	}
	return out
}

// sectionStatuses maps the tenant's section names to the sections.
func sectionStatuses(snap *snapshot.Snapshot, tenant string) map[string]snapshot.Section {
	out := map[string]snapshot.Section{}
	for _, tn := range snap.Tenants {
		if tn.ID == tenant {
			out[secLicenses], out[secConsent], out[secTCaller], out[secSharePoint] = tn.Licenses.Section, tn.Consent.Section, tn.Caller.Section, tn.SharePoint.Section
			if tn.GroupSettings != nil {
				out[secGroups] = tn.GroupSettings.Section
			}
		}
	}
	for _, e := range snap.Environments {
		if e.TenantID == tenant {
			out[secOrg], out[secSites], out[secLocations], out[secEntities], out[secECaller] = e.Organization.Section, e.SharePointSites.Section, e.DocumentLocations.Section, e.Entities.Section, e.Caller.Section
			if e.RolePrivileges != nil {
				out[secPrivs] = e.RolePrivileges.Section
			}
		}
	}
	return out
}

// tenantFindings returns the findings of the tenant's environments.
func tenantFindings(rep *finding.Report, tenant string) []finding.Finding {
	var out []finding.Finding
	for _, f := range rep.Findings() {
		if f.Tenant == tenant {
			out = append(out, f)
		}
	}
	return out
}

func findingsJSON(t *testing.T, fs []finding.Finding) string {
	t.Helper()
	b, err := json.MarshalIndent(fs, "", " ")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// sectionsRead are the sections finding f's rule reads for its table.
func sectionsRead(f finding.Finding) []string {
	if s, ok := ruleSections[f.Rule+"/"+f.Table]; ok && f.Table != "" {
		return s
	}
	return ruleSections[f.Rule]
}

// readsAny reports whether f's rule reads one of sections.
func readsAny(f finding.Finding, sections []string) bool {
	for _, s := range sectionsRead(f) {
		if slices.Contains(sections, s) {
			return true
		}
	}
	return false
}

// observed sums up a scan for a failure message.
func observed(res scanResult) string {
	errored := erroredSections(res.snap, matrixTenant)
	var b strings.Builder
	if len(errored) == 0 {
		b.WriteString("every section ok")
	} else {
		b.WriteString("error: " + strings.Join(errored, ", "))
	}
	var pass []string
	for _, f := range tenantFindings(res.rep, matrixTenant) {
		if f.Status == finding.StatusPass {
			pass = append(pass, f.Rule)
		}
	}
	fmt.Fprintf(&b, "; caller %s; exit %d; passes %s", callerType(res.snap), res.rep.ExitCode(finding.FailOnFail), strings.Join(slices.Compact(pass), " "))
	return b.String()
}

func callerType(snap *snapshot.Snapshot) string {
	for _, tn := range snap.Tenants {
		if tn.ID == matrixTenant {
			return tn.Caller.Type
		}
	}
	return ""
}

func checkCell(t *testing.T, c matrixCell, res, base scanResult) {
	t.Helper()
	if res.err != nil {
		t.Fatal(res.err)
	}
	if n := countFault(res.requests, matrixFaultName); n == 0 {
		t.Errorf("the fault never fired: the call's match %+v (skip %d) reaches no request", c.call.match, c.call.skip)
	}
	// The fault-free tenant is untouched.
	if got, want := findingsJSON(t, tenantFindings(res.rep, matrixOther)), findingsJSON(t, tenantFindings(base.rep, matrixOther)); got != want {
		t.Errorf("the fault-free tenant's findings changed:\n%s", lineDiff(want, got))
	}
	if e := erroredSections(res.snap, matrixOther); len(e) > 0 {
		t.Errorf("the fault-free tenant has errored sections %v", e)
	}
	got := tenantFindings(res.rep, matrixTenant)
	want := tenantFindings(base.rep, matrixTenant)
	errored := erroredSections(res.snap, matrixTenant)
	fail := func(format string, args ...any) {
		t.Helper()
		t.Errorf("%s\n  expected: %s\n  observed: %s", fmt.Sprintf(format, args...), describe(c.expect), observed(res))
	}
	switch c.expect.kind {
	case recovered, unaffected:
		if len(errored) > 0 {
			fail("sections %v are error", errored)
		}
		if g, w := findingsJSON(t, got), findingsJSON(t, want); g != w {
			fail("the report differs from the fault-free one:\n%s", lineDiff(w, g))
		}
	case fallback:
		if len(errored) > 0 {
			fail("sections %v are error", errored)
		}
		checkStatuses(t, got, want, nil, fail)
	case sectionError:
		if missing, extra := setDiff(c.expect.sections, errored); len(missing)+len(extra) > 0 {
			fail("not error: %v; error besides: %v", missing, extra)
		}
		st := sectionStatuses(res.snap, matrixTenant)
		for _, s := range errored {
			if st[s].Error == "" {
				fail("section %s is error without a reason", s)
			}
		}
		checkStatuses(t, got, want, errored, fail)
		if code := res.rep.ExitCode(finding.FailOnFail); code != finding.ExitIncomplete {
			fail("exit code %d, want %d", code, finding.ExitIncomplete)
		}
	}
}

// checkStatuses: a finding whose rule reads an errored section is error,
// naming one of them; every other finding has its fault-free status.
func checkStatuses(t *testing.T, got, want []finding.Finding, errored []string, fail func(string, ...any)) {
	t.Helper()
	base := map[finding.Key]finding.Status{}
	for _, f := range want {
		base[f.Key] = f.Status
	}
	if len(got) != len(want) {
		fail("%d findings, want %d", len(got), len(want))
	}
	for _, f := range got {
		if readsAny(f, errored) {
			section, _ := f.Evidence["section"].(string)
			if f.Status != finding.StatusError || !slices.Contains(errored, section) {
				fail("%s is %s (evidence section %q), want error for an errored section", f.Key, f.Status, section)
			}
			continue
		}
		if w, ok := base[f.Key]; !ok || f.Status != w {
			fail("%s is %s, want %s as without the fault", f.Key, f.Status, w)
		}
	}
}

// passesOnUnreadData lists the findings of a cell that pass although a
// section they read could not be read: errored in the snapshot, or the
// cell's expected errors (a collector that drops a failure leaves the
// section ok).
func passesOnUnreadData(c matrixCell, res scanResult) []string {
	unread := erroredSections(res.snap, matrixTenant)
	if c.expect.kind == sectionError {
		unread = slices.Concat(unread, c.expect.sections)
	}
	var out []string
	for _, f := range tenantFindings(res.rep, matrixTenant) {
		if f.Status == finding.StatusPass && readsAny(f, unread) {
			out = append(out, fmt.Sprintf("%s: %s passes, but reads %v, which could not be read", c.name(), f.Key, intersect(sectionsRead(f), unread)))
		}
	}
	return out
}

func intersect(a, b []string) []string {
	var out []string
	for _, s := range a {
		if slices.Contains(b, s) && !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

// setDiff returns what want has and got lacks, and what got has besides.
func setDiff(want, got []string) (missing, extra []string) {
	for _, s := range want {
		if !slices.Contains(got, s) {
			missing = append(missing, s)
		}
	}
	for _, s := range got {
		if !slices.Contains(want, s) {
			extra = append(extra, s)
		}
	}
	return missing, extra
}

func countFault(reqs []emulator.LoggedRequest, name string) int {
	n := 0
	for _, r := range reqs {
		for _, f := range strings.Split(r.Fault, ",") {
			if f == name {
				n++
			}
		}
		n += countFault(r.Children, name)
	}
	return n
}

// describe renders an outcome for messages and the docs.
func describe(o outcome) string {
	switch o.kind {
	case recovered:
		return "recovered"
	case unaffected:
		return "unaffected"
	case fallback:
		return "fallback"
	}
	return "section error: " + strings.Join(o.sections, ", ")
}

// TestRuleSectionsCoverCatalogue keeps ruleSections in step with the
// built-in rules: every rule has an entry, every entry names a rule.
func TestRuleSectionsCoverCatalogue(t *testing.T) {
	t.Parallel()
	eng, err := engine.New(t.Context(), engine.Config{})
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]bool{}
	for _, r := range eng.Rules() {
		ids[r.ID] = true
		if _, ok := ruleSections[r.ID]; !ok {
			t.Errorf("%s is not in ruleSections: say which sections it reads", r.ID)
		}
	}
	for key, secs := range ruleSections {
		rule, _, _ := strings.Cut(key, "/")
		if !ids[rule] {
			t.Errorf("ruleSections names %s, which is not a built-in rule", key)
		}
		for _, s := range secs {
			if !slices.Contains(allSections, s) {
				t.Errorf("ruleSections[%s] names the unknown section %s", key, s)
			}
		}
	}
}
