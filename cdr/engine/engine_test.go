package engine_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/helpline-it/helpline/cdr"
	"github.com/helpline-it/helpline/cdr/cdrtest"
	"github.com/helpline-it/helpline/cdr/engine"
	"github.com/helpline-it/helpline/config"
	"github.com/helpline-it/helpline/internal/testenv"
)

var pg testenv.SharedPostgres

func TestMain(m *testing.M) {
	code := m.Run()
	pg.Stop()
	os.Exit(code)
}

// roundTrip writes a record through the store and reads it back.
func roundTrip(t *testing.T, s *engine.Store) {
	t.Helper()
	r := cdrtest.Answered("engine-1", cdrtest.T0)
	if err := s.Write(t.Context(), r); err != nil {
		t.Fatalf("%s: Write: %v", s.Where, err)
	}
	got, err := s.Get(t.Context(), r.ID)
	if err != nil || *got != r.Canonical() {
		t.Fatalf("%s: Get = %+v, %v", s.Where, got, err)
	}
}

func TestOpenSQLite(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "cdr.db")
	_, err := engine.Open(t.Context(), config.CDR{Driver: config.DriverSQLite, Path: path}, engine.Options{MustExist: true})
	if cdr.ErrorCode(err) != cdr.ENOTFOUND || !strings.Contains(err.Error(), path) {
		t.Fatalf("Open(missing file, MustExist) = %v, want ENOTFOUND naming the path", err)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Fatalf("MustExist created the file: %v", err)
	}
	for _, driver := range []string{config.DriverSQLite, ""} {
		s, err := engine.Open(t.Context(), config.CDR{Driver: driver, Path: path}, engine.Options{})
		if err != nil {
			t.Fatalf("Open(driver %q): %v", driver, err)
		}
		if s.Driver != config.DriverSQLite || s.Where != path {
			t.Errorf("Driver, Where = %q, %q", s.Driver, s.Where)
		}
		roundTrip(t, s)
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
	s, err := engine.Open(t.Context(), config.CDR{Path: path}, engine.Options{MustExist: true})
	if err != nil {
		t.Fatalf("Open(existing file, MustExist): %v", err)
	}
	s.Close()
}

func TestOpenPostgres(t *testing.T) {
	t.Parallel()
	srv := pg.Server(t)
	dsn := pg.NewDatabase(t)
	name := dsn[strings.LastIndex(dsn, "/")+1 : strings.Index(dsn, "?")]
	c := config.CDR{
		Driver:   config.DriverPostgres,
		DSN:      srv.DSNWithoutPassword(name),
		Password: config.SecretRef{Key: "cdr.password", Env: "HELPLINE_CDR_PASSWORD"},
	}
	env := func(k string) string {
		if k == "HELPLINE_CDR_PASSWORD" {
			return srv.Password
		}
		return ""
	}
	s, err := engine.Open(t.Context(), c, engine.Options{Getenv: env, MustExist: true})
	if err != nil {
		t.Fatalf("Open(postgres, password from env): %v", err)
	}
	if s.Driver != config.DriverPostgres || !strings.Contains(s.Where, name) || strings.Contains(s.Where, srv.Password) {
		t.Errorf("Driver, Where = %q, %q", s.Driver, s.Where)
	}
	roundTrip(t, s)
	s.Close()

	// A password resolved by the caller wins; the environment is not read.
	s, err = engine.Open(t.Context(), c, engine.Options{Password: config.NewSecret(srv.Password),
		Getenv: func(string) string { t.Error("Getenv called although Password was given"); return "" }})
	if err != nil {
		t.Fatalf("Open(postgres, Options.Password): %v", err)
	}
	s.Close()

	// The variable is unset: the error names the key and where it looked.
	_, err = engine.Open(t.Context(), c, engine.Options{Getenv: func(string) string { return "" }})
	var se *config.SecretError
	if !errors.As(err, &se) || se.Key != "cdr.password" || !strings.Contains(err.Error(), "HELPLINE_CDR_PASSWORD") {
		t.Fatalf("Open with the password variable unset = %v, want a SecretError for cdr.password", err)
	}
}

func TestOpenRefusesBadConfig(t *testing.T) {
	t.Parallel()
	for _, c := range []config.CDR{
		{Driver: "mysql", Path: "x"},
		{Driver: config.DriverSQLite},
		{Driver: config.DriverPostgres},
	} {
		s, err := engine.Open(t.Context(), c, engine.Options{})
		if err == nil {
			s.Close()
		}
		if cdr.ErrorCode(err) != cdr.EINVALID {
			t.Errorf("Open(%+v) = %v, want EINVALID", c, err)
		}
	}
}
