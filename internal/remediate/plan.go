// Package remediate turns the failing findings that have an automated fix
// into a plan, applies it to Dataverse with a drift check, a journal and a
// verification per write, and rolls it back from that journal.
//
// A plan is data: every action names the record it touches, the values
// seen there (and the ETag), the values it will write and how it is undone.
// Nothing reaches a tenant without a plan: Apply re-reads each record
// before writing, stops when it drifted, appends the full record to the
// journal and fsyncs it before the write, writes with If-Match and re-reads
// to verify. Rollback undoes what the journal says was done, newest first,
// with the same checks. Both resume where an interrupted run stopped.
package remediate

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"time"
)

// PlanVersion names the plan contract; ReadPlan rejects any other.
const PlanVersion = "teamslink.plan/v1"

// Kind is what an action does to its record.
type Kind string

// The action kinds.
const (
	// KindUpdate PATCHes columns of an organizations or sharepointsites row.
	KindUpdate Kind = "update"
	// KindDelete deletes a sharepointdocumentlocations row; undo recreates
	// it with the same id from the backup the journal holds.
	KindDelete Kind = "delete"
	// KindEntityDefinition PUTs a table's full EntityDefinition back with
	// one flag changed (MSCRM.MergeLabels: true), then publishes the table.
	KindEntityDefinition Kind = "entity-definition"
	// KindTeamsDocumentStatus calls msdyn_SetTeamsDocumentStatus for one table.
	KindTeamsDocumentStatus Kind = "teams-document-status"
)

// Plan is what remediate plan writes and apply executes.
type Plan struct {
	SchemaVersion string    `json:"schemaVersion"`
	CreatedAt     time.Time `json:"createdAt"`
	Tool          string    `json:"tool"`
	// Source is what the plan was made from: "config tenants.yaml" (a live
	// read) or "snapshot FILE".
	Source string `json:"source"`
	// Hash is the SHA-256 of the plan's canonical JSON with Hash empty;
	// apply refuses a plan whose hash does not match.
	Hash string `json:"hash"`
	// Assessment is how the state was evaluated, so that the rescan after
	// apply or rollback evaluates it the same way.
	Assessment   Assessment        `json:"assessment"`
	Environments []EnvironmentPlan `json:"environments"`
}

// Assessment is what a plan's evaluation was asked for: the experience
// (empty: each environment's), the target tables (empty: the config's) and
// the profile.
type Assessment struct {
	Experience string   `json:"experience,omitempty"`
	Tables     []string `json:"tables,omitempty"`
	Profile    string   `json:"profile,omitempty"`
}

// EnvironmentPlan is the plan of one environment.
type EnvironmentPlan struct {
	Tenant     string `json:"tenant"`
	TenantName string `json:"tenantName,omitempty"`
	URL        string `json:"url"`
	Name       string `json:"name,omitempty"`
	// Actions run in order.
	Actions []Action `json:"actions"`
	// Refused are fixes teamslink will not make here, with why and what to
	// do instead (e.g. Enhanced without admin consent: the consent URL).
	Refused []Refusal `json:"refused,omitempty"`
	// Manual are the failing prerequisites no action fixes, with the steps.
	Manual []ManualStep `json:"manual,omitempty"`
	// Unread are the sections that could not be read: nothing is planned
	// for them.
	Unread []string `json:"unread,omitempty"`
	// Notes say what the plan could not cover, e.g. records beyond the
	// snapshot's sample.
	Notes  []string `json:"notes,omitempty"`
	WhatIf []WhatIf `json:"whatIf"`
}

// Action is one write to one record.
type Action struct {
	// ID is the action's place in the plan, "1", "2", …, unique in the plan.
	ID          string `json:"id"`
	Kind        Kind   `json:"kind"`
	Rule        string `json:"rule"`
	Fix         string `json:"fix"`
	Tenant      string `json:"tenant"`
	Environment string `json:"environment"`
	Target      Target `json:"target"`
	Description string `json:"description"`
	// ETag is the record's @odata.etag when planned; a different one at
	// apply time is drift. Table definitions have none.
	ETag string `json:"etag,omitempty"`
	// Seen are the columns the action changes, as planned from; Write the
	// values it writes (nil for a delete). Undo writes Seen back.
	Seen  map[string]any `json:"seen"`
	Write map[string]any `json:"write"`
	Undo  string         `json:"undo"`
	// Deletes is true for an action that removes a record.
	Deletes bool `json:"deletes,omitempty"`
	// Assumption names what the action relies on that Microsoft does not
	// document, when anything.
	Assumption string `json:"assumption,omitempty"`
}

// Target is the record an action touches: a row (Set and ID) or a table
// definition (Set "EntityDefinitions" and LogicalName).
type Target struct {
	Set         string `json:"set"`
	ID          string `json:"id,omitempty"`
	LogicalName string `json:"logicalName,omitempty"`
	Name        string `json:"name,omitempty"`
}

// String names the record for people: sharepointsites(…) "Sales".
func (t Target) String() string {
	s := t.Set
	switch {
	case t.ID != "":
		s += "(" + t.ID + ")"
	case t.LogicalName != "":
		s += "(LogicalName='" + t.LogicalName + "')"
	}
	if t.Name != "" {
		s += fmt.Sprintf(" %q", t.Name)
	}
	return s
}

