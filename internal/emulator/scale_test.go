package emulator

import (
	"crypto/tls"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// fleetTenant is tenant i of a test fleet: appScenario with its own tenant
// id, domain and hosts, in crm (even i) or crm4 (odd i), with extra
// appended to its environment.
func fleetTenant(t testing.TB, i int, extra string) *Scenario {
	t.Helper()
	y := strings.ReplaceAll(appScenario, appTenant, fmt.Sprintf("11111111-2222-4333-8444-%012d", i))
	y = strings.ReplaceAll(y, "apptest", fmt.Sprintf("fleet%04d", i))
	if i%2 == 1 {
		y = strings.ReplaceAll(y, ".crm.dynamics.com", ".crm4.dynamics.com")
	}
	sc, err := ParseScenario([]byte(y+extra), fmt.Sprintf("fleet%04d", i))
	if err != nil {
		t.Fatalf("fleet tenant %d: %v", i, err)
	}
	return sc
}

func fleetEnv(i int) string {
	if i%2 == 1 {
		return fmt.Sprintf("https://fleet%04d.crm4.dynamics.com", i)
	}
	return fmt.Sprintf("https://fleet%04d.crm.dynamics.com", i)
}

func fleetTenantID(i int) string { return fmt.Sprintf("11111111-2222-4333-8444-%012d", i) }

func fleet(t testing.TB, n int, extra string) []*Scenario {
	t.Helper()
	out := make([]*Scenario, n)
	for i := range out {
		out[i] = fleetTenant(t, i, extra)
	}
	return out
}

// chainSize is the size of the certificate chain a handshake naming host
// presents (verified against the emulator's CA).
func chainSize(t *testing.T, s *Server, host string) int {
	t.Helper()
	conn, err := tls.DialWithDialer(&netDialer, "tcp", s.Addr(), &tls.Config{RootCAs: s.CertPool(), ServerName: host})
	if err != nil {
		t.Fatalf("TLS to %s: %v", host, err)
	}
	defer conn.Close()
	n := 0
	for _, c := range conn.ConnectionState().PeerCertificates {
		n += len(c.Raw)
	}
	return n
}

func TestCertificateIsSmallWhateverTheFleet(t *testing.T) {
	t.Parallel()
	one := startServer(t, Options{}, fleet(t, 1, "")...)
	many := startServer(t, Options{}, fleet(t, 300, "")...)
	hosts := []struct{ name, host string }{
		{"environment", "fleet0000.crm.dynamics.com"},
		{"environment api", "fleet0000.api.crm.dynamics.com"},
		{"sharepoint", "fleet0000-admin.sharepoint.com"},
		{"login", "login.microsoftonline.com"},
		{"graph", "graph.microsoft.com"},
		{"discovery", "globaldisco.crm.dynamics.com"},
	}
	for _, h := range hosts {
		t.Run(h.name, func(t *testing.T) {
			t.Parallel()
			small, big := chainSize(t, one, h.host), chainSize(t, many, h.host)
			t.Logf("%s: %d-byte chain for 1 tenant, %d for 300", h.host, small, big)
			if big >= 4096 {
				t.Errorf("300 tenants: %s gets a %d-byte chain, want < 4 KiB", h.host, big)
			}
			// Keys and serials are random: allow a few bytes of DER jitter.
			if big > small+16 {
				t.Errorf("%s: chain grows with the fleet: %d bytes for 1 tenant, %d for 300", h.host, small, big)
			}
		})
	}
	t.Run("crm4 tenant", func(t *testing.T) {
		t.Parallel()
		if n := chainSize(t, many, "fleet0299.crm4.dynamics.com"); n >= 4096 {
			t.Errorf("chain = %d bytes", n)
		}
	})
}

func TestHandshakesCounted(t *testing.T) {
	t.Parallel()
	s := startServer(t, Options{}, fleet(t, 2, "")...)
	env := fleetEnv(0)
	tok := getToken(t, s, fleetTenantID(0), appClient, appSecret, env+"/.default")
	s.ResetLog()
	if n := len(s.Handshakes()); n != 0 {
		t.Fatalf("after ResetLog: %v", s.Handshakes())
	}
	client := s.Client() // one transport: one connection, reused
	for range 3 {
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, dvURL(env, "WhoAmI"), nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		res, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, res.Body)
		res.Body.Close()
	}
	chainSize(t, s, "fleet0001.crm4.dynamics.com")
	got := s.Handshakes()
	want := map[string]int{"fleet0000.crm.dynamics.com": 1, "fleet0001.crm4.dynamics.com": 1}
	if len(got) != len(want) || got["fleet0000.crm.dynamics.com"] != 1 || got["fleet0001.crm4.dynamics.com"] != 1 {
		t.Errorf("Handshakes() = %v, want %v", got, want)
	}
}

