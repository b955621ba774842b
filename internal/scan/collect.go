package scan

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/teamslink/teamslink/collectors"
	"github.com/teamslink/teamslink/collectors/dataverse"
	"github.com/teamslink/teamslink/collectors/graph"
	"github.com/teamslink/teamslink/collectors/sharepoint"
	"github.com/teamslink/teamslink/internal/auth"
	"github.com/teamslink/teamslink/internal/cloud"
	"github.com/teamslink/teamslink/internal/config"
	"github.com/teamslink/teamslink/internal/engine"
	"github.com/teamslink/teamslink/internal/metrics"
	"github.com/teamslink/teamslink/internal/odata"
	"github.com/teamslink/teamslink/internal/snapshot"
)

// Collect reads the state of the tenants of cfg that opts select (their
// environments discovered first, for those that ask) into a snapshot,
// tenants in the config's order. A tenant whose discovery failed is not
// collected: the snapshot records why, as a failed sign-in is recorded. An
// interrupted collection returns the interruption, never a half-read
// snapshot.
func Collect(ctx context.Context, cfg *config.Config, opts Options) (*snapshot.Snapshot, error) {
	snap, _, err := collect(ctx, cfg, &opts)
	return snap, err
}

// collect is Collect, also returning how long each target took.
func collect(ctx context.Context, cfg *config.Config, opts *Options) (*snapshot.Snapshot, *tracker, error) {
	if err := opts.Validate(); err != nil {
		return nil, nil, err
	}
	tenants, err := Select(cfg, opts.Tenants, opts.Shard)
	if err != nil {
		return nil, nil, err
	}
	defer opts.withTransports()()
	started := opts.Now()
	targets, err := discoverTenants(ctx, cfg.Defaults, tenants, opts)
	if err != nil {
		return nil, nil, err
	}
	tr := newTracker(targets, started, opts)
	pf := newPrefetcher(targets, prefetchAhead*opts.concurrency())
	tr.release = func(i int) {
		if s := targets[i].session; s != nil {
			s.release()
		}
		pf.finished(i)
	}
	jobs := make([]collectors.TenantJob, 0, len(targets))
	for i, tt := range targets {
		if tt.Failure != nil {
			tr.finish(i)
			continue
		}
		job, err := tenantJob(tt.Tenant, cfg.Defaults, opts, tt.session)
		if err != nil {
			return nil, nil, &ConfigError{Err: err}
		}
		job.Ready = pf.ready[i]
		jobs = append(jobs, tr.wrap(i, job))
	}
	prefetching := make(chan struct{})
	go func() {
		defer close(prefetching)
		pf.run(ctx)
	}()
	snap := collectors.Collect(ctx, jobs, collectors.Options{
		Concurrency: opts.concurrency(), PerTenant: opts.perTenant(),
		Now: opts.Now, Tool: opts.tool(),
	})
	<-prefetching
	// Interrupted, the collectors record what they could not finish as
	// unreadable: that is not the state of the tenant, and must go nowhere.
	if err := interruption(ctx); err != nil {
		return nil, tr, fmt.Errorf("collect: %w", err)
	}
	withFailedTenants(snap, targets, opts)
	return snap, tr, nil
}

// maxTokenRequests bounds the token requests of a run in flight at once:
// they share one HTTP/2 connection to the login host, and a client opens
// another once more than the server's stream limit (100 until its settings
// arrive) are open.
const maxTokenRequests = 64

// prefetchAhead is how many tenants per collector slot may hold prefetched
// tokens before their collection ends: enough that a slot never waits on
// the login endpoint, few enough that a fleet's tokens and per-scope
// credentials are those of the tenants in progress, not of every tenant.
const prefetchAhead = 8

// prefetcher gets the collectors' tokens of the targets, in their order
// and at most maxTokenRequests at once, before their collectors take a
// slot (each target's ready is closed when its tokens are in), and at most
// a window of targets ahead of those whose collection has ended.
type prefetcher struct {
	targets []*Target
	ready   []chan struct{}
	window  chan struct{}
	slots   chan struct{}

	mu    sync.Mutex
	state []prefetchState
}

type prefetchState uint8

const (
	prefetchWaiting  prefetchState = iota
	prefetchAdmitted               // holding a place in the window
	prefetchFinished               // collected (or never to be)
)

