package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/helpline-it/helpline/cdr/cdrtest"
	"github.com/helpline-it/helpline/cdr/engine"
	"github.com/helpline-it/helpline/config"
	"github.com/helpline-it/helpline/internal/testenv"
)

// pgPasswordEnv is where the test configuration takes the PostgreSQL
// password from.
const pgPasswordEnv = "HELPLINE_PG_PASSWORD"

// postgresConfig writes the example configuration with a PostgreSQL
// call-record store (dsn without password, password from the
// environment) and Redis at redisAddr; it returns the file and the
// environment the commands need.
func postgresConfig(t *testing.T, pg *testenv.Postgres, redisAddr string) (string, map[string]string) {
	t.Helper()
	u, err := url.Parse(pg.NewDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	u.User = url.User(u.User.Username())
	y := string(config.ExampleYAML())
	for old, repl := range map[string]string{
		"driver: sqlite":                 "driver: postgres",
		"path: /var/lib/helpline/cdr.db": "dsn: " + u.String() + "\n  password_env: " + pgPasswordEnv,
		"addr: 127.0.0.1:6379":           "addr: " + redisAddr,
	} {
		if strings.Count(y, old) != 1 {
			t.Fatalf("example config has %q %d times, want once", old, strings.Count(y, old))
		}
		y = strings.Replace(y, old, repl, 1)
	}
	env := map[string]string{envHMACKey: cdrTestKey, pgPasswordEnv: pg.Password}
	return writeTemp(t, "helpline.yaml", y), env
}

// TestCommandsOnPostgres runs the commands that read or write call
// records against a real PostgreSQL chosen by the configuration: the seed
// quarter imported by `cdr import` gives the same report, byte for byte,
// as the same file imported into SQLite, and the same export; `queue`
// reads today's records from it. One server for the whole test (starting
// one takes seconds); each store its own database.
func TestCommandsOnPostgres(t *testing.T) {
	pg := testenv.StartPostgres(t)
	r := testenv.StartRedis(t)
	cfgFile, env := postgresConfig(t, pg, r.Addr)
	seed := filepath.Join(cdrtest.DataDir(t), cdrtest.SeedFile)
	want := cdrtest.LoadExpected(t)
	sqliteDB := filepath.Join(t.TempDir(), "cdr.db")

	t.Run("import", func(t *testing.T) {
		res := runCLI(t, env, "", "cdr", "import", "--config", cfgFile, seed)
		if res.code != 0 || !strings.Contains(res.stdout, "imported 36002 new records into postgres ") {
			t.Fatalf("import into postgres: exit %d\nstdout %s\nstderr %s", res.code, res.stdout, res.stderr)
		}
		if strings.Contains(res.stdout+res.stderr, pg.Password) {
			t.Fatal("the PostgreSQL password reached the output")
		}
		res = runCLI(t, env, "", "cdr", "import", "--config", cfgFile, seed)
		if res.code != 0 || !strings.Contains(res.stdout, "0 new records: all 36002 were already in postgres ") {
			t.Fatalf("re-import into postgres: exit %d\nstdout %s\nstderr %s", res.code, res.stdout, res.stderr)
		}
		res = runCLI(t, env, "", "cdr", "import", "--db", sqliteDB, "--service", "1522", seed) // as the config says
		if res.code != 0 {
			t.Fatalf("import into sqlite: exit %d\n%s", res.code, res.stderr)
		}
	})

	t.Run("report", func(t *testing.T) {
		for _, format := range []string{"json", "text"} {
			args := []string{"report", "--from", want.Start, "--to", want.End, "--format", format}
			fromPG := runCLI(t, env, "", append(args, "--config", cfgFile)...)
			fromSQLite := runCLI(t, env, "", append(args, "--db", sqliteDB)...)
			if fromPG.code != 0 || fromSQLite.code != 0 {
				t.Fatalf("%s: exit %d (postgres) %d (sqlite)\n%s\n%s", format, fromPG.code, fromSQLite.code, fromPG.stderr, fromSQLite.stderr)
			}
			if fromPG.stdout != fromSQLite.stdout {
				t.Fatalf("%s report differs between the stores:\npostgres:\n%s\nsqlite:\n%s", format, fromPG.stdout, fromSQLite.stdout)
			}
			if format != "json" {
				continue
			}
			var got struct {
				Inbound struct{ Total, Answered int }
			}
			if err := json.Unmarshal([]byte(fromPG.stdout), &got); err != nil {
				t.Fatal(err)
			}
			if got.Inbound.Total != want.Total || got.Inbound.Answered != want.Answered {
				t.Fatalf("postgres report: total %d, answered %d; the seed's are %d, %d",
					got.Inbound.Total, got.Inbound.Answered, want.Total, want.Answered)
			}
		}
	})

	t.Run("export", func(t *testing.T) {
		args := []string{"cdr", "export", "--from", want.Start, "--to", want.End, "--direction", "outbound"}
		fromPG := runCLI(t, env, "", append(args, "--config", cfgFile)...)
		fromSQLite := runCLI(t, env, "", append(args, "--db", sqliteDB)...)
		if fromPG.code != 0 || fromSQLite.code != 0 {
			t.Fatalf("exit %d (postgres) %d (sqlite)\n%s\n%s", fromPG.code, fromSQLite.code, fromPG.stderr, fromSQLite.stderr)
		}
		pgLines, sqLines := lines(fromPG.stdout), lines(fromSQLite.stdout)
		if len(pgLines) != want.OutTotal || len(sqLines) != want.OutTotal {
			t.Fatalf("export: %d lines from postgres, %d from sqlite; want %d", len(pgLines), len(sqLines), want.OutTotal)
		}
		for i := range pgLines {
			if pgLines[i] != sqLines[i] {
				t.Fatalf("export line %d differs:\npostgres %s\nsqlite   %s", i+1, pgLines[i], sqLines[i])
			}
		}
		if !strings.Contains(fromPG.stderr, fmt.Sprintf("exported %d records from postgres ", want.OutTotal)) {
			t.Errorf("stderr = %q", fromPG.stderr)
		}
	})

	t.Run("queue", func(t *testing.T) {
		// An answered call today (runCLI's fake clock) in the store.
		now := clockwork.NewFakeClock().Now()
		st, err := engine.Open(context.Background(), mustLoad(t, cfgFile).CDR, engine.Options{Getenv: func(k string) string { return env[k] }})
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		rec := cdrtest.Answered("today-1", now.Add(-10*time.Minute))
		rec.Service = "1522"
		if err := st.Write(context.Background(), rec); err != nil {
			t.Fatal(err)
		}
		res := runCLI(t, env, "", "queue", "--config", cfgFile, "--json")
		if res.code != 0 {
			t.Fatalf("queue: exit %d\n%s\n%s", res.code, res.stdout, res.stderr)
		}
		var got struct {
			Today struct {
				Known    bool  `json:"known"`
				Answered int64 `json:"answered"`
			} `json:"today"`
		}
		if err := json.Unmarshal([]byte(res.stdout), &got); err != nil {
			t.Fatalf("%v\n%s", err, res.stdout)
		}
		if !got.Today.Known || got.Today.Answered != 1 {
			t.Fatalf("queue today = %+v, want the answered call read from postgres\n%s", got.Today, res.stdout)
		}
	})

	t.Run("bad password", func(t *testing.T) {
		bad := map[string]string{envHMACKey: cdrTestKey, pgPasswordEnv: "wrong-" + pg.Password}
		res := runCLI(t, bad, "", "report", "--config", cfgFile, "--from", want.Start, "--to", want.End)
		if res.code == 0 || !strings.Contains(res.stderr, "postgres") {
			t.Fatalf("report with a wrong password: exit %d, stderr %q; want a failure naming the store", res.code, res.stderr)
		}
		if strings.Contains(res.stderr, pg.Password) {
			t.Fatal("a password reached stderr")
		}
	})
}

// mustLoad loads a configuration file for a test.
func mustLoad(t *testing.T, file string) *config.Config {
	t.Helper()
	cfg, err := config.Load(file)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}
