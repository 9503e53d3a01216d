package testenv_test

import (
	"context"
	"os"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/helpline-it/helpline/internal/testenv"
)

func TestStartPostgres(t *testing.T) {
	p := testenv.StartPostgres(t)
	if p.Port == 5432 {
		t.Errorf("server took 5432, the system cluster's port")
	}
	ctx := t.Context()
	dsnA, dsnB := p.NewDatabase(t), p.NewDatabase(t)
	if dsnA == dsnB {
		t.Fatalf("two NewDatabase calls gave the same DSN %s", dsnA)
	}
	a, err := pgconn.Connect(ctx, dsnA)
	if err != nil {
		t.Fatalf("connect to a new database: %v", err)
	}
	defer a.Close(context.Background())
	if _, err := a.Exec(ctx, `CREATE TABLE only_in_a (x int)`).ReadAll(); err != nil {
		t.Fatal(err)
	}
	b, err := pgconn.Connect(ctx, dsnB)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close(context.Background())
	if _, err := b.Exec(ctx, `SELECT * FROM only_in_a`).ReadAll(); err == nil {
		t.Fatal("a table created in one test database is visible in another")
	}
	// TCP wants the password: the server is set up as production ones are.
	if c, err := pgconn.Connect(ctx, p.DSNWithoutPassword("postgres")); err == nil {
		c.Close(ctx)
		t.Fatal("connected without a password")
	}
	res, err := a.Exec(ctx, `SHOW lc_collate; SHOW server_encoding`).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if got := string(res[0].Rows[0][0]) + " " + string(res[1].Rows[0][0]); got != "C UTF8" {
		t.Errorf("collation and encoding = %q, want C UTF8", got)
	}

	p.Stop()
	p.Stop() // idempotent
	if c, err := pgconn.Connect(ctx, dsnA); err == nil {
		c.Close(ctx)
		t.Fatal("connected after Stop")
	}
	if _, err := os.Stat(p.Dir); !os.IsNotExist(err) {
		t.Errorf("Stop left %s behind (stat: %v)", p.Dir, err)
	}
}

func TestSharedPostgresStartsOnceAndStops(t *testing.T) {
	var s testenv.SharedPostgres
	p1 := s.Server(t)
	p2 := s.Server(t)
	if p1 != p2 {
		t.Fatal("SharedPostgres started two servers")
	}
	s.Stop()
	if c, err := pgconn.Connect(t.Context(), p1.DSN("postgres")); err == nil {
		c.Close(t.Context())
		t.Fatal("connected after SharedPostgres.Stop")
	}
}
