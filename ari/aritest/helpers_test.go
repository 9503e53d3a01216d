package aritest_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/jonboulle/clockwork"

	"github.com/helpline-it/helpline/ari/aritest"
)

// These tests speak raw HTTP and WebSocket to the emulator, as any ARI
// client would, so that they check the wire and depend on no client code.

// fixture is an emulator on a fake clock with one app connected.
type fixture struct {
	t     *testing.T
	srv   *aritest.Server
	clock *clockwork.FakeClock
	app   *appConn
}

func newFixture(t *testing.T, edit ...func(*aritest.Config)) *fixture {
	t.Helper()
	clock := clockwork.NewFakeClockAt(time.Date(2026, 11, 23, 15, 0, 0, 0, time.UTC))
	cfg := aritest.Config{Clock: clock, Logf: t.Logf}
	for _, e := range edit {
		e(&cfg)
	}
	srv := aritest.NewServer(cfg)
	t.Cleanup(srv.Close)
	f := &fixture{t: t, srv: srv, clock: clock}
	f.app = f.connect("helpline", false)
	return f
}

func ctxFor(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// appConn is an app's event WebSocket.
type appConn struct {
	t      *testing.T
	ws     *websocket.Conn
	mu     sync.Mutex
	cond   *sync.Cond
	events []map[string]any
	raw    [][]byte
	closed bool
	next   int
}

func (f *fixture) connect(app string, subscribeAll bool) *appConn {
	f.t.Helper()
	u := strings.Replace(f.srv.URL, "http", "ws", 1) + "/ari/events?app=" + app
	if subscribeAll {
		u += "&subscribeAll=true"
	}
	ctx, cancel := context.WithCancel(context.Background())
	ws, _, err := websocket.Dial(ctxFor(f.t), u, &websocket.DialOptions{HTTPHeader: http.Header{"Authorization": {f.srv.BasicAuth()}}})
	if err != nil {
		cancel()
		f.t.Fatalf("dial events: %v", err)
	}
	c := &appConn{t: f.t, ws: ws}
	c.cond = sync.NewCond(&c.mu)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			_, b, err := ws.Read(ctx)
			c.mu.Lock()
			if err != nil {
				c.closed = true
				c.cond.Broadcast()
				c.mu.Unlock()
				return
			}
			var m map[string]any
			if json.Unmarshal(b, &m) == nil {
				c.events = append(c.events, m)
				c.raw = append(c.raw, b)
			}
			c.cond.Broadcast()
			c.mu.Unlock()
		}
	}()
	f.t.Cleanup(func() { cancel(); _ = ws.CloseNow(); <-done })
	if err := f.srv.AwaitApp(ctxFor(f.t), app); err != nil {
		f.t.Fatal(err)
	}
	return c
}

// await returns the next event of type typ (skipping others) for which
// pred holds.
func (c *appConn) await(typ string, pred func(map[string]any) bool) map[string]any {
	c.t.Helper()
	ctx := ctxFor(c.t)
	stop := context.AfterFunc(ctx, func() { c.mu.Lock(); c.cond.Broadcast(); c.mu.Unlock() })
	defer stop()
	c.mu.Lock()
	defer c.mu.Unlock()
	for {
		for ; c.next < len(c.events); c.next++ {
			e := c.events[c.next]
			if e["type"] == typ && (pred == nil || pred(e)) {
				c.next++
				return e
			}
		}
		if c.closed || ctx.Err() != nil {
			c.t.Fatalf("no %s event (closed=%v, err=%v); got %d events", typ, c.closed, ctx.Err(), len(c.events))
		}
		c.cond.Wait()
	}
}

// types returns the types of all events received so far.
func (c *appConn) types() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []string
	for _, e := range c.events {
		out = append(out, e["type"].(string))
	}
	return out
}

type reply struct {
	status int
	body   map[string]any
	list   []any
	raw    []byte
	ctype  string
}

// do sends an ARI request; query is "k=v&k2=v2" (already encoded).
func (f *fixture) do(method, path, query string, body any) reply {
	f.t.Helper()
	u := f.srv.URL + "/ari" + path
	if query != "" {
		u += "?" + query
	}
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = strings.NewReader(string(b))
	}
	req, _ := http.NewRequest(method, u, rd)
	req.Header.Set("Authorization", f.srv.BasicAuth())
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		f.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	r := reply{status: resp.StatusCode, raw: b, ctype: resp.Header.Get("Content-Type")}
	_ = json.Unmarshal(b, &r.body)
	_ = json.Unmarshal(b, &r.list)
	return r
}

// doAsync sends a request whose answer may wait for the clock.
func (f *fixture) doAsync(method, path, query string) <-chan reply {
	ch := make(chan reply, 1)
	go func() {
		u := f.srv.URL + "/ari" + path
		if query != "" {
			u += "?" + query
		}
		req, _ := http.NewRequest(method, u, nil)
		req.Header.Set("Authorization", f.srv.BasicAuth())
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			ch <- reply{status: -1}
			return
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		r := reply{status: resp.StatusCode, raw: b}
		_ = json.Unmarshal(b, &r.body)
		ch <- r
	}()
	return ch
}

// advance moves the fake clock and applies what became due.
func (f *fixture) advance(d time.Duration) {
	f.clock.Advance(d)
	f.srv.Flush()
}

func (f *fixture) expect(r reply, status int, what string) {
	f.t.Helper()
	if r.status != status {
		f.t.Fatalf("%s: status %d (%s), want %d", what, r.status, r.raw, status)
	}
}

func chanID(e map[string]any) string {
	return e["channel"].(map[string]any)["id"].(string)
}

func q(kv ...string) string {
	v := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Set(kv[i], kv[i+1])
	}
	return v.Encode()
}
