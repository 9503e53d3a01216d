package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/helpline-it/helpline/cdr/engine"
	"github.com/helpline-it/helpline/config"
	"github.com/helpline-it/helpline/report"
)

// reportOptions are the flags of `helpline report`.
type reportOptions struct {
	from, to, quarter string
	db, configFile    string
	lang, format, tz  string
	out, service      string
}

// newReportCmd builds `helpline report`. Bad flags and flag values are
// usage errors (status 2) naming the flag; a store that cannot be read is
// a failure (status 1).
func newReportCmd(d *Deps) *cobra.Command {
	o := &reportOptions{}
	cmd := &cobra.Command{
		Use:   "report",
		Short: "Quarterly report (telephony figures) from the call records",
		Long: `Computes the telephony tables of the published quarterly report from the
call records: inbound calls by outcome with their shares, talk time, average
wait, calls by weekday and hour (local time), outbound calls to the network,
and service indicators by language and operator.

The period is local calendar days: --from inclusive, --to exclusive, both
YYYY-MM-DD in the report's time zone (--tz, else the config's timezone, else
Europe/Rome). --quarter 2025Q3 is the CALENDAR quarter (Q1 = Jan-Mar,
Q3 = Jul-Sep); the 1522 contract's "quarters" (e.g. June-August) are given
with --from 2025-06-01 --to 2025-09-01.

Formats: text (aligned tables, default), json (stable shape, see package
report), html (one self-contained page with charts), csv (one file per table
into the --out directory; plain numbers for import).`,
		Example: `  helpline report --db /var/lib/helpline/cdr.db --from 2025-06-01 --to 2025-09-01
  helpline report --config helpline.yaml --quarter 2025Q3 --format html --out q3.html
  helpline report --db cdr.db --from 2025-06-01 --to 2025-09-01 --format csv --out ./istat/`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			if ctx == nil {
				ctx = context.Background()
			}
			return runReport(ctx, o, reportEnv{cmd: cmd, d: d})
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.from, "from", "", "first day of the period, YYYY-MM-DD (local, inclusive)")
	f.StringVar(&o.to, "to", "", "day after the period, YYYY-MM-DD (local, exclusive)")
	f.StringVar(&o.quarter, "quarter", "", "calendar quarter such as 2025Q3 (instead of --from/--to)")
	f.StringVar(&o.db, "db", "", "SQLite call-record database (overrides the config's cdr.path)")
	f.StringVar(&o.configFile, "config", "", "helpline YAML configuration (for cdr.path and timezone)")
	f.StringVar(&o.lang, "lang", "it", "language of labels and numbers: it or en")
	f.StringVar(&o.format, "format", "text", "output format: text, json, html or csv")
	f.StringVar(&o.tz, "tz", "", "time zone of the period, weekdays and hours (default: config, else Europe/Rome)")
	f.StringVar(&o.out, "out", "", "output file (text, json, html; default stdout) or directory (csv, required)")
	f.StringVar(&o.service, "service", "", "report one service only (default: all services)")
	return cmd
}

// reportEnv is what the report reaches outside itself.
type reportEnv struct {
	cmd *cobra.Command
	d   *Deps
}

// usagef is a usage error (status 2) starting with "report: ".
func (e reportEnv) usagef(format string, args ...any) error {
	return usageErrorf("%s"+format, append([]any{prefix(e.cmd)}, args...)...)
}

// reportPlan is the validated request.
type reportPlan struct {
	period report.Period
	lang   report.Lang
	format string
	// store is the call-record store to read: the --db file, or the
	// configuration's cdr section (SQLite or PostgreSQL).
	store config.CDR
}

