package queue

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/helpline-it/helpline/internal/redisfault"
)

// ReasonUnreachable is the pause reason of an operator whose node stopped
// beating (Nodes.Reap): their softphone is registered on an Asterisk that
// is gone, so no node can ring it. It is a pause, not a state of its own,
// so every view, metric and transition of a paused operator applies; the
// operator's node lifts it when it beats again, and the operator may
// unpause by hand (after registering elsewhere) like after any pause.
const ReasonUnreachable = "unreachable"

// ReasonNodeDown is the Reason of the EventLeft of a call removed because
// its node died.
const ReasonNodeDown = "node_down"

// Nodes is the multi-node side of a shared queue: several helpline nodes,
// each attached to its own Asterisk, share one store. Both stores
// implement it.
//
// A call belongs to the node that holds its channel (Call.Node) and only
// that node can bridge it; an operator is hosted by the node whose
// Asterisk their softphone registered with (Host), and is reached from
// any other node through the inter-node trunk. Assign stays global (the
// oldest call with a matching operator, wherever both are), so arrival
// order holds across nodes; an offer for another node's call is handed
// over to that node (HandOver/HandedOver) and rung from there. The offer's
// reservation bounds every failure of the hand-over: an offer that is
// lost, late, or reaches a node that died simply expires and the call
// returns to its place.
//
// Liveness: each node beats (Heartbeat) with a TTL on the caller's clock;
// any node may Reap the nodes whose beat expired. Reaping pauses the dead
// node's operators (ReasonUnreachable) and removes its calls, whose
// channels died with its Asterisk. Reap is atomic and idempotent, so
// every node runs it.
type Nodes interface {
	// Heartbeat records that node is alive until now+ttl. If node had
	// been reaped, its operators paused ReasonUnreachable become available
	// again; their number is returned.
	Heartbeat(ctx context.Context, node string, now time.Time, ttl time.Duration) (revived int, err error)
	// Host records that operatorID's phone is registered on node.
	Host(ctx context.Context, operatorID, node string) error
	// HostOf returns the node hosting operatorID, "" if none was recorded.
	HostOf(ctx context.Context, operatorID string) (string, error)
	// Remote records that operatorID, hosted on another node, is rung
	// through the trunk for callID, held by node: if node dies while they
	// talk (busy with callID), Reap makes them available again, since the
	// call died with node's Asterisk and no flow will ever Finish it.
	Remote(ctx context.Context, operatorID, callID, node string) error
	// Reap deals with every node whose heartbeat expired by now (see
	// Nodes) and returns their names, sorted.
	Reap(ctx context.Context, now time.Time) ([]string, error)
	// HandOver passes o to the node that owns its call (o.Node).
	HandOver(ctx context.Context, o Offer) error
	// HandedOver streams the offers handed over to node until ctx ends,
	// then closes the channel. One receiver per node.
	HandedOver(ctx context.Context, node string) (<-chan Offer, error)
}

var _ Nodes = (*Redis)(nil)
var _ Nodes = (*Memory)(nil)

// handOverPoll bounds how long a BLPOP blocks, so HandedOver notices a
// cancelled context.
const handOverPoll = time.Second

// wireOffer is an offer on a node's hand-over list.
type wireOffer struct {
	Call string `json:"call"`
	Op   string `json:"op"`
	Ep   string `json:"ep"`
	Lang string `json:"lang"`
	Node string `json:"node"`
	Exp  int64  `json:"exp"`
}

// EncodeOffer is the hand-over wire form of o (JSON, times in Unix ms).
func EncodeOffer(o Offer) ([]byte, error) {
	return json.Marshal(wireOffer{Call: o.CallID, Op: o.OperatorID, Ep: o.Endpoint, Lang: o.Language, Node: o.Node, Exp: o.Expires.UnixMilli()})
}

// DecodeOffer parses EncodeOffer's form; an offer without call, operator
// or expiry is an error.
func DecodeOffer(b []byte) (Offer, error) {
	var w wireOffer
	if err := json.Unmarshal(b, &w); err != nil {
		return Offer{}, fmt.Errorf("queue: decoding handed-over offer: %w", err)
	}
	if w.Call == "" || w.Op == "" || w.Exp <= 0 {
		return Offer{}, fmt.Errorf("queue: decoding handed-over offer: missing call, operator or expiry in %s", b)
	}
	return Offer{CallID: w.Call, OperatorID: w.Op, Endpoint: w.Ep, Language: w.Lang, Node: w.Node, Expires: time.UnixMilli(w.Exp)}, nil
}

// Keys of the multi-node state (same hash tag as the rest).
func (r *Redis) nodesKey() string               { return r.base + ":nodes" }
func (r *Redis) deadKey() string                { return r.base + ":dead" }
func (r *Redis) hostsKey() string               { return r.base + ":hosts" }
func (r *Redis) viaKey() string                 { return r.base + ":via" }
func (r *Redis) handOverKey(node string) string { return r.base + ":handover:" + node }

// runNodes runs one of the nodes scripts: the common layout plus the
// three multi-node keys at its end (see nodes_scripts.go).
func (r *Redis) runNodes(ctx context.Context, op string, s *redis.Script, args ...any) (any, error) {
	for attempt := 0; ; attempt++ {
		keys, pre := r.layout(nil)
		keys = append(keys[:len(keys):len(keys)], r.nodesKey(), r.deadKey(), r.hostsKey(), r.viaKey())
		argv := make([]any, 0, len(pre)+len(args))
		argv = append(append(argv, pre...), args...)
		res, err := s.Run(ctx, r.c, keys, argv...).Result()
		if err == nil || errors.Is(err, redis.Nil) {
			return res, err
		}
		if _, c, _ := redisfault.Classify(err); c != "LANGS" || attempt >= 3 {
			return nil, classify(op, err)
		}
		if err := r.reloadLangs(ctx); err != nil {
			return nil, classify(op+": reloading languages", err)
		}
	}
}

