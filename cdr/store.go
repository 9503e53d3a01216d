package cdr

import (
	"context"
	"time"
)

// Precision is the resolution at which stores keep times: microseconds,
// because that is what PostgreSQL's timestamptz holds, and every Store must
// give back the same record whichever engine is behind it. Times written
// with finer resolution are truncated (see Record.Canonical).
const Precision = time.Microsecond

// Store keeps call records. It is implemented by cdr/sqlite (the embedded
// default), cdr/memory (tests and the demo) and cdr/postgres; the
// suite in cdr/cdrtest defines the behaviour all of them share.
//
// Records are stored exactly as written (after Record.Canonical). A store
// refuses only records it cannot file or that could leak a number (see
// Record.CheckStorable): a live call's record must not be lost over a
// secondary inconsistency, so the full rules of Record.Validate are applied
// by importers, not here.
type Store interface {
	// Write stores r durably before returning nil. Writing an ID that is
	// already stored changes nothing and returns nil. Returns EINVALID if
	// r fails Record.CheckStorable.
	Writer

	// WriteBatch stores recs in one transaction: all of them or none.
	// inserted counts the records whose ID was new (IDs already stored,
	// or repeated within recs, are skipped). Returns EINVALID, naming the
	// index of the first bad record, and writes nothing if any record
	// fails Record.CheckStorable.
	WriteBatch(ctx context.Context, recs []Record) (inserted int, err error)

	// Begin starts a transaction for a stream of records too large to hold
	// in memory (helpline cdr import). Nothing is visible to readers, or
	// durable, before Tx.Commit. While it is open it may block other
	// writers (SQLite has one writer at a time), so keep it short.
	Begin(ctx context.Context) (Tx, error)

	// Get returns the record with the given ID, or ENOTFOUND.
	Get(ctx context.Context, id string) (*Record, error)

	// Scan calls fn for every record matching f, ordered by ArrivedAt and
	// then ID. fn gets a fresh *Record it may keep. If fn returns an
	// error Scan stops and returns that error unchanged (so callers can
	// stop early with a sentinel of their own). Returns EINVALID for a bad
	// filter. fn may call the Store, but records it writes may or may not
	// be seen by the scan in progress.
	Scan(ctx context.Context, f Filter, fn func(*Record) error) error

	// Count returns the number of records matching f. Returns EINVALID for
	// a bad filter.
	Count(ctx context.Context, f Filter) (int, error)
}

// Tx is an open write transaction (see Store.Begin). A Tx is not safe for
// concurrent use. After Commit or Rollback it must not be used again;
// Rollback after Commit is a no-op, so `defer tx.Rollback()` is safe.
type Tx interface {
	// Insert adds r unless its ID is already stored or was already
	// inserted in this Tx; inserted reports whether it was new. Returns
	// EINVALID if r fails Record.CheckStorable; the Tx stays usable.
	Insert(ctx context.Context, r Record) (inserted bool, err error)
	// Commit makes every insert durable and visible.
	Commit() error
	// Rollback discards every insert.
	Rollback() error
}

// Filter selects records for Scan and Count. The zero Filter selects
// everything.
type Filter struct {
	// From and To bound ArrivedAt to [From, To). A zero time leaves that
	// side open. They are truncated to Precision like stored times, so the
	// bounds are exact: a record arriving at To is never included.
	From, To time.Time
	// Direction keeps only inbound or outbound calls; "" keeps both.
	Direction Direction
	// Service keeps only the calls of one service; "" keeps all.
	Service string
}

// Check returns EINVALID for a filter no store can answer: an unknown
// Direction, or To not after From.
func (f Filter) Check() error {
	switch f.Direction {
	case "", Inbound, Outbound:
	default:
		return Errorf(EINVALID, "filter: unknown direction %s", redact(string(f.Direction)))
	}
	if !f.From.IsZero() && !f.To.IsZero() && !f.To.After(f.From) {
		return Errorf(EINVALID, "filter: to (%s) is not after from (%s)",
			f.To.UTC().Format(time.RFC3339Nano), f.From.UTC().Format(time.RFC3339Nano))
	}
	return nil
}

// Match reports whether r passes f. Stores with an index use it only in
// tests; the in-memory store filters with it.
func (f Filter) Match(r *Record) bool {
	at := r.ArrivedAt.Truncate(Precision)
	if !f.From.IsZero() && at.Before(f.From.Truncate(Precision)) {
		return false
	}
	if !f.To.IsZero() && !at.Before(f.To.Truncate(Precision)) {
		return false
	}
	if f.Direction != "" && r.Direction != f.Direction {
		return false
	}
	if f.Service != "" && r.Service != f.Service {
		return false
	}
	return true
}
