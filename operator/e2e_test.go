package operator_test

// End to end through the Asterisk adapter: the aritest emulator (which
// replays the recorded Asterisk behaviour), the ari client, ariapp, the
// caller flow and this package, wired as cmd/helpline wires them.

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/helpline-it/helpline/ari"
	ariapp "github.com/helpline-it/helpline/ari-app"
	"github.com/helpline-it/helpline/ari/aritest"
	"github.com/helpline-it/helpline/blacklist"
	"github.com/helpline-it/helpline/callerid"
	"github.com/helpline-it/helpline/cdr"
	cdrmemory "github.com/helpline-it/helpline/cdr/memory"
	"github.com/helpline-it/helpline/config"
	"github.com/helpline-it/helpline/internal/testenv"
	"github.com/helpline-it/helpline/ivr"
	"github.com/helpline-it/helpline/operator"
	"github.com/helpline-it/helpline/queue"
)

// e2e is the switchboard on the emulated Asterisk, one fake clock.
type e2e struct {
	t      *testing.T
	ctx    context.Context
	clock  *clockwork.FakeClock
	srv    *aritest.Server
	client *ari.Client
	q      *queue.Memory
	bl     *blacklist.Memory
	store  *cdrmemory.Store
	hasher *callerid.Hasher
	logs   *testenv.LogBuffer
}

