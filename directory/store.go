package directory

import "context"

// Store keeps the directory. Implementations: directory/sqlite (the
// default, beside the call records) and directory/memory (tests, demo).
// Both pass the contract suite in directory/directorytest.
type Store interface {
	// Get returns the entry with code, or an error wrapping ErrNotFound.
	Get(ctx context.Context, code string) (Entry, error)
	// List returns every entry, ordered by code.
	List(ctx context.Context) ([]Entry, error)
	// Update runs fn in one transaction: everything fn did through tx is
	// kept if fn returns nil and the commit succeeds, and nothing at all
	// otherwise. Updates are serialised; readers see the state before or
	// after an Update, never part of one.
	Update(ctx context.Context, fn func(ctx context.Context, tx Tx) error) error
}

// Tx is what an Update may do.
type Tx interface {
	// List returns every entry as the transaction sees it, by code.
	List(ctx context.Context) ([]Entry, error)
	// Put inserts e, or replaces the entry with e's code. e must be
	// valid (see Entry.Check).
	Put(ctx context.Context, e Entry) error
	// Delete removes the entry with code; an error wrapping ErrNotFound
	// if there is none.
	Delete(ctx context.Context, code string) error
}
