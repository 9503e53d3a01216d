package testenv

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
)

// PostgresInstall is the command that installs the PostgreSQL server on
// Debian; every "not found" failure names it.
const PostgresInstall = "apt-get install -y postgresql"

// PostgresReadyTimeout bounds how long a fresh server may take to accept
// connections (initdb excluded). Generous because CI machines are shared.
const PostgresReadyTimeout = 60 * time.Second

// Postgres is a private PostgreSQL server: its own data directory in a
// temporary directory, listening on a free loopback port, no Unix socket.
// It is not the system cluster Debian's package may have started on 5432,
// and it never touches it.
type Postgres struct {
	// Host and Port are where the server listens (Host is 127.0.0.1).
	Host string
	Port int
	// User is the bootstrap superuser and Password its password (the
	// server wants SCRAM passwords on TCP, as production servers do).
	User, Password string
	// Dir holds the data directory (Dir/data) and the server log
	// (Dir/postgres.log). It is removed by Stop.
	Dir string

	bin      pgBinaries
	cred     *syscall.Credential // nil unless running as root
	args     []string
	logPath  string
	cmd      *exec.Cmd
	exited   chan struct{}
	mu       sync.Mutex
	stopped  bool
	dbSerial atomic.Int64

	adminMu sync.Mutex
	adminC  *pgconn.PgConn // to the postgres database; opened on first use
}

// StartPostgres starts a private PostgreSQL server for one test and stops
// it when the test ends. Extra arguments go to the postgres binary (for
// example "-c", "fsync=on"); later settings win over the defaults.
//
// Starting a server (initdb, then postgres) takes seconds: a package with
// several tests should share one through SharedPostgres and give each test
// its own database with NewDatabase.
//
// The binaries come from Debian's packages (/usr/lib/postgresql/<major>/bin,
// the newest major installed; then PATH). When they are missing the test
// fails, naming PostgresInstall; it is never skipped.
//
// PostgreSQL refuses to run as root. When the tests run as root (CI's
// fresh Debian machine), initdb and postgres run as the "postgres" system
// user that the Debian package creates, with the data directory chowned to
// it. The switch is done by the kernel at exec (os/exec's
// SysProcAttr.Credential: setgroups, setgid, setuid in the child), which
// is what `setpriv --reuid postgres --regid postgres --clear-groups` does,
// without depending on runuser/setpriv being installed or on PAM. The
// temporary directory must then be reachable by that user: it is created
// under os.TempDir() (TMPDIR), or under /tmp when TMPDIR is not
// world-searchable (a directory in root's home, say).
func StartPostgres(t testing.TB, extra ...string) *Postgres {
	t.Helper()
	p, err := NewPostgres(extra...)
	if err != nil {
		t.Fatalf("testenv: %v", err)
	}
	t.Cleanup(p.Stop)
	return p
}

// NewPostgres starts a server like StartPostgres, for callers without a
// testing.TB (TestMain); the caller must Stop it.
func NewPostgres(extra ...string) (*Postgres, error) {
	bin, err := findPostgres("/usr/lib/postgresql/*/bin", exec.LookPath)
	if err != nil {
		return nil, err
	}
	cred, err := postgresCredential()
	if err != nil {
		return nil, err
	}
	tmp := os.TempDir()
	if cred != nil {
		if tmp, err = searchableTempDir(tmp); err != nil {
			return nil, err
		}
	}
	dir, err := os.MkdirTemp(tmp, "helpline-pg-")
	if err != nil {
		return nil, fmt.Errorf("postgres: temporary directory: %w", err)
	}
	p := &Postgres{
		Host: "127.0.0.1", User: "postgres", Dir: dir,
		bin: bin, cred: cred, logPath: filepath.Join(dir, "postgres.log"),
	}
	if err := p.initdb(); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	// Tests want speed, not durability: a crash of the test server loses
	// nothing anyone needs. Benchmarks that measure commits pass
	// "-c", "fsync=on", "-c", "synchronous_commit=on", "-c", "full_page_writes=on".
	base := []string{
		"-c", "listen_addresses=127.0.0.1",
		"-c", "unix_socket_directories=", // TCP only: no socket in /var/run/postgresql
		"-c", "fsync=off",
		"-c", "synchronous_commit=off",
		"-c", "full_page_writes=off",
		"-c", "max_connections=100",
		// Several packages' servers run at once under `go test ./...`;
		// a test database fits in far less than the 128MB default.
		"-c", "shared_buffers=32MB",
		"-c", "log_min_messages=warning",
		"-c", "TimeZone=UTC",
	}
	var lastErr error
	for attempt := 0; attempt < 5; attempt++ {
		port, err := freePort()
		if err != nil {
			os.RemoveAll(dir)
			return nil, fmt.Errorf("postgres: reserving a loopback port: %w", err)
		}
		p.Port = port
		p.args = append(append([]string{"-D", p.dataDir(), "-p", strconv.Itoa(port)}, base...), extra...)
		lastErr = p.start()
		if lastErr == nil {
			return p, nil
		}
		if !errors.Is(lastErr, errPortTaken) {
			break
		}
	}
	os.RemoveAll(dir)
	return nil, lastErr
}

