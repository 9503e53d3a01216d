package ivrtest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/helpline-it/helpline/ivr"
)

// Call is an inbound caller on the Network. It implements ivr.Call; the
// test plays the caller through Press and HangUp (or scripted Steps).
type Call struct {
	n      *Network
	id     string
	number string
	steps  []*Step
	dtmf   chan ivr.Digit
	done   chan struct{}

	// guarded by n.mu
	answered  bool
	hungUp    bool
	cause     int
	hungUpBy  string
	note      string
	moh       bool
	playing   int
	recording *ivr.RecordRequest
	recStop   chan struct{}
	requests  []Request
	fail      map[string][]error
	plays     map[ivr.Media]int
}

var _ ivr.Call = (*Call)(nil)

// ID implements ivr.Channel.
func (c *Call) ID() string { return c.id }

// Number is the raw caller number the test dialled from.
func (c *Call) Number() string { return c.number }

// Done implements ivr.Channel.
func (c *Call) Done() <-chan struct{} { return c.done }

// HangupCause implements ivr.Channel.
func (c *Call) HangupCause() int {
	c.n.mu.Lock()
	defer c.n.mu.Unlock()
	return c.cause
}

// Up reports whether the call is still up.
func (c *Call) Up() bool {
	c.n.mu.Lock()
	defer c.n.mu.Unlock()
	return !c.hungUp
}

// Answered reports whether the flow answered the call.
func (c *Call) Answered() bool {
	c.n.mu.Lock()
	defer c.n.mu.Unlock()
	return c.answered
}

// HungUpBy is "caller" or "app" once the call is down.
func (c *Call) HungUpBy() string {
	c.n.mu.Lock()
	defer c.n.mu.Unlock()
	return c.hungUpBy
}

// MOH reports whether music on hold is playing.
func (c *Call) MOH() bool {
	c.n.mu.Lock()
	defer c.n.mu.Unlock()
	return c.moh && !c.hungUp
}

// Playing reports whether a prompt is playing.
func (c *Call) Playing() bool {
	c.n.mu.Lock()
	defer c.n.mu.Unlock()
	return c.playing > 0 && !c.hungUp
}

// Requests returns the requests made on the call (and its legs and
// bridges) so far, as text.
func (c *Call) Requests() []string {
	c.n.mu.Lock()
	defer c.n.mu.Unlock()
	out := make([]string, len(c.requests))
	for i, r := range c.requests {
		out[i] = r.Text
	}
	return out
}

// RequestLog returns the requests with their times.
func (c *Call) RequestLog() []Request {
	c.n.mu.Lock()
	defer c.n.mu.Unlock()
	return slices.Clone(c.requests)
}

// Count is how many requests start with prefix.
func (c *Call) Count(prefix string) int {
	c.n.mu.Lock()
	defer c.n.mu.Unlock()
	k := 0
	for _, r := range c.requests {
		if strings.HasPrefix(r.Text, prefix) {
			k++
		}
	}
	return k
}

// AwaitRequest waits until at least n requests starting with prefix were made.
func (c *Call) AwaitRequest(ctx context.Context, prefix string, n int) error {
	if err := c.n.Await(ctx, func() bool { return c.Count(prefix) >= n }); err != nil {
		return fmt.Errorf("%s: awaiting %d×%q (have %q): %w", c.id, n, prefix, c.Requests(), err)
	}
	return nil
}

// AwaitDone waits until the call is down.
func (c *Call) AwaitDone(ctx context.Context) error {
	select {
	case <-c.done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("%s: still up (requests %q): %w", c.id, c.Requests(), ctx.Err())
	}
}

// Fail makes the next len(errs) requests of op ("ring", "answer", "play",
// "moh_start", "moh_stop", "record", "originate", "bridge", "hangup")
// fail with those errors (nil entries: ErrEngine).
func (c *Call) Fail(op string, errs ...error) {
	c.n.mu.Lock()
	defer c.n.mu.Unlock()
	for _, e := range errs {
		if e == nil {
			e = ErrEngine
		}
		c.fail[op] = append(c.fail[op], e)
	}
}

// begin logs a request and returns the injected failure or the gone
// error; n.mu must be held.
func (c *Call) beginLocked(op, text string) error {
	c.requests = append(c.requests, Request{At: c.n.clock.Now(), Call: c.id, Text: text})
	c.n.notifyLocked()
	if c.hungUp {
		return errGone(c.id)
	}
	if errs := c.fail[op]; len(errs) > 0 {
		c.fail[op] = errs[1:]
		return fmt.Errorf("%s %s: %w", op, c.id, errs[0])
	}
	return nil
}

