package postgres_test

import (
	"context"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/helpline-it/helpline/cdr"
	"github.com/helpline-it/helpline/cdr/cdrtest"
	"github.com/helpline-it/helpline/cdr/postgres"
	"github.com/helpline-it/helpline/internal/testenv"
)

// pg is the one server of this package's test run: initdb costs seconds,
// a database costs milliseconds.
var pg testenv.SharedPostgres

func TestMain(m *testing.M) {
	code := m.Run()
	pg.Stop()
	pgDurable.Stop()
	os.Exit(code)
}

// open opens the store on a fresh database.
func open(t *testing.T) (*postgres.DB, string) {
	t.Helper()
	dsn := pg.NewDatabase(t)
	db, err := postgres.Open(t.Context(), dsn, postgres.Options{})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	return db, dsn
}

// conn is a plain connection to the database, for looking under the store.
func conn(t *testing.T, dsn string) *pgx.Conn {
	t.Helper()
	c, err := pgx.Connect(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close(context.Background()) })
	return c
}

func TestStoreContract(t *testing.T) {
	t.Parallel()
	cdrtest.RunStoreSuite(t, func(t *testing.T) cdr.Store {
		db, _ := open(t)
		return db
	})
}

func TestReopenKeepsDataAndMigrations(t *testing.T) {
	t.Parallel()
	dsn := pg.NewDatabase(t)
	now := time.Date(2025, 6, 2, 12, 0, 0, 123456789, time.UTC)
	db, err := postgres.Open(t.Context(), dsn, postgres.Options{Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Write(t.Context(), cdrtest.Answered("a", cdrtest.T0)); err != nil {
		t.Fatal(err)
	}
	if _, err := db.WriteBatch(t.Context(), []cdr.Record{cdrtest.Answered("b", cdrtest.T0)}); err != nil {
		t.Fatal(err)
	}
	c := conn(t, dsn)
	rows, _ := c.Query(t.Context(), `SELECT written_at FROM cdr ORDER BY id`)
	written, err := pgx.CollectRows(rows, pgx.RowTo[time.Time])
	if err != nil {
		t.Fatal(err)
	}
	for i, w := range written {
		if !w.Equal(now.Truncate(cdr.Precision)) {
			t.Errorf("row %d: written_at = %v, want the injected Now %v", i, w, now)
		}
	}
	db.Close()

	db, err = postgres.Open(t.Context(), dsn, postgres.Options{})
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	defer db.Close()
	if _, err := db.Get(t.Context(), "a"); err != nil {
		t.Fatalf("record lost on reopen: %v", err)
	}
	rows, _ = c.Query(t.Context(), `SELECT name FROM cdr_migrations ORDER BY name`)
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(names, " ") != "migration/001_cdr.sql" {
		t.Fatalf("migrations = %v, want each applied once", names)
	}
}

// TestConcurrentOpenMigratesOnce starts several nodes on one empty
// database at once: the advisory lock must make exactly one of them create
// the schema and the others find it done.
func TestConcurrentOpenMigratesOnce(t *testing.T) {
	t.Parallel()
	dsn := pg.NewDatabase(t)
	const nodes = 6
	var wg sync.WaitGroup
	errs := make([]error, nodes)
	dbs := make([]*postgres.DB, nodes)
	start := make(chan struct{})
	for i := range nodes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			dbs[i], errs[i] = postgres.Open(t.Context(), dsn, postgres.Options{})
		}()
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("node %d: Open = %v", i, err)
			continue
		}
		defer dbs[i].Close()
	}
	var n int
	if err := conn(t, dsn).QueryRow(t.Context(), `SELECT count(*) FROM cdr_migrations`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 1 {
		t.Fatalf("cdr_migrations has %d rows after concurrent opens, want 1", n)
	}
	// Every node can write and see the others' records.
	for i, db := range dbs {
		if db != nil {
			if err := db.Write(t.Context(), cdrtest.Answered("node"+string(rune('a'+i)), cdrtest.T0)); err != nil {
				t.Errorf("node %d: Write: %v", i, err)
			}
		}
	}
	if got, err := dbs[0].Count(t.Context(), cdr.Filter{}); err != nil || got != nodes {
		t.Fatalf("Count = %d, %v; want %d", got, err, nodes)
	}
}

