package ivr_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/helpline-it/helpline/callerid"
	"github.com/helpline-it/helpline/cdr"
	cdrmemory "github.com/helpline-it/helpline/cdr/memory"
	"github.com/helpline-it/helpline/internal/testenv"
	"github.com/helpline-it/helpline/ivr"
	"github.com/helpline-it/helpline/ivr/ivrtest"
	"github.com/helpline-it/helpline/queue"
)

// nodeStore is a queue store with its multi-node side.
type nodeStore interface {
	queue.Queue
	queue.Nodes
	queue.Watcher
}

// heartbeatTTL is the tests' Cluster.HeartbeatTTL: the nodes beat every
// 10 s of the fake clock.
const heartbeatTTL = 30 * time.Second

// countingCDR counts the records written per call (exactly one each).
type countingCDR struct {
	mu    sync.Mutex
	n     map[string]int
	store *cdrmemory.Store
}

func (c *countingCDR) Write(ctx context.Context, r cdr.Record) error {
	c.mu.Lock()
	c.n[r.ID]++
	c.mu.Unlock()
	return c.store.Write(ctx, r)
}

func (c *countingCDR) count(id string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n[id]
}

// cluster is several flows, one per node, each on its own network (its
// own Asterisk), sharing one queue, one clock and one CDR store.
type cluster struct {
	t      *testing.T
	ctx    context.Context
	clock  *clockwork.FakeClock
	cdr    *countingCDR
	hasher *callerid.Hasher
	logs   *testenv.LogBuffer
	nodes  map[string]*node
	// newStore returns the named node's view of the shared store.
	newStore func(node string) nodeStore
	// offered counts the offers made per call (the queue's events).
	mu       sync.Mutex
	offered  map[string]int
	answered map[string]bool
	// wrapNodes, if set, wraps the named node's queue.Nodes.
	wrapNodes map[string]func(queue.Nodes) queue.Nodes
}

// node is one helpline node.
type node struct {
	name   string
	net    *ivrtest.Network
	q      nodeStore
	flow   *ivr.Flow
	ctx    context.Context
	stop   context.CancelFunc
	done   chan struct{}
	mu     sync.Mutex
	result map[string]chan result
}

// stores are the two stores the multi-node flow runs over: the shared
// in-process Memory (the fallback) and a real Redis, one client per node.
func stores(t *testing.T) map[string]func(t *testing.T) func(node string) nodeStore {
	return map[string]func(t *testing.T) func(node string) nodeStore{
		"memory": func(t *testing.T) func(string) nodeStore {
			m, err := queue.NewMemory("1522")
			if err != nil {
				t.Fatal(err)
			}
			return func(string) nodeStore { return m }
		},
		"redis": func(t *testing.T) func(string) nodeStore {
			srv := testenv.StartRedis(t)
			return func(string) nodeStore {
				r, err := queue.NewRedis(srv.Client(t), queue.RedisOptions{Service: "1522", Prefix: "ivr-nodes"})
				if err != nil {
					t.Fatal(err)
				}
				return r
			}
		},
	}
}

