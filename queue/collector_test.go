package queue_test

import (
	"context"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"github.com/helpline-it/helpline/internal/testenv"
	"github.com/helpline-it/helpline/queue"
)

// failingQueue is a queue whose Snapshot fails (or blocks until its
// context ends, when block is set).
type failingQueue struct {
	queue.Queue
	block bool
}

func (f failingQueue) Snapshot(ctx context.Context, _ time.Time) (queue.Snapshot, error) {
	if f.block {
		<-ctx.Done()
		return queue.Snapshot{}, ctx.Err()
	}
	return queue.Snapshot{}, queue.ErrUnavailable
}

// TestCollector runs one scenario over both stores: the series are
// right, and a scrape leaves the store as it was.
func TestCollector(t *testing.T) {
	srv := testenv.StartRedis(t)
	client := srv.Client(t)
	for _, tc := range []struct {
		name string
		q    func(t *testing.T) queue.Queue
	}{
		{"memory", func(t *testing.T) queue.Queue {
			q, err := queue.NewMemory("1522")
			if err != nil {
				t.Fatal(err)
			}
			return q
		}},
		{"redis", func(t *testing.T) queue.Queue {
			q, err := queue.NewRedis(client, queue.RedisOptions{Prefix: "collector", Service: "1522"})
			if err != nil {
				t.Fatal(err)
			}
			return q
		}},
	} {
		t.Run(tc.name, func(t *testing.T) { testCollector(t, tc.q(t)) })
	}
}

func testCollector(t *testing.T, q queue.Queue) {
	ctx := context.Background()
	t0 := time.Date(2026, 11, 23, 15, 0, 0, 0, time.UTC)
	now := t0.Add(90 * time.Second)
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	// Two Italian callers (the oldest waiting 90 s), one English one
	// ringing op2, op1 in a wrap-up that ended at t0+70s, op3 paused.
	must(q.Login(ctx, queue.Operator{ID: "op1", Endpoint: "PJSIP/op1", Skills: []string{"it"}}, t0))
	must(q.Enqueue(ctx, queue.Call{ID: "c0", Service: "1522", Language: "it", Node: "n", Enqueued: t0}))
	o, err := q.Assign(ctx, t0, time.Minute)
	must(err)
	must(q.Answered(ctx, o, t0))
	must(q.Finish(ctx, "op1", t0.Add(70*time.Second), t0.Add(30*time.Second)))
	must(q.Login(ctx, queue.Operator{ID: "op3", Endpoint: "PJSIP/op3", Skills: []string{"it"}}, t0))
	must(q.Pause(ctx, "op3", "break", t0))
	must(q.Enqueue(ctx, queue.Call{ID: "c1", Service: "1522", Language: "it", Node: "n", Enqueued: t0}))
	must(q.Enqueue(ctx, queue.Call{ID: "c2", Service: "1522", Language: "it", Node: "n", Enqueued: t0.Add(30 * time.Second)}))
	must(q.Login(ctx, queue.Operator{ID: "op2", Endpoint: "PJSIP/op2", Skills: []string{"en"}}, t0))
	must(q.Enqueue(ctx, queue.Call{ID: "c3", Service: "1522", Language: "en", Node: "n", Enqueued: t0.Add(60 * time.Second)}))
	_, err = q.Assign(ctx, t0.Add(60*time.Second), time.Minute)
	must(err)

	c, err := queue.NewCollector(q, queue.CollectorOptions{Service: "1522", Languages: []string{"it", "en", "ar"}, Now: func() time.Time { return now }})
	must(err)
	want := map[string]float64{
		`helpline_operators{service="1522",state="available"}`:              1,
		`helpline_operators{service="1522",state="busy"}`:                   0,
		`helpline_operators{service="1522",state="paused"}`:                 1,
		`helpline_operators{service="1522",state="ringing"}`:                1,
		`helpline_operators{service="1522",state="wrapup"}`:                 0,
		`helpline_queue_longest_wait_seconds{language="ar",service="1522"}`: 0,
		`helpline_queue_longest_wait_seconds{language="en",service="1522"}`: 30,
		`helpline_queue_longest_wait_seconds{language="it",service="1522"}`: 90,
		`helpline_queue_up{service="1522"}`:                                 1,
		`helpline_queue_waiting_calls{language="ar",service="1522"}`:        0,
		`helpline_queue_waiting_calls{language="en",service="1522"}`:        1,
		`helpline_queue_waiting_calls{language="it",service="1522"}`:        2,
	}
	reg := prometheus.NewPedanticRegistry()
	must(reg.Register(c))
	checkGathered(t, reg, want)
	// The scrape changed nothing: op1's ended wrap-up is still in the
	// store, to be promoted by the dispatcher, not by Prometheus.
	op, err := q.Operator(ctx, "op1")
	must(err)
	if op.State != queue.WrapUp {
		t.Errorf("op1 is %s after a scrape, want still %s in the store", op.State, queue.WrapUp)
	}
}

