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
	"maps"
	"net"
	"strings"
	"time"
)

// certs are the emulator's CA and the leaf certificates it serves: one for
// the fixed hosts (login, Graph, discovery) plus localhost, and one
// wildcard per parent domain of the scenarios' hosts (*.crm.dynamics.com,
// *.sharepoint.com...), chosen by SNI, so a handshake carries a
// certificate of realistic size whatever the fleet.
type certs struct {
	caPEM []byte
	pool  *x509.CertPool
	leaf  tls.Certificate // the fixed hosts, localhost and the loopback IPs
	fixed map[string]bool
	wild  map[string]*tls.Certificate // parent domain → *.<parent>
	// wrong is signed by the same CA for tlsFaultHost only: what a tls fault
	// presents, so the client's host name check fails.
	wrong tls.Certificate
}

// forHost is the certificate a handshake naming host (SNI) gets.
func (c *certs) forHost(host string) *tls.Certificate {
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	if !c.fixed[host] {
		if w := c.wild[wildParent(host)]; w != nil {
			return w
		}
	}
	return &c.leaf
}

// getCertificate is the listener's tls.Config.GetCertificate. crypto/tls
// asks for a certificate on full handshakes only (a resumed session sends
// none), so this is where they are counted.
func (s *Server) getCertificate(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
	host := strings.ToLower(strings.TrimSuffix(hello.ServerName, "."))
	s.hsMu.Lock()
	s.handshakes[host]++
	s.hsMu.Unlock()
	return s.certs.forHost(host), nil
}

// Handshakes returns how many full TLS handshakes (certificate sent, not
// resumed) the server has made, by the host the client named (SNI; "" for
// none). Environment and SharePoint hosts belong to one tenant each; the
// login and Graph hosts are shared. Handshakes a tls fault spoils are not
// counted (they are logged with method TLS).
func (s *Server) Handshakes() map[string]int {
	s.hsMu.Lock()
	defer s.hsMu.Unlock()
	return maps.Clone(s.handshakes)
}

// wildParent is the domain a wildcard for host covers (host without its
// first label), or "" when that would leave fewer than two labels.
func wildParent(host string) string {
	_, parent, ok := strings.Cut(host, ".")
	if !ok || strings.Count(parent, ".") < 1 {
		return ""
	}
	return parent
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

// newCerts makes an ECDSA P-256 CA, a leaf certificate for fixed plus
// localhost, 127.0.0.1 and ::1, and a wildcard leaf per parent domain of
// hosts (a host whose parent is too short to wildcard joins the fixed
// leaf). Serial numbers are random (x509 draws one when the template has
// none).
func newCerts(fixed, hosts []string) (*certs, error) {
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
	c := &certs{fixed: map[string]bool{}, wild: map[string]*tls.Certificate{}}
	names := append([]string(nil), fixed...)
	for _, h := range fixed {
		c.fixed[h] = true
	}
	parents := map[string]bool{}
	for _, h := range hosts {
		switch p := wildParent(h); {
		case c.fixed[h]:
		case p == "":
			names = append(names, h)
			c.fixed[h] = true
		default:
			parents[p] = true
		}
	}
	if c.leaf, err = newLeaf(caCert, caKey, append(names, "localhost"), []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback}); err != nil {
		return nil, err
	}
	for _, p := range sortedKeys(parents) {
		w, err := newLeaf(caCert, caKey, []string{"*." + p}, nil)
		if err != nil {
			return nil, err
		}
		c.wild[p] = &w
	}
	if c.wrong, err = newLeaf(caCert, caKey, []string{tlsFaultHost}, nil); err != nil {
		return nil, err
	}
	c.pool = x509.NewCertPool()
	c.pool.AddCert(caCert)
	c.caPEM = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER})
	return c, nil
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
	s.mu.RLock()
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
	s.mu.RUnlock()
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
