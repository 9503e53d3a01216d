package aritest

import (
	"encoding/binary"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"time"

	"github.com/helpline-it/helpline/ari"
)

// liveRecording is a POST .../record in progress.
type liveRecording struct {
	name, format string
	target       string
	ch           *channel
	state        string
	start        time.Time
	maxDuration  time.Duration
	maxSilence   time.Duration
	terminateOn  string
	silenceStats bool // talking/silence durations are reported (maxSilenceSeconds set)
	timers       []*action
	release      func()
	muted        bool
	stored       *storedRecording
	duration     time.Duration
	talking      time.Duration
	silence      time.Duration
}

type storedRecording struct {
	name, format string
	data         []byte
}

// bytesPerSecond of 8 kHz audio in each format the emulator writes.
func bytesPerSecond(format string) int {
	switch format {
	case "ulaw", "alaw", "g722", "g726":
		return 8000
	case "gsm":
		return 1650
	case "g729":
		return 1000
	}
	return 16000 // wav, sln: 16-bit linear
}

func (r *storedRecording) length() time.Duration {
	n := len(r.data)
	if r.format == "wav" {
		n -= 44
	}
	if n < 0 {
		n = 0
	}
	return time.Duration(n) * time.Second / time.Duration(bytesPerSecond(r.format))
}

// knownFormats are the formats Asterisk 22 can record to.
var knownFormats = map[string]bool{
	"wav": true, "WAV": true, "wav49": true, "gsm": true, "ulaw": true, "alaw": true,
	"sln": true, "sln16": true, "g722": true, "g726": true, "g729": true, "ilbc": true, "siren7": true, "siren14": true,
}

func (r *liveRecording) snap() ari.LiveRecording {
	out := ari.LiveRecording{Name: r.name, Format: r.format, State: r.state, TargetURI: r.target}
	if r.state == ari.LiveRecordingStateDone || r.state == ari.LiveRecordingStateCanceled {
		out.Duration = ptr(int(r.duration / time.Second))
		if r.silenceStats {
			out.TalkingDuration = ptr(int(r.talking / time.Second))
			out.SilenceDuration = ptr(int(r.silence / time.Second))
		}
	}
	return out
}

func (r *liveRecording) terminates(digit string) bool {
	switch r.terminateOn {
	case "", "none":
		return false
	case "any":
		return true
	}
	return r.terminateOn == digit
}

// wavFile is a valid RIFF/WAVE file of 8 kHz 16-bit mono silence.
func wavFile(d time.Duration) []byte {
	samples := int(d * 8000 / time.Second)
	data := samples * 2
	b := make([]byte, 44+data)
	copy(b[0:], "RIFF")
	binary.LittleEndian.PutUint32(b[4:], uint32(36+data))
	copy(b[8:], "WAVEfmt ")
	binary.LittleEndian.PutUint32(b[16:], 16)
	binary.LittleEndian.PutUint16(b[20:], 1) // PCM
	binary.LittleEndian.PutUint16(b[22:], 1) // mono
	binary.LittleEndian.PutUint32(b[24:], 8000)
	binary.LittleEndian.PutUint32(b[28:], 16000)
	binary.LittleEndian.PutUint16(b[32:], 2)
	binary.LittleEndian.PutUint16(b[34:], 16)
	copy(b[36:], "data")
	binary.LittleEndian.PutUint32(b[40:], uint32(data))
	return b
}

func audioFile(format string, d time.Duration) []byte {
	if format == "wav" || format == "WAV" {
		return wavFile(d)
	}
	return make([]byte, int(d)*bytesPerSecond(format)/int(time.Second))
}

func hRecordChannel(s *Server, rq *request) response {
	s.lock()
	defer s.unlock()
	w := &s.w
	c, r := s.stasisChannel(rq)
	if c == nil {
		return r
	}
	format := rq.param("format")
	if !knownFormats[format] {
		return fail(422, "specified format is unknown on this system")
	}
	name := rq.param("name")
	if name == "" {
		return fail(400, "Recording name is required")
	}
	ifExists := rq.param("ifExists")
	switch ifExists {
	case "", "fail", "overwrite", "append":
	default:
		return fail(400, "ifExists invalid")
	}
	terminate := rq.param("terminateOn")
	switch terminate {
	case "", "none", "any", "*", "#":
	default:
		return fail(400, "terminateOn invalid")
	}
	secs := func(k string) (time.Duration, bool) {
		v := rq.param(k)
		if v == "" {
			return 0, true
		}
		n, err := strconv.Atoi(v)
		return time.Duration(n) * time.Second, err == nil && n >= 0
	}
	maxDur, ok1 := secs("maxDurationSeconds")
	maxSil, ok2 := secs("maxSilenceSeconds")
	if !ok1 || !ok2 {
		return fail(400, "Invalid parameters")
	}
	if w.live[name] != nil || (w.stored[name] != nil && (ifExists == "" || ifExists == "fail")) {
		return fail(409, fmt.Sprintf("Recording '%s' already exists and can not be overwritten", name))
	}
	rec := &liveRecording{
		name: name, format: format, target: "channel:" + c.id, ch: c, state: ari.LiveRecordingStateQueued,
		maxDuration: maxDur, maxSilence: maxSil, terminateOn: terminate, silenceStats: maxSil > 0,
	}
	w.live[name] = rec
	beep := isTrue(rq.param("beep"))
	c.ctl.push(&command{
		run:  func(done func()) { w.startRecording(rec, ifExists, done) },
		drop: func() { delete(w.live, name) },
	})
	snap := rec.snap()
	if beep || rec.state == ari.LiveRecordingStateQueued {
		snap.State = ari.LiveRecordingStateQueued
	}
	return response{status: http.StatusCreated, body: snap}
}

