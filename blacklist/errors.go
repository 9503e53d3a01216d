package blacklist

import (
	"fmt"

	"github.com/helpline-it/helpline/internal/redisfault"
)

// classify wraps a go-redis error: NOT_FOUND from a script as
// ErrNotFound, other replies of a reachable server as plain refusals,
// anything else (network, timeout, closed client, a server that cannot
// serve now) as ErrUnavailable. The refused/unavailable rule itself lives
// in internal/redisfault, shared with the queue.
func classify(op string, err error) error {
	kind, c, _ := redisfault.Classify(err)
	switch kind {
	case redisfault.None:
		return nil
	case redisfault.Refused:
		if c == "NOT_FOUND" {
			return fmt.Errorf("blacklist: %s: %w", op, ErrNotFound)
		}
		return fmt.Errorf("blacklist: %s: redis refused: %w", op, err)
	case redisfault.Unavailable:
		return fmt.Errorf("blacklist: %s: %w: %w", op, ErrUnavailable, err)
	}
	return fmt.Errorf("blacklist: %s: %w", op, err)
}