// TestMigrationWaitsForLock holds the advisory lock as another node
// mid-migration would: Open must wait for it, and give up with its context.
func TestMigrationWaitsForLock(t *testing.T) {
	t.Parallel()
	dsn := pg.NewDatabase(t)
	holder := conn(t, dsn)
	if _, err := holder.Exec(t.Context(), `SELECT pg_advisory_lock($1)`, int64(0x68656c706c696e65)); err != nil {
		t.Fatal(err)
	}
	// Long enough to connect on a loaded machine (the deadline covers the
	// connection too); the lock is held until the test releases it.
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Second)
	defer cancel()
	if db, err := postgres.Open(ctx, dsn, postgres.Options{}); err == nil {
		db.Close()
		t.Fatal("Open succeeded while another node held the migration lock")
	} else if !strings.Contains(err.Error(), "migration lock") {
		t.Fatalf("Open = %v, want an error about waiting for the migration lock", err)
	}
	done := make(chan error, 1)
	go func() {
		db, err := postgres.Open(t.Context(), dsn, postgres.Options{})
		if err == nil {
			db.Close()
		}
		done <- err
	}()
	if _, err := holder.Exec(t.Context(), `SELECT pg_advisory_unlock($1)`, int64(0x68656c706c696e65)); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatalf("Open after the lock was released: %v", err)
	}
}

func TestRefusesNewerSchema(t *testing.T) {
	t.Parallel()
	db, dsn := open(t)
	db.Close()
	if _, err := conn(t, dsn).Exec(t.Context(),
		`INSERT INTO cdr_migrations (name, applied_at) VALUES ('migration/999_future.sql', now())`); err != nil {
		t.Fatal(err)
	}
	_, err := postgres.Open(t.Context(), dsn, postgres.Options{})
	if cdr.ErrorCode(err) != cdr.ECONFLICT || !strings.Contains(err.Error(), "999_future") {
		t.Fatalf("Open over a newer schema = %v, want ECONFLICT naming the migration", err)
	}
}

// TestFailedMigrationLeavesNothing checks the transaction around a
// migration: a schema that cannot be created (a table named cdr already
// there) leaves no record of the migration, so a fixed database migrates.
func TestFailedMigrationLeavesNothing(t *testing.T) {
	t.Parallel()
	dsn := pg.NewDatabase(t)
	c := conn(t, dsn)
	if _, err := c.Exec(t.Context(), `CREATE TABLE cdr (x int)`); err != nil {
		t.Fatal(err)
	}
	if db, err := postgres.Open(t.Context(), dsn, postgres.Options{}); err == nil {
		db.Close()
		t.Fatal("Open succeeded over a foreign cdr table")
	} else if !strings.Contains(err.Error(), "001_cdr.sql") {
		t.Fatalf("Open = %v, want the failing migration named", err)
	}
	var n int
	if err := c.QueryRow(t.Context(), `SELECT count(*) FROM cdr_migrations`).Scan(&n); err != nil || n != 0 {
		t.Fatalf("cdr_migrations rows after a failed migration = %d, %v; want 0", n, err)
	}
	if _, err := c.Exec(t.Context(), `DROP TABLE cdr`); err != nil {
		t.Fatal(err)
	}
	db, err := postgres.Open(t.Context(), dsn, postgres.Options{})
	if err != nil {
		t.Fatalf("Open after the fix: %v", err)
	}
	db.Close()
}

// TestOpenPassword: the password comes from Options (the configuration's
// cdr.password_env/_file), not the DSN, and is never echoed.
func TestOpenPassword(t *testing.T) {
	t.Parallel()
	srv := pg.Server(t)
	dsn := pg.NewDatabase(t)
	name := dsn[strings.LastIndex(dsn, "/")+1 : strings.Index(dsn, "?")]
	bare := srv.DSNWithoutPassword(name)

	db, err := postgres.Open(t.Context(), bare, postgres.Options{Password: srv.Password})
	if err != nil {
		t.Fatalf("Open with Options.Password: %v", err)
	}
	db.Close()

	_, err = postgres.Open(t.Context(), bare, postgres.Options{Password: "wrong-secret-xyz"})
	if err == nil {
		t.Fatal("Open with a wrong password succeeded")
	}
	if cdr.ErrorCode(err) != cdr.EINTERNAL || strings.Contains(err.Error(), "wrong-secret-xyz") {
		t.Fatalf("Open with a wrong password = %v (code %s): want EINTERNAL, password not echoed", err, cdr.ErrorCode(err))
	}
}

