package aritest

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/helpline-it/helpline/ari"
)

// origination is an outbound call the app placed, until it is answered or
// fails.
type origination struct {
	w       *world
	c       *channel // the app's channel: PJSIP, or the Local ;1 half
	app     *app
	appName string
	args    []string
	// dialplan target when the originate named an extension instead of an app
	context, exten string
	dialstring     string
	timeout        time.Duration
	timer          *action
	phoneTimer     *action
	call           *Call // the party being called
	created        bool  // /channels/create: in Stasis before dialing
	dialed         bool
	linked         *endpoint // the far softphone of a call through a linked trunk (link.go)
}

func (o *origination) stop() {
	o.timer.cancel()
	o.phoneTimer.cancel()
	if o.c.orig == o {
		o.c.orig = nil
	}
}

// answer is the phone or Local target answering: the app's channel goes Up
// and enters Stasis (StasisStart with the originate's appArgs).
func (w *world) originateAnswered(o *origination) {
	c := o.c
	o.stop()
	if c.gone || c.hangingUp {
		return
	}
	w.setState(c, ari.ChannelStateUp)
	w.emitDial(ari.Dial{DialStatus: "ANSWER", Forward: "", DialString: o.dialstring, Peer: c.snap()})
	if c.kind == kindPJSIP {
		c.media, c.continuous = true, true
	}
	if c.kind == kindLocal {
		w.localInUse(c)
	}
	if o.call != nil {
		o.call.answered = true
	}
	switch {
	case o.created:
		// already in Stasis
	case o.appName != "":
		c.dp = ari.DialplanCEP{Context: c.dp.Context, Exten: c.dp.Exten, Priority: c.dp.Priority, AppName: "Stasis", AppData: strings.Join(append([]string{o.appName}, o.args...), ",")}
		if !w.enterStasis(c, o.appName, o.args) {
			w.hangup(c, hangupRequest{cause: 16, hasCause: true, soft: true}, 16, "network")
		}
	default:
		c.pbx = true
		if !w.startDialplan(c, o.context, o.exten, nil) {
			w.hangup(c, hangupRequest{cause: 16, hasCause: true, soft: true}, 16, "network")
		}
	}
}

func (w *world) localInUse(c *channel) {
	if c.inuse {
		return
	}
	c.inuse = true
	if c.other != nil {
		c.other.inuse = true
	}
	for range 2 {
		w.emit(&ari.DeviceStateChanged{DeviceState: ari.DeviceState{Name: c.device, State: ari.DeviceStateInuse}})
	}
}

// answer answers c (the Answer application, POST /answer): Up, and for a
// Local half the other half too, which starts what waited for it.
func (w *world) answer(c *channel) {
	if c.state == ari.ChannelStateUp || c.gone {
		return
	}
	w.setState(c, ari.ChannelStateUp)
	if c.kind == kindPJSIP {
		c.media, c.continuous = true, true
	}
	if c.party != nil && c.party.ch == c {
		c.party.answered = true
	}
	if o := c.other; o != nil && !o.gone {
		if o.orig != nil {
			w.originateAnswered(o.orig)
			return
		}
		w.setState(o, ari.ChannelStateUp)
		if o.half == 1 {
			w.emitDial(ari.Dial{DialStatus: "ANSWER", Forward: "", DialString: c.dp.Exten + "@" + c.dp.Context, Peer: o.snap()})
			w.localInUse(o)
		}
		if fn := o.onAnswer; fn != nil {
			o.onAnswer = nil
			fn()
		}
		return
	}
	if c.party != nil && c.party.script != nil {
		w.runSIPScript(c.party, c.party.script)
	}
}

// indicateRinging is Ringing() on a Local ;2 half: its ;1 half rings, and
// the originate reports RINGING.
func (w *world) indicateRinging(c *channel) {
	o := c.other
	if o == nil || o.gone {
		return
	}
	w.setState(o, ari.ChannelStateRinging)
	if o.orig != nil {
		w.emitDial(ari.Dial{DialStatus: "RINGING", Forward: "", DialString: o.orig.dialstring, Peer: o.snap()})
	}
}

