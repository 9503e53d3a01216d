package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"github.com/helpline-it/helpline/internal/sqlitefile"
	"math"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"github.com/helpline-it/helpline/cdr"
)

//go:embed migration/*.sql
var migrationFS embed.FS

var _ cdr.Store = (*DB)(nil)

// DefaultBusyTimeout is how long a write waits for another process holding
// the database (the helpline-wide default of internal/sqlitefile).
const DefaultBusyTimeout = sqlitefile.DefaultBusyTimeout

// Options tunes Open. The zero value is ready to use.
type Options struct {
	// Now stamps written_at on each row; time.Now if nil. Tests pass a
	// clockwork clock's Now.
	Now func() time.Time
	// Logger receives migrations and errors; a disabled logger if zero.
	Logger zerolog.Logger
	// BusyTimeout is SQLite's busy_timeout; DefaultBusyTimeout if zero.
	BusyTimeout time.Duration
	// MaxPages caps the database file at that many pages (SQLite's
	// max_page_count, set on every connection); 0 leaves SQLite's
	// default. Past the cap writes fail with SQLITE_FULL, exactly as on a
	// full disk: a quota, and the way fault tests fill the disk.
	MaxPages int
}

// DB is a cdr.Store in one SQLite file. It is safe for concurrent use.
type DB struct {
	db     *sql.DB
	path   string
	now    func() time.Time
	log    zerolog.Logger
	writer chan struct{} // one-slot semaphore: the single SQLite writer
}

