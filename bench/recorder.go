package bench

import (
	"net/http"
	"strings"
	"sync"
	"time"
)

// Recorder is an http.Handler in front of the emulated Asterisk that
// stamps the REST requests the switchboard sends about the calls the
// bench placed, at the instant each arrives (before the emulator handles
// it), and wakes the call's driver.
type Recorder struct {
	next http.Handler

	mu     sync.Mutex
	calls  map[string]*trace
	opFree map[string]time.Time // operator endpoint → when it last became free
	// Samples of the two originate paths (see Result).
	origQueued, origAvail *Samples
}

// NewRecorder stamps requests on their way to next.
func NewRecorder(next http.Handler) *Recorder {
	return &Recorder{
		next: next, calls: map[string]*trace{}, opFree: map[string]time.Time{},
		origQueued: &Samples{}, origAvail: &Samples{},
	}
}

// trace is what the recorder saw of one call. Times are zero until seen;
// each channel is closed once, when its time is set.
type trace struct {
	id       string
	answerAt time.Time
	answered chan struct{}
	// playing is closed once the first prompt (the welcome) is playing:
	// its request was handled.
	playing chan struct{}
	// dtmfAt is set by the caller just before pressing the digit; nextAt
	// is the first play or music-on-hold request after it.
	dtmfAt time.Time
	nextAt time.Time
	next   chan struct{}
	// origAt is the originate to an operator for this call; op its
	// endpoint.
	origAt time.Time
	op     string
	orig   chan struct{}
	// ended is closed when the switchboard hangs the caller up (DELETE).
	endAt time.Time
	ended chan struct{}
	plays int
}

func newTrace(id string) *trace {
	return &trace{id: id, answered: make(chan struct{}), playing: make(chan struct{}),
		next: make(chan struct{}), orig: make(chan struct{}), ended: make(chan struct{})}
}

// track starts following channel id (before the call is placed: the
// switchboard may answer before Call returns).
func (r *Recorder) track(id string) *trace {
	t := newTrace(id)
	r.mu.Lock()
	r.calls[id] = t
	r.mu.Unlock()
	return t
}

// forget stops following a call that is over.
func (r *Recorder) forget(id string) {
	r.mu.Lock()
	delete(r.calls, id)
	r.mu.Unlock()
}

// pressed records that the caller of t presses a digit now.
func (r *Recorder) pressed(t *trace, at time.Time) {
	r.mu.Lock()
	t.dtmfAt = at
	r.mu.Unlock()
}

// freed records that an operator's endpoint is free from at (logged in).
func (r *Recorder) freed(endpoint string, at time.Time) {
	r.mu.Lock()
	r.opFree[endpoint] = at
	r.mu.Unlock()
}

// ServeHTTP implements http.Handler.
func (r *Recorder) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	now := time.Now()
	after := r.stamp(req, now)
	r.next.ServeHTTP(w, req)
	if after != nil {
		close(after)
	}
}

// stamp records req; it returns a channel to close once the emulator has
// handled the request (the welcome is then playing), or nil.
func (r *Recorder) stamp(req *http.Request, now time.Time) chan struct{} {
	path, ok := strings.CutPrefix(req.URL.Path, "/ari/")
	if !ok {
		return nil
	}
	parts := strings.Split(path, "/")
	if len(parts) == 0 || parts[0] != "channels" {
		return nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	switch {
	case req.Method == http.MethodPost && len(parts) == 1:
		// Originate: appArgs "operator,<operator>,<call>".
		args := strings.SplitN(req.URL.Query().Get("appArgs"), ",", 3)
		if len(args) != 3 {
			return nil
		}
		t := r.calls[args[2]]
		if t == nil || !t.origAt.IsZero() {
			return nil
		}
		t.origAt, t.op = now, req.URL.Query().Get("endpoint")
		close(t.orig)
		if free, ok := r.opFree[t.op]; ok && !t.dtmfAt.IsZero() {
			if free.After(t.dtmfAt) {
				r.origAvail.Add(now.Sub(free))
			} else {
				r.origQueued.Add(now.Sub(t.dtmfAt))
			}
		}
		delete(r.opFree, t.op)
	case len(parts) >= 2:
		t := r.calls[parts[1]]
		if t == nil {
			return nil
		}
		switch {
		case req.Method == http.MethodDelete && len(parts) == 2:
			if t.endAt.IsZero() {
				t.endAt = now
				close(t.ended)
				if t.op != "" {
					// The switchboard hangs the caller up as it learns that
					// the operator hung up: from here she is free again.
					r.opFree[t.op] = now
				}
			}
		case req.Method == http.MethodPost && len(parts) == 3:
			switch parts[2] {
			case "answer":
				if t.answerAt.IsZero() {
					t.answerAt = now
					close(t.answered)
				}
			case "play", "moh":
				t.plays++
				if t.plays == 1 {
					return t.playing
				}
				if !t.dtmfAt.IsZero() && t.nextAt.IsZero() {
					t.nextAt = now
					close(t.next)
				}
			}
		}
	}
	return nil
}
