// Package securitydoc holds docs/security.md to the code. Every claim of the
// page's threat model names the test that holds it, as `dir` TestName; the
// package reads those references (Parse) and finds each named function in
// the Go test files of its directory (Resolve), and its tests are the
// static checks some claims name: no disabled TLS verification, no HTTP
// client outside the packages meant to make one, scan-mode requests that
// only read.
package securitydoc
