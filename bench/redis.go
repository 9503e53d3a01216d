package bench

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// RedisServer is a throwaway redis-server the bench starts when it is
// given no --redis: in-memory only (no RDB, no AOF), on a free loopback
// port, killed by Close.
//
// It is not internal/testenv.StartRedis because that helper belongs to
// tests (it takes a testing.TB, fails the test, and cleans up through
// t.Cleanup); a command needs errors and an explicit Close.
type RedisServer struct {
	// Addr is the server's host:port.
	Addr string
	cmd  *exec.Cmd
	dir  string
}

// ErrNoRedisServer: no --redis was given and redis-server is not on PATH.
var ErrNoRedisServer = errors.New("bench: redis-server not found on PATH (install it, or give --redis ADDR)")

// StartRedis starts redis-server and waits until it answers PING.
func StartRedis(ctx context.Context) (*RedisServer, error) {
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		return nil, ErrNoRedisServer
	}
	dir, err := os.MkdirTemp("", "helpline-bench-redis-")
	if err != nil {
		return nil, fmt.Errorf("bench: redis working directory: %w", err)
	}
	var last error
	for attempt := 0; attempt < 5; attempt++ {
		port, err := freePort()
		if err != nil {
			_ = os.RemoveAll(dir)
			return nil, fmt.Errorf("bench: reserving a port: %w", err)
		}
		s := &RedisServer{Addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), dir: dir}
		// The process is ours to stop (Close), not the context's: a
		// cancelled run still cleans up through Close.
		s.cmd = exec.Command(bin, "--port", strconv.Itoa(port), "--bind", "127.0.0.1",
			"--save", "", "--appendonly", "no", "--dir", dir, "--logfile", "")
		if err := s.cmd.Start(); err != nil {
			_ = os.RemoveAll(dir)
			return nil, fmt.Errorf("bench: starting redis-server: %w", err)
		}
		if last = s.awaitPing(ctx); last == nil {
			return s, nil
		}
		_ = s.stop()
	}
	_ = os.RemoveAll(dir)
	return nil, fmt.Errorf("bench: redis-server did not answer: %w", last)
}

func (s *RedisServer) awaitPing(ctx context.Context) error {
	c := redis.NewClient(&redis.Options{Addr: s.Addr, MaxRetries: -1})
	defer c.Close()
	deadline := time.Now().Add(5 * time.Second)
	for {
		err := c.Ping(ctx).Err()
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return err
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (s *RedisServer) stop() error {
	if s.cmd.Process == nil {
		return nil
	}
	_ = s.cmd.Process.Kill()
	_ = s.cmd.Wait()
	return nil
}

// Close kills the server and removes its directory.
func (s *RedisServer) Close() error {
	err := s.stop()
	if rmErr := os.RemoveAll(s.dir); err == nil {
		err = rmErr
	}
	return err
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
