package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/redis/go-redis/v9"

	"github.com/helpline-it/helpline/ari/aritest"
	"github.com/helpline-it/helpline/cdr"
	"github.com/helpline-it/helpline/cdr/sqlite"
	"github.com/helpline-it/helpline/config"
	"github.com/helpline-it/helpline/internal/testenv"
	"github.com/helpline-it/helpline/ivr"
	"github.com/helpline-it/helpline/queue"
)

const (
	serveCaller = "+393331234567"
	serveKey    = "0123456789abcdef0123456789abcdef-serve"
)

// serveEnv are the secrets serve reads from the environment.
var serveEnv = map[string]string{"HELPLINE_ARI_PASSWORD": "asterisk", "HELPLINE_HMAC_KEY": serveKey}

// serveConfig writes a configuration for an aritest Asterisk and a Redis
// at redisAddr; Italian only, one operator.
func serveConfig(t *testing.T, ariURL, redisAddr string) (file, dbPath string) {
	t.Helper()
	return serveConfigWith(t, ariURL, redisAddr, "", "")
}

// serveConfigWith is serveConfig with top-level keys (ending in a
// newline) after service, and operators after op1001.
func serveConfigWith(t *testing.T, ariURL, redisAddr, top, operators string) (file, dbPath string) {
	t.Helper()
	dir := t.TempDir()
	dbPath = filepath.Join(dir, "cdr.db")
	yaml := fmt.Sprintf(`service: "1522"
%sari:
  url: %s
  app: helpline
  username: asterisk
  password_env: HELPLINE_ARI_PASSWORD
redis:
  addr: %s
cdr:
  path: %s
  spool_dir: %s
privacy:
  hmac_key_env: HELPLINE_HMAC_KEY
http:
  listen: 127.0.0.1:9522
languages:
  it:
    digit: 1
    hours: always
ivr:
  recordings_dir: %s
operators:
  - id: op1001
    endpoint: PJSIP/op1001
    languages: [it]
%s`, top, ariURL, redisAddr, dbPath, filepath.Join(dir, "spool"), filepath.Join(dir, "rec"), operators)
	return writeTemp(t, "helpline.yaml", yaml), dbPath
}

// serving is a `helpline serve` running in process.
type serving struct {
	t      *testing.T
	clock  *clockwork.FakeClock
	srv    *aritest.Server
	addr   string // health/metrics listener
	stderr *testenv.LogBuffer
	cancel context.CancelFunc
	code   chan int
}

// startServe runs `helpline serve args…` with the test's listener, on
// clock, and waits until it is started. It fails the test if it exits.
func startServe(t *testing.T, clock *clockwork.FakeClock, srv *aritest.Server, env map[string]string, args ...string) *serving {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	s := &serving{t: t, clock: clock, srv: srv, stderr: &testenv.LogBuffer{}, cancel: cancel, code: make(chan int, 1)}
	started := make(chan string, 1)
	hooks := &serveHooks{
		listen:  func(string) (net.Listener, error) { return net.Listen("tcp", "127.0.0.1:0") },
		started: func(addr string) { started <- addr },
	}
	go func() { s.code <- execServe(ctx, clock, env, s.stderr, hooks, args...) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-s.code:
		case <-time.After(30 * time.Second):
			t.Error("serve did not stop")
		}
		if t.Failed() {
			t.Logf("serve log:\n%s", s.stderr)
		}
	})
	select {
	case s.addr = <-started:
	case code := <-s.code:
		t.Fatalf("serve exited %d before starting:\n%s", code, s.stderr)
	case <-time.After(30 * time.Second):
		t.Fatalf("serve did not start:\n%s", s.stderr)
	}
	return s
}