var errPortTaken = errors.New("port taken")

// pgBinaries are the server programs of one PostgreSQL installation.
type pgBinaries struct {
	initdb, postgres string
}

// findPostgres picks the newest of the directories matching pattern
// (Debian's /usr/lib/postgresql/<major>/bin, off PATH) that has both
// initdb and postgres, then looks them up with lookPath.
func findPostgres(pattern string, lookPath func(string) (string, error)) (pgBinaries, error) {
	dirs, _ := filepath.Glob(pattern)
	major := func(d string) int {
		n, _ := strconv.Atoi(filepath.Base(filepath.Dir(d)))
		return n
	}
	slices.SortFunc(dirs, func(a, b string) int { return major(b) - major(a) })
	for _, d := range dirs {
		b := pgBinaries{initdb: filepath.Join(d, "initdb"), postgres: filepath.Join(d, "postgres")}
		if isExecutable(b.initdb) && isExecutable(b.postgres) {
			return b, nil
		}
	}
	initdb, err1 := lookPath("initdb")
	postgres, err2 := lookPath("postgres")
	if err1 == nil && err2 == nil {
		return pgBinaries{initdb: initdb, postgres: postgres}, nil
	}
	return pgBinaries{}, fmt.Errorf("PostgreSQL server not found (no initdb and postgres in /usr/lib/postgresql/*/bin or on PATH): install it with `%s` (or run `make test`, which does)", PostgresInstall)
}

func isExecutable(path string) bool {
	st, err := os.Stat(path)
	return err == nil && st.Mode().IsRegular() && st.Mode()&0o111 != 0
}

// postgresCredential is the identity to run the server under: nil (the
// current user) unless we are root, which PostgreSQL refuses.
func postgresCredential() (*syscall.Credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, fmt.Errorf("running as root, and PostgreSQL refuses to run as root, but there is no \"postgres\" user to run it as (%v): install the server with `%s` (its package creates the user) or run the tests as an ordinary user", err, PostgresInstall)
	}
	uid, err1 := strconv.ParseUint(u.Uid, 10, 32)
	gid, err2 := strconv.ParseUint(u.Gid, 10, 32)
	if err1 != nil || err2 != nil {
		return nil, fmt.Errorf("user postgres has a non-numeric uid/gid %q/%q", u.Uid, u.Gid)
	}
	// Groups empty: drop root's supplementary groups in the child.
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid), Groups: []uint32{}}, nil
}

func (p *Postgres) dataDir() string { return filepath.Join(p.Dir, "data") }

// command prepares a server program to run as the server's user, in its
// directory, with a clean environment (no PG* variables of the caller),
// its output appended to the log.
func (p *Postgres) command(path string, args ...string) (*exec.Cmd, *os.File, error) {
	logf, err := os.OpenFile(p.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, nil, fmt.Errorf("postgres: log file: %w", err)
	}
	cmd := exec.Command(path, args...)
	cmd.Dir = p.Dir
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.Env = []string{"PATH=/usr/bin:/bin", "LC_ALL=C", "TZ=UTC"}
	// SIGQUIT is PostgreSQL's immediate shutdown: if this test binary dies
	// without cleaning up, the server goes with it instead of lingering.
	// Go applies it after the credential switch, so it survives setuid.
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: p.cred, Pdeathsig: syscall.SIGQUIT}
	return cmd, logf, nil
}

