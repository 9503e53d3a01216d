package aritest

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"time"

	"github.com/coder/websocket"

	"github.com/helpline-it/helpline/ari"
)

// wsConn is one event WebSocket (/ari/events?app=...). Events are queued
// under the world lock, in emission order, and written by one goroutine,
// so a slow reader delays nothing in the world and loses nothing.
type wsConn struct {
	s        *Server
	apps     []string
	conn     *websocket.Conn
	queue    [][]byte
	notify   chan struct{}
	closed   bool
	enqueued int // events queued so far (tests compare with what they read)
	cancel   context.CancelFunc
}

func (c *wsConn) enqueue(b []byte) {
	if c.closed {
		return
	}
	c.queue = append(c.queue, b)
	c.enqueued++
	select {
	case c.notify <- struct{}{}:
	default:
	}
}

// serveEvents upgrades GET /ari/events and registers the socket as the
// apps' event stream. A second socket for an app replaces the first: the
// old one gets ApplicationReplaced and nothing more for that app.
func (s *Server) serveEvents(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	var apps []string
	for _, a := range strings.Split(q.Get("app"), ",") {
		if a = strings.TrimSpace(a); a != "" {
			apps = append(apps, a)
		}
	}
	if len(apps) == 0 {
		s.logRequest(r, "/events", "", nil, http.StatusBadRequest)
		writeJSON(w, http.StatusBadRequest, errBody("Invalid application provided in param [app]."))
		return
	}
	conn, err := websocket.Accept(w, r, &websocket.AcceptOptions{Subprotocols: []string{"ari"}})
	if err != nil {
		return
	}
	ctx, cancel := context.WithCancel(s.closeCtx)
	wc := &wsConn{s: s, apps: apps, conn: conn, notify: make(chan struct{}, 1), cancel: cancel}
	all := isTrue(q.Get("subscribeAll"))

	s.lock()
	if s.closed {
		s.unlock()
		cancel()
		_ = conn.Close(websocket.StatusGoingAway, "shutting down")
		return
	}
	s.w.sockets = append(s.w.sockets, wc)
	for _, name := range apps {
		a := s.w.app(name)
		if old := a.sock; old != nil && old != wc {
			ev := &ari.ApplicationReplaced{}
			ev.Type = "ApplicationReplaced"
			ev.Application = name
			ev.Timestamp = ari.Time{Time: s.now()}
			ev.AsteriskID = s.cfg.AsteriskID
			if b, err := json.Marshal(ev); err == nil {
				old.enqueue(b)
			}
		}
		a.sock = wc
		a.subscribed = true
		a.all = all
	}
	s.logf("event socket for %v (subscribeAll=%v)", apps, all)
	s.unlock()

	s.wsWG.Add(1)
	defer s.wsWG.Done()
	readCtx := conn.CloseRead(ctx)
	for {
		s.mu.Lock()
		batch := wc.queue
		wc.queue = nil
		closed := wc.closed
		s.mu.Unlock()
		for _, b := range batch {
			wctx, wcancel := context.WithTimeout(readCtx, 10*time.Second)
			err := conn.Write(wctx, websocket.MessageText, b)
			wcancel()
			if err != nil {
				s.detach(wc)
				return
			}
		}
		if closed {
			// The server is closing: cut the socket rather than wait for
			// the client's half of a close handshake.
			_ = conn.CloseNow()
			s.detach(wc)
			return
		}
		select {
		case <-wc.notify:
		case <-readCtx.Done():
			s.detach(wc)
			_ = conn.CloseNow()
			return
		}
	}
}

// isTrue is Asterisk's ast_true for a boolean parameter.
func isTrue(v string) bool {
	switch strings.ToLower(v) {
	case "true", "yes", "y", "t", "1", "on":
		return true
	}
	return false
}

// detach forgets a socket; its apps stay registered (GET /applications
// still lists them) but events for them are lost until a new socket
// connects, as with Asterisk.
func (s *Server) detach(wc *wsConn) {
	s.lock()
	defer s.unlock()
	wc.closed = true
	wc.queue = nil
	for _, name := range wc.apps {
		if a := s.w.apps[name]; a != nil && a.sock == wc {
			a.sock = nil
		}
	}
	for i, x := range s.w.sockets {
		if x == wc {
			s.w.sockets = append(s.w.sockets[:i], s.w.sockets[i+1:]...)
			break
		}
	}
	wc.cancel()
}

// DropWebSockets cuts every event WebSocket at once, without a close
// handshake, as a network failure would. Events raised before the clients
// reconnect are lost; nothing is replayed afterwards.
func (s *Server) DropWebSockets() {
	s.lock()
	socks := append([]*wsConn(nil), s.w.sockets...)
	s.unlock()
	for _, wc := range socks {
		_ = wc.conn.CloseNow()
		s.detach(wc)
	}
}

func (w *world) closeAllSockets() {
	for _, wc := range w.sockets {
		wc.closed = true
		for _, name := range wc.apps {
			if a := w.apps[name]; a != nil && a.sock == wc {
				a.sock = nil
			}
		}
		select {
		case wc.notify <- struct{}{}:
		default:
		}
	}
}
