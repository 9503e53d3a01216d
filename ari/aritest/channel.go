package aritest

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/helpline-it/helpline/ari"
)

type chanKind int

const (
	kindPJSIP chanKind = iota
	kindLocal
)

// channel is one Asterisk channel.
type channel struct {
	w          *world
	id, name   string
	kind       chanKind
	endpoint   string // PJSIP endpoint resource
	device     string // device name ("Local/op1003@operators", "PJSIP/op1001")
	state      string
	protocolID string
	caller     ari.CallerID
	connected  ari.CallerID
	dp         ari.DialplanCEP
	created    time.Time
	language   string
	vars       map[string]string
	half       int      // 1 or 2 on a Local channel
	other      *channel // the other half of a Local pair

	// Stasis
	stasisApp *app
	args      []string
	ctl       ctlQueue
	bridge    *bridge
	bridgeVar map[string]bool // BRIDGEPEER/BRIDGEPVTCALLID set by the current bridge
	moh       string          // music class while music on hold plays
	silence   bool
	cur       *playback // the playback occupying the control queue
	rec       *liveRecording

	run *dpRun // dialplan running on the channel
	pbx bool   // the dialplan resumes after Stasis (not an originated channel)
	// dialed: created by a dial (an originate, the ;1 half of a Local
	// call); its snapshots show app_dial's AppDial2 outside of Stasis.
	dialed bool
	orig   *origination // an originate dialing this channel
	// onAnswer runs when the channel is answered (a Local caller's ;1
	// half starts its script).
	onAnswer func()

	party *Call // the simulated human or phone behind the channel
	media bool  // RTP flows (PJSIP, answered): QoS variables on hangup
	// continuous: the far end sends frames (silence included) all the time,
	// as a SIP phone does; a Local half sends frames only while it plays.
	continuous bool
	talk       []interval // when the far end talked into the channel

	hangingUp bool // a hangup was requested; teardown follows
	gone      bool
	cause     int
	inuse     bool // device state INUSE was reported (Local pairs)
}

type interval struct{ from, to time.Time }

func (c *channel) snap() ari.Channel {
	return ari.Channel{
		ID: c.id, Name: c.name, State: c.state, ProtocolID: c.protocolID,
		Caller: c.caller, Connected: c.connected, AccountCode: "", Dialplan: c.dp,
		CreationTime: ari.Time{Time: c.created}, Language: c.language,
	}
}

func (c *channel) inStasis() bool { return c.stasisApp != nil }

func (w *world) newChannel(kind chanKind, id, name, state string) *channel {
	c := &channel{
		w: w, id: id, name: name, kind: kind, state: state,
		created: w.s.now(), language: "en", vars: map[string]string{},
	}
	w.channels[id] = c
	w.chanOrder = append(w.chanOrder, c)
	return c
}

// findChannel returns a live channel by id.
func (w *world) findChannel(id string) *channel {
	c := w.channels[id]
	if c == nil || c.gone {
		return nil
	}
	return c
}

func (w *world) setState(c *channel, st string) {
	if c.state == st || c.gone {
		return
	}
	c.state = st
	w.emit(&ari.ChannelStateChange{Channel: c.snap()})
}

func (w *world) setVar(c *channel, name, value string) {
	if c.gone {
		return
	}
	c.vars[name] = value
	snap := c.snap()
	w.emit(&ari.ChannelVarset{Variable: name, Value: value, Channel: &snap})
}

func (w *world) callerIDEvent(c *channel) {
	w.emit(&ari.ChannelCallerId{CallerPresentation: 0, CallerPresentationTxt: "Presentation Allowed, Not Screened", Channel: c.snap()})
}

