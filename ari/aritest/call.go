package aritest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/helpline-it/helpline/ari"
)

// Tech names a channel technology of simulated calls.
type Tech string

// The channel technologies the emulator simulates.
const (
	// PJSIP is a SIP call, as from the SIPp phones of the traces:
	// PJSIP/<endpoint>-%08x, a SIP Call-ID as protocol_id, RTP (so QoS
	// variables on hangup), RFC 2833 DTMF, BYE and CANCEL.
	PJSIP Tech = "PJSIP"
	// Local is a pair of Local channels, as the dialplan simulators of the
	// traces: the app sees the ;2 half, the caller acts through the ;1
	// half running a dialplan script.
	Local Tech = "Local"
)

// CallOptions describe a simulated inbound call (see Server.Call).
type CallOptions struct {
	// Tech is PJSIP (default) or Local.
	Tech Tech
	// Endpoint is the PJSIP endpoint the call arrives from; its Context
	// picks the dialplan. Empty means "sipp", the PSTN trunk. Use an
	// operator's endpoint ("op1001") for a softphone dialling in.
	Endpoint string
	// Context overrides the dialplan context the call enters ("from-pstn"
	// for Local calls, the endpoint's context for PJSIP ones).
	Context string
	// CallerName is the caller-id name ("Mario Rossi").
	CallerName string
	// Language is the channel language the entry dialplan sets; empty
	// means "it".
	Language string
	// Script is what the caller does once answered, as dialplan
	// applications (Wait, SendDTMF, Playback to talk, Hangup). A Local
	// call runs it on its ;1 half, so the app may see the steps as
	// ChannelDialplan events with subscribeAll; a PJSIP call performs it
	// as a SIP phone would. The test may also drive the call itself.
	Script []App
	// ScriptContext names the context the Local ;1 half shows while it
	// runs Script ("sim-dtmf2" in the traces). Empty means "sim".
	ScriptContext string
	// ChannelID fixes the id of the channel the app sees; empty means
	// Asterisk's "<unix seconds>.<n>".
	ChannelID string
	// CallID is the SIP Call-ID (protocol_id) of a PJSIP call.
	CallID string
}

// HungUpBy says which side ended a call.
type HungUpBy string

// Who can end a call.
const (
	ByApp     HungUpBy = "app"     // DELETE /channels/{id}
	ByCaller  HungUpBy = "caller"  // the simulated party hung up (BYE, CANCEL, Hangup())
	ByNetwork HungUpBy = "network" // a timeout or the other side of a Local pair
)

// Hangup is how a simulated call ended.
type Hangup struct {
	// By is who ended the call.
	By HungUpBy
	// Cause is the Q.850 cause the channel was destroyed with.
	Cause int
	// CauseTxt is Asterisk's text for Cause ("Normal Clearing").
	CauseTxt string
	// Time is the world's time of the hangup.
	Time time.Time
}

// Heard is one thing the simulated party heard or got, in order.
type Heard struct {
	// Kind is "playback", "moh", "dtmf" (digits the app sent), "ringing",
	// "silence" or "bridge" (joined a bridge; Media is its id).
	Kind string
	// Media is the media URI, music class, digits or bridge id.
	Media string
	// PlaybackID is the playback's id for Kind "playback".
	PlaybackID string
	// Start and End delimit it; End is zero while it lasts.
	Start, End time.Time
	// State is how a playback ended ("done", "failed"), empty otherwise.
	State string
}

// Call is the far end of one simulated call: a PSTN caller, an operator's
// softphone dialling in, or a softphone being called by an originate. A
// test drives it (digits, talk, hang up) and observes what happened to it.
type Call struct {
	s *Server
	// ch is the channel the app controls (the Local ;2 half for a Local
	// caller, the originated channel for a phone being called).
	ch *channel
	// side is the channel through which the party acts (the Local ;1
	// half of a caller; ch itself for PJSIP).
	side *channel

	ringing  bool
	answered bool
	ended    bool
	hangup   Hangup
	heard    []Heard
	phone    *Phone // for a called softphone
	script   []App  // what a PJSIP caller does once answered
	claimed  bool   // returned by AwaitRinging
}

