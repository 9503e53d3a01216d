package cdr

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/helpline-it/helpline/callerid"
)

// MaxNeutralLine caps one line of a neutral file. A call record is a few
// hundred bytes; a longer line is a broken file, and reading it whole
// would let one bad line exhaust memory.
const MaxNeutralLine = 64 << 10

// neutralKeys are the keys a neutral line may carry, in the order the
// NeutralWriter emits them. The import-only keys "caller" and "callee"
// hold raw numbers and are never written back.
var neutralKeys = []string{
	"id", "direction", "service", "arrived_at", "outcome",
	"caller", "caller_hash", "withheld", "language", "queued_at", "connected_at",
	"ended_at", "operator", "callee", "callee_hash", "target",
	"hangup_cause", "hangup_by", "voicemail", "transfer", "fallback", "note",
}

// neutralIn is one line as read. Caller and Callee are pointers so that
// an absent key can be told from an empty (withheld) one.
type neutralIn struct {
	ID          string  `json:"id"`
	Direction   string  `json:"direction"`
	Service     string  `json:"service"`
	ArrivedAt   string  `json:"arrived_at"`
	Outcome     string  `json:"outcome"`
	Caller      *string `json:"caller"`
	CallerHash  string  `json:"caller_hash"`
	Withheld    bool    `json:"withheld"`
	Language    string  `json:"language"`
	QueuedAt    string  `json:"queued_at"`
	ConnectedAt string  `json:"connected_at"`
	EndedAt     string  `json:"ended_at"`
	Operator    string  `json:"operator"`
	Callee      *string `json:"callee"`
	CalleeHash  string  `json:"callee_hash"`
	Target      string  `json:"target"`
	HangupCause int     `json:"hangup_cause"`
	HangupBy    string  `json:"hangup_by"`
	Voicemail   string  `json:"voicemail"`
	Transfer    string  `json:"transfer"`
	Fallback    bool    `json:"fallback"`
	Note        string  `json:"note"`
}

// neutralOut is one line as exported: hashes only, by construction.
type neutralOut struct {
	ID          string `json:"id"`
	Direction   string `json:"direction"`
	Service     string `json:"service,omitempty"`
	ArrivedAt   string `json:"arrived_at"`
	Outcome     string `json:"outcome"`
	CallerHash  string `json:"caller_hash,omitempty"`
	Withheld    bool   `json:"withheld,omitempty"`
	Language    string `json:"language,omitempty"`
	QueuedAt    string `json:"queued_at,omitempty"`
	ConnectedAt string `json:"connected_at,omitempty"`
	EndedAt     string `json:"ended_at,omitempty"`
	Operator    string `json:"operator,omitempty"`
	CalleeHash  string `json:"callee_hash,omitempty"`
	Target      string `json:"target,omitempty"`
	HangupCause int    `json:"hangup_cause,omitempty"`
	HangupBy    string `json:"hangup_by,omitempty"`
	Voicemail   string `json:"voicemail,omitempty"`
	Transfer    string `json:"transfer,omitempty"`
	Fallback    bool   `json:"fallback,omitempty"`
	Note        string `json:"note,omitempty"`
}

// NeutralOptions tunes a NeutralReader. The zero value is strict.
type NeutralOptions struct {
	// AllowUnknownKeys accepts lines with keys outside the format; they
	// are dropped and reported to OnUnknownKeys. By default an unknown
	// key is an error, because it is usually a typo ("conected_at") that
	// would silently lose a field, and nothing is imported until the file
	// is fixed.
	AllowUnknownKeys bool
	// OnUnknownKeys, if set, is told of the unknown keys of each line
	// when AllowUnknownKeys is set.
	OnUnknownKeys func(line int, keys []string)
	// Service is given to records whose line has no "service" key.
	Service string
}

// NeutralReader decodes a neutral call-record file, plain or gzipped
// (recognised by its magic bytes, whatever the file is called), into
// Records. Raw numbers are hashed as soon as a line is decoded and are
// never kept, returned or put in an error.
type NeutralReader struct {
	src  *lineSource
	h    *callerid.Hasher
	opts NeutralOptions
	err  error // sticky: I/O or gzip error, or io.EOF
}

// lineSource splits a neutral file, plain or gzipped, into lines.
type lineSource struct {
	br   *bufio.Reader
	gz   *gzip.Reader
	line int
}

func newLineSource(r io.Reader) (*lineSource, error) {
	br := bufio.NewReaderSize(r, MaxNeutralLine)
	s := &lineSource{br: br}
	if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		gz, err := gzip.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("cdr: gzip: %w", err)
		}
		s.gz = gz
		s.br = bufio.NewReaderSize(gz, MaxNeutralLine)
	}
	return s, nil
}

// NewNeutralReader reads neutral lines from r, hashing numbers with h.
// It fails only if r looks gzipped but has a broken gzip header.
func NewNeutralReader(r io.Reader, h *callerid.Hasher, opts NeutralOptions) (*NeutralReader, error) {
	if h == nil {
		return nil, errors.New("cdr: NewNeutralReader needs a callerid.Hasher")
	}
	src, err := newLineSource(r)
	if err != nil {
		return nil, err
	}
	return &NeutralReader{src: src, h: h, opts: opts}, nil
}

