package blacklist

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// RedisOptions configures a Redis store.
type RedisOptions struct {
	// Prefix namespaces the keys; default "helpline". Keys are
	// "<prefix>:{blacklist}:…": the hash tag keeps them in one Redis
	// Cluster slot, so a script may touch a caller's flags, block and the
	// index together.
	Prefix string
	// Policy turns flags into blocks.
	Policy Policy
}

// Redis is the shared Store. Layout:
//
//	<prefix>:{blacklist}:block:<hash>  STRING entry JSON, PEXPIRE'd at Until (cleanup only)
//	<prefix>:{blacklist}:index         ZSET   hash scored by Until (ms), for List
//	<prefix>:{blacklist}:flags:<hash>  ZSET   flag JSON scored by At (ms), PEXPIRE'd one window after the latest
//
// Whether a block is in force is decided by comparing the stored Until
// with the caller's now, never by the TTL, so the answer does not depend
// on the Redis server's clock and tests need no waiting; the TTL only
// makes sure nothing outlives its use.
type Redis struct {
	c      redis.UniversalClient
	base   string
	policy Policy
}

var _ Store = (*Redis)(nil)

// NewRedis returns a Redis store using client c.
func NewRedis(c redis.UniversalClient, o RedisOptions) (*Redis, error) {
	if c == nil {
		return nil, fmt.Errorf("%w: nil Redis client", ErrInvalid)
	}
	if err := o.Policy.Validate(); err != nil {
		return nil, err
	}
	if o.Prefix == "" {
		o.Prefix = "helpline"
	}
	if strings.ContainsAny(o.Prefix, "{} \t\r\n") {
		return nil, fmt.Errorf("%w: key prefix %q must not contain braces or spaces", ErrInvalid, o.Prefix)
	}
	return &Redis{c: c, base: o.Prefix + ":{blacklist}", policy: o.Policy}, nil
}

func (r *Redis) blockKey(h string) string { return r.base + ":block:" + h }
func (r *Redis) flagsKey(h string) string { return r.base + ":flags:" + h }
func (r *Redis) indexKey() string         { return r.base + ":index" }

type wireEntry struct {
	Hash    string `json:"hash"`
	Reason  string `json:"reason"`
	Source  Source `json:"source"`
	Until   int64  `json:"until"`
	Created int64  `json:"created"`
	By      string `json:"by"`
}

func (w wireEntry) entry() Entry {
	return Entry{Hash: w.Hash, Reason: w.Reason, Source: w.Source, Until: time.UnixMilli(w.Until), Created: time.UnixMilli(w.Created), By: w.By}
}

func toWire(e Entry) wireEntry {
	return wireEntry{Hash: e.Hash, Reason: e.Reason, Source: e.Source, Until: e.Until.UnixMilli(), Created: e.Created.UnixMilli(), By: e.By}
}

// wireFlag's field order makes equal-time members sort by operator, then
// kind, as Memory does.
type wireFlag struct {
	At   int64  `json:"at"`
	Op   string `json:"op"`
	Kind Kind   `json:"kind"`
}

// Blocked implements Store.
func (r *Redis) Blocked(ctx context.Context, hash string, now time.Time) (Entry, bool, error) {
	if hash == "" {
		return Entry{}, false, nil
	}
	if err := checkHash(hash); err != nil {
		return Entry{}, false, err
	}
	v, err := r.c.Get(ctx, r.blockKey(hash)).Result()
	if errors.Is(err, redis.Nil) {
		return Entry{}, false, nil
	}
	if err != nil {
		return Entry{}, false, classify("blocked", err)
	}
	var w wireEntry
	if err := json.Unmarshal([]byte(v), &w); err != nil {
		return Entry{}, false, fmt.Errorf("blacklist: decoding block of %s…: %w", hash[:12], err)
	}
	if w.Until <= now.UnixMilli() {
		return Entry{}, false, nil
	}
	return w.entry(), true, nil
}

// addScript stores a block.
//
//	KEYS[1] -> <prefix>:{blacklist}:block:<hash>
//	KEYS[2] -> <prefix>:{blacklist}:index
//	ARGV[1] -> entry JSON
//	ARGV[2] -> hash
//	ARGV[3] -> Until (ms)
//	ARGV[4] -> lifetime Until-Created (ms), the cleanup TTL
//	Output: 1
var addScript = redis.NewScript(`
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[4])
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[2])
return 1
`)

// Add implements Store.
func (r *Redis) Add(ctx context.Context, e Entry) error {
	e, err := validateEntry(e)
	if err != nil {
		return err
	}
	b, err := json.Marshal(toWire(e))
	if err != nil {
		return fmt.Errorf("blacklist: add: encoding: %w", err)
	}
	life := e.Until.Sub(e.Created).Milliseconds()
	err = addScript.Run(ctx, r.c, []string{r.blockKey(e.Hash), r.indexKey()}, string(b), e.Hash, e.Until.UnixMilli(), life).Err()
	return classify("add", err)
}

// removeScript lifts a block.
//
//	KEYS[1] -> <prefix>:{blacklist}:block:<hash>
//	KEYS[2] -> <prefix>:{blacklist}:index
//	ARGV[1] -> hash
//	Output: 1 if a block was removed
//	Errors: NOT_FOUND
var removeScript = redis.NewScript(`
local n = redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], ARGV[1])
if n == 0 then return redis.error_reply('NOT_FOUND') end
return 1
`)

