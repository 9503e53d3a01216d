// Package sqlitefile opens helpline's SQLite files and brings their schema
// up to date, the same way for every store that keeps one (call records,
// the directory of the network), so that a durability setting or the
// migration rule is decided once.
//
// Every file is opened with:
//   - _txlock=immediate: a writer takes the write lock at BEGIN, so two
//     writers never deadlock upgrading a read lock;
//   - journal_mode=WAL: readers (the report, the live view) go on while a
//     call record or an import is written;
//   - synchronous=FULL: a commit is on disk before it returns, because a
//     call's outcome is acknowledged only once its record is durable;
//   - busy_timeout: a writer waits for another process's writer instead of
//     failing at once.
//
// Several packages may share one file: each records its migrations in a
// table of its own, so none refuses another's migrations as "written by a
// newer helpline".
package sqlitefile

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver
)

// ErrNewerSchema reports a database holding a migration this binary does
// not know: it was written by a newer helpline, and an older one must not
// write to it.
var ErrNewerSchema = errors.New("database written by a newer helpline")

// DefaultBusyTimeout is how long a write waits for another process
// holding the file (an import running beside the server) when Open is
// given no timeout.
const DefaultBusyTimeout = 10 * time.Second

// Open opens (creating it and its directory if absent) the SQLite file at
// path with the settings of the package comment; a busyTimeout of zero or
// less means DefaultBusyTimeout. pragmas adds
// per-store connection pragmas as `name(value)`, e.g. "cache_size(-32768)".
// The caller validates path first (a plain file path, not ":memory:").
func Open(path string, busyTimeout time.Duration, pragmas ...string) (*sql.DB, error) {
	if busyTimeout <= 0 {
		busyTimeout = DefaultBusyTimeout
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("create directory for %s: %w", path, err)
	}
	q := url.Values{}
	q.Set("_txlock", "immediate")
	q.Set("_busy_timeout", fmt.Sprint(busyTimeout.Milliseconds()))
	q.Set("_foreign_keys", "1")
	q.Set("_journal_mode", "WAL")
	q.Set("_synchronous", "FULL")
	for _, p := range pragmas {
		q.Add("_pragma", p)
	}
	db, err := sql.Open("sqlite", path+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	return db, nil
}

// Migrations are one store's embedded schema steps.
type Migrations struct {
	// FS holds the files; Glob selects them (applied in name order).
	FS   fs.FS
	Glob string
	// Table records what was applied (name, applied_at in UTC µs).
	Table string
	// Now stamps applied_at.
	Now func() time.Time
}

// Migrate applies the migrations not yet recorded, each in its own
// transaction, and returns the names it applied. Another process applying
// the same migration at the same moment is harmless: each step re-checks
// inside its transaction. A recorded migration that m does not know is
// ErrNewerSchema.
func Migrate(ctx context.Context, db *sql.DB, m Migrations) (applied []string, err error) {
	if _, err := db.ExecContext(ctx,
		`CREATE TABLE IF NOT EXISTS `+m.Table+` (name TEXT PRIMARY KEY, applied_at INTEGER NOT NULL)`); err != nil {
		return nil, fmt.Errorf("create %s: %w", m.Table, err)
	}
	names, err := fs.Glob(m.FS, m.Glob)
	if err != nil {
		return nil, err
	}
	slices.Sort(names)
	rows, err := db.QueryContext(ctx, `SELECT name FROM `+m.Table)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", m.Table, err)
	}
	var recorded []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			rows.Close()
			return nil, err
		}
		recorded = append(recorded, n)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for _, n := range recorded {
		if !slices.Contains(names, n) {
			return nil, fmt.Errorf("%w: it has migration %q unknown to this binary", ErrNewerSchema, n)
		}
	}
	for _, name := range names {
		done, err := apply(ctx, db, m, name)
		if err != nil {
			return applied, fmt.Errorf("migration %s: %w", name, err)
		}
		if done {
			applied = append(applied, name)
		}
	}
	return applied, nil
}

func apply(ctx context.Context, db *sql.DB, m Migrations, name string) (bool, error) {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return false, err
	}
	defer tx.Rollback()
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM `+m.Table+` WHERE name = ?`, name).Scan(&n); err != nil {
		return false, err
	}
	if n > 0 {
		return false, nil // applied already, possibly by another process just now
	}
	buf, err := fs.ReadFile(m.FS, name)
	if err != nil {
		return false, err
	}
	if _, err := tx.ExecContext(ctx, string(buf)); err != nil {
		return false, err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO `+m.Table+` (name, applied_at) VALUES (?, ?)`,
		name, m.Now().UTC().UnixMicro()); err != nil {
		return false, err
	}
	return true, tx.Commit()
}
