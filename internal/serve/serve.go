package serve

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/teamslink/teamslink/internal/config"
	"github.com/teamslink/teamslink/internal/finding"
	"github.com/teamslink/teamslink/internal/metrics"
	"github.com/teamslink/teamslink/internal/snapshot"
)

// Target is one tenant of the config: the unit serve schedules and scans.
// A scan covers a whole tenant, since tenant-wide rules (licences,
// consent) need all of it.
type Target struct {
	// ID is the tenant id, unique in the config (compared without regard
	// to case).
	ID string
	// Name is the tenant's display name, if the config gives one.
	Name string
	// Config is the config the target was loaded from, whole: the scan
	// takes the tenant ID from it, with the defaults and waivers.
	Config *config.Config
}

// Targets returns a target per tenant of cfg, in the config's order.
func Targets(cfg *config.Config) []Target {
	out := make([]Target, 0, len(cfg.Tenants))
	for _, t := range cfg.Tenants {
		out = append(out, Target{ID: t.ID, Name: t.Name, Config: cfg})
	}
	return out
}

// Result is what one scan of a target produced.
type Result struct {
	// Report is the evaluated report of the target's tenant. Required.
	Report *finding.Report
	// Snapshot is what the report was evaluated from; written beside it
	// in the report directory when not nil.
	Snapshot *snapshot.Snapshot
}

// ScanFunc scans one target: collects its tenant, evaluates it, and
// returns the report, or an error when it could not produce one (a
// tenant's failed sign-in is a report, not an error). It must stop when
// ctx ends. It records nothing of the scan in the metrics (serve does:
// Metrics.ObserveScan and ObserveReport); it may count its requests with
// Metrics.Hooks.
type ScanFunc func(ctx context.Context, t Target) (*Result, error)

// LoadFunc loads the config and returns its targets, or an error, in which
// case serve keeps the targets it has.
type LoadFunc func(ctx context.Context) ([]Target, error)

// Options configure a Service. Load, Scan, Now, Metrics and Gatherer are
// required.
type Options struct {
	// Load reads the config, at start and on every reload.
	Load LoadFunc
	// Scan scans one target.
	Scan ScanFunc
	// Now is the process's one clock.
	Now func() time.Time
	// Metrics are the series serve keeps up to date; they must be
	// registered on Gatherer.
	Metrics *metrics.Metrics
	// Gatherer is the registry /metrics serves.
	Gatherer prometheus.Gatherer

	// Schedule says when targets are scanned again; the zero value is
	// IntervalSchedule(DefaultInterval, DefaultJitter).
	Schedule Schedule
	// Concurrency bounds how many targets are scanned at once; 0 means
	// DefaultConcurrency.
	Concurrency int
	// ReportDir, when not empty, keeps each scan's report and snapshot,
	// and gives a restarted serve its previous reports.
	ReportDir string
	// Retain is how many scans per target the report directory and the
	// timeline keep; 0 means DefaultRetain.
	Retain int
	// Rand draws the jitter; nil seeds one from Now. Tests pass a seeded
	// one for a deterministic schedule.
	Rand *rand.Rand
	// Grace is how long running scans may go on after the context of Run
	// or Start ends before they are canceled; 0 means DefaultGrace.
	Grace time.Duration
	// MetricsMaxAge is how long an encoded /metrics answer is served again
	// while no report changed; 0 means DefaultMetricsMaxAge.
	MetricsMaxAge time.Duration
	// Logger gets what serve does; nil discards it.
	Logger *slog.Logger
}

// The defaults of Options.
const (
	DefaultInterval      = time.Hour
	DefaultJitter        = 0.1
	DefaultConcurrency   = 8
	DefaultGrace         = 30 * time.Second
	DefaultMetricsMaxAge = time.Second
)

// maxErrorText bounds the text of a failed scan kept for the HTML page.
const maxErrorText = 512

