package auth

import (
	"context"
	"crypto"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"

	"github.com/teamslink/teamslink/internal/config"
)

// federatedTokenFileEnv is where the Azure workload identity webhook (and
// CI systems imitating it) put the path of the federated token.
const federatedTokenFileEnv = "AZURE_FEDERATED_TOKEN_FILE"

// Size limits of the files a credential reads.
const (
	maxSecretFileSize      = 64 << 10
	maxCertificateFileSize = 1 << 20
)

// Options are what NewCredential needs besides the tenant.
type Options struct {
	// HTTPClient carries the token requests; normally HTTPClient(t.Endpoints),
	// so token requests see the same roots and connect-to as the rest, and
	// nil means exactly that. The credential reads each answer through it
	// only up to MaxCredentialResponseBytes (except on Service Fabric, whose
	// managed identity needs the client's bare transport).
	HTTPClient *http.Client
	// DeviceCodePrompt shows a person the device-code instructions (the CLI
	// prints them to stderr). Required for method device-code.
	DeviceCodePrompt func(ctx context.Context, message string) error
	// LookupEnv reads environment variables; nil means os.LookupEnv.
	LookupEnv func(key string) (string, bool)
}

// NewCredential returns the azidentity credential for the tenant's auth
// method, bound to its cloud's authority (or the override) and to
// opts.HTTPClient. Secrets are read now, from the environment variable or
// file the config names; a missing or empty one is an *Error naming the
// variable or file, never the value. Nothing is sent over the network until
// the first GetToken.
func NewCredential(t config.Tenant, opts Options) (azcore.TokenCredential, error) {
	cred, err := newCredential(t, opts)
	if err != nil {
		return nil, &Error{TenantID: t.ID, Method: t.Auth.Method, Err: err}
	}
	return cred, nil
}

func newCredential(t config.Tenant, opts Options) (azcore.TokenCredential, error) {
	lookup := opts.LookupEnv
	if lookup == nil {
		lookup = os.LookupEnv
	}
	cc, err := CloudConfiguration(t)
	if err != nil {
		return nil, err
	}
	hc := opts.HTTPClient
	if hc == nil {
		if hc, err = HTTPClient(t.Endpoints); err != nil {
			return nil, err
		}
	}
	co := azcore.ClientOptions{Cloud: cc, Transport: limitBodies(hc, MaxCredentialResponseBytes)}
	if t.Auth.Method == config.MethodManagedIdentity && serviceFabric(lookup) {
		// MSAL pins the Service Fabric endpoint's certificate on a clone of
		// the client's own *http.Transport and refuses any other transport.
		bare := *hc
		bare.Transport = bareTransport(hc)
		co.Transport = &bare
	}
	noDiscovery := disableInstanceDiscovery(t)
	a := t.Auth

	switch a.Method {
	case config.MethodClientSecret:
		if err := needClientID(a); err != nil {
			return nil, err
		}
		secret, err := readSecret(a, lookup)
		if err != nil {
			return nil, err
		}
		return azidentity.NewClientSecretCredential(t.ID, a.ClientID, secret, &azidentity.ClientSecretCredentialOptions{
			ClientOptions:            co,
			DisableInstanceDiscovery: noDiscovery,
		})

	case config.MethodClientCertificate:
		if err := needClientID(a); err != nil {
			return nil, err
		}
		certs, key, err := readCertificate(a, lookup)
		if err != nil {
			return nil, err
		}
		return azidentity.NewClientCertificateCredential(t.ID, a.ClientID, certs, key, &azidentity.ClientCertificateCredentialOptions{
			ClientOptions:            co,
			DisableInstanceDiscovery: noDiscovery,
		})

	case config.MethodWorkloadIdentity:
		if err := needClientID(a); err != nil {
			return nil, err
		}
		file := a.TokenFile
		if file == "" {
			file, _ = lookup(federatedTokenFileEnv)
		}
		if file == "" {
			return nil, fmt.Errorf("no federated token file: set auth.tokenFile or the %s environment variable", federatedTokenFileEnv)
		}
		if _, err := os.Stat(file); err != nil {
			return nil, fmt.Errorf("federated token file: %w", err)
		}
		// A client assertion read from the file at every token request, not
		// azidentity's WorkloadIdentityCredential, which keeps what it read
		// for 10 minutes: a CI's OIDC token (GitHub's lives about 5) is
		// rewritten more often than that, and a stale one is refused.
		return azidentity.NewClientAssertionCredential(t.ID, a.ClientID, federatedAssertion(file), &azidentity.ClientAssertionCredentialOptions{
			ClientOptions:            co,
			DisableInstanceDiscovery: noDiscovery,
		})

	case config.MethodManagedIdentity:
		o := &azidentity.ManagedIdentityCredentialOptions{ClientOptions: co}
		if a.ManagedIdentityClientID != "" {
			o.ID = azidentity.ClientID(a.ManagedIdentityClientID)
		}
		return azidentity.NewManagedIdentityCredential(o)

	case config.MethodAzureCLI:
		// The CLI talks to Entra ID itself: it must be signed in to the
		// tenant's cloud (az cloud set) and ignores the HTTP client.
		return azidentity.NewAzureCLICredential(&azidentity.AzureCLICredentialOptions{TenantID: t.ID})

	case config.MethodDeviceCode:
		prompt := opts.DeviceCodePrompt
		if prompt == nil {
			return nil, errors.New("no device-code prompt: the caller must say where to show the sign-in instructions")
		}
		return azidentity.NewDeviceCodeCredential(&azidentity.DeviceCodeCredentialOptions{
			ClientOptions:            co,
			TenantID:                 t.ID,
			ClientID:                 a.ClientID, // empty: azidentity's development client
			DisableInstanceDiscovery: noDiscovery,
			UserPrompt: func(ctx context.Context, m azidentity.DeviceCodeMessage) error {
				return prompt(ctx, m.Message)
			},
		})
	}
	return nil, fmt.Errorf("unknown auth method %q", a.Method)
}

