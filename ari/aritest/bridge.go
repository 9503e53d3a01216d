package aritest

import (
	"fmt"
	"strings"
	"time"

	"github.com/helpline-it/helpline/ari"
)

type bridge struct {
	id, name string
	typ      string // "mixing" or "holding"
	members  []*channel
	created  time.Time
	moh      string
	ctl      ctlQueue // bridge playbacks, one at a time
	cur      *playback
	gone     bool
}

func (b *bridge) snap() ari.Bridge {
	out := ari.Bridge{
		ID: b.id, BridgeType: b.typ, BridgeClass: "stasis", Creator: "Stasis", Name: b.name,
		Channels: []string{}, CreationTime: ari.Time{Time: b.created}, VideoMode: "talker",
	}
	switch {
	case b.typ == ari.BridgeTypeHolding:
		out.Technology, out.VideoMode = "holding_bridge", "none"
	case len(b.members) > 2:
		out.Technology = "softmix"
	default:
		out.Technology = "simple_bridge"
	}
	for _, m := range b.members {
		out.Channels = append(out.Channels, m.id)
	}
	return out
}

var bridgeFlags = map[string]bool{
	"mixing": true, "holding": true, "dtmf_events": true, "proxy_media": true,
	"video_sfu": true, "video_single": true, "sdp_label": true,
}

func hCreateBridge(s *Server, rq *request) response {
	s.lock()
	defer s.unlock()
	w := &s.w
	id := rq.param("bridgeId")
	if pid := rq.path["bridgeId"]; pid != "" {
		id = pid
	}
	typ := "mixing"
	if t := rq.param("type"); t != "" {
		holding := false
		for _, f := range strings.Split(t, ",") {
			if !bridgeFlags[strings.TrimSpace(f)] {
				shown := id
				if shown == "" {
					shown = "(null)"
				}
				return fail(500, fmt.Sprintf("Unable to create bridge. Possible duplicate bridge id '%s'", shown))
			}
			if strings.TrimSpace(f) == "holding" {
				holding = true
			}
		}
		if holding {
			typ = "holding"
		}
	}
	if id != "" {
		if b := w.bridges[id]; b != nil {
			if rq.path["bridgeId"] != "" {
				// POST /bridges/{id} on an existing bridge updates it.
				return ok(b.snap())
			}
			return fail(409, fmt.Sprintf("Bridge with id '%s' already exists", id))
		}
	} else {
		id = w.newUUID()
	}
	b := &bridge{id: id, name: rq.param("name"), typ: typ, created: s.now()}
	w.bridges[id] = b
	w.brOrder = append(w.brOrder, b)
	return ok(b.snap())
}

func hListBridges(s *Server, rq *request) response {
	s.lock()
	defer s.unlock()
	out := []ari.Bridge{}
	for _, b := range s.w.brOrder {
		out = append(out, b.snap())
	}
	return ok(out)
}

func hGetBridge(s *Server, rq *request) response {
	s.lock()
	defer s.unlock()
	b := s.w.bridges[rq.path["bridgeId"]]
	if b == nil {
		return fail(404, "Bridge not found")
	}
	return ok(b.snap())
}

func hDestroyBridge(s *Server, rq *request) response {
	s.lock()
	defer s.unlock()
	w := &s.w
	b := w.bridges[rq.path["bridgeId"]]
	if b == nil {
		return fail(404, "Bridge not found")
	}
	w.destroyBridge(b)
	return noContent()
}

func (w *world) destroyBridge(b *bridge) {
	for len(b.members) > 0 {
		w.leaveBridge(b.members[0])
	}
	b.ctl.flush()
	if b.cur != nil {
		w.finishPlayback(b.cur, ari.PlaybackStateDone)
	}
	b.gone = true
	w.emit(&ari.BridgeDestroyed{Bridge: b.snap()})
	for _, a := range w.appOrder {
		delete(a.bridges, b.id)
	}
	delete(w.bridges, b.id)
	for i, x := range w.brOrder {
		if x == b {
			w.brOrder = append(w.brOrder[:i], w.brOrder[i+1:]...)
			break
		}
	}
}

// bridgeChannels resolves the comma-separated channel parameter of
// addChannel/removeChannel with Asterisk's checks and statuses.
func (s *Server) bridgeChannels(rq *request) (*bridge, []*channel, response) {
	w := &s.w
	b := w.bridges[rq.path["bridgeId"]]
	if b == nil {
		return nil, nil, fail(404, "Bridge not found")
	}
	if rq.param("channel") == "" {
		return nil, nil, fail(400, "Missing parameter channel")
	}
	var chans []*channel
	for _, id := range strings.Split(rq.param("channel"), ",") {
		c := w.findChannel(strings.TrimSpace(id))
		if c == nil {
			return nil, nil, fail(400, "Channel not found")
		}
		chans = append(chans, c)
	}
	for _, c := range chans {
		if !c.inStasis() {
			return nil, nil, fail(422, "Channel not in Stasis application")
		}
	}
	return b, chans, response{}
}

