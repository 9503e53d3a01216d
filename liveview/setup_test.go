package liveview

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/helpline-it/helpline/config"
	"github.com/helpline-it/helpline/internal/testenv"
	"github.com/helpline-it/helpline/queue"
)

func TestConfigOptions(t *testing.T) {
	cfg, err := config.Parse("example.yaml", config.ExampleYAML())
	if err != nil {
		t.Fatal(err)
	}
	o := ConfigOptions(cfg)
	if o.Service != cfg.Service || o.Location != cfg.Location || o.Alert != cfg.Queue.LongestWaitAlert {
		t.Errorf("options %+v from config", o)
	}
	var codes []string
	for _, l := range o.Languages {
		codes = append(codes, l.Code)
	}
	if want := []string{"it", "en", "fr", "es", "ar", "de"}; !slices.Equal(codes, want) {
		t.Errorf("languages %v, want the menu order %v", codes, want)
	}
	if o.Languages[0].Name != "Italiano" {
		t.Errorf("first language %+v", o.Languages[0])
	}
	for _, op := range cfg.Operators {
		if op.Name != "" && o.OperatorNames[op.ID] != op.Name {
			t.Errorf("operator %s named %q, want %q", op.ID, o.OperatorNames[op.ID], op.Name)
		}
	}
}

func TestQueuePrefix(t *testing.T) {
	for in, want := range map[string]string{"helpline:": "helpline", "helpline": "helpline", "a:b:": "a:b", "x::": "x"} {
		if got := QueuePrefix(in); got != want {
			t.Errorf("QueuePrefix(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestDiscoverServices finds the services of queues in a real Redis, and
// only under the prefix asked.
func TestDiscoverServices(t *testing.T) {
	srv := testenv.StartRedis(t)
	c := srv.Client(t)
	ctx := context.Background()
	found, err := DiscoverServices(ctx, c, "helpline")
	if err != nil || len(found) != 0 {
		t.Fatalf("empty Redis: %v, %v", found, err)
	}
	for _, tc := range []struct{ prefix, service string }{{"helpline", "1522"}, {"helpline", "unar"}, {"other", "x"}, {"help*", "y"}} {
		q, err := queue.NewRedis(c, queue.RedisOptions{Prefix: tc.prefix, Service: tc.service})
		if err != nil {
			t.Fatal(err)
		}
		if err := q.Login(ctx, queue.Operator{ID: "op-1", Endpoint: "PJSIP/op1", Skills: []string{"it"}}, t0); err != nil {
			t.Fatal(err)
		}
	}
	for prefix, want := range map[string][]string{"helpline": {"1522", "unar"}, "helpline:": {"1522", "unar"}, "other": {"x"}, "help*": {"y"}, "nothing": nil} {
		got, err := DiscoverServices(ctx, c, prefix)
		if err != nil || !slices.Equal(got, want) {
			t.Errorf("DiscoverServices(%q) = %v, %v; want %v", prefix, got, err, want)
		}
	}
	srv.Stop()
	if _, err := DiscoverServices(ctx, c, "helpline"); err == nil || !strings.Contains(err.Error(), "connection refused") {
		t.Errorf("with Redis down: %v", err)
	}
}

// TestAuditFile: entries are appended as JSON lines, private to the
// owner, and survive reopening.
func TestAuditFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state", "helpline", "audit.jsonl")
	ctx := context.Background()
	e := AuditEntry{At: t0, Supervisor: "alice", Action: ActionPause, Operator: "op-1", Reason: "supervisor:alice", From: "available", Phase: PhaseRequested}
	for i := range 2 {
		a, err := OpenAuditFile(path)
		if err != nil {
			t.Fatal(err)
		}
		e.Phase = []string{PhaseRequested, PhaseDone}[i]
		if err := a.Record(ctx, e); err != nil {
			t.Fatal(err)
		}
		if err := a.Close(); err != nil {
			t.Fatal(err)
		}
		if err := a.Record(ctx, e); err == nil {
			t.Error("Record after Close succeeded")
		}
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("audit file mode %v, want 0600", st.Mode().Perm())
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var phases []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var got AuditEntry
		if err := json.Unmarshal(sc.Bytes(), &got); err != nil {
			t.Fatalf("line %q: %v", sc.Text(), err)
		}
		if got.Supervisor != "alice" || got.Operator != "op-1" || !got.At.Equal(t0) {
			t.Errorf("entry %+v", got)
		}
		phases = append(phases, got.Phase)
	}
	if want := []string{PhaseRequested, PhaseDone}; !slices.Equal(phases, want) {
		t.Errorf("phases %v, want %v", phases, want)
	}
	if _, err := OpenAuditFile(""); err == nil {
		t.Error("empty path accepted")
	}
	if _, err := OpenAuditFile(filepath.Join(path, "below-a-file")); err == nil {
		t.Error("path below a file accepted")
	}
}

// TestFlashExpires: a message stays 30 s, then the line clears.
func TestFlashExpires(t *testing.T) {
	w := newWorld(t)
	evening(t, w)
	drv := w.start(t, w.deps(), w.options(), 80, 24)
	drv.send(press("u")) // op-1 is free: refused
	if !strings.Contains(drv.m.View(), "op-1 is not paused") {
		t.Fatal("no message")
	}
	drv.advance(w.clk, flashFor-time.Second)
	if !strings.Contains(drv.m.View(), "op-1 is not paused") {
		t.Fatal("message gone too early")
	}
	drv.advance(w.clk, time.Second)
	if strings.Contains(drv.m.View(), "op-1 is not paused") {
		t.Fatal("message still there after 30 s")
	}
}
