package ari_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/helpline-it/helpline/ari"
)

const (
	testUser     = "helpline"
	testPassword = "s3cret-ari-pw"
)

// replayServer answers each request with the recorded response of the
// first trace exchange with the same method, escaped path, query and body,
// and fails the test on a request no trace line matches.
type replayServer struct {
	t    *testing.T
	srv  *httptest.Server
	mu   sync.Mutex
	exs  []exchange
	used []bool
	seen []traceLine // requests as received, in trace form
}

func newReplayServer(t *testing.T, exs []exchange) *replayServer {
	t.Helper()
	rs := &replayServer{t: t, exs: exs, used: make([]bool, len(exs))}
	rs.srv = httptest.NewServer(http.HandlerFunc(rs.serve))
	t.Cleanup(rs.srv.Close)
	return rs
}

func (rs *replayServer) client(t *testing.T) *ari.Client {
	t.Helper()
	return rs.clientWithPassword(t, testPassword)
}

func (rs *replayServer) clientWithPassword(t *testing.T, pw string) *ari.Client {
	t.Helper()
	c, err := ari.NewClient(ari.Config{URL: rs.srv.URL + "/ari", Username: testUser, Password: pw, Application: "helpline"})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func canonJSON(raw []byte) string {
	if len(bytes.TrimSpace(raw)) == 0 {
		return "null"
	}
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return "invalid:" + string(raw)
	}
	b, _ := json.Marshal(v)
	return string(b)
}

func (rs *replayServer) serve(w http.ResponseWriter, r *http.Request) {
	// The trace marks purposely bad credentials with "auth"; a request
	// only matches lines recorded with the same kind of credentials.
	auth := ""
	switch user, pw, ok := r.BasicAuth(); {
	case !ok || pw == "":
		auth = "none"
	case user != testUser || pw != testPassword:
		auth = "wrong-password"
	}
	body, _ := io.ReadAll(r.Body)
	q := map[string]string{}
	for k, v := range r.URL.Query() {
		q[k] = strings.Join(v, "\x00")
	}
	rs.mu.Lock()
	qraw, _ := json.Marshal(q)
	rs.seen = append(rs.seen, traceLine{Method: r.Method, Path: r.URL.EscapedPath(), Query: qraw, Body: body})
	var match *exchange
	for i := range rs.exs {
		ex := &rs.exs[i]
		if !rs.used[i] && ex.req.Auth == auth && ex.req.Method == r.Method && ex.req.Path == r.URL.EscapedPath() &&
			reflect.DeepEqual(ex.req.queryMap(rs.t), q) && canonJSON(ex.req.Body) == canonJSON(body) {
			match = ex
			rs.used[i] = true
			break
		}
	}
	rs.mu.Unlock()
	if match == nil {
		rs.t.Errorf("no trace request matches %s %s query=%v body=%s", r.Method, r.URL.EscapedPath(), q, body)
		http.Error(w, "unmatched", 599)
		return
	}
	writeRecorded(w, match.resp)
}

func writeRecorded(w http.ResponseWriter, resp traceLine) {
	if resp.ContentType != "" {
		w.Header().Set("Content-Type", resp.ContentType)
	}
	switch {
	case resp.BodyBytes > 0:
		w.WriteHeader(resp.Status)
		_, _ = w.Write(bytes.Repeat([]byte{'R'}, resp.BodyBytes))
	case len(resp.Body) > 0 && string(resp.Body) != "null":
		w.WriteHeader(resp.Status)
		_, _ = w.Write(resp.Body)
	default:
		w.WriteHeader(resp.Status)
	}
}

// TestDoReplaysRecordedStatuses sends every REST call of rest_errors.jsonl
// and record_voicemail.jsonl through Client.Do and checks the outcome
// against what the real Asterisk answered.
func TestDoReplaysRecordedStatuses(t *testing.T) {
	for _, file := range []string{"rest_errors.jsonl", "record_voicemail.jsonl"} {
		exs := traceExchanges(t, file)
		if len(exs) < 10 {
			t.Fatalf("%s: only %d exchanges", file, len(exs))
		}
		rs := newReplayServer(t, exs)
		c := rs.client(t)
		for _, ex := range exs {
			name := fmt.Sprintf("%s:%d %s %s", file, ex.req.line, ex.req.Method, ex.req.Path)
			path := strings.TrimPrefix(ex.req.Path, "/ari")
			q := url.Values{}
			for k, v := range ex.req.queryMap(t) {
				q.Set(k, v)
			}
			var body any
			if canonJSON(ex.req.Body) != "null" {
				body = json.RawMessage(ex.req.Body)
			}
			var out json.RawMessage
			target := any(&out)
			if ex.resp.BodyBytes > 0 {
				target = nil // binary audio: StoredFile's job, tested below
			}
			cl := c
			switch ex.req.Auth {
			case "wrong-password":
				cl = rs.clientWithPassword(t, "wrong")
			case "none":
				cl = rs.clientWithPassword(t, "")
			}
			err := cl.Do(context.Background(), &ari.Request{Method: ex.req.Method, Path: path, Query: q, Body: body}, target)
			checkOutcome(t, name, ex, path, err, out)
		}
	}
}

