package main

import (
	"context"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/helpline-it/helpline/cdr"
	"github.com/helpline-it/helpline/cdr/cdrtest"
	"github.com/helpline-it/helpline/cdr/engine"
	"github.com/helpline-it/helpline/cdr/spool"
	"github.com/helpline-it/helpline/cdr/sqlite"
	"github.com/helpline-it/helpline/config"
	"github.com/helpline-it/helpline/internal/testenv"
)

// TestServeRefusesAnUnwritableSpool: a spool directory that cannot be
// written stops the start with an error that names it, instead of losing
// a record in the middle of a call later.
func TestServeRefusesAnUnwritableSpool(t *testing.T) {
	file, _ := serveConfig(t, "http://127.0.0.1:1", "127.0.0.1:1")
	notDir := filepath.Join(t.TempDir(), "a-file")
	if err := os.WriteFile(notDir, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	text, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(text), "\n")
	for i, l := range lines {
		if strings.HasPrefix(l, "  spool_dir: ") {
			lines[i] = "  spool_dir: " + filepath.Join(notDir, "spool")
		}
	}
	bad := writeTemp(t, "bad-spool.yaml", strings.Join(lines, "\n"))
	var stderr testenv.LogBuffer
	code := execServe(context.Background(), clockwork.NewFakeClock(), serveEnv, &stderr, nil, "--config", bad)
	if code == exitOK {
		t.Fatalf("serve started with an unwritable spool:\n%s", stderr.String())
	}
	for _, want := range []string{"cdr.spool_dir " + filepath.Join(notDir, "spool"), "not writable"} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr.String())
		}
	}
	if strings.Contains(stderr.String(), "helpline node started") {
		t.Error("the node started")
	}
}

// TestServeReplaysTheSpool: records a previous run spooled are written
// into the store when the node starts.
func TestServeReplaysTheSpool(t *testing.T) {
	r := testenv.StartRedis(t)
	clock := clockwork.NewFakeClockAt(time.Date(2026, 11, 23, 15, 0, 0, 0, time.UTC))
	srv := testenv.StartAritest(t, testenv.AritestClock(clock))
	file, dbPath := serveConfig(t, srv.URL, r.Addr)
	sp, err := spool.Open(spool.Options{Dir: filepath.Join(filepath.Dir(dbPath), "spool")})
	if err != nil {
		t.Fatal(err)
	}
	recs := []cdr.Record{cdrtest.Answered("spooled-1", cdrtest.T0), cdrtest.Outbound("spooled-2", cdrtest.T0)}
	for _, rec := range recs {
		if err := sp.Write(context.Background(), rec); err != nil {
			t.Fatal(err)
		}
	}
	if err := sp.Close(); err != nil {
		t.Fatal(err)
	}
	s := startServe(t, clock, srv, serveEnv, "--config", file)
	db, err := sqlite.Open(context.Background(), dbPath, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	s.drive("spooled records replayed into the store", func() bool {
		n, err := db.Count(context.Background(), cdr.Filter{})
		return err == nil && n == len(recs)
	})
	for _, rec := range recs {
		if _, err := db.Get(context.Background(), rec.ID); err != nil {
			t.Errorf("record %s not replayed: %v", rec.ID, err)
		}
	}
	if code, body := s.get("/metrics"); code != 200 || !strings.Contains(body, "helpline_cdr_spool_records_replayed_total 2") {
		t.Errorf("/metrics does not count the replay:\n%.3000s", body)
	}
}

// TestServeOnPostgres: serve opens the PostgreSQL store the configuration
// names (it used to refuse it) and replays the spool into it.
func TestServeOnPostgres(t *testing.T) {
	pg := testenv.StartPostgres(t)
	r := testenv.StartRedis(t)
	clock := clockwork.NewFakeClockAt(time.Date(2026, 11, 23, 15, 0, 0, 0, time.UTC))
	srv := testenv.StartAritest(t, testenv.AritestClock(clock))
	file, dbPath := serveConfig(t, srv.URL, r.Addr)
	u, err := url.Parse(pg.NewDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	u.User = url.User(u.User.Username())
	text, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	y := strings.Replace(string(text), "  path: "+dbPath+"\n",
		"  driver: postgres\n  dsn: "+u.String()+"\n  password_env: "+pgPasswordEnv+"\n", 1)
	if err := os.WriteFile(file, []byte(y), 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{pgPasswordEnv: pg.Password}
	for k, v := range serveEnv {
		env[k] = v
	}
	sp, err := spool.Open(spool.Options{Dir: filepath.Join(filepath.Dir(dbPath), "spool")})
	if err != nil {
		t.Fatal(err)
	}
	rec := cdrtest.Answered("spooled-pg", cdrtest.T0)
	if err := sp.Write(context.Background(), rec); err != nil {
		t.Fatal(err)
	}
	if err := sp.Close(); err != nil {
		t.Fatal(err)
	}
	s := startServe(t, clock, srv, env, "--config", file)
	s.drive("ready", readyz(s))
	st, err := engine.Open(context.Background(), config.CDR{Driver: config.DriverPostgres, DSN: u.String()},
		engine.Options{Password: config.NewSecret(pg.Password)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	s.drive("spooled record replayed into postgres", func() bool {
		_, err := st.Get(context.Background(), rec.ID)
		return err == nil
	})
	if _, err := os.Stat(dbPath); !os.IsNotExist(err) {
		t.Errorf("serve on postgres created the SQLite file %s: %v", dbPath, err)
	}
	if strings.Contains(s.stderr.String(), pg.Password) {
		t.Error("the PostgreSQL password reached the log")
	}
}