var (
	// ErrCallEnded is returned by actions on a call that has hung up.
	ErrCallEnded = errors.New("aritest: the call has ended")
	// ErrNotRinging is returned by Answer and Reject on a call that is not
	// ringing a phone.
	ErrNotRinging = errors.New("aritest: the call is not ringing a phone")
)

// Call places a simulated call from the caller number from to the
// helpline number to. It enters the dialplan at once (state Ring) and, if
// an app is connected, Stasis with the arguments of the dialplan
// (["inbound"] by default).
func (s *Server) Call(ctx context.Context, from, to string, opts CallOptions) (*Call, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.lock()
	defer s.unlock()
	return s.w.placeCall(from, to, opts)
}

func (w *world) placeCall(from, to string, opts CallOptions) (*Call, error) {
	if opts.Tech == "" {
		opts.Tech = PJSIP
	}
	lang := opts.Language
	if lang == "" {
		lang = "it"
	}
	vars := map[string]string{"CALLER_NUM": from, "CALLER_NAME": opts.CallerName, "CALLER_LANG": lang}
	call := &Call{s: w.s}
	switch opts.Tech {
	case Local:
		ctxName := opts.Context
		if ctxName == "" {
			ctxName = "from-pstn"
		}
		if _, ok := w.s.cfg.Dialplan.lookup(ctxName, to); !ok {
			return nil, fmt.Errorf("aritest: no extension %q in dialplan context %q", to, ctxName)
		}
		c1, c2 := w.newLocalPair(to, ctxName, "", opts.ChannelID)
		c1.dialed = true
		c1.dp = ari.DialplanCEP{Context: ctxName, Exten: to, Priority: 1}
		c2.dp = ari.DialplanCEP{Context: ctxName, Exten: to, Priority: 1}
		c2.pbx = true
		call.ch, call.side = c2, c1
		c1.party, c2.party = call, call
		w.emit(&ari.ChannelCreated{Channel: c1.snap()})
		w.emit(&ari.ChannelCreated{Channel: c2.snap()})
		c1.dp.AppName, c1.dp.AppData = "AppDial2", "(Outgoing Line)"
		w.emit(&ari.ChannelDialplan{Channel: c1.snap(), DialplanApp: "AppDial2", DialplanAppData: "(Outgoing Line)"})
		w.emitDial(ari.Dial{DialStatus: "", Forward: "", DialString: to + "@" + ctxName, Peer: c1.snap()})
		sctx := opts.ScriptContext
		if sctx == "" {
			sctx = "sim"
		}
		script := opts.Script
		c1.onAnswer = func() {
			if len(script) == 0 {
				return
			}
			w.s.cfg.Dialplan[sctx] = Context{"s": Extension(script)}
			w.startDialplan(c1, sctx, "s", nil)
		}
		w.calls = append(w.calls, call)
		w.startDialplan(c2, ctxName, to, vars)
	case PJSIP:
		epName := opts.Endpoint
		if epName == "" {
			epName = "sipp"
		}
		ep := w.endpoint(epName)
		if ep == nil {
			return nil, fmt.Errorf("aritest: no PJSIP endpoint %q", epName)
		}
		ctxName := opts.Context
		if ctxName == "" {
			ctxName = ep.Context
		}
		if _, ok := w.s.cfg.Dialplan.lookup(ctxName, to); !ok {
			return nil, fmt.Errorf("aritest: no extension %q in dialplan context %q", to, ctxName)
		}
		c := w.newPJSIP(epName, opts.ChannelID, ari.ChannelStateRing)
		if opts.CallID != "" {
			c.protocolID = opts.CallID
		} else {
			c.protocolID = fmt.Sprintf("%d-%d@127.0.0.1", w.pjsipSeq, 22000+w.uniqueSeq)
		}
		c.caller = ari.CallerID{Name: opts.CallerName, Number: from}
		c.dp = ari.DialplanCEP{Context: ctxName, Exten: to, Priority: 1}
		c.pbx = true
		call.ch, call.side = c, c
		c.party = call
		call.script = opts.Script
		w.emit(&ari.ChannelCreated{Channel: c.snap()})
		w.calls = append(w.calls, call)
		w.startDialplan(c, ctxName, to, vars)
	default:
		return nil, fmt.Errorf("aritest: unknown call technology %q", opts.Tech)
	}
	return call, nil
}

