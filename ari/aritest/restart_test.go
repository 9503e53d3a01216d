package aritest_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/helpline-it/helpline/ari/aritest"
)

// TestRestartAsterisk: a restart cuts the app's socket before anything
// else (no event of the teardown reaches it), takes every channel and
// bridge with it (the caller hears the line drop), keeps the stored
// recordings, forgets the app and reports a new startup time; the app
// connects again and takes new calls.
func TestRestartAsterisk(t *testing.T) {
	f := newFixture(t)
	ctx := ctxFor(t)
	call, err := f.srv.Call(ctx, "+393331234567", "800123456", aritest.CallOptions{})
	if err != nil {
		t.Fatal(err)
	}
	id := chanID(f.app.await("StasisStart", nil))
	f.expect(f.do(http.MethodPost, "/channels/"+id+"/answer", "", nil), http.StatusNoContent, "answer")
	f.expect(f.do(http.MethodPost, "/bridges", q("bridgeId", "br1", "type", "mixing"), nil), http.StatusOK, "bridge")
	f.expect(f.do(http.MethodPost, "/channels/"+id+"/record", q("name", "vm-1", "format", "wav"), nil), http.StatusCreated, "record")
	f.app.await("RecordingStarted", nil)
	f.advance(3 * time.Second)
	before := f.do(http.MethodGet, "/asterisk/info", "", nil).body["status"].(map[string]any)["startup_time"]
	seen := len(f.app.types())

	f.srv.RestartAsterisk()

	f.app.mu.Lock()
	for !f.app.closed {
		f.app.cond.Wait()
	}
	f.app.mu.Unlock()
	if got := f.app.types(); len(got) != seen {
		t.Errorf("events after the restart reached the app: %q", got[seen:])
	}
	if n := len(f.do(http.MethodGet, "/channels", "", nil).list); n != 0 {
		t.Errorf("%d channels after the restart", n)
	}
	if n := len(f.do(http.MethodGet, "/bridges", "", nil).list); n != 0 {
		t.Errorf("%d bridges after the restart", n)
	}
	if n := len(f.do(http.MethodGet, "/applications", "", nil).list); n != 0 {
		t.Errorf("%d applications after the restart, want none until they reconnect", n)
	}
	f.expect(f.do(http.MethodGet, "/recordings/stored/vm-1", "", nil), http.StatusOK, "the recording kept")
	after := f.do(http.MethodGet, "/asterisk/info", "", nil).body["status"].(map[string]any)["startup_time"]
	if after == before {
		t.Errorf("startup_time %v did not change", after)
	}
	h, ended := call.Ended()
	if !ended || h.By != aritest.ByNetwork || h.Cause != 38 {
		t.Errorf("the caller's call: %+v, ended %v; want dropped by the network, cause 38", h, ended)
	}

	app := f.connect("helpline", false)
	if _, err := f.srv.Call(ctx, "+393339999999", "800123456", aritest.CallOptions{}); err != nil {
		t.Fatal(err)
	}
	app.await("StasisStart", nil)
}