func TestOpenRefusesBadDSN(t *testing.T) {
	t.Parallel()
	for _, dsn := range []string{"", "postgres://u:s3cr3t-pw@host:notaport/db", "host=x port=abc password=s3cr3t-pw"} {
		_, err := postgres.Open(t.Context(), dsn, postgres.Options{})
		if cdr.ErrorCode(err) != cdr.EINVALID {
			t.Errorf("Open(%q) = %v, want EINVALID", dsn, err)
		}
		if err != nil && strings.Contains(err.Error(), "s3cr3t-pw") {
			t.Errorf("Open(%q) error leaks the password: %v", dsn, err)
		}
	}
}

func TestOpenUnreachable(t *testing.T) {
	t.Parallel()
	// A port nothing listens on: Open fails promptly, naming the server.
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	_, err := postgres.Open(ctx, "postgres://helpline@127.0.0.1:1/cdr?sslmode=disable", postgres.Options{})
	if err == nil || cdr.ErrorCode(err) != cdr.EINTERNAL || !strings.Contains(err.Error(), "127.0.0.1:1/cdr") {
		t.Fatalf("Open(unreachable) = %v, want EINTERNAL naming 127.0.0.1:1/cdr", err)
	}
}

// TestSessionIsDurable: whatever the server's default, the store's
// sessions commit synchronously (see doc.go), unless the DSN says
// otherwise.
func TestSessionIsDurable(t *testing.T) {
	t.Parallel()
	// The test server runs with synchronous_commit=off.
	db, dsn := open(t)
	var got string
	if err := db.Pool().QueryRow(t.Context(), `SHOW synchronous_commit`).Scan(&got); err != nil {
		t.Fatal(err)
	}
	if got != "on" {
		t.Errorf("session synchronous_commit = %q, want on", got)
	}
	var def string
	if err := conn(t, dsn).QueryRow(t.Context(), `SHOW synchronous_commit`).Scan(&def); err != nil || def != "off" {
		t.Fatalf("test server default synchronous_commit = %q, %v; the test expects off", def, err)
	}
	for _, param := range []string{"synchronous_commit=local", "options=-csynchronous_commit%3Dlocal"} {
		db2, err := postgres.Open(t.Context(), dsn+"&"+param, postgres.Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer db2.Close()
		if err := db2.Pool().QueryRow(t.Context(), `SHOW synchronous_commit`).Scan(&got); err != nil || got != "local" {
			t.Errorf("DSN %s: session has synchronous_commit %q, %v; want local", param, got, err)
		}
	}
}

// TestNoRawNumberColumn: the hash columns take only 32-byte values, so
// SQL that bypasses the store cannot file a number there either.
func TestNoRawNumberColumn(t *testing.T) {
	t.Parallel()
	_, dsn := open(t)
	c := conn(t, dsn)
	for _, q := range []string{
		`INSERT INTO cdr (id, direction, outcome, arrived_at, written_at, caller_hash) VALUES ('x', 'inbound', 'answered', now(), now(), '+393331234567')`,
		`INSERT INTO cdr (id, direction, outcome, arrived_at, written_at, callee_hash) VALUES ('y', 'outbound', 'busy', now(), now(), convert_to('+390612345678', 'UTF8'))`,
		`INSERT INTO cdr (id, direction, outcome, arrived_at, written_at) VALUES ('z', 'sideways', 'answered', now(), now())`,
	} {
		if _, err := c.Exec(t.Context(), q); err == nil {
			t.Errorf("the schema accepted %s", q)
		}
	}
}

// TestTextCleaned: NUL and invalid UTF-8, which PostgreSQL text refuses,
// are replaced rather than losing the call; the record is stored and the
// rest of it intact.
func TestTextCleaned(t *testing.T) {
	t.Parallel()
	db, _ := open(t)
	r := cdrtest.Answered("garbled", cdrtest.T0)
	r.Note, r.Operator, r.Service = "a\x00b", "op\xff1", "15\x0022"
	b := cdrtest.Answered("garbled-batch", cdrtest.T0)
	b.Note = "x\xc3"
	if err := db.Write(t.Context(), r); err != nil {
		t.Fatalf("Write(garbled text) = %v, want it stored", err)
	}
	if n, err := db.WriteBatch(t.Context(), []cdr.Record{b}); err != nil || n != 1 {
		t.Fatalf("WriteBatch(garbled text) = %d, %v", n, err)
	}
	got, err := db.Get(t.Context(), "garbled")
	if err != nil {
		t.Fatal(err)
	}
	want := r.Canonical()
	want.Note, want.Operator, want.Service = "a\uFFFDb", "op\uFFFD1", "15\uFFFD22"
	if *got != want {
		t.Fatalf("Get = %+v\nwant %+v", *got, want)
	}
	if got, _ := db.Get(t.Context(), "garbled-batch"); got == nil || got.Note != "x\uFFFD" {
		t.Fatalf("batch record note = %+v", got)
	}
	// The filter is cleaned the same way, so it finds the record.
	if n, err := db.Count(t.Context(), cdr.Filter{Service: "15\x0022"}); err != nil || n != 1 {
		t.Fatalf("Count(service with NUL) = %d, %v; want 1", n, err)
	}
	if _, err := db.Get(t.Context(), "bad\xffid"); cdr.ErrorCode(err) != cdr.ENOTFOUND {
		t.Fatalf("Get(invalid UTF-8 id) = %v, want ENOTFOUND", err)
	}
}

// TestTimeRange: times PostgreSQL cannot store are refused with EINVALID
// before reaching the server, so a Tx stays usable; filter bounds out
// there are clamped.
func TestTimeRange(t *testing.T) {
	t.Parallel()
	db, _ := open(t)
	far := cdrtest.Answered("far", cdrtest.T0)
	far.EndedAt = time.Date(300000, 1, 1, 0, 0, 0, 0, time.UTC)
	if err := db.Write(t.Context(), far); cdr.ErrorCode(err) != cdr.EINVALID || !strings.Contains(err.Error(), "ended_at") {
		t.Fatalf("Write(year 300000) = %v, want EINVALID naming ended_at", err)
	}
	tx, err := db.Begin(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	if _, err := tx.Insert(t.Context(), far); cdr.ErrorCode(err) != cdr.EINVALID {
		t.Fatalf("Insert(year 300000) = %v, want EINVALID", err)
	}
	if ok, err := tx.Insert(t.Context(), cdrtest.Answered("near", cdrtest.T0)); err != nil || !ok {
		t.Fatalf("Tx unusable after a refused time: %v, %v", ok, err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	n, err := db.Count(t.Context(), cdr.Filter{
		From: time.Date(-10000, 1, 1, 0, 0, 0, 0, time.UTC), To: time.Date(400000, 1, 1, 0, 0, 0, 0, time.UTC)})
	if err != nil || n != 1 {
		t.Fatalf("Count(bounds beyond PostgreSQL's range) = %d, %v; want 1", n, err)
	}
}

// TestIDOrderIsBytewise: ties on arrived_at are ordered by ID byte by
// byte, as in SQLite and Go, whatever the database's locale.
func TestIDOrderIsBytewise(t *testing.T) {
	t.Parallel()
	db, _ := open(t)
	ids := []string{"b1", "B2", "a1", "_x", "A0", "é", "z"}
	for _, id := range ids {
		if err := db.Write(t.Context(), cdrtest.Answered(id, cdrtest.T0)); err != nil {
			t.Fatal(err)
		}
	}
	var got []string
	if err := db.Scan(t.Context(), cdr.Filter{}, func(r *cdr.Record) error { got = append(got, r.ID); return nil }); err != nil {
		t.Fatal(err)
	}
	if strings.Join(got, " ") != "A0 B2 _x a1 b1 z é" {
		t.Fatalf("Scan order = %v, want byte order", got)
	}
}

// TestScanLargeAcrossFetches scans more rows than one cursor fetch, with a
// write from inside the callback (allowed by the contract), checks that
// the rows come through the cursor, and stops early in the second fetch.
func TestScanLargeAcrossFetches(t *testing.T) {
	t.Parallel()
	db, dsn := open(t)
	watcher := conn(t, dsn)
	const n = 2500
	recs := make([]cdr.Record, n)
	for i := range recs {
		recs[i] = cdrtest.Answered("r"+strconv.Itoa(i), cdrtest.T0.Add(time.Duration(i)*time.Millisecond))
	}
	if got, err := db.WriteBatch(t.Context(), recs); err != nil || got != n {
		t.Fatalf("WriteBatch = %d, %v", got, err)
	}
	seen := 0
	var last time.Time
	err := db.Scan(t.Context(), cdr.Filter{}, func(r *cdr.Record) error {
		if r.ArrivedAt.Before(last) {
			t.Fatalf("out of order at %s", r.ID)
		}
		last = r.ArrivedAt
		seen++
		if seen == 10 {
			// The scan's session is between fetches of its cursor, not
			// sending a result it computed whole.
			var q string
			if err := watcher.QueryRow(t.Context(), `SELECT query FROM pg_stat_activity
				WHERE datname = current_database() AND state = 'idle in transaction'`).Scan(&q); err != nil {
				return err
			}
			if !strings.HasPrefix(q, "FETCH FORWARD") {
				t.Errorf("scan session's last statement = %q, want a cursor FETCH", q)
			}
			return db.Write(t.Context(), cdrtest.Answered("during", cdrtest.T0))
		}
		return nil
	})
	if err != nil || seen != n {
		t.Fatalf("Scan = %v after %d records, want %d", err, seen, n)
	}
	stop := context.Canceled
	seen = 0
	err = db.Scan(t.Context(), cdr.Filter{}, func(*cdr.Record) error {
		seen++
		if seen == 1500 {
			return stop
		}
		return nil
	})
	if err != stop || seen != 1500 {
		t.Fatalf("Scan stopped in the second fetch = %v after %d", err, seen)
	}
	if got, err := db.Count(t.Context(), cdr.Filter{}); err != nil || got != n+1 {
		t.Fatalf("Count = %d, %v; want %d", got, err, n+1)
	}
}

// TestWriteBatchLarge crosses the multi-row INSERT's chunk size with
// duplicates in different chunks, and NULL-able columns in the arrays.
func TestWriteBatchLarge(t *testing.T) {
	t.Parallel()
	db, _ := open(t)
	const n = 4500
	recs := make([]cdr.Record, 0, n+2)
	for i := range n {
		r := cdrtest.Answered("b"+strconv.Itoa(i), cdrtest.T0.Add(time.Duration(i)*time.Second))
		if i%2 == 1 {
			r = cdrtest.Outbound("b"+strconv.Itoa(i), r.ArrivedAt)
		}
		recs = append(recs, r)
	}
	first := recs[3]
	dup := recs[3]
	dup.Note = "second copy, in another chunk"
	recs = append(recs, dup, recs[4000])
	got, err := db.WriteBatch(t.Context(), recs)
	if err != nil || got != n {
		t.Fatalf("WriteBatch = %d, %v; want %d", got, err, n)
	}
	stored, err := db.Get(t.Context(), first.ID)
	if err != nil || *stored != first.Canonical() {
		t.Fatalf("Get(%s) = %+v, %v; want the first copy %+v", first.ID, stored, err, first.Canonical())
	}
	for _, i := range []int{0, 1, 2001, 4499} {
		got, err := db.Get(t.Context(), recs[i].ID)
		if err != nil || *got != recs[i].Canonical() {
			t.Errorf("Get(%s) = %+v, %v\nwant %+v", recs[i].ID, got, err, recs[i].Canonical())
		}
	}
}

// batchInserter is the optional Tx method an importer may use.
type batchInserter interface {
	InsertBatch(ctx context.Context, recs []cdr.Record) (int, error)
}

func TestTxInsertBatch(t *testing.T) {
	t.Parallel()
	db, _ := open(t)
	if err := db.Write(t.Context(), cdrtest.Answered("stored", cdrtest.T0)); err != nil {
		t.Fatal(err)
	}
	tx, err := db.Begin(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	bi, ok := tx.(batchInserter)
	if !ok {
		t.Fatalf("%T has no InsertBatch", tx)
	}
	if _, err := tx.Insert(t.Context(), cdrtest.Answered("in-tx", cdrtest.T0)); err != nil {
		t.Fatal(err)
	}
	bad := cdrtest.Answered("bad", cdrtest.T0)
	bad.CallerHash = "+393331234567"
	if n, err := bi.InsertBatch(t.Context(), []cdr.Record{cdrtest.Answered("x", cdrtest.T0), bad}); cdr.ErrorCode(err) != cdr.EINVALID || n != 0 ||
		!strings.Contains(err.Error(), "record 1") || strings.Contains(err.Error(), "3331234567") {
		t.Fatalf("InsertBatch(bad record at 1) = %d, %v; want EINVALID naming record 1, no number", n, err)
	}
	batch := []cdr.Record{
		cdrtest.Answered("new1", cdrtest.T0), cdrtest.Answered("stored", cdrtest.T0),
		cdrtest.Answered("in-tx", cdrtest.T0), cdrtest.Outbound("new2", cdrtest.T0), cdrtest.Answered("new1", cdrtest.T0),
	}
	if n, err := bi.InsertBatch(t.Context(), batch); err != nil || n != 2 {
		t.Fatalf("InsertBatch = %d, %v; want 2 new (new1, new2)", n, err)
	}
	if n, _ := db.Count(t.Context(), cdr.Filter{}); n != 1 {
		t.Fatalf("uncommitted batch visible: Count = %d", n)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	if n, _ := db.Count(t.Context(), cdr.Filter{}); n != 4 {
		t.Fatalf("after Commit Count = %d, want 4 (stored, in-tx, new1, new2)", n)
	}
	if _, err := bi.InsertBatch(t.Context(), batch); cdr.ErrorCode(err) != cdr.EINTERNAL {
		t.Fatalf("InsertBatch after Commit = %v, want EINTERNAL", err)
	}
}

// TestWriteSurvivesDeadConnections kills every session of the store, as a
// server restart or failover does: the pool still holds the dead
// connections, and Write must go through on a fresh one, once.
func TestWriteSurvivesDeadConnections(t *testing.T) {
	t.Parallel()
	db, dsn := open(t)
	// Fill the pool with idle connections: a scan holds one while the
	// callback writes on another, twice nested.
	err := db.Scan(t.Context(), cdr.Filter{}, func(*cdr.Record) error { return nil })
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Write(t.Context(), cdrtest.Answered("before0", cdrtest.T0)); err != nil {
		t.Fatal(err)
	}
	err = db.Scan(t.Context(), cdr.Filter{}, func(*cdr.Record) error {
		return db.Scan(t.Context(), cdr.Filter{}, func(*cdr.Record) error {
			for i := 1; i < 3; i++ {
				if err := db.Write(t.Context(), cdrtest.Answered("before"+strconv.Itoa(i), cdrtest.T0)); err != nil {
					return err
				}
			}
			return nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	if idle := db.Pool().Stat().IdleConns(); idle < 3 {
		t.Fatalf("%d idle connections; the test wants at least 3 to kill", idle)
	}
	killer := conn(t, dsn)
	var killed int
	if err := killer.QueryRow(t.Context(), `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
		WHERE datname = current_database() AND pid <> pg_backend_pid()`).Scan(&killed); err != nil {
		t.Fatal(err)
	}
	if killed < 3 {
		t.Fatalf("killed %d store sessions, want at least 3", killed)
	}
	for i := range 3 {
		if err := db.Write(t.Context(), cdrtest.Answered("after"+strconv.Itoa(i), cdrtest.T0)); err != nil {
			t.Fatalf("Write %d after the store's %d sessions were killed: %v", i, killed, err)
		}
	}
	if n, err := db.Count(t.Context(), cdr.Filter{}); err != nil || n != 6 {
		t.Fatalf("Count = %d, %v; want 6", n, err)
	}
}
