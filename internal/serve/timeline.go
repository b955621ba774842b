package serve

import (
	"bytes"
	"cmp"
	"context"
	"html/template"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/teamslink/teamslink/internal/finding"
	"github.com/teamslink/teamslink/report"
)

// The page at / is the html report of the merged report with a section of
// serve's own before the end of its <main>: every target's last scan, and
// each environment's state over the scans kept, as runs of one state. The
// section uses only the report's stylesheet classes (state-*, badge, url,
// env-meta, notice) and no style attribute or script, so the page's
// Content-Security-Policy, which allows the report's own style and script
// blocks alone, holds as it is.
var sectionTemplate = template.Must(template.New("serve").Parse(`
<section id="serve" class="environments" aria-labelledby="serve-title">
<h2 id="serve-title">Scans and state over time</h2>
<p class="env-meta">teamslink serve scans each tenant {{.Schedule}}, {{.Concurrency}} at a time, and keeps its last {{.Retain}} scans.</p>
{{- if .Unscanned}}
<div class="notice" role="status"><p>{{len .Unscanned}} tenant(s) have no report yet, so the report above leaves them out: {{range $i, $n := .Unscanned}}{{if $i}}, {{end}}{{$n}}{{end}}.</p></div>
{{- end}}
<table class="scans">
<thead><tr><th scope="col">Tenant</th><th scope="col">Latest report</th><th scope="col">Last scan</th><th scope="col">Next scan</th></tr></thead>
<tbody>
{{- range .Targets}}
<tr><th scope="row">{{.Name}} <span class="id">{{.ID}}</span></th>
<td>{{if .ReportAt}}<time datetime="{{.ReportAttr}}">{{.ReportAt}}</time>{{else}}<span class="badge state-unknown">none yet</span>{{end}}</td>
<td>{{if .Running}}running{{else if .Error}}<span class="badge status-error">failed</span> {{.Error}}{{else if .Attempt}}ended with a report{{else}}not yet{{end}}</td>
<td>{{.Next}}</td></tr>
{{- end}}
</tbody>
</table>
{{- if .Rows}}
<h3>State over time</h3>
<p class="env-meta">Oldest scan first; each run of the same state is one box, with the number of scans in it.</p>
<table class="timeline">
<thead><tr><th scope="col">Tenant</th><th scope="col">Environment</th><th scope="col">Experience</th><th scope="col">States, oldest first</th></tr></thead>
<tbody>
{{- range .Rows}}
<tr><td>{{.Tenant}}</td><th scope="row">{{.Environment}}{{if ne .Environment .URL}} <span class="url">{{.URL}}</span>{{end}}</th><td>{{.Experience}}</td>
<td>{{range $i, $r := .Runs}}{{if $i}} → {{end}}<span class="badge state {{$r.Class}}" title="{{$r.Title}}">{{$r.Word}}{{if gt $r.Count 1}} ×{{$r.Count}}{{end}}</span>{{end}}</td></tr>
{{- end}}
</tbody>
</table>
{{- end}}
</section>
`))

// sectionData is what the section shows.
type sectionData struct {
	Schedule    string
	Concurrency int
	Retain      int
	Unscanned   []string
	Targets     []targetRow
	Rows        []timelineRow
}

type targetRow struct {
	Name, ID             string
	ReportAt, ReportAttr string
	Running              bool
	Error                string
	Attempt              bool
	Next                 string
}

type timelineRow struct {
	Tenant, Environment, URL, Experience string
	Runs                                 []run
}

// run is consecutive scans with one state.
type run struct {
	Class, Word, From, To string
	Count                 int
	state                 string
}

// Title says when the run's scans were and what they found.
func (r run) Title() string {
	if r.Count == 1 {
		return r.From + ": " + r.Word
	}
	return r.From + " to " + r.To + ": " + r.Word + " (" + strconv.Itoa(r.Count) + " scans)"
}

// renderPage writes the page of v to w.
func (s *Service) renderPage(w io.Writer, v *view) error {
	var page bytes.Buffer
	if len(v.reports) > 0 {
		merged, err := v.mergedReport()
		if err != nil {
			return err
		}
		hw, err := report.New("html", &page, report.Options{Now: s.opts.Now})
		if err != nil {
			return err
		}
		if err := hw.Write(context.Background(), merged); err != nil {
			return err
		}
	} else {
		page.WriteString(emptyPage)
	}
	var section bytes.Buffer
	if err := sectionTemplate.Execute(&section, s.sectionOf(v)); err != nil {
		return err
	}
	html := page.Bytes()
	at := bytes.LastIndex(html, []byte("</main>"))
	if at < 0 {
		at = len(html)
	}
	for _, part := range [][]byte{html[:at], section.Bytes(), html[at:]} {
		if _, err := w.Write(part); err != nil {
			return err
		}
	}
	return nil
}

