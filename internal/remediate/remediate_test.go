package remediate_test

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/url"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/teamslink/teamslink/internal/config"
	"github.com/teamslink/teamslink/internal/emulator"
	"github.com/teamslink/teamslink/internal/emulator/emulatortest"
	"github.com/teamslink/teamslink/internal/engine"
	"github.com/teamslink/teamslink/internal/finding"
	"github.com/teamslink/teamslink/internal/odata"
	"github.com/teamslink/teamslink/internal/permissions"
	"github.com/teamslink/teamslink/internal/remediate"
	"github.com/teamslink/teamslink/internal/scan"
	"github.com/teamslink/teamslink/internal/snapshot"
)

const (
	secretEnv = "TEAMSLINK_EMULATOR_SECRET"
	salesURL  = "https://fabrikam.crm4.dynamics.com"
)

var fixedNow = time.Date(2026, 11, 2, 9, 15, 0, 0, time.UTC)

// tenantFixture is an emulator serving sample scenarios and a config that
// scans and writes through it.
type tenantFixture struct {
	srv  *emulator.Server
	cfg  *config.Config
	opts scan.Options
	eng  *engine.Engine
	dv   *scan.Dataverse
}

func start(t *testing.T, mutate func(*emulator.Scenario), names ...string) *tenantFixture {
	t.Helper()
	all, err := emulator.LoadScenarios(filepath.Join("..", "..", "testdata", "scenarios"))
	if err != nil {
		t.Fatal(err)
	}
	var scenarios []*emulator.Scenario
	for _, s := range all {
		if slices.Contains(names, s.Name) {
			if mutate != nil {
				mutate(s)
			}
			scenarios = append(scenarios, s)
		}
	}
	if len(scenarios) != len(names) {
		t.Fatalf("found %d of the scenarios %v", len(scenarios), names)
	}
	srv := emulatortest.Start(t, time.Now, scenarios...)
	cfg := &config.Config{}
	for _, sc := range scenarios {
		tn := config.Tenant{
			ID: sc.Tenant.ID, Name: sc.Tenant.Name,
			Auth:      config.Auth{Method: config.MethodClientSecret, ClientID: sc.Clients[0].ClientID, SecretEnv: secretEnv},
			Endpoints: config.Endpoints{ConnectTo: srv.Addr(), CAFile: srv.CAFile()},
		}
		if sc.SharePoint != nil {
			tn.SharePointAdminURL = sc.SharePoint.AdminURL
		}
		for _, e := range sc.Environments {
			tn.Environments = append(tn.Environments, config.Environment{URL: e.URL, Tables: []string{"account", "incident"}})
		}
		cfg.Tenants = append(cfg.Tenants, tn)
	}
	cfg.ApplyDefaults()
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	secret := scenarios[0].Clients[0].Secret
	opts := scan.Options{
		Now:       func() time.Time { return fixedNow },
		Version:   "test",
		LookupEnv: func(name string) (string, bool) { return secret, name == secretEnv },
	}
	eng, err := engine.New(context.Background(), engine.Config{})
	if err != nil {
		t.Fatal(err)
	}
	f := &tenantFixture{srv: srv, cfg: cfg, opts: opts, eng: eng, dv: scan.NewDataverse(cfg, opts)}
	t.Cleanup(f.dv.Close)
	return f
}