func newE2E(t *testing.T, endpoints ...aritest.Endpoint) *e2e {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	clock := clockwork.NewFakeClockAt(start)
	srv := testenv.StartAritest(t, testenv.AritestClock(clock), testenv.AritestConfig(func(c *aritest.Config) {
		c.Endpoints = append(aritest.DefaultEndpoints(), endpoints...)
		// Feature codes dialled as the extension ("*11") enter the app as
		// the feature line does.
		c.Dialplan = aritest.DefaultDialplan()
		c.Dialplan["from-operators"]["_*."] = c.Dialplan["from-operators"]["_X."]
	}))
	e := &e2e{t: t, ctx: ctx, clock: clock, srv: srv, store: cdrmemory.New(), logs: &testenv.LogBuffer{}}
	var err error
	if e.hasher, err = callerid.NewHasher([]byte("operator-e2e-key-0123456789abcdef")); err != nil {
		t.Fatal(err)
	}
	if e.q, err = queue.NewMemory("1522"); err != nil {
		t.Fatal(err)
	}
	if e.bl, err = blacklist.NewMemory(blacklist.Policy{Threshold: 3, Window: 720 * time.Hour, Block: 720 * time.Hour}); err != nil {
		t.Fatal(err)
	}
	user, pass := srv.Credentials()
	acfg := ari.Config{URL: srv.URL + "/ari", Username: user, Password: pass, Application: "helpline"}
	if e.client, err = ari.NewClient(acfg); err != nil {
		t.Fatal(err)
	}
	log := zerolog.New(e.logs).Level(zerolog.DebugLevel)

	ocfg := operator.DefaultConfig()
	ocfg.Operators = []config.Operator{{ID: "op1001", Endpoint: "PJSIP/op1001", Languages: []string{"it"}}}
	ocfg.Trunk.Dial = "PJSIP/{number}" // the emulator's endpoints stand for the network's numbers
	var flow *ivr.Flow
	op, err := operator.New(ocfg, operator.Deps{
		Queue: e.q, LastCallers: operator.NewMemoryLastCallers(), Blacklist: e.bl, CDR: e.store, Identifier: e.hasher,
		Directory: operator.DirectoryFunc(func(_ context.Context, code string) (operator.Target, error) {
			if code == cavCode {
				return operator.Target{Code: cavCode, Dial: cavDial}, nil
			}
			return operator.Target{}, operator.ErrUnknownTarget
		}),
		Kicker: kickFunc(func() { flow.Dispatcher().Kick() }), Clock: clock, Logger: log, Registerer: prometheus.NewRegistry(),
	})
	if err != nil {
		t.Fatal(err)
	}
	icfg := ivr.DefaultConfig()
	icfg.Languages = []ivr.Language{{Code: "it", Digit: '1', Menu: ivr.Sound("helpline/menu-it")}}
	icfg.AnnounceEvery, icfg.NoOperatorGrace = 0, 0
	icfg.Prompts = ivr.Prompts{} // the emulator knows only the traces' sounds
	if flow, err = ivr.New(icfg, ivr.Deps{
		Queue: e.q, CDR: e.store, Identifier: e.hasher, Blocklist: blocklist{e.bl}, Talk: op,
		Clock: clock, Logger: log, Registerer: prometheus.NewRegistry(),
	}); err != nil {
		t.Fatal(err)
	}
	events, err := ari.OpenEvents(acfg, ari.EventsOptions{Backoff: ari.ConstantBackoff(time.Second), Clock: clockwork.NewFakeClock(), PingInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = events.Close() })
	// The wiring of cmd/helpline: an operator's own call is identified by
	// the endpoint Asterisk names, not by the caller ID it sends.
	handler := ariapp.OperatorHandlerFunc(func(ctx context.Context, c *ariapp.Call, _ string, _ []string) {
		endpoint, dialled, err := c.Origin(ctx)
		if err != nil {
			_ = c.Hangup(ctx, ivr.CauseNormal)
			return
		}
		op.HandleDialIn(ctx, c, endpoint, dialled)
	})
	app, err := ariapp.New(ariapp.Options{Client: e.client, Events: events, Flow: flow, Operators: handler,
		Clock: clock, Logger: log, Registerer: prometheus.NewRegistry(), DrainTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan struct{}, 2)
	go func() { _ = flow.Run(runCtx); done <- struct{}{} }()
	go func() { _ = app.Run(runCtx); done <- struct{}{} }()
	t.Cleanup(func() {
		stop()
		for n := 0; n < 2; {
			select {
			case <-done:
				n++
			case <-time.After(time.Millisecond):
				clock.Advance(time.Second)
				srv.Flush()
			}
		}
		if t.Failed() {
			t.Logf("logs:\n%s", e.logs)
		}
	})
	if err := srv.AwaitApp(ctx, "helpline"); err != nil {
		t.Fatal(err)
	}
	return e
}

// until lets virtual time pass in small steps until cond holds.
func (e *e2e) until(what string, limit time.Duration, cond func() bool) {
	e.t.Helper()
	for passed := time.Duration(0); !cond(); passed += 100 * time.Millisecond {
		if passed > limit || e.ctx.Err() != nil {
			e.t.Fatalf("%s: not after %v of virtual time", what, limit)
		}
		time.Sleep(2 * time.Millisecond)
		e.clock.Advance(100 * time.Millisecond)
		e.srv.Flush()
	}
}

func (e *e2e) operatorState(id string) queue.State {
	op, err := e.q.Operator(e.ctx, id)
	if err != nil {
		return ""
	}
	return op.State
}

func (e *e2e) records(d cdr.Direction) []cdr.Record {
	var out []cdr.Record
	_ = e.store.Scan(e.ctx, cdr.Filter{Direction: d}, func(r *cdr.Record) error { out = append(out, *r); return nil })
	return out
}

// dialIn: the softphone op1001 dials to (a feature code, or 9000) and
// keys keys once answered.
func (e *e2e) dialIn(to, keys string) *aritest.Call {
	e.t.Helper()
	c, err := e.srv.Call(e.ctx, "op1001", to, aritest.CallOptions{Endpoint: "op1001", CallerName: "Operatore 1001", Language: "en"})
	if err != nil {
		e.t.Fatal(err)
	}
	if keys != "" {
		e.until("operator's call answered", 10*time.Second, c.Answered)
		if err := c.SendDTMF(keys); err != nil {
			e.t.Fatal(err)
		}
	}
	return c
}

func (e *e2e) ended(c *aritest.Call) bool { _, ok := c.Ended(); return ok }

func TestE2EFeatureCodesThroughAsterisk(t *testing.T) {
	e := newE2E(t)
	// As in the trace sipp_operator_dials_in: 9000, then the code keyed.
	c := e.dialIn("9000", "*11#")
	e.until("logged in", 20*time.Second, func() bool { return e.operatorState("op1001") == queue.Available })
	e.until("operator's call hung up", 10*time.Second, func() bool { return e.ended(c) })

	// Dialled as the extension: no answer needed to pause.
	c = e.dialIn("*131", "")
	e.until("paused", 20*time.Second, func() bool { return e.operatorState("op1001") == queue.Paused })
	e.until("operator's call hung up", 10*time.Second, func() bool { return e.ended(c) })
	if op, _ := e.q.Operator(e.ctx, "op1001"); op.PauseReason != "break" {
		t.Errorf("pause reason %q", op.PauseReason)
	}
	// A softphone that is nobody's (op1001's caller ID, another endpoint).
	c, err := e.srv.Call(e.ctx, "op1001", "*13", aritest.CallOptions{Endpoint: "sipp", Context: "from-operators"})
	if err != nil {
		t.Fatal(err)
	}
	e.until("stranger hung up", 10*time.Second, func() bool { return e.ended(c) })
	if e.operatorState("op1001") != queue.Paused {
		t.Error("a stranger's *13 with op1001's caller ID unpaused op1001")
	}
}

func TestE2EOutboundCauses(t *testing.T) {
	tests := []struct {
		name    string
		phone   aritest.Phone
		outcome cdr.Outcome
		cause   int
	}{
		{"answered", aritest.Phone{Answer: aritest.Answer, RingFor: 2 * time.Second, TalkFor: 30 * time.Second}, cdr.Answered, ivr.CauseNormal},
		{"busy 486", aritest.Phone{Answer: aritest.RejectBusy}, cdr.Busy, ivr.CauseBusy},
		{"congestion 503", aritest.Phone{Answer: aritest.RejectCongestion}, cdr.Busy, ivr.CauseCongestion},
		{"declined 603", aritest.Phone{Answer: aritest.RejectDecline}, cdr.NoAnswer, ivr.CauseRejected},
		{"rings out", aritest.Phone{Answer: aritest.RingForever}, cdr.NoAnswer, ivr.CauseNoAnswer},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newE2E(t, aritest.Endpoint{Resource: cavDial, Context: "from-sip", Phone: tt.phone})
			c := e.dialIn("*20"+cavCode, "")
			e.until("the call to the service ended", 2*time.Minute, func() bool { return len(e.records(cdr.Outbound)) == 1 })
			r := e.records(cdr.Outbound)[0]
			if r.Outcome != tt.outcome || r.HangupCause != tt.cause || r.Operator != "op1001" || r.Target != cavCode ||
				r.CalleeHash != e.hasher.Identify(cavDial).Hash {
				t.Errorf("record %+v; want %s cause %d", r, tt.outcome, tt.cause)
			}
			if err := r.Validate(); err != nil {
				t.Error(err)
			}
			if tt.outcome == cdr.Answered && (r.TalkSeconds() < 29 || r.TalkSeconds() > 31) {
				t.Errorf("talk %vs; want about 30", r.TalkSeconds())
			}
			e.until("operator's call hung up", 30*time.Second, func() bool { return e.ended(c) })
			if strings.Contains(e.logs.String(), cavDial) {
				t.Error("the service's number reached the logs")
			}
		})
	}
}

