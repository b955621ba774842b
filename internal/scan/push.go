package scan

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/push"

	"github.com/teamslink/teamslink/internal/odata"
)

// PushJob is the job label of every push: the Pushgateway groups a fleet
// scan's series under job="teamslink" and the shard label.
const PushJob = "teamslink"

// pushTimeout bounds one push, whatever the run's context says: a stopped
// run still says so.
const pushTimeout = 30 * time.Second

// Gateway is a Pushgateway to push a one-shot run's metrics to.
type Gateway struct {
	// url is the gateway's base URL without credentials.
	url            string
	user, password string
	auth           bool
	// Client sends the push; nil is a client with the default transport
	// (HTTPS_PROXY honoured) and a timeout.
	Client push.HTTPDoer
}

// ParseGateway reads the Pushgateway's URL: http or https (no scheme means
// http), a host, optionally a path prefix, and user:password@ for basic
// auth, which is never printed.
func ParseGateway(s string) (*Gateway, error) {
	raw := strings.TrimSpace(s)
	if raw != "" && !strings.Contains(raw, "://") {
		raw = "http://" + raw
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return nil, &ConfigError{Err: errors.New("push gateway: want http(s)://HOST[:PORT][/PREFIX], e.g. http://pushgateway:9091")}
	}
	g := &Gateway{}
	if u.User != nil {
		g.user = u.User.Username()
		g.password, _ = u.User.Password()
		g.auth = true
		u.User = nil
	}
	g.url = strings.TrimSuffix(u.String(), "/")
	return g, nil
}

// String is the gateway's URL without credentials.
func (g *Gateway) String() string { return g.url }

// Push sends what gatherer holds to the group job="teamslink",
// shard=shard.Label(). With replace it replaces the whole group (PUT): what
// the shard pushed last time, a tenant since moved or removed included, is
// gone. Without it only the metric families sent are replaced (POST), so a
// run that failed before its report can record its failed scans and leave
// the readiness of its last report in place.
func (g *Gateway) Push(ctx context.Context, shard Shard, gatherer prometheus.Gatherer, replace bool) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), pushTimeout)
	defer cancel()
	client := g.Client
	if client == nil {
		client = &http.Client{Timeout: pushTimeout}
	}
	p := push.New(g.url, PushJob).Grouping("shard", shard.Label()).Gatherer(gatherer).Client(client)
	if g.auth {
		p = p.BasicAuth(g.user, g.password)
	}
	var err error
	if replace {
		err = p.PushContext(ctx)
	} else {
		err = p.AddContext(ctx)
	}
	if err != nil {
		return &PushError{Gateway: g.url, Err: err}
	}
	return nil
}

// PushError is a push the Pushgateway did not take, or that never reached
// it.
type PushError struct {
	// Gateway is the gateway's URL, without credentials.
	Gateway string
	Err     error
}

// Error says where the push went and why it failed, on one bounded line
// (the gateway's answer is part of the text).
func (e *PushError) Error() string {
	return "push metrics to " + e.Gateway + ": " + odata.BoundText(e.Err.Error())
}

// Unwrap returns the underlying error.
func (e *PushError) Unwrap() error { return e.Err }
