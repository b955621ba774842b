package auth

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"

	"github.com/teamslink/teamslink/internal/cloud"
	"github.com/teamslink/teamslink/internal/config"
)

const (
	testTenantID = "3f1c2a9e-5b7d-4c2e-9a61-8d0e4b7f2c15"
	testClientID = "6e1a4c8b-2f3d-4e5a-9b7c-1d2e3f4a5b6c"
	testSecret   = "s3cr3t~Value.that-must-never-leak"
	testPassword = "p4ssw0rd-that-must-never-leak"
)

func tenantWith(a config.Auth) config.Tenant {
	return config.Tenant{ID: testTenantID, Cloud: cloud.Public, Auth: a}
}

// envMap is a fake environment for Options.LookupEnv.
func envMap(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) {
		v, ok := m[k]
		return v, ok
	}
}

func TestNewCredential(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write := func(name string, data []byte) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	secretFile := write("secret", []byte("\n  "+testSecret+"  \n"))
	blankSecretFile := write("blank-secret", []byte(" \n\t\n"))
	hugeSecretFile := write("huge-secret", make([]byte, maxSecretFileSize+1))
	certFile := write("client.pem", clientCertificatePEM(t))
	certOnly, _, _ := strings.Cut(string(clientCertificatePEM(t)), "-----BEGIN PRIVATE KEY-----")
	certOnlyFile := write("cert-only.pem", []byte(certOnly))
	garbageCertFile := write("garbage.pem", []byte("not a certificate"))
	tokenFile := write("federated-token", []byte("eyJhbGciOi.fake.jwt"))
	missing := filepath.Join(dir, "does-not-exist")
	prompt := func(context.Context, string) error { return nil }

	env := map[string]string{
		"CONTOSO_SECRET":             "  " + testSecret + "\n",
		"EMPTY_SECRET":               "   ",
		"CERT_PASSWORD":              testPassword,
		"AZURE_FEDERATED_TOKEN_FILE": tokenFile,
	}

	tests := []struct {
		name    string
		tenant  config.Tenant
		opts    Options
		want    any      // the credential type, for success cases
		wantErr []string // substrings of the error, for failure cases
	}{
		// client-secret
		{name: "secret from env var", tenant: tenantWith(config.Auth{Method: config.MethodClientSecret, ClientID: testClientID, SecretEnv: "CONTOSO_SECRET"}),
			want: &azidentity.ClientSecretCredential{}},
		{name: "secret from file", tenant: tenantWith(config.Auth{Method: config.MethodClientSecret, ClientID: testClientID, SecretFile: secretFile}),
			want: &azidentity.ClientSecretCredential{}},
		{name: "secret env var not set", tenant: tenantWith(config.Auth{Method: config.MethodClientSecret, ClientID: testClientID, SecretEnv: "NOT_SET_SECRET"}),
			wantErr: []string{"tenant " + testTenantID, "client-secret credential", "environment variable NOT_SET_SECRET (auth.secretEnv) is not set"}},
		{name: "secret env var blank", tenant: tenantWith(config.Auth{Method: config.MethodClientSecret, ClientID: testClientID, SecretEnv: "EMPTY_SECRET"}),
			wantErr: []string{"environment variable EMPTY_SECRET (auth.secretEnv) is empty"}},
		{name: "secret file missing", tenant: tenantWith(config.Auth{Method: config.MethodClientSecret, ClientID: testClientID, SecretFile: missing}),
			wantErr: []string{"secret file", missing, "no such file"}},
		{name: "secret file blank", tenant: tenantWith(config.Auth{Method: config.MethodClientSecret, ClientID: testClientID, SecretFile: blankSecretFile}),
			wantErr: []string{"secret file " + blankSecretFile + " is empty"}},
		{name: "secret file too large", tenant: tenantWith(config.Auth{Method: config.MethodClientSecret, ClientID: testClientID, SecretFile: hugeSecretFile}),
			wantErr: []string{hugeSecretFile, "is larger than 64 KiB"}},
		{name: "secret without client id", tenant: tenantWith(config.Auth{Method: config.MethodClientSecret, SecretEnv: "CONTOSO_SECRET"}),
			wantErr: []string{"auth.clientId is required by method client-secret"}},
		{name: "no secret named", tenant: tenantWith(config.Auth{Method: config.MethodClientSecret, ClientID: testClientID}),
			wantErr: []string{"no client secret: set auth.secretEnv or auth.secretFile"}},

		// client-certificate
		{name: "certificate PEM", tenant: tenantWith(config.Auth{Method: config.MethodClientCertificate, ClientID: testClientID, CertificateFile: certFile}),
			want: &azidentity.ClientCertificateCredential{}},
		{name: "certificate password variable not set", tenant: tenantWith(config.Auth{Method: config.MethodClientCertificate, ClientID: testClientID, CertificateFile: certFile, CertificatePasswordEnv: "NOT_SET_PASSWORD"}),
			wantErr: []string{"environment variable NOT_SET_PASSWORD (auth.certificatePasswordEnv) is not set"}},
		{name: "password given for an unencrypted PEM", tenant: tenantWith(config.Auth{Method: config.MethodClientCertificate, ClientID: testClientID, CertificateFile: certFile, CertificatePasswordEnv: "CERT_PASSWORD"}),
			wantErr: []string{"certificate file " + certFile, "with a password, expected PKCS#12"}},
		{name: "certificate without key", tenant: tenantWith(config.Auth{Method: config.MethodClientCertificate, ClientID: testClientID, CertificateFile: certOnlyFile}),
			wantErr: []string{"certificate file " + certOnlyFile, "no private key"}},
		{name: "certificate file not a certificate", tenant: tenantWith(config.Auth{Method: config.MethodClientCertificate, ClientID: testClientID, CertificateFile: garbageCertFile}),
			wantErr: []string{"certificate file " + garbageCertFile, "expected PEM"}},
		{name: "certificate file missing", tenant: tenantWith(config.Auth{Method: config.MethodClientCertificate, ClientID: testClientID, CertificateFile: missing}),
			wantErr: []string{"certificate file", missing}},

		// workload-identity
		{name: "workload identity with token file", tenant: tenantWith(config.Auth{Method: config.MethodWorkloadIdentity, ClientID: testClientID, TokenFile: tokenFile}),
			opts: Options{LookupEnv: envMap(nil)}, want: &azidentity.ClientAssertionCredential{}},
		{name: "workload identity token file from AZURE_FEDERATED_TOKEN_FILE", tenant: tenantWith(config.Auth{Method: config.MethodWorkloadIdentity, ClientID: testClientID}),
			want: &azidentity.ClientAssertionCredential{}},
		{name: "workload identity without token file", tenant: tenantWith(config.Auth{Method: config.MethodWorkloadIdentity, ClientID: testClientID}),
			opts: Options{LookupEnv: envMap(nil)}, wantErr: []string{"set auth.tokenFile or the AZURE_FEDERATED_TOKEN_FILE environment variable"}},
		{name: "workload identity token file missing", tenant: tenantWith(config.Auth{Method: config.MethodWorkloadIdentity, ClientID: testClientID, TokenFile: missing}),
			wantErr: []string{"federated token file", missing}},

		// managed-identity, azure-cli, device-code
		{name: "system-assigned managed identity", tenant: tenantWith(config.Auth{Method: config.MethodManagedIdentity}),
			want: &azidentity.ManagedIdentityCredential{}},
		{name: "user-assigned managed identity", tenant: tenantWith(config.Auth{Method: config.MethodManagedIdentity, ManagedIdentityClientID: testClientID}),
			want: &azidentity.ManagedIdentityCredential{}},
		{name: "azure cli", tenant: tenantWith(config.Auth{Method: config.MethodAzureCLI}),
			want: &azidentity.AzureCLICredential{}},
		{name: "device code", tenant: tenantWith(config.Auth{Method: config.MethodDeviceCode}), opts: Options{DeviceCodePrompt: prompt},
			want: &azidentity.DeviceCodeCredential{}},
		{name: "device code without a prompt", tenant: tenantWith(config.Auth{Method: config.MethodDeviceCode}),
			wantErr: []string{"no device-code prompt"}},

		// anything
		{name: "unknown method", tenant: tenantWith(config.Auth{Method: "password"}),
			wantErr: []string{`unknown auth method "password"`}},
		{name: "unknown cloud", tenant: config.Tenant{ID: testTenantID, Cloud: "mars", Auth: config.Auth{Method: config.MethodAzureCLI}},
			wantErr: []string{`unknown cloud "mars"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			opts := tt.opts
			if opts.LookupEnv == nil {
				opts.LookupEnv = envMap(env)
			}
			cred, err := NewCredential(tt.tenant, opts)
			if tt.wantErr != nil {
				if err == nil {
					t.Fatalf("NewCredential = %T, want an error", cred)
				}
				var ae *Error
				if !errors.As(err, &ae) || ae.TenantID != testTenantID || ae.Method != tt.tenant.Auth.Method {
					t.Errorf("error %v is not an *auth.Error for the tenant and method", err)
				}
				for _, w := range tt.wantErr {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("error %q does not contain %q", err, w)
					}
				}
				for _, secret := range []string{testSecret, testPassword} {
					if strings.Contains(err.Error(), secret) {
						t.Errorf("error leaks a secret: %q", err)
					}
				}
				return
			}
			if err != nil {
				t.Fatalf("NewCredential: %v", err)
			}
			if got, want := fmt.Sprintf("%T", cred), fmt.Sprintf("%T", tt.want); got != want {
				t.Fatalf("NewCredential = %s, want %s", got, want)
			}
		})
	}
}

// TestNewCredentialProcessEnv reads the secret from the real process
// environment, the default when Options.LookupEnv is nil.
func TestNewCredentialProcessEnv(t *testing.T) {
	t.Setenv("TEAMSLINK_TEST_SECRET", testSecret)
	cred, err := NewCredential(tenantWith(config.Auth{Method: config.MethodClientSecret, ClientID: testClientID, SecretEnv: "TEAMSLINK_TEST_SECRET"}), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := cred.(*azidentity.ClientSecretCredential); !ok {
		t.Fatalf("NewCredential = %T", cred)
	}
	t.Setenv("TEAMSLINK_TEST_SECRET", "")
	_, err = NewCredential(tenantWith(config.Auth{Method: config.MethodClientSecret, ClientID: testClientID, SecretEnv: "TEAMSLINK_TEST_SECRET"}), Options{})
	if err == nil || !strings.Contains(err.Error(), "TEAMSLINK_TEST_SECRET") {
		t.Fatalf("empty variable: error %v does not name it", err)
	}
}

// TestFederatedAssertionRereads: the workload-identity assertion is read
// from its file at every token request, so a token the CI or the cluster
// rewrote is the one sent; an empty, missing or oversized file is an error
// naming it.
func TestFederatedAssertionRereads(t *testing.T) {
	t.Parallel()
	file := filepath.Join(t.TempDir(), "token")
	read := federatedAssertion(file)
	for _, token := range []string{"eyJ.first.sig", "eyJ.second.sig"} {
		if err := os.WriteFile(file, []byte(token+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		if got, err := read(t.Context()); err != nil || got != token {
			t.Fatalf("assertion = %q, %v; want %q", got, err, token)
		}
	}
	for name, content := range map[string][]byte{"empty": []byte(" \n"), "oversized": bytes.Repeat([]byte("a"), maxAssertionSize+1)} {
		if err := os.WriteFile(file, content, 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := read(t.Context()); err == nil || !strings.Contains(err.Error(), file) {
			t.Errorf("%s file: err = %v; want an error naming %s", name, err, file)
		}
	}
	if _, err := federatedAssertion(file + ".missing")(t.Context()); err == nil {
		t.Error("missing file: no error")
	}
}