// dialStatus maps a hangup cause to app_dial's DIALSTATUS.
func dialStatus(cause int) string {
	switch cause {
	case 17:
		return "BUSY"
	case 34:
		return "CONGESTION"
	case 3, 20, 27:
		return "CHANUNAVAIL"
	}
	return "NOANSWER"
}

// localBusy is Busy() (17) or Congestion() (34) on a Local ;2 half whose
// ;1 half is being originated. The app's ;1 half ends with cause 0, as in
// originate_busy and originate_congestion.
func (w *world) localBusy(c2 *channel, cause int) {
	c1 := c2.other
	if c1 == nil || c1.orig == nil || c1.gone {
		w.hangup(c2, hangupRequest{cause: cause, hasCause: true, soft: true}, cause, string(ByNetwork))
		return
	}
	o := c1.orig
	o.stop()
	c1.hangingUp, c2.hangingUp = true, true
	if o.call != nil {
		o.call.finish(ByCaller, 0)
	}
	if cause == 34 {
		c2.state = ari.ChannelStateBusy
		w.emit(&ari.ChannelStateChange{Channel: c2.snap()})
	}
	w.emitDial(ari.Dial{DialStatus: dialStatus(cause), Forward: "", DialString: o.dialstring, Peer: c1.snap()})
	w.emitHangupRequest(c2, hangupRequest{cause: 0, hasCause: true})
	w.destroy(c1, 0, 0)
	if cause != 34 {
		c2.state = ari.ChannelStateBusy
		w.emit(&ari.ChannelStateChange{Channel: c2.snap()})
	}
	w.emitHangupRequest(c2, hangupRequest{cause: 16, hasCause: true, soft: true})
	w.destroy(c2, cause, 0)
}

// localFailBeforeAnswer is Hangup(cause) on a Local ;2 half before it
// answered the originate of its ;1 half (originate_failed_other).
func (w *world) localFailBeforeAnswer(c2 *channel, cause int) {
	c1 := c2.other
	o := c1.orig
	o.stop()
	c1.hangingUp, c2.hangingUp = true, true
	if o.call != nil {
		o.call.finish(ByCaller, cause)
	}
	w.emitHangupRequest(c2, hangupRequest{cause: 16, hasCause: true, soft: true})
	w.emitHangupRequest(c1, hangupRequest{cause: cause, hasCause: true})
	w.destroy(c2, cause, 0)
	w.emitDial(ari.Dial{DialStatus: dialStatus(cause), Forward: "", DialString: o.dialstring, Peer: c1.snap()})
	w.destroy(c1, cause, 0)
}

// originateTimeout ends an unanswered originate after its timeout: cause 19
// (tech_cause 480 on PJSIP, where Asterisk CANCELs the INVITE), no
// ChannelHangupRequest on the app's channel and no final Dial event.
func (w *world) originateTimeout(o *origination) {
	c := o.c
	o.stop()
	if c.gone || c.hangingUp {
		return
	}
	c.hangingUp = true
	if o.call != nil {
		o.call.finish(ByNetwork, 19)
	}
	if c.kind == kindPJSIP {
		w.destroy(c, 19, 480)
		return
	}
	c2 := c.other
	c2.hangingUp = true
	if c2.run != nil {
		c2.run.stop()
	}
	w.emitHangupRequest(c2, hangupRequest{cause: 19, hasCause: true})
	w.destroy(c, 19, 0)
	w.emitHangupRequest(c2, hangupRequest{cause: 16, hasCause: true, soft: true})
	w.destroy(c2, 19, 0)
}

