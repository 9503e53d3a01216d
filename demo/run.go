package demo

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"strings"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/rs/zerolog"

	"github.com/helpline-it/helpline/ari/aritest"
	"github.com/helpline-it/helpline/blacklist"
	"github.com/helpline-it/helpline/callerid"
	"github.com/helpline-it/helpline/cdr"
	"github.com/helpline-it/helpline/queue"
)

// Identifier hashes caller numbers as the switchboard does
// (*callerid.Hasher); the simulation needs it to put its abusive
// callers on the blacklist.
type Identifier interface {
	Identify(raw string) callerid.Identity
}

// Records finds a call's record; cdr.Store implements it.
type Records interface {
	Get(ctx context.Context, id string) (*cdr.Record, error)
}

// Env is the running switchboard the simulation plays against, and how
// to drive its time.
type Env struct {
	// Driver moves the simulated clock. Nil: Clock is real time and the
	// simulation looks at the world every Step (a load generator).
	Driver *Driver
	// Clock is the switchboard's clock (the Driver's when there is one).
	Clock clockwork.Clock
	// Step is how often the simulation acts when there is no Driver
	// (default 100 ms).
	Step time.Duration

	// Asterisk is the emulated Asterisk the switchboard is connected to;
	// its endpoints must include the "sipp" trunk and one softphone per
	// operator of the scenario (see Endpoints).
	Asterisk *aritest.Server
	// Queue is the switchboard's queue store, the operators' side of it:
	// log in, unpause, log out, and the snapshot of the progress line.
	Queue queue.Queue
	// Blacklist and Identifier put the scenario's abusive numbers on the
	// switchboard's blacklist. Nil Blacklist: none is blocked (set
	// Callers.Blacklisted to 0).
	Blacklist  blacklist.Store
	Identifier Identifier
	// Records is where the switchboard writes its call records: every
	// call is counted by the outcome of its record.
	Records Records

	// Progress, if set, receives the state of things every ProgressEvery
	// of simulated time (default one minute) and at the end.
	Progress      func(Progress)
	ProgressEvery time.Duration
	// Logger gets the simulation's own notes (never a caller's number).
	Logger zerolog.Logger
}

// Progress is the state of the simulation at one simulated instant.
type Progress struct {
	At      time.Time
	Elapsed time.Duration
	// Placed calls so far, and those not over yet.
	Placed, InProgress int
	// Waiting calls per language, and operators per state (logged-in
	// operators only), from the queue's snapshot.
	Waiting   map[string]int
	Operators map[queue.State]int
	// Outcomes of the calls whose record is written.
	Outcomes map[cdr.Outcome]int
	// Draining is true after the scenario's Duration: no new callers,
	// the last calls are ending.
	Draining bool
}

// Counts is what Run did.
type Counts struct {
	// Placed is the number of calls placed; CallIDs their ids (the
	// channel ids, which are also the records' ids), in order.
	Placed  int
	CallIDs []string
	// Outcomes counts the calls by the outcome of their record.
	Outcomes map[cdr.Outcome]int
	// Unfinished calls were still up when Run stopped; Missing ended but
	// have no record (both zero after a complete run).
	Unfinished, Missing int
	// Rings is how many times an operator's phone rang; Missed how many
	// rings she chose to let ring out, AutoPaused how many times the
	// switchboard paused her for it, and Unpaused how many times she came
	// back. Breaks counts the breaks operators took (paused by
	// themselves).
	Rings, Missed, AutoPaused, Unpaused int
	Breaks                              int
	// Start and End delimit the simulated time Run covered.
	Start, End time.Time
}

// Total is the number of calls with a record.
func (c Counts) Total() int {
	n := 0
	for _, v := range c.Outcomes {
		n += v
	}
	return n
}

// Endpoints are the emulated Asterisk's PJSIP endpoints for a roster:
// the "sipp" trunk the callers come from and one softphone per operator,
// answered by the simulation (aritest.Manual).
func Endpoints(ops []Operator) []aritest.Endpoint {
	eps := []aritest.Endpoint{{Resource: trunk, Context: "from-sip"}}
	for _, o := range ops {
		eps = append(eps, aritest.Endpoint{Resource: o.ID, Context: "from-operators", Phone: aritest.Phone{Answer: aritest.Manual}})
	}
	return eps
}

// trunk is the PJSIP endpoint the simulated PSTN calls come in on.
const trunk = "sipp"

