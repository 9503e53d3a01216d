package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/helpline-it/helpline/config"
	"github.com/helpline-it/helpline/directory"
	"github.com/helpline-it/helpline/directory/sqlite"
)

// defaultCallServiceCode is the call_service feature code of the default
// configuration, printed in suggestions when no --config says otherwise.
const defaultCallServiceCode = "*20"

func newDirectoryCmd(d *Deps) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "directory",
		Short: "Import and consult the directory of the anti-violence network",
		Long: `The directory of the network (anti-violence centres, shelters, police,
carabinieri, health, legal and social services) is what operators call: each
service has a four-digit code, dialled after the call_service feature code
(*20 then the code). 'import' loads the network's spreadsheet; 'suggest' lists
the services of a caller's province first, then of the rest of its region,
open ones first.

Shelters (and entries marked confidential) never show their address, notes,
phone number or municipality unless --confidential is given: operators call
them by code, the switchboard dials the number.

The directory lives in the SQLite file of the call records (--config reads
cdr.path), or in the file given with --db.`,
	}
	cmd.AddCommand(newDirectoryImportCmd(d), newDirectoryListCmd(d), newDirectorySearchCmd(d),
		newDirectorySuggestCmd(d), newDirectoryShowCmd(d), newDirectoryExportCmd(d))
	return cmd
}

// directoryFlags are the flags every directory command shares.
type directoryFlags struct {
	db, configFile string
	cfg            *config.Config
}

func (f *directoryFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.db, "db", "", "SQLite database holding the directory (overrides the config's cdr.path)")
	cmd.Flags().StringVar(&f.configFile, "config", "", "helpline YAML configuration (for cdr.path, the time zone and the feature codes)")
}

// open loads the configuration, if any, and opens the directory's store.
// Read-only commands (mustExist) refuse a missing file instead of
// creating an empty directory.
func (f *directoryFlags) open(c *cobra.Command, d *Deps, mustExist bool) (*sqlite.DB, error) {
	if f.configFile != "" {
		cfg, err := loadConfig(c, d, f.configFile)
		if err != nil {
			return nil, err
		}
		f.cfg = cfg
	}
	var path string
	switch {
	case f.db != "":
		path = f.db
	case f.cfg != nil && f.cfg.CDR.Driver == config.DriverPostgres:
		return nil, usageErrorf("%s--config %s keeps call records in PostgreSQL; the directory needs an SQLite file: pass --db", prefix(c), f.configFile)
	case f.cfg != nil:
		path = f.cfg.CDR.Path
	default:
		return nil, usageErrorf("%smissing --db (an SQLite file) or --config", prefix(c))
	}
	if mustExist {
		if st, err := os.Stat(path); err != nil || st.IsDir() {
			return nil, usageErrorf("%s%s: no such database file (import a directory first)", prefix(c), path)
		}
	}
	db, err := sqlite.Open(c.Context(), path, sqlite.Options{Now: d.Clock.Now})
	if err != nil {
		return nil, fmt.Errorf("%sopen %s: %w", prefix(c), path, err)
	}
	return db, nil
}

// location is the service's time zone: --tz, else the configuration's,
// else Europe/Rome.
func (f *directoryFlags) location(c *cobra.Command, tz string) (*time.Location, error) {
	switch {
	case tz != "":
		loc, err := time.LoadLocation(tz)
		if err != nil {
			return nil, usageErrorf("%sinvalid --tz %q: not a time zone such as Europe/Rome", prefix(c), tz)
		}
		return loc, nil
	case f.cfg != nil && f.cfg.Location != nil:
		return f.cfg.Location, nil
	}
	loc, err := time.LoadLocation("Europe/Rome")
	if err != nil {
		return nil, fmt.Errorf("%sload Europe/Rome: %w", prefix(c), err)
	}
	return loc, nil
}

type directoryImportOptions struct {
	flags     directoryFlags
	prune     bool
	dryRun    bool
	maxErrors int
}