// enterStasis puts c into app name's Stasis, as Stasis(name,args...) does.
// It reports false (STASISSTATUS=FAILED) when the app has no event socket.
func (w *world) enterStasis(c *channel, name string, args []string) bool {
	a := w.active(name)
	if a == nil {
		w.s.logf("Stasis app %q not registered: %s continues in the dialplan", name, c.id)
		w.setVar(c, "STASISSTATUS", "FAILED")
		return false
	}
	if args == nil {
		args = []string{}
	}
	w.setVar(c, "STASISSTATUS", "")
	a.follow(c, subStasis)
	c.stasisApp = a
	c.args = args
	w.emit(&ari.StasisStart{Args: args, Channel: c.snap()})
	return true
}

// leaveStasis ends c's Stasis: queued commands are dropped (a sync caller
// gets its failure), StasisEnd is sent and, for a channel the app
// originated, STASISSTATUS=SUCCESS.
func (w *world) leaveStasis(c *channel) {
	a := c.stasisApp
	if a == nil {
		return
	}
	c.ctl.flush()
	if c.bridge != nil {
		w.leaveBridge(c)
	}
	w.emit(&ari.StasisEnd{Channel: c.snap()})
	c.stasisApp = nil
	// A channel that entered Stasis from the dialplan is followed only
	// while in Stasis: the app does not see what comes after StasisEnd.
	a.unfollow(c, subStasis)
	w.setVar(c, "STASISSTATUS", "SUCCESS")
}

// hangupRequest describes a ChannelHangupRequest.
type hangupRequest struct {
	cause     int
	hasCause  bool
	soft      bool
	techCause int
}

func (w *world) emitHangupRequest(c *channel, hr hangupRequest) {
	ev := &ari.ChannelHangupRequest{Channel: c.snap()}
	if hr.hasCause {
		ev.Cause = ptr(hr.cause)
	}
	if hr.soft {
		ev.Soft = ptr(true)
	}
	if hr.techCause != 0 {
		ev.TechCause = ptr(hr.techCause)
	}
	w.emit(ev)
}

func ptr[T any](v T) *T { return &v }

// qosVars sets the RTP statistics variables chan_pjsip sets when a call
// with media ends, and their *BRIDGED twins on a bridged peer.
func (w *world) qosVars(c *channel) {
	if c.kind != kindPJSIP || !c.media {
		return
	}
	c.media = false
	var peer *channel
	if c.bridge != nil && len(c.bridge.members) == 2 {
		for _, m := range c.bridge.members {
			if m != c {
				peer = m
			}
		}
	}
	vals := qosValues(c)
	for _, v := range vals {
		w.setVar(c, v[0], v[1])
		if peer != nil {
			w.setVar(peer, v[0]+"BRIDGED", v[1])
		}
	}
}

func qosValues(c *channel) [][2]string {
	return [][2]string{
		{"RTPAUDIOQOS", "ssrc=1824594484;themssrc=235223118;lp=0;rxjitter=0.000000;rxcount=10;txjitter=0.000250;txcount=158;rlp=0;rtt=0.000000;rxmes=0.000000;txmes=88.087887"},
		{"RTPAUDIOQOSJITTER", "minrxjitter=000.000000;maxrxjitter=000.000500;avgrxjitter=000.000251;stdevrxjitter=000.000094;mintxjitter=000.000000;maxtxjitter=000.000000;avgtxjitter=000.000000;stdevtxjitter=000.000000;"},
		{"RTPAUDIOQOSLOSS", "  minrxlost=000.000000;  maxrxlost=000.000000;  avgrxlost=000.000000;  stdevrxlost=000.000000;  mintxlost=000.000000;  maxtxlost=000.000000;  avgtxlost=000.000000;  stdevtxlost=000.000000;"},
		{"RTPAUDIOQOSRTT", "     minrtt=000.000000;     maxrtt=000.000000;     avgrtt=000.000000;     stdevrtt=000.000000;"},
		{"RTPAUDIOQOSMES", "   minrxmes=088.087887;   maxrxmes=088.087887;   avgrxmes=088.087887;   stdevrxmes=000.000000;   mintxmes=000.000000;   maxtxmes=000.000000;   avgtxmes=000.000000;   stdevtxmes=000.000000;"},
	}
}

