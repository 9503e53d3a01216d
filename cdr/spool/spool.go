package spool

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/helpline-it/helpline/cdr"
)

// DefaultSegmentBytes is the size after which a segment is closed and a
// new one started. Replay deletes whole segments, so smaller segments free
// disk sooner; a record is well under 4 KiB, so this holds hundreds.
const DefaultSegmentBytes = 1 << 20

// segmentExt names segment files; badExt the segments kept for a human
// because they held corrupt frames.
const (
	segmentExt = ".spool"
	badExt     = ".bad"
	lockName   = "LOCK"
)

// ErrClosed is returned by Write after Close.
var ErrClosed = errors.New("cdr spool: closed")

// ErrLocked is returned by Open when another process holds the spool
// directory: two processes replaying and deleting the same segments could
// delete one that the other is still appending to.
var ErrLocked = errors.New("cdr spool: directory in use by another process")

// Options configures Open. Dir is required.
type Options struct {
	// Dir holds the segments (config cdr.spool_dir). It is created (0700)
	// if missing.
	Dir string
	// Clock stamps spooled records and measures their age; the real
	// clock if nil.
	Clock clockwork.Clock
	// Logger receives the loud errors; a disabled logger if zero.
	Logger zerolog.Logger
	// Registerer receives the spool's metrics; none are registered if nil.
	Registerer prometheus.Registerer
	// SegmentBytes starts a new segment once the current one is this
	// large; DefaultSegmentBytes if zero.
	SegmentBytes int64
}

// Spool is an append-only, fsync'd journal of call records that could not
// be written to the store. It is a cdr.Writer: Write returns nil only once
// the record's frame is on disk. It is safe for concurrent use.
type Spool struct {
	dir      string
	clock    clockwork.Clock
	log      zerolog.Logger
	segBytes int64
	m        *metrics
	lock     *os.File

	mu      sync.Mutex
	closed  bool
	cur     *os.File // the segment being appended to, nil between segments
	curName string
	curSize int64
	nextSeq uint64
	// segs is what is on disk, by segment file name, for the metrics.
	segs map[string]*segStat

	replayMu sync.Mutex // one replay at a time
}

type segStat struct {
	bytes   int64
	records int
	oldest  time.Time // spooled_at of its oldest record; zero if unknown
}

// envelope is a frame's payload.
type envelope struct {
	V         int        `json:"v"`
	SpooledAt time.Time  `json:"spooled_at"`
	Record    cdr.Record `json:"record"`
}

// Open opens (creating it if needed) the spool in opts.Dir and checks that
// it can be written: a spool that turns out to be unwritable in the middle
// of a call would lose the very record it exists to keep, so Open refuses
// it up front with an error that names the directory. Segments left by an
// earlier run are kept for the Replayer; new records go to a new segment.
func Open(opts Options) (*Spool, error) {
	if opts.Dir == "" {
		return nil, errors.New("cdr.spool_dir: missing (records the store refuses need a spool)")
	}
	if opts.Clock == nil {
		opts.Clock = clockwork.NewRealClock()
	}
	if opts.SegmentBytes <= 0 {
		opts.SegmentBytes = DefaultSegmentBytes
	}
	s := &Spool{dir: opts.Dir, clock: opts.Clock, log: opts.Logger, segBytes: opts.SegmentBytes, segs: map[string]*segStat{}}
	if err := s.checkWritable(); err != nil {
		return nil, err
	}
	if err := s.loadExisting(); err != nil {
		s.unlock()
		return nil, err
	}
	m, err := newMetrics(s, opts.Registerer)
	if err != nil {
		s.unlock()
		return nil, err
	}
	s.m = m
	if n, recs := s.pending(); n > 0 {
		s.log.Warn().Str("spool", s.dir).Int("segments", n).Int("records", recs).
			Msg("CDR spool holds records from an earlier run; they will be replayed into the store")
	}
	return s, nil
}

