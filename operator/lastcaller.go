package operator

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/helpline-it/helpline/callerid"
	"github.com/helpline-it/helpline/internal/redisfault"
)

// LastCaller is the caller an operator talked with last: what *14 and
// *15 flag. It names the caller only by their identity hash.
type LastCaller struct {
	Operator string
	// CallID is the inbound call's id (its CDR's).
	CallID string
	Caller callerid.Identity
	// At is when the talk started.
	At time.Time
}

// LastCallers remembers each operator's last caller where a restart of
// the app does not lose it: the operator who hangs up on a harasser and
// dials *14 while the node restarts must still flag the right caller.
// Redis is the real store; Memory is its twin for tests and the demo.
type LastCallers interface {
	// SetLast records lc as lc.Operator's last caller, kept for ttl.
	SetLast(ctx context.Context, lc LastCaller, ttl time.Duration) error
	// Last returns the operator's last caller; false when there is none
	// (never one, or forgotten after its ttl) at now.
	Last(ctx context.Context, operatorID string, now time.Time) (LastCaller, bool, error)
	// ClaimFlag reports whether the operator may flag call callID: true
	// the first time, false after, so that one call is flagged at most
	// once by each operator however often the code is dialled. The claim
	// is kept for ttl.
	ClaimFlag(ctx context.Context, operatorID, callID string, now time.Time, ttl time.Duration) (bool, error)
}

// ErrUnavailable wraps a store that could not be reached.
var ErrUnavailable = errors.New("operator: store unavailable")

// MemoryLastCallers is the in-process LastCallers.
type MemoryLastCallers struct {
	mu     sync.Mutex
	last   map[string]memLast
	claims map[string]time.Time // operator+call → expiry
}

type memLast struct {
	lc      LastCaller
	expires time.Time
}

// NewMemoryLastCallers returns an empty store.
func NewMemoryLastCallers() *MemoryLastCallers {
	return &MemoryLastCallers{last: map[string]memLast{}, claims: map[string]time.Time{}}
}

// SetLast implements LastCallers; the ttl runs from lc.At.
func (m *MemoryLastCallers) SetLast(_ context.Context, lc LastCaller, ttl time.Duration) error {
	if err := checkLast(lc, ttl); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.last[lc.Operator] = memLast{lc: lc, expires: lc.At.Add(ttl)}
	return nil
}

// Last implements LastCallers.
func (m *MemoryLastCallers) Last(_ context.Context, operatorID string, now time.Time) (LastCaller, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	e, ok := m.last[operatorID]
	if !ok || !now.Before(e.expires) {
		return LastCaller{}, false, nil
	}
	return e.lc, true, nil
}

// ClaimFlag implements LastCallers.
func (m *MemoryLastCallers) ClaimFlag(_ context.Context, operatorID, callID string, now time.Time, ttl time.Duration) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	k := operatorID + "\x00" + callID
	if exp, ok := m.claims[k]; ok && now.Before(exp) {
		return false, nil
	}
	m.claims[k] = now.Add(ttl)
	return true, nil
}

// RedisLastCallers keeps last callers in Redis. Layout:
//
//	<prefix>:{operators}:last:<operator>          STRING JSON {call, hash, withheld, at}, PX ttl
//	<prefix>:{operators}:flagged:<operator>:<call> STRING "1", PX ttl (SET NX: one flag per call)
//
// The caller is stored by hash only; a withheld caller has none.
type RedisLastCallers struct {
	c    redis.UniversalClient
	base string
}

// NewRedisLastCallers returns a store under prefix (default "helpline";
// a trailing ':' is dropped, as in config's redis.key_prefix).
func NewRedisLastCallers(c redis.UniversalClient, prefix string) (*RedisLastCallers, error) {
	if c == nil {
		return nil, errors.New("operator: nil Redis client")
	}
	prefix = strings.TrimRight(prefix, ":")
	if prefix == "" {
		prefix = "helpline"
	}
	if strings.ContainsAny(prefix, "{} \t\r\n") {
		return nil, fmt.Errorf("operator: key prefix %q must not contain braces or spaces", prefix)
	}
	return &RedisLastCallers{c: c, base: prefix + ":{operators}"}, nil
}

