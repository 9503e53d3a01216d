package cdr

import (
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// MaxIDLen caps a record ID. IDs come from Asterisk channel ids
// ("1718000000.123") or importers; anything longer is garbage.
const MaxIDLen = 128

// inboundOutcomes and outboundOutcomes are the outcomes valid for each
// direction; queued says whether the outcome implies the caller entered a
// language queue.
var (
	inboundOutcomes = map[Outcome]struct{ queued bool }{
		Answered: {true}, Unanswered: {true}, Voicemail: {true}, Abandoned: {true},
		Blacklisted: {false}, WelcomeHangup: {false},
	}
	outboundOutcomes = map[Outcome]bool{Answered: true, Busy: true, NoAnswer: true, Failed: true}
)

// ValidOutcome reports whether o is an outcome of direction d.
func ValidOutcome(d Direction, o Outcome) bool {
	switch d {
	case Inbound:
		_, ok := inboundOutcomes[o]
		return ok
	case Outbound:
		return outboundOutcomes[o]
	}
	return false
}

// Queued reports whether an inbound outcome means the caller reached a
// language queue (answered, unanswered, voicemail, abandoned).
func Queued(o Outcome) bool { return inboundOutcomes[o].queued }

// Canonical returns r as every Store keeps it: times in UTC, truncated to
// Precision. Comparing canonical records is how tests check a round trip.
func (r Record) Canonical() Record {
	r.ArrivedAt = canonTime(r.ArrivedAt)
	r.QueuedAt = canonTime(r.QueuedAt)
	r.ConnectedAt = canonTime(r.ConnectedAt)
	r.EndedAt = canonTime(r.EndedAt)
	return r
}

func canonTime(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return t.UTC().Truncate(Precision)
}

// CheckStorable returns EINVALID if r cannot be filed or could leak a
// number: no ID (or an over-long or non-printable one), an unknown
// direction, an outcome not of that direction, no ArrivedAt, or a
// CallerHash/CalleeHash that is not a hex HMAC. The hash check is the last
// line of defence for anonymity: a raw number put in a hash field by
// mistake is refused rather than written to disk.
func (r Record) CheckStorable() error {
	var p problems
	r.checkKey(&p)
	return p.err()
}

func (r Record) checkKey(p *problems) {
	switch {
	case r.ID == "":
		p.add("missing id")
	case len(r.ID) > MaxIDLen:
		p.add("id longer than %d bytes", MaxIDLen)
	case !printable(r.ID):
		p.add("id %s has control or invalid characters", redact(r.ID))
	}
	switch r.Direction {
	case Inbound, Outbound:
		if !ValidOutcome(r.Direction, r.Outcome) {
			if r.Outcome == "" {
				p.add("missing outcome")
			} else {
				p.add("unknown %s outcome %s", r.Direction, redact(string(r.Outcome)))
			}
		}
	case "":
		p.add("missing direction")
	default:
		p.add("unknown direction %s", redact(string(r.Direction)))
	}
	if r.ArrivedAt.IsZero() {
		p.add("missing arrived_at")
	}
	if r.CallerHash != "" && !IsHash(r.CallerHash) {
		p.add("caller_hash is not a 64-digit hex HMAC")
	}
	if r.CalleeHash != "" && !IsHash(r.CalleeHash) {
		p.add("callee_hash is not a 64-digit hex HMAC")
	}
}

// Validate returns EINVALID naming every rule r breaks, beyond
// CheckStorable:
//
//   - every call has ended_at, not before arrived_at;
//   - inbound: a caller_hash, or withheld (never both); queued outcomes
//     (answered, unanswered, voicemail, abandoned) have queued_at and
//     language; answered adds connected_at and operator; blacklisted and
//     welcome_hangup have no queued_at, connected_at or operator;
//   - outbound: callee_hash and operator; answered has connected_at; no
//     caller, withheld, language or queued_at;
//   - only answered calls have connected_at;
//   - arrived_at ≤ queued_at ≤ connected_at ≤ ended_at;
//   - hangup_by, if set, is caller, operator or system.
//
// The neutral importer applies it to every line; stores do not (see Store).
func (r Record) Validate() error {
	var p problems
	r.checkKey(&p)
	if r.EndedAt.IsZero() {
		p.add("missing ended_at")
	}
	switch r.Direction {
	case Inbound:
		switch {
		case r.Withheld && r.CallerHash != "":
			p.add("withheld caller with a caller_hash")
		case !r.Withheld && r.CallerHash == "":
			p.add("missing caller (give \"caller\": \"\" or \"withheld\": true for a withheld number)")
		}
		if r.CalleeHash != "" {
			p.add("callee on an inbound call")
		}
		if Queued(r.Outcome) {
			if r.QueuedAt.IsZero() {
				p.add("missing queued_at (%s calls were queued)", r.Outcome)
			}
			if r.Language == "" {
				p.add("missing language (%s calls were queued)", r.Outcome)
			}
		} else if ValidOutcome(Inbound, r.Outcome) {
			if !r.QueuedAt.IsZero() {
				p.add("queued_at on a %s call, which never reached a queue", r.Outcome)
			}
			if r.Operator != "" {
				p.add("operator on a %s call", r.Outcome)
			}
		}
		if r.Outcome == Answered {
			if r.ConnectedAt.IsZero() {
				p.add("missing connected_at (answered)")
			}
			if r.Operator == "" {
				p.add("missing operator (answered)")
			}
		}
	case Outbound:
		if r.CalleeHash == "" {
			p.add("missing callee")
		}
		if r.Operator == "" {
			p.add("missing operator (outbound calls are placed by an operator)")
		}
		if r.CallerHash != "" || r.Withheld {
			p.add("caller on an outbound call")
		}
		if r.Language != "" {
			p.add("language on an outbound call")
		}
		if !r.QueuedAt.IsZero() {
			p.add("queued_at on an outbound call")
		}
		if r.Outcome == Answered && r.ConnectedAt.IsZero() {
			p.add("missing connected_at (answered)")
		}
	}
	if !r.ConnectedAt.IsZero() && r.Outcome != Answered && ValidOutcome(r.Direction, r.Outcome) {
		p.add("connected_at on a %s call", r.Outcome)
	}
	switch r.HangupBy {
	case "", HangupCaller, HangupOperator, HangupSystem:
	default:
		p.add("unknown hangup_by %s (want caller, operator or system)", redact(r.HangupBy))
	}
	// Order of the steps, checked pairwise on the times present.
	steps := []struct {
		name string
		t    time.Time
	}{{"arrived_at", r.ArrivedAt}, {"queued_at", r.QueuedAt}, {"connected_at", r.ConnectedAt}, {"ended_at", r.EndedAt}}
	for i := range steps {
		if steps[i].t.IsZero() {
			continue
		}
		for j := i + 1; j < len(steps); j++ {
			if !steps[j].t.IsZero() && steps[j].t.Before(steps[i].t) {
				p.add("%s before %s", steps[j].name, steps[i].name)
			}
		}
	}
	return p.err()
}

// IsHash reports whether s has the shape of a callerid hash: 64 lowercase
// hex digits.
func IsHash(s string) bool {
	if len(s) != 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

func printable(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if !unicode.IsPrint(r) {
			return false
		}
	}
	return true
}

// problems collects every rule a record breaks, so one error names them
// all and the user fixes a line once.
type problems []string

func (p *problems) add(format string, args ...any) {
	*p = append(*p, fmt.Sprintf(format, args...))
}

func (p problems) err() error {
	if len(p) == 0 {
		return nil
	}
	return &Error{Code: EINVALID, Message: strings.Join(p, "; ")}
}

// redact quotes a value for an error message so that it can never carry a
// phone number: it is cut to 32 characters and every run of five or more
// digits becomes "#". Error messages end up in terminals and logs, where a
// caller's number must never appear.
func redact(s string) string {
	if utf8.RuneCountInString(s) > 32 {
		rs := []rune(s)
		s = string(rs[:32]) + "…"
	}
	var b strings.Builder
	run := 0
	flush := func(digits string) {
		if len(digits) >= 5 {
			b.WriteString("#")
		} else {
			b.WriteString(digits)
		}
	}
	start := 0
	for i, r := range s {
		if r >= '0' && r <= '9' {
			if run == 0 {
				start = i
			}
			run++
			continue
		}
		if run > 0 {
			flush(s[start:i])
			run = 0
		}
		b.WriteRune(r)
	}
	if run > 0 {
		flush(s[start:])
	}
	return strconv.Quote(b.String())
}