// emptyPage stands for the report before any scan ended: it says so, and
// shows no state at all rather than an empty, clean-looking matrix.
const emptyPage = `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src data:; base-uri 'none'; form-action 'none'">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>teamslink serve: no report yet</title>
<link rel="icon" href="data:,">
</head>
<body>
<main>
<h1>Teams record linking readiness</h1>
<p>No report yet: no scan has ended. This page shows the fleet once the first scans end.</p>
</main>
</body>
</html>
`

// sectionOf builds the section's data from v.
func (s *Service) sectionOf(v *view) sectionData {
	now := s.opts.Now()
	d := sectionData{Schedule: s.sched.String(), Concurrency: s.conc, Retain: s.retain, Unscanned: v.unscanned()}
	for _, t := range v.targets {
		row := targetRow{Name: cmp.Or(t.Name, t.ID), ID: t.ID, Running: t.running, Error: t.lastErr, Attempt: !t.lastAttempt.IsZero()}
		if !t.reportAt.IsZero() {
			row.ReportAt = stamp(t.reportAt) + " (" + age(now.Sub(t.reportAt)) + " ago)"
			row.ReportAttr = t.reportAt.UTC().Format(time.RFC3339)
		}
		switch {
		case t.running:
			row.Next = "after the running scan"
		case t.next.IsZero():
			row.Next = "-"
		case !t.next.After(now):
			row.Next = "due now"
		default:
			row.Next = "in " + age(t.next.Sub(now))
		}
		d.Targets = append(d.Targets, row)
		if t.report != nil {
			d.Rows = append(d.Rows, timelineRows(t)...)
		}
	}
	return d
}

// timelineRows are the rows of the environments of t's latest report.
func timelineRows(t targetView) []timelineRow {
	envs := slices.Clone(t.report.Environments)
	slices.SortFunc(envs, func(a, b finding.Environment) int {
		return strings.Compare(strings.ToLower(a.URL), strings.ToLower(b.URL))
	})
	var rows []timelineRow
	for _, e := range envs {
		for _, x := range finding.Experiences {
			if e.Verdict(x).Readiness == finding.NotAssessed {
				continue
			}
			row := timelineRow{Tenant: cmp.Or(t.Name, t.ID), Environment: cmp.Or(e.Name, e.URL), URL: e.URL, Experience: string(x)}
			for _, p := range t.timeline {
				row.Runs = appendRun(row.Runs, p, e.URL, x)
			}
			if len(row.Runs) > 0 {
				rows = append(rows, row)
			}
		}
	}
	return rows
}

// appendRun adds the state of url's experience x at p to runs.
func appendRun(runs []run, p point, url string, x finding.Experience) []run {
	state, class, word := "absent", "state-not-assessed", "not scanned"
	for _, e := range p.Environments {
		if strings.EqualFold(e.URL, url) {
			if r, ok := e.States[x]; ok {
				state, class, word = string(r), "state-"+strings.ToLower(strings.ReplaceAll(string(r), "_", "-")), string(r)
			} else {
				state, class, word = "not-assessed", "state-not-assessed", "not assessed"
			}
			break
		}
	}
	if state == "absent" && p.SignInFailed {
		state, class, word = "signin", "state-unknown", "sign-in failed"
	}
	at := stamp(p.At)
	if n := len(runs); n > 0 && runs[n-1].state == state {
		runs[n-1].Count++
		runs[n-1].To = at
		return runs
	}
	return append(runs, run{Class: class, Word: word, From: at, To: at, Count: 1, state: state})
}

// stamp is a time as the page shows it, in UTC.
func stamp(t time.Time) string { return t.UTC().Format("2006-01-02 15:04 UTC") }

// age is a duration to the minute, or in seconds below one.
func age(d time.Duration) string {
	switch {
	case d < time.Minute:
		return strconv.Itoa(int(d.Seconds())) + " s"
	case d < time.Hour:
		return strconv.Itoa(int(d.Minutes())) + " min"
	case d < 48*time.Hour:
		return strconv.FormatFloat(d.Hours(), 'f', 1, 64) + " h"
	}
	return strconv.Itoa(int(d.Hours()/24)) + " days"
}
