package snapshot

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// FuzzRead feeds Read arbitrary bytes, seeded with every sample snapshot,
// valid and invalid. Read must never panic and must explain every rejection
// with a *ValidationError; whatever it accepts, Write must write and Read
// must read back unchanged, and writing that again gives the same bytes.
//
// Run it with:
//
//	go test ./internal/snapshot -run '^$' -fuzz FuzzRead -fuzztime 60s
func FuzzRead(f *testing.F) {
	var seeds []string
	for _, pattern := range []string{
		filepath.Join(snapshotsDir, "*.json"),
		filepath.Join(snapshotsDir, "invalid", "*.json"),
		filepath.Join("testdata", "*.json"),
	} {
		files, err := filepath.Glob(pattern)
		if err != nil {
			f.Fatal(err)
		}
		seeds = append(seeds, files...)
	}
	if len(seeds) == 0 {
		f.Fatal("no seed snapshots found")
	}
	for _, file := range seeds {
		data, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	// Small documents give the mutator fewer bytes to get through before
	// it reaches the checks after the schema.
	f.Add([]byte(`{"schemaVersion":"teamslink.snapshot/v1","collectedAt":"2026-11-02T09:15:00+02:00","tenants":[],"environments":[]}`))
	f.Add([]byte(`{"schemaVersion":"teamslink.snapshot/v1","collectedAt":"2026-11-02T09:15:00.5Z","tenants":[{"id":"t","cloud":"public",` +
		`"licenses":{"status":"ok","collectedAt":"2026-11-02T09:15:00Z","skus":[]},` +
		`"consent":{"status":"error","error":"denied","httpStatus":403,"collectedAt":"2026-11-02T09:15:00Z","servicePrincipal":null,"grants":[]},` +
		`"caller":{"status":"skipped","collectedAt":"2026-11-02T09:15:00Z","directoryRoles":[]},` +
		`"sharePoint":{"status":"ok","collectedAt":"2026-11-02T09:15:00Z"}}],` +
		`"environments":[{"tenantId":"t","url":"https://e.crm.dynamics.com","targetTables":[],"overrides":{"sharePointIntegrationConfigured":null},` +
		`"organization":{"status":"ok","collectedAt":"2026-11-02T09:15:00Z","record":null},` +
		`"sharePointSites":{"status":"ok","collectedAt":"2026-11-02T09:15:00Z","activeCount":0,"countLimitExceeded":false,"defaultSite":null,"sample":[]},` +
		`"documentLocations":{"status":"ok","collectedAt":"2026-11-02T09:15:00Z","absoluteUrlCount":0,"countLimitExceeded":false,"sample":[]},` +
		`"entities":{"status":"ok","collectedAt":"2026-11-02T09:15:00Z","tables":[]},` +
		`"caller":{"status":"ok","collectedAt":"2026-11-02T09:15:00Z","roles":[]}}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := Read(bytes.NewReader(data))
		if err != nil {
			var verr *ValidationError
			if !errors.As(err, &verr) || len(verr.Problems) == 0 {
				t.Fatalf("Read rejected input without a *ValidationError with problems: %T %v", err, err)
			}
			return
		}
		var first bytes.Buffer
		if err := Write(&first, s); err != nil {
			t.Fatalf("Write of a snapshot Read accepted: %v", err)
		}
		again, err := Read(bytes.NewReader(first.Bytes()))
		if err != nil {
			t.Fatalf("Read of Write's output: %v\n%s", err, first.Bytes())
		}
		if !reflect.DeepEqual(s, again) {
			t.Fatalf("Read → Write → Read changed the snapshot:\nbefore %#v\nafter  %#v", s, again)
		}
		var second bytes.Buffer
		if err := Write(&second, again); err != nil {
			t.Fatalf("second Write: %v", err)
		}
		if !bytes.Equal(first.Bytes(), second.Bytes()) {
			t.Fatalf("Write is not stable:\n%s\n---\n%s", first.Bytes(), second.Bytes())
		}
	})
}
