// Package sqlite is the directory.Store in an SQLite file, by default the
// same file as the call records (cdr/sqlite): one file to back up, and an
// outbound call's record and the entry it called sit side by side. The two
// packages share nothing but the file: each has its own tables and its own
// migrations table, so neither refuses the other's migrations as "written
// by a newer helpline".
//
// The directory is small (a few thousand rows) and read far more often
// than written, so every read loads what it needs in one query; an import
// is one BEGIN IMMEDIATE transaction, so readers (WAL) see the directory
// before or after it, never half of it.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"github.com/helpline-it/helpline/internal/sqlitefile"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"github.com/helpline-it/helpline/directory"
)

//go:embed migration/*.sql
var migrationFS embed.FS

var _ directory.Store = (*DB)(nil)

// DefaultBusyTimeout is how long a write waits for another process holding
// the database (the helpline-wide default of internal/sqlitefile).
const DefaultBusyTimeout = sqlitefile.DefaultBusyTimeout

// Options tunes Open. The zero value is ready to use.
type Options struct {
	// Now stamps updated_at; time.Now if nil.
	Now func() time.Time
	// Logger receives migrations; a disabled logger if zero.
	Logger zerolog.Logger
	// BusyTimeout is SQLite's busy_timeout; DefaultBusyTimeout if zero.
	BusyTimeout time.Duration
}

// DB is a directory.Store in one SQLite file, safe for concurrent use.
type DB struct {
	db     *sql.DB
	path   string
	now    func() time.Time
	log    zerolog.Logger
	writer chan struct{} // one-slot semaphore: the single SQLite writer
}

// Open opens (creating it and its directory if absent) the database at
// path and brings the directory's tables up to date. ":memory:" is
// refused (each pooled connection would get its own empty database): use
// directory/memory.
func Open(ctx context.Context, path string, opts Options) (*DB, error) {
	switch {
	case path == "":
		return nil, errors.New("directory/sqlite: no database path")
	case path == ":memory:":
		return nil, errors.New("directory/sqlite: :memory: is not supported; use package directory/memory")
	case strings.ContainsAny(path, "?#") || strings.HasPrefix(path, "file:"):
		return nil, fmt.Errorf("directory/sqlite: database path %q must be a plain file path", path)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	sqldb, err := sqlitefile.Open(path, opts.BusyTimeout)
	if err != nil {
		return nil, fmt.Errorf("directory/sqlite: %w", err)
	}
	db := &DB{db: sqldb, path: path, now: opts.Now, log: opts.Logger, writer: make(chan struct{}, 1)}
	if err := db.migrate(ctx); err != nil {
		sqldb.Close()
		return nil, fmt.Errorf("directory/sqlite: %s: %w", path, err)
	}
	return db, nil
}

// Close closes the database.
func (db *DB) Close() error { return db.db.Close() }

// Path returns the file the DB was opened on.
func (db *DB) Path() string { return db.path }

// migrate applies the directory's migrations, recorded in a table of its
// own so that it can share the call records' file.
func (db *DB) migrate(ctx context.Context) error {
	applied, err := sqlitefile.Migrate(ctx, db.db, sqlitefile.Migrations{
		FS: migrationFS, Glob: "migration/*.sql", Table: "directory_migrations", Now: db.now})
	for _, name := range applied {
		db.log.Info().Str("migration", name).Str("db", db.path).Msg("directory: applied migration")
	}
	return err
}

const columns = `code, name, type, region, province, municipality, address, phone, dial, hours, notes, confidential`

type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

func list(ctx context.Context, q querier, where string, args ...any) ([]directory.Entry, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+columns+` FROM directory_entry `+where+` ORDER BY code`, args...)
	if err != nil {
		return nil, fmt.Errorf("directory/sqlite: list: %w", err)
	}
	defer rows.Close()
	var out []directory.Entry
	for rows.Next() {
		var e directory.Entry
		var typ, hours string
		var conf int
		if err := rows.Scan(&e.Code, &e.Name, &typ, &e.Region, &e.Province, &e.Municipality, &e.Address,
			&e.Phone, &e.Dial, &hours, &e.Notes, &conf); err != nil {
			return nil, fmt.Errorf("directory/sqlite: list: %w", err)
		}
		if e.Type, err = directory.ParseType(typ); err != nil {
			return nil, fmt.Errorf("directory/sqlite: entry %s: %w", e.Code, err)
		}
		if e.Hours, err = directory.ParseHours(hours); err != nil {
			return nil, fmt.Errorf("directory/sqlite: entry %s: hours: %w", e.Code, err)
		}
		e.Confidential = conf == 1
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("directory/sqlite: list: %w", err)
	}
	return out, nil
}

