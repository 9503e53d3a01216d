package ari

import (
	"context"
	"net/http"
	"strconv"
)

// Channels is the /channels resource. Get it from Client.Channels.
type Channels struct{ c *Client }

// Channels returns the /channels resource.
func (c *Client) Channels() Channels { return Channels{c} }

// List returns the channels Asterisk knows (GET /channels). After an event
// WebSocket reconnect this is how calls still in Stasis are found again.
func (r Channels) List(ctx context.Context) ([]Channel, error) {
	var out []Channel
	return out, r.c.call(ctx, http.MethodGet, "/channels", nil, nil, &out)
}

// Get returns one channel (GET /channels/{channelId}).
func (r Channels) Get(ctx context.Context, id string) (*Channel, error) {
	var out Channel
	if err := r.c.call(ctx, http.MethodGet, Path("channels", id), nil, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// OriginateParams are the parameters of POST /channels. Empty fields are
// not sent, so Asterisk's defaults apply.
type OriginateParams struct {
	// Endpoint to call, e.g. "PJSIP/op1001" or "Local/op1001@operators" (required).
	Endpoint string
	// Extension, Context, Priority and Label send the answered channel into
	// the dialplan; App (and AppArgs) into a Stasis app instead.
	Extension string
	Context   string
	Priority  int64
	Label     string
	App       string
	// AppArgs is passed to StasisStart.args, split on commas by Asterisk.
	AppArgs string
	// CallerID is the caller id to present, e.g. `"Helpline" <800123456>`.
	CallerID string
	// Timeout is how many seconds to ring: 0 leaves Asterisk's 30, -1 rings forever.
	Timeout int
	// Variables are set on the new channel (JSON body {"variables": {...}}).
	Variables map[string]string
	// ChannelID and OtherChannelID choose the ids of the channel and, for
	// Local channels, of its ";2" half.
	ChannelID      string
	OtherChannelID string
	// Originator is the id of the channel on whose behalf we call.
	Originator string
	// Formats lists codecs, comma separated ("ulaw,alaw"), when there is no Originator.
	Formats string
}

func (p OriginateParams) query() query {
	q := query{}.str("endpoint", p.Endpoint).str("extension", p.Extension).str("context", p.Context).
		str("label", p.Label).str("app", p.App).str("appArgs", p.AppArgs).str("callerId", p.CallerID).
		num("timeout", p.Timeout).str("otherChannelId", p.OtherChannelID).
		str("originator", p.Originator).str("formats", p.Formats)
	if p.Priority != 0 {
		q["priority"] = []string{strconv.FormatInt(p.Priority, 10)}
	}
	return q
}

func (p OriginateParams) body() any {
	if len(p.Variables) == 0 {
		return nil
	}
	return map[string]any{"variables": p.Variables}
}

// Originate creates a channel and dials it (POST /channels). Asterisk
// answers 200 with the channel in state Down at once; ringing, answer and
// failure arrive as events (Dial, ChannelStateChange, ChannelDestroyed).
// An endpoint that cannot be reached at all gives ErrServer with Message
// "Allocation failed".
func (r Channels) Originate(ctx context.Context, p OriginateParams) (*Channel, error) {
	q := p.query().str("channelId", p.ChannelID)
	var out Channel
	if err := r.c.call(ctx, http.MethodPost, "/channels", q, p.body(), &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// OriginateWithID is Originate with the channel id in the path
// (POST /channels/{channelId}); p.ChannelID is ignored.
func (r Channels) OriginateWithID(ctx context.Context, id string, p OriginateParams) (*Channel, error) {
	var out Channel
	if err := r.c.call(ctx, http.MethodPost, Path("channels", id), p.query(), p.body(), &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// CreateParams are the parameters of POST /channels/create.
type CreateParams struct {
	Endpoint, App, AppArgs, ChannelID, OtherChannelID, Originator, Formats string
	Variables                                                              map[string]string
}

// Create makes a channel without dialling it (POST /channels/create);
// dial it later with Dial.
func (r Channels) Create(ctx context.Context, p CreateParams) (*Channel, error) {
	q := query{}.str("endpoint", p.Endpoint).str("app", p.App).str("appArgs", p.AppArgs).
		str("channelId", p.ChannelID).str("otherChannelId", p.OtherChannelID).
		str("originator", p.Originator).str("formats", p.Formats)
	var body any
	if len(p.Variables) > 0 {
		body = map[string]any{"variables": p.Variables}
	}
	var out Channel
	if err := r.c.call(ctx, http.MethodPost, "/channels/create", q, body, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// Dial dials a channel made by Create (POST /channels/{channelId}/dial).
// caller is the id of the calling channel (may be empty); timeout is in
// seconds, 0 for none.
func (r Channels) Dial(ctx context.Context, id, caller string, timeout int) error {
	return r.c.call(ctx, http.MethodPost, Path("channels", id, "dial"), query{}.str("caller", caller).num("timeout", timeout), nil, nil)
}

// HangupReason is a "reason" of DELETE /channels/{channelId}.
type HangupReason string

// The hangup reasons ARI accepts; Asterisk answers 400 to any other.
const (
	HangupNormal            HangupReason = "normal"
	HangupBusy              HangupReason = "busy"
	HangupCongestion        HangupReason = "congestion"
	HangupNoAnswer          HangupReason = "no_answer"
	HangupTimeout           HangupReason = "timeout"
	HangupRejected          HangupReason = "rejected"
	HangupUnallocated       HangupReason = "unallocated"
	HangupNormalUnspecified HangupReason = "normal_unspecified"
	HangupNumberIncomplete  HangupReason = "number_incomplete"
	HangupCodecMismatch     HangupReason = "codec_mismatch"
	HangupInterworking      HangupReason = "interworking"
	HangupFailure           HangupReason = "failure"
	HangupAnsweredElsewhere HangupReason = "answered_elsewhere"
)

// Hangup hangs a channel up with a reason ("" sends none: Asterisk uses
// normal). The ChannelHangupRequest that follows carries cause 32 soft:true
// whatever the reason; the reason shows in ChannelDestroyed.
func (r Channels) Hangup(ctx context.Context, id string, reason HangupReason) error {
	return r.c.call(ctx, http.MethodDelete, Path("channels", id), query{}.str("reason", string(reason)), nil, nil)
}

// HangupWithCode hangs a channel up with a Q.850 cause code (reason_code),
// e.g. 17 for user busy.
func (r Channels) HangupWithCode(ctx context.Context, id string, code int) error {
	return r.c.call(ctx, http.MethodDelete, Path("channels", id), query{"reason_code": {strconv.Itoa(code)}}, nil, nil)
}

func (r Channels) action(ctx context.Context, method, id, action string, q query) error {
	return r.c.call(ctx, method, Path("channels", id, action), q, nil, nil)
}

// Answer answers a channel (POST /channels/{channelId}/answer).
func (r Channels) Answer(ctx context.Context, id string) error {
	return r.action(ctx, http.MethodPost, id, "answer", nil)
}

// Ring indicates ringing to the caller (POST .../ring, a SIP 180).
func (r Channels) Ring(ctx context.Context, id string) error {
	return r.action(ctx, http.MethodPost, id, "ring", nil)
}

// RingStop stops indicating ringing (DELETE .../ring).
func (r Channels) RingStop(ctx context.Context, id string) error {
	return r.action(ctx, http.MethodDelete, id, "ring", nil)
}

// Progress indicates progress (POST .../progress, a SIP 183).
func (r Channels) Progress(ctx context.Context, id string) error {
	return r.action(ctx, http.MethodPost, id, "progress", nil)
}

// Hold puts the channel on hold (POST .../hold).
func (r Channels) Hold(ctx context.Context, id string) error {
	return r.action(ctx, http.MethodPost, id, "hold", nil)
}

// Unhold takes the channel off hold (DELETE .../hold).
func (r Channels) Unhold(ctx context.Context, id string) error {
	return r.action(ctx, http.MethodDelete, id, "hold", nil)
}

// Mute mutes audio in direction "both", "in" or "out" ("" is both).
func (r Channels) Mute(ctx context.Context, id, direction string) error {
	return r.action(ctx, http.MethodPost, id, "mute", query{}.str("direction", direction))
}

// Unmute unmutes audio in direction "both", "in" or "out" ("" is both).
func (r Channels) Unmute(ctx context.Context, id, direction string) error {
	return r.action(ctx, http.MethodDelete, id, "mute", query{}.str("direction", direction))
}

// StartMOH plays music on hold of class mohClass ("" for the default;
// an unknown class still answers 204).
func (r Channels) StartMOH(ctx context.Context, id, mohClass string) error {
	return r.action(ctx, http.MethodPost, id, "moh", query{}.str("mohClass", mohClass))
}

// StopMOH stops music on hold.
func (r Channels) StopMOH(ctx context.Context, id string) error {
	return r.action(ctx, http.MethodDelete, id, "moh", nil)
}

// StartSilence plays silence to the channel.
func (r Channels) StartSilence(ctx context.Context, id string) error {
	return r.action(ctx, http.MethodPost, id, "silence", nil)
}

// StopSilence stops playing silence.
func (r Channels) StopSilence(ctx context.Context, id string) error {
	return r.action(ctx, http.MethodDelete, id, "silence", nil)
}

// DTMFParams are the parameters of POST .../dtmf; times in milliseconds, 0
// leaves Asterisk's default (before 0, between 100, duration 100, after 0).
type DTMFParams struct {
	Digits                           string
	Before, Between, Duration, After int
}

// SendDTMF sends DTMF digits to the channel.
func (r Channels) SendDTMF(ctx context.Context, id string, p DTMFParams) error {
	q := query{}.str("dtmf", p.Digits).num("before", p.Before).num("between", p.Between).
		num("duration", p.Duration).num("after", p.After)
	return r.action(ctx, http.MethodPost, id, "dtmf", q)
}

// GetVariable reads a channel variable or dialplan function, e.g.
// "CALLERID(num)" (GET .../variable). A variable never set gives ErrNotFound.
func (r Channels) GetVariable(ctx context.Context, id, name string) (string, error) {
	var out Variable
	err := r.c.call(ctx, http.MethodGet, Path("channels", id, "variable"), query{"variable": {name}}, nil, &out)
	return out.Value, err
}

// SetVariable sets a channel variable (POST .../variable).
func (r Channels) SetVariable(ctx context.Context, id, name, value string) error {
	return r.action(ctx, http.MethodPost, id, "variable", query{"variable": {name}, "value": {value}})
}

// ContinueParams say where Continue sends the channel; empty fields keep
// the channel's current context, extension and priority (+1).
type ContinueParams struct {
	Context, Extension, Label string
	Priority                  int
}

// Continue makes the channel leave Stasis and continue in the dialplan
// (POST .../continue).
func (r Channels) Continue(ctx context.Context, id string, p ContinueParams) error {
	q := query{}.str("context", p.Context).str("extension", p.Extension).num("priority", p.Priority).str("label", p.Label)
	return r.action(ctx, http.MethodPost, id, "continue", q)
}

// Redirect transfers the channel to another endpoint (POST .../redirect).
func (r Channels) Redirect(ctx context.Context, id, endpoint string) error {
	return r.action(ctx, http.MethodPost, id, "redirect", query{"endpoint": {endpoint}})
}

// Move moves the channel to another Stasis app (POST .../move).
func (r Channels) Move(ctx context.Context, id, app, appArgs string) error {
	return r.action(ctx, http.MethodPost, id, "move", query{}.str("app", app).str("appArgs", appArgs))
}

// PlayParams are the parameters of a play request.
type PlayParams struct {
	// Media are URIs played one after the other, e.g. "sound:hello-world",
	// "recording:vm-1", "tone:ring" (required; none gives a 500).
	Media []string
	// Lang is the sound language, e.g. "it".
	Lang string
	// OffsetMS starts that far into the media; SkipMS is the skip for
	// forward/reverse control (Asterisk's default 3000).
	OffsetMS, SkipMS int
	// PlaybackID chooses the playback's id (query form); empty lets
	// Asterisk pick a UUID. Asterisk accepts a duplicate id.
	PlaybackID string
}

func (p PlayParams) query() query {
	return query{}.list("media", p.Media).str("lang", p.Lang).num("offsetms", p.OffsetMS).num("skipms", p.SkipMS)
}

// Play starts media on a channel (POST .../play, 201 state "queued"). A
// playback queued while another plays on the same channel starts after it.
func (r Channels) Play(ctx context.Context, id string, p PlayParams) (*Playback, error) {
	var out Playback
	if err := r.c.call(ctx, http.MethodPost, Path("channels", id, "play"), p.query().str("playbackId", p.PlaybackID), nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// PlayWithID is Play with the playback id in the path
// (POST .../play/{playbackId}); p.PlaybackID is ignored.
func (r Channels) PlayWithID(ctx context.Context, id, playbackID string, p PlayParams) (*Playback, error) {
	var out Playback
	if err := r.c.call(ctx, http.MethodPost, Path("channels", id, "play", playbackID), p.query(), nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// RecordParams are the parameters of a record request.
type RecordParams struct {
	// Name of the recording (required); "/" makes sub-folders.
	Name string
	// Format, e.g. "wav" (required; unknown → ErrUnprocessable).
	Format string
	// MaxDurationSeconds and MaxSilenceSeconds stop the recording; 0 is no limit.
	MaxDurationSeconds, MaxSilenceSeconds int
	// IfExists is "fail" (Asterisk's default, ErrConflict), "overwrite" or "append".
	IfExists string
	// Beep plays a beep first.
	Beep bool
	// TerminateOn is the DTMF ending the recording: "none", "any", "*" or "#".
	TerminateOn string
}

func (p RecordParams) query() query {
	return query{}.str("name", p.Name).str("format", p.Format).num("maxDurationSeconds", p.MaxDurationSeconds).
		num("maxSilenceSeconds", p.MaxSilenceSeconds).str("ifExists", p.IfExists).boolean("beep", p.Beep).
		str("terminateOn", p.TerminateOn)
}

// Record starts recording a channel (POST .../record, 201 state "queued");
// RecordingStarted and RecordingFinished/RecordingFailed follow as events.
func (r Channels) Record(ctx context.Context, id string, p RecordParams) (*LiveRecording, error) {
	var out LiveRecording
	if err := r.c.call(ctx, http.MethodPost, Path("channels", id, "record"), p.query(), nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// RTPStatistics returns the channel's RTP counters (GET .../rtp_statistics).
func (r Channels) RTPStatistics(ctx context.Context, id string) (*RTPstat, error) {
	var out RTPstat
	if err := r.c.call(ctx, http.MethodGet, Path("channels", id, "rtp_statistics"), nil, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}
