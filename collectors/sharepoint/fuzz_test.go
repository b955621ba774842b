package sharepoint

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"math/big"
	"net/url"
	"strings"
	"testing"

	"github.com/teamslink/teamslink/internal/cloud"
)

// FuzzAdminURLFromRoot derives the admin site from arbitrary root-site web
// URLs and host names, for a cloud whose admin host is known, one made up
// with another domain, and one whose admin host is not known. It must never
// panic, and must give either an error or https://<tenant><admin suffix>
// with nothing else in the URL, on a host the cloud accepts as its admin
// host, named after the root site's host.
//
// Run it with:
//
//	go test ./collectors/sharepoint -run '^$' -fuzz FuzzAdminURLFromRoot -fuzztime 30s
func FuzzAdminURLFromRoot(f *testing.F) {
	public, err := cloud.For(cloud.Public)
	if err != nil {
		f.Fatal(err)
	}
	gcc, err := cloud.For(cloud.GCC)
	if err != nil {
		f.Fatal(err)
	}
	us := public
	us.Name, us.SharePointAdminSuffix = "test-us", "-admin.sharepoint.us"
	clouds := []cloud.Cloud{public, us, gcc}

	for _, seed := range [][2]string{
		{"https://contoso.sharepoint.com", "contoso.sharepoint.com"},
		{"https://fabrikam.sharepoint.com/", ""},
		{"", "Contoso.SharePoint.com"},
		{"https://contoso.sharepoint.us", "contoso.sharepoint.us"},
		{"https://intranet.contoso.com", "intranet.contoso.com"},
		{"", "a.b.sharepoint.com"},
		{"", "x:1#.sharepoint.com"},
		{"", ".sharepoint.com"},
		{"", "contoso-admin.sharepoint.com"},
		{"", "contoso.sharepoint.com."},
		{"https://user@contoso.sharepoint.com:444/sites/x?q=1#f", ""},
		{"https://[::1]/", ""},
		{"https://\u212Aontoso.sharepoint.com", ""},
		{"/sites/root", ""},
		{"", ""},
	} {
		f.Add(seed[0], seed[1])
	}
	f.Fuzz(func(t *testing.T, webURL, hostname string) {
		for _, c := range clouds {
			admin, err := adminURLFromRoot(webURL, hostname, c)
			if err != nil {
				if admin != "" {
					t.Fatalf("cloud %s: error %v with admin URL %q", c.Name, err, admin)
				}
				continue
			}
			if c.SharePointAdminSuffix == "" {
				t.Fatalf("cloud %s has no known admin host, yet %q was derived", c.Name, admin)
			}
			u, err := url.Parse(admin)
			if err != nil {
				t.Fatalf("cloud %s: admin URL %q does not parse: %v", c.Name, admin, err)
			}
			if u.Scheme != "https" || u.User != nil || u.Opaque != "" || u.Path != "" || u.RawQuery != "" || u.Fragment != "" ||
				u.Port() != "" || admin != "https://"+u.Host {
				t.Fatalf("cloud %s: admin URL %q is not https://<host>", c.Name, admin)
			}
			if !c.KnownSharePointAdminHost(u.Host) || u.Host != asciiLower(u.Host) {
				t.Fatalf("cloud %s: admin host %q is not a lower-case admin host of the cloud", c.Name, u.Host)
			}
			root := hostname
			if root == "" {
				if wu, err := url.Parse(webURL); err == nil {
					root = wu.Hostname()
				}
			}
			tenant := strings.TrimSuffix(u.Host, c.SharePointAdminSuffix)
			if want := tenant + strings.Replace(c.SharePointAdminSuffix, "-admin", "", 1); asciiLower(root) != want {
				t.Fatalf("cloud %s: admin host %q is not named after the root site's host %q (want the root %q)", c.Name, u.Host, root, want)
			}
		}
	})
}