// Get implements directory.Store.
func (db *DB) Get(ctx context.Context, code string) (directory.Entry, error) {
	es, err := list(ctx, db.db, `WHERE code = ?`, code)
	if err != nil {
		return directory.Entry{}, err
	}
	if len(es) == 0 {
		return directory.Entry{}, fmt.Errorf("directory/sqlite: code %q: %w", code, directory.ErrNotFound)
	}
	return es[0], nil
}

// List implements directory.Store.
func (db *DB) List(ctx context.Context) ([]directory.Entry, error) {
	return list(ctx, db.db, "")
}

// Update implements directory.Store: one BEGIN IMMEDIATE transaction,
// after waiting (honouring ctx) for any other writer in this process.
func (db *DB) Update(ctx context.Context, fn func(context.Context, directory.Tx) error) error {
	select {
	case db.writer <- struct{}{}:
	case <-ctx.Done():
		return fmt.Errorf("directory/sqlite: waiting for the writer: %w", ctx.Err())
	}
	defer func() { <-db.writer }()
	sqltx, err := db.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("directory/sqlite: begin: %w", err)
	}
	defer sqltx.Rollback()
	if err := fn(ctx, &tx{tx: sqltx, now: db.now().UTC().UnixMicro()}); err != nil {
		return err
	}
	if err := sqltx.Commit(); err != nil {
		return fmt.Errorf("directory/sqlite: commit: %w", err)
	}
	return nil
}

type tx struct {
	tx  *sql.Tx
	now int64
}

// List implements directory.Tx.
func (t *tx) List(ctx context.Context) ([]directory.Entry, error) { return list(ctx, t.tx, "") }

// Put implements directory.Tx.
func (t *tx) Put(ctx context.Context, e directory.Entry) error {
	if err := e.Check(); err != nil {
		return err
	}
	conf := 0
	if e.Confidential {
		conf = 1
	}
	_, err := t.tx.ExecContext(ctx, `INSERT INTO directory_entry (`+columns+`, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (code) DO UPDATE SET name = excluded.name, type = excluded.type, region = excluded.region,
			province = excluded.province, municipality = excluded.municipality, address = excluded.address,
			phone = excluded.phone, dial = excluded.dial, hours = excluded.hours, notes = excluded.notes,
			confidential = excluded.confidential, updated_at = excluded.updated_at`,
		e.Code, e.Name, e.Type.String(), e.Region, e.Province, e.Municipality, e.Address, e.Phone, e.Dial,
		e.Hours.String(), e.Notes, conf, t.now)
	if err != nil {
		return fmt.Errorf("directory/sqlite: put %s: %w", e.Code, err)
	}
	return nil
}

// Delete implements directory.Tx.
func (t *tx) Delete(ctx context.Context, code string) error {
	res, err := t.tx.ExecContext(ctx, `DELETE FROM directory_entry WHERE code = ?`, code)
	if err != nil {
		return fmt.Errorf("directory/sqlite: delete %s: %w", code, err)
	}
	if n, err := res.RowsAffected(); err == nil && n == 0 {
		return fmt.Errorf("directory/sqlite: delete %q: %w", code, directory.ErrNotFound)
	}
	return nil
}