// cancelOriginate is DELETE /channels/{id} on a channel still being dialed.
func (w *world) cancelOriginate(o *origination, cause int) {
	c := o.c
	o.stop()
	c.hangingUp = true
	if o.call != nil {
		o.call.finish(ByApp, cause)
	}
	w.emitHangupRequest(c, hangupRequest{cause: 32, hasCause: true, soft: true})
	if o.dialed {
		w.emitDial(ari.Dial{DialStatus: "NOANSWER", Forward: "", DialString: o.dialstring, Peer: c.snap()})
	}
	if c.kind == kindLocal && c.other != nil && !c.other.gone {
		c2 := c.other
		c2.hangingUp = true
		if c2.run != nil {
			c2.run.stop()
		}
		w.emitHangupRequest(c2, hangupRequest{cause: cause, hasCause: true})
		w.destroy(c, cause, 0)
		w.emitHangupRequest(c2, hangupRequest{cause: 16, hasCause: true, soft: true})
		w.destroy(c2, cause, 0)
		return
	}
	if c.inStasis() {
		w.leaveStasis(c)
	}
	w.destroy(c, cause, 0)
}

// ---- softphones being called ----

// startPhone plays the PJSIP endpoint's part once the INVITE is out: 180
// Ringing at once (1 ms later in the traces; at the same instant here, so
// a test on a fake clock sees it without advancing), then its final answer.
func (w *world) startPhone(o *origination, ep *endpoint) {
	c := o.c
	call := &Call{s: w.s, ch: c, side: c, phone: &ep.Phone}
	c.party = call
	o.call = call
	w.calls = append(w.calls, call)
	w.s.after(0, func() {
		if c.gone || c.hangingUp || c.orig != o {
			return
		}
		call.ringing = true
		w.setState(c, ari.ChannelStateRinging)
		w.emitDial(ari.Dial{DialStatus: "RINGING", Forward: "", DialString: o.dialstring, Peer: c.snap()})
		p := ep.Phone
		ring := p.RingFor
		if ring == 0 {
			ring = 2 * time.Second
			if p.Answer == Answer {
				ring = 3 * time.Second
			}
		}
		switch p.Answer {
		case Answer:
			o.phoneTimer = w.s.after(ring, func() { w.phoneAnswer(call) })
		case RejectBusy:
			o.phoneTimer = w.s.after(ring, func() { w.phoneReject(call, 486) })
		case RejectDecline:
			o.phoneTimer = w.s.after(ring, func() { w.phoneReject(call, 603) })
		case RejectUnavailable:
			o.phoneTimer = w.s.after(ring, func() { w.phoneReject(call, 480) })
		case RejectCongestion:
			o.phoneTimer = w.s.after(ring, func() { w.phoneReject(call, 503) })
		}
	})
}

// sipCause maps a SIP final response to the Q.850 cause chan_pjsip reports.
func sipCause(status int) int {
	switch status {
	case 486, 600:
		return 17
	case 603:
		return 21
	case 480, 408:
		return 19
	case 404, 604:
		return 1
	case 503:
		return 34
	case 487:
		return 127
	}
	return 21
}

func (w *world) phoneAnswer(call *Call) error {
	c := call.ch
	o := c.orig
	if o == nil || c.gone || c.hangingUp {
		return ErrNotRinging
	}
	call.ringing = false
	w.originateAnswered(o)
	if p := call.phone; p != nil && p.TalkFor > 0 {
		w.s.after(p.TalkFor, func() {
			if !c.gone && !c.hangingUp {
				w.hangup(c, hangupRequest{}, 16, string(ByCaller))
			}
		})
	}
	return nil
}

func (w *world) phoneReject(call *Call, status int) error {
	c := call.ch
	o := c.orig
	if o == nil || c.gone || c.hangingUp {
		return ErrNotRinging
	}
	o.stop()
	cause := sipCause(status)
	c.hangingUp = true
	call.finish(ByCaller, cause)
	w.emitHangupRequest(c, hangupRequest{cause: cause, hasCause: true, techCause: status})
	w.emitDial(ari.Dial{DialStatus: dialStatus(cause), Forward: "", DialString: o.dialstring, Peer: c.snap()})
	w.destroy(c, cause, status)
	return nil
}

// phoneHangup is the called phone hanging up: CANCEL-less reject before the
// answer (603), a BYE after it.
func (w *world) phoneHangup(call *Call) error {
	c := call.ch
	if c.orig != nil {
		return w.phoneReject(call, 603)
	}
	w.hangup(c, hangupRequest{}, 16, string(ByCaller))
	return nil
}