func TestCollectorStoreDown(t *testing.T) {
	for _, tc := range []struct {
		name string
		q    queue.Queue
	}{
		{"unavailable", failingQueue{}},
		{"timeout", failingQueue{block: true}},
		{"redis gone", deadRedis(t)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := queue.NewCollector(tc.q, queue.CollectorOptions{Service: "1522", Languages: []string{"it"},
				Now: time.Now, Timeout: 500 * time.Millisecond})
			if err != nil {
				t.Fatal(err)
			}
			reg := prometheus.NewPedanticRegistry()
			if err := reg.Register(c); err != nil {
				t.Fatal(err)
			}
			checkGathered(t, reg, map[string]float64{`helpline_queue_up{service="1522"}`: 0})
		})
	}
}

// deadRedis is a Redis store whose server has stopped.
func deadRedis(t *testing.T) queue.Queue {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	client := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1})
	t.Cleanup(func() { _ = client.Close() })
	q, err := queue.NewRedis(client, queue.RedisOptions{Prefix: "gone", Service: "1522"})
	if err != nil {
		t.Fatal(err)
	}
	return q
}

func TestNewCollectorRefuses(t *testing.T) {
	q, err := queue.NewMemory("1522")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		q    queue.Queue
		o    queue.CollectorOptions
	}{
		{"nil queue", nil, queue.CollectorOptions{Now: time.Now}},
		{"nil clock", q, queue.CollectorOptions{}},
		{"negative timeout", q, queue.CollectorOptions{Now: time.Now, Timeout: -time.Second}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := queue.NewCollector(tc.q, tc.o); err == nil {
				t.Errorf("NewCollector accepted %+v", tc.o)
			}
		})
	}
}

// checkGathered asserts that reg gathers exactly the series of want
// (name{label="value",...} sorted by label name) with their values.
func checkGathered(t *testing.T, reg *prometheus.Registry, want map[string]float64) {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatalf("gather: %v", err)
	}
	got := map[string]float64{}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			var labels []string
			for _, l := range m.GetLabel() {
				labels = append(labels, l.GetName()+`="`+l.GetValue()+`"`)
			}
			got[mf.GetName()+"{"+strings.Join(labels, ",")+"}"] = m.GetGauge().GetValue()
		}
	}
	for k, v := range want {
		if g, ok := got[k]; !ok || g != v {
			t.Errorf("%s = %v (present %v), want %v", k, g, ok, v)
		}
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			t.Errorf("unexpected series %s", k)
		}
	}
}

// A node registers the collector with its registry; each scrape reads the
// queue once.
func ExampleNewCollector() {
	ctx := context.Background()
	t0 := time.Date(2026, 11, 23, 15, 0, 0, 0, time.UTC)
	q, _ := queue.NewMemory("1522")
	_ = q.Enqueue(ctx, queue.Call{ID: "c1", Service: "1522", Language: "it", Node: "n1", Enqueued: t0})
	c, _ := queue.NewCollector(q, queue.CollectorOptions{Service: "1522", Languages: []string{"it", "en"},
		Now: func() time.Time { return t0.Add(42 * time.Second) }})
	reg := prometheus.NewRegistry()
	reg.MustRegister(c)
	mfs, _ := reg.Gather()
	for _, mf := range mfs {
		if !strings.HasPrefix(mf.GetName(), "helpline_queue_") {
			continue
		}
		for _, m := range mf.GetMetric() {
			fmt.Println(mf.GetName(), m.GetLabel()[0].GetValue(), m.GetGauge().GetValue())
		}
	}
	// Output:
	// helpline_queue_longest_wait_seconds en 0
	// helpline_queue_longest_wait_seconds it 42
	// helpline_queue_up 1522 1
	// helpline_queue_waiting_calls en 0
	// helpline_queue_waiting_calls it 1
}
