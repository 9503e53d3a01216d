package aritest

import (
	"context"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/helpline-it/helpline/ari"
)

// Config describes the emulated Asterisk. Its zero value is usable: a real
// clock, user "asterisk" with password "asterisk", the endpoints and
// dialplan of the recorded traces (see DefaultEndpoints, DefaultDialplan)
// and the sound lengths of DefaultSounds.
type Config struct {
	// Clock drives every duration of the world: prompt lengths, ringing,
	// originate timeouts, recordings, the scripts of callers and phones.
	// Tests pass a clockwork.FakeClock. Nil means the real clock.
	Clock clockwork.Clock
	// Username and Password are the ARI credentials (HTTP basic auth or the
	// api_key query parameter). Empty means "asterisk".
	Username, Password string
	// AsteriskID is the entity id put in every event. Empty means the id of
	// the recording machine, 02:fc:00:00:00:01.
	AsteriskID string
	// Endpoints are the PJSIP endpoints (trunks and softphones). Nil means
	// DefaultEndpoints().
	Endpoints []Endpoint
	// Dialplan runs the Local channels and the entry of inbound calls into
	// Stasis. Nil means DefaultDialplan().
	Dialplan Dialplan
	// Sounds maps a sound name (the part after "sound:") to its length.
	// Nil means DefaultSounds().
	Sounds map[string]time.Duration
	// DefaultSoundLength is the length of a sound missing from Sounds when
	// StrictSounds is off. Zero means 2 s.
	DefaultSoundLength time.Duration
	// StrictSounds makes a sound missing from Sounds a missing file, which
	// Asterisk reports as PlaybackStarted then PlaybackFinished "failed".
	StrictSounds bool
	// Logf, when set, receives one line per notable world step (tests pass
	// t.Logf). Caller numbers appear in it: it is for tests only.
	Logf func(format string, args ...any)
}

// Server is an emulated Asterisk 22 speaking ARI over HTTP and WebSocket.
// Create it with NewServer (listening at once) or NewUnstartedServer (to
// adjust it before Start). All methods are safe for concurrent use.
type Server struct {
	// URL is the base URL, "http://127.0.0.1:port", once started. ARI lives
	// under URL+"/ari".
	URL string

	cfg      Config
	clock    clockwork.Clock
	listener net.Listener
	http     *http.Server
	started  time.Time
	closeCtx context.Context
	stop     context.CancelFunc
	wsWG     sync.WaitGroup

	mu     sync.Mutex
	cond   *sync.Cond
	closed bool

	// scheduling (sched.go)
	agenda agenda
	seq    uint64
	vnow   time.Time
	wake   clockwork.Timer
	wakeAt time.Time

	// world
	w world

	// test instrumentation
	requests []Request
	reqBase  int // sequence number of requests[0]
	gaps     []Gap
	faults   []*Fault

	links links // inter-node trunks to other servers (link.go)
}

// Request is one REST request the emulator received, as logged by
// Requests.
type Request struct {
	// Time is the world's time when the request arrived.
	Time time.Time
	// Method is the HTTP method.
	Method string
	// Path is the path below "/ari", percent-decoded ("/channels/1.2/answer").
	Path string
	// RawPath is the path below "/ari" as sent (a recording name may hold
	// %2F).
	RawPath string
	// Route is the ARI route template it matched ("/channels/{channelId}/answer"),
	// empty when it matched none.
	Route string
	// Query is the parsed query string.
	Query url.Values
	// Body is the request body as sent.
	Body []byte
	// Status is the status the emulator answered with.
	Status int
}

// Gap is a request or situation the emulator does not emulate. A test
// asserts that Gaps is empty, so that an emulator gap never passes for
// success.
type Gap struct {
	// Method and Path of the request, when a request revealed the gap.
	Method, Path string
	// Route is the ARI route template, when Asterisk has that route.
	Route string
	// Detail says what is missing.
	Detail string
}