func (c *Call) logLocked(text string) {
	c.requests = append(c.requests, Request{At: c.n.clock.Now(), Call: c.id, Text: text})
	c.n.notifyLocked()
}

// Press delivers keys as the caller pressing them, in order. Like a real
// adapter it never blocks: with the buffer full, the key is dropped and
// counted. A key that matches a running recording's terminator ends the
// recording after it was delivered (Asterisk's order).
func (c *Call) Press(keys string) {
	for _, r := range keys {
		c.n.mu.Lock()
		if c.hungUp {
			c.n.mu.Unlock()
			return
		}
		select {
		case c.dtmf <- ivr.Digit(r):
		default:
			c.n.dropped++
		}
		if c.recording != nil && c.recording.TerminateOn == ivr.Digit(r) {
			close(c.recStop)
			c.recording = nil
		}
		c.n.notifyLocked()
		c.n.mu.Unlock()
	}
}

// HangUp hangs up as the caller, with cause.
func (c *Call) HangUp(cause int) {
	c.n.mu.Lock()
	defer c.n.mu.Unlock()
	c.hangupLocked(cause, "caller")
}

// Vanish ends the call the way a channel lost with its engine ends (an
// Asterisk restart during a WebSocket outage): hung up with cause and a
// note the adapter reports through HangupNote.
func (c *Call) Vanish(cause int, note string) {
	c.n.mu.Lock()
	defer c.n.mu.Unlock()
	if c.hangupLocked(cause, "network") {
		c.note = note
	}
}

// HangupNote is the note of a Vanish, "" otherwise (ivr.HangupNoter).
func (c *Call) HangupNote() string {
	c.n.mu.Lock()
	defer c.n.mu.Unlock()
	return c.note
}

func (c *Call) hangupLocked(cause int, by string) bool {
	if c.hungUp {
		return false
	}
	c.hungUp, c.cause, c.hungUpBy = true, cause, by
	close(c.done)
	c.n.notifyLocked()
	return true
}

// fire runs the untimed steps that match; n.mu must NOT be held.
func (c *Call) fire(match func(*Step) bool) {
	c.n.mu.Lock()
	var run []Action
	for _, s := range c.steps {
		if !s.timed && !s.fired && match(s) {
			s.fired = true
			run = append(run, s.action)
		}
	}
	c.n.mu.Unlock()
	for _, a := range run {
		a(c)
	}
}

// Ring implements ivr.Call.
func (c *Call) Ring(ctx context.Context) error {
	c.n.mu.Lock()
	defer c.n.mu.Unlock()
	return c.beginLocked("ring", "ring")
}

// Answer implements ivr.Call.
func (c *Call) Answer(ctx context.Context) error {
	c.n.mu.Lock()
	defer c.n.mu.Unlock()
	if err := c.beginLocked("answer", "answer"); err != nil {
		return err
	}
	c.answered = true
	return nil
}

// Hangup implements ivr.Channel.
func (c *Call) Hangup(ctx context.Context, cause int) error {
	c.n.mu.Lock()
	defer c.n.mu.Unlock()
	if err := c.beginLocked("hangup", fmt.Sprintf("hangup %d", cause)); err != nil {
		return err
	}
	c.hangupLocked(cause, "app")
	return nil
}

// Play implements ivr.Call.
func (c *Call) Play(ctx context.Context, lang string, media ...ivr.Media) error {
	c.n.mu.Lock()
	if err := c.beginLocked("play", "play "+lang+" "+joinMedia(media)); err != nil {
		c.n.mu.Unlock()
		return err
	}
	var d time.Duration
	for _, m := range media {
		d += c.n.durations[m]
	}
	c.playing++
	for _, m := range media {
		c.plays[m]++
	}
	c.n.mu.Unlock()
	defer func() {
		c.n.mu.Lock()
		c.playing--
		c.n.notifyLocked()
		c.n.mu.Unlock()
	}()
	c.fire(func(s *Step) bool {
		return s.onPlay != "" && slices.Contains(media, s.onPlay) && c.plays[s.onPlay] == s.nth
	})
	if d == 0 {
		if !c.Up() {
			return errGone(c.id)
		}
		return nil
	}
	t := c.n.clock.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.Chan():
		return nil
	case <-c.done:
		return errGone(c.id)
	case <-ctx.Done():
		c.n.mu.Lock()
		c.logLocked("stop play")
		c.n.mu.Unlock()
		return ctx.Err()
	}
}