// Run plays the scenario against the switchboard in env: callers arrive
// from s.Start for s.Duration (until ctx ends when Duration is 0), the
// operators work their shifts, and after Duration the calls still in
// progress are given up to s.Drain to end. Operators are logged out at
// the end. The counts are returned also when ctx ends early, with
// ctx.Err().
func Run(ctx context.Context, env Env, s Scenario) (Counts, error) {
	if err := s.Validate(); err != nil {
		return Counts{}, err
	}
	switch {
	case env.Asterisk == nil:
		return Counts{}, errors.New("demo: Env.Asterisk is nil")
	case env.Queue == nil:
		return Counts{}, errors.New("demo: Env.Queue is nil")
	case env.Records == nil:
		return Counts{}, errors.New("demo: Env.Records is nil")
	case env.Blacklist != nil && env.Identifier == nil:
		return Counts{}, errors.New("demo: Env.Identifier is nil")
	case env.Blacklist == nil && s.Callers.Blacklisted > 0:
		return Counts{}, fmt.Errorf("%w: Callers.Blacklisted %v without Env.Blacklist", ErrScenario, s.Callers.Blacklisted)
	}
	if env.Driver != nil {
		env.Clock = env.Driver.Clock()
	}
	if env.Clock == nil {
		return Counts{}, errors.New("demo: Env.Clock is nil")
	}
	if env.Step <= 0 {
		env.Step = 100 * time.Millisecond
	}
	if env.ProgressEvery <= 0 {
		env.ProgressEvery = time.Minute
	}
	if s.Drain == 0 {
		s.Drain = time.Hour
	}
	sim := newSim(env, &s)
	err := sim.run(ctx)
	return sim.counts(), err
}

// sim is one run: the callers, the operators and the clock.
type sim struct {
	env Env
	s   *Scenario

	arr     arrivals
	callers *callers
	ops     []*operator
	byID    map[string]*operator

	nextArrival time.Time
	noMore      bool
	end         time.Time // zero: no end

	active   []*caller // not resolved yet
	calls    []*caller
	seen     int // aritest parties looked at
	outcomes map[cdr.Outcome]int

	rings, missed, autoPaused, unpaused int
	breaks                              int
	nextProgress                        time.Time
	draining                            bool
	start                               time.Time
}

func newSim(env Env, s *Scenario) *sim {
	m := &sim{
		env: env, s: s,
		arr:      arrivals{s: s, rng: newRand(s.Seed, streamArrivals)},
		callers:  newCallers(s),
		byID:     map[string]*operator{},
		outcomes: map[cdr.Outcome]int{},
	}
	for i, o := range s.Operators {
		op := &operator{Operator: o, rng: newRand(s.Seed, streamOperators+i)}
		m.ops = append(m.ops, op)
		m.byID[o.ID] = op
	}
	return m
}

func (m *sim) now() time.Time { return m.env.Clock.Now() }

func (m *sim) run(ctx context.Context) error {
	if err := m.blockAbusers(ctx); err != nil {
		return err
	}
	m.start = m.now()
	if m.s.Duration > 0 {
		m.end = m.s.Start.Add(m.s.Duration)
	}
	// The scenario's Start is when callers start coming; a clock that is
	// past it (a second run after the first) starts from now.
	from := m.s.Start
	if from.Before(m.start) {
		from = m.start
	}
	m.nextArrival, m.noMore = m.arrivalAfter(from.Add(-time.Nanosecond))
	m.nextProgress = m.start
	var drainEnd time.Time
	for {
		now := m.now()
		m.arrive(ctx, now)
		m.watchPhones()
		for _, op := range m.ops {
			m.operatorStep(ctx, op, now)
		}
		m.callerSteps(ctx, now)
		if !m.draining && !m.end.IsZero() && !now.Before(m.end) {
			m.draining = true
			drainEnd = now.Add(m.s.Drain)
		}
		if !now.Before(m.nextProgress) {
			m.progress(ctx, now)
			m.nextProgress = now.Add(m.env.ProgressEvery)
		}
		if m.draining && (len(m.active) == 0 || !now.Before(drainEnd)) {
			break
		}
		if err := m.wait(ctx); err != nil {
			m.progress(context.WithoutCancel(ctx), m.now())
			return err
		}
	}
	m.progress(ctx, m.now())
	m.logoutAll(ctx)
	return nil
}

