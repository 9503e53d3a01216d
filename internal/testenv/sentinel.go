package testenv

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// Sentinel is a redis-server in Sentinel mode watching one master, owned
// by one test: what a deployment uses for Redis that survives the loss of
// its master (the nodes' go-redis clients follow the promotion).
type Sentinel struct {
	// Addr is the loopback host:port the sentinel listens on.
	Addr string
	// MasterName is the name the master is monitored under.
	MasterName string

	r *Redis
}

// StartSentinel starts one sentinel (quorum 1) monitoring master under
// masterName, with short timeouts so that a test's failover takes seconds
// (down after 1 s, failover timeout 5 s). It returns once the sentinel
// answers PING and reports master as the master; it is killed when the
// test ends. Replicas of master started before it (StartRedis with
// "--replicaof") are discovered by the sentinel from the master.
func StartSentinel(t testing.TB, masterName string, master *Redis) *Sentinel {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		t.Fatalf("testenv: redis-server not found on PATH: %v", err)
	}
	mhost, mport, err := net.SplitHostPort(master.Addr)
	if err != nil {
		t.Fatalf("testenv: master address %q: %v", master.Addr, err)
	}
	dir := t.TempDir()
	var lastErr error
	for attempt := 0; attempt < 5; attempt++ {
		port, err := freePort()
		if err != nil {
			t.Fatalf("testenv: reserving a loopback port: %v", err)
		}
		conf := filepath.Join(dir, "sentinel.conf")
		// Sentinel rewrites its configuration file: it must be writable.
		text := strings.Join([]string{
			"bind 127.0.0.1",
			"port " + strconv.Itoa(port),
			"daemonize no",
			"dir " + dir,
			"logfile " + filepath.Join(dir, "sentinel.log"),
			fmt.Sprintf("sentinel monitor %s %s %s 1", masterName, mhost, mport),
			fmt.Sprintf("sentinel down-after-milliseconds %s 1000", masterName),
			fmt.Sprintf("sentinel failover-timeout %s 5000", masterName),
			fmt.Sprintf("sentinel parallel-syncs %s 1", masterName),
			"",
		}, "\n")
		if err := os.WriteFile(conf, []byte(text), 0o600); err != nil {
			t.Fatalf("testenv: writing %s: %v", conf, err)
		}
		r := &Redis{Addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), Dir: dir,
			logPath: filepath.Join(dir, "sentinel.log"), args: []string{conf, "--sentinel"}}
		if lastErr = r.start(bin); lastErr != nil {
			continue
		}
		t.Cleanup(r.Stop)
		s := &Sentinel{Addr: r.Addr, MasterName: masterName, r: r}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := s.AwaitMaster(ctx, master.Addr); err != nil {
			t.Fatalf("testenv: sentinel: %v; log: %s", err, r.logTail())
		}
		return s
	}
	t.Fatalf("testenv: sentinel did not start: %v", lastErr)
	return nil
}

// client is a plain client of the sentinel itself.
func (s *Sentinel) client() *redis.SentinelClient {
	return redis.NewSentinelClient(&redis.Options{Addr: s.Addr, DialTimeout: 200 * time.Millisecond})
}

// AwaitMaster waits until the sentinel reports addr as its master (after
// StartSentinel, or after a failover promoted a replica).
func (s *Sentinel) AwaitMaster(ctx context.Context, addr string) error {
	c := s.client()
	defer c.Close()
	return poll(ctx, func() bool {
		v, err := c.GetMasterAddrByName(ctx, s.MasterName).Result()
		return err == nil && len(v) == 2 && net.JoinHostPort(v[0], v[1]) == addr
	}, fmt.Sprintf("sentinel never reported %s as master %s", addr, s.MasterName))
}

// AwaitReplicas waits until the sentinel knows n replicas of its master
// (it learns them from the master's INFO, so a failover can promote one).
func (s *Sentinel) AwaitReplicas(ctx context.Context, n int) error {
	c := s.client()
	defer c.Close()
	return poll(ctx, func() bool {
		v, err := c.Replicas(ctx, s.MasterName).Result()
		return err == nil && len(v) >= n
	}, fmt.Sprintf("sentinel never knew %d replicas of %s", n, s.MasterName))
}

// FailoverClient returns the client a node configured with redis.sentinel
// uses: go-redis's FailoverClient, which asks the sentinel for the master
// and follows its promotions. Closed when the test ends.
func (s *Sentinel) FailoverClient(t testing.TB) *redis.Client {
	t.Helper()
	c := redis.NewFailoverClient(&redis.FailoverOptions{MasterName: s.MasterName, SentinelAddrs: []string{s.Addr}})
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// AwaitReplicated waits until the replica at addr reports its link to the
// master up (initial sync done).
func AwaitReplicated(ctx context.Context, addr string) error {
	c := redis.NewClient(&redis.Options{Addr: addr, DialTimeout: 200 * time.Millisecond})
	defer c.Close()
	return poll(ctx, func() bool {
		info, err := c.Info(ctx, "replication").Result()
		return err == nil && strings.Contains(info, "master_link_status:up")
	}, "replica "+addr+" never synced with its master")
}

// poll checks cond every 20 ms until it holds or ctx ends: Redis and its
// sentinel publish no event a test could await for these states.
func poll(ctx context.Context, cond func() bool, what string) error {
	for !cond() {
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s: %w", what, ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
	return nil
}