// String says what the gap is, and which request revealed it.
func (g Gap) String() string {
	if g.Method == "" {
		return g.Detail
	}
	return fmt.Sprintf("%s %s: %s", g.Method, g.Path, g.Detail)
}

// Fault makes the emulator answer matching requests with a canned failure
// instead of handling them, for fault tests (see InjectFault).
type Fault struct {
	// Method is the HTTP method to match; empty matches any.
	Method string
	// Route is an ARI route template ("/channels/{channelId}/answer") or a
	// concrete path below "/ari" ("/channels/c1/answer").
	Route string
	// Status is the HTTP status to answer with; zero means 500.
	Status int
	// Body is the JSON body; empty means {"message":"Internal Server Error"}.
	Body string
	// Times is how many requests it applies to; zero means one.
	Times int
	// Drop closes the TCP connection without answering, as a crashed or
	// unreachable Asterisk would; Status and Body are then unused.
	Drop bool
}

// NewServer starts an emulator on a loopback port. Close it when done.
func NewServer(cfg Config) *Server {
	s := NewUnstartedServer(cfg)
	if err := s.Start(); err != nil {
		panic(fmt.Sprintf("aritest: %v", err))
	}
	return s
}

// NewUnstartedServer returns an emulator that does not listen yet, so a
// test can script the world (add endpoints, sounds, faults) before Start.
func NewUnstartedServer(cfg Config) *Server {
	if cfg.Clock == nil {
		cfg.Clock = clockwork.NewRealClock()
	}
	if cfg.Username == "" {
		cfg.Username = "asterisk"
	}
	if cfg.Password == "" {
		cfg.Password = "asterisk"
	}
	if cfg.AsteriskID == "" {
		cfg.AsteriskID = "02:fc:00:00:00:01"
	}
	if cfg.Endpoints == nil {
		cfg.Endpoints = DefaultEndpoints()
	}
	if cfg.Dialplan == nil {
		cfg.Dialplan = DefaultDialplan()
	}
	// The server adds the contexts of callers' scripts: copy the caller's map.
	dp := make(Dialplan, len(cfg.Dialplan))
	for k, v := range cfg.Dialplan {
		dp[k] = v
	}
	cfg.Dialplan = dp
	if cfg.Sounds == nil {
		cfg.Sounds = DefaultSounds()
	}
	if cfg.DefaultSoundLength == 0 {
		cfg.DefaultSoundLength = 2 * time.Second
	}
	s := &Server{cfg: cfg, clock: cfg.Clock}
	s.cond = sync.NewCond(&s.mu)
	s.vnow = s.clock.Now()
	s.started = s.vnow
	s.closeCtx, s.stop = context.WithCancel(context.Background())
	s.w.init(s)
	return s
}

// Start listens on 127.0.0.1 on a free port and serves ARI.
func (s *Server) Start() error {
	if s.listener != nil {
		return errors.New("aritest: Start called twice")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("aritest: listen: %w", err)
	}
	s.listener = ln
	s.URL = "http://" + ln.Addr().String()
	s.http = &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = s.http.Serve(ln) }()
	return nil
}

// Close stops the server: event sockets are closed, pending requests
// answered, and the clock's wake-up timer stopped.
func (s *Server) Close() {
	s.lock()
	s.closed = true
	s.cfg.Logf = nil // the test that owned the logger may be over
	s.w.closeAllSockets()
	s.unlock()
	s.stop()
	if s.http != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := s.http.Shutdown(ctx); err != nil {
			_ = s.http.Close()
		}
	}
	s.wsWG.Wait()
}

// Requests returns the REST requests received so far, in order (the
// latest 50,000 to 100,000 of a long run).
func (s *Server) Requests() []Request {
	s.lock()
	defer s.unlock()
	out := make([]Request, len(s.requests))
	copy(out, s.requests)
	return out
}

// Gaps returns what the emulator was asked to do and does not emulate,
// in the order it happened.
func (s *Server) Gaps() []Gap {
	s.lock()
	defer s.unlock()
	return append([]Gap(nil), s.gaps...)
}

