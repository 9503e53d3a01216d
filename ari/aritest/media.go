package aritest

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/helpline-it/helpline/ari"
)

// playback is one POST .../play, from queued to its PlaybackFinished.
type playback struct {
	id       string
	media    []string
	idx      int
	lang     string
	target   string
	state    string
	ch       *channel
	br       *bridge
	skip     time.Duration
	length   time.Duration // of the current media
	left     time.Duration // still to play when paused or re-scheduled
	resumed  time.Time     // when it last (re)started playing
	timer    *action
	release  func() // frees the control queue it occupies
	canceled bool
	// controllable: sound:, recording: and tone: playbacks obey
	// pause/unpause/restart/forward/reverse; others refuse them.
	controllable bool
}

func (p *playback) snap() ari.Playback {
	out := ari.Playback{ID: p.id, MediaURI: p.media[p.idx], TargetURI: p.target, Language: p.lang, State: p.state}
	if p.idx+1 < len(p.media) {
		out.NextMediaURI = p.media[p.idx+1]
	}
	return out
}

func (w *world) findPlayback(id string) *playback {
	for _, p := range w.playbacks {
		if p.id == id {
			return p
		}
	}
	return nil
}

func (w *world) unregisterPlayback(p *playback) {
	for i, x := range w.playbacks {
		if x == p {
			w.playbacks = append(w.playbacks[:i], w.playbacks[i+1:]...)
			return
		}
	}
}

// listeners are the simulated parties that hear a playback.
func (p *playback) listeners() []*Call {
	var out []*Call
	if p.ch != nil && p.ch.party != nil {
		out = append(out, p.ch.party)
	}
	if p.br != nil {
		for _, m := range p.br.members {
			if m.party != nil {
				out = append(out, m.party)
			}
		}
	}
	return out
}

// stasisChannel resolves {channelId} to a channel in Stasis, answering as
// Asterisk does otherwise (404, or 409 for a channel running dialplan).
func (s *Server) stasisChannel(rq *request) (*channel, response) {
	c := s.w.findChannel(rq.path["channelId"])
	if c == nil || c.hangingUp {
		return nil, fail(404, "Channel not found")
	}
	if !c.inStasis() {
		return nil, fail(409, "Channel not in Stasis application")
	}
	return c, response{}
}

func hPlayChannel(s *Server, rq *request) response {
	s.lock()
	defer s.unlock()
	c, r := s.stasisChannel(rq)
	if c == nil {
		return r
	}
	lang := rq.param("lang")
	if lang == "" {
		lang = c.language
	}
	p, r := s.w.newPlayback(rq, "channel:"+c.id, lang)
	if p == nil {
		return r
	}
	p.ch = c
	c.ctl.push(&command{
		run:  func(done func()) { s.w.startPlayback(p, done) },
		drop: func() { s.w.unregisterPlayback(p) },
	})
	return s.w.playResponse(p)
}

func hPlayBridge(s *Server, rq *request) response {
	s.lock()
	defer s.unlock()
	b := s.w.bridges[rq.path["bridgeId"]]
	if b == nil {
		return fail(404, "Bridge not found")
	}
	lang := rq.param("lang")
	if lang == "" {
		lang = "en"
	}
	p, r := s.w.newPlayback(rq, "bridge:"+b.id, lang)
	if p == nil {
		return r
	}
	p.br = b
	b.ctl.push(&command{
		run:  func(done func()) { s.w.startPlayback(p, done) },
		drop: func() { s.w.unregisterPlayback(p) },
	})
	return s.w.playResponse(p)
}

func (w *world) newPlayback(rq *request, target, lang string) (*playback, response) {
	media := rq.param("media")
	if media == "" {
		return nil, fail(500, "Failed to queue media for playback")
	}
	id := rq.path["playbackId"]
	if id == "" {
		id = rq.param("playbackId")
	}
	if id == "" {
		id = w.newUUID()
	}
	skip := 3 * time.Second
	if ms, err := strconv.Atoi(rq.param("skipms")); err == nil && ms > 0 {
		skip = time.Duration(ms) * time.Millisecond
	}
	p := &playback{id: id, media: strings.Split(media, ","), lang: lang, target: target, state: ari.PlaybackStateQueued, skip: skip}
	w.playbacks = append(w.playbacks, p)
	return p, response{}
}

// playResponse is the 201 of a play request: "queued", except for a media
// scheme Asterisk cannot play, whose playback has already "started" by the
// time the response is built (rest_errors, bogus:thing).
func (w *world) playResponse(p *playback) response {
	snap := p.snap()
	if !(p.state == ari.PlaybackStatePlaying && !p.controllable && p.timer == nil) {
		snap.State = ari.PlaybackStateQueued
	}
	return response{status: http.StatusCreated, body: snap}
}

