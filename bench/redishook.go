package bench

import (
	"context"
	"net"
	"strings"
	"sync"

	"github.com/redis/go-redis/v9"
)

// redisCounter is a go-redis hook counting the switchboard's commands and
// round trips (a pipeline is one trip). Pub/sub messages pushed by the
// server are not commands and are not counted.
type redisCounter struct {
	mu       sync.Mutex
	commands int64
	trips    int64
	byName   map[string]int64
}

func newRedisCounter() *redisCounter { return &redisCounter{byName: map[string]int64{}} }

func (c *redisCounter) DialHook(next redis.DialHook) redis.DialHook {
	return func(ctx context.Context, network, addr string) (net.Conn, error) { return next(ctx, network, addr) }
}

func (c *redisCounter) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		c.mu.Lock()
		c.commands++
		c.trips++
		c.byName[strings.ToLower(cmd.Name())]++
		c.mu.Unlock()
		return next(ctx, cmd)
	}
}

func (c *redisCounter) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		c.mu.Lock()
		c.trips++
		for _, cmd := range cmds {
			c.commands++
			c.byName[strings.ToLower(cmd.Name())]++
		}
		c.mu.Unlock()
		return next(ctx, cmds)
	}
}

// reset forgets what was counted (the set-up before the run).
func (c *redisCounter) reset() {
	c.mu.Lock()
	c.commands, c.trips = 0, 0
	c.byName = map[string]int64{}
	c.mu.Unlock()
}

func (c *redisCounter) snapshot() (commands, trips int64, byName map[string]int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	m := make(map[string]int64, len(c.byName))
	for k, v := range c.byName {
		m[k] = v
	}
	return c.commands, c.trips, m
}
