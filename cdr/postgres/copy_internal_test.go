package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/helpline-it/helpline/cdr"
)

// copyBatch is an experiment measured against InsertBatch (see
// BENCHMARKS.md): COPY into a temporary table, then one INSERT … SELECT
// … ON CONFLICT DO NOTHING. It is not a code path.
func (t *tx) copyBatch(ctx context.Context, recs []cdr.Record) (int, error) {
	if _, err := t.tx.Exec(ctx, `CREATE TEMP TABLE IF NOT EXISTS cdr_load (LIKE cdr INCLUDING DEFAULTS, ord bigint) ON COMMIT DELETE ROWS`); err != nil {
		return 0, err
	}
	if _, err := t.tx.Exec(ctx, `TRUNCATE cdr_load`); err != nil {
		return 0, err
	}
	cols := []string{"id", "direction", "service", "outcome", "arrived_at", "queued_at", "connected_at", "ended_at",
		"language", "operator", "caller_hash", "withheld", "callee_hash", "target", "hangup_cause", "hangup_by",
		"voicemail", "transfer", "fallback", "note", "written_at", "ord"}
	now := t.now.UTC().Truncate(cdr.Precision)
	i := 0
	src := pgx.CopyFromFunc(func() ([]any, error) {
		if i == len(recs) {
			return nil, nil
		}
		r := recs[i]
		i++
		row := args(r, now)
		return append(row, int64(i)), nil
	})
	if _, err := t.tx.CopyFrom(ctx, pgx.Identifier{"cdr_load"}, cols, src); err != nil {
		return 0, err
	}
	tag, err := t.tx.Exec(ctx, `INSERT INTO cdr (`+columns+`, written_at) SELECT `+columns+`, written_at FROM cdr_load ORDER BY ord ON CONFLICT (id) DO NOTHING`)
	if err != nil {
		return 0, err
	}
	return int(tag.RowsAffected()), nil
}