type wireLast struct {
	Call     string `json:"call"`
	Hash     string `json:"hash,omitempty"`
	Withheld bool   `json:"withheld,omitempty"`
	At       int64  `json:"at"`    // Unix ms
	Until    int64  `json:"until"` // Unix ms: At + ttl
}

// SetLast implements LastCallers.
func (r *RedisLastCallers) SetLast(ctx context.Context, lc LastCaller, ttl time.Duration) error {
	if err := checkLast(lc, ttl); err != nil {
		return err
	}
	b, err := json.Marshal(wireLast{Call: lc.CallID, Hash: lc.Caller.Hash, Withheld: lc.Caller.Withheld,
		At: lc.At.UnixMilli(), Until: lc.At.Add(ttl).UnixMilli()})
	if err != nil {
		return fmt.Errorf("operator: encode last caller: %w", err)
	}
	return r.classify("set last caller", r.c.Set(ctx, r.base+":last:"+lc.Operator, b, ttl).Err())
}

// Last implements LastCallers. Whether the record is still valid is
// decided on the stored end against now (the key's TTL, on the server's
// clock, only cleans up), so a store and its twin agree.
func (r *RedisLastCallers) Last(ctx context.Context, operatorID string, now time.Time) (LastCaller, bool, error) {
	b, err := r.c.Get(ctx, r.base+":last:"+operatorID).Bytes()
	if errors.Is(err, redis.Nil) {
		return LastCaller{}, false, nil
	}
	if err != nil {
		return LastCaller{}, false, r.classify("get last caller", err)
	}
	var w wireLast
	if err := json.Unmarshal(b, &w); err != nil {
		return LastCaller{}, false, fmt.Errorf("operator: last caller of %s: malformed record: %w", operatorID, err)
	}
	if now.UnixMilli() >= w.Until {
		return LastCaller{}, false, nil
	}
	lc := LastCaller{Operator: operatorID, CallID: w.Call, At: time.UnixMilli(w.At),
		Caller: callerid.Identity{Hash: w.Hash, Withheld: w.Withheld, Valid: !w.Withheld}}
	return lc, true, nil
}

// ClaimFlag implements LastCallers with SET NX.
func (r *RedisLastCallers) ClaimFlag(ctx context.Context, operatorID, callID string, _ time.Time, ttl time.Duration) (bool, error) {
	ok, err := r.c.SetNX(ctx, r.base+":flagged:"+operatorID+":"+callID, "1", ttl).Result()
	if err != nil {
		return false, r.classify("claim flag", err)
	}
	return ok, nil
}

func (r *RedisLastCallers) classify(op string, err error) error {
	kind, _, _ := redisfault.Classify(err)
	switch kind {
	case redisfault.None:
		return nil
	case redisfault.Unavailable:
		return fmt.Errorf("operator: %s: %w: %w", op, ErrUnavailable, err)
	}
	return fmt.Errorf("operator: %s: %w", op, err)
}

func checkLast(lc LastCaller, ttl time.Duration) error {
	switch {
	case lc.Operator == "" || strings.ContainsAny(lc.Operator, " \t\r\n{}"):
		return fmt.Errorf("operator: last caller: bad operator id %q", lc.Operator)
	case lc.CallID == "":
		return errors.New("operator: last caller: no call id")
	case !lc.Caller.Withheld && !isHash(lc.Caller.Hash):
		// Never a raw number: a caller is stored by hash or as withheld.
		return errors.New("operator: last caller: caller is neither withheld nor a 64-hex-digit hash")
	case lc.At.IsZero():
		return errors.New("operator: last caller: no time")
	case ttl <= 0:
		return fmt.Errorf("operator: last caller: ttl %v must be positive", ttl)
	}
	return nil
}

func isHash(s string) bool {
	if len(s) != 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}
