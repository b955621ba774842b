// Package emulatortest starts the emulator for the tests of code that talks
// to Microsoft services through it, with a real azidentity credential.
package emulatortest

import (
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"

	"github.com/teamslink/teamslink/internal/emulator"
)

// Scenario loads the sample scenario testdata/scenarios/<name>.yaml.
func Scenario(t testing.TB, name string) *emulator.Scenario {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	sc, err := emulator.LoadScenario(filepath.Join(filepath.Dir(file), "..", "..", "..", "testdata", "scenarios", name+".yaml"))
	if err != nil {
		t.Fatal(err)
	}
	return sc
}

// Start runs an emulator serving scenarios until the test ends, on clock
// (the test's time.Now, since azidentity checks token expiry against the
// wall clock).
func Start(t testing.TB, clock func() time.Time, scenarios ...*emulator.Scenario) *emulator.Server {
	t.Helper()
	srv, err := emulator.New(emulator.Options{Scenarios: scenarios, Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	return srv
}

// Credential signs in as sc's first client with its secret, through srv, at
// the public cloud's authority (a scenario of another cloud needs its own).
func Credential(t testing.TB, srv *emulator.Server, sc *emulator.Scenario) azcore.TokenCredential {
	t.Helper()
	cred, err := azidentity.NewClientSecretCredential(sc.Tenant.ID, sc.Clients[0].ClientID, sc.Clients[0].Secret, &azidentity.ClientSecretCredentialOptions{
		ClientOptions:            azcore.ClientOptions{Cloud: cloud.AzurePublic, Transport: srv.Client()},
		DisableInstanceDiscovery: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	return cred
}
