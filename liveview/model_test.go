package liveview

import (
	"context"
	"errors"
	"fmt"
	"github.com/helpline-it/helpline/internal/testenv"
	"strings"
	"sync"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/jonboulle/clockwork"
	"github.com/muesli/termenv"

	"github.com/helpline-it/helpline/cdr"
	cdrmemory "github.com/helpline-it/helpline/cdr/memory"
	"github.com/helpline-it/helpline/queue"
)

// world is one test's switchboard: a Memory queue (the same contract as
// Redis), an in-memory CDR store and a fake clock at t0.
type world struct {
	ctx   context.Context
	clk   *clockwork.FakeClock
	q     *queue.Memory
	flaky *flakyQueue
	recs  *cdrmemory.Store
	audit *memAudit
}

func newWorld(t testing.TB) *world {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	q, err := queue.NewMemory("1522")
	if err != nil {
		t.Fatal(err)
	}
	return &world{ctx: ctx, clk: clockwork.NewFakeClockAt(t0), q: q, flaky: &flakyQueue{Queue: q},
		recs: cdrmemory.New(), audit: &memAudit{}}
}

func (w *world) options() Options {
	return Options{Service: "1522", Supervisor: "alice", Location: rome, Languages: testLanguages,
		OperatorNames: testNames, Clock: w.clk}
}

func (w *world) deps() Deps {
	return Deps{Queue: w.flaky, Watcher: w.q, Records: w.recs, Audit: w.audit}
}

// start returns a driven model, settled, in a window of width × height.
func (w *world) start(t *testing.T, d Deps, o Options, width, height int) *driver {
	t.Helper()
	m, err := New(w.ctx, d, o)
	if err != nil {
		t.Fatal(err)
	}
	drv := newDriver(t, w.ctx, m)
	drv.send(tea.WindowSizeMsg{Width: width, Height: height})
	drv.await("the first snapshot, records and subscription", settled)
	return drv
}

// flakyQueue passes through to a Queue, except that Snapshot fails with
// err while one is set, or blocks while hold is set.
type flakyQueue struct {
	queue.Queue
	mu   sync.Mutex
	err  error
	hold chan struct{}
}

func (f *flakyQueue) fail(err error) { f.mu.Lock(); f.err = err; f.mu.Unlock() }

func (f *flakyQueue) Snapshot(ctx context.Context, now time.Time) (queue.Snapshot, error) {
	f.mu.Lock()
	err, hold := f.err, f.hold
	f.mu.Unlock()
	if hold != nil {
		select {
		case <-hold:
		case <-ctx.Done():
			return queue.Snapshot{}, ctx.Err()
		}
	}
	if err != nil {
		return queue.Snapshot{}, err
	}
	return f.Queue.Snapshot(ctx, now)
}

// memAudit keeps entries in memory, or fails with err.
type memAudit struct {
	mu      sync.Mutex
	entries []AuditEntry
	err     error
}

func (a *memAudit) Record(_ context.Context, e AuditEntry) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.err != nil {
		return a.err
	}
	a.entries = append(a.entries, e)
	return nil
}

func (a *memAudit) all() []AuditEntry {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]AuditEntry(nil), a.entries...)
}

func colourRenderer() *lipgloss.Renderer {
	r := lipgloss.NewRenderer(nil)
	r.SetColorProfile(termenv.ANSI256)
	return r
}

func press(s string) tea.KeyMsg {
	switch s {
	case "down":
		return tea.KeyMsg{Type: tea.KeyDown}
	case "up":
		return tea.KeyMsg{Type: tea.KeyUp}
	case "esc":
		return tea.KeyMsg{Type: tea.KeyEsc}
	}
	return tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(s)}
}

