package postgres

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/helpline-it/helpline/cdr"
)

const columns = `id, direction, service, outcome, arrived_at, queued_at, connected_at, ended_at,
	language, operator, caller_hash, withheld, callee_hash, target, hangup_cause, hangup_by,
	voicemail, transfer, fallback, note`

const insertSQL = `INSERT INTO cdr (` + columns + `, written_at)
	VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21)
	ON CONFLICT (id) DO NOTHING`

// batchInsertSQL inserts many records in one statement from one array per
// column. WITH ORDINALITY and ORDER BY keep the input order, so of two
// records with the same ID within a batch the first is the one stored (ON
// CONFLICT DO NOTHING skips the later one, as it skips IDs already stored).
const batchInsertSQL = `INSERT INTO cdr (` + columns + `, written_at)
	SELECT ` + columns + `, $21 FROM unnest(
		$1::text[], $2::text[], $3::text[], $4::text[],
		$5::timestamptz[], $6::timestamptz[], $7::timestamptz[], $8::timestamptz[],
		$9::text[], $10::text[], $11::bytea[], $12::bool[], $13::bytea[], $14::text[],
		$15::int8[], $16::text[], $17::text[], $18::text[], $19::bool[], $20::text[]
	) WITH ORDINALITY AS b(` + columns + `, ord)
	ORDER BY ord
	ON CONFLICT (id) DO NOTHING`

// batchRows is how many records one batch INSERT carries: large enough that
// the round trip is noise, small enough to keep the arrays' memory modest.
const batchRows = 2000

// scanFetch is how many rows Scan fetches from its cursor at a time.
const scanFetch = 1000

// writeAttempts bounds Write's tries on a broken connection.
const writeAttempts = 3

// Write implements cdr.Writer: it returns once the record is committed
// (flushed to the server's WAL: synchronous_commit=on) or was already
// stored. Concurrent writers of one ID, on any node, store it once.
//
// A pooled connection can be dead without the pool knowing (the server
// restarted, a failover, an idle timeout in between), and then so are its
// siblings: Write closes the pool's connections and tries again on a
// fresh one, up to writeAttempts times in all. That is safe whatever
// reached the server, because the insert is idempotent by ID. Errors
// about the statement itself are not retried (see retryable).
func (db *DB) Write(ctx context.Context, r cdr.Record) error {
	if err := checkStorable(r); err != nil {
		return err
	}
	a := args(r, db.now())
	var err error
	for attempt := 1; attempt <= writeAttempts; attempt++ {
		if _, err = db.pool.Exec(ctx, insertSQL, a...); err == nil {
			return nil
		}
		if !retryable(err) || ctx.Err() != nil {
			break
		}
		db.log.Warn().Err(err).Str("id", r.ID).Int("attempt", attempt).Str("db", db.where).
			Msg("cdr: write failed on a broken connection; reconnecting and retrying")
		db.pool.Reset()
	}
	return fmt.Errorf("cdr/postgres: write %s: %w", r.ID, err)
}

// WriteBatch implements cdr.Store with multi-row INSERTs (batchRows records
// a statement) in one transaction.
func (db *DB) WriteBatch(ctx context.Context, recs []cdr.Record) (int, error) {
	if err := checkBatch(recs); err != nil {
		return 0, err
	}
	if len(recs) == 0 {
		return 0, nil
	}
	pt, err := db.pool.Begin(ctx)
	if err != nil {
		return 0, fmt.Errorf("cdr/postgres: begin: %w", err)
	}
	t := &tx{tx: pt, ctx: ctx, now: db.now()}
	defer t.Rollback()
	n, err := t.InsertBatch(ctx, recs)
	if err != nil {
		return 0, err
	}
	if err := t.Commit(); err != nil {
		return 0, err
	}
	return n, nil
}