// asciiLower lower-cases A to Z only, as DNS does.
func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// FuzzParsePolicy feeds the parser of _api/SPO.Tenant arbitrary bodies. It
// must never panic, and it may accept a body (the collector's ok section)
// only when its ConditionalAccessPolicy is one of the documented values,
// read apart from the parser here: a JSON number 0 to 3, or a string that is
// one of AllowFullAccess, AllowLimitedAccess, BlockAccess and
// AuthenticationContext (in any ASCII case) or the digit of one; and the name
// it gives must be that value's.
//
// Run it with:
//
//	go test ./collectors/sharepoint -run '^$' -fuzz FuzzParsePolicy -fuzztime 30s
func FuzzParsePolicy(f *testing.F) {
	for _, seed := range []string{
		`{"ConditionalAccessPolicy":0}`,
		`{"ConditionalAccessPolicy":null}`,
		`{"d":{"ConditionalAccessPolicy":null}}`,
		`{"ConditionalAccessPolicy":1,"SharingCapability":2}`,
		`{"d":{"ConditionalAccessPolicy":2}}`,
		`{"d":{"ConditionalAccessPolicy":3},"ConditionalAccessPolicy":0}`,
		`{"ConditionalAccessPolicy":"AuthenticationContext"}`,
		`{"ConditionalAccessPolicy":"blockaccess"}`,
		`{"ConditionalAccessPolicy":"1"}`,
		`{"ConditionalAccessPolicy":"0000"}`,
		`{"ConditionalAccessPolicy":"+1"}`,
		`{"ConditionalAccessPolicy":"AllowFullAcceſs"}`,
		`{"ConditionalAccessPolicy":"BlocKAccess"}`,
		`{"ConditionalAccessPolicy":7}`,
		`{"ConditionalAccessPolicy":-1}`,
		`{"ConditionalAccessPolicy":1.5}`,
		`{"ConditionalAccessPolicy":1e0}`,
		`{"ConditionalAccessPolicy":"ProtectionLevel"}`,
		`{"ConditionalAccessPolicy":true}`,
		`{"ConditionalAccessPolicy":[0]}`,
		`{"ConditionalAccessPolicy":{"value":0}}`,
		`{"SharingCapability":2}`,
		`{"d":null}`,
		`{"d":{}}`,
		`[]`,
		`null`,
		`<html>`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		name, raw, err := parsePolicy(body)
		if err != nil {
			if name != "" {
				t.Fatalf("error %v with name %q", err, name)
			}
			return
		}
		want, ok := documentedPolicy(body)
		if !ok {
			t.Fatalf("accepted %q as %s (raw %q), which is not a documented ConditionalAccessPolicy", body, name, raw)
		}
		if name != want || raw == "" {
			t.Fatalf("read %q as %s (raw %q), want %s", body, name, raw, want)
		}
	})
}

// documentedNames are the SPOConditionalAccessPolicyType names by value.
var documentedNames = []string{"AllowFullAccess", "AllowLimitedAccess", "BlockAccess", "AuthenticationContext"}

// documentedPolicy reads the ConditionalAccessPolicy of a tenant document
// (plain or in "d") and returns its name if the value is a documented one.
func documentedPolicy(body []byte) (string, bool) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var doc any
	if err := dec.Decode(&doc); err != nil {
		return "", false
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return "", false
	}
	obj, ok := doc.(map[string]any)
	if d, wrapped := obj["d"]; wrapped {
		obj, ok = d.(map[string]any)
	}
	if !ok {
		return "", false
	}
	switch v := obj["ConditionalAccessPolicy"].(type) {
	case json.Number:
		r, ok := new(big.Rat).SetString(v.String())
		if !ok || !r.IsInt() || r.Sign() < 0 || r.Cmp(big.NewRat(int64(len(documentedNames)-1), 1)) > 0 {
			return "", false
		}
		return documentedNames[r.Num().Int64()], true
	case string:
		for i, n := range documentedNames {
			if asciiLower(v) == asciiLower(n) || v == string(rune('0'+i)) {
				return n, true
			}
		}
	}
	return "", false
}
