package ariapp_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/rs/zerolog"

	"github.com/helpline-it/helpline/ari"
	ariapp "github.com/helpline-it/helpline/ari-app"
	"github.com/helpline-it/helpline/ari/aritest"
	"github.com/helpline-it/helpline/blacklist"
	"github.com/helpline-it/helpline/callerid"
	"github.com/helpline-it/helpline/cdr"
	cdrmemory "github.com/helpline-it/helpline/cdr/memory"
	"github.com/helpline-it/helpline/internal/testenv"
	"github.com/helpline-it/helpline/ivr"
	"github.com/helpline-it/helpline/queue"
)

// The control-plane benchmarks run the whole switchboard in real time:
// aritest (real clock, behind a recorder that stamps each REST request on
// arrival), the ari client over loopback HTTP and WebSocket, a real
// Redis for the queue and the blacklist, the real flow. They measure the
// time the app takes to react, as Asterisk would see it.

// arrivals stamps the requests Asterisk receives.
type arrivals struct {
	mu   sync.Mutex
	cond *sync.Cond
	seen map[string]time.Time // "METHOD path" → first arrival
}

func (a *arrivals) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		now := time.Now()
		key := r.Method + " " + strings.TrimPrefix(r.URL.Path, "/ari")
		if r.Method == http.MethodPost && key == "POST /channels" {
			key += " " + strings.SplitN(r.URL.Query().Get("appArgs"), ",", 3)[2] // the call id
		}
		a.mu.Lock()
		if _, ok := a.seen[key]; !ok {
			a.seen[key] = now
		}
		a.cond.Broadcast()
		a.mu.Unlock()
		next.ServeHTTP(w, r)
	})
}

func (a *arrivals) await(b *testing.B, key string) time.Time {
	b.Helper()
	deadline := time.AfterFunc(10*time.Second, func() { a.mu.Lock(); a.cond.Broadcast(); a.mu.Unlock() })
	defer deadline.Stop()
	start := time.Now()
	a.mu.Lock()
	defer a.mu.Unlock()
	for {
		if t, ok := a.seen[key]; ok {
			return t
		}
		if time.Since(start) > 10*time.Second {
			b.Fatalf("request %q never arrived", key)
		}
		a.cond.Wait()
	}
}

// benchNode is the switchboard on a real clock.
type benchNode struct {
	srv   *aritest.Server
	arr   *arrivals
	q     *queue.Redis
	store *cdrmemory.Store
}

func newBenchNode(b *testing.B) *benchNode {
	b.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	b.Cleanup(cancel)
	// Not testenv.StartAritest: the emulator must sit behind the
	// recorder that stamps requests on arrival, so it is served here.
	srv := aritest.NewUnstartedServer(aritest.Config{DefaultSoundLength: 20 * time.Millisecond})
	arr := &arrivals{seen: map[string]time.Time{}}
	arr.cond = sync.NewCond(&arr.mu)
	hs := httptest.NewServer(arr.wrap(srv))
	b.Cleanup(func() { srv.Close(); hs.Close() })

	r := testenv.StartRedis(b)
	rdb := redis.NewClient(&redis.Options{Addr: r.Addr})
	b.Cleanup(func() { _ = rdb.Close() })
	q, err := queue.NewRedis(rdb, queue.RedisOptions{Service: "1522", Languages: []string{"it"}})
	if err != nil {
		b.Fatal(err)
	}
	bl, err := blacklist.NewRedis(rdb, blacklist.RedisOptions{Policy: blacklist.Policy{Threshold: 3, Window: time.Hour, Block: time.Hour}})
	if err != nil {
		b.Fatal(err)
	}
	hasher, err := callerid.NewHasher([]byte("bench-key-0123456789abcdef012345"))
	if err != nil {
		b.Fatal(err)
	}
	user, pass := srv.Credentials()
	acfg := ari.Config{URL: hs.URL + "/ari", Username: user, Password: pass, Application: "helpline"}
	client, err := ari.NewClient(acfg)
	if err != nil {
		b.Fatal(err)
	}
	events, err := ari.OpenEvents(acfg, ari.EventsOptions{PingInterval: -1})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = events.Close() })
	cfg := ivr.DefaultConfig()
	cfg.Languages = []ivr.Language{{Code: "it", Digit: '1', Menu: pMenuIT}}
	cfg.AnnounceEvery, cfg.NoOperatorGrace, cfg.WrapUp = 0, 0, 0
	store := cdrmemory.New()
	flow, err := ivr.New(cfg, ivr.Deps{Queue: q, CDR: store, Identifier: hasher, Blocklist: benchBlocklist{bl}, Logger: zerolog.Nop()})
	if err != nil {
		b.Fatal(err)
	}
	app, err := ariapp.New(ariapp.Options{Client: client, Events: events, Flow: flow, Logger: zerolog.Nop(), DrainTimeout: time.Second})
	if err != nil {
		b.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); _ = flow.Run(ctx) }()
	go func() { defer wg.Done(); _ = app.Run(ctx) }()
	b.Cleanup(func() { cancel(); wg.Wait() })
	if err := srv.AwaitApp(ctx, "helpline"); err != nil {
		b.Fatal(err)
	}
	return &benchNode{srv: srv, arr: arr, q: q, store: store}
}

