package remediate

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/teamslink/teamslink/internal/finding"
	"github.com/teamslink/teamslink/internal/snapshot"
)

// whatIf evaluates env patched with the planned actions, plans turning on
// the experiences asked for where nothing blocks them any more, and records
// each experience's state before and after.
func whatIf(ctx context.Context, snap *snapshot.Snapshot, tenant *snapshot.Tenant, env *snapshot.Environment, re finding.Environment, ep *EnvironmentPlan, opts *PlanOptions, n *int) error {
	if opts.Evaluate == nil {
		return fmt.Errorf("remediate: PlanOptions.Evaluate is required for the what-if")
	}
	after, err := evaluatePatched(ctx, snap, tenant, env, ep.Actions, opts)
	if err != nil {
		return err
	}
	if len(opts.Enable) > 0 {
		pl := &planner{ctx: ctx, tenant: tenant, env: env, opts: opts, ep: ep, n: n}
		if pl.enable(re, after) {
			if after, err = evaluatePatched(ctx, snap, tenant, env, ep.Actions, opts); err != nil {
				return err
			}
		}
	}
	for _, v := range re.Verdicts {
		if v.Readiness == finding.NotAssessed {
			continue
		}
		a := after.Verdict(v.Experience)
		w := WhatIf{Experience: string(v.Experience), Before: string(v.Readiness), After: string(a.Readiness)}
		if a.Readiness != finding.Ready && a.Readiness != finding.Enabled {
			w.StillBlocking = append(slices.Clone(a.Blocking), a.Unknown...)
		}
		ep.WhatIf = append(ep.WhatIf, w)
	}
	return nil
}

// enable plans the organization writes that turn the experiences of
// opts.Enable on where the what-if says READY; it reports whether it
// planned any.
func (pl *planner) enable(re finding.Environment, after finding.Environment) bool {
	org := pl.env.Organization
	if !pl.sectionOK("environment.organization", org.Section) || org.Record == nil {
		return false
	}
	planned := false
	for _, x := range []finding.Experience{finding.ExperienceBasic, finding.ExperienceEnhanced} {
		if !slices.Contains(pl.opts.Enable, x) {
			continue
		}
		fix, rule, col, flag := FixEnableBasic, "TL-ENV-001", pl.opts.Columns.Basic, "basic"
		if x == finding.ExperienceEnhanced {
			fix, rule, col, flag = FixEnableEnhanced, "TL-ENV-002", pl.opts.Columns.Enhanced, "enhanced"
		}
		if !pl.wanted(rule) {
			continue
		}
		v := after.Verdict(x)
		switch {
		case v.Readiness == finding.Enabled:
			continue
		case v.Readiness == finding.NotAssessed:
			pl.ep.Refused = append(pl.ep.Refused, Refusal{Fix: fix, Reason: fmt.Sprintf("the %s experience was not assessed (scan with --experience %s)", x, x)})
			continue
		case x == finding.ExperienceEnhanced && consentMissing(re):
			pl.ep.Refused = append(pl.ep.Refused, Refusal{Rule: "TL-CONSENT-001", Fix: fix,
				Reason: "Enhanced is not turned on while the collaboration app lacks admin consent: a Global Administrator must consent first",
				URL:    ConsentURL(pl.tenant)})
			continue
		case v.Readiness != finding.Ready:
			pl.ep.Refused = append(pl.ep.Refused, Refusal{Fix: fix,
				Reason: fmt.Sprintf("%s would still be %s after this plan (%s): turning it on now would break it", x, v.Readiness, strings.Join(append(slices.Clone(v.Blocking), v.Unknown...), ", "))})
			continue
		}
		cols := []string{col}
		if x == finding.ExperienceEnhanced && !slices.Contains(pl.opts.Enable, finding.ExperienceBasic) && !orgFlag(org.Record, pl.opts.Columns.Basic) {
			cols = []string{pl.opts.Columns.Basic, col} // Enhanced builds on Basic
		}
		seen, write := map[string]any{}, map[string]any{}
		for _, c := range cols {
			seen[c], write[c] = false, true
		}
		pl.add(Action{Kind: KindUpdate, Rule: rule, Fix: fix,
			Target:      Target{Set: "organizations", ID: org.Record.OrganizationID, Name: pl.env.Name},
			Description: fmt.Sprintf("turn the %s collaboration experience on (organization.%s false → true)", x, strings.Join(cols, ", ")),
			ETag:        org.Record.ETag,
			Seen:        seen,
			Write:       write,
			Undo:        "turn it off again (" + strings.Join(cols, ", ") + " back to false)",
			Assumption:  fmt.Sprintf(experienceAssumption, flag, col, flag),
		})
		planned = true
	}
	return planned
}

