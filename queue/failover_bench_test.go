package queue

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/helpline-it/helpline/internal/testenv"
)

// BenchmarkFailoverAssign is Assign on the healthy path, bare Redis store
// against the same store behind a Failover, one client after the other
// (the latency a dispatcher sees), on the same preloaded state as
// BenchmarkRedisAssign: every timed Assign makes exactly one offer. The
// preloaded operators are unknown to the Failover's shadow, so each offer
// also teaches it an operator: the wrapper's dearest case.
//
//	go test -run '^$' -bench BenchmarkFailoverAssign -benchtime 20000x -count 3 ./queue/
func BenchmarkFailoverAssign(b *testing.B) {
	srv := testenv.StartRedis(b)
	client := redis.NewClient(&redis.Options{Addr: srv.Addr})
	b.Cleanup(func() { _ = client.Close() })
	langs := []string{"it", "en", "ar"}
	t0 := time.UnixMilli(1772445600000)
	run := 0
	for _, name := range []string{"redis", "failover"} {
		b.Run(name, func(b *testing.B) {
			ctx := context.Background()
			run++ // a fresh key prefix per run: every pair is used once
			r, err := NewRedis(client, RedisOptions{Prefix: fmt.Sprintf("fb-%s-%d-%d", name, b.N, run), Service: "svc", Languages: langs})
			if err != nil {
				b.Fatal(err)
			}
			preload(b, r, b.N, langs, t0)
			var q Queue = r
			if name == "failover" {
				if q, err = NewFailover(r, FailoverOptions{Service: "svc"}); err != nil {
					b.Fatal(err)
				}
			}
			now := t0.Add(time.Minute)
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				if _, err := q.Assign(ctx, now.Add(time.Duration(i)*time.Millisecond), time.Hour); err != nil {
					b.Fatalf("Assign %d: %v", i, err)
				}
			}
			b.StopTimer()
			if _, err := q.Assign(ctx, now.Add(time.Duration(b.N)*time.Millisecond), time.Hour); !errors.Is(err, ErrNoMatch) {
				b.Fatalf("after %d offers Assign = %v; want ErrNoMatch", b.N, err)
			}
		})
	}
}

// instantQueue answers Assign at once with a fresh offer: what is left
// when Redis costs nothing, i.e. the Failover's own cost.
type instantQueue struct {
	Queue
	n int
}

func (q *instantQueue) Assign(ctx context.Context, now time.Time, ttl time.Duration) (Offer, error) {
	q.n++
	return Offer{CallID: fmt.Sprint("c", q.n%512), OperatorID: fmt.Sprint("op", q.n%64), Language: "it", Expires: now.Add(ttl)}, nil
}

// BenchmarkFailoverOverhead is the wrapper alone on the healthy path:
// Assign through a Failover over a store that answers instantly, minus the
// same store called directly.
//
//	go test -run '^$' -bench BenchmarkFailoverOverhead ./queue/
func BenchmarkFailoverOverhead(b *testing.B) {
	ctx := context.Background()
	now := time.UnixMilli(1772445600000)
	b.Run("direct", func(b *testing.B) {
		q := &instantQueue{}
		b.ReportAllocs()
		for range b.N {
			_, _ = q.Assign(ctx, now, time.Minute)
		}
	})
	b.Run("failover", func(b *testing.B) {
		f, err := NewFailover(&instantQueue{}, FailoverOptions{Service: "svc"})
		if err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		for range b.N {
			if _, err := f.Assign(ctx, now, time.Minute); err != nil {
				b.Fatal(err)
			}
		}
	})
}
