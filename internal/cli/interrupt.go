package cli

import (
	"context"
	"errors"
	"os"
	"os/signal"
	"syscall"

	"github.com/teamslink/teamslink/internal/finding"
)

// InterruptedError says a signal stopped the run. It is the cause of the
// context Main gives commands, so whatever stopped because of it carries
// it, and ExitCode maps it to 128 plus the signal number.
type InterruptedError struct {
	Signal os.Signal
}

func (e *InterruptedError) Error() string {
	switch e.Signal {
	case syscall.SIGINT:
		return "interrupted by SIGINT"
	case syscall.SIGTERM:
		return "interrupted by SIGTERM"
	}
	return "interrupted by " + e.Signal.String()
}

// Code is the exit code for the signal: 130 for SIGINT, 143 for SIGTERM.
func (e *InterruptedError) Code() int {
	switch e.Signal {
	case syscall.SIGINT:
		return finding.ExitInterrupted
	case syscall.SIGTERM:
		return finding.ExitTerminated
	}
	if s, ok := e.Signal.(syscall.Signal); ok {
		return 128 + int(s)
	}
	return finding.ExitIncomplete
}

// withInterrupts returns a context that the first SIGINT or SIGTERM cancels
// with an *InterruptedError as its cause. After that first signal the
// process stops catching them, so a second one ends it at once.
func withInterrupts(parent context.Context) (ctx context.Context, stop func()) {
	ctx, cancel := context.WithCancelCause(parent)
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	done := make(chan struct{})
	go func() {
		select {
		case s := <-sigs:
			signal.Stop(sigs)
			cancel(&InterruptedError{Signal: s})
		case <-done:
		}
	}()
	return ctx, func() {
		signal.Stop(sigs)
		close(done)
		cancel(nil)
	}
}

// interruption returns why ctx ended (its cause), or nil while it has not.
// A command checks it before it hands on what it has: after an interrupt,
// a half-collected snapshot is not the state of anything.
func interruption(ctx context.Context) error {
	if ctx.Err() == nil {
		return nil
	}
	return context.Cause(ctx)
}

// interrupted returns the *InterruptedError that ended ctx, if one did.
func interrupted(ctx context.Context) *InterruptedError {
	var e *InterruptedError
	if ctx.Err() != nil && errors.As(context.Cause(ctx), &e) {
		return e
	}
	return nil
}
