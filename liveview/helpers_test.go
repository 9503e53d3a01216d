package liveview

import (
	"context"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"
	"github.com/jonboulle/clockwork"

	"github.com/helpline-it/helpline/cdr"
	"github.com/helpline-it/helpline/queue"
)

var update = flag.Bool("update", false, "rewrite the golden frames under testdata/")

// awaitTimeout bounds every wait for a message: a generous deadline, not
// a sleep; tests finish as soon as the message arrives.
const awaitTimeout = 20 * time.Second

// driver plays the part of tea.Program for one model: it runs the
// commands Update returns on goroutines (expanding batches) and feeds
// their messages back to Update on the test goroutine, so the model is
// only touched there.
type driver struct {
	t    *testing.T
	ctx  context.Context
	m    *Model
	msgs chan tea.Msg
	quit bool
}

func newDriver(t *testing.T, ctx context.Context, m *Model) *driver {
	t.Helper()
	d := &driver{t: t, ctx: ctx, m: m, msgs: make(chan tea.Msg, 64)}
	d.run(m.Init())
	return d
}

func (d *driver) run(cmd tea.Cmd) {
	if cmd == nil {
		return
	}
	go func() { d.deliver(cmd()) }()
}

func (d *driver) deliver(msg tea.Msg) {
	switch msg := msg.(type) {
	case nil:
	case tea.BatchMsg:
		for _, c := range msg {
			d.run(c)
		}
	default:
		select {
		case d.msgs <- msg:
		case <-d.ctx.Done():
		}
	}
}

// send delivers msg to Update directly (keys, window size).
func (d *driver) send(msg tea.Msg) {
	d.t.Helper()
	_, cmd := d.m.Update(msg)
	d.run(cmd)
}

// await feeds messages to the model until cond holds.
func (d *driver) await(what string, cond func(m *Model) bool) {
	d.t.Helper()
	deadline := time.NewTimer(awaitTimeout)
	defer deadline.Stop()
	for !cond(d.m) {
		select {
		case msg := <-d.msgs:
			if _, ok := msg.(tea.QuitMsg); ok {
				d.quit = true
			}
			_, cmd := d.m.Update(msg)
			d.run(cmd)
		case <-deadline.C:
			d.t.Fatalf("timed out waiting for %s; frame:\n%s", what, d.m.View())
		}
	}
}

// awaitMsg feeds messages until one satisfies match (it is fed too).
func (d *driver) awaitMsg(what string, match func(tea.Msg) bool) {
	d.t.Helper()
	deadline := time.NewTimer(awaitTimeout)
	defer deadline.Stop()
	for {
		select {
		case msg := <-d.msgs:
			_, cmd := d.m.Update(msg)
			d.run(cmd)
			if match(msg) {
				return
			}
		case <-deadline.C:
			d.t.Fatalf("timed out waiting for %s; frame:\n%s", what, d.m.View())
		}
	}
}

// advance moves the fake clock once the view's ticker waits on it, and
// feeds messages until the tick for the new time was handled.
func (d *driver) advance(clk *clockwork.FakeClock, by time.Duration) {
	d.t.Helper()
	ctx, cancel := context.WithTimeout(d.ctx, awaitTimeout)
	defer cancel()
	if err := clk.BlockUntilContext(ctx, 1); err != nil {
		d.t.Fatalf("the view's ticker never waited on the clock: %v", err)
	}
	clk.Advance(by)
	want := clk.Now()
	d.awaitMsg("tick at "+want.Format(time.TimeOnly), func(msg tea.Msg) bool {
		t, ok := msg.(tickMsg)
		return ok && !t.at.Before(want)
	})
}

// settled: first snapshot read, records read (if any), events subscribed
// (if a watcher) and nothing in flight.
func settled(m *Model) bool {
	return m.snap != nil && !m.fetching && (m.d.Records == nil || m.day.loaded) &&
		(m.d.Watcher == nil || m.events != nil)
}

