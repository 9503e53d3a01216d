package queue_test

import (
	"context"
	"testing"
	"time"

	"github.com/helpline-it/helpline/internal/testenv"
	"github.com/helpline-it/helpline/queue"
)

// BenchmarkRedisHandOver is the cost the hand-over adds to a cross-node
// answer on real Redis: one offer pushed by the assigning node until the
// owner's BLPOP returns it.
func BenchmarkRedisHandOver(b *testing.B) {
	srv := testenv.StartRedis(b)
	from, err := queue.NewRedis(srv.Client(b), queue.RedisOptions{Prefix: "bench", Service: "svc"})
	if err != nil {
		b.Fatal(err)
	}
	to, err := queue.NewRedis(srv.Client(b), queue.RedisOptions{Prefix: "bench", Service: "svc"})
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ch, err := to.HandedOver(ctx, "node2")
	if err != nil {
		b.Fatal(err)
	}
	o := queue.Offer{CallID: "c1", OperatorID: "op1", Endpoint: "PJSIP/op1", Language: "it", Node: "node2", Expires: time.Unix(1795446000, 0)}
	b.ResetTimer()
	for range b.N {
		if err := from.HandOver(ctx, o); err != nil {
			b.Fatal(err)
		}
		<-ch
	}
}