func (f *tenantFixture) scan(t *testing.T) *scan.Result {
	t.Helper()
	res, err := scan.Run(context.Background(), f.cfg, f.eng, f.opts)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func (f *tenantFixture) plan(t *testing.T, res *scan.Result, edit func(*remediate.PlanOptions)) *remediate.Plan {
	t.Helper()
	po := remediate.PlanOptions{
		Now: f.opts.Now, Tool: "teamslink test", Source: "config test",
		Live: f.dv.Client,
		Evaluate: func(ctx context.Context, s *snapshot.Snapshot) (*finding.Report, error) {
			return scan.Evaluate(ctx, f.eng, s, nil, nil, f.opts)
		},
	}
	if edit != nil {
		edit(&po)
	}
	p, err := remediate.Build(context.Background(), res.Snapshot, res.Report, po)
	if err != nil {
		t.Fatal(err)
	}
	// Every plan the tests make goes through its file form: the schema,
	// the hash and the checks of ReadPlan.
	var b bytes.Buffer
	if err := remediate.WritePlan(&b, p); err != nil {
		t.Fatal(err)
	}
	back, err := remediate.ReadPlan(&b, "plan.json")
	if err != nil {
		t.Fatalf("the plan does not read back: %v", err)
	}
	return back
}

func (f *tenantFixture) runner(out *bytes.Buffer) *remediate.Runner {
	return &remediate.Runner{Clients: f.dv.Client, Out: out}
}

func newJournal(t *testing.T, p *remediate.Plan) *remediate.Journal {
	t.Helper()
	j, err := remediate.CreateJournal(filepath.Join(t.TempDir(), "plan.journal"), p, func() time.Time { return fixedNow })
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = j.Close() })
	return j
}

func reopen(t *testing.T, j *remediate.Journal) *remediate.Journal {
	t.Helper()
	_ = j.Close()
	j2, err := remediate.OpenJournal(j.Path(), func() time.Time { return fixedNow })
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = j2.Close() })
	return j2
}

func readiness(rep *finding.Report, url string) map[finding.Experience]finding.Readiness {
	out := map[finding.Experience]finding.Readiness{}
	for _, e := range rep.Environments {
		if e.URL == url {
			for _, v := range e.Verdicts {
				out[v.Experience] = v.Readiness
			}
		}
	}
	return out
}

var (
	etagRE      = regexp.MustCompile(`"@odata\.etag": "(?:[^"\\]|\\.)*"`)
	collectedRE = regexp.MustCompile(`"collectedAt": "[^"]*"`)
)

// normalizedSnapshot renders a snapshot with what a write changes by itself
// blanked: times, ETags (row versions) and the order of the sampled rows.
func normalizedSnapshot(t *testing.T, s *snapshot.Snapshot) string {
	t.Helper()
	c := *s
	c.Tool = ""
	c.Environments = slices.Clone(s.Environments)
	for i := range c.Environments {
		e := &c.Environments[i]
		e.SharePointSites.Sample = slices.Clone(e.SharePointSites.Sample)
		slices.SortFunc(e.SharePointSites.Sample, func(a, b snapshot.SharePointSite) int { return strings.Compare(a.ID, b.ID) })
		e.DocumentLocations.Sample = slices.Clone(e.DocumentLocations.Sample)
		slices.SortFunc(e.DocumentLocations.Sample, func(a, b snapshot.DocumentLocation) int { return strings.Compare(a.ID, b.ID) })
	}
	var b bytes.Buffer
	if err := snapshot.Write(&b, &c); err != nil {
		t.Fatal(err)
	}
	return etagRE.ReplaceAllString(collectedRE.ReplaceAllString(b.String(), `"collectedAt": "-"`), `"@odata.etag": "-"`)
}

// writes counts the emulator's write requests to paths matching re.
func writes(srv *emulator.Server, re string) int {
	rx := regexp.MustCompile(re)
	n := 0
	for _, r := range srv.Requests() {
		if r.Method != "GET" && rx.MatchString(r.Path) {
			n++
		}
	}
	return n
}

