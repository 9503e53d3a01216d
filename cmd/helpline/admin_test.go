package main

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/helpline-it/helpline/ari/aritest"
	"github.com/helpline-it/helpline/internal/testenv"
	"github.com/helpline-it/helpline/queue"
)

const adminToken = "adm-7f3c9e1b2d4a6c8e0f1a3b5d7e9c1a2b"

// adminConfig is serveConfig with an admin token read from the
// environment (HELPLINE_ADMIN_TOKEN).
func adminConfig(t *testing.T, ariURL, redisAddr string) string {
	t.Helper()
	file, _ := serveConfig(t, ariURL, redisAddr)
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	yaml := strings.Replace(string(data), "http:\n", "http:\n  admin_token_env: HELPLINE_ADMIN_TOKEN\n", 1)
	if yaml == string(data) {
		t.Fatal("serveConfig has no http section to extend")
	}
	return writeTemp(t, "helpline.yaml", yaml)
}

// adminDo sends one request to the node's listener and returns the status
// and body.
func (s *serving) adminDo(method, path, auth, body string) (int, string) {
	s.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, "http://"+s.addr+path, rd)
	if err != nil {
		s.t.Fatal(err)
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestAdminOff: without a token the admin API answers 403 to everything,
// saying why, the start log says it is off, and nothing changes.
func TestAdminOff(t *testing.T) {
	r := testenv.StartRedis(t)
	clock := clockwork.NewFakeClockAt(time.Date(2026, 11, 23, 15, 0, 0, 0, time.UTC))
	srv := testenv.StartAritest(t, testenv.AritestClock(clock))
	file, _ := serveConfig(t, srv.URL, r.Addr)
	s := startServe(t, clock, srv, serveEnv, "--config", file)
	s.drive("ready", readyz(s))
	if !strings.Contains(s.stderr.String(), "admin API off: no http.admin_token_env or http.admin_token_file configured") {
		t.Errorf("the start log does not say the admin API is off:\n%s", s.stderr)
	}
	for _, rq := range []struct{ method, path, auth string }{
		{http.MethodGet, "/admin/calls", ""},
		{http.MethodPost, "/admin/drain", "Bearer anything"},
		{http.MethodPost, "/admin/operators/op1001/logout", ""},
	} {
		code, body := s.adminDo(rq.method, rq.path, rq.auth, "")
		if code != http.StatusForbidden || !strings.Contains(body, "admin API off") {
			t.Errorf("%s %s: %d %s; want 403 saying the API is off", rq.method, rq.path, code, body)
		}
	}
	if code, body := s.get("/readyz"); code != http.StatusOK {
		t.Errorf("after refused drains /readyz %d %q", code, body)
	}
}

// TestAdminAPI: with a token, a supervisor pauses, unpauses and logs out
// an operator, sees the calls in progress (without numbers) and drains
// the node; every hostile or unauthorised request is a 4xx that changes
// nothing, and the token never reaches the log.
func TestAdminAPI(t *testing.T) {
	r := testenv.StartRedis(t)
	clock := clockwork.NewFakeClockAt(time.Date(2026, 11, 23, 15, 0, 0, 0, time.UTC))
	srv := testenv.StartAritest(t, testenv.AritestClock(clock))
	file := adminConfig(t, srv.URL, r.Addr)
	env := map[string]string{"HELPLINE_ADMIN_TOKEN": adminToken}
	for k, v := range serveEnv {
		env[k] = v
	}
	s := startServe(t, clock, srv, env, "--config", file)
	s.drive("ready", readyz(s))
	if !strings.Contains(s.stderr.String(), "admin API on at /admin/") {
		t.Errorf("the start log does not say the admin API is on:\n%s", s.stderr)
	}
	ctx := context.Background()
	q, err := queue.NewRedis(r.Client(t), queue.RedisOptions{Prefix: "helpline", Service: "1522"})
	if err != nil {
		t.Fatal(err)
	}
	if err := q.Login(ctx, queue.Operator{ID: "op1001", Endpoint: "PJSIP/op1001", Skills: []string{"it"}}, clock.Now()); err != nil {
		t.Fatal(err)
	}
	bearer := "Bearer " + adminToken
	state := func() string {
		t.Helper()
		op, err := q.Operator(ctx, "op1001")
		if err != nil {
			t.Fatal(err)
		}
		return string(op.State) + "/" + op.PauseReason
	}

	// Who may ask.
	for _, auth := range []string{"", "Bearer", "Bearer wrong-token", "Basic " + adminToken, "Bearer " + adminToken + "x", adminToken} {
		for _, path := range []string{"/admin/operators/op1001/pause", "/admin/drain"} {
			code, body := s.adminDo(http.MethodPost, path, auth, "")
			if code != http.StatusUnauthorized || !strings.Contains(body, "missing or wrong token") {
				t.Errorf("auth %q on %s: %d %s; want 401", auth, path, code, body)
			}
		}
	}
	if got := state(); got != "available/" {
		t.Fatalf("unauthorised requests changed op1001 to %s", got)
	}
	if code, _ := s.get("/readyz"); code != http.StatusOK {
		t.Fatalf("an unauthorised drain stopped the node (/readyz %d)", code)
	}

	// Pause with a reason, as a supervisor would.
	code, body := s.adminDo(http.MethodPost, "/admin/operators/op1001/pause", bearer, `{"reason":"left the desk"}`)
	if code != http.StatusOK || !strings.Contains(body, `"state":"paused"`) {
		t.Fatalf("pause: %d %s", code, body)
	}
	if got := state(); got != "paused/left the desk" {
		t.Fatalf("after pause op1001 is %s", got)
	}

	// Hostile requests: a 4xx each, and nothing changes.
	big := `{"reason":"` + strings.Repeat("x", adminMaxBody) + `"}`
	hostile := []struct {
		name, method, path, body string
		code                     int
		says                     string
	}{
		{"oversized body", http.MethodPost, "/admin/operators/op1001/unpause", big, http.StatusRequestEntityTooLarge, "larger than"},
		{"oversized pause", http.MethodPost, "/admin/operators/op1001/pause", big, http.StatusRequestEntityTooLarge, "larger than"},
		{"bad JSON", http.MethodPost, "/admin/operators/op1001/pause", `{"reason":`, http.StatusBadRequest, "not the expected JSON"},
		{"not an object", http.MethodPost, "/admin/operators/op1001/logout", `["x"]`, http.StatusBadRequest, "not the expected JSON"},
		{"unknown field", http.MethodPost, "/admin/operators/op1001/pause", `{"reasn":"x"}`, http.StatusBadRequest, "unknown field"},
		{"trailing data", http.MethodPost, "/admin/operators/op1001/pause", `{"reason":"a"} {}`, http.StatusBadRequest, "after the JSON"},
		{"reason on two lines", http.MethodPost, "/admin/operators/op1001/pause", `{"reason":"a\nb"}`, http.StatusBadRequest, "one line"},
		{"reason on unpause", http.MethodPost, "/admin/operators/op1001/unpause", `{"reason":"a"}`, http.StatusBadRequest, "only a pause"},
		{"body on drain", http.MethodPost, "/admin/drain", `{"now":true}`, http.StatusBadRequest, "unknown field"},
		{"unknown operator", http.MethodPost, "/admin/operators/op9999/logout", "", http.StatusNotFound, `unknown operator \"op9999\"`},
		{"unknown action", http.MethodPost, "/admin/operators/op1001/delete", "", http.StatusNotFound, "unknown operator action"},
		{"dot segments", http.MethodPost, "/admin/operators/../drain", "", http.StatusBadRequest, "dot segments"},
		{"dot segments to another operator", http.MethodPost, "/admin/operators/op9999/../op1001/logout", "", http.StatusBadRequest, "dot segments"},
		{"encoded slash", http.MethodPost, "/admin/operators/op1001%2F..%2Fdrain/logout", "", http.StatusBadRequest, "encoded"},
		{"encoded dots", http.MethodPost, "/admin/operators/%2e%2e/drain", "", http.StatusBadRequest, "encoded"},
		{"backslash (sent as %5C)", http.MethodPost, `/admin/operators/op1001\..\drain/logout`, "", http.StatusBadRequest, "encoded"},
		{"double slash", http.MethodPost, "/admin//drain", "", http.StatusBadRequest, "empty path segments"},
		{"GET a POST endpoint", http.MethodGet, "/admin/drain", "", http.StatusMethodNotAllowed, ""},
		{"DELETE an operator", http.MethodDelete, "/admin/operators/op1001/logout", "", http.StatusMethodNotAllowed, ""},
		{"POST a GET endpoint", http.MethodPost, "/admin/calls", "", http.StatusMethodNotAllowed, ""},
		{"no such endpoint", http.MethodPost, "/admin/shutdown", "", http.StatusNotFound, ""},
	}
	for _, h := range hostile {
		code, body := s.adminDo(h.method, h.path, bearer, h.body)
		if code != h.code || !strings.Contains(body, h.says) {
			t.Errorf("%s: %s %s: %d %s; want %d saying %q", h.name, h.method, h.path, code, body, h.code, h.says)
		}
		if got := state(); got != "paused/left the desk" {
			t.Fatalf("%s changed op1001 to %s", h.name, got)
		}
		if code, _ := s.get("/readyz"); code != http.StatusOK {
			t.Fatalf("%s: the node is no longer ready (%d): it was drained", h.name, code)
		}
	}

	// A caller waits: the supervisor sees the call, never the number.
	call, err := srv.Call(ctx, serveCaller, "800123456", aritest.CallOptions{})
	if err != nil {
		t.Fatal(err)
	}
	s.drive("caller waiting", func() bool {
		snap, err := q.Snapshot(ctx, clock.Now())
		return err == nil && len(snap.Waiting["it"]) == 1
	})
	code, body = s.adminDo(http.MethodGet, "/admin/calls", bearer, "")
	var calls struct {
		Waiting []adminCall `json:"waiting"`
	}
	if err := json.Unmarshal([]byte(body), &calls); code != http.StatusOK || err != nil ||
		len(calls.Waiting) != 1 || calls.Waiting[0].ID != call.ChannelID() || calls.Waiting[0].Language != "it" {
		t.Errorf("GET /admin/calls: %d %s (%v); want the waiting call %s", code, body, err, call.ChannelID())
	}
	if strings.Contains(body, "3331234567") || strings.Contains(body, "1234567") {
		t.Errorf("GET /admin/calls shows the caller's number: %s", body)
	}
	code, body = s.adminDo(http.MethodGet, "/admin/operators", bearer, "")
	if code != http.StatusOK || !strings.Contains(body, `"id":"op1001"`) || !strings.Contains(body, `"pause_reason":"left the desk"`) {
		t.Errorf("GET /admin/operators: %d %s", code, body)
	}

	// Back from the break: the waiting caller is bridged with her.
	if code, body := s.adminDo(http.MethodPost, "/admin/operators/op1001/unpause", bearer, ""); code != http.StatusOK {
		t.Fatalf("unpause: %d %s", code, body)
	}
	s.drive("caller bridged with the operator", func() bool {
		for _, h := range call.Heard() {
			if h.Kind == "bridge" {
				return true
			}
		}
		return false
	})
	if code, body := s.adminDo(http.MethodPost, "/admin/operators/op1001/unpause", bearer, ""); code != http.StatusConflict || !strings.Contains(body, "op1001 is busy") {
		t.Errorf("unpause of a busy operator: %d %s; want 409 naming the state", code, body)
	}
	if err := call.Hangup(); err != nil {
		t.Fatal(err)
	}
	s.drive("operator free again", func() bool {
		st := state()
		return strings.HasPrefix(st, "available") || strings.HasPrefix(st, "wrapup")
	})
	if code, body := s.adminDo(http.MethodPost, "/admin/operators/op1001/logout", bearer, "{}"); code != http.StatusOK || !strings.Contains(body, `"state":"logged_out"`) {
		t.Fatalf("logout: %d %s", code, body)
	}
	if got := state(); got != "logged_out/" {
		t.Fatalf("after logout op1001 is %s", got)
	}

	// Drain: the node stops taking calls and exits as on SIGTERM.
	if code, body := s.adminDo(http.MethodPost, "/admin/drain", bearer, ""); code != http.StatusAccepted || !strings.Contains(body, `"already":false`) {
		t.Fatalf("drain: %d %s", code, body)
	}
	select {
	case code := <-s.code:
		s.code <- code
		if code != exitOK {
			t.Fatalf("serve exited %d after the drain", code)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the node did not stop after the drain")
	}
	log := s.stderr.String()
	for _, want := range []string{"admin: operator pause", "admin: operator unpause", "admin: operator logout",
		"admin: drain requested", "admin request refused", "helpline node stopped"} {
		if !strings.Contains(log, want) {
			t.Errorf("log lacks %q", want)
		}
	}
	if strings.Contains(log, adminToken[4:20]) {
		t.Error("the admin token is in the log")
	}
}

// TestServeNeverLogsTheARIPassword: a node started with a known ARI
// password, once with the right one (a call is handled) and once with a
// wrong one (Asterisk refuses, the node retries and logs it), never
// writes the password to its log.
func TestServeNeverLogsTheARIPassword(t *testing.T) {
	const password = "ari-Pw-5c1e8b7d0a93"
	for _, tc := range []struct {
		name     string
		asterisk string
	}{
		{"accepted", password},
		{"refused", "another-password-entirely"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := testenv.StartRedis(t)
			clock := clockwork.NewFakeClockAt(time.Date(2026, 11, 23, 15, 0, 0, 0, time.UTC))
			srv := testenv.StartAritest(t, testenv.AritestClock(clock),
				testenv.AritestConfig(func(c *aritest.Config) { c.Password = tc.asterisk }))
			file, _ := serveConfig(t, srv.URL, r.Addr)
			env := map[string]string{"HELPLINE_ARI_PASSWORD": password, "HELPLINE_HMAC_KEY": serveKey}
			s := startServe(t, clock, srv, env, "--config", file, "--log-level", "debug")
			if tc.asterisk == password {
				s.drive("ready", readyz(s))
				call, err := srv.Call(context.Background(), serveCaller, "800123456",
					aritest.CallOptions{Script: []aritest.App{{Name: "Wait", Data: "1"}, {Name: "Hangup"}}})
				if err != nil {
					t.Fatal(err)
				}
				s.drive("call over", func() bool { _, ended := call.Ended(); return ended })
			} else {
				s.drive("the refusal logged", func() bool {
					l := s.stderr.String()
					return strings.Contains(l, "401") || strings.Contains(strings.ToLower(l), "unauthorized")
				})
			}
			s.stop()
			log := s.stderr.String()
			if !strings.Contains(log, "helpline node started") {
				t.Fatalf("no log captured:\n%s", log)
			}
			for _, form := range []string{password, "Pw-5c1e8b7d0a93", "5c1e8b7d0a93"} {
				if strings.Contains(log, form) {
					t.Errorf("the ARI password (%q) is in the log:\n%s", form, log)
				}
			}
		})
	}
}

// TestServeListensOnLoopback: the health/metrics/admin listener binds
// loopback unless the configuration says otherwise, and a public address
// is refused at start without allow_public and an admin token.
func TestServeListensOnLoopback(t *testing.T) {
	file, _ := serveConfig(t, "http://127.0.0.1:1", "127.0.0.1:1")
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), "  listen: 127.0.0.1:9522\n") {
		t.Fatal("serveConfig no longer sets http.listen as this test expects")
	}
	noListen := writeTemp(t, "helpline.yaml", strings.Replace(string(data), "  listen: 127.0.0.1:9522\n", "", 1))
	public := writeTemp(t, "helpline.yaml", strings.Replace(string(data), "127.0.0.1:9522", "0.0.0.0:9522", 1))
	publicNoToken := writeTemp(t, "helpline.yaml", strings.Replace(string(data), "  listen: 127.0.0.1:9522\n",
		"  listen: 0.0.0.0:9522\n  allow_public: true\n", 1))

	// The default: the node asks for a loopback address.
	asked := make(chan string, 1)
	hooks := &serveHooks{listen: func(addr string) (net.Listener, error) {
		asked <- addr
		return nil, errors.New("test: not listening")
	}}
	var stderr testenv.LogBuffer
	execServe(context.Background(), clockwork.NewFakeClock(), serveEnv, &stderr, hooks, "--config", noListen)
	select {
	case addr := <-asked:
		host, _, err := net.SplitHostPort(addr)
		if ip := net.ParseIP(host); err != nil || ip == nil || !ip.IsLoopback() {
			t.Errorf("default listener %q is not a loopback address", addr)
		}
	default:
		t.Fatalf("serve never opened its listener:\n%s", stderr.String())
	}

	for _, tc := range []struct{ name, file, want string }{
		{"public address", public, "http.listen: \"0.0.0.0:9522\" is not a loopback address"},
		{"public without a token", publicNoToken, "http.allow_public: a public listener needs http.admin_token_env or http.admin_token_file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var stderr testenv.LogBuffer
			code := execServe(context.Background(), clockwork.NewFakeClock(), serveEnv, &stderr, nil, "--config", tc.file)
			if code == exitOK || !strings.Contains(stderr.String(), tc.want) || strings.Contains(stderr.String(), "helpline node started") {
				t.Errorf("exit %d, stderr %q; want a refusal saying %q", code, stderr.String(), tc.want)
			}
		})
	}
}

