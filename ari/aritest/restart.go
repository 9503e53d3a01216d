package aritest

import "time"

// RestartAsterisk emulates Asterisk dying and starting again (a crash, a
// `systemctl restart`, an OOM kill), as the apps see it:
//
//   - every event WebSocket is cut without a close handshake, first, so
//     no event of what follows reaches anyone (a dead Asterisk sends
//     nothing);
//   - every channel vanishes: the PSTN callers and the softphones hear the
//     line drop (their Call ends, by the network, cause 38 "Network out of
//     order"), playbacks and ringing legs are gone, a recording in
//     progress keeps what was written so far (stored recordings are files
//     on disk and survive);
//   - every bridge is gone;
//   - the applications are forgotten: they register again when their
//     clients reconnect, and GET /applications lists none until then;
//   - GET /asterisk/info reports a new status.startup_time (the world's
//     time now), which is how a client tells a restart from a mere
//     WebSocket drop.
//
// The world's clock, endpoints, dialplan and stored recordings are kept.
// Clients reconnect as they would to a real Asterisk (their backoff).
func (s *Server) RestartAsterisk() {
	s.lock()
	socks := append([]*wsConn(nil), s.w.sockets...)
	for _, wc := range socks {
		wc.closed = true
		wc.queue = nil
		wc.cancel()
	}
	s.w.sockets = nil
	for _, a := range s.w.appOrder {
		a.sock = nil
	}
	w := &s.w
	for _, c := range append([]*channel(nil), w.chanOrder...) {
		w.hangup(c, hangupRequest{cause: causeNetworkDown, hasCause: true}, causeNetworkDown, "network")
	}
	// After the teardowns (scheduled at this instant by hangup).
	s.after(0, func() {
		for _, b := range append([]*bridge(nil), w.brOrder...) {
			w.destroyBridge(b)
		}
		w.apps = map[string]*app{}
		w.appOrder = nil
		w.devices = map[string]string{}
	})
	if s.vnow.After(s.started.Add(time.Second)) {
		s.started = s.vnow
	} else {
		s.started = s.started.Add(time.Second) // a boot time of its own, even on a clock that did not move
	}
	s.logf("Asterisk restarted: %d channels and %d bridges gone", len(w.chanOrder), len(w.brOrder))
	s.unlock()
	for _, wc := range socks {
		_ = wc.conn.CloseNow()
	}
}

// causeNetworkDown is Q.850 38, "Network out of order": what the far end
// of a call sees when Asterisk dies under it.
const causeNetworkDown = 38
