package cli

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/goccy/go-yaml"
	"github.com/spf13/cobra"

	"github.com/teamslink/teamslink/internal/config"
	"github.com/teamslink/teamslink/internal/engine"
	"github.com/teamslink/teamslink/internal/finding"
	"github.com/teamslink/teamslink/internal/redact"
	"github.com/teamslink/teamslink/internal/scan"
	"github.com/teamslink/teamslink/internal/snapshot"
	"github.com/teamslink/teamslink/report"
)

// maxLogLines bounds the tail of --log that goes into a bundle.
const maxLogLines = 200

func newSupportBundleCommand(deps Deps) *cobra.Command {
	var (
		targets  targetOptions
		snapPath string
		output   string
		keyFile  string
		logPath  string
	)
	cmd := &cobra.Command{
		Use:   "support-bundle",
		Short: "Write one redacted archive a maintainer can reproduce a verdict from",
		Long: `Write a tar.gz with what a maintainer needs to reproduce a verdict offline, redacted
(tenant and environment names, domains, URLs, user names, e-mail addresses, display and record
names, ids and ETags replaced by stable keyed hashes; docs/security.md):

  snapshot.json   the snapshot (--snapshot FILE, or collected from --config now), redacted
  report.json     its evaluation, redacted
  version.json    what "teamslink version --json" prints
  tenants.yaml    the --config with its comments dropped, secrets' file paths replaced and its
                  names and URLs redacted; the names of secret environment variables are kept,
                  their values are never read
  errors.txt      the last error lines: sign-in errors, error findings, and the tail of --log

The key comes from --redact-key-file or TEAMSLINK_REDACT_KEY; there is no default key.

Examples:
  teamslink support-bundle --snapshot snapshot.json --redact-key-file key.txt -o bundle.tar.gz
  teamslink support-bundle --config tenants.yaml --log teamslink.log -o bundle.tar.gz`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			key, err := redact.LoadKey(keyFile, deps.LookupEnv)
			if err != nil {
				return &UsageError{Err: fmt.Errorf("support-bundle: %w", err)}
			}
			r, err := redact.New(key)
			if err != nil {
				return &UsageError{Err: err}
			}
			if snapPath == "" && targets.configPath == "" {
				return usageErrorf("support-bundle: give --snapshot FILE, or --config tenants.yaml to scan now")
			}
			snap, rep, cfgData, err := bundleInputs(cmd, deps, &targets, snapPath)
			if err != nil {
				return err
			}
			var logTail []string
			if logPath != "" {
				if logTail, err = tailLines(logPath, maxLogLines); err != nil {
					return &UsageError{Err: fmt.Errorf("--log: %w", err)}
				}
			}
			b, err := buildBundle(cmd, r, deps, snap, rep, cfgData, logTail)
			if err != nil {
				return err
			}
			if err := writeFiles(cmd.Context(), []outputFile{{what: "support bundle", path: output, render: func(w io.Writer) error {
				_, err := w.Write(b)
				return err
			}}}); err != nil {
				return err
			}
			_, err = fmt.Fprintf(cmd.ErrOrStderr(), "wrote %s (redacted)\n", output)
			return err
		},
	}
	targets.register(cmd)
	f := cmd.Flags()
	f.StringVar(&snapPath, "snapshot", "", "the snapshot `FILE` to bundle (default: collect one from --config now)")
	f.StringVarP(&output, "output", "o", "teamslink-support.tar.gz", "write the archive to `FILE`")
	f.StringVar(&keyFile, "redact-key-file", "", "`FILE` holding the redaction key (default: the "+redact.EnvKey+" environment variable)")
	f.StringVar(&logPath, "log", "", "a teamslink stderr log `FILE` whose last lines go into errors.txt")
	return cmd
}

