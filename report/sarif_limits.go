package report

import (
	"compress/gzip"
	"context"
	"fmt"
	"strings"

	"github.com/owenrumney/go-sarif/v3/pkg/report/v210/sarif"

	"github.com/teamslink/teamslink/internal/finding"
)

// sarifLimits are the bounds GitHub code scanning puts on one SARIF upload.
type sarifLimits struct {
	runs                int // runs per file
	results             int // results per run
	rules               int // rules per run
	extensions          int // tool extensions per run
	tags                int // tags per rule
	locations           int // locations per result
	threadFlowLocations int // thread-flow locations per result
	gzipBytes           int // the file, gzip-compressed
}

// githubSARIFLimits are GitHub's (its SARIF support page): a file beyond
// any of them is rejected, or loses data. For locations per result the
// page gives 1,000 in its table and "at most 10" among the required
// fields; the smaller is checked.
var githubSARIFLimits = sarifLimits{
	runs:                20,
	results:             25_000,
	rules:               25_000,
	extensions:          100,
	tags:                20,
	locations:           10,
	threadFlowLocations: 10_000,
	gzipBytes:           10_000_000,
}

// SARIFLimitError says that a SARIF file would exceed one of GitHub's
// limits, and what to do instead. The sarif writer returns it rather than
// write a file GitHub rejects.
type SARIFLimitError struct {
	// Limit names what is counted, e.g. "results per run".
	Limit string
	// Got is how many the file would have, Max how many GitHub takes.
	Got, Max int
	// Advice says how to stay within the limit.
	Advice string
}

func (e *SARIFLimitError) Error() string {
	return fmt.Sprintf("SARIF for GitHub code scanning: %d %s, over GitHub's limit of %d: %s", e.Got, e.Limit, e.Max, e.Advice)
}

// CheckSARIFLimits reports whether the SARIF of r, rendered with opts, is
// within GitHub's limits: at most 20 runs per file and none two with the
// same tool and category, 25,000 results and 25,000 rules per run, 100
// tool extensions, 20 tags per rule, 10 locations and 10,000 thread-flow
// locations per result, 10 MB gzip-compressed. A limit exceeded is a
// *SARIFLimitError; a report that cannot be rendered returns why.
func CheckSARIFLimits(r *finding.Report, opts SARIFOptions) error {
	if r == nil {
		return errNilReport
	}
	if err := precheckSARIF(r, githubSARIFLimits); err != nil {
		return err
	}
	doc, err := buildSARIF(context.Background(), r, opts)
	if err != nil {
		return err
	}
	_, err = checkedSARIF(doc, r, githubSARIFLimits)
	return err
}

// precheckSARIF counts the results the SARIF of r would hold before any is
// built, so a fleet far over the limit is refused at once.
func precheckSARIF(r *finding.Report, lim sarifLimits) error {
	n := len(r.SignInErrors)
	for _, e := range r.Environments {
		k := 0
		for _, f := range e.Findings {
			if sarifNeedsResult(f.Status) {
				k++
			}
		}
		if k == 0 && sarifUnsettled(e) {
			k = 1 // the TL-READINESS result
		}
		n += k
	}
	if n > lim.results {
		return &SARIFLimitError{Limit: "results per run", Got: n, Max: lim.results, Advice: sarifLimitAdvice(r)}
	}
	return nil
}