func checkOutcome(t *testing.T, name string, ex exchange, path string, err error, out json.RawMessage) {
	t.Helper()
	st := ex.resp.Status
	if st >= 200 && st < 300 {
		if err != nil {
			t.Errorf("%s: recorded %d, got error %v", name, st, err)
			return
		}
		if ex.resp.BodyBytes == 0 && canonJSON(out) != canonJSON(ex.resp.Body) {
			t.Errorf("%s: body %s, want %s", name, out, ex.resp.Body)
		}
		return
	}
	var ae *ari.Error
	if !errors.As(err, &ae) {
		t.Errorf("%s: recorded %d, got %T %v, want *ari.Error", name, st, err, err)
		return
	}
	var rec struct{ Message, Error string }
	_ = json.Unmarshal(ex.resp.Body, &rec)
	want := rec.Message
	if want == "" {
		want = rec.Error
	}
	if ae.Status != st || ae.Message != want || ae.Method != ex.req.Method || ae.Path != path {
		t.Errorf("%s: error %+v, want status %d message %q path %q", name, *ae, st, want, path)
	}
	sentinels := map[int]error{400: ari.ErrBadRequest, 401: ari.ErrUnauthorized, 404: ari.ErrNotFound,
		405: ari.ErrMethodNotAllowed, 409: ari.ErrConflict, 422: ari.ErrUnprocessable, 500: ari.ErrServer}
	s, ok := sentinels[st]
	if !ok {
		t.Errorf("%s: status %d has no sentinel in this test", name, st)
		return
	}
	for _, other := range sentinels {
		if got := errors.Is(err, other); got != (other == s) {
			t.Errorf("%s: errors.Is(err, %v) = %v", name, other, got)
		}
	}
	var te *ari.TransportError
	if errors.As(err, &te) {
		t.Errorf("%s: a refusal must not be a *TransportError", name)
	}
}

