package main

import (
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"github.com/mattn/go-isatty"
	"github.com/spf13/cobra"

	"github.com/helpline-it/helpline/callerid"
	"github.com/helpline-it/helpline/cdr"
	"github.com/helpline-it/helpline/cdr/engine"
	"github.com/helpline-it/helpline/config"
)

// envHMACKey is where `helpline cdr import` looks for the privacy key when
// neither --hmac-key-file nor --config says otherwise; the example
// configuration uses the same variable.
const envHMACKey = "HELPLINE_HMAC_KEY"

func newCdrCmd(d *Deps) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "cdr",
		Short: "Import and export call records",
		Long: `Call records (one per call) are what the report counts. 'helpline cdr import'
loads records written elsewhere in the neutral JSON Lines format, hashing the
numbers in them on the way in; 'helpline cdr export' writes records out in the
same format, with hashes in place of numbers.`,
	}
	cmd.AddCommand(newCdrImportCmd(d), newCdrExportCmd(d))
	return cmd
}

// cdrStoreFlags are the flags that say which store to use.
type cdrStoreFlags struct {
	db, configFile string
}

func (f *cdrStoreFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.db, "db", "", "SQLite call-record database (overrides the config's cdr.path)")
	cmd.Flags().StringVar(&f.configFile, "config", "", "helpline YAML configuration (for the cdr store, the HMAC key and the service)")
}

// resolve loads the configuration, if any, and returns the store to
// open: the --db SQLite file, else the configuration's cdr section
// (SQLite or PostgreSQL). mustExist refuses a missing SQLite file (export
// would otherwise create an empty one and export nothing, silently).
func (f *cdrStoreFlags) resolve(c *cobra.Command, d *Deps, mustExist bool) (*config.Config, config.CDR, error) {
	var cfg *config.Config
	if f.configFile != "" {
		var err error
		if cfg, err = loadConfig(c, d, f.configFile); err != nil {
			return nil, config.CDR{}, err
		}
	}
	var store config.CDR
	switch {
	case f.db != "":
		store = config.CDR{Driver: config.DriverSQLite, Path: f.db}
	case cfg != nil:
		store = cfg.CDR
	default:
		return nil, store, usageErrorf("%smissing --db (an SQLite file) or --config", prefix(c))
	}
	if mustExist && store.Driver != config.DriverPostgres {
		if st, err := os.Stat(store.Path); err != nil || st.IsDir() {
			return nil, store, usageErrorf("%s%s: no such database file", prefix(c), store.Path)
		}
	}
	return cfg, store, nil
}

// openStore opens the store resolve returned, with the command's clock
// and environment (for cdr.password_env).
func openStore(c *cobra.Command, d *Deps, store config.CDR, mustExist bool) (*engine.Store, error) {
	db, err := engine.Open(c.Context(), store, engine.Options{Now: d.Clock.Now, MustExist: mustExist, Getenv: d.Getenv})
	if err != nil {
		return nil, fmt.Errorf("%s%w", prefix(c), err)
	}
	return db, nil
}

type cdrImportOptions struct {
	store        cdrStoreFlags
	keyFile      string
	service      string
	allowUnknown bool
	maxErrors    int
}

func newCdrImportCmd(d *Deps) *cobra.Command {
	o := &cdrImportOptions{}
	cmd := &cobra.Command{
		Use:   "import FILE",
		Short: "Import call records from a neutral JSON Lines file",
		Long: `Reads FILE ("-" for stdin), plain or gzipped, one call a line in the neutral
format (see the data directory's README; an export of 'helpline cdr export' is
accepted too), and stores the records in ONE transaction.

Every line is checked. If any is bad, each bad line is reported on stderr as
FILE:LINE: what is wrong (the first --max-errors of them, then a count),
nothing at all is imported, and the status is 1: fix the file and run again.
Records already in the database (same id) are skipped, so importing a file
twice adds nothing the second time.

Caller and callee numbers are replaced by their keyed hash before anything is
stored. The key is read from --hmac-key-file, else from the configuration's
privacy.hmac_key_env/_file (with --config), else from the environment
variable HELPLINE_HMAC_KEY. It must be the key 'helpline serve' uses, or the
imported callers will match nobody.

Without --config, --db is an SQLite file, created if absent. The import holds
the database's write lock until it commits: a switchboard writing to the same
file waits meanwhile (up to its busy timeout), so import large files when the
switchboard is quiet, or into a copy.`,
		Example: `  HELPLINE_HMAC_KEY=... helpline cdr import --db cdr.db quarter-2025-summer.jsonl.gz
  helpline cdr import --config /etc/helpline/helpline.yaml old-switchboard.jsonl
  zcat calls.jsonl.gz | helpline cdr import --db cdr.db --hmac-key-file /run/secrets/hmac -`,
		Args: argsNamed("FILE"),
		RunE: func(c *cobra.Command, args []string) error {
			return runCdrImport(c, d, o, args[0])
		},
	}
	o.store.register(cmd)
	f := cmd.Flags()
	f.StringVar(&o.keyFile, "hmac-key-file", "", "file holding the HMAC key (default: config, else $"+envHMACKey+")")
	f.StringVar(&o.service, "service", "", "service of records without one (default: the config's service)")
	f.BoolVar(&o.allowUnknown, "allow-unknown-keys", false, "accept lines with keys outside the format (they are dropped and reported)")
	f.IntVar(&o.maxErrors, "max-errors", cdr.DefaultMaxListed, "how many bad lines to list before only counting them")
	return cmd
}