func TestFrames(t *testing.T) {
	tests := []struct {
		name          string
		width, height int
		colour        bool
		setup         func(t testing.TB, w *world) // fills the world before the view starts
		deps          func(w *world) Deps
		opts          func(o *Options)
		drive         func(t *testing.T, w *world, d *driver) // acts after the view settled
	}{
		{name: "evening-80x24", width: 80, height: 24, setup: evening},
		{name: "evening-colour-80x24", width: 80, height: 24, colour: true, setup: evening},
		{name: "evening-120x40", width: 120, height: 40, setup: evening},
		{name: "evening-once-text", width: 80, setup: evening}, // height 0: --once
		{name: "empty-no-records", width: 80, height: 24,
			deps: func(w *world) Deps { return Deps{Queue: w.q, Watcher: w.q} }},
		{name: "read-only", width: 80, height: 24, setup: evening,
			opts: func(o *Options) { o.Supervisor = "" }},
		{name: "crowded-80x24", width: 80, height: 24, setup: crowded,
			drive: func(t *testing.T, w *world, d *driver) {
				for range 14 {
					d.send(press("down"))
				}
			}},
		{name: "confirm-pause-ringing", width: 80, height: 24, setup: evening,
			drive: func(t *testing.T, w *world, d *driver) {
				d.send(press("down"))
				d.send(press("down")) // op-3, ringing
				d.send(press("p"))
			}},
		{name: "refused-pause-busy", width: 80, height: 24, setup: evening,
			drive: func(t *testing.T, w *world, d *driver) {
				d.send(press("down")) // op-2, busy
				d.send(press("p"))
			}},
		{name: "redis-down", width: 80, height: 24, setup: evening,
			drive: func(t *testing.T, w *world, d *driver) {
				w.flaky.fail(fmt.Errorf("queue: snapshot: %w: %w", queue.ErrUnavailable,
					errors.New("dial tcp 127.0.0.1:6379: connect: connection refused")))
				d.advance(w.clk, 5*time.Second)
				d.await("the failed refresh", func(m *Model) bool { return m.snapErr != nil })
				d.advance(w.clk, 20*time.Second)
			}},
		{name: "polling-no-events", width: 80, height: 24, setup: evening,
			deps: func(w *world) Deps { return Deps{Queue: w.q, Records: w.recs, Audit: w.audit} }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t)
			if tc.setup != nil {
				tc.setup(t, w)
			}
			d := w.deps()
			if tc.deps != nil {
				d = tc.deps(w)
			}
			o := w.options()
			if tc.colour {
				o.Renderer = colourRenderer()
			}
			if tc.opts != nil {
				tc.opts(&o)
			}
			drv := w.start(t, d, o, tc.width, tc.height)
			if tc.drive != nil {
				tc.drive(t, w, drv)
			}
			var got string
			if tc.height == 0 {
				var sb strings.Builder
				if err := WriteText(&sb, drv.m.Board(), tc.width); err != nil {
					t.Fatal(err)
				}
				got = sb.String()
			} else {
				got = drv.m.View()
			}
			checkGolden(t, tc.name, got, tc.width, tc.height)
		})
	}
}

func evening(t testing.TB, w *world) {
	t.Helper()
	eveningQueue(t, w.ctx, w.q)
	todayRecords(t, w.ctx, w.recs)
}

