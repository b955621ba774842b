// Package emulator is a local test double for the Microsoft services
// teamslink reads and writes: an Entra ID token endpoint, the Dataverse Web
// API subset the collectors and remediator use, Microsoft Graph, and the
// SharePoint Online admin tenant endpoint.
//
// It serves HTTPS on one loopback port with a certificate from a CA it
// generates at start. Clients keep the real host names
// (https://contoso.crm.dynamics.com, https://graph.microsoft.com,
// https://login.microsoftonline.com, ...) and only dial the emulator's
// address; the handler routes on the Host header. State comes from scenario
// files (one tenant each) and faults (latency, throttling, 5xx, resets,
// malformed or oversized bodies, expired tokens) are injected per scenario.
//
// The emulator is written from the documented wire formats alone and
// imports nothing else from this project but internal/yamlguard, which
// bounds what decoding a scenario file may cost, so a client cannot agree
// with it by construction. It is not the real service; docs/emulator.md lists the
// choices it makes where the documentation is silent.
package emulator
