package queue

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"time"

	"github.com/redis/go-redis/v9"
)

// This file holds how a Failover notices that Redis lost what the node
// wrote into it without ever being unavailable to it: redis-server killed
// and restarted without persistence between two calls, a FLUSHALL, a
// Sentinel promoting an empty replica. Each Failover keeps a mark in Redis
// (a key of its own, written when it first talks to Redis and again before
// each reconciliation) and checks it cheaply; a mark gone means the data it
// was written beside is gone too, and the node rebuilds it from its shadow.
// A mark lost alone (evicted under a maxmemory policy, expired on a node
// that checked nothing for markTTL) costs one needless rebuild, which
// changes nothing: the reconciliation is idempotent.

// ErrStoreReset reports that Redis no longer holds the state this node
// wrote into it (its mark is gone): the node rebuilds it from its own copy.
var ErrStoreReset = errors.New("queue: Redis lost this node's state (restarted empty or flushed)")

// markTTL bounds how long the mark of a node that stopped stays in Redis;
// a live node renews it at each check.
const markTTL = 24 * time.Hour

// marker is what a Failover's primary offers to detect a reset: set the
// mark and say whether it was already there.
type marker interface {
	mark(ctx context.Context, token string, ttl time.Duration) (existed bool, err error)
}

var _ marker = (*Redis)(nil)

// mark sets this node's mark (SET … GET: one command, one round trip) and
// reports whether it was there before.
func (r *Redis) mark(ctx context.Context, token string, ttl time.Duration) (bool, error) {
	err := r.c.SetArgs(ctx, r.base+":failover:mark:"+token, "1", redis.SetArgs{TTL: ttl, Get: true}).Err()
	if errors.Is(err, redis.Nil) {
		return false, nil
	}
	if err != nil {
		return false, classify("mark", err)
	}
	return true, nil
}

// markToken names this Failover's mark: the node and a random part, so two
// processes (or two Failovers in one test) never share a mark.
func markToken(node string) string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	if node == "" {
		node = "-"
	}
	return node + ":" + hex.EncodeToString(b[:])
}

// checkMark renews the mark and reports whether Redis lost it since it was
// first set (the first mark of this Failover is never a loss). A primary
// that cannot hold a mark is never reported lost.
func (f *Failover) checkMark(ctx context.Context) (lost bool, err error) {
	m, ok := f.primary.(marker)
	if !ok {
		return false, nil
	}
	f.markMu.Lock()
	defer f.markMu.Unlock()
	cctx, cancel := context.WithTimeout(ctx, f.o.OpTimeout)
	existed, err := m.mark(cctx, f.markToken, markTTL)
	cancel()
	if err != nil {
		return false, err
	}
	first := !f.marked.Swap(true)
	lost = !existed && !first
	if lost {
		// Until the switch: a concurrent check (which finds the mark
		// just set again) must not take Redis for sound.
		f.resetPending.Store(true)
	}
	return lost, nil
}

// markFirst sets the mark if nothing has yet (Run sets it when it starts;
// this covers methods called before): one round trip in the life of the
// Failover, on its first successful method.
func (f *Failover) markFirst(ctx context.Context) {
	if f.marked.Load() {
		return
	}
	_, _ = f.checkMark(ctx)
}

// suspect reports whether err is what a method gets from a Redis that
// forgot the node's state (a call, operator or offer it should hold).
func suspect(err error) bool {
	return errors.Is(err, ErrUnknownCall) || errors.Is(err, ErrUnknownOperator) || errors.Is(err, ErrOfferLost)
}

// checkReset checks the mark and, if Redis lost it, switches the node to
// the fallback loaded from the shadow and asks Run to probe at once, so
// that the reconciliation writes the node's state back as after an outage.
// It returns why the node left Redis (ErrStoreReset, or Redis
// unavailable), nil if it stays.
func (f *Failover) checkReset(ctx context.Context, why string) error {
	if f.mode.Load() != modeRedis {
		return nil
	}
	lost, err := f.checkMark(ctx)
	switch {
	case err != nil && IsUnavailable(err) && ctx.Err() == nil:
		f.failover(why, err)
		return err
	case lost || f.resetPending.Load():
		f.failover(why, ErrStoreReset)
		f.ProbeNow()
		return ErrStoreReset
	}
	return nil
}