// TestEndToEnd is the whole round trip on the 800503ca trio plus a target
// table without document management: plan (what-if READY), apply, rescan
// READY, rollback, and a rescan equal to the first snapshot.
func TestEndToEnd(t *testing.T) {
	f := start(t, nil, "sp-800503ca-all")
	first := f.scan(t)
	if got := readiness(first.Report, salesURL); got[finding.ExperienceBasic] != finding.Blocked {
		t.Fatalf("before: %v, want BLOCKED", got)
	}
	p := f.plan(t, first, nil)
	kinds := map[remediate.Kind]int{}
	for _, a := range p.Actions() {
		kinds[a.Kind]++
	}
	want := map[remediate.Kind]int{remediate.KindUpdate: 3, remediate.KindDelete: 3, remediate.KindEntityDefinition: 2}
	if !equalMaps(kinds, want) {
		t.Fatalf("actions by kind %v, want %v", kinds, want)
	}
	for _, e := range p.Environments {
		for _, w := range e.WhatIf {
			if w.After != string(finding.Ready) {
				t.Errorf("%s %s what-if %s → %s (%v), want READY", e.URL, w.Experience, w.Before, w.After, w.StillBlocking)
			}
		}
	}

	var out bytes.Buffer
	j := newJournal(t, p)
	sent := len(f.srv.Requests())
	if err := f.runner(&out).Apply(context.Background(), j); err != nil {
		t.Fatalf("apply: %v\n%s", err, out.String())
	}
	t.Logf("apply: %d actions, %d requests", len(p.Actions()), len(f.srv.Requests())-sent)
	after := f.scan(t)
	for _, e := range p.Environments {
		for x, r := range readiness(after.Report, e.URL) {
			if r != finding.Ready {
				t.Errorf("after apply %s %s: %s, want READY", e.URL, x, r)
			}
		}
	}

	sent = len(f.srv.Requests())
	if err := f.runner(&out).Rollback(context.Background(), reopen(t, j)); err != nil {
		t.Fatalf("rollback: %v\n%s", err, out.String())
	}
	t.Logf("rollback: %d requests", len(f.srv.Requests())-sent)
	back := f.scan(t)
	if a, b := normalizedSnapshot(t, first.Snapshot), normalizedSnapshot(t, back.Snapshot); a != b {
		t.Errorf("the rescan after rollback differs from the first snapshot:\n%s", firstDiff(a, b))
	}
	// Each record was written once by apply and once by rollback.
	if n := writes(f.srv, `^/api/data/v9\.2/sharepointdocumentlocations\(`); n != 3 {
		t.Errorf("%d deletes of document locations, want 3", n)
	}
	if n := writes(f.srv, `^/api/data/v9\.2/sharepointdocumentlocations$`); n != 3 {
		t.Errorf("%d recreations of document locations, want 3", n)
	}
	checkPermissionRows(t, f.srv, "remediate.readRecord", "remediate.readDefinition", "remediate.disableOneDrive", "remediate.deactivateSite",
		"remediate.deleteLocation", "remediate.recreateLocation", "remediate.enableDocumentManagement", "remediate.publish")
}

// checkPermissionRows fails for a Dataverse request of the run that no row
// of the permissions table (remediate mode) covers,
// and for a row of mustMake that none matched.
func checkPermissionRows(t *testing.T, srv *emulator.Server, mustMake ...string) {
	t.Helper()
	made := map[string]bool{}
	var check func(r emulator.LoggedRequest)
	check = func(r emulator.LoggedRequest) {
		path, ok := strings.CutPrefix(r.Path, "/api/data/v9.2/")
		if !ok || !strings.HasSuffix(r.Host, ".dynamics.com") {
			return
		}
		if path == "$batch" {
			for _, c := range r.Children {
				check(c)
			}
			return
		}
		row, ok := permissions.Match(permissions.Dataverse, r.Method, path)
		if !ok || !row.In(permissions.ModeRemediate) {
			t.Errorf("%s %s: no remediate row of the permissions table covers it", r.Method, path)
		}
		made[row.ID] = true
	}
	for _, r := range srv.Requests() {
		check(r)
	}
	for _, id := range mustMake {
		if !made[id] {
			t.Errorf("row %s: the run made no request that matches it", id)
		}
	}
}

func equalMaps[K comparable, V comparable](a, b map[K]V) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

func firstDiff(a, b string) string {
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	for i := range min(len(al), len(bl)) {
		if al[i] != bl[i] {
			lo := max(0, i-3)
			return "line " + strconv.Itoa(i+1) + ":\n- " + strings.Join(al[lo:min(len(al), i+3)], "\n- ") + "\n+ " + strings.Join(bl[lo:min(len(bl), i+3)], "\n+ ")
		}
	}
	return "lengths differ"
}