// execServe is execute with the serve command's hooks.
func execServe(ctx context.Context, clock clockwork.Clock, env map[string]string, stderr io.Writer, hooks *serveHooks, args ...string) int {
	d := &Deps{Stdin: strings.NewReader(""), Stdout: io.Discard, Stderr: stderr,
		Getenv: func(k string) string { return env[k] }, Clock: clock}
	root := newRootCmd(d)
	for _, c := range root.Commands() {
		if c.Name() == "serve" {
			root.RemoveCommand(c)
		}
	}
	sc := newServeCmdHooks(d, hooks)
	root.AddCommand(sc)
	finishTree(sc)
	root.SetArgs(append([]string{"serve"}, args...))
	_, err := root.ExecuteContextC(ctx)
	if err == nil {
		return exitOK
	}
	var status exitStatus
	if errors.As(err, &status) {
		return int(status)
	}
	fmt.Fprintf(stderr, "helpline: %v\n", err)
	var coder interface{ ExitCode() int }
	if errors.As(err, &coder) {
		return coder.ExitCode()
	}
	return exitUsage
}

// get fetches a path of the health/metrics listener.
func (s *serving) get(path string) (int, string) {
	s.t.Helper()
	resp, err := http.Get("http://" + s.addr + path)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// drive moves the fake clock in small steps until cond holds, polling
// (real time) between steps so the node can react.
func (s *serving) drive(what string, cond func() bool) {
	s.t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			s.t.Fatalf("%s: never happened", what)
		}
		s.clock.Advance(100 * time.Millisecond)
		s.srv.Flush()
		time.Sleep(2 * time.Millisecond)
	}
}

// stop cancels the node's context (SIGTERM) and returns its exit status.
func (s *serving) stop() int {
	s.t.Helper()
	s.cancel()
	for {
		select {
		case code := <-s.code:
			s.code <- code
			return code
		case <-time.After(30 * time.Second):
			s.t.Fatal("serve did not stop")
		default:
			s.clock.Advance(time.Second) // the drain runs on the node's clock
			time.Sleep(2 * time.Millisecond)
		}
	}
}

func readyz(s *serving) func() bool {
	return func() bool { code, _ := s.get("/readyz"); return code == http.StatusOK }
}

