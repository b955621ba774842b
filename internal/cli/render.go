package cli

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/teamslink/teamslink/report"
)

// renderOptions are the flags that shape reports, shared by every command
// that writes one (eval, scan, report render).
type renderOptions struct {
	sarifRoot     string
	sarifAnchor   string
	sarifCategory string
	sarifSplit    string
	redact        redactOptions
}

func (o *renderOptions) register(cmd *cobra.Command) {
	o.redact.register(cmd)
	f := cmd.Flags()
	f.StringVar(&o.sarifRoot, "sarif-root", "", "repository root SARIF paths are relative to (default: the git top level of the working directory)")
	f.StringVar(&o.sarifAnchor, "sarif-anchor", "", "`FILE` SARIF results point at when tenants.yaml does not declare the environment (default: the config or snapshot file)")
	f.StringVar(&o.sarifCategory, "sarif-category", "teamslink", "code scanning category of the SARIF run (runAutomationDetails.id)")
	f.StringVar(&o.sarifSplit, "sarif-split", "", "`tenant`: write one SARIF file per tenant (out.sarif → out.<tenant-id>.sarif, each with its own category), for fleets beyond GitHub's limits")
}

// rendering is what the render flags resolved to: the report options and
// whether SARIF goes to one file per tenant.
type rendering struct {
	opts          report.Options
	splitByTenant bool
}

// resolve checks the flags and fills the defaults. anchor is the file the
// command read its targets from (the config or the first snapshot), used
// when --sarif-anchor is not given; now is the process clock.
func (o *renderOptions) resolve(now func() time.Time, anchor string) (rendering, error) {
	rd := rendering{opts: report.Options{Now: now}}
	switch o.sarifSplit {
	case "":
	case "tenant":
		rd.splitByTenant = true
	default:
		return rd, usageErrorf("--sarif-split: unknown value %q (valid: tenant)", o.sarifSplit)
	}
	if strings.Contains(o.sarifCategory, "/") || strings.TrimSpace(o.sarifCategory) == "" {
		return rd, usageErrorf("--sarif-category: %q must be a non-empty name without \"/\" (GitHub splits the run id at the last slash)", o.sarifCategory)
	}
	root := o.sarifRoot
	if root == "" {
		wd, err := os.Getwd()
		if err != nil {
			return rd, fmt.Errorf("--sarif-root: %w", err)
		}
		root = gitTopLevel(wd)
	} else if info, err := os.Stat(root); err != nil || !info.IsDir() {
		return rd, usageErrorf("--sarif-root: %s is not a directory", root)
	}
	if anchor == "" || o.sarifAnchor != "" {
		anchor = o.sarifAnchor
	}
	rd.opts.SARIF = report.SARIFOptions{Root: root, Anchor: anchor, Category: o.sarifCategory}
	return rd, nil
}

// gitTopLevel is the nearest directory at or above dir that holds .git (a
// directory, or a file in a worktree), else dir itself.
func gitTopLevel(dir string) string {
	for d := dir; ; {
		if _, err := os.Lstat(filepath.Join(d, ".git")); err == nil {
			return d
		} else if !errors.Is(err, os.ErrNotExist) {
			return dir
		}
		parent := filepath.Dir(d)
		if parent == d {
			return dir
		}
		d = parent
	}
}

// checkSplit refuses --sarif-split where it cannot apply, before anything
// is collected: it writes one file per tenant, so the sarif report must go
// to a file.
func (o *renderOptions) checkSplit(specs []outputSpec) error {
	switch o.sarifSplit {
	case "":
		return nil
	case "tenant":
	default:
		return usageErrorf("--sarif-split: unknown value %q (valid: tenant)", o.sarifSplit)
	}
	toFile := false
	for _, s := range specs {
		if s.format != "sarif" {
			continue
		}
		if s.path == "" {
			return usageErrorf("--sarif-split tenant writes one SARIF file per tenant: give the sarif report a file (--format sarif=FILE), not standard output")
		}
		toFile = true
	}
	if !toFile {
		return usageErrorf("--sarif-split tenant: no sarif report to split (add --format sarif=FILE)")
	}
	return nil
}

// perTenantPath is the file of one tenant's share of a split report: the
// tenant id before the extension, out.sarif → out.<tenant>.sarif.
func perTenantPath(path, tenant string) string {
	name := strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '-', r == '_':
			return r
		case r >= 'A' && r <= 'Z':
			return r - 'A' + 'a'
		}
		return '_'
	}, tenant)
	if name == "" {
		name = "no-tenant"
	}
	ext := filepath.Ext(path)
	return strings.TrimSuffix(path, ext) + "." + name + ext
}
