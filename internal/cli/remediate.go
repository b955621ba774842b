package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/teamslink/teamslink/internal/config"
	"github.com/teamslink/teamslink/internal/engine"
	"github.com/teamslink/teamslink/internal/finding"
	"github.com/teamslink/teamslink/internal/remediate"
	"github.com/teamslink/teamslink/internal/scan"
	"github.com/teamslink/teamslink/internal/snapshot"
)

func newRemediateCommand(deps Deps) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "remediate",
		Short: "Plan, apply and roll back the automated fixes, safely",
		Long: `Fix what blocks record linking without clicking through five admin centres, and
without losing a record or writing to the wrong one (docs/remediation.md):

  plan      read the state (--config, live) or a snapshot and write a plan: every action, the
            record it touches, the value seen and its ETag, the value to write, the undo, and
            a what-if of the states it will flip; nothing is written
  apply     carry a plan out: a dry run unless --yes; each record re-read (drift stops the run),
            backed up to a journal (fsynced), written with If-Match and re-read to verify
  rollback  undo from the journal what apply did, newest first, with the same checks

Licences, roles, consent, on-premises SharePoint, the unmanaged-device policy, the group
naming policy and the manual checks are never automated: the plan lists them as manual steps.`,
		Args: exactArgs(0),
	}
	cmd.AddCommand(newRemediatePlanCommand(deps), newRemediateApplyCommand(deps), newRemediateRollbackCommand(deps))
	return cmd
}

