package aritest_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/helpline-it/helpline/internal/testenv"
)

// recordingTB captures what StartAritest reports at cleanup.
type recordingTB struct {
	testing.TB
	errors   []string
	cleanups []func()
}

func (r *recordingTB) Helper()                   {}
func (r *recordingTB) Logf(string, ...any)       {}
func (r *recordingTB) Cleanup(f func())          { r.cleanups = append(r.cleanups, f) }
func (r *recordingTB) Errorf(f string, a ...any) { r.errors = append(r.errors, f) }

func (r *recordingTB) finish() {
	for i := len(r.cleanups) - 1; i >= 0; i-- {
		r.cleanups[i]()
	}
}

// StartAritest fails the test that used an unemulated route, unless told
// the test checks gaps itself.
func TestStartAritestFailsOnGaps(t *testing.T) {
	for _, tc := range []struct {
		name  string
		opts  []testenv.AritestOption
		fails bool
	}{
		{"gap fails the test", nil, true},
		{"gap allowed", []testenv.AritestOption{testenv.AllowAritestGaps()}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := &recordingTB{TB: t}
			srv := testenv.StartAritest(rec, tc.opts...)
			req, _ := http.NewRequest("GET", srv.URL+"/ari/sounds", nil)
			req.Header.Set("Authorization", srv.BasicAuth())
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			rec.finish()
			failed := len(rec.errors) > 0
			if failed != tc.fails {
				t.Fatalf("test failed = %v (%v), want %v", failed, rec.errors, tc.fails)
			}
			if failed && !strings.Contains(rec.errors[0], "does not emulate") {
				t.Fatalf("failure message %q", rec.errors[0])
			}
		})
	}
	// and a clean run does not fail
	rec := &recordingTB{TB: t}
	testenv.StartAritest(rec)
	rec.finish()
	if len(rec.errors) > 0 {
		t.Fatalf("clean run failed: %v", rec.errors)
	}
}
