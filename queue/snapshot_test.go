package queue

import (
	"context"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/helpline-it/helpline/internal/testenv"
)

// evalCounter counts the scripts a client runs.
type evalCounter struct{ n atomic.Int64 }

func (c *evalCounter) DialHook(next redis.DialHook) redis.DialHook {
	return func(ctx context.Context, network, addr string) (net.Conn, error) { return next(ctx, network, addr) }
}

func (c *evalCounter) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		if n := cmd.Name(); n == "evalsha" || n == "eval" {
			c.n.Add(1)
		}
		return next(ctx, cmd)
	}
}

func (c *evalCounter) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return next
}

// TestSnapshotSharedReads: many Snapshots at once are served by fewer
// reads, each caller sees every change made before its call, and callers
// cannot disturb each other's copy.
func TestSnapshotSharedReads(t *testing.T) {
	srv := testenv.StartRedis(t)
	client := redis.NewClient(&redis.Options{Addr: srv.Addr, PoolSize: 4})
	t.Cleanup(func() { _ = client.Close() })
	var evals evalCounter
	client.AddHook(&evals)
	ctx := context.Background()
	r, err := NewRedis(client, RedisOptions{Prefix: "snapjoin", Service: "svc", Languages: []string{"it"}})
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.UnixMilli(1772445600000)
	const calls, readers = 300, 64
	for i := range calls {
		if err := r.Enqueue(ctx, Call{ID: fmt.Sprintf("c%04d", i), Service: "svc", Language: "it", Enqueued: t0.Add(time.Duration(i) * time.Millisecond)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := r.Login(ctx, Operator{ID: "op1", Endpoint: "PJSIP/op1", Skills: []string{"it"}}, t0); err != nil {
		t.Fatal(err)
	}
	if err := r.Pause(ctx, "op1", "lunch", t0); err != nil {
		t.Fatal(err)
	}
	before := evals.n.Load()
	var wg sync.WaitGroup
	errs := make(chan error, readers)
	start := make(chan struct{})
	for g := range readers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			// Each reader adds its own call first: its snapshot must hold it.
			id := fmt.Sprintf("r%03d", g)
			if err := r.Enqueue(ctx, Call{ID: id, Service: "svc", Language: "it", Enqueued: t0.Add(time.Hour)}); err != nil {
				errs <- err
				return
			}
			s, err := r.Snapshot(ctx, t0.Add(2*time.Hour))
			if err != nil {
				errs <- err
				return
			}
			found := false
			for _, c := range s.Waiting["it"] {
				found = found || c.ID == id
			}
			if !found || len(s.Waiting["it"]) < calls+1 || len(s.Operators) != 1 || s.Operators[0].State != Paused {
				errs <- fmt.Errorf("reader %d: own call found %v, %d waiting, operators %+v", g, found, len(s.Waiting["it"]), s.Operators)
				return
			}
			// Scribbling on one's copy must not reach another reader's.
			s.Waiting["it"][0].ID = "scribbled"
			s.Operators[0].Skills[0] = "xx"
		}()
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	// readers Enqueue scripts, and the Snapshot reads (shared).
	reads := evals.n.Load() - before - readers
	t.Logf("%d concurrent snapshots took %d reads", readers, reads)
	if reads < 1 || reads > readers {
		t.Errorf("%d reads for %d snapshots", reads, readers)
	}
	s, err := r.Snapshot(ctx, t0.Add(3*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if s.Waiting["it"][0].ID != "c0000" || s.Operators[0].Skills[0] != "it" || !s.At.Equal(t0.Add(3*time.Hour)) {
		t.Errorf("after the readers: first call %s, skills %v, At %v", s.Waiting["it"][0].ID, s.Operators[0].Skills, s.At)
	}
}
