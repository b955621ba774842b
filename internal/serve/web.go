package serve

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/exporter-toolkit/web"
)

// DefaultListenAddress is where serve listens unless told: loopback only,
// on the port the deploy manifests use.
const DefaultListenAddress = "127.0.0.1:9741"

// WebOptions say where and how the HTTP endpoints are served, as the
// Prometheus exporter-toolkit takes them (--web.listen-address,
// --web.systemd-socket, --web.config.file).
type WebOptions struct {
	// ListenAddresses are the addresses to listen on; empty means
	// DefaultListenAddress.
	ListenAddresses []string
	// SystemdSocket takes the listeners systemd passes instead.
	SystemdSocket bool
	// ConfigFile is the exporter-toolkit web configuration (TLS, basic
	// auth), read again on every request; empty serves plain HTTP.
	ConfigFile string
	// Listeners, when not empty, are served instead of listening on
	// ListenAddresses (tests pass a listener on a free port).
	Listeners []net.Listener
}

// shutdownTimeout bounds how long open HTTP requests may take once the
// service stops.
const shutdownTimeout = 5 * time.Second

// ValidateWeb checks the web configuration file, if any, as the
// exporter-toolkit will read it: call it before starting, so that a
// mistake is a usage error rather than a server that refuses everyone.
func ValidateWeb(o WebOptions) error {
	if o.ConfigFile == "" {
		return nil
	}
	if err := web.Validate(o.ConfigFile); err != nil {
		return fmt.Errorf("web config %s: %w", o.ConfigFile, err)
	}
	return nil
}

// Run starts the service (Start) and serves its Handler through the
// exporter-toolkit until ctx ends; then it stops scheduling, lets running
// scans finish within the grace period (canceling them after it), and
// closes the server. A config that does not load, or an address that
// cannot be listened on, is returned at once.
func (s *Service) Run(ctx context.Context, o WebOptions) error {
	if err := ValidateWeb(o); err != nil {
		return err
	}
	if len(o.ListenAddresses) == 0 {
		o.ListenAddresses = []string{DefaultListenAddress}
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	if err := s.Start(ctx); err != nil {
		return err
	}
	server := &http.Server{
		Handler:           s.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
	}
	flags := &web.FlagConfig{
		WebListenAddresses: &o.ListenAddresses,
		WebSystemdSocket:   &o.SystemdSocket,
		WebConfigFile:      &o.ConfigFile,
	}
	served := make(chan error, 1)
	go func() {
		var err error
		if len(o.Listeners) > 0 {
			err = web.ServeMultiple(o.Listeners, server, flags, s.log)
		} else {
			err = web.ListenAndServe(server, flags, s.log)
		}
		served <- err
	}()
	var err error
	select {
	case <-ctx.Done():
	case err = <-served:
		if errors.Is(err, http.ErrServerClosed) {
			err = nil
		}
		if err != nil {
			err = fmt.Errorf("serve http: %w", err)
			s.cancelScans() // nobody can see their reports
		}
	}
	cancel()
	<-s.Done()
	sctx, stop := context.WithTimeout(context.WithoutCancel(ctx), shutdownTimeout)
	defer stop()
	if serr := server.Shutdown(sctx); serr != nil && err == nil {
		err = fmt.Errorf("shut down http: %w", serr)
	}
	return err
}
