package spool

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/rs/zerolog"

	"github.com/helpline-it/helpline/cdr"
)

// DefaultReplayEvery is how often a Replayer retries the spool.
const DefaultReplayEvery = 30 * time.Second

// finalPassTimeout bounds the last pass Run makes when it is stopped.
const finalPassTimeout = 10 * time.Second

// ReplayerOptions tunes NewReplayer.
type ReplayerOptions struct {
	// Every is the pause between replay passes; DefaultReplayEvery if 0.
	Every time.Duration
	// Clock times the passes; the spool's clock if nil.
	Clock clockwork.Clock
	// Logger receives progress and the loud errors; the spool's if zero.
	Logger *zerolog.Logger
}

// Replayer writes spooled records into the store: once when Run starts
// (records left by a crashed or stopped run) and then every
// ReplayerOptions.Every. Writes are idempotent by call id, so a record
// replayed twice (a crash between storing it and deleting its segment) is
// stored once.
type Replayer struct {
	s     *Spool
	store cdr.Writer
	every time.Duration
	clock clockwork.Clock
	log   zerolog.Logger
}

// NewReplayer returns a Replayer from s into store.
func NewReplayer(s *Spool, store cdr.Writer, opts ReplayerOptions) (*Replayer, error) {
	switch {
	case s == nil:
		return nil, errors.New("cdr spool: NewReplayer needs a spool")
	case store == nil:
		return nil, errors.New("cdr spool: NewReplayer needs a store")
	case opts.Every < 0:
		return nil, fmt.Errorf("cdr spool: replay interval %v is negative", opts.Every)
	}
	r := &Replayer{s: s, store: store, every: opts.Every, clock: opts.Clock, log: s.log}
	if r.every == 0 {
		r.every = DefaultReplayEvery
	}
	if r.clock == nil {
		r.clock = s.clock
	}
	if opts.Logger != nil {
		r.log = *opts.Logger
	}
	return r, nil
}

// Run replays the spool now and then every interval until ctx ends, then
// makes one last pass (bounded by finalPassTimeout, so a clean stop after
// a store outage leaves the records in the store rather than waiting for
// the next start) and returns nil. A pass that fails is logged and retried
// at the next interval. The store must stay open until Run has returned.
func (r *Replayer) Run(ctx context.Context) error {
	for {
		if _, err := r.Replay(ctx); err != nil && ctx.Err() == nil {
			r.failed(err)
		}
		t := r.clock.NewTimer(r.every)
		select {
		case <-ctx.Done():
			t.Stop()
			fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), finalPassTimeout)
			defer cancel()
			if _, err := r.Replay(fctx); err != nil && !errors.Is(err, ErrClosed) {
				r.failed(err)
			}
			return nil
		case <-t.Chan():
		}
	}
}

func (r *Replayer) failed(err error) {
	r.log.Error().Err(err).Str("spool", r.s.dir).Dur("retry_in", r.every).
		Msg("CDR SPOOL NOT EMPTIED: the store still refuses records; they stay on disk and will be retried")
}

// ReplayResult counts one replay pass.
type ReplayResult struct {
	// Segments is the number of segments emptied (deleted, or kept as
	// .bad because of corruption).
	Segments int
	// Replayed is the number of records written to the store (including
	// ones the store already had, which it skips).
	Replayed int
	// Rejected counts records the store refused as invalid: logged in
	// full, then dropped, so they cannot block the records behind them.
	Rejected int
	// Torn counts torn tails ignored (crash leftovers, never acknowledged).
	Torn int
	// Corrupt counts corrupt stretches in the middle of segments.
	Corrupt int
}