// bundleInputs reads or collects the snapshot, evaluates it with the
// config's waivers, and reads the config's bytes.
func bundleInputs(cmd *cobra.Command, deps Deps, targets *targetOptions, snapPath string) (*snapshot.Snapshot, *finding.Report, []byte, error) {
	ctx := cmd.Context()
	eng, err := engine.New(ctx, engine.Config{})
	if err != nil {
		return nil, nil, nil, err
	}
	var (
		cfg     *config.Config
		cfgData []byte
	)
	if targets.configPath != "" {
		if cfg, err = config.LoadContext(ctx, targets.configPath); err != nil {
			return nil, nil, nil, &UsageError{Err: err}
		}
		if cfgData, err = os.ReadFile(targets.configPath); err != nil {
			return nil, nil, nil, &UsageError{Err: fmt.Errorf("read config: %w", err)}
		}
	}
	opts, err := targets.options(deps, nil)
	if err != nil {
		return nil, nil, nil, err
	}
	if snapPath == "" {
		res, err := scan.Run(ctx, cfg, eng, opts)
		if err != nil {
			return nil, nil, nil, scanError(err)
		}
		return res.Snapshot, res.Report, cfgData, nil
	}
	snap, err := snapshot.ReadFile(snapPath)
	if err != nil {
		return nil, nil, nil, &UsageError{Err: err}
	}
	var (
		waivers  []finding.WaiverRule
		declared func(tenant, url string) *finding.SourceLine
	)
	if cfg != nil {
		waivers, declared = cfg.WaiverRules(), cfg.DeclaredAt
	}
	rep, err := scan.Evaluate(ctx, eng, snap, waivers, declared, opts)
	if err != nil {
		return nil, nil, nil, scanError(err)
	}
	return snap, rep, cfgData, nil
}

// buildBundle redacts everything and writes the archive's bytes: entries
// in a fixed order, each stamped with the report's time, mode 0644.
func buildBundle(cmd *cobra.Command, r *redact.Redactor, deps Deps, snap *snapshot.Snapshot, rep *finding.Report, cfgData []byte, logTail []string) ([]byte, error) {
	redSnap, err := r.Snapshot(snap)
	if err != nil {
		return nil, err
	}
	redRep, err := r.Report(rep)
	if err != nil {
		return nil, err
	}
	type entry struct {
		name string
		data []byte
	}
	var entries []entry
	var sb bytes.Buffer
	if err := snapshot.Write(&sb, redSnap); err != nil {
		return nil, fmt.Errorf("support-bundle: %w", err)
	}
	entries = append(entries, entry{"snapshot.json", sb.Bytes()})
	var rb bytes.Buffer
	jw, err := report.New("json", &rb, report.Options{Now: deps.Now})
	if err != nil {
		return nil, err
	}
	if err := jw.Write(cmd.Context(), redRep); err != nil {
		return nil, fmt.Errorf("support-bundle: write report: %w", err)
	}
	entries = append(entries, entry{"report.json", rb.Bytes()})
	vb, err := json.MarshalIndent(deps.build(), "", "  ")
	if err != nil {
		return nil, fmt.Errorf("support-bundle: encode version: %w", err)
	}
	entries = append(entries, entry{"version.json", append(vb, '\n')})
	if cfgData != nil {
		cb, err := sanitizeConfig(r, cfgData)
		if err != nil {
			return nil, err
		}
		entries = append(entries, entry{"tenants.yaml", cb})
	}
	entries = append(entries, entry{"errors.txt", errorLines(r, redRep, logTail)})

	stamp := rep.GeneratedAt.UTC().Truncate(time.Second)
	var out bytes.Buffer
	gz, err := gzip.NewWriterLevel(&out, gzip.BestCompression)
	if err != nil {
		return nil, fmt.Errorf("support-bundle: %w", err)
	}
	tw := tar.NewWriter(gz)
	for _, e := range entries {
		hdr := &tar.Header{Name: e.name, Mode: 0o644, Size: int64(len(e.data)), ModTime: stamp, Typeflag: tar.TypeReg, Format: tar.FormatPAX}
		if err := tw.WriteHeader(hdr); err != nil {
			return nil, fmt.Errorf("support-bundle: %w", err)
		}
		if _, err := tw.Write(e.data); err != nil {
			return nil, fmt.Errorf("support-bundle: %w", err)
		}
	}
	if err := tw.Close(); err != nil {
		return nil, fmt.Errorf("support-bundle: %w", err)
	}
	if err := gz.Close(); err != nil {
		return nil, fmt.Errorf("support-bundle: %w", err)
	}
	return out.Bytes(), nil
}

