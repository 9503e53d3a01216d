package directory

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Limits on a directory file. The whole Mappatura is a few thousand rows;
// these only stop a wrong file (a database dump, a binary) early.
const (
	// MaxFileSize is the largest file Parse reads.
	MaxFileSize = 16 << 20
	// MaxRows is the most rows a file may have.
	MaxRows = 50_000
)

// Column names, as the header writes them (English or Italian, case and
// accents ignored).
const (
	ColCode         = "code"
	ColName         = "name"
	ColType         = "type"
	ColRegion       = "region"
	ColProvince     = "province"
	ColMunicipality = "municipality"
	ColAddress      = "address"
	ColPhone        = "phone"
	ColHours        = "hours"
	ColNotes        = "notes"
	ColConfidential = "confidential"
)

// Columns lists every column, in the order WriteCSV writes them.
func Columns() []string {
	return []string{ColCode, ColName, ColType, ColRegion, ColProvince, ColMunicipality, ColAddress,
		ColPhone, ColHours, ColNotes, ColConfidential}
}

// requiredColumns must be in every header.
var requiredColumns = []string{ColName, ColType, ColProvince, ColPhone}

var columnAliases = map[string]string{
	"code": ColCode, "codice": ColCode,
	"name": ColName, "nome": ColName, "denominazione": ColName,
	"type": ColType, "tipo": ColType, "tipologia": ColType,
	"region": ColRegion, "regione": ColRegion,
	"province": ColProvince, "provincia": ColProvince, "sigla": ColProvince,
	"municipality": ColMunicipality, "comune": ColMunicipality,
	"address": ColAddress, "indirizzo": ColAddress,
	"phone": ColPhone, "telefono": ColPhone, "tel": ColPhone,
	"hours": ColHours, "orari": ColHours, "orario": ColHours,
	"notes": ColNotes, "note": ColNotes,
	"confidential": ColConfidential, "riservato": ColConfidential, "riservata": ColConfidential, "confidenziale": ColConfidential,
}

// Field lengths, in characters.
const (
	maxNameLen  = 200
	maxShortLen = 200 // municipality, address
	maxNotesLen = 2000
)

// Row is one good row of a directory file.
type Row struct {
	// Line is the row's first line in the file.
	Line int
	// Entry is the row's data; Code is empty unless the file gave one.
	Entry Entry
}

// Parse reads a directory CSV: UTF-8 with or without a byte-order mark,
// fields separated by ';' or ',' (whichever the header uses: Italian
// spreadsheets export ';'), a header row naming the columns in any order.
// Blank rows are skipped. It checks every field of every row and returns
// the good rows and a problem for each bad field (all of them, in file
// order); rows with a problem are not in rows. A problem with the file as
// a whole (unreadable, too large, a bad header) is returned as the error,
// or as a problem on line 1 for the header.
func Parse(r io.Reader) (rows []Row, problems []*RowError, err error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxFileSize+1))
	if err != nil {
		return nil, nil, fmt.Errorf("directory: read: %w", err)
	}
	if len(data) > MaxFileSize {
		return nil, nil, fmt.Errorf("directory: the file is larger than %d MiB: is it the right file?", MaxFileSize>>20)
	}
	data = bytes.TrimPrefix(data, []byte("\uFEFF"))
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, nil, errors.New("directory: the file is empty: want a header row (name;type;province;phone;…) and one row per service")
	}
	cr := csv.NewReader(bytes.NewReader(data))
	cr.Comma = sniffSeparator(data)
	cr.FieldsPerRecord = -1

	header, err := cr.Read()
	if err != nil {
		return nil, []*RowError{{Line: 1, Err: fmt.Errorf("header: %v", csvMessage(err))}}, nil
	}
	cols, hp := parseHeader(header)
	if len(hp) > 0 {
		return nil, hp, nil
	}
	p := &rowParser{cols: cols, width: len(header)}
	for n := 0; ; n++ {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if n >= MaxRows {
			return nil, nil, fmt.Errorf("directory: more than %d rows: is it the right file?", MaxRows)
		}
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			problems = append(problems, &RowError{Line: pe.StartLine, Err: errors.New(csvMessage(err))})
			continue
		}
		if err != nil {
			return nil, nil, fmt.Errorf("directory: read: %w", err)
		}
		line, _ := cr.FieldPos(0)
		row, bad := p.parse(line, rec)
		if bad != nil {
			problems = append(problems, bad...)
			continue
		}
		if row != nil {
			rows = append(rows, *row)
		}
	}
	problems = append(problems, duplicates(rows)...)
	if len(problems) > 0 {
		sortProblems(problems)
		rows = withoutLines(rows, problems)
	}
	return rows, problems, nil
}

// csvMessage turns encoding/csv's error into words without its "record
// on line N" prefix (the caller names the line).
func csvMessage(err error) string {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		switch {
		case errors.Is(pe.Err, csv.ErrBareQuote):
			return fmt.Sprintf("a \" in an unquoted field (column %d): quote the field and double the \"", pe.Column)
		case errors.Is(pe.Err, csv.ErrQuote):
			return fmt.Sprintf("a quoted field is not closed properly (line %d, column %d)", pe.Line, pe.Column)
		}
		return pe.Err.Error()
	}
	return err.Error()
}

