package sharepoint_test

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/teamslink/teamslink/collectors/sharepoint"
	"github.com/teamslink/teamslink/internal/cloud"
	"github.com/teamslink/teamslink/internal/emulator"
	"github.com/teamslink/teamslink/internal/emulator/emulatortest"
	"github.com/teamslink/teamslink/internal/odata"
	"github.com/teamslink/teamslink/internal/snapshot"
)

// discover collects the ready scenario's SharePoint section, changed by
// change, finding the admin site through Graph on the emulator: with its own
// request (CollectTenant), or, batched, from the answer to RootSitePath
// inside a Graph $batch (FromRoot).
func discover(t *testing.T, c cloud.Cloud, batched bool, change func(*emulator.Scenario)) *snapshot.Tenant {
	t.Helper()
	sc := emulatortest.Scenario(t, "ready")
	change(sc)
	srv := emulatortest.Start(t, time.Now, sc)
	cred := emulatortest.Credential(t, srv, sc)
	client := func(base, scope string) (*odata.Client, error) {
		u, err := url.Parse(base)
		if err != nil {
			return nil, err
		}
		return odata.New(u, cred, odata.Options{Now: time.Now, Scopes: []string{scope}, HTTPClient: srv.Client(), Flavor: odata.Graph})
	}
	graph, err := client("https://graph.microsoft.com/v1.0/", "https://graph.microsoft.com/.default")
	if err != nil {
		t.Fatal(err)
	}
	tenant := &snapshot.Tenant{ID: sc.Tenant.ID}
	d := sharepoint.Discovering{
		Graph:     graph,
		Cloud:     c,
		NewClient: func(admin string) (*odata.Client, error) { return client(admin+"/", admin+"/.default") },
		Now:       time.Now,
	}
	if !batched {
		d.CollectTenant(t.Context(), tenant)
		return tenant
	}
	resps, err := graph.GraphBatch(t.Context(), []odata.GraphRequest{{URL: sharepoint.RootSitePath}})
	var resp odata.GraphResponse
	if err == nil {
		resp = resps[0]
	}
	d.FromRoot(t.Context(), tenant, resp, err)
	return tenant
}

func TestDiscoverAdminSite(t *testing.T) {
	t.Parallel()
	public, err := cloud.For(cloud.Public)
	if err != nil {
		t.Fatal(err)
	}
	gcc, err := cloud.For(cloud.GCC)
	if err != nil {
		t.Fatal(err)
	}
	us := public
	us.Name, us.SharePointAdminSuffix = "test-us", "-admin.sharepoint.us"
	tests := []struct {
		name     string
		cloud    cloud.Cloud
		change   func(*emulator.Scenario)
		admin    string // when the section must be ok
		errParts []string
	}{
		{
			name:   "from the root site",
			cloud:  public,
			change: func(sc *emulator.Scenario) { sc.SharePoint.ConditionalAccessPolicy = "BlockAccess" },
			admin:  "https://contoso-admin.sharepoint.com",
		},
		{
			name:     "no root site",
			cloud:    public,
			change:   func(sc *emulator.Scenario) { sc.SharePoint = nil },
			errParts: []string{"GET https://graph.microsoft.com/v1.0/sites/root", "404", "Sites.Read.All", "sharePointAdminUrl"},
		},
		{
			name:     "root site in another cloud's domain",
			cloud:    us,
			change:   func(*emulator.Scenario) {},
			errParts: []string{`the root site's host "contoso.sharepoint.com" is not <tenant>.sharepoint.us`},
		},
		{
			name:     "cloud without a known admin host",
			cloud:    gcc,
			change:   func(*emulator.Scenario) {},
			errParts: []string{"the SharePoint admin host of cloud gcc is not known"},
		},
		{
			name:     "admin site refuses the caller",
			cloud:    public,
			change:   func(sc *emulator.Scenario) { sc.SharePoint.AccessDenied = true },
			errParts: []string{"403"},
		},
	}
	for _, tt := range tests {
		for _, batched := range []bool{false, true} {
			name := tt.name
			if batched {
				name += " (batched)"
			}
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				checkDiscovered(t, discover(t, tt.cloud, batched, tt.change).SharePoint, tt.admin, tt.errParts)
			})
		}
	}
}

// TestFromRootBatchFailed: the $batch that carried the root site was
// refused, so the admin site is not known: error, never a pass.
func TestFromRootBatchFailed(t *testing.T) {
	t.Parallel()
	public, err := cloud.For(cloud.Public)
	if err != nil {
		t.Fatal(err)
	}
	tenant := discover(t, public, true, func(sc *emulator.Scenario) {
		sc.Faults = append(sc.Faults, emulator.Fault{Kind: emulator.FaultStatus, Status: 403, Match: emulator.FaultMatch{Path: `/\$batch$`, Scope: "outer"}})
	})
	checkDiscovered(t, tenant.SharePoint, "", []string{"GET https://graph.microsoft.com/v1.0/sites/root", "$batch", "403", "sharePointAdminUrl"})
}

// checkDiscovered asserts sp was read from admin, or, when admin is "",
// is an error whose text and source hold every one of errParts.
func checkDiscovered(t *testing.T, sp snapshot.SharePoint, admin string, errParts []string) {
	t.Helper()
	if admin != "" {
		if !sp.OK() || sp.AdminURL != admin || sp.ConditionalAccessPolicy != "BlockAccess" {
			t.Fatalf("sharePoint = %+v, want ok from %s with BlockAccess", sp, admin)
		}
		return
	}
	if sp.Status != snapshot.StatusError {
		t.Fatalf("status %s, want error: %+v", sp.Status, sp)
	}
	for _, part := range errParts {
		if !strings.Contains(sp.Error+" "+sp.Source, part) {
			t.Errorf("error %q (source %q) lacks %q", sp.Error, sp.Source, part)
		}
	}
}
