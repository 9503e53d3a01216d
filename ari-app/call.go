package ariapp

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/helpline-it/helpline/ari"
	"github.com/helpline-it/helpline/ivr"
)

// settleWait bounds how long a cancelled request waits, on the app's
// clock, for the event confirming it (PlaybackFinished after DELETE
// /playbacks, ChannelDestroyed after cancelling a ringing leg). The event
// normally follows at once; the bound only keeps a lost event from
// holding the flow.
const settleWait = 5 * time.Second

// Call is a channel in the app's Stasis application driven through ARI:
// an inbound caller (it implements ivr.Call) or an operator's softphone
// that dialled in (handed to the OperatorHandler).
type Call struct{ *channel }

// Leg is an operator's leg originated by Call.Originate; it implements
// ivr.Leg.
type Leg struct{ *channel }

var (
	_ ivr.Call = (*Call)(nil)
	_ ivr.Leg  = (*Leg)(nil)
)

// Channel is the channel as it entered the app (its StasisStart, or GET
// /channels/{id} for an adopted one). Its Caller.Number is a raw number:
// hand it on, never log or store it.
func (c *Call) Channel() ari.Channel {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.snap
}

// Endpoint is the endpoint the channel comes from, from its name:
// "PJSIP/op1001" for "PJSIP/op1001-0000000c". An operator dialling in is
// known by it, never by the caller ID her phone sends.
func (c *Call) Endpoint() string { return endpointOf(c.Channel().Name) }

// Dialled is the extension the channel dialled to reach the app (a
// feature code such as "*11", or the feature line).
func (c *Call) Dialled() string { return c.Channel().Dialplan.Exten }

// endpointOf strips a channel name's instance suffix ("-0000000c", and
// ";2" on Local channels).
func endpointOf(name string) string {
	if i := strings.LastIndexByte(name, ';'); i >= 0 {
		name = name[:i]
	}
	if i := strings.LastIndexByte(name, '-'); i > strings.IndexByte(name, '/') {
		name = name[:i]
	}
	return name
}

// Hang-up retries: a DELETE /channels/{id} that Asterisk refuses (5xx)
// or that gets no answer is tried again, hangupAttempts times in all,
// waiting hangupBackoff, then twice that, and so on, on the app's clock
// (about 1.5 s in all): a caller is never left on a dead line because one
// request failed.
const (
	hangupAttempts = 6
	hangupBackoff  = 50 * time.Millisecond
)

// Hangup implements ivr.Channel: DELETE /channels/{id} with the reason of
// cause (busy, congestion, normal, …; other causes as reason_code). It
// never answers first, so an unanswered caller rejected with CauseBusy
// hears busy tone. A channel already gone (404) gives nil.
//
// A refusal (5xx) or a request without an answer is retried with a short
// bounded backoff; if Asterisk still refuses, the failure is logged at
// error level, counted (helpline_ariapp_hangups_refused_total) and
// returned. After an accepted DELETE, Hangup waits (bounded) until the
// channel's end is seen, so the call is over only once the channel is.
func (c *channel) Hangup(ctx context.Context, cause int) error {
	c.mu.Lock()
	if c.isDone {
		c.mu.Unlock()
		return nil
	}
	c.requested = cause
	c.hangupSent = true
	c.mu.Unlock()
	wait := hangupBackoff
	var err error
	for attempt := 1; ; attempt++ {
		err = c.deleteOnce(ctx, cause)
		if err == nil || !retryableHangup(err) || c.hungUp() {
			break
		}
		if attempt == hangupAttempts {
			c.app.m.hangupsRefused.Inc()
			c.log.Error().Err(err).Int("attempts", attempt).
				Msg("Asterisk refused every hang-up of the channel: the caller may still be on the line")
			return c.result("hangup", err)
		}
		c.app.m.failed.WithLabelValues("hangup_retry").Inc()
		c.log.Warn().Err(err).Int("attempt", attempt).Dur("retry_in", wait).Msg("hang-up refused; retrying")
		t := c.app.clock.NewTimer(wait)
		select {
		case <-t.Chan():
		case <-c.done:
		case <-ctx.Done():
		}
		t.Stop()
		if ctx.Err() != nil {
			return c.result("hangup", errors.Join(err, ctx.Err()))
		}
		wait *= 2
	}
	switch {
	case err == nil:
		c.settle()
		return nil
	case errors.Is(err, ari.ErrNotFound):
		// Already gone: the hang-up is done.
		c.hangup(cause, "")
		return nil
	}
	return c.result("hangup", err)
}

