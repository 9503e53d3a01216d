package ariapp

import (
	"context"
	"errors"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/rs/zerolog"

	"github.com/helpline-it/helpline/ari"
	"github.com/helpline-it/helpline/ivr"
)

// kind is what a channel is to the app.
type kind string

const (
	kindInbound  kind = "inbound"  // a caller: Stasis(helpline,inbound)
	kindOperator kind = "operator" // an operator's softphone dialling in
	kindLeg      kind = "leg"      // a leg we originated to an operator
)

// dtmfBuffer is how many keys wait for the flow before new ones are
// dropped (ivr asks for 16 at least).
const dtmfBuffer = 32

// channel is one Asterisk channel the app drives: its state as the events
// tell it, read by one goroutine from the channel's own subscription, and
// the waiters of the requests in progress on it (a playback, a recording,
// a bridge to enter). The REST side lives in call.go.
type channel struct {
	app  *App
	id   string
	kind kind
	log  zerolog.Logger

	sub      *ari.Subscription
	cancel   context.CancelFunc
	done     chan struct{} // closed on hang-up (ivr.Channel.Done)
	ended    chan struct{} // closed when no more events will be read
	answered chan struct{} // closed on StasisStart (a leg answered)
	dtmf     chan ivr.Digit

	mu           sync.Mutex
	cause        int    // hang-up cause, once done is closed
	note         string // why, when not an event (vanished)
	requested    int    // the cause of our own DELETE, if any
	hangupSent   bool   // we sent DELETE /channels/{id}
	dialStatus   string // last non-empty Dial.dialstatus (legs)
	destroyed    bool
	destroyCause int // ChannelDestroyed's cause, mapped with dialStatus
	created      bool
	isDone       bool
	isEnded      bool
	isAnswered   bool
	released     bool
	waiters      map[string]*waiter
	legs         []*channel  // legs originated on behalf of this call
	snap         ari.Channel // as the channel entered the app
	boot         time.Time   // Asterisk's startup time when we took it
}

// waiter receives the terminal event of one request: PlaybackFinished,
// RecordingFinished/Failed, ChannelEnteredBridge. Synthetic events stand
// in for those lost while the event WebSocket was down (see recheck).
type waiter struct {
	key string
	ch  chan ari.Event
}

func (a *App) newChannel(id string, k kind) *channel {
	return &channel{
		app:      a,
		id:       id,
		kind:     k,
		log:      a.log.With().Str("channel", id).Str("kind", string(k)).Logger(),
		done:     make(chan struct{}),
		ended:    make(chan struct{}),
		answered: make(chan struct{}),
		dtmf:     make(chan ivr.Digit, dtmfBuffer),
		waiters:  map[string]*waiter{},
		boot:     a.bootTime(),
	}
}

// start begins reading sub, which must already be subscribed to the
// channel's id (before any request that could raise an event).
func (c *channel) start(sub *ari.Subscription) {
	ctx, cancel := context.WithCancel(context.Background())
	c.sub, c.cancel = sub, cancel
	go c.read(ctx)
}

// ID implements ivr.Channel.
func (c *channel) ID() string { return c.id }

// Done implements ivr.Channel.
func (c *channel) Done() <-chan struct{} { return c.done }

// HangupCause implements ivr.Channel.
func (c *channel) HangupCause() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.isDone {
		return ivr.CauseUnknown
	}
	return c.cause
}

// HangupNote says why the channel ended when no event said it: set when
// a reconciliation found the channel gone (its end was lost with the event
// WebSocket, or the channel with an Asterisk restart: then it starts with
// ivr.NoteEngineRestart). Empty otherwise. It implements ivr.HangupNoter:
// the flow copies it into the CDR; the app logs it.
func (c *channel) HangupNote() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.note
}

func (c *channel) hungUp() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.isDone
}

func (c *channel) wasAnswered() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.isAnswered
}

// read is the channel's event loop. It never blocks on the flow: digits
// go to a buffered channel, terminal events to waiters' buffered channels.
func (c *channel) read(ctx context.Context) {
	defer c.end()
	for {
		ev, err := c.sub.Next(ctx)
		if err != nil {
			if ctx.Err() == nil && !errors.Is(err, ari.ErrSubscriptionClosed) {
				c.log.Warn().Err(err).Msg("channel event subscription ended")
			}
			return
		}
		last := c.handle(ev)
		c.app.activity.Add(1)
		if last {
			return
		}
	}
}

