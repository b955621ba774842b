package serve_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/crypto/bcrypt"

	"github.com/teamslink/teamslink/internal/metrics"
	"github.com/teamslink/teamslink/internal/serve"
)

// selfSigned writes a certificate for 127.0.0.1 and its key into dir and
// returns their paths and a pool that trusts it.
func selfSigned(t *testing.T, dir string) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "teamslink serve test"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}

// TestRunServesTLSWithBasicAuth runs the service through the
// exporter-toolkit with the web config docs/serve.md shows: TLS and one
// bcrypt user.
func TestRunServesTLSWithBasicAuth(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	certFile, keyFile, pool := selfSigned(t, dir)
	hash, err := bcrypt.GenerateFromPassword([]byte("change-me"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	webConfig := filepath.Join(dir, "web.yml")
	doc := "tls_server_config:\n  cert_file: " + certFile + "\n  key_file: " + keyFile + "\n  min_version: TLS12\n" +
		"basic_auth_users:\n  prometheus: " + string(hash) + "\n"
	if err := os.WriteFile(webConfig, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}

	reg := prometheus.NewRegistry()
	cfg := newFakeConfig(1)
	sched, _ := serve.IntervalSchedule(time.Hour, 0)
	svc, err := serve.New(serve.Options{
		Load: cfg.load, Scan: newFakeScans(time.Now, 1).scan, Now: time.Now,
		Metrics: metrics.New(reg, metrics.BuildInfo{}), Gatherer: reg, Schedule: sched, Rand: mrand.New(mrand.NewPCG(1, 1)),
	})
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- svc.Run(ctx, serve.WebOptions{Listeners: []net.Listener{l}, ConfigFile: webConfig}) }()
	base := "https://" + l.Addr().String()
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}}

	do := func(user, password string) int {
		req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, base+serve.PathMetrics, nil)
		if err != nil {
			t.Fatal(err)
		}
		if user != "" {
			req.SetBasicAuth(user, password)
		}
		resp, err := client.Do(req)
		if err != nil {
			return -1
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	eventually(t, "the TLS listener", func() bool { return do("prometheus", "change-me") == http.StatusOK })
	tests := []struct {
		name, user, password string
		want                 int
	}{
		{"the user", "prometheus", "change-me", http.StatusOK},
		{"no credentials", "", "", http.StatusUnauthorized},
		{"a wrong password", "prometheus", "guess", http.StatusUnauthorized},
		{"an unknown user", "admin", "change-me", http.StatusUnauthorized},
	}
	for _, tt := range tests {
		if got := do(tt.user, tt.password); got != tt.want {
			t.Errorf("%s: %d, want %d", tt.name, got, tt.want)
		}
	}
	// Plain HTTP gets no answer of serve's.
	if resp, err := http.Get("http://" + l.Addr().String() + serve.PathMetrics); err == nil {
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			t.Errorf("plain HTTP was served")
		}
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run = %v after its context ended", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return")
	}
}

func TestRunRefusesABadWebConfig(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "web.yml")
	if err := os.WriteFile(path, []byte("basic_auth_users:\n  prometheus: not-a-bcrypt-hash\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	err := serve.ValidateWeb(serve.WebOptions{ConfigFile: path})
	if err == nil || !strings.Contains(err.Error(), "web config") {
		t.Errorf("ValidateWeb = %v, want an error naming the web config", err)
	}
	if err := serve.ValidateWeb(serve.WebOptions{}); err != nil {
		t.Errorf("no web config: %v", err)
	}
}
