package spool_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/helpline-it/helpline/cdr"
	"github.com/helpline-it/helpline/cdr/cdrtest"
	"github.com/helpline-it/helpline/cdr/memory"
	"github.com/helpline-it/helpline/cdr/spool"
	"github.com/helpline-it/helpline/internal/testenv"
)

// env is a spool under test with its clock, registry and log.
type env struct {
	dir   string
	sp    *spool.Spool
	clock *clockwork.FakeClock
	reg   *prometheus.Registry
	log   *testenv.LogBuffer
}

func open(t *testing.T, dir string, segBytes int64) *env {
	t.Helper()
	e := &env{dir: dir, clock: clockwork.NewFakeClockAt(cdrtest.T0), reg: prometheus.NewRegistry(), log: &testenv.LogBuffer{}}
	sp, err := spool.Open(spool.Options{Dir: dir, Clock: e.clock, Logger: zerolog.New(e.log),
		Registerer: e.reg, SegmentBytes: segBytes})
	if err != nil {
		t.Fatalf("Open(%s): %v", dir, err)
	}
	t.Cleanup(func() { sp.Close() })
	e.sp = sp
	return e
}

// gauge reads one metric from the registry.
func (e *env) metric(t *testing.T, name string) float64 {
	t.Helper()
	mfs, err := e.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name {
			m := mf.GetMetric()[0]
			if m.GetCounter() != nil {
				return m.GetCounter().GetValue()
			}
			return m.GetGauge().GetValue()
		}
	}
	t.Fatalf("no metric %s", name)
	return 0
}

func segments(t *testing.T, dir string) []string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(dir, "*.spool*"))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, p := range m {
		names = append(names, filepath.Base(p))
	}
	sort.Strings(names)
	return names
}

func records(n int, prefix string) []cdr.Record {
	var recs []cdr.Record
	for i := range n {
		recs = append(recs, cdrtest.Answered(fmt.Sprintf("%s-%d", prefix, i), cdrtest.T0.Add(time.Duration(i)*time.Minute)))
	}
	return recs
}

// flaky is a store that refuses every write while failing is set.
type flaky struct {
	cdr.Store
	mu      sync.Mutex
	failing bool
	writes  int
}

func (f *flaky) set(failing bool) { f.mu.Lock(); f.failing = failing; f.mu.Unlock() }

func (f *flaky) Write(ctx context.Context, r cdr.Record) error {
	f.mu.Lock()
	failing := f.failing
	f.writes++
	f.mu.Unlock()
	if failing {
		return errors.New("disk I/O error (injected)")
	}
	return f.Store.Write(ctx, r)
}

func mustGetAll(t *testing.T, s cdr.Store, recs []cdr.Record) {
	t.Helper()
	for _, r := range recs {
		got, err := s.Get(t.Context(), r.ID)
		if err != nil {
			t.Fatalf("Get(%s): %v", r.ID, err)
		}
		if *got != r.Canonical() {
			t.Fatalf("record %s came back as %+v, want %+v", r.ID, *got, r)
		}
	}
	if n, err := s.Count(t.Context(), cdr.Filter{}); err != nil || n != len(recs) {
		t.Fatalf("store holds %d records (%v), want exactly %d", n, err, len(recs))
	}
}

func TestOpenRefusesAnUnusableDirectory(t *testing.T) {
	base := t.TempDir()
	file := filepath.Join(base, "a-file")
	if err := os.WriteFile(file, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct{ name, dir, want string }{
		{"missing", "", "cdr.spool_dir: missing"},
		{"a file", file, "cdr.spool_dir " + file + ": not writable"},
		{"under a file", filepath.Join(file, "spool"), "cdr.spool_dir " + filepath.Join(file, "spool") + ": not writable"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sp, err := spool.Open(spool.Options{Dir: tt.dir})
			if err == nil {
				sp.Close()
				t.Fatalf("Open(%q) succeeded", tt.dir)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Open(%q) = %v, want it to say %q", tt.dir, err, tt.want)
			}
		})
	}
	t.Run("read-only directory", func(t *testing.T) {
		if os.Geteuid() == 0 {
			t.Skip("root writes into read-only directories; the cases above cover an unusable spool for root")
		}
		ro := filepath.Join(base, "ro")
		if err := os.Mkdir(ro, 0o500); err != nil {
			t.Fatal(err)
		}
		if _, err := spool.Open(spool.Options{Dir: ro}); err == nil || !strings.Contains(err.Error(), "not writable") {
			t.Fatalf("Open(read-only) = %v, want not writable", err)
		}
	})
}