// checkBatch is checkStorable over recs, naming the first bad index.
func checkBatch(recs []cdr.Record) error {
	for i, r := range recs {
		if err := checkStorable(r); err != nil {
			return cdr.Errorf(cdr.EINVALID, "record %d (of %d): %s", i, len(recs), cdr.ErrorMessage(err))
		}
	}
	return nil
}

// retryable reports whether err is about the connection rather than the
// statement: a network error (no PgError), or the server ending the
// session (FATAL severity: a terminated backend, a shutdown; SQLSTATE
// classes 08 connection exception and 57 operator intervention).
func retryable(err error) bool {
	var pe *pgconn.PgError
	if !errors.As(err, &pe) {
		return true
	}
	if pe.Code == "57014" { // query_canceled: a statement timeout, not the session
		return false
	}
	return pe.Severity == "FATAL" || strings.HasPrefix(pe.Code, "08") || strings.HasPrefix(pe.Code, "57")
}

// Begin implements cdr.Store. Unlike SQLite's, a PostgreSQL transaction
// does not hold other writers back, except one writing an ID this Tx has
// inserted, which waits for this Tx to end. Commit uses ctx: an import
// whose context is cancelled is not committed.
func (db *DB) Begin(ctx context.Context) (cdr.Tx, error) {
	pt, err := db.pool.Begin(ctx)
	if err != nil {
		return nil, fmt.Errorf("cdr/postgres: begin: %w", err)
	}
	return &tx{tx: pt, ctx: ctx, now: db.now()}, nil
}

// tx is a write transaction on one pooled connection. Like cdr/sqlite's,
// it stamps one time at its start, so every row it writes carries the
// same written_at.
type tx struct {
	tx   pgx.Tx
	ctx  context.Context
	now  time.Time
	done bool
}

func (t *tx) Insert(ctx context.Context, r cdr.Record) (bool, error) {
	if t.done {
		return false, cdr.Errorf(cdr.EINTERNAL, "cdr/postgres: insert after commit or rollback")
	}
	// Everything the server could refuse is checked here, so a refused
	// record never aborts the transaction.
	if err := checkStorable(r); err != nil {
		return false, err
	}
	tag, err := t.tx.Exec(ctx, insertSQL, args(r, t.now)...)
	if err != nil {
		return false, fmt.Errorf("cdr/postgres: insert %s: %w", r.ID, err)
	}
	return tag.RowsAffected() == 1, nil
}

// InsertBatch adds every record of recs whose ID is not stored yet (nor
// earlier in recs or this Tx) with multi-row INSERTs, and returns how many
// were new. If any record fails checkStorable it returns EINVALID naming
// its index and inserts nothing; the Tx stays usable.
//
// It is not part of cdr.Tx: an importer that finds it (by an interface
// assertion) can store a batch in one round trip instead of one a record,
// when it needs only the count of new records, not which ones.
func (t *tx) InsertBatch(ctx context.Context, recs []cdr.Record) (int, error) {
	if t.done {
		return 0, cdr.Errorf(cdr.EINTERNAL, "cdr/postgres: insert after commit or rollback")
	}
	if err := checkBatch(recs); err != nil {
		return 0, err
	}
	n := 0
	for start := 0; start < len(recs); start += batchRows {
		chunk := recs[start:min(start+batchRows, len(recs))]
		tag, err := t.tx.Exec(ctx, batchInsertSQL, batchArgs(chunk, t.now)...)
		if err != nil {
			return 0, fmt.Errorf("cdr/postgres: insert records %d-%d: %w", start, start+len(chunk)-1, err)
		}
		n += int(tag.RowsAffected())
	}
	return n, nil
}

func (t *tx) Commit() error {
	if t.done {
		return cdr.Errorf(cdr.EINTERNAL, "cdr/postgres: commit after commit or rollback")
	}
	t.done = true
	if err := t.tx.Commit(t.ctx); err != nil {
		// The connection goes back to the pool either way; pgx rolls back
		// a transaction whose COMMIT failed.
		return fmt.Errorf("cdr/postgres: commit: %w", err)
	}
	return nil
}