// deleteOnce sends one DELETE /channels/{id}.
func (c *channel) deleteOnce(ctx context.Context, cause int) error {
	rctx, cancel := c.app.requestContext(ctx)
	defer cancel()
	if reason, ok := hangupReason(cause); ok {
		return c.app.client.Channels().Hangup(rctx, c.id, reason)
	}
	return c.app.client.Channels().HangupWithCode(rctx, c.id, cause)
}

// retryableHangup: a refusal by Asterisk itself (5xx) or no answer at all
// (a transport error) may pass on the next try; 4xx will not.
func retryableHangup(err error) bool {
	if errors.Is(err, ari.ErrServer) {
		return true
	}
	var te *ari.TransportError
	return errors.As(err, &te)
}

// settle waits, bounded by settleWait on the app's clock, for the end of
// a channel whose DELETE Asterisk accepted (ChannelHangupRequest,
// StasisEnd or ChannelDestroyed). If none comes, Asterisk is asked: a
// channel it no longer has is over.
func (c *channel) settle() {
	if c.hungUp() {
		return
	}
	t := c.app.clock.NewTimer(settleWait)
	defer t.Stop()
	select {
	case <-c.done:
		return
	case <-c.ended:
	case <-t.Chan():
	}
	if c.hungUp() {
		return
	}
	ctx, cancel := c.app.requestContext(context.Background())
	defer cancel()
	_, err := c.app.client.Channels().Get(ctx, c.id)
	if errors.Is(err, ari.ErrNotFound) {
		c.mu.Lock()
		cause := c.requested
		c.mu.Unlock()
		if cause == ivr.CauseUnknown {
			cause = ivr.CauseNormal
		}
		c.hangup(cause, "")
		return
	}
	c.app.m.hangupsRefused.Inc()
	c.log.Error().AnErr("get", err).Msg("hang-up accepted but the channel is still there and its end was not seen")
}

// result maps a REST error on the channel: gone (404/409, or the channel
// hung up meanwhile) wraps ivr.ErrHangup; anything else is counted and
// returned wrapped.
func (c *channel) result(op string, err error) error {
	if err == nil {
		return nil
	}
	if gone(err) || c.hungUp() {
		if op == "hangup" && c.hungUp() {
			return nil
		}
		return hangupError(op, c.id, err)
	}
	c.app.m.failed.WithLabelValues(op).Inc()
	return fmt.Errorf("ariapp: %s %s: %w", op, c.id, err)
}

// Ring implements ivr.Call (POST /channels/{id}/ring: SIP 180).
func (c *Call) Ring(ctx context.Context) error {
	rctx, cancel := c.app.requestContext(ctx)
	defer cancel()
	return c.result("ring", c.app.client.Channels().Ring(rctx, c.id))
}

// Answer implements ivr.Call.
func (c *Call) Answer(ctx context.Context) error {
	rctx, cancel := c.app.requestContext(ctx)
	defer cancel()
	return c.result("answer", c.app.client.Channels().Answer(rctx, c.id))
}

// StartMOH implements ivr.Call.
func (c *Call) StartMOH(ctx context.Context, class string) error {
	rctx, cancel := c.app.requestContext(ctx)
	defer cancel()
	return c.result("moh_start", c.app.client.Channels().StartMOH(rctx, c.id, class))
}