// sniffSeparator picks ';', ',' or tab: whichever occurs most in the
// header line outside quotes (';' on a tie: it is what Italian Excel and
// LibreOffice write).
func sniffSeparator(data []byte) rune {
	counts := map[byte]int{}
	quoted := false
	for _, c := range data {
		if c == '\n' && !quoted {
			break
		}
		switch c {
		case '"':
			quoted = !quoted
		case ';', ',', '\t':
			if !quoted {
				counts[c]++
			}
		}
	}
	best := byte(';')
	for _, c := range []byte{',', '\t'} {
		if counts[c] > counts[best] {
			best = c
		}
	}
	return rune(best)
}

// parseHeader maps each field of the header to its column, reporting
// unknown, duplicate and missing columns.
func parseHeader(header []string) ([]string, []*RowError) {
	var problems []*RowError
	cols := make([]string, len(header))
	seen := map[string]bool{}
	for i, h := range header {
		if !utf8.ValidString(h) {
			problems = append(problems, &RowError{Line: 1, Err: fmt.Errorf("header field %d is not UTF-8 text: save the file as \"CSV UTF-8\"", i+1)})
			continue
		}
		name := strings.TrimSpace(h)
		if name == "" {
			continue // an empty trailing header cell, as spreadsheets leave
		}
		col, ok := columnAliases[fold(name)]
		switch {
		case !ok:
			problems = append(problems, &RowError{Line: 1, Column: clip(name),
				Err: fmt.Errorf("unknown column (want %s)", strings.Join(Columns(), ", "))})
		case seen[col]:
			problems = append(problems, &RowError{Line: 1, Column: clip(name), Err: fmt.Errorf("column %s appears twice", col)})
		default:
			seen[col] = true
			cols[i] = col
		}
	}
	for _, req := range requiredColumns {
		if !seen[req] && len(problems) == 0 {
			problems = append(problems, &RowError{Line: 1, Column: req, Err: errors.New("missing from the header")})
		}
	}
	return cols, problems
}

type rowParser struct {
	cols  []string // column of each field, "" for ignored (empty header cell)
	width int
}

// parse checks one record. It returns nil, nil for a blank row.
func (p *rowParser) parse(line int, rec []string) (*Row, []*RowError) {
	blank := true
	for _, f := range rec {
		if strings.TrimSpace(f) != "" {
			blank = false
			break
		}
	}
	if blank {
		return nil, nil
	}
	if len(rec) > p.width {
		for _, f := range rec[p.width:] {
			if strings.TrimSpace(f) != "" {
				return nil, []*RowError{{Line: line, Err: fmt.Errorf("has %d fields; the header has %d", len(rec), p.width)}}
			}
		}
		rec = rec[:p.width]
	}
	if len(rec) < p.width {
		return nil, []*RowError{{Line: line, Err: fmt.Errorf("has %d fields; the header has %d", len(rec), p.width)}}
	}
	var problems []*RowError
	bad := func(col string, format string, args ...any) {
		problems = append(problems, &RowError{Line: line, Column: col, Err: fmt.Errorf(format, args...)})
	}
	val := map[string]string{}
	for i, f := range rec {
		col := p.cols[i]
		if col == "" {
			if strings.TrimSpace(f) != "" {
				bad("", "field %d has a value but no column name in the header", i+1)
			}
			continue
		}
		if !utf8.ValidString(f) {
			bad(col, "is not UTF-8 text: save the file as \"CSV UTF-8\"")
			continue
		}
		f = strings.TrimSpace(strings.ReplaceAll(f, "\r\n", "\n"))
		if c := controlChar(f, col == ColNotes); c >= 0 {
			bad(col, "%q contains the control character %U", clip(f), c)
			continue
		}
		val[col] = f
	}
	if len(problems) > 0 {
		return nil, problems
	}
	var e Entry
	text := func(col string, limit int, required bool) string {
		v := val[col]
		switch {
		case v == "" && required:
			bad(col, "is empty")
		case utf8.RuneCountInString(v) > limit:
			bad(col, "is %d characters long; at most %d", utf8.RuneCountInString(v), limit)
		}
		return v
	}
	e.Name = text(ColName, maxNameLen, true)
	e.Municipality = text(ColMunicipality, maxShortLen, false)
	e.Address = text(ColAddress, maxShortLen, false)
	e.Notes = text(ColNotes, maxNotesLen, false)

	if v := val[ColCode]; v != "" {
		if err := checkCode(v); err != nil {
			bad(ColCode, "%v", err)
		}
		e.Code = v
	}
	if v := val[ColType]; v == "" {
		bad(ColType, "is empty")
	} else if t, err := ParseType(v); err != nil {
		bad(ColType, "%q is not a service type (cav, shelter, police, carabinieri, health, legal, social, other, or Italian: centro antiviolenza, casa rifugio, …)", clip(v))
	} else {
		e.Type = t
	}
	prov, provOK := Province{}, false
	if v := val[ColProvince]; v == "" {
		bad(ColProvince, "is empty")
	} else if prov, provOK = LookupProvince(v); !provOK {
		bad(ColProvince, "%q is not an Italian province (write its sigla: PD, RM, MI, …)", clip(v))
	} else {
		e.Province, e.Region = prov.Code, prov.Region
	}
	if v := val[ColRegion]; v != "" {
		r, ok := LookupRegion(v)
		switch {
		case !ok:
			bad(ColRegion, "%q is not an Italian region", clip(v))
		case provOK && r != prov.Region:
			bad(ColRegion, "%q is not the region of %s (%s is in %s)", clip(v), prov.Code, prov.Name, prov.Region)
		}
	}
	if v := val[ColPhone]; v == "" {
		bad(ColPhone, "is empty: the switchboard needs a number to dial")
	} else if dial, err := ParsePhone(v); err != nil {
		bad(ColPhone, "%q is not a phone number", clip(v))
	} else {
		e.Phone, e.Dial = v, dial
	}
	if h, err := ParseHours(val[ColHours]); err != nil {
		bad(ColHours, "%v", err)
	} else {
		e.Hours = h
	}
	conf, set, err := parseBool(val[ColConfidential])
	switch {
	case err != nil:
		bad(ColConfidential, "%v", err)
	case e.Type == TypeShelter && set && !conf:
		bad(ColConfidential, "%q: a shelter (casa rifugio) is always confidential; its address must never be printed", clip(val[ColConfidential]))
	case set:
		e.Confidential = conf
	default:
		e.Confidential = e.Type == TypeShelter
	}
	if e.Type == TypeShelter {
		e.Confidential = true
	}
	if len(problems) > 0 {
		return nil, problems
	}
	return &Row{Line: line, Entry: e}, nil
}