// initdb creates the cluster: UTF-8, C locale (byte order, as every
// engine and Go compare strings), SCRAM on TCP with a random password.
func (p *Postgres) initdb() error {
	var pw [16]byte
	if _, err := rand.Read(pw[:]); err != nil {
		return err
	}
	p.Password = hex.EncodeToString(pw[:])
	if p.cred != nil {
		if err := os.Chown(p.Dir, int(p.cred.Uid), int(p.cred.Gid)); err != nil {
			return fmt.Errorf("postgres: chown %s to user postgres: %w", p.Dir, err)
		}
	}
	pwFile := filepath.Join(p.Dir, "pwfile")
	if err := os.WriteFile(pwFile, []byte(p.Password+"\n"), 0o600); err != nil {
		return err
	}
	defer os.Remove(pwFile)
	if p.cred != nil {
		if err := os.Chown(pwFile, int(p.cred.Uid), int(p.cred.Gid)); err != nil {
			return err
		}
	}
	cmd, logf, err := p.command(p.bin.initdb,
		"-D", p.dataDir(), "-U", p.User, "--pwfile", pwFile,
		"--auth-host=scram-sha-256", "--auth-local=trust",
		"--encoding=UTF8", "--locale=C", "--no-sync")
	if err != nil {
		return err
	}
	defer logf.Close()
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("postgres: %s failed (%v); log: %s", p.bin.initdb, err, p.logTail(8))
	}
	return nil
}

// searchableTempDir returns base if the postgres user can reach its
// children, else /tmp if it can (TMPDIR may point into root's home),
// else an error saying what to change.
func searchableTempDir(base string) (string, error) {
	err := searchable(base)
	if err == nil {
		return base, nil
	}
	if searchable("/tmp") == nil {
		return "/tmp", nil
	}
	return "", err
}

// searchable checks that the postgres user can reach dir's children:
// every directory from / down must be world-searchable.
func searchable(dir string) error {
	for d := dir; ; d = filepath.Dir(d) {
		st, err := os.Stat(d)
		if err != nil {
			return err
		}
		if st.Mode()&0o001 == 0 {
			return fmt.Errorf("postgres: the server runs as user postgres, which cannot enter %s (mode %v): point TMPDIR at a world-searchable directory such as /tmp", d, st.Mode().Perm())
		}
		if d == filepath.Dir(d) {
			return nil
		}
	}
}

func (p *Postgres) start() error {
	cmd, logf, err := p.command(p.bin.postgres, p.args...)
	if err != nil {
		return err
	}
	defer logf.Close() // the child has its own descriptor
	// The parent-death signal fires when the forking OS thread exits, not
	// the process: fork from a goroutine locked to its thread until the
	// server exits, so no other goroutine can take the thread and end it.
	started := make(chan error, 1)
	exited := make(chan struct{})
	go func() {
		runtime.LockOSThread()
		if err := cmd.Start(); err != nil {
			started <- err
			return
		}
		started <- nil
		_ = cmd.Wait()
		close(exited)
	}()
	if err := <-started; err != nil {
		return fmt.Errorf("postgres: starting %s: %w", p.bin.postgres, err)
	}
	p.mu.Lock()
	p.cmd, p.exited, p.stopped = cmd, exited, false
	p.mu.Unlock()

	ctx, cancel := context.WithTimeout(context.Background(), PostgresReadyTimeout)
	defer cancel()
	dsn := p.DSN("postgres")
	for {
		cctx, ccancel := context.WithTimeout(ctx, 2*time.Second)
		conn, err := pgconn.Connect(cctx, dsn)
		ccancel()
		if err == nil {
			conn.Close(ctx)
			return nil
		}
		select {
		case <-exited:
			tail := p.logTail(8)
			if strings.Contains(tail, "could not bind") || strings.Contains(tail, "already in use") {
				return fmt.Errorf("postgres on port %d: %w: %s", p.Port, errPortTaken, tail)
			}
			return fmt.Errorf("postgres exited before accepting connections; log: %s", tail)
		case <-ctx.Done():
			p.Stop()
			return fmt.Errorf("postgres on %s:%d did not accept connections within %v (last error: %v); log: %s",
				p.Host, p.Port, PostgresReadyTimeout, err, p.logTail(8))
		case <-time.After(20 * time.Millisecond):
			// Polling a starting server is the readiness check itself
			// (pg_isready does the same); there is no event to await.
		}
	}
}

// DSN is a connection string for database db as the superuser, password
// included (test servers only).
func (p *Postgres) DSN(db string) string {
	u := url.URL{
		Scheme: "postgres", User: url.UserPassword(p.User, p.Password),
		Host: net.JoinHostPort(p.Host, strconv.Itoa(p.Port)), Path: "/" + db,
		RawQuery: "sslmode=disable",
	}
	return u.String()
}

// DSNWithoutPassword is DSN without the password, as a configuration file
// holds it (the password comes from the environment or a file).
func (p *Postgres) DSNWithoutPassword(db string) string {
	u := url.URL{
		Scheme: "postgres", User: url.User(p.User),
		Host: net.JoinHostPort(p.Host, strconv.Itoa(p.Port)), Path: "/" + db,
		RawQuery: "sslmode=disable",
	}
	return u.String()
}

var unsafeName = regexp.MustCompile(`[^a-z0-9]+`)

