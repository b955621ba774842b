package cli

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/teamslink/teamslink/internal/finding"
	"github.com/teamslink/teamslink/internal/redact"
	"github.com/teamslink/teamslink/internal/snapshot"
)

// redactOptions are --redact and --redact-key-file, shared by collect,
// scan, eval and report render (through renderOptions).
type redactOptions struct {
	enabled bool
	keyFile string
}

func (o *redactOptions) register(cmd *cobra.Command) {
	f := cmd.Flags()
	f.BoolVar(&o.enabled, "redact", false, "replace tenant and environment names, domains, URLs, user names, e-mail addresses, display and record names, ids and ETags in every output with stable keyed hashes (docs/security.md)")
	f.StringVar(&o.keyFile, "redact-key-file", "", "with --redact: `FILE` holding the redaction key (default: the "+redact.EnvKey+" environment variable)")
}

// load returns the run's redactor: nil without --redact, a usage error
// when --redact has no key. Call it before any work is done.
func (o *redactOptions) load(deps Deps) (*outputRedactor, error) {
	if !o.enabled {
		if o.keyFile != "" {
			return nil, usageErrorf("--redact-key-file needs --redact")
		}
		return nil, nil
	}
	key, err := redact.LoadKey(o.keyFile, deps.LookupEnv)
	if err != nil {
		if errors.Is(err, redact.ErrNoKey) {
			return nil, &UsageError{Err: fmt.Errorf("--redact: %w", err)}
		}
		return nil, &UsageError{Err: fmt.Errorf("--redact-key-file: %w", err)}
	}
	r, err := redact.New(key)
	if err != nil {
		return nil, &UsageError{Err: err}
	}
	return &outputRedactor{r: r}, nil
}

// outputRedactor redacts what a run writes; a nil one leaves it as it is.
type outputRedactor struct{ r *redact.Redactor }

// apply returns snap and rep redacted with one key (either may be nil).
// The snapshot goes first, so that the report's free text loses every
// string the snapshot's fields named.
func (o *outputRedactor) apply(snap *snapshot.Snapshot, rep *finding.Report) (*snapshot.Snapshot, *finding.Report, error) {
	if o == nil {
		return snap, rep, nil
	}
	var err error
	if snap != nil {
		if snap, err = o.r.Snapshot(snap); err != nil {
			return nil, nil, err
		}
	}
	if rep != nil {
		if rep, err = o.r.Report(rep); err != nil {
			return nil, nil, err
		}
	}
	return snap, rep, nil
}
