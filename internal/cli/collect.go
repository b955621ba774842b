package cli

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/teamslink/teamslink/internal/config"
	"github.com/teamslink/teamslink/internal/scan"
	"github.com/teamslink/teamslink/internal/snapshot"
)

// targetOptions select what to collect: a config file, or one tenant and
// environment given on the command line.
type targetOptions struct {
	configPath string
	// tenants is the tenant of --env, or the tenants --config is limited to.
	tenants    []string
	envs       []string
	clientID   string
	secretEnv  string
	method     string
	spAdminURL string
	fleet      fleetOptions
}

func (o *targetOptions) register(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringVarP(&o.configPath, "config", "c", "", "tenants.yaml listing tenants and environments (see docs/configuration.md)")
	f.StringArrayVar(&o.tenants, "tenant", nil, "tenant id (GUID), with --env, instead of --config; with --config, scan only this tenant, by id or name (repeatable)")
	f.StringArrayVar(&o.envs, "env", nil, "environment URL, e.g. https://contoso.crm.dynamics.com (repeatable)")
	f.StringVar(&o.method, "auth", string(config.MethodAzureCLI), "with --tenant: auth method ("+methodList()+")")
	f.StringVar(&o.clientID, "client-id", "", "with --tenant: the application (client) id")
	f.StringVar(&o.secretEnv, "client-secret-env", "", "with --tenant: environment variable holding the client secret")
	f.StringVar(&o.spAdminURL, "sharepoint-admin-url", "", "with --tenant: https://<tenant>-admin.sharepoint.com (default: found from the root SharePoint site in Graph)")
	o.fleet.register(cmd)
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
	case o.configPath != "" && len(o.envs) > 0:
		return nil, usageErrorf("give either --config or --tenant with --env, not both")
	case o.configPath != "":
		cfg, err := config.LoadContext(ctx, o.configPath)
		if err != nil {
			return nil, &UsageError{Err: err}
		}
		return cfg, nil
	case len(o.tenants) == 0 || len(o.envs) == 0:
		return nil, usageErrorf("say what to scan: --config tenants.yaml, or --tenant ID --env URL")
	case len(o.tenants) > 1:
		return nil, usageErrorf("--env belongs to one --tenant; to scan several tenants, list them in --config tenants.yaml")
	}
	t := config.Tenant{
		ID:                 o.tenants[0],
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

func newCollectCommand(deps Deps) *cobra.Command {
	var (
		targets  targetOptions
		output   string
		entities []string
		redacted redactOptions
	)
	cmd := &cobra.Command{
		Use:   "collect",
		Short: "Read the live state of tenants and environments into a snapshot",
		Long: `Read everything the rules need from Dataverse, Microsoft Graph and SharePoint Online and
write it as a snapshot (teamslink.snapshot/v1) that "teamslink eval" evaluates anywhere later,
without credentials. What could not be read is recorded as such, never left out.

Examples:
  teamslink collect --config tenants.yaml -o snapshot.json
  teamslink collect --config tenants.yaml --tenant Contoso --tenant Fabrikam -o snapshot.json
  teamslink collect --config tenants.yaml --shard 0/4 --concurrency 16 -o snapshot-0.json
  teamslink collect --tenant 3f2b8c1e-6d4a-4b7e-9a15-2c8d0e7f4a61 --env https://contoso.crm.dynamics.com -o snapshot.json`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			opts, err := targets.options(deps, trimAll(entities))
			if err != nil {
				return err
			}
			red, err := redacted.load(deps)
			if err != nil {
				return err
			}
			cfg, err := targets.load(cmd.Context())
			if err != nil {
				return err
			}
			snap, err := scan.Collect(cmd.Context(), cfg, opts)
			if err != nil {
				return scanError(err)
			}
			if snap, _, err = red.apply(snap, nil); err != nil {
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
	redacted.register(cmd)
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
