package scan

import (
	"fmt"
	"strings"
	"sync"

	"github.com/teamslink/teamslink/internal/auth"
	"github.com/teamslink/teamslink/internal/config"
	"github.com/teamslink/teamslink/internal/metrics"
	"github.com/teamslink/teamslink/internal/odata"
)

// Dataverse hands out the Web API clients of the environments of cfg,
// signed in as each tenant's configured identity, one credential per
// tenant: what remediate writes with. Close releases the connections.
type Dataverse struct {
	cfg  *config.Config
	opts Options

	mu       sync.Mutex
	sessions map[string]*session
	done     func()
}

// NewDataverse prepares clients for the tenants of cfg; nothing is sent
// until a client is used.
func NewDataverse(cfg *config.Config, opts Options) *Dataverse {
	d := &Dataverse{cfg: cfg, opts: opts, sessions: map[string]*session{}}
	d.done = d.opts.withTransports()
	return d
}

// Client returns the client of environment envURL of tenant, which must
// be in the config (a plan names only environments it read).
func (d *Dataverse) Client(tenant, envURL string) (*odata.Client, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	var t *config.Tenant
	for i := range d.cfg.Tenants {
		if strings.EqualFold(d.cfg.Tenants[i].ID, tenant) {
			t = &d.cfg.Tenants[i]
		}
	}
	if t == nil {
		return nil, fmt.Errorf("tenant %s is not in the config", tenant)
	}
	envURL = strings.TrimSuffix(envURL, "/")
	if t.Discover == nil && !listedIn(t.Environments, envURL) {
		// A plan is data anyone can write; it reaches only environments
		// the config names (or discovers).
		return nil, fmt.Errorf("environment %s is not one of tenant %s's in the config", envURL, t.ID)
	}
	s, ok := d.sessions[t.ID]
	if !ok {
		var err error
		if s, err = newSession(*t, &d.opts); err != nil {
			return nil, err
		}
		d.sessions[t.ID] = s
	}
	return s.client(metrics.APIDataverse, envURL+"/api/data/v9.2/", odata.Dataverse, auth.DataverseScope(envURL), 0)
}

// Close releases each tenant's connections and credential.
func (d *Dataverse) Close() {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, s := range d.sessions {
		s.release()
	}
	d.done()
}