func newDirectoryImportCmd(d *Deps) *cobra.Command {
	o := &directoryImportOptions{}
	cmd := &cobra.Command{
		Use:   "import FILE",
		Short: "Import the network's directory from a CSV file",
		Long: `Reads FILE ("-" for stdin): a CSV in UTF-8 (a byte-order mark is fine), fields
separated by ';' or ',', with a header row naming the columns in any order:

  name, type, province, phone                    required
  region, municipality, address, hours, notes,   optional
  confidential, code

Italian names work too (nome, tipo, provincia, telefono, regione, comune,
indirizzo, orari, note, riservato, codice). type is cav, shelter, police,
carabinieri, health, legal, social or other, or an Italian label ("centro
antiviolenza", "casa rifugio", "questura", "pronto soccorso", …); province
is a sigla (PD) or a name; hours read like "lun-ven 09:00-18:00; sab
09:00-13:00" or "24/7" (a field holding the separator is quoted, as
spreadsheets do by themselves); confidential is sì/no (shelters always are).

Every row is checked. If any is bad, every problem is reported on stderr as
FILE:LINE: column "phone": "abc" is not a phone number (the first
--max-errors of them, then a count), nothing is imported, and the status is
1. Otherwise the whole file is stored in ONE transaction.

Each service keeps its four-digit code across imports: a code column, where
filled, is used as it is; otherwise a service is known by its type,
province, municipality and name, so changing its phone or hours updates it
under the same code. Services in the directory but not in the file are kept
unless --prune is given.`,
		Example: `  helpline directory import --config /etc/helpline/helpline.yaml mappatura-2025.csv
  helpline directory import --db helpline.db --dry-run mappatura.csv
  helpline directory import --db helpline.db --prune mappatura-complete.csv`,
		Args: argsNamed("FILE"),
		RunE: func(c *cobra.Command, args []string) error { return runDirectoryImport(c, d, o, args[0]) },
	}
	o.flags.register(cmd)
	f := cmd.Flags()
	f.BoolVar(&o.prune, "prune", false, "delete services that the file does not list (the file is the whole directory)")
	f.BoolVar(&o.dryRun, "dry-run", false, "check the file and count the changes, write nothing")
	f.IntVar(&o.maxErrors, "max-errors", 20, "how many problems to list before only counting them")
	return cmd
}

func runDirectoryImport(c *cobra.Command, d *Deps, o *directoryImportOptions, file string) error {
	if o.maxErrors < 0 {
		return usageErrorf("%sinvalid --max-errors %d: want 0 or more", prefix(c), o.maxErrors)
	}
	var src io.Reader = d.Stdin
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
		src, name = f, file
	}
	db, err := o.flags.open(c, d, false)
	if err != nil {
		return err
	}
	defer db.Close()
	res, err := directory.Import(c.Context(), db, src, directory.ImportOptions{
		Prune: o.prune, DryRun: o.dryRun, MaxListed: max(o.maxErrors, 1),
	})
	switch {
	case errors.Is(err, directory.ErrBadRows):
		listed := min(o.maxErrors, len(res.Problems))
		for _, p := range res.Problems[:listed] {
			fmt.Fprintf(d.Stderr, "%s:%d: %v\n", name, p.Line, p)
		}
		if more := res.ProblemCount - listed; more > 0 {
			fmt.Fprintf(d.Stderr, "%s: … and %d more problems\n", name, more)
		}
		fmt.Fprintf(d.Stderr, "%s: %d problems in %d of %d rows; nothing imported\n", name, res.ProblemCount, res.BadRows, res.Rows)
		return exitStatus(exitFailure)
	case err != nil:
		return fmt.Errorf("%s%s: %w; nothing imported", prefix(c), name, err)
	}
	verb := "imported"
	if o.dryRun {
		verb = "dry run, nothing written:"
	}
	msg := fmt.Sprintf("%s: %s %d rows into %s: %d inserted, %d updated, %d unchanged",
		name, verb, res.Rows, db.Path(), res.Inserted, res.Updated, res.Unchanged)
	switch {
	case res.Pruned > 0:
		msg += fmt.Sprintf("; %d services not in the file deleted", res.Pruned)
	case res.Missing > 0:
		msg += fmt.Sprintf("; %d services not in the file kept (--prune deletes them)", res.Missing)
	}
	_, err = fmt.Fprintln(d.Stdout, msg)
	return err
}