// Remove implements Store.
func (r *Redis) Remove(ctx context.Context, hash string) error {
	if err := checkHash(hash); err != nil {
		return err
	}
	return classify("remove "+hash[:12]+"…", removeScript.Run(ctx, r.c, []string{r.blockKey(hash), r.indexKey()}, hash).Err())
}

// List implements Store. It is a read, not a snapshot: a block added or
// removed while List runs may or may not appear.
func (r *Redis) List(ctx context.Context, now time.Time) ([]Entry, error) {
	nowMs := now.UnixMilli()
	// Forget index entries of blocks that have ended (their keys expire
	// by TTL on their own).
	if err := r.c.ZRemRangeByScore(ctx, r.indexKey(), "-inf", fmt.Sprint(nowMs)).Err(); err != nil {
		return nil, classify("list", err)
	}
	hashes, err := r.c.ZRange(ctx, r.indexKey(), 0, -1).Result()
	if err != nil {
		return nil, classify("list", err)
	}
	if len(hashes) == 0 {
		return nil, nil
	}
	keys := make([]string, len(hashes))
	for i, h := range hashes {
		keys[i] = r.blockKey(h)
	}
	vals, err := r.c.MGet(ctx, keys...).Result()
	if err != nil {
		return nil, classify("list", err)
	}
	var out []Entry
	for i, v := range vals {
		s, ok := v.(string)
		if !ok {
			continue // removed or expired meanwhile
		}
		var w wireEntry
		if err := json.Unmarshal([]byte(s), &w); err != nil {
			return nil, fmt.Errorf("blacklist: list: decoding block of %s…: %w", hashes[i][:min(12, len(hashes[i]))], err)
		}
		if w.Until > nowMs {
			out = append(out, w.entry())
		}
	}
	sortEntries(out)
	return out, nil
}

// flagScript records a flag and blocks the caller when the policy
// threshold is reached, atomically: two operators flagging at once
// cannot both — or neither — cause the block.
//
//	KEYS[1] -> <prefix>:{blacklist}:flags:<hash>
//	KEYS[2] -> <prefix>:{blacklist}:block:<hash>
//	KEYS[3] -> <prefix>:{blacklist}:index
//	ARGV[1] -> flag JSON {"at","op","kind"}
//	ARGV[2] -> At (ms), the caller's now
//	ARGV[3] -> policy window (ms)
//	ARGV[4] -> policy threshold
//	ARGV[5] -> policy block duration (ms)
//	ARGV[6] -> hash
//	ARGV[7] -> window as text, for the block's reason
//	Output: 1 if this flag caused a block, 0 otherwise
var flagScript = redis.NewScript(`
local at, window, threshold, dur = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
redis.call('ZADD', KEYS[1], at, ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', at - window)
redis.call('PEXPIRE', KEYS[1], window)
local flags = redis.call('ZRANGE', KEYS[1], 0, -1)
if #flags < threshold then return 0 end
local cur = redis.call('GET', KEYS[2])
if cur and cjson.decode(cur)['until'] > at then return 0 end
local h, p = 0, 0
for _, f in ipairs(flags) do
  if cjson.decode(f).kind == 'harassment' then h = h + 1 else p = p + 1 end
end
local e = {hash = ARGV[6], source = 'flags', by = 'flags', created = at, ['until'] = at + dur,
  reason = string.format('%d flags within %s (harassment %d, prank %d)', h + p, ARGV[7], h, p)}
redis.call('SET', KEYS[2], cjson.encode(e), 'PX', dur)
redis.call('ZADD', KEYS[3], at + dur, ARGV[6])
return 1
`)

// Flag implements Store.
func (r *Redis) Flag(ctx context.Context, f Flag) (bool, error) {
	f, err := validateFlag(f)
	if err != nil {
		return false, err
	}
	b, err := json.Marshal(wireFlag{At: f.At.UnixMilli(), Op: f.Operator, Kind: f.Kind})
	if err != nil {
		return false, fmt.Errorf("blacklist: flag: encoding: %w", err)
	}
	p := r.policy
	n, err := flagScript.Run(ctx, r.c, []string{r.flagsKey(f.Hash), r.blockKey(f.Hash), r.indexKey()},
		string(b), f.At.UnixMilli(), p.Window.Milliseconds(), p.Threshold, p.Block.Milliseconds(), f.Hash, p.Window.String()).Int()
	if err != nil {
		return false, classify("flag", err)
	}
	return n == 1, nil
}

// Flags implements Store.
func (r *Redis) Flags(ctx context.Context, hash string) ([]Flag, error) {
	if err := checkHash(hash); err != nil {
		return nil, err
	}
	vals, err := r.c.ZRange(ctx, r.flagsKey(hash), 0, -1).Result()
	if err != nil {
		return nil, classify("flags", err)
	}
	out := make([]Flag, 0, len(vals))
	for _, v := range vals {
		var w wireFlag
		if err := json.Unmarshal([]byte(v), &w); err != nil {
			return nil, fmt.Errorf("blacklist: decoding flag of %s…: %w", hash[:12], err)
		}
		out = append(out, Flag{Hash: hash, Operator: w.Op, Kind: w.Kind, At: time.UnixMilli(w.At)})
	}
	sortFlags(out)
	return out, nil
}
