// Package policies embeds teamslink's Rego prerequisite policies and the
// pinned OPA capabilities document they are compiled against.
//
// FS holds capabilities.json and the teamslink/ tree: one directory per Rego
// package under data.teamslink (licensing, roles, consent, sharepoint,
// entities, environment, plus the shared lib and facts packages), each with
// its *_test.rego unit tests beside it. Production compilation skips files
// ending in _test.rego; the test fixtures live only in such files.
//
// Capabilities is this OPA version's capabilities minus every builtin that
// reaches the network or the process environment (http.send, net.*,
// opa.runtime), with allow_net empty. It is regenerated with
//
//	go test ./policies -run TestCapabilitiesUpToDate -update
package policies

import "embed"

// FS is the embedded policy tree (teamslink/...) and capabilities.json.
//
//go:embed capabilities.json teamslink
var FS embed.FS

// Capabilities is the pinned OPA capabilities document (JSON) policies,
// including user policies, are compiled against.
//
//go:embed capabilities.json
var Capabilities []byte

// Root is the directory in FS that holds the Rego packages.
const Root = "teamslink"

// TestSuffix marks Rego files that hold unit tests and fixtures, never
// compiled into production policies.
const TestSuffix = "_test.rego"
