package serve

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
)

// Schedule says when a target is scanned again: every Interval, varied by
// Jitter, or at the times of a cron expression. Build it with
// IntervalSchedule or CronSchedule; the zero value is not valid.
type Schedule struct {
	interval time.Duration
	jitter   float64
	cron     cron.Schedule
	spec     string
}

// ScheduleError says why a schedule was refused: the CLI reports it as a
// usage error.
type ScheduleError struct {
	// Flag names the setting at fault: "interval", "jitter" or "schedule".
	Flag string
	Err  error
}

func (e *ScheduleError) Error() string { return e.Flag + ": " + e.Err.Error() }

// Unwrap returns the underlying error.
func (e *ScheduleError) Unwrap() error { return e.Err }

// MaxJitter bounds the jitter: at 1 a scan could follow the last one at once.
const MaxJitter = 0.9

// IntervalSchedule scans each target interval after its last scan ended,
// varied by up to jitter × interval either way (jitter from 0 to
// MaxJitter), so that targets scanned together drift apart.
func IntervalSchedule(interval time.Duration, jitter float64) (Schedule, error) {
	switch {
	case interval <= 0:
		return Schedule{}, &ScheduleError{Flag: "interval", Err: fmt.Errorf("%s: must be more than 0", interval)}
	case jitter < 0 || jitter > MaxJitter || jitter != jitter:
		return Schedule{}, &ScheduleError{Flag: "jitter", Err: fmt.Errorf("%g: must be from 0 to %g", jitter, MaxJitter)}
	}
	return Schedule{interval: interval, jitter: jitter}, nil
}

// CronSchedule scans each target at the times of spec, a standard
// five-field cron expression ("0 * * * *"), a descriptor ("@hourly",
// "@every 30m"), optionally preceded by CRON_TZ=Zone; without a zone the
// times are those of loc (nil: UTC). jitter delays each scan by up to
// jitter × the time to the following occurrence, so that a fleet does not
// start on the same second.
func CronSchedule(spec string, jitter float64, loc *time.Location) (Schedule, error) {
	spec = strings.TrimSpace(spec)
	if spec == "" {
		return Schedule{}, &ScheduleError{Flag: "schedule", Err: errors.New("empty cron expression")}
	}
	if jitter < 0 || jitter > MaxJitter || jitter != jitter {
		return Schedule{}, &ScheduleError{Flag: "jitter", Err: fmt.Errorf("%g: must be from 0 to %g", jitter, MaxJitter)}
	}
	if loc == nil {
		loc = time.UTC
	}
	full := spec
	if !strings.HasPrefix(spec, "CRON_TZ=") && !strings.HasPrefix(spec, "TZ=") {
		full = "CRON_TZ=" + loc.String() + " " + spec
	}
	s, err := cron.ParseStandard(full)
	if err != nil {
		return Schedule{}, &ScheduleError{Flag: "schedule", Err: fmt.Errorf("%q: %w", spec, err)}
	}
	// An expression that never fires (February 30th) would leave its
	// targets unscanned for good.
	if s.Next(time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)).IsZero() {
		return Schedule{}, &ScheduleError{Flag: "schedule", Err: fmt.Errorf("%q never fires", spec)}
	}
	return Schedule{cron: s, spec: spec, jitter: jitter}, nil
}

// String describes the schedule: "every 1h0m0s ±10%" or "cron 0 * * * *".
func (s Schedule) String() string {
	if s.cron != nil {
		if s.jitter > 0 {
			return fmt.Sprintf("cron %s +%g%%", s.spec, s.jitter*100)
		}
		return "cron " + s.spec
	}
	if s.jitter > 0 {
		return fmt.Sprintf("every %s ±%g%%", s.interval, s.jitter*100)
	}
	return "every " + s.interval.String()
}

// valid reports whether s was built by one of the constructors.
func (s Schedule) valid() bool { return s.cron != nil || s.interval > 0 }

// Next is when a target whose last scan ended at after is scanned again;
// rnd draws the jitter.
func (s Schedule) Next(after time.Time, rnd *rand.Rand) time.Time {
	if s.cron != nil {
		at := s.cron.Next(after)
		return at.Add(s.delay(s.period(at), rnd))
	}
	d := s.interval
	if s.jitter > 0 {
		// Uniform in [interval × (1 - jitter), interval × (1 + jitter)).
		d = time.Duration(float64(s.interval) * (1 + s.jitter*(2*rnd.Float64()-1)))
	}
	return after.Add(d)
}

// First is when a target is first scanned by a serve started at now, whose
// latest report (if any, else the zero time) was made at last: its next
// scan after last, unless that is past; then soon, spread over up to
// jitter × a period, so that the targets of a fleet start apart.
func (s Schedule) First(now, last time.Time, rnd *rand.Rand) time.Time {
	if !last.IsZero() {
		if next := s.Next(last, rnd); next.After(now) {
			return next
		}
	}
	period := s.interval
	if s.cron != nil {
		period = s.period(s.cron.Next(now))
	}
	return now.Add(s.delay(period, rnd))
}

// period is the time from the cron occurrence at to the one after it.
func (s Schedule) period(at time.Time) time.Duration {
	if next := s.cron.Next(at); !next.IsZero() {
		return next.Sub(at)
	}
	return 0
}

// delay draws a wait in [0, jitter × period).
func (s Schedule) delay(period time.Duration, rnd *rand.Rand) time.Duration {
	if s.jitter <= 0 || period <= 0 {
		return 0
	}
	return time.Duration(rnd.Float64() * s.jitter * float64(period))
}