// hangup is the common end of a channel: hr is published now (after the
// QoS variables of a PJSIP call with media), and the teardown follows at
// the same instant, after what is already queued, as Asterisk's channel
// thread notices the hangup asynchronously.
func (w *world) hangup(c *channel, hr hangupRequest, destroyCause int, by string) {
	if c.gone || c.hangingUp {
		return
	}
	c.hangingUp = true
	c.cause = destroyCause
	w.qosVars(c)
	w.emitHangupRequest(c, hr)
	if c.party != nil {
		c.party.noteHangup(by, destroyCause)
	}
	// chan_local queues the hangup to the other half at once: its
	// ChannelHangupRequest (cause, not soft) precedes this half's
	// ChannelDestroyed.
	if o := c.other; o != nil && !o.gone && !o.hangingUp {
		w.hangup(o, hangupRequest{cause: destroyCause, hasCause: true}, destroyCause, "peer")
	}
	w.s.after(0, func() { w.teardown(c) })
}

// teardown ends what runs on c, takes it out of Stasis and destroys it;
// the other half of a Local pair learns of it.
func (w *world) teardown(c *channel) {
	if c.gone {
		return
	}
	if c.run != nil {
		c.run.stop()
	}
	if c.orig != nil {
		c.orig.stop()
	}
	// Nothing queued runs any more: the playback that fails below must not
	// hand the queue to the next one.
	c.ctl.flush()
	if c.cur != nil {
		w.failPlayback(c.cur)
	}
	if c.rec != nil {
		w.finishRecording(c.rec, ari.LiveRecordingStateDone)
	}
	wasStasis := c.inStasis()
	if wasStasis {
		w.leaveStasis(c)
	} else if c.bridge != nil {
		w.leaveBridge(c)
	}
	if c.pbx && wasStasis {
		w.emitHangupRequest(c, hangupRequest{cause: 16, hasCause: true, soft: true})
	}
	w.destroy(c, c.cause, 0)
}

func (w *world) destroy(c *channel, cause, techCause int) {
	if c.gone {
		return
	}
	c.gone = true
	c.ctl.flush()
	if c.run != nil {
		c.run.stop()
	}
	// What the final snapshot shows as the application: a dialed channel
	// (originated, or the ;1 half a dial created) is back in app_dial's
	// "(Outgoing Line)"; a channel that ran dialplan shows none.
	if c.dialed {
		c.dp.AppName, c.dp.AppData = "AppDial2", "(Outgoing Line)"
	} else {
		c.dp.AppName, c.dp.AppData = "", ""
	}
	ev := &ari.ChannelDestroyed{Cause: cause, CauseTxt: causeText(cause), Channel: c.snap()}
	if techCause != 0 {
		ev.TechCause = ptr(techCause)
	}
	w.emit(ev)
	for _, a := range w.appOrder {
		delete(a.chans, c.id)
	}
	delete(w.channels, c.id)
	for i, x := range w.chanOrder {
		if x == c {
			w.chanOrder = append(w.chanOrder[:i], w.chanOrder[i+1:]...)
			break
		}
	}
	if c.party != nil {
		c.party.noteGone(c, cause)
	}
	if o := c.other; o != nil {
		if !o.gone && !o.hangingUp {
			w.hangup(o, hangupRequest{cause: cause, hasCause: true}, cause, "peer")
		}
		if o.gone && (c.inuse || o.inuse) {
			c.inuse, o.inuse = false, false
			for range 2 {
				w.emit(&ari.DeviceStateChanged{DeviceState: ari.DeviceState{Name: c.device, State: ari.DeviceStateNotInuse}})
			}
		}
	}
}