// mediaLength says how long a media URI plays: ok=false for a missing
// file (fails at once), forever=true for media that never ends by itself.
func (w *world) mediaLength(uri string) (d time.Duration, ok, forever, controllable bool) {
	scheme, rest, _ := strings.Cut(uri, ":")
	switch scheme {
	case "sound":
		d, ok := w.s.soundLength(rest)
		return d, ok, false, true
	case "recording":
		r := w.stored[rest]
		if r == nil {
			return 0, true, true, false
		}
		return r.length(), true, false, true
	case "tone":
		return 0, true, true, true
	case "number":
		return time.Duration(len(rest)) * 600 * time.Millisecond, true, false, false
	case "digits", "characters":
		return time.Duration(len(rest)) * 500 * time.Millisecond, true, false, false
	}
	return 0, true, true, false
}

// startPlayback runs when the playback reaches the head of its queue.
func (w *world) startPlayback(p *playback, done func()) {
	if p.canceled {
		p.state = ari.PlaybackStateDone
		w.emit(&ari.PlaybackFinished{Playback: p.snap()})
		w.unregisterPlayback(p)
		done()
		return
	}
	p.release = done
	if p.ch != nil {
		p.ch.cur = p
	} else {
		p.br.cur = p
	}
	w.playMedia(p, true)
}

func (w *world) playMedia(p *playback, first bool) {
	uri := p.media[p.idx]
	d, found, forever, controllable := w.mediaLength(uri)
	p.controllable = controllable
	p.state = ari.PlaybackStatePlaying
	if first {
		w.emit(&ari.PlaybackStarted{Playback: p.snap()})
	} else {
		w.emit(&ari.PlaybackContinuing{Playback: p.snap()})
	}
	for _, l := range p.listeners() {
		l.hear(Heard{Kind: "playback", Media: uri, PlaybackID: p.id})
	}
	switch {
	case !found:
		w.finishPlayback(p, ari.PlaybackStateFailed)
	case forever && !controllable:
		// Asterisk gives up on the media without a final state: the
		// playback stays "playing" in events and the queue moves on.
		w.unregisterPlayback(p)
		w.releasePlayback(p)
	case forever:
		// a tone plays until stopped
	default:
		p.length, p.left, p.resumed = d, d, w.s.now()
		p.timer = w.s.after(d, func() { w.mediaEnded(p) })
	}
}

func (w *world) mediaEnded(p *playback) {
	p.timer = nil
	for _, l := range p.listeners() {
		l.stopHearing("playback", p.id, ari.PlaybackStateDone)
	}
	if p.idx+1 < len(p.media) {
		p.idx++
		w.playMedia(p, false)
		return
	}
	w.finishPlayback(p, ari.PlaybackStateDone)
}

func (w *world) releasePlayback(p *playback) {
	if p.ch != nil && p.ch.cur == p {
		p.ch.cur = nil
	}
	if p.br != nil && p.br.cur == p {
		p.br.cur = nil
	}
	if rel := p.release; rel != nil {
		p.release = nil
		rel()
	}
}

// finishPlayback ends a started playback with state ("done" when it ended
// or was stopped, "failed" when its channel hung up or the file is missing).
func (w *world) finishPlayback(p *playback, state string) {
	p.timer.cancel()
	p.timer = nil
	p.state = state
	w.emit(&ari.PlaybackFinished{Playback: p.snap()})
	for _, l := range p.listeners() {
		l.stopHearing("playback", p.id, state)
	}
	w.unregisterPlayback(p)
	w.releasePlayback(p)
}

func (w *world) failPlayback(p *playback) { w.finishPlayback(p, ari.PlaybackStateFailed) }

func hGetPlayback(s *Server, rq *request) response {
	s.lock()
	defer s.unlock()
	p := s.w.findPlayback(rq.path["playbackId"])
	if p == nil {
		return fail(404, "Playback not found")
	}
	return ok(p.snap())
}

func hStopPlayback(s *Server, rq *request) response {
	s.lock()
	defer s.unlock()
	w := &s.w
	p := w.findPlayback(rq.path["playbackId"])
	if p == nil {
		return fail(404, "Playback not found")
	}
	switch p.state {
	case ari.PlaybackStateQueued:
		p.canceled = true
	case ari.PlaybackStatePlaying, "paused":
		if !p.controllable {
			return fail(500, "Playback operation failed")
		}
		w.finishPlayback(p, ari.PlaybackStateDone)
	}
	return noContent()
}

