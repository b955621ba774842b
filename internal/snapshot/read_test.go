package snapshot

import (
	"bytes"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"testing/iotest"
	"time"
)

// snapshotsDir holds the project's sample snapshots: valid ones at the top,
// one file per way of being invalid under invalid/.
var snapshotsDir = filepath.Join("..", "..", "testdata", "snapshots")

// TestReadValidFiles reads every valid sample snapshot and checks that
// Read → Write → Read gives the same snapshot and Write is stable.
func TestReadValidFiles(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob(filepath.Join(snapshotsDir, "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	files = append(files, filepath.Join("testdata", "full.golden.json"))
	if len(files) < 2 {
		t.Fatalf("no sample snapshots in %s", snapshotsDir)
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			t.Parallel()
			s, err := ReadFile(file)
			if err != nil {
				t.Fatalf("ReadFile: %v", err)
			}
			if s.SchemaVersion != SchemaVersion || len(s.Tenants) == 0 || len(s.Environments) == 0 {
				t.Fatalf("ReadFile gave an empty snapshot: %+v", s)
			}
			assertRoundTrip(t, s)
		})
	}
}

// assertRoundTrip checks that s, as Read returned it, survives Write and
// Read unchanged, and that writing it again gives the same bytes.
func assertRoundTrip(t *testing.T, s *Snapshot) {
	t.Helper()
	var first bytes.Buffer
	if err := Write(&first, s); err != nil {
		t.Fatalf("Write: %v", err)
	}
	again, err := Read(bytes.NewReader(first.Bytes()))
	if err != nil {
		t.Fatalf("Read of Write's output: %v\n%s", err, first.Bytes())
	}
	if !reflect.DeepEqual(s, again) {
		t.Fatalf("Read → Write → Read changed the snapshot:\nbefore %+v\nafter  %+v", s, again)
	}
	var second bytes.Buffer
	if err := Write(&second, again); err != nil {
		t.Fatalf("second Write: %v", err)
	}
	if !bytes.Equal(first.Bytes(), second.Bytes()) {
		t.Fatalf("Write is not stable:\n%s\n---\n%s", first.Bytes(), second.Bytes())
	}
}

