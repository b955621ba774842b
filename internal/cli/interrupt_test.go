package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/teamslink/teamslink/internal/emulator"
)

func TestExitCodeInterrupted(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		err  error
		want int
	}{
		{"SIGINT", &InterruptedError{Signal: syscall.SIGINT}, 130},
		{"SIGTERM", &InterruptedError{Signal: syscall.SIGTERM}, 143},
		{"wrapped", fmt.Errorf("write snapshot to s.json: %w", &InterruptedError{Signal: os.Interrupt}), 130},
		{"interrupt wins over a report's code", errors.Join(&InterruptedError{Signal: syscall.SIGTERM}, &ExitError{Code: 1}), 143},
		{"cancelled without a signal", fmt.Errorf("collect: %w", context.Canceled), 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := ExitCode(tt.err); got != tt.want {
				t.Errorf("ExitCode(%v) = %d, want %d", tt.err, got, tt.want)
			}
		})
	}
}

// slowDataverse holds every Dataverse request for five minutes (the longest
// latency fault): a scan of it is still collecting when it is interrupted.
func slowDataverse(s *emulator.Scenario) {
	s.Faults = append(s.Faults, emulator.Fault{
		Name:  "slow-dataverse",
		Kind:  emulator.FaultLatency,
		Delay: "5m",
		Match: emulator.FaultMatch{Host: "crm.dynamics.com"},
	})
}

// awaitToken waits until the emulator has issued a token: the run is past
// its start-up and collecting.
func awaitToken(srv *emulator.Server) error {
	for range 3000 {
		for _, r := range srv.Requests() {
			if r.TokenRequest {
				return nil
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	return errors.New("no token was requested in 30s")
}

// previousFiles writes the files an earlier run left and returns a check
// that they are still byte for byte what they were, with nothing beside
// them.
func previousFiles(t *testing.T, dir string, names ...string) func() {
	t.Helper()
	want := map[string]string{}
	for _, name := range names {
		want[name] = "previous " + name + "\n"
		if err := os.WriteFile(filepath.Join(dir, name), []byte(want[name]), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return func() {
		t.Helper()
		entries, err := os.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			w, ok := want[e.Name()]
			if !ok {
				t.Errorf("%s was left in the output directory", e.Name())
				continue
			}
			if got, _ := os.ReadFile(filepath.Join(dir, e.Name())); string(got) != w {
				t.Errorf("%s was replaced: %.60q", e.Name(), got)
			}
		}
	}
}

// TestInterruptReplacesNothing interrupts collect and scan in-process while
// they wait on Dataverse, the way Main's signal handler does (cancelling
// the context with an *InterruptedError): the run stops, replaces none of
// the files an earlier run left, prints no report, and exits 130 or 143.
func TestInterruptReplacesNothing(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		signal os.Signal
		args   []string
		files  []string
		want   int
	}{
		{"collect -o on SIGINT", syscall.SIGINT, []string{"collect", "-o", "snapshot.json"}, []string{"snapshot.json"}, 130},
		{"collect to stdout on SIGTERM", syscall.SIGTERM, []string{"collect"}, nil, 143},
		{
			"scan on SIGINT", syscall.SIGINT,
			[]string{"scan", "--format", "table,json=report.json", "--snapshot-out", "snapshot.json"},
			[]string{"snapshot.json", "report.json"}, 130,
		},
		{"scan on SIGTERM", syscall.SIGTERM, []string{"scan", "--output", "report.txt"}, []string{"report.txt"}, 143},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv, configPath, deps := fleetConfig(t, slowDataverse, "ready")
			dir := t.TempDir()
			unchanged := previousFiles(t, dir, tt.files...)
			args := append(tt.args, "--config", configPath)
			for i, a := range args {
				for _, f := range tt.files {
					args[i] = strings.Replace(a, f, filepath.Join(dir, f), 1)
				}
			}
			ctx, cancel := context.WithCancelCause(t.Context())
			defer cancel(nil)
			go func() {
				if err := awaitToken(srv); err != nil {
					t.Error(err)
				}
				cancel(&InterruptedError{Signal: tt.signal})
			}()
			var out, errOut bytes.Buffer
			deps.Stdin, deps.Stdout, deps.Stderr = strings.NewReader(""), &out, &errOut
			code := Run(ctx, args, deps)
			if code != tt.want {
				t.Errorf("exit code %d, want %d; stderr: %s", code, tt.want, errOut.String())
			}
			if !strings.Contains(errOut.String(), "interrupted by SIG") {
				t.Errorf("stderr does not say the run was interrupted: %q", errOut.String())
			}
			if out.Len() != 0 {
				t.Errorf("an interrupted run printed %d bytes: %.80q", out.Len(), out.String())
			}
			unchanged()
		})
	}
}

// TestSignalStopsScanProcess builds teamslink, starts a scan of an
// emulator whose Dataverse answers after five minutes, and sends the
// process a real signal: it exits 130 (SIGINT) or 143 (SIGTERM), and the
// snapshot and report an earlier run left are byte-identical.
func TestSignalStopsScanProcess(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	if runtime.GOOS == "windows" {
		t.Skip("no SIGINT to send on Windows")
	}
	t.Parallel()
	bin := filepath.Join(t.TempDir(), "teamslink")
	if out, err := exec.CommandContext(t.Context(), "go", "build", "-o", bin, "github.com/teamslink/teamslink/cmd/teamslink").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	tests := []struct {
		signal os.Signal
		want   int
	}{
		{syscall.SIGINT, 130},
		{syscall.SIGTERM, 143},
	}
	for _, tt := range tests {
		t.Run(tt.signal.String(), func(t *testing.T) {
			t.Parallel()
			srv, configPath, deps := fleetConfig(t, slowDataverse, "ready")
			secret, _ := deps.LookupEnv(demoSecretEnv)
			dir := t.TempDir()
			unchanged := previousFiles(t, dir, "snapshot.json", "report.json")
			cmd := exec.CommandContext(t.Context(), bin, "scan", "--config", configPath,
				"--format", "table,json=report.json", "--snapshot-out", "snapshot.json")
			cmd.Dir = dir
			cmd.Env = append(os.Environ(), demoSecretEnv+"="+secret)
			var out, errOut bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &errOut
			cmd.WaitDelay = time.Minute
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			if err := awaitToken(srv); err != nil {
				t.Error(err)
			}
			if err := cmd.Process.Signal(tt.signal); err != nil {
				t.Fatal(err)
			}
			err := cmd.Wait()
			if code := cmd.ProcessState.ExitCode(); code != tt.want {
				t.Errorf("exit code %d (%v), want %d; stderr: %s", code, err, tt.want, errOut.String())
			}
			if out.Len() != 0 {
				t.Errorf("an interrupted scan printed %d bytes: %.80q", out.Len(), out.String())
			}
			unchanged()
		})
	}
}