// hmacKey finds the privacy key: --hmac-key-file, the configuration's
// secret, then the environment.
func hmacKey(c *cobra.Command, d *Deps, keyFile string, cfg *config.Config) (*callerid.Hasher, error) {
	var key, source string
	switch {
	case keyFile != "":
		data, err := os.ReadFile(keyFile)
		if err != nil {
			return nil, usageErrorf("%s--hmac-key-file: %v", prefix(c), err)
		}
		key, source = strings.TrimRight(string(data), "\r\n"), "--hmac-key-file "+keyFile
	case cfg != nil && cfg.Privacy.HMACKey.IsSet():
		s, err := cfg.Privacy.HMACKey.Resolve(d.Getenv)
		if err != nil {
			return nil, usageErrorf("%s%v", prefix(c), err)
		}
		key, source = s.Reveal(), cfg.Privacy.HMACKey.Source()
	default:
		key, source = d.Getenv(envHMACKey), "environment variable "+envHMACKey
	}
	if key == "" {
		return nil, usageErrorf("%sno HMAC key to hash caller numbers with: set %s, or pass --hmac-key-file or --config (use the key of 'helpline serve')", prefix(c), envHMACKey)
	}
	if len(key) < config.MinHMACKeyLength {
		return nil, usageErrorf("%sthe HMAC key from %s is %d bytes; at least %d are needed", prefix(c), source, len(key), config.MinHMACKeyLength)
	}
	return callerid.NewHasher([]byte(key))
}

func runCdrImport(c *cobra.Command, d *Deps, o *cdrImportOptions, file string) error {
	if o.maxErrors < 0 {
		return usageErrorf("%sinvalid --max-errors %d: want 0 or more", prefix(c), o.maxErrors)
	}
	cfg, store, err := o.store.resolve(c, d, false)
	if err != nil {
		return err
	}
	h, err := hmacKey(c, d, o.keyFile, cfg)
	if err != nil {
		return err
	}
	service := o.service
	if service == "" && cfg != nil {
		service = cfg.Service
	}

	var src io.Reader = d.Stdin
	var size int64
	name := "stdin"
	if file != "-" {
		f, err := os.Open(file)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			return usageErrorf("%s%s: no such file", prefix(c), file)
		case err != nil:
			return err
		}
		defer f.Close()
		if st, err := f.Stat(); err == nil {
			size = st.Size()
		}
		src, name = f, file
	}
	counted := &countingReader{r: src}

	ctx := c.Context()
	db, err := openStore(c, d, store, false)
	if err != nil {
		return err
	}
	defer db.Close()
	dbPath := db.Where

	opts := cdr.ImportOptions{
		NeutralOptions: cdr.NeutralOptions{AllowUnknownKeys: o.allowUnknown, Service: service},
		MaxListed:      max(o.maxErrors, 1),
	}
	if o.allowUnknown {
		opts.OnUnknownKeys = func(line int, keys []string) {
			fmt.Fprintf(d.Stderr, "%s:%d: warning: unknown keys %s dropped\n", name, line, strings.Join(keys, ", "))
		}
	}
	var bar *progressBar
	if isTerminal(d.Stderr) {
		bar = &progressBar{w: d.Stderr, name: name, size: size, read: &counted.n, now: d.Clock.Now}
		opts.Progress = bar.update
	}
	start := d.Clock.Now()
	res, err := cdr.Import(ctx, db, counted, h, opts)
	bar.done()
	switch {
	case errors.Is(err, cdr.ErrBadLines):
		for i, le := range res.Bad {
			if i >= o.maxErrors {
				break
			}
			fmt.Fprintf(d.Stderr, "%s:%d: %v\n", name, le.Line, le.Err)
		}
		if more := res.BadLines - min(o.maxErrors, len(res.Bad)); more > 0 {
			fmt.Fprintf(d.Stderr, "%s: … and %s\n", name, plural(more, "more bad line"))
		}
		fmt.Fprintf(d.Stderr, "%s: %s of %d; nothing imported\n", name, plural(res.BadLines, "bad line"), res.Lines)
		return exitStatus(exitFailure)
	case err != nil:
		return fmt.Errorf("%s%s: %w; nothing imported", prefix(c), name, err)
	}
	elapsed := d.Clock.Since(start)
	rate := ""
	if elapsed > 0 {
		rate = fmt.Sprintf(", %.0f records/s", float64(res.Records)/elapsed.Seconds())
	}
	if res.Inserted == 0 {
		_, err = fmt.Fprintf(d.Stdout, "%s: 0 new records: all %d were already in %s\n", name, res.Records, dbPath)
		// (0 records at all: "all 0" reads oddly but is true, and an empty
		// file is worth noticing.)
		return err
	}
	_, err = fmt.Fprintf(d.Stdout, "%s: imported %s into %s (%d already there) in %s%s\n",
		name, plural(res.Inserted, "new record"), dbPath, res.Duplicates, elapsed.Round(time.Millisecond), rate)
	return err
}