func hControlPlayback(s *Server, rq *request) response {
	s.lock()
	defer s.unlock()
	w := &s.w
	op := rq.param("operation")
	p := w.findPlayback(rq.path["playbackId"])
	if p == nil {
		return fail(404, "Playback not found")
	}
	switch op {
	case "restart", "pause", "unpause", "reverse", "forward":
	case "":
		return fail(400, "Missing parameter operation")
	default:
		return fail(400, "Invalid operation "+op)
	}
	now := w.s.now()
	played := func() time.Duration { return now.Sub(p.resumed) }
	reschedule := func(left time.Duration) {
		p.timer.cancel()
		if left < 0 {
			left = 0
		}
		p.left, p.resumed = left, now
		p.timer = w.s.after(left, func() { w.mediaEnded(p) })
	}
	switch p.state {
	case ari.PlaybackStateQueued:
		if op == "restart" {
			return noContent()
		}
		return fail(409, "Can only control playing media")
	case ari.PlaybackStatePlaying:
		if !p.controllable {
			return fail(500, "Playback operation failed")
		}
		switch op {
		case "pause":
			p.timer.cancel()
			p.timer = nil
			p.left -= played()
			p.state = "paused"
		case "restart":
			reschedule(p.length)
		case "reverse":
			reschedule(p.left - played() + p.skip)
		case "forward":
			reschedule(p.left - played() - p.skip)
		}
		return noContent()
	case "paused":
		switch op {
		case "pause":
		case "unpause":
			p.state = ari.PlaybackStatePlaying
			w.emit(&ari.PlaybackStarted{Playback: p.snap()})
			reschedule(p.left)
		default:
			return fail(409, "Can only control playing media")
		}
		return noContent()
	}
	return fail(409, "Can only control playing media")
}

// ---- other channel media operations (asynchronous commands) ----

// asyncCommand queues an instant command on c and answers 204 at once, as
// Asterisk's stasis_app_send_command_async callers do.
func (s *Server) asyncCommand(rq *request, fn func(c *channel)) response {
	s.lock()
	defer s.unlock()
	c, r := s.stasisChannel(rq)
	if c == nil {
		return r
	}
	c.ctl.push(&command{run: func(done func()) {
		if !c.gone {
			fn(c)
		}
		done()
	}})
	return noContent()
}

func hMOHStart(s *Server, rq *request) response {
	class := rq.param("mohClass")
	if class == "" {
		class = "default"
	}
	return s.asyncCommand(rq, func(c *channel) {
		if c.moh != "" && c.party != nil {
			c.party.stopHearing("moh", "", "")
		}
		c.moh = class
		if c.party != nil {
			c.party.hear(Heard{Kind: "moh", Media: class})
		}
	})
}

func hMOHStop(s *Server, rq *request) response {
	return s.asyncCommand(rq, func(c *channel) {
		if c.moh != "" && c.party != nil {
			c.party.stopHearing("moh", "", "")
		}
		c.moh = ""
	})
}

func hSilence(s *Server, rq *request) response {
	start := rq.method == http.MethodPost
	return s.asyncCommand(rq, func(c *channel) {
		if start && !c.silence && c.party != nil {
			c.party.hear(Heard{Kind: "silence"})
		}
		if !start && c.silence && c.party != nil {
			c.party.stopHearing("silence", "", "")
		}
		c.silence = start
	})
}

func hRing(s *Server, rq *request) response {
	return s.asyncCommand(rq, func(c *channel) {
		if c.party != nil {
			c.party.hear(Heard{Kind: "ringing"})
		}
	})
}

func hRingStop(s *Server, rq *request) response {
	return s.asyncCommand(rq, func(c *channel) {
		if c.party != nil {
			c.party.stopHearing("ringing", "", "")
		}
	})
}

func hProgress(s *Server, rq *request) response { return s.asyncCommand(rq, func(*channel) {}) }
func hHold(s *Server, rq *request) response     { return s.asyncCommand(rq, func(*channel) {}) }
func hMute(s *Server, rq *request) response     { return s.asyncCommand(rq, func(*channel) {}) }

// hSendDTMF queues the digits; they occupy the channel's queue while
// they are sent (rest_errors: "12#" held a later POST /variable ~700 ms).
func hSendDTMF(s *Server, rq *request) response {
	s.lock()
	defer s.unlock()
	digits := rq.param("dtmf")
	if digits == "" {
		return fail(400, "DTMF is required")
	}
	c, r := s.stasisChannel(rq)
	if c == nil {
		return r
	}
	ms := func(k string, def int) time.Duration {
		if n, err := strconv.Atoi(rq.param(k)); err == nil && n >= 0 {
			return time.Duration(n) * time.Millisecond
		}
		return time.Duration(def) * time.Millisecond
	}
	before, between, duration, after := ms("before", 0), ms("between", 100), ms("duration", 100), ms("after", 0)
	n := time.Duration(len(digits))
	total := before + n*(duration+between) + after + 100*time.Millisecond
	c.ctl.push(&command{run: func(done func()) {
		if c.party != nil {
			c.party.hear(Heard{Kind: "dtmf", Media: digits})
			c.party.stopHearing("dtmf", "", "")
		}
		s.after(total, done)
	}})
	return noContent()
}

func hAnswer(s *Server, rq *request) response {
	s.lock()
	defer s.unlock()
	c, r := s.stasisChannel(rq)
	if c == nil {
		return r
	}
	return s.syncCommand(rq, c, func() response {
		s.w.answer(c)
		return noContent()
	}, fail(500, "Failed to answer channel"))
}
