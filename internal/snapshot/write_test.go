package snapshot

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden files")

// TestWriteGolden pins the layout Write produces for a snapshot with every
// field set. Refresh with: go test ./internal/snapshot -run TestWriteGolden -update
func TestWriteGolden(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	if err := Write(&buf, fullSnapshot()); err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "full.golden.json")
	if *update {
		if err := os.WriteFile(golden, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (create it with -update)", err)
	}
	if !bytes.Equal(buf.Bytes(), want) {
		t.Errorf("Write output differs from %s (refresh with -update if intended):\n%s", golden, buf.Bytes())
	}
}

func TestWriteFormat(t *testing.T) {
	t.Parallel()
	s := fullSnapshot()
	// Lists a collector left nil are written as [] (required) or left out
	// (optional), never as null.
	s.Environments[0].SharePointSites.Sample = nil
	s.Environments[0].TargetTables = []string{}
	s.Tenants[0].Consent.Grants = nil
	var buf bytes.Buffer
	if err := Write(&buf, s); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	checks := []struct {
		name string
		ok   bool
	}{
		{"ends in exactly one newline", strings.HasSuffix(out, "}\n") && !strings.HasSuffix(out, "\n\n")},
		{"indented by two spaces", strings.HasPrefix(out, "{\n  \"schemaVersion\": \"teamslink.snapshot/v1\",\n")},
		{"no tabs", !strings.Contains(out, "\t")},
		{"& left as is in URLs", strings.Contains(out, "$filter=statecode eq 0&$count=true")},
		{"nil required list written as []", strings.Contains(out, `"sample": []`) && strings.Contains(out, `"grants": []`)},
		{"empty optional list left out", !strings.Contains(out, "targetTables")},
		{"no null lists", !strings.Contains(out, `"sample": null`) && !strings.Contains(out, `"grants": null`)},
		{"times in UTC", strings.Contains(out, `"collectedAt": "2026-11-02T09:15:00.0000005Z"`)},
	}
	for _, c := range checks {
		if !c.ok {
			t.Errorf("%s:\n%s", c.name, out)
		}
	}
	// The caller's snapshot is not changed.
	if s.Environments[0].SharePointSites.Sample != nil || s.Environments[0].TargetTables == nil {
		t.Error("Write changed the snapshot it was given")
	}
	if s.CollectedAt.Location().String() != "CEST" {
		t.Error("Write changed the snapshot's time zone")
	}
}

func TestWriteRejectsInvalid(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		mutate func(*Snapshot)
		want   string
	}{
		{"section status unset", func(s *Snapshot) { s.Environments[0].Entities.Status = "" }, `environments[0].entities.status: must be one of ok, error, skipped`},
		{"wrong version", func(s *Snapshot) { s.SchemaVersion = "v0" }, `schemaVersion: unsupported schema version "v0" (supported: teamslink.snapshot/v1)`},
		{"dangling tenant", func(s *Snapshot) { s.Environments[0].TenantID = "other" }, `environments[0].tenantId: tenant "other" is not in tenants`},
		{"http status out of range", func(s *Snapshot) { s.Tenants[0].Licenses.HTTPStatus = 42 }, `tenants[0].licenses.httpStatus: must be at least 100, got 42`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := fullSnapshot()
			tc.mutate(s)
			var buf bytes.Buffer
			err := Write(&buf, s)
			var verr *ValidationError
			if !errors.As(err, &verr) {
				t.Fatalf("Write error %v, want a *ValidationError", err)
			}
			if err.Error() != tc.want {
				t.Errorf("error text:\n got: %s\nwant: %s", err, tc.want)
			}
			if buf.Len() != 0 {
				t.Errorf("Write wrote %d bytes of a snapshot it rejected", buf.Len())
			}
			if got := Validate(s); got == nil || got.Error() != tc.want {
				t.Errorf("Validate = %v, want %s", got, tc.want)
			}
		})
	}
	if err := Write(&bytes.Buffer{}, nil); err == nil {
		t.Error("Write(nil) succeeded")
	}
	if err := Validate(fullSnapshot()); err != nil {
		t.Errorf("Validate(fullSnapshot()) = %v", err)
	}
}

