// Package cdrtest holds the contract every cdr.Store must meet, as one
// test suite that each engine runs over itself (SQLite now, PostgreSQL
// later), so the report and the call flow can rely on the behaviour
// documented on cdr.Store whichever engine is configured. It also offers
// record fixtures for other packages' tests.
package cdrtest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/helpline-it/helpline/cdr"
)

// Hash returns a well-formed caller hash derived from n, for fixtures
// that need distinct callers without a Hasher.
func Hash(n int) string {
	return fmt.Sprintf("%064x", n+1)
}

// T0 is the start of the fixtures' day: Monday 2 June 2025, 08:00 UTC.
var T0 = time.Date(2025, 6, 2, 8, 0, 0, 0, time.UTC)

// Answered returns a valid answered inbound record arriving at at.
func Answered(id string, at time.Time) cdr.Record {
	return cdr.Record{
		ID: id, Direction: cdr.Inbound, Service: "1522", Outcome: cdr.Answered,
		ArrivedAt: at, QueuedAt: at.Add(20 * time.Second), ConnectedAt: at.Add(50 * time.Second),
		EndedAt: at.Add(6 * time.Minute), Language: "it", Operator: "op1001",
		CallerHash: Hash(len(id)), HangupBy: cdr.HangupCaller, HangupCause: 16,
	}
}

// Outbound returns a valid busy outbound record placed at at.
func Outbound(id string, at time.Time) cdr.Record {
	return cdr.Record{
		ID: id, Direction: cdr.Outbound, Service: "1522", Outcome: cdr.Busy,
		ArrivedAt: at, EndedAt: at.Add(5 * time.Second), Operator: "op1002",
		CalleeHash: Hash(1000 + len(id)), Target: "CAV-RM-01",
	}
}

// RunStoreSuite runs the cdr.Store contract against stores made by
// newStore, which must return an empty store and arrange its cleanup.
func RunStoreSuite(t *testing.T, newStore func(t *testing.T) cdr.Store) {
	t.Helper()
	tests := []struct {
		name string
		fn   func(t *testing.T, s cdr.Store)
	}{
		{"WriteGetRoundTrip", testWriteGet},
		{"GetNotFound", testGetNotFound},
		{"WriteIdempotent", testWriteIdempotent},
		{"WriteRefusesUnstorable", testWriteRefuses},
		{"WriteBatch", testWriteBatch},
		{"WriteBatchAllOrNothing", testWriteBatchAtomic},
		{"TxCommitRollback", testTx},
		{"ScanOrderAndBounds", testScanBounds},
		{"ScanFilters", testScanFilters},
		{"ScanStopsOnError", testScanStop},
		{"BadFilter", testBadFilter},
		{"ConcurrentWriters", testConcurrent},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.fn(t, newStore(t))
		})
	}
}

func ctx(t *testing.T) context.Context { return t.Context() }

func mustWrite(t *testing.T, s cdr.Store, recs ...cdr.Record) {
	t.Helper()
	for _, r := range recs {
		if err := s.Write(ctx(t), r); err != nil {
			t.Fatalf("Write(%s): %v", r.ID, err)
		}
	}
}

func mustCount(t *testing.T, s cdr.Store, f cdr.Filter) int {
	t.Helper()
	n, err := s.Count(ctx(t), f)
	if err != nil {
		t.Fatalf("Count(%+v): %v", f, err)
	}
	return n
}

func scanIDs(t *testing.T, s cdr.Store, f cdr.Filter) []string {
	t.Helper()
	var ids []string
	err := s.Scan(ctx(t), f, func(r *cdr.Record) error {
		ids = append(ids, r.ID)
		return nil
	})
	if err != nil {
		t.Fatalf("Scan(%+v): %v", f, err)
	}
	return ids
}