func (w *world) startRecording(rec *liveRecording, ifExists string, done func()) {
	c := rec.ch
	rec.release = done
	rec.state = ari.LiveRecordingStateRecording
	rec.start = w.s.now()
	c.rec = rec
	st := w.stored[rec.name]
	if st == nil || ifExists != "append" {
		st = &storedRecording{name: rec.name, format: rec.format}
		w.stored[rec.name] = st
	}
	rec.stored = st
	w.emit(&ari.RecordingStarted{Recording: rec.snap()})
	w.recordingHeard(rec)
}

// captured measures the audio the recording got up to now: a PJSIP far
// end sends frames all the time (silence between its talk), a Local half
// only while it plays something. Recordings count frames, not wall time,
// which is why maxDurationSeconds never fires on a silent Local caller
// (rest_errors) and why record_voicemail lasts 5 s although 8 s passed.
func (w *world) captured(rec *liveRecording) (total, talking time.Duration) {
	now := w.s.now()
	for _, iv := range rec.ch.talk {
		from, to := iv.from, iv.to
		if from.Before(rec.start) {
			from = rec.start
		}
		if to.After(now) {
			to = now
		}
		if to.After(from) {
			talking += to.Sub(from)
		}
	}
	total = talking
	if rec.ch.continuous {
		total = now.Sub(rec.start)
	}
	return total, talking
}

// recordingHeard (re)arms the timers that end a recording: maxDuration
// when enough frames will have arrived, maxSilence after the last talk.
func (w *world) recordingHeard(rec *liveRecording) {
	for _, t := range rec.timers {
		t.cancel()
	}
	rec.timers = nil
	if rec.state != ari.LiveRecordingStateRecording {
		return
	}
	now := w.s.now()
	total, _ := w.captured(rec)
	talkEnd := now
	for _, iv := range rec.ch.talk {
		if iv.to.After(talkEnd) {
			talkEnd = iv.to
		}
	}
	if rec.maxDuration > 0 {
		left := rec.maxDuration - total
		if rec.ch.continuous {
			rec.timers = append(rec.timers, w.s.after(left, func() { w.finishRecording(rec, ari.LiveRecordingStateDone) }))
		} else if talkEnd.After(now) && talkEnd.Sub(now) >= left {
			rec.timers = append(rec.timers, w.s.after(left, func() { w.finishRecording(rec, ari.LiveRecordingStateDone) }))
		}
	}
	if rec.maxSilence > 0 && rec.ch.continuous {
		rec.timers = append(rec.timers, w.s.after(talkEnd.Sub(now)+rec.maxSilence, func() {
			w.finishRecording(rec, ari.LiveRecordingStateDone)
		}))
	}
}

// finishRecording ends a live recording: "done" keeps the file, "canceled"
// deletes it.
func (w *world) finishRecording(rec *liveRecording, state string) {
	if rec.state != ari.LiveRecordingStateRecording && rec.state != ari.LiveRecordingStatePaused {
		return
	}
	for _, t := range rec.timers {
		t.cancel()
	}
	total, talking := w.captured(rec)
	rec.duration, rec.talking = total, talking
	if rec.silenceStats {
		rec.silence = total - talking
	}
	rec.state = state
	if rec.ch.rec == rec {
		rec.ch.rec = nil
	}
	delete(w.live, rec.name)
	if state == ari.LiveRecordingStateCanceled {
		if w.stored[rec.name] == rec.stored {
			delete(w.stored, rec.name)
		}
	} else if rec.stored != nil {
		add := audioFile(rec.format, total)
		if len(rec.stored.data) > 0 && rec.format == "wav" {
			add = add[44:]
		}
		rec.stored.data = append(rec.stored.data, add...)
		if rec.format == "wav" {
			fixWAVHeader(rec.stored.data)
		}
	}
	w.emit(&ari.RecordingFinished{Recording: rec.snap()})
	if rel := rec.release; rel != nil {
		rec.release = nil
		rel()
	}
}

