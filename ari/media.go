package ari

import (
	"context"
	"fmt"
	"io"
	"net/http"
)

// Playbacks is the /playbacks resource. Get it from Client.Playbacks.
type Playbacks struct{ c *Client }

// Playbacks returns the /playbacks resource.
func (c *Client) Playbacks() Playbacks { return Playbacks{c} }

// Get returns a playback while it exists (GET /playbacks/{playbackId}).
func (r Playbacks) Get(ctx context.Context, id string) (*Playback, error) {
	var out Playback
	if err := r.c.call(ctx, http.MethodGet, Path("playbacks", id), nil, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// Stop stops a playback (DELETE /playbacks/{playbackId}); the
// PlaybackFinished that follows has state "done", not "stopped".
func (r Playbacks) Stop(ctx context.Context, id string) error {
	return r.c.call(ctx, http.MethodDelete, Path("playbacks", id), nil, nil, nil)
}

// Playback control operations.
const (
	PlaybackRestart = "restart"
	PlaybackPause   = "pause"
	PlaybackUnpause = "unpause"
	PlaybackReverse = "reverse"
	PlaybackForward = "forward"
)

// Control pauses, unpauses, restarts or skips a playback
// (POST /playbacks/{playbackId}/control); another operation gives ErrBadRequest.
func (r Playbacks) Control(ctx context.Context, id, operation string) error {
	return r.c.call(ctx, http.MethodPost, Path("playbacks", id, "control"), query{"operation": {operation}}, nil, nil)
}

// Recordings is the /recordings resource. Get it from Client.Recordings.
// Names may contain "/" (sub-folders); they are sent percent-encoded.
type Recordings struct{ c *Client }

// Recordings returns the /recordings resource.
func (c *Client) Recordings() Recordings { return Recordings{c} }

// Live returns a recording in progress (GET /recordings/live/{recordingName}).
func (r Recordings) Live(ctx context.Context, name string) (*LiveRecording, error) {
	var out LiveRecording
	if err := r.c.call(ctx, http.MethodGet, Path("recordings", "live", name), nil, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

func (r Recordings) live(ctx context.Context, method, name, action string) error {
	p := Path("recordings", "live", name)
	if action != "" {
		p += Path(action)
	}
	return r.c.call(ctx, method, p, nil, nil, nil)
}

// Stop stops a live recording and keeps what was recorded.
func (r Recordings) Stop(ctx context.Context, name string) error {
	return r.live(ctx, http.MethodPost, name, "stop")
}

// Cancel stops a live recording and discards it (DELETE /recordings/live/{name}).
func (r Recordings) Cancel(ctx context.Context, name string) error {
	return r.live(ctx, http.MethodDelete, name, "")
}

// Pause pauses a live recording.
func (r Recordings) Pause(ctx context.Context, name string) error {
	return r.live(ctx, http.MethodPost, name, "pause")
}

// Unpause resumes a paused live recording.
func (r Recordings) Unpause(ctx context.Context, name string) error {
	return r.live(ctx, http.MethodDelete, name, "pause")
}

// Mute records silence instead of the audio until Unmute.
func (r Recordings) Mute(ctx context.Context, name string) error {
	return r.live(ctx, http.MethodPost, name, "mute")
}

// Unmute records the audio again.
func (r Recordings) Unmute(ctx context.Context, name string) error {
	return r.live(ctx, http.MethodDelete, name, "mute")
}

// ListStored lists finished recordings (GET /recordings/stored).
func (r Recordings) ListStored(ctx context.Context) ([]StoredRecording, error) {
	var out []StoredRecording
	return out, r.c.call(ctx, http.MethodGet, "/recordings/stored", nil, nil, &out)
}

// Stored returns one finished recording (GET /recordings/stored/{recordingName}).
func (r Recordings) Stored(ctx context.Context, name string) (*StoredRecording, error) {
	var out StoredRecording
	if err := r.c.call(ctx, http.MethodGet, Path("recordings", "stored", name), nil, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// DeleteStored deletes a finished recording.
func (r Recordings) DeleteStored(ctx context.Context, name string) error {
	return r.c.call(ctx, http.MethodDelete, Path("recordings", "stored", name), nil, nil, nil)
}

// CopyStored copies a finished recording to dest; an existing dest gives ErrConflict.
func (r Recordings) CopyStored(ctx context.Context, name, dest string) (*StoredRecording, error) {
	var out StoredRecording
	if err := r.c.call(ctx, http.MethodPost, Path("recordings", "stored", name, "copy"), query{"destinationRecordingName": {dest}}, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// File is a stored recording's content being read from Asterisk.
type File struct {
	// ContentType is Asterisk's Content-Type, e.g. "audio/wav".
	ContentType string
	// Size is the Content-Length, or -1 when unknown.
	Size int64
	// Body streams the bytes; the caller must Close it.
	Body io.ReadCloser
}

// StoredFile opens a finished recording's audio
// (GET /recordings/stored/{recordingName}/file) as a stream. The caller
// must close File.Body; ctx bounds the whole read.
func (r Recordings) StoredFile(ctx context.Context, name string) (*File, error) {
	req := &Request{Method: http.MethodGet, Path: Path("recordings", "stored", name, "file")}
	resp, err := r.c.send(ctx, req)
	if err != nil {
		return nil, err
	}
	return &File{ContentType: resp.Header.Get("Content-Type"), Size: resp.ContentLength, Body: resp.Body}, nil
}

// StoredFileBytes reads a finished recording's audio into memory, at most
// limit bytes (a larger file is an error rather than a truncated file).
func (r Recordings) StoredFileBytes(ctx context.Context, name string, limit int64) ([]byte, string, error) {
	f, err := r.StoredFile(ctx, name)
	if err != nil {
		return nil, "", err
	}
	defer f.Body.Close()
	b, err := io.ReadAll(io.LimitReader(f.Body, limit+1))
	p := Path("recordings", "stored", name, "file")
	if err != nil {
		return nil, "", &TransportError{Method: http.MethodGet, Path: p, Err: err}
	}
	if int64(len(b)) > limit {
		return nil, "", &TransportError{Method: http.MethodGet, Path: p, Err: fmt.Errorf("recording larger than %d bytes", limit)}
	}
	return b, f.ContentType, nil
}
