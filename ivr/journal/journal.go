// Package journal keeps the call flow's record so far of every call in
// progress (ivr.Journal) outside the process, so that a call that ends
// while no process of the app runs — between a SIGKILL and the next
// process — still gets its one CDR: the next process closes it from
// here (ivr.Flow.Sweep). Redis is the store that outlives the process; a
// Memory journal serves tests. Records carry the caller's hash, never a
// number.
package journal

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"sync"

	"github.com/redis/go-redis/v9"

	"github.com/helpline-it/helpline/cdr"
	"github.com/helpline-it/helpline/ivr"
)

var (
	_ ivr.Journal = (*Redis)(nil)
	_ ivr.Journal = (*Memory)(nil)
)

// Redis is a journal in one Redis hash per node (field: call id, value:
// the record as JSON).
type Redis struct {
	rdb redis.Cmdable
	key string
}

// NewRedis returns the journal of node under prefix (e.g. "helpline:").
func NewRedis(rdb redis.Cmdable, prefix, node string) *Redis {
	return &Redis{rdb: rdb, key: prefix + "journal:" + node}
}

// Note implements ivr.Journal.
func (j *Redis) Note(ctx context.Context, r cdr.Record) error {
	b, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("journal: encode %s: %w", r.ID, err)
	}
	if err := j.rdb.HSet(ctx, j.key, r.ID, b).Err(); err != nil {
		return fmt.Errorf("journal: note %s: %w", r.ID, err)
	}
	return nil
}

// Forget implements ivr.Journal.
func (j *Redis) Forget(ctx context.Context, id string) error {
	if err := j.rdb.HDel(ctx, j.key, id).Err(); err != nil {
		return fmt.Errorf("journal: forget %s: %w", id, err)
	}
	return nil
}

// Open implements ivr.Journal. An entry that does not decode is skipped
// and reported in the error, after the others.
func (j *Redis) Open(ctx context.Context) ([]cdr.Record, error) {
	m, err := j.rdb.HGetAll(ctx, j.key).Result()
	if err != nil {
		return nil, fmt.Errorf("journal: open: %w", err)
	}
	ids := make([]string, 0, len(m))
	for id := range m {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	var out []cdr.Record
	var bad []string
	for _, id := range ids {
		var r cdr.Record
		if err := json.Unmarshal([]byte(m[id]), &r); err != nil || r.ID != id {
			bad = append(bad, id)
			continue
		}
		out = append(out, r)
	}
	if len(bad) > 0 {
		return out, fmt.Errorf("journal: %d entries do not decode: %q", len(bad), bad)
	}
	return out, nil
}

// Memory is a journal in the process (tests; it dies with the process).
type Memory struct {
	mu   sync.Mutex
	recs map[string]cdr.Record
}

// NewMemory returns an empty Memory journal.
func NewMemory() *Memory { return &Memory{recs: map[string]cdr.Record{}} }

// Note implements ivr.Journal.
func (j *Memory) Note(_ context.Context, r cdr.Record) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.recs[r.ID] = r
	return nil
}

// Forget implements ivr.Journal.
func (j *Memory) Forget(_ context.Context, id string) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	delete(j.recs, id)
	return nil
}

// Open implements ivr.Journal.
func (j *Memory) Open(context.Context) ([]cdr.Record, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	out := make([]cdr.Record, 0, len(j.recs))
	for _, r := range j.recs {
		out = append(out, r)
	}
	sort.Slice(out, func(a, b int) bool { return out[a].ID < out[b].ID })
	return out, nil
}