// TestTenantsDoNotSerialise proves that requests to different tenants hold
// their state locks at the same time: each request waits, lock held, until
// all of them are inside. One lock for all would never get past one.
func TestTenantsDoNotSerialise(t *testing.T) {
	t.Parallel()
	const n = 8
	s, err := New(Options{Scenarios: fleet(t, n, ""), Clock: time.Now})
	if err != nil {
		t.Fatal(err)
	}
	var armed atomic.Bool
	var mu sync.Mutex
	inside, most := map[string]int{}, 0
	all := make(chan struct{})
	s.lockHook = func(tenant string) {
		if !armed.Load() {
			return
		}
		mu.Lock()
		inside[tenant]++
		if len(inside) > most {
			most = len(inside)
			if most == n {
				close(all)
			}
		}
		mu.Unlock()
		select {
		case <-all:
		case <-time.After(10 * time.Second):
		}
		mu.Lock()
		if inside[tenant]--; inside[tenant] == 0 {
			delete(inside, tenant)
		}
		mu.Unlock()
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	tokens := make([]string, n)
	for i := range tokens {
		tokens[i] = getToken(t, s, fleetTenantID(i), appClient, appSecret, fleetEnv(i)+"/.default")
	}
	armed.Store(true)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, dvURL(fleetEnv(i), "WhoAmI"), nil)
			req.Header.Set("Authorization", "Bearer "+tokens[i])
			res, err := s.Client().Do(req)
			if err != nil {
				t.Errorf("tenant %d: %v", i, err)
				return
			}
			res.Body.Close()
			if res.StatusCode != http.StatusOK {
				t.Errorf("tenant %d: status %d", i, res.StatusCode)
			}
		})
	}
	wg.Wait()
	mu.Lock()
	defer mu.Unlock()
	if most != n {
		t.Errorf("at most %d of %d tenants' requests held their locks at once", most, n)
	}
}

// genScenario is a fleet tenant whose environment lists some rows and
// generates the rest.
const genRows = `    sharepointsites:
      - {sharepointsiteid: 5a5a5a5a-1111-4222-8333-000000000001, name: Default, absoluteurl: "https://g.sharepoint.com/sites/crm", isdefault: true, statecode: 0}
      - {sharepointsiteid: 5a5a5a5a-1111-4222-8333-000000000002, name: Old, absoluteurl: "https://g.sharepoint.com/sites/old", statecode: 1}
    sharepointdocumentlocations:
      - {sharepointdocumentlocationid: 6b6b6b6b-1111-4222-8333-000000000001, name: Listed, relativeurl: listed, servicetype: 0}
      - {sharepointdocumentlocationid: 6b6b6b6b-1111-4222-8333-000000000002, name: Teams, absoluteurl: "https://g.sharepoint.com/sites/t/x", servicetype: 3}
    generate:
      - set: sharepointsites
        count: 4
        row: {name: "Active {n}", absoluteurl: "https://g.sharepoint.com/sites/a{n}", statecode: 0}
      - set: sharepointdocumentlocations
        count: 7
        row: {name: "Generated {n}", absoluteurl: "https://g.sharepoint.com/sites/crm/account/g-{n}", servicetype: 0, statecode: 0}
      - set: sharepointdocumentlocations
        count: 3
        row: {name: "Channel {n}", absoluteurl: "https://g.sharepoint.com/sites/t/c{n}", servicetype: 3, versionnumber: 42}
      - set: sharepointsites
        count: 2
        row: {name: "Inactive {n}", statecode: 1}
`

