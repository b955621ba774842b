package engine

import (
	"bytes"
	"encoding/json"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"

	"github.com/teamslink/teamslink/internal/snapshot"
)

// viaJSON is the reference toValue must agree with: the value of v's JSON.
func viaJSON(t *testing.T, v any) ast.Value {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	x, err := ast.ValueFromReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	return x
}

func assertSameValue(t *testing.T, what string, v any) {
	t.Helper()
	got, err := toValue(v)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	if want := viaJSON(t, v); ast.Compare(got, want) != 0 {
		t.Errorf("%s:\n got %v\nwant %v", what, got, want)
	}
}

// TestToValueMatchesJSON holds the direct conversion to encoding/json on
// every tenant and environment of every sample snapshot.
func TestToValueMatchesJSON(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("..", "..", "testdata", "snapshots", "*.json"))
	if err != nil || len(files) < 10 {
		t.Fatalf("sample snapshots: %v (%d)", err, len(files))
	}
	for _, file := range files {
		snap, err := snapshot.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		for i := range snap.Tenants {
			assertSameValue(t, filepath.Base(file)+" tenant "+snap.Tenants[i].ID, &snap.Tenants[i])
		}
		for i := range snap.Environments {
			assertSameValue(t, filepath.Base(file)+" environment "+snap.Environments[i].URL, &snap.Environments[i])
		}
	}
}

// TestToValueEdgeCases covers what the samples may not: zero values under
// omitempty, nil against empty slices and maps, nil pointers, embedded
// structs, numbers, marshalers.
func TestToValueEdgeCases(t *testing.T) {
	type inner struct {
		A string `json:"a,omitempty"`
		B int    `json:"b"`
	}
	type outer struct {
		inner
		*snapshot.Section `json:",omitempty"`
		Name              string            `json:"name,omitempty"`
		Zero              int               `json:"zero,omitempty"`
		False             bool              `json:"false,omitempty"`
		NilSlice          []string          `json:"nilSlice"`
		Empty             []string          `json:"empty"`
		NilOmit           []string          `json:"nilOmit,omitempty"`
		Map               map[string]any    `json:"map"`
		NilMap            map[string]string `json:"nilMap"`
		Ptr               *int              `json:"ptr"`
		Float             float64           `json:"float"`
		Uint              uint8             `json:"uint"`
		When              time.Time         `json:"when"`
		Struct            inner             `json:"struct,omitempty"`
		EmptyOmit         []string          `json:"emptyOmit,omitempty"`
		EmptyMapOmit      map[string]int    `json:"emptyMapOmit,omitempty"`
		Bytes             []byte            `json:"bytes"`
		NilBytes          []byte            `json:"nilBytes"`
		Level             level             `json:"level"`
		Levels            []level           `json:"levels"`
		Untagged          string
		Skipped           string `json:"-"`
		private           string
	}
	n := 7
	cases := map[string]outer{
		"zero": {},
		"full": {
			inner:        inner{A: "a", B: 2},
			Section:      &snapshot.Section{Status: snapshot.StatusError, Error: "boom", HTTPStatus: 503, CollectedAt: time.Date(2026, 11, 27, 9, 30, 0, 123, time.UTC)},
			Name:         "n",
			Zero:         3,
			False:        true,
			NilSlice:     []string{"x"},
			Empty:        []string{},
			NilOmit:      []string{"y"},
			Map:          map[string]any{"k": []any{1.5, "v", nil, true}},
			NilMap:       map[string]string{},
			Ptr:          &n,
			Float:        0.1,
			Uint:         255,
			When:         time.Date(2026, 1, 2, 3, 4, 5, 0, time.FixedZone("x", 3600)),
			Untagged:     "u",
			EmptyOmit:    []string{},
			EmptyMapOmit: map[string]int{},
			Bytes:        []byte("teamslink"),
			Level:        2,
			Levels:       []level{1, 3},
			Skipped:      "s",
			private:      "p",
		},
	}
	for name, v := range cases {
		assertSameValue(t, name, v)
		assertSameValue(t, name+" by pointer", &v)
	}
}

// level marshals itself through a pointer receiver, which encoding/json uses
// for addressable values.
type level int

func (l *level) MarshalJSON() ([]byte, error) { return json.Marshal(fmt.Sprintf("level-%d", int(*l))) }

// TestToValueRefusesWhatItCannotMatch: where encoding/json would resolve a
// conflict or apply an option toValue does not implement, it is an error.
func TestToValueRefusesWhatItCannotMatch(t *testing.T) {
	type a struct {
		Name string `json:"name"`
	}
	type twoNames struct {
		a
		Other string `json:"name"`
	}
	type quoted struct {
		N int `json:"n,string"`
	}
	for name, v := range map[string]any{"two fields of one name": twoNames{}, "string option": quoted{}} {
		if _, err := toValue(v); err == nil {
			t.Errorf("%s: toValue accepted %T", name, v)
		}
	}
}
