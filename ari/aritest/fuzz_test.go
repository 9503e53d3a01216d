package aritest_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/helpline-it/helpline/ari/aritest"
)

// FuzzServeHTTP sends hostile requests to a world with a call in Stasis.
// Whatever arrives, the emulator must not panic and must answer with a
// status Asterisk uses and, when there is a body, JSON (or the WAV of a
// recording).
func FuzzServeHTTP(f *testing.F) {
	for _, seed := range []struct{ method, target, body string }{
		{"POST", "/ari/channels?endpoint=PJSIP/op1001&app=helpline&appArgs=a,b", `{"variables":{"CALLERID(name)":"x","V":1}}`},
		{"POST", "/ari/channels/CHAN/play?media=sound:x,sound:y&playbackId=p", ""},
		{"POST", "/ari/channels/CHAN/record?name=a%2Fb&format=wav&maxDurationSeconds=-1", ""},
		{"POST", "/ari/bridges?type=mixing,holding,bogus", "[1,2]"},
		{"POST", "/ari/bridges/b/addChannel?channel=,,CHAN", "{"},
		{"DELETE", "/ari/channels/CHAN?reason_code=abc", "null"},
		{"GET", "/ari/recordings/stored/%2e%2e%2F..%2Fetc", ""},
		{"POST", "/ari/playbacks/p/control?operation=forward", `{"operation":7}`},
		{"PUT", "/ari/applications/helpline/eventFilter", `{"filter":{"allowed":[{"type":"StasisStart"}]}}`},
		{"GET", "/ari/channels/CHAN/variable?variable=CHANNEL(", ""},
	} {
		f.Add(seed.method, seed.target, seed.body)
	}
	clock := clockwork.NewFakeClockAt(time.Date(2026, 11, 23, 15, 0, 0, 0, time.UTC))
	srv := aritest.NewUnstartedServer(aritest.Config{Clock: clock})
	f.Cleanup(srv.Close)
	statuses := map[int]bool{200: true, 201: true, 204: true, 400: true, 401: true, 404: true, 405: true, 409: true, 412: true, 422: true, 500: true}
	f.Fuzz(func(t *testing.T, method, target, body string) {
		if !strings.HasPrefix(target, "/") || strings.Contains(target, "/events") {
			return
		}
		req, err := http.NewRequest(method, "http://aritest"+target, strings.NewReader(body))
		if err != nil {
			return
		}
		req.Header.Set("Authorization", srv.BasicAuth())
		rec := httptest.NewRecorder()
		done := make(chan struct{})
		go func() { defer close(done); srv.ServeHTTP(rec, req) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Fatalf("%s %s %q: no answer in 5 s", method, target, body)
		}
		if !statuses[rec.Code] {
			t.Fatalf("%s %s: status %d", method, target, rec.Code)
		}
		b := rec.Body.Bytes()
		if len(b) > 0 && rec.Header().Get("Content-Type") == "application/json" && !json.Valid(b) {
			t.Fatalf("%s %s: invalid JSON body %q", method, target, b)
		}
		clock.Advance(time.Second)
		srv.Flush()
	})
}