// Refusal is a fix teamslink will not make.
type Refusal struct {
	Rule   string `json:"rule"`
	Fix    string `json:"fix"`
	Reason string `json:"reason"`
	// URL is what to open instead, e.g. the tenant's admin-consent URL.
	URL string `json:"url,omitempty"`
}

// ManualStep is a failing prerequisite that only a person can fix.
type ManualStep struct {
	Rule   string `json:"rule"`
	Title  string `json:"title"`
	Status string `json:"status"`
	Table  string `json:"table,omitempty"`
	Steps  string `json:"steps"`
	Docs   string `json:"docs,omitempty"`
}

// WhatIf is one experience's state before the plan and after it, from the
// snapshot patched with the planned writes and evaluated again.
type WhatIf struct {
	Experience string `json:"experience"`
	Before     string `json:"before"`
	After      string `json:"after"`
	// StillBlocking are the rules that keep After from READY or ENABLED.
	StillBlocking []string `json:"stillBlocking,omitempty"`
}

// Actions returns every action of the plan in order.
func (p *Plan) Actions() []Action {
	var out []Action
	for _, e := range p.Environments {
		out = append(out, e.Actions...)
	}
	return out
}

// Deletes counts the actions that remove a record.
func (p *Plan) Deletes() int {
	n := 0
	for _, a := range p.Actions() {
		if a.Deletes {
			n++
		}
	}
	return n
}

// Seal sets the plan's hash.
func (p *Plan) Seal() error {
	h, err := p.contentHash()
	if err != nil {
		return err
	}
	p.Hash = h
	return nil
}

func (p *Plan) contentHash() (string, error) {
	c := *p
	c.Hash = ""
	b, err := json.Marshal(&c)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:]), nil
}

// Verify checks the plan's contract version, its hash and that its action
// ids are unique.
func (p *Plan) Verify() error {
	if p.SchemaVersion != PlanVersion {
		return fmt.Errorf("schemaVersion %q is not %s", p.SchemaVersion, PlanVersion)
	}
	h, err := p.contentHash()
	if err != nil {
		return err
	}
	if p.Hash != h {
		return fmt.Errorf("the plan's hash %s does not match its content (%s): it was changed after it was made; make a new plan", p.Hash, h)
	}
	seen := map[string]bool{}
	for _, a := range p.Actions() {
		if seen[a.ID] {
			return fmt.Errorf("action id %q appears twice", a.ID)
		}
		seen[a.ID] = true
		if err := a.check(); err != nil {
			return fmt.Errorf("action %s: %w", a.ID, err)
		}
	}
	return nil
}

// check refuses an action whose kind and target do not fit.
func (a Action) check() error {
	switch a.Kind {
	case KindUpdate:
		if (a.Target.Set != "organizations" && a.Target.Set != "sharepointsites") || a.Target.ID == "" || len(a.Write) == 0 {
			return fmt.Errorf("an update needs an organizations or sharepointsites row and columns to write")
		}
		for k := range a.Write {
			if _, ok := a.Seen[k]; !ok {
				return fmt.Errorf("column %s is written but its value before is not in the plan", k)
			}
		}
	case KindDelete:
		if a.Target.Set != "sharepointdocumentlocations" || a.Target.ID == "" || !a.Deletes {
			return fmt.Errorf("a delete needs a sharepointdocumentlocations row and deletes: true")
		}
	case KindEntityDefinition, KindTeamsDocumentStatus:
		if a.Target.Set != "EntityDefinitions" || a.Target.LogicalName == "" || len(a.Write) != 1 {
			return fmt.Errorf("%s needs a table's LogicalName and one flag to write", a.Kind)
		}
	default:
		return fmt.Errorf("unknown kind %q", a.Kind)
	}
	if a.Deletes && a.Kind != KindDelete {
		return fmt.Errorf("only a delete deletes")
	}
	return nil
}

// WritePlan writes p as indented JSON.
func WritePlan(w io.Writer, p *Plan) error {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(p); err != nil {
		return err
	}
	_, err := w.Write(b.Bytes())
	return err
}

// ReadPlan reads and verifies a plan: its JSON Schema, its hash and its
// actions. name is the file, for errors.
func ReadPlan(r io.Reader, name string) (*Plan, error) {
	raw, err := io.ReadAll(io.LimitReader(r, maxPlanBytes+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if len(raw) > maxPlanBytes {
		return nil, fmt.Errorf("%s: larger than %d MiB: not a plan teamslink made", name, maxPlanBytes>>20)
	}
	if err := validatePlan(raw); err != nil {
		return nil, fmt.Errorf("%s: not a teamslink plan: %w", name, err)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	dec.UseNumber()
	var p Plan
	if err := dec.Decode(&p); err != nil {
		return nil, fmt.Errorf("%s: not a teamslink plan: %w", name, err)
	}
	normalizeNumbers(&p)
	if err := p.Verify(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return &p, nil
}

// normalizeNumbers turns the json.Numbers of Seen and Write into int64 or
// float64, as the planner made them, so that comparisons with records read
// later hold.
func normalizeNumbers(p *Plan) {
	for i := range p.Environments {
		for j := range p.Environments[i].Actions {
			a := &p.Environments[i].Actions[j]
			a.Seen = normalizeMap(a.Seen)
			a.Write = normalizeMap(a.Write)
		}
	}
}

func normalizeMap(m map[string]any) map[string]any {
	for k, v := range m {
		m[k] = normalize(v)
	}
	return m
}