func hAddChannel(s *Server, rq *request) response {
	s.lock()
	defer s.unlock()
	b, chans, r := s.bridgeChannels(rq)
	if b == nil {
		return r
	}
	for _, c := range chans {
		c := c
		res := s.syncCommand(rq, c, func() response {
			if b.gone {
				return fail(404, "Bridge not found")
			}
			s.w.joinBridge(b, c)
			return noContent()
		}, fail(422, "Channel not in Stasis application"))
		if res.status != 204 {
			return res
		}
	}
	return noContent()
}

func hRemoveChannel(s *Server, rq *request) response {
	s.lock()
	defer s.unlock()
	b, chans, r := s.bridgeChannels(rq)
	if b == nil {
		return r
	}
	for _, c := range chans {
		if c.bridge != b {
			return fail(422, "Channel not in this bridge")
		}
	}
	for _, c := range chans {
		c := c
		res := s.syncCommand(rq, c, func() response {
			if c.bridge == b {
				s.w.leaveBridge(c)
			}
			return noContent()
		}, fail(422, "Channel not in Stasis application"))
		if res.status != 204 {
			return res
		}
	}
	return noContent()
}

// joinBridge adds c to b: ChannelEnteredBridge, then (mixing bridges of
// two or more) BRIDGEPEER/BRIDGEPVTCALLID on every member and the
// connected-line updates, in the order of the traces.
func (w *world) joinBridge(b *bridge, c *channel) {
	if c.bridge == b {
		return
	}
	if c.bridge != nil {
		w.leaveBridge(c)
	}
	c.bridge = b
	b.members = append(b.members, c)
	if c.stasisApp != nil {
		c.stasisApp.bridges[b.id] = true
	}
	snap := c.snap()
	w.emit(&ari.ChannelEnteredBridge{Bridge: b.snap(), Channel: &snap})
	if c.party != nil {
		c.party.hear(Heard{Kind: "bridge", Media: b.id})
	}
	if b.typ != ari.BridgeTypeMixing || len(b.members) < 2 {
		return
	}
	for _, m := range b.members {
		var names, callIDs []string
		for _, p := range b.members {
			if p == m {
				continue
			}
			names = append(names, p.name)
			if p.kind == kindPJSIP {
				callIDs = append(callIDs, p.protocolID)
			}
		}
		if m.bridgeVar == nil {
			m.bridgeVar = map[string]bool{}
		}
		peer := strings.Join(names, ",")
		if m.vars["BRIDGEPEER"] != peer {
			w.setVar(m, "BRIDGEPEER", peer)
			m.bridgeVar["BRIDGEPEER"] = true
		}
		if len(callIDs) > 0 && m.vars["BRIDGEPVTCALLID"] != callIDs[0] {
			w.setVar(m, "BRIDGEPVTCALLID", callIDs[0])
			m.bridgeVar["BRIDGEPVTCALLID"] = true
		}
	}
	if len(b.members) == 2 {
		a, z := b.members[0], b.members[1]
		z.connected = a.caller
		a.connected = z.caller
		for _, m := range []*channel{z, a} {
			w.emit(&ari.ChannelConnectedLine{Channel: m.snap()})
			if o := m.other; o != nil && o.run != nil && !o.gone {
				o2, cid := o, m.connected
				o.run.deferUpdate(update{
					apply: func() { o2.caller = cid },
					announce: func() {
						if !o2.gone {
							w.callerIDEvent(o2)
						}
					},
				})
			}
		}
	}
}

// leaveBridge takes c out of its bridge: the bridge variables it got are
// cleared, then ChannelLeftBridge.
func (w *world) leaveBridge(c *channel) {
	b := c.bridge
	if b == nil {
		return
	}
	for _, v := range []string{"BRIDGEPEER", "BRIDGEPVTCALLID"} {
		if c.bridgeVar[v] {
			delete(c.bridgeVar, v)
			w.setVar(c, v, "")
		}
	}
	for i, m := range b.members {
		if m == c {
			b.members = append(b.members[:i], b.members[i+1:]...)
			break
		}
	}
	c.bridge = nil
	w.emit(&ari.ChannelLeftBridge{Bridge: b.snap(), Channel: c.snap()})
	if c.party != nil {
		c.party.stopHearing("bridge", "", "")
	}
}

func hBridgeMOHStart(s *Server, rq *request) response {
	s.lock()
	defer s.unlock()
	b := s.w.bridges[rq.path["bridgeId"]]
	if b == nil {
		return fail(404, "Bridge not found")
	}
	class := rq.param("mohClass")
	if class == "" {
		class = "default"
	}
	b.moh = class
	for _, m := range b.members {
		if m.party != nil {
			m.party.hear(Heard{Kind: "moh", Media: class})
		}
	}
	return noContent()
}

func hBridgeMOHStop(s *Server, rq *request) response {
	s.lock()
	defer s.unlock()
	b := s.w.bridges[rq.path["bridgeId"]]
	if b == nil {
		return fail(404, "Bridge not found")
	}
	b.moh = ""
	for _, m := range b.members {
		if m.party != nil {
			m.party.stopHearing("moh", "", "")
		}
	}
	return noContent()
}
