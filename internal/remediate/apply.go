package remediate

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/teamslink/teamslink/internal/odata"
)

// Clients returns the Web API client of an environment of a tenant.
type Clients func(tenant, environment string) (*odata.Client, error)

// Runner applies and rolls back the plan of a journal.
type Runner struct {
	Clients Clients
	// Out gets one line per action: what was done, skipped or stopped.
	Out io.Writer
}

// StopError is a run that stopped at an action: drift, a refused write
// (403, 412) or a failure. The journal is consistent: everything before
// the action is done (or undone) and verified, the action itself is
// either not written or the journal has its backup.
type StopError struct {
	Action  Action
	Reason  string
	Err     error
	Journal string
	// Done is how many actions were done (or undone) and verified.
	Done int
	Undo bool
}

func (e *StopError) Error() string {
	verb := "apply"
	if e.Undo {
		verb = "rollback"
	}
	msg := fmt.Sprintf("%s stopped at action %s (%s %s): %s", verb, e.Action.ID, e.Action.Kind, e.Action.Target, e.Reason)
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	next := fmt.Sprintf("run `teamslink remediate apply --resume %s` once that is sorted, or `teamslink remediate rollback --journal %s`", e.Journal, e.Journal)
	if e.Undo {
		next = fmt.Sprintf("run `teamslink remediate rollback --journal %s` again once that is sorted", e.Journal)
	}
	return fmt.Sprintf("%s; %d action(s) before it are %s and verified; the journal %s is consistent: %s", msg, e.Done, map[bool]string{false: "done", true: "undone"}[e.Undo], e.Journal, next)
}

func (e *StopError) Unwrap() error { return e.Err }

// reasonOf names why a request failed, for people.
func reasonOf(err error) string {
	switch {
	case errors.Is(err, odata.ErrForbidden):
		return "the service refused the write (403): the identity lacks the privilege"
	case errors.Is(err, odata.ErrPreconditionFailed):
		return "the record changed between the re-read and the write (412, If-Match)"
	case errors.Is(err, odata.ErrUnauthorized):
		return "not signed in (401)"
	}
	return "the request failed"
}

func (r *Runner) say(format string, args ...any) {
	if r.Out != nil {
		fmt.Fprintf(r.Out, format+"\n", args...)
	}
}

func (r *Runner) client(a Action) (dv, error) {
	c, err := r.Clients(a.Tenant, a.Environment)
	if err != nil {
		return dv{}, err
	}
	return dv{c}, nil
}

// Apply makes the plan's actions that the journal does not hold as done,
// in order: re-read, drift check, backup (fsynced), write with If-Match,
// re-read to verify, done. An action the journal backed up but never marked
// done (a crash, a lost answer) is checked first: if the write went
// through it is verified and marked done, never sent twice.
func (r *Runner) Apply(ctx context.Context, j *Journal) error {
	states := j.states()
	done := 0
	// written holds the ETag each record had after this run's last write to
	// it: an action after another on the same record (OneDrive off, then
	// Basic on) expects that one, not the plan's.
	written := map[Target]string{}
	for _, a := range j.Plan().Actions() {
		st := states[a.ID]
		if st != nil && st.done {
			r.say("= %s already done: %s", a.ID, a.Description)
			written[a.Target] = st.etag
			done++
			continue
		}
		if etag, ok := written[a.Target]; ok {
			a.ETag = etag
		}
		stop := func(reason string, err error) error {
			msg := reason
			if err != nil {
				msg += ": " + err.Error()
			}
			if jerr := j.Append(Entry{Op: OpFailed, Action: a.ID, Error: msg}); jerr != nil {
				return errors.Join(&StopError{Action: a, Reason: reason, Err: err, Journal: j.Path(), Done: done}, jerr)
			}
			r.say("✗ %s %s: %s", a.ID, a.Description, msg)
			return &StopError{Action: a, Reason: reason, Err: err, Journal: j.Path(), Done: done}
		}
		d, err := r.client(a)
		if err != nil {
			return stop("no client for the environment", err)
		}
		o, err := d.read(ctx, a)
		if err != nil {
			return stop("could not re-read the record: "+reasonOf(err), err)
		}
		if st != nil && st.backedUp && applied(a, o) {
			// The last run wrote it and stopped before saying so.
			if err := j.Append(Entry{Op: OpDone, Action: a.ID, ETag: o.etag}); err != nil {
				return err
			}
			written[a.Target] = o.etag
			r.say("✓ %s %s (written by the interrupted run; verified)", a.ID, a.Description)
			done++
			continue
		}
		if why := drift(a, o); why != "" {
			return stop("the record drifted from the plan: "+why+"; make a new plan", nil)
		}
		if a.Kind == KindDelete {
			if err := recreatable(o.record); err != nil {
				return stop("cannot back up the record fully", err)
			}
		}
		if err := j.Append(Entry{Op: OpBackup, Action: a.ID, Backup: o.record, ETag: o.etag}); err != nil {
			return err
		}
		if a.Kind == KindDelete {
			err = d.remove(ctx, a, o)
		} else {
			err = d.write(ctx, a, o, a.Write)
		}
		if err != nil {
			return stop(reasonOf(err), err)
		}
		after, err := d.read(ctx, a)
		if err != nil {
			return stop("could not re-read the record to verify the write", err)
		}
		if !applied(a, after) {
			return stop("the write did not hold: "+strings.Join(differences(a.Write, after.values), "; "), nil)
		}
		if err := j.Append(Entry{Op: OpDone, Action: a.ID, ETag: after.etag}); err != nil {
			return err
		}
		written[a.Target] = after.etag
		r.say("✓ %s %s", a.ID, a.Description)
		done++
	}
	return nil
}

