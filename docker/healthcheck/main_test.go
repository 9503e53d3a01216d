package main

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
)

func TestRun(t *testing.T) {
	var ready atomic.Bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/readyz" {
			http.NotFound(w, r)
			return
		}
		if !ready.Load() {
			http.Error(w, "ari: not connected", http.StatusServiceUnavailable)
			return
		}
		_, _ = w.Write([]byte("ok"))
	}))
	t.Cleanup(srv.Close)
	cases := []struct {
		name  string
		ready bool
		args  []string
		code  int
		out   string
	}{
		{"ready", true, []string{srv.URL + "/readyz"}, 0, "healthy"},
		{"not ready", false, []string{srv.URL + "/readyz"}, 1, "unhealthy: 503 Service Unavailable: ari: not connected"},
		{"nobody listening", true, []string{"http://127.0.0.1:1/readyz"}, 1, "unhealthy:"},
		{"bad URL", true, []string{"::"}, 1, "unhealthy:"},
		{"too many arguments", true, []string{"a", "b"}, 2, "usage:"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ready.Store(tc.ready)
			var out bytes.Buffer
			if code := run(tc.args, &out); code != tc.code || !strings.HasPrefix(out.String(), tc.out) {
				t.Errorf("exit %d, %q; want %d, %q…", code, out.String(), tc.code, tc.out)
			}
		})
	}
}