// checkWritable creates the directory, takes its lock and proves that a
// file can be created, written, fsync'd and removed there.
func (s *Spool) checkWritable() error {
	bad := func(err error) error {
		return fmt.Errorf("cdr.spool_dir %s: not writable, so call records the store refuses could not be kept: %w", s.dir, err)
	}
	if err := os.MkdirAll(s.dir, 0o700); err != nil {
		return bad(err)
	}
	lock, err := os.OpenFile(filepath.Join(s.dir, lockName), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return bad(err)
	}
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		lock.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return fmt.Errorf("cdr.spool_dir %s: %w", s.dir, ErrLocked)
		}
		return bad(err)
	}
	s.lock = lock
	probe, err := os.CreateTemp(s.dir, ".probe-*")
	if err == nil {
		_, err = probe.WriteString("helpline spool write test\n")
		if err == nil {
			err = probe.Sync()
		}
		err = errors.Join(err, probe.Close(), os.Remove(probe.Name()))
	}
	if err == nil {
		err = syncDir(s.dir)
	}
	if err != nil {
		s.unlock()
		return bad(err)
	}
	return nil
}

func (s *Spool) unlock() {
	if s.lock != nil {
		_ = s.lock.Close() // closing the descriptor releases the flock
		s.lock = nil
	}
}

// loadExisting finds the segments of earlier runs, for the metrics and for
// numbering the next segment after them.
func (s *Spool) loadExisting() error {
	names, err := s.segmentNames()
	if err != nil {
		return fmt.Errorf("cdr.spool_dir %s: %w", s.dir, err)
	}
	for _, name := range names {
		seq, _ := strconv.ParseUint(strings.TrimSuffix(name, segmentExt), 10, 64)
		s.nextSeq = max(s.nextSeq, seq+1)
		data, err := os.ReadFile(filepath.Join(s.dir, name))
		if err != nil {
			return fmt.Errorf("cdr spool: read %s: %w", name, err)
		}
		st := &segStat{bytes: int64(len(data))}
		frames, _ := DecodeSegment(data)
		for _, f := range frames {
			var e envelope
			if json.Unmarshal(f.Payload, &e) == nil {
				st.records++
				if st.oldest.IsZero() || e.SpooledAt.Before(st.oldest) {
					st.oldest = e.SpooledAt
				}
			}
		}
		s.segs[name] = st
	}
	// .bad files count for numbering too, so a new segment never takes
	// the name of one kept for a human.
	bads, _ := filepath.Glob(filepath.Join(s.dir, "*"+segmentExt+badExt))
	for _, b := range bads {
		name := strings.TrimSuffix(filepath.Base(b), segmentExt+badExt)
		if seq, err := strconv.ParseUint(name, 10, 64); err == nil {
			s.nextSeq = max(s.nextSeq, seq+1)
		}
	}
	return nil
}

// segmentNames lists the segment files, oldest first.
func (s *Spool) segmentNames() ([]string, error) {
	ents, err := os.ReadDir(s.dir)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, e := range ents {
		n := e.Name()
		if !e.Type().IsRegular() || !strings.HasSuffix(n, segmentExt) {
			continue
		}
		if _, err := strconv.ParseUint(strings.TrimSuffix(n, segmentExt), 10, 64); err != nil {
			continue
		}
		names = append(names, n)
	}
	slices.Sort(names) // fixed-width numbers sort as they count
	return names, nil
}

// Dir returns the spool directory.
func (s *Spool) Dir() string { return s.dir }

// Write appends r to the current segment and fsyncs it; nil means the
// record is on disk and will be replayed into the store. A record the
// store would refuse for good (cdr.EINVALID) is refused here too: spooling
// it would only replay a failure forever. Any other error means the record
// is NOT kept: it is counted and logged at error level, and the caller
// must log the record itself.
func (s *Spool) Write(ctx context.Context, r cdr.Record) error {
	// ctx is not consulted: a cancelled call is exactly when its record
	// is at risk, and an fsync cannot be interrupted anyway.
	_ = ctx
	r = r.Canonical()
	if err := r.CheckStorable(); err != nil {
		return fmt.Errorf("cdr spool: record %s: %w", r.ID, err)
	}
	now := s.clock.Now().UTC()
	payload, err := json.Marshal(envelope{V: 1, SpooledAt: now, Record: r})
	if err != nil {
		return fmt.Errorf("cdr spool: encode record %s: %w", r.ID, err)
	}
	if len(payload) > MaxPayload {
		return cdr.Errorf(cdr.EINVALID, "cdr spool: record %s is %d bytes encoded, over the %d limit", r.ID, len(payload), MaxPayload)
	}
	frame := appendFrame(nil, payload)

	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrClosed
	}
	if err := s.appendLocked(frame, now); err != nil {
		s.m.writeErrors.Inc()
		s.log.Error().Err(err).Str("spool", s.dir).Str("record", r.ID).
			Msg("CDR SPOOL WRITE FAILED: this record is in neither the store nor the spool")
		return fmt.Errorf("cdr spool %s: record %s not spooled: %w", s.dir, r.ID, err)
	}
	s.m.spooled.Inc()
	return nil
}