// materialise turns every generated set of s into listed rows, the way the
// emulator held them before generated rows were computed on demand.
func materialise(s *Server) {
	for _, ts := range s.tenants {
		for _, env := range ts.envs {
			for _, t := range env.tables {
				for _, g := range t.gens {
					for n := 1; n <= g.count; n++ {
						r := g.row(n)
						t.rows = append(t.rows, r)
						t.byID[r[t.et.key].(string)] = r
					}
				}
				t.gens = nil
				t.rows, t.tail = append(t.rows, t.tail...), nil
			}
		}
	}
}

// TestGeneratedRowsMatchListedRows serves the same requests from generated
// rows computed on demand and from the same rows listed, and wants the same
// bytes back, writes included.
func TestGeneratedRowsMatchListedRows(t *testing.T) {
	t.Parallel()
	virtual := startServer(t, Options{}, fleetTenant(t, 0, genRows))
	listed, err := New(Options{Scenarios: []*Scenario{fleetTenant(t, 0, genRows)}, Clock: time.Now})
	if err != nil {
		t.Fatal(err)
	}
	materialise(listed)
	if err := listed.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = listed.Close() })
	env := fleetEnv(0)
	tokV := getToken(t, virtual, fleetTenantID(0), appClient, appSecret, env+"/.default")
	tokL := getToken(t, listed, fleetTenantID(0), appClient, appSecret, env+"/.default")
	genLoc := derivedGUID(env, "sharepointdocumentlocations", "1", "5")
	genSite := derivedGUID(env, "sharepointsites", "0", "2")
	const counts = `Prefer: odata.include-annotations="Microsoft.Dynamics.CRM.totalrecordcount,Microsoft.Dynamics.CRM.totalrecordcountlimitexceeded",odata.maxpagesize=3`
	type step struct {
		method, path, body string
		headers            []string
	}
	reads := []step{
		{http.MethodGet, "sharepointsites?$select=name,absoluteurl,isdefault&$filter=statecode eq 0&$orderby=isdefault desc&$count=true", "", []string{counts}},
		{http.MethodGet, "sharepointsites?$orderby=statecode desc,isdefault desc", "", nil},
		{http.MethodGet, "sharepointdocumentlocations?$select=name,absoluteurl&$filter=absoluteurl ne null and servicetype ne 3&$count=true", "", []string{counts}},
		{http.MethodGet, "sharepointdocumentlocations?$filter=contains(name,'5') or servicetype eq 3", "", nil},
		{http.MethodGet, "sharepointdocumentlocations?$select=name&$orderby=name desc&$top=4", "", nil},
		{http.MethodGet, "sharepointdocumentlocations?$select=name&$top=9&$count=true", "", []string{"Prefer: odata.maxpagesize=2"}},
		{http.MethodGet, "sharepointdocumentlocations?$filter=sharepointdocumentlocationid eq " + genLoc, "", nil},
		{http.MethodGet, "sharepointdocumentlocations/$count?$filter=servicetype eq 3", "", nil},
		{http.MethodGet, "sharepointdocumentlocations/$count", "", nil},
		{http.MethodGet, "sharepointdocumentlocations(" + genLoc + ")", "", nil},
		{http.MethodGet, "sharepointsites(" + genSite + ")?$select=name", "", nil},
		{http.MethodGet, "sharepointdocumentlocations(" + derivedGUID(env, "sharepointdocumentlocations", "2", "3") + ")", "", nil},
	}
	writes := []step{
		{http.MethodPatch, "sharepointdocumentlocations(" + genLoc + ")", `{"absoluteurl":null,"name":"Changed"}`, nil},
		{http.MethodDelete, "sharepointdocumentlocations(" + derivedGUID(env, "sharepointdocumentlocations", "1", "2") + ")", "", nil},
		{http.MethodPost, "sharepointdocumentlocations", `{"sharepointdocumentlocationid":"7c7c7c7c-1111-4222-8333-000000000001","name":"New","absoluteurl":"https://g.sharepoint.com/n"}`, nil},
		{http.MethodPatch, "sharepointsites(" + genSite + ")", `{"statecode":1}`, nil},
	}
	run := func(t *testing.T, st step) {
		t.Helper()
		u := dvURL(env, st.path)
		for page := 0; u != "" && page < 10; page++ {
			rv, bv := call(t, virtual, st.method, u, tokV, st.body, st.headers...)
			rl, bl := call(t, listed, st.method, u, tokL, st.body, st.headers...)
			if rv.StatusCode != rl.StatusCode || string(bv) != string(bl) || rv.Header.Get("ETag") != rl.Header.Get("ETag") {
				t.Fatalf("%s %s page %d:\n generated %d %s\n listed    %d %s", st.method, st.path, page, rv.StatusCode, truncate(string(bv), 1500), rl.StatusCode, truncate(string(bl), 1500))
			}
			if rv.StatusCode >= 300 {
				t.Fatalf("%s %s: %d %s", st.method, st.path, rv.StatusCode, bv)
			}
			u = ""
			if strings.HasPrefix(string(bv), "{") {
				if next, ok := decode(t, bv)["@odata.nextLink"].(string); ok {
					u = next
				}
			}
		}
	}
	for _, st := range reads {
		run(t, st)
	}
	for _, st := range writes {
		run(t, st)
	}
	for _, st := range reads[:9] {
		run(t, st)
	}
}