func newPrefetcher(targets []*Target, window int) *prefetcher {
	p := &prefetcher{
		targets: targets,
		ready:   make([]chan struct{}, len(targets)),
		window:  make(chan struct{}, max(window, 1)),
		slots:   make(chan struct{}, maxTokenRequests),
		state:   make([]prefetchState, len(targets)),
	}
	for i := range p.ready {
		p.ready[i] = make(chan struct{})
	}
	return p
}

// run prefetches every target's tokens in turn, each once the window has
// room, and returns when all are in. Interrupted, it makes every target
// ready: their collectors then record the interruption.
func (p *prefetcher) run(ctx context.Context) {
	var wg sync.WaitGroup
	defer wg.Wait()
	for i, tt := range p.targets {
		if tt.Failure != nil {
			close(p.ready[i])
			continue
		}
		select {
		case p.window <- struct{}{}:
		case <-ctx.Done():
			for _, r := range p.ready[i:] {
				close(r)
			}
			return
		}
		p.mu.Lock()
		if p.state[i] == prefetchFinished {
			p.mu.Unlock()
			<-p.window
			close(p.ready[i])
			continue
		}
		p.state[i] = prefetchAdmitted
		p.mu.Unlock()
		wg.Go(func() {
			defer close(p.ready[i])
			tt.session.prefetch(ctx, p.slots)
		})
	}
}

// finished records that target i's collection has ended, giving back its
// place in the window.
func (p *prefetcher) finished(i int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.state[i] == prefetchAdmitted {
		<-p.window
	}
	p.state[i] = prefetchFinished
}

// tenantJob wires one tenant: the session's credential and HTTP client, a
// Graph and a SharePoint collector for the tenant, a Dataverse collector
// per environment.
func tenantJob(t config.Tenant, defaults config.Defaults, opts *Options, sess *session) (collectors.TenantJob, error) {
	// Observed, so that a credential that cannot sign in is said once for
	// the tenant, not once per request.
	cred := sess.cred
	sess.scopes = nil // those of discovery are fetched already
	job := collectors.TenantJob{
		Tenant: snapshot.Tenant{ID: t.ID, Name: t.Name, Cloud: string(t.Cloud)},
		Credential: collectors.Credential{
			Method:   string(t.Auth.Method),
			ClientID: t.Auth.ClientID,
			Failure:  func() string { return auth.SignInReason(cred.Failure()) },
		},
	}
	graphURL := strings.TrimSuffix(t.GraphURL(), "/")
	gc, err := sess.client(metrics.APIGraph, graphURL+"/v1.0/", odata.Graph, auth.GraphScope(graphURL), 0)
	if err != nil {
		return job, fmt.Errorf("tenant %s: graph client: %w", t.ID, err)
	}
	graphOpts := graph.Options{ClientID: t.Auth.ClientID, Now: opts.Now}

	sharePointClient := func(admin string) (*odata.Client, error) {
		return sess.client(metrics.APISharePoint, admin+"/", odata.Graph, auth.SharePointScope(admin), 0)
	}
	var sources []collectors.TenantCollector
	if admin := strings.TrimSuffix(t.SharePointAdminURL, "/"); admin != "" {
		sc, err := sharePointClient(admin)
		if err != nil {
			return job, fmt.Errorf("tenant %s: SharePoint client: %w", t.ID, err)
		}
		sources = append(sources, sharepoint.New(sc, opts.Now))
	} else {
		// No admin site in the config: find it from the root site in Graph,
		// asked for in the Graph collector's first $batch.
		c, err := cloud.For(t.Cloud)
		if err != nil {
			return job, fmt.Errorf("tenant %s: %w", t.ID, err)
		}
		d := sharepoint.Discovering{Graph: gc, Cloud: c, NewClient: sharePointClient, Now: opts.Now}
		if d.Batchable() {
			graphOpts.Also = append(graphOpts.Also, graph.Also{URL: sharepoint.RootSitePath, Then: d.FromRoot})
		} else {
			sources = append(sources, d)
		}
	}
	job.Sources = append([]collectors.TenantCollector{graph.New(gc, graphOpts)}, sources...)

	for _, e := range t.Environments {
		envURL := strings.TrimSuffix(e.URL, "/")
		dc, err := sess.client(metrics.APIDataverse, envURL+"/api/data/v9.2/", odata.Dataverse, auth.DataverseScope(envURL), 0)
		if err != nil {
			return job, fmt.Errorf("environment %s: %w", e.URL, err)
		}
		env := snapshot.Environment{URL: envURL, Name: e.Name, Experience: string(e.Experience), TargetTables: targetTables(opts.Tables, e.Tables, defaults.Tables)}
		if e.SharePointIntegrationConfigured != nil {
			v := *e.SharePointIntegrationConfigured
			env.Overrides = &snapshot.Overrides{SharePointIntegrationConfigured: &v}
		}
		job.Environments = append(job.Environments, collectors.EnvironmentJob{
			Environment: env,
			Source:      dataverse.New(dc, dataverse.Options{Now: opts.Now}),
		})
	}
	return job, nil
}

