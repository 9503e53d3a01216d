package ivr

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/helpline-it/helpline/callerid"
	"github.com/helpline-it/helpline/cdr"
	"github.com/helpline-it/helpline/queue"
)

// Blocklist says whether a caller is blocked. The blacklist package's
// Redis store implements it.
type Blocklist interface {
	// Blocked reports whether the caller with this identity hash is
	// blocked at now, and why (for the CDR note). An error means the
	// answer is unknown: the flow then lets the caller through.
	Blocked(ctx context.Context, hash string, now time.Time) (blocked bool, reason string, err error)
}

// Schedule says which languages are open at an instant.
type Schedule interface {
	// Open returns the codes of the languages open at t. The default
	// language is treated as open whatever it says.
	Open(t time.Time) []string
}

// ScheduleFunc adapts a function to Schedule.
type ScheduleFunc func(t time.Time) []string

// Open calls f(t).
func (f ScheduleFunc) Open(t time.Time) []string { return f(t) }

// Identifier turns the raw caller number into an Identity;
// *callerid.Hasher implements it. It is the only place a raw number goes.
type Identifier interface {
	Identify(raw string) callerid.Identity
}

// Deps are the flow's collaborators.
type Deps struct {
	// Queue holds waiting calls and operators (required).
	Queue queue.Queue
	// CDR stores the one record of each call (required).
	CDR cdr.Writer
	// Spool receives a record that CDR kept refusing for
	// Config.CDRRetryFor: the seam for the durable spool. Optional; the
	// record is always logged in full at error level as well.
	Spool cdr.Writer
	// Identifier hashes caller numbers (required).
	Identifier Identifier
	// Blocklist is consulted for every non-withheld caller (nil: no
	// blacklist).
	Blocklist Blocklist
	// Schedule gives the open languages (nil: all open).
	Schedule Schedule
	// Talk is the operator's side of each talk: told who the operator's
	// caller is, and handed the feature codes the operator keys on their
	// leg (flags, transfers). Nil: operators' keys during a talk are
	// ignored.
	Talk TalkHandler
	// Journal keeps each call's record so far outside the process, so
	// the next process closes calls that ended while none ran (see
	// Journal, Flow.Sweep). Nil: such calls get no CDR.
	Journal Journal
	// Clock runs every timeout (nil: the real clock).
	Clock clockwork.Clock
	// Logger receives the flow's logs (the zero Logger discards them).
	Logger zerolog.Logger
	// Registerer receives the metrics (nil: not registered).
	Registerer prometheus.Registerer
}

// ErrShutdown is returned by Handle and Resume when their context was
// cancelled (the app is stopping): the call is deliberately left as it is
// (waiting in the queue with music on hold, or bridged) for the next
// process to re-adopt, and no CDR is written.
var ErrShutdown = errors.New("ivr: shut down, call left for re-adoption")

// ErrNotQueued is returned by Resume when the queue does not know the call.
var ErrNotQueued = errors.New("ivr: call not in the queue")

// Flow runs inbound calls. One Flow (and its Dispatcher) per node; Handle
// is called once per call, concurrently.
type Flow struct {
	cfg    Config
	deps   Deps
	clock  clockwork.Clock
	log    zerolog.Logger
	m      *metrics
	disp   *Dispatcher
	active atomic.Int64

	mu      sync.Mutex
	running map[string]int // calls this Flow runs (Sweep leaves them)
}

// New checks the configuration and the dependencies and registers the
// metrics. Run must be running for calls to reach operators.
func New(cfg Config, deps Deps) (*Flow, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	switch {
	case deps.Queue == nil:
		return nil, fmt.Errorf("ivr: Deps.Queue is nil")
	case deps.CDR == nil:
		return nil, fmt.Errorf("ivr: Deps.CDR is nil")
	case deps.Identifier == nil:
		return nil, fmt.Errorf("ivr: Deps.Identifier is nil")
	}
	if deps.Clock == nil {
		deps.Clock = clockwork.NewRealClock()
	}
	m, err := newMetrics(deps.Registerer)
	if err != nil {
		return nil, err
	}
	f := &Flow{cfg: cfg, deps: deps, clock: deps.Clock, log: deps.Logger, m: m, running: map[string]int{}}
	f.disp = newDispatcher(deps.Queue, deps.Clock, deps.Logger, cfg, m)
	return f, nil
}

