package engine

import (
	"context"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/rs/zerolog"

	"github.com/helpline-it/helpline/cdr"
	"github.com/helpline-it/helpline/cdr/postgres"
	"github.com/helpline-it/helpline/cdr/sqlite"
	"github.com/helpline-it/helpline/config"
)

// Options tunes Open. The zero value is ready to use.
type Options struct {
	// Now stamps written_at on each record; time.Now if nil.
	Now func() time.Time
	// Logger receives the engine's migrations and warnings.
	Logger zerolog.Logger
	// MustExist refuses an SQLite path with no database file (ENOTFOUND),
	// for commands that only read: opening would create an empty database
	// and report zeros. A PostgreSQL database is always expected to exist.
	MustExist bool
	// Password is the PostgreSQL password when the caller has resolved it
	// already (serve resolves every secret at start). If zero and the
	// configuration names one, Open resolves it with Getenv.
	Password config.Secret
	// Getenv looks up cdr.password_env; os.Getenv if nil.
	Getenv func(string) string
}

// Store is an open call-record store, whichever engine is behind it.
type Store struct {
	cdr.Store
	// Driver is config.DriverSQLite or config.DriverPostgres.
	Driver string
	// Where names the database for messages and logs: the SQLite file,
	// or "postgres host:port/database" — never a password.
	Where string

	closer io.Closer
}

// Close closes the engine. Records already written are durable.
func (s *Store) Close() error { return s.closer.Close() }

// Open opens the store c describes (an empty Driver is SQLite, the
// configuration's default). Errors have cdr codes: EINVALID for a
// configuration that names no usable store, ENOTFOUND for a missing SQLite
// file with MustExist; a password that cannot be read is returned as the
// configuration's *config.SecretError, naming the key and its source.
func Open(ctx context.Context, c config.CDR, opts Options) (*Store, error) {
	switch c.Driver {
	case "", config.DriverSQLite:
		if c.Path == "" {
			return nil, cdr.Errorf(cdr.EINVALID, "cdr.path: missing (driver sqlite needs a database file)")
		}
		if opts.MustExist {
			if st, err := os.Stat(c.Path); err != nil || st.IsDir() {
				return nil, cdr.Errorf(cdr.ENOTFOUND, "cdr.path %s: no such database file", c.Path)
			}
		}
		db, err := sqlite.Open(ctx, c.Path, sqlite.Options{Now: opts.Now, Logger: opts.Logger})
		if err != nil {
			return nil, fmt.Errorf("call-record store %s: %w", c.Path, err)
		}
		return &Store{Store: db, Driver: config.DriverSQLite, Where: c.Path, closer: db}, nil
	case config.DriverPostgres:
		pw := opts.Password
		if pw.IsZero() && c.Password.IsSet() {
			getenv := opts.Getenv
			if getenv == nil {
				getenv = os.Getenv
			}
			var err error
			if pw, err = c.Password.Resolve(getenv); err != nil {
				return nil, err
			}
		}
		db, err := postgres.Open(ctx, c.DSN, postgres.Options{Password: pw.Reveal(), Now: opts.Now, Logger: opts.Logger})
		if err != nil {
			return nil, fmt.Errorf("call-record store: %w", err)
		}
		return &Store{Store: db, Driver: config.DriverPostgres, Where: db.String(), closer: db}, nil
	}
	return nil, cdr.Errorf(cdr.EINVALID, "cdr.driver: %q is not a driver (sqlite or postgres)", c.Driver)
}