// generated is an environment block generating sites active sites and
// locations absolute-URL document locations.
func generated(sites, locations int) string {
	return fmt.Sprintf(`    generate:
      - set: sharepointsites
        count: %d
        row: {name: "Site {n}", absoluteurl: "https://big.sharepoint.com/sites/s{n}", statecode: 0}
      - set: sharepointdocumentlocations
        count: %d
        row: {name: "Documents {n}", absoluteurl: "https://big.sharepoint.com/sites/crm/account/a-{n}", servicetype: 0, statecode: 0}
`, sites, locations)
}

// millionRows is an environment with 1,000,000 absolute-URL locations and
// 10,000 active sites.
var millionRows = generated(10000, 1000000)

// collectorBatch is the part of the collectors' first $batch that reads
// sites and locations: counts and a sample of 50.
func collectorBatch() (string, string) {
	sample := `Prefer: odata.maxpagesize=50,odata.include-annotations="Microsoft.Dynamics.CRM.totalrecordcount,Microsoft.Dynamics.CRM.totalrecordcountlimitexceeded"`
	return buildBatch(
		batchPart{method: http.MethodGet, url: "sharepointsites?$select=sharepointsiteid,name,absoluteurl,relativeurl,isdefault,statecode&$filter=statecode%20eq%200&$orderby=isdefault%20desc&$count=true", headers: []string{sample}},
		batchPart{method: http.MethodGet, url: "sharepointdocumentlocations?$select=sharepointdocumentlocationid,name,absoluteurl,relativeurl,servicetype&$filter=absoluteurl%20ne%20null%20and%20servicetype%20ne%203&$count=true", headers: []string{sample}},
	)
}

func postBatch(tb testing.TB, s *Server, client *http.Client, env, token string) string {
	body, ct := collectorBatch()
	req, _ := http.NewRequest(http.MethodPost, dvURL(env, "$batch"), strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", ct)
	res, err := client.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		tb.Fatal(err)
	}
	if res.StatusCode != http.StatusOK {
		tb.Fatalf("$batch: %d %s", res.StatusCode, b)
	}
	return string(b)
}

func TestMillionRowEnvironment(t *testing.T) {
	t.Parallel()
	s := startServer(t, Options{}, fleetTenant(t, 0, millionRows))
	env := fleetEnv(0)
	tok := getToken(t, s, fleetTenantID(0), appClient, appSecret, env+"/.default")
	out := postBatch(t, s, s.Client(), env, tok)
	for _, want := range []string{`"@odata.count":5000`, `"@Microsoft.Dynamics.CRM.totalrecordcountlimitexceeded":true`, `"name":"Site 1"`, `"name":"Documents 50"`, "@odata.nextLink"} {
		if !strings.Contains(out, want) {
			t.Errorf("$batch response lacks %s", want)
		}
	}
	if strings.Contains(out, `"name":"Documents 51"`) {
		t.Error("the sample holds more than 50 locations")
	}
	// The last row is reachable by key.
	last := derivedGUID(env, "sharepointdocumentlocations", "1", "1000000")
	res, body := call(t, s, http.MethodGet, dvURL(env, "sharepointdocumentlocations("+last+")?$select=name"), tok, "")
	if res.StatusCode != http.StatusOK || !strings.Contains(string(body), `"Documents 1000000"`) {
		t.Errorf("last row: %d %s", res.StatusCode, body)
	}
}
