package ariapp

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/helpline-it/helpline/ari"
	"github.com/helpline-it/helpline/cdr"
	"github.com/helpline-it/helpline/ivr"
)

// MarkVariable is the channel variable that holds the flow's ivr.Mark on
// a caller's channel (the start of a talk, the choice of voicemail): it
// lives as long as the channel, so a new process of the app reads it back
// when it re-adopts the call. It holds no number.
const MarkVariable = "HELPLINE_MARK"

// Readopter re-adopts a call a previous process of the app left in any
// state (the queue, a talk, a recording, the menu); *ivr.Flow implements
// it. When the Flow has it, Orphan.Resume uses it rather than Resumer.
type Readopter interface {
	Readopt(ctx context.Context, call ivr.Call, callerNumber string, a ivr.Adoption) (cdr.Record, error)
}

var (
	_ ivr.Marker           = (*Call)(nil)
	_ ivr.RecordingAwaiter = (*Call)(nil)
)

// SetMark implements ivr.Marker: POST /channels/{id}/variable with
// MarkVariable. On Asterisk it runs on the channel's own queue: behind a
// playback or a recording it waits for its end, which is why ivr writes
// its marks between them.
func (c *Call) SetMark(ctx context.Context, m ivr.Mark) error {
	rctx, cancel := c.app.requestContext(ctx)
	defer cancel()
	return c.result("mark", c.app.client.Channels().SetVariable(rctx, c.id, MarkVariable, m.Encode()))
}

// readMark reads the Mark a previous process left on the channel: the
// zero Mark when there is none or it is unreadable (logged).
func (c *Call) readMark(ctx context.Context) ivr.Mark {
	rctx, cancel := c.app.requestContext(ctx)
	defer cancel()
	v, err := c.app.client.Channels().GetVariable(rctx, c.id, MarkVariable)
	if err != nil {
		if !errors.Is(err, ari.ErrNotFound) {
			c.log.Warn().Err(err).Msg("cannot read the call's mark; re-adopting without it")
		}
		return ivr.Mark{}
	}
	if v == "" {
		return ivr.Mark{}
	}
	m, err := ivr.ParseMark(v)
	if err != nil {
		c.log.Warn().Err(err).Msg("the call's mark is unreadable; re-adopting without it")
		return ivr.Mark{}
	}
	return m
}

// AwaitRecording implements ivr.RecordingAwaiter: the live recording a
// previous process started is followed to its RecordingFinished (the
// waiter is registered before GET /recordings/live/{name}, so its end
// cannot slip between); one already over is read from the stored ones.
func (c *Call) AwaitRecording(ctx context.Context, name string) (ivr.Recording, error) {
	w := c.watch("rec:" + name)
	defer c.unwatch(w)
	rctx, cancel := c.app.requestContext(ctx)
	_, err := c.app.client.Recordings().Live(rctx, name)
	cancel()
	if errors.Is(err, ari.ErrNotFound) {
		return c.storedOrNone(name)
	}
	if err != nil {
		return ivr.Recording{}, fmt.Errorf("ariapp: live recording %q of %s: %w", name, c.id, err)
	}
	for {
		select {
		case ev := <-w.ch:
			return c.recorded(name, ev)
		case <-c.ended:
			return c.storedRecording(name)
		case <-ctx.Done():
			// Left running: the next process adopts it.
			return ivr.Recording{}, ctx.Err()
		}
	}
}

func (c *Call) storedOrNone(name string) (ivr.Recording, error) {
	ctx, cancel := c.app.requestContext(context.Background())
	defer cancel()
	_, err := c.app.client.Recordings().Stored(ctx, name)
	switch {
	case err == nil:
		return ivr.Recording{Name: name}, nil
	case errors.Is(err, ari.ErrNotFound):
		return ivr.Recording{}, fmt.Errorf("ariapp: recording %q of %s: %w", name, c.id, ivr.ErrNoRecording)
	}
	return ivr.Recording{}, fmt.Errorf("ariapp: stored recording %q of %s: %w", name, c.id, err)
}

// adoption gathers what survives of a re-adopted caller: its mark, its
// operator's leg (legs, from the reconciliation) and the bridge holding
// them. The legs are taken over as this call's.
func (c *Call) adoption(ctx context.Context, snap ari.Channel, legs []ari.Channel) ivr.Adoption {
	a := ivr.Adoption{
		Arrived:  snap.CreationTime.Time,
		Answered: snap.State == ari.ChannelStateUp,
		Mark:     c.readMark(ctx),
	}
	if a.Arrived.IsZero() {
		a.Arrived = c.app.clock.Now()
	}
	if a.Answered && a.Mark.IsZero() {
		a.Mark = c.voicemailStarted(ctx)
	}
	var taken []*channel
	for _, l := range legs {
		leg, err := c.adoptLeg(l)
		if err != nil {
			c.log.Warn().Err(err).Str("leg", l.ID).Msg("cannot take the operator's leg over")
			continue
		}
		taken = append(taken, leg)
	}
	if len(taken) == 0 && a.Mark.Stage != ivr.StageTalk {
		return a
	}
	rctx, cancel := c.app.requestContext(ctx)
	defer cancel()
	bridges, err := c.app.client.Bridges().List(rctx)
	if err != nil {
		c.log.Warn().Err(err).Msg("cannot list bridges to find the call's talk")
	}
	for _, b := range bridges {
		if !slices.Contains(b.Channels, c.id) {
			continue
		}
		a.Bridge = &Bridge{app: c.app, id: b.ID}
		a.BridgedAt = b.CreationTime.Time
		for _, leg := range taken {
			if slices.Contains(b.Channels, leg.id) {
				a.Leg = &Leg{leg}
				_, a.Operator = classify(stasisArgsOf(leg.snap, c.app.name))
			}
		}
		break
	}
	if a.Leg == nil && len(taken) > 0 {
		// Answered but not bridged: ivr hangs it up.
		a.Leg = &Leg{taken[0]}
	}
	return a
}

