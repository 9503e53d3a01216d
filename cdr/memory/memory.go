// Package memory is a cdr.Store held in process memory: for call-flow
// tests and `helpline demo`, where a database file would only be in the
// way. It passes the same contract suite (cdr/cdrtest) as the SQLite store,
// including its one-writer-at-a-time behaviour, so code tested against it
// behaves the same on disk. Nothing survives the process: never use it
// where records must be durable.
package memory

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"sync"

	"github.com/helpline-it/helpline/cdr"
)

var _ cdr.Store = (*Store)(nil)

// Store is an in-memory cdr.Store. The zero value is not usable; call New.
type Store struct {
	// writer is a one-slot semaphore held by Write, WriteBatch and an open
	// Tx, mirroring SQLite's single writer; a channel so that waiting for
	// it respects the context.
	writer chan struct{}

	mu   sync.RWMutex
	byID map[string]cdr.Record
}

// New returns an empty Store.
func New() *Store {
	return &Store{writer: make(chan struct{}, 1), byID: make(map[string]cdr.Record)}
}

func (s *Store) lockWriter(ctx context.Context) error {
	select {
	case s.writer <- struct{}{}:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("cdr/memory: waiting for the writer: %w", ctx.Err())
	}
}

func (s *Store) unlockWriter() { <-s.writer }

// Write implements cdr.Writer.
func (s *Store) Write(ctx context.Context, r cdr.Record) error {
	_, err := s.WriteBatch(ctx, []cdr.Record{r})
	return err
}

// WriteBatch implements cdr.Store.
func (s *Store) WriteBatch(ctx context.Context, recs []cdr.Record) (int, error) {
	for i, r := range recs {
		if err := r.CheckStorable(); err != nil {
			if len(recs) == 1 {
				return 0, err
			}
			return 0, cdr.Errorf(cdr.EINVALID, "record %d (of %d): %s", i, len(recs), cdr.ErrorMessage(err))
		}
	}
	tx, err := s.Begin(ctx)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback()
	n := 0
	for _, r := range recs {
		ok, err := tx.Insert(ctx, r)
		if err != nil {
			return 0, err
		}
		if ok {
			n++
		}
	}
	return n, tx.Commit()
}

// Begin implements cdr.Store. It waits for any other writer to finish.
func (s *Store) Begin(ctx context.Context) (cdr.Tx, error) {
	if err := s.lockWriter(ctx); err != nil {
		return nil, err
	}
	return &tx{s: s, pending: make(map[string]cdr.Record)}, nil
}

type tx struct {
	s       *Store
	pending map[string]cdr.Record
	order   []string
	done    bool
}

func (t *tx) Insert(ctx context.Context, r cdr.Record) (bool, error) {
	if t.done {
		return false, cdr.Errorf(cdr.EINTERNAL, "cdr/memory: insert after commit or rollback")
	}
	if err := ctx.Err(); err != nil {
		return false, err
	}
	if err := r.CheckStorable(); err != nil {
		return false, err
	}
	if _, ok := t.pending[r.ID]; ok {
		return false, nil
	}
	t.s.mu.RLock()
	_, stored := t.s.byID[r.ID]
	t.s.mu.RUnlock()
	if stored {
		return false, nil
	}
	t.pending[r.ID] = r.Canonical()
	t.order = append(t.order, r.ID)
	return true, nil
}

func (t *tx) Commit() error {
	if t.done {
		return cdr.Errorf(cdr.EINTERNAL, "cdr/memory: commit after commit or rollback")
	}
	t.done = true
	t.s.mu.Lock()
	for _, id := range t.order {
		t.s.byID[id] = t.pending[id]
	}
	t.s.mu.Unlock()
	t.s.unlockWriter()
	return nil
}

func (t *tx) Rollback() error {
	if t.done {
		return nil
	}
	t.done = true
	t.s.unlockWriter()
	return nil
}

// Get implements cdr.Store.
func (s *Store) Get(ctx context.Context, id string) (*cdr.Record, error) {
	s.mu.RLock()
	r, ok := s.byID[id]
	s.mu.RUnlock()
	if !ok {
		return nil, cdr.Errorf(cdr.ENOTFOUND, "no call record with id %q", id)
	}
	return &r, nil
}

// Scan implements cdr.Store. It works on a snapshot taken when it starts,
// so fn may write to the Store.
func (s *Store) Scan(ctx context.Context, f cdr.Filter, fn func(*cdr.Record) error) error {
	recs, err := s.match(f)
	if err != nil {
		return err
	}
	slices.SortFunc(recs, func(a, b cdr.Record) int {
		return cmp.Or(a.ArrivedAt.Compare(b.ArrivedAt), cmp.Compare(a.ID, b.ID))
	})
	for i := range recs {
		if err := ctx.Err(); err != nil {
			return err
		}
		r := recs[i]
		if err := fn(&r); err != nil {
			return err
		}
	}
	return nil
}

// Count implements cdr.Store.
func (s *Store) Count(ctx context.Context, f cdr.Filter) (int, error) {
	recs, err := s.match(f)
	return len(recs), err
}

func (s *Store) match(f cdr.Filter) ([]cdr.Record, error) {
	if err := f.Check(); err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	var out []cdr.Record
	for _, r := range s.byID {
		if f.Match(&r) {
			out = append(out, r)
		}
	}
	return out, nil
}