type cdrExportOptions struct {
	store          cdrStoreFlags
	from, to, tz   string
	direction, svc string
	out            string
}

func newCdrExportCmd(d *Deps) *cobra.Command {
	o := &cdrExportOptions{}
	cmd := &cobra.Command{
		Use:   "export",
		Short: "Export call records as neutral JSON Lines",
		Long: `Writes the call records that arrived in [--from, --to) to stdout (or --out),
one a line in the neutral format, ordered by arrival. Numbers are never
exported: records hold only their keyed hashes, written as caller_hash and
callee_hash. The output can be imported again with 'helpline cdr import'
(into a database that uses the same HMAC key).

--from and --to are days (YYYY-MM-DD, midnight in --tz, default the
config's timezone, else Europe/Rome) or RFC 3339 instants. Either may be
left out. --out FILE.gz writes gzip.`,
		Example: `  helpline cdr export --db cdr.db --from 2025-06-01 --to 2025-09-01 > summer.jsonl
  helpline cdr export --config helpline.yaml --direction outbound --out network.jsonl.gz`,
		Args: argsNamed(),
		RunE: func(c *cobra.Command, _ []string) error {
			return runCdrExport(c, d, o)
		},
	}
	o.store.register(cmd)
	f := cmd.Flags()
	f.StringVar(&o.from, "from", "", "first day (YYYY-MM-DD) or instant (RFC 3339) included")
	f.StringVar(&o.to, "to", "", "first day (YYYY-MM-DD) or instant (RFC 3339) excluded")
	f.StringVar(&o.tz, "tz", "", "time zone of --from/--to days (default: config, else Europe/Rome)")
	f.StringVar(&o.direction, "direction", "", "inbound or outbound (default: both)")
	f.StringVar(&o.svc, "service", "", "export one service only (default: all)")
	f.StringVar(&o.out, "out", "", "output file (default stdout; .gz compresses)")
	return cmd
}

// parseBound reads a --from/--to value: a day in loc or an RFC 3339 instant.
func parseBound(c *cobra.Command, flag, v string, loc *time.Location) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	if t, err := time.ParseInLocation("2006-01-02", v, loc); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
		return t, nil
	}
	return time.Time{}, usageErrorf("%sinvalid --%s %q: want YYYY-MM-DD or an RFC 3339 time", prefix(c), flag, v)
}