// Service is teamslink serve: it scans its targets on a schedule, keeps the
// latest report of each, and answers HTTP from them. Create it with New.
type Service struct {
	opts   Options
	sched  Schedule
	store  *store
	retain int
	log    *slog.Logger
	conc   int

	// reloadMu orders loads of the config.
	reloadMu sync.Mutex

	mu       sync.Mutex
	targets  map[string]*targetState // by lowercased tenant id
	order    []string                // keys in the config's order
	retiring map[string]*targetState // removed targets whose scan still runs
	running  int
	rnd      *rand.Rand
	gen      uint64 // bumped whenever what the reports say changes
	ready    bool
	stopping bool

	wake        chan struct{}
	scans       sync.WaitGroup
	scanCtx     context.Context
	cancelScans context.CancelFunc
	done        chan struct{} // closed when the scheduler and its scans ended

	views viewCache
	http  httpCaches
}

// targetState is what serve keeps of one target.
type targetState struct {
	target  Target
	next    time.Time
	running bool
	cancel  context.CancelFunc
	removed bool

	report   *finding.Report
	reportAt time.Time
	timeline []point

	lastAttempt time.Time
	lastErr     string
}

// New checks opts and returns the service; Start or Run starts it.
func New(opts Options) (*Service, error) {
	switch {
	case opts.Load == nil:
		return nil, errors.New("serve: Options.Load is required")
	case opts.Scan == nil:
		return nil, errors.New("serve: Options.Scan is required")
	case opts.Now == nil:
		return nil, errors.New("serve: Options.Now is required")
	case opts.Metrics == nil || opts.Gatherer == nil:
		return nil, errors.New("serve: Options.Metrics and Options.Gatherer are required")
	case opts.Concurrency < 0:
		return nil, fmt.Errorf("serve: concurrency %d: must be at least 1", opts.Concurrency)
	case opts.Retain < 0:
		return nil, fmt.Errorf("serve: retain %d: must be at least 1", opts.Retain)
	}
	s := &Service{
		opts:     opts,
		sched:    opts.Schedule,
		retain:   cmpOr(opts.Retain, DefaultRetain),
		conc:     cmpOr(opts.Concurrency, DefaultConcurrency),
		log:      opts.Logger,
		targets:  map[string]*targetState{},
		retiring: map[string]*targetState{},
		rnd:      opts.Rand,
		wake:     make(chan struct{}, 1),
		done:     make(chan struct{}),
	}
	if !s.sched.valid() {
		s.sched, _ = IntervalSchedule(DefaultInterval, DefaultJitter)
	}
	if s.log == nil {
		s.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if s.rnd == nil {
		seed := uint64(opts.Now().UnixNano())
		s.rnd = rand.New(rand.NewPCG(seed, seed>>32|1))
	}
	if opts.ReportDir != "" {
		s.store = &store{dir: opts.ReportDir, retain: s.retain, now: opts.Now}
	}
	if s.opts.Grace <= 0 {
		s.opts.Grace = DefaultGrace
	}
	if s.opts.MetricsMaxAge <= 0 {
		s.opts.MetricsMaxAge = DefaultMetricsMaxAge
	}
	return s, nil
}

func cmpOr(v, def int) int {
	if v > 0 {
		return v
	}
	return def
}

// Start loads the config, returning its error (nothing is started then),
// and then, in the background, reads the report directory (after which
// the service is ready) and scans on schedule until ctx ends. Done is
// closed once the scheduler and its scans have stopped: when ctx ends,
// running scans get Options.Grace to finish before they are canceled.
func (s *Service) Start(ctx context.Context) error {
	s.reloadMu.Lock()
	targets, err := s.loadConfig(ctx)
	if err != nil {
		s.reloadMu.Unlock()
		return err
	}
	s.scanCtx, s.cancelScans = context.WithCancel(context.WithoutCancel(ctx))
	go func() {
		defer close(s.done)
		s.apply(targets)
		s.reloadMu.Unlock()
		s.loop(ctx)
		s.shutdown()
	}()
	return nil
}

// Done is closed once the service started by Start has stopped.
func (s *Service) Done() <-chan struct{} { return s.done }

// Ready reports whether the config was loaded and the report directory
// read: /metrics and /probe then say what the previous run left.
func (s *Service) Ready() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.ready
}

// Reload loads the config again. A config that does not load is refused:
// the targets stay as they were, teamslink_config_last_reload_successful
// goes to 0, and the error is returned. Otherwise new targets are scheduled
// (answering from the report directory until scanned), removed ones
// dropped (their running scan canceled, their series gone), and the others
// keep their schedule and scan with the new config from their next scan.
func (s *Service) Reload(ctx context.Context) error {
	s.reloadMu.Lock()
	defer s.reloadMu.Unlock()
	targets, err := s.loadConfig(ctx)
	if err != nil {
		return err
	}
	s.apply(targets)
	return nil
}