// newCluster starts nodes a and b; wrap, if set, wraps the queue the
// named node's flow sees.
func newCluster(t *testing.T, newStore func(string) nodeStore, wrap map[string]func(queue.Queue) queue.Queue, wrapNodes ...map[string]func(queue.Nodes) queue.Nodes) *cluster {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	hasher, err := callerid.NewHasher([]byte("ivr-test-key-0123456789"))
	if err != nil {
		t.Fatal(err)
	}
	c := &cluster{
		t: t, ctx: ctx, clock: clockwork.NewFakeClockAt(monday15),
		cdr:    &countingCDR{n: map[string]int{}, store: cdrmemory.New()},
		hasher: hasher, logs: &testenv.LogBuffer{}, nodes: map[string]*node{},
		newStore: newStore, offered: map[string]int{}, answered: map[string]bool{},
	}
	if len(wrapNodes) > 0 {
		c.wrapNodes = wrapNodes[0]
	}
	watch := newStore("watch")
	events, err := watch.Watch(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var counting sync.WaitGroup
	counting.Add(1)
	go func() {
		defer counting.Done()
		for ev := range events {
			c.mu.Lock()
			switch ev.Kind {
			case queue.EventOffered:
				c.offered[ev.CallID]++
			case queue.EventAnswered:
				c.answered[ev.CallID] = true
			}
			c.mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		cancel()
		counting.Wait()
		if t.Failed() {
			t.Logf("logs:\n%s", c.logs)
		}
	})
	for _, name := range []string{"a", "b"} {
		c.start(name, wrap[name])
	}
	// Each node's dispatcher tick and heartbeat tick.
	c.blockUntil(4)
	return c
}

func (c *cluster) start(name string, wrap func(queue.Queue) queue.Queue) {
	c.t.Helper()
	n := &node{name: name, net: ivrtest.New(c.clock), q: c.newStore(name), done: make(chan struct{}), result: map[string]chan result{}}
	var q queue.Queue = n.q
	if wrap != nil {
		q = wrap(q)
	}
	cfg := testConfig()
	cfg.Node = name
	f, err := ivr.New(cfg, ivr.Deps{
		Queue:      q,
		CDR:        c.cdr,
		Identifier: c.hasher,
		Schedule:   ivr.ScheduleFunc(seedSchedule),
		Clock:      c.clock,
		Logger:     zerolog.New(c.logs).Level(zerolog.DebugLevel).With().Str("node", name).Logger(),
		Registerer: prometheus.NewRegistry(),
	})
	if err != nil {
		c.t.Fatal(err)
	}
	trunks := map[string]string{"a": "PJSIP/internode-a", "b": "PJSIP/internode-b"}
	delete(trunks, name)
	var nodes queue.Nodes = n.q
	if w := c.wrapNodes[name]; w != nil {
		nodes = w(nodes)
	}
	if err := f.Dispatcher().Join(ivr.Cluster{Nodes: nodes, Trunks: trunks, HeartbeatTTL: heartbeatTTL}); err != nil {
		c.t.Fatal(err)
	}
	n.flow = f
	n.ctx, n.stop = context.WithCancel(c.ctx)
	go func() {
		defer close(n.done)
		_ = f.Run(n.ctx)
	}()
	c.t.Cleanup(func() { n.stop(); <-n.done })
	c.nodes[name] = n
}

// kill stops a node abruptly: its dispatcher (heartbeat included) and its
// calls' flows end at once, leaving its queue entries behind.
func (c *cluster) kill(name string) {
	c.t.Helper()
	n := c.nodes[name]
	n.stop()
	<-n.done
}

func (c *cluster) blockUntil(n int) {
	c.t.Helper()
	if err := c.clock.BlockUntilContext(c.ctx, n); err != nil {
		c.t.Fatalf("clock never had %d timers: %v", n, err)
	}
}

// dial brings a call in on node name.
func (c *cluster) dial(name, number string, steps ...ivrtest.Step) *ivrtest.Call {
	c.t.Helper()
	n := c.nodes[name]
	call := n.net.Dial(number, steps...)
	ch := make(chan result, 1)
	n.mu.Lock()
	n.result[call.ID()] = ch
	n.mu.Unlock()
	go func() {
		rec, err := n.flow.Handle(n.ctx, nodeCall{call, name + "-" + call.ID()}, number)
		ch <- result{rec, err}
	}()
	return call
}

// nodeCall gives a network's call an ID unique across nodes, as
// Asterisk's channel IDs are (each ivrtest network counts from 1).
type nodeCall struct {
	*ivrtest.Call
	id string
}

func (c nodeCall) ID() string { return c.id }

// callID is the ID the flow and the queue know call by.
func (n *node) callID(call *ivrtest.Call) string { return n.name + "-" + call.ID() }

// record waits for the end of call on node name and returns its CDR,
// checking it was written exactly once.
func (c *cluster) record(name string, call *ivrtest.Call) cdr.Record {
	c.t.Helper()
	n := c.nodes[name]
	n.mu.Lock()
	ch := n.result[call.ID()]
	n.mu.Unlock()
	select {
	case r := <-ch:
		if r.err != nil {
			c.t.Fatalf("%s: Handle: %v", call.ID(), r.err)
		}
		if k := c.cdr.count(n.callID(call)); k != 1 {
			c.t.Errorf("%s: %d CDRs written, want 1", call.ID(), k)
		}
		return r.rec
	case <-c.ctx.Done():
		c.t.Fatalf("%s on %s: Handle never returned; requests %q", call.ID(), name, call.Requests())
		return cdr.Record{}
	}
}

// login logs operator id in on node host (their phone registered with
// host's Asterisk): it answers on host's network as PJSIP/<id>, and on
// every other node's network through that node's trunk to host.
func (c *cluster) login(id, host string, phone ivrtest.Phone, skills ...string) {
	c.t.Helper()
	for name, n := range c.nodes {
		ep := "PJSIP/" + id
		if name != host {
			ep += "@internode-" + host
		}
		n.net.SetPhone(ep, phone)
	}
	// Hosted first, as queue.HostLogins does: once available, the
	// operator may be offered at once, from any node.
	q := queue.HostLogins(c.nodes[host].q, c.nodes[host].q, host, func(id string, err error) { c.t.Errorf("host %s: %v", id, err) })
	if err := q.Login(c.ctx, queue.Operator{ID: id, Endpoint: "PJSIP/" + id, Skills: skills}, c.clock.Now()); err != nil {
		c.t.Fatal(err)
	}
}

// rings is how often operator id was rung, on every node: directly on
// its host, through a trunk elsewhere.
func (c *cluster) rings(id string) map[string]int {
	out := map[string]int{}
	for name, n := range c.nodes {
		if k := n.net.Rings("PJSIP/"+id) + n.net.Rings("PJSIP/"+id+"@internode-a") + n.net.Rings("PJSIP/"+id+"@internode-b"); k > 0 {
			out[name] = k
		}
	}
	return out
}

// awaitQueue polls a snapshot of the shared queue until cond holds, woken
// by its events.
func (c *cluster) awaitQueue(what string, cond func(queue.Snapshot) bool) {
	c.t.Helper()
	q := c.newStore("await")
	ctx, cancel := context.WithCancel(c.ctx)
	defer cancel()
	events, err := q.Watch(ctx)
	if err != nil {
		c.t.Fatal(err)
	}
	for {
		snap, err := q.Snapshot(c.ctx, c.clock.Now())
		if err != nil {
			c.t.Fatal(err)
		}
		if cond(snap) {
			return
		}
		select {
		case <-events:
		case <-c.ctx.Done():
			c.t.Fatalf("%s: never happened; queue %+v", what, snap)
		}
	}
}

func (c *cluster) awaitQueued(ids ...string) {
	c.t.Helper()
	c.awaitQueue(fmt.Sprintf("%v queued", ids), func(s queue.Snapshot) bool {
		var got []string
		for _, calls := range s.Waiting {
			for _, w := range calls {
				got = append(got, w.ID)
			}
		}
		for _, id := range ids {
			if !slices.Contains(got, id) {
				return false
			}
		}
		return true
	})
}

func (c *cluster) awaitReq(call *ivrtest.Call, prefix string, n int) {
	c.t.Helper()
	if err := call.AwaitRequest(c.ctx, prefix, n); err != nil {
		c.t.Fatal(err)
	}
}

// offers is how many offers were made for call id, counted once the
// queue's event of its answer arrived (events arrive in order, so every
// offer before the answer is counted by then).
func (c *cluster) offers(id string) int {
	c.t.Helper()
	for {
		c.mu.Lock()
		done, n := c.answered[id], c.offered[id]
		c.mu.Unlock()
		if done {
			return n
		}
		select {
		case <-c.ctx.Done():
			c.t.Fatalf("%s: the answer's event never arrived", id)
		case <-time.After(time.Millisecond):
		}
	}
}

// noAssign is a queue whose Assign never matches: a node that only acts
// on offers handed over by the others.
type noAssign struct{ queue.Queue }

func (noAssign) Assign(context.Context, time.Time, time.Duration) (queue.Offer, error) {
	return queue.Offer{}, queue.ErrNoMatch
}

// A caller waiting on node a is answered by an operator whose softphone is
// registered on node b: the operator leg is originated on a, to the
// operator through a's trunk to b, whichever node made the match.
func TestCallerOnOneNodeAnsweredByOperatorOnAnother(t *testing.T) {
	for sname, mk := range stores(t) {
		for _, tt := range []struct {
			name string
			wrap map[string]func(queue.Queue) queue.Queue
		}{
			{"either node assigns", nil},
			{"b assigns and hands over", map[string]func(queue.Queue) queue.Queue{"a": func(q queue.Queue) queue.Queue { return noAssign{q} }}},
			{"a assigns", map[string]func(queue.Queue) queue.Queue{"b": func(q queue.Queue) queue.Queue { return noAssign{q} }}},
		} {
			t.Run(sname+"/"+tt.name, func(t *testing.T) {
				c := newCluster(t, mk(t), tt.wrap)
				c.login("b1", "b", ivrtest.Answers(0), "it")
				call := c.dial("a", testNumber, pressIT)
				c.awaitReq(call, "bridge", 1)
				if got := originates(call); !slices.Equal(got, []string{"PJSIP/b1@internode-b"}) {
					t.Errorf("rang %q; want b1 through a's trunk to b", got)
				}
				call.HangUp(16)
				rec := c.record("a", call)
				if rec.Outcome != cdr.Answered || rec.Operator != "b1" {
					t.Errorf("record %+v; want answered by b1", rec)
				}
				if r := c.rings("b1"); len(r) != 1 || r["a"] != 1 {
					t.Errorf("b1 rung %v; want once, from a", r)
				}
				if offered := c.offers(c.nodes["a"].callID(call)); offered != 1 {
					t.Errorf("call offered %d times, want 1", offered)
				}
			})
		}
	}
}

// Calls waiting on both nodes are answered in arrival order, whichever
// node holds them and wherever the operator who frees up is hosted.
func TestArrivalOrderAcrossNodes(t *testing.T) {
	for sname, mk := range stores(t) {
		t.Run(sname, func(t *testing.T) {
			c := newCluster(t, mk(t), nil)
			// Someone logged in, paused: callers wait rather than leave.
			c.login("x", "a", ivrtest.Answers(0), "it")
			if err := c.nodes["a"].q.Pause(c.ctx, "x", "break", c.clock.Now()); err != nil {
				t.Fatal(err)
			}
			type placed struct {
				node string
				call *ivrtest.Call
			}
			var calls []placed
			for i, n := range []string{"a", "b", "a", "b"} {
				call := c.dial(n, fmt.Sprintf("+39 333 000 00%02d", i), pressIT)
				c.awaitQueued(c.nodes[n].callID(call))
				calls = append(calls, placed{n, call})
				c.clock.Advance(time.Second)
			}
			// One operator at a time, hosted alternately on b and a.
			for i, p := range calls {
				host := []string{"b", "a"}[i%2]
				c.login(fmt.Sprintf("op%d", i), host, ivrtest.Answers(0), "it")
				c.awaitReq(p.call, "bridge", 1)
				for _, later := range calls[i+1:] {
					if later.call.Count("originate") != 0 {
						t.Fatalf("%s (on %s) rang before %s (on %s), who came first", later.call.ID(), later.node, p.call.ID(), p.node)
					}
				}
			}
			for i, p := range calls {
				p.call.HangUp(16)
				rec := c.record(p.node, p.call)
				if want := fmt.Sprintf("op%d", i); rec.Outcome != cdr.Answered || rec.Operator != want {
					t.Errorf("%s: %+v; want answered by %s", p.call.ID(), rec, want)
				}
			}
		})
	}
}

// Many callers on both nodes, as many operators on both: every call is
// offered once, every operator rung once, each call has one CDR.
func TestNoDoubleOfferAcrossNodes(t *testing.T) {
	const perNode = 4
	for sname, mk := range stores(t) {
		t.Run(sname, func(t *testing.T) {
			c := newCluster(t, mk(t), nil)
			for i := range 2 * perNode {
				c.login(fmt.Sprintf("op%d", i), []string{"a", "b"}[i%2], ivrtest.Answers(0), "it")
			}
			type placed struct {
				node string
				call *ivrtest.Call
			}
			var calls []placed
			var n atomic.Int32
			for range perNode {
				for _, name := range []string{"a", "b"} {
					calls = append(calls, placed{name, c.dial(name, fmt.Sprintf("+39 347 000 %04d", n.Add(1)), pressIT)})
				}
			}
			for _, p := range calls {
				c.awaitReq(p.call, "bridge", 1)
			}
			for _, p := range calls {
				p.call.HangUp(16)
				if rec := c.record(p.node, p.call); rec.Outcome != cdr.Answered {
					t.Errorf("%s: %s", p.call.ID(), rec.Outcome)
				}
				if k := p.call.Count("originate"); k != 1 {
					t.Errorf("%s rang %d operators, want 1", p.call.ID(), k)
				}
			}
			for _, p := range calls {
				if k := c.offers(c.nodes[p.node].callID(p.call)); k != 1 {
					t.Errorf("%s offered %d times", p.call.ID(), k)
				}
			}
			for i := range 2 * perNode {
				id := fmt.Sprintf("op%d", i)
				total := 0
				for _, k := range c.rings(id) {
					total += k
				}
				if total != 1 {
					t.Errorf("%s rung %d times (%v), want once", id, total, c.rings(id))
				}
			}
		})
	}
}

// Node b dies (its process stops abruptly): once its heartbeat expired, a
// reaps it: b's operators are paused "unreachable" and never rung, b's
// waiting call leaves the queue, and a's callers are still served by a's
// operators.
func TestDeadNodeIsReaped(t *testing.T) {
	for sname, mk := range stores(t) {
		t.Run(sname, func(t *testing.T) {
			c := newCluster(t, mk(t), nil)
			c.login("b1", "b", ivrtest.Answers(0), "it")
			if err := c.nodes["b"].q.Pause(c.ctx, "b1", "break", c.clock.Now()); err != nil {
				t.Fatal(err)
			}
			onB := c.dial("b", "+39 333 111 2222", pressIT)
			c.awaitQueued(c.nodes["b"].callID(onB))
			c.kill("b")
			// b1 unpauses by hand after the crash: still registered on the
			// dead b, so a must not ring them once b is reaped.
			if err := c.nodes["a"].q.Unpause(c.ctx, "b1", c.clock.Now()); err != nil {
				t.Fatal(err)
			}
			for range 3 { // a's heartbeat ticks until b's beat expired
				c.blockUntil(2)
				c.clock.Advance(heartbeatTTL / 3)
			}
			c.awaitQueue("b reaped", func(s queue.Snapshot) bool {
				for _, op := range s.Operators {
					if op.ID == "b1" && (op.State != queue.Paused || op.PauseReason != queue.ReasonUnreachable) {
						return false
					}
				}
				return len(s.Waiting["it"]) == 0
			})
			c.login("a1", "a", ivrtest.Answers(0), "it")
			onA := c.dial("a", testNumber, pressIT)
			c.awaitReq(onA, "bridge", 1)
			onA.HangUp(16)
			if rec := c.record("a", onA); rec.Outcome != cdr.Answered || rec.Operator != "a1" {
				t.Errorf("record %+v; want answered by a1", rec)
			}
			if r := c.rings("b1"); len(r) != 0 {
				t.Errorf("unreachable b1 rung %v", r)
			}
			// b's call was left behind (no CDR: b writes it when it comes
			// back and re-adopts, or not at all if the call died with b).
			if k := c.cdr.count(c.nodes["b"].callID(onB)); k != 0 {
				t.Errorf("%d CDRs for the call of the dead node", k)
			}
			var b1 queue.Operator
			b1, err := c.nodes["a"].q.Operator(c.ctx, "b1")
			if err != nil || b1.PauseReason != queue.ReasonUnreachable {
				t.Errorf("b1 %+v, %v", b1, err)
			}
		})
	}
}

// An offer that expired on its way to the call's node (that node was
// slow) is dropped, not rung: the queue has taken it back and may have
// offered the call again.
func TestExpiredHandOverIsDropped(t *testing.T) {
	for sname, mk := range stores(t) {
		t.Run(sname, func(t *testing.T) {
			c := newCluster(t, mk(t), map[string]func(queue.Queue) queue.Queue{"a": func(q queue.Queue) queue.Queue { return noAssign{q} }})
			c.login("x", "a", ivrtest.Answers(0), "it")
			if err := c.nodes["a"].q.Pause(c.ctx, "x", "break", c.clock.Now()); err != nil {
				t.Fatal(err)
			}
			call := c.dial("a", testNumber, pressIT)
			id := c.nodes["a"].callID(call)
			c.awaitQueued(id)
			c.nodes["a"].net.SetPhone("PJSIP/ghost", ivrtest.Answers(0))
			stale := queue.Offer{CallID: id, OperatorID: "ghost", Endpoint: "PJSIP/ghost", Language: "it", Node: "a", Expires: c.clock.Now()}
			if err := c.nodes["b"].q.HandOver(c.ctx, stale); err != nil {
				t.Fatal(err)
			}
			// b assigns the live offer and hands it over after the stale one.
			c.login("b1", "b", ivrtest.Answers(0), "it")
			c.awaitReq(call, "bridge", 1)
			if got := originates(call); !slices.Equal(got, []string{"PJSIP/b1@internode-b"}) {
				t.Errorf("rang %q; want only b1 (the stale offer dropped)", got)
			}
			call.HangUp(16)
			if rec := c.record("a", call); rec.Operator != "b1" {
				t.Errorf("record %+v", rec)
			}
		})
	}
}

// failingHosts is a Nodes whose HostOf fails, as when Redis is down and the
// queue runs on its in-process fallback.
type failingHosts struct{ queue.Nodes }

func (failingHosts) HostOf(context.Context, string) (string, error) {
	return "", fmt.Errorf("%w: connection refused", queue.ErrUnavailable)
}

// When the node cannot tell where an operator is registered (the shared
// store is down), it rings them as its own rather than not at all.
func TestUnknownHostRingsLocally(t *testing.T) {
	c := newCluster(t, stores(t)["memory"](t), nil, map[string]func(queue.Nodes) queue.Nodes{
		"a": func(n queue.Nodes) queue.Nodes { return failingHosts{n} },
	})
	c.login("a1", "a", ivrtest.Answers(0), "it")
	call := c.dial("a", testNumber, pressIT)
	c.awaitReq(call, "bridge", 1)
	if got := originates(call); !slices.Equal(got, []string{"PJSIP/a1"}) {
		t.Errorf("rang %q; want a1 directly", got)
	}
	call.HangUp(16)
	if rec := c.record("a", call); rec.Outcome != cdr.Answered || rec.Operator != "a1" {
		t.Errorf("record %+v", rec)
	}
}

// An operator of node a talking, through the trunk, with a caller of node
// b when b dies: nobody will ever finish that call, so the reap makes the
// operator available, and a's next caller reaches them.
func TestOperatorTalkingWithDeadNodesCallerIsFreed(t *testing.T) {
	for sname, mk := range stores(t) {
		t.Run(sname, func(t *testing.T) {
			c := newCluster(t, mk(t), nil)
			c.login("a1", "a", ivrtest.Answers(0), "it")
			onB := c.dial("b", "+39 333 111 2222", pressIT)
			c.awaitReq(onB, "bridge", 1)
			if got := originates(onB); !slices.Equal(got, []string{"PJSIP/a1@internode-a"}) {
				t.Fatalf("rang %q", got)
			}
			c.kill("b")
			for range 3 {
				c.blockUntil(2)
				c.clock.Advance(heartbeatTTL / 3)
			}
			c.awaitQueue("a1 freed", func(s queue.Snapshot) bool {
				for _, op := range s.Operators {
					if op.ID == "a1" {
						return op.State == queue.Available
					}
				}
				return false
			})
			onA := c.dial("a", testNumber, pressIT)
			c.awaitReq(onA, "bridge", 1)
			onA.HangUp(16)
			if rec := c.record("a", onA); rec.Outcome != cdr.Answered || rec.Operator != "a1" {
				t.Errorf("record %+v; want answered by a1", rec)
			}
		})
	}
}
