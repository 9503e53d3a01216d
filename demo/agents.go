package demo

import (
	"context"
	"errors"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/helpline-it/helpline/ari/aritest"
	"github.com/helpline-it/helpline/cdr"
	"github.com/helpline-it/helpline/queue"
)

// The simulated people look at their phones once per step: what they
// heard (music on hold means they are queued, a bridge that someone
// answered) and whether the call is over, and act when their plan says
// so. What they do before the queue (press a key, hang up in the
// welcome) is an aritest caller script, timed exactly by the emulator.

// caller is one simulated call from its arrival to its record.
type caller struct {
	p       plan
	call    *aritest.Call
	id      string
	arrived time.Time

	heardSeen int
	queuedAt  time.Time // music on hold started: in the queue
	bridge    string    // the bridge with an operator, once answered
	talkEnd   time.Time
	vmPressed bool
	hangAt    time.Time // end of the message
	hungUp    bool      // we hung up (or asked the operator to)
	ended     bool
}

// callerSteps moves every caller not yet resolved; a caller is resolved
// once its call is over and its record found.
func (m *sim) callerSteps(ctx context.Context, now time.Time) {
	keep := m.active[:0]
	for _, c := range m.active {
		if m.callerStep(ctx, c, now) {
			keep = append(keep, c)
		}
	}
	clear(m.active[len(keep):])
	m.active = keep
}

func (m *sim) callerStep(ctx context.Context, c *caller, now time.Time) (active bool) {
	if !c.ended {
		if _, over := c.call.Ended(); !over {
			m.act(c, now)
			return true
		}
		c.ended = true
	}
	// The record is written when the flow is done with the call, a moment
	// after the hang-up; until then (or while the store is busy) look
	// again at the next step.
	rec, err := m.env.Records.Get(ctx, c.id)
	if err != nil {
		if cdr.ErrorCode(err) != cdr.ENOTFOUND {
			m.env.Logger.Debug().Err(err).Str("call", c.id).Msg("demo: reading the record")
		}
		return true
	}
	m.outcomes[rec.Outcome]++
	return false
}

// act is a live caller's turn.
func (m *sim) act(c *caller, now time.Time) {
	heard := c.call.Heard()
	for _, h := range heard[min(c.heardSeen, len(heard)):] {
		switch h.Kind {
		case "moh":
			if c.queuedAt.IsZero() {
				c.queuedAt = h.Start
			}
		case "bridge":
			if c.bridge == "" {
				c.bridge = h.Media
				c.talkEnd = h.Start.Add(c.p.talk)
			}
		}
	}
	c.heardSeen = len(heard)
	b := &m.s.Callers
	switch {
	case c.hungUp:
		// waiting for the switchboard to notice
	case c.bridge != "":
		if !now.Before(c.talkEnd) {
			m.endTalk(c)
		}
	case c.vmPressed:
		if !now.Before(c.hangAt) {
			c.hangup()
		}
	case c.queuedAt.IsZero():
		// before the queue: the script presses the key or hangs up
	case c.p.voicemailAt > 0 && !now.Before(c.queuedAt.Add(c.p.voicemailAt)) && c.p.voicemailAt <= c.p.patience:
		// Speak covers the intro and the beep too: talking before the
		// recording starts is simply not recorded.
		talk := b.VoicemailIntro + c.p.message
		if c.call.SendDTMF(string(b.VoicemailDigit)) != nil || c.call.Speak(talk) != nil {
			return // the call ended meanwhile
		}
		c.vmPressed = true
		c.hangAt = now.Add(talk)
	case !now.Before(c.queuedAt.Add(c.p.patience)):
		c.hangup() // abandoned
	}
}

// hangup ends the call from the caller's side; a call that has just
// ended is no error.
func (c *caller) hangup() {
	_ = c.call.Hangup()
	c.hungUp = true
}

// endTalk ends an answered call: the operator hangs up her phone, or the
// caller hangs up.
func (m *sim) endTalk(c *caller) {
	c.hungUp = true
	if c.p.operatorEnds {
		for _, op := range m.ops {
			if op.leg != nil && op.inBridge(c.bridge) {
				_ = op.leg.Hangup()
				return
			}
		}
	}
	_ = c.call.Hangup()
}

// operator is one simulated operator.
type operator struct {
	Operator
	rng *rand.Rand

	loggedIn bool
	leg      *aritest.Call // her phone's current call
	answerAt time.Time     // zero: she lets it ring
	answered bool
	// After a missed ring: look for the auto-pause until pauseCheckEnd,
	// then come back at unpauseAt.
	pauseCheckEnd time.Time
	unpauseAt     time.Time
	// Breaks: the next one is due at nextBreak; while on one, she comes
	// back at breakEnd.
	nextBreak, breakEnd time.Time
}

// planBreak draws when her next break is due, from now.
func (o *operator) planBreak(now time.Time) {
	o.nextBreak = time.Time{}
	if o.BreakEvery > 0 {
		o.nextBreak = now.Add(time.Duration(o.rng.ExpFloat64() * float64(o.BreakEvery)))
	}
}

// inBridge reports whether her current call is in bridge id.
func (o *operator) inBridge(id string) bool {
	for _, h := range o.leg.Heard() {
		if h.Kind == "bridge" && h.Media == id {
			return true
		}
	}
	return false
}

