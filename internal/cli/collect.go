package cli

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/teamslink/teamslink/collectors"
	"github.com/teamslink/teamslink/collectors/dataverse"
	"github.com/teamslink/teamslink/collectors/graph"
	"github.com/teamslink/teamslink/collectors/sharepoint"
	"github.com/teamslink/teamslink/internal/auth"
	"github.com/teamslink/teamslink/internal/cloud"
	"github.com/teamslink/teamslink/internal/config"
	"github.com/teamslink/teamslink/internal/engine"
	"github.com/teamslink/teamslink/internal/odata"
	"github.com/teamslink/teamslink/internal/snapshot"
)

// targetOptions select what to collect: a config file, or one tenant and
// environment given on the command line.
type targetOptions struct {
	configPath string
	tenant     string
	envs       []string
	clientID   string
	secretEnv  string
	method     string
	spAdminURL string
}

func (o *targetOptions) register(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringVarP(&o.configPath, "config", "c", "", "tenants.yaml listing tenants and environments (see docs/configuration.md)")
	f.StringVar(&o.tenant, "tenant", "", "tenant id (GUID), with --env, instead of --config")
	f.StringArrayVar(&o.envs, "env", nil, "environment URL, e.g. https://contoso.crm.dynamics.com (repeatable)")
	f.StringVar(&o.method, "auth", string(config.MethodAzureCLI), "with --tenant: auth method ("+methodList()+")")
	f.StringVar(&o.clientID, "client-id", "", "with --tenant: the application (client) id")
	f.StringVar(&o.secretEnv, "client-secret-env", "", "with --tenant: environment variable holding the client secret")
	f.StringVar(&o.spAdminURL, "sharepoint-admin-url", "", "with --tenant: https://<tenant>-admin.sharepoint.com (default: found from the root SharePoint site in Graph)")
}

func methodList() string {
	names := make([]string, len(config.Methods))
	for i, m := range config.Methods {
		names[i] = string(m)
	}
	return strings.Join(names, ", ")
}

// load returns the validated config the flags describe.
func (o *targetOptions) load(ctx context.Context) (*config.Config, error) {
	switch {
	case o.configPath != "" && (o.tenant != "" || len(o.envs) > 0):
		return nil, usageErrorf("give either --config or --tenant with --env, not both")
	case o.configPath != "":
		cfg, err := config.LoadContext(ctx, o.configPath)
		if err != nil {
			return nil, &UsageError{Err: err}
		}
		return cfg, nil
	case o.tenant == "" || len(o.envs) == 0:
		return nil, usageErrorf("say what to scan: --config tenants.yaml, or --tenant ID --env URL")
	}
	t := config.Tenant{
		ID:                 o.tenant,
		Auth:               config.Auth{Method: config.Method(o.method), ClientID: o.clientID, SecretEnv: o.secretEnv},
		SharePointAdminURL: o.spAdminURL,
	}
	for _, e := range o.envs {
		t.Environments = append(t.Environments, config.Environment{URL: e})
	}
	cfg := &config.Config{Tenants: []config.Tenant{t}}
	cfg.ApplyDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, &UsageError{Err: err}
	}
	return cfg, nil
}

// collectSnapshot discovers the environments of the tenants that ask for
// it (discover.go), builds the collectors for every tenant of cfg and runs
// them. A tenant whose discovery failed is not collected: the snapshot
// records why, as a sign-in failure does.
func collectSnapshot(ctx context.Context, cfg *config.Config, deps Deps, tables []string) (*snapshot.Snapshot, error) {
	fleet, err := discoverFleet(ctx, cfg, deps)
	if err != nil {
		return nil, err
	}
	jobs := make([]collectors.TenantJob, 0, len(fleet))
	for _, tt := range fleet {
		if tt.failure != nil {
			continue
		}
		job, err := tenantJob(tt.tenant, cfg.Defaults, deps, tables, tt.session)
		if err != nil {
			return nil, &UsageError{Err: err}
		}
		jobs = append(jobs, job)
	}
	snap := collectors.Collect(ctx, jobs, collectors.Options{Now: deps.now, Tool: "teamslink " + deps.Version})
	// Interrupted, the collectors record what they could not finish as
	// unreadable: that is not the state of the tenant, and must go nowhere.
	if err := interruption(ctx); err != nil {
		return nil, fmt.Errorf("collect: %w", err)
	}
	withFailedTenants(snap, fleet, deps)
	return snap, nil
}

