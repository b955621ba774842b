package redact_test

import (
	"bytes"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"

	"github.com/teamslink/teamslink/internal/engine"
	"github.com/teamslink/teamslink/internal/redact"
	"github.com/teamslink/teamslink/internal/snapshot"
)

// word is a random word of letters no token, hex digit or fixed text of
// teamslink's output is made of, so finding it in an output means it leaked.
func word(rng *rand.Rand) string {
	const letters = "ghjkmnpqvwxyz"
	b := make([]byte, 6+rng.IntN(6))
	for i := range b {
		b[i] = letters[rng.IntN(len(letters))]
	}
	return string(b)
}

// TestNoInputStringLeaks is a property test: sample snapshots filled with
// random tenant, environment, site and location names, host labels, URL
// paths and user names, redacted and evaluated, never show one of those
// strings in the redacted snapshot or in any format of the redacted report.
func TestNoInputStringLeaks(t *testing.T) {
	t.Parallel()
	eng, err := engine.New(t.Context(), engine.Config{})
	if err != nil {
		t.Fatal(err)
	}
	base, err := snapshot.ReadFile(filepath.Join("..", "..", "testdata", "snapshots", "sp-800503ca-all.json"))
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(12, 1))
	for i := range 40 {
		var planted []string
		plant := func(parts ...string) string {
			planted = append(planted, parts...)
			return strings.Join(parts, "")
		}
		s, err := redact.New(testKey)
		if err != nil {
			t.Fatal(err)
		}
		snap := *base
		snap.Tenants = append([]snapshot.Tenant(nil), base.Tenants...)
		snap.Environments = append([]snapshot.Environment(nil), base.Environments...)
		ten := &snap.Tenants[0]
		org := word(rng)
		planted = append(planted, org)
		ten.Name = plant(word(rng), " ", word(rng))
		ten.Caller.UserPrincipalName = plant(word(rng)) + "@" + org + ".onmicrosoft.com"
		ten.SharePoint.AdminURL = "https://" + org + "-admin.sharepoint.com"
		env := &snap.Environments[0]
		env.URL = "https://" + org + ".crm" + []string{"", "4", "11"}[rng.IntN(3)] + ".dynamics.com"
		env.Name = plant(word(rng))
		sites := append([]snapshot.SharePointSite(nil), env.SharePointSites.Sample...)
		for j := range sites {
			sites[j].Name = plant(word(rng), " ", word(rng))
			sites[j].AbsoluteURL = "https://" + org + ".sharepoint.com/sites/" + plant(word(rng))
		}
		env.SharePointSites.Sample = sites
		locs := append([]snapshot.DocumentLocation(nil), env.DocumentLocations.Sample...)
		for j := range locs {
			locs[j].Name = plant("Documents on ", word(rng))
			locs[j].AbsoluteURL = "https://" + org + ".sharepoint.com/sites/" + plant(word(rng)) + "/account/" + plant(word(rng))
		}
		env.DocumentLocations.Sample = locs
		env.Organization.Source = "GET " + env.URL + "/api/data/v9.2/organizations"
		planted = slicesWithout(planted, " ", "Documents on ")

		red, err := s.Snapshot(&snap)
		if err != nil {
			t.Fatal(err)
		}
		outputs := map[string][]byte{"snapshot": writeSnapshot(t, red)}
		rep, err := eng.Evaluate(t.Context(), &snap, engine.Options{Now: fixedNow})
		if err != nil {
			t.Fatal(err)
		}
		redRep, err := s.Report(rep)
		if err != nil {
			t.Fatal(err)
		}
		for f, b := range renderAll(t, redRep) {
			outputs[f] = b
		}
		for _, p := range planted {
			for name, b := range outputs {
				if bytes.Contains(b, []byte(p)) {
					t.Errorf("case %d: %s output contains %q", i, name, p)
				}
			}
		}
	}
}

func slicesWithout(ss []string, drop ...string) []string {
	out := ss[:0]
	for _, s := range ss {
		keep := true
		for _, d := range drop {
			keep = keep && s != d
		}
		if keep {
			out = append(out, s)
		}
	}
	return out
}

// FuzzText checks that no customer host label or user name survives Text,
// whatever text surrounds them. Run with
// go test ./internal/redact -fuzz FuzzText -fuzztime 30s.
func FuzzText(f *testing.F) {
	f.Add("contoso", "GET https://%s.crm.dynamics.com/api/data/v9.2/x failed (see %s-admin.sharepoint.com, admin@%s.onmicrosoft.com)")
	f.Add("fabrikam", "%s.sharepoint.com/sites/%s: 403; mail ops@%s.com")
	r, err := redact.New(testKey)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, label, template string) {
		if len(label) < 6 || strings.Trim(label, "ghjkmnpqvwxyz") != "" || strings.Count(template, "%s") == 0 {
			t.Skip()
		}
		in := strings.ReplaceAll(template, "%s", label)
		out := r.Text(in)
		for _, ctx := range []string{label + ".crm.dynamics.com", label + ".sharepoint.com", label + "-admin.sharepoint.com", "@" + label + "."} {
			if strings.Contains(in, ctx) && strings.Contains(out, label) {
				t.Errorf("Text(%q) = %q keeps %q", in, out, label)
			}
		}
	})
}
