package sqlite_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	cdrsqlite "github.com/helpline-it/helpline/cdr/sqlite"
	"github.com/helpline-it/helpline/directory"
	"github.com/helpline-it/helpline/directory/directorytest"
	"github.com/helpline-it/helpline/directory/sqlite"
)

func open(t *testing.T, path string) *sqlite.DB {
	t.Helper()
	db, err := sqlite.Open(t.Context(), path, sqlite.Options{Now: func() time.Time { return time.Unix(1_750_000_000, 0) }})
	if err != nil {
		t.Fatalf("Open(%s): %v", path, err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestStoreContract(t *testing.T) {
	directorytest.RunStoreSuite(t, func(t *testing.T) directory.Store {
		return open(t, filepath.Join(t.TempDir(), "helpline.db"))
	})
}

// TestSharesFileWithCDR opens the call-record store and the directory on
// one file, in both orders: each applies its own migrations and neither
// refuses the other's.
func TestSharesFileWithCDR(t *testing.T) {
	for _, cdrFirst := range []bool{true, false} {
		path := filepath.Join(t.TempDir(), "helpline.db")
		openCDR := func() {
			c, err := cdrsqlite.Open(t.Context(), path, cdrsqlite.Options{})
			if err != nil {
				t.Fatalf("cdr/sqlite.Open on a file holding the directory: %v", err)
			}
			c.Close()
		}
		if cdrFirst {
			openCDR()
		}
		db := open(t, path)
		if err := db.Update(t.Context(), func(ctx context.Context, tx directory.Tx) error {
			return tx.Put(ctx, directorytest.Entry("1234", "CAV"))
		}); err != nil {
			t.Fatal(err)
		}
		db.Close()
		openCDR()
		db = open(t, path) // reopening applies nothing twice
		if _, err := db.Get(t.Context(), "1234"); err != nil {
			t.Errorf("cdrFirst=%v: Get after both opened the file: %v", cdrFirst, err)
		}
	}
}

func TestOpenRefuses(t *testing.T) {
	for _, path := range []string{"", ":memory:", "file:x.db", "x.db?mode=ro"} {
		if _, err := sqlite.Open(t.Context(), path, sqlite.Options{}); err == nil {
			t.Errorf("Open(%q) succeeded", path)
		}
	}
}

// TestShelterCheckInSQL writes around the package: the table itself
// refuses a shelter that is not confidential.
func TestShelterCheckInSQL(t *testing.T) {
	path := filepath.Join(t.TempDir(), "helpline.db")
	open(t, path).Close()
	raw := openRaw(t, path)
	_, err := raw.ExecContext(t.Context(), `INSERT INTO directory_entry
		(code, name, type, region, province, phone, dial, confidential, updated_at)
		VALUES ('1234', 'x', 'shelter', 'Veneto', 'PD', '049', '049', 0, 0)`)
	if err == nil || !strings.Contains(err.Error(), "CHECK") {
		t.Errorf("raw INSERT of a non-confidential shelter: err = %v, want a CHECK failure", err)
	}
}
