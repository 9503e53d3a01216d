package sqlitefile_test

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"testing"
	"testing/fstest"
	"time"

	"github.com/helpline-it/helpline/internal/sqlitefile"
)

func open(t *testing.T, path string) func(fstest.MapFS, string) ([]string, error) {
	t.Helper()
	db, err := sqlitefile.Open(path, time.Second)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	return func(fsys fstest.MapFS, table string) ([]string, error) {
		return sqlitefile.Migrate(context.Background(), db, sqlitefile.Migrations{
			FS: fsys, Glob: "m/*.sql", Table: table, Now: time.Now})
	}
}

func TestMigrate(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "x.db") // the directory is created
	v1 := fstest.MapFS{"m/001.sql": {Data: []byte(`CREATE TABLE a (x INTEGER);`)}}
	v2 := fstest.MapFS{
		"m/001.sql": v1["m/001.sql"],
		"m/002.sql": {Data: []byte(`CREATE TABLE b (y INTEGER);`)},
	}
	migrate := open(t, path)
	tests := []struct {
		name    string
		fs      fstest.MapFS
		table   string
		applied []string
		newer   bool
	}{
		{"first run applies everything", v1, "one_migrations", []string{"m/001.sql"}, false},
		{"second run applies nothing", v1, "one_migrations", nil, false},
		{"a new step is applied alone", v2, "one_migrations", []string{"m/002.sql"}, false},
		{"an older binary refuses the newer schema", v1, "one_migrations", nil, true},
		{"another store in the same file keeps its own table", fstest.MapFS{"m/001.sql": {Data: []byte(`CREATE TABLE c (z INTEGER);`)}}, "two_migrations", []string{"m/001.sql"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := migrate(tt.fs, tt.table)
			if tt.newer {
				if !errors.Is(err, sqlitefile.ErrNewerSchema) {
					t.Fatalf("err = %v; want ErrNewerSchema", err)
				}
				return
			}
			if err != nil || !slices.Equal(got, tt.applied) {
				t.Fatalf("applied %v, %v; want %v", got, err, tt.applied)
			}
		})
	}
}

func TestMigrateFailedStepLeavesNothing(t *testing.T) {
	migrate := open(t, filepath.Join(t.TempDir(), "x.db"))
	bad := fstest.MapFS{"m/001.sql": {Data: []byte(`CREATE TABLE a (x INTEGER); NOT SQL;`)}}
	if _, err := migrate(bad, "m_migrations"); err == nil {
		t.Fatal("a broken migration was applied")
	}
	good := fstest.MapFS{"m/001.sql": {Data: []byte(`CREATE TABLE a (x INTEGER);`)}}
	if got, err := migrate(good, "m_migrations"); err != nil || len(got) != 1 {
		t.Fatalf("after a failed step the fixed one applied %v, %v; want it applied (nothing half-done left)", got, err)
	}
}

func TestOpenBusyTimeout(t *testing.T) {
	tests := []struct {
		name  string
		given time.Duration
		want  int64 // ms, as SQLite reports it
	}{
		{"zero means the default", 0, sqlitefile.DefaultBusyTimeout.Milliseconds()},
		{"negative means the default", -time.Second, sqlitefile.DefaultBusyTimeout.Milliseconds()},
		{"an explicit timeout is kept", 2500 * time.Millisecond, 2500},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db, err := sqlitefile.Open(filepath.Join(t.TempDir(), "x.db"), tt.given)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { db.Close() })
			var got int64
			if err := db.QueryRow(`PRAGMA busy_timeout`).Scan(&got); err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("busy_timeout = %d ms; want %d", got, tt.want)
			}
		})
	}
}