// causeText is Asterisk's ast_cause2str for the Q.850 causes a call meets.
func causeText(cause int) string {
	switch cause {
	case 0:
		return "Unknown"
	case 1:
		return "Unallocated (unassigned) number"
	case 3:
		return "No route to destination"
	case 16:
		return "Normal Clearing"
	case 17:
		return "User busy"
	case 18:
		return "No user responding"
	case 19:
		return "User alerting, no answer"
	case 20:
		return "Subscriber absent"
	case 21:
		return "Call Rejected"
	case 26:
		return "Answered elsewhere"
	case 27:
		return "Destination out of order"
	case 28:
		return "Invalid number format"
	case 31:
		return "Normal, unspecified"
	case 34:
		return "Circuit/channel congestion"
	case 38:
		return "Network out of order"
	case 41:
		return "Temporary failure"
	case 58:
		return "Bearer capability not available"
	case 127:
		return "Interworking, unspecified"
	}
	return "Unknown"
}

// ---- the Stasis control queue ----

// ctlQueue is a channel's Stasis command queue. Asterisk runs ARI
// commands on the channel's own thread, one at a time: a playback, a
// recording or sent DTMF occupies the queue until it ends, and a
// synchronous command behind it (answer, setting a variable, joining a
// bridge) makes its HTTP request wait. rest_errors shows it: a
// POST /variable sent during a 27 s prompt is answered when the prompt ends.
type ctlQueue struct {
	q    []*command
	busy bool
	cur  *command
}

type command struct {
	// run starts the command; it calls done (at once or later) when the
	// command no longer occupies the queue.
	run func(done func())
	// drop is called instead when the channel leaves Stasis first.
	drop func()
}

func (q *ctlQueue) push(cmd *command) {
	q.q = append(q.q, cmd)
	q.dispatch()
}

func (q *ctlQueue) dispatch() {
	for !q.busy && len(q.q) > 0 {
		cmd := q.q[0]
		q.q = q.q[1:]
		q.busy = true
		q.cur = cmd
		finished := false
		cmd.run(func() {
			if finished {
				return
			}
			finished = true
			if q.cur == cmd {
				q.busy = false
				q.cur = nil
				q.dispatch()
			}
		})
	}
}

// flush drops every queued command; the running one is abandoned.
func (q *ctlQueue) flush() {
	pending := q.q
	q.q = nil
	q.busy = false
	q.cur = nil
	for _, cmd := range pending {
		if cmd.drop != nil {
			cmd.drop()
		}
	}
}

// syncCommand queues fn on c and waits, outside the world lock, until it
// ran. It returns fn's response, or gone if c left Stasis first.
func (s *Server) syncCommand(rq *request, c *channel, fn func() response, gone response) response {
	done := make(chan response, 1)
	c.ctl.push(&command{
		run:  func(finish func()) { done <- fn(); finish() },
		drop: func() { done <- gone },
	})
	s.unlock()
	defer s.lock()
	select {
	case r := <-done:
		return r
	case <-rq.ctx.Done():
		return fail(500, "Request canceled")
	case <-s.closeCtx.Done():
		return fail(500, "Asterisk is shutting down")
	}
}

// ---- the little dialplan ----

// App is one priority of a dialplan extension: an application and its
// argument string, as written in extensions.conf.
type App struct {
	// Name is the application ("Wait", "SendDTMF", "Hangup", ...).
	Name string
	// Data is its argument string ("3", "123*#,40,60", "16").
	Data string
}

// Extension is the priorities of one extension, from priority 1.
type Extension []App

// Context maps extension names to their priorities. Names starting with
// "_" are patterns (X, Z, N, [...], "." and "!" as in Asterisk).
type Context map[string]Extension

// Dialplan maps context names to contexts.
type Dialplan map[string]Context