func testWriteGet(t *testing.T, s cdr.Store) {
	rome, err := time.LoadLocation("Europe/Rome")
	if err != nil {
		rome = time.FixedZone("CEST", 2*3600)
	}
	full := cdr.Record{
		ID: "1718000000.123", Direction: cdr.Inbound, Service: "1522", Outcome: cdr.Answered,
		ArrivedAt:   time.Date(2025, 6, 2, 10, 0, 0, 123456789, rome),
		QueuedAt:    time.Date(2025, 6, 2, 8, 0, 20, 1000, time.UTC),
		ConnectedAt: time.Date(2025, 6, 2, 8, 0, 50, 999999999, time.UTC),
		EndedAt:     time.Date(2025, 6, 2, 8, 6, 0, 0, time.UTC),
		Language:    "ar", Operator: "op1001", CallerHash: Hash(7), Target: "CAV-RM-01",
		HangupCause: 16, HangupBy: cdr.HangupOperator, Voicemail: "vm-1",
		Transfer: "blind:CAV-RM-01:ok", Fallback: true, Note: "asterisk_restart — è così",
	}
	withheld := cdr.Record{
		ID: "w", Direction: cdr.Inbound, Outcome: cdr.WelcomeHangup, Withheld: true,
		ArrivedAt: T0, EndedAt: T0.Add(3 * time.Second),
	}
	mustWrite(t, s, full, withheld, Outbound("out", T0))
	for _, want := range []cdr.Record{full, withheld, Outbound("out", T0)} {
		got, err := s.Get(ctx(t), want.ID)
		if err != nil {
			t.Fatalf("Get(%s): %v", want.ID, err)
		}
		want = want.Canonical()
		if *got != want {
			t.Errorf("Get(%s):\n got %+v\nwant %+v", want.ID, *got, want)
		}
		if got.ArrivedAt.Location() != time.UTC || (!got.EndedAt.IsZero() && got.EndedAt.Location() != time.UTC) {
			t.Errorf("Get(%s) times not in UTC: %v", want.ID, got.ArrivedAt.Location())
		}
	}
	if got, _ := s.Get(ctx(t), "w"); !got.QueuedAt.IsZero() || !got.ConnectedAt.IsZero() {
		t.Errorf("absent times came back non-zero: %+v", got)
	}
}

func testGetNotFound(t *testing.T, s cdr.Store) {
	_, err := s.Get(ctx(t), "nope")
	if cdr.ErrorCode(err) != cdr.ENOTFOUND {
		t.Fatalf("Get(missing) = %v (code %q), want ENOTFOUND", err, cdr.ErrorCode(err))
	}
}

func testWriteIdempotent(t *testing.T, s cdr.Store) {
	first := Answered("a", T0)
	mustWrite(t, s, first)
	again := first
	again.Outcome, again.Operator, again.EndedAt = cdr.Abandoned, "", T0.Add(time.Hour)
	if err := s.Write(ctx(t), again); err != nil {
		t.Fatalf("second Write of the same ID = %v, want nil", err)
	}
	got, err := s.Get(ctx(t), "a")
	if err != nil {
		t.Fatal(err)
	}
	if *got != first.Canonical() {
		t.Fatalf("second Write changed the record: %+v", got)
	}
	if n := mustCount(t, s, cdr.Filter{}); n != 1 {
		t.Fatalf("Count = %d after writing one ID twice, want 1", n)
	}
}

func testWriteRefuses(t *testing.T, s cdr.Store) {
	raw := Answered("raw", T0)
	raw.CallerHash = "+393331234567"
	noID := Answered("", T0)
	badOutcome := Answered("bo", T0)
	badOutcome.Outcome = cdr.Busy
	noTime := Answered("nt", time.Time{})
	for _, r := range []cdr.Record{raw, noID, badOutcome, noTime} {
		err := s.Write(ctx(t), r)
		if cdr.ErrorCode(err) != cdr.EINVALID {
			t.Errorf("Write(%+v) = %v, want EINVALID", r, err)
		}
		if err != nil && strings.Contains(err.Error(), "3331234567") {
			t.Errorf("error leaks the number: %v", err)
		}
	}
	if n := mustCount(t, s, cdr.Filter{}); n != 0 {
		t.Fatalf("%d refused records were stored", n)
	}
	// A record that breaks Validate but is storable is kept: a live call
	// is never lost over a secondary inconsistency.
	odd := Answered("odd", T0)
	odd.EndedAt = odd.ConnectedAt.Add(-time.Millisecond)
	mustWrite(t, s, odd)
}

func testWriteBatch(t *testing.T, s cdr.Store) {
	mustWrite(t, s, Answered("a", T0))
	batch := []cdr.Record{Answered("a", T0), Answered("b", T0), Answered("c", T0), Answered("b", T0)}
	n, err := s.WriteBatch(ctx(t), batch)
	if err != nil || n != 2 {
		t.Fatalf("WriteBatch = %d, %v; want 2 new (a stored, b repeated)", n, err)
	}
	n, err = s.WriteBatch(ctx(t), batch)
	if err != nil || n != 0 {
		t.Fatalf("WriteBatch again = %d, %v; want 0", n, err)
	}
	if n, err := s.WriteBatch(ctx(t), nil); err != nil || n != 0 {
		t.Fatalf("WriteBatch(nil) = %d, %v", n, err)
	}
	if n := mustCount(t, s, cdr.Filter{}); n != 3 {
		t.Fatalf("Count = %d, want 3", n)
	}
}

