package main

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/redis/go-redis/v9"

	"github.com/helpline-it/helpline/ari/aritest"
	"github.com/helpline-it/helpline/cdr"
	"github.com/helpline-it/helpline/cdr/sqlite"
	"github.com/helpline-it/helpline/internal/testenv"
	"github.com/helpline-it/helpline/queue"
)

// TestServeRedisDiesMidRun kills the real redis-server under a running
// node with one caller talking and one waiting, and starts it again: the
// node switches to its in-process queue (readyz and the gauge say so),
// keeps assigning, writes its state back when Redis returns, and every
// call ends with one CDR, marked fallback exactly when it lived through
// the outage.
func TestServeRedisDiesMidRun(t *testing.T) {
	r := testenv.StartRedis(t)
	clock := clockwork.NewFakeClockAt(time.Date(2026, 11, 23, 15, 0, 0, 0, time.UTC))
	srv := testenv.StartAritest(t, testenv.AritestClock(clock))
	file, dbPath := serveConfig(t, srv.URL, r.Addr)
	s := startServe(t, clock, srv, serveEnv, "--config", file, "--drain", "5s")
	s.drive("ready", readyz(s))

	ctx := context.Background()
	rdb := redis.NewClient(&redis.Options{Addr: r.Addr, MaxRetries: -1})
	t.Cleanup(func() { _ = rdb.Close() })
	direct, err := queue.NewRedis(rdb, queue.RedisOptions{Prefix: "helpline", Service: "1522"})
	if err != nil {
		t.Fatal(err)
	}
	if err := direct.Login(ctx, queue.Operator{ID: "op1001", Endpoint: "PJSIP/op1001", Skills: []string{"it"}}, clock.Now()); err != nil {
		t.Fatal(err)
	}
	dial := func() *aritest.Call {
		t.Helper()
		c, err := srv.Call(ctx, serveCaller, "800123456", aritest.CallOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	logged := func(c *aritest.Call, msg string) func() bool {
		return func() bool {
			for _, line := range strings.Split(s.stderr.String(), "\n") {
				if strings.Contains(line, `"call":"`+c.ChannelID()+`"`) && strings.Contains(line, `"message":"`+msg+`"`) {
					return true
				}
			}
			return false
		}
	}
	// bridged: the flow logged the caller connected with the operator
	// (the queue's Answered is done), not just a bridge being built.
	bridged := func(c *aritest.Call) func() bool { return logged(c, "connected") }
	metric := func(series string) func() bool {
		return func() bool { _, body := s.get("/metrics"); return strings.Contains(body, series+"\n") }
	}
	// hangup hangs the caller up and waits for the flow to be over with
	// the call (its CDR written).
	hangup := func(c *aritest.Call) {
		t.Helper()
		if err := c.Hangup(); err != nil {
			t.Fatal(err)
		}
		s.drive("call over", logged(c, "call over"))
	}

	a := dial()
	s.drive("A with the operator", bridged(a))
	b := dial()
	s.drive("B waiting in Redis", func() bool {
		snap, err := direct.Snapshot(ctx, clock.Now())
		return err == nil && len(snap.Waiting["it"]) == 1 && snap.Waiting["it"][0].ID == b.ChannelID()
	})

	r.Stop()
	s.drive("the node on its fallback", func() bool {
		code, body := s.get("/readyz")
		return code == http.StatusOK && strings.Contains(body, "redis fallback")
	})
	s.drive("gauge up", metric("helpline_serve_redis_fallback 1"))
	c := dial()
	s.drive("B and C waiting in process", metric(`helpline_queue_waiting_calls{language="it",service="1522"} 2`))
	hangup(a)
	s.drive("B assigned during the outage", bridged(b))

	r.Restart(t)
	s.drive("back on Redis", func() bool { _, body := s.get("/readyz"); return body == "ok\n" })
	s.drive("gauge down", metric("helpline_serve_redis_fallback 0"))
	snap, err := direct.Snapshot(ctx, clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	if w := snap.Waiting["it"]; len(w) != 1 || w[0].ID != c.ChannelID() {
		t.Errorf("Redis waiting %+v; want C alone", w)
	}
	if op, err := direct.Operator(ctx, "op1001"); err != nil || op.State != queue.Paused || op.PauseReason != queue.StandInBusy {
		t.Errorf("Redis op1001 = %+v, %v; want the busy stand-in (Redis lost the call answered in process)", op, err)
	}
	_, body := s.get("/metrics")
	wantSeries(t, body, map[string]float64{
		`helpline_operators{service="1522",state="busy"}`:            1,
		`helpline_queue_fallback_switches_total{to="memory"}`:        1,
		`helpline_queue_fallback_switches_total{to="redis"}`:         1,
		`helpline_queue_reconcile_errors_total`:                      0,
		`helpline_queue_reconcile_seconds_count`:                     1,
		`helpline_ivr_blacklist_skipped_total`:                       1, // C's check, while Redis was down
		`helpline_queue_waiting_calls{language="it",service="1522"}`: 1,
	})

	hangup(b)
	s.drive("C assigned on Redis after the wrap-up", bridged(c))
	hangup(c)
	d := dial()
	s.drive("D with the operator", bridged(d))
	hangup(d)
	if code := s.stop(); code != exitOK {
		t.Fatalf("serve exited %d", code)
	}

	db, err := sqlite.Open(ctx, dbPath, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, tc := range []struct {
		name     string
		call     *aritest.Call
		fallback bool
	}{{"A", a, true}, {"B", b, true}, {"C", c, true}, {"D", d, false}} {
		rec, err := db.Get(ctx, tc.call.ChannelID())
		if err != nil {
			t.Errorf("call %s: CDR: %v", tc.name, err)
			continue
		}
		if rec.Outcome != cdr.Answered || rec.Fallback != tc.fallback || rec.Validate() != nil {
			t.Errorf("call %s: CDR outcome %s fallback %v (%v); want answered, fallback %v", tc.name, rec.Outcome, rec.Fallback, rec.Validate(), tc.fallback)
		}
	}
	if n, err := db.Count(ctx, cdr.Filter{}); err != nil || n != 4 {
		t.Errorf("%d CDRs (%v); want exactly 4", n, err)
	}
	log := s.stderr.String()
	for _, want := range []string{"REDIS UNAVAILABLE: queue switched to the IN-PROCESS fallback", "Redis is back"} {
		if !strings.Contains(log, want) {
			t.Errorf("log lacks %q", want)
		}
	}
	if strings.Contains(log, "3331234567") {
		t.Error("the caller's number is in the log")
	}
}