// DefaultDialplan is the extensions.conf of the recording (see the README
// of the traces), minus the app_queue comparison: the entry contexts of
// PSTN, SIP and operator calls into Stasis(helpline,...), the caller
// simulators sim-*, and the outbound targets of context "operators".
func DefaultDialplan() Dialplan {
	return Dialplan{
		"from-pstn": {
			"800123456": pstnEntry,
			"_X.":       pstnEntry, // any other number, for tests
		},
		"from-sip": {
			"_X.": {
				{"NoOp", "SIP call from sipp"},
				{"Set", "CHANNEL(language)=${CALLER_LANG}"},
				{"Stasis", "helpline,inbound"},
				{"Hangup", ""},
			},
		},
		"from-operators": {
			"_X.": {
				{"Stasis", "helpline,operator,${CALLERID(num)}"},
				{"Hangup", ""},
			},
		},
		"sim-dtmf2":            {"s": {{"Wait", "3"}, {"SendDTMF", "2"}, {"Wait", "2"}, {"Hangup", "16"}}},
		"sim-hangup-early":     {"s": {{"Wait", "1.5"}, {"Hangup", "16"}}},
		"sim-silent":           {"s": {{"Wait", "40"}, {"Hangup", "16"}}},
		"sim-talk-then-hangup": {"s": {{"Wait", "25"}, {"Hangup", "16"}}},
		"sim-garbage": {"s": {
			{"Wait", "1.5"}, {"SendDTMF", "123*#ABCD0,40,60"}, {"Wait", "0.5"},
			{"SendDTMF", "9#*,0,40"}, {"Wait", "3"}, {"Hangup", "16"},
		}},
		"sim-record": {"s": {
			{"Wait", "3"}, {"Playback", "hello-world"}, {"Playback", "demo-thanks"},
			{"SendDTMF", "#"}, {"Wait", "3"}, {"Hangup", "16"},
		}},
		"sim-reconnect": {"s": {
			{"Wait", "3"}, {"SendDTMF", "5"}, {"Wait", "7"}, {"SendDTMF", "7"},
			{"Wait", "3"}, {"Hangup", "16"},
		}},
		"operators": {
			"op1001":      {{"NoOp", "operator op1001"}, {"Ringing", ""}, {"Wait", "3"}, {"Answer", ""}, {"Wait", "60"}, {"Hangup", "16"}},
			"op1003":      {{"NoOp", "operator op1003"}, {"Ringing", ""}, {"Wait", "2"}, {"Answer", ""}, {"Wait", "4"}, {"Hangup", "16"}},
			"busy":        {{"Busy", "10"}},
			"noanswer":    {{"Ringing", ""}, {"Wait", "120"}},
			"congestion":  {{"Congestion", "10"}},
			"reject":      {{"Hangup", "21"}},
			"unallocated": {{"Hangup", "1"}},
		},
	}
}

// pstnEntry is [from-pstn]: the simulated PSTN sets the caller id and the
// language before Stasis, as the recording's dialplan did.
var pstnEntry = Extension{
	{"NoOp", "PSTN call to the helpline"},
	{"Set", "CALLERID(num)=${CALLER_NUM}"},
	{"Set", "CALLERID(name)=${CALLER_NAME}"},
	{"Set", "CHANNEL(language)=${CALLER_LANG}"},
	{"Stasis", "helpline,inbound"},
	{"Hangup", ""},
}

// lookup finds the extension exten of context ctx, exact names first.
func (d Dialplan) lookup(ctx, exten string) (Extension, bool) {
	c, ok := d[ctx]
	if !ok {
		return nil, false
	}
	if e, ok := c[exten]; ok {
		return e, true
	}
	names := make([]string, 0, len(c))
	for name := range c {
		if strings.HasPrefix(name, "_") {
			names = append(names, name)
		}
	}
	sort.Strings(names) // deterministic when several patterns match
	for _, name := range names {
		if patternMatch(name[1:], exten) {
			return c[name], true
		}
	}
	return nil, false
}

// patternMatch implements Asterisk's extension patterns: X (0-9), Z (1-9),
// N (2-9), [a-z] sets, "." (one or more of anything), "!" (zero or more).
func patternMatch(pat, s string) bool {
	for i := 0; i < len(pat); i++ {
		switch ch := pat[i]; ch {
		case '.':
			return len(s) > 0
		case '!':
			return true
		case 'X', 'x', 'Z', 'z', 'N', 'n':
			if len(s) == 0 {
				return false
			}
			lo := map[byte]byte{'X': '0', 'x': '0', 'Z': '1', 'z': '1', 'N': '2', 'n': '2'}[ch]
			if s[0] < lo || s[0] > '9' {
				return false
			}
			s = s[1:]
		case '[':
			end := strings.IndexByte(pat[i:], ']')
			if end < 0 || len(s) == 0 {
				return false
			}
			set := pat[i+1 : i+end]
			if !inSet(set, s[0]) {
				return false
			}
			s = s[1:]
			i += end
		default:
			if len(s) == 0 || s[0] != ch {
				return false
			}
			s = s[1:]
		}
	}
	return len(s) == 0
}