// Replay writes every spooled record into the store, oldest segment
// first, deleting each segment once all its records are stored. The
// segment being written to is closed first, so records spooled a moment
// ago are included; records spooled during the pass go to a new segment
// and wait for the next one. Replay stops at the first record the store
// refuses with anything but cdr.EINVALID, and returns that error; what is
// left stays on disk.
func (r *Replayer) Replay(ctx context.Context) (ReplayResult, error) {
	s := r.s
	s.replayMu.Lock()
	defer s.replayMu.Unlock()
	var res ReplayResult

	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return res, ErrClosed
	}
	s.sealLocked()
	names, err := s.segmentNames()
	s.mu.Unlock()
	if err != nil {
		return res, fmt.Errorf("cdr spool %s: %w", s.dir, err)
	}
	defer func() {
		if res.Replayed > 0 || res.Segments > 0 {
			ev := r.log.Info()
			if res.Corrupt > 0 || res.Rejected > 0 {
				ev = r.log.Error()
			}
			ev.Str("spool", s.dir).Int("records", res.Replayed).Int("segments", res.Segments).
				Int("rejected", res.Rejected).Int("corrupt", res.Corrupt).Int("torn", res.Torn).
				Msg("spooled CDRs replayed into the store")
		}
	}()
	for _, name := range names {
		if err := ctx.Err(); err != nil {
			return res, err
		}
		if err := r.replaySegment(ctx, name, &res); err != nil {
			s.m.replayFails.Inc()
			return res, err
		}
	}
	return res, nil
}

// replaySegment stores the records of one segment, then removes it (or
// keeps it as .bad if it held corruption).
func (r *Replayer) replaySegment(ctx context.Context, name string, res *ReplayResult) error {
	s := r.s
	path := filepath.Join(s.dir, name)
	data, err := os.ReadFile(path)
	if isNotExist(err) {
		s.forget(name)
		return nil
	}
	if err != nil {
		return fmt.Errorf("cdr spool: read %s: %w", path, err)
	}
	frames, problems := DecodeSegment(data)
	corrupt := false
	for _, p := range problems {
		if p.Torn {
			res.Torn++
			r.log.Warn().Str("segment", path).Int64("offset", p.Offset).Int64("bytes", p.Length).Err(p.Err).
				Msg("torn write at the end of a CDR spool segment (a crash during a write that was never acknowledged): ignored")
			continue
		}
		corrupt = true
		res.Corrupt++
		s.m.corrupt.Inc()
		r.log.Error().Str("segment", path).Int64("offset", p.Offset).Int64("bytes", p.Length).Err(p.Err).
			Msg("CORRUPT FRAME in the CDR spool: skipped, the records after it are kept; the segment will be kept as .bad")
	}
	for _, f := range frames {
		var e envelope
		if err := json.Unmarshal(f.Payload, &e); err != nil || e.V != 1 {
			if err == nil {
				err = fmt.Errorf("unknown envelope version %d", e.V)
			}
			corrupt = true
			res.Corrupt++
			s.m.corrupt.Inc()
			r.log.Error().Str("segment", path).Int64("offset", f.Offset).Err(err).
				Msg("CORRUPT RECORD in the CDR spool (intact frame, unreadable payload): skipped; the segment will be kept as .bad")
			continue
		}
		if err := r.store.Write(ctx, e.Record); err != nil {
			if cdr.ErrorCode(err) == cdr.EINVALID {
				res.Rejected++
				s.m.rejected.Inc()
				r.log.Error().Err(err).Str("segment", path).Int64("offset", f.Offset).Interface("cdr", e.Record).
					Msg("CDR REFUSED BY THE STORE ON REPLAY: full record follows, fix and re-import it")
				continue
			}
			return fmt.Errorf("cdr spool: replay %s (record %s at offset %d): %w", path, e.Record.ID, f.Offset, err)
		}
		res.Replayed++
		s.m.replayed.Inc()
	}
	if corrupt {
		if err := os.Rename(path, path+badExt); err != nil {
			return fmt.Errorf("cdr spool: keep %s as %s: %w", path, badExt, err)
		}
	} else if err := os.Remove(path); err != nil && !isNotExist(err) {
		return fmt.Errorf("cdr spool: delete replayed segment %s: %w", path, err)
	}
	if err := syncDir(s.dir); err != nil {
		r.log.Warn().Err(err).Str("spool", s.dir).Msg("fsync of the spool directory after a replay failed (the segment may be replayed again, harmlessly)")
	}
	s.forget(name)
	res.Segments++
	return nil
}

// forget drops a segment from the metrics' accounting.
func (s *Spool) forget(name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.segs, name)
}