// Line returns the number of the line last read (1-based).
func (d *NeutralReader) Line() int { return d.src.line }

// Read returns the next record. At the end of the input it returns
// io.EOF. A bad line yields a *LineError (whose cause has code EINVALID)
// and Read can be called again to go on with the next line, so an
// importer can list every bad line at once. Any other error (a read
// error, a corrupt gzip stream) ends the input and is returned again by
// later calls.
func (d *NeutralReader) Read() (Record, error) {
	for {
		if d.err != nil {
			return Record{}, d.err
		}
		line, err := d.src.next()
		if err != nil {
			var le *LineError
			if errors.As(err, &le) {
				return Record{}, err
			}
			d.err = err
			continue
		}
		if line == nil { // blank line
			continue
		}
		rec, unknown, err := decodeNeutral(line, d.h, d.opts.AllowUnknownKeys)
		if err != nil {
			return Record{}, &LineError{Line: d.src.line, Err: err}
		}
		if len(unknown) > 0 && d.opts.OnUnknownKeys != nil {
			d.opts.OnUnknownKeys(d.src.line, unknown)
		}
		if rec.Service == "" {
			rec.Service = d.opts.Service
		}
		return rec, nil
	}
}

// next returns the next line without its end, nil for a blank line,
// a *LineError for an over-long line (which it skips), or the read error.
func (d *lineSource) next() ([]byte, error) {
	line, err := d.br.ReadSlice('\n')
	if len(line) == 0 && err != nil {
		if err == io.EOF {
			return nil, io.EOF
		}
		return nil, fmt.Errorf("cdr: after line %d: %w", d.line, err)
	}
	d.line++
	if errors.Is(err, bufio.ErrBufferFull) {
		for errors.Is(err, bufio.ErrBufferFull) {
			_, err = d.br.ReadSlice('\n')
		}
		if err != nil && err != io.EOF {
			return nil, fmt.Errorf("cdr: line %d: %w", d.line, err)
		}
		return nil, &LineError{Line: d.line, Err: Errorf(EINVALID, "line longer than %d bytes", MaxNeutralLine)}
	}
	if err != nil && err != io.EOF {
		return nil, fmt.Errorf("cdr: line %d: %w", d.line, err)
	}
	if d.line == 1 {
		line = bytes.TrimPrefix(line, []byte("\xef\xbb\xbf")) // a BOM from a spreadsheet
	}
	line = bytes.TrimSpace(line)
	if len(line) == 0 {
		return nil, nil
	}
	return line, nil
}

// Close releases the gzip reader, if any. It does not close the
// underlying reader.
func (d *NeutralReader) Close() error { return d.src.close() }

func (d *lineSource) close() error {
	if d.gz != nil {
		return d.gz.Close()
	}
	return nil
}

// DecodeNeutral decodes one neutral line strictly (unknown keys are an
// error), hashing numbers with h, and validates it with Record.Validate.
// Errors have code EINVALID and name every problem found on the line.
func DecodeNeutral(line []byte, h *callerid.Hasher) (Record, error) {
	rec, _, err := decodeNeutral(line, h, false)
	return rec, err
}

func decodeNeutral(line []byte, h *callerid.Hasher, allowUnknown bool) (Record, []string, error) {
	var in neutralIn
	var unknown []string
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.DisallowUnknownFields()
	err := dec.Decode(&in)
	if err != nil && isUnknownField(err) {
		unknown = unknownKeys(line)
		if !allowUnknown {
			return Record{}, unknown, Errorf(EINVALID, "unknown keys %s (known: %v)", quoteKeys(unknown), neutralKeys)
		}
		in = neutralIn{}
		err = json.Unmarshal(line, &in)
	}
	if err != nil {
		return Record{}, unknown, jsonError(err)
	}
	if dec.More() {
		return Record{}, unknown, Errorf(EINVALID, "bad JSON: more than one value on the line")
	}

	// Hash the numbers first of all, and drop them.
	rec := Record{
		ID: in.ID, Direction: Direction(in.Direction), Service: in.Service, Outcome: Outcome(in.Outcome),
		Language: in.Language, Operator: in.Operator, Target: in.Target,
		HangupCause: in.HangupCause, HangupBy: in.HangupBy, Voicemail: in.Voicemail,
		Transfer: in.Transfer, Fallback: in.Fallback, Note: in.Note,
	}
	var p problems
	switch {
	case in.Caller != nil && in.CallerHash != "":
		p.add("both caller and caller_hash")
	case in.Caller != nil && rec.Direction == Outbound:
		p.add("caller on an outbound call")
	case in.Withheld:
		rec.Withheld = true // the raw caller, if any, is not even hashed
		rec.CallerHash = in.CallerHash
	case in.Caller != nil:
		id := h.Identify(*in.Caller)
		rec.Withheld, rec.CallerHash = id.Withheld, id.Hash
	default:
		rec.CallerHash = in.CallerHash
	}
	switch {
	case in.Callee != nil && in.CalleeHash != "":
		p.add("both callee and callee_hash")
	case in.Callee != nil && rec.Direction == Inbound:
		p.add("callee on an inbound call")
	case in.Callee != nil:
		id := h.Identify(*in.Callee)
		if id.Withheld {
			p.add("callee is not a phone number")
		}
		rec.CalleeHash = id.Hash
	default:
		rec.CalleeHash = in.CalleeHash
	}
	in.Caller, in.Callee = nil, nil

	rec.ArrivedAt = parseTime(&p, "arrived_at", in.ArrivedAt)
	rec.QueuedAt = parseTime(&p, "queued_at", in.QueuedAt)
	rec.ConnectedAt = parseTime(&p, "connected_at", in.ConnectedAt)
	rec.EndedAt = parseTime(&p, "ended_at", in.EndedAt)
	if len(p) > 0 {
		return Record{}, unknown, p.err()
	}
	if err := rec.Validate(); err != nil {
		return Record{}, unknown, err
	}
	return rec, unknown, nil
}