func (t *tx) Rollback() error {
	if t.done {
		return nil
	}
	t.done = true
	// Not t.ctx: a rollback must happen even when the import was
	// cancelled (pgx closes the connection if it cannot).
	ctx, cancel := context.WithTimeout(context.Background(), DefaultConnectTimeout)
	defer cancel()
	if err := t.tx.Rollback(ctx); err != nil && !errors.Is(err, pgx.ErrTxClosed) {
		return fmt.Errorf("cdr/postgres: rollback: %w", err)
	}
	return nil
}

// Get implements cdr.Store.
func (db *DB) Get(ctx context.Context, id string) (*cdr.Record, error) {
	rows, err := db.pool.Query(ctx, `SELECT `+columns+` FROM cdr WHERE id = $1`, clean(id))
	if err != nil {
		return nil, fmt.Errorf("cdr/postgres: get: %w", err)
	}
	defer rows.Close()
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("cdr/postgres: get: %w", err)
		}
		return nil, cdr.Errorf(cdr.ENOTFOUND, "no call record with id %q", id)
	}
	r := new(cdr.Record)
	if err := scanRecord(rows, r); err != nil {
		return nil, err
	}
	return r, nil
}

// Scan implements cdr.Store. It reads through a cursor in a read-only
// transaction, scanFetch rows at a time, so memory stays flat however
// large the period, the whole scan sees one snapshot, and stopping early
// costs nothing (the cursor is dropped, not drained).
func (db *DB) Scan(ctx context.Context, f cdr.Filter, fn func(*cdr.Record) error) error {
	where, qargs, err := whereClause(f)
	if err != nil {
		return err
	}
	pt, err := db.pool.BeginTx(ctx, pgx.TxOptions{AccessMode: pgx.ReadOnly})
	if err != nil {
		return fmt.Errorf("cdr/postgres: scan: %w", err)
	}
	defer func() {
		rctx, cancel := context.WithTimeout(context.Background(), DefaultConnectTimeout)
		defer cancel()
		_ = pt.Rollback(rctx)
	}()
	if _, err := pt.Exec(ctx, `DECLARE cdr_scan NO SCROLL CURSOR FOR SELECT `+columns+
		` FROM cdr`+where+` ORDER BY arrived_at, id`, qargs...); err != nil {
		return fmt.Errorf("cdr/postgres: scan: %w", err)
	}
	fetch := `FETCH FORWARD ` + strconv.Itoa(scanFetch) + ` FROM cdr_scan`
	for {
		rows, err := pt.Query(ctx, fetch)
		if err != nil {
			return fmt.Errorf("cdr/postgres: scan: %w", err)
		}
		n, err := scanRows(ctx, rows, fn)
		if err != nil {
			return err
		}
		if n < scanFetch {
			return nil
		}
	}
}

// scanRows hands each row of one FETCH to fn and returns how many there
// were. fn's error comes back unchanged.
func scanRows(ctx context.Context, rows pgx.Rows, fn func(*cdr.Record) error) (int, error) {
	defer rows.Close()
	n := 0
	for rows.Next() {
		n++
		r := new(cdr.Record)
		if err := scanRecord(rows, r); err != nil {
			return n, err
		}
		if err := fn(r); err != nil {
			return n, err
		}
		if err := ctx.Err(); err != nil {
			return n, err
		}
	}
	if err := rows.Err(); err != nil {
		if cerr := ctx.Err(); cerr != nil {
			return n, cerr
		}
		return n, fmt.Errorf("cdr/postgres: scan: %w", err)
	}
	return n, nil
}

// Count implements cdr.Store.
func (db *DB) Count(ctx context.Context, f cdr.Filter) (int, error) {
	where, qargs, err := whereClause(f)
	if err != nil {
		return 0, err
	}
	var n int64
	if err := db.pool.QueryRow(ctx, `SELECT count(*) FROM cdr`+where, qargs...).Scan(&n); err != nil {
		return 0, fmt.Errorf("cdr/postgres: count: %w", err)
	}
	return int(n), nil
}

