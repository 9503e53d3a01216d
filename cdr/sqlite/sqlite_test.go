package sqlite_test

import (
	"database/sql"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/helpline-it/helpline/cdr"
	"github.com/helpline-it/helpline/cdr/cdrtest"
	"github.com/helpline-it/helpline/cdr/sqlite"
)

// open opens a fresh database file in a temporary directory.
func open(t *testing.T) *sqlite.DB {
	t.Helper()
	db, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "cdr.db"), sqlite.Options{})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestStoreContract(t *testing.T) {
	cdrtest.RunStoreSuite(t, func(t *testing.T) cdr.Store { return open(t) })
}

func TestPragmasOnEveryConnection(t *testing.T) {
	db := open(t)
	ctx := t.Context()
	// Hold several connections at once so the pool must open new ones:
	// each must carry the pragmas, not just the first.
	var conns []*sql.Conn
	for range 3 {
		c, err := db.SQL().Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
	}
	for i, c := range conns {
		for _, p := range []struct{ pragma, want string }{
			{"journal_mode", "wal"}, {"synchronous", "2"}, {"foreign_keys", "1"}, {"busy_timeout", "10000"},
		} {
			var got string
			if err := c.QueryRowContext(ctx, "PRAGMA "+p.pragma).Scan(&got); err != nil {
				t.Fatal(err)
			}
			if got != p.want {
				t.Errorf("connection %d: PRAGMA %s = %s, want %s", i, p.pragma, got, p.want)
			}
		}
	}
	for _, c := range conns {
		c.Close()
	}
}

func TestReopenKeepsDataAndMigrations(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "dir", "cdr.db")
	now := time.Date(2025, 6, 2, 12, 0, 0, 0, time.UTC)
	db, err := sqlite.Open(t.Context(), path, sqlite.Options{Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Write(t.Context(), cdrtest.Answered("a", cdrtest.T0)); err != nil {
		t.Fatal(err)
	}
	var written int64
	if err := db.SQL().QueryRow(`SELECT written_at FROM cdr WHERE id = 'a'`).Scan(&written); err != nil {
		t.Fatal(err)
	}
	if written != now.UnixMicro() {
		t.Errorf("written_at = %d, want the injected Now %d", written, now.UnixMicro())
	}
	db.Close()

	db, err = sqlite.Open(t.Context(), path, sqlite.Options{})
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	defer db.Close()
	if _, err := db.Get(t.Context(), "a"); err != nil {
		t.Fatalf("record lost on reopen: %v", err)
	}
	var names []string
	rows, err := db.SQL().Query(`SELECT name FROM migrations ORDER BY name`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var n string
		rows.Scan(&n)
		names = append(names, n)
	}
	rows.Close()
	if len(names) != 1 || names[0] != "migration/001_cdr.sql" {
		t.Fatalf("migrations = %v, want each applied once", names)
	}
}

func TestRefusesNewerSchema(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cdr.db")
	db, err := sqlite.Open(t.Context(), path, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.SQL().Exec(`INSERT INTO migrations (name, applied_at) VALUES ('migration/999_future.sql', 0)`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	_, err = sqlite.Open(t.Context(), path, sqlite.Options{})
	if cdr.ErrorCode(err) != cdr.ECONFLICT || !strings.Contains(err.Error(), "999_future") {
		t.Fatalf("Open over a newer schema = %v, want ECONFLICT naming the migration", err)
	}
}

func TestOpenRefusesBadPaths(t *testing.T) {
	for _, p := range []string{"", ":memory:", "file:x.db", "x.db?mode=ro"} {
		if _, err := sqlite.Open(t.Context(), p, sqlite.Options{}); cdr.ErrorCode(err) != cdr.EINVALID {
			t.Errorf("Open(%q) = %v, want EINVALID", p, err)
		}
	}
}

// TestSchemaRefusesRawNumbers checks the last line of defence: even SQL
// that bypasses the Store cannot put a number in a hash column.
func TestSchemaRefusesRawNumbers(t *testing.T) {
	db := open(t)
	for _, col := range []string{"caller_hash", "callee_hash"} {
		_, err := db.SQL().Exec(`INSERT INTO cdr (id, direction, outcome, arrived_at, written_at, ` + col + `)
			VALUES ('x', 'inbound', 'answered', 0, 0, '+393331234567')`)
		if err == nil || !strings.Contains(err.Error(), col) {
			t.Errorf("raw number in %s: err = %v, want a refusal naming the column", col, err)
		}
		// Nor as bytes of the wrong length.
		_, err = db.SQL().Exec(`INSERT INTO cdr (id, direction, outcome, arrived_at, written_at, ` + col + `)
			VALUES ('x', 'inbound', 'answered', 0, 0, CAST('+393331234567' AS BLOB))`)
		if err == nil || !strings.Contains(err.Error(), "CHECK") {
			t.Errorf("raw number as a blob in %s: err = %v, want a CHECK failure", col, err)
		}
	}
}

// TestScansUseIndexes pins the query plans of the report's scans.
func TestScansUseIndexes(t *testing.T) {
	db := open(t)
	tests := []struct{ query, index string }{
		{`SELECT id FROM cdr WHERE arrived_at >= 1 AND arrived_at < 2 ORDER BY arrived_at, id`, "cdr_arrived_at"},
		{`SELECT id FROM cdr WHERE arrived_at >= 1 AND arrived_at < 2 AND direction = 'inbound' ORDER BY arrived_at, id`, "cdr_direction_arrived_at"},
		{`SELECT COUNT(*) FROM cdr WHERE arrived_at >= 1 AND arrived_at < 2 AND direction = 'outbound'`, "cdr_direction_arrived_at"},
	}
	for _, tt := range tests {
		rows, err := db.SQL().Query(`EXPLAIN QUERY PLAN ` + tt.query)
		if err != nil {
			t.Fatal(err)
		}
		var plan []string
		for rows.Next() {
			var id, parent, notused int
			var detail string
			rows.Scan(&id, &parent, &notused, &detail)
			plan = append(plan, detail)
		}
		rows.Close()
		joined := strings.Join(plan, " | ")
		if !strings.Contains(joined, "INDEX "+tt.index) || strings.Contains(joined, "TEMP B-TREE") {
			t.Errorf("plan for %s:\n%s\nwant index %s and no sort", tt.query, joined, tt.index)
		}
	}
}
