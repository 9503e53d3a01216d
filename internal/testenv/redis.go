package testenv

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// Redis is a redis-server process owned by one test.
type Redis struct {
	// Addr is the loopback host:port the server listens on.
	Addr string
	// Dir is the server's working directory (its RDB/AOF files land here).
	Dir string

	cmd     *exec.Cmd
	args    []string
	logPath string
	mu      sync.Mutex
	stopped bool
}

// StartRedis starts a private redis-server on a free loopback port and
// returns once it answers PING. The server is killed when the test ends.
// Extra arguments are passed to redis-server (e.g. "--appendonly", "yes").
//
// redis-server's "--port 0" disables TCP instead of choosing a port, so we
// reserve a free port by binding :0, release it and hand the number over;
// a collision in that window is retried.
func StartRedis(t testing.TB, extra ...string) *Redis {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		t.Fatalf("testenv: redis-server not found on PATH: install it with `apt-get install -y redis-server` (or run `make test`, which does): %v", err)
	}
	dir := t.TempDir()
	var lastErr error
	for attempt := 0; attempt < 5; attempt++ {
		port, err := freePort()
		if err != nil {
			t.Fatalf("testenv: reserving a loopback port: %v", err)
		}
		r := &Redis{
			Addr:    net.JoinHostPort("127.0.0.1", strconv.Itoa(port)),
			Dir:     dir,
			logPath: filepath.Join(dir, "redis.log"),
		}
		r.args = append([]string{
			"--bind", "127.0.0.1",
			"--port", strconv.Itoa(port),
			"--dir", dir,
			"--save", "",
			"--appendonly", "no",
			"--logfile", r.logPath,
			"--daemonize", "no",
		}, extra...)
		if lastErr = r.start(bin); lastErr == nil {
			t.Cleanup(r.Stop)
			return r
		}
	}
	t.Fatalf("testenv: redis-server did not start: %v", lastErr)
	return nil
}

func (r *Redis) start(bin string) error {
	r.cmd = exec.Command(bin, r.args...)
	r.cmd.Dir = r.Dir
	if err := r.cmd.Start(); err != nil {
		return fmt.Errorf("starting %s: %w", bin, err)
	}
	exited := make(chan error, 1)
	go func() { exited <- r.cmd.Wait() }()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c := redis.NewClient(&redis.Options{Addr: r.Addr, MaxRetries: -1, DialTimeout: 200 * time.Millisecond})
	defer c.Close()
	for {
		if err := c.Ping(ctx).Err(); err == nil {
			r.mu.Lock()
			r.stopped = false
			r.mu.Unlock()
			return nil
		}
		select {
		case err := <-exited:
			return fmt.Errorf("redis-server exited before answering PING (%v); log: %s", err, r.logTail())
		case <-ctx.Done():
			_ = r.cmd.Process.Kill()
			return fmt.Errorf("redis-server on %s did not answer PING within 10s; log: %s", r.Addr, r.logTail())
		case <-time.After(10 * time.Millisecond):
			// Polling a just-started process is the readiness check itself;
			// there is no event to await before it listens.
		}
	}
}

// Client returns a go-redis client for the server, closed at test end.
func (r *Redis) Client(t testing.TB) *redis.Client {
	t.Helper()
	c := redis.NewClient(&redis.Options{Addr: r.Addr})
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// Stop kills the server (SIGKILL: tests of "Redis died" want no goodbye).
// It is safe to call more than once.
func (r *Redis) Stop() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.stopped || r.cmd == nil || r.cmd.Process == nil {
		return
	}
	r.stopped = true
	_ = r.cmd.Process.Kill()
	_, _ = r.cmd.Process.Wait()
}

// Restart starts the server again on the same address and directory after
// Stop, for tests of recovery when Redis comes back.
func (r *Redis) Restart(t testing.TB) {
	t.Helper()
	r.Stop()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		t.Fatalf("testenv: redis-server not found: %v", err)
	}
	if err := r.start(bin); err != nil {
		t.Fatalf("testenv: restarting redis-server on %s: %v", r.Addr, err)
	}
}

func (r *Redis) logTail() string {
	f, err := os.Open(r.logPath)
	if err != nil {
		return "(no log)"
	}
	defer f.Close()
	var lines []string
	s := bufio.NewScanner(f)
	for s.Scan() {
		lines = append(lines, s.Text())
		if len(lines) > 5 {
			lines = lines[1:]
		}
	}
	return strings.Join(lines, " | ")
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	addr, ok := l.Addr().(*net.TCPAddr)
	if !ok {
		return 0, errors.New("listener address is not TCP")
	}
	return addr.Port, nil
}
