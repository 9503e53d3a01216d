package postgres

import "github.com/jackc/pgx/v5/pgxpool"

// Pool exposes the connection pool to this package's tests, which check
// session settings.
func (db *DB) Pool() *pgxpool.Pool { return db.pool }