func TestOpenLocksTheDirectory(t *testing.T) {
	dir := t.TempDir()
	e := open(t, dir, 0)
	if sp, err := spool.Open(spool.Options{Dir: dir}); !errors.Is(err, spool.ErrLocked) {
		if err == nil {
			sp.Close()
		}
		t.Fatalf("second Open = %v, want ErrLocked", err)
	}
	e.sp.Close()
	sp, err := spool.Open(spool.Options{Dir: dir})
	if err != nil {
		t.Fatalf("Open after Close: %v", err)
	}
	sp.Close()
}

func TestWriteThenReplay(t *testing.T) {
	e := open(t, t.TempDir(), 2048) // a few records a segment
	recs := records(20, "in")
	for _, r := range recs {
		if err := e.sp.Write(t.Context(), r); err != nil {
			t.Fatalf("Write(%s): %v", r.ID, err)
		}
	}
	if segs := segments(t, e.dir); len(segs) < 3 {
		t.Fatalf("segments = %v, want several (rotation at 2 KiB)", segs)
	}
	e.clock.Advance(90 * time.Second)
	if got := e.metric(t, "helpline_cdr_spool_records_spooled_total"); got != 20 {
		t.Errorf("spooled_total = %v, want 20", got)
	}
	if got := e.metric(t, "helpline_cdr_spool_records"); got != 20 {
		t.Errorf("records gauge = %v, want 20", got)
	}
	if got := e.metric(t, "helpline_cdr_spool_oldest_age_seconds"); got != 90 {
		t.Errorf("oldest age = %v, want 90", got)
	}
	if got := e.metric(t, "helpline_cdr_spool_bytes"); got < 2048*2 {
		t.Errorf("bytes gauge = %v, want the segments' size", got)
	}

	store := memory.New()
	rp, err := spool.NewReplayer(e.sp, store, spool.ReplayerOptions{})
	if err != nil {
		t.Fatal(err)
	}
	res, err := rp.Replay(t.Context())
	if err != nil || res.Replayed != 20 || res.Corrupt != 0 || res.Torn != 0 {
		t.Fatalf("Replay = %+v, %v; want 20 replayed, nothing corrupt", res, err)
	}
	mustGetAll(t, store, recs)
	if segs := segments(t, e.dir); len(segs) != 0 {
		t.Fatalf("segments after replay = %v, want none", segs)
	}
	for name, want := range map[string]float64{
		"helpline_cdr_spool_records_replayed_total": 20, "helpline_cdr_spool_records": 0,
		"helpline_cdr_spool_bytes": 0, "helpline_cdr_spool_oldest_age_seconds": 0,
	} {
		if got := e.metric(t, name); got != want {
			t.Errorf("%s = %v, want %v", name, got, want)
		}
	}
	// A second pass finds nothing; writing goes on in a new segment.
	if res, err := rp.Replay(t.Context()); err != nil || res.Replayed != 0 {
		t.Fatalf("second Replay = %+v, %v; want nothing", res, err)
	}
	if err := e.sp.Write(t.Context(), cdrtest.Outbound("out-1", cdrtest.T0)); err != nil {
		t.Fatal(err)
	}
	if res, err := rp.Replay(t.Context()); err != nil || res.Replayed != 1 {
		t.Fatalf("third Replay = %+v, %v; want the new record", res, err)
	}
}

func TestWriteRefusesAnUnstorableRecord(t *testing.T) {
	e := open(t, t.TempDir(), 0)
	bad := cdrtest.Answered("", cdrtest.T0)
	if err := e.sp.Write(t.Context(), bad); cdr.ErrorCode(err) != cdr.EINVALID {
		t.Fatalf("Write(no id) = %v, want EINVALID", err)
	}
	if segs := segments(t, e.dir); len(segs) != 0 {
		t.Fatalf("segments = %v, want none", segs)
	}
}