// whereClause turns f into SQL on the indexed columns. Bounds are
// truncated to cdr.Precision, as stored times are, so they are exact.
func whereClause(f cdr.Filter) (string, []any, error) {
	if err := f.Check(); err != nil {
		return "", nil, err
	}
	var conds []string
	var qargs []any
	add := func(cond string, arg any) {
		qargs = append(qargs, arg)
		conds = append(conds, strings.Replace(cond, "?", "$"+strconv.Itoa(len(qargs)), 1))
	}
	if !f.From.IsZero() {
		add(`arrived_at >= ?`, clampTime(f.From))
	}
	if !f.To.IsZero() {
		add(`arrived_at < ?`, clampTime(f.To))
	}
	if f.Direction != "" {
		add(`direction = ?`, string(f.Direction))
	}
	if f.Service != "" {
		add(`service = ?`, clean(f.Service))
	}
	if len(conds) == 0 {
		return "", nil, nil
	}
	return ` WHERE ` + strings.Join(conds, ` AND `), qargs, nil
}

// PostgreSQL's timestamptz range (4713 BC to 294276 AD). A Filter bound
// outside it is clamped (nothing is stored out there); a record time
// outside it is refused.
var (
	minTime = time.Date(-4712, 1, 1, 0, 0, 0, 0, time.UTC)
	maxTime = time.Date(294276, 1, 1, 0, 0, 0, 0, time.UTC)
)

func clampTime(t time.Time) time.Time {
	t = t.UTC().Truncate(cdr.Precision)
	switch {
	case t.Before(minTime):
		return minTime
	case t.After(maxTime):
		return maxTime
	}
	return t
}

// checkStorable is cdr.Record.CheckStorable plus what PostgreSQL itself
// would refuse, so that no record reaches the server only to abort a
// transaction: times outside timestamptz's range.
func checkStorable(r cdr.Record) error {
	if err := r.CheckStorable(); err != nil {
		return err
	}
	for _, t := range []struct {
		name string
		t    time.Time
	}{{"arrived_at", r.ArrivedAt}, {"queued_at", r.QueuedAt}, {"connected_at", r.ConnectedAt}, {"ended_at", r.EndedAt}} {
		if !t.t.IsZero() && (t.t.Before(minTime) || !t.t.Before(maxTime)) {
			return cdr.Errorf(cdr.EINVALID, "%s year %d is outside what PostgreSQL stores", t.name, t.t.Year())
		}
	}
	return nil
}

// clean makes s storable in a PostgreSQL text column, which refuses NUL
// bytes and invalid UTF-8 (SQLite keeps any bytes): each is replaced by
// U+FFFD. Refusing the record instead would lose a live call over a
// garbled note or operator name; IDs, directions and outcomes never get
// here garbled (CheckStorable refuses them).
func clean(s string) string {
	if utf8.ValidString(s) && !strings.ContainsRune(s, 0) {
		return s
	}
	return strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "\uFFFD")
}

func args(r cdr.Record, now time.Time) []any {
	return []any{
		r.ID, string(r.Direction), clean(r.Service), string(r.Outcome),
		r.ArrivedAt.UTC().Truncate(cdr.Precision),
		ts(r.QueuedAt), ts(r.ConnectedAt), ts(r.EndedAt),
		clean(r.Language), clean(r.Operator), hashBytes(r.CallerHash), r.Withheld, hashBytes(r.CalleeHash),
		clean(r.Target), int64(r.HangupCause), clean(r.HangupBy), clean(r.Voicemail), clean(r.Transfer),
		r.Fallback, clean(r.Note),
		now.UTC().Truncate(cdr.Precision),
	}
}