// tenantJob wires one tenant: the session's credential and HTTP client, a
// Graph and a SharePoint collector for the tenant, a Dataverse collector
// per environment.
func tenantJob(t config.Tenant, defaults config.Defaults, deps Deps, tables []string, sess *tenantSession) (collectors.TenantJob, error) {
	// Observed, so that a credential that cannot sign in is said once for
	// the tenant, not once per request.
	cred := sess.cred
	newClient := func(base string, flavor odata.Flavor, scope string) (*odata.Client, error) {
		return sess.client(deps, base, flavor, scope, 0)
	}

	job := collectors.TenantJob{
		Tenant: snapshot.Tenant{ID: t.ID, Name: t.Name, Cloud: string(t.Cloud)},
		Credential: collectors.Credential{
			Method:   string(t.Auth.Method),
			ClientID: t.Auth.ClientID,
			Failure:  func() string { return auth.SignInReason(cred.Failure()) },
		},
	}
	graphURL := strings.TrimSuffix(t.GraphURL(), "/")
	gc, err := newClient(graphURL+"/v1.0/", odata.Graph, auth.GraphScope(graphURL))
	if err != nil {
		return job, fmt.Errorf("tenant %s: graph client: %w", t.ID, err)
	}
	job.Sources = append(job.Sources, graph.New(gc, graph.Options{ClientID: t.Auth.ClientID, Now: deps.now}))

	sharePointClient := func(admin string) (*odata.Client, error) {
		return newClient(admin+"/", odata.Graph, auth.SharePointScope(admin))
	}
	if admin := strings.TrimSuffix(t.SharePointAdminURL, "/"); admin != "" {
		sc, err := sharePointClient(admin)
		if err != nil {
			return job, fmt.Errorf("tenant %s: SharePoint client: %w", t.ID, err)
		}
		job.Sources = append(job.Sources, sharepoint.New(sc, deps.now))
	} else {
		// No admin site in the config: find it from the root site in Graph.
		c, err := cloud.For(t.Cloud)
		if err != nil {
			return job, fmt.Errorf("tenant %s: %w", t.ID, err)
		}
		job.Sources = append(job.Sources, sharepoint.Discovering{
			Graph:     gc,
			Cloud:     c,
			NewClient: sharePointClient,
			Now:       deps.now,
		})
	}

	for _, e := range t.Environments {
		envURL := strings.TrimSuffix(e.URL, "/")
		dc, err := newClient(envURL+"/api/data/v9.2/", odata.Dataverse, auth.DataverseScope(envURL))
		if err != nil {
			return job, fmt.Errorf("environment %s: %w", e.URL, err)
		}
		env := snapshot.Environment{URL: envURL, Name: e.Name, Experience: string(e.Experience), TargetTables: targetTables(tables, e.Tables, defaults.Tables)}
		if e.SharePointIntegrationConfigured != nil {
			v := *e.SharePointIntegrationConfigured
			env.Overrides = &snapshot.Overrides{SharePointIntegrationConfigured: &v}
		}
		job.Environments = append(job.Environments, collectors.EnvironmentJob{
			Environment: env,
			Source:      dataverse.New(dc, dataverse.Options{Now: deps.now}),
		})
	}
	return job, nil
}

// targetTables picks the first non-empty list: the command line's, the
// environment's, the config defaults', the engine's default.
func targetTables(lists ...[]string) []string {
	for _, l := range lists {
		if len(l) > 0 {
			return slices.Clone(l)
		}
	}
	return slices.Clone(engine.DefaultTables)
}