func TestReplayStopsWhileTheStoreRefusesAndLosesNothing(t *testing.T) {
	e := open(t, t.TempDir(), 0)
	recs := records(5, "in")
	for _, r := range recs {
		if err := e.sp.Write(t.Context(), r); err != nil {
			t.Fatal(err)
		}
	}
	store := &flaky{Store: memory.New(), failing: true}
	rp, err := spool.NewReplayer(e.sp, store, spool.ReplayerOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := rp.Replay(t.Context()); err == nil || !strings.Contains(err.Error(), "injected") {
		t.Fatalf("Replay with the store down = %v, want the store's error", err)
	}
	if segs := segments(t, e.dir); len(segs) != 1 {
		t.Fatalf("segments = %v, want the one kept", segs)
	}
	if got := e.metric(t, "helpline_cdr_spool_replay_failures_total"); got != 1 {
		t.Errorf("replay_failures_total = %v, want 1", got)
	}
	store.set(false)
	if res, err := rp.Replay(t.Context()); err != nil || res.Replayed != 5 {
		t.Fatalf("Replay = %+v, %v; want 5", res, err)
	}
	mustGetAll(t, store.Store, recs)
}

func TestReplayIsIdempotentAfterACrashBeforeDeleting(t *testing.T) {
	dir := t.TempDir()
	e := open(t, dir, 0)
	recs := records(4, "in")
	for _, r := range recs {
		if err := e.sp.Write(t.Context(), r); err != nil {
			t.Fatal(err)
		}
	}
	e.sp.Close()
	segs := segments(t, dir)
	saved, err := os.ReadFile(filepath.Join(dir, segs[0]))
	if err != nil {
		t.Fatal(err)
	}
	store := memory.New()
	e2 := open(t, dir, 0)
	rp, _ := spool.NewReplayer(e2.sp, store, spool.ReplayerOptions{})
	if res, err := rp.Replay(t.Context()); err != nil || res.Replayed != 4 {
		t.Fatalf("Replay = %+v, %v", res, err)
	}
	// The crash: the segment is back as if the delete never happened.
	e2.sp.Close()
	if err := os.WriteFile(filepath.Join(dir, segs[0]), saved, 0o600); err != nil {
		t.Fatal(err)
	}
	e3 := open(t, dir, 0)
	if got := e3.metric(t, "helpline_cdr_spool_records"); got != 4 {
		t.Fatalf("records after reopening = %v, want 4 from the earlier run", got)
	}
	rp, _ = spool.NewReplayer(e3.sp, store, spool.ReplayerOptions{})
	if res, err := rp.Replay(t.Context()); err != nil || res.Replayed != 4 {
		t.Fatalf("Replay again = %+v, %v", res, err)
	}
	mustGetAll(t, store, recs)
}

func TestReplaySkipsCorruptionAndKeepsTheSegment(t *testing.T) {
	dir := t.TempDir()
	e := open(t, dir, 0)
	recs := records(3, "in")
	for _, r := range recs {
		if err := e.sp.Write(t.Context(), r); err != nil {
			t.Fatal(err)
		}
	}
	e.sp.Close()
	seg := filepath.Join(dir, segments(t, dir)[0])
	data, err := os.ReadFile(seg)
	if err != nil {
		t.Fatal(err)
	}
	frames, _ := spool.DecodeSegment(data)
	data[frames[1].Offset+20] ^= 0xff                                               // inside the second record's payload
	data = append(data, spool.AppendFrame(nil, []byte(`{"v":1,"record":`))[:20]...) // and a torn tail
	if err := os.WriteFile(seg, data, 0o600); err != nil {
		t.Fatal(err)
	}
	e2 := open(t, dir, 0)
	store := memory.New()
	rp, _ := spool.NewReplayer(e2.sp, store, spool.ReplayerOptions{})
	res, err := rp.Replay(t.Context())
	if err != nil || res.Replayed != 2 || res.Corrupt != 1 || res.Torn != 1 {
		t.Fatalf("Replay = %+v, %v; want 2 replayed, 1 corrupt, 1 torn", res, err)
	}
	mustGetAll(t, store, []cdr.Record{recs[0], recs[2]})
	if segs := segments(t, dir); len(segs) != 1 || !strings.HasSuffix(segs[0], ".spool.bad") {
		t.Fatalf("segments = %v, want the damaged one kept as .bad", segs)
	}
	log := e2.log.String()
	for _, want := range []string{
		fmt.Sprintf(`"offset":%d`, frames[1].Offset), "CORRUPT FRAME", "torn write",
	} {
		if !strings.Contains(log, want) {
			t.Errorf("log lacks %q:\n%s", want, log)
		}
	}
	if got := e2.metric(t, "helpline_cdr_spool_corrupt_frames_total"); got != 1 {
		t.Errorf("corrupt_frames_total = %v, want 1", got)
	}
	// A new segment never takes the .bad one's name.
	if err := e2.sp.Write(t.Context(), recs[1]); err != nil {
		t.Fatal(err)
	}
	if segs := segments(t, dir); len(segs) != 2 {
		t.Fatalf("segments = %v, want the .bad one and a new one", segs)
	}
}

func TestReplayerRunRetriesUntilTheStoreRecovers(t *testing.T) {
	e := open(t, t.TempDir(), 0)
	store := &flaky{Store: memory.New(), failing: true}
	w := spool.Fallback{Store: store, Spool: e.sp, Logger: zerolog.New(e.log)}
	recs := records(6, "in")
	for _, r := range recs {
		if err := w.Write(t.Context(), r); err != nil {
			t.Fatalf("Fallback.Write(%s) = %v, want nil (spooled)", r.ID, err)
		}
	}
	if !strings.Contains(e.log.String(), "SPOOLED") {
		t.Fatalf("no loud error for the spooled records:\n%s", e.log.String())
	}
	rp, err := spool.NewReplayer(e.sp, store, spool.ReplayerOptions{Every: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- rp.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })

	waitCtx, wcancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer wcancel()
	if err := e.clock.BlockUntilContext(waitCtx, 1); err != nil { // first pass over, timer set
		t.Fatal(err)
	}
	if n, _ := store.Count(t.Context(), cdr.Filter{}); n != 0 {
		t.Fatalf("store has %d records while refusing writes", n)
	}
	if !strings.Contains(e.log.String(), "CDR SPOOL NOT EMPTIED") {
		t.Fatalf("no loud error for the failed pass:\n%s", e.log.String())
	}
	store.set(false)
	e.clock.Advance(time.Minute)
	if err := e.clock.BlockUntilContext(waitCtx, 1); err != nil { // second pass over
		t.Fatal(err)
	}
	mustGetAll(t, store.Store, recs)
	if segs := segments(t, e.dir); len(segs) != 0 {
		t.Fatalf("segments = %v, want none", segs)
	}
	// Stopping makes one last pass: a record spooled since is stored.
	late := cdrtest.Outbound("late", cdrtest.T0)
	if err := e.sp.Write(t.Context(), late); err != nil {
		t.Fatal(err)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run = %v, want nil after cancel", err)
	}
	done <- nil // for the cleanup
	mustGetAll(t, store.Store, append(recs, late))
}

func TestFallback(t *testing.T) {
	e := open(t, t.TempDir(), 0)
	store := &flaky{Store: memory.New()}
	w := spool.Fallback{Store: store, Spool: e.sp, Logger: zerolog.New(e.log)}
	if err := w.Write(t.Context(), cdrtest.Answered("ok", cdrtest.T0)); err != nil {
		t.Fatal(err)
	}
	if got := e.metric(t, "helpline_cdr_spool_records_spooled_total"); got != 0 {
		t.Fatalf("spooled a record the store took")
	}
	if err := w.Write(t.Context(), cdrtest.Answered("", cdrtest.T0)); cdr.ErrorCode(err) != cdr.EINVALID {
		t.Fatalf("Write(invalid) = %v, want the store's EINVALID", err)
	}
	store.set(true)
	e.sp.Close()
	err := w.Write(t.Context(), cdrtest.Answered("lost", cdrtest.T0))
	if !errors.Is(err, spool.ErrClosed) {
		t.Fatalf("Write with store and spool down = %v, want both errors", err)
	}
	if !strings.Contains(e.log.String(), "CDR LOST FROM STORE AND SPOOL") || !strings.Contains(e.log.String(), `"ID":"lost"`) {
		t.Fatalf("the lost record is not logged in full:\n%s", e.log.String())
	}
}

// TestTornTailAloneIsACrashLeftover: a segment whose only problem is a
// torn last frame (a crash during a write that was never acknowledged) is
// replayed and deleted with a warning, not kept as .bad.
func TestTornTailAloneIsACrashLeftover(t *testing.T) {
	dir := t.TempDir()
	e := open(t, dir, 0)
	recs := records(2, "in")
	for _, r := range recs {
		if err := e.sp.Write(t.Context(), r); err != nil {
			t.Fatal(err)
		}
	}
	e.sp.Close()
	seg := filepath.Join(dir, segments(t, dir)[0])
	f, err := os.OpenFile(seg, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	whole := spool.AppendFrame(nil, []byte(`{"v":1,"spooled_at":"2025-06-02T08:00:00Z","record":{"ID":"never-acked"}}`))
	if _, err := f.Write(whole[:len(whole)-9]); err != nil {
		t.Fatal(err)
	}
	f.Close()
	e2 := open(t, dir, 0)
	store := memory.New()
	rp, _ := spool.NewReplayer(e2.sp, store, spool.ReplayerOptions{})
	res, err := rp.Replay(t.Context())
	if err != nil || res.Replayed != 2 || res.Torn != 1 || res.Corrupt != 0 {
		t.Fatalf("Replay = %+v, %v; want 2 replayed, 1 torn tail", res, err)
	}
	mustGetAll(t, store, recs)
	if segs := segments(t, dir); len(segs) != 0 {
		t.Fatalf("segments = %v, want the replayed one deleted", segs)
	}
	if log := e2.log.String(); !strings.Contains(log, `"level":"warn"`) || !strings.Contains(log, "torn write") {
		t.Fatalf("no warning for the torn tail:\n%s", log)
	}
}
