package blacklist

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"time"
)

// Source says who blocked a caller.
type Source string

// Block sources.
const (
	// SourceAdmin: an administrator (CLI `helpline blacklist add`).
	SourceAdmin Source = "admin"
	// SourceFlags: operators' abuse flags reached the policy threshold.
	SourceFlags Source = "flags"
)

// Entry is one block. It names the caller only by Hash.
type Entry struct {
	// Hash is the caller's callerid.Identity.Hash.
	Hash   string
	Reason string
	Source Source
	// Until is when the block ends by itself; every block has one.
	Until time.Time
	// Created is when the block was made; it is also the "now" the store
	// measures the block's lifetime from.
	Created time.Time
	// By is the administrator, or "flags" for a block made by Flag.
	By string
}

// Kind is the kind of abuse an operator reports.
type Kind string

// Abuse kinds an operator can flag from the phone.
const (
	Harassment Kind = "harassment"
	Prank      Kind = "prank"
)

// Flag is one operator's report that a caller was abusive.
type Flag struct {
	Hash     string
	Operator string
	Kind     Kind
	At       time.Time
}

// Policy turns flags into blocks: Threshold flags within Window block the
// caller for Block.
type Policy struct {
	Threshold int
	Window    time.Duration
	Block     time.Duration
}

// Validate reports a policy that could never or would always block.
func (p Policy) Validate() error {
	switch {
	case p.Threshold < 1:
		return fmt.Errorf("%w: policy threshold %d must be at least 1", ErrInvalid, p.Threshold)
	case p.Window < time.Millisecond:
		return fmt.Errorf("%w: policy window %v must be at least 1ms", ErrInvalid, p.Window)
	case p.Block < time.Millisecond:
		return fmt.Errorf("%w: policy block duration %v must be at least 1ms", ErrInvalid, p.Block)
	}
	return nil
}

// Sentinel errors callers branch on; stores wrap them with context.
var (
	// ErrWithheld: a withheld caller (empty hash) cannot be flagged or
	// blocked; the feature code should say so to the operator.
	ErrWithheld = errors.New("blacklist: withheld caller cannot be flagged or blocked")
	// ErrNotFound: Remove of a caller who is not blocked.
	ErrNotFound = errors.New("blacklist: caller not blocked")
	// ErrInvalid: a malformed argument (not a caller hash, unknown kind,
	// missing time…); the wrapping error names it.
	ErrInvalid = errors.New("blacklist: invalid argument")
	// ErrUnavailable: the store could not be reached (network failure,
	// timeout, a server that cannot serve). Only this error means "skip the
	// blacklist and let the call through"; a refusal by a reachable server
	// is a different error. Use IsUnavailable.
	ErrUnavailable = errors.New("blacklist: store unavailable")
)

// IsUnavailable reports whether err means the store could not be reached.
func IsUnavailable(err error) bool { return errors.Is(err, ErrUnavailable) }

// Store is the blocklist and its flag counter. Time is passed in by the
// caller (from its injected clock): blocks end when now reaches Until,
// in every store, without waiting for a background sweep.
//
// Implementations: Redis (shared by every node) and Memory (tests, the
// demo); one contract suite (package blacklisttest) runs over both.
type Store interface {
	// Blocked reports whether hash is blocked at now, and the block. A
	// withheld caller (empty hash) is never blocked: false, nil.
	Blocked(ctx context.Context, hash string, now time.Time) (Entry, bool, error)
	// Add blocks e.Hash until e.Until, replacing any block it has.
	Add(ctx context.Context, e Entry) error
	// Remove lifts the block on hash; ErrNotFound if there is none.
	Remove(ctx context.Context, hash string) error
	// List returns the blocks in force at now, oldest first.
	List(ctx context.Context, now time.Time) ([]Entry, error)
	// Flag records f and reports whether it caused a block: true when it
	// brings the flags within the policy window to the threshold and the
	// caller was not already blocked.
	Flag(ctx context.Context, f Flag) (blocked bool, err error)
	// Flags lists the flags kept for hash (those within the policy window
	// of the latest one), oldest first.
	Flags(ctx context.Context, hash string) ([]Flag, error)
}

// hashRE is the shape of callerid.Identity.Hash: hex HMAC-SHA256. Anything
// else is refused, so a raw number can never become a key by mistake.
var hashRE = regexp.MustCompile(`^[0-9a-f]{64}$`)

func checkHash(h string) error {
	if h == "" {
		return ErrWithheld
	}
	if !hashRE.MatchString(h) {
		return fmt.Errorf("%w: %q is not a caller hash (64 lowercase hex digits from callerid)", ErrInvalid, redact(h))
	}
	return nil
}

// redact shows the shape of a bad hash without echoing what may be a
// phone number into an error message (and so a log).
func redact(s string) string {
	if len(s) <= 4 {
		return "…"
	}
	return s[:4] + "…"
}

func ms(t time.Time) time.Time { return time.UnixMilli(t.UnixMilli()) }

func validateEntry(e Entry) (Entry, error) {
	if err := checkHash(e.Hash); err != nil {
		return e, err
	}
	switch e.Source {
	case SourceAdmin, SourceFlags:
	case "":
		e.Source = SourceAdmin
	default:
		return e, fmt.Errorf("%w: unknown block source %q", ErrInvalid, e.Source)
	}
	if e.Created.IsZero() {
		return e, fmt.Errorf("%w: block has no Created time", ErrInvalid)
	}
	if e.Until.IsZero() {
		return e, fmt.Errorf("%w: block has no Until: every block must expire", ErrInvalid)
	}
	e.Created, e.Until = ms(e.Created), ms(e.Until)
	if !e.Until.After(e.Created) {
		return e, fmt.Errorf("%w: block ends (%v) before it starts (%v)", ErrInvalid, e.Until, e.Created)
	}
	return e, nil
}

func validateFlag(f Flag) (Flag, error) {
	if err := checkHash(f.Hash); err != nil {
		return f, err
	}
	switch f.Kind {
	case Harassment, Prank:
	default:
		return f, fmt.Errorf("%w: unknown flag kind %q (want harassment or prank)", ErrInvalid, f.Kind)
	}
	if f.Operator == "" {
		return f, fmt.Errorf("%w: flag has no operator", ErrInvalid)
	}
	if f.At.IsZero() {
		return f, fmt.Errorf("%w: flag has no time", ErrInvalid)
	}
	f.At = ms(f.At)
	return f, nil
}

// flagBlock is the block Flag makes when the threshold is reached.
func flagBlock(p Policy, f Flag, counts map[Kind]int) Entry {
	return Entry{
		Hash:    f.Hash,
		Reason:  fmt.Sprintf("%d flags within %v (harassment %d, prank %d)", counts[Harassment]+counts[Prank], p.Window, counts[Harassment], counts[Prank]),
		Source:  SourceFlags,
		Until:   f.At.Add(p.Block),
		Created: f.At,
		By:      string(SourceFlags),
	}
}
