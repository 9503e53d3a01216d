package ari_test

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/helpline-it/helpline/ari"
)

// TestDefaultClientKeepsConnections: a burst of concurrent requests, then
// a second burst, must reuse the first burst's connections. With
// net/http's default of two idle connections per host the second burst
// would dial again for all but two of them.
func TestDefaultClientKeepsConnections(t *testing.T) {
	const burst = 32
	var dialled atomic.Int64
	var arrived sync.WaitGroup
	var release atomic.Pointer[chan struct{}]
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		arrived.Done()
		<-*release.Load() // hold every request until the whole burst is in flight
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"id":"x"}`))
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			dialled.Add(1)
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)
	c, err := ari.NewClient(ari.Config{URL: srv.URL + "/ari", Username: "u", Password: "p", Application: "helpline"})
	if err != nil {
		t.Fatal(err)
	}
	round := func() {
		t.Helper()
		arrived.Add(burst)
		gate := make(chan struct{})
		release.Store(&gate)
		var done sync.WaitGroup
		for range burst {
			done.Add(1)
			go func() {
				defer done.Done()
				if err := c.Do(context.Background(), &ari.Request{Method: http.MethodGet, Path: "asterisk/info"}, nil); err != nil {
					t.Error(err)
				}
			}()
		}
		arrived.Wait()
		close(gate)
		done.Wait()
	}
	round()
	first := dialled.Load()
	round()
	if again := dialled.Load() - first; again != 0 {
		t.Errorf("second burst of %d requests dialled %d new connections (first burst: %d); want 0", burst, again, first)
	}
}