// directoryOutput are the output flags of the commands that print entries.
type directoryOutput struct {
	confidential, json bool
}

func (o *directoryOutput) register(cmd *cobra.Command) {
	cmd.Flags().BoolVar(&o.confidential, "confidential", false, "show confidential entries' address, notes, phone and municipality")
	cmd.Flags().BoolVar(&o.json, "json", false, "print JSON instead of a table")
}

// hidden is what a table shows for a field withheld from a printout.
const hidden = "(confidential)"

// entryJSON is an entry as --json prints it. A redacted entry omits the
// withheld fields and says so.
type entryJSON struct {
	Code         string `json:"code"`
	Name         string `json:"name"`
	Type         string `json:"type"`
	Region       string `json:"region"`
	Province     string `json:"province"`
	Municipality string `json:"municipality,omitempty"`
	Address      string `json:"address,omitempty"`
	Phone        string `json:"phone,omitempty"`
	Dial         string `json:"dial,omitempty"`
	Hours        string `json:"hours"`
	Notes        string `json:"notes,omitempty"`
	Confidential bool   `json:"confidential"`
	Redacted     bool   `json:"redacted,omitempty"`
	// Suggest only.
	Status   string `json:"status,omitempty"`
	NextOpen string `json:"next_open,omitempty"`
	Nearby   string `json:"where,omitempty"`
}

func toJSON(e directory.Entry, reveal bool) entryJSON {
	shown := e
	if !reveal {
		shown = e.Redacted()
	}
	return entryJSON{
		Code: shown.Code, Name: shown.Name, Type: shown.Type.String(), Region: shown.Region, Province: shown.Province,
		Municipality: shown.Municipality, Address: shown.Address, Phone: shown.Phone, Dial: shown.Dial,
		Hours: shown.Hours.String(), Notes: shown.Notes, Confidential: e.Confidential,
		Redacted: e.Confidential && !reveal,
	}
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// withheld returns s, or the hidden marker for a redacted entry's field.
func withheld(e directory.Entry, reveal bool, s string) string {
	if e.Confidential && !reveal {
		return hidden
	}
	return s
}

// printEntries writes entries as a table (or JSON), redacting
// confidential ones unless reveal.
func printEntries(w io.Writer, entries []directory.Entry, o directoryOutput) error {
	if o.json {
		out := make([]entryJSON, 0, len(entries))
		for _, e := range entries {
			out = append(out, toJSON(e, o.confidential))
		}
		return writeJSON(w, out)
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "CODE\tTYPE\tNAME\tPROV\tMUNICIPALITY\tPHONE\tHOURS")
	for _, e := range entries {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", e.Code, e.Type, oneLine(e.Name), e.Province,
			withheld(e, o.confidential, oneLine(e.Municipality)), withheld(e, o.confidential, e.Phone), hoursText(e.Hours))
	}
	return tw.Flush()
}

func hoursText(h directory.Hours) string {
	if !h.Known() {
		return "unknown"
	}
	return h.String()
}

// entryFilters are list's and search's filters.
type entryFilters struct {
	province, region, typ string
}

func (f *entryFilters) register(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.province, "province", "", "only this province (sigla, name or ISTAT number)")
	cmd.Flags().StringVar(&f.region, "region", "", "only this region")
	cmd.Flags().StringVar(&f.typ, "type", "", "only this type (cav, shelter, police, carabinieri, health, legal, social, other)")
}