func inSet(set string, b byte) bool {
	for i := 0; i < len(set); i++ {
		if i+2 < len(set) && set[i+1] == '-' {
			if b >= set[i] && b <= set[i+2] {
				return true
			}
			i += 2
			continue
		}
		if set[i] == b {
			return true
		}
	}
	return false
}

// dpRun is a dialplan execution on one channel.
type dpRun struct {
	w       *world
	c       *channel
	context string
	exten   string
	prio    int
	apps    Extension
	timer   *action
	vars    map[string]string // ${NAME} substitutions for the entry contexts
	stopped bool
	// waiting is set while Wait() runs: connected-line updates apply at
	// once then, and otherwise at the start of the next application.
	waiting bool
	pending []update
}

// update is a change queued for a channel's thread: apply changes the
// channel, announce raises its event.
type update struct{ apply, announce func() }

func (r *dpRun) stop() {
	r.stopped = true
	r.timer.cancel()
	if r.c.run == r {
		r.c.run = nil
	}
}

// startDialplan runs ctx/exten from priority 1 on c. It reports false when
// the extension does not exist.
func (w *world) startDialplan(c *channel, ctx, exten string, vars map[string]string) bool {
	apps, ok := w.s.cfg.Dialplan.lookup(ctx, exten)
	if !ok {
		return false
	}
	r := &dpRun{w: w, c: c, context: ctx, exten: exten, prio: 1, apps: apps, vars: vars}
	c.run = r
	r.exec()
	return true
}

func (r *dpRun) next(d time.Duration) {
	if r.stopped {
		return
	}
	r.prio++
	r.timer = r.w.s.after(d, r.exec)
}

// deferUpdate applies u when the channel's thread next services its
// frames: at once during Wait(), else when the next application starts,
// whose ChannelDialplan already shows the change and precedes u's event
// (queue_moh_then_bridge_operator: Wait(4) then ChannelCallerId).
func (r *dpRun) deferUpdate(u update) {
	if r.waiting {
		u.apply()
		u.announce()
		return
	}
	r.pending = append(r.pending, u)
}

func (r *dpRun) expand(s string) string {
	for {
		i := strings.Index(s, "${")
		if i < 0 {
			return s
		}
		j := strings.Index(s[i:], "}")
		if j < 0 {
			return s
		}
		name := s[i+2 : i+j]
		val, ok := r.vars[name]
		if !ok {
			switch name {
			case "CALLERID(num)":
				val = r.c.caller.Number
			case "CALLERID(name)":
				val = r.c.caller.Name
			default:
				val = r.c.vars[name]
			}
		}
		s = s[:i] + val + s[i+j+1:]
	}
}