// Answer answers a phone the app is calling (Phone.Answer = Manual).
func (c *Call) Answer() error {
	c.s.lock()
	defer c.s.unlock()
	if c.phone == nil {
		return ErrNotRinging
	}
	return c.s.w.phoneAnswer(c)
}

// Reject refuses a phone call with a SIP status (486, 603, 480, 503).
func (c *Call) Reject(sipStatus int) error {
	c.s.lock()
	defer c.s.unlock()
	if c.phone == nil {
		return ErrNotRinging
	}
	return c.s.w.phoneReject(c, sipStatus)
}

// AwaitRinging waits until the app calls the PJSIP endpoint resource
// ("op1001") and returns the ringing phone's side of that call. Calls
// already placed count: the n-th call to the endpoint is returned by the
// n-th AwaitRinging.
func (s *Server) AwaitRinging(ctx context.Context, resource string) (*Call, error) {
	var got *Call
	err := s.await(ctx, func() (bool, error) {
		for _, c := range s.w.calls {
			if c.phone != nil && c.ch.endpoint == resource && !c.claimed {
				c.claimed = true
				got = c
				return true, nil
			}
		}
		return false, nil
	})
	return got, err
}

// ---- the SIPp-like script of a PJSIP caller ----

func (w *world) runSIPScript(call *Call, script []App) {
	var step func(i int)
	step = func(i int) {
		c := call.ch
		if i >= len(script) || c.gone || c.hangingUp || call.ended {
			return
		}
		a := script[i]
		switch a.Name {
		case "Wait":
			w.s.after(seconds(a.Data), func() { step(i + 1) })
		case "SendDTMF":
			parts := strings.Split(a.Data, ",")
			dur := 280 * time.Millisecond
			between := 100 * time.Millisecond
			if len(parts) > 1 && atoiDefault(parts[1], 0) > 0 {
				between = time.Duration(atoiDefault(parts[1], 0)) * time.Millisecond
			}
			if len(parts) > 2 && atoiDefault(parts[2], 0) > 0 {
				dur = time.Duration(atoiDefault(parts[2], 0)) * time.Millisecond
			}
			var t time.Duration
			for _, d := range parts[0] {
				t += dur
				digit := string(d)
				ms := int(dur.Milliseconds())
				w.s.after(t, func() { w.dtmfReceived(c, digit, ms) })
				t += between
			}
			w.s.after(t, func() { step(i + 1) })
		case "Playback":
			d, ok := w.s.soundLength(a.Data)
			if !ok {
				d = 0
			}
			w.talkInto(c, d)
			w.s.after(d, func() { step(i + 1) })
		case "Hangup":
			_ = w.partyHangup(call, atoiDefault(a.Data, 16))
		default:
			w.s.gap(Gap{Detail: fmt.Sprintf("SIP caller script step %s(%s) not emulated", a.Name, a.Data)})
		}
	}
	step(0)
}

// ---- POST /channels ----

var hangupReasons = map[string]int{
	"normal": 16, "busy": 17, "congestion": 34, "no_answer": 19, "timeout": 19,
	"rejected": 21, "unallocated": 1, "normal_unspecified": 31, "number_incomplete": 28,
	"codec_mismatch": 58, "interworking": 127, "failure": 38, "answered_elsewhere": 26,
}

func hOriginate(s *Server, rq *request) response {
	return s.originate(rq, false)
}

func hCreateChannel(s *Server, rq *request) response {
	return s.originate(rq, true)
}

