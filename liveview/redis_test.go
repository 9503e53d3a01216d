package liveview

import (
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/redis/go-redis/v9"

	"github.com/helpline-it/helpline/cdr/sqlite"
	"github.com/helpline-it/helpline/internal/testenv"
	"github.com/helpline-it/helpline/queue"
)

// redisWorld is a world whose queue is queue.Redis on a private
// redis-server, with the call records in SQLite.
type redisWorld struct {
	*world
	srv    *testenv.Redis
	client *redis.Client
	rq     *queue.Redis
	db     *sqlite.DB
}

func newRedisWorld(t *testing.T) *redisWorld {
	t.Helper()
	w := newWorld(t)
	srv := testenv.StartRedis(t)
	c := srv.Client(t)
	rq, err := queue.NewRedis(c, queue.RedisOptions{Prefix: "helpline", Service: "1522"})
	if err != nil {
		t.Fatal(err)
	}
	db, err := sqlite.Open(w.ctx, filepath.Join(t.TempDir(), "cdr.db"), sqlite.Options{Now: w.clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return &redisWorld{world: w, srv: srv, client: c, rq: rq, db: db}
}

func (w *redisWorld) deps() Deps {
	return Deps{Queue: w.rq, Watcher: w.rq, Records: w.db, Audit: w.audit}
}

// TestJSONFromRedis: --json over a queue state built in a real Redis and
// records in a real SQLite file; the same picture as from the in-memory
// queue, and the documented shape.
func TestJSONFromRedis(t *testing.T) {
	w := newRedisWorld(t)
	eveningQueue(t, w.ctx, w.rq)
	todayRecords(t, w.ctx, w.db)
	o := w.options()
	b, err := Once(w.ctx, Deps{Queue: w.rq, Records: w.db}, o)
	if err != nil {
		t.Fatal(err)
	}
	var got bytes.Buffer
	if err := WriteJSON(&got, b); err != nil {
		t.Fatal(err)
	}
	checkGolden(t, "evening.json", got.String(), 1<<20, 0)

	// The in-memory queue, same history: the same JSON.
	mw := newWorld(t)
	evening(t, mw)
	mb, err := Once(mw.ctx, Deps{Queue: mw.q, Records: mw.recs}, mw.options())
	if err != nil {
		t.Fatal(err)
	}
	var mem bytes.Buffer
	if err := WriteJSON(&mem, mb); err != nil {
		t.Fatal(err)
	}
	if mem.String() != got.String() {
		t.Errorf("Redis and Memory give different pictures:\n--- redis\n%s\n--- memory\n%s", got.String(), mem.String())
	}

	// The shape a script relies on.
	var j struct {
		Version int `json:"version"`
		Status  struct {
			OK    bool   `json:"ok"`
			Redis string `json:"redis"`
		} `json:"status"`
		Waiting   int `json:"waiting"`
		Languages []struct {
			Code    string `json:"code"`
			Waiting []struct {
				Position int    `json:"position"`
				Tag      string `json:"tag"`
				Seconds  int    `json:"waiting_seconds"`
				Alert    bool   `json:"alert"`
			} `json:"waiting"`
		} `json:"languages"`
		Operators []struct {
			ID    string `json:"id"`
			State string `json:"state"`
		} `json:"operators"`
		Today struct {
			Offered     int      `json:"offered"`
			WithinShort *float64 `json:"answered_within_20s_pct"`
		} `json:"today"`
	}
	if err := json.Unmarshal(got.Bytes(), &j); err != nil {
		t.Fatal(err)
	}
	if j.Version != 1 || !j.Status.OK || j.Status.Redis != "ok" || j.Waiting != 5 || len(j.Operators) != 5 ||
		j.Today.Offered != 6 || j.Today.WithinShort == nil || *j.Today.WithinShort != 33.3 {
		t.Errorf("decoded: %+v", j)
	}
	if it := j.Languages[0]; it.Code != "it" || len(it.Waiting) != 3 || it.Waiting[0].Seconds != 161 || !it.Waiting[0].Alert ||
		it.Waiting[2].Tag != maskedTag {
		t.Errorf("it queue: %+v", it)
	}
}

// TestOnceRedisDown: --json still prints, saying Redis is unreachable,
// and Once returns the error for the exit status.
func TestOnceRedisDown(t *testing.T) {
	w := newRedisWorld(t)
	todayRecords(t, w.ctx, w.db)
	w.srv.Stop()
	b, err := Once(w.ctx, Deps{Queue: w.rq, Records: w.db}, w.options())
	if !queue.IsUnavailable(err) {
		t.Fatalf("Once with Redis down: err = %v, want ErrUnavailable", err)
	}
	var out bytes.Buffer
	if err := WriteJSON(&out, b); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{`"ok": false`, `"redis": "unreachable"`, `connection refused`, `"data_at": null`, `"offered": 6`} {
		if !strings.Contains(out.String(), s) {
			t.Errorf("JSON lacks %s:\n%s", s, out.String())
		}
	}
}

// TestRedisDownAndBack stops the real redis-server under a running view:
// the frame says Redis is unreachable and how old its data is; when the
// server returns the view recovers by itself, events included.
func TestRedisDownAndBack(t *testing.T) {
	w := newRedisWorld(t)
	eveningQueue(t, w.ctx, w.rq)
	todayRecords(t, w.ctx, w.db)
	drv := w.start(t, w.deps(), w.options(), 80, 24)
	if v := drv.m.View(); !strings.Contains(v, " LIVE ") || !strings.Contains(v, "3f9a2c01") {
		t.Fatalf("first frame:\n%s", v)
	}

	w.srv.Stop()
	drv.advance(w.clk, DefaultRefresh)
	drv.await("the failed refresh", func(m *Model) bool { return m.snapErr != nil && !m.fetching })
	frame := drv.m.View()
	for _, s := range []string{"REDIS DOWN", "! Redis unreachable since 21:14:10 (connection refused); data 5s old", "as of 21:14:05", "3f9a2c01"} {
		if !strings.Contains(frame, s) {
			t.Errorf("frame with Redis down lacks %q:\n%s", s, frame)
		}
	}
	drv.advance(w.clk, 2*DefaultRefresh)
	drv.await("another failed refresh", func(m *Model) bool { return !m.fetching })
	if frame := drv.m.View(); !strings.Contains(frame, "! Redis unreachable since 21:14:10 (connection refused); data 15s old") {
		t.Errorf("later frame with Redis down:\n%s", frame)
	}
	// Actions are refused while Redis is away.
	drv.send(press("p"))
	if frame := drv.m.View(); !strings.Contains(frame, "Redis is unreachable: actions are not possible now") {
		t.Errorf("pause with Redis down:\n%s", frame)
	}

	w.srv.Restart(t) // an empty server: its data did not survive
	drv.advance(w.clk, DefaultRefresh)
	drv.await("recovery", func(m *Model) bool { return m.snapErr == nil && !m.fetching })
	frame = drv.m.View()
	if strings.Contains(frame, "REDIS DOWN") || strings.Contains(frame, "Redis unreachable since") || !strings.Contains(frame, " LIVE ") ||
		!strings.Contains(frame, "WAITING 0  nobody waiting") {
		t.Errorf("frame after Redis returned:\n%s", frame)
	}

	// Events flow again once go-redis has resubscribed: a call enqueued
	// now reaches the screen with the clock standing still.
	awaitSubscribers(t, w.ctx, w.client, w.rq.EventsChannel())
	if err := w.rq.Enqueue(w.ctx, queue.Call{ID: "c-back", Service: "1522", Language: "it", Node: "n1", Tag: "e1e2e3e4", Enqueued: w.clk.Now()}); err != nil {
		t.Fatal(err)
	}
	drv.await("the pushed call", func(m *Model) bool { return strings.Contains(m.View(), "e1e2e3e4") })
}

// TestStartWithRedisDown: started while Redis is away, the view says so,
// then subscribes and shows data when it comes.
func TestStartWithRedisDown(t *testing.T) {
	w := newRedisWorld(t)
	w.srv.Stop()
	m, err := New(w.ctx, w.deps(), w.options())
	if err != nil {
		t.Fatal(err)
	}
	drv := newDriver(t, w.ctx, m)
	drv.await("the first failure", func(m *Model) bool { return m.snapErr != nil && !m.fetching && !m.watching })
	frame := drv.m.View()
	for _, s := range []string{"REDIS DOWN", "! Redis unreachable since 21:14:05 (connection refused); no data yet"} {
		if !strings.Contains(frame, s) {
			t.Errorf("frame lacks %q:\n%s", s, frame)
		}
	}
	w.srv.Restart(t)
	eveningQueue(t, w.ctx, w.rq)
	drv.advance(w.clk, DefaultRefresh)
	drv.await("data and subscription", func(m *Model) bool { return m.snap != nil && m.events != nil && !m.fetching })
	if frame := drv.m.View(); !strings.Contains(frame, " LIVE ") || !strings.Contains(frame, "3f9a2c01") {
		t.Errorf("frame after Redis came:\n%s", frame)
	}
}

// awaitSubscribers polls PUBSUB NUMSUB until channel has a subscriber:
// go-redis resubscribes on its own after a reconnect and offers no event
// to await.
func awaitSubscribers(t *testing.T, ctx context.Context, c *redis.Client, channel string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, awaitTimeout)
	defer cancel()
	tick := clockwork.NewRealClock().NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		n, err := c.PubSubNumSub(ctx, channel).Result()
		if err == nil && n[channel] > 0 {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("no subscriber on %s after the restart (last error %v)", channel, err)
		case <-tick.Chan():
		}
	}
}
