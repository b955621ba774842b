package serve

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/teamslink/teamslink/internal/finding"
	"github.com/teamslink/teamslink/internal/safefile"
	"github.com/teamslink/teamslink/internal/snapshot"
	"github.com/teamslink/teamslink/report"
)

// The report directory holds one folder per target (its tenant id, or a
// hash of it when the id is not a plain file name), and in it, per scan,
//
//	report-20261102T091500.000000000Z.json     the report (report.New "json")
//	snapshot-20261102T091500.000000000Z.json   the snapshot it was evaluated from
//	timeline.json                              the states of the retained reports
//
// each written atomically (internal/safefile), the stamps in UTC so that
// names sort as times. Only the newest Retain scans are kept.
const (
	reportPrefix   = "report-"
	snapshotPrefix = "snapshot-"
	fileSuffix     = ".json"
	timelineFile   = "timeline.json"
	stampLayout    = "20060102T150405.000000000Z"
)

// DefaultRetain is how many scans per target a report directory keeps
// unless told: a day of hourly scans.
const DefaultRetain = 24

// plainName is a tenant id usable as a folder name as it is.
var plainName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$`)

// store is the report directory; a nil store keeps nothing.
type store struct {
	dir    string
	retain int
	now    func() time.Time
}

// targetDir is the folder of the target with tenant id.
func (s *store) targetDir(id string) string {
	name := strings.ToLower(id)
	if !plainName.MatchString(name) {
		sum := sha256.Sum256([]byte(name))
		name = "tenant-" + hex.EncodeToString(sum[:12])
	}
	return filepath.Join(s.dir, name)
}

// point is one scan of a target in its timeline: when the report was made,
// and the state of each experience of each environment.
type point struct {
	At           time.Time          `json:"at"`
	Environments []environmentState `json:"environments"`
	// SignInFailed says the tenant could not be read at all.
	SignInFailed bool `json:"signInFailed,omitempty"`
}

// environmentState is an environment's verdicts in one point.
type environmentState struct {
	URL    string                                   `json:"url"`
	Name   string                                   `json:"name,omitempty"`
	States map[finding.Experience]finding.Readiness `json:"states"`
}

// timelineDoc is timeline.json.
type timelineDoc struct {
	Tenant string  `json:"tenant"`
	Points []point `json:"points"`
}

// pointOf is the timeline point of rep, made at at.
func pointOf(rep *finding.Report, at time.Time) point {
	p := point{At: at.UTC(), Environments: []environmentState{}}
	for _, e := range rep.Environments {
		es := environmentState{URL: e.URL, Name: e.Name, States: map[finding.Experience]finding.Readiness{}}
		for _, v := range e.Verdicts {
			if v.Readiness != "" && v.Readiness != finding.NotAssessed {
				es.States[v.Experience] = v.Readiness
			}
		}
		p.Environments = append(p.Environments, es)
	}
	p.SignInFailed = len(rep.SignInErrors) > 0
	return p
}

// saved is what a report directory holds of a target.
type saved struct {
	report   *finding.Report
	at       time.Time
	timeline []point
}

// load reads the latest report of the target with tenant id and its
// timeline. A target with no folder yet has nothing; a latest report that
// cannot be read is an error (the caller logs it and starts without).
func (s *store) load(id string) (saved, error) {
	var out saved
	if s == nil {
		return out, nil
	}
	dir := s.targetDir(id)
	reports, err := s.list(dir, reportPrefix)
	if err != nil || len(reports) == 0 {
		return out, err
	}
	if b, err := os.ReadFile(filepath.Join(dir, timelineFile)); err == nil {
		var doc timelineDoc
		if err := json.Unmarshal(b, &doc); err == nil {
			out.timeline = doc.Points
		}
	}
	// The newest report that reads: one left half-written by a crash of
	// an older build, or damaged, gives way to the one before it.
	var firstErr error
	for i := len(reports) - 1; i >= 0; i-- {
		path := filepath.Join(dir, reports[i])
		rep, err := report.ReadFile(path)
		if err != nil {
			if firstErr == nil {
				firstErr = fmt.Errorf("read %s: %w", path, err)
			}
			continue
		}
		out.report = rep
		out.at = rep.GeneratedAt
		if at, ok := stampOf(reports[i], reportPrefix); ok {
			out.at = at
		}
		return out, nil
	}
	return out, firstErr
}

// list returns the names of dir that start with prefix and end in .json,
// oldest first; a missing dir has none.
func (s *store) list(dir, prefix string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list report directory: %w", err)
	}
	var names []string
	for _, e := range entries {
		if n := e.Name(); e.Type().IsRegular() && strings.HasPrefix(n, prefix) && strings.HasSuffix(n, fileSuffix) {
			if _, ok := stampOf(n, prefix); ok {
				names = append(names, n)
			}
		}
	}
	slices.Sort(names)
	return names, nil
}

// stampOf reads the time in a file name.
func stampOf(name, prefix string) (time.Time, bool) {
	t, err := time.Parse(stampLayout, strings.TrimSuffix(strings.TrimPrefix(name, prefix), fileSuffix))
	return t, err == nil
}

// save writes a scan's report and snapshot (nil: none) and the target's
// timeline, then removes the scans beyond the retention count.
func (s *store) save(ctx context.Context, id string, rep *finding.Report, snap *snapshot.Snapshot, at time.Time, timeline []point) error {
	if s == nil {
		return nil
	}
	dir := s.targetDir(id)
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return fmt.Errorf("create report directory: %w", err)
	}
	stamp := at.UTC().Format(stampLayout)
	files := []struct {
		name   string
		render func(io.Writer) error
	}{
		{reportPrefix + stamp + fileSuffix, func(w io.Writer) error {
			jw, err := report.New("json", w, report.Options{Now: s.now})
			if err != nil {
				return err
			}
			return jw.Write(ctx, rep)
		}},
		{timelineFile, func(w io.Writer) error {
			enc := json.NewEncoder(w)
			return enc.Encode(timelineDoc{Tenant: id, Points: timeline})
		}},
	}
	if snap != nil {
		files = slices.Insert(files, 1, struct {
			name   string
			render func(io.Writer) error
		}{snapshotPrefix + stamp + fileSuffix, func(w io.Writer) error { return snapshot.Write(w, snap) }})
	}
	for _, f := range files {
		if err := writeFile(ctx, filepath.Join(dir, f.name), f.render); err != nil {
			return err
		}
	}
	return s.prune(dir)
}

// writeFile renders one file and puts it in place atomically. The scan is
// over when this runs: a shutdown must not leave its report unwritten.
func writeFile(ctx context.Context, path string, render func(io.Writer) error) error {
	f, err := safefile.Create(path)
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := render(f); err != nil {
		_ = f.Abort()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Commit(context.WithoutCancel(ctx)); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// prune removes every report and snapshot older than the newest retain.
func (s *store) prune(dir string) error {
	var errs []error
	for _, prefix := range []string{reportPrefix, snapshotPrefix} {
		names, err := s.list(dir, prefix)
		if err != nil {
			return err
		}
		for len(names) > s.retain {
			if err := os.Remove(filepath.Join(dir, names[0])); err != nil && !errors.Is(err, fs.ErrNotExist) {
				errs = append(errs, fmt.Errorf("prune report directory: %w", err))
			}
			names = names[1:]
		}
	}
	return errors.Join(errs...)
}