// StopMOH implements ivr.Call.
func (c *Call) StopMOH(ctx context.Context) error {
	rctx, cancel := c.app.requestContext(ctx)
	defer cancel()
	return c.result("moh_stop", c.app.client.Channels().StopMOH(rctx, c.id))
}

// DTMF implements ivr.Call and ivr.Leg: every ChannelDtmfReceived, in
// order, from a buffer of 32 keys; when the flow falls behind, new keys
// are dropped and counted (helpline_ariapp_dtmf_dropped_total).
func (c *channel) DTMF() <-chan ivr.Digit { return c.dtmf }

// Play implements ivr.Call: one playback of every medium with an id of
// ours, waited for until its PlaybackFinished. A playback that "failed"
// on a channel that hung up (Asterisk sends ChannelHangupRequest, then
// PlaybackFinished failed, then StasisEnd) is ErrHangup; one that failed
// on a live channel is a missing sound and an error. Cancelling ctx stops
// it with DELETE /playbacks/{id}.
func (c *Call) Play(ctx context.Context, lang string, media ...ivr.Media) error {
	if len(media) == 0 {
		return nil
	}
	if c.hungUp() {
		return hangupError("play", c.id, nil)
	}
	uris := make([]string, len(media))
	for i, m := range media {
		uris[i] = string(m)
	}
	id := c.app.newID("pb")
	w := c.watch("pb:" + id)
	defer c.unwatch(w)
	rctx, cancel := c.app.requestContext(ctx)
	_, err := c.app.client.Channels().Play(rctx, c.id, ari.PlayParams{Media: uris, Lang: lang, PlaybackID: id})
	cancel()
	if err != nil {
		return c.result("play", err)
	}
	select {
	case ev := <-w.ch:
		return c.played(id, ev)
	case <-c.done:
		return hangupError("play", c.id, nil)
	case <-c.ended:
		return hangupError("play", c.id, nil)
	case <-ctx.Done():
		c.stopPlayback(id, w)
		return ctx.Err()
	}
}

func (c *Call) played(id string, ev ari.Event) error {
	pf, _ := ev.(*ari.PlaybackFinished)
	if pf == nil || pf.Playback.State != ari.PlaybackStateFailed {
		return nil
	}
	if c.hungUp() {
		return hangupError("play", c.id, nil)
	}
	c.app.m.failed.WithLabelValues("play").Inc()
	return fmt.Errorf("ariapp: play %s: playback %s of %s failed (missing sound?)", c.id, id, pf.Playback.MediaURI)
}

// stopPlayback stops a playback whose Play was cancelled and waits for
// its PlaybackFinished (bounded), so the next request on the channel does
// not queue behind it.
func (c *Call) stopPlayback(id string, w *waiter) {
	ctx, cancel := c.app.requestContext(context.Background())
	err := c.app.client.Playbacks().Stop(ctx, id)
	cancel()
	if err != nil {
		if !errors.Is(err, ari.ErrNotFound) && !c.hungUp() {
			c.app.m.failed.WithLabelValues("play_stop").Inc()
			c.log.Warn().Err(err).Str("playback", id).Msg("stopping a playback failed")
		}
		return
	}
	t := c.app.clock.NewTimer(settleWait)
	defer t.Stop()
	select {
	case <-w.ch:
	case <-c.done:
	case <-c.ended:
	case <-t.Chan():
		c.log.Warn().Str("playback", id).Msg("no PlaybackFinished after stopping a playback")
	}
}

