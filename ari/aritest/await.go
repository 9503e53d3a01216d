package aritest

import (
	"context"

	"github.com/helpline-it/helpline/ari"
)

// AwaitApp waits until app has a connected event WebSocket: calls placed
// before that fail to enter Stasis, as on a real Asterisk.
func (s *Server) AwaitApp(ctx context.Context, app string) error {
	return s.await(ctx, func() (bool, error) {
		a := s.w.apps[app]
		return a != nil && a.sock != nil, nil
	})
}

// Channels returns the live channels, as GET /channels would.
func (s *Server) Channels() []ari.Channel {
	s.lock()
	defer s.unlock()
	var out []ari.Channel
	for _, c := range s.w.chanOrder {
		out = append(out, c.snap())
	}
	return out
}

// AwaitChannel waits until some live channel satisfies pred and returns it.
func (s *Server) AwaitChannel(ctx context.Context, pred func(ari.Channel) bool) (ari.Channel, error) {
	var got ari.Channel
	err := s.await(ctx, func() (bool, error) {
		for _, c := range s.w.chanOrder {
			if snap := c.snap(); pred(snap) {
				got = snap
				return true, nil
			}
		}
		return false, nil
	})
	return got, err
}

// AwaitNoChannels waits until every channel is gone.
func (s *Server) AwaitNoChannels(ctx context.Context) error {
	return s.await(ctx, func() (bool, error) { return len(s.w.chanOrder) == 0, nil })
}

// Events returns the events the emulator raised so far, delivered or not
// (the latest 50,000 to 100,000 of a long run).
func (s *Server) Events() []LoggedEvent {
	s.lock()
	defer s.unlock()
	return append([]LoggedEvent(nil), s.w.events...)
}

// AwaitEvent waits until an event (raised at any time, including before
// the call) satisfies pred, and returns the first such event.
func (s *Server) AwaitEvent(ctx context.Context, pred func(ari.Event) bool) (ari.Event, error) {
	var got ari.Event
	err := s.await(ctx, func() (bool, error) {
		for _, e := range s.w.events {
			if pred(e.Event) {
				got = e.Event
				return true, nil
			}
		}
		return false, nil
	})
	return got, err
}

// AwaitRequest waits until the app sent a REST request matching method
// and route (a route template such as "/channels/{channelId}/answer") and
// returns the first one.
func (s *Server) AwaitRequest(ctx context.Context, method, route string) (Request, error) {
	var got Request
	err := s.await(ctx, func() (bool, error) {
		for _, r := range s.requests {
			if r.Method == method && (r.Route == route || r.Path == route) {
				got = r
				return true, nil
			}
		}
		return false, nil
	})
	return got, err
}

// Calls returns the simulated parties placed or called so far.
func (s *Server) Calls() []*Call {
	s.lock()
	defer s.unlock()
	return append([]*Call(nil), s.w.calls...)
}