// leaveVoicemail: the waiting caller c presses 9, speaks 4 s and ends the
// message with #; it returns once the call is over.
func leaveVoicemail(s *serving, c *aritest.Call) {
	s.t.Helper()
	if err := c.SendDTMF("9"); err != nil {
		s.t.Fatal(err)
	}
	s.drive("recording started", func() bool {
		for _, rq := range s.srv.Requests() {
			if rq.Method == http.MethodPost && rq.Route == "/channels/{channelId}/record" && strings.Contains(rq.Path, c.ChannelID()) {
				return true
			}
		}
		return false
	})
	if err := c.Speak(4 * time.Second); err != nil {
		s.t.Fatal(err)
	}
	for range 50 { // 5 s of the fake clock: the message is spoken
		s.clock.Advance(100 * time.Millisecond)
		s.srv.Flush()
	}
	if err := c.SendDTMF("#"); err != nil {
		s.t.Fatal(err)
	}
	s.drive("voicemail call over", func() bool { _, ended := c.Ended(); return ended })
}

// TestAdminRecordings: a supervisor lists the voicemails and fetches one
// (the WAV Asterisk kept); names that are not voicemail names — paths,
// traversals, encoded separators — are refused before Asterisk is asked.
func TestAdminRecordings(t *testing.T) {
	r := testenv.StartRedis(t)
	clock := clockwork.NewFakeClockAt(time.Date(2026, 11, 23, 15, 0, 0, 0, time.UTC))
	srv := testenv.StartAritest(t, testenv.AritestClock(clock))
	file := adminConfig(t, srv.URL, r.Addr)
	env := map[string]string{"HELPLINE_ADMIN_TOKEN": adminToken}
	for k, v := range serveEnv {
		env[k] = v
	}
	s := startServe(t, clock, srv, env, "--config", file)
	s.drive("ready", readyz(s))
	ctx := context.Background()
	q, err := queue.NewRedis(r.Client(t), queue.RedisOptions{Prefix: "helpline", Service: "1522"})
	if err != nil {
		t.Fatal(err)
	}
	if err := q.Login(ctx, queue.Operator{ID: "op1001", Endpoint: "PJSIP/op1001", Skills: []string{"it"}}, clock.Now()); err != nil {
		t.Fatal(err)
	}
	if err := q.Pause(ctx, "op1001", "break", clock.Now()); err != nil {
		t.Fatal(err)
	}
	c, err := srv.Call(ctx, serveCaller, "800123456", aritest.CallOptions{})
	if err != nil {
		t.Fatal(err)
	}
	s.drive("caller waiting", func() bool {
		for _, h := range c.Heard() {
			if h.Kind == "moh" {
				return true
			}
		}
		return false
	})
	leaveVoicemail(s, c)
	name := "vm-" + c.ChannelID()
	bearer := "Bearer " + adminToken

	code, body := s.adminDo(http.MethodGet, "/admin/recordings", bearer, "")
	if code != http.StatusOK || !strings.Contains(body, `"name":"`+name+`"`) {
		t.Fatalf("GET /admin/recordings: %d %s; want %s listed", code, body, name)
	}
	code, body = s.adminDo(http.MethodGet, "/admin/recordings/"+name, bearer, "")
	if code != http.StatusOK || !strings.HasPrefix(body, "RIFF") || len(body) < 44+8000 {
		t.Fatalf("GET /admin/recordings/%s: %d, %d bytes; want the WAV", name, code, len(body))
	}
	if code, _ := s.adminDo(http.MethodGet, "/admin/recordings/"+name, "", ""); code != http.StatusUnauthorized {
		t.Errorf("a recording without the token: %d, want 401", code)
	}
	for _, h := range []struct {
		path string
		code int
	}{
		{"/admin/recordings/../../etc/passwd", http.StatusBadRequest},
		{"/admin/recordings/vm-..%2F..%2Fetc%2Fpasswd", http.StatusBadRequest},
		{"/admin/recordings/%2Fetc%2Fpasswd", http.StatusBadRequest},
		{"/admin/recordings//etc/passwd", http.StatusBadRequest},
		{"/admin/recordings/vm-a..b", http.StatusBadRequest},
		{"/admin/recordings/" + c.ChannelID(), http.StatusBadRequest}, // not a voicemail name
		{"/admin/recordings/vm-%00", http.StatusBadRequest},
		{"/admin/recordings/vm-" + strings.Repeat("9", 200), http.StatusBadRequest},
		{"/admin/recordings/vm-nothing-here", http.StatusNotFound},
		{"/admin/recordings/" + name + "/file", http.StatusNotFound},
	} {
		if code, body := s.adminDo(http.MethodGet, h.path, bearer, ""); code != h.code {
			t.Errorf("GET %s: %d %s; want %d", h.path, code, body, h.code)
		}
	}
	if code, _ := s.adminDo(http.MethodDelete, "/admin/recordings/"+name, bearer, ""); code != http.StatusMethodNotAllowed {
		t.Errorf("DELETE a recording: %d, want 405", code)
	}
	// The refused requests reached no further than the API: Asterisk was
	// asked only for the good name and the missing one, and the
	// recording is still there.
	for _, rq := range srv.Requests() {
		if strings.HasPrefix(rq.Path, "/recordings/stored/") &&
			!strings.HasPrefix(rq.Path, "/recordings/stored/"+name) && !strings.HasPrefix(rq.Path, "/recordings/stored/vm-nothing-here") {
			t.Errorf("Asterisk was asked for %s %s", rq.Method, rq.RawPath)
		}
	}
	if code, _ := s.adminDo(http.MethodGet, "/admin/recordings/"+name, bearer, ""); code != http.StatusOK {
		t.Errorf("the recording is gone after the hostile requests: %d", code)
	}
}