func newRemediatePlanCommand(deps Deps) *cobra.Command {
	var (
		targets      targetOptions
		snapPath     string
		out          string
		only         []string
		environments []string
		enable       []string
		experience   string
		entities     []string
		policyDirs   []string
		limit        int
		columns      = remediate.DefaultExperienceColumns
	)
	cmd := &cobra.Command{
		Use:   "plan",
		Short: "Write the plan that fixes what blocks each environment, with its what-if",
		Long: `Read the state — live from tenants.yaml (--config), or from a snapshot (--snapshot) —
evaluate it, and write a plan (-o FILE, JSON with a schema and a content hash) for every failing
rule that has an automated fix: turn OneDrive off, deactivate SharePoint sites, delete the
document locations created with an absolute URL, enable document management or the Teams
document status on a table, and, with --enable, turn Basic or Enhanced collaboration on once
nothing blocks it. Nothing is planned for a section that could not be read; Enhanced is never
turned on without admin consent (the plan gives the admin-consent URL instead).

The plan carries a what-if: the state patched with the planned writes and evaluated again,
per environment and experience (BLOCKED → READY, READY → ENABLED) with what still blocks.
Planned from a snapshot, the records beyond its bounded sample are not in the plan (it says
so): plan with --config to read them all.

Examples:
  teamslink remediate plan --config tenants.yaml -o plan.json
  teamslink remediate plan --config tenants.yaml --only TL-SP-001,TL-SP-003 --environment https://contoso.crm.dynamics.com -o plan.json
  teamslink remediate plan --snapshot snapshot.json --enable basic -o plan.json`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			if out == "" {
				return usageErrorf("say where to write the plan: -o plan.json")
			}
			if (snapPath == "") == (targets.configPath == "" && len(targets.envs) == 0) {
				return usageErrorf("plan from one source: --config tenants.yaml (or --tenant ID --env URL), or --snapshot FILE")
			}
			opts, err := targets.options(deps, trimAll(entities))
			if err != nil {
				return err
			}
			if experience != "" {
				if opts.Experience, err = finding.ParseExperience(experience); err != nil {
					return usageErrorf("--experience: %w", err)
				}
			}
			var want []finding.Experience
			for _, e := range splitList(enable) {
				x, err := finding.ParseExperience(e)
				if err != nil {
					return usageErrorf("--enable: %w", err)
				}
				want = append(want, x)
			}
			eng, err := engine.New(ctx, engine.Config{PolicyDirs: policyDirs})
			if err != nil {
				return err
			}
			var (
				snap    *snapshot.Snapshot
				rep     *finding.Report
				waivers []finding.WaiverRule
				live    remediate.Clients
				source  string
			)
			if snapPath != "" {
				if snap, err = snapshot.ReadFile(snapPath); err != nil {
					return &UsageError{Err: err}
				}
				if rep, err = scan.Evaluate(ctx, eng, snap, nil, nil, opts); err != nil {
					return err
				}
				source = "snapshot " + filepath.Base(snapPath)
			} else {
				cfg, err := targets.load(ctx)
				if err != nil {
					return err
				}
				res, err := scan.Run(ctx, cfg, eng, opts)
				if err != nil {
					return scanError(err)
				}
				snap, rep, waivers = res.Snapshot, res.Report, cfg.WaiverRules()
				dv := scan.NewDataverse(cfg, opts)
				defer dv.Close()
				live = dv.Client
				source = "config " + filepath.Base(targets.configPath)
				if targets.configPath == "" {
					source = "command line"
				}
			}
			plan, err := remediate.Build(ctx, snap, rep, remediate.PlanOptions{
				Now: deps.Now, Tool: "teamslink " + deps.Version, Source: source,
				Only: splitList(only), Environments: environments, Enable: want, Columns: columns,
				Live: live, Limit: limit,
				Assessment: remediate.Assessment{Experience: string(opts.Experience), Tables: opts.Tables, Profile: opts.Profile},
				Evaluate: func(ctx context.Context, s *snapshot.Snapshot) (*finding.Report, error) {
					return scan.Evaluate(ctx, eng, s, waivers, nil, opts)
				},
			})
			if err != nil {
				return &UsageError{Err: err}
			}
			if err := writeFiles(ctx, []outputFile{{what: "plan", path: out, render: func(w io.Writer) error { return remediate.WritePlan(w, plan) }}}); err != nil {
				return err
			}
			printPlan(cmd.OutOrStdout(), plan)
			fmt.Fprintf(cmd.OutOrStdout(), "\nplan written to %s (%s); nothing was changed. Apply it with: teamslink remediate apply --plan %s --config <tenants.yaml> --yes\n", out, plan.Hash, out)
			return nil
		},
	}
	targets.register(cmd)
	f := cmd.Flags()
	f.StringVar(&snapPath, "snapshot", "", "plan from this snapshot `FILE` instead of reading live (unredacted: the plan needs its ids and ETags)")
	f.StringVarP(&out, "output", "o", "", "write the plan to `FILE` (required)")
	f.StringSliceVar(&only, "only", nil, "plan only the fixes of these rules, e.g. TL-SP-001,TL-SP-003")
	f.StringArrayVar(&environments, "environment", nil, "plan only this environment `URL` (repeatable)")
	f.StringSliceVar(&enable, "enable", nil, "also turn these experiences on where nothing blocks them any more: basic, enhanced")
	f.StringVar(&experience, "experience", "", "experience to assess: basic or enhanced (default: each environment's, else enhanced)")
	f.StringSliceVar(&entities, "entities", nil, "target tables (logical names), overriding the config's")
	f.StringArrayVar(&policyDirs, "policy-dir", nil, "extra Rego policies `DIR` to include")
	f.IntVar(&limit, "limit", remediate.DefaultLimit, "plan at most `N` records per fix and environment")
	f.StringVar(&columns.Basic, "basic-column", columns.Basic, "organization column that turns Basic on (an assumption: no Microsoft page names it)")
	f.StringVar(&columns.Enhanced, "enhanced-column", columns.Enhanced, "organization column that turns Enhanced on (an assumption: no Microsoft page names it)")
	return cmd
}

func splitList(values []string) []string {
	var out []string
	for _, v := range values {
		for _, s := range strings.Split(v, ",") {
			if s = strings.TrimSpace(s); s != "" {
				out = append(out, s)
			}
		}
	}
	return out
}

