package operator_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/rs/zerolog"

	"github.com/helpline-it/helpline/blacklist"
	"github.com/helpline-it/helpline/callerid"
	cdrmemory "github.com/helpline-it/helpline/cdr/memory"
	"github.com/helpline-it/helpline/config"
	"github.com/helpline-it/helpline/internal/testenv"
	"github.com/helpline-it/helpline/ivr/ivrtest"
	"github.com/helpline-it/helpline/operator"
	"github.com/helpline-it/helpline/queue"
)

// TestLastCallersContract runs the same checks over the memory store and
// the Redis one.
func TestLastCallersContract(t *testing.T) {
	r := testenv.StartRedis(t)
	stores := map[string]func(t *testing.T) operator.LastCallers{
		"memory": func(*testing.T) operator.LastCallers { return operator.NewMemoryLastCallers() },
		"redis": func(t *testing.T) operator.LastCallers {
			s, err := operator.NewRedisLastCallers(r.Client(t), "t"+strings.ReplaceAll(t.Name(), "/", "-")+":")
			if err != nil {
				t.Fatal(err)
			}
			return s
		},
	}
	hasher, _ := callerid.NewHasher([]byte("operator-test-key-0123456789abcdef"))
	caller := hasher.Identify("+39 333 123 4567")
	for name, mk := range stores {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			s := mk(t)
			at := start
			if _, ok, err := s.Last(ctx, "op1", at); ok || err != nil {
				t.Fatalf("empty store: ok %v err %v", ok, err)
			}
			lc := operator.LastCaller{Operator: "op1", CallID: "c1", Caller: caller, At: at}
			if err := s.SetLast(ctx, lc, time.Hour); err != nil {
				t.Fatal(err)
			}
			got, ok, err := s.Last(ctx, "op1", at.Add(59*time.Minute))
			if err != nil || !ok || got.CallID != "c1" || got.Caller.Hash != caller.Hash || got.Caller.Withheld || !got.At.Equal(at) {
				t.Errorf("Last = %+v %v %v", got, ok, err)
			}
			if _, ok, _ := s.Last(ctx, "op1", at.Add(time.Hour)); ok {
				t.Error("last caller still there after its ttl")
			}
			if _, ok, _ := s.Last(ctx, "op2", at); ok {
				t.Error("op2 has op1's caller")
			}
			// A later talk replaces it; a withheld caller is kept as such.
			w := operator.LastCaller{Operator: "op1", CallID: "c2", Caller: callerid.Identity{Withheld: true}, At: at.Add(time.Minute)}
			if err := s.SetLast(ctx, w, time.Hour); err != nil {
				t.Fatal(err)
			}
			if got, ok, _ := s.Last(ctx, "op1", at.Add(2*time.Minute)); !ok || got.CallID != "c2" || !got.Caller.Withheld || got.Caller.Hash != "" {
				t.Errorf("Last after a withheld call = %+v %v", got, ok)
			}
			// Refused: anything that is not a hash (a raw number by mistake).
			for _, bad := range []operator.LastCaller{
				{Operator: "op1", CallID: "c3", Caller: callerid.Identity{Hash: "+393331234567"}, At: at},
				{Operator: "", CallID: "c3", Caller: caller, At: at},
				{Operator: "op1", CallID: "", Caller: caller, At: at},
				{Operator: "op1", CallID: "c3", Caller: caller},
			} {
				if err := s.SetLast(ctx, bad, time.Hour); err == nil {
					t.Errorf("SetLast(%+v) accepted", bad)
				}
			}
			// One flag per operator and call.
			for i, want := range []bool{true, false} {
				ok, err := s.ClaimFlag(ctx, "op1", "c1", at, time.Hour)
				if err != nil || ok != want {
					t.Errorf("claim %d = %v %v; want %v", i, ok, err, want)
				}
			}
			if ok, _ := s.ClaimFlag(ctx, "op2", "c1", at, time.Hour); !ok {
				t.Error("op2's claim refused because op1 claimed")
			}
		})
	}
}

