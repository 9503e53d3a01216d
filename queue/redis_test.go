package queue_test

import (
	"context"
	"encoding/json"
	"fmt"
	"github.com/redis/go-redis/v9"
	"github.com/rs/zerolog"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/helpline-it/helpline/internal/testenv"
	"github.com/helpline-it/helpline/queue"
	"github.com/helpline-it/helpline/queue/queuetest"
)

func TestRedisContract(t *testing.T) {
	srv := testenv.StartRedis(t)
	client := srv.Client(t)
	var n atomic.Int64
	queuetest.RunQueueSuite(t, func(t *testing.T) queue.Queue {
		// A fresh prefix per subtest: one server, isolated queues.
		q, err := queue.NewRedis(client, queue.RedisOptions{Prefix: fmt.Sprintf("t%d", n.Add(1)), Service: "svc"})
		if err != nil {
			t.Fatal(err)
		}
		return q
	})
}

func newRedis(t *testing.T, client redis.UniversalClient, prefix string) *queue.Redis {
	t.Helper()
	q, err := queue.NewRedis(client, queue.RedisOptions{Prefix: prefix, Service: "svc", Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	return q
}

func testLogger(t *testing.T) zerolog.Logger {
	return zerolog.New(zerolog.NewTestWriter(t))
}

// TestRedisManyNodes is the double-booking test at full tilt: 32
// assigners over 4 stores, each with its own connection pool, sharing one
// Redis, as four helpline nodes would.
func TestRedisManyNodes(t *testing.T) {
	srv := testenv.StartRedis(t)
	var nodes []queue.Queue
	for range 4 {
		nodes = append(nodes, newRedis(t, srv.Client(t), "many"))
	}
	queuetest.RunConcurrent(t, nodes, 32)
}

// TestRedisLanguageDiscovery: a node that never saw a language learns it
// from Redis when a script reports its list stale.
func TestRedisLanguageDiscovery(t *testing.T) {
	ctx := context.Background()
	srv := testenv.StartRedis(t)
	a := newRedis(t, srv.Client(t), "disc")
	b := newRedis(t, srv.Client(t), "disc")
	at := queuetest.T0
	for i, l := range []string{"fr", "de", "ar"} {
		if err := a.Enqueue(ctx, queue.Call{ID: "c-" + l, Language: l, Enqueued: at.Add(time.Duration(i) * time.Second)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := a.Login(ctx, queue.Operator{ID: "op", Skills: []string{"de"}}, at); err != nil {
		t.Fatal(err)
	}
	// b knows no language: its first Assign must still find de.
	o, err := b.Assign(ctx, at.Add(time.Minute), time.Minute)
	if err != nil || o.CallID != "c-de" || o.OperatorID != "op" {
		t.Fatalf("Assign on the other node = %+v, %v; want c-de to op", o, err)
	}
	// b introduces a language a does not know; a's next step still works.
	if err := b.Login(ctx, queue.Operator{ID: "op2", Skills: []string{"ar", "es"}}, at); err != nil {
		t.Fatal(err)
	}
	o, err = a.Assign(ctx, at.Add(time.Minute), time.Minute)
	if err != nil || o.CallID != "c-ar" || o.OperatorID != "op2" {
		t.Fatalf("Assign after b learnt es = %+v, %v; want c-ar to op2", o, err)
	}
	if p, err := a.Position(ctx, "c-fr"); err != nil || p != 1 {
		t.Fatalf("Position(c-fr) = %d, %v; want 1", p, err)
	}
}

// TestRedisKeys pins the key layout: every key under the prefix carries
// the service hash tag, and nothing resembling a phone number is stored.
func TestRedisKeys(t *testing.T) {
	ctx := context.Background()
	srv := testenv.StartRedis(t)
	c := srv.Client(t)
	q := newRedis(t, c, "hl")
	at := queuetest.T0
	if err := q.Enqueue(ctx, queue.Call{ID: "chan-1", Language: "it", Tag: "a1b2c3d4", Node: "n1", Enqueued: at}); err != nil {
		t.Fatal(err)
	}
	if err := q.Login(ctx, queue.Operator{ID: "op", Endpoint: "PJSIP/op", Skills: []string{"it"}}, at); err != nil {
		t.Fatal(err)
	}
	o, err := q.Assign(ctx, at, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if err := q.Enqueue(ctx, queue.Call{ID: "chan-2", Language: "en", Enqueued: at}); err != nil {
		t.Fatal(err)
	}
	keys, err := c.Keys(ctx, "*").Result()
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(keys)
	// avail:it is absent: its only operator rings, and Redis deletes an
	// emptied ZSET; waiting:it likewise while chan-1 is offered.
	want := []string{"hl:{svc}:calls", "hl:{svc}:langs", "hl:{svc}:offers", "hl:{svc}:ops", "hl:{svc}:waiting:en"}
	if !slices.Equal(keys, want) {
		t.Fatalf("keys = %q; want %q", keys, want)
	}
	stored, err := c.HGet(ctx, "hl:{svc}:calls", "chan-1").Result()
	if err != nil {
		t.Fatal(err)
	}
	var fields map[string]any
	if err := json.Unmarshal([]byte(stored), &fields); err != nil {
		t.Fatal(err)
	}
	var names []string
	for k := range fields {
		names = append(names, k)
	}
	slices.Sort(names)
	if want := []string{"enq", "exp", "id", "lang", "node", "op", "svc", "tag"}; !slices.Equal(names, want) {
		t.Fatalf("stored call fields = %v; want %v (ID and tag only, never a number)", names, want)
	}
	if exp, _ := c.ZScore(ctx, "hl:{svc}:offers", "chan-1").Result(); int64(exp) != o.Expires.UnixMilli() {
		t.Fatalf("offer score = %v; want %d", exp, o.Expires.UnixMilli())
	}
}

// TestRedisUnavailable: a dead server yields ErrUnavailable (switch to
// the fallback); a refusal by a live server does not.
func TestRedisUnavailable(t *testing.T) {
	ctx := context.Background()
	srv := testenv.StartRedis(t)
	c := redis.NewClient(&redis.Options{Addr: srv.Addr, MaxRetries: -1, DialTimeout: 200 * time.Millisecond})
	t.Cleanup(func() { _ = c.Close() })
	q := newRedis(t, c, "down")
	// A key of the wrong type makes the server refuse the script.
	if err := c.Set(ctx, "down:{svc}:ops", "garbage", 0).Err(); err != nil {
		t.Fatal(err)
	}
	err := q.Login(ctx, queue.Operator{ID: "op", Skills: []string{"it"}}, queuetest.T0)
	if err == nil || queue.IsUnavailable(err) {
		t.Fatalf("Login against a wrong-type key = %v; want a refusal that is not ErrUnavailable", err)
	}
	srv.Stop()
	err = q.Enqueue(ctx, queue.Call{ID: "c", Language: "it", Enqueued: queuetest.T0})
	if !queue.IsUnavailable(err) {
		t.Fatalf("Enqueue with Redis down = %v; want ErrUnavailable", err)
	}
	if _, err := q.Operator(ctx, "op"); !queue.IsUnavailable(err) {
		t.Fatalf("Operator with Redis down = %v; want ErrUnavailable", err)
	}
	if _, err := q.Watch(ctx); !queue.IsUnavailable(err) {
		t.Fatalf("Watch with Redis down = %v; want ErrUnavailable", err)
	}
}
