package demo

import (
	"context"
	"io"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"syscall"

	"github.com/redis/go-redis/v9"

	"github.com/helpline-it/helpline/cdr"
)

// Activity is a Meter built from the switchboard's own traffic: wrap its
// HTTP transport to Asterisk, hook its Redis clients, wrap its record
// writer, dial its connections through Dial, and Watch anything else that
// moves (the ARI event stream's counters). It is safe for concurrent use;
// the zero value is ready.
//
// Dial is what makes a frame on its way visible: an ARI event or a Redis
// publication written by the server but not yet read by the switchboard
// is in no counter, but it is in the receiving socket's buffer, which
// Pending looks into (FIONREAD).
type Activity struct {
	moves    atomic.Uint64
	inFlight atomic.Int64

	mu      sync.Mutex
	sources []func() (uint64, int64)
	conns   map[*watchedConn]struct{}
}

var _ Meter = (*Activity)(nil)

// Activity sums what every instrument saw.
func (a *Activity) Activity() (uint64, int64) {
	moves, inFlight := a.moves.Load(), a.inFlight.Load()
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, f := range a.sources {
		m, n := f()
		moves += m
		inFlight += n
	}
	return moves, inFlight
}

// Pending reports whether bytes wait unread in a socket dialled through
// Dial: a frame on its way. It costs a system call a socket, so the
// Driver asks only once the counters look quiet.
func (a *Activity) Pending() bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	for c := range a.conns {
		if sc, ok := c.Conn.(syscall.Conn); ok && pending(sc) > 0 {
			return true
		}
	}
	return false
}

// Dial wraps a dial function (nil: a net.Dialer's): the connections it
// makes are watched for bytes waiting to be read until they are closed.
// Use it as http.Transport.DialContext and redis.Options.Dialer.
func (a *Activity) Dial(dial func(ctx context.Context, network, addr string) (net.Conn, error)) func(ctx context.Context, network, addr string) (net.Conn, error) {
	if dial == nil {
		dial = (&net.Dialer{}).DialContext
	}
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := dial(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		w := &watchedConn{Conn: c, a: a}
		a.mu.Lock()
		if a.conns == nil {
			a.conns = map[*watchedConn]struct{}{}
		}
		a.conns[w] = struct{}{}
		a.mu.Unlock()
		return w, nil
	}
}

// watchedConn is a connection Activity looks into.
type watchedConn struct {
	net.Conn
	a    *Activity
	once sync.Once
}

func (w *watchedConn) Close() error {
	w.once.Do(func() {
		w.a.mu.Lock()
		delete(w.a.conns, w)
		w.a.mu.Unlock()
	})
	return w.Conn.Close()
}

// Watch adds a source of activity, e.g. the ARI event stream's frames
// read and delivered, and its backlog as work in flight.
func (a *Activity) Watch(f func() (moves uint64, inFlight int64)) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.sources = append(a.sources, f)
}

func (a *Activity) begin() { a.moves.Add(1); a.inFlight.Add(1) }
func (a *Activity) end()   { a.moves.Add(1); a.inFlight.Add(-1) }

// Transport counts the requests made through next (nil: a transport of
// its own whose connections are dialled through Dial); a request is over
// when its response body is closed.
func (a *Activity) Transport(next http.RoundTripper) http.RoundTripper {
	if next == nil {
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.DialContext = a.Dial(nil)
		next = t
	}
	return &countingTransport{a: a, next: next}
}

type countingTransport struct {
	a    *Activity
	next http.RoundTripper
}

func (t *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	t.a.begin()
	resp, err := t.next.RoundTrip(r)
	if err != nil {
		t.a.end()
		return nil, err
	}
	resp.Body = &countedBody{ReadCloser: resp.Body, a: t.a}
	return resp, nil
}

type countedBody struct {
	io.ReadCloser
	once sync.Once
	a    *Activity
}

func (b *countedBody) Close() error {
	err := b.ReadCloser.Close()
	b.once.Do(b.a.end)
	return err
}

// RedisHook counts the commands and pipelines sent through a go-redis
// client (client.AddHook). A subscription's wait for messages is not a
// command and does not count.
func (a *Activity) RedisHook() redis.Hook { return redisHook{a} }

type redisHook struct{ a *Activity }

func (h redisHook) DialHook(next redis.DialHook) redis.DialHook {
	return func(ctx context.Context, network, addr string) (net.Conn, error) { return next(ctx, network, addr) }
}

func (h redisHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		h.a.begin()
		defer h.a.end()
		return next(ctx, cmd)
	}
}

func (h redisHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		h.a.begin()
		defer h.a.end()
		return next(ctx, cmds)
	}
}

// Writer counts the records written through w.
func (a *Activity) Writer(w cdr.Writer) cdr.Writer { return countingWriter{a: a, w: w} }

type countingWriter struct {
	a *Activity
	w cdr.Writer
}

func (c countingWriter) Write(ctx context.Context, r cdr.Record) error {
	c.a.begin()
	defer c.a.end()
	return c.w.Write(ctx, r)
}
