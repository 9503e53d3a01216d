package main

import (
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/helpline-it/helpline/internal/testenv"
)

// benchFigure reads "name: <number>..." from the bench's output.
func benchFigure(t *testing.T, out, name string) float64 {
	t.Helper()
	m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(name) + `: ([0-9.]+)`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no %q line in:\n%s", name, out)
	}
	v, err := strconv.ParseFloat(m[1], 64)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return v
}

// TestBenchTiny runs `helpline bench` small (2 s at 10 calls/s, against a
// test Redis and SQLite) and checks that nothing is lost and that every
// figure is printed in a form a script can read.
func TestBenchTiny(t *testing.T) {
	r := testenv.StartRedis(t)
	for _, store := range []string{"sqlite", "memory"} {
		t.Run(store, func(t *testing.T) {
			res := runCLI(t, nil, "", "bench", "--rate", "10", "--duration", "2s", "--operators", "5",
				"--talk", "100ms", "--hold", "5s", "--prompt", "50ms", "--redis", r.Addr, "--cdr", store, "--quiet")
			if res.code != 0 {
				t.Fatalf("exit %d, stderr %q, stdout:\n%s", res.code, res.stderr, res.stdout)
			}
			out := res.stdout
			placed := benchFigure(t, out, "calls placed")
			if placed < 1 {
				t.Fatalf("no call placed:\n%s", out)
			}
			if lost := benchFigure(t, out, "lost calls"); lost != 0 {
				t.Errorf("lost calls %v", lost)
			}
			if lost := benchFigure(t, out, "lost cdrs"); lost != 0 {
				t.Errorf("lost cdrs %v", lost)
			}
			if v := benchFigure(t, out, "call setups/s"); !(v > 0) {
				t.Errorf("call setups/s %v", v)
			}
			if v := benchFigure(t, out, "redis round trips per call"); !(v >= 2) {
				t.Errorf("redis round trips per call %v: every call runs at least Enqueue and the blacklist lookup", v)
			}
			if v := benchFigure(t, out, "cdr writes/s"); !(v > 0) {
				t.Errorf("cdr writes/s %v", v)
			}
			if v := benchFigure(t, out, "peak rss"); !(v > 0) {
				t.Errorf("peak rss %v", v)
			}
			for _, step := range []string{"latency StasisStart->answer", "latency DTMF->next prompt"} {
				m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(step) + `: n=(\d+) p50=([0-9.]+)ms p99=([0-9.]+)ms max=([0-9.]+)ms$`).FindStringSubmatch(out)
				if m == nil {
					t.Fatalf("no parsable %q line in:\n%s", step, out)
				}
				if n, _ := strconv.Atoi(m[1]); n != int(placed) {
					t.Errorf("%s: n=%d, want one per call (%v)", step, n, placed)
				}
			}
			if !strings.Contains(out, "latency DTMF->originate (operator free): n=") {
				t.Errorf("no originate latency line:\n%s", out)
			}
		})
	}
}

// TestBenchPostgres runs the tiny bench against a real PostgreSQL record
// store (a private server, as the cdr/postgres tests start).
func TestBenchPostgres(t *testing.T) {
	pg := testenv.StartPostgres(t)
	r := testenv.StartRedis(t)
	res := runCLI(t, nil, "", "bench", "--rate", "10", "--duration", "1s", "--operators", "3",
		"--talk", "100ms", "--prompt", "50ms", "--redis", r.Addr, "--cdr", pg.NewDatabase(t), "--quiet")
	if res.code != 0 {
		t.Fatalf("exit %d, stderr %q, stdout:\n%s", res.code, res.stderr, res.stdout)
	}
	if strings.Contains(res.stdout+res.stderr, pg.Password) {
		t.Error("the PostgreSQL password reached the output")
	}
	if !strings.Contains(res.stdout, ", cdr postgres, ") {
		t.Errorf("store not named postgres:\n%s", res.stdout)
	}
	if v := benchFigure(t, res.stdout, "lost cdrs"); v != 0 {
		t.Errorf("lost cdrs %v", v)
	}
	if v := benchFigure(t, res.stdout, "calls placed"); v < 1 {
		t.Errorf("calls placed %v", v)
	}
}

// TestBenchPlateau checks the memory run: every call waits at once, then
// drains when the operators come back.
func TestBenchPlateau(t *testing.T) {
	r := testenv.StartRedis(t)
	res := runCLI(t, nil, "", "bench", "--rate", "50", "--plateau", "20", "--operators", "5",
		"--talk", "50ms", "--prompt", "50ms", "--redis", r.Addr, "--cdr", "memory", "--quiet")
	if res.code != 0 {
		t.Fatalf("exit %d, stderr %q, stdout:\n%s", res.code, res.stderr, res.stdout)
	}
	if v := benchFigure(t, res.stdout, "calls waiting at once"); v != 20 {
		t.Errorf("calls waiting at once %v, want 20", v)
	}
	if v := benchFigure(t, res.stdout, "heap per active call"); !(v > 0) {
		t.Errorf("heap per active call %v", v)
	}
	if v := benchFigure(t, res.stdout, "lost cdrs"); v != 0 {
		t.Errorf("lost cdrs %v", v)
	}
}

// TestBenchBadFlags: each bad value is a usage error naming the flag.
func TestBenchBadFlags(t *testing.T) {
	for _, args := range [][]string{
		{"--rate", "0"}, {"--rate", "-3"}, {"--duration", "0s"}, {"--operators", "0"}, {"--talk", "0s"},
		{"--hold", "-1s"}, {"--cdr", "mysql"}, {"--plateau", "-1"}, {"--prompt", "0s"},
	} {
		res := runCLI(t, nil, "", append([]string{"bench"}, args...)...)
		if res.code != 2 || len(lines(res.stderr)) != 1 || !strings.Contains(res.stderr, args[0]) {
			t.Errorf("bench %v: exit %d, stderr %q; want 2 and one line naming %s", args, res.code, res.stderr, args[0])
		}
	}
}