// StartMOH implements ivr.Call.
func (c *Call) StartMOH(ctx context.Context, class string) error {
	c.n.mu.Lock()
	if err := c.beginLocked("moh_start", strings.TrimSpace("moh_start "+class)); err != nil {
		c.n.mu.Unlock()
		return err
	}
	c.moh = true
	c.n.mu.Unlock()
	c.fire(func(s *Step) bool { return s.onMOH })
	return nil
}

// StopMOH implements ivr.Call.
func (c *Call) StopMOH(ctx context.Context) error {
	c.n.mu.Lock()
	defer c.n.mu.Unlock()
	if err := c.beginLocked("moh_stop", "moh_stop"); err != nil {
		return err
	}
	c.moh = false
	return nil
}

// DTMF implements ivr.Call.
func (c *Call) DTMF() <-chan ivr.Digit { return c.dtmf }

// Record implements ivr.Call: the recording ends on the terminator key,
// after MaxDuration on the clock, on hang-up (kept) or on ctx.
func (c *Call) Record(ctx context.Context, req ivr.RecordRequest) (ivr.Recording, error) {
	c.n.mu.Lock()
	text := fmt.Sprintf("record %s %s max=%s beep=%t term=%s", req.Name, req.Format, req.MaxDuration, req.Beep, req.TerminateOn)
	if err := c.beginLocked("record", text); err != nil {
		c.n.mu.Unlock()
		return ivr.Recording{}, err
	}
	stop := make(chan struct{})
	c.recording, c.recStop = &req, stop
	start := c.n.clock.Now()
	c.n.mu.Unlock()
	c.fire(func(s *Step) bool { return s.onRec })
	t := c.n.clock.NewTimer(req.MaxDuration)
	defer t.Stop()
	select {
	case <-stop:
	case <-t.Chan():
	case <-c.done:
	case <-ctx.Done():
	}
	c.n.mu.Lock()
	defer c.n.mu.Unlock()
	c.recording = nil
	rec := ivr.Recording{Name: req.Name, Duration: c.n.clock.Since(start)}
	c.n.recordings[req.Name] = rec
	c.n.notifyLocked()
	return rec, nil
}

// Originate implements ivr.Call by ringing the endpoint's Phone.
func (c *Call) Originate(ctx context.Context, req ivr.OriginateRequest) (ivr.Leg, error) {
	c.n.mu.Lock()
	if err := c.beginLocked("originate", fmt.Sprintf("originate %s %s", req.Endpoint, req.Timeout)); err != nil {
		c.n.mu.Unlock()
		return nil, err
	}
	p, ok := c.n.phones[req.Endpoint]
	c.n.rings[req.Endpoint]++
	if !ok || p.Unreachable {
		c.n.mu.Unlock()
		return nil, &ivr.OriginateError{Endpoint: req.Endpoint, Err: fmt.Errorf("allocation failed")}
	}
	leg := &Leg{n: c.n, call: c, id: c.n.nextID("leg"), seq: c.n.seq, endpoint: req.Endpoint, operator: req.Operator,
		done: make(chan struct{}), dtmf: make(chan ivr.Digit, 32)}
	c.n.legs[leg.id] = leg
	c.n.notifyLocked()
	c.n.mu.Unlock()

	// What the phone does, and when.
	after, cause := req.Timeout, ivr.CauseNoAnswer
	switch {
	case p.RejectCause != 0 && p.RejectAfter < req.Timeout:
		after, cause = p.RejectAfter, p.RejectCause
	case !p.NeverAnswers && p.RejectCause == 0 && p.AnswerAfter < req.Timeout:
		after, cause = p.AnswerAfter, 0
	}
	if after > 0 {
		t := c.n.clock.NewTimer(after)
		select {
		case <-t.Chan():
		case <-ctx.Done():
			t.Stop()
			leg.end(ivr.CauseNormal, "cancel "+leg.id)
			return nil, ctx.Err()
		}
	} else if ctx.Err() != nil {
		leg.end(ivr.CauseNormal, "cancel "+leg.id)
		return nil, ctx.Err()
	}
	if cause != 0 {
		leg.end(cause, fmt.Sprintf("leg %s failed %d", leg.id, cause))
		return nil, &ivr.OriginateError{Endpoint: req.Endpoint, Cause: cause}
	}
	c.n.mu.Lock()
	leg.answered = true
	c.logLocked("leg " + leg.id + " answered")
	c.n.mu.Unlock()
	if p.TalkFor > 0 {
		c.n.clock.AfterFunc(p.TalkFor, func() { leg.end(ivr.CauseNormal, "operator hangs up "+leg.id) })
	}
	return leg, nil
}