// batchArgs is args for batchInsertSQL: one array per column.
func batchArgs(recs []cdr.Record, now time.Time) []any {
	n := len(recs)
	var (
		id, dir, service, outcome           = make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		arrived, queued, connected, ended   = make([]time.Time, n), make([]pgtype.Timestamptz, n), make([]pgtype.Timestamptz, n), make([]pgtype.Timestamptz, n)
		language, operator, target          = make([]string, n), make([]string, n), make([]string, n)
		caller, callee                      = make([][]byte, n), make([][]byte, n)
		withheld, fallback                  = make([]bool, n), make([]bool, n)
		cause                               = make([]int64, n)
		hangupBy, voicemail, transfer, note = make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	)
	for i, r := range recs {
		id[i], dir[i], service[i], outcome[i] = r.ID, string(r.Direction), clean(r.Service), string(r.Outcome)
		arrived[i] = r.ArrivedAt.UTC().Truncate(cdr.Precision)
		queued[i], connected[i], ended[i] = pgts(r.QueuedAt), pgts(r.ConnectedAt), pgts(r.EndedAt)
		language[i], operator[i], target[i] = clean(r.Language), clean(r.Operator), clean(r.Target)
		caller[i], callee[i] = hashSlice(r.CallerHash), hashSlice(r.CalleeHash)
		withheld[i], fallback[i], cause[i] = r.Withheld, r.Fallback, int64(r.HangupCause)
		hangupBy[i], voicemail[i], transfer[i], note[i] = clean(r.HangupBy), clean(r.Voicemail), clean(r.Transfer), clean(r.Note)
	}
	return []any{id, dir, service, outcome, arrived, queued, connected, ended,
		language, operator, caller, withheld, callee, target, cause, hangupBy, voicemail, transfer, fallback, note,
		now.UTC().Truncate(cdr.Precision)}
}

// ts is an optional time as a parameter: NULL for the zero time.
func ts(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC().Truncate(cdr.Precision)
}

func pgts(t time.Time) pgtype.Timestamptz {
	if t.IsZero() {
		return pgtype.Timestamptz{}
	}
	return pgtype.Timestamptz{Time: t.UTC().Truncate(cdr.Precision), Valid: true}
}

// hashBytes is a hex hash as the 32 bytes stored, or NULL for none.
// CheckStorable has vetted the hex already.
func hashBytes(h string) any {
	if b := hashSlice(h); b != nil {
		return b
	}
	return nil
}

// hashSlice is hashBytes for arrays: a nil slice is a NULL element.
func hashSlice(h string) []byte {
	if h == "" {
		return nil
	}
	b, err := hex.DecodeString(h)
	if err != nil {
		// Cannot happen after CheckStorable; the length CHECK would refuse
		// the text rather than store it.
		return []byte(h)
	}
	return b
}

func scanRecord(rows pgx.Rows, r *cdr.Record) error {
	var dir, outcome string
	var arrived time.Time
	var queued, connected, ended pgtype.Timestamptz
	var cause int64
	var caller, callee []byte
	if err := rows.Scan(&r.ID, &dir, &r.Service, &outcome, &arrived, &queued, &connected, &ended,
		&r.Language, &r.Operator, &caller, &r.Withheld, &callee, &r.Target,
		&cause, &r.HangupBy, &r.Voicemail, &r.Transfer, &r.Fallback, &r.Note); err != nil {
		return fmt.Errorf("cdr/postgres: read row: %w", err)
	}
	r.Direction, r.Outcome, r.HangupCause = cdr.Direction(dir), cdr.Outcome(outcome), int(cause)
	if caller != nil {
		r.CallerHash = hex.EncodeToString(caller)
	}
	if callee != nil {
		r.CalleeHash = hex.EncodeToString(callee)
	}
	r.ArrivedAt = arrived.UTC()
	r.QueuedAt, r.ConnectedAt, r.EndedAt = fromTS(queued), fromTS(connected), fromTS(ended)
	return nil
}

func fromTS(t pgtype.Timestamptz) time.Time {
	if !t.Valid {
		return time.Time{}
	}
	return t.Time.UTC()
}
