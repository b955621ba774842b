package emulator

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"net"
	"strings"
	"time"
)

// certs are the emulator's CA and the leaf certificate it serves.
type certs struct {
	caPEM []byte
	pool  *x509.CertPool
	leaf  tls.Certificate
	// wrong is signed by the same CA for tlsFaultHost only: what a tls fault
	// presents, so the client's host name check fails.
	wrong tls.Certificate
}

// tlsFaultHost is the only name on the certificate a tls fault presents.
const tlsFaultHost = "tls-fault.emulator.invalid"

// Certificates are valid from notBefore to notAfter, whatever the date: TLS
// clients check validity against their own clock, and a test double's
// certificate must not expire under a test, nor depend on any clock.
var (
	notBefore = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
	notAfter  = time.Date(2199, 12, 31, 23, 59, 59, 0, time.UTC)
)

// newCerts makes an ECDSA P-256 CA and a leaf certificate for hosts plus
// localhost, 127.0.0.1 and ::1. Serial numbers are random (x509 draws one
// when the template has none).
func newCerts(hosts []string) (*certs, error) {
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generate CA key: %w", err)
	}
	caTmpl := &x509.Certificate{
		Subject:               pkix.Name{CommonName: "teamslink emulator CA", Organization: []string{"teamslink emulator (test double)"}},
		NotBefore:             notBefore,
		NotAfter:              notAfter,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		return nil, fmt.Errorf("create CA certificate: %w", err)
	}
	caCert, err := x509.ParseCertificate(caDER)
	if err != nil {
		return nil, fmt.Errorf("parse CA certificate: %w", err)
	}
	leaf, err := newLeaf(caCert, caKey, append(append([]string(nil), hosts...), "localhost"), []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback})
	if err != nil {
		return nil, err
	}
	wrong, err := newLeaf(caCert, caKey, []string{tlsFaultHost}, nil)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	pool.AddCert(caCert)
	return &certs{
		caPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}),
		pool:  pool,
		leaf:  leaf,
		wrong: wrong,
	}, nil
}

// newLeaf makes a server certificate for names and ips signed by the CA.
func newLeaf(ca *x509.Certificate, caKey *ecdsa.PrivateKey, names []string, ips []net.IP) (tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("generate leaf key: %w", err)
	}
	tmpl := &x509.Certificate{
		Subject:     pkix.Name{CommonName: "teamslink emulator"},
		NotBefore:   notBefore,
		NotAfter:    notAfter,
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames:    names,
		IPAddresses: ips,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("create leaf certificate: %w", err)
	}
	return tls.Certificate{Certificate: [][]byte{der, ca.Raw}, PrivateKey: key}, nil
}

// tlsFaultConfig is the listener's GetConfigForClient: when a tls fault of
// some tenant matches the host the client names (SNI) and may still fire,
// the handshake presents a certificate for another name, and the failed
// handshake is logged with method TLS. A handshake names no tenant, so a
// tls fault on a host several tenants share (login, Graph) hits them all.
func (s *Server) tlsFaultConfig(hello *tls.ClientHelloInfo) (*tls.Config, error) {
	host := strings.ToLower(strings.TrimSuffix(hello.ServerName, "."))
	if host == "" {
		return nil, nil
	}
	s.mu.Lock()
	var fired *faultState
	tenant := ""
	for _, ts := range s.tenants {
		for _, fs := range ts.faults {
			if fs.f.Kind == FaultTLS && fs.matchesHost(host) && fs.take() {
				fired, tenant = fs, ts.id
				break
			}
		}
		if fired != nil {
			break
		}
	}
	s.mu.Unlock()
	if fired == nil {
		return nil, nil // the listener's own configuration
	}
	s.record(&LoggedRequest{Time: s.opts.Clock().UTC(), Tenant: tenant, Host: host, Method: "TLS", Path: "(handshake)", Fault: fired.name()})
	return &tls.Config{
		Certificates: []tls.Certificate{s.certs.wrong},
		MinVersion:   tls.VersionTLS12,
		// A resumed session would skip the certificate.
		SessionTicketsDisabled: true,
	}, nil
}