// Record implements ivr.Call: POST /channels/{id}/record, then wait for
// RecordingFinished (kept) or RecordingFailed. A hang-up during the
// recording keeps it: Asterisk finishes the file and the recording is
// returned with a nil error. The name is the flow's (ivr.VoicemailName);
// an existing recording of that name is appended to, never overwritten,
// so no message is ever lost to a retry.
func (c *Call) Record(ctx context.Context, req ivr.RecordRequest) (ivr.Recording, error) {
	if c.hungUp() {
		return ivr.Recording{}, hangupError("record", c.id, nil)
	}
	w := c.watch("rec:" + req.Name)
	defer c.unwatch(w)
	p := ari.RecordParams{
		Name:               req.Name,
		Format:             req.Format,
		MaxDurationSeconds: timeoutSeconds(req.MaxDuration),
		IfExists:           "append",
		Beep:               req.Beep,
		TerminateOn:        terminateOn(req.TerminateOn),
	}
	rctx, cancel := c.app.requestContext(ctx)
	_, err := c.app.client.Channels().Record(rctx, c.id, p)
	cancel()
	if err != nil {
		// 409 on /record is also "a live recording has that name":
		// only a channel that is gone is a hang-up.
		if errors.Is(err, ari.ErrConflict) && !c.hungUp() {
			c.app.m.failed.WithLabelValues("record").Inc()
			return ivr.Recording{}, fmt.Errorf("ariapp: record %s as %q: %w", c.id, req.Name, err)
		}
		return ivr.Recording{}, c.result("record", err)
	}
	done := c.done
	ctxDone := ctx.Done()
	for {
		select {
		case ev := <-w.ch:
			return c.recorded(req.Name, ev)
		case <-done:
			// The caller hung up: Asterisk still finishes the file and
			// says so; keep waiting for it.
			done = nil
		case <-c.ended:
			// The final event came before the end, in the same stream:
			// prefer it (it has the duration) when select picked this.
			select {
			case ev := <-w.ch:
				return c.recorded(req.Name, ev)
			default:
			}
			return c.storedRecording(req.Name)
		case <-ctxDone:
			ctxDone = nil
			sctx, cancel := c.app.requestContext(context.Background())
			err := c.app.client.Recordings().Stop(sctx, req.Name)
			cancel()
			if err != nil {
				rec, serr := c.storedRecording(req.Name)
				return rec, errors.Join(ctx.Err(), serr)
			}
			t := c.app.clock.NewTimer(settleWait)
			select {
			case ev := <-w.ch:
				t.Stop()
				rec, err := c.recorded(req.Name, ev)
				return rec, errors.Join(ctx.Err(), err)
			case <-c.ended:
			case <-t.Chan():
			}
			t.Stop()
			rec, serr := c.storedRecording(req.Name)
			return rec, errors.Join(ctx.Err(), serr)
		}
	}
}

func (c *Call) recorded(name string, ev ari.Event) (ivr.Recording, error) {
	switch e := ev.(type) {
	case *ari.RecordingFinished:
		rec := ivr.Recording{Name: e.Recording.Name}
		if rec.Name == "" {
			rec.Name = name
		}
		if e.Recording.Duration != nil {
			rec.Duration = time.Duration(*e.Recording.Duration) * time.Second
		}
		return rec, nil
	case *ari.RecordingFailed:
		c.app.m.failed.WithLabelValues("record").Inc()
		err := fmt.Errorf("ariapp: recording %q of %s failed: %s", name, c.id, e.Recording.Cause)
		if c.hungUp() {
			return ivr.Recording{}, hangupError("record", c.id, err)
		}
		return ivr.Recording{}, err
	}
	return ivr.Recording{}, fmt.Errorf("ariapp: recording %q of %s: unexpected %s", name, c.id, ev.EventType())
}

// storedRecording is the fallback when the recording's final event cannot
// come any more: the file Asterisk kept, if any.
func (c *Call) storedRecording(name string) (ivr.Recording, error) {
	ctx, cancel := c.app.requestContext(context.Background())
	defer cancel()
	if _, err := c.app.client.Recordings().Stored(ctx, name); err != nil {
		return ivr.Recording{}, hangupError("record", c.id, err)
	}
	return ivr.Recording{Name: name}, nil
}

