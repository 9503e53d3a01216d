package postgres

import (
	"context"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/helpline-it/helpline/cdr"
)

// Pool exposes the connection pool to this package's tests, which check
// session settings.
func (db *DB) Pool() *pgxpool.Pool { return db.pool }

// CopyBatch runs the COPY experiment (copy_internal_test.go) on a Tx from
// Begin.
func CopyBatch(ctx context.Context, t cdr.Tx, recs []cdr.Record) (int, error) {
	return t.(*tx).copyBatch(ctx, recs)
}
