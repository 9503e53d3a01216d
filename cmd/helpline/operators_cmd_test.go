package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/helpline-it/helpline/config"
	"github.com/helpline-it/helpline/internal/testenv"
	"github.com/helpline-it/helpline/queue"
)

func TestOperatorsCLI(t *testing.T) {
	r := testenv.StartRedis(t)
	now := time.Date(2026, 11, 23, 14, 0, 0, 0, time.UTC)
	q, err := queue.NewRedis(r.Client(t), queue.RedisOptions{Prefix: "helpline", Service: "1522", Logger: zerolog.Nop()})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(q.Login(ctx, queue.Operator{ID: "op1001", Endpoint: "PJSIP/op1001", Skills: []string{"it", "en"}}, now.Add(-5*time.Minute-3*time.Second)))
	must(q.Login(ctx, queue.Operator{ID: "op1002", Endpoint: "PJSIP/op1002", Skills: []string{"it", "fr"}}, now.Add(-3*time.Hour)))
	must(q.Pause(ctx, "op1002", "break", now.Add(-62*time.Minute)))

	res := cliAt(t, now, nil, "operators", "--redis", r.Addr, "--service", "1522")
	if res.code != 0 {
		t.Fatalf("%+v", res)
	}
	want := []string{
		"OPERATOR  NAME    STATE      FOR    SKILLS  DETAIL",
		"op1001    op1001  available  5m03s  en,it",
		"op1002    op1002  paused     1h02m  fr,it   reason break",
	}
	if got := lines(res.stdout); !equalTrimmed(got, want) {
		t.Errorf("output:\n%s\nwant:\n%s", res.stdout, strings.Join(want, "\n"))
	}

	// With the configuration: names, and the operators not logged in.
	yaml := strings.Replace(string(config.ExampleYAML()), "addr: 127.0.0.1:6379", "addr: "+r.Addr, 1)
	file := filepath.Join(t.TempDir(), "helpline.yaml")
	must(os.WriteFile(file, []byte(yaml), 0o600))
	res = cliAt(t, now, nil, "operators", "--config", file)
	for _, w := range []string{"op1001    Giulia  available", "op1002    Sara    paused", "op1003    Amina   logged_out  -", "op1004    Katrin  logged_out"} {
		if !strings.Contains(res.stdout, w) {
			t.Errorf("output lacks %q:\n%s", w, res.stdout)
		}
	}

	// A restart of the app changes nothing: the states live in Redis.
	must(q.Logout(ctx, "op1001", now))
	res = cliAt(t, now.Add(time.Minute), nil, "operators", "--config", file)
	if !strings.Contains(res.stdout, "op1001    Giulia  logged_out  1m00s") {
		t.Errorf("after logout:\n%s", res.stdout)
	}

	for _, tt := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"operators"}, 2, "missing --redis"},
		{[]string{"operators", "--redis", r.Addr}, 2, "missing --service"},
		{[]string{"operators", "--redis", "127.0.0.1:1", "--service", "1522"}, 1, "Redis at 127.0.0.1:1 cannot be reached"},
	} {
		res := cliAt(t, now, nil, tt.args...)
		if res.code != tt.code || !strings.Contains(res.stderr, tt.want) {
			t.Errorf("%v: %+v; want %d %q", tt.args, res, tt.code, tt.want)
		}
	}
}

func equalTrimmed(got, want []string) bool {
	if len(got) != len(want) {
		return false
	}
	for i := range got {
		if strings.TrimRight(got[i], " ") != want[i] {
			return false
		}
	}
	return true
}

func TestInState(t *testing.T) {
	for d, want := range map[time.Duration]string{
		0: "0s", 59 * time.Second: "59s", 61 * time.Second: "1m01s", time.Hour + 2*time.Minute + 59*time.Second: "1h02m",
		49*time.Hour + 30*time.Minute: "2d01h", -time.Second: "0s",
	} {
		if got := inState(d); got != want {
			t.Errorf("inState(%v) = %q, want %q", d, got, want)
		}
	}
}