// Originate implements ivr.Call. The leg gets an id of ours and is
// subscribed before POST /channels, so none of its events is missed:
// StasisStart (args operator,<operator>,<call id>) means answered;
// ChannelDestroyed before it means failed, with its cause (a Local
// channel's cause 0 is read from the Dial dialstatus). The operator's
// phone shows req.Label, never the caller's number. 500 "Allocation
// failed" (phone not registered, unknown endpoint) and 400 (a malformed
// endpoint) are OriginateErrors with FailFailed. Cancelling ctx hangs the
// leg up and waits for it to go.
func (c *Call) Originate(ctx context.Context, req ivr.OriginateRequest) (ivr.Leg, error) {
	a := c.app
	if c.hungUp() {
		return nil, hangupError("originate", c.id, nil)
	}
	if strings.Contains(req.Operator, ",") {
		return nil, fmt.Errorf("ariapp: originate for %s: operator id %q contains a comma (it goes in appArgs)", c.id, req.Operator)
	}
	legID := a.newID("leg")
	leg := a.newChannel(legID, kindLeg)
	leg.log = leg.log.With().Str("call", c.id).Str("operator", req.Operator).Logger()
	sub, err := a.events.Subscribe(legID)
	if err != nil {
		return nil, fmt.Errorf("ariapp: originate for %s: subscribe: %w", c.id, err)
	}
	leg.start(sub)
	a.remember(leg)
	c.addLeg(leg)
	drop := func() {
		c.dropLeg(leg)
		leg.release()
	}
	rctx, cancel := a.requestContext(ctx)
	_, err = a.client.Channels().Originate(rctx, ari.OriginateParams{
		Endpoint:  req.Endpoint,
		App:       a.name,
		AppArgs:   "operator," + req.Operator + "," + c.id,
		CallerID:  callerIDLabel(req.Label),
		Timeout:   timeoutSeconds(req.Timeout),
		ChannelID: legID,
	})
	cancel()
	if err != nil {
		drop()
		var ae *ari.Error
		if errors.As(err, &ae) && (ae.Status == 400 || strings.Contains(ae.Message, "Allocation failed")) {
			a.m.originates.WithLabelValues(string(ivr.FailFailed)).Inc()
			return nil, &ivr.OriginateError{Endpoint: req.Endpoint, Cause: ivr.CauseUnknown, Err: err}
		}
		a.m.originates.WithLabelValues("error").Inc()
		return nil, fmt.Errorf("ariapp: originate %s for %s: %w", req.Endpoint, c.id, err)
	}
	leg.mu.Lock()
	leg.created = true
	leg.mu.Unlock()
	select {
	case <-ctx.Done():
		// Cancelled while the request was on its way: the leg exists.
		c.cancelLeg(leg)
		drop()
		a.m.originates.WithLabelValues("cancelled").Inc()
		return nil, ctx.Err()
	default:
	}
	select {
	case <-leg.answered:
	case <-leg.ended:
		if !leg.wasAnswered() {
			defer drop()
			return nil, c.legFailed(leg, req)
		}
	case <-ctx.Done():
		c.cancelLeg(leg)
		drop()
		a.m.originates.WithLabelValues("cancelled").Inc()
		return nil, ctx.Err()
	}
	a.m.originates.WithLabelValues("answered").Inc()
	return &Leg{leg}, nil
}

// legFailed is the error of a leg that ended before answering.
func (c *Call) legFailed(leg *channel, req ivr.OriginateRequest) error {
	leg.mu.Lock()
	destroyed, cause, dial, note := leg.destroyed, leg.destroyCause, leg.dialStatus, leg.note
	leg.mu.Unlock()
	if !destroyed {
		// The subscription ended without ChannelDestroyed (the event
		// stream closed): we do not know; make sure it does not ring on.
		c.cancelLeg(leg)
		c.app.m.originates.WithLabelValues("error").Inc()
		return fmt.Errorf("ariapp: originate %s for %s: event stream ended before the leg did", req.Endpoint, c.id)
	}
	if note != "" {
		// Gone while the event stream was down: we do not know how the
		// ring ended (an answer into a Stasis app without a socket fails
		// too), so it is not the operator's failure: no auto-pause.
		c.app.m.originates.WithLabelValues("error").Inc()
		return fmt.Errorf("ariapp: originate %s for %s: leg %s %s", req.Endpoint, c.id, leg.id, note)
	}
	oe := &ivr.OriginateError{Endpoint: req.Endpoint, Cause: cause}
	c.app.m.originates.WithLabelValues(string(oe.Failure())).Inc()
	leg.log.Debug().Int("cause", cause).Str("dialstatus", dial).Msg("leg failed")
	return oe
}