// targetTables picks the first non-empty list: the command line's, the
// environment's, the config defaults', the engine's default.
func targetTables(lists ...[]string) []string {
	for _, l := range lists {
		if len(l) > 0 {
			return slices.Clone(l)
		}
	}
	return slices.Clone(engine.DefaultTables)
}

// tracker follows each target's collectors: it tells Options.Progress as
// each target finishes, and times each target from its first collector's
// start (or the run's start) to its last one's end.
type tracker struct {
	mu        sync.Mutex
	now       func() time.Time
	progress  func(done, total int)
	remaining []int
	started   []time.Time
	took      []time.Duration
	done      int
	// release, when set, is called as each target finishes.
	release func(i int)
}

func newTracker(targets []*Target, started time.Time, opts *Options) *tracker {
	tr := &tracker{
		now: opts.Now, progress: opts.Progress,
		remaining: make([]int, len(targets)),
		started:   make([]time.Time, len(targets)),
		took:      make([]time.Duration, len(targets)),
	}
	for i := range targets {
		tr.started[i] = started
	}
	if tr.progress != nil {
		tr.progress(0, len(targets))
	}
	return tr
}

// wrap counts the collectors of target i's job and makes each report to tr.
func (tr *tracker) wrap(i int, job collectors.TenantJob) collectors.TenantJob {
	tr.remaining[i] = len(job.Sources) + len(job.Environments)
	first := true
	start := func() {
		tr.mu.Lock()
		defer tr.mu.Unlock()
		if first {
			first, tr.started[i] = false, tr.now()
		}
	}
	end := func() {
		tr.mu.Lock()
		tr.remaining[i]--
		last := tr.remaining[i] == 0
		tr.mu.Unlock()
		if last {
			tr.finish(i)
		}
	}
	sources := make([]collectors.TenantCollector, len(job.Sources))
	for k, s := range job.Sources {
		sources[k] = trackedTenant{s, start, end}
	}
	job.Sources = sources
	envs := slices.Clone(job.Environments)
	for k := range envs {
		envs[k].Source = trackedEnvironment{envs[k].Source, start, end}
	}
	job.Environments = envs
	if tr.remaining[i] == 0 {
		tr.finish(i)
	}
	return job
}

// finish records that target i is done, and releases what it held.
func (tr *tracker) finish(i int) {
	if tr.release != nil {
		tr.release(i)
	}
	tr.mu.Lock()
	defer tr.mu.Unlock()
	tr.took[i] = tr.now().Sub(tr.started[i])
	tr.done++
	if tr.progress != nil {
		tr.progress(tr.done, len(tr.took))
	}
}

// durations are how long each target took; those not finished count
// until now.
func (tr *tracker) durations() []time.Duration {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	out := slices.Clone(tr.took)
	for i := range out {
		if tr.remaining[i] > 0 {
			out[i] = tr.now().Sub(tr.started[i])
		}
	}
	return out
}

type trackedTenant struct {
	next       collectors.TenantCollector
	start, end func()
}

func (t trackedTenant) CollectTenant(ctx context.Context, tn *snapshot.Tenant) {
	t.start()
	defer t.end()
	t.next.CollectTenant(ctx, tn)
}

type trackedEnvironment struct {
	next       collectors.EnvironmentCollector
	start, end func()
}

func (t trackedEnvironment) CollectEnvironment(ctx context.Context, e *snapshot.Environment) {
	t.start()
	defer t.end()
	t.next.CollectEnvironment(ctx, e)
}