// Heartbeat implements Nodes.
func (r *Redis) Heartbeat(ctx context.Context, node string, now time.Time, ttl time.Duration) (int, error) {
	if err := checkName("node", node); err != nil {
		return 0, err
	}
	if ttl < time.Millisecond {
		return 0, fmt.Errorf("%w: heartbeat TTL %v", ErrInvalid, ttl)
	}
	res, err := r.runNodes(ctx, "heartbeat "+node, heartbeatScript, node, now.UnixMilli(), now.Add(ttl).UnixMilli())
	if err != nil {
		return 0, err
	}
	n, _ := res.(int64)
	return int(n), nil
}

// Host implements Nodes.
func (r *Redis) Host(ctx context.Context, operatorID, node string) error {
	if err := checkID("operator", operatorID); err != nil {
		return err
	}
	if err := checkName("node", node); err != nil {
		return err
	}
	if err := r.c.HSet(ctx, r.hostsKey(), operatorID, node).Err(); err != nil {
		return classify("host "+operatorID, err)
	}
	return nil
}

// HostOf implements Nodes.
func (r *Redis) HostOf(ctx context.Context, operatorID string) (string, error) {
	n, err := r.c.HGet(ctx, r.hostsKey(), operatorID).Result()
	if errors.Is(err, redis.Nil) {
		return "", nil
	}
	if err != nil {
		return "", classify("host of "+operatorID, err)
	}
	return n, nil
}

// Remote implements Nodes.
func (r *Redis) Remote(ctx context.Context, operatorID, callID, node string) error {
	if err := errors.Join(checkID("operator", operatorID), checkID("call", callID), checkName("node", node)); err != nil {
		return err
	}
	if err := r.c.HSet(ctx, r.viaKey(), operatorID, node+"\t"+callID).Err(); err != nil {
		return classify("remote "+operatorID, err)
	}
	return nil
}

// Reap implements Nodes.
func (r *Redis) Reap(ctx context.Context, now time.Time) ([]string, error) {
	res, err := r.runNodes(ctx, "reap", reapScript, now.UnixMilli())
	if err != nil {
		return nil, err
	}
	v, _ := res.([]any)
	out := make([]string, 0, len(v))
	for _, s := range v {
		str, _ := s.(string)
		out = append(out, str)
	}
	return out, nil
}

// HandOver implements Nodes: the offer is pushed on the owner's list,
// which expires (server clock, garbage collection only) a little after
// the offer would.
func (r *Redis) HandOver(ctx context.Context, o Offer) error {
	if err := checkName("node", o.Node); err != nil {
		return fmt.Errorf("hand over %s: %w", o.CallID, err)
	}
	b, err := EncodeOffer(o)
	if err != nil {
		return err
	}
	key := r.handOverKey(o.Node)
	_, err = r.c.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.RPush(ctx, key, b)
		p.Expire(ctx, key, time.Minute)
		return nil
	})
	if err != nil {
		return classify("hand over "+o.CallID, err)
	}
	return nil
}

// HandedOver implements Nodes with a BLPOP loop on the node's list. A
// malformed entry is logged and dropped (its offer expires); a store
// error is retried after a pause.
func (r *Redis) HandedOver(ctx context.Context, node string) (<-chan Offer, error) {
	if err := checkName("node", node); err != nil {
		return nil, err
	}
	key := r.handOverKey(node)
	out := make(chan Offer)
	go func() {
		defer close(out)
		for ctx.Err() == nil {
			v, err := r.c.BLPop(ctx, handOverPoll, key).Result()
			if errors.Is(err, redis.Nil) {
				continue
			}
			if err != nil {
				if ctx.Err() != nil {
					return
				}
				r.log.Warn().Err(err).Str("node", node).Msg("queue: reading handed-over offers failed; retrying")
				t := time.NewTimer(handOverPoll)
				select {
				case <-ctx.Done():
					t.Stop()
					return
				case <-t.C:
				}
				continue
			}
			if len(v) != 2 {
				continue
			}
			o, err := DecodeOffer([]byte(v[1]))
			if err != nil {
				r.log.Warn().Err(err).Str("node", node).Msg("queue: dropping malformed handed-over offer")
				continue
			}
			select {
			case out <- o:
			case <-ctx.Done():
				return
			}
		}
	}()
	return out, nil
}

// HostLogins returns q whose Login first records node as the operator's
// host (Nodes.Host on n), so that every node knows where to ring them from
// the moment they are available. The node's operator side (feature codes
// dialled from the softphone registered with this node's Asterisk) uses
// it. A failure to record the host (Redis down: the node runs on its
// in-process queue, where hosts do not matter) is passed to onErr and
// does not fail the login.
func HostLogins(q Queue, n Nodes, node string, onErr func(operatorID string, err error)) Queue {
	return hostLogins{Queue: q, n: n, node: node, onErr: onErr}
}

type hostLogins struct {
	Queue
	n     Nodes
	node  string
	onErr func(string, error)
}

// Login implements Queue.
func (h hostLogins) Login(ctx context.Context, op Operator, now time.Time) error {
	if err := h.n.Host(ctx, op.ID, h.node); err != nil && h.onErr != nil {
		h.onErr(op.ID, err)
	}
	return h.Queue.Login(ctx, op, now)
}