// cancelLeg hangs a leg up (ringing or answered) and waits, bounded, for
// its ChannelDestroyed: "no leg is left behind".
func (c *Call) cancelLeg(leg *channel) {
	leg.mu.Lock()
	leg.requested = ivr.CauseNormal
	leg.hangupSent = true
	leg.mu.Unlock()
	for attempt := 1; attempt <= 2; attempt++ {
		ctx, cancel := c.app.requestContext(context.Background())
		err := c.app.client.Channels().Hangup(ctx, leg.id, ari.HangupNormal)
		cancel()
		if err == nil || errors.Is(err, ari.ErrNotFound) {
			break
		}
		c.app.m.failed.WithLabelValues("leg_cancel").Inc()
		leg.log.Error().Err(err).Int("attempt", attempt).Msg("hanging up a ringing leg failed")
	}
	t := c.app.clock.NewTimer(settleWait)
	defer t.Stop()
	select {
	case <-leg.ended:
	case <-t.Chan():
		leg.log.Warn().Msg("no ChannelDestroyed after cancelling the leg")
	}
}

// Bridge implements ivr.Call: POST /bridges (mixing, with our id), then
// addChannel with both, and wait for both ChannelEnteredBridge. On any
// failure the bridge is destroyed again; the error wraps ivr.ErrHangup
// only when the caller is the one gone.
func (c *Call) Bridge(ctx context.Context, l ivr.Leg) (ivr.Bridge, error) {
	leg, ok := l.(*Leg)
	if !ok || leg == nil {
		return nil, fmt.Errorf("ariapp: bridge %s: leg %T was not originated by this app", c.id, l)
	}
	if c.hungUp() {
		return nil, hangupError("bridge", c.id, nil)
	}
	a := c.app
	id := a.newID("br")
	wc := c.watch("br:" + id)
	defer c.unwatch(wc)
	wl := leg.watch("br:" + id)
	defer leg.unwatch(wl)
	rctx, cancel := a.requestContext(ctx)
	defer cancel()
	if _, err := a.client.Bridges().Create(rctx, ari.BridgeParams{Type: ari.BridgeTypeMixing, ID: id, Name: c.id}); err != nil {
		return nil, c.bridgeError(leg, err)
	}
	br := &Bridge{app: a, id: id}
	fail := func(err error) (ivr.Bridge, error) {
		_ = br.Destroy(context.WithoutCancel(ctx))
		return nil, err
	}
	if err := a.client.Bridges().AddChannel(rctx, id, []string{c.id, leg.id}, ari.AddChannelParams{}); err != nil {
		return fail(c.bridgeError(leg, err))
	}
	callIn, legIn := wc.ch, wl.ch
	for callIn != nil || legIn != nil {
		select {
		case <-callIn:
			callIn = nil
		case <-legIn:
			legIn = nil
		case <-c.done:
			return fail(hangupError("bridge", c.id, nil))
		case <-leg.done:
			return fail(fmt.Errorf("ariapp: bridge %s: the operator's leg %s hung up", c.id, leg.id))
		case <-ctx.Done():
			return fail(ctx.Err())
		}
	}
	return br, nil
}

func (c *Call) bridgeError(leg *Leg, err error) error {
	switch {
	case c.hungUp():
		return hangupError("bridge", c.id, err)
	case leg.hungUp():
		return fmt.Errorf("ariapp: bridge %s: the operator's leg %s hung up: %w", c.id, leg.id, err)
	}
	c.app.m.failed.WithLabelValues("bridge").Inc()
	return fmt.Errorf("ariapp: bridge %s with %s: %w", c.id, leg.id, err)
}