func (r *dpRun) exec() {
	w, c := r.w, r.c
	if r.stopped || c.gone || c.hangingUp {
		return
	}
	r.waiting = false
	if r.prio > len(r.apps) {
		// Falling off the end of the extension hangs the channel up.
		r.stop()
		w.selfHangup(c, 16)
		return
	}
	a := r.apps[r.prio-1]
	data := r.expand(a.Data)
	for _, u := range r.pending {
		u.apply()
	}
	c.dp = ari.DialplanCEP{Context: r.context, Exten: r.exten, Priority: int64(r.prio), AppName: a.Name, AppData: data}
	w.emit(&ari.ChannelDialplan{Channel: c.snap(), DialplanApp: a.Name, DialplanAppData: data})
	for _, u := range r.pending {
		u.announce()
	}
	r.pending = nil
	switch a.Name {
	case "NoOp", "Verbose", "Log":
		r.next(0)
	case "Set":
		name, val, _ := strings.Cut(data, "=")
		w.setChannelValue(c, name, val)
		r.next(0)
	case "Answer":
		w.answer(c)
		r.next(500 * time.Millisecond)
	case "Ringing":
		w.indicateRinging(c)
		r.next(0)
	case "Wait":
		r.waiting = true
		r.next(seconds(data))
	case "Hangup":
		cause := atoiDefault(data, 16)
		r.stop()
		w.selfHangup(c, cause)
	case "Busy":
		r.stop()
		w.localBusy(c, 17)
	case "Congestion":
		r.stop()
		w.localBusy(c, 34)
	case "SendDTMF":
		r.next(w.dialplanDTMF(c, data))
	case "Playback":
		d, ok := w.s.soundLength(strings.SplitN(data, ",", 2)[0])
		if !ok {
			r.next(0)
			return
		}
		w.talkInto(c, d)
		r.next(d)
	case "Stasis":
		parts := strings.Split(data, ",")
		if !w.enterStasis(c, parts[0], parts[1:]) {
			r.next(0)
		}
		// In Stasis the dialplan pauses; continue or hangup resumes or ends it.
	default:
		w.s.gap(Gap{Detail: fmt.Sprintf("dialplan application %s(%s) at %s,%s,%d not emulated", a.Name, data, r.context, r.exten, r.prio)})
		r.stop()
		w.selfHangup(c, 16)
	}
}

func seconds(s string) time.Duration {
	var f float64
	if _, err := fmt.Sscanf(strings.TrimSpace(s), "%g", &f); err != nil || f < 0 {
		return 0
	}
	return time.Duration(f * float64(time.Second))
}

func atoiDefault(s string, def int) int {
	var n int
	if _, err := fmt.Sscanf(strings.TrimSpace(s), "%d", &n); err != nil {
		return def
	}
	return n
}

// setChannelValue is Set(NAME=VALUE) and POST /variable: dialplan
// functions change the channel, plain names set a variable.
func (w *world) setChannelValue(c *channel, name, val string) {
	switch strings.ToUpper(name) {
	case "CALLERID(NUM)":
		c.caller.Number = val
		w.callerIDEvent(c)
	case "CALLERID(NAME)":
		c.caller.Name = val
		w.callerIDEvent(c)
	case "CALLERID(ALL)":
		c.caller = parseCallerID(val)
		w.callerIDEvent(c)
	case "CHANNEL(LANGUAGE)":
		c.language = val
		if c.other != nil {
			c.other.language = val
		}
	default:
		w.setVar(c, name, val)
	}
}

// parseCallerID reads "Name <number>" or a bare number.
func parseCallerID(s string) ari.CallerID {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '<'); i >= 0 {
		if j := strings.IndexByte(s[i:], '>'); j > 0 {
			return ari.CallerID{Name: strings.Trim(strings.TrimSpace(s[:i]), `"`), Number: s[i+1 : i+j]}
		}
	}
	return ari.CallerID{Number: s}
}

// selfHangup is the channel's own thread hanging up (Hangup(), the end of
// the dialplan): a soft ChannelHangupRequest with the cause.
func (w *world) selfHangup(c *channel, cause int) {
	if c.gone || c.hangingUp {
		return
	}
	if c.kind == kindLocal && c.half == 2 && c.other != nil && c.other.orig != nil && c.other.state != ari.ChannelStateUp {
		// A Local target ending before it answered: the originating half
		// sees the cause, the dialing half is cleared as unanswered.
		w.localFailBeforeAnswer(c, cause)
		return
	}
	by := string(ByNetwork)
	if p := c.party; p != nil && p.side == c && p.side != p.ch {
		by = string(ByCaller) // the caller's script, or the called Local target
	}
	w.hangup(c, hangupRequest{cause: cause, hasCause: true, soft: true}, cause, by)
}
