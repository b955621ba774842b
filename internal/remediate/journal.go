package remediate

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"time"
)

// Op is what a journal entry records.
type Op string

// The journal's entries, in the order a run appends them.
const (
	OpStart Op = "start" // an apply began: the whole plan
	// OpBackup is the record as read just before its write: what undo
	// restores. It is fsynced before the write is sent.
	OpBackup     Op = "backup"
	OpDone       Op = "done"   // the write was made and verified
	OpFailed     Op = "failed" // the run stopped at this action
	OpUndoBackup Op = "undo-backup"
	OpUndone     Op = "undone" // rollback restored the record and verified it
	OpUndoFailed Op = "undo-failed"
)

// Entry is one line of a journal.
type Entry struct {
	Seq    int             `json:"seq"`
	At     time.Time       `json:"at"`
	Op     Op              `json:"op"`
	Action string          `json:"action,omitempty"`
	Plan   *Plan           `json:"plan,omitempty"`
	Backup map[string]any  `json:"backup,omitempty"`
	ETag   string          `json:"etag,omitempty"`
	Error  string          `json:"error,omitempty"`
	Raw    json.RawMessage `json:"-"`
}

// Journal is an append-only JSON Lines file, fsynced after every entry, that
// says what a run did: a crash leaves it consistent up to its last line.
type Journal struct {
	path    string
	f       *os.File
	now     func() time.Time
	entries []Entry
}

// CreateJournal starts a new journal at path for plan; an existing file is
// never overwritten (resume it, or name another). It holds full record
// backups, so only its owner may read it.
func CreateJournal(path string, plan *Plan, now func() time.Time) (*Journal, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL|os.O_APPEND, 0o600)
	if errors.Is(err, os.ErrExist) {
		return nil, fmt.Errorf("journal %s already exists: resume it with --resume %s, roll it back, or name a new one with --journal", path, path)
	}
	if err != nil {
		return nil, fmt.Errorf("create journal: %w", err)
	}
	j := &Journal{path: path, f: f, now: now}
	if err := j.Append(Entry{Op: OpStart, Plan: plan}); err != nil {
		_ = f.Close()
		return nil, err
	}
	return j, nil
}

// OpenJournal reads the journal at path and opens it to append. A last
// line cut short by a crash is dropped (it was never acknowledged); any
// other malformed line is an error naming it.
func OpenJournal(path string, now func() time.Time) (*Journal, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_APPEND, 0)
	if err != nil {
		return nil, fmt.Errorf("open journal: %w", err)
	}
	entries, good, err := readEntries(f, path)
	if err != nil {
		_ = f.Close()
		return nil, err
	}
	if st, err := f.Stat(); err == nil && st.Size() > good {
		// A torn last line: cut it, so the next entry starts a line.
		if err := f.Truncate(good); err != nil {
			_ = f.Close()
			return nil, fmt.Errorf("journal %s: drop its torn last line: %w", path, err)
		}
	}
	j := &Journal{path: path, f: f, now: now, entries: entries}
	if len(entries) == 0 || entries[0].Op != OpStart || entries[0].Plan == nil {
		_ = f.Close()
		return nil, fmt.Errorf("journal %s: does not start with the plan it ran", path)
	}
	normalizeNumbers(entries[0].Plan)
	if err := entries[0].Plan.Verify(); err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("journal %s: its plan: %w", path, err)
	}
	return j, nil
}

func readEntries(r io.Reader, path string) ([]Entry, int64, error) {
	br := bufio.NewReader(r)
	var entries []Entry
	var good int64
	for line := 1; ; line++ {
		b, err := br.ReadBytes('\n')
		if errors.Is(err, io.EOF) {
			return entries, good, nil // b, if any, is a torn last line
		}
		if err != nil {
			return nil, 0, fmt.Errorf("read journal %s: %w", path, err)
		}
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.UseNumber()
		var e Entry
		if err := dec.Decode(&e); err != nil {
			return nil, 0, fmt.Errorf("journal %s line %d: %w", path, line, err)
		}
		if e.Seq != len(entries)+1 {
			return nil, 0, fmt.Errorf("journal %s line %d: entry %d where %d was expected", path, line, e.Seq, len(entries)+1)
		}
		e.Backup = normalizeMap(e.Backup)
		entries = append(entries, e)
		good += int64(len(b))
	}
}

// Path is where the journal is.
func (j *Journal) Path() string { return j.path }

// Plan is the plan the journal's run executes.
func (j *Journal) Plan() *Plan { return j.entries[0].Plan }

// Entries returns what the journal holds so far.
func (j *Journal) Entries() []Entry { return j.entries }

// Append writes e as the next line and fsyncs the file before returning.
func (j *Journal) Append(e Entry) error {
	e.Seq = len(j.entries) + 1
	e.At = j.now().UTC()
	b, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("journal: %w", err)
	}
	b = append(b, '\n')
	if _, err := j.f.Write(b); err != nil {
		return fmt.Errorf("write journal %s: %w", j.path, err)
	}
	if err := j.f.Sync(); err != nil {
		return fmt.Errorf("sync journal %s: %w", j.path, err)
	}
	j.entries = append(j.entries, e)
	return nil
}

// Close closes the file.
func (j *Journal) Close() error { return j.f.Close() }

// actionState is what the journal says about one action.
type actionState struct {
	backup     map[string]any // the last backup before the write
	backedUp   bool
	done       bool
	etag       string // the record's ETag once done
	undoBackup bool
	undone     bool
}

// states folds the journal into the state of each action.
func (j *Journal) states() map[string]*actionState {
	out := map[string]*actionState{}
	for _, e := range j.entries[1:] {
		s := out[e.Action]
		if s == nil {
			s = &actionState{}
			out[e.Action] = s
		}
		switch e.Op {
		case OpBackup:
			s.backup, s.backedUp = e.Backup, true
		case OpDone:
			s.done, s.etag = true, e.ETag
		case OpUndoBackup:
			s.undoBackup = true
		case OpUndone:
			s.undone = true
		}
	}
	return out
}

// Undoable lists, newest first, the actions a rollback of j would undo.
func Undoable(j *Journal) []string {
	states := j.states()
	actions := j.Plan().Actions()
	var out []string
	for i := len(actions) - 1; i >= 0; i-- {
		a := actions[i]
		if st := states[a.ID]; st != nil && st.backedUp && !st.undone {
			out = append(out, fmt.Sprintf("%s. %s — undo: %s", a.ID, a.Description, a.Undo))
		}
	}
	return out
}
