package ivrtest

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/helpline-it/helpline/ivr"
)

// Network is an in-memory phone network implementing the ivr engine
// interface: inbound callers (Dial) and operators' phones (SetPhone). Its
// zero value is not usable; build it with New. All timed behaviour runs on
// the clock given to New, so a test drives it with a clockwork.FakeClock.
type Network struct {
	clock clockwork.Clock

	mu         sync.Mutex
	changed    chan struct{}
	seq        int
	calls      map[string]*Call
	order      []*Call
	legs       map[string]*Leg
	bridges    map[string]*Bridge
	phones     map[string]Phone
	rings      map[string]int
	recordings map[string]ivr.Recording
	durations  map[ivr.Media]time.Duration
	// dropped counts digits dropped because a caller's DTMF buffer was full.
	dropped int
}

// New returns an empty network running on clock.
func New(clock clockwork.Clock) *Network {
	return &Network{
		clock:      clock,
		changed:    make(chan struct{}),
		calls:      map[string]*Call{},
		legs:       map[string]*Leg{},
		bridges:    map[string]*Bridge{},
		phones:     map[string]Phone{},
		rings:      map[string]int{},
		recordings: map[string]ivr.Recording{},
		durations:  map[ivr.Media]time.Duration{},
	}
}

// notifyLocked wakes every Await; n.mu must be held.
func (n *Network) notifyLocked() {
	close(n.changed)
	n.changed = make(chan struct{})
}

func (n *Network) nextID(prefix string) string {
	n.seq++
	return fmt.Sprintf("%s-%d", prefix, n.seq)
}

// Await blocks until cond holds (it is re-evaluated after every change in
// the network) or ctx ends. cond may call the Network's and its channels'
// methods.
func (n *Network) Await(ctx context.Context, cond func() bool) error {
	for {
		n.mu.Lock()
		ch := n.changed
		n.mu.Unlock()
		if cond() {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return fmt.Errorf("ivrtest: condition never held: %w", ctx.Err())
		}
	}
}

// Changed returns a channel closed at the next change in the network, for
// tests that wait on several sources at once.
func (n *Network) Changed() <-chan struct{} {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.changed
}

// SetDuration makes every Play of m last d on the clock (default: 0, the
// prompt ends at once).
func (n *Network) SetDuration(m ivr.Media, d time.Duration) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.durations[m] = d
}

// Phone is how an operator's endpoint behaves when rung.
type Phone struct {
	// AnswerAfter: rings this long, then answers (when shorter than the
	// originate's timeout; otherwise it is a no-answer).
	AnswerAfter time.Duration
	// TalkFor: after answering, the operator hangs up after this long
	// (0: stays until hung up).
	TalkFor time.Duration
	// NeverAnswers: rings until the originate's timeout (cause 19).
	NeverAnswers bool
	// RejectCause: rejects after RejectAfter with this cause (17 busy, 21
	// rejected, 34 congestion).
	RejectCause int
	RejectAfter time.Duration
	// Unreachable: the engine cannot allocate a channel (not registered).
	Unreachable bool
}

// Answers is a phone answered after ring.
func Answers(ring time.Duration) Phone { return Phone{AnswerAfter: ring} }

// AnswersAndTalks is a phone answered after ring whose operator hangs up
// after talk.
func AnswersAndTalks(ring, talk time.Duration) Phone {
	return Phone{AnswerAfter: ring, TalkFor: talk}
}

// NeverAnswers is a phone that rings until the timeout.
func NeverAnswers() Phone { return Phone{NeverAnswers: true} }

// Rejects is a phone that rejects with cause after ring.
func Rejects(cause int, ring time.Duration) Phone {
	return Phone{RejectCause: cause, RejectAfter: ring}
}

// Unreachable is a phone that is not registered.
func Unreachable() Phone { return Phone{Unreachable: true} }

// SetPhone sets how endpoint behaves from its next ring on. Endpoints
// never set are unreachable.
func (n *Network) SetPhone(endpoint string, p Phone) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.phones[endpoint] = p
}

// Rings is how many times endpoint was rung.
func (n *Network) Rings(endpoint string) int {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.rings[endpoint]
}

// Recording returns a stored recording by name.
func (n *Network) Recording(name string) (ivr.Recording, bool) {
	n.mu.Lock()
	defer n.mu.Unlock()
	r, ok := n.recordings[name]
	return r, ok
}

