// Package redisfault tells the two ways a Redis call can fail apart: the
// server refused (a reply such as a script's error_reply or WRONGTYPE: our
// bug or a rule our Lua enforces), or the server could not serve (network
// down, timeout, closed client, or a live server that is loading, failing
// over or out of memory).
//
// The distinction is a promise to callers: only the second switches the
// call flow to its in-process fallback (skip the blacklist, queue in
// memory), because a refusal would be refused again by the fallback's twin
// logic, while an outage is exactly what the fallback exists for. queue and
// blacklist both classify through here so the rule is written once.
package redisfault

import (
	"context"
	"errors"
	"strings"

	"github.com/redis/go-redis/v9"
)

// unavailableCodes are refusals that mean the server cannot serve now
// (loading, failing over, a read-only replica, out of memory, stuck in a
// script): for our callers that is the same as unreachable.
var unavailableCodes = map[string]bool{
	"LOADING": true, "READONLY": true, "MASTERDOWN": true, "CLUSTERDOWN": true,
	"TRYAGAIN": true, "BUSY": true, "NOREPLICAS": true, "OOM": true, "MISCONF": true,
}

// Kind is how a Redis error is to be treated.
type Kind int

// Kinds of failure.
const (
	// None: err was nil.
	None Kind = iota
	// Refused: a reachable server answered with an error reply.
	Refused
	// Unavailable: the server could not be reached or cannot serve now.
	Unavailable
	// Canceled: the caller's context ended; neither side is to blame.
	Canceled
)

// Classify returns how err is to be treated and, for Refused, the reply's
// first word (e.g. "UNKNOWN_CALL" from redis.error_reply("UNKNOWN_CALL …"),
// with Redis's "ERR " prefix removed) and the rest of the message.
func Classify(err error) (kind Kind, code, detail string) {
	if err == nil {
		return None, "", ""
	}
	var re redis.Error
	if errors.As(err, &re) {
		msg := strings.TrimPrefix(re.Error(), "ERR ")
		code, detail, _ = strings.Cut(msg, " ")
		if unavailableCodes[code] {
			return Unavailable, code, detail
		}
		return Refused, code, detail
	}
	if errors.Is(err, context.Canceled) {
		return Canceled, "", ""
	}
	return Unavailable, "", ""
}