func consentMissing(re finding.Environment) bool {
	for _, f := range re.Findings {
		if f.Rule == "TL-CONSENT-001" && f.Status != finding.StatusPass && f.Status != finding.StatusWaived {
			return true
		}
	}
	return false
}

// orgFlag reads a Boolean organization column of the snapshot's record.
func orgFlag(r *snapshot.OrganizationRecord, col string) bool {
	m := map[string]any{}
	b, _ := json.Marshal(r)
	_ = json.Unmarshal(b, &m)
	v, _ := m[col].(bool)
	return v
}

// evaluatePatched evaluates a copy of the tenant and environment with the
// actions' writes made on it.
func evaluatePatched(ctx context.Context, snap *snapshot.Snapshot, tenant *snapshot.Tenant, env *snapshot.Environment, actions []Action, opts *PlanOptions) (finding.Environment, error) {
	var e snapshot.Environment
	if err := deepCopy(env, &e); err != nil {
		return finding.Environment{}, err
	}
	for _, a := range actions {
		if err := patch(&e, a); err != nil {
			return finding.Environment{}, fmt.Errorf("what-if of action %s: %w", a.ID, err)
		}
	}
	one := &snapshot.Snapshot{SchemaVersion: snap.SchemaVersion, CollectedAt: snap.CollectedAt, Tool: snap.Tool,
		Tenants: []snapshot.Tenant{*tenant}, Environments: []snapshot.Environment{e}}
	rep, err := opts.Evaluate(ctx, one)
	if err != nil {
		return finding.Environment{}, fmt.Errorf("what-if: %w", err)
	}
	if len(rep.Environments) != 1 {
		return finding.Environment{}, fmt.Errorf("what-if: the evaluation gave %d environments, not 1", len(rep.Environments))
	}
	return rep.Environments[0], nil
}

func deepCopy(in, out any) error {
	b, err := json.Marshal(in)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, out)
}

// patch makes a's write on the snapshot's environment.
func patch(e *snapshot.Environment, a Action) error {
	switch {
	case a.Target.Set == "organizations":
		if e.Organization.Record == nil {
			return fmt.Errorf("no organization record")
		}
		m := map[string]any{}
		if err := deepCopy(e.Organization.Record, &m); err != nil {
			return err
		}
		for k, v := range a.Write {
			m[k] = v
		}
		var r snapshot.OrganizationRecord
		if err := deepCopy(m, &r); err != nil {
			return err
		}
		e.Organization.Record = &r
	case a.Target.Set == "sharepointsites":
		s := &e.SharePointSites
		s.Sample = slices.DeleteFunc(s.Sample, func(x snapshot.SharePointSite) bool { return strings.EqualFold(x.ID, a.Target.ID) })
		if s.DefaultSite != nil && strings.EqualFold(s.DefaultSite.ID, a.Target.ID) {
			s.DefaultSite = nil
		}
		if s.ActiveCount > 0 {
			s.ActiveCount--
		}
	case a.Target.Set == "sharepointdocumentlocations":
		l := &e.DocumentLocations
		l.Sample = slices.DeleteFunc(l.Sample, func(x snapshot.DocumentLocation) bool { return strings.EqualFold(x.ID, a.Target.ID) })
		if l.AbsoluteURLCount > 0 {
			l.AbsoluteURLCount--
		}
	case a.Kind == KindEntityDefinition || a.Kind == KindTeamsDocumentStatus:
		for i := range e.Entities.Tables {
			t := &e.Entities.Tables[i]
			if t.LogicalName != a.Target.LogicalName {
				continue
			}
			if v, ok := a.Write["IsDocumentManagementEnabled"].(bool); ok {
				t.IsDocumentManagementEnabled = v
			}
			if v, ok := a.Write["IsMSTeamsIntegrationEnabled"].(bool); ok {
				t.IsMSTeamsIntegrationEnabled = v
			}
		}
	}
	return nil
}