// Calls returns every inbound call in the order they were dialled.
func (n *Network) Calls() []*Call {
	n.mu.Lock()
	defer n.mu.Unlock()
	return append([]*Call(nil), n.order...)
}

// DroppedDigits is how many digits were dropped on full DTMF buffers.
func (n *Network) DroppedDigits() int {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.dropped
}

// Leaks lists every resource still held: music on hold, playbacks or
// recordings on live calls, legs ringing or up, bridges. A finished test
// expects none.
func (n *Network) Leaks() []string {
	n.mu.Lock()
	defer n.mu.Unlock()
	var out []string
	for _, c := range n.order {
		if c.hungUp {
			continue
		}
		if c.moh {
			out = append(out, c.id+": music on hold still on")
		}
		if c.playing > 0 {
			out = append(out, c.id+": playback still running")
		}
		if c.recording != nil {
			out = append(out, c.id+": recording still running")
		}
	}
	for id, l := range n.legs {
		if !l.hungUp {
			state := "up"
			if !l.answered {
				state = "ringing"
			}
			out = append(out, fmt.Sprintf("leg %s (%s, call %s): still %s", id, l.endpoint, l.call.id, state))
		}
	}
	for id, b := range n.bridges {
		out = append(out, fmt.Sprintf("bridge %s (call %s): not destroyed", id, b.call.id))
	}
	sort.Strings(out)
	return out
}

// Request is one request the flow made on a call (its legs and bridges
// included), in the form "op arg…", e.g. "answer", "play it sound:x",
// "originate PJSIP/op1 20s", "hangup 17".
type Request struct {
	At   time.Time
	Call string
	Text string
}

// Step is one scripted behaviour of a caller.
type Step struct {
	at     time.Duration
	onPlay ivr.Media
	nth    int
	onMOH  bool
	onRec  bool
	timed  bool
	action Action
	fired  bool
}

// Action is something a caller does.
type Action func(c *Call)

// Press presses keys (any runes: garbage included), in order.
func Press(keys string) Action { return func(c *Call) { c.Press(keys) } }

// HangUp hangs up with cause.
func HangUp(cause int) Action { return func(c *Call) { c.HangUp(cause) } }

// At runs a after d (on the clock) from the moment of dialling.
func At(d time.Duration, a Action) Step { return Step{at: d, timed: true, action: a} }

// OnPlay runs a when a Play that includes m starts (the first time), before
// the prompt can end: a key pressed so lands during the prompt.
func OnPlay(m ivr.Media, a Action) Step { return Step{onPlay: m, nth: 1, action: a} }

// OnPlayN is OnPlay on the n-th Play that includes m.
func OnPlayN(m ivr.Media, n int, a Action) Step { return Step{onPlay: m, nth: n, action: a} }

// OnMOH runs a when music on hold starts (the first time): the caller is
// in the queue.
func OnMOH(a Action) Step { return Step{onMOH: true, action: a} }

// OnRecord runs a when recording starts.
func OnRecord(a Action) Step { return Step{onRec: true, action: a} }

// Dial brings a new inbound call from number into the app (not answered).
// The returned Call implements ivr.Call; hand it to ivr.Flow.Handle.
func (n *Network) Dial(number string, steps ...Step) *Call {
	n.mu.Lock()
	c := &Call{
		n:      n,
		id:     n.nextID("call"),
		number: number,
		done:   make(chan struct{}),
		dtmf:   make(chan ivr.Digit, 32),
		fail:   map[string][]error{},
		plays:  map[ivr.Media]int{},
	}
	for _, s := range steps {
		c.steps = append(c.steps, &s)
	}
	n.calls[c.id] = c
	n.order = append(n.order, c)
	n.notifyLocked()
	n.mu.Unlock()
	for _, s := range c.steps {
		if s.timed {
			a := s.action
			n.clock.AfterFunc(s.at, func() { a(c) })
		}
	}
	return c
}

// errGone is the error of a request on a channel that hung up: what an
// adapter returns for Asterisk's 404.
func errGone(id string) error {
	return fmt.Errorf("ivrtest: channel %s not found: %w", id, ivr.ErrHangup)
}

// ErrEngine is the default error injected by Fail.
var ErrEngine = errors.New("ivrtest: engine failure (500)")

// joinMedia renders media for request logs.
func joinMedia(media []ivr.Media) string {
	s := make([]string, len(media))
	for i, m := range media {
		s[i] = string(m)
	}
	return strings.Join(s, ",")
}