// TestServe starts a node against aritest and a real Redis: it becomes
// ready, a call is answered by the operator and leaves its CDR in the
// SQLite store, /metrics counts it, and a SIGTERM-equivalent stop exits 0.
func TestServe(t *testing.T) {
	r := testenv.StartRedis(t)
	clock := clockwork.NewFakeClockAt(time.Date(2026, 11, 23, 15, 0, 0, 0, time.UTC))
	srv := testenv.StartAritest(t, testenv.AritestClock(clock))
	file, dbPath := serveConfig(t, srv.URL, r.Addr)
	s := startServe(t, clock, srv, serveEnv, "--config", file)

	if code, body := s.get("/healthz"); code != http.StatusOK || body != "ok\n" {
		t.Errorf("/healthz %d %q", code, body)
	}
	s.drive("ready", readyz(s))
	if code, body := s.get("/readyz"); body != "ok\n" {
		t.Errorf("/readyz %d %q", code, body)
	}
	// Hostile or stray requests.
	resp, err := http.Post("http://"+s.addr+"/readyz", "text/plain", strings.NewReader("x"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST /readyz: %d", resp.StatusCode)
	}
	if code, _ := s.get("/admin"); code != http.StatusNotFound {
		t.Errorf("/admin: %d", code)
	}

	ctx := context.Background()
	rdb := redis.NewClient(&redis.Options{Addr: r.Addr})
	t.Cleanup(func() { _ = rdb.Close() })
	q, err := queue.NewRedis(rdb, queue.RedisOptions{Prefix: "helpline", Service: "1522"})
	if err != nil {
		t.Fatal(err)
	}
	if err := q.Login(ctx, queue.Operator{ID: "op1001", Endpoint: "PJSIP/op1001", Skills: []string{"it"}}, clock.Now()); err != nil {
		t.Fatal(err)
	}
	call, err := srv.Call(ctx, serveCaller, "800123456", aritest.CallOptions{Script: []aritest.App{{Name: "Wait", Data: "20"}, {Name: "Hangup"}}})
	if err != nil {
		t.Fatal(err)
	}
	s.drive("caller bridged with the operator", func() bool {
		for _, h := range call.Heard() {
			if h.Kind == "bridge" {
				return true
			}
		}
		return false
	})
	if _, body := s.get("/metrics"); !strings.Contains(body, `helpline_ari_ws_connected{app="helpline"} 1`) ||
		!strings.Contains(body, "helpline_serve_redis_fallback 0") || !strings.Contains(body, "helpline_ariapp_active_calls 1") ||
		!strings.Contains(body, "helpline_ivr_active_calls 1") {
		t.Errorf("/metrics lacks the node's series:\n%s", body)
	}
	// The queue, the assign latency and the ARI event stream's counters
	// (serve hands its registry to ari.OpenEvents) are exported.
	_, body := s.get("/metrics")
	wantSeries(t, body, map[string]float64{
		`helpline_queue_up{service="1522"}`:                                 1,
		`helpline_queue_waiting_calls{language="it",service="1522"}`:        0,
		`helpline_queue_longest_wait_seconds{language="it",service="1522"}`: 0,
		`helpline_operators{service="1522",state="busy"}`:                   1,
		`helpline_operators{service="1522",state="available"}`:              0,
		`helpline_assign_seconds_count`:                                     1,
		`helpline_ari_ws_reconnects_total{app="helpline"}`:                  0,
		`helpline_ari_ws_dial_failures_total{app="helpline"}`:               0,
	})

	// SIGTERM during the talk: the node stops being ready but lets the
	// call finish (the caller hangs up 20 s after the answer), then exits.
	s.cancel()
	s.drive("not ready while draining", func() bool {
		code, body := s.get("/readyz")
		return code == http.StatusServiceUnavailable && strings.Contains(body, "draining")
	})
	if _, ended := call.Ended(); ended {
		t.Fatal("the call was cut by the stop")
	}
	if code := s.stop(); code != exitOK {
		t.Fatalf("serve exited %d", code)
	}
	if h, ended := call.Ended(); !ended || h.By != aritest.ByCaller {
		t.Errorf("call end %+v (ended %v), want the caller's own hang-up", h, ended)
	}
	log := s.stderr.String()
	for _, want := range []string{"helpline node started", "helpline node stopped"} {
		if !strings.Contains(log, want) {
			t.Errorf("log lacks %q", want)
		}
	}
	if strings.Contains(log, "3331234567") {
		t.Error("the caller's number is in the log")
	}
	db, err := sqlite.Open(ctx, dbPath, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rec, err := db.Get(ctx, call.ChannelID())
	if err != nil {
		t.Fatalf("CDR: %v", err)
	}
	if rec.Outcome != cdr.Answered || rec.Operator != "op1001" || rec.Fallback || rec.Validate() != nil {
		t.Errorf("CDR %+v (%v)", rec, rec.Validate())
	}
}

// TestServeRedisDown: Redis unreachable at start: the node starts anyway
// on the in-process queue, says so loudly, is ready, and a call still
// gets its CDR (marked fallback).
func TestServeRedisDown(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	deadAddr := ln.Addr().String()
	ln.Close()
	clock := clockwork.NewFakeClockAt(time.Date(2026, 11, 23, 15, 0, 0, 0, time.UTC))
	srv := testenv.StartAritest(t, testenv.AritestClock(clock))
	file, dbPath := serveConfig(t, srv.URL, deadAddr)
	s := startServe(t, clock, srv, serveEnv, "--config", file, "--drain", "5s")
	if !strings.Contains(s.stderr.String(), "REDIS UNREACHABLE AT START") {
		t.Errorf("no loud log line:\n%s", s.stderr)
	}
	s.drive("ready", readyz(s))
	if _, body := s.get("/readyz"); !strings.Contains(body, "redis fallback") {
		t.Errorf("/readyz %q does not mention the fallback", body)
	}
	if _, body := s.get("/metrics"); !strings.Contains(body, "helpline_serve_redis_fallback 1") {
		t.Error("fallback gauge not 1")
	}
	ctx := context.Background()
	call, err := srv.Call(ctx, serveCaller, "800123456", aritest.CallOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// Nobody can log in on the in-process queue yet: the caller hears the
	// unavailable message and the call ends as unanswered.
	s.drive("call over", func() bool { _, ended := call.Ended(); return ended })
	if !call.Answered() {
		t.Error("caller not answered")
	}
	// The call is counted; the in-process queue is what the queue series
	// read; and every metric the Grafana dashboard queries is exported.
	var body string
	s.drive("call counted", func() bool {
		_, body = s.get("/metrics")
		return strings.Contains(body, `helpline_ivr_calls_total{outcome="unanswered"} 1`)
	})
	wantSeries(t, body, map[string]float64{
		`helpline_queue_up{service="1522"}`:                          1,
		`helpline_queue_waiting_calls{language="it",service="1522"}`: 0,
		`helpline_operators{service="1522",state="available"}`:       0,
		`helpline_assign_seconds_count`:                              0,
		`helpline_ivr_cdr_write_failures_total`:                      0,
	})
	checkDashboard(t, body)
	if code := s.stop(); code != exitOK {
		t.Fatalf("serve exited %d", code)
	}
	db, err := sqlite.Open(ctx, dbPath, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rec, err := db.Get(ctx, call.ChannelID())
	if err != nil {
		t.Fatalf("CDR: %v", err)
	}
	if rec.Outcome != cdr.Unanswered || !rec.Fallback || rec.Note != "no_operator" {
		t.Errorf("CDR %+v, want unanswered (no_operator) marked fallback", rec)
	}
}

// TestServeRefuses: serve does not start without its secrets or with bad
// flags, and says why in one place.
func TestServeRefuses(t *testing.T) {
	file, _ := serveConfig(t, "http://127.0.0.1:1", "127.0.0.1:1")
	tests := []struct {
		name string
		env  map[string]string
		args []string
		code int
		want []string
	}{
		{"no hmac key", map[string]string{"HELPLINE_ARI_PASSWORD": "x"}, []string{"--config", file}, exitUsage,
			[]string{"privacy.hmac_key: environment variable HELPLINE_HMAC_KEY", "refusing to start without the privacy key"}},
		{"short hmac key", map[string]string{"HELPLINE_ARI_PASSWORD": "x", "HELPLINE_HMAC_KEY": "short"}, []string{"--config", file}, exitUsage,
			[]string{"privacy.hmac_key", "use at least 32"}},
		{"no ari password", map[string]string{"HELPLINE_HMAC_KEY": serveKey}, []string{"--config", file}, exitUsage,
			[]string{"ari.password: environment variable HELPLINE_ARI_PASSWORD"}},
		{"no config", serveEnv, nil, exitUsage, []string{"missing --config FILE"}},
		{"missing file", serveEnv, []string{"--config", "/nonexistent/helpline.yaml"}, exitUsage, []string{"no such file"}},
		{"bad log level", serveEnv, []string{"--config", file, "--log-level", "loud"}, exitUsage, []string{`--log-level "loud"`}},
		{"negative drain", serveEnv, []string{"--config", file, "--drain", "-1s"}, exitUsage, []string{"--drain"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var stderr testenv.LogBuffer
			code := execServe(context.Background(), clockwork.NewFakeClock(), tc.env, &stderr, nil, tc.args...)
			if code != tc.code {
				t.Errorf("exit %d, want %d; stderr %q", code, tc.code, stderr.String())
			}
			for _, w := range tc.want {
				if !strings.Contains(stderr.String(), w) {
					t.Errorf("stderr %q lacks %q", stderr.String(), w)
				}
			}
			if strings.Contains(stderr.String(), "helpline node started") {
				t.Error("the node started")
			}
		})
	}
}

// TestFlowConfig: the configuration maps onto the call flow's, and the
// result is valid for every shipped example.
func TestFlowConfig(t *testing.T) {
	cfg, err := config.Parse("example.yaml", config.ExampleYAML())
	if err != nil {
		t.Fatal(err)
	}
	ic := flowConfig(cfg)
	if err := ic.Validate(); err != nil {
		t.Fatalf("mapped config invalid: %v", err)
	}
	if len(ic.Languages) != len(cfg.Languages) || ic.Languages[1].Code != "en" || ic.Languages[1].Digit != '2' {
		t.Errorf("languages %+v", ic.Languages)
	}
	if ic.Service != "1522" || ic.Node != "node1" || ic.DefaultLanguage != "it" || ic.VoicemailDigit != '9' ||
		ic.RingTimeout != 20*time.Second || ic.OfferTTL <= ic.RingTimeout || ic.MaxWait != 15*time.Minute ||
		ic.BlockMode != ivr.BlockBusy || ic.MOHClass != "default" || ic.FlaggedWrapUp != 5*time.Minute {
		t.Errorf("mapped %+v", ic)
	}
	for name, m := range map[string]ivr.Media{
		"Welcome": ic.Prompts.Welcome, "Position": ic.Prompts.Position, "ExpectedWait": ic.Prompts.ExpectedWait,
		"Unanswered": ic.Prompts.Unanswered, "VoicemailIntro": ic.Prompts.VoicemailIntro, "Menu[en]": ic.Languages[1].Menu,
	} {
		if !strings.HasPrefix(string(m), "sound:") || strings.Contains(string(m), "{") {
			t.Errorf("%s = %q, want a sound without placeholders", name, m)
		}
	}
	// Every language has its own announcements, in its own recordings.
	for _, l := range cfg.Languages {
		p, ok := ic.LanguagePrompts[l.Code]
		if !ok {
			t.Errorf("no prompts for %s", l.Code)
			continue
		}
		for name, m := range map[string]ivr.Media{"Position": p.Position, "Unanswered": p.Unanswered, "VoicemailIntro": p.VoicemailIntro} {
			if !strings.Contains(string(m), "/"+l.Code+"/") {
				t.Errorf("%s prompt %s = %q, not in that language's recordings", l.Code, name, m)
			}
		}
	}
	if got := ariConfig(cfg, "pw"); got.URL != "http://127.0.0.1:8088/ari" || got.Application != "helpline" {
		t.Errorf("ari config %v", got)
	}
}

// TestServeOperatorLogsInFromThePhone: the whole operator path of a
// deployed node. The softphone op1001 dials the feature line (9000, as in
// the trace sipp_operator_dials_in) and keys *11#: serve's operator handler
// logs op1001 in with the languages of the config, and the next caller is
// bridged with them — nothing but the phone was used.
func TestServeOperatorLogsInFromThePhone(t *testing.T) {
	r := testenv.StartRedis(t)
	clock := clockwork.NewFakeClockAt(time.Date(2026, 11, 23, 15, 0, 0, 0, time.UTC))
	srv := testenv.StartAritest(t, testenv.AritestClock(clock))
	file, _ := serveConfig(t, srv.URL, r.Addr)
	s := startServe(t, clock, srv, serveEnv, "--config", file)
	s.drive("ready", readyz(s))

	ctx := context.Background()
	rdb := redis.NewClient(&redis.Options{Addr: r.Addr})
	t.Cleanup(func() { _ = rdb.Close() })
	q, err := queue.NewRedis(rdb, queue.RedisOptions{Prefix: "helpline", Service: "1522"})
	if err != nil {
		t.Fatal(err)
	}
	phone, err := srv.Call(ctx, "op1001", "9000", aritest.CallOptions{Endpoint: "op1001", CallerName: "Operatore 1001", Language: "en"})
	if err != nil {
		t.Fatal(err)
	}
	s.drive("the feature line answers", phone.Answered)
	if err := phone.SendDTMF("*11#"); err != nil {
		t.Fatal(err)
	}
	s.drive("op1001 logged in from the phone", func() bool {
		op, err := q.Operator(ctx, "op1001")
		return err == nil && op.State == queue.Available
	})
	if op, _ := q.Operator(ctx, "op1001"); !slices.Equal(op.Skills, []string{"it"}) || op.Endpoint != "PJSIP/op1001" {
		t.Errorf("logged in as %+v; want the config's languages [it] and endpoint PJSIP/op1001", op)
	}

	call, err := srv.Call(ctx, serveCaller, "800123456", aritest.CallOptions{Script: []aritest.App{{Name: "Wait", Data: "20"}, {Name: "Hangup"}}})
	if err != nil {
		t.Fatal(err)
	}
	s.drive("caller bridged with the operator who logged in by phone", func() bool {
		for _, h := range call.Heard() {
			if h.Kind == "bridge" {
				return true
			}
		}
		return false
	})
	if code := s.stop(); code != exitOK {
		t.Fatalf("serve exited %d", code)
	}
}