// loadConfig calls Load and records the attempt in the metrics.
func (s *Service) loadConfig(ctx context.Context) ([]Target, error) {
	targets, err := s.opts.Load(ctx)
	now := s.opts.Now()
	if err == nil {
		err = checkTargets(targets)
	}
	// Either way the reload series changed: /metrics must say so at once.
	defer s.changed()
	if err != nil {
		s.opts.Metrics.ConfigReloaded(false, now)
		s.log.Error("config rejected, keeping the previous one", "err", err)
		return nil, &ConfigError{Err: err}
	}
	s.opts.Metrics.ConfigReloaded(true, now)
	s.log.Info("config loaded", "targets", len(targets))
	return targets, nil
}

// ConfigError says the config did not load (Start, Reload): the CLI
// reports it at start as a usage error.
type ConfigError struct{ Err error }

func (e *ConfigError) Error() string { return "load config: " + e.Err.Error() }

// Unwrap returns the underlying error.
func (e *ConfigError) Unwrap() error { return e.Err }

// checkTargets refuses a target without an id, and an id given twice.
func checkTargets(targets []Target) error {
	seen := map[string]bool{}
	for i, t := range targets {
		key := strings.ToLower(t.ID)
		switch {
		case key == "":
			return fmt.Errorf("target %d has no tenant id", i+1)
		case seen[key]:
			return fmt.Errorf("tenant %s is listed twice", t.ID)
		}
		seen[key] = true
	}
	return nil
}

// apply makes targets the set serve scans. The caller holds reloadMu.
func (s *Service) apply(targets []Target) {
	s.mu.Lock()
	var fresh []string
	for _, t := range targets {
		if _, ok := s.targets[strings.ToLower(t.ID)]; !ok {
			fresh = append(fresh, t.ID)
		}
	}
	s.mu.Unlock()

	// What the report directory holds of the new targets, read without
	// the lock: it may be thousands of files.
	previous := make(map[string]saved, len(fresh))
	for _, id := range fresh {
		sv, err := s.store.load(id)
		if err != nil {
			s.log.Warn("previous report unreadable, waiting for a new scan", "tenant", id, "err", err)
		}
		previous[strings.ToLower(id)] = sv
	}

	s.mu.Lock()
	now := s.opts.Now()
	keep := make(map[string]bool, len(targets))
	order := make([]string, 0, len(targets))
	ids := make([]string, 0, len(targets))
	for _, t := range targets {
		key := strings.ToLower(t.ID)
		keep[key] = true
		order = append(order, key)
		ids = append(ids, t.ID)
		if st, ok := s.targets[key]; ok {
			st.target = t
			continue
		}
		sv := previous[key]
		st := &targetState{target: t, report: sv.report, reportAt: sv.at, timeline: trimTimeline(sv.timeline, s.retain)}
		st.next = s.sched.First(now, sv.at, s.rnd)
		if sv.report != nil {
			s.opts.Metrics.ObserveReport(sv.report, sv.at, t.ID)
		}
		s.targets[key] = st
	}
	for key, st := range s.targets {
		if keep[key] {
			continue
		}
		st.removed = true
		if st.running {
			st.cancel()
			s.retiring[key] = st
		}
		delete(s.targets, key)
	}
	s.order = order
	s.ready = true
	s.gen++
	s.mu.Unlock()
	s.opts.Metrics.Retain(ids...)
	s.wakeUp()
}

// trimTimeline keeps the newest n points.
func trimTimeline(points []point, n int) []point {
	if len(points) > n {
		points = points[len(points)-n:]
	}
	return slices.Clone(points)
}

// changed marks what the HTTP answers say as out of date.
func (s *Service) changed() {
	s.mu.Lock()
	s.gen++
	s.mu.Unlock()
}

// wakeUp makes the scheduler look again.
func (s *Service) wakeUp() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// loop starts the scans that are due until ctx ends.
func (s *Service) loop(ctx context.Context) {
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		wait := s.dispatch()
		timer.Reset(wait)
		select {
		case <-ctx.Done():
			return
		case <-s.wake:
		case <-timer.C:
		}
	}
}

