package liveview

import (
	"cmp"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/helpline-it/helpline/queue"
	"github.com/helpline-it/helpline/report/metric"
)

// Board is one picture of the switchboard: what the full-screen view
// draws, what --once prints and what --json encodes. It is a plain value
// computed from a queue.Snapshot, today's counters and the view's health,
// so the three outputs cannot disagree.
type Board struct {
	// Service is the helpline service shown.
	Service string
	// At is the instant the picture was drawn (the view's clock, in the
	// service time zone).
	At time.Time
	// Alert is the longest-wait alert threshold (config
	// queue.longest_wait_alert): a caller waiting at least this long is
	// highlighted.
	Alert time.Duration
	// Status says how fresh the picture is.
	Status Status
	// Languages in menu order (configured languages first, then any other
	// the queue knows), each with its waiting calls.
	Languages []LanguageRow
	// Longest is the longest wait across languages (zero when nobody
	// waits) and LongestLang its language.
	Longest     time.Duration
	LongestLang string
	// Operators logged in, ordered by ID.
	Operators []OperatorRow
	// Today holds the counters since local midnight.
	Today Today
}

// Status is the health of the data on a Board.
type Status struct {
	// DataAt is the instant of the queue snapshot shown; zero when none
	// was ever read.
	DataAt time.Time
	// Age is At − DataAt.
	Age time.Duration
	// Stale is true when DataAt is older than the view's stale limit: the
	// waits and times in state are then computed at DataAt, not At.
	Stale bool
	// RedisDown is true when the last attempt to read the queue failed
	// because Redis could not be reached; RedisErr says why and
	// DownSince when the failures began.
	RedisDown bool
	RedisErr  string
	DownSince time.Time
	// Err is a failure to read the queue that is not unreachability
	// (Redis refused, a malformed record).
	Err string
	// Events is true while the view is subscribed to the queue's pushed
	// events; false means it only refreshes periodically.
	Events bool
	// Single marks the picture of a single read (--once, --json): no
	// subscription, no refresh.
	Single bool
}

// LanguageRow is one language queue.
type LanguageRow struct {
	Code string
	// Name is the configured display name (config languages.<code>.name),
	// or the code.
	Name string
	// Waiting calls, oldest first (position 1 first).
	Waiting []WaitingRow
	// Longest is the wait of the oldest caller (zero when none waits).
	Longest time.Duration
	// Alert is Longest ≥ Board.Alert.
	Alert bool
	// Free counts available operators with this language skill; Staffed
	// those logged in with it and not paused; LoggedIn all logged in
	// with it.
	Free, Staffed, LoggedIn int
}

// WaitingRow is one waiting caller. It carries no number: Tag is the
// short non-reversible label of package callerid.
type WaitingRow struct {
	Position int
	Tag      string
	Waited   time.Duration
	// Alert is Waited ≥ Board.Alert.
	Alert bool
	// RingingOp is the operator whose phone rings for this call, if any.
	RingingOp string
}

// OperatorRow is one logged-in operator.
type OperatorRow struct {
	ID string
	// Name is the configured display name, or the ID.
	Name   string
	State  queue.State
	Skills []string
	// InState is how long the operator has been in State.
	InState     time.Duration
	PauseReason string
	// CallTag is the tag of the call ringing or talking with the operator,
	// when the view has seen it.
	CallTag string
	// WrapLeft is the wrap-up time left (State == queue.WrapUp).
	WrapLeft time.Duration
}

// Today is the day's counters since local midnight, with the definitions
// of package report/metric (those of the quarterly report).
type Today struct {
	// Known is false when the view has no call-record store (or could not
	// read it yet); the counters are then zero and Note says why.
	Known bool
	Note  string
	// Since is local midnight; RecordsAt is when the call records were
	// last read.
	Since     time.Time
	RecordsAt time.Time
	// Offered = Answered + Abandoned + Voicemail + Unanswered + Pending.
	Offered, Answered, Abandoned, Voicemail, Unanswered int64
	// Pending counts calls that left the queue unanswered since the
	// records were last read, whose outcome (abandoned, voicemail,
	// unanswered) their call record will tell.
	Pending int64
	// WithinShort and WithinLong are the shares of offered calls answered
	// within metric.ShortThreshold (20 s) and metric.LongThreshold
	// (60 s); ShareOK is false when nothing was offered.
	WithinShort, WithinLong float64
	ShareOK                 bool
	// AvgWait is the mean wait of answered calls; AvgOK is false without
	// any.
	AvgWait time.Duration
	AvgOK   bool
}

// Language is a configured language: its code and display name.
type Language struct {
	Code, Name string
}

// tagRE is the only shape of caller tag the view shows: 8 hex digits of
// the keyed hash (callerid.Identity.Tag) or "anonimo". Anything else in
// the shared queue — a raw number written by a bug or another tool — is
// masked rather than put on a screen.
var tagRE = regexp.MustCompile(`^(?:[0-9a-f]{8}|anonimo)$`)

// maskedTag replaces a tag of unexpected shape.
const maskedTag = "????????"

// safeTag returns tag if it has the shape of a callerid tag, maskedTag
// otherwise (and "" for no tag).
func safeTag(tag string) string {
	if tag == "" || tagRE.MatchString(tag) {
		return tag
	}
	return maskedTag
}

// clean makes a string from the shared queue safe to print on a
// terminal: control characters (an ESC could restyle or clear the
// supervisor's screen), format characters (a right-to-left override
// could make "op-12" read "21-po") and invalid UTF-8 become "?".
func clean(s string) string {
	unsafe := func(r rune) bool {
		return unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || r == utf8.RuneError
	}
	if utf8.ValidString(s) && strings.IndexFunc(s, unsafe) < 0 {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		if unsafe(r) {
			r = '?'
		}
		b.WriteRune(r)
	}
	return b.String()
}