func (f *entryFilters) query(c *cobra.Command, text string, reveal bool) (directory.Query, error) {
	q := directory.Query{Text: text, Confidential: reveal}
	if f.province != "" {
		p, ok := directory.LookupProvince(f.province)
		if !ok {
			return q, usageErrorf("%sinvalid --province %q: not an Italian province (a sigla such as PD)", prefix(c), f.province)
		}
		q.Province = p.Code
	}
	if f.region != "" {
		r, ok := directory.LookupRegion(f.region)
		if !ok {
			return q, usageErrorf("%sinvalid --region %q: not an Italian region", prefix(c), f.region)
		}
		q.Region = r
	}
	if f.typ != "" {
		t, err := directory.ParseType(f.typ)
		if err != nil {
			return q, usageErrorf("%sinvalid --type: %v", prefix(c), err)
		}
		q.Type = t
	}
	return q, nil
}

func newDirectoryListCmd(d *Deps) *cobra.Command {
	var flags directoryFlags
	var out directoryOutput
	var filters entryFilters
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the directory",
		Long: `Lists every service by code (or those matching --province, --region, --type).
Confidential entries (shelters) are listed without their municipality and
phone number unless --confidential is given.`,
		Example: `  helpline directory list --config /etc/helpline/helpline.yaml --province PD
  helpline directory list --db helpline.db --type cav --json`,
		Args: argsNamed(),
		RunE: func(c *cobra.Command, args []string) error {
			return runDirectoryQuery(c, d, &flags, &filters, out, "")
		},
	}
	flags.register(cmd)
	out.register(cmd)
	filters.register(cmd)
	return cmd
}

func newDirectorySearchCmd(d *Deps) *cobra.Command {
	var flags directoryFlags
	var out directoryOutput
	var filters entryFilters
	cmd := &cobra.Command{
		Use:   "search WORD...",
		Short: "Find services by name, place, type, phone or notes",
		Long: `Lists the services in which every WORD occurs (case and accents ignored) in
the code, name, type, municipality, province, region, address, phone or
notes. Without --confidential a confidential entry matches only on what the
listing shows: searching for a street never reveals that a shelter is there.`,
		Example: `  helpline directory search --db helpline.db antiviolenza padova
  helpline directory search --db helpline.db --type health inglese`,
		Args: func(c *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usageErrorf("%smissing argument WORD", prefix(c))
			}
			return nil
		},
		RunE: func(c *cobra.Command, args []string) error {
			return runDirectoryQuery(c, d, &flags, &filters, out, strings.Join(args, " "))
		},
	}
	flags.register(cmd)
	out.register(cmd)
	filters.register(cmd)
	return cmd
}

func runDirectoryQuery(c *cobra.Command, d *Deps, flags *directoryFlags, filters *entryFilters, out directoryOutput, text string) error {
	q, err := filters.query(c, text, out.confidential)
	if err != nil {
		return err
	}
	db, err := flags.open(c, d, true)
	if err != nil {
		return err
	}
	defer db.Close()
	all, err := db.List(c.Context())
	if err != nil {
		return err
	}
	// The package redacts; printEntries then marks what it withheld, so
	// the entries it gets must still say they are confidential.
	found, err := directory.Search(all, q)
	if err != nil {
		return usageErrorf("%s%v", prefix(c), err)
	}
	if len(found) == 0 && !out.json {
		if len(all) == 0 {
			return fmt.Errorf("%sthe directory in %s is empty: load one with 'helpline directory import'", prefix(c), db.Path())
		}
		fmt.Fprintln(d.Stderr, "no service matches")
		return nil
	}
	return printEntries(d.Stdout, found, out)
}

