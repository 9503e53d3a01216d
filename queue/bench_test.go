package queue

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/helpline-it/helpline/internal/testenv"
	"github.com/redis/go-redis/v9"
)

// BenchmarkRedisAssign measures Assign (one Lua script: housekeeping,
// choice across languages, reservation, PUBLISH) from parallel clients
// against a loopback redis-server. b.N calls and b.N operators over three
// languages are preloaded by pipelined scripts, so every timed Assign
// makes exactly one offer.
//
//	go test -run '^$' -bench BenchmarkRedisAssign -benchtime 100000x ./queue/
func BenchmarkRedisAssign(b *testing.B) {
	srv := testenv.StartRedis(b)
	client := redis.NewClient(&redis.Options{Addr: srv.Addr, PoolSize: 64})
	b.Cleanup(func() { _ = client.Close() })
	ctx := context.Background()
	langs := []string{"it", "en", "ar"}
	r, err := NewRedis(client, RedisOptions{Prefix: fmt.Sprintf("bench%d", b.N), Service: "svc", Languages: langs})
	if err != nil {
		b.Fatal(err)
	}
	t0 := time.UnixMilli(1772445600000)
	preload(b, r, b.N, langs, t0)
	var clock atomic.Int64
	clock.Store(t0.Add(time.Minute).UnixMilli())
	var offers atomic.Int64
	if err := client.ConfigResetStat(ctx).Err(); err != nil {
		b.Fatal(err)
	}
	b.SetParallelism(8)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			_, err := r.Assign(ctx, time.UnixMilli(clock.Add(1)), time.Hour)
			if err != nil {
				b.Errorf("Assign: %v", err)
				return
			}
			offers.Add(1)
		}
	})
	b.StopTimer()
	b.ReportMetric(float64(offers.Load())/b.Elapsed().Seconds(), "assign/s")
	// Server-side time per script: the ceiling one Redis thread allows
	// (1e6 / µs assign/s), whatever the client machine adds.
	if us := evalshaMicros(ctx, client); us > 0 {
		b.ReportMetric(us, "redis-µs/assign")
	}
	if _, err := r.Assign(ctx, time.UnixMilli(clock.Add(1)), time.Hour); !errors.Is(err, ErrNoMatch) {
		b.Fatalf("after %d offers Assign = %v; want ErrNoMatch (every pair used once)", b.N, err)
	}
}

// preload enqueues n calls and logs in n operators through the real
// scripts, pipelined in batches.
func preload(b *testing.B, r *Redis, n int, langs []string, t0 time.Time) {
	b.Helper()
	ctx := context.Background()
	for _, s := range []*redis.Script{enqueueScript, loginScript} {
		if err := s.Load(ctx, r.c).Err(); err != nil {
			b.Fatal(err)
		}
	}
	keys, pre := r.layout(langs)
	const batch = 2000
	for start := 0; start < n; start += batch {
		pipe := r.c.Pipeline()
		for i := start; i < min(n, start+batch); i++ {
			l := langs[i%len(langs)]
			c, _ := json.Marshal(redisCall{ID: fmt.Sprintf("call-%07d", i), Svc: "svc", Lang: l, Tag: "t", Enq: t0.UnixMilli() + int64(i)})
			enqueueScript.EvalSha(ctx, pipe, keys, append(pre, string(c))...)
			sk, _ := json.Marshal([]string{l})
			loginScript.EvalSha(ctx, pipe, keys, append(pre, fmt.Sprintf("op-%07d", i), "PJSIP/x", string(sk), t0.UnixMilli())...)
		}
		if _, err := pipe.Exec(ctx); err != nil {
			b.Fatalf("preloading: %v", err)
		}
	}
	r.learn(langs)
}

// evalshaMicros reads the server's mean EVALSHA time since the last
// CONFIG RESETSTAT, or 0 if it cannot.
func evalshaMicros(ctx context.Context, c *redis.Client) float64 {
	info, err := c.Info(ctx, "commandstats").Result()
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(info, "\n") {
		if !strings.HasPrefix(line, "cmdstat_evalsha:") {
			continue
		}
		for _, kv := range strings.Split(strings.TrimSpace(strings.TrimPrefix(line, "cmdstat_evalsha:")), ",") {
			if v, ok := strings.CutPrefix(kv, "usec_per_call="); ok {
				f, _ := strconv.ParseFloat(v, 64)
				return f
			}
		}
	}
	return 0
}

// BenchmarkRedisSnapshot measures Snapshot with 2,000 waiting calls and
// 300 operators (a busy national queue): the script's HVALS of both
// hashes, the reply, and decoding it. Between two snapshots one call
// arrives, as under load, so the decoding cache sees one new record.
//
//	go test -run '^$' -bench BenchmarkRedisSnapshot -benchtime 200x ./queue/
func BenchmarkRedisSnapshot(b *testing.B) {
	srv := testenv.StartRedis(b)
	client := redis.NewClient(&redis.Options{Addr: srv.Addr})
	b.Cleanup(func() { _ = client.Close() })
	ctx := context.Background()
	langs := []string{"it", "en", "ar"}
	r, err := NewRedis(client, RedisOptions{Prefix: "snap", Service: "svc", Languages: langs})
	if err != nil {
		b.Fatal(err)
	}
	t0 := time.UnixMilli(1772445600000)
	const calls, ops = 2000, 300
	for i := range calls {
		c := Call{ID: fmt.Sprintf("call-%07d", i), Service: "svc", Language: langs[i%3], Tag: "t", Enqueued: t0.Add(time.Duration(i) * time.Millisecond)}
		if err := r.Enqueue(ctx, c); err != nil {
			b.Fatal(err)
		}
	}
	for i := range ops {
		op := Operator{ID: fmt.Sprintf("op-%05d", i), Endpoint: "PJSIP/x", Skills: []string{langs[i%3]}}
		if err := r.Login(ctx, op, t0); err != nil {
			b.Fatal(err)
		}
		if err := r.Pause(ctx, op.ID, "bench", t0); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		c := Call{ID: fmt.Sprintf("new-%07d", i), Service: "svc", Language: "it", Tag: "t", Enqueued: t0.Add(time.Hour + time.Duration(i)*time.Millisecond)}
		if err := r.Enqueue(ctx, c); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		s, err := r.Snapshot(ctx, t0.Add(2*time.Hour))
		if err != nil {
			b.Fatal(err)
		}
		if n := len(s.Waiting["it"]) + len(s.Waiting["en"]) + len(s.Waiting["ar"]); n != calls+i+1 || len(s.Operators) != ops {
			b.Fatalf("snapshot: %d calls, %d operators", n, len(s.Operators))
		}
	}
}
