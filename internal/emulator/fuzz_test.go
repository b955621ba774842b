package emulator

import (
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
)

// FuzzParseScenario checks that no scenario text makes the loader panic and
// that whatever it accepts builds a server state; it is seeded with every
// hostile scenario of TestParseScenarioHostile. Run with:
//
//	go test ./internal/emulator -run '^$' -fuzz FuzzParseScenario -fuzztime 30s
func FuzzParseScenario(f *testing.F) {
	f.Add([]byte(appScenario))
	if data, err := os.ReadFile(filepath.Join(scenarioDir, "not-sysadmin.yaml")); err == nil {
		f.Add(data)
	}
	f.Add([]byte("tenant: {id: [\n"))
	for _, h := range hostileScenarios() {
		f.Add(h.doc)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		sc, err := ParseScenario(data, "fuzz")
		if err != nil {
			return
		}
		if _, err := buildTenant(sc); err != nil {
			t.Fatalf("validated scenario does not build: %v", err)
		}
	})
}

// FuzzParseBatch checks the multipart $batch parser never panics. Run with:
//
//	go test ./internal/emulator -run '^$' -fuzz FuzzParseBatch -fuzztime 30s
func FuzzParseBatch(f *testing.F) {
	body, _ := buildBatch(
		batchPart{method: "GET", url: "organizations?$select=name"},
		[]batchPart{{method: "PATCH", url: "organizations(0e0e0e0e-1111-4222-8333-444444444444)", body: `{"name":"x"}`}},
	)
	f.Add([]byte(body))
	f.Add([]byte("--batch_7d2f4c1e\r\nContent-Type: application/http\r\n\r\nGET $1 HTTP/1.1\r\n\r\n--batch_7d2f4c1e--\r\n"))
	outer := httptest.NewRequest("POST", "https://x.crm.dynamics.com/api/data/v9.2/$batch", nil)
	d := &dvReq{rc: &reqCtx{host: "x.crm.dynamics.com"}, version: "v9.2"}
	f.Fuzz(func(t *testing.T, data []byte) {
		_, _, _ = parseBatch(data, "batch_7d2f4c1e", outer, d)
	})
}