func newCollectCommand(deps Deps) *cobra.Command {
	var (
		targets  targetOptions
		output   string
		entities []string
	)
	cmd := &cobra.Command{
		Use:   "collect",
		Short: "Read the live state of tenants and environments into a snapshot",
		Long: `Read everything the rules need from Dataverse, Microsoft Graph and SharePoint Online and
write it as a snapshot (teamslink.snapshot/v1) that "teamslink eval" evaluates anywhere later,
without credentials. What could not be read is recorded as such, never left out.

Examples:
  teamslink collect --config tenants.yaml -o snapshot.json
  teamslink collect --tenant 3f2b8c1e-6d4a-4b7e-9a15-2c8d0e7f4a61 --env https://contoso.crm.dynamics.com -o snapshot.json`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := targets.load(cmd.Context())
			if err != nil {
				return err
			}
			snap, err := collectSnapshot(cmd.Context(), cfg, deps, trimAll(entities))
			if err != nil {
				return err
			}
			if output == "" || output == "-" {
				return snapshot.Write(cmd.OutOrStdout(), snap)
			}
			if err := writeFiles(cmd.Context(), []outputFile{snapshotFile(output, snap)}); err != nil {
				return err
			}
			return reportCollected(cmd.ErrOrStderr(), snap, output)
		},
	}
	targets.register(cmd)
	cmd.Flags().StringVarP(&output, "output", "o", "", "write the snapshot to `FILE` (default standard output)")
	cmd.Flags().StringSliceVar(&entities, "entities", nil, "target tables by logical name (default: each environment's, else account,contact)")
	return cmd
}

// reportCollected says on stderr what was written and which sections
// failed; a tenant whose sign-in failed is said once, first, instead of
// each of its sections.
func reportCollected(w io.Writer, snap *snapshot.Snapshot, path string) error {
	signIns, failed, count := failedSections(snap)
	_, err := fmt.Fprintf(w, "wrote %s: %d tenant(s), %d environment(s), %d section(s) could not be read\n", path, len(snap.Tenants), len(snap.Environments), count)
	for _, f := range slices.Concat(signIns, failed) {
		if err == nil {
			_, err = fmt.Fprintf(w, "  %s\n", f)
		}
	}
	return err
}

// failedSections lists the tenants whose sign-in failed, the sections that
// could not be read of the others, and how many sections failed in all.
func failedSections(snap *snapshot.Snapshot) (signIns, failed []string, count int) {
	signedOut := map[string]bool{}
	for _, t := range snap.Tenants {
		switch s := t.SignIn; {
		case s != nil && s.Discovery != "":
			signedOut[t.ID] = true
			signIns = append(signIns, "tenant "+t.ID+": its environments could not be discovered ("+s.Discovery+"), nothing of it was read: "+s.Error)
		case s != nil:
			signedOut[t.ID] = true
			signIns = append(signIns, "tenant "+t.ID+": sign-in failed ("+s.Method+" credential), nothing of it was read: "+s.Error)
		}
	}
	add := func(tenant, where string, s snapshot.Section) {
		if s.Status != snapshot.StatusError {
			return
		}
		count++
		if !signedOut[tenant] { // a signed-out tenant is said once, above
			failed = append(failed, where+": "+s.Error)
		}
	}
	for _, t := range snap.Tenants {
		add(t.ID, "tenant "+t.ID+" licenses", t.Licenses.Section)
		add(t.ID, "tenant "+t.ID+" consent", t.Consent.Section)
		add(t.ID, "tenant "+t.ID+" caller", t.Caller.Section)
		add(t.ID, "tenant "+t.ID+" sharePoint", t.SharePoint.Section)
	}
	for _, e := range snap.Environments {
		add(e.TenantID, e.URL+" organization", e.Organization.Section)
		add(e.TenantID, e.URL+" sharePointSites", e.SharePointSites.Section)
		add(e.TenantID, e.URL+" documentLocations", e.DocumentLocations.Section)
		add(e.TenantID, e.URL+" entities", e.Entities.Section)
		add(e.TenantID, e.URL+" caller", e.Caller.Section)
	}
	return signIns, failed, count
}