// TestTypedCallsMatchRecordedRequests drives the typed methods and checks
// that each sends exactly a request the real Asterisk saw (method, escaped
// path, query, body), then checks the decoded result.
func TestTypedCallsMatchRecordedRequests(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		file string
		name string
		call func(c *ari.Client) error
	}{
		{"queue_moh_then_bridge_operator.jsonl", "originate with variables body", func(c *ari.Client) error {
			ch, err := c.Channels().Originate(ctx, ari.OriginateParams{
				Endpoint: "Local/op1003@operators", App: "helpline", AppArgs: "operator,op1003,1795446056.43",
				CallerID: "Helpline <800123456>", Timeout: 30, ChannelID: "op-1795446056.43",
				Variables: map[string]string{"CALLERID(name)": "Helpline IT", "HELPLINE_CALLER": "1795446056.43"},
			})
			if err == nil && (ch.ID != "op-1795446056.43" || ch.State != ari.ChannelStateDown) {
				err = fmt.Errorf("channel %+v", ch)
			}
			return err
		}},
		{"queue_moh_then_bridge_operator.jsonl", "bridge create", func(c *ari.Client) error {
			b, err := c.Bridges().Create(ctx, ari.BridgeParams{Type: "mixing", ID: "bridge-1795446056.43", Name: "call-1795446056.43"})
			if err == nil && (b.BridgeType != ari.BridgeTypeMixing || b.CreationTime.IsZero()) {
				err = fmt.Errorf("bridge %+v", b)
			}
			return err
		}},
		{"queue_moh_then_bridge_operator.jsonl", "moh with class", func(c *ari.Client) error {
			return c.Channels().StartMOH(ctx, "1795446056.43", "default")
		}},
		{"inbound_answer_play_dtmf_hangup.jsonl", "play with playbackId query", func(c *ari.Client) error {
			pb, err := c.Channels().Play(ctx, "1795446033.2", ari.PlayParams{Media: []string{"sound:demo-congrats"}, Lang: "it", PlaybackID: "pb-welcome-1795446033.2"})
			if err == nil && (pb.State != ari.PlaybackStateQueued || pb.TargetURI != "channel:1795446033.2") {
				err = fmt.Errorf("playback %+v", pb)
			}
			return err
		}},
		{"inbound_answer_play_dtmf_hangup.jsonl", "answer 204", func(c *ari.Client) error {
			return c.Channels().Answer(ctx, "1795446033.2")
		}},
		{"record_voicemail.jsonl", "record", func(c *ari.Client) error {
			lr, err := c.Channels().Record(ctx, "1795446089.125", ari.RecordParams{Name: "vm-test-1", Format: "wav",
				MaxDurationSeconds: 30, MaxSilenceSeconds: 10, Beep: true, TerminateOn: "#", IfExists: "overwrite"})
			if err == nil && lr.State != ari.LiveRecordingStateQueued {
				err = fmt.Errorf("recording %+v", lr)
			}
			return err
		}},
		{"record_voicemail.jsonl", "copy to a name with a slash", func(c *ari.Client) error {
			sr, err := c.Recordings().CopyStored(ctx, "vm-test-1", "folder/vm-test-1")
			if err == nil && sr.Name != "folder/vm-test-1" {
				err = fmt.Errorf("copy %+v", sr)
			}
			return err
		}},
		{"record_voicemail.jsonl", "delete a name with a slash is %2F", func(c *ari.Client) error {
			return c.Recordings().DeleteStored(ctx, "folder/vm-test-1")
		}},
		{"record_voicemail.jsonl", "stored file bytes", func(c *ari.Client) error {
			b, ct, err := c.Recordings().StoredFileBytes(ctx, "vm-test-1", 1<<20)
			if err == nil && (len(b) != 81822 || ct != "audio/wav") {
				err = fmt.Errorf("file: %d bytes %q", len(b), ct)
			}
			return err
		}},
		{"record_voicemail.jsonl", "stored file larger than the limit", func(c *ari.Client) error {
			_, _, err := c.Recordings().StoredFileBytes(ctx, "vm-test-1", 1000)
			var te *ari.TransportError
			if !errors.As(err, &te) || !strings.Contains(err.Error(), "larger than 1000") {
				return fmt.Errorf("want a size error, got %v", err)
			}
			return nil
		}},
		{"record_voicemail.jsonl", "live recording, then gone", func(c *ari.Client) error {
			lr, err := c.Recordings().Live(ctx, "vm-test-1")
			if err != nil || lr.State != ari.LiveRecordingStateRecording {
				return fmt.Errorf("first GET: %+v %v", lr, err)
			}
			_, err = c.Recordings().Live(ctx, "vm-test-1")
			if !errors.Is(err, ari.ErrNotFound) {
				return fmt.Errorf("want ErrNotFound, got %v", err)
			}
			return nil
		}},
		{"rest_errors.jsonl", "hangup reason_code", func(c *ari.Client) error {
			return c.Channels().HangupWithCode(ctx, "1795446103.142", 17)
		}},
		{"rest_errors.jsonl", "originate allocation failed uses the error key", func(c *ari.Client) error {
			_, err := c.Channels().Originate(ctx, ari.OriginateParams{Endpoint: "Bogus/123", App: "helpline"})
			var ae *ari.Error
			if !errors.As(err, &ae) {
				return fmt.Errorf("want *ari.Error, got %v", err)
			}
			return nil
		}},
		{"rest_errors.jsonl", "send dtmf", func(c *ari.Client) error {
			return c.Channels().SendDTMF(ctx, "1795446103.142", ari.DTMFParams{Digits: "12#"})
		}},
		{"rest_errors.jsonl", "asterisk info", func(c *ari.Client) error {
			info, err := c.Asterisk().Info(ctx)
			if err == nil && (info.System == nil || info.System.Version != "22.10.1" || info.Status == nil || info.Status.StartupTime.IsZero()) {
				err = fmt.Errorf("info %+v", info)
			}
			return err
		}},
		{"rest_errors.jsonl", "ping", func(c *ari.Client) error {
			p, err := c.Asterisk().Ping(ctx)
			if err == nil && p.Ping != "pong" {
				err = fmt.Errorf("ping %+v", p)
			}
			return err
		}},
		{"rest_errors.jsonl", "endpoint", func(c *ari.Client) error {
			e, err := c.Endpoints().Get(ctx, "PJSIP", "op1001")
			if err == nil && e.State != ari.EndpointStateOnline {
				err = fmt.Errorf("endpoint %+v", e)
			}
			return err
		}},
		{"rest_errors.jsonl", "endpoints", func(c *ari.Client) error {
			es, err := c.Endpoints().List(ctx)
			if err == nil && len(es) == 0 {
				err = errors.New("no endpoints")
			}
			return err
		}},
		{"rest_errors.jsonl", "device states", func(c *ari.Client) error {
			_, err := c.DeviceStates().List(ctx)
			return err
		}},
		{"rest_errors.jsonl", "application", func(c *ari.Client) error {
			a, err := c.Applications().Get(ctx, "helpline")
			if err == nil && (a.Name != "helpline" || len(a.ChannelIDs) != 1) {
				err = fmt.Errorf("application %+v", a)
			}
			return err
		}},
		{"rest_errors.jsonl", "unknown application", func(c *ari.Client) error {
			_, err := c.Applications().Get(ctx, "nope")
			if !errors.Is(err, ari.ErrNotFound) {
				return fmt.Errorf("want ErrNotFound, got %v", err)
			}
			return nil
		}},
		{"app_reconnect.jsonl", "list channels after reconnect", func(c *ari.Client) error {
			chs, err := c.Channels().List(ctx)
			if err == nil && (len(chs) != 2 || chs[0].State != ari.ChannelStateUp || chs[0].Dialplan.AppName != "Stasis") {
				err = fmt.Errorf("channels %+v", chs)
			}
			return err
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rs := newReplayServer(t, traceExchanges(t, tt.file))
			if err := tt.call(rs.client(t)); err != nil {
				t.Fatal(err)
			}
			if len(rs.seen) == 0 {
				t.Fatal("no request reached the server")
			}
		})
	}
}