// handle applies one event; it reports whether it was the channel's last.
func (c *channel) handle(ev ari.Event) bool {
	switch e := ev.(type) {
	case *ari.ChannelDtmfReceived:
		if e.Channel.ID == c.id {
			c.digit(e.Digit)
		}
	case *ari.ChannelHangupRequest:
		if e.Channel.ID == c.id {
			c.mu.Lock()
			req := c.requested
			c.mu.Unlock()
			c.hangup(requestCause(e, req), "")
		}
	case *ari.StasisStart:
		if e.Channel.ID == c.id {
			c.markAnswered()
		}
	case *ari.StasisEnd:
		if e.Channel.ID == c.id {
			// Leaving Stasis ends the call for us, hung up or not (a
			// /continue by someone else hands it back to the dialplan).
			c.hangup(ivr.CauseNormal, "")
			// An originated channel is followed until destroyed; one
			// from the dialplan is not followed after StasisEnd.
			return c.kind != kindLeg
		}
	case *ari.ChannelDestroyed:
		if e.Channel.ID == c.id {
			c.mu.Lock()
			c.destroyed = true
			c.destroyCause = originateCause(e.Cause, c.dialStatus)
			c.mu.Unlock()
			cause := e.Cause
			if cause == ivr.CauseUnknown {
				cause = ivr.CauseNormal
			}
			c.hangup(cause, "")
			return true
		}
	case *ari.Dial:
		if e.Peer.ID == c.id && e.DialStatus != "" {
			c.mu.Lock()
			c.dialStatus = e.DialStatus
			c.mu.Unlock()
		}
	case *ari.PlaybackFinished:
		c.notify("pb:"+e.Playback.ID, ev)
	case *ari.RecordingFinished:
		c.notify("rec:"+e.Recording.Name, ev)
	case *ari.RecordingFailed:
		c.notify("rec:"+e.Recording.Name, ev)
	case *ari.ChannelEnteredBridge:
		if e.Channel != nil && e.Channel.ID == c.id {
			c.notify("br:"+e.Bridge.ID, ev)
		}
	case *ari.Reconnected:
		// Events of this channel may have been lost while the socket was
		// down: ask Asterisk. Not on the reader: it makes REST calls.
		go c.recheck()
	}
	return false
}

// digit hands a key to the flow without ever blocking the reader.
func (c *channel) digit(s string) {
	r, n := utf8.DecodeRuneInString(s)
	if n == 0 || n != len(s) || r == utf8.RuneError {
		c.log.Warn().Int("bytes", len(s)).Msg("DTMF event with an unreadable digit; dropped")
		return
	}
	select {
	case c.dtmf <- ivr.Digit(r):
	default:
		c.app.m.dtmfDropped.Inc()
		c.log.Warn().Msg("DTMF buffer full: key dropped")
	}
}

// hangup closes done once, keeping the first cause.
func (c *channel) hangup(cause int, note string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.isDone {
		return
	}
	c.isDone = true
	c.cause = cause
	c.note = note
	close(c.done)
}

func (c *channel) markAnswered() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.isAnswered {
		return
	}
	c.isAnswered = true
	close(c.answered)
}

func (c *channel) end() {
	c.mu.Lock()
	if !c.isEnded {
		c.isEnded = true
		close(c.ended)
	}
	c.mu.Unlock()
	c.sub.Close()
}

// release stops reading events (idempotent). The channel's Done stays as
// it is: release says "we no longer care", not "it hung up".
func (c *channel) release() {
	c.mu.Lock()
	if c.released || c.cancel == nil {
		c.released = true
		c.mu.Unlock()
		return
	}
	c.released = true
	legs := c.legs
	c.legs = nil
	c.mu.Unlock()
	c.cancel()
	c.sub.Close()
	c.app.forget(c)
	for _, l := range legs {
		l.release()
	}
}

func (c *channel) addLeg(l *channel) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.legs = append(c.legs, l)
}

func (c *channel) dropLeg(l *channel) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i, x := range c.legs {
		if x == l {
			c.legs = append(c.legs[:i], c.legs[i+1:]...)
			return
		}
	}
}

// watch registers a waiter for key ("pb:<playback id>", "rec:<name>",
// "br:<bridge id>") before the request that will produce its event.
func (c *channel) watch(key string) *waiter {
	w := &waiter{key: key, ch: make(chan ari.Event, 4)}
	c.mu.Lock()
	c.waiters[key] = w
	c.mu.Unlock()
	return w
}

