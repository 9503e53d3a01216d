package chaos

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/helpline-it/helpline/ari/aritest"
	"github.com/helpline-it/helpline/queue"
)

// kind is what a simulated caller does.
type kind string

// The callers' scripts.
const (
	// hangs up during the welcome.
	welcomeHangup kind = "welcome_hangup"
	// presses the key of it or en during the welcome, waits for an
	// operator and talks; either side may end the talk.
	talker kind = "talker"
	// presses nothing: the menu plays menu_tries times, then Italian; then
	// as a talker.
	menuDefault kind = "menu_default"
	// chooses fr (nobody available), hangs up after a while in the queue.
	abandoner kind = "abandoner"
	// chooses fr, presses the voicemail key, leaves a message.
	voicemailer kind = "voicemail"
	// chooses fr and waits until the flow gives up (max_wait).
	waiter kind = "max_wait"
)

// mix is the share of each script in a phase, in tenths of calls.
var mix = []struct {
	k kind
	n int
}{{welcomeHangup, 2}, {talker, 4}, {menuDefault, 1}, {abandoner, 1}, {voicemailer, 1}, {waiter, 1}}

func pick(r *rand.Rand) kind {
	total := 0
	for _, m := range mix {
		total += m.n
	}
	x := r.IntN(total)
	for _, m := range mix {
		if x < m.n {
			return m.k
		}
		x -= m.n
	}
	return talker
}

// caller is one simulated PSTN caller with a known raw number.
type caller struct {
	seq    int
	phase  string
	number string // raw, E.164
	kind   kind
	lang   string // the language the script chooses ("" for menuDefault: it)
	// talk is how long the caller talks before hanging up, once bridged
	// (0: waits for the operator to end the call).
	talk time.Duration
	// patience is how long an abandoner waits in the queue.
	patience time.Duration
	// hash ends a voicemail with '#' instead of hanging up.
	hash bool

	call  *aritest.Call
	state atomic.Value // string: what the caller is doing, for the census

	// results
	placeErr  error
	end       aritest.Hangup
	ended     bool
	hungUp    bool // the script itself hung up
	scriptErr error
	// stuck is the state the caller was in when they gave up on a call
	// that went nowhere for callerPatience ("" if they did not).
	stuck string
}

// callerPatience bounds a call: the longest legitimate one (max_wait, or a
// talk, or a message) is well under it.
const callerPatience = 20 * time.Second

// national is the number without its country prefix: the privacy scan
// looks for it as well as for the full number.
func (c *caller) national() string {
	return strings.TrimPrefix(strings.TrimPrefix(c.number, "+39"), "0039")
}

func (c *caller) setState(s string) { c.state.Store(s) }

func (c *caller) stateNow() string {
	s, _ := c.state.Load().(string)
	return s
}

// newCaller draws a caller's script.
func newCaller(r *rand.Rand, seq int, phase string) *caller {
	c := &caller{seq: seq, phase: phase, kind: pick(r)}
	// +39 333 then 7 digits unique to the call: never a prefix of a
	// channel id or a timestamp (those start 17..).
	// Presented as the PSTN may: E.164, with the international prefix
	// 00, or national.
	nat := fmt.Sprintf("333%07d", 1000000+seq*7919%9000000)
	c.number = []string{"+39", "0039", ""}[seq%3] + nat
	switch c.kind {
	case talker:
		c.lang = []string{"it", "en"}[r.IntN(2)]
	case menuDefault:
		c.lang = "it"
	case abandoner, voicemailer, waiter:
		c.lang = "fr"
	}
	if (c.kind == talker || c.kind == menuDefault) && r.IntN(2) == 0 {
		c.talk = time.Duration(200+r.IntN(500)) * time.Millisecond
	}
	c.patience = time.Duration(300+r.IntN(2500)) * time.Millisecond
	c.hash = r.IntN(2) == 0
	c.setState("placing")
	return c
}

// dtmf presses keys as a quick SIP phone does.
func dtmf(c *aritest.Call, keys string) error {
	return c.SendDTMF(keys, aritest.Duration(60*time.Millisecond), aritest.Between(40*time.Millisecond))
}