// TestDroppedAnswerResumesWithoutRewriting: the connection dies after the
// third write went through, before its answer. Apply stops with the journal
// holding that action's backup; resume sees the write held, marks it done
// without sending it again, and finishes the rest.
func TestDroppedAnswerResumesWithoutRewriting(t *testing.T) {
	f := start(t, func(s *emulator.Scenario) {
		s.Faults = append(s.Faults, emulator.Fault{Name: "kill-after-3-writes", Kind: emulator.FaultDropResponse,
			Match: emulator.FaultMatch{Method: "WRITE", Path: `sharepoint`}, Skip: 2, Times: 1})
	}, "sp-800503ca-all")
	p := f.plan(t, f.scan(t), func(o *remediate.PlanOptions) { o.Environments = []string{salesURL} })
	var out bytes.Buffer
	j := newJournal(t, p)
	err := f.runner(&out).Apply(context.Background(), j)
	var stop *remediate.StopError
	if !errors.As(err, &stop) {
		t.Fatalf("apply: %v, want a StopError", err)
	}
	if !strings.Contains(err.Error(), "journal") || !strings.Contains(err.Error(), "--resume") {
		t.Errorf("the error does not say how to go on: %v", err)
	}
	stoppedAt := stop.Action.ID
	before := writes(f.srv, `sharepoint`)

	out.Reset()
	if err := f.runner(&out).Apply(context.Background(), reopen(t, j)); err != nil {
		t.Fatalf("resume: %v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), stoppedAt+" ") || !strings.Contains(out.String(), "written by the interrupted run") {
		t.Errorf("resume did not verify action %s as written:\n%s", stoppedAt, out.String())
	}
	// Every SharePoint write of the plan was sent exactly once.
	planned := 0
	for _, a := range p.Actions() {
		if strings.HasPrefix(a.Target.Set, "sharepoint") {
			planned++
		}
	}
	if got := writes(f.srv, `sharepoint`); got != planned {
		t.Errorf("%d SharePoint writes in all (%d before resuming), want %d: one per action", got, before, planned)
	}
	if r := readiness(f.scan(t).Report, salesURL); r[finding.ExperienceBasic] != finding.Ready {
		t.Errorf("after resume: %v, want READY", r)
	}
}

// TestRollbackAfterInterruptedApply undoes a run that stopped half-way:
// every record it touched is restored, the rest never was touched.
func TestRollbackAfterInterruptedApply(t *testing.T) {
	f := start(t, func(s *emulator.Scenario) {
		s.Faults = append(s.Faults, emulator.Fault{Kind: emulator.FaultDropResponse,
			Match: emulator.FaultMatch{Method: "DELETE,PATCH"}, Skip: 3, Times: 1})
	}, "sp-800503ca-all")
	first := f.scan(t)
	p := f.plan(t, first, func(o *remediate.PlanOptions) { o.Environments = []string{salesURL} })
	var out bytes.Buffer
	j := newJournal(t, p)
	if err := f.runner(&out).Apply(context.Background(), j); err == nil {
		t.Fatal("apply went through a killed connection")
	}
	if err := f.runner(&out).Rollback(context.Background(), reopen(t, j)); err != nil {
		t.Fatalf("rollback: %v\n%s", err, out.String())
	}
	if a, b := normalizedSnapshot(t, first.Snapshot), normalizedSnapshot(t, f.scan(t).Snapshot); a != b {
		t.Errorf("after rollback:\n%s", firstDiff(a, b))
	}
}

// TestDriftStopsBeforeTheWrite changes a planned record between plan and
// apply: the run stops at it, before writing it, with what came before done.
func TestDriftStopsBeforeTheWrite(t *testing.T) {
	f := start(t, nil, "sp-800503ca-all")
	p := f.plan(t, f.scan(t), func(o *remediate.PlanOptions) {
		o.Environments = []string{salesURL}
		o.Only = []string{"TL-SP-001", "TL-SP-002"}
	})
	// Someone renames the second site after the plan was made.
	site := p.Actions()[2]
	c, err := f.dv.Client(site.Tenant, site.Environment)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Do(context.Background(), patchRequest(site.Target.Set+"("+site.Target.ID+")", `{"name":"Renamed"}`)); err != nil {
		t.Fatal(err)
	}
	writesBefore := writes(f.srv, `sharepointsites`)
	var out bytes.Buffer
	j := newJournal(t, p)
	err = f.runner(&out).Apply(context.Background(), j)
	var stop *remediate.StopError
	if !errors.As(err, &stop) || stop.Action.ID != site.ID || !strings.Contains(err.Error(), "drifted") || stop.Done != 2 {
		t.Fatalf("apply: %v, want a drift stop at action %s after 2 done", err, site.ID)
	}
	if n := writes(f.srv, `sharepointsites`) - writesBefore; n != 1 {
		t.Errorf("%d site writes, want 1 (the first site only)", n)
	}
	last := j.Entries()[len(j.Entries())-1]
	if last.Op != remediate.OpFailed || last.Action != site.ID {
		t.Errorf("the journal ends with %s %s, want failed %s", last.Op, last.Action, site.ID)
	}
}

// TestForbiddenStopsWithAConsistentJournal: a 403 on the first delete stops
// the run; the journal has its backup and the failure, nothing after it.
func TestForbiddenStopsWithAConsistentJournal(t *testing.T) {
	f := start(t, func(s *emulator.Scenario) {
		s.Faults = append(s.Faults, emulator.Fault{Kind: emulator.FaultStatus, Status: 403,
			Match: emulator.FaultMatch{Method: "DELETE"}})
	}, "sp-800503ca-all")
	p := f.plan(t, f.scan(t), func(o *remediate.PlanOptions) { o.Environments = []string{salesURL} })
	var out bytes.Buffer
	j := newJournal(t, p)
	err := f.runner(&out).Apply(context.Background(), j)
	var stop *remediate.StopError
	if !errors.As(err, &stop) || stop.Action.Kind != remediate.KindDelete || !strings.Contains(err.Error(), "403") {
		t.Fatalf("apply: %v, want a 403 stop at the first delete", err)
	}
	var ops []string
	for _, e := range j.Entries() {
		if e.Action == stop.Action.ID {
			ops = append(ops, string(e.Op))
		}
	}
	if !slices.Equal(ops, []string{"backup", "failed"}) {
		t.Errorf("the journal holds %v for the refused action, want [backup failed]", ops)
	}
	if j.Entries()[len(j.Entries())-1].Action != stop.Action.ID {
		t.Error("the journal goes on after the refused action")
	}
}

// TestEnhancedWithoutConsentIsRefused: --enable enhanced on a tenant whose
// collaboration app has no admin consent plans no write for it and gives
// the tenant's admin-consent URL.
func TestEnhancedWithoutConsentIsRefused(t *testing.T) {
	f := start(t, nil, "consent-missing")
	p := f.plan(t, f.scan(t), func(o *remediate.PlanOptions) { o.Enable = []finding.Experience{finding.ExperienceEnhanced} })
	for _, a := range p.Actions() {
		if a.Fix == remediate.FixEnableEnhanced {
			t.Errorf("planned %s despite missing consent", a.Description)
		}
	}
	found := false
	for _, e := range p.Environments {
		for _, r := range e.Refused {
			if r.Fix == remediate.FixEnableEnhanced || r.Fix == remediate.FixAdminConsentURL {
				found = found || strings.Contains(r.URL, "/"+e.Tenant+"/v2.0/adminconsent?client_id="+remediate.CollaborationAppID)
			}
		}
	}
	if !found {
		t.Errorf("no refusal with the admin-consent URL: %+v", p.Environments)
	}
}

// TestEnableBasicWhenReady: --enable basic on a READY environment plans
// the toggle with its assumption, and the what-if says ENABLED.
func TestEnableBasicWhenReady(t *testing.T) {
	f := start(t, nil, "ready")
	p := f.plan(t, f.scan(t), func(o *remediate.PlanOptions) { o.Enable = []finding.Experience{finding.ExperienceBasic} })
	var enable *remediate.Action
	for _, a := range p.Actions() {
		if a.Fix == remediate.FixEnableBasic {
			enable = &a
		}
	}
	if enable == nil || !strings.Contains(enable.Assumption, "INFERENCE") {
		t.Fatalf("no enable-basic action naming its assumption: %+v", p.Actions())
	}
	for _, w := range p.Environments[0].WhatIf {
		if w.Experience == "basic" && w.After != string(finding.Enabled) {
			t.Errorf("what-if basic %s → %s, want ENABLED", w.Before, w.After)
		}
	}
}

// TestNothingPlannedForUnreadSections: a section that could not be read
// gets no action, and the plan says so; readable ones still get theirs.
func TestNothingPlannedForUnreadSections(t *testing.T) {
	f := start(t, nil, "sections-errored")
	res := f.scan(t)
	p := f.plan(t, res, nil)
	section := func(e *snapshot.Environment, set string) snapshot.Section {
		switch set {
		case "organizations":
			return e.Organization.Section
		case "sharepointsites":
			return e.SharePointSites.Section
		case "sharepointdocumentlocations":
			return e.DocumentLocations.Section
		}
		return e.Entities.Section
	}
	errored := 0
	for i := range res.Snapshot.Environments {
		e := &res.Snapshot.Environments[i]
		for _, set := range []string{"organizations", "sharepointsites", "sharepointdocumentlocations", "EntityDefinitions"} {
			if !section(e, set).OK() {
				errored++
			}
		}
		for _, a := range p.Actions() {
			if a.Environment == e.URL && !section(e, a.Target.Set).OK() {
				t.Errorf("action %s planned over the unreadable %s of %s", a.ID, a.Target.Set, e.URL)
			}
		}
	}
	if errored == 0 {
		t.Fatal("the scenario has no unreadable section")
	}
	unread := 0
	for _, e := range p.Environments {
		unread += len(e.Unread)
	}
	if unread == 0 {
		t.Error("the plan does not say what could not be read")
	}
}

func patchRequest(path, body string) *odata.Request {
	return &odata.Request{Method: "PATCH", Path: path, Body: []byte(body)}
}

// TestTeamsDocumentStatus sets, and rolls back, the Teams document status
// of a custom table through msdyn_SetTeamsDocumentStatus, together with its
// document management.
func TestTeamsDocumentStatus(t *testing.T) {
	f := start(t, nil, "custom-table-no-docmgmt")
	for i := range f.cfg.Tenants[0].Environments {
		f.cfg.Tenants[0].Environments[i].Tables = []string{"new_project"}
	}
	first := f.scan(t)
	p := f.plan(t, first, nil)
	var fixes []string
	for _, a := range p.Actions() {
		fixes = append(fixes, a.Fix+" "+a.Target.LogicalName)
	}
	if !slices.Contains(fixes, "set-teams-document-status new_project") || !slices.Contains(fixes, "enable-document-management new_project") {
		t.Fatalf("planned %v, want both table fixes of new_project", fixes)
	}
	var out bytes.Buffer
	j := newJournal(t, p)
	if err := f.runner(&out).Apply(context.Background(), j); err != nil {
		t.Fatalf("apply: %v\n%s", err, out.String())
	}
	tbl, _ := f.scan(t).Snapshot.Environments[0].Entities.Table("new_project")
	if !tbl.IsMSTeamsIntegrationEnabled || !tbl.IsDocumentManagementEnabled {
		t.Errorf("after apply new_project is %+v", tbl)
	}
	if err := f.runner(&out).Rollback(context.Background(), reopen(t, j)); err != nil {
		t.Fatalf("rollback: %v\n%s", err, out.String())
	}
	if a, b := normalizedSnapshot(t, first.Snapshot), normalizedSnapshot(t, f.scan(t).Snapshot); a != b {
		t.Errorf("after rollback:\n%s", firstDiff(a, b))
	}
	checkPermissionRows(t, f.srv, "remediate.findAction", "remediate.setTeamsDocumentStatus", "remediate.readDefinition")
}

// TestTeamsDocumentStatusWithoutTheAction: an environment without the
// action's solution gets a refusal, not a write that would fail.
func TestTeamsDocumentStatusWithoutTheAction(t *testing.T) {
	no := false
	f := start(t, func(s *emulator.Scenario) {
		for i := range s.Environments {
			s.Environments[i].TeamsDocumentStatusAction = &no
		}
	}, "custom-table-no-docmgmt")
	for i := range f.cfg.Tenants[0].Environments {
		f.cfg.Tenants[0].Environments[i].Tables = []string{"new_project"}
	}
	p := f.plan(t, f.scan(t), nil)
	for _, a := range p.Actions() {
		if a.Fix == remediate.FixSetTeamsDocumentStatus {
			t.Errorf("planned %s without the action", a.Description)
		}
	}
	if r := p.Environments[0].Refused; len(r) == 0 || !strings.Contains(r[0].Reason, "msdyn_SetTeamsDocumentStatus") {
		t.Errorf("refusals %+v, want one naming the missing action", r)
	}
}

// meddler is a transport that, just before the first PATCH of a path
// containing target goes out, lets someone else change that record: the
// window between apply's re-read and its write.
type meddler struct {
	base   http.RoundTripper
	target string
	meddle func()
	once   sync.Once
}

func (m *meddler) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Method == http.MethodPatch && strings.Contains(r.URL.Path, m.target) {
		m.once.Do(m.meddle)
	}
	return m.base.RoundTrip(r)
}

