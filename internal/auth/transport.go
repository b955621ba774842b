package auth

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/teamslink/teamslink/internal/config"
)

// Transport limits. Every request also carries its own deadline from the
// caller's context (internal/odata); these bound what a context cannot see.
const (
	dialTimeout           = 30 * time.Second
	tlsHandshakeTimeout   = 10 * time.Second
	responseHeaderTimeout = 2 * time.Minute // a large Dataverse $batch takes a while to start answering
	idleConnTimeout       = 90 * time.Second
	clientTimeout         = 5 * time.Minute // backstop for one request, body included
	maxIdleConnsPerHost   = 16              // well under Dataverse's 52 concurrent requests per user
	maxCAFileSize         = 4 << 20
)

// HTTPClient returns the client for every HTTPS request of one tenant: token
// requests, Dataverse, Graph and SharePoint. It speaks TLS 1.2 or later and
// HTTP/2, trusts the system roots plus the PEM certificates of
// ep.CAFile, and honours HTTPS_PROXY/NO_PROXY.
//
// When ep.ConnectTo is set, every connection to port 443, whatever its host,
// dials ConnectTo instead (like curl --connect-to) and no proxy is used. TLS
// still sends the real host name as SNI and verifies the server's
// certificate against it, so the emulator must present a certificate for
// each real host, signed by a root in CAFile. Connections to other ports go
// where their URL says.
func HTTPClient(ep config.Endpoints) (*http.Client, error) {
	roots, err := x509.SystemCertPool()
	if err != nil {
		return nil, fmt.Errorf("load system root certificates: %w", err)
	}
	if ep.CAFile != "" {
		if err := appendCAFile(roots, ep.CAFile); err != nil {
			return nil, err
		}
	}
	dialer := &net.Dialer{Timeout: dialTimeout, KeepAlive: 30 * time.Second}
	tr := &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           dialer.DialContext,
		ForceAttemptHTTP2:     true, // a custom TLS config and dialer turn HTTP/2 off unless asked for
		TLSClientConfig:       &tls.Config{MinVersion: tls.VersionTLS12, RootCAs: roots},
		TLSHandshakeTimeout:   tlsHandshakeTimeout,
		ResponseHeaderTimeout: responseHeaderTimeout,
		ExpectContinueTimeout: time.Second,
		IdleConnTimeout:       idleConnTimeout,
		MaxIdleConns:          100,
		MaxIdleConnsPerHost:   maxIdleConnsPerHost,
	}
	if target := ep.ConnectTo; target != "" {
		if _, _, err := net.SplitHostPort(target); err != nil {
			return nil, fmt.Errorf("endpoints.connectTo %q: %w", target, err)
		}
		tr.Proxy = nil
		tr.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
			if _, port, err := net.SplitHostPort(addr); err == nil && port == "443" {
				addr = target
			}
			return dialer.DialContext(ctx, network, addr)
		}
	}
	return &http.Client{Transport: tr, Timeout: clientTimeout}, nil
}

// appendCAFile adds the PEM certificates of file to roots.
func appendCAFile(roots *x509.CertPool, file string) error {
	info, err := os.Stat(file)
	if err != nil {
		return fmt.Errorf("read CA file: %w", err)
	}
	if info.Size() > maxCAFileSize {
		return fmt.Errorf("read CA file %s: larger than %d MiB", file, maxCAFileSize>>20)
	}
	pem, err := os.ReadFile(file)
	if err != nil {
		return fmt.Errorf("read CA file: %w", err)
	}
	if !roots.AppendCertsFromPEM(pem) {
		return fmt.Errorf("CA file %s: no PEM certificate found", file)
	}
	return nil
}
