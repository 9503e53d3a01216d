package operator

import (
	"context"
	"errors"
	"fmt"

	"github.com/helpline-it/helpline/directory"
)

// EntryLookup is the part of the network's directory the operator side
// needs; *directory.Directory implements it.
type EntryLookup interface {
	Lookup(ctx context.Context, code string) (directory.Entry, error)
}

// FromDirectory adapts the network's directory (package directory) to
// Directory: what follows *20/*21/*22 must be an entry's four-digit code;
// a province's number or a phone number dialled there is refused, so that
// every call to the network goes to a service the directory vouches for,
// and its CDR names it.
func FromDirectory(d EntryLookup) Directory {
	return DirectoryFunc(func(ctx context.Context, code string) (Target, error) {
		if !directory.IsCode(code) {
			return Target{}, fmt.Errorf("%w: %q is not a directory code", ErrUnknownTarget, code)
		}
		e, err := d.Lookup(ctx, code)
		if errors.Is(err, directory.ErrNotFound) {
			return Target{}, fmt.Errorf("%w: %s", ErrUnknownTarget, code)
		}
		if err != nil {
			return Target{}, fmt.Errorf("operator: directory: %w", err)
		}
		return Target{Code: e.Code, Name: e.Name, Dial: e.Dial}, nil
	})
}