// appendLocked writes frame to the current segment (opening one if
// needed) and fsyncs it. On failure the segment is abandoned, so a
// half-written frame is only ever at a segment's end (a torn tail).
func (s *Spool) appendLocked(frame []byte, now time.Time) error {
	if s.cur == nil {
		if err := s.newSegmentLocked(); err != nil {
			return err
		}
	}
	_, err := s.cur.Write(frame)
	if err == nil {
		err = s.cur.Sync()
	}
	if err != nil {
		s.abandonLocked()
		return err
	}
	s.curSize += int64(len(frame))
	st := s.segs[s.curName]
	st.bytes = s.curSize
	st.records++
	if st.oldest.IsZero() {
		st.oldest = now
	}
	if s.curSize >= s.segBytes {
		s.sealLocked()
	}
	return nil
}

// newSegmentLocked creates the next segment with its header, durably
// (file and directory entry both fsync'd).
func (s *Spool) newSegmentLocked() error {
	name := fmt.Sprintf("%020d%s", s.nextSeq, segmentExt)
	s.nextSeq++
	path := filepath.Join(s.dir, name)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("create segment: %w", err)
	}
	_, err = f.WriteString(segmentHeader)
	if err == nil {
		err = f.Sync()
	}
	if err == nil {
		err = syncDir(s.dir)
	}
	if err != nil {
		f.Close()
		os.Remove(path)
		return fmt.Errorf("create segment %s: %w", name, err)
	}
	s.cur, s.curName, s.curSize = f, name, int64(len(segmentHeader))
	s.segs[name] = &segStat{bytes: s.curSize}
	return nil
}

// sealLocked closes the current segment; the next Write starts another.
func (s *Spool) sealLocked() {
	if s.cur != nil {
		if err := s.cur.Close(); err != nil {
			s.log.Warn().Err(err).Str("segment", s.curName).Msg("closing a CDR spool segment")
		}
		s.cur, s.curName, s.curSize = nil, "", 0
	}
}

// abandonLocked closes the current segment after a failed write. A
// segment that never received a frame is removed.
func (s *Spool) abandonLocked() {
	name, size := s.curName, s.curSize
	s.sealLocked()
	if size <= int64(len(segmentHeader)) && s.segs[name] != nil && s.segs[name].records == 0 {
		if os.Remove(filepath.Join(s.dir, name)) == nil {
			delete(s.segs, name)
		}
	}
}

// Close closes the current segment and releases the directory. Records
// spooled stay on disk for the next run's Replayer.
func (s *Spool) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	s.sealLocked()
	s.unlock()
	return nil
}

// pending returns how many segments and records are on disk.
func (s *Spool) pending() (segments, records int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, st := range s.segs {
		segments++
		records += st.records
	}
	return segments, records
}

// stats returns the spool's size and the spooled_at of its oldest record.
func (s *Spool) stats() (bytes int64, records int, oldest time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, st := range s.segs {
		bytes += st.bytes
		records += st.records
		if !st.oldest.IsZero() && (oldest.IsZero() || st.oldest.Before(oldest)) {
			oldest = st.oldest
		}
	}
	return bytes, records, oldest
}

// syncDir fsyncs a directory, making file creations and removals in it
// durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if errors.Is(err, syscall.EINVAL) { // some filesystems cannot sync a directory
		err = nil
	}
	return errors.Join(err, d.Close())
}

// isNotExist is fs.ErrNotExist, for removals racing a human.
func isNotExist(err error) bool { return errors.Is(err, fs.ErrNotExist) }
