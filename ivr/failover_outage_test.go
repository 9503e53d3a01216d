package ivr_test

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/helpline-it/helpline/cdr"
	"github.com/helpline-it/helpline/internal/testenv"
	"github.com/helpline-it/helpline/ivr"
	"github.com/helpline-it/helpline/ivr/ivrtest"
	"github.com/helpline-it/helpline/queue"
)

// TestRedisDiesMidRun runs calls through the flow on a queue.Failover over
// a real redis-server, kills the server with one call talking and two
// waiting, goes on (a new call, a hang-up, an assignment, an abandon),
// starts the server again and checks that Redis holds the node's state,
// that every call ends with exactly one CDR and that the calls whose life
// overlapped the outage are the ones the fallback period covers.
func TestRedisDiesMidRun(t *testing.T) {
	srv := testenv.StartRedis(t)
	client := redis.NewClient(&redis.Options{Addr: srv.Addr, MaxRetries: -1, DialTimeout: time.Second})
	t.Cleanup(func() { _ = client.Close() })
	direct, err := queue.NewRedis(srv.Client(t), queue.RedisOptions{Prefix: "ivr", Service: "1522"})
	if err != nil {
		t.Fatal(err)
	}
	var fo *queue.Failover
	switches := make(chan bool, 8)
	h := newHarness(t, time.Time{},
		withConfig(func(c *ivr.Config) { c.Node, c.WrapUp, c.LongWrapUp, c.FlaggedWrapUp = "n1", 0, 0, 0 }),
		func(h *harness) {
			h.wrapQueue = func(queue.Queue) queue.Queue {
				rq, err := queue.NewRedis(client, queue.RedisOptions{Prefix: "ivr", Service: "1522"})
				if err != nil {
					t.Fatal(err)
				}
				fo, err = queue.NewFailover(rq, queue.FailoverOptions{
					Service: "1522", Node: "n1", Clock: h.clock, ProbeMin: time.Hour, SyncEvery: -1,
					OnSwitch: func(fb bool) { switches <- fb },
				})
				if err != nil {
					t.Fatal(err)
				}
				return fo
			}
		})
	runCtx, stop := context.WithCancel(h.ctx)
	runDone := make(chan struct{})
	go func() { defer close(runDone); _ = fo.Run(runCtx) }()
	t.Cleanup(func() { stop(); <-runDone })

	wantSwitch := func(want bool) {
		t.Helper()
		select {
		case got := <-switches:
			if got != want {
				t.Fatalf("switch to fallback=%v; want %v", got, want)
			}
		case <-h.ctx.Done():
			t.Fatalf("no switch to fallback=%v", want)
		}
	}
	awaitFo := func(what string, cond func(queue.Snapshot) bool) {
		t.Helper()
		ctx, cancel := context.WithCancel(h.ctx)
		defer cancel()
		events, err := fo.Watch(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for {
			s, err := fo.Snapshot(h.ctx, h.clock.Now())
			if err != nil {
				t.Fatal(err)
			}
			if cond(s) {
				return
			}
			select {
			case <-events:
			case <-h.ctx.Done():
				t.Fatalf("%s: never happened; queue %+v", what, s)
			}
		}
	}
	waiting := func(ids ...string) func(queue.Snapshot) bool {
		return func(s queue.Snapshot) bool {
			var got []string
			for _, wc := range s.Waiting["it"] {
				got = append(got, wc.ID)
			}
			return slices.Equal(got, ids)
		}
	}
	login := func(id string) {
		t.Helper()
		h.net.SetPhone("PJSIP/"+id, ivrtest.Answers(0))
		if err := fo.Login(h.ctx, queue.Operator{ID: id, Endpoint: "PJSIP/" + id, Skills: []string{"it"}}, h.clock.Now()); err != nil {
			t.Fatal(err)
		}
	}
	login("op1")
	login("op2")
	if err := fo.Pause(h.ctx, "op2", "break", h.clock.Now()); err != nil {
		t.Fatal(err)
	}

	// E: a whole call before the outage.
	e := h.dial(testNumber, pressIT)
	h.awaitReq(e, "bridge", 1)
	e.HangUp(16)
	recs := map[string]cdr.Record{"E": h.record(e)}
	h.clock.Advance(time.Minute)

	// A talks with op1; B and C wait.
	a := h.dial(testNumber, pressIT)
	h.awaitReq(a, "bridge", 1)
	b := h.dial(testNumber, pressIT)
	awaitFo("B waiting", waiting(b.ID()))
	h.clock.Advance(time.Second)
	c := h.dial(testNumber, pressIT)
	awaitFo("B, C waiting", waiting(b.ID(), c.ID()))
	h.clock.Advance(time.Minute)

	srv.Stop()
	// D arrives: its Enqueue finds Redis gone and the node switches.
	d := h.dial(testNumber, pressIT)
	wantSwitch(true)
	awaitFo("B, C, D waiting in process", waiting(b.ID(), c.ID(), d.ID()))
	h.clock.Advance(time.Second)
	// A hangs up: op1 is free again and takes B, the oldest, in process.
	a.HangUp(16)
	recs["A"] = h.record(a)
	h.awaitReq(b, "bridge", 1)
	// C gives up.
	c.HangUp(16)
	recs["C"] = h.record(c)
	during, err := fo.Snapshot(h.ctx, h.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	h.clock.Advance(time.Minute)

	srv.Restart(t)
	fo.ProbeNow()
	wantSwitch(false)
	// Redis holds the node's state: D waiting with its time, op1 busy
	// (a stand-in pause: Redis lost the call it answered), op2 paused.
	raw, err := direct.Snapshot(h.ctx, h.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	if got, want := foWaiting(raw), foWaiting(during); !slices.Equal(got, want) || len(got) != 1 {
		t.Errorf("Redis waiting %v; node had %v (want D alone)", got, want)
	}
	ops := map[string]queue.Operator{}
	for _, op := range raw.Operators {
		ops[op.ID] = op
	}
	if op := ops["op1"]; op.State != queue.Paused || op.PauseReason != queue.StandInBusy {
		t.Errorf("Redis op1 = %s/%s; want the busy stand-in", op.State, op.PauseReason)
	}
	if op := ops["op2"]; op.State != queue.Paused || op.PauseReason != "break" {
		t.Errorf("Redis op2 = %s/%s; want paused for break", op.State, op.PauseReason)
	}
	if op, err := fo.Operator(h.ctx, "op1"); err != nil || op.State != queue.Busy {
		t.Errorf("node's op1 = %+v, %v; want busy", op, err)
	}

	// Back on Redis: B ends, op1 takes D.
	b.HangUp(16)
	recs["B"] = h.record(b)
	h.clock.Advance(h.cfg.DispatchEvery) // the dispatcher's tick, whatever the events did
	h.awaitReq(d, "bridge", 1)
	d.HangUp(16)
	recs["D"] = h.record(d)
	h.clock.Advance(time.Minute)
	f := h.dial(testNumber, pressIT)
	h.awaitReq(f, "bridge", 1)
	f.HangUp(16)
	recs["F"] = h.record(f)

	want := map[string]struct {
		outcome  cdr.Outcome
		fallback bool
	}{
		"E": {cdr.Answered, false}, "A": {cdr.Answered, true}, "B": {cdr.Answered, true},
		"C": {cdr.Abandoned, true}, "D": {cdr.Answered, true}, "F": {cdr.Answered, false},
	}
	for _, name := range slices.Sorted(maps.Keys(want)) {
		w, r := want[name], recs[name]
		if r.Outcome != w.outcome {
			t.Errorf("call %s: outcome %s; want %s", name, r.Outcome, w.outcome)
		}
		if got := fo.FallbackBetween(r.ArrivedAt, r.EndedAt); got != w.fallback {
			t.Errorf("call %s (%v–%v): overlaps the fallback = %v; want %v", name, r.ArrivedAt, r.EndedAt, got, w.fallback)
		}
	}
	if n, err := h.store.Count(h.ctx, cdr.Filter{}); err != nil || n != len(want) {
		t.Errorf("%d CDRs stored (%v); want %d", n, err, len(want))
	}
	if h.cdrW.attempts != len(want) {
		t.Errorf("%d CDR writes; want exactly one per call (%d)", h.cdrW.attempts, len(want))
	}
	end, err := direct.Snapshot(h.ctx, h.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	if w := foWaiting(end); len(w) != 0 {
		t.Errorf("Redis still holds waiting calls %v", w)
	}
	if n := h.flow.Active(); n != 0 {
		t.Errorf("%d calls still active", n)
	}
}

// foWaiting lists a snapshot's waiting calls as "id@enqueued-ms".
func foWaiting(s queue.Snapshot) []string {
	var out []string
	for _, lang := range slices.Sorted(maps.Keys(s.Waiting)) {
		for _, wc := range s.Waiting[lang] {
			out = append(out, fmt.Sprintf("%s@%d", wc.ID, wc.Enqueued.UnixMilli()))
		}
	}
	return out
}