func runCdrExport(c *cobra.Command, d *Deps, o *cdrExportOptions) error {
	f := cdr.Filter{Direction: cdr.Direction(o.direction), Service: o.svc}
	if f.Direction != "" && f.Direction != cdr.Inbound && f.Direction != cdr.Outbound {
		return usageErrorf("%sinvalid --direction %q: want inbound or outbound", prefix(c), o.direction)
	}
	cfg, store, err := o.store.resolve(c, d, true)
	if err != nil {
		return err
	}
	loc, err := exportLocation(c, o.tz, cfg)
	if err != nil {
		return err
	}
	if f.From, err = parseBound(c, "from", o.from, loc); err != nil {
		return err
	}
	if f.To, err = parseBound(c, "to", o.to, loc); err != nil {
		return err
	}
	if err := f.Check(); err != nil {
		return usageErrorf("%sinvalid period: --to must be after --from", prefix(c))
	}

	ctx := c.Context()
	db, err := openStore(c, d, store, true)
	if err != nil {
		return err
	}
	defer db.Close()
	dbPath := db.Where

	var out io.Writer = d.Stdout
	var file *os.File
	var zw *gzip.Writer
	if o.out != "" {
		if file, err = os.OpenFile(o.out, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600); err != nil {
			return fmt.Errorf("%s--out: %w", prefix(c), err)
		}
		defer file.Close()
		out = file
		if strings.HasSuffix(o.out, ".gz") {
			zw = gzip.NewWriter(file)
			out = zw
		}
	}
	w := cdr.NewNeutralWriter(out)
	n := 0
	err = db.Scan(ctx, f, func(r *cdr.Record) error {
		n++
		return w.Write(*r)
	})
	if err == nil {
		err = w.Flush()
	}
	if err == nil && zw != nil {
		err = zw.Close()
	}
	if err == nil && file != nil {
		err = file.Close()
	}
	if err != nil {
		return fmt.Errorf("%s%w", prefix(c), err)
	}
	dest := "stdout"
	if o.out != "" {
		dest = o.out
	}
	_, err = fmt.Fprintf(d.Stderr, "exported %d records from %s to %s\n", n, dbPath, dest)
	return err
}

func exportLocation(c *cobra.Command, tz string, cfg *config.Config) (*time.Location, error) {
	switch {
	case tz != "":
		loc, err := time.LoadLocation(tz)
		if err != nil {
			return nil, usageErrorf("%sinvalid --tz %q: not a known time zone (e.g. Europe/Rome)", prefix(c), tz)
		}
		return loc, nil
	case cfg != nil && cfg.Location != nil:
		return cfg.Location, nil
	}
	loc, err := time.LoadLocation("Europe/Rome")
	if err != nil {
		return nil, fmt.Errorf("%stime zone database: %w", prefix(c), err)
	}
	return loc, nil
}

// countingReader counts the bytes read through it, for the progress bar
// (the import reads from another goroutine, hence the atomic).
type countingReader struct {
	r io.Reader
	n atomic.Int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}

// isTerminal reports whether w is a terminal, where a progress bar helps;
// anywhere else (a file, a pipe, a CI log) it would be noise.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && (isatty.IsTerminal(f.Fd()) || isatty.IsCygwinTerminal(f.Fd()))
}

// progressBar redraws one line on a terminal, at most ten times a second.
type progressBar struct {
	w     io.Writer
	name  string
	size  int64         // bytes of the input file; 0 if unknown (stdin)
	read  *atomic.Int64 // bytes read so far
	now   func() time.Time
	last  time.Time
	shown bool
}

const barWidth = 30

func (b *progressBar) update(r cdr.ImportResult) {
	t := b.now()
	if b.shown && t.Sub(b.last) < 100*time.Millisecond {
		return
	}
	b.last, b.shown = t, true
	fmt.Fprint(b.w, "\r"+b.line(r))
}

// line renders the bar: "name [#####.....]  42%  15230 records, 3 bad".
func (b *progressBar) line(r cdr.ImportResult) string {
	var s strings.Builder
	s.WriteString(b.name)
	if b.size > 0 {
		frac := min(float64(b.read.Load())/float64(b.size), 1)
		filled := int(frac * barWidth)
		fmt.Fprintf(&s, " [%s%s] %3.0f%%", strings.Repeat("#", filled), strings.Repeat(".", barWidth-filled), frac*100)
	}
	fmt.Fprintf(&s, "  %d records", r.Records)
	if r.BadLines > 0 {
		fmt.Fprintf(&s, ", %d bad", r.BadLines)
	}
	return s.String()
}

// done clears the bar's line so the summary starts clean.
func (b *progressBar) done() {
	if b == nil || !b.shown {
		return
	}
	fmt.Fprint(b.w, "\r\033[K")
}

// plural is "1 bad line", "2 bad lines".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