// TestIfMatchRefusesAChangeAfterTheReRead: a record changed between the
// re-read and the write is not overwritten: the write carries If-Match,
// the service answers 412, and the run stops there.
func TestIfMatchRefusesAChangeAfterTheReRead(t *testing.T) {
	sc := emulatortest.Scenario(t, "sp-active-sites")
	f := start(t, nil, "sp-active-sites")
	p := f.plan(t, f.scan(t), func(o *remediate.PlanOptions) { o.Only = []string{"TL-SP-002"} })
	site := p.Actions()[0]
	cred := emulatortest.Credential(t, f.srv, sc)
	newClient := func(rt http.RoundTripper) *odata.Client {
		base, _ := url.Parse(site.Environment + "/api/data/v9.2/")
		c, err := odata.New(base, cred, odata.Options{Scopes: []string{site.Environment + "/.default"}, Flavor: odata.Dataverse,
			HTTPClient: &http.Client{Transport: rt}, Now: time.Now})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	other := newClient(f.srv.Client().Transport)
	m := &meddler{base: f.srv.Client().Transport, target: site.Target.ID, meddle: func() {
		if _, err := other.Do(context.Background(), patchRequest(site.Target.Set+"("+site.Target.ID+")", `{"name":"Renamed meanwhile"}`)); err != nil {
			t.Error(err)
		}
	}}
	meddled := newClient(m)
	runner := &remediate.Runner{Clients: func(string, string) (*odata.Client, error) { return meddled, nil }}
	err := runner.Apply(context.Background(), newJournal(t, p))
	var stop *remediate.StopError
	if !errors.As(err, &stop) || stop.Action.ID != site.ID || !strings.Contains(err.Error(), "412") {
		t.Fatalf("apply: %v, want a 412 stop at action %s", err, site.ID)
	}
	after := f.scan(t).Snapshot.Environments[0].SharePointSites
	for _, s := range after.Sample {
		if s.ID == site.Target.ID && (s.StateCode != 0 || s.Name != "Renamed meanwhile") {
			t.Errorf("the site is %+v: the change made meanwhile was overwritten", s)
		}
	}
}