// newPJSIP creates a PJSIP channel of endpoint ep.
func (w *world) newPJSIP(ep, id, state string) *channel {
	if id == "" {
		id = w.newUniqueID()
	}
	name := fmt.Sprintf("PJSIP/%s-%08x", ep, w.pjsipSeq)
	w.pjsipSeq++
	c := w.newChannel(kindPJSIP, id, name, state)
	c.endpoint = ep
	c.device = "PJSIP/" + ep
	return c
}

// newLocalPair creates Local/<exten>@<ctx>-%08x;1 and ;2. Given ids win;
// a ;2 without one is "<id1>;2" when id1 was given, else a new uniqueid.
func (w *world) newLocalPair(exten, ctx, id1, id2 string) (*channel, *channel) {
	gen1 := id1 == ""
	if gen1 {
		id1 = w.newUniqueID()
	}
	base := fmt.Sprintf("Local/%s@%s-%08x", exten, ctx, w.localSeq)
	w.localSeq++
	if id2 == "" {
		if gen1 {
			id2 = w.newUniqueID()
		} else {
			id2 = id1 + ";2"
		}
	}
	c1 := w.newChannel(kindLocal, id1, base+";1", ari.ChannelStateDown)
	c2 := w.newChannel(kindLocal, id2, base+";2", ari.ChannelStateRing)
	c1.half, c2.half = 1, 2
	c1.other, c2.other = c2, c1
	c1.device = "Local/" + exten + "@" + ctx
	c2.device = c1.device
	return c1, c2
}

// ChannelID is the id of the channel the app sees for this call.
func (c *Call) ChannelID() string { return c.ch.id }

// Channel returns the channel the app sees, as GET /channels/{id} would.
func (c *Call) Channel() ari.Channel {
	c.s.lock()
	defer c.s.unlock()
	return c.ch.snap()
}

// Answered reports whether the call was answered.
func (c *Call) Answered() bool {
	c.s.lock()
	defer c.s.unlock()
	return c.answered
}

// Ended returns how the call ended, and false while it lasts.
func (c *Call) Ended() (Hangup, bool) {
	c.s.lock()
	defer c.s.unlock()
	return c.hangup, c.ended
}

// Heard returns what the party heard so far, in order.
func (c *Call) Heard() []Heard {
	c.s.lock()
	defer c.s.unlock()
	return append([]Heard(nil), c.heard...)
}

// AwaitAnswered waits until the call is answered. It fails if the call
// ends unanswered or ctx ends.
func (c *Call) AwaitAnswered(ctx context.Context) error {
	return c.s.await(ctx, func() (bool, error) {
		if c.answered {
			return true, nil
		}
		if c.ended {
			return false, fmt.Errorf("%w unanswered: %s cause %d", ErrCallEnded, c.hangup.By, c.hangup.Cause)
		}
		return false, nil
	})
}

// AwaitHangup waits until the call ends and says how.
func (c *Call) AwaitHangup(ctx context.Context) (Hangup, error) {
	var h Hangup
	err := c.s.await(ctx, func() (bool, error) {
		h = c.hangup
		return c.ended, nil
	})
	return h, err
}

// AwaitHeard waits until the party hears media (a media URI such as
// "sound:welcome", a music class for Kind "moh") and returns it.
func (c *Call) AwaitHeard(ctx context.Context, media string) (Heard, error) {
	var got Heard
	err := c.s.await(ctx, func() (bool, error) {
		for _, h := range c.heard {
			if h.Media == media {
				got = h
				return true, nil
			}
		}
		if c.ended {
			return false, fmt.Errorf("%w before %q was heard", ErrCallEnded, media)
		}
		return false, nil
	})
	return got, err
}

