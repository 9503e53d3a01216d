package blacklist

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/redis/go-redis/v9"
)

// unavailableCodes are refusals that mean the server cannot serve now;
// for the call flow that is the same as unreachable.
var unavailableCodes = map[string]bool{
	"LOADING": true, "READONLY": true, "MASTERDOWN": true, "CLUSTERDOWN": true,
	"TRYAGAIN": true, "BUSY": true, "NOREPLICAS": true, "OOM": true, "MISCONF": true,
}

// classify wraps a go-redis error: NOT_FOUND from a script as
// ErrNotFound, other replies of a reachable server as plain refusals,
// anything else (network, timeout, closed client) as ErrUnavailable.
func classify(op string, err error) error {
	if err == nil {
		return nil
	}
	var re redis.Error
	if errors.As(err, &re) {
		msg := strings.TrimPrefix(re.Error(), "ERR ")
		c, _, _ := strings.Cut(msg, " ")
		switch {
		case c == "NOT_FOUND":
			return fmt.Errorf("blacklist: %s: %w", op, ErrNotFound)
		case unavailableCodes[c]:
			return fmt.Errorf("blacklist: %s: %w: %w", op, ErrUnavailable, err)
		default:
			return fmt.Errorf("blacklist: %s: redis refused: %w", op, err)
		}
	}
	if errors.Is(err, context.Canceled) {
		return fmt.Errorf("blacklist: %s: %w", op, err)
	}
	return fmt.Errorf("blacklist: %s: %w: %w", op, ErrUnavailable, err)
}
