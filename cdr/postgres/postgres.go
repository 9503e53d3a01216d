package postgres

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/rs/zerolog"

	"github.com/helpline-it/helpline/cdr"
)

//go:embed migration/*.sql
var migrationFS embed.FS

var _ cdr.Store = (*DB)(nil)

// DefaultConnectTimeout bounds each connection attempt when the DSN sets
// no connect_timeout: a server that does not answer must fail Open (and
// each Write) promptly, not hang a call's hang-up.
const DefaultConnectTimeout = 10 * time.Second

// migrationLock is the key of the session advisory lock held while
// migrating, so that nodes starting together apply each migration once and
// never race on CREATE TABLE. It is "helpline" in ASCII.
const migrationLock int64 = 0x68656c706c696e65

// Options tunes Open. The zero value is ready to use.
type Options struct {
	// Password is the server password (config cdr.password_env or
	// cdr.password_file). It overrides one in the DSN, which the
	// configuration refuses anyway: DSNs end up in logs.
	Password string
	// Now stamps written_at on each row; time.Now if nil. Tests pass a
	// clockwork clock's Now.
	Now func() time.Time
	// Logger receives migrations and warnings; a disabled logger if zero.
	Logger zerolog.Logger
	// MaxConns caps the connection pool; pgxpool's default (the larger
	// of 4 and the number of CPUs) if zero.
	MaxConns int32
}

// DB is a cdr.Store in a PostgreSQL database. It is safe for concurrent
// use, by any number of processes and nodes.
type DB struct {
	pool *pgxpool.Pool
	now  func() time.Time
	log  zerolog.Logger
	// where names the server and database for messages (never the password).
	where string
}

// Open connects to the database named by dsn (a postgres:// URL or
// key=value string, as libpq takes), brings its schema up to date and
// returns the store. It fails if the server cannot be reached: a node must
// not take calls whose records it cannot write.
//
// The session's synchronous_commit is set to "on" unless the DSN sets it
// (as a parameter, "?synchronous_commit=remote_apply", or in "options"):
// a Write returns only once its commit is flushed to the server's WAL (see
// the package documentation).
func Open(ctx context.Context, dsn string, opts Options) (*DB, error) {
	if dsn == "" {
		return nil, cdr.Errorf(cdr.EINVALID, "postgres: no connection string (cdr.dsn)")
	}
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		// pgx's message redacts any password in the DSN.
		return nil, cdr.Errorf(cdr.EINVALID, "postgres: bad connection string: %v", err)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	cc := cfg.ConnConfig
	if opts.Password != "" {
		cc.Password = opts.Password
	}
	if cc.ConnectTimeout == 0 {
		cc.ConnectTimeout = DefaultConnectTimeout
	}
	if _, ok := cc.RuntimeParams["synchronous_commit"]; !ok && !strings.Contains(cc.RuntimeParams["options"], "synchronous_commit") {
		cc.RuntimeParams["synchronous_commit"] = "on"
	}
	if _, ok := cc.RuntimeParams["application_name"]; !ok {
		cc.RuntimeParams["application_name"] = "helpline"
	}
	if opts.MaxConns > 0 {
		cfg.MaxConns = opts.MaxConns
	}
	db := &DB{now: opts.Now, log: opts.Logger,
		where: fmt.Sprintf("postgres %s:%d/%s", cc.Host, cc.Port, cc.Database)}
	if err := db.migrate(ctx, cc.Copy()); err != nil {
		return nil, fmt.Errorf("%s: %w", db.where, err)
	}
	if db.pool, err = pgxpool.NewWithConfig(ctx, cfg); err != nil {
		return nil, fmt.Errorf("%s: %w", db.where, err)
	}
	db.warnIfNotDurable(ctx)
	return db, nil
}

// Close closes every connection. Records already written are durable; an
// open Tx is rolled back by the server when its connection closes.
func (db *DB) Close() error {
	db.pool.Close()
	return nil
}

// String names the server and database, never the password: for logs.
func (db *DB) String() string { return db.where }

// warnIfNotDurable logs when the server can lose acknowledged commits in a
// crash: fsync is a server setting this package cannot change.
func (db *DB) warnIfNotDurable(ctx context.Context) {
	var fsync string
	if err := db.pool.QueryRow(ctx, `SHOW fsync`).Scan(&fsync); err != nil {
		db.log.Warn().Err(err).Str("db", db.where).Msg("cdr: cannot read the server's fsync setting")
		return
	}
	if fsync != "on" {
		db.log.Warn().Str("db", db.where).Str("fsync", fsync).
			Msg("cdr: the PostgreSQL server runs with fsync off: call records acknowledged before a crash or power cut can be lost")
	}
}

// migrate applies the embedded migrations not yet recorded, on a
// connection of its own holding the migration advisory lock. The lock is
// a session lock, so it is released when that connection closes, however
// migrate ends: a pooled connection could outlive a failed unlock and
// hold every other node's start.
func (db *DB) migrate(ctx context.Context, cc *pgx.ConnConfig) error {
	conn, err := pgx.ConnectConfig(ctx, cc)
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock($1)`, migrationLock); err != nil {
		return fmt.Errorf("waiting for the migration lock: %w", err)
	}
	if _, err := conn.Exec(ctx, `CREATE TABLE IF NOT EXISTS cdr_migrations (
		name       text PRIMARY KEY,
		applied_at timestamptz NOT NULL)`); err != nil {
		return fmt.Errorf("create migrations table: %w", err)
	}
	names, err := fs.Glob(migrationFS, "migration/*.sql")
	if err != nil {
		return err
	}
	slices.Sort(names)
	rows, err := conn.Query(ctx, `SELECT name FROM cdr_migrations`)
	if err != nil {
		return fmt.Errorf("read migrations: %w", err)
	}
	applied, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return fmt.Errorf("read migrations: %w", err)
	}
	for _, n := range applied {
		if !slices.Contains(names, n) {
			return cdr.Errorf(cdr.ECONFLICT, "database has migration %q unknown to this helpline: it was written by a newer version", n)
		}
	}
	for _, name := range names {
		if slices.Contains(applied, name) {
			continue
		}
		if err := db.migrateFile(ctx, conn, name); err != nil {
			return fmt.Errorf("migration %s: %w", name, err)
		}
	}
	return nil
}

// migrateFile applies one migration and records it in one transaction:
// a failure leaves neither half behind.
func (db *DB) migrateFile(ctx context.Context, conn *pgx.Conn, name string) error {
	buf, err := fs.ReadFile(migrationFS, name)
	if err != nil {
		return err
	}
	tx, err := conn.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(context.Background())
	// No arguments: pgx sends it with the simple protocol, which runs
	// every statement of the file.
	if _, err := tx.Exec(ctx, string(buf)); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, `INSERT INTO cdr_migrations (name, applied_at) VALUES ($1, $2)`,
		name, db.now().UTC()); err != nil {
		return err
	}
	if err := tx.Commit(ctx); err != nil {
		return err
	}
	db.log.Info().Str("migration", name).Str("db", db.where).Msg("cdr: applied migration")
	return nil
}