// DTMFOption changes how SendDTMF sends digits.
type DTMFOption func(*dtmfOpts)

type dtmfOpts struct {
	between  time.Duration
	duration time.Duration
}

// Between sets the gap between digits.
func Between(d time.Duration) DTMFOption { return func(o *dtmfOpts) { o.between = d } }

// Duration sets how long each digit lasts (RFC 2833 event duration).
func Duration(d time.Duration) DTMFOption { return func(o *dtmfOpts) { o.duration = d } }

// validDTMF are the digits a phone can send.
const validDTMF = "0123456789*#ABCDabcd"

// SendDTMF presses digits. On a PJSIP call each digit reaches the app as
// ChannelDtmfReceived when its RFC 2833 event ends (280 ms by default, as
// the traces' SIPp phone sends); on a Local call it behaves as the
// dialplan's SendDTMF (duration_ms 100, 250 ms apart by default).
func (c *Call) SendDTMF(digits string, opts ...DTMFOption) error {
	for _, d := range digits {
		if !strings.ContainsRune(validDTMF, d) {
			return fmt.Errorf("aritest: %q is not a DTMF digit (want 0-9, *, #, A-D)", d)
		}
	}
	c.s.lock()
	defer c.s.unlock()
	if c.ended || c.ch.gone {
		return ErrCallEnded
	}
	o := dtmfOpts{between: -1}
	for _, f := range opts {
		f(&o)
	}
	w := c.s.w
	if c.side.kind == kindLocal && c.side != c.ch {
		args := strings.ToUpper(digits)
		if o.between >= 0 {
			args += fmt.Sprintf(",%d", o.between.Milliseconds())
		}
		w.dialplanDTMF(c.side, args)
		return nil
	}
	if o.duration <= 0 {
		o.duration = 280 * time.Millisecond
	}
	if o.between < 0 {
		o.between = 100 * time.Millisecond
	}
	t := time.Duration(0)
	for _, d := range strings.ToUpper(digits) {
		t += o.duration
		digit := string(d)
		dur := int(o.duration.Milliseconds())
		target := c.ch
		w.s.after(t, func() { w.dtmfReceived(target, digit, dur) })
		t += o.between
	}
	return nil
}

// dialplanDTMF is SendDTMF(digits[,between[,duration]]) on a Local half:
// the other half receives each digit (duration_ms 100). It returns how long
// the application runs. The timings are those of the traces: the first
// digit arrives 200 ms in, the next ones 100 ms + between apart, and the
// application ends between after the last (between 0 or absent is 250 ms).
func (w *world) dialplanDTMF(c *channel, data string) time.Duration {
	parts := strings.Split(data, ",")
	digits := parts[0]
	between := 250 * time.Millisecond
	if len(parts) > 1 {
		if ms := atoiDefault(parts[1], 0); ms > 0 {
			between = time.Duration(ms) * time.Millisecond
		}
	}
	target := c.other
	if target == nil {
		target = c
	}
	var t time.Duration
	for i, d := range digits {
		t = 200*time.Millisecond + time.Duration(i)*(100*time.Millisecond+between)
		digit := string(d)
		w.s.after(t, func() { w.dtmfReceived(target, digit, 100) })
	}
	return t + between
}

// dtmfReceived is a digit arriving on c from its far end.
func (w *world) dtmfReceived(c *channel, digit string, durMS int) {
	if c.gone || c.hangingUp {
		return
	}
	w.emit(&ari.ChannelDtmfReceived{Digit: digit, DurationMS: durMS, Channel: c.snap()})
	if r := c.rec; r != nil && r.terminates(digit) {
		w.finishRecording(r, ari.LiveRecordingStateDone)
	}
}

// Speak makes the party talk for d (what a recording captures as talking).
func (c *Call) Speak(d time.Duration) error {
	c.s.lock()
	defer c.s.unlock()
	if c.ended || c.ch.gone {
		return ErrCallEnded
	}
	c.s.w.talkInto(c.side, d)
	return nil
}

