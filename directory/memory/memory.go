// Package memory is a directory.Store held in process memory, for tests
// and `helpline demo`. It passes the same contract suite
// (directory/directorytest) as the SQLite store, transactions included:
// an Update works on a copy that replaces the state only when it commits.
package memory

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"slices"
	"sync"

	"github.com/helpline-it/helpline/directory"
)

var _ directory.Store = (*Store)(nil)

// Store is an in-memory directory.Store. The zero value is not usable;
// call New.
type Store struct {
	// writer serialises Updates (a channel so that waiting honours ctx).
	writer chan struct{}

	mu      sync.RWMutex
	entries map[string]directory.Entry
	byCode  []directory.Entry // entries sorted by code, rebuilt at each commit
}

// New returns an empty Store.
func New() *Store {
	return &Store{writer: make(chan struct{}, 1), entries: map[string]directory.Entry{}}
}

// Get implements directory.Store.
func (s *Store) Get(ctx context.Context, code string) (directory.Entry, error) {
	if err := ctx.Err(); err != nil {
		return directory.Entry{}, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	e, ok := s.entries[code]
	if !ok {
		return directory.Entry{}, fmt.Errorf("directory/memory: code %q: %w", code, directory.ErrNotFound)
	}
	return e, nil
}

// List implements directory.Store.
func (s *Store) List(ctx context.Context) ([]directory.Entry, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	return slices.Clone(s.byCode), nil
}

func sorted(m map[string]directory.Entry) []directory.Entry {
	out := slices.Collect(maps.Values(m))
	slices.SortFunc(out, func(a, b directory.Entry) int { return cmp.Compare(a.Code, b.Code) })
	return out
}

// Update implements directory.Store.
func (s *Store) Update(ctx context.Context, fn func(context.Context, directory.Tx) error) error {
	select {
	case s.writer <- struct{}{}:
	case <-ctx.Done():
		return fmt.Errorf("directory/memory: waiting for the writer: %w", ctx.Err())
	}
	defer func() { <-s.writer }()
	s.mu.RLock()
	tx := &tx{entries: maps.Clone(s.entries)}
	s.mu.RUnlock()
	if err := fn(ctx, tx); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("directory/memory: commit: %w", err)
	}
	byCode := sorted(tx.entries)
	s.mu.Lock()
	s.entries, s.byCode = tx.entries, byCode
	s.mu.Unlock()
	return nil
}

type tx struct {
	entries map[string]directory.Entry
}

// List implements directory.Tx.
func (t *tx) List(ctx context.Context) ([]directory.Entry, error) {
	return sorted(t.entries), ctx.Err()
}

// Put implements directory.Tx.
func (t *tx) Put(ctx context.Context, e directory.Entry) error {
	if err := e.Check(); err != nil {
		return err
	}
	t.entries[e.Code] = e
	return ctx.Err()
}

// Delete implements directory.Tx.
func (t *tx) Delete(ctx context.Context, code string) error {
	if _, ok := t.entries[code]; !ok {
		return fmt.Errorf("directory/memory: delete %q: %w", code, directory.ErrNotFound)
	}
	delete(t.entries, code)
	return ctx.Err()
}