// checkedSARIF checks doc against lim, counting first and compressing only
// a file that could be too large, and returns it encoded.
func checkedSARIF(doc *sarif.Report, r *finding.Report, lim sarifLimits) ([]byte, error) {
	advice := sarifLimitAdvice(r)
	over := func(limit string, got, limitMax int) error {
		return &SARIFLimitError{Limit: limit, Got: got, Max: limitMax, Advice: advice}
	}
	if len(doc.Runs) > lim.runs {
		return nil, over("runs in one file", len(doc.Runs), lim.runs)
	}
	categories := map[string]int{}
	for _, run := range doc.Runs {
		key := sarifRunCategory(run)
		if categories[key]++; categories[key] > 1 {
			return nil, over("runs with the same tool and category in one file", categories[key], 1)
		}
		if len(run.Results) > lim.results {
			return nil, over("results per run", len(run.Results), lim.results)
		}
		if run.Tool != nil && run.Tool.Driver != nil {
			if len(run.Tool.Driver.Rules) > lim.rules {
				return nil, over("rules per run", len(run.Tool.Driver.Rules), lim.rules)
			}
			for _, rule := range run.Tool.Driver.Rules {
				if rule.Properties != nil && len(rule.Properties.Tags) > lim.tags {
					return nil, over("tags on rule "+*rule.ID, len(rule.Properties.Tags), lim.tags)
				}
			}
		}
		if run.Tool != nil && len(run.Tool.Extensions) > lim.extensions {
			return nil, over("tool extensions per run", len(run.Tool.Extensions), lim.extensions)
		}
		for _, res := range run.Results {
			if len(res.Locations) > lim.locations {
				return nil, over("locations on one result", len(res.Locations), lim.locations)
			}
			n := 0
			for _, cf := range res.CodeFlows {
				for _, tf := range cf.ThreadFlows {
					n += len(tf.Locations)
				}
			}
			if n > lim.threadFlowLocations {
				return nil, over("thread-flow locations on one result", n, lim.threadFlowLocations)
			}
		}
	}
	data, err := encodeSARIF(doc)
	if err != nil {
		return nil, err
	}
	// gzip adds at most a few bytes per 32 KiB stored block, so a file
	// this much under the bound is under it compressed too.
	if len(data) > lim.gzipBytes-lim.gzipBytes/100-1024 {
		size, err := gzipSize(data)
		if err != nil {
			return nil, err
		}
		if size > lim.gzipBytes {
			return nil, over("bytes gzip-compressed", size, lim.gzipBytes)
		}
	}
	return data, nil
}

// sarifRunCategory is the tool and category GitHub files a run under: the
// driver name and runAutomationDetails.id up to its last slash.
func sarifRunCategory(run *sarif.Run) string {
	tool := ""
	if run.Tool != nil && run.Tool.Driver != nil && run.Tool.Driver.Name != nil {
		tool = *run.Tool.Driver.Name
	}
	category := ""
	if run.AutomationDetails != nil && run.AutomationDetails.ID != nil {
		id := *run.AutomationDetails.ID
		if i := strings.LastIndex(id, "/"); i >= 0 {
			category = id[:i]
		}
	}
	return tool + "\x00" + category
}

// sarifLimitAdvice says how to shrink the SARIF of r: one file per tenant
// when it holds several, else a smaller scan.
func sarifLimitAdvice(r *finding.Report) string {
	if len(reportTenants(r)) > 1 {
		return "GitHub would reject the file; use --sarif-split tenant to write one file per tenant, each with its own category"
	}
	return "GitHub would reject the file; scan fewer environments or tables into one file (--config with fewer targets, --entities)"
}

// reportTenants are the tenant ids of r's environments and sign-in errors,
// lowercased, in the order first seen.
func reportTenants(r *finding.Report) []string {
	var ids []string
	seen := map[string]bool{}
	add := func(id string) {
		k := strings.ToLower(id)
		if !seen[k] {
			seen[k] = true
			ids = append(ids, k)
		}
	}
	for _, e := range r.Environments {
		add(e.Tenant)
	}
	for _, s := range r.SignInErrors {
		add(s.Tenant)
	}
	return ids
}

// gzipSize is the length of data gzip-compressed at the default level.
func gzipSize(data []byte) (int, error) {
	var n countingWriter
	zw := gzip.NewWriter(&n)
	if _, err := zw.Write(data); err != nil {
		return 0, fmt.Errorf("gzip: %w", err)
	}
	if err := zw.Close(); err != nil {
		return 0, fmt.Errorf("gzip: %w", err)
	}
	return int(n), nil
}

// countingWriter counts what is written to it and keeps nothing.
type countingWriter int64

func (c *countingWriter) Write(p []byte) (int, error) {
	*c += countingWriter(len(p))
	return len(p), nil
}