func (s *Server) originate(rq *request, create bool) response {
	trunk, farUser, linked := s.linkedPhone(rq.param("endpoint"))
	s.lock()
	defer s.unlock()
	w := &s.w
	endpointArg := rq.param("endpoint")
	if endpointArg == "" {
		return fail(400, "Endpoint must be specified")
	}
	appName := rq.param("app")
	if create && appName == "" {
		return fail(400, "Application must be specified")
	}
	if appName == "" && rq.param("extension") == "" {
		return fail(400, "Application or extension must be specified")
	}
	tech, resource, okSlash := strings.Cut(endpointArg, "/")
	if !okSlash || resource == "" {
		return fail(400, "Invalid endpoint specified")
	}
	id := rq.param("channelId")
	if pid := rq.path["channelId"]; pid != "" {
		id = pid
	}
	otherID := rq.param("otherChannelId")
	for _, x := range []string{id, otherID} {
		if x != "" && w.channels[x] != nil {
			return fail(409, "Channel with given unique ID already exists")
		}
	}
	var args []string
	if appName != "" {
		if aa := rq.param("appArgs"); aa != "" {
			args = strings.Split(aa, ",")
		} else {
			args = []string{}
		}
	}
	timeout := 30 * time.Second
	if t, err := strconv.Atoi(rq.param("timeout")); err == nil && t > 0 {
		timeout = time.Duration(t) * time.Second
	} else if err == nil && t < 0 {
		timeout = 0
	}
	var cid ari.CallerID
	hasCID := rq.param("callerId") != ""
	if hasCID {
		cid = parseCallerID(rq.param("callerId"))
	}
	o := &origination{w: w, appName: appName, args: args, timeout: timeout, created: create,
		context: rq.param("context"), exten: rq.param("extension")}
	if o.context == "" {
		o.context = "default"
	}
	var c *channel
	switch tech {
	case "PJSIP":
		ep := w.endpoint(resource)
		if linked != nil {
			ep, resource = linked, trunk
		}
		if ep == nil || ep.Offline {
			return response{status: 500, body: map[string]string{"error": "Allocation failed"}}
		}
		c = w.newPJSIP(resource, id, ari.ChannelStateDown)
		c.dialed = true
		c.protocolID = w.newUUID()
		c.dp = ari.DialplanCEP{Context: ep.Context, Exten: "s", Priority: 1, AppName: "AppDial2", AppData: "(Outgoing Line)"}
		o.dialstring = resource
		if linked != nil {
			o.dialstring, o.linked = farUser+"@"+trunk, linked
		}
	case "Local":
		dest := resource
		if i := strings.IndexByte(dest, '/'); i >= 0 {
			dest = dest[:i] // Local options such as /n
		}
		exten, ctx, hasCtx := strings.Cut(dest, "@")
		if !hasCtx {
			ctx = "default"
		}
		c1, c2 := w.newLocalPair(exten, ctx, id, otherID)
		c1.dialed = true
		c1.dp = ari.DialplanCEP{Context: ctx, Exten: exten, Priority: 1, AppName: "AppDial2", AppData: "(Outgoing Line)"}
		c2.dp = ari.DialplanCEP{Context: ctx, Exten: exten, Priority: 1}
		c2.pbx = true
		c = c1
		o.dialstring = exten + "@" + ctx
	default:
		return response{status: 500, body: map[string]string{"error": "Allocation failed"}}
	}
	o.c = c
	c.orig = o
	c.caller, c.connected = cid, cid
	var plainVars []string
	for _, k := range rq.varOrder {
		v := rq.variables[k]
		switch strings.ToUpper(k) {
		case "CALLERID(NAME)":
			c.caller.Name = v
		case "CALLERID(NUM)":
			c.caller.Number = v
		case "CALLERID(ALL)":
			c.caller = parseCallerID(v)
		case "CHANNEL(LANGUAGE)":
			c.language = v
		default:
			c.vars[k] = v
			plainVars = append(plainVars, k)
		}
	}
	if appName != "" {
		o.app = w.app(appName)
		o.app.follow(c, subOriginate)
		if c.other != nil {
			o.app.follow(c.other, subOriginate)
		}
	}
	snap := c.snap()
	if create {
		o.dialed = false
		c.dp.AppName, c.dp.AppData = "Stasis", strings.Join(append([]string{appName}, args...), ",")
		snap = c.snap()
		if c.other != nil {
			w.prepareLocalTarget(c, hasCID, cid, plainVars)
		}
		if !w.enterStasis(c, appName, args) {
			w.destroy(c, 0, 0)
			return fail(400, "Stasis application not registered")
		}
		return ok(snap)
	}
	s.after(0, func() { w.dial(o, hasCID, cid, plainVars) })
	return ok(snap)
}

