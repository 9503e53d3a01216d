package blacklist_test

import (
	"context"
	"fmt"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/helpline-it/helpline/blacklist"
	"github.com/helpline-it/helpline/blacklist/blacklisttest"
	"github.com/helpline-it/helpline/internal/testenv"
	"github.com/redis/go-redis/v9"
)

func TestRedisContract(t *testing.T) {
	srv := testenv.StartRedis(t)
	client := srv.Client(t)
	var n atomic.Int64
	blacklisttest.RunStoreSuite(t, func(t *testing.T) blacklist.Store {
		s, err := blacklist.NewRedis(client, blacklist.RedisOptions{Prefix: fmt.Sprintf("t%d", n.Add(1)), Policy: blacklisttest.Policy})
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

// TestRedisTTL: every key carries a real TTL matching its logical
// lifetime, so nothing outlives its use even if nobody lists or flags
// again; and keys name callers only by hash.
func TestRedisTTL(t *testing.T) {
	ctx := context.Background()
	srv := testenv.StartRedis(t)
	c := srv.Client(t)
	s, err := blacklist.NewRedis(c, blacklist.RedisOptions{Prefix: "hl", Policy: blacklisttest.Policy})
	if err != nil {
		t.Fatal(err)
	}
	ha, hf := blacklisttest.Hash("admin"), blacklisttest.Hash("flagged")
	if err := s.Add(ctx, blacklist.Entry{Hash: ha, Created: blacklisttest.T0, Until: blacklisttest.T0.Add(48 * time.Hour), By: "x"}); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if _, err := s.Flag(ctx, blacklist.Flag{Hash: hf, Operator: "op", Kind: blacklist.Prank, At: blacklisttest.T0.Add(time.Duration(i) * time.Second)}); err != nil {
			t.Fatal(err)
		}
	}
	keys, err := c.Keys(ctx, "*").Result()
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(keys)
	want := []string{"hl:{blacklist}:block:" + ha, "hl:{blacklist}:block:" + hf, "hl:{blacklist}:flags:" + hf, "hl:{blacklist}:index"}
	slices.Sort(want)
	if !slices.Equal(keys, want) {
		t.Fatalf("keys = %q; want %q", keys, want)
	}
	ttls := map[string]time.Duration{
		"hl:{blacklist}:block:" + ha: 48 * time.Hour,
		"hl:{blacklist}:block:" + hf: blacklisttest.Policy.Block,
		"hl:{blacklist}:flags:" + hf: blacklisttest.Policy.Window,
	}
	for k, want := range ttls {
		got, err := c.PTTL(ctx, k).Result()
		if err != nil {
			t.Fatal(err)
		}
		// PTTL counts down in real time; allow a minute of slack.
		if got > want || got < want-time.Minute {
			t.Errorf("PTTL(%s) = %v; want about %v", k, got, want)
		}
	}
}

// TestRedisUnavailable: only a dead server is ErrUnavailable.
func TestRedisUnavailable(t *testing.T) {
	ctx := context.Background()
	srv := testenv.StartRedis(t)
	c := redis.NewClient(&redis.Options{Addr: srv.Addr, MaxRetries: -1, DialTimeout: 200 * time.Millisecond})
	t.Cleanup(func() { _ = c.Close() })
	s, err := blacklist.NewRedis(c, blacklist.RedisOptions{Prefix: "down", Policy: blacklisttest.Policy})
	if err != nil {
		t.Fatal(err)
	}
	h := blacklisttest.Hash("x")
	if err := c.HSet(ctx, "down:{blacklist}:block:"+h, "f", "v").Err(); err != nil {
		t.Fatal(err)
	}
	_, _, err = s.Blocked(ctx, h, blacklisttest.T0)
	if err == nil || blacklist.IsUnavailable(err) {
		t.Fatalf("Blocked on a wrong-type key = %v; want a refusal, not ErrUnavailable", err)
	}
	srv.Stop()
	if _, _, err := s.Blocked(ctx, h, blacklisttest.T0); !blacklist.IsUnavailable(err) {
		t.Fatalf("Blocked with Redis down = %v; want ErrUnavailable", err)
	}
	if _, err := s.Flag(ctx, blacklist.Flag{Hash: h, Operator: "op", Kind: blacklist.Prank, At: blacklisttest.T0}); !blacklist.IsUnavailable(err) {
		t.Fatalf("Flag with Redis down = %v; want ErrUnavailable", err)
	}
}