func newDirectorySuggestCmd(d *Deps) *cobra.Command {
	var flags directoryFlags
	var out directoryOutput
	var province, at, tz string
	var limit int
	cmd := &cobra.Command{
		Use:   "suggest --province PD",
		Short: "Whom to call for a caller from a province, open ones first",
		Long: `Lists the services of the province first, then those of the rest of its
region; within each, those open now by their hours first, then those with
unknown hours, then closed ones (with when they open); anti-violence
centres before shelters, police, carabinieri, health, legal and social
services. Dial the call_service feature code and the code to call one.

--province takes a sigla (PD), a name (Padova) or the ISTAT number an
operator dials from the phone (028). Hours are read on the service's time
zone (--tz, else the configuration's, else Europe/Rome) at --at, else now.`,
		Example: `  helpline directory suggest --config /etc/helpline/helpline.yaml --province PD
  helpline directory suggest --db helpline.db --province 058 --at "2025-06-04 22:30"`,
		Args: argsNamed(),
		RunE: func(c *cobra.Command, args []string) error {
			if province == "" {
				return usageErrorf("%smissing --province (a sigla such as PD)", prefix(c))
			}
			p, ok := directory.LookupProvince(province)
			if !ok {
				return usageErrorf("%sinvalid --province %q: not an Italian province (a sigla such as PD, or its ISTAT number)", prefix(c), province)
			}
			if limit < 0 {
				return usageErrorf("%sinvalid --limit %d: want 0 (all) or more", prefix(c), limit)
			}
			db, err := flags.open(c, d, true)
			if err != nil {
				return err
			}
			defer db.Close()
			loc, err := flags.location(c, tz)
			if err != nil {
				return err
			}
			now := d.Clock.Now()
			if at != "" {
				if now, err = parseAt(at, loc); err != nil {
					return usageErrorf("%sinvalid --at %q: %v", prefix(c), at, err)
				}
			}
			ss, err := directory.New(db).Suggest(c.Context(), p.Code, now, loc)
			if err != nil {
				return err
			}
			if limit > 0 && len(ss) > limit {
				ss = ss[:limit]
			}
			feature := defaultCallServiceCode
			if flags.cfg != nil && flags.cfg.FeatureCodes[config.FeatureCallService] != "" {
				feature = flags.cfg.FeatureCodes[config.FeatureCallService]
			}
			return printSuggestions(d.Stdout, p, now.In(loc), feature, ss, out)
		},
	}
	flags.register(cmd)
	out.register(cmd)
	f := cmd.Flags()
	f.StringVar(&province, "province", "", "the caller's province: sigla (PD), name or ISTAT number (028)")
	f.StringVar(&at, "at", "", `evaluate opening hours at this time ("2025-06-04 22:30" in --tz, or RFC 3339) instead of now`)
	f.StringVar(&tz, "tz", "", "time zone of the opening hours (default: the config's, else Europe/Rome)")
	f.IntVar(&limit, "limit", 0, "print at most this many services (0: all)")
	return cmd
}

// parseAt reads --at: RFC 3339, or a local "YYYY-MM-DD HH:MM" in loc.
func parseAt(s string, loc *time.Location) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	for _, layout := range []string{"2006-01-02 15:04", "2006-01-02T15:04", "2006-01-02 15:04:05"} {
		if t, err := time.ParseInLocation(layout, s, loc); err == nil {
			return t, nil
		}
	}
	return time.Time{}, errors.New(`want "2006-01-02 15:04" or RFC 3339`)
}

func printSuggestions(w io.Writer, p directory.Province, now time.Time, feature string, ss []directory.Suggestion, o directoryOutput) error {
	if o.json {
		out := make([]entryJSON, 0, len(ss))
		for _, s := range ss {
			j := toJSON(s.Entry, o.confidential)
			j.Status = s.State.String()
			j.Nearby = "region"
			if s.SameProvince {
				j.Nearby = "province"
			}
			if !s.NextOpen.IsZero() {
				j.NextOpen = s.NextOpen.In(now.Location()).Format(time.RFC3339)
			}
			out = append(out, j)
		}
		return writeJSON(w, out)
	}
	if len(ss) == 0 {
		_, err := fmt.Fprintf(w, "No service in %s (%s) or in the rest of %s.\n", p.Name, p.Code, p.Region)
		return err
	}
	fmt.Fprintf(w, "Services for %s (%s, %s) at %s; dial %s and the code:\n",
		p.Name, p.Code, p.Region, now.Format("Mon 02 Jan 2006 15:04 MST"), feature)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "CODE\tPROV\tSTATUS\tTYPE\tNAME\tMUNICIPALITY\tPHONE\tHOURS")
	for _, s := range ss {
		e := s.Entry
		status := s.State.String()
		if !s.NextOpen.IsZero() {
			status += ", opens " + s.NextOpen.In(now.Location()).Format("Mon 15:04")
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", e.Code, e.Province, status, e.Type, oneLine(e.Name),
			withheld(e, o.confidential, oneLine(e.Municipality)), withheld(e, o.confidential, e.Phone), hoursText(e.Hours))
	}
	return tw.Flush()
}