// controlChar returns the first control character in s (newlines and tabs
// allowed where multiline is true), or -1.
func controlChar(s string, multiline bool) rune {
	for _, r := range s {
		if unicode.IsControl(r) && !(multiline && (r == '\n' || r == '\t')) {
			return r
		}
	}
	return -1
}

// parseBool reads the confidential column: empty means "not set".
func parseBool(s string) (v, set bool, err error) {
	switch fold(s) {
	case "":
		return false, false, nil
	case "si", "s", "yes", "y", "true", "1", "x", "vero":
		return true, true, nil
	case "no", "n", "false", "0", "falso":
		return false, true, nil
	}
	return false, false, fmt.Errorf("%q is not yes or no (sì/no, true/false, 1/0)", clip(s))
}

// clip shortens a quoted value so that an error stays one readable line.
func clip(s string) string {
	const max = 60
	if utf8.RuneCountInString(s) <= max {
		return s
	}
	r := []rune(s)
	return string(r[:max]) + "…"
}

// duplicates reports rows that are the same service twice: the same
// explicit code, or (without a code) the same type, province,
// municipality and name.
func duplicates(rows []Row) []*RowError {
	var problems []*RowError
	byCode := map[string]int{}
	byKey := map[string]int{}
	for _, r := range rows {
		if r.Entry.Code != "" {
			if first, ok := byCode[r.Entry.Code]; ok {
				problems = append(problems, &RowError{Line: r.Line, Column: ColCode,
					Err: fmt.Errorf("%s is also the code on line %d", r.Entry.Code, first)})
				continue
			}
			byCode[r.Entry.Code] = r.Line
			continue
		}
		k := r.Entry.key()
		if first, ok := byKey[k]; ok {
			problems = append(problems, &RowError{Line: r.Line,
				Err: fmt.Errorf("same name, type and municipality as line %d: merge them, or give each a code", first)})
			continue
		}
		byKey[k] = r.Line
	}
	return problems
}

// sortProblems orders problems by line; stable, so the problems of one
// line stay in column order.
func sortProblems(p []*RowError) {
	slices.SortStableFunc(p, func(a, b *RowError) int { return a.Line - b.Line })
}

func withoutLines(rows []Row, problems []*RowError) []Row {
	bad := map[int]bool{}
	for _, p := range problems {
		bad[p.Line] = true
	}
	out := rows[:0]
	for _, r := range rows {
		if !bad[r.Line] {
			out = append(out, r)
		}
	}
	return out
}

// WriteCSV writes entries in the format Parse reads (';'-separated, with
// a header and the code column, so that re-importing the output keeps
// every code). It writes confidential fields too: the file is for an
// administrator, not for a printout.
func WriteCSV(w io.Writer, entries []Entry) error {
	cw := csv.NewWriter(w)
	cw.Comma = ';'
	if err := cw.Write(Columns()); err != nil {
		return err
	}
	for _, e := range entries {
		conf := "no"
		if e.Confidential {
			conf = "sì"
		}
		if err := cw.Write([]string{e.Code, e.Name, e.Type.String(), e.Region, e.Province, e.Municipality,
			e.Address, e.Phone, e.Hours.String(), e.Notes, conf}); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}