func cleanAll(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = clean(s)
	}
	return out
}

// boardInput is everything buildBoard needs.
type boardInput struct {
	service   string
	now       time.Time
	alert     time.Duration
	languages []Language
	names     map[string]string
	snap      *queue.Snapshot // nil: never read
	status    Status
	staleness time.Duration
	today     Today
	// tags remembers the tags of calls seen earlier, so that a busy
	// operator's call (no longer in the queue) still shows its tag.
	tags map[string]string
}

// buildBoard computes a Board. Waits and times in state are computed at
// now, or at the snapshot's instant when the data is stale: a stale
// picture says how things stood then rather than inventing how they are.
func buildBoard(in boardInput) Board {
	b := Board{Service: in.service, At: in.now, Alert: in.alert, Status: in.status, Today: in.today}
	ref := in.now
	if in.snap != nil {
		b.Status.DataAt = in.snap.At
		b.Status.Age = metric.Between(in.snap.At, in.now)
		if in.staleness > 0 && b.Status.Age > in.staleness {
			b.Status.Stale = true
		}
		if b.Status.Stale || b.Status.RedisDown {
			ref = in.snap.At
		}
	}

	// Languages: configured ones in menu order, then the others the
	// snapshot shows (calls waiting or operator skills), sorted.
	var order []Language
	seen := map[string]bool{}
	for _, l := range in.languages {
		if !seen[l.Code] {
			seen[l.Code] = true
			order = append(order, l)
		}
	}
	var extra []string
	if in.snap != nil {
		for code := range in.snap.Waiting {
			if !seen[code] {
				seen[code] = true
				extra = append(extra, code)
			}
		}
		for _, op := range in.snap.Operators {
			for _, s := range op.Skills {
				if !seen[s] {
					seen[s] = true
					extra = append(extra, s)
				}
			}
		}
	}
	slices.Sort(extra)
	for _, c := range extra {
		order = append(order, Language{Code: c})
	}

	for _, l := range order {
		row := LanguageRow{Code: clean(l.Code), Name: clean(cmp.Or(l.Name, l.Code))}
		if in.snap != nil {
			for i, c := range in.snap.Waiting[l.Code] {
				w := metric.Waiting(c.Enqueued, ref)
				row.Waiting = append(row.Waiting, WaitingRow{
					Position:  i + 1,
					Tag:       safeTag(c.Tag),
					Waited:    w,
					Alert:     in.alert > 0 && w >= in.alert,
					RingingOp: clean(c.OfferedTo),
				})
				row.Longest = max(row.Longest, w)
			}
			for _, op := range in.snap.Operators {
				if !slices.Contains(op.Skills, l.Code) {
					continue
				}
				op = effective(op, ref)
				if op.State == queue.Available {
					row.Free++
				}
				if op.State != queue.LoggedOut {
					row.LoggedIn++
				}
				if op.State != queue.Paused && op.State != queue.LoggedOut {
					row.Staffed++
				}
			}
		}
		row.Alert = in.alert > 0 && len(row.Waiting) > 0 && row.Longest >= in.alert
		if row.Longest > b.Longest {
			b.Longest, b.LongestLang = row.Longest, row.Code
		}
		b.Languages = append(b.Languages, row)
	}

	if in.snap != nil {
		callTag := map[string]string{}
		for _, calls := range in.snap.Waiting {
			for _, c := range calls {
				callTag[c.ID] = safeTag(c.Tag)
			}
		}
		for _, op := range in.snap.Operators {
			if op.State == queue.LoggedOut {
				continue
			}
			op = effective(op, ref)
			r := OperatorRow{
				ID:          clean(op.ID),
				Name:        clean(cmp.Or(in.names[op.ID], op.ID)),
				State:       queue.State(clean(string(op.State))),
				Skills:      cleanAll(op.Skills),
				InState:     metric.Between(op.Since, ref),
				PauseReason: clean(op.PauseReason),
			}
			if op.CallID != "" && (op.State == queue.Ringing || op.State == queue.Busy) {
				r.CallTag = cmp.Or(callTag[op.CallID], safeTag(in.tags[op.CallID]))
			}
			if op.State == queue.WrapUp {
				r.WrapLeft = metric.Between(ref, op.WrapUntil)
			}
			b.Operators = append(b.Operators, r)
		}
		slices.SortFunc(b.Operators, func(x, y OperatorRow) int { return cmp.Compare(x.ID, y.ID) })
	}
	return b
}

// effective is op as the queue will make it once it notices the time:
// a wrap-up that ended at WrapUntil is free since then. The view reads
// the queue without bringing it up to date (see readOnlyInstant).
func effective(op queue.Operator, at time.Time) queue.Operator {
	if op.State == queue.WrapUp && !op.WrapUntil.IsZero() && !op.WrapUntil.After(at) {
		op.State, op.Since, op.IdleSince, op.WrapUntil = queue.Available, op.WrapUntil, op.WrapUntil, time.Time{}
	}
	return op
}

// waitingCount is the number of callers waiting on b.
func (b *Board) waitingCount() int {
	n := 0
	for _, l := range b.Languages {
		n += len(l.Waiting)
	}
	return n
}

// stateCounts counts operators by state.
func (b *Board) stateCounts() map[queue.State]int {
	m := map[queue.State]int{}
	for _, o := range b.Operators {
		m[o.State]++
	}
	return m
}