// prepareLocalTarget gives the ;2 half of an originated Local pair what it
// inherits: the plain variables (ChannelVarset on ;2) and the caller id.
func (w *world) prepareLocalTarget(c1 *channel, hasCID bool, cid ari.CallerID, vars []string) {
	c2 := c1.other
	for _, k := range vars {
		w.setVar(c2, k, c1.vars[k])
	}
	if hasCID {
		c2.caller = cid
		c2.connected = c1.caller
		w.callerIDEvent(c2)
		w.emit(&ari.ChannelConnectedLine{Channel: c2.snap()})
	}
}

// dial places the originated call: the Dial event and what the target does.
func (w *world) dial(o *origination, hasCID bool, cid ari.CallerID, vars []string) {
	c := o.c
	if c.gone || c.hangingUp {
		return
	}
	o.dialed = true
	if o.timeout > 0 {
		o.timer = w.s.after(o.timeout, func() { w.originateTimeout(o) })
	}
	switch c.kind {
	case kindPJSIP:
		for _, k := range vars {
			w.setVar(c, k, c.vars[k])
		}
		w.emitDial(ari.Dial{DialStatus: "", Forward: "", DialString: o.dialstring, Peer: c.snap()})
		ep := o.linked
		if ep == nil {
			ep = w.endpoint(c.endpoint)
		}
		w.startPhone(o, ep)
	case kindLocal:
		c2 := c.other
		if !o.created {
			w.prepareLocalTarget(c, hasCID, cid, vars)
		}
		call := &Call{s: w.s, ch: c, side: c2}
		c.party, c2.party = call, call
		o.call = call
		w.calls = append(w.calls, call)
		if _, ok := w.s.cfg.Dialplan.lookup(c.dp.Context, c.dp.Exten); !ok {
			// No such extension: the Local call fails before any Dial.
			o.stop()
			c.hangingUp, c2.hangingUp = true, true
			call.finish(ByNetwork, 0)
			w.destroy(c2, 0, 0)
			w.destroy(c, 0, 0)
			return
		}
		w.emitDial(ari.Dial{DialStatus: "", Forward: "", DialString: o.dialstring, Peer: c.snap()})
		w.startDialplan(c2, c.dp.Context, c.dp.Exten, nil)
	}
}

// hDial is POST /channels/{id}/dial on a channel made by /channels/create.
func hDial(s *Server, rq *request) response {
	s.lock()
	defer s.unlock()
	c, r := s.stasisChannel(rq)
	if c == nil {
		return r
	}
	o := c.orig
	if o == nil || o.dialed {
		return fail(409, "Channel cannot be dialed")
	}
	if t, err := strconv.Atoi(rq.param("timeout")); err == nil && t > 0 {
		o.timeout = time.Duration(t) * time.Second
	}
	s.w.dial(o, false, ari.CallerID{}, nil)
	return noContent()
}

// hangupCause reads DELETE /channels/{id}'s reason_code or reason.
func hangupCause(rq *request) (int, bool) {
	if rc := rq.param("reason_code"); rc != "" {
		n, err := strconv.Atoi(rc)
		return n, err == nil
	}
	if r := rq.param("reason"); r != "" {
		n, ok := hangupReasons[r]
		return n, ok
	}
	return 16, true
}

func hHangup(s *Server, rq *request) response {
	s.lock()
	defer s.unlock()
	w := &s.w
	c := w.findChannel(rq.path["channelId"])
	if c == nil || c.hangingUp {
		return fail(404, "Channel not found")
	}
	cause, okCause := hangupCause(rq)
	if !okCause {
		return fail(400, "Invalid reason for hangup reason provided")
	}
	if c.orig != nil && !c.inStasis() {
		w.cancelOriginate(c.orig, cause)
		return noContent()
	}
	if c.run != nil && !c.inStasis() {
		c.run.stop()
	}
	w.hangup(c, hangupRequest{cause: 32, hasCause: true, soft: true}, cause, string(ByApp))
	return noContent()
}

var _ = context.Background
