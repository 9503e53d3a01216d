package queue

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/helpline-it/helpline/internal/redisfault"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/rs/zerolog"
)

// RedisOptions configures a Redis store.
type RedisOptions struct {
	// Prefix namespaces every key and the events channel; default
	// "helpline".
	Prefix string
	// Service is the helpline service this queue serves (required); keys
	// carry it as a Redis Cluster hash tag, "{<service>}", so one
	// service's keys share a slot and its scripts may touch them all.
	Service string
	// Languages known up front (optional): others are discovered as calls
	// and operators bring them.
	Languages []string
	// Logger receives warnings (malformed events, language reloads).
	Logger zerolog.Logger
}

// Redis is the shared queue: state in Redis, every multi-key step one Lua
// script (see scripts.go for the key layout and each script's contract).
type Redis struct {
	c       redis.UniversalClient
	base    string
	events  string
	service string
	log     zerolog.Logger
	dropped atomic.Int64

	// snap caches decoded records for Snapshot (see recordCache);
	// snapJoin shares reads between concurrent Snapshots.
	snap     recordCache
	snapJoin snapJoin

	mu    sync.RWMutex
	langs []string // sorted; a subset of the server's langs set
	// keys and pre cache layout(nil) for langs: the hot path builds no
	// key strings.
	keys []string
	pre  []any
}

var _ Queue = (*Redis)(nil)
var _ Watcher = (*Redis)(nil)

// NewRedis returns a Redis store using client c (any go-redis client:
// single node, sentinel-backed or cluster).
func NewRedis(c redis.UniversalClient, o RedisOptions) (*Redis, error) {
	if c == nil {
		return nil, fmt.Errorf("%w: nil Redis client", ErrInvalid)
	}
	if err := checkName("service", o.Service); err != nil {
		return nil, err
	}
	if o.Prefix == "" {
		o.Prefix = "helpline"
	}
	if strings.ContainsAny(o.Prefix, "{} \t\r\n") {
		return nil, fmt.Errorf("%w: key prefix %q must not contain braces or spaces", ErrInvalid, o.Prefix)
	}
	r := &Redis{c: c, base: o.Prefix + ":{" + o.Service + "}", service: o.Service, log: o.Logger}
	r.events = r.base + ":events"
	for _, l := range o.Languages {
		if err := checkName("language", l); err != nil {
			return nil, err
		}
	}
	r.setLangs(sortedUnion(nil, o.Languages))
	return r, nil
}

// EventsChannel is the pub/sub channel the store publishes Events on.
func (r *Redis) EventsChannel() string { return r.events }