// TestE2EFlagAndBlindTransfer: a caller reaches the operator; on her leg
// she keys *14 (flag), then *21<code> (blind transfer); the service
// answers and talks with the caller; the operator is freed.
func TestE2EFlagAndBlindTransfer(t *testing.T) {
	e := newE2E(t, aritest.Endpoint{Resource: cavDial, Context: "from-sip", Phone: aritest.Phone{Answer: aritest.Answer, RingFor: time.Second}})
	// op1001's phone: answered by the test.
	e.dialIn("9000", "*11#")
	e.until("logged in", 20*time.Second, func() bool { return e.operatorState("op1001") == queue.Available })
	caller, err := e.srv.Call(e.ctx, harasser, "800123456", aritest.CallOptions{})
	if err != nil {
		t.Fatal(err)
	}
	e.until("operator talking", 30*time.Second, func() bool { return e.operatorState("op1001") == queue.Busy })
	var opPhone *aritest.Call
	for _, c := range e.srv.Calls() {
		if c.Channel().Name != "" && strings.HasPrefix(c.Channel().Name, "PJSIP/op1001-") && c.Answered() && !e.ended(c) {
			opPhone = c
		}
	}
	if opPhone == nil {
		t.Fatal("no answered call on op1001's phone")
	}
	if err := opPhone.SendDTMF("*14#"); err != nil {
		t.Fatal(err)
	}
	hash := e.hasher.Identify(harasser).Hash
	e.until("flag recorded", 10*time.Second, func() bool { fs, _ := e.bl.Flags(e.ctx, hash); return len(fs) == 1 })
	if err := opPhone.SendDTMF("*21" + cavCode + "#"); err != nil {
		t.Fatal(err)
	}
	e.until("operator freed", 20*time.Second, func() bool { return e.operatorState("op1001") == queue.WrapUp })
	e.until("operator's leg hung up", 10*time.Second, func() bool { return e.ended(opPhone) })
	bridges, err := e.client.Bridges().List(e.ctx)
	if err != nil {
		t.Fatal(err)
	}
	var svcIn bool
	for _, b := range bridges {
		if slices.Contains(b.Channels, caller.ChannelID()) && len(b.Channels) == 2 {
			svcIn = true
		}
	}
	if !svcIn {
		t.Errorf("caller not bridged with the service: %+v", bridges)
	}
	if err := caller.Hangup(); err != nil {
		t.Fatal(err)
	}
	e.until("inbound CDR", 10*time.Second, func() bool { return len(e.records(cdr.Inbound)) == 1 })
	rec := e.records(cdr.Inbound)[0]
	if rec.Outcome != cdr.Answered || rec.Operator != "op1001" || rec.Transfer != "blind:"+cavCode+":answered" || rec.HangupBy != cdr.HangupCaller {
		t.Errorf("inbound %+v", rec)
	}
	op, _ := e.q.Operator(e.ctx, "op1001")
	if want := op.Since.Add(5 * time.Minute); !op.WrapUntil.Equal(want) {
		t.Errorf("wrap-up until %v; want the flagged wrap-up (5 min) from %v", op.WrapUntil, op.Since)
	}
	e.until("no channels left", 10*time.Second, func() bool { return len(e.srv.Channels()) == 0 })
}