// InjectFault makes the next f.Times requests matching f fail as f says.
func (s *Server) InjectFault(f Fault) {
	if f.Times <= 0 {
		f.Times = 1
	}
	if f.Status == 0 {
		f.Status = http.StatusInternalServerError
	}
	if f.Body == "" {
		f.Body = `{"message":"Internal Server Error"}`
	}
	s.lock()
	s.faults = append(s.faults, &f)
	s.unlock()
}

// FailNext makes the next request for method and route (a route template
// or a concrete path below /ari) answer status with Asterisk's generic
// error body.
func (s *Server) FailNext(method, route string, status int) {
	s.InjectFault(Fault{Method: method, Route: route, Status: status})
}

func (s *Server) gap(g Gap) {
	s.gaps = append(s.gaps, g)
	s.logf("GAP %s", g)
}

func (s *Server) logf(format string, args ...any) {
	if s.cfg.Logf != nil {
		s.cfg.Logf("aritest: "+format, args...)
	}
}

// ServeHTTP answers ARI requests under /ari as Asterisk does.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Server", "Asterisk/22.10.1")
	rawPath := r.URL.EscapedPath()
	if !strings.HasPrefix(rawPath, "/ari/") && rawPath != "/ari" {
		writeJSON(w, http.StatusNotFound, errBody("Not Found"))
		return
	}
	rawPath = strings.TrimPrefix(rawPath, "/ari")
	if !s.authorized(r) {
		w.Header().Set("WWW-Authenticate", `Basic realm="Asterisk REST Interface"`)
		s.logRequest(r, rawPath, "", nil, http.StatusUnauthorized)
		writeJSON(w, http.StatusUnauthorized, errBody("Authentication required"))
		return
	}
	if rawPath == "/events" {
		s.serveEvents(w, r)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		writeJSON(w, http.StatusBadRequest, errBody("Unable to read request body"))
		return
	}
	segs, ok := splitPath(rawPath)
	rt, params, status := (*routeNode)(nil), map[string]string(nil), http.StatusNotFound
	if ok {
		rt, params, status = routes.match(r.Method, segs)
	}
	route := ""
	if rt != nil {
		route = rt.path
	}
	if f := s.takeFault(r.Method, route, rawPath); f != nil {
		s.logRequest(r, rawPath, route, body, f.Status)
		if f.Drop {
			if hj, ok := w.(http.Hijacker); ok {
				if conn, _, err := hj.Hijack(); err == nil {
					_ = conn.Close()
					return
				}
			}
		}
		writeRaw(w, f.Status, []byte(f.Body))
		return
	}
	switch {
	case status == http.StatusMethodNotAllowed:
		s.logRequest(r, rawPath, "", body, status)
		writeJSON(w, status, errBody("Invalid method"))
		return
	case rt == nil:
		s.logRequest(r, rawPath, "", body, status)
		writeJSON(w, status, errBody("Resource not found"))
		return
	case rt.handler == nil:
		s.lock()
		s.gap(Gap{Method: r.Method, Path: unescapePath(rawPath), Route: rt.path, Detail: "route not emulated"})
		s.unlock()
		s.logRequest(r, rawPath, rt.path, body, http.StatusNotFound)
		writeJSON(w, http.StatusNotFound, errBody("Resource not found"))
		return
	}
	rq, perr := newRequest(r, params, body)
	if perr != nil {
		s.logRequest(r, rawPath, rt.path, body, http.StatusBadRequest)
		writeJSON(w, http.StatusBadRequest, errBody(perr.Error()))
		return
	}
	rq.route = rt.path
	rq.server = s
	s.lock()
	seq := s.appendRequest(r, rawPath, rt.path, body)
	s.unlock()
	resp := rt.handler(s, rq)
	s.lock()
	s.setStatus(seq, resp.status)
	s.unlock()
	resp.write(w)
}