// crowded: 20 operators and 16 callers in three languages, more than 24
// lines can hold.
func crowded(t testing.TB, w *world) {
	t.Helper()
	ctx := w.ctx
	for i := 1; i <= 20; i++ {
		skills := []string{"it"}
		if i%3 == 0 {
			skills = append(skills, "en")
		}
		if err := w.q.Login(ctx, queue.Operator{ID: fmt.Sprintf("op-%02d", i), Endpoint: fmt.Sprintf("PJSIP/%d", i), Skills: skills}, t0.Add(-time.Duration(i)*time.Minute)); err != nil {
			t.Fatal(err)
		}
		if err := w.q.Pause(ctx, fmt.Sprintf("op-%02d", i), "break", t0.Add(-time.Duration(i)*time.Second)); err != nil {
			t.Fatal(err)
		}
	}
	langs := []string{"it", "it", "en", "it", "fr", "it", "en", "it", "it", "it", "it", "en", "it", "it", "fr", "it"}
	for i, l := range langs {
		c := queue.Call{ID: fmt.Sprintf("c-%02d", i), Service: "1522", Language: l, Node: "n1", Tag: tagOf(i),
			Enqueued: t0.Add(-time.Duration(200-10*i) * time.Second)}
		if err := w.q.Enqueue(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
}

// TestTagsAreNeverNumbers: a tag of any shape but the callerid one is
// masked on every output.
func TestTagsAreNeverNumbers(t *testing.T) {
	w := newWorld(t)
	evening(t, w)
	drv := w.start(t, w.deps(), w.options(), 120, 40)
	var text, js strings.Builder
	b := drv.m.Board()
	if err := WriteText(&text, b, 120); err != nil {
		t.Fatal(err)
	}
	if err := WriteJSON(&js, b); err != nil {
		t.Fatal(err)
	}
	for name, out := range map[string]string{"view": drv.m.View(), "text": text.String(), "json": js.String()} {
		if strings.Contains(out, "3331234567") {
			t.Errorf("%s shows the number-shaped tag", name)
		}
		if !strings.Contains(out, maskedTag) {
			t.Errorf("%s does not show the masked tag %q", name, maskedTag)
		}
	}
	for _, tc := range []struct{ in, want string }{
		{"3f9a2c01", "3f9a2c01"}, {"anonimo", "anonimo"}, {"", ""},
		{"12345678", "12345678"}, // 8 hex digits: a hash prefix, whatever its letters
		{"3f9a2c0", maskedTag}, {"3F9A2C01", maskedTag}, {"+39333123", maskedTag}, {"3331234567", maskedTag},
	} {
		if got := safeTag(tc.in); got != tc.want {
			t.Errorf("safeTag(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// TestPushedEvents: a change in the queue reaches the screen through the
// events alone, without the clock moving (no poll involved).
func TestPushedEvents(t *testing.T) {
	w := newWorld(t)
	evening(t, w)
	drv := w.start(t, w.deps(), w.options(), 80, 24)
	if strings.Contains(drv.m.View(), "e1e2e3e4") {
		t.Fatal("the new caller is on screen before arriving")
	}
	if err := w.q.Enqueue(w.ctx, queue.Call{ID: "c-new", Service: "1522", Language: "fr", Node: "n1", Tag: "e1e2e3e4", Enqueued: t0}); err != nil {
		t.Fatal(err)
	}
	drv.await("the new caller on screen", func(m *Model) bool { return strings.Contains(m.View(), "e1e2e3e4") })
	if got := w.clk.Now(); !got.Equal(t0) {
		t.Fatalf("clock moved to %v", got)
	}
	if err := w.q.Login(w.ctx, queue.Operator{ID: "op-9", Endpoint: "PJSIP/op9", Skills: []string{"de"}}, t0); err != nil {
		t.Fatal(err)
	}
	drv.await("op-9 on the board", func(m *Model) bool {
		ops := m.Board().Operators
		return len(ops) == 6 && ops[5].ID == "op-9" && ops[5].State == queue.Available
	})
}

// TestTodayCounters: the counters use the report's definitions over the
// records, then add live outcomes from events until the records catch
// up, without counting a call twice.
func TestTodayCounters(t *testing.T) {
	w := newWorld(t)
	evening(t, w)
	drv := w.start(t, w.deps(), w.options(), 80, 24)
	want := func(what string, offered, answered, pending int64, short, long float64, avg time.Duration) {
		t.Helper()
		got := drv.m.Board().Today
		if !got.Known || got.Offered != offered || got.Answered != answered || got.Pending != pending ||
			got.WithinShort != short || got.WithinLong != long || got.AvgWait != avg {
			t.Fatalf("%s: today = %+v; want offered %d answered %d pending %d, within 20s %.1f, within 60s %.1f, avg %v",
				what, got, offered, answered, pending, short, long, avg)
		}
	}
	// Records: 6 offered, 4 answered with waits 5, 20, 45, 90 s: within
	// 20 s 2/6 = 33.3 %, within 60 s 3/6 = 50.0 %, mean 40 s.
	want("records", 6, 4, 0, 33.3, 50.0, 40*time.Second)
	if got := drv.m.Board().Today; got.Abandoned != 1 || got.Voicemail != 1 || got.Unanswered != 0 {
		t.Fatalf("outcomes %+v", got)
	}

	// op-3 answers the English caller, who waited 45 s at t0 − 5 s … and
	// answers at t0 + 0: wait 45 s.
	o := queue.Offer{CallID: "c-en-1", OperatorID: "op-3", Expires: t0.Add(25 * time.Second)}
	if err := w.q.Answered(w.ctx, o, t0); err != nil {
		t.Fatal(err)
	}
	drv.await("the answer counted", func(m *Model) bool { return m.Board().Today.Answered == 5 })
	want("live answer", 7, 5, 0, 28.6, 57.1, 41*time.Second)

	// The Arabic caller hangs up: offered, outcome pending.
	if _, err := w.q.Leave(w.ctx, "c-ar-1", t0); err != nil {
		t.Fatal(err)
	}
	drv.await("the abandon counted", func(m *Model) bool { return m.Board().Today.Pending == 1 })
	want("live leave", 8, 5, 1, 25.0, 50.0, 41*time.Second)

	// Their records are written; the next read replaces the live entries.
	enq := t0.Add(-45 * time.Second)
	for _, r := range []cdr.Record{
		{ID: "c-en-1", Direction: cdr.Inbound, Service: "1522", Outcome: cdr.Answered, ArrivedAt: enq.Add(-20 * time.Second),
			QueuedAt: enq, ConnectedAt: t0, EndedAt: t0.Add(time.Second)},
		{ID: "c-ar-1", Direction: cdr.Inbound, Service: "1522", Outcome: cdr.Abandoned, ArrivedAt: t0.Add(-time.Minute),
			QueuedAt: t0.Add(-20 * time.Second), EndedAt: t0},
	} {
		if err := w.recs.Write(w.ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	drv.advance(w.clk, DefaultRecordsEvery)
	drv.await("the records re-read", func(m *Model) bool { return m.Board().Today.RecordsAt.Equal(t0.Add(DefaultRecordsEvery)) })
	want("records caught up", 8, 5, 0, 25.0, 50.0, 41*time.Second)
	if got := drv.m.Board().Today; got.Abandoned != 2 {
		t.Fatalf("abandoned = %d, want 2", got.Abandoned)
	}
}

// TestMidnight: at local midnight the counters restart from the new
// day's records.
func TestMidnight(t *testing.T) {
	w := newWorld(t)
	w.clk = clockwork.NewFakeClockAt(time.Date(2025, 6, 3, 23, 59, 58, 0, rome))
	todayRecords(t, w.ctx, w.recs)
	drv := w.start(t, w.deps(), w.options(), 80, 24)
	if got := drv.m.Board().Today.Offered; got != 6 {
		t.Fatalf("offered before midnight = %d, want 6", got)
	}
	drv.advance(w.clk, 3*time.Second)
	drv.await("the new day's records", func(m *Model) bool { return m.day.loaded })
	got := drv.m.Board().Today
	if got.Offered != 0 || !got.Since.Equal(time.Date(2025, 6, 4, 0, 0, 0, 0, rome)) {
		t.Fatalf("after midnight: %+v", got)
	}
	if !strings.Contains(drv.m.View(), "offered 0") {
		t.Fatalf("frame after midnight:\n%s", drv.m.View())
	}
}

// TestViewChangesNothing: the view reads the queue without bringing it
// up to date: an ended wrap-up is shown free but stays in the store until
// the switchboard promotes it, and an expired offer is not reaped.
func TestViewChangesNothing(t *testing.T) {
	w := newWorld(t)
	evening(t, w)
	drv := w.start(t, w.deps(), w.options(), 80, 24)
	drv.advance(w.clk, 40*time.Second) // op-5's wrap-up ended at t0+25s, op-3's offer expired at t0+25s
	drv.await("a refresh after the advance", func(m *Model) bool { return !m.fetching && m.snap.At.Equal(t0.Add(40*time.Second)) })
	var op5 OperatorRow
	for _, o := range drv.m.Board().Operators {
		if o.ID == "op-5" {
			op5 = o
		}
	}
	if op5.State != queue.Available || op5.InState != 15*time.Second {
		t.Errorf("op-5 on the board: %+v, want free for 15s", op5)
	}
	if op, _ := w.q.Operator(w.ctx, "op-5"); op.State != queue.WrapUp {
		t.Errorf("the view promoted op-5 in the store: %+v", op)
	}
	if op, _ := w.q.Operator(w.ctx, "op-3"); op.State != queue.Ringing || op.CallID != "c-en-1" {
		t.Errorf("the view reaped op-3's offer: %+v", op)
	}
}

// TestStale: a read that hangs leaves the screen marked stale once the
// data is older than StaleAfter, and the next answer clears it.
func TestStale(t *testing.T) {
	w := newWorld(t)
	evening(t, w)
	drv := w.start(t, w.deps(), w.options(), 80, 24)
	w.flaky.mu.Lock()
	w.flaky.hold = make(chan struct{})
	w.flaky.mu.Unlock()
	drv.m.o.Timeout = time.Hour // the hung read must outlast the test
	drv.advance(w.clk, DefaultRefresh)
	if !drv.m.fetching {
		t.Fatal("no refresh started after Refresh")
	}
	drv.advance(w.clk, 3*DefaultRefresh) // 20 s after the last good data
	frame := drv.m.View()
	for _, s := range []string{"STALE", "! no fresh data; showing 21:14:05 (20s old); retrying", "as of 21:14:05"} {
		if !strings.Contains(frame, s) {
			t.Errorf("stale frame lacks %q:\n%s", s, frame)
		}
	}
	// Waits are shown as they were then, not invented: still 2m41s.
	if !strings.Contains(frame, "2m41s") {
		t.Errorf("stale frame should show the waits of 21:14:05:\n%s", frame)
	}
	w.flaky.mu.Lock()
	close(w.flaky.hold)
	w.flaky.hold = nil
	w.flaky.mu.Unlock()
	drv.await("fresh data", func(m *Model) bool { return !m.fetching && !m.Board().Status.Stale })
	frame = drv.m.View()
	if strings.Contains(frame, "STALE") || !strings.Contains(frame, "LIVE") {
		t.Errorf("frame after recovery:\n%s", frame)
	}
}

// TestActions: pause, unpause and log out go through the queue after a
// y, are audited before and after with the supervisor's name, and
// anything but y cancels.
func TestActions(t *testing.T) {
	w := newWorld(t)
	evening(t, w)
	drv := w.start(t, w.deps(), w.options(), 80, 24)
	opState := func(id string) queue.Operator {
		t.Helper()
		op, err := w.q.Operator(w.ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		return op
	}

	// op-1 is selected first. p, then n: nothing happens.
	drv.send(press("p"))
	if !strings.Contains(drv.m.View(), "Pause op-1 (Anna Rossi), free now? [y/n]") {
		t.Fatalf("no confirmation:\n%s", drv.m.View())
	}
	drv.send(press("n"))
	if st := opState("op-1").State; st != queue.Available || len(w.audit.all()) != 0 {
		t.Fatalf("after n: op-1 %s, audit %v", st, w.audit.all())
	}
	if !strings.Contains(drv.m.View(), "cancelled: pause op-1") {
		t.Fatalf("no cancellation shown:\n%s", drv.m.View())
	}

	// p, y: paused with the supervisor's name as reason.
	drv.send(press("p"))
	drv.send(press("y"))
	drv.await("the pause done", func(m *Model) bool { return strings.Contains(m.View(), "pause op-1: done by alice") })
	if op := opState("op-1"); op.State != queue.Paused || op.PauseReason != "supervisor:alice" {
		t.Fatalf("op-1 after pause: %+v", op)
	}
	drv.await("op-1 shown paused", func(m *Model) bool {
		for _, o := range m.Board().Operators {
			if o.ID == "op-1" {
				return o.State == queue.Paused && o.PauseReason == "supervisor:alice"
			}
		}
		return false
	})

	// u, y: unpaused.
	drv.send(press("u"))
	drv.send(press("y"))
	drv.await("the unpause done", func(m *Model) bool { return strings.Contains(m.View(), "unpause op-1: done by alice") })
	if st := opState("op-1").State; st != queue.Available {
		t.Fatalf("op-1 after unpause: %s", st)
	}

	// Log out op-2, who is busy: the prompt says so.
	drv.send(press("down"))
	drv.send(press("o"))
	if !strings.Contains(drv.m.View(), "Log out op-2 (Bruno Neri), busy now? They are ON A CALL. [y/n]") {
		t.Fatalf("logout prompt:\n%s", drv.m.View())
	}
	drv.send(press("y"))
	drv.await("the logout done", func(m *Model) bool { return strings.Contains(m.View(), "logout op-2: done by alice") })
	if st := opState("op-2").State; st != queue.LoggedOut {
		t.Fatalf("op-2 after logout: %s", st)
	}
	drv.await("op-2 gone from the screen", func(m *Model) bool { return !strings.Contains(m.View(), "Bruno Neri") })

	var got []string
	for _, e := range w.audit.all() {
		if e.Supervisor != "alice" || !e.At.Equal(t0) {
			t.Errorf("audit entry %+v: want supervisor alice at t0", e)
		}
		got = append(got, fmt.Sprintf("%s %s %s %s %s", e.Action, e.Operator, e.From, e.Phase, e.Reason))
	}
	want := []string{
		"pause op-1 available requested supervisor:alice", "pause op-1 available done supervisor:alice",
		"unpause op-1 paused requested ", "unpause op-1 paused done ",
		"logout op-2 busy requested ", "logout op-2 busy done ",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("audit trail:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestActionRefusals: actions that cannot be done are refused before
// asking, or by the queue; an audit trail that cannot be written stops
// the action.
func TestActionRefusals(t *testing.T) {
	w := newWorld(t)
	evening(t, w)
	drv := w.start(t, w.deps(), w.options(), 80, 24)

	// Unpause of a free operator: refused without a prompt.
	drv.send(press("u"))
	if v := drv.m.View(); !strings.Contains(v, "op-1 is not paused") || strings.Contains(v, "[y/n]") {
		t.Fatalf("unpause free operator:\n%s", v)
	}

	// The queue changes between prompt and answer: op-1 is made busy
	// behind the view's back; the queue refuses the unpause.
	drv.send(press("down"))
	drv.send(press("down"))
	drv.send(press("down")) // op-4, paused
	drv.send(press("u"))
	if !strings.Contains(drv.m.View(), "Unpause op-4 (Dario Verdi)? [y/n]") {
		t.Fatalf("prompt:\n%s", drv.m.View())
	}
	if err := w.q.Logout(w.ctx, "op-4", t0); err != nil {
		t.Fatal(err)
	}
	drv.send(press("y"))
	drv.await("the refusal", func(m *Model) bool { return strings.Contains(m.View(), "unpause op-4 refused") })
	if e := w.audit.all(); len(e) != 2 || e[1].Phase != PhaseFailed || e[1].Error == "" {
		t.Fatalf("audit after a refused action: %+v", e)
	}

	// The audit trail cannot be written: nothing is done.
	w.audit.mu.Lock()
	w.audit.err = errors.New("disk full")
	w.audit.mu.Unlock()
	drv.send(press("up")) // op-3, ringing
	drv.send(press("p"))
	drv.send(press("y"))
	drv.await("the refusal", func(m *Model) bool {
		return strings.Contains(m.View(), "NOT done: pause op-3: cannot write the audit trail: disk full")
	})
	if op, _ := w.q.Operator(w.ctx, "op-3"); op.State != queue.Ringing {
		t.Fatalf("op-3 changed without an audit entry: %+v", op)
	}
}

// TestQuit: q quits, and so does ctrl+c during a confirmation; any other
// key during a confirmation only cancels it.
func TestQuit(t *testing.T) {
	w := newWorld(t)
	evening(t, w)
	for _, tc := range []struct {
		keys []tea.KeyMsg
		quit bool
	}{
		{[]tea.KeyMsg{press("q")}, true},
		{[]tea.KeyMsg{press("p"), press("q")}, false},
		{[]tea.KeyMsg{press("p"), {Type: tea.KeyCtrlC}}, true},
	} {
		m := w.start(t, w.deps(), w.options(), 80, 24).m
		var cmd tea.Cmd
		for _, k := range tc.keys {
			_, cmd = m.Update(k)
		}
		quit := false
		if cmd != nil {
			_, quit = cmd().(tea.QuitMsg)
		}
		if quit != tc.quit {
			t.Errorf("keys %v: quit = %v, want %v", tc.keys, quit, tc.quit)
		}
	}
}

// TestLineMode: without a terminal, one line per change.
func TestLineMode(t *testing.T) {
	w := newWorld(t)
	evening(t, w)
	var out testenv.LogBuffer
	o := w.options()
	o.Lines = &out
	drv := w.start(t, w.deps(), o, 80, 24)
	if err := w.q.Enqueue(w.ctx, queue.Call{ID: "c-new", Service: "1522", Language: "fr", Node: "n1", Tag: "e1e2e3e4", Enqueued: t0}); err != nil {
		t.Fatal(err)
	}
	drv.await("the new call", func(m *Model) bool { return strings.Contains(out.String(), "fr 1 oldest 0s") })
	drv.advance(w.clk, time.Second) // nothing changes at this resolution
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	last := lines[len(lines)-1]
	want := "21:14:05 OK | waiting 6 (it 3 oldest 2m40s !, en 1 oldest 40s, fr 1 oldest 0s, ar 1 oldest 20s) | free 1 ringing 1 busy 1 wrap-up 1 paused 1 | today offered 6 answered 4"
	if last != want {
		t.Errorf("last line:\n%s\nwant:\n%s\nall:\n%s", last, want, out.String())
	}
	for i := 1; i < len(lines); i++ {
		if lines[i][9:] == lines[i-1][9:] {
			t.Errorf("line %d repeats the previous one: %s", i+1, lines[i])
		}
	}
}