// TestReadInvalidFiles reads each file in testdata/snapshots/invalid and
// checks the whole error text. Every file there must have a case.
func TestReadInvalidFiles(t *testing.T) {
	t.Parallel()
	cases := []struct {
		file string
		want []string // problems, one "path: message" each
	}{
		{"wrong-type.json", []string{`environments[0].documentLocations.absoluteUrlCount: expected integer, got string`}},
		{"unknown-field.json", []string{`environments[0].organization: unknown field "foo"`}},
		{"missing-status.json", []string{`tenants[0].consent: missing required field "status"`}},
		{"bad-status.json", []string{`environments[0].entities.status: must be one of ok, error, skipped`}},
		{"bad-version.json", []string{`schemaVersion: unsupported schema version "teamslink.snapshot/v2" (supported: teamslink.snapshot/v1)`}},
		{"dangling-tenant.json", []string{`environments[0].tenantId: tenant "0d5e7c2a-4b1f-4a8e-9c36-7e2f1b9d5a04" is not in tenants`}},
		{"duplicate-tenant.json", []string{`tenants[1].id: duplicate tenant id "3f2b8c1e-6d4a-4b7e-9a15-2c8d0e7f4a61" (first at tenants[0].id)`}},
		{"duplicate-url.json", []string{`environments[1].url: duplicate environment url "https://CONTOSO-SALES.crm.dynamics.com/" (first at environments[0].url)`}},
		{"duplicate-table.json", []string{`environments[0].entities.tables[1].logicalName: duplicate table "account" (first at environments[0].entities.tables[0].logicalName)`}},
		{"http-url.json", []string{`environments[0].url: must be an absolute https URL, got "http://contoso-sales.crm.dynamics.com"`}},
		{"syntax.json", []string{`invalid JSON at line 9, column 7: invalid character '"' after object key:value pair`}},
		{"trailing.json", []string{`unexpected data after the JSON document at line 150, column 1`}},
		{"empty.json", []string{`empty document: expected a JSON object`}},
		{"not-object.json", []string{`expected object, got array`}},
		{"bad-date.json", []string{`collectedAt: expected an RFC 3339 date-time, got "2 November 2026"`}},
		{"fraction.json", []string{`environments[0].sharePointSites.activeCount: expected integer, got 1.0`}},
		{"negative-count.json", []string{`environments[0].documentLocations.absoluteUrlCount: must be at least 0, got -1`}},
		{"null-section.json", []string{`tenants[0].licenses: expected object, got null`}},
		{"null-not-allowed.json", []string{`tenants[0].consent.grants[0].principalId: expected string or null, got number`}},
		{"duplicate-key.json", []string{`tenants[0].licenses: duplicate field "status"`}},
		{"etag-type.json", []string{`environments[0].organization.record["@odata.etag"]: expected string, got number`}},
		{"several.json", []string{
			`tenants[0].licenses.skus[1].servicePlans[0].servicePlanName: expected string, got number`,
			`tenants[0].caller.httpStatus: must be at most 599, got 999`,
			`environments[0].sharePointSites: unknown field "extra"`,
			`environments[0].caller: missing required field "collectedAt"`,
			`environments[0].caller.roles[0].via: must be one of user, team`,
		}},
	}

	files, err := filepath.Glob(filepath.Join(snapshotsDir, "invalid", "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	covered := map[string]bool{}
	for _, tc := range cases {
		covered[tc.file] = true
	}
	for _, f := range files {
		if !covered[filepath.Base(f)] {
			t.Errorf("%s has no test case", f)
		}
	}

	for _, tc := range cases {
		t.Run(tc.file, func(t *testing.T) {
			t.Parallel()
			file := filepath.Join(snapshotsDir, "invalid", tc.file)
			s, err := ReadFile(file)
			if err == nil {
				t.Fatalf("ReadFile accepted an invalid snapshot: %+v", s)
			}
			var verr *ValidationError
			if !errors.As(err, &verr) {
				t.Fatalf("error is %T, want *ValidationError: %v", err, err)
			}
			if verr.File != file {
				t.Errorf("File = %q, want %q", verr.File, file)
			}
			want := make([]string, len(tc.want))
			for i, p := range tc.want {
				want[i] = file + ": " + p
			}
			if got := err.Error(); got != strings.Join(want, "\n") {
				t.Errorf("error text:\n got: %s\nwant: %s", got, strings.Join(want, "\n"))
			}
		})
	}
}

// TestReadRejects covers what is easier to say inline than as a file.
func TestReadRejects(t *testing.T) {
	t.Parallel()
	ready, err := os.ReadFile(filepath.Join(snapshotsDir, "ready.json"))
	if err != nil {
		t.Fatal(err)
	}
	// edit replaces the first occurrence of old in ready.json.
	edit := func(old, new string) string {
		if !bytes.Contains(ready, []byte(old)) {
			t.Fatalf("ready.json has no %q", old)
		}
		return strings.Replace(string(ready), old, new, 1)
	}
	cases := []struct {
		name string
		in   string
		want string
	}{
		{"whitespace only", " \n\t ", `empty document: expected a JSON object`},
		{"truncated", `{"schemaVersion": "teamslink.snapshot/v1"`, `invalid JSON at line 1, column 42: unexpected end of input`},
		{"second document", `{} {}`, `unexpected data after the JSON document at line 1, column 4`},
		{"garbage after document", "{}\n\n  x", `unexpected data after the JSON document at line 3, column 3`},
		{"string document", `"teamslink"`, `expected object, got string`},
		{"too deep", strings.Repeat(`{"a":`, 40) + "1" + strings.Repeat("}", 40), `invalid JSON at line 1, column 161: nested deeper than 32 levels`},
		{"missing version", `{"collectedAt": "2026-11-02T09:15:00Z", "tenants": [], "environments": []}`, `missing required field "schemaVersion"`},
		{"version not a string", edit(`"schemaVersion": "teamslink.snapshot/v1"`, `"schemaVersion": 1`), `schemaVersion: expected string, got number`},
		{"field in other case", edit(`"status": "ok"`, `"Status": "ok"`), "tenants[0].licenses: missing required field \"status\"\ntenants[0].licenses: unknown field \"Status\""},
		{"exponent integer", edit(`"activeCount": 0`, `"activeCount": 1e2`), `environments[0].sharePointSites.activeCount: expected integer, got 1e2`},
		{"integer out of range", edit(`"activeCount": 0`, `"activeCount": 99999999999999999999`), `environments[0].sharePointSites.activeCount: integer 99999999999999999999 is out of range`},
		{"leap second", edit(`"collectedAt": "2026-11-02T09:15:00Z"`, `"collectedAt": "2016-12-31T23:59:60Z"`), `collectedAt: expected an RFC 3339 date-time, got "2016-12-31T23:59:60Z"`},
		{"year out of range in UTC", edit(`"collectedAt": "2026-11-02T09:15:00Z"`, `"collectedAt": "0000-01-01T00:30:00+01:00"`), `collectedAt: date-time "0000-01-01T00:30:00+01:00" is outside years 0000 to 9999 in UTC`},
		{"empty tenant id", edit(`"id": "3f2b8c1e-6d4a-4b7e-9a15-2c8d0e7f4a61"`, `"id": ""`), "tenants[0].id: must not be empty"},
		{"url with credentials", edit(`"url": "https://contoso-sales.crm.dynamics.com"`, `"url": "https://user:secret@contoso-sales.crm.dynamics.com"`), `environments[0].url: must not contain user information`},
		{"url with query", edit(`"url": "https://contoso-sales.crm.dynamics.com"`, `"url": "https://contoso-sales.crm.dynamics.com/?x=1"`), `environments[0].url: must not contain a query or fragment`},
		{"relative url", edit(`"url": "https://contoso-sales.crm.dynamics.com"`, `"url": "contoso-sales.crm.dynamics.com"`), `environments[0].url: must be an absolute https URL, got "contoso-sales.crm.dynamics.com"`},
		{"null in a list", edit(`"sample": []`, `"sample": [null]`), `environments[0].sharePointSites.sample[0]: expected object, got null`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s, err := Read(strings.NewReader(tc.in))
			if err == nil {
				t.Fatalf("Read accepted it: %+v", s)
			}
			var verr *ValidationError
			if !errors.As(err, &verr) {
				t.Fatalf("error is %T, want *ValidationError: %v", err, err)
			}
			if got := err.Error(); got != tc.want {
				t.Errorf("error text:\n got: %s\nwant: %s", got, tc.want)
			}
		})
	}
}

// blanks is an endless stream of spaces.
type blanks struct{}

var blankBlock = bytes.Repeat([]byte{' '}, 64<<10)

func (blanks) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		n += copy(p[n:], blankBlock)
	}
	return n, nil
}