// run places the call and plays the script; it returns when the call is
// over.
func (c *caller) run(ctx context.Context, w *world) {
	defer c.setState("over")
	if err := w.srv.AwaitApp(ctx, "helpline"); err != nil {
		c.placeErr = err
		return
	}
	call, err := w.srv.Call(ctx, c.number, helplineNumber, aritest.CallOptions{})
	if err != nil {
		c.placeErr = err
		return
	}
	c.call = call
	c.setState("ringing-in")
	pctx, cancel := context.WithTimeout(ctx, callerPatience)
	defer cancel()
	c.scriptErr = c.script(pctx)
	h, err := call.AwaitHangup(pctx)
	if err != nil && ctx.Err() == nil {
		// Nothing happened for far longer than any call of this
		// configuration lasts: a real caller gives up.
		c.stuck = c.stateNow()
		c.scriptErr = nil
		_ = call.Hangup()
		hctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		h, err = call.AwaitHangup(hctx)
	}
	if err != nil {
		if c.scriptErr == nil {
			c.scriptErr = fmt.Errorf("call never ended: %w", err)
		}
		return
	}
	c.end, c.ended = h, true
}

// talked reports whether the caller was in a bridge at the same time as
// an operator's phone: what a person calls "I spoke with someone". A
// bridge the operator never reached (their leg failed) does not count.
func (w *world) talked(c *caller) bool {
	w.mu.Lock()
	rings := append([]*aritest.Call(nil), w.rings...)
	w.mu.Unlock()
	far := time.Now().Add(time.Hour)
	end := func(t time.Time) time.Time {
		if t.IsZero() {
			return far
		}
		return t
	}
	for _, x := range c.call.Heard() {
		if x.Kind != "bridge" {
			continue
		}
		for _, r := range rings {
			for _, y := range r.Heard() {
				if y.Kind == "bridge" && y.Media == x.Media && maxTime(x.Start, y.Start).Before(minTime(end(x.End), end(y.End))) {
					return true
				}
			}
		}
	}
	return false
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// errOver means the call ended while the script still had steps: not an
// error of the script, the outcome check judges it.
var errOver = errors.New("call over")

func (c *caller) script(ctx context.Context) error {
	call := c.call
	if err := call.AwaitAnswered(ctx); err != nil {
		return errOver
	}
	c.setState("welcome")
	switch c.kind {
	case welcomeHangup:
		if !sleep(ctx, time.Duration(50+c.seq%200)*time.Millisecond) {
			return ctx.Err()
		}
		return c.hangup()
	case menuDefault:
		c.setState("menu")
	default:
		if err := c.chooseLanguage(ctx); err != nil {
			return err
		}
	}
	if err := c.awaitMOH(ctx); err != nil {
		return err
	}
	c.setState("waiting")
	switch c.kind {
	case talker, menuDefault:
		for {
			bridge, err := c.awaitBridge(ctx)
			if err != nil {
				return err
			}
			c.setState("talking")
			if c.talk == 0 {
				return nil // the operator ends the call
			}
			if !sleep(ctx, c.talk) {
				return ctx.Err()
			}
			if open, _ := openBridge(c.call.Heard()); open == bridge {
				return c.hangup()
			}
			// The bridge came down under us (the operator's leg failed):
			// back to waiting, as the caller hears.
			c.setState("waiting")
		}
	case abandoner:
		if !sleep(ctx, c.patience) {
			return ctx.Err()
		}
		return c.hangup()
	case voicemailer:
		if !sleep(ctx, 200*time.Millisecond) {
			return ctx.Err()
		}
		c.setState("voicemail")
		intro := "sound:helpline/" + c.lang + "/voicemail_record"
		if err := c.pressUntilHeard(ctx, "9", intro); err != nil {
			return err
		}
		if err := c.awaitHeardEnd(ctx, intro); err != nil {
			return err
		}
		c.setState("recording")
		if err := call.Speak(600 * time.Millisecond); err != nil {
			return errOver
		}
		if !sleep(ctx, 900*time.Millisecond) {
			return ctx.Err()
		}
		if c.hash {
			if err := dtmf(call, "#"); err != nil {
				return errOver
			}
			return nil // the flow thanks the caller and hangs up
		}
		return c.hangup()
	case waiter:
		return nil
	}
	return nil
}

// chooseLanguage presses the language's key during the welcome and, as a
// person does, again each time the menu starts over (a key pressed while
// the switchboard was not listening — an event socket down, a process
// restarting — is lost, as on a real Asterisk). It returns once the
// caller hears music on hold.
func (c *caller) chooseLanguage(ctx context.Context) error {
	menus := func(h []aritest.Heard) int {
		n := 0
		for _, x := range h {
			if x.Kind == "playback" && strings.HasSuffix(x.Media, "/menu") {
				n++
			}
		}
		return n
	}
	seen := menus(c.call.Heard())
	for presses := 0; presses < 4; presses++ {
		if err := dtmf(c.call, langDigit[c.lang]); err != nil {
			return errOver
		}
		err := c.poll(ctx, func(h []aritest.Heard) bool {
			if n := menus(h); n > seen {
				seen = n
				return true
			}
			for _, x := range h {
				if x.Kind == "moh" {
					return true
				}
			}
			return false
		})
		if err != nil {
			return err
		}
		if heardMOH(c.call.Heard()) {
			return nil
		}
		c.setState("menu")
	}
	return nil
}

func heardMOH(h []aritest.Heard) bool {
	for _, x := range h {
		if x.Kind == "moh" {
			return true
		}
	}
	return false
}

// pressUntilHeard presses key, and again every 2 s (a person who got no
// reaction), until media plays.
func (c *caller) pressUntilHeard(ctx context.Context, key, media string) error {
	for presses := 0; ; presses++ {
		if err := dtmf(c.call, key); err != nil {
			return errOver
		}
		pctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		_, err := c.call.AwaitHeard(pctx, media)
		cancel()
		if err == nil {
			return nil
		}
		if _, over := c.call.Ended(); over {
			return errOver
		}
		if ctx.Err() != nil || presses == 3 {
			return fmt.Errorf("pressed %s %d times, never heard %s", key, presses+1, media)
		}
	}
}

func (c *caller) hangup() error {
	c.hungUp = true
	if err := c.call.Hangup(); err != nil && !errors.Is(err, aritest.ErrCallEnded) {
		return err
	}
	return nil
}

// awaitMOH waits until the caller hears music on hold (the queue).
func (c *caller) awaitMOH(ctx context.Context) error {
	return c.poll(ctx, func(h []aritest.Heard) bool {
		for _, x := range h {
			if x.Kind == "moh" {
				return true
			}
		}
		return false
	})
}

// awaitBridge waits until the caller is in a bridge and returns its id.
func (c *caller) awaitBridge(ctx context.Context) (string, error) {
	var id string
	err := c.poll(ctx, func(h []aritest.Heard) bool {
		var ok bool
		id, ok = openBridge(h)
		return ok
	})
	return id, err
}

// openBridge is the bridge the caller is in now, if any.
func openBridge(h []aritest.Heard) (string, bool) {
	for i := len(h) - 1; i >= 0; i-- {
		if h[i].Kind == "bridge" && h[i].End.IsZero() {
			return h[i].Media, true
		}
	}
	return "", false
}

func (c *caller) awaitHeardEnd(ctx context.Context, media string) error {
	return c.poll(ctx, func(h []aritest.Heard) bool {
		for _, x := range h {
			if x.Media == media && !x.End.IsZero() {
				return true
			}
		}
		return false
	})
}

// poll checks what the caller heard every 15 ms until cond holds; it
// returns errOver if the call ends first. (aritest's AwaitHeard matches a
// media URI; a bridge's id and the end of a prompt are not known ahead.)
func (c *caller) poll(ctx context.Context, cond func([]aritest.Heard) bool) error {
	t := time.NewTicker(15 * time.Millisecond)
	defer t.Stop()
	for {
		if cond(c.call.Heard()) {
			return nil
		}
		if _, over := c.call.Ended(); over {
			return errOver
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
}

// sleep is a simulated person taking their time; false if ctx ended.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// ---- operators ----

// operator is a softphone and the person using it: logs in with feature
// codes, answers after a short delay (sometimes not at all), talks, hangs
// up, and unpauses when the supervisor says the switchboard paused them.
type operator struct {
	spec    opSpec
	w       *world
	r       *rand.Rand
	rings   atomic.Int64
	answers atomic.Int64
	misses  atomic.Int64
	// unpause is set by the supervisor when the queue shows this operator
	// paused (a missed ring, or a leg that failed).
	unpause atomic.Bool
	mu      sync.Mutex
	errs    []error
}

func (o *operator) fail(err error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.errs = append(o.errs, err)
}

// feature dials the feature line from the softphone and keys code; it
// returns the confirmation prompt heard ("operator_logged_in", ...).
func (o *operator) feature(ctx context.Context, code string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	call, err := o.w.srv.Call(ctx, o.spec.id, "9000", aritest.CallOptions{Endpoint: o.spec.id})
	if err != nil {
		return "", err
	}
	defer func() { _ = call.Hangup() }()
	if err := call.AwaitAnswered(ctx); err != nil {
		return "", fmt.Errorf("feature line: %w", err)
	}
	if err := dtmf(call, code+"#"); err != nil {
		return "", err
	}
	const prefix = "sound:helpline/it/operator_"
	t := time.NewTicker(15 * time.Millisecond)
	defer t.Stop()
	for {
		for _, h := range call.Heard() {
			if h.Kind == "playback" && strings.HasPrefix(h.Media, prefix) {
				return strings.TrimPrefix(h.Media, "sound:helpline/it/"), nil
			}
		}
		if _, over := call.Ended(); over {
			return "", fmt.Errorf("feature %s: the line hung up without a confirmation", code)
		}
		select {
		case <-ctx.Done():
			return "", fmt.Errorf("feature %s: no confirmation: %w", code, ctx.Err())
		case <-t.C:
		}
	}
}

// login logs in (and parks a parked operator) from the phone.
func (o *operator) login(ctx context.Context) error {
	got, err := o.feature(ctx, "*11")
	if err != nil {
		return err
	}
	if got != "operator_logged_in" {
		return fmt.Errorf("%s: login heard %s", o.spec.id, got)
	}
	if o.spec.parked {
		if got, err = o.feature(ctx, "*13"); err != nil {
			return err
		}
		if got != "operator_paused" {
			return fmt.Errorf("%s: pause heard %s", o.spec.id, got)
		}
	}
	return nil
}

// makeAvailable toggles the pause until the phone confirms "unpaused":
// *13 pauses an available operator, so a toggle that paused is undone.
func (o *operator) makeAvailable(ctx context.Context) {
	for try := 0; try < 3; try++ {
		qctx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
		st, err := o.w.q.Operator(qctx, o.spec.id)
		cancel()
		if err == nil && st.State != queue.Paused {
			return // a stale request: the toggle would pause us
		}
		got, err := o.feature(ctx, "*13")
		if err != nil {
			if ctx.Err() == nil {
				o.fail(fmt.Errorf("%s: unpause: %w", o.spec.id, err))
			}
			return
		}
		if got == "operator_unpaused" {
			return
		}
	}
}

// run answers the phone until ctx ends.
func (o *operator) run(ctx context.Context) {
	for ctx.Err() == nil {
		if o.unpause.Swap(false) {
			o.makeAvailable(ctx)
		}
		actx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
		ring, err := o.w.srv.AwaitRinging(actx, o.spec.id)
		cancel()
		if err != nil {
			continue
		}
		o.w.mu.Lock()
		o.w.rings = append(o.w.rings, ring)
		o.w.mu.Unlock()
		n := o.rings.Add(1)
		if o.spec.missEvery > 0 && n%int64(o.spec.missEvery) == 0 {
			o.misses.Add(1)
			_, _ = ring.AwaitHangup(ctx) // rings out: the switchboard pauses us
			continue
		}
		if !sleep(ctx, time.Duration(30+o.r.IntN(150))*time.Millisecond) {
			return
		}
		if err := ring.Answer(); err != nil {
			continue // the caller hung up, or the ring was withdrawn
		}
		o.answers.Add(1)
		talk := time.Duration(300+o.r.IntN(900)) * time.Millisecond
		tctx, cancel := context.WithTimeout(ctx, talk)
		_, err = ring.AwaitHangup(tctx)
		cancel()
		if err != nil && ctx.Err() == nil {
			_ = ring.Hangup() // the operator ends the call
		}
	}
}

// supervise is the supervisor at the live view: an operator of it/en the
// queue shows paused (the switchboard auto-pauses on a missed ring) is
// asked to unpause. While Redis is down the view is empty and nothing is
// asked.
func (w *world) supervise(ctx context.Context) {
	t := time.NewTicker(300 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		for _, o := range w.ops {
			if o.spec.parked {
				continue
			}
			qctx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
			st, err := w.q.Operator(qctx, o.spec.id)
			cancel()
			if err == nil && st.State == queue.Paused {
				o.unpause.Store(true)
			}
		}
	}
}
