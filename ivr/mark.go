package ivr

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"time"
)

// Stage is where a call was when the flow last wrote its Mark.
type Stage string

// Stages written into a Mark. A call in the welcome, the menu or waiting
// in the queue has no stage of its own: the channel's state (answered or
// not) and the queue entry say all there is.
const (
	// StageTalk: the caller was bridged with an operator.
	StageTalk Stage = "talk"
	// StageVoicemail: the caller chose to leave a message (the intro,
	// the recording, the thanks).
	StageVoicemail Stage = "voicemail"
)

// MarkVersion is the version written as "v" in an encoded Mark.
const MarkVersion = "1"

// maxMarkLen bounds an encoded Mark that ParseMark accepts.
const maxMarkLen = 512

// Mark is what the flow writes on the caller's channel itself (on
// Asterisk, a channel variable) at the steps the queue does not remember:
// the start of a talk and the choice of voicemail. It outlives the app's
// process, not the engine's, which is exactly what re-adoption after an
// app restart needs: the next process reads it back (Adoption.Mark) and
// carries on with the call's times and operator. It never holds a number:
// an operator id, a language code, times, a recording name.
type Mark struct {
	Stage    Stage
	Language string
	// QueuedAt is the queue entry time (the CDR's QueuedAt).
	QueuedAt time.Time
	// ConnectedAt and Operator are the talk's (StageTalk).
	ConnectedAt time.Time
	Operator    string
	// Voicemail is the recording's name (StageVoicemail).
	Voicemail string
}

// IsZero reports whether m is the zero Mark (nothing was written).
func (m Mark) IsZero() bool { return m == Mark{} }

// Encode returns m as a short, URL-query-shaped string (times in Unix
// milliseconds), safe as a channel variable's value.
func (m Mark) Encode() string {
	v := url.Values{}
	v.Set("v", MarkVersion)
	v.Set("stage", string(m.Stage))
	put := func(k, s string) {
		if s != "" {
			v.Set(k, s)
		}
	}
	putTime := func(k string, t time.Time) {
		if !t.IsZero() {
			v.Set(k, strconv.FormatInt(t.UnixMilli(), 10))
		}
	}
	put("lang", m.Language)
	putTime("queued", m.QueuedAt)
	putTime("connected", m.ConnectedAt)
	put("op", m.Operator)
	put("vm", m.Voicemail)
	return v.Encode()
}

// ErrBadMark reports a channel value that is not a Mark this version
// reads: the call is then adopted as if it had none.
var ErrBadMark = errors.New("ivr: malformed call mark")

// ParseMark reads an encoded Mark. Unknown keys are ignored (a later
// version may add some); a wrong version, an unknown stage, a bad time or
// an oversized value is ErrBadMark.
func ParseMark(s string) (Mark, error) {
	if len(s) > maxMarkLen {
		return Mark{}, fmt.Errorf("%w: %d bytes (at most %d)", ErrBadMark, len(s), maxMarkLen)
	}
	v, err := url.ParseQuery(s)
	if err != nil {
		return Mark{}, fmt.Errorf("%w: %v", ErrBadMark, err)
	}
	if got := v.Get("v"); got != MarkVersion {
		return Mark{}, fmt.Errorf("%w: version %q (want %q)", ErrBadMark, got, MarkVersion)
	}
	m := Mark{Stage: Stage(v.Get("stage")), Language: v.Get("lang"), Operator: v.Get("op"), Voicemail: v.Get("vm")}
	switch m.Stage {
	case StageTalk, StageVoicemail:
	default:
		return Mark{}, fmt.Errorf("%w: unknown stage %q", ErrBadMark, m.Stage)
	}
	for _, f := range []struct {
		key string
		t   *time.Time
	}{{"queued", &m.QueuedAt}, {"connected", &m.ConnectedAt}} {
		s := v.Get(f.key)
		if s == "" {
			continue
		}
		ms, err := strconv.ParseInt(s, 10, 64)
		if err != nil || ms <= 0 || ms > 1<<53 {
			return Mark{}, fmt.Errorf("%w: %s=%q is not a time", ErrBadMark, f.key, s)
		}
		*f.t = time.UnixMilli(ms).UTC()
	}
	if m.Stage == StageTalk && (m.Operator == "" || m.ConnectedAt.IsZero()) {
		return Mark{}, fmt.Errorf("%w: a talk without its operator or connect time", ErrBadMark)
	}
	if m.Stage == StageVoicemail && m.Voicemail == "" {
		return Mark{}, fmt.Errorf("%w: a voicemail without its recording name", ErrBadMark)
	}
	return m, nil
}

// Marker is implemented by calls whose engine keeps a value on the
// channel across an app restart (ari-app: a channel variable). Optional:
// without it a re-adopted talk or voicemail is known only by what the
// engine shows (the bridge, the recording).
type Marker interface {
	// SetMark stores m on the channel, replacing the previous one.
	SetMark(ctx context.Context, m Mark) error
}

// RecordingAwaiter is implemented by calls whose engine can hand a new
// process a recording a previous one started: AwaitRecording blocks until
// the live recording name ends (the caller pressed the key, hung up, or
// the maximum length passed) and returns it as Record would. A recording
// that is no longer live but stored returns at once; one that exists
// neither way gives ErrNoRecording. Cancelling ctx leaves the recording
// running (the app is stopping: the next process adopts it).
type RecordingAwaiter interface {
	AwaitRecording(ctx context.Context, name string) (Recording, error)
}

// ErrNoRecording is returned by AwaitRecording when the engine has no
// recording of that name, live or stored.
var ErrNoRecording = errors.New("ivr: no such recording")

// mark writes m on the call if its engine can keep it; a failure is
// logged and counted, never fatal (the call goes on, only its re-adoption
// would know less).
func (s *session) mark(ctx context.Context, m Mark) {
	mk, ok := s.call.(Marker)
	if !ok || !s.up() {
		return
	}
	if err := mk.SetMark(s.bg(ctx), m); err != nil && !s.hungUp(err) {
		s.engineError("mark", err)
	}
}