// serviceFabric reports the environment in which MSAL's managed identity
// talks to Service Fabric: IDENTITY_ENDPOINT, IDENTITY_HEADER and
// IDENTITY_SERVER_THUMBPRINT all set (managedidentity.GetSource).
func serviceFabric(lookup func(string) (string, bool)) bool {
	for _, k := range []string{"IDENTITY_ENDPOINT", "IDENTITY_HEADER", "IDENTITY_SERVER_THUMBPRINT"} {
		if v, _ := lookup(k); v == "" {
			return false
		}
	}
	return true
}

func needClientID(a config.Auth) error {
	if a.ClientID == "" {
		return fmt.Errorf("auth.clientId is required by method %s", a.Method)
	}
	return nil
}

// readSecret reads the client secret from the variable or file the config
// names, trimmed of surrounding white space.
func readSecret(a config.Auth, lookup func(string) (string, bool)) (string, error) {
	switch {
	case a.SecretEnv != "" && a.SecretFile != "":
		return "", errors.New("set auth.secretEnv or auth.secretFile, not both")
	case a.SecretEnv != "":
		v, ok := lookup(a.SecretEnv)
		if !ok {
			return "", fmt.Errorf("environment variable %s (auth.secretEnv) is not set", a.SecretEnv)
		}
		if v = strings.TrimSpace(v); v == "" {
			return "", fmt.Errorf("environment variable %s (auth.secretEnv) is empty", a.SecretEnv)
		}
		return v, nil
	case a.SecretFile != "":
		data, err := readLimited(a.SecretFile, maxSecretFileSize)
		if err != nil {
			return "", fmt.Errorf("secret file: %w", err)
		}
		v := strings.TrimSpace(string(data))
		if v == "" {
			return "", fmt.Errorf("secret file %s is empty", a.SecretFile)
		}
		return v, nil
	}
	return "", errors.New("no client secret: set auth.secretEnv or auth.secretFile")
}

// readCertificate parses the certificate file, PEM or PKCS#12, with the
// password from auth.certificatePasswordEnv if one is named.
func readCertificate(a config.Auth, lookup func(string) (string, bool)) ([]*x509.Certificate, crypto.PrivateKey, error) {
	if a.CertificateFile == "" {
		return nil, nil, errors.New("auth.certificateFile is required by method client-certificate")
	}
	data, err := readLimited(a.CertificateFile, maxCertificateFileSize)
	if err != nil {
		return nil, nil, fmt.Errorf("certificate file: %w", err)
	}
	var password []byte
	if a.CertificatePasswordEnv != "" {
		v, ok := lookup(a.CertificatePasswordEnv)
		if !ok {
			return nil, nil, fmt.Errorf("environment variable %s (auth.certificatePasswordEnv) is not set", a.CertificatePasswordEnv)
		}
		password = []byte(v)
	}
	certs, key, err := azidentity.ParseCertificates(data, password)
	if err != nil {
		hint := "expected PEM with an unencrypted private key, or PKCS#12"
		if password != nil {
			hint = "with a password, expected PKCS#12; check the password and the file"
		}
		return nil, nil, fmt.Errorf("certificate file %s: %s: %w", a.CertificateFile, hint, err)
	}
	return certs, key, nil
}

// readLimited reads a small file, refusing one larger than limit.
func readLimited(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("%s is larger than %d KiB; is it the right file?", path, limit>>10)
	}
	return data, nil
}

// maxAssertionSize bounds what is read of a federated token file: a JWT is
// a few kilobytes.
const maxAssertionSize = 64 << 10

// federatedAssertion returns a function that reads the federated token in
// file, fresh at every call, so that a token the platform rewrote is the
// one sent.
func federatedAssertion(file string) func(context.Context) (string, error) {
	return func(context.Context) (string, error) {
		f, err := os.Open(file)
		if err != nil {
			return "", fmt.Errorf("federated token file: %w", err)
		}
		defer f.Close()
		b, err := io.ReadAll(io.LimitReader(f, maxAssertionSize+1))
		if err != nil {
			return "", fmt.Errorf("federated token file %s: %w", file, err)
		}
		if len(b) > maxAssertionSize {
			return "", fmt.Errorf("federated token file %s: larger than %d bytes, not a token", file, maxAssertionSize)
		}
		token := strings.TrimSpace(string(b))
		if token == "" {
			return "", fmt.Errorf("federated token file %s is empty", file)
		}
		return token, nil
	}
}