// TestLastCallerSurvivesRestart: the operator talked with a harasser on
// one process; the app restarts (a new handler, the same Redis); *14
// still flags the right caller. Nothing in Redis holds the number.
func TestLastCallerSurvivesRestart(t *testing.T) {
	r := testenv.StartRedis(t)
	client := r.Client(t)
	store, err := operator.NewRedisLastCallers(client, "helpline:")
	if err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, withLastCallers(store))
	h.login("op1", ivrtest.Answers(0))
	h.talkAndHangUp("op1", harasser)

	// "Restart": a second harness (new process state) on the same Redis
	// and blacklist; only the Redis store carries the last caller over.
	store2, err := operator.NewRedisLastCallers(client, "helpline")
	if err != nil {
		t.Fatal(err)
	}
	h2 := newHarness(t, withLastCallers(store2), withBlacklist(h.bl))
	c := h2.code("PJSIP/op1", "*14")
	if !slices.Contains(c.Requests(), prompt("flagged")) {
		t.Fatalf("*14 after the restart: %q", c.Requests())
	}
	fs, err := h.bl.Flags(h.ctx, h.hasher.Identify(harasser).Hash)
	if err != nil || len(fs) != 1 || fs[0].Operator != "op1" || fs[0].Kind != blacklist.Harassment {
		t.Errorf("flags %+v %v", fs, err)
	}

	keys, err := client.Keys(h.ctx, "*").Result()
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) == 0 {
		t.Fatal("nothing in Redis")
	}
	for _, k := range keys {
		v, err := client.Dump(h.ctx, k).Result()
		if err != nil && !errors.Is(err, context.Canceled) {
			t.Fatal(err)
		}
		for _, form := range []string{"3477654321", "347 765 4321", "+39347"} {
			if strings.Contains(k, form) || strings.Contains(v, form) {
				t.Errorf("key %q holds the number (%q)", k, form)
			}
		}
	}
}

// TestOperatorStateSurvivesRestart: operators' states live in the queue's
// Redis store; a node that restarts (new clients, new handler) finds them
// as the feature codes left them.
func TestOperatorStateSurvivesRestart(t *testing.T) {
	r := testenv.StartRedis(t)
	ctx := context.Background()
	hasher, _ := callerid.NewHasher([]byte("operator-test-key-0123456789abcdef"))
	clock := clockwork.NewFakeClockAt(start)
	node := func() (*operator.Handler, *queue.Redis) {
		q, err := queue.NewRedis(r.Client(t), queue.RedisOptions{Service: "1522", Logger: zerolog.Nop()})
		if err != nil {
			t.Fatal(err)
		}
		cfg := operator.DefaultConfig()
		cfg.Operators = []config.Operator{{ID: "op1", Endpoint: "PJSIP/op1", Languages: []string{"it", "ar"}}}
		lc, err := operator.NewRedisLastCallers(r.Client(t), "")
		if err != nil {
			t.Fatal(err)
		}
		h, err := operator.New(cfg, operator.Deps{Queue: q, LastCallers: lc, CDR: cdrmemory.New(), Identifier: hasher, Clock: clock})
		if err != nil {
			t.Fatal(err)
		}
		return h, q
	}
	net := ivrtest.New(clock)
	h1, _ := node()
	for _, code := range []string{"*11", "*133"} {
		h1.HandleDialIn(ctx, net.Dial("op1"), "PJSIP/op1", code)
	}
	_, q2 := node() // the restarted node
	op, err := q2.Operator(ctx, "op1")
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(op.Skills)
	if op.State != queue.Paused || op.PauseReason != "training" || !slices.Equal(op.Skills, []string{"ar", "it"}) {
		t.Errorf("after the restart op1 is %+v; want paused (training) with ar,it", op)
	}
}