func testWriteBatchAtomic(t *testing.T, s cdr.Store) {
	bad := Answered("bad", T0)
	bad.Direction = "sideways"
	_, err := s.WriteBatch(ctx(t), []cdr.Record{Answered("a", T0), Answered("b", T0), bad})
	if cdr.ErrorCode(err) != cdr.EINVALID || !strings.Contains(err.Error(), "2") {
		t.Fatalf("WriteBatch with a bad record = %v; want EINVALID naming index 2", err)
	}
	if n := mustCount(t, s, cdr.Filter{}); n != 0 {
		t.Fatalf("a failed batch stored %d records", n)
	}
}

func testTx(t *testing.T, s cdr.Store) {
	mustWrite(t, s, Answered("old", T0))
	tx, err := s.Begin(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []struct {
		r   cdr.Record
		new bool
	}{{Answered("n1", T0), true}, {Answered("old", T0), false}, {Answered("n2", T0), true}, {Answered("n1", T0), false}} {
		got, err := tx.Insert(ctx(t), want.r)
		if err != nil || got != want.new {
			t.Fatalf("Insert #%d (%s) = %v, %v; want %v", i, want.r.ID, got, err, want.new)
		}
	}
	if _, err := tx.Insert(ctx(t), Answered("", T0)); cdr.ErrorCode(err) != cdr.EINVALID {
		t.Fatalf("Insert(no id) = %v, want EINVALID", err)
	}
	if ok, err := tx.Insert(ctx(t), Answered("n3", T0)); err != nil || !ok {
		t.Fatalf("Tx unusable after a refused insert: %v, %v", ok, err)
	}
	if n := mustCount(t, s, cdr.Filter{}); n != 1 {
		t.Fatalf("uncommitted inserts visible: Count = %d, want 1", n)
	}
	if err := tx.Commit(); err != nil {
		t.Fatalf("Commit: %v", err)
	}
	if err := tx.Rollback(); err != nil {
		t.Fatalf("Rollback after Commit = %v, want nil", err)
	}
	if n := mustCount(t, s, cdr.Filter{}); n != 4 {
		t.Fatalf("after Commit Count = %d, want 4", n)
	}

	tx, err = s.Begin(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Insert(ctx(t), Answered("gone", T0)); err != nil {
		t.Fatal(err)
	}
	if err := tx.Rollback(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(ctx(t), "gone"); cdr.ErrorCode(err) != cdr.ENOTFOUND {
		t.Fatalf("rolled back record: Get = %v, want ENOTFOUND", err)
	}
	// The writer is free again after Rollback.
	mustWrite(t, s, Answered("after", T0))
}

func testScanBounds(t *testing.T, s cdr.Store) {
	us := time.Microsecond
	// Written out of order; ties on ArrivedAt broken by ID.
	mustWrite(t, s,
		Answered("d", T0.Add(2*time.Hour)),
		Answered("b", T0.Add(us)),
		Answered("a2", T0),
		Answered("a1", T0),
		Answered("early", T0.Add(-us)),
		Answered("edge", T0.Add(2*time.Hour-us)),
	)
	tests := []struct {
		f    cdr.Filter
		want string
	}{
		{cdr.Filter{}, "early a1 a2 b edge d"},
		{cdr.Filter{From: T0}, "a1 a2 b edge d"},
		{cdr.Filter{From: T0, To: T0.Add(2 * time.Hour)}, "a1 a2 b edge"},
		{cdr.Filter{To: T0.Add(us)}, "early a1 a2"},
		{cdr.Filter{From: T0.Add(us), To: T0.Add(2 * us)}, "b"},
		{cdr.Filter{From: T0.Add(3 * time.Hour)}, ""},
		// Bounds in another zone mean the same instants.
		{cdr.Filter{From: T0.In(time.FixedZone("X", 5400)), To: T0.Add(us).In(time.FixedZone("Y", -3600))}, "a1 a2"},
	}
	for _, tt := range tests {
		got := strings.Join(scanIDs(t, s, tt.f), " ")
		if got != tt.want {
			t.Errorf("Scan(%v .. %v) = %q, want %q", tt.f.From, tt.f.To, got, tt.want)
		}
		if n := mustCount(t, s, tt.f); n != len(strings.Fields(tt.want)) {
			t.Errorf("Count(%v .. %v) = %d, want %d", tt.f.From, tt.f.To, n, len(strings.Fields(tt.want)))
		}
	}
}

func testScanFilters(t *testing.T, s cdr.Store) {
	other := Answered("i2", T0.Add(2*time.Minute))
	other.Service = "unar"
	mustWrite(t, s, Answered("i1", T0), Outbound("o1", T0.Add(time.Minute)), other)
	tests := []struct {
		f    cdr.Filter
		want string
	}{
		{cdr.Filter{Direction: cdr.Inbound}, "i1 i2"},
		{cdr.Filter{Direction: cdr.Outbound}, "o1"},
		{cdr.Filter{Service: "1522"}, "i1 o1"},
		{cdr.Filter{Service: "unar", Direction: cdr.Inbound}, "i2"},
		{cdr.Filter{Service: "unar", Direction: cdr.Outbound}, ""},
		{cdr.Filter{Service: "nobody"}, ""},
	}
	for _, tt := range tests {
		got := strings.Join(scanIDs(t, s, tt.f), " ")
		if got != tt.want {
			t.Errorf("Scan(%+v) = %q, want %q", tt.f, got, tt.want)
		}
		if n := mustCount(t, s, tt.f); n != len(strings.Fields(tt.want)) {
			t.Errorf("Count(%+v) = %d, want %d", tt.f, n, len(strings.Fields(tt.want)))
		}
	}
	var seen []*cdr.Record
	if err := s.Scan(ctx(t), cdr.Filter{}, func(r *cdr.Record) error { seen = append(seen, r); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(seen) != 3 || seen[0].ID != "i1" || seen[1].ID != "o1" || *seen[1] != Outbound("o1", T0.Add(time.Minute)).Canonical() {
		t.Fatalf("records kept from Scan were overwritten or wrong: %+v", seen)
	}
}

func testScanStop(t *testing.T, s cdr.Store) {
	for i := range 5 {
		mustWrite(t, s, Answered(fmt.Sprintf("r%d", i), T0.Add(time.Duration(i)*time.Second)))
	}
	stop := errors.New("enough")
	calls := 0
	err := s.Scan(ctx(t), cdr.Filter{}, func(*cdr.Record) error {
		calls++
		if calls == 2 {
			return stop
		}
		return nil
	})
	if err != stop || calls != 2 {
		t.Fatalf("Scan = %v after %d calls; want the callback's error after 2", err, calls)
	}
	c, cancel := context.WithCancel(ctx(t))
	calls = 0
	err = s.Scan(c, cdr.Filter{}, func(*cdr.Record) error {
		calls++
		cancel()
		return nil
	})
	if !errors.Is(err, context.Canceled) || calls != 1 {
		t.Fatalf("Scan with a cancelled context = %v after %d calls; want context.Canceled after 1", err, calls)
	}
	// The store still works after an interrupted scan.
	if n := mustCount(t, s, cdr.Filter{}); n != 5 {
		t.Fatalf("Count after interrupted scans = %d", n)
	}
}

func testBadFilter(t *testing.T, s cdr.Store) {
	for _, f := range []cdr.Filter{
		{Direction: "sideways"},
		{From: T0, To: T0},
		{From: T0, To: T0.Add(-time.Hour)},
	} {
		if err := s.Scan(ctx(t), f, func(*cdr.Record) error { return nil }); cdr.ErrorCode(err) != cdr.EINVALID {
			t.Errorf("Scan(%+v) = %v, want EINVALID", f, err)
		}
		if _, err := s.Count(ctx(t), f); cdr.ErrorCode(err) != cdr.EINVALID {
			t.Errorf("Count(%+v) = %v, want EINVALID", f, err)
		}
	}
}

func testConcurrent(t *testing.T, s cdr.Store) {
	const writers, each = 4, 25
	var wg sync.WaitGroup
	errs := make(chan error, writers*each)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				// Every writer also writes the shared IDs s0..s9.
				id := fmt.Sprintf("w%d-%d", w, i)
				if i < 10 {
					id = fmt.Sprintf("s%d", i)
				}
				if err := s.Write(context.Background(), Answered(id, T0.Add(time.Duration(i)*time.Second))); err != nil {
					errs <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("concurrent Write: %v", err)
	}
	if n, want := mustCount(t, s, cdr.Filter{}), 10+writers*(each-10); n != want {
		t.Fatalf("Count = %d after concurrent writes, want %d", n, want)
	}
}
