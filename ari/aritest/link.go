package aritest

import (
	"strings"
	"sync"
	"time"
)

// links holds a server's inter-node trunks (Link); its own lock, so that
// reading it never nests inside the world's.
type links struct {
	mu    sync.Mutex
	peers map[string]*Server
}

// Link joins this Asterisk to peer through the inter-node trunk endpoint
// trunk ("internode-node2"), as `helpline asterisk-config` generates it on
// both sides: an originate here to "PJSIP/<user>@<trunk>" is an INVITE to
// peer, whose internode context dials its own softphone <user>. Link is
// one way; link the two servers both ways for calls in both directions.
//
// The leg here is what Asterisk shows for a call through a trunk: a PJSIP
// channel of the trunk endpoint ("PJSIP/<trunk>-0000000a", Dial events
// with dialstring "<user>@<trunk>") that rings, answers, rejects or talks
// as peer's softphone <user> does (its Phone script, read when the INVITE
// leaves; Server.AwaitRinging(trunk) here returns it for a Manual phone).
// When peer cannot reach the softphone — no such endpoint, offline, or
// peer closed (a dead node) — peer's Dial fails and the INVITE gets 480:
// the leg fails with cause 19 after ringing, as the far end's dialplan
// ends without answering. Peer's own channels for the two legs it bridges
// in its dialplan are not emulated.
func (s *Server) Link(trunk string, peer *Server) {
	s.links.mu.Lock()
	defer s.links.mu.Unlock()
	if s.links.peers == nil {
		s.links.peers = map[string]*Server{}
	}
	s.links.peers[trunk] = peer
}

// linkedPhone resolves an originate's endpoint argument through a linked
// trunk: trunk is "" when the endpoint names no "<user>@<trunk>" of a
// linked trunk. It takes peer's lock only, never the caller's.
func (s *Server) linkedPhone(endpointArg string) (trunk, user string, ep *endpoint) {
	tech, resource, _ := strings.Cut(endpointArg, "/")
	user, trunk, ok := strings.Cut(resource, "@")
	if tech != "PJSIP" || !ok || user == "" {
		return "", "", nil
	}
	s.links.mu.Lock()
	peer := s.links.peers[trunk]
	s.links.mu.Unlock()
	if peer == nil {
		return "", "", nil
	}
	unreachable := &endpoint{Endpoint{Resource: trunk, Phone: Phone{Answer: RejectUnavailable, RingFor: 100 * time.Millisecond}}}
	peer.mu.Lock()
	defer peer.mu.Unlock()
	if peer.closed {
		return trunk, user, unreachable
	}
	far := peer.w.endpoint(user)
	if far == nil || far.Offline {
		return trunk, user, unreachable
	}
	return trunk, user, &endpoint{Endpoint{Resource: trunk, Context: "internode", Phone: far.Phone}}
}