func fixWAVHeader(b []byte) {
	if len(b) < 44 {
		return
	}
	data := len(b) - 44
	binary.LittleEndian.PutUint32(b[4:], uint32(36+data))
	binary.LittleEndian.PutUint32(b[40:], uint32(data))
}

func hGetLive(s *Server, rq *request) response {
	s.lock()
	defer s.unlock()
	rec := s.w.live[rq.path["recordingName"]]
	if rec == nil {
		return fail(404, "Recording not found")
	}
	return ok(rec.snap())
}

func hStopLive(s *Server, rq *request) response {
	s.lock()
	defer s.unlock()
	rec := s.w.live[rq.path["recordingName"]]
	if rec == nil {
		return fail(404, "Recording not found")
	}
	s.w.finishRecording(rec, ari.LiveRecordingStateDone)
	return noContent()
}

func hCancelLive(s *Server, rq *request) response {
	s.lock()
	defer s.unlock()
	rec := s.w.live[rq.path["recordingName"]]
	if rec == nil {
		return fail(404, "Recording not found")
	}
	s.w.finishRecording(rec, ari.LiveRecordingStateCanceled)
	return noContent()
}

func hPauseLive(s *Server, rq *request) response {
	s.lock()
	defer s.unlock()
	rec := s.w.live[rq.path["recordingName"]]
	if rec == nil {
		return fail(404, "Recording not found")
	}
	if rec.state != ari.LiveRecordingStateRecording && rec.state != ari.LiveRecordingStatePaused {
		return fail(409, "Recording not in session")
	}
	if rq.method == http.MethodPost {
		rec.state = ari.LiveRecordingStatePaused
	} else {
		rec.state = ari.LiveRecordingStateRecording
	}
	return noContent()
}

func hMuteLive(s *Server, rq *request) response {
	s.lock()
	defer s.unlock()
	rec := s.w.live[rq.path["recordingName"]]
	if rec == nil {
		return fail(404, "Recording not found")
	}
	if rec.state != ari.LiveRecordingStateRecording && rec.state != ari.LiveRecordingStatePaused {
		return fail(409, "Recording not in session")
	}
	rec.muted = rq.method == http.MethodPost
	return noContent()
}

func hListStored(s *Server, rq *request) response {
	s.lock()
	defer s.unlock()
	names := make([]string, 0, len(s.w.stored))
	for n := range s.w.stored {
		names = append(names, n)
	}
	sort.Strings(names)
	out := []ari.StoredRecording{}
	for _, n := range names {
		out = append(out, ari.StoredRecording{Name: n, Format: s.w.stored[n].format})
	}
	return ok(out)
}

func hGetStored(s *Server, rq *request) response {
	s.lock()
	defer s.unlock()
	r := s.w.stored[rq.path["recordingName"]]
	if r == nil {
		return fail(404, "Recording not found")
	}
	return ok(ari.StoredRecording{Name: r.name, Format: r.format})
}

func hGetStoredFile(s *Server, rq *request) response {
	s.lock()
	defer s.unlock()
	r := s.w.stored[rq.path["recordingName"]]
	if r == nil {
		return fail(404, "Recording not found")
	}
	ct := "application/octet-stream"
	if r.format == "wav" {
		ct = "audio/wav"
	}
	return response{status: http.StatusOK, raw: append([]byte(nil), r.data...), contentType: ct}
}

// hDeleteStored deletes a stored recording. Deleting the file of a
// recording still in progress stops it (rest_errors: RecordingFinished
// "done" follows the 204).
func hDeleteStored(s *Server, rq *request) response {
	s.lock()
	defer s.unlock()
	w := &s.w
	name := rq.path["recordingName"]
	r := w.stored[name]
	if r == nil {
		return fail(404, "Recording not found")
	}
	delete(w.stored, name)
	if rec := w.live[name]; rec != nil {
		rec.stored = nil
		s.after(0, func() { w.finishRecording(rec, ari.LiveRecordingStateDone) })
	}
	return noContent()
}

func hCopyStored(s *Server, rq *request) response {
	s.lock()
	defer s.unlock()
	w := &s.w
	r := w.stored[rq.path["recordingName"]]
	if r == nil {
		return fail(404, "Recording not found")
	}
	dest := rq.param("destinationRecordingName")
	if dest == "" {
		return fail(400, "Missing parameter destinationRecordingName")
	}
	if w.stored[dest] != nil {
		return fail(409, "A recording with the same name already exists on the system")
	}
	w.stored[dest] = &storedRecording{name: dest, format: r.format, data: append([]byte(nil), r.data...)}
	return ok(ari.StoredRecording{Name: dest, Format: r.format})
}
