package cli

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"io"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestCredentialsNeverWritten runs every command that signs in — scan with
// every report format and a snapshot, permissions check, support-bundle
// collecting from the config, and config check — over the emulator, with
// one tenant of each kind of secret: a client secret that works, one that
// is refused, a workload-identity token file (the emulator refuses client
// assertions, so its error path runs), and a certificate with a password.
// None of those values may appear in any output: standard output and
// error, report files, the snapshot, the support bundle's entries.
func TestCredentialsNeverWritten(t *testing.T) {
	t.Parallel()
	srv, _, deps := demoFleet(t, "ready", "enabled", "consent-missing")
	good, _ := deps.LookupEnv(demoSecretEnv)
	const (
		wrongSecret  = "wrong-secret-7Qf~Zr2.Lk9pX_d3Vb8mNw4sTy6"
		certPassword = "cert-password-Hq3nV8zK"
		tokenText    = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ3b3JrbG9hZC10b2tlbi1jYW5hcnkifQ.c2lnbmF0dXJlLWNhbmFyeQ"
		redactKey    = "a-redaction-key-for-the-credentials-test"
	)
	dir := t.TempDir()
	write := func(name string, data []byte) string {
		t.Helper()
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	tokenFile := write("federated-token", []byte(tokenText))
	certFile := write("client.pem", selfSignedPEM(t))
	keyPath := write("redact.key", []byte(redactKey))
	endpoints := `    endpoints: {connectTo: "` + srv.Addr() + `", caFile: "` + srv.CAFile() + `"}` + "\n"
	fleet := write("tenants.yaml", []byte(`tenants:
  - id: 3f2b8c1e-6d4a-4b7e-9a15-2c8d0e7f4a61
    name: "Contoso"
    auth: {method: client-secret, clientId: 5d2f8a61-3c4e-4b7a-9e1d-8f6a2c4b7e93, secretEnv: `+demoSecretEnv+`}
`+endpoints+`    environments:
      - url: https://contoso-sales.crm.dynamics.com
  - id: 95afe1a7-160d-59af-a970-e6a628e0dce2
    name: "Tailwind Traders"
    auth: {method: client-secret, clientId: 5d2f8a61-3c4e-4b7a-9e1d-8f6a2c4b7e93, secretEnv: WRONG_SECRET}
`+endpoints+`    sharePointAdminUrl: https://tailwind-admin.sharepoint.com
    environments:
      - url: https://tailwind.crm.dynamics.com
  - id: 79037090-f81e-5136-973f-4442e36edd83
    name: "Proseware"
    auth: {method: workload-identity, clientId: 5d2f8a61-3c4e-4b7a-9e1d-8f6a2c4b7e93, tokenFile: "`+tokenFile+`"}
`+endpoints+`    sharePointAdminUrl: https://proseware-admin.sharepoint.com
    environments:
      - url: https://proseware.crm.dynamics.com
`))
	certFleet := write("cert.yaml", []byte(`tenants:
  - id: 3f2b8c1e-6d4a-4b7e-9a15-2c8d0e7f4a61
    name: "Contoso"
    auth: {method: client-certificate, clientId: 5d2f8a61-3c4e-4b7a-9e1d-8f6a2c4b7e93, certificateFile: "`+certFile+`", certificatePasswordEnv: CERT_PASSWORD}
`+endpoints+`    environments:
      - url: https://contoso-sales.crm.dynamics.com
`))
	deps.LookupEnv = func(name string) (string, bool) {
		switch name {
		case demoSecretEnv:
			return good, true
		case "WRONG_SECRET":
			return wrongSecret, true
		case "CERT_PASSWORD":
			return certPassword, true
		}
		return "", false
	}

	outputs := map[string]string{} // where → what was written there
	run := func(name string, wantCodes []int, args ...string) {
		t.Helper()
		var out, errOut bytes.Buffer
		d := deps
		d.Stdout, d.Stderr = &out, &errOut
		code := Main(args, d)
		outputs[name+" stdout"], outputs[name+" stderr"] = out.String(), errOut.String()
		for _, c := range wantCodes {
			if c == code {
				return
			}
		}
		t.Errorf("%s: exit %d, want one of %v; stderr:\n%s", name, code, wantCodes, errOut.String())
	}
	reports := []string{"r.json", "r.sarif", "r.xml", "r.md", "r.html", "s.json"}
	run("scan", []int{1, 3}, "scan", "--config", fleet,
		"--format", "table,json="+filepath.Join(dir, "r.json")+",sarif="+filepath.Join(dir, "r.sarif")+",junit="+filepath.Join(dir, "r.xml")+
			",markdown="+filepath.Join(dir, "r.md")+",html="+filepath.Join(dir, "r.html"),
		"--sarif-root", dir, "--snapshot-out", filepath.Join(dir, "s.json"))
	log := write("scan.log", []byte(outputs["scan stderr"]+outputs["scan stdout"]))
	run("permissions check", []int{1, 3}, "permissions", "check", "--config", fleet, "--format", "json")
	run("support-bundle", []int{0}, "support-bundle", "--config", fleet, "--redact-key-file", keyPath, "--log", log, "-o", filepath.Join(dir, "bundle.tar.gz"))
	run("cert scan", []int{2, 3}, "scan", "--config", certFleet, "--format", "json")
	run("cert config check", []int{0, 2}, "config", "check", "--config", certFleet)

	for _, name := range reports {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		outputs[name] = string(b)
	}
	for name, body := range bundleEntries(t, filepath.Join(dir, "bundle.tar.gz")) {
		outputs["bundle "+name] = body
	}
	// The failure paths ran: the refused secret and the refused assertion
	// each left their sign-in error.
	for _, want := range []string{"AADSTS7000215", "AADSTS700027"} {
		if !strings.Contains(outputs["r.json"], want) {
			t.Errorf("the JSON report lacks the sign-in error %s: the failure path did not run", want)
		}
	}
	if outputs["cert scan stdout"]+outputs["cert scan stderr"] == "" {
		t.Error("the certificate run said nothing")
	}
	secrets := map[string]string{"the client secret": good, "the refused client secret": wrongSecret, "the certificate password": certPassword, "the federated token": tokenText}
	for where, body := range outputs {
		for what, secret := range secrets {
			if strings.Contains(body, secret) {
				t.Errorf("%s appears in %s", what, where)
			}
		}
	}
	if len(outputs) < 20 {
		t.Errorf("only %d outputs checked", len(outputs))
	}
}

// selfSignedPEM is a PEM certificate and its unencrypted key: with a
// password configured, reading it fails (a password needs PKCS#12), which
// is the error path the password could leak through.
func selfSignedPEM(t *testing.T) []byte {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "teamslink test client"},
		NotBefore: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), NotAfter: time.Date(2036, 1, 1, 0, 0, 0, 0, time.UTC)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return append(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})...)
}

// bundleEntries reads a support bundle's entries.
func bundleEntries(t *testing.T, path string) map[string]string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	gz, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(gz)
	out := map[string]string{}
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		out[hdr.Name] = string(b)
	}
}