// appendRequest logs a request and returns its sequence number.
func (s *Server) appendRequest(r *http.Request, rawPath, route string, body []byte) int {
	if len(s.requests) >= maxLog {
		drop := len(s.requests) / 2
		s.requests = append(s.requests[:0:0], s.requests[drop:]...)
		s.reqBase += drop
	}
	s.requests = append(s.requests, Request{
		Time: s.now(), Method: r.Method, Path: unescapePath(rawPath), RawPath: rawPath,
		Route: route, Query: r.URL.Query(), Body: body,
	})
	return s.reqBase + len(s.requests) - 1
}

func (s *Server) setStatus(seq, status int) {
	if i := seq - s.reqBase; i >= 0 && i < len(s.requests) {
		s.requests[i].Status = status
	}
}

func (s *Server) logRequest(r *http.Request, rawPath, route string, body []byte, status int) {
	s.lock()
	s.setStatus(s.appendRequest(r, rawPath, route, body), status)
	s.unlock()
}

func (s *Server) takeFault(method, route, rawPath string) *Fault {
	s.lock()
	defer s.unlock()
	for i, f := range s.faults {
		if f.Method != "" && f.Method != method {
			continue
		}
		if f.Route != route && f.Route != rawPath && f.Route != unescapePath(rawPath) {
			continue
		}
		f.Times--
		if f.Times <= 0 {
			s.faults = append(s.faults[:i], s.faults[i+1:]...)
		}
		return f
	}
	return nil
}

func (s *Server) authorized(r *http.Request) bool {
	user, pass, ok := r.BasicAuth()
	if !ok {
		if key := r.URL.Query().Get("api_key"); key != "" {
			user, pass, ok = strings.Cut(key, ":")
		}
	}
	if !ok {
		return false
	}
	u := subtle.ConstantTimeCompare([]byte(user), []byte(s.cfg.Username))
	p := subtle.ConstantTimeCompare([]byte(pass), []byte(s.cfg.Password))
	return u&p == 1
}

// BasicAuth returns the value of an Authorization header for the
// configured credentials, for tests that speak HTTP directly.
func (s *Server) BasicAuth() string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(s.cfg.Username+":"+s.cfg.Password))
}

// Credentials returns the configured ARI user and password.
func (s *Server) Credentials() (user, password string) {
	return s.cfg.Username, s.cfg.Password
}

// Clock returns the clock the world runs on.
func (s *Server) Clock() clockwork.Clock { return s.clock }

// splitPath splits an escaped path ("/channels/a%2Fb/play") into decoded
// segments. A literal "/" inside a segment can only come from %2F, which
// is how Asterisk routes recording names holding a slash.
func splitPath(raw string) ([]string, bool) {
	raw = strings.TrimPrefix(raw, "/")
	raw = strings.TrimSuffix(raw, "/")
	if raw == "" {
		return nil, true
	}
	parts := strings.Split(raw, "/")
	for i, p := range parts {
		u, err := url.PathUnescape(p)
		if err != nil {
			return nil, false
		}
		parts[i] = u
	}
	return parts, true
}

func unescapePath(raw string) string {
	if u, err := url.PathUnescape(raw); err == nil {
		return u
	}
	return raw
}

// request is one parsed ARI call handed to a route handler.
type request struct {
	server *Server
	ctx    context.Context
	method string
	route  string
	path   map[string]string
	params map[string]string
	has    map[string]bool
	// variables is the "variables" object of the JSON body, if any.
	variables map[string]string
	varOrder  []string
	body      []byte
}