// talkInto records that the party behind src talks for d: the channel the
// audio reaches (the other half of a Local pair, else src) gets a talking
// interval, which a recording on it counts.
func (w *world) talkInto(src *channel, d time.Duration) {
	dst := src
	if src.other != nil {
		dst = src.other
	}
	now := w.s.now()
	dst.talk = append(dst.talk, interval{now, now.Add(d)})
	if dst.rec != nil {
		w.recordingHeard(dst.rec)
	}
}

// Hangup hangs up as the party: a BYE once answered, a CANCEL while
// ringing (cause 127, tech_cause 487), Hangup(16) on a Local caller.
func (c *Call) Hangup() error {
	c.s.lock()
	defer c.s.unlock()
	return c.s.w.partyHangup(c, 16)
}

// HangupCause hangs up a Local caller with Hangup(cause); a PJSIP call
// sends BYE (SIP carries no Q.850 cause here).
func (c *Call) HangupCause(cause int) error {
	c.s.lock()
	defer c.s.unlock()
	return c.s.w.partyHangup(c, cause)
}

func (w *world) partyHangup(c *Call, cause int) error {
	if c.ended || c.side.gone || c.side.hangingUp {
		return ErrCallEnded
	}
	if c.phone != nil {
		return w.phoneHangup(c)
	}
	if c.side.kind == kindLocal && c.side != c.ch {
		if c.side.run != nil {
			c.side.run.stop()
		}
		if c.side.half == 2 {
			// the Local target of an originate hangs up, as Hangup(cause)
			w.selfHangup(c.side, cause)
			return nil
		}
		w.hangup(c.side, hangupRequest{cause: cause, hasCause: true, soft: true}, cause, string(ByCaller))
		return nil
	}
	ch := c.ch
	if ch.state != ari.ChannelStateUp {
		// CANCEL before the 200 OK.
		w.hangup(ch, hangupRequest{cause: 127, hasCause: true, techCause: 487}, 127, string(ByCaller))
		return nil
	}
	w.hangup(ch, hangupRequest{}, 16, string(ByCaller))
	return nil
}

func (c *Call) noteHangup(by string, cause int) {
	if c.ended || by == "peer" {
		return
	}
	c.finish(HungUpBy(mapBy(by)), cause)
}

func mapBy(by string) string {
	switch by {
	case "app":
		return string(ByApp)
	case "caller":
		return string(ByCaller)
	}
	return string(ByNetwork)
}

func (c *Call) finish(by HungUpBy, cause int) {
	if c.ended {
		return
	}
	c.ended = true
	c.hangup = Hangup{By: by, Cause: cause, CauseTxt: causeText(cause), Time: c.s.now()}
	now := c.s.now()
	for i := range c.heard {
		if c.heard[i].End.IsZero() {
			c.heard[i].End = now
		}
	}
}

func (c *Call) noteGone(ch *channel, cause int) {
	if !c.ended {
		c.finish(ByNetwork, cause)
	}
}

func (c *Call) hear(h Heard) {
	if c.ended {
		return
	}
	h.Start = c.s.now()
	c.heard = append(c.heard, h)
}

// stopHearing ends the latest open Heard of kind (and id, for playbacks).
func (c *Call) stopHearing(kind, id, state string) {
	for i := len(c.heard) - 1; i >= 0; i-- {
		h := &c.heard[i]
		if h.Kind == kind && h.End.IsZero() && (id == "" || h.PlaybackID == id) {
			h.End = c.s.now()
			h.State = state
			return
		}
	}
}

// await waits, without sleeping, until cond reports done (or an error)
// under the world lock, or ctx ends.
func (s *Server) await(ctx context.Context, cond func() (bool, error)) error {
	stop := context.AfterFunc(ctx, func() {
		s.mu.Lock()
		s.cond.Broadcast()
		s.mu.Unlock()
	})
	defer stop()
	s.lock()
	defer s.unlock()
	for {
		done, err := cond()
		if err != nil {
			return err
		}
		if done {
			return nil
		}
		if ctx.Err() != nil {
			return fmt.Errorf("aritest: %w", ctx.Err())
		}
		s.cond.Wait()
		s.runDue()
	}
}