// checkGolden compares got with testdata/name.golden (rewritten with
// -update) and checks the frame fits width × height.
func checkGolden(t *testing.T, name, got string, width, height int) {
	t.Helper()
	lines := strings.Split(got, "\n")
	if height > 0 && len(lines) > height {
		t.Errorf("%s: %d lines, more than the %d of the window", name, len(lines), height)
	}
	for i, l := range lines {
		if w := ansi.StringWidth(l); w > width {
			t.Errorf("%s: line %d is %d cells wide, more than %d: %q", name, i+1, w, width, ansi.Strip(l))
		}
	}
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./liveview -run %s -update to create it)", err, t.Name())
	}
	if string(want) != got {
		t.Errorf("%s differs from %s (go test -update rewrites it):\n--- got\n%s\n--- want\n%s", name, path, got, want)
	}
}

// Fixed world of the tests: Tuesday 3 June 2025, 21:14:05 in Rome.
var (
	rome = mustLoc("Europe/Rome")
	t0   = time.Date(2025, 6, 3, 21, 14, 5, 0, rome)
)

func mustLoc(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return loc
}

var testLanguages = []Language{
	{"it", "Italiano"}, {"en", "English"}, {"fr", "Français"}, {"es", "Español"}, {"ar", "Arabic"}, {"de", "Deutsch"},
}

var testNames = map[string]string{"op-1": "Anna Rossi", "op-2": "Bruno Neri", "op-3": "Carla Bianchi", "op-4": "Dario Verdi", "op-5": "Elena Gallo"}

// tagOf is a fixed 8-hex tag per call, as callerid would produce.
func tagOf(n int) string {
	return []string{"3f9a2c01", "71be04aa", "c0ffee42", "9d1e7b20", "anonimo", "5a5a0b0b", "e1e2e3e4", "0badcafe",
		"12ab34cd", "fe01dc23", "77aa88bb", "a1b2c3d4", "deadbeef", "00ff00ff"}[n%14]
}

// eveningQueue fills q (any Queue) as a busy evening at t0: five
// operators in every state, three Italians waiting (the oldest past the
// 2-minute alert), one English caller ringing op-3, one Arabic caller
// with nobody staffed.
func eveningQueue(t testing.TB, ctx context.Context, q queue.Queue) {
	t.Helper()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	at := func(d time.Duration) time.Time { return t0.Add(-d) }
	login := func(id string, skills ...string) {
		t.Helper()
		must(q.Login(ctx, queue.Operator{ID: id, Endpoint: "PJSIP/" + id, Skills: skills}, at(time.Hour)))
	}
	login("op-1", "en", "fr")
	login("op-2", "it")
	login("op-3", "en")
	login("op-4", "it")
	login("op-5", "it", "es")
	for _, id := range []string{"op-1", "op-3", "op-5"} {
		must(q.Pause(ctx, id, "x", at(50*time.Minute)))
	}
	must(q.Unpause(ctx, "op-3", at(20*time.Minute)))
	must(q.Unpause(ctx, "op-1", at(12*time.Minute+3*time.Second)))
	must(q.Pause(ctx, "op-4", "supervisor:bob", at(7*time.Minute)))

	// op-2 talks with an Italian caller since 4m10s.
	must(q.Enqueue(ctx, queue.Call{ID: "c-talk", Service: "1522", Language: "it", Node: "n1", Tag: tagOf(4), Enqueued: at(5 * time.Minute)}))
	o, err := q.Assign(ctx, at(4*time.Minute+15*time.Second), 20*time.Second)
	must(err)
	must(q.Answered(ctx, o, at(4*time.Minute+10*time.Second)))
	// op-5 answers a Spanish caller, then wraps up until 25 s from now.
	must(q.Unpause(ctx, "op-5", at(3*time.Minute)))
	must(q.Enqueue(ctx, queue.Call{ID: "c-done", Service: "1522", Language: "es", Node: "n1", Tag: tagOf(5), Enqueued: at(3 * time.Minute)}))
	o, err = q.Assign(ctx, at(2*time.Minute+50*time.Second), 20*time.Second)
	must(err)
	must(q.Answered(ctx, o, at(2*time.Minute+45*time.Second)))

	// Waiting: it ×3 (oldest 2m41s, one with a tag of the wrong shape),
	// en ×1 (to ring op-3), ar ×1.
	must(q.Enqueue(ctx, queue.Call{ID: "c-it-1", Service: "1522", Language: "it", Node: "n1", Tag: tagOf(0), Enqueued: at(2*time.Minute + 41*time.Second)}))
	must(q.Enqueue(ctx, queue.Call{ID: "c-it-2", Service: "1522", Language: "it", Node: "n1", Tag: tagOf(1), Enqueued: at(58 * time.Second)}))
	must(q.Enqueue(ctx, queue.Call{ID: "c-en-1", Service: "1522", Language: "en", Node: "n1", Tag: tagOf(2), Enqueued: at(45 * time.Second)}))
	must(q.Enqueue(ctx, queue.Call{ID: "c-ar-1", Service: "1522", Language: "ar", Node: "n1", Tag: tagOf(3), Enqueued: at(20 * time.Second)}))
	must(q.Enqueue(ctx, queue.Call{ID: "c-it-3", Service: "1522", Language: "it", Node: "n1", Tag: "3331234567", Enqueued: at(12 * time.Second)}))
	must(q.Finish(ctx, "op-5", t0.Add(25*time.Second), at(5*time.Second)))
	o, err = q.Assign(ctx, at(5*time.Second), 30*time.Second)
	must(err)
	if o.OperatorID != "op-3" || o.CallID != "c-en-1" {
		t.Fatalf("setup: offer %+v, want c-en-1 to op-3", o)
	}
}

