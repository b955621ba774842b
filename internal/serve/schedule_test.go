package serve_test

import (
	"errors"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/teamslink/teamslink/internal/serve"
)

func TestIntervalScheduleJitterBounds(t *testing.T) {
	t.Parallel()
	start := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
	tests := []struct {
		name     string
		interval time.Duration
		jitter   float64
	}{
		{"no jitter", time.Hour, 0},
		{"ten percent", time.Hour, 0.1},
		{"half", 10 * time.Minute, 0.5},
		{"most", time.Minute, serve.MaxJitter},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, err := serve.IntervalSchedule(tt.interval, tt.jitter)
			if err != nil {
				t.Fatal(err)
			}
			lo := start.Add(time.Duration(float64(tt.interval) * (1 - tt.jitter)))
			hi := start.Add(time.Duration(float64(tt.interval) * (1 + tt.jitter)))
			rnd := rand.New(rand.NewPCG(7, 7))
			var minSeen, maxSeen time.Time
			for i := range 10000 {
				next := s.Next(start, rnd)
				if next.Before(lo) || next.After(hi) || (tt.jitter > 0 && !next.Before(hi)) {
					t.Fatalf("draw %d: %s outside [%s, %s)", i, next, lo, hi)
				}
				if minSeen.IsZero() || next.Before(minSeen) {
					minSeen = next
				}
				if next.After(maxSeen) {
					maxSeen = next
				}
			}
			// The draws cover the range, not one corner of it.
			if spread := tt.jitter * float64(tt.interval); spread > 0 {
				if got := float64(maxSeen.Sub(minSeen)); got < 1.9*spread {
					t.Errorf("draws span %s, want nearly %s", time.Duration(got), time.Duration(2*spread))
				}
			}
			// The first scan is spread over [now, now + jitter × interval).
			for range 1000 {
				first := s.First(start, time.Time{}, rnd)
				if first.Before(start) || first.After(start.Add(time.Duration(tt.jitter*float64(tt.interval)))) {
					t.Fatalf("first scan at %s, outside the spread", first)
				}
			}
		})
	}
}

func TestScheduleIsDeterministicWithASeed(t *testing.T) {
	t.Parallel()
	s, err := serve.IntervalSchedule(time.Hour, 0.2)
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
	a, b := rand.New(rand.NewPCG(42, 1)), rand.New(rand.NewPCG(42, 1))
	for i := range 100 {
		if x, y := s.Next(at, a), s.Next(at, b); !x.Equal(y) {
			t.Fatalf("draw %d: %s and %s from the same seed", i, x, y)
		}
	}
}

func TestScheduleFirstFollowsThePreviousReport(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
	s, err := serve.IntervalSchedule(time.Hour, 0)
	if err != nil {
		t.Fatal(err)
	}
	rnd := rand.New(rand.NewPCG(1, 1))
	tests := []struct {
		name string
		last time.Time
		want time.Time
	}{
		{"never scanned: now", time.Time{}, now},
		{"scanned 20 min ago: in 40 min", now.Add(-20 * time.Minute), now.Add(40 * time.Minute)},
		{"scanned 3 h ago: now", now.Add(-3 * time.Hour), now},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := s.First(now, tt.last, rnd); !got.Equal(tt.want) {
				t.Errorf("First = %s, want %s", got, tt.want)
			}
		})
	}
}

func TestCronSchedule(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 11, 2, 9, 17, 0, 0, time.UTC)
	tests := []struct {
		name, spec string
		want       time.Time
		wantErr    string
	}{
		{name: "hourly", spec: "0 * * * *", want: time.Date(2026, 11, 2, 10, 0, 0, 0, time.UTC)},
		{name: "descriptor", spec: "@daily", want: time.Date(2026, 11, 3, 0, 0, 0, 0, time.UTC)},
		{name: "every", spec: "@every 30m", want: at.Add(30 * time.Minute)},
		{name: "zone", spec: "CRON_TZ=Europe/Berlin 0 12 * * *", want: time.Date(2026, 11, 2, 11, 0, 0, 0, time.UTC)},
		{name: "six fields", spec: "0 0 * * * *", wantErr: "schedule"},
		{name: "garbage", spec: "every hour", wantErr: "schedule"},
		{name: "out of range", spec: "61 * * * *", wantErr: "schedule"},
		{name: "empty", spec: "  ", wantErr: "schedule"},
		{name: "never fires", spec: "0 0 30 2 *", wantErr: "never fires"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, err := serve.CronSchedule(tt.spec, 0, time.UTC)
			if tt.wantErr != "" {
				var se *serve.ScheduleError
				if !errors.As(err, &se) || se.Flag != "schedule" {
					t.Fatalf("err = %v, want a *ScheduleError of schedule", err)
				}
				if !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("err = %v, want it to say %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := s.Next(at, rand.New(rand.NewPCG(1, 1))); !got.Equal(tt.want) {
				t.Errorf("Next = %s, want %s", got, tt.want)
			}
		})
	}
}

func TestCronJitterDelaysWithinAPeriodShare(t *testing.T) {
	t.Parallel()
	s, err := serve.CronSchedule("0 * * * *", 0.1, nil)
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 11, 2, 9, 17, 0, 0, time.UTC)
	occurrence := time.Date(2026, 11, 2, 10, 0, 0, 0, time.UTC)
	rnd := rand.New(rand.NewPCG(3, 3))
	for range 1000 {
		next := s.Next(at, rnd)
		if next.Before(occurrence) || !next.Before(occurrence.Add(6*time.Minute)) {
			t.Fatalf("Next = %s, want within 6 min after %s", next, occurrence)
		}
	}
}

func TestBadIntervalsAreRefused(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		interval time.Duration
		jitter   float64
		flag     string
	}{
		{"zero interval", 0, 0.1, "interval"},
		{"negative interval", -time.Minute, 0.1, "interval"},
		{"negative jitter", time.Hour, -0.1, "jitter"},
		{"jitter of one", time.Hour, 1, "jitter"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := serve.IntervalSchedule(tt.interval, tt.jitter)
			var se *serve.ScheduleError
			if !errors.As(err, &se) || se.Flag != tt.flag {
				t.Fatalf("err = %v, want a *ScheduleError of %s", err, tt.flag)
			}
		})
	}
}