// Open opens (creating it and its directory if absent) the database at
// path and brings its schema up to date. ":memory:" is refused: SQLite
// gives each connection of the pool its own empty memory database, and one
// connection would serialise readers behind an open Tx; use cdr/memory.
func Open(ctx context.Context, path string, opts Options) (*DB, error) {
	if path == "" {
		return nil, cdr.Errorf(cdr.EINVALID, "sqlite: no database path")
	}
	if strings.ContainsAny(path, "?#") || strings.HasPrefix(path, "file:") {
		return nil, cdr.Errorf(cdr.EINVALID, "sqlite: database path %q must be a plain file path", path)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if path == ":memory:" {
		return nil, cdr.Errorf(cdr.EINVALID, "sqlite: :memory: is not supported; use package cdr/memory")
	}
	// Settings shared with every helpline SQLite file (durability choice
	// explained in doc.go and internal/sqlitefile). 32 MiB of page cache per
	// connection (default 2 MiB): a large import touches every index page,
	// and re-reading them costs more than memory.
	pragmas := []string{"cache_size(-32768)"}
	if opts.MaxPages > 0 {
		pragmas = append(pragmas, fmt.Sprintf("max_page_count(%d)", opts.MaxPages))
	}
	sqldb, err := sqlitefile.Open(path, opts.BusyTimeout, pragmas...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	db := &DB{db: sqldb, path: path, now: opts.Now, log: opts.Logger, writer: make(chan struct{}, 1)}
	if err := db.migrate(ctx); err != nil {
		sqldb.Close()
		return nil, fmt.Errorf("sqlite: %s: %w", path, err)
	}
	return db, nil
}

// Close closes the database. Records already written are durable; an
// open Tx is rolled back.
func (db *DB) Close() error { return db.db.Close() }

// Path returns the file the DB was opened on.
func (db *DB) Path() string { return db.path }

// migrate applies the embedded migrations not yet recorded.
func (db *DB) migrate(ctx context.Context) error {
	applied, err := sqlitefile.Migrate(ctx, db.db, sqlitefile.Migrations{
		FS: migrationFS, Glob: "migration/*.sql", Table: "migrations", Now: db.now})
	for _, name := range applied {
		db.log.Info().Str("migration", name).Str("db", db.path).Msg("cdr: applied migration")
	}
	if errors.Is(err, sqlitefile.ErrNewerSchema) {
		return cdr.Errorf(cdr.ECONFLICT, "%v", err)
	}
	return err
}

func (db *DB) lockWriter(ctx context.Context) error {
	select {
	case db.writer <- struct{}{}:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("cdr/sqlite: waiting for the writer: %w", ctx.Err())
	}
}

func (db *DB) unlockWriter() { <-db.writer }

const columns = `id, direction, service, outcome, arrived_at, queued_at, connected_at, ended_at,
	language, operator, caller_hash, withheld, callee_hash, target, hangup_cause, hangup_by,
	voicemail, transfer, fallback, note`

const insertSQL = `INSERT INTO cdr (` + columns + `, written_at)
	VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
	ON CONFLICT (id) DO NOTHING`

// Write implements cdr.Writer: it returns once the record is committed
// and fsynced (or was already stored).
func (db *DB) Write(ctx context.Context, r cdr.Record) error {
	if err := r.CheckStorable(); err != nil {
		return err
	}
	if err := db.lockWriter(ctx); err != nil {
		return err
	}
	defer db.unlockWriter()
	if _, err := db.db.ExecContext(ctx, insertSQL, args(r, db.now())...); err != nil {
		return fmt.Errorf("cdr/sqlite: write %s: %w", r.ID, err)
	}
	return nil
}

// WriteBatch implements cdr.Store.
func (db *DB) WriteBatch(ctx context.Context, recs []cdr.Record) (int, error) {
	for i, r := range recs {
		if err := r.CheckStorable(); err != nil {
			return 0, cdr.Errorf(cdr.EINVALID, "record %d (of %d): %s", i, len(recs), cdr.ErrorMessage(err))
		}
	}
	tx, err := db.Begin(ctx)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback()
	n := 0
	for _, r := range recs {
		ok, err := tx.Insert(ctx, r)
		if err != nil {
			return 0, err
		}
		if ok {
			n++
		}
	}
	if err := tx.Commit(); err != nil {
		return 0, err
	}
	return n, nil
}

// Begin implements cdr.Store. It waits (honouring ctx) for any other
// writer in this process to finish.
func (db *DB) Begin(ctx context.Context) (cdr.Tx, error) {
	if err := db.lockWriter(ctx); err != nil {
		return nil, err
	}
	sqltx, err := db.db.BeginTx(ctx, nil)
	if err != nil {
		db.unlockWriter()
		return nil, fmt.Errorf("cdr/sqlite: begin: %w", err)
	}
	stmt, err := sqltx.PrepareContext(ctx, insertSQL)
	if err != nil {
		sqltx.Rollback()
		db.unlockWriter()
		return nil, fmt.Errorf("cdr/sqlite: prepare insert: %w", err)
	}
	return &tx{db: db, tx: sqltx, stmt: stmt, now: db.now()}, nil
}

// tx is a write transaction holding the DB's writer slot. Like wtf's Tx it
// stamps one time at its start, so every row it writes carries the same
// written_at.
type tx struct {
	db   *DB
	tx   *sql.Tx
	stmt *sql.Stmt
	now  time.Time
	done bool
}

func (t *tx) Insert(ctx context.Context, r cdr.Record) (bool, error) {
	if t.done {
		return false, cdr.Errorf(cdr.EINTERNAL, "cdr/sqlite: insert after commit or rollback")
	}
	if err := r.CheckStorable(); err != nil {
		return false, err
	}
	res, err := t.stmt.ExecContext(ctx, args(r, t.now)...)
	if err != nil {
		return false, fmt.Errorf("cdr/sqlite: insert %s: %w", r.ID, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("cdr/sqlite: insert %s: %w", r.ID, err)
	}
	return n == 1, nil
}

func (t *tx) Commit() error {
	if t.done {
		return cdr.Errorf(cdr.EINTERNAL, "cdr/sqlite: commit after commit or rollback")
	}
	t.done = true
	defer t.db.unlockWriter()
	t.stmt.Close()
	if err := t.tx.Commit(); err != nil {
		return fmt.Errorf("cdr/sqlite: commit: %w", err)
	}
	return nil
}

func (t *tx) Rollback() error {
	if t.done {
		return nil
	}
	t.done = true
	defer t.db.unlockWriter()
	t.stmt.Close()
	if err := t.tx.Rollback(); err != nil && !errors.Is(err, sql.ErrTxDone) {
		return fmt.Errorf("cdr/sqlite: rollback: %w", err)
	}
	return nil
}

// Get implements cdr.Store.
func (db *DB) Get(ctx context.Context, id string) (*cdr.Record, error) {
	rows, err := db.db.QueryContext(ctx, `SELECT `+columns+` FROM cdr WHERE id = ?`, id)
	if err != nil {
		return nil, fmt.Errorf("cdr/sqlite: get: %w", err)
	}
	defer rows.Close()
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("cdr/sqlite: get: %w", err)
		}
		return nil, cdr.Errorf(cdr.ENOTFOUND, "no call record with id %q", id)
	}
	var r cdr.Record
	if err := scanRecord(rows, &r); err != nil {
		return nil, err
	}
	return &r, nil
}

// Scan implements cdr.Store, reading through the arrived_at indexes.
func (db *DB) Scan(ctx context.Context, f cdr.Filter, fn func(*cdr.Record) error) error {
	where, qargs, err := whereClause(f)
	if err != nil {
		return err
	}
	rows, err := db.db.QueryContext(ctx, `SELECT `+columns+` FROM cdr`+where+` ORDER BY arrived_at, id`, qargs...)
	if err != nil {
		return fmt.Errorf("cdr/sqlite: scan: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		r := new(cdr.Record)
		if err := scanRecord(rows, r); err != nil {
			return err
		}
		if err := fn(r); err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("cdr/sqlite: scan: %w", err)
	}
	return nil
}

// Count implements cdr.Store.
func (db *DB) Count(ctx context.Context, f cdr.Filter) (int, error) {
	where, qargs, err := whereClause(f)
	if err != nil {
		return 0, err
	}
	var n int
	if err := db.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM cdr`+where, qargs...).Scan(&n); err != nil {
		return 0, fmt.Errorf("cdr/sqlite: count: %w", err)
	}
	return n, nil
}

// whereClause keeps the range on arrived_at always present (open sides
// become the int64 extremes) so the planner always uses an index.
func whereClause(f cdr.Filter) (string, []any, error) {
	if err := f.Check(); err != nil {
		return "", nil, err
	}
	from, to := int64(math.MinInt64), int64(math.MaxInt64)
	if !f.From.IsZero() {
		from = f.From.UTC().Truncate(cdr.Precision).UnixMicro()
	}
	if !f.To.IsZero() {
		to = f.To.UTC().Truncate(cdr.Precision).UnixMicro()
	}
	where := ` WHERE arrived_at >= ? AND arrived_at < ?`
	qargs := []any{from, to}
	if f.Direction != "" {
		where += ` AND direction = ?`
		qargs = append(qargs, string(f.Direction))
	}
	if f.Service != "" {
		where += ` AND service = ?`
		qargs = append(qargs, f.Service)
	}
	return where, qargs, nil
}

func args(r cdr.Record, now time.Time) []any {
	return []any{
		r.ID, string(r.Direction), r.Service, string(r.Outcome),
		r.ArrivedAt.UTC().Truncate(cdr.Precision).UnixMicro(),
		micros(r.QueuedAt), micros(r.ConnectedAt), micros(r.EndedAt),
		r.Language, r.Operator, hashBytes(r.CallerHash), r.Withheld, hashBytes(r.CalleeHash), r.Target,
		int64(r.HangupCause), r.HangupBy, r.Voicemail, r.Transfer, r.Fallback, r.Note,
		now.UTC().UnixMicro(),
	}
}

// hashBytes is a hex hash as the 32 bytes stored, or NULL for none.
// CheckStorable has vetted the hex already.
func hashBytes(h string) any {
	if h == "" {
		return nil
	}
	b, err := hex.DecodeString(h)
	if err != nil {
		return h // cannot happen; STRICT refuses the text rather than store it
	}
	return b
}

// micros is a time as unix microseconds, or NULL for the zero time.
func micros(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC().Truncate(cdr.Precision).UnixMicro()
}

func scanRecord(rows *sql.Rows, r *cdr.Record) error {
	var dir, outcome string
	var arrived int64
	var queued, connected, ended sql.NullInt64
	var cause int64
	var caller, callee []byte
	if err := rows.Scan(&r.ID, &dir, &r.Service, &outcome, &arrived, &queued, &connected, &ended,
		&r.Language, &r.Operator, &caller, &r.Withheld, &callee, &r.Target,
		&cause, &r.HangupBy, &r.Voicemail, &r.Transfer, &r.Fallback, &r.Note); err != nil {
		return fmt.Errorf("cdr/sqlite: read row: %w", err)
	}
	r.Direction, r.Outcome, r.HangupCause = cdr.Direction(dir), cdr.Outcome(outcome), int(cause)
	if caller != nil {
		r.CallerHash = hex.EncodeToString(caller)
	}
	if callee != nil {
		r.CalleeHash = hex.EncodeToString(callee)
	}
	r.ArrivedAt = time.UnixMicro(arrived).UTC()
	r.QueuedAt, r.ConnectedAt, r.EndedAt = fromMicros(queued), fromMicros(connected), fromMicros(ended)
	return nil
}

func fromMicros(v sql.NullInt64) time.Time {
	if !v.Valid {
		return time.Time{}
	}
	return time.UnixMicro(v.Int64).UTC()
}