type benchBlocklist struct{ s blacklist.Store }

func (l benchBlocklist) Blocked(ctx context.Context, hash string, now time.Time) (bool, string, error) {
	e, ok, err := l.s.Blocked(ctx, hash, now)
	return ok, e.Reason, err
}

// poll is a polling helper with a deadline, for states that raise no
// event the benchmark could wait on.
func poll(b *testing.B, what string, cond func() bool) {
	b.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			b.Fatalf("%s: never happened", what)
		}
		time.Sleep(100 * time.Microsecond)
	}
}

// awaitCDR waits for the call's record.
func (n *benchNode) awaitCDR(b *testing.B, id string) cdr.Record {
	b.Helper()
	var rec *cdr.Record
	poll(b, "CDR of "+id, func() bool {
		r, err := n.store.Get(context.Background(), id)
		rec = r
		return err == nil
	})
	return *rec
}

func reportPercentiles(b *testing.B, lat []time.Duration) {
	slices.Sort(lat)
	pct := func(p float64) float64 {
		i := int(p * float64(len(lat)-1))
		return float64(lat[i].Microseconds())
	}
	b.ReportMetric(pct(0.50), "p50-µs")
	b.ReportMetric(pct(0.99), "p99-µs")
	b.ReportMetric(0, "ns/op") // the per-iteration wall time includes the call's teardown
}

// BenchmarkStasisStartToAnswer: from the moment the caller's channel
// enters Stasis (StasisStart queued on the socket) to POST /answer
// reaching Asterisk. In between: event decode and routing, the per-call
// subscription, POST /ring, the blacklist lookup in Redis.
func BenchmarkStasisStartToAnswer(b *testing.B) {
	n := newBenchNode(b)
	ctx := context.Background()
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		t0 := time.Now()
		c, err := n.srv.Call(ctx, fmt.Sprintf("+39333%07d", i), helplineNumber, aritest.CallOptions{})
		if err != nil {
			b.Fatal(err)
		}
		t1 := n.arr.await(b, "POST /channels/"+c.ChannelID()+"/answer")
		lat = append(lat, t1.Sub(t0))
		if err := c.AwaitAnswered(ctx); err != nil {
			b.Fatal(err)
		}
		_ = c.Hangup()
		n.awaitCDR(b, c.ChannelID())
	}
	b.StopTimer()
	reportPercentiles(b, lat)
}

// BenchmarkOperatorAvailableToOriginate: a caller waits; the only
// operator unpauses (queue change published on Redis); the time until
// POST /channels (the originate to her phone) reaches Asterisk. In
// between: Redis pub/sub, the dispatcher's Assign script, the offer to
// the call's flow, the leg's subscription.
func BenchmarkOperatorAvailableToOriginate(b *testing.B) {
	n := newBenchNode(b)
	ctx := context.Background()
	if err := n.q.Login(ctx, queue.Operator{ID: "op1001", Endpoint: "PJSIP/op1001", Skills: []string{"it"}}, time.Now()); err != nil {
		b.Fatal(err)
	}
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		if err := n.q.Pause(ctx, "op1001", "bench", time.Now()); err != nil {
			b.Fatal(err)
		}
		c, err := n.srv.Call(ctx, fmt.Sprintf("+39333%07d", i), helplineNumber, aritest.CallOptions{})
		if err != nil {
			b.Fatal(err)
		}
		n.arr.await(b, "POST /channels/"+c.ChannelID()+"/moh")
		poll(b, "call queued", func() bool {
			pos, err := n.q.Position(ctx, c.ChannelID())
			return err == nil && pos == 1
		})
		b.StartTimer()
		t0 := time.Now()
		if err := n.q.Unpause(ctx, "op1001", t0); err != nil {
			b.Fatal(err)
		}
		t1 := n.arr.await(b, "POST /channels "+c.ChannelID())
		lat = append(lat, t1.Sub(t0))
		b.StopTimer()
		_ = c.Hangup()
		n.awaitCDR(b, c.ChannelID())
		poll(b, "operator available", func() bool {
			op, err := n.q.Operator(ctx, "op1001")
			return err == nil && op.State == queue.Available
		})
		b.StartTimer()
	}
	b.StopTimer()
	reportPercentiles(b, lat)
}