// voicemailStarted is the Mark of an answered caller without one whose
// message is being (or was) recorded: the mark can be missing (its write
// failed, or the process died before it landed) while the recording,
// which Asterisk keeps, says the caller chose voicemail. The zero Mark
// when there is no such recording (or Asterisk cannot say: logged).
func (c *Call) voicemailStarted(ctx context.Context) ivr.Mark {
	name := ivr.VoicemailName(c.id)
	rctx, cancel := c.app.requestContext(ctx)
	defer cancel()
	_, err := c.app.client.Recordings().Live(rctx, name)
	if errors.Is(err, ari.ErrNotFound) {
		_, err = c.app.client.Recordings().Stored(rctx, name)
	}
	switch {
	case err == nil:
		c.log.Warn().Str("recording", name).Msg("call without its mark has a voicemail recording: re-adopted as a message")
		return ivr.Mark{Stage: ivr.StageVoicemail, Voicemail: name}
	case !errors.Is(err, ari.ErrNotFound):
		c.log.Warn().Err(err).Str("recording", name).Msg("cannot tell whether the unmarked call was leaving a message")
	}
	return ivr.Mark{}
}

// stasisArgsOf is stasisArgs without the in-Stasis flag.
func stasisArgsOf(ch ari.Channel, app string) []string {
	args, _ := stasisArgs(ch, app)
	return args
}

// adoptLeg follows an operator's leg a previous process originated for
// this call (answered: it is in Stasis) as one of the call's legs.
func (c *Call) adoptLeg(ch ari.Channel) (*channel, error) {
	a := c.app
	sub, err := a.events.Subscribe(ch.ID)
	if err != nil {
		return nil, fmt.Errorf("ariapp: adopt leg %s: %w", ch.ID, err)
	}
	leg := a.newChannel(ch.ID, kindLeg)
	leg.log = leg.log.With().Str("call", c.id).Logger()
	leg.created = true
	leg.snap = ch
	leg.markAnswered()
	leg.start(sub)
	a.remember(leg)
	c.addLeg(leg)
	// Events before the subscription are lost: a hang-up in between is
	// caught by asking.
	go leg.recheck()
	return leg, nil
}

// legOf reports the call a leg orphan was originated for ("operator,<op>,
// <call>"), when it is in Stasis.
func legOf(o *Orphan) string {
	if o.Kind != string(kindLeg) || !o.InStasis || len(o.Args) < 3 {
		return ""
	}
	return strings.TrimSpace(o.Args[2])
}

// ---- Asterisk restarts ----

// noteRestart is the hang-up note of a channel that vanished with an
// Asterisk restart (ivr closes the call as the engine's loss, not the
// caller's hang-up).
const noteRestart = ivr.NoteEngineRestart + ": Asterisk restarted; the channel vanished with it"

// startupTime asks Asterisk when it started (GET /asterisk/info, status).
func (a *App) startupTime(ctx context.Context) (time.Time, error) {
	rctx, cancel := a.requestContext(ctx)
	defer cancel()
	info, err := a.client.Asterisk().Info(rctx, "status")
	if err != nil {
		return time.Time{}, err
	}
	if info.Status == nil {
		return time.Time{}, errors.New("ariapp: GET /asterisk/info without a status")
	}
	return info.Status.StartupTime.Time, nil
}

// noteBoot records Asterisk's startup time (at start and after every
// reconnect) and says whether it changed: Asterisk restarted meanwhile.
func (a *App) noteBoot(ctx context.Context) bool {
	t, err := a.startupTime(ctx)
	if err != nil {
		a.log.Warn().Err(err).Msg("cannot read Asterisk's startup time: a restart will not be told from a hang-up")
		return false
	}
	a.mu.Lock()
	prev := a.boot
	a.boot = t
	a.mu.Unlock()
	if !prev.IsZero() && !prev.Equal(t) {
		a.m.restarts.Inc()
		a.log.Error().Time("before", prev).Time("now", t).Msg("Asterisk restarted: every call it held is gone")
		return true
	}
	return false
}

func (a *App) bootTime() time.Time {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.boot
}

// restartedSince reports whether Asterisk started after boot (the startup
// time the app knew when it took a channel): the channel then vanished
// with the restart.
func (a *App) restartedSince(ctx context.Context, boot time.Time) bool {
	if boot.IsZero() {
		return false
	}
	t, err := a.startupTime(ctx)
	if err != nil {
		a.log.Warn().Err(err).Msg("cannot read Asterisk's startup time")
		return false
	}
	return !t.Equal(boot)
}