// Run runs the node's dispatcher until ctx is cancelled.
func (f *Flow) Run(ctx context.Context) error { return f.disp.Run(ctx) }

// Dispatcher returns the node's dispatcher, for the operator side (login,
// unpause) to call Kick.
func (f *Flow) Dispatcher() *Dispatcher { return f.disp }

// Active is the number of calls being handled now.
func (f *Flow) Active() int { return int(f.active.Load()) }

// Handle runs one inbound call from its arrival in the app to its end and
// writes its CDR. callerNumber is the raw caller ID: it goes to the
// Identifier and nowhere else. It returns the record written; the error is
// ErrShutdown (ctx cancelled, see there) or the CDR write's failure after
// all retries (the record then went to the Spool and the log).
func (f *Flow) Handle(ctx context.Context, call Call, callerNumber string) (cdr.Record, error) {
	s := f.newSession(call, callerNumber, f.clock.Now())
	f.active.Add(1)
	defer f.active.Add(-1)
	f.track(s.rec.ID)
	defer f.untrack(s.rec.ID)
	// The journal first, before anything else is done for the call: a
	// process killed from here on leaves the next one a record to close
	// if the caller hangs up before it runs.
	s.journal(ctx)
	s.log.Info().Msg("call arrived")
	if err := s.run(ctx); err != nil {
		return s.rec, err
	}
	return s.finish(ctx)
}

// Resume re-adopts a call that a previous process left waiting in the
// queue (app restart): its queue entry, with its enqueued time, place and
// language, is kept; music on hold is restarted and the call waits for an
// operator as if nothing happened. arrived is when the call reached the
// engine (the channel's creation time). ErrNotQueued: the queue does not
// know the call; the adapter decides what to do with it (e.g. Handle).
func (f *Flow) Resume(ctx context.Context, call Call, callerNumber string, arrived time.Time) (cdr.Record, error) {
	snap, err := f.deps.Queue.Snapshot(ctx, f.clock.Now())
	if err != nil {
		return cdr.Record{}, fmt.Errorf("ivr: resume %s: %w", call.ID(), err)
	}
	var qc *queue.Call
	for _, calls := range snap.Waiting {
		for i := range calls {
			if calls[i].ID == call.ID() {
				qc = &calls[i].Call
			}
		}
	}
	if qc == nil {
		return cdr.Record{}, fmt.Errorf("ivr: resume %s: %w", call.ID(), ErrNotQueued)
	}
	s := f.newSession(call, callerNumber, arrived)
	f.active.Add(1)
	defer f.active.Add(-1)
	f.track(s.rec.ID)
	defer f.untrack(s.rec.ID)
	s.log.Info().Time("enqueued", qc.Enqueued).Str("lang", qc.Language).Msg("call re-adopted")
	if err := s.queueStage(ctx, qc.Language, qc.Enqueued); err != nil {
		return s.rec, err
	}
	return s.finish(ctx)
}

func (f *Flow) newSession(call Call, callerNumber string, arrived time.Time) *session {
	id := f.deps.Identifier.Identify(callerNumber)
	s := &session{
		f:      f,
		call:   call,
		ident:  id,
		digits: call.DTMF(),
		rec: cdr.Record{
			ID:         call.ID(),
			Direction:  cdr.Inbound,
			Service:    f.cfg.Service,
			ArrivedAt:  arrived.UTC(),
			CallerHash: id.Hash,
			Withheld:   id.Withheld,
		},
	}
	s.log = f.log.With().Str("call", call.ID()).Str("caller", id.String()).Logger()
	return s
}

// VoicemailName is the recording name of a call's voicemail: "vm-" and the
// call id with every character outside [A-Za-z0-9._-] replaced by '_', so
// it is a valid file name and URL path segment on every engine (a '/'
// would break ARI's routing).
func VoicemailName(callID string) string {
	var b strings.Builder
	b.WriteString("vm-")
	for _, r := range callID {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '.', r == '-', r == '_':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	return b.String()
}

// minutesToSay rounds a wait up to whole minutes, at least one.
func minutesToSay(d time.Duration) int {
	m := int((d + time.Minute - 1) / time.Minute)
	if m < 1 {
		m = 1
	}
	return m
}