func TestReadSizeLimit(t *testing.T) {
	t.Parallel()
	t.Run("Read refuses more than MaxSize", func(t *testing.T) {
		t.Parallel()
		_, err := Read(io.MultiReader(strings.NewReader("{}"), blanks{}))
		want := "document is larger than the limit of 64 MiB (67108864 bytes)"
		var verr *ValidationError
		if !errors.As(err, &verr) || err.Error() != want {
			t.Fatalf("Read of an endless document: %v, want %q", err, want)
		}
	})
	cases := []struct {
		name   string
		size   int
		tooBig bool
	}{
		{"under the limit", 9, false},
		{"at the limit", 10, false},
		{"one byte over", 11, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			data, err := readLimited(io.LimitReader(blanks{}, int64(tc.size)), 10)
			var verr *ValidationError
			switch {
			case tc.tooBig && !errors.As(err, &verr):
				t.Fatalf("readLimited of %d bytes with limit 10: %v, want a *ValidationError", tc.size, err)
			case !tc.tooBig && (err != nil || len(data) != tc.size):
				t.Fatalf("readLimited of %d bytes with limit 10: %d bytes, %v", tc.size, len(data), err)
			}
		})
	}
}

func TestReadIOErrors(t *testing.T) {
	t.Parallel()
	t.Run("reader fails", func(t *testing.T) {
		t.Parallel()
		boom := errors.New("boom")
		_, err := Read(iotest.ErrReader(boom))
		if !errors.Is(err, boom) {
			t.Fatalf("Read error %v does not wrap the reader's", err)
		}
		var verr *ValidationError
		if errors.As(err, &verr) {
			t.Fatalf("a reader failure is not a validation error: %v", err)
		}
	})
	t.Run("file missing", func(t *testing.T) {
		t.Parallel()
		_, err := ReadFile(filepath.Join(t.TempDir(), "absent.json"))
		if !errors.Is(err, fs.ErrNotExist) {
			t.Fatalf("ReadFile of a missing file: %v, want fs.ErrNotExist", err)
		}
	})
}

