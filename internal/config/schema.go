package config

import (
	_ "embed"
	"slices"
)

// SchemaURL is where the published JSON Schema of tenants.yaml lives: the
// copy in docs/ of the main branch. It is the schema's $id and the address
// a yaml-language-server modeline names:
//
//	# yaml-language-server: $schema=https://raw.githubusercontent.com/teamslink/teamslink/main/docs/tenants.schema.json
const SchemaURL = "https://raw.githubusercontent.com/teamslink/teamslink/main/docs/tenants.schema.json"

// schemaJSON is schema/tenants.schema.json, generated from the types of
// this package by the test TestSchemaUpToDate (go test ./internal/config
// -update rewrites it and the copy in docs/).
//
//go:embed schema/tenants.schema.json
var schemaJSON []byte

// Schema returns the JSON Schema (draft-07) of tenants.yaml. It says what
// the decoder accepts — keys, types, enumerations, required keys — so an
// editor can check a config as it is typed; Validate still has the last
// word on what the schema cannot express (one secret source, URL hosts of
// the tenant's cloud, unique ids).
func Schema() []byte { return slices.Clone(schemaJSON) }