func sortedUnion(a, b []string) []string {
	out := slices.Clone(a)
	for _, s := range b {
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	slices.Sort(out)
	return out
}

// layout returns the KEYS and leading ARGV every script takes, for the
// languages known plus need.
func (r *Redis) layout(need []string) ([]string, []any) {
	r.mu.RLock()
	langs, keys, pre := r.langs, r.keys, r.pre
	r.mu.RUnlock()
	for _, l := range need {
		if !slices.Contains(langs, l) {
			return r.buildLayout(sortedUnion(langs, need))
		}
	}
	return keys, pre
}

// setLangs replaces the language list and its cached layout; r.mu must be
// held by the caller or r not yet shared.
func (r *Redis) setLangs(langs []string) {
	r.langs = langs
	r.keys, r.pre = r.buildLayout(langs)
}

func (r *Redis) buildLayout(langs []string) ([]string, []any) {
	keys := make([]string, 0, 5+2*len(langs))
	keys = append(keys, r.base+":calls", r.base+":ops", r.base+":offers", r.base+":wrapups", r.base+":langs")
	args := make([]any, 0, 2+len(langs)+6)
	args = append(args, r.events, len(langs))
	for _, l := range langs {
		keys = append(keys, r.base+":waiting:"+l, r.base+":avail:"+l)
		args = append(args, l)
	}
	return keys, args
}

// run runs s with the common layout, reloading the language list when the
// server's differs.
func (r *Redis) run(ctx context.Context, op string, s *redis.Script, need []string, args ...any) (any, error) {
	for attempt := 0; ; attempt++ {
		keys, pre := r.layout(need)
		argv := make([]any, 0, len(pre)+len(args))
		argv = append(append(argv, pre...), args...)
		res, err := s.Run(ctx, r.c, keys, argv...).Result()
		if err == nil || errors.Is(err, redis.Nil) {
			if len(need) > 0 {
				r.learn(need)
			}
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

func (r *Redis) learn(langs []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, l := range langs {
		if !slices.Contains(r.langs, l) {
			r.setLangs(sortedUnion(r.langs, langs))
			return
		}
	}
}

func (r *Redis) reloadLangs(ctx context.Context) error {
	ls, err := r.c.SMembers(ctx, r.base+":langs").Result()
	if err != nil {
		return err
	}
	slices.Sort(ls)
	r.mu.Lock()
	r.setLangs(ls)
	r.mu.Unlock()
	r.log.Debug().Strs("languages", ls).Msg("queue: reloaded language list from Redis")
	return nil
}

// classify maps a go-redis error to the package's sentinels: script codes
// to their sentinel, refusals of a reachable server to a plain wrapped
// error, anything else (network, timeout, closed client, a server that
// cannot serve now) to ErrUnavailable. The refused/unavailable rule itself
// lives in internal/redisfault, shared with the blacklist.
func classify(op string, err error) error {
	kind, c, detail := redisfault.Classify(err)
	switch kind {
	case redisfault.Refused:
		switch c {
		case "UNKNOWN_CALL":
			return fmt.Errorf("queue: %s: %w", op, ErrUnknownCall)
		case "UNKNOWN_OPERATOR":
			return fmt.Errorf("queue: %s: %w", op, ErrUnknownOperator)
		case "OFFER_LOST":
			return fmt.Errorf("queue: %s: %w", op, ErrOfferLost)
		case "BAD_STATE":
			return fmt.Errorf("queue: %s (%s): %w", op, detail, ErrBadState)
		}
		return fmt.Errorf("queue: %s: redis refused: %w", op, err)
	case redisfault.Unavailable:
		return fmt.Errorf("queue: %s: %w: %w", op, ErrUnavailable, err)
	}
	return fmt.Errorf("queue: %s: %w", op, err)
}

// Wire records, as the scripts store them.
type redisCall struct {
	ID   string `json:"id"`
	Svc  string `json:"svc"`
	Lang string `json:"lang"`
	Node string `json:"node"`
	Tag  string `json:"tag"`
	Enq  int64  `json:"enq"`
	Op   string `json:"op"`
	Exp  int64  `json:"exp"`
}

type redisOp struct {
	ID     string   `json:"id"`
	Ep     string   `json:"ep"`
	Sk     []string `json:"sk"`
	St     State    `json:"st"`
	Since  int64    `json:"since"`
	Idle   int64    `json:"idle"`
	Reason string   `json:"reason"`
	Wrap   int64    `json:"wrap"`
	Call   string   `json:"call"`
}

func fromMs(v int64) time.Time {
	if v == 0 {
		return time.Time{}
	}
	return time.UnixMilli(v)
}

func (c redisCall) call() Call {
	return Call{ID: c.ID, Service: c.Svc, Language: c.Lang, Node: c.Node, Tag: c.Tag, Enqueued: fromMs(c.Enq)}
}

func (o redisOp) operator() Operator {
	return Operator{ID: o.ID, Endpoint: o.Ep, Skills: o.Sk, State: o.St, Since: fromMs(o.Since),
		IdleSince: fromMs(o.Idle), PauseReason: o.Reason, WrapUntil: fromMs(o.Wrap), CallID: o.Call}
}

// Enqueue implements Queue.
func (r *Redis) Enqueue(ctx context.Context, c Call) error {
	c, err := validateCall(r.service, c)
	if err != nil {
		return err
	}
	b, err := json.Marshal(redisCall{ID: c.ID, Svc: c.Service, Lang: c.Language, Node: c.Node, Tag: c.Tag, Enq: c.Enqueued.UnixMilli()})
	if err != nil {
		return fmt.Errorf("queue: encoding call %s: %w", c.ID, err)
	}
	_, err = r.run(ctx, "enqueue "+c.ID, enqueueScript, []string{c.Language}, string(b))
	return err
}

// Leave implements Queue.
func (r *Redis) Leave(ctx context.Context, callID string, now time.Time) (string, error) {
	res, err := r.run(ctx, "leave "+callID, leaveScript, nil, callID, now.UnixMilli())
	if err != nil {
		return "", err
	}
	s, _ := res.(string)
	return s, nil
}

// Position implements Queue.
func (r *Redis) Position(ctx context.Context, callID string) (int, error) {
	res, err := r.run(ctx, "position of "+callID, positionScript, nil, callID)
	if err != nil {
		return 0, err
	}
	n, ok := res.(int64)
	if !ok {
		return 0, fmt.Errorf("queue: position of %s: unexpected reply %T", callID, res)
	}
	return int(n), nil
}

// Login implements Queue.
func (r *Redis) Login(ctx context.Context, op Operator, now time.Time) error {
	op, err := validateOperator(op)
	if err != nil {
		return err
	}
	sk, _ := json.Marshal(op.Skills)
	_, err = r.run(ctx, "login "+op.ID, loginScript, op.Skills, op.ID, op.Endpoint, string(sk), now.UnixMilli())
	return err
}

// Logout implements Queue.
func (r *Redis) Logout(ctx context.Context, operatorID string, now time.Time) error {
	_, err := r.run(ctx, "logout "+operatorID, logoutScript, nil, operatorID, now.UnixMilli())
	return err
}

// Pause implements Queue.
func (r *Redis) Pause(ctx context.Context, operatorID, reason string, now time.Time) error {
	if err := checkText("pause reason", reason); err != nil {
		return err
	}
	_, err := r.run(ctx, "pause "+operatorID, pauseScript, nil, operatorID, reason, now.UnixMilli())
	return err
}

// Unpause implements Queue.
func (r *Redis) Unpause(ctx context.Context, operatorID string, now time.Time) error {
	_, err := r.run(ctx, "unpause "+operatorID, unpauseScript, nil, operatorID, now.UnixMilli())
	return err
}

// Assign implements Queue.
func (r *Redis) Assign(ctx context.Context, now time.Time, ttl time.Duration) (Offer, error) {
	if ttl < time.Millisecond {
		return Offer{}, fmt.Errorf("%w: assign with reservation TTL %v", ErrInvalid, ttl)
	}
	res, err := r.run(ctx, "assign", assignScript, nil, now.UnixMilli(), ttl.Milliseconds())
	if errors.Is(err, redis.Nil) {
		return Offer{}, ErrNoMatch
	}
	if err != nil {
		return Offer{}, err
	}
	v, ok := res.([]any)
	if !ok || len(v) != 6 {
		return Offer{}, fmt.Errorf("queue: assign: unexpected reply %v", res)
	}
	var o Offer
	o.CallID, _ = v[0].(string)
	o.OperatorID, _ = v[1].(string)
	o.Endpoint, _ = v[2].(string)
	o.Language, _ = v[3].(string)
	o.Node, _ = v[4].(string)
	exp, _ := v[5].(int64)
	o.Expires = time.UnixMilli(exp)
	return o, nil
}

// Answered implements Queue.
func (r *Redis) Answered(ctx context.Context, o Offer, now time.Time) error {
	_, err := r.run(ctx, "answered "+o.CallID, answeredScript, nil, o.CallID, o.OperatorID, o.Expires.UnixMilli(), now.UnixMilli())
	return err
}

// RingFailed implements Queue.
func (r *Redis) RingFailed(ctx context.Context, o Offer, pause bool, reason string, now time.Time) error {
	if err := checkText("pause reason", reason); err != nil {
		return err
	}
	p := "0"
	if pause {
		p = "1"
	}
	_, err := r.run(ctx, "ring failed "+o.CallID, ringFailedScript, nil, o.CallID, o.OperatorID, o.Expires.UnixMilli(), p, reason, now.UnixMilli())
	return err
}

// Finish implements Queue.
func (r *Redis) Finish(ctx context.Context, operatorID string, wrapUntil, now time.Time) error {
	_, err := r.run(ctx, "finish "+operatorID, finishScript, nil, operatorID, wrapUntil.UnixMilli(), now.UnixMilli())
	return err
}

// Operator implements Queue.
func (r *Redis) Operator(ctx context.Context, operatorID string) (Operator, error) {
	v, err := r.c.HGet(ctx, r.base+":ops", operatorID).Result()
	if errors.Is(err, redis.Nil) {
		return Operator{}, fmt.Errorf("queue: operator %q: %w", operatorID, ErrUnknownOperator)
	}
	if err != nil {
		return Operator{}, classify("operator "+operatorID, err)
	}
	var o redisOp
	if err := json.Unmarshal([]byte(v), &o); err != nil {
		return Operator{}, fmt.Errorf("queue: decoding operator %q: %w", operatorID, err)
	}
	return o.operator(), nil
}

// Snapshot implements Queue.
//
// Concurrent Snapshots share reads: while one read is in flight, the
// callers that arrive wait for the next one, which starts when it ends
// and serves them all, at the latest of their times (At says which). So
// each caller gets a state read after its call began (no change it made
// before is missed), and however many calls in progress ask at once —
// the call flow takes one per waiting call — Redis sees one read at a
// time and the node one decoding, instead of a pile-up that took every
// pooled connection.
func (r *Redis) Snapshot(ctx context.Context, now time.Time) (Snapshot, error) {
	c := &r.snapJoin
	c.mu.Lock()
	if !c.busy {
		c.busy = true
		c.mu.Unlock()
		s, err := r.snapshot(ctx, now)
		r.nextSnapshot()
		return s, err
	}
	b := c.pending
	if b == nil {
		b = &snapBatch{now: now, done: make(chan struct{})}
		c.pending = b
	} else if now.After(b.now) {
		b.now = now
	}
	c.mu.Unlock()
	select {
	case <-b.done:
		if b.err != nil {
			return Snapshot{}, b.err
		}
		return b.snap.clone(), nil
	case <-ctx.Done():
		return Snapshot{}, classify("snapshot", ctx.Err())
	}
}

// snapJoin lets concurrent Snapshots share reads (see Snapshot).
type snapJoin struct {
	mu      sync.Mutex
	busy    bool       // a read is in flight
	pending *snapBatch // the callers waiting for the next read
}

// snapBatch is one shared read and the callers waiting for it.
type snapBatch struct {
	now  time.Time
	done chan struct{}
	snap Snapshot
	err  error
}

// snapshotReadTimeout bounds a shared read, which no single caller's
// context governs.
const snapshotReadTimeout = 10 * time.Second

// nextSnapshot ends a read: it starts the next one for the callers who
// came meanwhile (in a goroutine: the caller of the read that ended
// returns now), or marks the store idle.
func (r *Redis) nextSnapshot() {
	c := &r.snapJoin
	c.mu.Lock()
	b := c.pending
	c.pending = nil
	if b == nil {
		c.busy = false
		c.mu.Unlock()
		return
	}
	c.mu.Unlock()
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), snapshotReadTimeout)
		b.snap, b.err = r.snapshot(ctx, b.now)
		cancel()
		close(b.done)
		r.nextSnapshot()
	}()
}

// clone copies s so that callers sharing a read cannot see each other's
// changes to it.
func (s Snapshot) clone() Snapshot {
	out := Snapshot{At: s.At, Waiting: make(map[string][]WaitingCall, len(s.Waiting)), Operators: slices.Clone(s.Operators)}
	for l, calls := range s.Waiting {
		out.Waiting[l] = slices.Clone(calls)
	}
	for i := range out.Operators {
		out.Operators[i].Skills = slices.Clone(out.Operators[i].Skills)
	}
	return out
}

// snapshot is one read of the whole queue.
func (r *Redis) snapshot(ctx context.Context, now time.Time) (Snapshot, error) {
	res, err := r.run(ctx, "snapshot", snapshotScript, nil, now.UnixMilli())
	if err != nil {
		return Snapshot{}, err
	}
	parts, ok := res.([]any)
	if !ok || len(parts) != 2 {
		return Snapshot{}, fmt.Errorf("queue: snapshot: unexpected reply %T", res)
	}
	calls, _ := parts[0].([]any)
	ops, _ := parts[1].([]any)
	s := Snapshot{At: ms(now), Waiting: make(map[string][]WaitingCall)}
	all := make([]redisCall, 0, len(calls))
	var ops2 []redisOp
	err = r.snap.decode(calls, ops, func(c *redisCall) { all = append(all, *c) }, func(o *redisOp) { ops2 = append(ops2, *o) })
	if err != nil {
		return Snapshot{}, fmt.Errorf("queue: snapshot: %w", err)
	}
	slices.SortFunc(all, func(a, b redisCall) int {
		if a.Enq != b.Enq {
			return cmpInt(a.Enq, b.Enq)
		}
		return strings.Compare(a.ID, b.ID)
	})
	for _, c := range all {
		s.Waiting[c.Lang] = append(s.Waiting[c.Lang], WaitingCall{Call: c.call(), OfferedTo: c.Op})
	}
	for _, o := range ops2 {
		if o.St != LoggedOut {
			op := o.operator()
			op.Skills = slices.Clone(op.Skills) // the cached record's stays as it was
			s.Operators = append(s.Operators, op)
		}
	}
	slices.SortFunc(s.Operators, func(a, b Operator) int { return strings.Compare(a.ID, b.ID) })
	return s, nil
}

// recordCache remembers the decoded form of the call and operator records
// the last snapshots returned, keyed by their exact JSON text. A record's
// text changes only when the record does (an offer, a state change), so
// a snapshot decodes only what changed since the previous one: with
// thousands of waiting calls the decoding was most of a snapshot's cost
// (the call flow takes one per waiting call on entry and every
// NoOperatorGrace). Two generations are kept: entries not seen in the
// snapshot after the one that filled them are dropped, so the cache holds
// at most about two snapshots' worth.
type recordCache struct {
	mu              sync.Mutex
	calls, callsOld map[string]*redisCall
	opsCur, opsOld  map[string]*redisOp
}

// decode decodes every call and operator text (Redis replies: strings),
// reusing what the cache knows, and hands each to the callbacks.
func (rc *recordCache) decode(calls, ops []any, onCall func(*redisCall), onOp func(*redisOp)) error {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	curC := make(map[string]*redisCall, len(calls))
	for _, v := range calls {
		str, _ := v.(string)
		c := rc.calls[str]
		if c == nil {
			c = rc.callsOld[str]
		}
		if c == nil {
			c = new(redisCall)
			if err := json.Unmarshal([]byte(str), c); err != nil {
				return fmt.Errorf("decoding call: %w", err)
			}
		}
		curC[str] = c
		onCall(c)
	}
	curO := make(map[string]*redisOp, len(ops))
	for _, v := range ops {
		str, _ := v.(string)
		o := rc.opsCur[str]
		if o == nil {
			o = rc.opsOld[str]
		}
		if o == nil {
			o = new(redisOp)
			if err := json.Unmarshal([]byte(str), o); err != nil {
				return fmt.Errorf("decoding operator: %w", err)
			}
		}
		curO[str] = o
		onOp(o)
	}
	rc.callsOld, rc.calls = rc.calls, curC
	rc.opsOld, rc.opsCur = rc.opsCur, curO
	return nil
}

func cmpInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// redisWatchBuffer is how far a watcher may lag before losing events.
const redisWatchBuffer = 256

// Watch implements Watcher over the events channel. Events published
// while the connection is down are lost (pub/sub keeps nothing): the
// watcher should re-read Snapshot after a gap.
func (r *Redis) Watch(ctx context.Context) (<-chan Event, error) {
	ps := r.c.Subscribe(ctx, r.events)
	// Wait for the confirmation, so that changes made after Watch
	// returns are seen.
	if _, err := ps.Receive(ctx); err != nil {
		_ = ps.Close()
		return nil, classify("watch", err)
	}
	out := make(chan Event, redisWatchBuffer)
	msgs := ps.Channel()
	go func() {
		defer close(out)
		defer ps.Close()
		for {
			select {
			case <-ctx.Done():
				return
			case m, ok := <-msgs:
				if !ok {
					return
				}
				ev, err := DecodeEvent([]byte(m.Payload))
				if err != nil {
					r.log.Warn().Err(err).Str("channel", m.Channel).Msg("queue: dropping malformed event")
					continue
				}
				select {
				case out <- ev:
				default:
					r.dropped.Add(1)
				}
			}
		}
	}()
	return out, nil
}

// Dropped is how many events were lost by slow watchers.
func (r *Redis) Dropped() int64 { return r.dropped.Load() }