// todayRecords are today's finished calls at t0: 6 offered (4 answered
// with waits 5 s, 20 s, 45 s, 90 s; 1 abandoned; 1 voicemail), one
// blacklisted (not offered), one of yesterday and one of another service.
func todayRecords(t testing.TB, ctx context.Context, w cdr.Writer) {
	t.Helper()
	day := time.Date(2025, 6, 3, 9, 0, 0, 0, rome)
	n := 0
	add := func(r cdr.Record) {
		t.Helper()
		n++
		if r.ID == "" {
			r.ID = "r" + string(rune('a'+n))
		}
		r.Direction = cdr.Inbound
		if r.Service == "" {
			r.Service = "1522"
		}
		if err := w.Write(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	answered := func(at time.Time, wait time.Duration) cdr.Record {
		return cdr.Record{Outcome: cdr.Answered, ArrivedAt: at, QueuedAt: at.Add(10 * time.Second),
			ConnectedAt: at.Add(10*time.Second + wait), EndedAt: at.Add(10*time.Second + wait + 5*time.Minute), Language: "it"}
	}
	add(answered(day, 5*time.Second))
	add(answered(day.Add(time.Hour), 20*time.Second))
	add(answered(day.Add(2*time.Hour), 45*time.Second))
	add(answered(day.Add(3*time.Hour), 90*time.Second))
	add(cdr.Record{Outcome: cdr.Abandoned, ArrivedAt: day.Add(4 * time.Hour), QueuedAt: day.Add(4*time.Hour + 10*time.Second), EndedAt: day.Add(4*time.Hour + time.Minute)})
	add(cdr.Record{Outcome: cdr.Voicemail, ArrivedAt: day.Add(5 * time.Hour), QueuedAt: day.Add(5*time.Hour + 10*time.Second), EndedAt: day.Add(5*time.Hour + 2*time.Minute)})
	add(cdr.Record{Outcome: cdr.Blacklisted, ArrivedAt: day.Add(6 * time.Hour), EndedAt: day.Add(6 * time.Hour)})
	add(answered(day.AddDate(0, 0, -1), 5*time.Second))
	r := answered(day, 5*time.Second)
	r.Service = "other"
	add(r)
}
