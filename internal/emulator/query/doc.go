// Package query parses and evaluates the subset of the OData v4 URL
// conventions the emulator serves: $filter expressions (comparison and
// logical operators, parentheses, literals, and the string functions
// startswith, endswith and contains), $select and $orderby lists, $expand
// with nested options, and the Prefer request header.
//
// It knows nothing about Dataverse or Microsoft Graph: callers pass a
// Resolver that names the properties of the resource being queried and
// turn the typed errors into the error body of the service they emulate.
package query