// TestReadCanonical checks the canonical form Read promises.
func TestReadCanonical(t *testing.T) {
	t.Parallel()
	ready, err := os.ReadFile(filepath.Join(snapshotsDir, "ready.json"))
	if err != nil {
		t.Fatal(err)
	}
	in := strings.Replace(string(ready), `"collectedAt": "2026-11-02T09:15:00Z"`, `"collectedAt": "2026-11-02T11:15:00.25+02:00"`, 1)
	in = regexp.MustCompile(`"targetTables": \[[^\]]*\]`).ReplaceAllString(in, `"targetTables": []`)
	s, err := Read(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	if want := time.Date(2026, 11, 2, 9, 15, 0, 250_000_000, time.UTC); s.CollectedAt != want {
		t.Errorf("CollectedAt = %v, want %v (in UTC)", s.CollectedAt, want)
	}
	if s.Environments[0].TargetTables != nil {
		t.Errorf("empty targetTables read as %#v, want nil", s.Environments[0].TargetTables)
	}
	if s.Environments[0].SharePointSites.Sample == nil {
		t.Errorf("empty sample read as nil, want an empty list")
	}
	assertRoundTrip(t, s)
}

func TestValidationErrorText(t *testing.T) {
	t.Parallel()
	many := make([]Problem, 23)
	for i := range many {
		many[i] = Problem{Path: "tenants[" + string(rune('a'+i)) + "]", Message: "bad"}
	}
	cases := []struct {
		name string
		err  *ValidationError
		want string
	}{
		{"with file", &ValidationError{File: "s.json", Problems: []Problem{{Path: "tool", Message: "bad"}, {Message: "worse"}}}, "s.json: tool: bad\ns.json: worse"},
		{"without file", &ValidationError{Problems: []Problem{{Path: "tool", Message: "bad"}}}, "tool: bad"},
		{"no problems", &ValidationError{File: "s.json"}, "s.json: invalid snapshot"},
		{"more than 20", &ValidationError{File: "s.json", Problems: many}, func() string {
			var lines []string
			for _, p := range many[:20] {
				lines = append(lines, "s.json: "+p.Path+": bad")
			}
			return strings.Join(append(lines, "s.json: … and 3 more"), "\n")
		}()},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := tc.err.Error(); got != tc.want {
				t.Errorf("Error():\n got: %s\nwant: %s", got, tc.want)
			}
		})
	}
}

func TestPathString(t *testing.T) {
	t.Parallel()
	cases := []struct {
		path path
		want string
	}{
		{nil, ""},
		{path{"environments", 2, "documentLocations", "absoluteUrlCount"}, "environments[2].documentLocations.absoluteUrlCount"},
		{path{"environments", 0, "organization", "record", "@odata.etag"}, `environments[0].organization.record["@odata.etag"]`},
		{path{"_regardingobjectid_value"}, "_regardingobjectid_value"},
		{path{"a b"}, `["a b"]`},
	}
	for _, tc := range cases {
		t.Run(tc.want, func(t *testing.T) {
			t.Parallel()
			if got := tc.path.String(); got != tc.want {
				t.Errorf("String() = %q, want %q", got, tc.want)
			}
		})
	}
}
