package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/teamslink/teamslink/internal/emulator"
)

// Scan is what one run of teamslink scan cost, from the child's rusage and
// the emulator's request log.
type Scan struct {
	Tenants, Envs int
	// Wall is from starting the child to its exit.
	Wall time.Duration
	// CPU is the child's user and system time.
	CPU time.Duration
	// MaxRSS is the child's peak resident set, in bytes.
	MaxRSS int64
	// FirstRequest is from starting the child to the first request the
	// emulator logged.
	FirstRequest time.Duration
	// Requests are the requests sent (those inside a $batch not counted);
	// Dataverse those to the environments' hosts, GraphSharePoint those to
	// Graph and the SharePoint admin sites, Login those to Entra ID.
	Requests, Dataverse, GraphSharePoint, Login int
	// MaxGraphSharePoint is the most Graph and SharePoint requests of one
	// tenant.
	MaxGraphSharePoint int
	// Handshakes are the full TLS handshakes the emulator counted.
	Handshakes int
}

// Floor is the time the scan's round trips take at least: every request
// waits latency, concurrency at a time.
func (s Scan) Floor(latency time.Duration, concurrency int) time.Duration {
	return time.Duration(s.Requests) * latency / time.Duration(concurrency)
}

// SpawnEnv names the file a spawner (Rig.Spawner) writes its child's
// usage to; set, it makes the process a spawner.
const SpawnEnv = "TEAMSLINK_BENCH_SPAWN"

// Usage is what a process used: its peak RSS in bytes, its user and
// system CPU time.
type Usage struct {
	MaxRSS int64         `json:"maxRSS"`
	CPU    time.Duration `json:"cpu"`
}

func usageOf(ps *os.ProcessState) (Usage, error) {
	ru, ok := ps.SysUsage().(*syscall.Rusage)
	if !ok {
		return Usage{}, errors.New("no rusage for the scan")
	}
	return Usage{MaxRSS: ru.Maxrss * 1024, CPU: time.Duration(ru.Utime.Nano() + ru.Stime.Nano())}, nil // Maxrss: KiB on Linux
}

// Spawn is the spawner: it runs args as a child with this process's
// standard streams and environment, writes the child's Usage as JSON to
// the file SpawnEnv names, and returns the child's exit code.
func Spawn(args []string) int {
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	err := cmd.Run()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		fmt.Fprintln(os.Stderr, "spawn:", err)
		return 125
	}
	u, err := usageOf(cmd.ProcessState)
	if err == nil {
		var data []byte
		if data, err = json.Marshal(u); err == nil {
			err = os.WriteFile(os.Getenv(SpawnEnv), data, 0o600)
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "spawn:", err)
		return 125
	}
	return cmd.ProcessState.ExitCode()
}

// usage is the scan's Usage: the spawner's report when there is one, else
// the child's own rusage.
func (r *Rig) usage(cmd *exec.Cmd, file string) (Usage, error) {
	if r.Spawner == "" {
		return usageOf(cmd.ProcessState)
	}
	var u Usage
	data, err := os.ReadFile(file)
	if err == nil {
		err = json.Unmarshal(data, &u)
	}
	if err != nil {
		return Usage{}, fmt.Errorf("the spawner's report: %w", err)
	}
	return u, nil
}

// Run scans the rig's fleet with the teamslink binary bin (scan --config,
// a JSON report and the snapshot written into the rig's directory), extra
// flags added, and measures it. clock is the harness's clock; the exit code
// of findings (1) is a finished scan, any other failure an error.
func (r *Rig) Run(ctx context.Context, clock func() time.Time, bin string, extra ...string) (Scan, error) {
	r.Server.ResetLog()
	args := append([]string{"scan", "--config", r.Config,
		"--format", "json=" + filepath.Join(r.dir, "report.json"),
		"--snapshot-out", filepath.Join(r.dir, "snapshot.json")}, extra...)
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = append(os.Environ(), secretEnv+"="+r.secret)
	usageFile := filepath.Join(r.dir, "rusage.json")
	if r.Spawner != "" {
		_ = os.Remove(usageFile)
		cmd = exec.CommandContext(ctx, r.Spawner, append([]string{bin}, args...)...)
		cmd.Env = append(os.Environ(), secretEnv+"="+r.secret, SpawnEnv+"="+usageFile)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	start := clock()
	err := cmd.Run()
	wall := clock().Sub(start)
	var exit *exec.ExitError
	if err != nil && !(errors.As(err, &exit) && exit.ExitCode() == 1) {
		return Scan{}, fmt.Errorf("%s %s: %w: %s", filepath.Base(bin), strings.Join(args, " "), err, bounded(stderr.String()))
	}
	s := Scan{Tenants: r.Tenants, Envs: r.Envs, Wall: wall}
	u, err := r.usage(cmd, usageFile)
	if err != nil {
		return Scan{}, err
	}
	s.MaxRSS, s.CPU = u.MaxRSS, u.CPU
	s.count(r.Server.Requests(), start)
	for _, n := range r.Server.Handshakes() {
		s.Handshakes += n
	}
	return s, nil
}

// count reads the request log.
func (s *Scan) count(log []emulator.LoggedRequest, start time.Time) {
	perTenant := map[string]int{}
	var first time.Time
	for _, e := range log {
		if e.Method == "TLS" {
			continue // a handshake's fault, not a request
		}
		if first.IsZero() || e.Time.Before(first) {
			first = e.Time
		}
		s.Requests++
		switch {
		case e.TokenRequest || strings.HasPrefix(e.Host, "login."):
			s.Login++
		case strings.HasSuffix(e.Host, ".dynamics.com"):
			s.Dataverse++
		default:
			s.GraphSharePoint++
			perTenant[e.Tenant]++
		}
	}
	for _, n := range perTenant {
		s.MaxGraphSharePoint = max(s.MaxGraphSharePoint, n)
	}
	if !first.IsZero() {
		s.FirstRequest = first.Sub(start)
	}
}

func bounded(s string) string {
	if len(s) > 2000 {
		return s[:2000] + "…"
	}
	return s
}