// newRequest merges the query string and the keys of a JSON object body
// into one parameter map, as Asterisk does (a query parameter wins).
func newRequest(r *http.Request, path map[string]string, body []byte) (*request, error) {
	rq := &request{ctx: r.Context(), method: r.Method, path: path, params: map[string]string{}, has: map[string]bool{}, body: body}
	trimmed := strings.TrimSpace(string(body))
	if trimmed != "" && trimmed != "null" {
		if !strings.HasPrefix(trimmed, "{") {
			return nil, badBody("Request body is not a JSON object")
		}
		dec := json.NewDecoder(strings.NewReader(trimmed))
		dec.UseNumber()
		var obj map[string]json.RawMessage
		if err := dec.Decode(&obj); err != nil {
			return nil, badBody("Failed to parse request body as JSON")
		}
		keys := make([]string, 0, len(obj))
		for k := range obj {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			v := obj[k]
			if k == "variables" {
				vars, order, err := decodeVariables(v)
				if err != nil {
					return nil, err
				}
				rq.variables, rq.varOrder = vars, order
				continue
			}
			var sv any
			d := json.NewDecoder(strings.NewReader(string(v)))
			d.UseNumber()
			if err := d.Decode(&sv); err != nil {
				continue
			}
			switch x := sv.(type) {
			case string:
				rq.params[k], rq.has[k] = x, true
			case json.Number:
				rq.params[k], rq.has[k] = x.String(), true
			case bool:
				rq.params[k], rq.has[k] = fmt.Sprint(x), true
			}
		}
	}
	for k, vs := range r.URL.Query() {
		if k == "api_key" || len(vs) == 0 {
			continue
		}
		rq.params[k], rq.has[k] = vs[len(vs)-1], true
	}
	return rq, nil
}

// decodeVariables reads {"k":"v",...} keeping the sender's key order,
// because Asterisk applies originate variables in that order.
func decodeVariables(raw json.RawMessage) (map[string]string, []string, error) {
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	tok, err := dec.Token()
	if err != nil {
		return nil, nil, badBody("Failed to parse variables")
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, nil, badBody("Variables must be a JSON object")
	}
	vars := map[string]string{}
	var order []string
	for dec.More() {
		kt, err := dec.Token()
		if err != nil {
			return nil, nil, badBody("Failed to parse variables")
		}
		k, _ := kt.(string)
		var v any
		if err := dec.Decode(&v); err != nil {
			return nil, nil, badBody("Failed to parse variables")
		}
		var sv string
		switch x := v.(type) {
		case string:
			sv = x
		case nil:
			sv = ""
		default:
			b, _ := json.Marshal(x)
			sv = string(b)
		}
		if _, dup := vars[k]; !dup {
			order = append(order, k)
		}
		vars[k] = sv
	}
	return vars, order, nil
}

func (rq *request) param(k string) string { return rq.params[k] }

// badBody is a request body Asterisk would refuse with 400; its text is
// the message of the {"message": ...} body, capitalised as Asterisk's.
type badBody string

// Error returns the message for the response body.
func (e badBody) Error() string { return string(e) }

// response is what a handler answers.
type response struct {
	status      int
	body        any
	raw         []byte
	contentType string
}

func (r response) write(w http.ResponseWriter) {
	switch {
	case r.raw != nil:
		ct := r.contentType
		if ct == "" {
			ct = "application/octet-stream"
		}
		w.Header().Set("Content-Type", ct)
		w.WriteHeader(r.status)
		_, _ = w.Write(r.raw)
	case r.body == nil:
		w.WriteHeader(r.status)
	default:
		writeJSON(w, r.status, r.body)
	}
}

func writeJSON(w http.ResponseWriter, status int, body any) {
	b, err := json.Marshal(body)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"message":"aritest: cannot encode response"}`)
	}
	writeRaw(w, status, b)
}

func writeRaw(w http.ResponseWriter, status int, b []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// errorBody is Asterisk's error shape, {"message": "..."}.
type errorBody struct {
	Message string `json:"message"`
}

func errBody(msg string) errorBody { return errorBody{Message: msg} }

func fail(status int, msg string) response { return response{status: status, body: errBody(msg)} }

func ok(body any) response { return response{status: http.StatusOK, body: body} }

func noContent() response { return response{status: http.StatusNoContent} }

// the ari package is the single source of the JSON shapes.
var _ = ari.TimeLayout
