package blacklist

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"
)

// Memory is an in-process Store for tests and the demo. Expired blocks
// are invisible as soon as now passes Until, and dropped on the next
// write; flags outside the window are dropped when the next flag for the
// caller arrives.
type Memory struct {
	policy Policy

	mu     sync.Mutex
	blocks map[string]Entry
	flags  map[string][]Flag
}

var _ Store = (*Memory)(nil)

// NewMemory returns an empty in-process store applying p.
func NewMemory(p Policy) (*Memory, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	return &Memory{policy: p, blocks: make(map[string]Entry), flags: make(map[string][]Flag)}, nil
}

// Blocked implements Store.
func (m *Memory) Blocked(ctx context.Context, hash string, now time.Time) (Entry, bool, error) {
	if hash == "" {
		return Entry{}, false, nil
	}
	if err := checkHash(hash); err != nil {
		return Entry{}, false, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	e, ok := m.blocks[hash]
	if !ok || !e.Until.After(ms(now)) {
		return Entry{}, false, nil
	}
	return e, true, nil
}

// Add implements Store.
func (m *Memory) Add(ctx context.Context, e Entry) error {
	e, err := validateEntry(e)
	if err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.blocks[e.Hash] = e
	return nil
}

// Remove implements Store.
func (m *Memory) Remove(ctx context.Context, hash string) error {
	if err := checkHash(hash); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.blocks[hash]; !ok {
		return fmt.Errorf("blacklist: remove %s…: %w", hash[:12], ErrNotFound)
	}
	delete(m.blocks, hash)
	return nil
}

// List implements Store.
func (m *Memory) List(ctx context.Context, now time.Time) ([]Entry, error) {
	now = ms(now)
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []Entry
	for h, e := range m.blocks {
		if e.Until.After(now) {
			out = append(out, e)
		} else {
			delete(m.blocks, h)
		}
	}
	sortEntries(out)
	return out, nil
}

func sortEntries(es []Entry) {
	slices.SortFunc(es, func(a, b Entry) int {
		if c := a.Created.Compare(b.Created); c != 0 {
			return c
		}
		return strings.Compare(a.Hash, b.Hash)
	})
}

// Flag implements Store.
func (m *Memory) Flag(ctx context.Context, f Flag) (bool, error) {
	f, err := validateFlag(f)
	if err != nil {
		return false, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	cutoff := f.At.Add(-m.policy.Window)
	kept := make([]Flag, 0, len(m.flags[f.Hash])+1)
	for _, g := range m.flags[f.Hash] {
		if g.At.After(cutoff) && g != f {
			kept = append(kept, g)
		}
	}
	kept = append(kept, f)
	sortFlags(kept)
	m.flags[f.Hash] = kept
	if len(kept) < m.policy.Threshold {
		return false, nil
	}
	if e, ok := m.blocks[f.Hash]; ok && e.Until.After(f.At) {
		return false, nil
	}
	counts := map[Kind]int{}
	for _, g := range kept {
		counts[g.Kind]++
	}
	m.blocks[f.Hash] = flagBlock(m.policy, f, counts)
	return true, nil
}

func sortFlags(fs []Flag) {
	slices.SortFunc(fs, func(a, b Flag) int {
		if c := a.At.Compare(b.At); c != 0 {
			return c
		}
		if c := strings.Compare(a.Operator, b.Operator); c != 0 {
			return c
		}
		return strings.Compare(string(a.Kind), string(b.Kind))
	})
}

// Flags implements Store.
func (m *Memory) Flags(ctx context.Context, hash string) ([]Flag, error) {
	if err := checkHash(hash); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.flags[hash]), nil
}