// Bridge implements ivr.Call.
func (c *Call) Bridge(ctx context.Context, l ivr.Leg) (ivr.Bridge, error) {
	leg, ok := l.(*Leg)
	if !ok {
		return nil, fmt.Errorf("ivrtest: bridge with a foreign leg %T", l)
	}
	c.n.mu.Lock()
	defer c.n.mu.Unlock()
	if err := c.beginLocked("bridge", "bridge "+leg.id); err != nil {
		return nil, err
	}
	if leg.hungUp {
		return nil, errGone(leg.id)
	}
	b := &Bridge{n: c.n, call: c, id: c.n.nextID("bridge"), members: map[string]bool{c.id: true, leg.id: true}}
	c.n.bridges[b.id] = b
	c.n.notifyLocked()
	return b, nil
}

// Leg is an operator's (or a service's) channel on the Network.
type Leg struct {
	n        *Network
	call     *Call
	id       string
	seq      int
	endpoint string
	operator string
	done     chan struct{}
	dtmf     chan ivr.Digit

	// guarded by n.mu
	answered bool
	hungUp   bool
	cause    int
	note     string
}

var (
	_ ivr.Leg         = (*Leg)(nil)
	_ ivr.HangupNoter = (*Leg)(nil)
)

// ID implements ivr.Channel.
func (l *Leg) ID() string { return l.id }

// Done implements ivr.Channel.
func (l *Leg) Done() <-chan struct{} { return l.done }

// HangupCause implements ivr.Channel.
func (l *Leg) HangupCause() int {
	l.n.mu.Lock()
	defer l.n.mu.Unlock()
	return l.cause
}

// Hangup implements ivr.Channel.
func (l *Leg) Hangup(ctx context.Context, cause int) error {
	l.n.mu.Lock()
	defer l.n.mu.Unlock()
	l.call.logLocked(fmt.Sprintf("hangup %s %d", l.id, cause))
	if l.hungUp {
		return errGone(l.id)
	}
	l.endLocked(cause)
	return nil
}

// HangUp hangs the leg up as the operator (or the service) at its end.
func (l *Leg) HangUp(cause int) { l.end(cause, "operator hangs up "+l.id) }

// Vanish ends the leg the way a channel lost with its engine ends: hung
// up with cause and a note reported through HangupNote.
func (l *Leg) Vanish(cause int, note string) {
	l.n.mu.Lock()
	defer l.n.mu.Unlock()
	if l.hungUp {
		return
	}
	l.call.logLocked("vanished " + l.id)
	l.note = note
	l.endLocked(cause)
}

// HangupNote is the note of a Vanish, "" otherwise (ivr.HangupNoter).
func (l *Leg) HangupNote() string {
	l.n.mu.Lock()
	defer l.n.mu.Unlock()
	return l.note
}

// DTMF implements ivr.Leg.
func (l *Leg) DTMF() <-chan ivr.Digit { return l.dtmf }

// Press delivers keys as pressed on the leg's phone, in order; like
// Call.Press it never blocks (a full buffer drops the key, counted).
func (l *Leg) Press(keys string) {
	for _, r := range keys {
		l.n.mu.Lock()
		if l.hungUp {
			l.n.mu.Unlock()
			return
		}
		select {
		case l.dtmf <- ivr.Digit(r):
		default:
			l.n.dropped++
		}
		l.n.notifyLocked()
		l.n.mu.Unlock()
	}
}

// Pending is how many keys pressed on the leg the flow has not read yet.
func (l *Leg) Pending() int { return len(l.dtmf) }

// Up reports whether the leg is still up.
func (l *Leg) Up() bool {
	l.n.mu.Lock()
	defer l.n.mu.Unlock()
	return !l.hungUp
}

// Answered reports whether the leg was answered.
func (l *Leg) Answered() bool {
	l.n.mu.Lock()
	defer l.n.mu.Unlock()
	return l.answered
}