// printPlan says what a plan will do, environment by environment.
func printPlan(w io.Writer, p *remediate.Plan) {
	fmt.Fprintf(w, "plan %s from %s, made %s: %d action(s), %d delete(s)\n", p.Hash, p.Source, p.CreatedAt.Format(time.RFC3339), len(p.Actions()), p.Deletes())
	for _, e := range p.Environments {
		name := e.URL
		if e.TenantName != "" {
			name = e.TenantName + " " + e.URL
		}
		fmt.Fprintf(w, "\n%s\n", name)
		for _, x := range e.WhatIf {
			line := fmt.Sprintf("  what-if %-8s %s → %s", x.Experience, x.Before, x.After)
			if len(x.StillBlocking) > 0 {
				line += " (still: " + strings.Join(x.StillBlocking, ", ") + ")"
			}
			fmt.Fprintln(w, line)
		}
		for _, a := range e.Actions {
			fmt.Fprintf(w, "  %3s. [%s] %s\n", a.ID, a.Rule, a.Description)
			if a.Assumption != "" {
				fmt.Fprintf(w, "       assumption: %s\n", a.Assumption)
			}
		}
		for _, r := range e.Refused {
			fmt.Fprintf(w, "  refused %s: %s\n", r.Fix, r.Reason)
			if r.URL != "" {
				fmt.Fprintf(w, "       open: %s\n", r.URL)
			}
		}
		for _, u := range e.Unread {
			fmt.Fprintf(w, "  not planned (could not be read): %s\n", u)
		}
		for _, n := range e.Notes {
			fmt.Fprintf(w, "  note: %s\n", n)
		}
		for _, m := range e.Manual {
			what := m.Rule
			if m.Table != "" {
				what += " " + m.Table
			}
			fmt.Fprintf(w, "  manual %s (%s): %s\n", what, m.Status, m.Title)
		}
	}
}

// remediateTarget is the config apply and rollback sign in with.
type remediateTarget struct {
	configPath string
}

func (t *remediateTarget) register(cmd *cobra.Command) {
	cmd.Flags().StringVarP(&t.configPath, "config", "c", "", "tenants.yaml whose identities write (required; the plan names the tenants and environments)")
}

func (t *remediateTarget) load(ctx context.Context) (*config.Config, error) {
	if t.configPath == "" {
		return nil, usageErrorf("say who writes: --config tenants.yaml")
	}
	cfg, err := config.LoadContext(ctx, t.configPath)
	if err != nil {
		return nil, &UsageError{Err: err}
	}
	return cfg, nil
}