// idleWait is how long the scheduler sleeps when nothing is due: a reload
// or a finished scan wakes it before.
const idleWait = time.Hour

// dispatch starts the due scans that the concurrency bound allows, earliest
// due first, and returns how long until the next one is due.
func (s *Service) dispatch() time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopping {
		return idleWait
	}
	now := s.opts.Now()
	wait := idleWait
	var due []*targetState
	for _, key := range s.order {
		st := s.targets[key]
		if st.running || s.retiring[key] != nil {
			continue
		}
		if d := st.next.Sub(now); d > 0 {
			wait = min(wait, d)
			continue
		}
		due = append(due, st)
	}
	slices.SortStableFunc(due, func(a, b *targetState) int { return a.next.Compare(b.next) })
	for _, st := range due {
		if s.running >= s.conc {
			break // a finishing scan wakes the loop
		}
		s.start(st, now)
	}
	return wait
}

// start runs one scan of st. The caller holds mu.
func (s *Service) start(st *targetState, now time.Time) {
	ctx, cancel := context.WithCancel(s.scanCtx)
	st.running, st.cancel, st.lastAttempt = true, cancel, now
	s.running++
	s.scans.Add(1)
	t := st.target
	go func() {
		defer s.scans.Done()
		defer cancel()
		s.scanOne(ctx, st, t, now)
	}()
}

// scanOne scans t and records the result.
func (s *Service) scanOne(ctx context.Context, st *targetState, t Target, started time.Time) {
	s.log.Info("scan started", "tenant", t.ID)
	res, err := s.opts.Scan(ctx, t)
	if err == nil && (res == nil || res.Report == nil) {
		err = errors.New("the scan returned no report")
	}
	if err != nil && ctx.Err() != nil && !errors.Is(err, context.Canceled) {
		err = errors.Join(context.Canceled, err)
	}
	end := s.opts.Now()
	s.opts.Metrics.ObserveScan(end.Sub(started), err)

	if err == nil {
		s.mu.Lock()
		removed := st.removed
		timeline := trimTimeline(append(slices.Clone(st.timeline), pointOf(res.Report, end)), s.retain)
		s.mu.Unlock()
		if !removed {
			if werr := s.store.save(ctx, t.ID, res.Report, res.Snapshot, end, timeline); werr != nil {
				s.log.Error("report not kept in the report directory", "tenant", t.ID, "err", werr)
			}
		}
		s.mu.Lock()
		if !st.removed {
			st.report, st.reportAt, st.timeline, st.lastErr = res.Report, end, timeline, ""
			s.opts.Metrics.ObserveReport(res.Report, end, t.ID)
		}
		s.mu.Unlock()
		s.log.Info("scan finished", "tenant", t.ID, "took", end.Sub(started))
	} else {
		s.log.Error("scan failed", "tenant", t.ID, "err", err)
	}

	s.mu.Lock()
	st.running = false
	s.running--
	if err != nil {
		st.lastErr = boundText(err.Error())
	}
	st.next = s.sched.Next(end, s.rnd)
	if s.retiring[strings.ToLower(t.ID)] == st {
		delete(s.retiring, strings.ToLower(t.ID))
	}
	s.gen++
	s.mu.Unlock()
	s.wakeUp()
}

// boundText cuts a message to maxErrorText bytes, on a rune boundary.
func boundText(s string) string {
	if len(s) <= maxErrorText {
		return s
	}
	cut := maxErrorText
	for cut > 0 && s[cut]&0xC0 == 0x80 {
		cut--
	}
	return s[:cut] + "…"
}

// shutdown stops scheduling, lets running scans finish within the grace
// period, then cancels them and waits.
func (s *Service) shutdown() {
	s.mu.Lock()
	s.stopping = true
	running := s.running
	s.mu.Unlock()
	finished := make(chan struct{})
	go func() {
		s.scans.Wait()
		close(finished)
	}()
	if running > 0 {
		s.log.Info("stopping: waiting for running scans", "running", running, "grace", s.opts.Grace)
	}
	grace := time.NewTimer(s.opts.Grace)
	defer grace.Stop()
	select {
	case <-finished:
	case <-grace.C:
		s.log.Warn("stopping: canceling the scans still running")
		s.cancelScans()
		<-finished
	}
	s.cancelScans()
}
