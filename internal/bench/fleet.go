// Package bench measures fleet scans the way a user runs them: it starts
// the emulator with generated tenants, runs the built teamslink binary
// against it as a child process (so that peak RSS and CPU are the child's
// own, from its rusage) and reads the emulator's request log for the
// requests, round trips and TLS handshakes the scan made. make bench prints
// its table (BenchmarkTable); see docs/performance.md.
package bench

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/teamslink/teamslink/internal/emulator"
)

// secretEnv is the variable the generated tenants.yaml reads the secret from.
const secretEnv = "TEAMSLINK_BENCH_SECRET"

// Fleet makes n copies of the scenario ready (its YAML), each its own
// tenant with its own hosts and envs environments; latency ("" for none)
// delays every request that is not inside a $batch.
func Fleet(ready []byte, n, envs int, latency string) ([]*emulator.Scenario, error) {
	head, env, ok := strings.Cut(string(ready), "\nenvironments:\n")
	if !ok {
		return nil, fmt.Errorf("the ready scenario has no environments")
	}
	var b strings.Builder
	b.WriteString(head + "\nenvironments:\n")
	for k := range envs {
		b.WriteString(strings.ReplaceAll(env, "-sales.crm", fmt.Sprintf("-sales%d.crm", k)))
	}
	text := b.String()
	out := make([]*emulator.Scenario, n)
	for i := range n {
		t := strings.ReplaceAll(text, "contoso", fmt.Sprintf("fleet%04d", i))
		t = strings.ReplaceAll(t, "2c8d0e7f4a61", fmt.Sprintf("%012x", i))
		sc, err := emulator.ParseScenario([]byte(t), fmt.Sprintf("fleet%04d", i))
		if err != nil {
			return nil, fmt.Errorf("fleet tenant %d: %w", i, err)
		}
		if latency != "" {
			sc.Faults = append(sc.Faults, emulator.Fault{Name: "latency", Kind: emulator.FaultLatency, Delay: latency, Match: emulator.FaultMatch{Scope: "outer"}})
		}
		out[i] = sc
	}
	return out, nil
}

// Large returns a copy of sc whose first environment also has locations
// absolute-URL document locations and sites active SharePoint sites,
// generated on demand by the emulator.
func Large(ready []byte, locations, sites int) (*emulator.Scenario, error) {
	extra := fmt.Sprintf(`    generate:
      - set: sharepointdocumentlocations
        count: %d
        row: {name: "Generated {n}", absoluteurl: "https://contoso.sharepoint.com/sites/crm/account/g-{n}", servicetype: 0, locationtype: 0, statecode: 0}
      - set: sharepointsites
        count: %d
        row: {name: "Site {n}", absoluteurl: "https://contoso.sharepoint.com/sites/s{n}", isdefault: false, servicetype: 0, statecode: 0, statuscode: 1}
`, locations, sites)
	sc, err := emulator.ParseScenario(append(append([]byte(nil), ready...), extra...), "large")
	if err != nil {
		return nil, fmt.Errorf("large scenario: %w", err)
	}
	return sc, nil
}

// Rig is a running emulator and the tenants.yaml of its tenants.
type Rig struct {
	Server  *emulator.Server
	Config  string // the tenants.yaml
	Tenants int
	Envs    int
	// Spawner, when set, is an executable that runs each scan as its own
	// child and reports that child's rusage (Spawn): on Linux a child
	// started by a large process (this one, which holds the emulator)
	// reports that process's RSS as its own peak, since Go starts children
	// sharing its memory until exec (CLONE_VM) and exec keeps the higher
	// water mark. A small spawner in between leaves the scan's own figure.
	Spawner string
	secret  string
	dir     string
}

// Start runs the emulator over scenarios on clock and writes a tenants.yaml
// of their tenants in dir. Without sharePointAdminURL the tenants find
// their admin site through Graph (sites/root), the costlier shape.
func Start(dir string, clock func() time.Time, scenarios []*emulator.Scenario, sharePointAdminURL bool) (*Rig, error) {
	srv, err := emulator.New(emulator.Options{Scenarios: scenarios, CAFile: filepath.Join(dir, "ca.pem"), Clock: clock, MaxLog: 1 << 22})
	if err != nil {
		return nil, err
	}
	if err := srv.Start(); err != nil {
		return nil, err
	}
	r := &Rig{Server: srv, Config: filepath.Join(dir, "tenants.yaml"), Tenants: len(scenarios), secret: scenarios[0].Clients[0].Secret, dir: dir}
	var b strings.Builder
	b.WriteString("tenants:\n")
	for _, sc := range scenarios {
		fmt.Fprintf(&b, "  - id: %s\n    name: %q\n    auth:\n      method: client-secret\n      clientId: %s\n      secretEnv: %s\n", sc.Tenant.ID, sc.Tenant.Name, sc.Clients[0].ClientID, secretEnv)
		fmt.Fprintf(&b, "    endpoints:\n      connectTo: %s\n      caFile: %s\n", srv.Addr(), srv.CAFile())
		if sharePointAdminURL && sc.SharePoint != nil {
			fmt.Fprintf(&b, "    sharePointAdminUrl: %s\n", sc.SharePoint.AdminURL)
		}
		b.WriteString("    environments:\n")
		for _, e := range sc.Environments {
			fmt.Fprintf(&b, "      - url: %s\n", e.URL)
			r.Envs++
		}
	}
	if err := os.WriteFile(r.Config, []byte(b.String()), 0o600); err != nil {
		_ = srv.Close()
		return nil, err
	}
	return r, nil
}

// Close stops the emulator.
func (r *Rig) Close() error { return r.Server.Close() }