// NewDatabase creates an empty database for one test, dropped when the
// test ends, and returns its DSN (DSN(name)). Its name starts with the
// test's, for reading the server log.
func (p *Postgres) NewDatabase(t testing.TB) string {
	t.Helper()
	name := unsafeName.ReplaceAllString(strings.ToLower(t.Name()), "_")
	if len(name) > 40 {
		name = name[:40]
	}
	name = fmt.Sprintf("t%d_%s", p.dbSerial.Add(1), name)
	// FILE_COPY copies template1's files instead of writing them through
	// the WAL: several times faster on a test server, where the
	// checkpoints it needs cost nothing (fsync is off).
	if err := p.admin(t.Context(), `CREATE DATABASE "`+name+`" STRATEGY FILE_COPY`); err != nil {
		t.Fatalf("testenv: create database %s: %v", name, err)
	}
	t.Cleanup(func() {
		// WITH (FORCE) ends sessions a failed test left open.
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := p.admin(ctx, `DROP DATABASE IF EXISTS "`+name+`" WITH (FORCE)`); err != nil && !p.isStopped() {
			t.Errorf("testenv: drop database %s: %v", name, err)
		}
	})
	return p.DSN(name)
}

// admin runs one statement in the postgres database as the superuser, on
// one connection kept for the server's life (a new backend costs tens of
// milliseconds on a loaded machine, and every test creates and drops a
// database).
func (p *Postgres) admin(ctx context.Context, sql string) error {
	p.adminMu.Lock()
	defer p.adminMu.Unlock()
	if p.adminC == nil || p.adminC.IsClosed() {
		c, err := pgconn.Connect(ctx, p.DSN("postgres"))
		if err != nil {
			return err
		}
		p.adminC = c
	}
	_, err := p.adminC.Exec(ctx, sql).ReadAll()
	return err
}

func (p *Postgres) isStopped() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stopped
}

// Stop shuts the server down the way `pg_ctl stop -m immediate` does
// (SIGQUIT to the postmaster: no checkpoint; the next start would run
// crash recovery, but there is none, the directory is removed), waits for
// it to exit and removes Dir. It is safe to call more than once.
func (p *Postgres) Stop() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stopped {
		return
	}
	p.stopped = true
	p.adminMu.Lock()
	if p.adminC != nil {
		// Closing after the server is gone would wait for its goodbye.
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		_ = p.adminC.Close(ctx)
		cancel()
		p.adminC = nil
	}
	p.adminMu.Unlock()
	if p.cmd != nil && p.cmd.Process != nil {
		_ = p.cmd.Process.Signal(syscall.SIGQUIT)
		select {
		case <-p.exited:
		case <-time.After(10 * time.Second):
			_ = p.cmd.Process.Kill()
			<-p.exited
		}
	}
	_ = os.RemoveAll(p.Dir)
}

// logTail is the last n lines of the server log, joined for an error.
func (p *Postgres) logTail(n int) string {
	data, err := os.ReadFile(p.logPath)
	if err != nil {
		return "(no log)"
	}
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, " | ")
}

// SharedPostgres is one PostgreSQL server for a whole test binary,
// started by the first test that asks for it, so a package pays for
// initdb once. Declare one in the package's tests and stop it from
// TestMain:
//
//	var pg testenv.SharedPostgres
//
//	func TestMain(m *testing.M) {
//		code := m.Run()
//		pg.Stop()
//		os.Exit(code)
//	}
//
// Tests then call pg.NewDatabase(t) for a fresh database each. If the
// server cannot start, every test that asks for it fails with the reason.
type SharedPostgres struct {
	// Args are extra postgres arguments (see StartPostgres); set them
	// before the first use.
	Args []string

	once sync.Once
	pg   *Postgres
	err  error
}

// Server returns the shared server, starting it on first use.
func (s *SharedPostgres) Server(t testing.TB) *Postgres {
	t.Helper()
	s.once.Do(func() { s.pg, s.err = NewPostgres(s.Args...) })
	if s.err != nil {
		t.Fatalf("testenv: %v", s.err)
	}
	return s.pg
}

// NewDatabase returns the DSN of a fresh database on the shared server,
// dropped when the test ends.
func (s *SharedPostgres) NewDatabase(t testing.TB) string {
	t.Helper()
	return s.Server(t).NewDatabase(t)
}

// Stop stops the server if it was started.
func (s *SharedPostgres) Stop() {
	// A later Server call must fail, not start a server nobody stops.
	s.once.Do(func() { s.err = errors.New("the shared PostgreSQL server was already stopped") })
	if s.pg != nil {
		s.pg.Stop()
	}
}