// errorLines are the report's sign-in errors and error findings, one a
// line, then the tail of the log, redacted.
func errorLines(r *redact.Redactor, rep *finding.Report, logTail []string) []byte {
	var b strings.Builder
	for _, e := range rep.SignInErrors {
		fmt.Fprintf(&b, "%s %s: %s (%s credential", e.Failure(), e.Tenant, e.Error, e.Method)
		if e.HTTPStatus != 0 {
			fmt.Fprintf(&b, ", HTTP %d", e.HTTPStatus)
		}
		b.WriteString(")\n")
	}
	seen := map[string]bool{}
	for _, env := range rep.Environments {
		for _, f := range env.Findings {
			if f.Status != finding.StatusError {
				continue
			}
			line := f.Key.String() + ": " + f.Message
			if f.Access != nil {
				line += " [" + f.Access.Section
				if f.Access.HTTPStatus != 0 {
					line += ", HTTP " + strconv.Itoa(f.Access.HTTPStatus)
				}
				if f.Access.Source != "" {
					line += ", " + f.Access.Source
				}
				line += "]"
			}
			if !seen[line] {
				seen[line] = true
				b.WriteString(line + "\n")
			}
		}
	}
	if len(logTail) > 0 {
		b.WriteString("--- last lines of the log ---\n")
		for _, l := range logTail {
			b.WriteString(r.Text(l) + "\n")
		}
	}
	if b.Len() == 0 {
		b.WriteString("no errors\n")
	}
	return []byte(b.String())
}

// tailLines returns the last n lines of the file at path.
func tailLines(path string, n int) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var lines []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		lines = append(lines, sc.Text())
		if len(lines) > n {
			lines = lines[1:]
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	return lines, nil
}

// Config keys whose values are file paths of secrets or keys: replaced.
var secretPathKeys = map[string]bool{
	"secretfile": true, "certificatefile": true, "tokenfile": true, "cafile": true,
}

// Config keys whose values are names of environment variables: kept (the
// values are never read).
var envNameKeys = map[string]bool{"secretenv": true, "certificatepasswordenv": true}

// sanitizeConfig rewrites a tenants.yaml for a bundle: comments dropped,
// secret file paths replaced, ids, names, URLs and hosts redacted, the
// names of environment variables and every other setting kept.
func sanitizeConfig(r *redact.Redactor, data []byte) ([]byte, error) {
	var v any
	if err := yaml.UnmarshalWithOptions(data, &v, yaml.UseOrderedMap()); err != nil {
		return nil, fmt.Errorf("support-bundle: read config: %w", err)
	}
	out, err := yaml.Marshal(sanitizeValue(r, "", "", v))
	if err != nil {
		return nil, fmt.Errorf("support-bundle: write config: %w", err)
	}
	return append([]byte("# tenants.yaml, sanitized by teamslink support-bundle\n"), out...), nil
}

// sanitizeValue sanitizes v, the value of key in a mapping that is an
// item of the list under list (tenants, environments, ...).
func sanitizeValue(r *redact.Redactor, list, key string, v any) any {
	k := strings.ToLower(key)
	switch x := v.(type) {
	case yaml.MapSlice:
		out := make(yaml.MapSlice, len(x))
		for i, item := range x {
			name, _ := item.Key.(string)
			out[i] = yaml.MapItem{Key: item.Key, Value: sanitizeValue(r, list, name, item.Value)}
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, item := range x {
			out[i] = sanitizeValue(r, key, key, item)
		}
		return out
	case string:
		switch {
		case secretPathKeys[k]:
			return "redacted-path"
		case envNameKeys[k]:
			return x
		case k == "id" || k == "tenant" || strings.HasSuffix(k, "clientid"):
			return r.ID(x)
		case k == "name" && list == "tenants":
			return r.Name("tenant", x) // as the snapshot's tenant names
		case k == "name" && list == "environments":
			return r.Name("env", x)
		case k == "name":
			return r.Name("name", x)
		case k == "connectto":
			return r.Host(x)
		case strings.Contains(x, "://"):
			return r.URL(x)
		}
		return r.Text(x)
	}
	return v
}
