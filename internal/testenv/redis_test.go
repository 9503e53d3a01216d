package testenv_test

import (
	"context"
	"testing"

	"github.com/helpline-it/helpline/internal/testenv"
)

func TestStartRedisStopRestart(t *testing.T) {
	r := testenv.StartRedis(t)
	c := r.Client(t)
	ctx := context.Background()
	if err := c.Set(ctx, "k", "v", 0).Err(); err != nil {
		t.Fatalf("SET on fresh server: %v", err)
	}
	r.Stop()
	if err := c.Ping(ctx).Err(); err == nil {
		t.Fatal("PING succeeded after Stop; the server should be gone")
	}
	r.Restart(t)
	if err := c.Ping(ctx).Err(); err != nil {
		t.Fatalf("PING after Restart: %v", err)
	}
	// Persistence is off in tests: a restarted server starts empty.
	if n, err := c.Exists(ctx, "k").Result(); err != nil || n != 0 {
		t.Fatalf("EXISTS k after restart = %d, %v; want 0 (no persistence)", n, err)
	}
}