func (c *channel) unwatch(w *waiter) {
	c.mu.Lock()
	if c.waiters[w.key] == w {
		delete(c.waiters, w.key)
	}
	c.mu.Unlock()
}

func (c *channel) notify(key string, ev ari.Event) {
	c.mu.Lock()
	w := c.waiters[key]
	c.mu.Unlock()
	if w == nil {
		return
	}
	select {
	case w.ch <- ev:
	default:
	}
}

func (c *channel) pendingKeys() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	keys := make([]string, 0, len(c.waiters))
	for k := range c.waiters {
		keys = append(keys, k)
	}
	return keys
}

// recheck asks Asterisk what became of the channel and of its pending
// requests after the event WebSocket was down: Asterisk replays nothing,
// so a hang-up, a PlaybackFinished or a StasisStart may have been lost.
func (c *channel) recheck() {
	c.mu.Lock()
	skip := c.isEnded || c.released || !c.created
	c.mu.Unlock()
	if skip {
		return
	}
	ctx, cancel := c.app.requestContext(context.Background())
	defer cancel()
	api := c.app.client
	snap, err := api.Channels().Get(ctx, c.id)
	switch {
	case errors.Is(err, ari.ErrNotFound):
		if c.app.restartedSince(ctx, c.boot) {
			// Gone with Asterisk, even if we had asked for its hang-up
			// (that DELETE found nothing to hang up).
			c.vanish(noteRestart)
			return
		}
		c.mu.Lock()
		ours, cause := c.hangupSent, c.requested
		c.mu.Unlock()
		if ours {
			// Gone because we hung it up (its events may still be on
			// their way, or were lost): nothing vanished.
			if cause == ivr.CauseUnknown {
				cause = ivr.CauseNormal
			}
			c.hangup(cause, "")
			c.cancel()
			return
		}
		c.vanish("channel gone while the ARI event stream was down")
		return
	case err != nil:
		c.log.Warn().Err(err).Msg("recheck after reconnect failed; relying on later events")
		return
	}
	if c.kind == kindLeg && !c.wasAnswered() && snap.State == ari.ChannelStateUp && snap.Dialplan.AppName == "Stasis" {
		c.log.Warn().Msg("leg answered while the event stream was down (StasisStart lost)")
		c.markAnswered()
	}
	for _, key := range c.pendingKeys() {
		kind, id, _ := strings.Cut(key, ":")
		switch kind {
		case "pb":
			if _, err := api.Playbacks().Get(ctx, id); errors.Is(err, ari.ErrNotFound) {
				c.log.Warn().Str("playback", id).Msg("playback ended while the event stream was down")
				c.notify(key, &ari.PlaybackFinished{Playback: ari.Playback{ID: id, State: ari.PlaybackStateDone, TargetURI: "channel:" + c.id}})
			}
		case "rec":
			if _, err := api.Recordings().Live(ctx, id); !errors.Is(err, ari.ErrNotFound) {
				continue
			}
			if _, err := api.Recordings().Stored(ctx, id); err == nil {
				c.log.Warn().Str("recording", id).Msg("recording finished while the event stream was down")
				c.notify(key, &ari.RecordingFinished{Recording: ari.LiveRecording{Name: id, State: ari.LiveRecordingStateDone, TargetURI: "channel:" + c.id}})
			} else if errors.Is(err, ari.ErrNotFound) {
				c.notify(key, &ari.RecordingFailed{Recording: ari.LiveRecording{Name: id, State: ari.LiveRecordingStateFailed,
					TargetURI: "channel:" + c.id, Cause: "recording lost while the event stream was down"}})
			}
		case "br":
			b, err := api.Bridges().Get(ctx, id)
			if err == nil {
				for _, ch := range b.Channels {
					if ch == c.id {
						c.notify(key, &ari.ChannelEnteredBridge{Bridge: *b})
					}
				}
			}
		}
	}
}

// vanish ends a channel Asterisk no longer has, whose end events were
// lost: done closes with a note, the reader stops.
func (c *channel) vanish(note string) {
	c.app.m.vanished.Inc()
	c.log.Warn().Str("note", note).Msg("channel vanished: treated as hung up")
	c.mu.Lock()
	if !c.destroyed {
		c.destroyed = true
		c.destroyCause = originateCause(ivr.CauseUnknown, c.dialStatus)
	}
	c.mu.Unlock()
	c.hangup(ivr.CauseNormal, note)
	c.cancel()
}