// planReport checks every flag before anything is opened, and names the
// flag at fault.
func planReport(o *reportOptions, env reportEnv) (*reportPlan, error) {
	usagef := env.usagef
	p := &reportPlan{}
	lang, err := report.ParseLang(o.lang)
	if err != nil {
		return nil, usagef("invalid --lang %q: want it or en", o.lang)
	}
	p.lang = lang
	switch o.format {
	case "text", "json", "html", "csv":
		p.format = o.format
	default:
		return nil, usagef("invalid --format %q: want text, json, html or csv", o.format)
	}
	if p.format == "csv" && o.out == "" {
		return nil, usagef("--format csv needs --out DIR (one file per table)")
	}

	var cfg *config.Config
	if o.configFile != "" {
		// A broken file: every problem on stderr, status 2 (loadConfig).
		cfg, err = loadConfig(env.cmd, env.d, o.configFile)
		if err != nil {
			return nil, err
		}
	}

	loc, err := reportLocation(o.tz, cfg, usagef)
	if err != nil {
		return nil, err
	}

	switch {
	case o.quarter != "" && (o.from != "" || o.to != ""):
		return nil, usagef("give either --quarter or --from/--to, not both")
	case o.quarter != "":
		p.period, err = report.Quarter(o.quarter, loc)
		if err != nil {
			return nil, usagef("invalid --quarter %q: want a calendar quarter like 2025Q3", o.quarter)
		}
	case o.from == "" && o.to == "":
		return nil, usagef("missing period: give --from and --to (YYYY-MM-DD) or --quarter")
	case o.from == "":
		return nil, usagef("missing --from (YYYY-MM-DD, first day included)")
	case o.to == "":
		return nil, usagef("missing --to (YYYY-MM-DD, first day after the period)")
	default:
		if _, err := time.Parse("2006-01-02", o.from); err != nil {
			return nil, usagef("invalid --from %q: not a date YYYY-MM-DD", o.from)
		}
		if _, err := time.Parse("2006-01-02", o.to); err != nil {
			return nil, usagef("invalid --to %q: not a date YYYY-MM-DD", o.to)
		}
		p.period, err = report.NewPeriod(o.from, o.to, loc)
		if err != nil {
			return nil, usagef("invalid --to %q: must be after --from %q (--to is exclusive)", o.to, o.from)
		}
	}

	switch {
	case o.db != "":
		p.store = config.CDR{Driver: config.DriverSQLite, Path: o.db}
	case cfg != nil:
		p.store = cfg.CDR
	default:
		return nil, usagef("missing --db (SQLite call records) or --config")
	}
	if p.store.Driver == config.DriverPostgres {
		return p, nil // the server is asked when the report opens it
	}
	// Opening a missing path would create an empty database and print a
	// report of zeros: refuse instead.
	if st, err := os.Stat(p.store.Path); err != nil || st.IsDir() {
		flag := "--db"
		if o.db == "" {
			flag = "--config cdr.path"
		}
		return nil, usagef("%s %s: no such database file", flag, p.store.Path)
	}
	return p, nil
}

func reportLocation(tz string, cfg *config.Config, usagef func(string, ...any) error) (*time.Location, error) {
	switch {
	case tz != "":
		loc, err := time.LoadLocation(tz)
		if err != nil {
			return nil, usagef("invalid --tz %q: not a known time zone (e.g. Europe/Rome)", tz)
		}
		return loc, nil
	case cfg != nil && cfg.Location != nil:
		return cfg.Location, nil
	}
	loc, err := time.LoadLocation(report.DefaultTimezone)
	if err != nil {
		return nil, fmt.Errorf("report: time zone database: %w", err)
	}
	return loc, nil
}

func runReport(ctx context.Context, o *reportOptions, env reportEnv) error {
	p, err := planReport(o, env)
	if err != nil {
		return err
	}
	db, err := engine.Open(ctx, p.store, engine.Options{MustExist: true, Getenv: env.d.Getenv})
	if err != nil {
		return fmt.Errorf("report: %w", err)
	}
	defer db.Close()
	res, err := report.FromStore(ctx, db, p.period, report.Options{Service: o.service})
	if err != nil {
		return err
	}
	return writeReport(&res, p, o.out, env.d.Stdout, env.usagef)
}

func writeReport(res *report.Result, p *reportPlan, out string, stdout io.Writer, usagef func(string, ...any) error) (err error) {
	if p.format == "csv" {
		if err := os.MkdirAll(out, 0o750); err != nil {
			return fmt.Errorf("report: --out %s: %w", out, err)
		}
		return report.WriteCSVDir(out, res, p.lang)
	}
	w := stdout
	if out != "" {
		if dir := filepath.Dir(out); dir != "." {
			if st, serr := os.Stat(dir); serr != nil || !st.IsDir() {
				return usagef("--out %s: directory %s does not exist", out, dir)
			}
		}
		f, err := os.Create(out)
		if err != nil {
			return fmt.Errorf("report: --out: %w", err)
		}
		defer func() {
			if cerr := f.Close(); cerr != nil && err == nil {
				err = fmt.Errorf("report: --out %s: %w", out, cerr)
			}
		}()
		w = f
	}
	switch p.format {
	case "json":
		return report.WriteJSON(w, res)
	case "html":
		return report.WriteHTML(w, res, p.lang)
	default:
		return report.WriteText(w, res, p.lang)
	}
}