// TestWriteStreamsTheWholeDocument: Write, which checks and writes one
// tenant and one environment at a time, writes the bytes of the whole
// document's encoding, and judges the size limit on the whole document's
// size, for every sample snapshot and for fleets of many tenants and
// environments; it rejects a fleet too large for Read as the whole
// document is rejected.
func TestWriteStreamsTheWholeDocument(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob(filepath.Join("..", "..", "testdata", "snapshots", "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("sample snapshots: %v (%d)", err, len(files))
	}
	snaps := map[string]*Snapshot{"full": fullSnapshot()}
	fleet := fullSnapshot()
	for _, file := range files {
		s, err := ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		snaps[filepath.Base(file)] = s
		for i, e := range s.Environments {
			e.TenantID = fleet.Tenants[0].ID
			e.URL = strings.Replace(e.URL, "https://", "https://f"+filepath.Base(file)[:3]+string(rune('a'+i))+"-", 1)
			fleet.Environments = append(fleet.Environments, e)
		}
	}
	snaps["fleet"] = fleet
	tenants := fullSnapshot() // many tenants, each with its environments
	for i := range 3 {
		more := fullSnapshot()
		for j := range more.Tenants {
			more.Tenants[j].ID = fmt.Sprintf("%08d-0000-4000-8000-%012d", i, j)
		}
		for j := range more.Environments {
			more.Environments[j].TenantID = fmt.Sprintf("%08d-0000-4000-8000-%012d", i, 0)
			more.Environments[j].URL = strings.Replace(more.Environments[j].URL, "https://", "https://t"+strconv.Itoa(i)+"-", 1)
		}
		tenants.Tenants = append(tenants.Tenants, more.Tenants...)
		tenants.Environments = append(tenants.Environments, more.Environments...)
	}
	snaps["tenants"] = tenants
	snaps["no environments"] = &Snapshot{SchemaVersion: fleet.SchemaVersion, CollectedAt: fleet.CollectedAt, Tool: fleet.Tool, Tenants: fleet.Tenants[:1]}
	for name, s := range snaps {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			want, err := encode(s)
			if err != nil {
				t.Fatal(err)
			}
			head, size, err := checkParts(s)
			if err != nil || head == nil {
				t.Errorf("checkParts: %v, head %d bytes; want the parts to pass, as the whole does", err, len(head))
			}
			if size != len(want) {
				t.Errorf("checkParts: the whole document is %d bytes, want %d (the size limit is judged on it)", size, len(want))
			}
			var got bytes.Buffer
			if err := Write(&got, s); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got.Bytes(), want) {
				t.Errorf("streamed snapshot differs from the whole document's encoding:\n got %.300q\nwant %.300q", got.Bytes(), want)
			}
		})
	}
	t.Run("too large", func(t *testing.T) {
		t.Parallel()
		big := fullSnapshot()
		e := big.Environments[0]
		e.Organization.Error = strings.Repeat("x", 1<<20)
		e.Organization.Status = StatusError
		for i := range MaxSize >> 20 {
			e.URL = strings.Replace(fullSnapshot().Environments[0].URL, "https://", "https://big"+strconv.Itoa(i)+"-", 1)
			big.Environments = append(big.Environments, e)
		}
		var buf bytes.Buffer
		err := Write(&buf, big)
		var verr *ValidationError
		if !errors.As(err, &verr) || !strings.Contains(err.Error(), "larger than the limit") || buf.Len() != 0 {
			t.Errorf("Write of a %d-environment snapshot: %v, %d bytes written; want the size limit and nothing written", len(big.Environments), err, buf.Len())
		}
	})
}
