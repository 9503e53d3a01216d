package main

import (
	"context"
	"fmt"
	"os"
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

// nodeConfig writes the configuration of one of two nodes sharing the
// Redis at redisAddr, each on its own Asterisk at ariURL; the nodes'
// section is the same in both files (each names its trunks
// internode-<peer>).
func nodeConfig(t *testing.T, nodeID, ariURL, redisAddr string) (file, dbPath string) {
	t.Helper()
	return serveConfigWith(t, ariURL, redisAddr, "node_id: "+nodeID+`
nodes:
  node1: {trunk: PJSIP/internode-node1}
  node2: {trunk: PJSIP/internode-node2}
`, `  - id: op3001
    endpoint: PJSIP/op3001
    languages: [it]
`)
}

// drive2 moves the shared fake clock in small steps until cond holds,
// letting both Asterisks apply what became due.
func drive2(t *testing.T, clock *clockwork.FakeClock, srvs []*aritest.Server, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: never happened", what)
		}
		clock.Advance(100 * time.Millisecond)
		for _, s := range srvs {
			s.Flush()
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func heardBridge(c *aritest.Call) string {
	for _, h := range c.Heard() {
		if h.Kind == "bridge" {
			return h.Media
		}
	}
	return ""
}

// TestServeTwoNodesOneQueue: two `helpline serve` nodes, each on its own
// Asterisk, share one Redis. The operator logs in from a softphone
// registered on node2; a caller on node1 is bridged with them through
// node1's inter-node trunk to node2, and node1 writes the one CDR. Then
// node2 dies with its Asterisk: node1 marks its operator unreachable and
// goes on serving its callers with its own operators.
func TestServeTwoNodesOneQueue(t *testing.T) {
	r := testenv.StartRedis(t)
	clock := clockwork.NewFakeClockAt(time.Date(2026, 11, 23, 15, 0, 0, 0, time.UTC))
	srvA := testenv.StartAritest(t, testenv.AritestClock(clock), testenv.AritestConfig(func(c *aritest.Config) {
		// op1001 is not registered with node1's Asterisk: ringing it
		// there would fail; only the trunk reaches them.
		c.Endpoints = append(aritest.DefaultEndpoints(),
			aritest.Endpoint{Resource: "op3001", Context: "from-operators", Phone: aritest.Phone{RingFor: time.Second}})
		c.Endpoints[1].Offline = true
	}))
	srvB := testenv.StartAritest(t, testenv.AritestClock(clock))
	srvA.Link("internode-node2", srvB)
	srvB.Link("internode-node1", srvA)
	srvs := []*aritest.Server{srvA, srvB}

	fileA, dbA := nodeConfig(t, "node1", srvA.URL, r.Addr)
	fileB, dbB := nodeConfig(t, "node2", srvB.URL, r.Addr)
	a := startServe(t, clock, srvA, serveEnv, "--config", fileA)
	b := startServe(t, clock, srvB, serveEnv, "--config", fileB, "--drain", "1s")
	drive2(t, clock, srvs, "both nodes ready", func() bool { return readyz(a)() && readyz(b)() })

	ctx := context.Background()
	rdb := redis.NewClient(&redis.Options{Addr: r.Addr})
	t.Cleanup(func() { _ = rdb.Close() })
	q, err := queue.NewRedis(rdb, queue.RedisOptions{Prefix: "helpline", Service: "1522"})
	if err != nil {
		t.Fatal(err)
	}

	// op1001 logs in from the softphone registered on node2.
	phone, err := srvB.Call(ctx, "op1001", "9000", aritest.CallOptions{Endpoint: "op1001", CallerName: "Operatore 1001"})
	if err != nil {
		t.Fatal(err)
	}
	drive2(t, clock, srvs, "the feature line answers on node2", phone.Answered)
	if err := phone.SendDTMF("*11#"); err != nil {
		t.Fatal(err)
	}
	drive2(t, clock, srvs, "op1001 logged in on node2", func() bool {
		op, err := q.Operator(ctx, "op1001")
		return err == nil && op.State == queue.Available
	})
	if host, err := q.HostOf(ctx, "op1001"); err != nil || host != "node2" {
		t.Fatalf("op1001 hosted on %q (%v), want node2", host, err)
	}

	// A caller on node1 is answered by op1001 through the trunk.
	call, err := srvA.Call(ctx, serveCaller, "800123456", aritest.CallOptions{Script: []aritest.App{{Name: "Wait", Data: "20"}, {Name: "Hangup"}}})
	if err != nil {
		t.Fatal(err)
	}
	drive2(t, clock, srvs, "caller on node1 bridged", func() bool { return heardBridge(call) != "" })
	leg, err := srvA.AwaitRinging(ctx, "internode-node2")
	if err != nil {
		t.Fatal(err)
	}
	// The app adds the two channels to the bridge one request at a time:
	// await the leg's joining rather than read it the instant the caller
	// is in.
	drive2(t, clock, srvs, "the trunk leg in the caller's bridge", func() bool { return heardBridge(leg) == heardBridge(call) })
	drive2(t, clock, srvs, "caller hangs up", func() bool { _, ended := call.Ended(); return ended })

	// Node2 dies with its Asterisk.
	srvB.Close()
	b.cancel()
	drive2(t, clock, srvs, "node2 stopped", func() bool {
		select {
		case code := <-b.code:
			b.code <- code
			return true
		default:
			return false
		}
	})
	drive2(t, clock, srvs, "node1 marks node2's operator unreachable", func() bool {
		op, err := q.Operator(ctx, "op1001")
		return err == nil && op.State == queue.Paused && op.PauseReason == queue.ReasonUnreachable
	})
	// The reap is logged after its script returns: await the line rather
	// than read the log at the instant the state shows.
	drive2(t, clock, srvs, "node1 logs node2's death", func() bool {
		return strings.Contains(a.stderr.String(), "nodes stopped beating")
	})

	// Node1 goes on with its own operator.
	op3, err := srvA.Call(ctx, "op3001", "9000", aritest.CallOptions{Endpoint: "op3001", CallerName: "Operatore 3001"})
	if err != nil {
		t.Fatal(err)
	}
	drive2(t, clock, srvs, "the feature line answers on node1", op3.Answered)
	if err := op3.SendDTMF("*11#"); err != nil {
		t.Fatal(err)
	}
	call2, err := srvA.Call(ctx, "+393339999999", "800123456", aritest.CallOptions{Script: []aritest.App{{Name: "Wait", Data: "20"}, {Name: "Hangup"}}})
	if err != nil {
		t.Fatal(err)
	}
	drive2(t, clock, srvs, "second caller on node1 bridged with op3001", func() bool { return heardBridge(call2) != "" })
	drive2(t, clock, srvs, "second caller hangs up", func() bool { _, ended := call2.Ended(); return ended })
	if code := a.stop(); code != exitOK {
		t.Fatalf("node1 exited %d", code)
	}

	// Exactly one CDR per call, written by node1; none by node2.
	dbs := map[string]*sqlite.DB{}
	for name, path := range map[string]string{"node1": dbA, "node2": dbB} {
		db, err := sqlite.Open(ctx, path, sqlite.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = db.Close() })
		dbs[name] = db
	}
	for _, tc := range []struct {
		call *aritest.Call
		op   string
	}{{call, "op1001"}, {call2, "op3001"}} {
		rec, err := dbs["node1"].Get(ctx, tc.call.ChannelID())
		if err != nil {
			t.Fatalf("CDR of %s: %v", tc.call.ChannelID(), err)
		}
		if rec.Outcome != cdr.Answered || rec.Operator != tc.op || rec.Validate() != nil {
			t.Errorf("CDR %+v (%v); want answered by %s", rec, rec.Validate(), tc.op)
		}
		if _, err := dbs["node2"].Get(ctx, tc.call.ChannelID()); err == nil {
			t.Errorf("node2 wrote a CDR for node1's call %s", tc.call.ChannelID())
		}
	}
	if op, _ := q.Operator(ctx, "op1001"); op.State != queue.Paused || op.PauseReason != queue.ReasonUnreachable {
		t.Errorf("op1001 %+v after node2 died", op)
	}
}

// TestServeThroughSentinel: a node configured with redis.sentinel finds
// the master through a real Sentinel; a call is answered through the queue
// held there.
func TestServeThroughSentinel(t *testing.T) {
	master := testenv.StartRedis(t)
	sentinel := testenv.StartSentinel(t, "helpline", master)
	clock := clockwork.NewFakeClockAt(time.Date(2026, 11, 23, 15, 0, 0, 0, time.UTC))
	srv := testenv.StartAritest(t, testenv.AritestClock(clock))
	file, dbPath := serveConfig(t, srv.URL, "127.0.0.1:1")
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	text := strings.Replace(string(data), "redis:\n  addr: 127.0.0.1:1\n",
		fmt.Sprintf("redis:\n  sentinel: {master_name: helpline, addrs: [%q]}\n", sentinel.Addr), 1)
	if err := os.WriteFile(file, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	s := startServe(t, clock, srv, serveEnv, "--config", file)
	s.drive("ready", readyz(s))
	if strings.Contains(s.stderr.String(), "REDIS UNREACHABLE") {
		t.Fatalf("the node did not reach Redis through the sentinel:\n%s", s.stderr)
	}
	ctx := context.Background()
	q, err := queue.NewRedis(master.Client(t), queue.RedisOptions{Prefix: "helpline", Service: "1522"})
	if err != nil {
		t.Fatal(err)
	}
	if err := q.Login(ctx, queue.Operator{ID: "op1001", Endpoint: "PJSIP/op1001", Skills: []string{"it"}}, clock.Now()); err != nil {
		t.Fatal(err)
	}
	call, err := srv.Call(ctx, serveCaller, "800123456", aritest.CallOptions{Script: []aritest.App{{Name: "Wait", Data: "20"}, {Name: "Hangup"}}})
	if err != nil {
		t.Fatal(err)
	}
	s.drive("caller bridged through the queue on the sentinel's master", func() bool { return heardBridge(call) != "" })
	s.drive("caller hangs up", func() bool { _, ended := call.Ended(); return ended })
	if code := s.stop(); code != exitOK {
		t.Fatalf("serve exited %d", code)
	}
	db, err := sqlite.Open(ctx, dbPath, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if rec, err := db.Get(ctx, call.ChannelID()); err != nil || rec.Outcome != cdr.Answered || rec.Fallback {
		t.Errorf("CDR %+v, %v; want answered, not in fallback", rec, err)
	}
}