func parseTime(p *problems, key, s string) time.Time {
	if s == "" {
		return time.Time{}
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		p.add("%s %s is not an RFC 3339 time", key, redact(s))
		return time.Time{}
	}
	return t.UTC()
}

func isUnknownField(err error) bool {
	// encoding/json has no typed error for this; its message is stable
	// ("json: unknown field \"x\"") and covered by a test.
	return err != nil && bytes.HasPrefix([]byte(err.Error()), []byte("json: unknown field "))
}

// unknownKeys lists every top-level key of line outside the format, in
// the order they appear. It runs only on lines already known to be bad.
func unknownKeys(line []byte) []string {
	dec := json.NewDecoder(bytes.NewReader(line))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil
	}
	var keys []string
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			break
		}
		k, _ := tok.(string)
		if !slices.ContainsFunc(neutralKeys, func(n string) bool { return equalFoldASCII(n, k) }) {
			keys = append(keys, k)
		}
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			break
		}
	}
	return keys
}

// equalFoldASCII matches keys the way encoding/json does for our
// all-ASCII field names.
func equalFoldASCII(a, b string) bool { return bytes.EqualFold([]byte(a), []byte(b)) }

func quoteKeys(keys []string) string {
	var b bytes.Buffer
	for i, k := range keys {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(redact(k))
	}
	return b.String()
}

// jsonError turns an encoding/json error into a message that names the
// key and never quotes a value (which could be a number).
func jsonError(err error) error {
	var te *json.UnmarshalTypeError
	var se *json.SyntaxError
	switch {
	case errors.As(err, &te):
		return Errorf(EINVALID, "bad JSON: %s is a %s, want %s", redact(te.Field), te.Value, jsonKind(te.Type.Kind().String()))
	case errors.As(err, &se):
		return Errorf(EINVALID, "bad JSON at byte %d: %s", se.Offset, se.Error())
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return Errorf(EINVALID, "bad JSON: the line ends inside a value")
	}
	return Errorf(EINVALID, "bad JSON: %s", err.Error())
}

func jsonKind(k string) string {
	switch k {
	case "ptr":
		return "string"
	case "int":
		return "integer"
	}
	return k
}

// NeutralWriter writes Records as neutral lines (the export format, see
// the package doc). Call Flush when done.
type NeutralWriter struct {
	bw *bufio.Writer
}

// NewNeutralWriter returns a writer onto w.
func NewNeutralWriter(w io.Writer) *NeutralWriter {
	return &NeutralWriter{bw: bufio.NewWriterSize(w, 64<<10)}
}

// Write writes r as one line. It writes hashes, never numbers: a Record
// holds none.
func (w *NeutralWriter) Write(r Record) error {
	r = r.Canonical()
	out := neutralOut{
		ID: r.ID, Direction: string(r.Direction), Service: r.Service,
		ArrivedAt: fmtTime(r.ArrivedAt), Outcome: string(r.Outcome),
		CallerHash: r.CallerHash, Withheld: r.Withheld, Language: r.Language,
		QueuedAt: fmtTime(r.QueuedAt), ConnectedAt: fmtTime(r.ConnectedAt), EndedAt: fmtTime(r.EndedAt),
		Operator: r.Operator, CalleeHash: r.CalleeHash, Target: r.Target,
		HangupCause: r.HangupCause, HangupBy: r.HangupBy, Voicemail: r.Voicemail,
		Transfer: r.Transfer, Fallback: r.Fallback, Note: r.Note,
	}
	b, err := json.Marshal(out)
	if err != nil {
		return fmt.Errorf("cdr: encode %s: %w", redact(r.ID), err)
	}
	b = append(b, '\n')
	if _, err := w.bw.Write(b); err != nil {
		return fmt.Errorf("cdr: write: %w", err)
	}
	return nil
}

// Flush writes any buffered lines to the underlying writer.
func (w *NeutralWriter) Flush() error {
	if err := w.bw.Flush(); err != nil {
		return fmt.Errorf("cdr: write: %w", err)
	}
	return nil
}

func fmtTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}
