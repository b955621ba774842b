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
}

func (o *renderOptions) register(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringVar(&o.sarifRoot, "sarif-root", "", "repository root SARIF paths are relative to (default: the git top level of the working directory)")
	f.StringVar(&o.sarifAnchor, "sarif-anchor", "", "`FILE` SARIF results point at when tenants.yaml does not declare the environment (default: the config or snapshot file)")
	f.StringVar(&o.sarifCategory, "sarif-category", "teamslink", "code scanning category of the SARIF run (runAutomationDetails.id)")
	f.StringVar(&o.sarifSplit, "sarif-split", "", "write one SARIF file per tenant (tenant), for fleets beyond GitHub's limits")
	// Hidden until the sarif format they shape is registered.
	for _, name := range []string{"sarif-root", "sarif-anchor", "sarif-category", "sarif-split"} {
		_ = f.MarkHidden(name)
	}
}

// rendering is what the render flags resolved to: the report options.
type rendering struct {
	opts report.Options
}

// resolve checks the flags and fills the defaults. anchor is the file the
// command read its targets from (the config or the first snapshot), used
// when --sarif-anchor is not given; now is the process clock.
func (o *renderOptions) resolve(now func() time.Time, anchor string) (rendering, error) {
	rd := rendering{opts: report.Options{Now: now}}
	switch o.sarifSplit {
	case "":
	case "tenant":
		// Until the sarif format lands there is nothing to split.
		return rd, usageErrorf("--sarif-split: not supported yet: this teamslink writes no SARIF")
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