// wait lets time pass until the next look at the world.
func (m *sim) wait(ctx context.Context) error {
	if m.env.Driver != nil {
		return m.env.Driver.Advance(ctx)
	}
	select {
	case <-m.env.Clock.After(m.env.Step):
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (m *sim) arrivalAfter(t time.Time) (time.Time, bool) {
	at, ok := m.arr.after(t, m.end)
	return at, !ok
}

// blockAbusers puts the scenario's abusive numbers on the blacklist, as
// an administrator would have, for the whole run and well beyond.
func (m *sim) blockAbusers(ctx context.Context) error {
	if m.env.Blacklist == nil {
		return nil
	}
	now := m.now()
	for _, n := range m.callers.blocked {
		id := m.env.Identifier.Identify(n)
		if id.Withheld {
			continue
		}
		e := blacklist.Entry{
			Hash: id.Hash, Reason: "demo: repeated prank calls", Source: blacklist.SourceAdmin,
			Created: now, Until: now.AddDate(0, 0, 30), By: "demo",
		}
		if err := m.env.Blacklist.Add(ctx, e); err != nil {
			return fmt.Errorf("demo: blacklisting %s: %w", id, err)
		}
	}
	return nil
}

// arrive places the calls due by now.
func (m *sim) arrive(ctx context.Context, now time.Time) {
	for !m.noMore && !m.nextArrival.After(now) {
		at := m.nextArrival
		m.place(ctx, at)
		m.nextArrival, m.noMore = m.arrivalAfter(at)
	}
}

func (m *sim) place(ctx context.Context, at time.Time) {
	p := m.callers.draw(at)
	var script []aritest.App
	switch p.kind {
	case planWelcomeHangup:
		script = []aritest.App{{Name: "Wait", Data: seconds(p.act)}, {Name: "Hangup", Data: ""}}
	case planChoose:
		script = []aritest.App{{Name: "Wait", Data: seconds(p.act)}, {Name: "SendDTMF", Data: string(p.digit)}}
	}
	call, err := m.env.Asterisk.Call(ctx, p.number, m.s.Number, aritest.CallOptions{Tech: aritest.PJSIP, Endpoint: trunk, Script: script})
	if err != nil {
		// Only a closed emulator or a cancelled context refuse a call.
		m.env.Logger.Warn().Err(err).Msg("demo: call not placed")
		return
	}
	c := &caller{p: p, call: call, id: call.ChannelID(), arrived: at}
	m.active = append(m.active, c)
	m.calls = append(m.calls, c)
}

// seconds writes d as dialplan seconds ("2.5").
func seconds(d time.Duration) string {
	return strings.TrimRight(strings.TrimRight(fmt.Sprintf("%.3f", d.Seconds()), "0"), ".")
}

// progress hands the state of things to env.Progress.
func (m *sim) progress(ctx context.Context, now time.Time) {
	if m.env.Progress == nil {
		return
	}
	p := Progress{
		At: now, Elapsed: now.Sub(m.start), Placed: len(m.calls),
		Waiting: map[string]int{}, Operators: map[queue.State]int{},
		Outcomes: maps.Clone(m.outcomes), Draining: m.draining,
	}
	for _, c := range m.active {
		if !c.ended {
			p.InProgress++
		}
	}
	if snap, err := m.env.Queue.Snapshot(ctx, now); err == nil {
		for lang, calls := range snap.Waiting {
			p.Waiting[lang] = len(calls)
		}
		for _, op := range snap.Operators {
			p.Operators[op.State]++
		}
	}
	m.env.Progress(p)
}

func (m *sim) counts() Counts {
	c := Counts{
		Placed: len(m.calls), Outcomes: maps.Clone(m.outcomes),
		Rings: m.rings, Missed: m.missed, AutoPaused: m.autoPaused, Unpaused: m.unpaused, Breaks: m.breaks,
		Start: m.start, End: m.now(),
	}
	for _, k := range m.calls {
		c.CallIDs = append(c.CallIDs, k.id)
	}
	for _, k := range m.active {
		if k.ended {
			c.Missing++
		} else {
			c.Unfinished++
		}
	}
	return c
}

// logoutAll logs every operator out at the end of the run.
func (m *sim) logoutAll(ctx context.Context) {
	now := m.now()
	for _, op := range m.ops {
		if op.loggedIn {
			if err := m.env.Queue.Logout(ctx, op.ID, now); err != nil && !errors.Is(err, queue.ErrUnknownOperator) {
				m.env.Logger.Warn().Err(err).Str("operator", op.ID).Msg("demo: logout")
			}
			op.loggedIn = false
		}
	}
}