// watchPhones hands each new call to an operator's phone to her.
func (m *sim) watchPhones() {
	calls := m.env.Asterisk.Calls()
	if len(calls) < m.seen {
		m.seen = 0
	}
	for _, c := range calls[m.seen:] {
		res, ok := strings.CutPrefix(c.Channel().Name, "PJSIP/")
		if !ok {
			continue
		}
		if i := strings.LastIndexByte(res, '-'); i >= 0 {
			res = res[:i]
		}
		if op := m.byID[res]; op != nil {
			m.ring(op, c)
		}
	}
	m.seen = len(calls)
}

// ring: her phone rings; she decides now whether and when to answer.
func (m *sim) ring(op *operator, leg *aritest.Call) {
	m.rings++
	op.leg, op.answered, op.answerAt = leg, false, time.Time{}
	if op.rng.Float64() < op.Miss {
		m.missed++
		return
	}
	op.answerAt = m.now().Add(draw(op.rng, op.RingDelay))
}

// shiftOn reports whether t falls in op's shift.
func (m *sim) shiftOn(op *operator, t time.Time) bool {
	l := t.In(m.s.Location)
	tod := time.Duration(l.Hour())*time.Hour + time.Duration(l.Minute())*time.Minute + time.Duration(l.Second())*time.Second
	return op.Shift.Contains(tod)
}

// operatorStep is an operator's turn: her shift, her phone, her pause.
func (m *sim) operatorStep(ctx context.Context, op *operator, now time.Time) {
	q := m.env.Queue
	if op.leg != nil {
		if _, over := op.leg.Ended(); over {
			if !op.answered && op.answerAt.IsZero() {
				// She let it ring out: the switchboard pauses her.
				op.pauseCheckEnd = now.Add(30 * time.Second)
			}
			op.leg = nil
		} else if !op.answered && !op.answerAt.IsZero() && !now.Before(op.answerAt) {
			op.answered = true
			_ = op.leg.Answer() // ErrNotRinging: the caller left while it rang
		}
	}
	if !op.pauseCheckEnd.IsZero() && op.loggedIn {
		st, err := q.Operator(ctx, op.ID)
		switch {
		case err == nil && st.State == queue.Paused:
			m.autoPaused++
			op.pauseCheckEnd = time.Time{}
			op.unpauseAt = now.Add(draw(op.rng, op.PauseFor))
		case !now.Before(op.pauseCheckEnd):
			op.pauseCheckEnd = time.Time{}
		}
	}
	if !op.unpauseAt.IsZero() && !now.Before(op.unpauseAt) {
		op.unpauseAt = time.Time{}
		if err := q.Unpause(ctx, op.ID, now); err == nil {
			m.unpaused++
		} else if !errors.Is(err, queue.ErrBadState) {
			m.env.Logger.Warn().Err(err).Str("operator", op.ID).Msg("demo: unpause")
		}
	}
	m.breakStep(ctx, op, now)
	on := m.shiftOn(op, now)
	switch {
	case on && !op.loggedIn:
		err := q.Login(ctx, queue.Operator{ID: op.ID, Endpoint: op.Endpoint(), Skills: op.Languages}, now)
		if err != nil {
			m.env.Logger.Warn().Err(err).Str("operator", op.ID).Msg("demo: login")
			return
		}
		op.loggedIn = true
		op.planBreak(now)
	case !on && op.loggedIn && op.leg == nil:
		// End of shift: she leaves once she is not on a call.
		st, err := q.Operator(ctx, op.ID)
		if err != nil || st.State == queue.Ringing || st.State == queue.Busy {
			return
		}
		if err := q.Logout(ctx, op.ID, now); err != nil {
			m.env.Logger.Warn().Err(err).Str("operator", op.ID).Msg("demo: logout")
			return
		}
		op.loggedIn = false
		op.pauseCheckEnd, op.unpauseAt = time.Time{}, time.Time{}
		op.nextBreak, op.breakEnd = time.Time{}, time.Time{}
	}
}

// breakStep takes and ends her breaks: due, she pauses herself as soon
// as she is free (not ringing, not talking, not already paused).
func (m *sim) breakStep(ctx context.Context, op *operator, now time.Time) {
	q := m.env.Queue
	switch {
	case !op.loggedIn:
	case !op.breakEnd.IsZero():
		if now.Before(op.breakEnd) {
			return
		}
		op.breakEnd = time.Time{}
		if err := q.Unpause(ctx, op.ID, now); err != nil && !errors.Is(err, queue.ErrBadState) {
			m.env.Logger.Warn().Err(err).Str("operator", op.ID).Msg("demo: back from a break")
		}
		op.planBreak(now)
	case !op.nextBreak.IsZero() && !now.Before(op.nextBreak) && op.leg == nil && op.unpauseAt.IsZero() && op.pauseCheckEnd.IsZero():
		st, err := q.Operator(ctx, op.ID)
		if err != nil || (st.State != queue.Available && st.State != queue.WrapUp) {
			return // busy: the break waits
		}
		if err := q.Pause(ctx, op.ID, "break", now); err != nil {
			return
		}
		m.breaks++
		op.breakEnd = now.Add(draw(op.rng, op.BreakFor))
	}
}