func newDirectoryShowCmd(d *Deps) *cobra.Command {
	var flags directoryFlags
	var out directoryOutput
	cmd := &cobra.Command{
		Use:   "show CODE",
		Short: "Show one service by its code",
		Long: `Shows every field of the service with CODE. A confidential entry's address,
notes, phone number and municipality are withheld unless --confidential is
given. The status is 1 if no service has CODE.`,
		Example: `  helpline directory show --db helpline.db 4711
  helpline directory show --db helpline.db --confidential 4711`,
		Args: argsNamed("CODE"),
		RunE: func(c *cobra.Command, args []string) error {
			code := args[0]
			if !directory.IsCode(code) {
				return usageErrorf("%sinvalid code %q: want four digits, 1000 to 9999", prefix(c), code)
			}
			db, err := flags.open(c, d, true)
			if err != nil {
				return err
			}
			defer db.Close()
			e, err := db.Get(c.Context(), code)
			if errors.Is(err, directory.ErrNotFound) {
				return fmt.Errorf("%sno service has code %s", prefix(c), code)
			}
			if err != nil {
				return err
			}
			if out.json {
				return writeJSON(d.Stdout, toJSON(e, out.confidential))
			}
			return printEntry(d.Stdout, e, out.confidential)
		},
	}
	flags.register(cmd)
	out.register(cmd)
	return cmd
}

func printEntry(w io.Writer, e directory.Entry, reveal bool) error {
	p, _ := directory.LookupProvince(e.Province)
	phone := ""
	if e.Phone != "" {
		phone = e.Phone + " (dialled as " + e.Dial + ")"
	}
	conf := "no"
	if e.Confidential {
		conf = "yes"
		if !reveal {
			conf += " (address, notes, phone and municipality withheld; --confidential shows them)"
		}
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, kv := range [][2]string{
		{"code", e.Code},
		{"name", oneLine(e.Name)},
		{"type", e.Type.String() + " (" + e.Type.Italian() + ")"},
		{"province", e.Province + " (" + p.Name + ", " + e.Region + ")"},
		{"municipality", withheld(e, reveal, oneLine(e.Municipality))},
		{"address", withheld(e, reveal, oneLine(e.Address))},
		{"phone", withheld(e, reveal, phone)},
		{"hours", hoursText(e.Hours)},
		{"notes", withheld(e, reveal, oneLine(e.Notes))},
		{"confidential", conf},
	} {
		fmt.Fprintf(tw, "%s\t%s\n", kv[0], kv[1])
	}
	return tw.Flush()
}

func newDirectoryExportCmd(d *Deps) *cobra.Command {
	var flags directoryFlags
	cmd := &cobra.Command{
		Use:   "export",
		Short: "Write the whole directory as CSV, codes included, for editing and re-import",
		Long: `Writes every service to stdout in the format 'import' reads (';'-separated,
with a code column, so that re-importing an edited export keeps every code).
The export is complete, confidential fields included: it is for an
administrator's spreadsheet, not for printing.`,
		Example: `  helpline directory export --db helpline.db > mappatura.csv`,
		Args:    argsNamed(),
		RunE: func(c *cobra.Command, args []string) error {
			db, err := flags.open(c, d, true)
			if err != nil {
				return err
			}
			defer db.Close()
			all, err := db.List(c.Context())
			if err != nil {
				return err
			}
			return directory.WriteCSV(d.Stdout, all)
		},
	}
	flags.register(cmd)
	return cmd
}