// Operator is the operator id the leg was originated for.
func (l *Leg) Operator() string { return l.operator }

func (l *Leg) end(cause int, text string) {
	l.n.mu.Lock()
	defer l.n.mu.Unlock()
	if l.hungUp {
		return
	}
	l.call.logLocked(text)
	l.endLocked(cause)
}

func (l *Leg) endLocked(cause int) {
	l.hungUp, l.cause = true, cause
	close(l.done)
	l.n.notifyLocked()
}

// Legs returns the call's legs, oldest first.
func (c *Call) Legs() []*Leg {
	c.n.mu.Lock()
	defer c.n.mu.Unlock()
	var out []*Leg
	for _, l := range c.n.legs {
		if l.call == c {
			out = append(out, l)
		}
	}
	slices.SortFunc(out, func(a, b *Leg) int { return a.seq - b.seq })
	return out
}

// Endpoint is the endpoint the leg rang.
func (l *Leg) Endpoint() string { return l.endpoint }

// Bridge is a bridge on the Network.
type Bridge struct {
	n    *Network
	call *Call
	id   string

	// guarded by n.mu
	members   map[string]bool
	destroyed bool
}

// ID implements ivr.Bridge.
func (b *Bridge) ID() string { return b.id }

// Destroy implements ivr.Bridge.
func (b *Bridge) Destroy(ctx context.Context) error {
	b.n.mu.Lock()
	defer b.n.mu.Unlock()
	b.call.logLocked("bridge_destroy")
	delete(b.n.bridges, b.id)
	b.destroyed = true
	clear(b.members)
	b.n.notifyLocked()
	return nil
}

// Add implements ivr.Bridge: the channel must be this bridge's call or
// one of the call's legs, answered and up. It logs "bridge_add <id>".
func (b *Bridge) Add(ctx context.Context, ch ivr.Channel) error {
	b.n.mu.Lock()
	defer b.n.mu.Unlock()
	id := ch.ID()
	// A hung-up call only fails the request that adds the call itself:
	// its legs may still be bridged together (a consultation).
	if err := b.call.beginLocked("bridge_add", "bridge_add "+id); err != nil && (id == b.call.id || !errors.Is(err, ivr.ErrHangup)) {
		return err
	}
	if b.destroyed {
		return fmt.Errorf("ivrtest: bridge %s destroyed", b.id)
	}
	switch c := ch.(type) {
	case *Call:
		if c != b.call {
			return fmt.Errorf("ivrtest: bridge %s: foreign call %s", b.id, id)
		}
		if c.hungUp {
			return errGone(id)
		}
	case *Leg:
		if c.call != b.call {
			return fmt.Errorf("ivrtest: bridge %s: leg %s of another call", b.id, id)
		}
		if c.hungUp {
			return errGone(id)
		}
		if !c.answered {
			return fmt.Errorf("ivrtest: bridge %s: leg %s not answered", b.id, id)
		}
	default:
		return fmt.Errorf("ivrtest: bridge %s: foreign channel %T", b.id, ch)
	}
	b.members[id] = true
	b.n.notifyLocked()
	return nil
}

// Remove implements ivr.Bridge; it logs "bridge_remove <id>".
func (b *Bridge) Remove(ctx context.Context, ch ivr.Channel) error {
	b.n.mu.Lock()
	defer b.n.mu.Unlock()
	b.call.logLocked("bridge_remove " + ch.ID())
	delete(b.members, ch.ID())
	b.n.notifyLocked()
	return nil
}

// Members returns the ids of the channels in the bridge, sorted; channels
// that hung up are left out (they leave the bridge as they go).
func (b *Bridge) Members() []string {
	b.n.mu.Lock()
	defer b.n.mu.Unlock()
	var out []string
	for id := range b.members {
		if c, ok := b.n.calls[id]; ok && c.hungUp {
			continue
		}
		if l, ok := b.n.legs[id]; ok && l.hungUp {
			continue
		}
		out = append(out, id)
	}
	slices.Sort(out)
	return out
}

// Bridges returns the call's bridges not destroyed yet.
func (c *Call) Bridges() []*Bridge {
	c.n.mu.Lock()
	defer c.n.mu.Unlock()
	var out []*Bridge
	for _, b := range c.n.bridges {
		if b.call == c {
			out = append(out, b)
		}
	}
	slices.SortFunc(out, func(a, b *Bridge) int { return strings.Compare(a.id, b.id) })
	return out
}