func newRemediateApplyCommand(deps Deps) *cobra.Command {
	var (
		target      remediateTarget
		planPath    string
		journalPath string
		resume      string
		yes         bool
		allowDelete bool
		maxChanges  int
		maxAge      time.Duration
	)
	cmd := &cobra.Command{
		Use:   "apply",
		Short: "Carry a plan out: drift check, journal, If-Match write, verify; then rescan",
		Long: `Carry out a plan made by "teamslink remediate plan". Without --yes it prints the plan and
writes nothing. It refuses, before any write: a plan whose hash does not match its content, one
older than --max-age, one with more actions than --max-changes, and one that deletes anything
unless --allow-delete is given.

For each action it re-reads the record and stops if it drifted from the plan (another value or
ETag), appends the record to the journal and fsyncs it, writes with If-Match, re-reads to verify
and marks the action done. A 403, a 412 or any failure stops the run with the journal
consistent and says what was done. At the end it scans the environments again and shows their
states. --resume JOURNAL continues an interrupted run without repeating a completed action (an
action whose write went through but was never marked done is verified, not sent again).

Examples:
  teamslink remediate apply --plan plan.json --config tenants.yaml
  teamslink remediate apply --plan plan.json --config tenants.yaml --yes --allow-delete
  teamslink remediate apply --resume plan.json.journal --config tenants.yaml --yes --allow-delete`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			out := cmd.OutOrStdout()
			if (planPath == "") == (resume == "") {
				return usageErrorf("give the plan to apply (--plan FILE) or the journal of the run to resume (--resume JOURNAL)")
			}
			var (
				plan    *remediate.Plan
				journal *remediate.Journal
				err     error
			)
			if resume != "" {
				if journal, err = remediate.OpenJournal(resume, deps.Now); err != nil {
					return &UsageError{Err: err}
				}
				defer journal.Close()
				plan = journal.Plan()
			} else {
				f, err := os.Open(planPath)
				if err != nil {
					return &UsageError{Err: err}
				}
				plan, err = remediate.ReadPlan(f, planPath)
				_ = f.Close()
				if err != nil {
					return &UsageError{Err: err}
				}
			}
			if err := checkPlan(plan, deps.Now(), maxAge, maxChanges, allowDelete, resume != ""); err != nil {
				return err
			}
			cfg, err := target.load(ctx)
			if err != nil {
				return err
			}
			printPlan(out, plan)
			if !yes {
				fmt.Fprintln(out, "\ndry run: nothing was written; add --yes to apply it")
				return nil
			}
			opts := deps.scanOptions(nil)
			opts.Progress = nil
			dv := scan.NewDataverse(cfg, opts)
			defer dv.Close()
			if err := checkTargets(dv, plan); err != nil {
				return err
			}
			if journal == nil {
				if journalPath == "" {
					journalPath = planPath + ".journal"
				}
				if journal, err = remediate.CreateJournal(journalPath, plan, deps.Now); err != nil {
					return &UsageError{Err: err}
				}
				defer journal.Close()
			}
			fmt.Fprintf(out, "\napplying; journal %s\n", journal.Path())
			runner := &remediate.Runner{Clients: dv.Client, Out: out}
			if err := runner.Apply(ctx, journal); err != nil {
				return remediateError(err)
			}
			fmt.Fprintln(out, "every action is done and verified")
			return rescan(ctx, deps, cmd, cfg, plan)
		},
	}
	target.register(cmd)
	f := cmd.Flags()
	f.StringVar(&planPath, "plan", "", "the plan `FILE` to apply")
	f.StringVar(&journalPath, "journal", "", "write the journal to `FILE` (default: the plan's name with .journal; never overwritten)")
	f.StringVar(&resume, "resume", "", "continue the interrupted run of this `JOURNAL`")
	f.BoolVar(&yes, "yes", false, "write; without it apply prints the plan and writes nothing")
	f.BoolVar(&allowDelete, "allow-delete", false, "allow a plan that deletes records (document locations; the journal keeps each for rollback)")
	f.IntVar(&maxChanges, "max-changes", 100, "refuse, before any write, a plan of more than `N` actions")
	f.DurationVar(&maxAge, "max-age", time.Hour, "refuse a plan older than this")
	return cmd
}

// checkPlan refuses a plan before any write: too old, too large, or
// deleting without --allow-delete. A resumed run is as old as its plan
// was when it started, so its age is not checked again.
func checkPlan(p *remediate.Plan, now time.Time, maxAge time.Duration, maxChanges int, allowDelete, resuming bool) error {
	if age := now.Sub(p.CreatedAt); !resuming && maxAge > 0 && age > maxAge {
		return usageErrorf("the plan was made %s ago, more than --max-age %s: the tenant may have changed since; make a new plan", age.Round(time.Second), maxAge)
	}
	if n := len(p.Actions()); maxChanges >= 0 && n > maxChanges {
		return usageErrorf("the plan has %d actions, more than --max-changes %d: nothing was written", n, maxChanges)
	}
	if d := p.Deletes(); d > 0 && !allowDelete {
		return usageErrorf("the plan deletes %d record(s): nothing was written; add --allow-delete to allow it (the journal keeps each record for rollback)", d)
	}
	return nil
}

// checkTargets refuses, before any write, a plan naming an environment the
// config does not: each must get a client.
func checkTargets(dv *scan.Dataverse, plan *remediate.Plan) error {
	for _, e := range plan.Environments {
		if len(e.Actions) == 0 {
			continue
		}
		if _, err := dv.Client(e.Tenant, e.URL); err != nil {
			return usageErrorf("the plan writes to %s: %w; nothing was written", e.URL, err)
		}
	}
	return nil
}

func remediateError(err error) error {
	var stop *remediate.StopError
	if errors.As(err, &stop) {
		return &ExitError{Code: finding.ExitFindings, Err: err}
	}
	return err
}