// applied reports whether the record shows a's write.
func applied(a Action, o observed) bool {
	if a.Kind == KindDelete {
		return !o.exists
	}
	return o.exists && len(differences(a.Write, o.values)) == 0
}

// drift says how the record differs from what the plan saw, or "".
func drift(a Action, o observed) string {
	if !o.exists {
		return "it no longer exists"
	}
	if d := differences(a.Seen, o.values); len(d) > 0 {
		return strings.Join(d, "; ")
	}
	if a.ETag != "" && o.etag != a.ETag {
		return fmt.Sprintf("it was changed since the plan (ETag %s, now %s)", a.ETag, o.etag)
	}
	return ""
}

// Rollback undoes, newest first, every action the journal backed up and
// has not undone: each record is re-read and must show the plan's write
// (else it drifted and the run stops), is restored (a deleted location
// recreated from its backup with the same id and links) and verified.
// Records already as they were before are marked undone without a write,
// so a rollback can be run again after an interruption.
func (r *Runner) Rollback(ctx context.Context, j *Journal) error {
	states := j.states()
	actions := slices.Clone(j.Plan().Actions())
	slices.Reverse(actions)
	undone := 0
	for _, a := range actions {
		st := states[a.ID]
		if st == nil || !st.backedUp {
			continue // never touched
		}
		if st.undone {
			r.say("= %s already undone: %s", a.ID, a.Description)
			undone++
			continue
		}
		stop := func(reason string, err error) error {
			msg := reason
			if err != nil {
				msg += ": " + err.Error()
			}
			se := &StopError{Action: a, Reason: reason, Err: err, Journal: j.Path(), Done: undone, Undo: true}
			if jerr := j.Append(Entry{Op: OpUndoFailed, Action: a.ID, Error: msg}); jerr != nil {
				return errors.Join(se, jerr)
			}
			r.say("✗ %s undo %s: %s", a.ID, a.Description, msg)
			return se
		}
		d, err := r.client(a)
		if err != nil {
			return stop("no client for the environment", err)
		}
		o, err := d.read(ctx, a)
		if err != nil {
			return stop("could not re-read the record: "+reasonOf(err), err)
		}
		restored, why := restoredAlready(a, st.backup, o)
		if restored {
			if err := j.Append(Entry{Op: OpUndone, Action: a.ID, ETag: o.etag}); err != nil {
				return err
			}
			r.say("= %s %s: already as before", a.ID, a.Description)
			undone++
			continue
		}
		if why != "" {
			return stop("the record drifted since the apply: "+why+"; it was not rolled back", nil)
		}
		if err := j.Append(Entry{Op: OpUndoBackup, Action: a.ID, Backup: o.record, ETag: o.etag}); err != nil {
			return err
		}
		if a.Kind == KindDelete {
			err = d.recreate(ctx, a, st.backup)
		} else {
			err = d.write(ctx, a, o, a.Seen)
		}
		if err != nil {
			return stop(reasonOf(err), err)
		}
		after, err := d.read(ctx, a)
		if err != nil {
			return stop("could not re-read the record to verify the undo", err)
		}
		if ok, why := restoredAlready(a, st.backup, after); !ok {
			return stop("the undo did not hold: "+why, nil)
		}
		if err := j.Append(Entry{Op: OpUndone, Action: a.ID, ETag: after.etag}); err != nil {
			return err
		}
		r.say("↶ %s undid %s", a.ID, a.Description)
		undone++
	}
	return nil
}

// restoredAlready reports whether the record is as before the action; when
// not, why is "" if it shows the action's write (so undo may proceed) and
// otherwise says how it drifted.
func restoredAlready(a Action, backup map[string]any, o observed) (bool, string) {
	if a.Kind == KindDelete {
		if !o.exists {
			return false, ""
		}
		if d := sameRecord(backup, o.record); len(d) > 0 {
			return false, "a location with its id exists and differs from the backup: " + strings.Join(d, "; ")
		}
		return true, ""
	}
	if !o.exists {
		return false, "it no longer exists"
	}
	if len(differences(a.Seen, o.values)) == 0 {
		return true, ""
	}
	if len(differences(a.Write, o.values)) == 0 {
		return false, ""
	}
	return false, strings.Join(differences(a.Write, o.values), "; ")
}
