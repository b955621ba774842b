package discovery

import (
	"encoding/json"
	"testing"
)

// FuzzDecodeBAP feeds arbitrary JSON to the decoder of one admin API
// environment, seeded with Microsoft's shape and broken variants: it must
// never panic, and what it accepts must have an id and pass through the
// filter.
// Run with: go test ./internal/discovery -run '^$' -fuzz FuzzDecodeBAP -fuzztime 30s
func FuzzDecodeBAP(f *testing.F) {
	for _, seed := range []string{
		bapItem,
		`{"name":"e","properties":{}}`,
		`{"name":"e","properties":{"states":null,"linkedEnvironmentMetadata":null}}`,
		`{"name":"e","properties":{"linkedEnvironmentMetadata":{"instanceUrl":"http://x/"}}}`,
		`{"name":1}`,
		`{"properties":{}}`,
		`[]`,
		`null`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		e, err := decodeBAP(json.RawMessage(data))
		if err != nil {
			return
		}
		d := Filter{States: []string{StateEnabled}, Include: []string{"*"}}.Decide([]Environment{e})
		if len(d) != 1 || (d[0].Scan && d[0].Reason != "") || (!d[0].Scan && d[0].Reason == "") {
			t.Fatalf("decision %+v for %+v", d, e)
		}
	})
}