// rescan scans the plan's tenants again and prints each environment's
// states, so that the verdict flipping is seen, not assumed.
func rescan(ctx context.Context, deps Deps, cmd *cobra.Command, cfg *config.Config, plan *remediate.Plan) error {
	opts := deps.scanOptions(plan.Assessment.Tables)
	opts.Progress = nil
	opts.Experience, opts.Profile = finding.Experience(plan.Assessment.Experience), plan.Assessment.Profile
	seen := map[string]bool{}
	for _, e := range plan.Environments {
		if !seen[e.Tenant] {
			opts.Tenants = append(opts.Tenants, e.Tenant)
			seen[e.Tenant] = true
		}
	}
	if len(opts.Tenants) == 0 {
		return nil
	}
	eng, err := engine.New(ctx, engine.Config{})
	if err != nil {
		return err
	}
	res, err := scan.Run(ctx, cfg, eng, opts)
	if err != nil {
		return fmt.Errorf("rescan: %w", scanError(err))
	}
	var b bytes.Buffer
	fmt.Fprintln(&b, "\nrescan:")
	for _, e := range res.Report.Environments {
		in := false
		for _, pe := range plan.Environments {
			in = in || (pe.Tenant == e.Tenant && strings.EqualFold(pe.URL, e.URL))
		}
		if !in {
			continue
		}
		for _, v := range e.Verdicts {
			if v.Readiness == finding.NotAssessed {
				continue
			}
			line := fmt.Sprintf("  %s %-8s %s", e.URL, v.Experience, v.Readiness)
			if len(v.Blocking) > 0 {
				line += " (" + strings.Join(v.Blocking, ", ") + ")"
			}
			fmt.Fprintln(&b, line)
		}
	}
	_, err = cmd.OutOrStdout().Write(b.Bytes())
	return err
}

func newRemediateRollbackCommand(deps Deps) *cobra.Command {
	var (
		target      remediateTarget
		journalPath string
		yes         bool
	)
	cmd := &cobra.Command{
		Use:   "rollback",
		Short: "Undo from its journal what apply did, newest first, verified",
		Long: `Undo the completed actions of an apply run, newest first, from its journal: each record
is re-read and must still show what apply wrote (else it drifted and the rollback stops there),
is restored — a deleted document location recreated with the same id, columns, parent and
regarding record — and re-read to verify. The rollback is journaled too: run it again after an
interruption and it continues. Without --yes it lists what it would undo.

Examples:
  teamslink remediate rollback --journal plan.json.journal --config tenants.yaml
  teamslink remediate rollback --journal plan.json.journal --config tenants.yaml --yes`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			out := cmd.OutOrStdout()
			if journalPath == "" {
				return usageErrorf("give the journal of the run to undo: --journal FILE")
			}
			cfg, err := target.load(ctx)
			if err != nil {
				return err
			}
			journal, err := remediate.OpenJournal(journalPath, deps.Now)
			if err != nil {
				return &UsageError{Err: err}
			}
			defer journal.Close()
			if !yes {
				fmt.Fprintf(out, "would undo, newest first, the actions journal %s holds as written:\n", journalPath)
				for _, line := range remediate.Undoable(journal) {
					fmt.Fprintln(out, "  "+line)
				}
				fmt.Fprintln(out, "dry run: nothing was written; add --yes to roll back")
				return nil
			}
			opts := deps.scanOptions(nil)
			opts.Progress = nil
			dv := scan.NewDataverse(cfg, opts)
			defer dv.Close()
			if err := checkTargets(dv, journal.Plan()); err != nil {
				return err
			}
			runner := &remediate.Runner{Clients: dv.Client, Out: out}
			if err := runner.Rollback(ctx, journal); err != nil {
				return remediateError(err)
			}
			fmt.Fprintln(out, "every completed action is undone and verified")
			return rescan(ctx, deps, cmd, cfg, journal.Plan())
		},
	}
	target.register(cmd)
	cmd.Flags().StringVar(&journalPath, "journal", "", "the journal `FILE` of the apply run to undo")
	cmd.Flags().BoolVar(&yes, "yes", false, "write; without it rollback lists what it would undo")
	return cmd
}