// Bridge is a mixing bridge of a call and its legs; it implements
// ivr.Bridge.
type Bridge struct {
	app  *App
	id   string
	once sync.Once
	err  error
}

// ID implements ivr.Bridge.
func (b *Bridge) ID() string { return b.id }

// Destroy implements ivr.Bridge: DELETE /bridges/{id}, once; a bridge
// already gone is not an error. The channels in it stay up.
func (b *Bridge) Destroy(ctx context.Context) error {
	b.once.Do(func() {
		rctx, cancel := b.app.requestContext(ctx)
		defer cancel()
		err := b.app.client.Bridges().Destroy(rctx, b.id)
		if err != nil && !errors.Is(err, ari.ErrNotFound) {
			b.app.m.failed.WithLabelValues("bridge_destroy").Inc()
			b.err = fmt.Errorf("ariapp: destroy bridge %s: %w", b.id, err)
		}
	})
	return b.err
}

// ours returns the app's channel behind an ivr.Channel.
func ours(ch ivr.Channel) (*channel, bool) {
	switch c := ch.(type) {
	case *Call:
		return c.channel, c != nil && c.channel != nil
	case *Leg:
		return c.channel, c != nil && c.channel != nil
	}
	return nil, false
}

// Add implements ivr.Bridge: POST /bridges/{id}/addChannel, then wait for
// its ChannelEnteredBridge. A channel that hung up (or is not in Stasis
// any more: 400, 422) gives an error wrapping ivr.ErrHangup.
func (b *Bridge) Add(ctx context.Context, ch ivr.Channel) error {
	c, ok := ours(ch)
	if !ok {
		return fmt.Errorf("ariapp: bridge %s: channel %T is not one of this app's", b.id, ch)
	}
	if c.hungUp() {
		return hangupError("bridge_add", c.id, nil)
	}
	w := c.watch("br:" + b.id)
	defer c.unwatch(w)
	rctx, cancel := b.app.requestContext(ctx)
	err := b.app.client.Bridges().AddChannel(rctx, b.id, []string{c.id}, ari.AddChannelParams{})
	cancel()
	if err != nil {
		if c.hungUp() || errors.Is(err, ari.ErrBadRequest) || errors.Is(err, ari.ErrUnprocessable) {
			return hangupError("bridge_add", c.id, err)
		}
		b.app.m.failed.WithLabelValues("bridge_add").Inc()
		return fmt.Errorf("ariapp: add %s to bridge %s: %w", c.id, b.id, err)
	}
	select {
	case <-w.ch:
		return nil
	case <-c.done:
		return hangupError("bridge_add", c.id, nil)
	case <-c.ended:
		return hangupError("bridge_add", c.id, nil)
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Remove implements ivr.Bridge: POST /bridges/{id}/removeChannel. A
// channel not in the bridge (422), gone (400, 404) or hung up is not an
// error; the channel stays up.
func (b *Bridge) Remove(ctx context.Context, ch ivr.Channel) error {
	c, ok := ours(ch)
	if !ok {
		return fmt.Errorf("ariapp: bridge %s: channel %T is not one of this app's", b.id, ch)
	}
	if c.hungUp() {
		return nil
	}
	rctx, cancel := b.app.requestContext(ctx)
	defer cancel()
	err := b.app.client.Bridges().RemoveChannel(rctx, b.id, c.id)
	switch {
	case err == nil, c.hungUp(), errors.Is(err, ari.ErrUnprocessable), errors.Is(err, ari.ErrBadRequest), errors.Is(err, ari.ErrNotFound):
		return nil
	}
	b.app.m.failed.WithLabelValues("bridge_remove").Inc()
	return fmt.Errorf("ariapp: remove %s from bridge %s: %w", c.id, b.id, err)
}
