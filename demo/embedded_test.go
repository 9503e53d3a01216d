package demo

import (
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"github.com/helpline-it/helpline/blacklist"
	"github.com/helpline-it/helpline/blacklist/blacklisttest"
	"github.com/helpline-it/helpline/queue"
	"github.com/helpline-it/helpline/queue/queuetest"
)

// TestEmbeddedRedisServesTheStores: the demo's embedded Redis (miniredis)
// runs the queue's and the blacklist's Lua scripts as a real Redis does —
// their whole contract suites pass on it.
func TestEmbeddedRedisServesTheStores(t *testing.T) {
	m := miniredis.RunT(t)
	c := redis.NewClient(&redis.Options{Addr: m.Addr()})
	t.Cleanup(func() { _ = c.Close() })
	var n atomic.Int64
	t.Run("queue", func(t *testing.T) {
		queuetest.RunQueueSuite(t, func(t *testing.T) queue.Queue {
			q, err := queue.NewRedis(c, queue.RedisOptions{Prefix: fmt.Sprintf("q%d", n.Add(1)), Service: "svc"})
			if err != nil {
				t.Fatal(err)
			}
			return q
		})
	})
	t.Run("blacklist", func(t *testing.T) {
		blacklisttest.RunStoreSuite(t, func(t *testing.T) blacklist.Store {
			s, err := blacklist.NewRedis(c, blacklist.RedisOptions{Prefix: fmt.Sprintf("b%d", n.Add(1)), Policy: blacklisttest.Policy})
			if err != nil {
				t.Fatal(err)
			}
			return s
		})
	})
}
